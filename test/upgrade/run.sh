#!/usr/bin/env bash
# test/upgrade/run.sh: the upgrade and uninstall tests, in TAP.
#
# For every released version listed in test/upgrade/releases:
#   1. build that version from git history and install it into a private
#      staged copy of PostgreSQL; start a cluster there;
#   2. CREATE EXTENSION salesboard VERSION 'old', load that version's own
#      sample company (scripts/sample_company.sql), and record the boards
#      and list views of several employees at a pinned moment;
#   3. install the current build over it and restart: the old schema must
#      still load with the new library (boards unchanged before UPDATE);
#   4. ALTER EXTENSION salesboard UPDATE: verify() is empty, the boards are
#      unchanged, and the catalog of the updated extension (test/upgrade/
#      catalog.sql) equals that of a fresh CREATE EXTENSION;
#   5. DROP EXTENSION leaves nothing but the roles and the empty schema
#      (PostgreSQL creates the control file's schema outside the extension;
#      doc/reference.md, "Uninstalling").
#
# Usage (as an unprivileged user, from scripts/test.sh):
#   test/upgrade/run.sh SRC WORKDIR
# SRC must be a git checkout (the commits of the releases).
set -uo pipefail
src=$1
work=$2
. "$src/scripts/lib.sh"

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else not_ok "$name"; fi; }
same() { # name file1 file2
    if diff -u "$2" "$3" >"$work/diff.out" 2>&1; then ok "$1"; else not_ok "$1"; head -60 "$work/diff.out" | sed 's/^/# /'; fi
}

pgc=$(sb_pg_config)
current=$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$src/salesboard.control")
port=$((${SB_PORT:-54329} + 7))
at="'2026-11-27 09:00+00'"

# boards and lists of the sample company's stable employees (see
# scripts/sample_company.sql), at a pinned moment
read_views() {
    local db=$1 out=$2
    "$bindir/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -d "$db" >"$out" 2>&1 <<SQL
-- the card's columns as of 1.0 (1.1 appends next_all_day, next_due_date, tags)
SELECT 'board', e, b.column_position, b.column_kind, b.stage_id, b.stage_name, b.deal_id, b.title, b.client, b.service_type, b.amount, b.next_due, b.next_subject, b.colour, b.priority, b.owner_id, b.rank, b.pipeline_id, b.currency, b.next_kind, b.closed_at, b.client_id, b.service_type_id
  FROM unnest(ARRAY[6, 7, 2, 1]) e, salesboard.board(e, 'month', at => $at) b;
SELECT 'board_text', e, salesboard.board_text(e, at => $at) FROM unnest(ARRAY[6, 7]) e;
SELECT 'list', e, b.column_position, b.column_kind, b.stage_id, b.stage_name, b.deal_id, b.title, b.client, b.service_type, b.amount, b.next_due, b.next_subject, b.colour, b.priority, b.owner_id, b.rank, b.pipeline_id, b.currency, b.next_kind, b.closed_at, b.client_id, b.service_type_id
  FROM unnest(ARRAY[6, 7]) e, salesboard.deal_list(e, at => $at) b;
SELECT 'colour', d.id, salesboard.card_colour(d.id, $at) FROM salesboard.deal d ORDER BY d.id;
SELECT 'counts', (SELECT count(*) FROM salesboard.deal), (SELECT count(*) FROM salesboard.activity),
       (SELECT count(*) FROM salesboard.stage_history), (SELECT count(*) FROM salesboard.inbound);
SQL
}

sql() { "$bindir/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$dir" -p "$port" "$@"; }

