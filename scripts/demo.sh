#!/usr/bin/env bash
# scripts/demo.sh: `make demo`. Builds and installs salesboard, starts a
# private throwaway cluster (pg_cron preloaded), loads the sample company
# (scripts/sample_company.sql) and shows what a salesperson and a
# department head see: stage counts, the next activities, the board as
# psql draws it, list mode, and the rules at work (a move that records its
# result and plans the next step, a retried request that changes nothing, a
# raw stage change refused, a commit refused for a deal left without a
# planned activity), and inbound dispatch (requests from a mailbox, a phone
# line and a Telegram chat stored once, auto-linked to the deal of the
# sender's client or of the thread, or waiting in the Inbound column to be
# accepted into a deal or dismissed). The cluster is stopped and removed at
# the end, even on failure.
#
# Options: --deals N (default 300), --employees N (default 24),
#          --shell   load the company, then open psql on it instead of the
#                    show (`make shell`); quitting psql removes the cluster.
set -uo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$src/scripts/lib.sh"
sb_prepare "$src" scripts/demo.sh "$@"

deals=300
employees=24
shell=
while [ $# -gt 0 ]; do
    case $1 in
        --deals) deals=$2; shift 2 ;;
        --employees) employees=$2; shift 2 ;;
        --shell) shell=1; shift ;;
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

if [ -n "$shell" ]; then
    echo
    echo "== psql on the sample company (database salesboard, you are a superuser)."
    echo "   Try the README's tour; employee 7 is a salesperson, 6 heads his team."
    echo "   \\q quits and removes the cluster."
    "$SB_BINDIR/psql" -X -d salesboard -v PROMPT1='salesboard=# '
    exit 0
fi

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
       count(*) FILTER (WHERE card_colour_of(d) = 'red') AS red,
       count(*) FILTER (WHERE card_colour_of(d) = 'yellow') AS yellow
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
       e.time_zone, card_colour_of(d) AS colour
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

\echo
\echo == for a web page: board_json() gives the whole board in one call; its columns, counts and totals
SELECT c->>'kind' AS kind, c->>'name' AS "column", c->>'card_count' AS cards, c->'totals' AS totals
FROM jsonb_array_elements(board_json(:seller, subordinates => false)->'pipelines'->0->'columns') c;

\pset format unaligned
\pset tuples_only on
\echo
\echo == the sales funnel of the deals created in the last 180 days, drawn for psql (funnel_text)
SELECT funnel_text(period_from => date_trunc('day', now()) - interval '180 days', period_to => date_trunc('day', now()), mode => 'cohort');
\pset format aligned
\pset tuples_only off
\echo
\echo == for a BI tool: the open pipeline now per stage in the default currency, weighted (view pipeline_now)
SELECT stage_name, sum(deals) AS deals, sum(amount_converted) AS amount, sum(weighted_amount) AS weighted
  FROM pipeline_now WHERE pipeline_id = (SELECT min(id) FROM pipeline)
 GROUP BY stage_id, stage_name, position ORDER BY position;
SQL
rc=$?
[ $rc -eq 0 ] || sb_die "the demo queries failed"

# The rules at work, as the salesperson himself (errors are part of the show)
"${psql[@]}" -c "CREATE ROLE demo_dmitry LOGIN IN ROLE salesboard_user" \
    -c "UPDATE salesboard.employee SET role_name = 'demo_dmitry' WHERE id = 7" >/dev/null ||
    sb_die "could not map a login role to employee 7"
"$SB_BINDIR/psql" -X -q -d salesboard -U demo_dmitry 2>&1 <<'SQL'
\pset footer off
SET search_path = salesboard;
\echo
\echo == the rules at work, as Dmitry Vinogradov (employee 7) himself
SELECT id AS deal, stage_id + 1 AS next_stage FROM deal
 WHERE owner_id = 7 AND status = 'open' AND stage_id BETWEEN 1 AND 4 ORDER BY id LIMIT 1 \gset
