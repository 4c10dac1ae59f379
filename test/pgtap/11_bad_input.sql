-- test/pgtap/11_bad_input.sql: bad input gets a specific SQLSTATE and
-- changes nothing (doc/reference.md, "Error codes").
--
-- Every bad input is checked with throws_ok(sql, SQLSTATE) and followed by
-- a check that nothing changed: sbt_state (a temporary view, gone with the
-- ROLLBACK) lists every row of deal, activity, stage_history, deal_tag,
-- employee and department as text, and set_eq compares it with the
-- snapshot sbt_before taken just before that input.
--
-- Covers: NULL for each required argument of create_deal, move_deal,
-- close_deal, reopen_deal, plan_activity, complete_activity and
-- cancel_activity (22004); unknown deal / stage / activity / employee /
-- lost reason / client / service type / tag (SB030..SB036, SB020); a stage
-- of another pipeline (SB003); the same stage (SB011); a won/lost stage for
-- move_deal, reopen_deal and create_deal (SB010); a closed deal (SB004);
-- reopening an open deal (SB005); an empty or blank result (SB006); a due
-- moment in the past relative to `at`, also all-day on a past local day
-- (SB007); lost without / won with a reason (SB008); finishing an activity
-- twice (SB009); bad kind, blank title/subject, bad amount/currency (SB025);
-- `at` set by an ordinary role (SB013); raw UPDATEs of the stage columns
-- (SB002, with a hint naming move_deal), of derived and fixed columns
-- (SB014), of finished activities and of an activity's deal, and a
-- non-admin DELETE of a finished activity (SB016); `at` before the deal's
-- last stage change (SB026); a stale expected_stage_id (SB027); a
-- planned activity on a closed deal by raw INSERT (SB015); an invalid time
-- zone (23514); a department cycle (SB018); the deferred invariant at
-- SET CONSTRAINTS ALL IMMEDIATE (SB001) and its passing counterpart.
--
-- (The board's unknown horizon, SB019, belongs to the board's tests.)
BEGIN;
\ir fixture.psql
SET search_path = salesboard, public;
SET TimeZone = 'UTC';

SELECT plan(208);

-- ------------------------------------------------------------------
-- Setup: an open deal with a done and a planned activity, a lost deal,
-- and four deals with a single planned activity for the invariant.
-- ------------------------------------------------------------------
SELECT create_deal(4, 11, 'Bad input target', '2026-03-11 10:00+00', 'First call',
                   at => '2026-03-10 09:00+00') AS o \gset
SELECT id AS o_call FROM activity WHERE deal_id = :o \gset
SELECT plan_activity(:o, '2026-03-12 10:00+00', 'Meeting', at => '2026-03-10 09:00+00') AS o_meet \gset
SELECT complete_activity(:o_call, 'Talked', at => '2026-03-10 09:00+00');

SELECT create_deal(4, 11, 'Closed target', '2026-03-11 10:00+00', 'Call',
                   at => '2026-03-10 09:00+00') AS c \gset
SELECT close_deal(:c, false, 'Too expensive', lost_reason_id => 1, at => '2026-03-10 09:00+00');

SELECT create_deal(4, 11, 'Invariant complete', '2026-03-11 10:00+00', 'Call',
                   at => '2026-03-10 09:00+00') AS i1 \gset
SELECT id AS i1_act FROM activity WHERE deal_id = :i1 \gset
SELECT create_deal(4, 11, 'Invariant cancel', '2026-03-11 10:00+00', 'Call',
                   at => '2026-03-10 09:00+00') AS i2 \gset
SELECT id AS i2_act FROM activity WHERE deal_id = :i2 \gset
SELECT create_deal(4, 11, 'Invariant delete', '2026-03-11 10:00+00', 'Call',
                   at => '2026-03-10 09:00+00') AS i3 \gset
SELECT id AS i3_act FROM activity WHERE deal_id = :i3 \gset
SELECT create_deal(4, 11, 'Invariant counterpart', '2026-03-11 10:00+00', 'Call',
                   at => '2026-03-10 09:00+00') AS i4 \gset
SELECT id AS i4_act FROM activity WHERE deal_id = :i4 \gset

CREATE TEMP VIEW sbt_state (tbl, row_text) AS
          SELECT 'deal', d::text FROM salesboard.deal d
UNION ALL SELECT 'activity', a::text FROM salesboard.activity a
UNION ALL SELECT 'stage_history', h::text FROM salesboard.stage_history h
UNION ALL SELECT 'deal_tag', g::text FROM salesboard.deal_tag g
UNION ALL SELECT 'employee', e::text FROM salesboard.employee e
UNION ALL SELECT 'department', p::text FROM salesboard.department p;
CREATE TEMP TABLE sbt_before AS SELECT * FROM sbt_state;
-- after each comparison the snapshot is taken again, so that every check
-- compares the state just before and just after one bad input
\set resnap 'DELETE FROM sbt_before; INSERT INTO sbt_before SELECT * FROM sbt_state;'

SELECT is((SELECT count(*) FROM sbt_before WHERE tbl IN ('deal', 'activity', 'stage_history')),
          20::bigint, 'setup: 6 deals, 7 activities, 7 history rows in the snapshot');

