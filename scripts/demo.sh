#!/usr/bin/env bash
# scripts/demo.sh: `make demo`. Builds and installs salesboard, starts a
# private throwaway cluster (pg_cron preloaded), loads the sample company
# (scripts/sample_company.sql) and shows what a salesperson and a
# department head see: stage counts, the next activities, the board as
# psql draws it, list mode. The cluster is stopped and removed at the end,
# even on failure.
#
# Options: --deals N (default 300), --employees N (default 24).
set -uo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$src/scripts/lib.sh"
sb_prepare "$src" scripts/demo.sh "$@"

deals=300
employees=24
while [ $# -gt 0 ]; do
    case $1 in
        --deals) deals=$2; shift 2 ;;
        --employees) employees=$2; shift 2 ;;
        *) sb_die "unknown option $1" ;;
    esac
done

work=$(mktemp -d "${TMPDIR:-/tmp}/salesboard-demo.XXXXXX")
cleanup() { sb_cluster_stop; rm -rf "$work"; sb_stage_cleanup; }
trap cleanup EXIT
trap 'exit 130' INT TERM

sb_cluster_start "$work/pg" "cron.host = '$work/pg'"
"$SB_BINDIR/createdb" salesboard || sb_die "createdb failed"
psql=("$SB_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -d salesboard)
"${psql[@]}" -c 'CREATE EXTENSION salesboard' || sb_die "CREATE EXTENSION failed"

echo "== loading the sample company: $deals deals, $employees employees"
"${psql[@]}" -v deals="$deals" -v employees="$employees" -f "$src/scripts/sample_company.sql" ||
    sb_die "the sample company did not load"

"${psql[@]}" <<'SQL'
\pset footer off
SET search_path = salesboard, public;

\echo
\echo == the company: departments three levels deep, employees in their own time zones
SELECT d.name AS department, p.name AS parent, h.name AS head,
       count(e.id) AS people, string_agg(DISTINCT e.time_zone, ', ') AS time_zones
  FROM department d
  LEFT JOIN department p ON p.id = d.parent_id
  LEFT JOIN employee h ON h.id = d.head_id
  LEFT JOIN employee e ON e.department_id = d.id
 GROUP BY d.id, d.name, p.name, h.name ORDER BY d.id LIMIT 12;

\echo
\echo == deals per stage (every open deal has a planned activity: verify() finds nothing)
SELECT s.name AS stage, s.kind, count(d.id) AS deals, coalesce(sum(d.amount), 0) AS amount,
       count(*) FILTER (WHERE card_colour(d) = 'red') AS red,
       count(*) FILTER (WHERE card_colour(d) = 'yellow') AS yellow
  FROM stage s LEFT JOIN deal d ON d.stage_id = s.id
 WHERE s.pipeline_id = (SELECT min(id) FROM pipeline)
 GROUP BY s.id, s.name, s.kind, s.position ORDER BY s.position;
SELECT count(*) AS broken_invariants FROM verify();

-- the sample company's stable ids: employee 7 is a Moscow salesperson,
-- employee 6 heads his team (scripts/sample_company.sql)
\set seller 7
\set head 6

\echo
\echo == a few deals of one salesperson with their next activity, in their own time zone
SELECT d.title, s.name AS stage, a.kind, a.subject,
       to_char(d.next_due AT TIME ZONE e.time_zone, 'DD.MM HH24:MI') AS due_local,
       e.time_zone, card_colour(d) AS colour
  FROM deal d JOIN stage s ON s.id = d.stage_id JOIN employee e ON e.id = d.owner_id
  JOIN activity a ON a.id = d.next_activity_id
 WHERE d.owner_id = :seller AND d.status = 'open'
 ORDER BY d.next_due LIMIT 8;

\pset format unaligned
\pset tuples_only on
\echo
\echo == the board of that salesperson (today: overdue and due today; Won/Lost of the last 7 days)
SELECT board_text(:seller, subordinates => false);
\echo
\echo == the same board, a week ahead, overdue cards at the bottom
SELECT board_text(:seller, 'week', overdue_last => true, subordinates => false);
\echo
\echo == the board of the team head: the whole team, each judged in their own time zone
SELECT board_text(:head, width => 24);
\pset format aligned
\pset tuples_only off

\echo
\echo == list mode: all open deals of the salesperson in next-activity order, first 10
SELECT rank, title, stage_name, next_due, colour FROM deal_list(:seller) LIMIT 10;
SQL
rc=$?
[ $rc -eq 0 ] || sb_die "the demo queries failed"
echo
echo "== done: the cluster is stopped and removed"