\echo
\echo -- a move records the result of the current activity and plans the next one, atomically
SELECT move_deal(:deal, :next_stage, 'Budget confirmed on the call', now() + interval '2 days', 'Send the proposal',
                 request_id => 'd0d0d0d0-0000-4000-8000-000000000001');
\echo -- the same request again (a double click, a retry after a timeout) changes nothing
SELECT move_deal(:deal, :next_stage, 'Budget confirmed on the call', now() + interval '2 days', 'Send the proposal',
                 request_id => 'd0d0d0d0-0000-4000-8000-000000000001');
SELECT h.event, f.name AS from_stage, t.name AS to_stage, h.result, a.subject AS next_activity
  FROM stage_history h LEFT JOIN stage f ON f.id = h.from_stage_id JOIN stage t ON t.id = h.to_stage_id
  LEFT JOIN activity a ON a.id = h.next_activity_id
 WHERE h.deal_id = :deal ORDER BY h.id;
\echo
\echo -- a raw UPDATE of the stage is refused, whoever sends it
UPDATE deal SET stage_id = 5 WHERE id = :deal;
\echo
\echo -- a deal may not be left without a planned activity: the commit is refused
BEGIN;
SELECT complete_activity(next_activity_id, 'Proposal sent') FROM deal WHERE id = :deal;
COMMIT;
\echo
\echo -- planning the next step in the same transaction is what the rule asks
BEGIN;
SELECT complete_activity(next_activity_id, 'Proposal sent') FROM deal WHERE id = :deal;
SELECT plan_activity(:deal, now() + interval '3 days', 'Call about the proposal') AS planned;
COMMIT;
SELECT title, card_colour(id) AS colour, next_due FROM deal WHERE id = :deal;
\echo
\echo -- live changes: a listener hears every committed change (ids only), none after a rollback
LISTEN salesboard;
BEGIN; SELECT set_priority(:deal, true); ROLLBACK;
SELECT set_priority(:deal, true);
UNLISTEN salesboard;
SQL

# Inbound dispatch: a gateway stores what arrives from the lead sources,
# the salesperson handles his Inbound column (errors are part of the show)
"${psql[@]}" -c "CREATE ROLE demo_gateway IN ROLE salesboard_app" >/dev/null ||
    sb_die "could not create the gateway role"
"$SB_BINDIR/psql" -X -q -d salesboard 2>&1 <<'SQL'
\pset footer off
SET search_path = salesboard;
\echo
\echo == inbound dispatch: requests from the lead sources, auto-linked or waiting in the Inbound column
\set seller 7
\set head 6
\echo
\echo -- national phone numbers are Russian ones (company.default_region; every client.phone_key is computed again)
INSERT INTO company (default_region) VALUES ('RU')
    ON CONFLICT (id) DO UPDATE SET default_region = EXCLUDED.default_region;
\echo
\echo -- the lead sources of Dmitry Vinogradov and his team: a mailbox, a phone line, a Telegram chat, a VK group
SELECT s.id, s.channel, s.address, e.name AS responsible, s.is_lead_source
  FROM lead_source s JOIN employee e ON e.id = s.owner_id
 WHERE e.department_id = (SELECT department_id FROM employee WHERE id = :seller) ORDER BY s.id;
SELECT (SELECT id FROM lead_source WHERE channel = 'email' AND owner_id = :seller ORDER BY id LIMIT 1) AS mailbox,
       (SELECT s.id FROM lead_source s JOIN employee e ON e.id = s.owner_id
         WHERE s.channel = 'phone' AND e.department_id = (SELECT department_id FROM employee WHERE id = :seller)
         ORDER BY s.id LIMIT 1) AS phone_line,
       (SELECT s.id FROM lead_source s JOIN employee e ON e.id = s.owner_id
         WHERE s.channel = 'telegram' AND e.department_id = (SELECT department_id FROM employee WHERE id = :seller)
         ORDER BY s.id LIMIT 1) AS telegram,
       (SELECT id FROM stage WHERE pipeline_id = (SELECT min(id) FROM pipeline) AND kind = 'open'
         ORDER BY position LIMIT 1) AS new_lead \gset