-- ==================================================================
-- NULL arguments (22004)
-- ==================================================================
SELECT throws_ok($$SELECT salesboard.create_deal(NULL, 11, 'T', '2026-03-12 10:00+00', 'S', at => '2026-03-10 09:00+00')$$,
                 '22004', NULL, 'create_deal owner_id NULL: 22004');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'create_deal owner_id NULL: nothing changed');
:resnap
SELECT throws_ok($$SELECT salesboard.create_deal(4, NULL, 'T', '2026-03-12 10:00+00', 'S', at => '2026-03-10 09:00+00')$$,
                 '22004', NULL, 'create_deal stage_id NULL: 22004');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'create_deal stage_id NULL: nothing changed');
:resnap
SELECT throws_ok($$SELECT salesboard.create_deal(4, 11, NULL, '2026-03-12 10:00+00', 'S', at => '2026-03-10 09:00+00')$$,
                 '22004', NULL, 'create_deal title NULL: 22004');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'create_deal title NULL: nothing changed');
:resnap
SELECT throws_ok($$SELECT salesboard.create_deal(4, 11, 'T', NULL, 'S', at => '2026-03-10 09:00+00')$$,
                 '22004', NULL, 'create_deal first_due NULL: 22004');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'create_deal first_due NULL: nothing changed');
:resnap
SELECT throws_ok($$SELECT salesboard.create_deal(4, 11, 'T', '2026-03-12 10:00+00', NULL, at => '2026-03-10 09:00+00')$$,
                 '22004', NULL, 'create_deal first_subject NULL: 22004');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'create_deal first_subject NULL: nothing changed');
:resnap
SELECT throws_ok($$SELECT salesboard.create_deal(4, 11, 'T', '2026-03-12 10:00+00', 'S', first_kind => NULL, at => '2026-03-10 09:00+00')$$,
                 '22004', NULL, 'create_deal first_kind NULL: 22004');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'create_deal first_kind NULL: nothing changed');
:resnap
SELECT throws_ok($$SELECT salesboard.create_deal(4, 11, 'T', '2026-03-12 10:00+00', 'S', first_all_day => NULL, at => '2026-03-10 09:00+00')$$,
                 '22004', NULL, 'create_deal first_all_day NULL: 22004');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'create_deal first_all_day NULL: nothing changed');
:resnap

SELECT throws_ok($$SELECT salesboard.move_deal(NULL, 12, 'R', '2026-03-12 10:00+00', 'S', at => '2026-03-10 09:00+00')$$,
                 '22004', NULL, 'move_deal deal_id NULL: 22004');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'move_deal deal_id NULL: nothing changed');
:resnap
SELECT throws_ok(format($$SELECT salesboard.move_deal(%s, NULL, 'R', '2026-03-12 10:00+00', 'S', at => '2026-03-10 09:00+00')$$, :o),
                 '22004', NULL, 'move_deal to_stage_id NULL: 22004');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'move_deal to_stage_id NULL: nothing changed');
:resnap
SELECT throws_ok(format($$SELECT salesboard.move_deal(%s, 12, NULL, '2026-03-12 10:00+00', 'S', at => '2026-03-10 09:00+00')$$, :o),
                 '22004', NULL, 'move_deal result NULL: 22004');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'move_deal result NULL: nothing changed');
:resnap
SELECT throws_ok(format($$SELECT salesboard.move_deal(%s, 12, 'R', NULL, 'S', at => '2026-03-10 09:00+00')$$, :o),
                 '22004', NULL, 'move_deal next_due NULL: 22004');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'move_deal next_due NULL: nothing changed');
:resnap
SELECT throws_ok(format($$SELECT salesboard.move_deal(%s, 12, 'R', '2026-03-12 10:00+00', NULL, at => '2026-03-10 09:00+00')$$, :o),
                 '22004', NULL, 'move_deal next_subject NULL: 22004');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'move_deal next_subject NULL: nothing changed');
:resnap
SELECT throws_ok(format($$SELECT salesboard.move_deal(%s, 12, 'R', '2026-03-12 10:00+00', 'S', next_kind => NULL, at => '2026-03-10 09:00+00')$$, :o),
                 '22004', NULL, 'move_deal next_kind NULL: 22004');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'move_deal next_kind NULL: nothing changed');
:resnap
SELECT throws_ok(format($$SELECT salesboard.move_deal(%s, 12, 'R', '2026-03-12 10:00+00', 'S', at => NULL)$$, :o),
                 '22004', NULL, 'move_deal at NULL: 22004');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'move_deal at NULL: nothing changed');
:resnap

SELECT throws_ok($$SELECT salesboard.close_deal(NULL, true, 'R', at => '2026-03-10 09:00+00')$$,
                 '22004', NULL, 'close_deal deal_id NULL: 22004');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'close_deal deal_id NULL: nothing changed');
:resnap
SELECT throws_ok(format($$SELECT salesboard.close_deal(%s, NULL, 'R', at => '2026-03-10 09:00+00')$$, :o),
                 '22004', NULL, 'close_deal won NULL: 22004');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'close_deal won NULL: nothing changed');
:resnap
SELECT throws_ok(format($$SELECT salesboard.close_deal(%s, true, NULL, at => '2026-03-10 09:00+00')$$, :o),
                 '22004', NULL, 'close_deal result NULL: 22004');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'close_deal result NULL: nothing changed');
