-- test/pgtap/13_verify.sql: verify(), the audit of every invariant
-- (discipline.c).
--
-- Covers: verify() is empty on a consistent database (open, moved, won,
-- lost, reopened and all-day deals); it is for salesboard_admin members
-- only. Then, with SET session_replication_role = replica (triggers and
-- foreign keys off, as in a bulk load), deliberately broken writes, each on
-- its own deal, and verify() names each with its rule:
--   open_deal_without_planned_activity  an open deal with no planned activity
--   next_due_stale                      next_due not the earliest planned
--   closed_deal_with_planned_activity   a won deal with a planned activity
--   status_differs_from_stage           status 'won' in an open stage
--   history_chain_broken                a gap in the stage history
--   all_day_due_differs                 an all-day due_at not the end of its day
--   history_missing_create              no 'create' row
--   stage_of_other_pipeline             pipeline_id not the stage's
--   history_last_stage_differs          stage_entered_at not the last row's
--   activity_of_missing_deal            an activity whose deal is gone
--                                       (and foreign_key_broken for it)
-- A control deal stays clean. session_replication_role is reset at the end.
BEGIN;
\ir fixture.psql
SET search_path = salesboard, public;
SET TimeZone = 'UTC';

SELECT plan(20);

-- ==================================================================
-- a consistent database
-- ==================================================================
SELECT create_deal(4, 11, 'Control', '2026-03-11 10:00+00', 'Call', at => '2026-03-10 09:00+00') AS d0 \gset
SELECT plan_activity(:d0, '2026-03-12 10:00+00', 'All-day follow-up', all_day => true,
                     at => '2026-03-10 09:00+00') AS d0_allday \gset
SELECT create_deal(4, 11, 'No planned', '2026-03-11 10:00+00', 'Call', at => '2026-03-10 09:00+00') AS d1 \gset
SELECT create_deal(4, 11, 'Stale next', '2026-03-11 10:00+00', 'Call', at => '2026-03-10 09:00+00') AS d2 \gset
SELECT create_deal(6, 11, 'Closed with planned', '2026-03-11 10:00+00', 'Call', at => '2026-03-10 09:00+00') AS d3 \gset
SELECT plan_activity(:d3, '2026-03-12 10:00+00', 'Second', at => '2026-03-10 09:00+00') AS d3_second \gset
SELECT close_deal(:d3, true, 'Signed', at => '2026-03-10 09:00+00') AS ignored \gset
SELECT create_deal(6, 11, 'Status mismatch', '2026-03-11 10:00+00', 'Call', at => '2026-03-10 09:00+00') AS d4 \gset
SELECT create_deal(7, 11, 'History gap', '2026-03-11 10:00+00', 'Call', at => '2026-03-10 09:00+00') AS d5 \gset
SELECT move_deal(:d5, 12, 'Qualified', '2026-03-12 10:00+00', 'Proposal', at => '2026-03-10 09:00+00') AS ignored \gset
SELECT move_deal(:d5, 13, 'Proposal sent', '2026-03-13 10:00+00', 'Signature', at => '2026-03-10 09:00+00') AS ignored \gset
SELECT create_deal(8, 11, 'All-day off', '2026-03-12 10:00+00', 'Call', first_all_day => true,
                   at => '2026-03-10 09:00+00') AS d6 \gset