-- two clients whose one open deal is Dmitry Vinogradov's: one writes, one calls
SELECT c.email AS client_email, d.id AS mail_deal
  FROM client c JOIN deal d ON d.client_id = c.id
 WHERE d.owner_id = :seller AND d.status = 'open' AND c.email IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM deal x WHERE x.client_id = c.id AND x.status = 'open' AND x.id <> d.id)
 ORDER BY d.id LIMIT 1 \gset
SELECT c.phone AS client_phone, d.id AS call_deal
  FROM client c JOIN deal d ON d.client_id = c.id
 WHERE d.owner_id = :seller AND d.status = 'open' AND c.phone LIKE '+7 %' AND d.id <> :mail_deal
   AND NOT EXISTS (SELECT 1 FROM deal x WHERE x.client_id = c.id AND x.status = 'open' AND x.id <> d.id)
 ORDER BY d.id LIMIT 1 \gset

SET ROLE demo_gateway;
\echo
\echo -- as the mail, phone and Telegram gateway (a role in salesboard_app, acting as no employee):
\echo -- an e-mail from a stranger, then the same message delivered again: stored once, the same id
SELECT receive_inbound(:mailbox, 'Anna Berg <anna@berg-design.example>', 'A website for our studio',
                       'Hello! Our design studio needs a new website.', received_at => now() - interval '50 minutes',
                       external_ref => '<m1@berg-design.example>') AS anna \gset
SELECT receive_inbound(:mailbox, 'Anna Berg <anna@berg-design.example>', 'A website for our studio',
                       'Hello! Our design studio needs a new website.', received_at => now() - interval '50 minutes',
                       external_ref => '<m1@berg-design.example>') AS delivered_again, :anna AS first_id;
\echo -- an e-mail from a client (the address in capitals), and a call from another client in national form
\echo -- ("8 (495) ...", stored as "+7 (495) ..."): each client has one open deal, so each is linked to it at once
SELECT receive_inbound(:mailbox, 'Purchasing <' || upper(:'client_email') || '>', 'Question about the invoice',
                       'Could you send the invoice again?', received_at => now() - interval '40 minutes',
                       external_ref => '<q7@client.example>') AS client_mail \gset
SELECT receive_inbound(:phone_line, regexp_replace(:'client_phone', '^\+7', '8'), NULL, NULL,
                       received_at => now() - interval '30 minutes', external_ref => 'call-0001') AS client_call \gset
\echo -- a stranger in the Telegram chat, an advertisement, and an old mail filed in INBOX/Processed
SELECT receive_inbound(:telegram, '@sveta_flowers', NULL, 'Hi! How much is an online shop for a flower shop?',
                       received_at => now() - interval '20 minutes', external_ref => 'tg-5001') AS telegram_msg \gset
SELECT receive_inbound(:mailbox, 'promo@seo-magic.example', 'Top 10 in Google in a week!!!', 'Cheap backlinks.',
                       received_at => now() - interval '10 minutes', external_ref => '<ad1@seo-magic.example>') AS ad \gset
SELECT receive_inbound(:mailbox, 'Old Partner <partner@old-partner.example>', 'Invoice 42 paid', 'Thank you.',
                       received_at => now() - interval '3 days', external_ref => '<inv42@old-partner.example>',
                       folder => 'INBOX/Processed') AS filed \gset
RESET ROLE;
\echo
\echo -- what was stored: the Processed mail dismissed on arrival, the mail and the call of the clients auto-linked
SELECT i.id, i.channel, i.sender, i.status, d.title AS deal
  FROM inbound i LEFT JOIN deal d ON d.id = i.deal_id
 WHERE i.id >= :anna ORDER BY i.id;