:resnap

SELECT throws_ok(format($$SELECT salesboard.reopen_deal(%s, NULL, '2026-03-12 10:00+00', 'S', at => '2026-03-10 09:00+00')$$, :c),
                 '22004', NULL, 'reopen_deal to_stage_id NULL: 22004');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'reopen_deal to_stage_id NULL: nothing changed');
:resnap

SELECT throws_ok($$SELECT salesboard.plan_activity(NULL, '2026-03-12 10:00+00', 'S', at => '2026-03-10 09:00+00')$$,
                 '22004', NULL, 'plan_activity deal_id NULL: 22004');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'plan_activity deal_id NULL: nothing changed');
:resnap
SELECT throws_ok(format($$SELECT salesboard.plan_activity(%s, NULL, 'S', at => '2026-03-10 09:00+00')$$, :o),
                 '22004', NULL, 'plan_activity due NULL: 22004');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'plan_activity due NULL: nothing changed');
:resnap
SELECT throws_ok(format($$SELECT salesboard.plan_activity(%s, '2026-03-12 10:00+00', NULL, at => '2026-03-10 09:00+00')$$, :o),
                 '22004', NULL, 'plan_activity subject NULL: 22004');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'plan_activity subject NULL: nothing changed');
:resnap
SELECT throws_ok(format($$SELECT salesboard.plan_activity(%s, '2026-03-12 10:00+00', 'S', kind => NULL, at => '2026-03-10 09:00+00')$$, :o),
                 '22004', NULL, 'plan_activity kind NULL: 22004');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'plan_activity kind NULL: nothing changed');
:resnap
SELECT throws_ok(format($$SELECT salesboard.plan_activity(%s, '2026-03-12 10:00+00', 'S', all_day => NULL, at => '2026-03-10 09:00+00')$$, :o),
                 '22004', NULL, 'plan_activity all_day NULL: 22004');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'plan_activity all_day NULL: nothing changed');
:resnap

SELECT throws_ok($$SELECT salesboard.complete_activity(NULL, 'R', at => '2026-03-10 09:00+00')$$,
                 '22004', NULL, 'complete_activity activity_id NULL: 22004');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'complete_activity activity_id NULL: nothing changed');
:resnap
SELECT throws_ok(format($$SELECT salesboard.complete_activity(%s, NULL, at => '2026-03-10 09:00+00')$$, :o_meet),
                 '22004', NULL, 'complete_activity result NULL: 22004');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'complete_activity result NULL: nothing changed');
:resnap
SELECT throws_ok(format($$SELECT salesboard.cancel_activity(%s, NULL, at => '2026-03-10 09:00+00')$$, :o_meet),
                 '22004', NULL, 'cancel_activity reason NULL: 22004');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'cancel_activity reason NULL: nothing changed');
:resnap

-- ==================================================================
-- unknown ids
-- ==================================================================
SELECT throws_ok($$SELECT salesboard.move_deal(-1, 12, 'R', '2026-03-12 10:00+00', 'S', at => '2026-03-10 09:00+00')$$,
                 'SB030', NULL, 'move_deal of an unknown deal: SB030');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'move_deal of an unknown deal: nothing changed');
:resnap
SELECT throws_ok($$SELECT salesboard.plan_activity(-1, '2026-03-12 10:00+00', 'S', at => '2026-03-10 09:00+00')$$,
                 'SB030', NULL, 'plan_activity on an unknown deal: SB030');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'plan_activity on an unknown deal: nothing changed');
:resnap
SELECT throws_ok($$SELECT salesboard.close_deal(-1, true, 'R', at => '2026-03-10 09:00+00')$$,
                 'SB030', NULL, 'close_deal of an unknown deal: SB030');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'close_deal of an unknown deal: nothing changed');
:resnap
SELECT throws_ok(format($$SELECT salesboard.move_deal(%s, 999, 'R', '2026-03-12 10:00+00', 'S', at => '2026-03-10 09:00+00')$$, :o),
                 'SB031', NULL, 'move_deal to an unknown stage: SB031');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'move_deal to an unknown stage: nothing changed');
:resnap
SELECT throws_ok($$SELECT salesboard.create_deal(4, 999, 'T', '2026-03-12 10:00+00', 'S', at => '2026-03-10 09:00+00')$$,
                 'SB031', NULL, 'create_deal in an unknown stage: SB031');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'create_deal in an unknown stage: nothing changed');
:resnap
SELECT throws_ok($$SELECT salesboard.complete_activity(-1, 'R', at => '2026-03-10 09:00+00')$$,
                 'SB032', NULL, 'complete_activity of an unknown activity: SB032');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'complete_activity of an unknown activity: nothing changed');
:resnap
SELECT throws_ok($$SELECT salesboard.create_deal(99, 11, 'T', '2026-03-12 10:00+00', 'S', at => '2026-03-10 09:00+00')$$,
                 'SB033', NULL, 'create_deal for an unknown owner: SB033');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'create_deal for an unknown owner: nothing changed');