while read -r version commit; do
    case $version in ''|'#'*) continue ;; esac
    echo "# upgrade from $version ($commit) to $current"
    old=$work/src-$version
    mkdir -p "$old"
    if ! git -C "$src" archive "$commit" | tar -x -C "$old"; then
        not_ok "release $version: commit $commit is in the git history"; continue
    fi
    # 1. the old build in a staged PostgreSQL of its own
    stage=$work/stage-$version
    mkdir -p "$stage"
    ( SB_STAGE=$stage sb_stage_install "$old" "$pgc" ) >"$work/old-build.log" 2>&1 ||
        { not_ok "release $version builds and installs"; cat "$work/old-build.log" | sed 's/^/# /'; continue; }
    ok "release $version builds and installs from commit ${commit:0:12}"
    bindir=$stage$("$pgc" --bindir)
    dir=$work/pg-$version
    SB_BINDIR=$bindir SB_PORT=$port sb_cluster_start "$dir" >/dev/null
    sql -d postgres -c 'CREATE DATABASE upgraded' -c 'CREATE DATABASE fresh' >/dev/null
    # 2. the old version with its own sample company
    check "CREATE EXTENSION salesboard VERSION '$version'" \
        sql -d upgraded -c "CREATE EXTENSION salesboard VERSION '$version'"
    check "release $version loads its sample company" \
        sql -d upgraded -v deals=400 -v employees=24 -v seed=0.42 -v at="$at" -f "$old/scripts/sample_company.sql" -o /dev/null
    read_views upgraded "$work/before.txt"
    check "the views of release $version answer" grep -q '^counts|' "$work/before.txt"
    SB_BINDIR=$bindir SB_CLUSTER_DIR=$dir sb_cluster_stop
    # 3. the current build over it: the old schema loads with the new library
    make -s -C "$src" PG_CONFIG="$pgc" DESTDIR="$stage" install >/dev/null 2>"$work/new-build.log" ||
        { not_ok "the current build installs over release $version"; sed 's/^/# /' "$work/new-build.log"; continue; }
    "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start >/dev/null
    read_views upgraded "$work/before-update.txt"
    same "with the new library and the $version schema the views are unchanged" "$work/before.txt" "$work/before-update.txt"
    # 4. the update
    check "ALTER EXTENSION salesboard UPDATE from $version" sql -d upgraded -c 'ALTER EXTENSION salesboard UPDATE'
    check "the updated extension is at $current" \
        test "$(sql -d upgraded -c "SELECT extversion FROM pg_extension WHERE extname = 'salesboard'")" = "$current"
    sql -d upgraded -c 'SELECT * FROM salesboard.verify()' >"$work/verify.txt" 2>&1
    check "verify() is empty after the update" test ! -s "$work/verify.txt"
    sed 's/^/# /' "$work/verify.txt" | head -20
    read_views upgraded "$work/after.txt"
    same "the boards, lists and colours are unchanged by the update" "$work/before.txt" "$work/after.txt"
    # the data of $version carried into what $current adds: inbound, funnel, overdue
    team6="SELECT 6 UNION SELECT e.id FROM salesboard.employee e WHERE e.department_id IN (
             WITH RECURSIVE sub(id) AS (SELECT d.id FROM salesboard.department d WHERE d.head_id = 6
                                         UNION SELECT d.id FROM salesboard.department d JOIN sub ON d.parent_id = sub.id)
             SELECT sub.id FROM sub)"
    check "the Inbound column of a head shows the $version requests still new of the team (inbound_queue)" test "$(sql -d upgraded -c "
        WITH q AS (SELECT q.id FROM salesboard.inbound_queue(6, $at) q),
             t AS (SELECT i.id FROM salesboard.inbound i WHERE i.status = 'new' AND i.received_at <= $at
                      AND i.owner_id IN ($team6))
        SELECT (SELECT count(*) FROM q) > 0 AND NOT EXISTS (SELECT * FROM q EXCEPT ALL SELECT * FROM t)
               AND NOT EXISTS (SELECT * FROM t EXCEPT ALL SELECT * FROM q)")" = t
    check "funnel() reads the $version history: a snapshot's current counts equal where the deals stand" test "$(sql -d upgraded -c "
        INSERT INTO salesboard.company (default_currency) VALUES ('RUB');
        INSERT INTO salesboard.currency_rate (currency, valid_from, rate)
            SELECT c, '2000-01-01', 1 FROM (SELECT DISTINCT d.currency::text AS c FROM salesboard.deal d
                                            WHERE d.currency IS NOT NULL AND d.currency <> 'RUB') x;
        SELECT count(*) FROM (
            SELECT f.stage_id, f.current FROM salesboard.funnel(1, mode => 'snapshot', as_of => $at) f
            EXCEPT SELECT s.id, (SELECT count(*) FROM salesboard.deal d WHERE d.stage_id = s.id AND d.created_at <= $at)
                     FROM salesboard.stage s WHERE s.pipeline_id = 1) x" | tail -1)" = 0
    alerts_before=$(sql -d upgraded -c 'SELECT count(*) || $$ $$ || coalesce(max(id), 0) FROM salesboard.alert')
    check "check_overdue() on the $version data raises alerts once, and keeps the $version alerts" test \
        "$(sql -d upgraded -c "SELECT salesboard.check_overdue($at) > 0;" -c "SELECT salesboard.check_overdue($at) = 0;" \
               -c "SELECT count(*) || ' ' || coalesce(max(id), 0) FROM salesboard.alert WHERE id <= ${alerts_before#* }" | tr '\n' ' ')" = "t t $alerts_before "
    check "a fresh CREATE EXTENSION installs $current" sql -d fresh -c 'CREATE EXTENSION salesboard'
    sql -d upgraded -f "$src/test/upgrade/catalog.sql" >"$work/catalog-upgraded.txt"
    sql -d fresh -f "$src/test/upgrade/catalog.sql" >"$work/catalog-fresh.txt"
    check "the catalog listing is not empty" test "$(wc -l <"$work/catalog-fresh.txt")" -gt 500
    same "the updated extension's catalog equals a fresh install's" "$work/catalog-fresh.txt" "$work/catalog-upgraded.txt"
    # 5. uninstall
    check "DROP EXTENSION salesboard" sql -d upgraded -c 'DROP EXTENSION salesboard'
    left=$(sql -d upgraded -c "
        SELECT 'function ' || oid::regprocedure FROM pg_proc WHERE probin LIKE '%salesboard%'
        UNION ALL SELECT 'relation ' || oid::regclass FROM pg_class WHERE relnamespace IN
                  (SELECT oid FROM pg_namespace WHERE nspname = 'salesboard')
        UNION ALL SELECT 'function ' || oid::regprocedure FROM pg_proc WHERE pronamespace IN
                  (SELECT oid FROM pg_namespace WHERE nspname = 'salesboard')
        UNION ALL SELECT 'type ' || oid::regtype FROM pg_type WHERE typnamespace IN
                  (SELECT oid FROM pg_namespace WHERE nspname = 'salesboard')
        UNION ALL SELECT 'extension ' || extname FROM pg_extension WHERE extname = 'salesboard'")
    check "DROP EXTENSION leaves no function, relation or type behind" test -z "$left"
    [ -z "$left" ] || echo "$left" | sed 's/^/# left: /'
    check "the roles stay (they are cluster-wide and may own grants elsewhere)" \
        test "$(sql -d upgraded -c "SELECT count(*) FROM pg_roles WHERE rolname IN ('salesboard_user', 'salesboard_admin', 'salesboard_app')")" = 3
    check "DROP SCHEMA salesboard then finds it empty" sql -d upgraded -c 'DROP SCHEMA salesboard RESTRICT'
    check "CREATE EXTENSION works again after DROP" sql -d upgraded -c 'CREATE EXTENSION salesboard'
    SB_BINDIR=$bindir SB_CLUSTER_DIR=$dir sb_cluster_stop
done <"$src/test/upgrade/releases"

echo "1..$n"
[ "$failed" -eq 0 ]
