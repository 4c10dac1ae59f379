-- test/pgtap/80_overdue.sql: overdue checks at pinned moments (doc/reference.md,
-- "Overdue checks"): an activity overdue exactly after its due moment, an
-- all-day one at the end of its day in the owner's zone across DST, deals
-- rotting (rot_days changed), once per event, late and repeated runs,
-- department heads, alerts() and mark_alerts_seen(), scheduling without
-- pg_cron here. (Concurrent checks: isolation spec overdue_concurrent;
-- pg_cron running the job: test/t/009_overdue_cron.pl.)
BEGIN;
\ir fixture.psql
SET search_path = salesboard, public;
SELECT plan(39);
SET TimeZone = 'America/Los_Angeles';   -- the session's zone changes nothing

UPDATE stage SET rot_days = NULL WHERE id = 21;   -- no rotting in Renewal due: due moments first
SET ROLE sbt_app;
SELECT set_employee(7);   -- Kiran, Asia/Kathmandu (+05:45)
SELECT create_deal(7, 21, 'All-day 10 Mar', '2026-03-10 12:00 Asia/Kathmandu', 'Call', first_all_day => true,
                   at => '2026-03-01 00:00+00') AS ktm_allday \gset
SELECT create_deal(7, 21, 'Timed 10 Mar 20:00', '2026-03-10 20:00 Asia/Kathmandu', 'Call', at => '2026-03-01 00:00+00') AS ktm_timed \gset
RESET ROLE;
-- Warsaw: 29 March 2026 has 23 hours (02:00 -> 03:00)
UPDATE employee SET time_zone = 'Europe/Warsaw' WHERE id = 10;
SET ROLE sbt_app;
SELECT set_employee(10);
SELECT create_deal(10, 21, 'All-day 29 Mar', '2026-03-29 12:00 Europe/Warsaw', 'Call', first_all_day => true,
                   at => '2026-03-20 00:00+00') AS waw_allday \gset
SELECT create_deal(10, 21, 'Timed 29 Mar 09:00', '2026-03-29 09:00 Europe/Warsaw', 'Call', at => '2026-03-20 00:00+00') AS waw_timed \gset
RESET ROLE;

SET ROLE sbt_app;
SELECT is(check_overdue('2026-03-10 14:14:59+00'), 0, '19:59:59 in Kathmandu: nothing overdue');
SELECT is(check_overdue('2026-03-10 14:15:00+00'), 0, 'exactly at the due moment: not yet overdue');
SELECT is(check_overdue('2026-03-10 14:15:00.000001+00'), 1, 'just after it: the timed activity');
RESET ROLE;
SELECT is((SELECT kind || ' ' || employee_id || ' ' || deal_id || ' ' || (event_at = '2026-03-10 20:00 Asia/Kathmandu')
             FROM alert WHERE deal_id = :ktm_timed), 'activity_overdue 7 ' || :ktm_timed || ' true',
          'one alert for the owner, at the due moment');
SET ROLE sbt_app;
SELECT is(check_overdue('2026-03-10 18:14:59+00'), 0, '23:59:59 in Kathmandu: the all-day one is still today''s');
SELECT is(check_overdue('2026-03-10 21:00:00+00'), 1, 'a late run catches up: the all-day one');
SELECT is(check_overdue('2026-03-10 21:00:00+00'), 0, 'run again: nothing new');
SELECT is(check_overdue('2026-03-10 20:00:00+00'), 0, 'an earlier moment than the last check: nothing');
SELECT is(check_overdue('2026-03-29 06:59:59+00'), 0, 'Warsaw, 08:59:59 CEST on the DST day: nothing');
SELECT is(check_overdue('2026-03-29 07:00:00.5+00'), 1, 'after 09:00 CEST (07:00 UTC): the timed one');
SELECT is(check_overdue('2026-03-29 21:59:59+00'), 0, '23:59:59 CEST: the all-day one not yet');
SELECT is(check_overdue('2026-03-29 22:00:00+00'), 1, 'local midnight after a 23-hour day is 22:00 UTC');
SELECT is(check_overdue('2026-03-29 23:30:00+00'), 0, 'and not again');
RESET ROLE;
SELECT is((SELECT count(*) FROM alert), 4::bigint, 'four alerts, once each');

/* rotting deals: stage 11 has rot_days 3, stage 12 7 */
SET ROLE sbt_app;
SELECT set_employee(6);   -- Sam, New York; his head Nora (5)
SELECT create_deal(6, 11, 'Rots in New', '2026-04-20 10:00+00', 'Call', at => '2026-04-01 10:00+00') AS rot1 \gset
SELECT create_deal(6, 12, 'Rots in Qualified', '2026-04-20 10:00+00', 'Call', at => '2026-04-01 10:00+00') AS rot2 \gset
SELECT is(check_overdue('2026-04-04 09:59:59+00'), 0, 'a deal in New for just under 3 days does not rot');
SELECT is(check_overdue('2026-04-04 10:00:01+00'), 1, 'past 3 days it does');
RESET ROLE;
SELECT is((SELECT kind || ' ' || employee_id || ' ' || stage_id || ' ' || (event_at = '2026-04-04 10:00+00') FROM alert WHERE deal_id = :rot1),
          'deal_rotting 6 11 true', 'an alert for the owner, at the rot moment, naming the stage');