:resnap
SELECT throws_ok(format($$SELECT salesboard.plan_activity(%s, '2026-03-12 10:00+00', 'S', assignee_id => 99, at => '2026-03-10 09:00+00')$$, :o),
                 'SB033', NULL, 'plan_activity for an unknown assignee: SB033');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'plan_activity for an unknown assignee: nothing changed');
:resnap
SELECT throws_ok(format($$SELECT salesboard.plan_activity(%s, '2026-03-12 10:00+00', 'S', assignee_id => 0, at => '2026-03-10 09:00+00')$$, :o),
                 'SB033', NULL, 'plan_activity for assignee 0 (no such employee): SB033');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'plan_activity for assignee 0: nothing changed');
:resnap
SELECT throws_ok(format($$SELECT salesboard.close_deal(%s, false, 'R', lost_reason_id => 99, at => '2026-03-10 09:00+00')$$, :o),
                 'SB034', NULL, 'close_deal with an unknown lost reason: SB034');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'close_deal with an unknown lost reason: nothing changed');
:resnap
SELECT throws_ok($$SELECT salesboard.create_deal(4, 11, 'T', '2026-03-12 10:00+00', 'S', client_id => 99, at => '2026-03-10 09:00+00')$$,
                 'SB035', NULL, 'create_deal for an unknown client: SB035');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'create_deal for an unknown client: nothing changed');
:resnap
SELECT throws_ok($$SELECT salesboard.create_deal(4, 11, 'T', '2026-03-12 10:00+00', 'S', client_id => 0, at => '2026-03-10 09:00+00')$$,
                 'SB035', NULL, 'create_deal for client 0 (no such client): SB035');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'create_deal for client 0: nothing changed');
:resnap
SELECT throws_ok($$SELECT salesboard.create_deal(4, 11, 'T', '2026-03-12 10:00+00', 'S', service_type_id => 99, at => '2026-03-10 09:00+00')$$,
                 'SB036', NULL, 'create_deal with an unknown service type: SB036');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'create_deal with an unknown service type: nothing changed');
:resnap
SELECT throws_ok($$SELECT salesboard.create_deal(4, 11, 'T', '2026-03-12 10:00+00', 'S', tags => ARRAY['VIP', 'Nope'], at => '2026-03-10 09:00+00')$$,
                 'SB020', NULL, 'create_deal with an unknown tag: SB020');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'create_deal with an unknown tag: nothing changed');
:resnap

-- ==================================================================
-- stages: pipeline, same stage, terminal stages, closed and open deals
-- ==================================================================
SELECT throws_ok(format($$SELECT salesboard.move_deal(%s, 21, 'R', '2026-03-12 10:00+00', 'S', at => '2026-03-10 09:00+00')$$, :o),
                 'SB003', NULL, 'move_deal to a stage of another pipeline: SB003');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'move_deal to another pipeline: nothing changed');
:resnap
SELECT throws_ok(format($$SELECT salesboard.reopen_deal(%s, 21, '2026-03-12 10:00+00', 'S', at => '2026-03-10 09:00+00')$$, :c),
                 'SB003', NULL, 'reopen_deal into a stage of another pipeline: SB003');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'reopen_deal into another pipeline: nothing changed');
:resnap
SELECT throws_ok($$INSERT INTO salesboard.deal (pipeline_id, stage_id, owner_id, title) VALUES (2, 11, 4, 'Raw mismatch')$$,
                 'SB003', NULL, 'raw INSERT of a deal whose pipeline_id differs from its stage''s: SB003');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'raw INSERT with a pipeline mismatch: nothing changed');
:resnap
SELECT throws_ok(format($$SELECT salesboard.move_deal(%s, 11, 'R', '2026-03-12 10:00+00', 'S', at => '2026-03-10 09:00+00')$$, :o),
                 'SB011', NULL, 'move_deal to the stage it is in: SB011');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'move_deal to the same stage: nothing changed');
:resnap
SELECT throws_ok(format($$SELECT salesboard.move_deal(%s, 14, 'R', '2026-03-12 10:00+00', 'S', at => '2026-03-10 09:00+00')$$, :o),
                 'SB010', NULL, 'move_deal to the Won stage: SB010');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'move_deal to Won: nothing changed');
:resnap
SELECT throws_ok(format($$SELECT salesboard.move_deal(%s, 15, 'R', '2026-03-12 10:00+00', 'S', at => '2026-03-10 09:00+00')$$, :o),
                 'SB010', NULL, 'move_deal to the Lost stage: SB010');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'move_deal to Lost: nothing changed');
:resnap
SELECT throws_ok(format($$SELECT salesboard.reopen_deal(%s, 14, '2026-03-12 10:00+00', 'S', at => '2026-03-10 09:00+00')$$, :c),
                 'SB010', NULL, 'reopen_deal into the Won stage: SB010');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'reopen_deal into Won: nothing changed');
:resnap
SELECT throws_ok($$SELECT salesboard.create_deal(4, 14, 'T', '2026-03-12 10:00+00', 'S', at => '2026-03-10 09:00+00')$$,
                 'SB010', NULL, 'create_deal in the Won stage: SB010');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'create_deal in Won: nothing changed');