SELECT create_deal(9, 11, 'No create row', '2026-03-11 10:00+00', 'Call', at => '2026-03-10 09:00+00') AS d7 \gset
SELECT create_deal(5, 11, 'Other pipeline', '2026-03-11 10:00+00', 'Call', at => '2026-03-10 09:00+00') AS d8 \gset
SELECT create_deal(5, 11, 'Entered moment', '2026-03-11 10:00+00', 'Call', at => '2026-03-10 09:00+00') AS d9 \gset
SELECT create_deal(4, 11, 'Lost and back', '2026-03-11 10:00+00', 'Call', at => '2026-03-10 09:00+00') AS d10 \gset
SELECT close_deal(:d10, false, 'Too expensive', lost_reason_id => 1, at => '2026-03-10 09:00+00') AS ignored \gset
SELECT reopen_deal(:d10, 12, '2026-03-14 10:00+00', 'Try again', at => '2026-03-10 09:00+00') AS ignored \gset
SELECT create_deal(4, 21, 'Doomed', '2026-03-11 10:00+00', 'Call', at => '2026-03-10 09:00+00') AS d11 \gset
SELECT id AS d11_act FROM activity WHERE deal_id = :d11 \gset

SELECT is_empty('SELECT * FROM salesboard.verify()', 'verify() is empty on a consistent database');
SET ROLE sbt_mseller;
SELECT throws_ok('SELECT * FROM salesboard.verify()', '42501', NULL,
                 'verify() is refused to an ordinary role');
RESET ROLE;
SET ROLE sbt_admin;
SELECT is_empty('SELECT * FROM salesboard.verify()', 'verify() runs for a salesboard_admin member');
RESET ROLE;

-- ==================================================================
-- broken writes, triggers off
-- ==================================================================
SET session_replication_role = replica;

-- d1: open, its only activity deleted (next_due cleared, so only the
-- missing activity is wrong)
DELETE FROM activity WHERE deal_id = :d1;
UPDATE deal SET next_due = NULL, next_activity_id = NULL WHERE id = :d1;
-- d2: next_due a day late
UPDATE deal SET next_due = next_due + interval '1 day' WHERE id = :d2;
-- d3: won, but its cancelled activity planned again
UPDATE activity SET status = 'planned', result = NULL, done_at = NULL WHERE id = :d3_second;
-- d4: status won (activity finished, next cleared) while its stage is open
UPDATE activity SET status = 'cancelled', result = 'x', done_at = '2026-03-10 09:00+00' WHERE deal_id = :d4;
UPDATE deal SET status = 'won', closed_at = '2026-03-10 09:00+00', next_due = NULL, next_activity_id = NULL
 WHERE id = :d4;
-- d5: the move 11 -> 12 removed from history: 12 -> 13 follows 'create 11'
DELETE FROM stage_history WHERE deal_id = :d5 AND event = 'move' AND to_stage_id = 12;
-- d6: all-day due an hour before the end of its day (next_due kept in step)
UPDATE activity SET due_at = due_at - interval '1 hour' WHERE deal_id = :d6;
UPDATE deal SET next_due = next_due - interval '1 hour' WHERE id = :d6;
-- d7: its create row gone
DELETE FROM stage_history WHERE deal_id = :d7;
-- d8: pipeline 2 with stage 11 of pipeline 1 (the foreign key is off too)
UPDATE deal SET pipeline_id = 2 WHERE id = :d8;
-- d9: stage_entered_at later than its last history row
UPDATE deal SET stage_entered_at = stage_entered_at + interval '1 hour' WHERE id = :d9;
-- d11: the deal deleted, its activity left behind
DELETE FROM deal WHERE id = :d11;

RESET session_replication_role;
SELECT is(current_setting('session_replication_role'), 'origin',
          'session_replication_role is reset to origin');

SELECT results_eq(format('SELECT rule FROM salesboard.verify() WHERE deal_id = %s ORDER BY rule', :d1),
                  $$VALUES ('open_deal_without_planned_activity')$$,
                  'open deal without a planned activity: open_deal_without_planned_activity');
SELECT results_eq(format('SELECT rule FROM salesboard.verify() WHERE deal_id = %s ORDER BY rule', :d2),
                  $$VALUES ('next_due_stale')$$,
                  'stale next_due: next_due_stale');
SELECT ok(EXISTS (SELECT 1 FROM verify() WHERE deal_id = :d3 AND activity_id = :d3_second
                     AND rule = 'closed_deal_with_planned_activity'),
          'won deal with a planned activity: closed_deal_with_planned_activity, naming the activity');