SET ROLE sbt_app;
SELECT is(check_overdue('2026-04-06 10:00:00+00'), 0, 'it rots once per stay');
RESET ROLE;
UPDATE stage SET rot_days = 2 WHERE id = 12;
INSERT INTO company (id, alert_department_heads) VALUES (true, true);
SET ROLE sbt_app;
SELECT is(check_overdue('2026-04-06 10:00:01+00'), 2, 'rot_days lowered to 2: the deal already in Qualified rots now, for its owner and his head');
RESET ROLE;
SELECT is((SELECT string_agg(employee_id::text, ',' ORDER BY employee_id) FROM alert WHERE deal_id = :rot2), '5,6',
          'the head hears of it when the company says so');
SET ROLE sbt_app;
SELECT set_employee(6);
SELECT (move_deal(:rot1, 12, 'moved', '2026-04-20 10:00+00', 'Next', at => '2026-04-06 12:00+00')).deal_id AS x \gset
SELECT is(check_overdue('2026-04-08 12:00:01+00'), 2, 'after a move it may rot again, in its new stage');
RESET ROLE;

/* alerts() and mark_alerts_seen() */
SET ROLE sbt_nyseller;
SELECT is((SELECT count(*) FROM alerts()), 3::bigint, 'alerts(): the acting employee''s unseen alerts');
SELECT is((SELECT count(*) FROM salesboard.alert), 3::bigint, 'row-level security shows the same');
SELECT is(mark_alerts_seen(ARRAY(SELECT id FROM alerts())), 3, 'mark_alerts_seen() answers how many it marked');
SELECT is((SELECT count(*) FROM alerts()), 0::bigint, 'then none is unseen');
SELECT is((SELECT count(*) FROM alerts(unseen_only => false)), 3::bigint, 'all of them on request');
SELECT is(mark_alerts_seen(ARRAY(SELECT id FROM alerts(unseen_only => false))), 0, 'marking again marks nothing');
SELECT throws_ok('SELECT mark_alerts_seen(ARRAY[NULL]::bigint[])', '22004', NULL, 'a NULL id is 22004');
RESET ROLE;
SELECT min(id) AS kiran_alert FROM alert WHERE employee_id = 7 \gset
SET ROLE sbt_nyseller;
SELECT throws_ok(format('SELECT mark_alerts_seen(ARRAY[%s])', :kiran_alert), 'SB300',
                 format('alert %s does not exist', :kiran_alert), 'another''s alert is SB300, as an unknown one');
SELECT throws_ok('SELECT * FROM alerts(7)', 'SB024', NULL, 'another''s alerts are SB024');
SELECT throws_ok(format($$UPDATE salesboard.alert SET seen_at = NULL WHERE id = (SELECT min(id) FROM alerts(unseen_only => false))$$),
                 'SB013', NULL, 'raw SQL may not make a seen alert unseen (SB013)');
SELECT throws_ok($$UPDATE salesboard.alert SET seen_at = '2000-01-01' WHERE seen_at IS NOT NULL$$,
                 'SB013', NULL, 'nor backdate when it was seen');
RESET ROLE;

/* found by a reviewer: each kind now has a test */
SET ROLE sbt_app;
SELECT throws_ok($$SELECT check_overdue(now() + interval '3 years')$$, 'SB303', NULL,
                 'a check ahead of time is SB303 (it would move the watermark past what is not due yet)');
RESET ROLE;
-- an all-day activity re-anchored behind the watermark (the owner moves zone) is still alerted
UPDATE employee SET time_zone = 'America/Los_Angeles' WHERE id = 9;
SET ROLE sbt_app;
SELECT set_employee(9);
SELECT create_deal(9, 21, 'Re-anchored', '2026-06-10 12:00 America/Los_Angeles', 'Call', first_all_day => true,
                   at => '2026-06-01 00:00+00') AS moved \gset
SELECT check_overdue('2026-06-10 20:00+00') AS x \gset
RESET ROLE;
SELECT is((SELECT count(*) FROM alert WHERE deal_id = :moved), 0::bigint, 'before its day ends in Los Angeles: no alert');
UPDATE employee SET time_zone = 'Asia/Kathmandu' WHERE id = 9;   -- its day now ended at 18:15 UTC, behind the watermark
SET ROLE sbt_app;
SELECT check_overdue('2026-06-11 12:00+00') AS x \gset
SELECT is(check_overdue('2026-06-11 12:00+00'), 0, 'a repeated check raises nothing');
RESET ROLE;
SELECT is((SELECT count(*) FROM alert WHERE deal_id = :moved AND employee_id = 9), 1::bigint,
          'the next check still raised it, once (the watermark moved back to it)');
-- an inactive head hears nothing; rot_days stays within ten years
UPDATE stage SET rot_days = 1 WHERE id = 21;
SELECT throws_ok($$UPDATE stage SET rot_days = 3000000 WHERE id = 21$$, '23514', NULL, 'rot_days above 3660 is refused');

/* scheduling: this database is not pg_cron's */
SELECT throws_ok($$SELECT schedule_overdue_checks('*/5 * * * *')$$,
                 CASE WHEN current_setting('cron.database_name', true) IS NULL THEN 'SB301' ELSE 'SB302' END, NULL,
                 'without pg_cron here: SB301 (not loaded) or SB302 (in another database, the hint gives the call)');
SELECT throws_ok($$SELECT check_overdue('infinity')$$, 'SB025', NULL, 'a non-finite moment is SB025');

SELECT * FROM finish();
ROLLBACK;