:resnap
SET ROLE sbt_mseller;
SELECT throws_ok($$INSERT INTO salesboard.deal (stage_id, owner_id, title) VALUES (14, 4, 'Raw won')$$,
                 'SB010', NULL, 'raw INSERT of a won deal by an ordinary role: SB010');
RESET ROLE;
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'raw INSERT of a won deal: nothing changed');
:resnap
SELECT throws_ok(format($$SELECT salesboard.move_deal(%s, 12, 'R', '2026-03-12 10:00+00', 'S', at => '2026-03-10 09:00+00')$$, :c),
                 'SB004', NULL, 'move_deal of a lost deal: SB004');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'move_deal of a lost deal: nothing changed');
:resnap
SELECT throws_ok(format($$SELECT salesboard.close_deal(%s, true, 'R', at => '2026-03-10 09:00+00')$$, :c),
                 'SB004', NULL, 'close_deal of a lost deal: SB004');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'close_deal of a lost deal: nothing changed');
:resnap
SELECT throws_ok(format($$SELECT salesboard.plan_activity(%s, '2026-03-12 10:00+00', 'S', at => '2026-03-10 09:00+00')$$, :c),
                 'SB004', NULL, 'plan_activity on a lost deal: SB004');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'plan_activity on a lost deal: nothing changed');
:resnap
SELECT throws_ok(format($$SELECT salesboard.reopen_deal(%s, 12, '2026-03-12 10:00+00', 'S', at => '2026-03-10 09:00+00')$$, :o),
                 'SB005', NULL, 'reopen_deal of an open deal: SB005');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'reopen_deal of an open deal: nothing changed');
:resnap

-- ==================================================================
-- results, due moments, lost reasons, finished activities
-- ==================================================================
SELECT throws_ok(format($$SELECT salesboard.move_deal(%s, 12, '', '2026-03-12 10:00+00', 'S', at => '2026-03-10 09:00+00')$$, :o),
                 'SB006', NULL, 'move_deal with an empty result: SB006');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'move_deal with an empty result: nothing changed');
:resnap
SELECT throws_ok(format($$SELECT salesboard.move_deal(%s, 12, E' \t ', '2026-03-12 10:00+00', 'S', at => '2026-03-10 09:00+00')$$, :o),
                 'SB006', NULL, 'move_deal with a blank result: SB006');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'move_deal with a blank result: nothing changed');
:resnap
SELECT throws_ok(format($$SELECT salesboard.close_deal(%s, true, '   ', at => '2026-03-10 09:00+00')$$, :o),
                 'SB006', NULL, 'close_deal with a blank result: SB006');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'close_deal with a blank result: nothing changed');
:resnap
SELECT throws_ok(format($$SELECT salesboard.complete_activity(%s, '', at => '2026-03-10 09:00+00')$$, :o_meet),
                 'SB006', NULL, 'complete_activity with an empty result: SB006');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'complete_activity with an empty result: nothing changed');
:resnap
SELECT throws_ok(format($$UPDATE salesboard.activity SET status = 'done' WHERE id = %s$$, :o_meet),
                 'SB006', NULL, 'raw UPDATE of an activity to done without a result: SB006');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'raw done without a result: nothing changed');
:resnap

SELECT throws_ok(format($$SELECT salesboard.move_deal(%s, 12, 'R', '2026-03-10 08:59:59+00', 'S', at => '2026-03-10 09:00+00')$$, :o),
                 'SB007', NULL, 'move_deal with next_due a second before `at`: SB007');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'move_deal with a past next_due: nothing changed');
:resnap
-- Moscow: 2026-03-09 ends at 20:59:59.999999 UTC, before `at`
SELECT throws_ok(format($$SELECT salesboard.move_deal(%s, 12, 'R', '2026-03-09 12:00+00', 'S', next_all_day => true, at => '2026-03-10 09:00+00')$$, :o),
                 'SB007', NULL, 'move_deal all-day on yesterday (Moscow): SB007');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'move_deal all-day on a past day: nothing changed');
:resnap
SELECT throws_ok(format($$SELECT salesboard.plan_activity(%s, '2026-03-09 23:00+00', 'S', at => '2026-03-10 09:00+00')$$, :o),
                 'SB007', NULL, 'plan_activity due before `at`: SB007');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'plan_activity due in the past: nothing changed');
:resnap
SELECT throws_ok($$SELECT salesboard.create_deal(4, 11, 'T', '2026-03-10 08:00+00', 'S', at => '2026-03-10 09:00+00')$$,
                 'SB007', NULL, 'create_deal with first_due before `at`: SB007');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'create_deal with a past first_due: nothing changed');
:resnap
-- New York (UTC-4): 02:00 UTC on the 10th is 22:00 on the 9th there, a
-- local day that ended at 03:59:59.999999 UTC, before `at` (09:00 UTC),
-- although the UTC date is the same as `at`'s.
SELECT throws_ok($$SELECT salesboard.create_deal(6, 11, 'T', '2026-03-10 02:00+00', 'S', first_all_day => true, at => '2026-03-10 09:00+00')$$,
                 'SB007', NULL, 'create_deal all-day on a past local day (New York): SB007');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'create_deal all-day on a past local day: nothing changed');
:resnap

SELECT throws_ok(format($$SELECT salesboard.close_deal(%s, false, 'R', at => '2026-03-10 09:00+00')$$, :o),
                 'SB008', NULL, 'close_deal lost without a reason: SB008');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'lost without a reason: nothing changed');