SELECT results_eq(format('SELECT rule FROM salesboard.verify() WHERE deal_id = %s ORDER BY rule', :d4),
                  $$VALUES ('status_differs_from_stage')$$,
                  'status won in an open stage: status_differs_from_stage');
SELECT results_eq(format('SELECT rule FROM salesboard.verify() WHERE deal_id = %s ORDER BY rule', :d5),
                  $$VALUES ('history_chain_broken')$$,
                  'a gap in the history: history_chain_broken');
SELECT results_eq(format('SELECT rule FROM salesboard.verify() WHERE deal_id = %s ORDER BY rule', :d6),
                  $$VALUES ('all_day_due_differs')$$,
                  'all-day due_at not at the end of its day: all_day_due_differs');
SELECT is((SELECT activity_id FROM verify() WHERE deal_id = :d6),
          (SELECT id FROM activity WHERE deal_id = :d6),
          'all_day_due_differs names the activity');
SELECT results_eq(format('SELECT rule FROM salesboard.verify() WHERE deal_id = %s ORDER BY rule', :d7),
                  $$VALUES ('history_missing_create')$$,
                  'no create row: history_missing_create');
SELECT results_eq(format('SELECT rule FROM salesboard.verify() WHERE deal_id = %s ORDER BY rule', :d8),
                  $$VALUES ('stage_of_other_pipeline')$$,
                  'pipeline not the stage''s: stage_of_other_pipeline');
SELECT results_eq(format('SELECT rule FROM salesboard.verify() WHERE deal_id = %s ORDER BY rule', :d9),
                  $$VALUES ('history_last_stage_differs')$$,
                  'stage_entered_at not the last history row''s: history_last_stage_differs');
SELECT results_eq(format('SELECT rule, activity_id FROM salesboard.verify() WHERE deal_id = %s ORDER BY rule', :d11),
                  format($$VALUES ('activity_of_missing_deal', %s::bigint)$$, :d11_act),
                  'activity of a deleted deal: activity_of_missing_deal');
SELECT is_empty(format('SELECT * FROM salesboard.verify() WHERE deal_id IN (%s, %s)', :d0, :d10),
                'the control deal and the reopened deal are not reported');
SELECT ok((SELECT bool_and(detail ~ ('\m' || deal_id || '\M') OR detail ~ ('\m' || activity_id || '\M'))
             FROM verify()),
          'every detail names its deal or its activity');
SELECT is((SELECT array_agg(DISTINCT rule ORDER BY rule) FROM verify()),
          ARRAY['activity_of_missing_deal', 'all_day_due_differs', 'closed_deal_with_planned_activity',
                'foreign_key_broken', 'history_chain_broken', 'history_last_stage_differs', 'history_missing_create',
                'next_due_stale', 'open_deal_without_planned_activity', 'stage_of_other_pipeline',
                'status_differs_from_stage'],
          'verify() reports exactly the ten broken rules, and the foreign key the deleted deal breaks');

-- ------------------------------------------------------------------
-- a closed deal's next_due must be NULL (CHECK deal_closed_has_no_next),
-- so the planned activity of d3 is one problem, not also a stale next_due
-- ------------------------------------------------------------------
SELECT results_eq(format('SELECT rule FROM salesboard.verify() WHERE deal_id = %s ORDER BY rule', :d3),
                  $$VALUES ('closed_deal_with_planned_activity')$$,
                  'won deal with a planned activity: reported once, not also as next_due_stale');

-- repairing d2 through the triggers clears its report
UPDATE activity SET due_at = due_at + interval '1 minute' WHERE deal_id = :d2;
SELECT is_empty(format('SELECT * FROM salesboard.verify() WHERE deal_id = %s', :d2),
                'rescheduling d2''s activity (triggers on) recomputes next_due: d2 no longer reported');

SELECT * FROM finish();
ROLLBACK;