\echo -- the linked deals record them as done interactions
SELECT d.title AS deal, a.subject, a.result
  FROM activity a JOIN deal d ON d.id = a.deal_id
 WHERE a.deal_id IN (:mail_deal, :call_deal) AND a.result LIKE 'Received from %' ORDER BY a.id;

SET ROLE demo_dmitry;
\echo
\echo -- as Dmitry: his Inbound column, oldest first (the Telegram chat belongs to his head: not here)
SELECT id, channel, sender, subject, date_trunc('second', age) AS age FROM inbound_queue();
\echo -- the request of Anna Berg dragged onto "New lead": a deal for a new client, with its first call;
\echo -- listeners hear the new card and the accepted request
LISTEN salesboard;
SELECT accept_inbound(:anna, :new_lead, 'Website for Berg Design', now() + interval '2 hours',
                      'Call Anna about the website', amount => 4000) AS anna_deal \gset
UNLISTEN salesboard;
SELECT d.title, c.name AS client, c.email, d.amount, a.subject AS next_activity
  FROM deal d JOIN client c ON c.id = d.client_id JOIN activity a ON a.id = d.next_activity_id
 WHERE d.id = :anna_deal;
\echo -- accepted again (a second click, another tab): refused (SB102)
SELECT accept_inbound(:anna, :new_lead, 'Website for Berg Design', now() + interval '2 hours', 'Call Anna');
\echo -- the advertisement: "process without creating a task"
SELECT dismiss_inbound(ARRAY[:ad]) AS dismissed;
\echo -- the Telegram request came to the chat of his head: for Dmitry it does not exist (SB100)
SELECT dismiss_inbound(ARRAY[:telegram_msg]);
RESET ROLE;

SET ROLE demo_gateway;
\echo
\echo -- Anna answers from another address, in the same thread: linked to her new deal
SELECT receive_inbound(:mailbox, 'Anna Berg <a.berg@berg-design.example>', 'Re: A website for our studio',
                       'We would like to start in January.', external_ref => '<m2@berg-design.example>',
                       thread_ref => '<m1@berg-design.example>') AS reply \gset
RESET ROLE;
SELECT a.subject, a.status, a.result FROM activity a WHERE a.deal_id = :anna_deal ORDER BY a.id;
\echo
\echo -- the Inbound column of the team head: the new requests of the whole team
SELECT i.id, i.channel, i.sender, e.name AS responsible, date_trunc('second', i.age) AS age
  FROM inbound_queue(:head) i JOIN employee e ON e.id = i.owner_id;
\pset format unaligned
\pset tuples_only on
\echo
\echo -- the Inbound column on the board of Dmitry Vinogradov
SELECT board_text(:seller, subordinates => false);
\pset format aligned
\pset tuples_only off

\echo
\echo == overdue checks: pg_cron runs check_overdue() every minute (schedules are in GMT; what is overdue is not)
RESET ROLE;
CREATE EXTENSION IF NOT EXISTS pg_cron;
SELECT schedule_overdue_checks('* * * * *') AS job_id;
SELECT jobname, schedule, command FROM cron.job;
\echo -- the first check (run here at once): every overdue activity and every deal past the rot_days of its stage, once
SELECT check_overdue() AS alerts_raised;
SELECT check_overdue() AS raised_again;
SELECT kind, count(*) AS alerts FROM alert GROUP BY kind ORDER BY kind;
\echo -- as Dmitry: his unseen alerts, then marked seen
SET ROLE demo_dmitry;
SELECT kind, deal_id, date_trunc('minute', event_at) AS event_at FROM alerts() ORDER BY event_at DESC LIMIT 5;
SELECT mark_alerts_seen(ARRAY(SELECT id FROM alerts())) AS marked_seen;
RESET ROLE;
SELECT unschedule_overdue_checks() AS unscheduled;
SELECT count(*) AS broken_invariants FROM verify();
SQL
echo
echo "== done: the cluster is stopped and removed (make shell keeps exploring in psql)"