:resnap
SELECT throws_ok(format($$SELECT salesboard.close_deal(%s, true, 'R', lost_reason_id => 1, at => '2026-03-10 09:00+00')$$, :o),
                 'SB008', NULL, 'close_deal won with a reason: SB008');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'won with a reason: nothing changed');
:resnap

SELECT throws_ok(format($$SELECT salesboard.complete_activity(%s, 'Again', at => '2026-03-10 09:00+00')$$, :o_call),
                 'SB009', NULL, 'complete_activity of a done activity: SB009');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'completing twice: nothing changed');
:resnap
SELECT throws_ok(format($$SELECT salesboard.cancel_activity(%s, 'Changed my mind', at => '2026-03-10 09:00+00')$$, :o_call),
                 'SB009', NULL, 'cancel_activity of a done activity: SB009');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'cancelling a done one: nothing changed');
:resnap

-- ==================================================================
-- bad values (SB025)
-- ==================================================================
SELECT throws_ok(format($$SELECT salesboard.plan_activity(%s, '2026-03-12 10:00+00', 'S', kind => 'lunch', at => '2026-03-10 09:00+00')$$, :o),
                 'SB025', NULL, 'plan_activity of an unknown kind: SB025');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'unknown kind (plan_activity): nothing changed');
:resnap
SELECT throws_ok(format($$SELECT salesboard.move_deal(%s, 12, 'R', '2026-03-12 10:00+00', 'S', next_kind => 'Task', at => '2026-03-10 09:00+00')$$, :o),
                 'SB025', NULL, 'move_deal with an unknown next_kind (''Task''): SB025');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'unknown kind (move_deal): nothing changed');
:resnap
SELECT throws_ok($$SELECT salesboard.create_deal(4, 11, 'T', '2026-03-12 10:00+00', 'S', first_kind => 'visit', at => '2026-03-10 09:00+00')$$,
                 'SB025', NULL, 'create_deal with an unknown first_kind: SB025');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'unknown kind (create_deal): nothing changed');
:resnap
SELECT throws_ok($$SELECT salesboard.create_deal(4, 11, '  ', '2026-03-12 10:00+00', 'S', at => '2026-03-10 09:00+00')$$,
                 'SB025', NULL, 'create_deal with a blank title: SB025');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'blank title: nothing changed');
:resnap
SELECT throws_ok($$SELECT salesboard.create_deal(4, 11, 'T', '2026-03-12 10:00+00', '', at => '2026-03-10 09:00+00')$$,
                 'SB025', NULL, 'create_deal with an empty first_subject: SB025');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'empty first_subject: nothing changed');
:resnap
SELECT throws_ok(format($$SELECT salesboard.plan_activity(%s, '2026-03-12 10:00+00', '   ', at => '2026-03-10 09:00+00')$$, :o),
                 'SB025', NULL, 'plan_activity with a blank subject: SB025');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'blank subject (plan_activity): nothing changed');
:resnap
SELECT throws_ok(format($$SELECT salesboard.move_deal(%s, 12, 'R', '2026-03-12 10:00+00', ' ', at => '2026-03-10 09:00+00')$$, :o),
                 'SB025', NULL, 'move_deal with a blank next_subject: SB025');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'blank subject (move_deal): nothing changed');
:resnap
SELECT throws_ok($$SELECT salesboard.create_deal(4, 11, 'T', '2026-03-12 10:00+00', 'S', amount => -0.01, currency => 'USD', at => '2026-03-10 09:00+00')$$,
                 'SB025', NULL, 'create_deal with a negative amount: SB025');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'negative amount: nothing changed');
:resnap
SELECT throws_ok($$SELECT salesboard.create_deal(4, 11, 'T', '2026-03-12 10:00+00', 'S', amount => 'NaN', currency => 'USD', at => '2026-03-10 09:00+00')$$,
                 'SB025', NULL, 'create_deal with a NaN amount: SB025');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'NaN amount: nothing changed');
:resnap
SELECT throws_ok($$SELECT salesboard.create_deal(4, 11, 'T', '2026-03-12 10:00+00', 'S', amount => 100, currency => 'usd', at => '2026-03-10 09:00+00')$$,
                 'SB025', NULL, 'create_deal with currency ''usd'': SB025');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'lower-case currency: nothing changed');
:resnap
SELECT throws_ok($$SELECT salesboard.create_deal(4, 11, 'T', '2026-03-12 10:00+00', 'S', amount => 100, currency => 'EURO', at => '2026-03-10 09:00+00')$$,
                 'SB025', NULL, 'create_deal with currency ''EURO'': SB025');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'four-letter currency: nothing changed');
:resnap

-- history never runs backwards; a stale expected_stage_id is refused
SELECT throws_ok(format($$SELECT salesboard.move_deal(%s, 12, 'R', '2026-03-12 10:00+00', 'S', at => '2026-03-10 08:00+00')$$, :o),
                 'SB026', NULL, 'move_deal with `at` before the deal entered its stage: SB026');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'move_deal out of order: nothing changed');
:resnap
SELECT throws_ok(format($$SELECT salesboard.move_deal(%s, 13, 'R', '2026-03-12 10:00+00', 'S', expected_stage_id => 12, at => '2026-03-10 09:00+00')$$, :o),
                 'SB027', NULL, 'move_deal with expected_stage_id 12 while the deal is in 11: SB027');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'move_deal with a stale expected stage: nothing changed');
:resnap

-- `at` other than now() from an ordinary role
SET ROLE sbt_mseller;
SELECT throws_ok(format($$SELECT salesboard.plan_activity(%s, '2026-03-12 10:00+00', 'S', at => '2026-03-10 09:00+00')$$, :o),
                 'SB013', NULL, 'plan_activity with `at` by an ordinary role: SB013');
RESET ROLE;
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', '`at` by an ordinary role: nothing changed');
:resnap

-- ==================================================================
-- raw writes that break the rules
-- ==================================================================
SELECT throws_ok(format($$UPDATE salesboard.deal SET stage_id = 12 WHERE id = %s$$, :o),
                 'SB002', NULL, 'raw UPDATE of deal.stage_id: SB002');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'raw stage_id change: nothing changed');
:resnap
SELECT throws_ok(format($$UPDATE salesboard.deal SET status = 'won', closed_at = '2026-03-10 09:00+00' WHERE id = %s$$, :o),
                 'SB002', NULL, 'raw UPDATE of deal.status: SB002');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'raw status change: nothing changed');
:resnap
SELECT throws_ok(format($$UPDATE salesboard.deal SET closed_at = '2026-03-11 09:00+00' WHERE id = %s$$, :c),
                 'SB002', NULL, 'raw UPDATE of deal.closed_at: SB002');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'raw closed_at change: nothing changed');
:resnap

-- the hint names move_deal
DO $$
DECLARE s text; h text; stmt text;
BEGIN
    FOREACH stmt IN ARRAY ARRAY[
        'UPDATE salesboard.deal SET stage_id = 13 WHERE title = ''Bad input target''',
        'UPDATE salesboard.deal SET status = ''lost'', lost_reason_id = 1, closed_at = ''2026-03-10 09:00+00'' WHERE title = ''Bad input target''',
        'UPDATE salesboard.deal SET closed_at = ''2026-03-11 09:00+00'' WHERE title = ''Closed target''']
    LOOP
        BEGIN
            EXECUTE stmt;
            s := 'no error'; h := '';
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, h = PG_EXCEPTION_HINT;
        END;
        PERFORM set_config('sbt.raw_' || split_part(split_part(stmt, ' SET ', 2), ' ', 1),
                           s || ': ' || coalesce(h, ''), true);
    END LOOP;
END
$$;
SELECT matches(current_setting('sbt.raw_stage_id'), '^SB002: .*salesboard\.move_deal\(',
               'raw stage_id change: the hint names salesboard.move_deal()');
SELECT matches(current_setting('sbt.raw_status'), '^SB002: .*salesboard\.move_deal\(',
               'raw status change: the hint names salesboard.move_deal()');
SELECT matches(current_setting('sbt.raw_closed_at'), '^SB002: .*salesboard\.move_deal\(',
               'raw closed_at change: the hint names salesboard.move_deal()');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'raw stage changes (hint check): nothing changed');
:resnap

SELECT throws_ok(format($$UPDATE salesboard.deal SET next_due = '2026-03-20 10:00+00' WHERE id = %s$$, :o),
                 'SB014', NULL, 'raw UPDATE of deal.next_due: SB014');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'raw next_due change: nothing changed');
:resnap
SELECT throws_ok(format($$UPDATE salesboard.deal SET next_activity_id = %s WHERE id = %s$$, :o_call, :o),
                 'SB014', NULL, 'raw UPDATE of deal.next_activity_id: SB014');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'raw next_activity_id change: nothing changed');
:resnap
SELECT throws_ok(format($$UPDATE salesboard.deal SET created_at = '2026-01-01 00:00+00' WHERE id = %s$$, :o),
                 'SB014', NULL, 'raw UPDATE of deal.created_at: SB014');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'raw created_at change: nothing changed');
:resnap

SELECT throws_ok(format($$UPDATE salesboard.activity SET result = 'Rewritten' WHERE id = %s$$, :o_call),
                 'SB016', NULL, 'raw UPDATE of a done activity: SB016');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'changing a done activity: nothing changed');
:resnap
SELECT throws_ok(format($$UPDATE salesboard.activity SET status = 'planned', result = NULL, done_at = NULL WHERE id = %s$$, :o_call),
                 'SB016', NULL, 'raw UPDATE of a done activity back to planned: SB016');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'un-finishing an activity: nothing changed');
:resnap
SELECT throws_ok(format($$UPDATE salesboard.activity SET deal_id = %s WHERE id = %s$$, :i4, :o_meet),
                 'SB016', NULL, 'raw UPDATE moving a planned activity to another deal: SB016');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'moving an activity to another deal: nothing changed');
:resnap

SELECT throws_ok(format($$INSERT INTO salesboard.activity (deal_id, subject, due_at) VALUES (%s, 'Sneaky', '2026-03-12 10:00+00')$$, :c),
                 'SB015', NULL, 'raw INSERT of a planned activity on a lost deal: SB015');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'planned activity on a closed deal: nothing changed');
:resnap

SET ROLE sbt_mseller;
SELECT throws_ok(format($$DELETE FROM salesboard.activity WHERE id = %s$$, :o_call),
                 'SB016', NULL, 'raw DELETE of a done activity by an ordinary role: SB016');
RESET ROLE;
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'deleting a done activity: nothing changed');
:resnap
SET ROLE sbt_mseller;
SELECT throws_ok(format($$UPDATE salesboard.activity SET due_at = '2026-03-09 09:00+00' WHERE id = %s$$, :o_meet),
                 'SB007', NULL, 'raw reschedule into the past by an ordinary role: SB007');
RESET ROLE;
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'reschedule into the past: nothing changed');
:resnap

SELECT throws_ok($$UPDATE salesboard.employee SET time_zone = 'Mars/Olympus' WHERE id = 4$$,
                 '23514', NULL, 'employee time zone Mars/Olympus: 23514');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'invalid time zone (UPDATE): nothing changed');
:resnap
SELECT throws_ok($$INSERT INTO salesboard.employee (name, department_id, time_zone) VALUES ('Zed', 3, 'UTC+3')$$,
                 '23514', NULL, 'new employee with time zone UTC+3 (not an IANA name): 23514');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'invalid time zone (INSERT): nothing changed');
:resnap
SELECT throws_ok($$UPDATE salesboard.department SET parent_id = 3 WHERE id = 2$$,
                 'SB018', NULL, 'department 2 below its own child 3: SB018');
SELECT set_eq('TABLE sbt_state', 'TABLE sbt_before', 'department cycle: nothing changed');
:resnap

SELECT is_empty('SELECT * FROM salesboard.verify()', 'after all the refused inputs verify() is empty');

-- ==================================================================
-- the invariant, checked at commit (SB001): SET CONSTRAINTS ALL
-- IMMEDIATE fires the deferred checks now. A failing SET CONSTRAINTS
-- inside throws_ok is rolled back with its check still pending; each case
-- is then repaired and SET CONSTRAINTS ALL DEFERRED restores the default.
-- ------------------------------------------------------------------
SELECT complete_activity(:i1_act, 'Done, nothing planned', at => '2026-03-10 09:00+00');
SELECT throws_ok('SET CONSTRAINTS ALL IMMEDIATE', 'SB001', NULL,
                 'completing the last planned activity: SB001 at SET CONSTRAINTS ALL IMMEDIATE');
SELECT plan_activity(:i1, '2026-03-12 10:00+00', 'Next step', at => '2026-03-10 09:00+00') AS i1_next \gset
SELECT lives_ok('SET CONSTRAINTS ALL IMMEDIATE', 'after planning the next step the check passes');
SET CONSTRAINTS ALL DEFERRED;

SELECT cancel_activity(:i2_act, 'Not needed', at => '2026-03-10 09:00+00');
SELECT throws_ok('SET CONSTRAINTS ALL IMMEDIATE', 'SB001', NULL,
                 'cancelling the last planned activity: SB001 at SET CONSTRAINTS ALL IMMEDIATE');
SELECT close_deal(:i2, true, 'Won anyway', at => '2026-03-10 09:00+00');
SELECT lives_ok('SET CONSTRAINTS ALL IMMEDIATE', 'after closing the deal the check passes');
SET CONSTRAINTS ALL DEFERRED;

DELETE FROM activity WHERE id = :i3_act;
SELECT throws_ok('SET CONSTRAINTS ALL IMMEDIATE', 'SB001', NULL,
                 'deleting the last planned activity: SB001 at SET CONSTRAINTS ALL IMMEDIATE');
INSERT INTO activity (deal_id, subject, due_at) VALUES (:i3, 'Replacement', '2026-03-12 10:00+00');
SELECT lives_ok('SET CONSTRAINTS ALL IMMEDIATE', 'after inserting a replacement the check passes');
SET CONSTRAINTS ALL DEFERRED;

INSERT INTO deal (stage_id, owner_id, title) VALUES (11, 4, 'Raw deal, no activity') RETURNING id AS r \gset
SELECT throws_ok('SET CONSTRAINTS ALL IMMEDIATE', 'SB001', NULL,
                 'raw INSERT of an open deal without an activity: SB001 at SET CONSTRAINTS ALL IMMEDIATE');
DELETE FROM deal WHERE id = :r;
SELECT lives_ok('SET CONSTRAINTS ALL IMMEDIATE', 'after deleting that deal the check passes');
SET CONSTRAINTS ALL DEFERRED;

-- the passing counterpart: finish the last one and plan another in the
-- same transaction
SELECT complete_activity(:i4_act, 'Agreed on a demo', at => '2026-03-10 09:00+00');
SELECT plan_activity(:i4, '2026-03-13 10:00+00', 'Demo', at => '2026-03-10 09:00+00') AS i4_next \gset
SELECT lives_ok('SET CONSTRAINTS ALL IMMEDIATE',
                'completing the last activity and planning another in one transaction: no error');
SET CONSTRAINTS ALL DEFERRED;

SELECT is_empty('SELECT * FROM salesboard.verify()', 'verify() is empty at the end');

SELECT * FROM finish();
ROLLBACK;
