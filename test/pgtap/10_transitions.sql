-- test/pgtap/10_transitions.sql: the working discipline, passing paths
-- (doc/reference.md, "Deals and activities").
--
-- Covers: create_deal (deal row, first activity, 'create' history row,
-- tags, next_due), plan_activity, complete_activity, cancel_activity,
-- move_deal (the current activity done with the result, the next one
-- planned, stage and stage_entered_at changed, the history row with
-- from/to/result/activity ids), close_deal won and lost (the remaining
-- planned activities finished, status/closed_at/lost_reason, next_due NULL,
-- history 'won'/'lost'), reopen_deal (history 'reopen', a planned activity,
-- status open), set_priority, request_id idempotency (a retry is a no-op;
-- a request_id reused for another change is SB012), all-day activities
-- (due at the last microsecond of the local day in the owner's zone, and
-- due_date, in five zones including a DST-change day), next_due /
-- next_activity_id exact after every change, and at the end the deferred
-- invariant and verify().
--
-- Time is pinned: every API call passes at => '2026-03-10 09:00+00' (a
-- Tuesday). Ids of created rows are captured with \gset, never assumed.
-- Expected all-day moments were computed independently of the extension:
-- ((day + 1)::timestamp AT TIME ZONE zone) - 1 microsecond.
BEGIN;
\ir fixture.psql
SET search_path = salesboard, public;
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, MDY';

SELECT plan(82);

-- ==================================================================
-- create_deal
-- ==================================================================
SELECT create_deal(4, 11, 'Acme implementation', '2026-03-11 10:00+00', 'Intro call',
                   client_id => 1, service_type_id => 1, amount => 1500.50, currency => 'EUR',
                   tags => ARRAY['VIP', 'Urgent'], at => '2026-03-10 09:00+00') AS a \gset
SELECT id AS a_intro FROM activity WHERE deal_id = :a \gset

SELECT is((SELECT (pipeline_id, stage_id, owner_id, title, client_id, service_type_id, amount,
                   currency, priority, status, stage_entered_at, created_at, closed_at,
                   lost_reason_id)::text
             FROM deal WHERE id = :a),
          '(1,11,4,"Acme implementation",1,1,1500.50,EUR,f,open,"2026-03-10 09:00:00+00","2026-03-10 09:00:00+00",,)',
          'create_deal: the deal row (pipeline from the stage, open, entered and created at `at`)');
SELECT is((SELECT count(*) FROM activity WHERE deal_id = :a), 1::bigint,
          'create_deal: exactly one activity');
SELECT is((SELECT (kind, subject, due_at, all_day, due_date, assignee_id, status, result,
                   done_at, created_at)::text
             FROM activity WHERE id = :a_intro),
          '(interaction,"Intro call","2026-03-11 10:00:00+00",f,,,planned,,,"2026-03-10 09:00:00+00")',
          'create_deal: the first activity is a planned interaction due at first_due');
SELECT is((SELECT count(*) FROM stage_history WHERE deal_id = :a), 1::bigint,
          'create_deal: exactly one history row');
SELECT is((SELECT (event, from_stage_id, to_stage_id, moved_at, owner_id, amount, result,
                   activity_id, lost_reason_id, request_id)::text
             FROM stage_history WHERE deal_id = :a),
          '(create,,11,"2026-03-10 09:00:00+00",4,1500.50,,,,)',
          'create_deal: the history row is a create into stage 11 at `at`');
SELECT is((SELECT array_agg(t.name ORDER BY t.name) FROM deal_tag g JOIN tag t ON t.id = g.tag_id
            WHERE g.deal_id = :a),
          ARRAY['Urgent', 'VIP'],
          'create_deal: the deal carries the tags VIP and Urgent');
SELECT is((SELECT format('%s / %s', next_due, next_activity_id) FROM deal WHERE id = :a),
          format('%s / %s', '2026-03-11 10:00+00'::timestamptz, :a_intro),
          'create_deal: next_due / next_activity_id = the first activity');

-- a task as the first activity, no tags, no amount
SELECT create_deal(6, 11, 'Globex support', '2026-03-12 15:00+00', 'Prepare offer',
                   client_id => 2, first_kind => 'task', at => '2026-03-10 09:00+00') AS b \gset
SELECT id AS b_first FROM activity WHERE deal_id = :b \gset
SELECT is((SELECT (kind, subject, due_at, status)::text FROM activity WHERE id = :b_first),
          '(task,"Prepare offer","2026-03-12 15:00:00+00",planned)',
          'create_deal with first_kind task: the first activity is a task');
SELECT is((SELECT count(*) FROM deal_tag WHERE deal_id = :b), 0::bigint,
          'create_deal without tags: no deal_tag rows');
SELECT is((SELECT format('%s / %s', next_due, next_activity_id) FROM deal WHERE id = :b),
          format('%s / %s', '2026-03-12 15:00+00'::timestamptz, :b_first),
          'create_deal (task): next_due / next_activity_id = the task');

-- ==================================================================
-- plan_activity, complete_activity, cancel_activity
-- ==================================================================
SELECT plan_activity(:a, '2026-03-10 15:00+00', 'Quick follow-up', at => '2026-03-10 09:00+00') AS a_follow \gset
SELECT is((SELECT (deal_id = :a, kind, subject, due_at, all_day, due_date, assignee_id, status,
                   result, done_at, created_at)::text
             FROM activity WHERE id = :a_follow),
          '(t,interaction,"Quick follow-up","2026-03-10 15:00:00+00",f,,,planned,,,"2026-03-10 09:00:00+00")',
          'plan_activity: a planned interaction on the deal');
SELECT is((SELECT format('%s / %s', next_due, next_activity_id) FROM deal WHERE id = :a),
          format('%s / %s', '2026-03-10 15:00+00'::timestamptz, :a_follow),
          'plan_activity earlier than the next one: next_due moves to it');

SELECT plan_activity(:a, '2026-03-12 08:00+00', 'Prepare pricing', kind => 'task',
                     assignee_id => 3, at => '2026-03-10 09:00+00') AS a_task \gset
SELECT is((SELECT (kind, subject, due_at, assignee_id, status)::text FROM activity WHERE id = :a_task),
          '(task,"Prepare pricing","2026-03-12 08:00:00+00",3,planned)',
          'plan_activity: a task with an assignee');
SELECT is((SELECT format('%s / %s', next_due, next_activity_id) FROM deal WHERE id = :a),
          format('%s / %s', '2026-03-10 15:00+00'::timestamptz, :a_follow),
          'plan_activity later than the next one: next_due unchanged');

SELECT complete_activity(:a_follow, 'Client wants a demo', at => '2026-03-10 09:00+00') AS ignored \gset
SELECT is((SELECT (status, result, done_at)::text FROM activity WHERE id = :a_follow),
          '(done,"Client wants a demo","2026-03-10 09:00:00+00")',
          'complete_activity: done, with the result, done at `at`');
SELECT is((SELECT format('%s / %s', next_due, next_activity_id) FROM deal WHERE id = :a),
          format('%s / %s', '2026-03-11 10:00+00'::timestamptz, :a_intro),
          'complete_activity: next_due moves to the next planned activity');

SELECT plan_activity(:a, '2026-03-10 18:00+00', 'Evening check', at => '2026-03-10 09:00+00') AS a_check \gset
SELECT is((SELECT format('%s / %s', next_due, next_activity_id) FROM deal WHERE id = :a),
          format('%s / %s', '2026-03-10 18:00+00'::timestamptz, :a_check),
          'plan_activity: the new earliest activity is next');
SELECT cancel_activity(:a_check, 'Client on holiday', at => '2026-03-10 09:00+00');
SELECT is((SELECT (status, result, done_at)::text FROM activity WHERE id = :a_check),
          '(cancelled,"Client on holiday","2026-03-10 09:00:00+00")',
          'cancel_activity: cancelled, the reason kept as result, finished at `at`');
SELECT is((SELECT format('%s / %s', next_due, next_activity_id) FROM deal WHERE id = :a),
          format('%s / %s', '2026-03-11 10:00+00'::timestamptz, :a_intro),
          'cancel_activity: next_due moves back to the next planned activity');
SELECT is((SELECT count(*) FROM stage_history WHERE deal_id = :a), 1::bigint,
          'activity changes write no stage history');

-- ==================================================================
-- move_deal
-- ==================================================================
SELECT move_deal(:a, 12, 'Intro done, budget confirmed', '2026-03-13 11:00+00', 'Send proposal',
                 request_id => 'a0000000-0000-4000-8000-000000000001',
                 at => '2026-03-10 09:00+00');
SELECT id AS a_prop FROM activity WHERE deal_id = :a AND subject = 'Send proposal' \gset

SELECT is((SELECT (status, result, done_at)::text FROM activity WHERE id = :a_intro),
          '(done,"Intro done, budget confirmed","2026-03-10 09:00:00+00")',
          'move_deal: the current activity is done with the result');
SELECT is((SELECT (kind, subject, due_at, all_day, status)::text FROM activity WHERE id = :a_prop),
          '(interaction,"Send proposal","2026-03-13 11:00:00+00",f,planned)',
          'move_deal: the next activity is planned');
SELECT is((SELECT status FROM activity WHERE id = :a_task), 'planned',
          'move_deal: other planned activities stay planned');
SELECT is((SELECT (stage_id, status, stage_entered_at, closed_at)::text FROM deal WHERE id = :a),
          '(12,open,"2026-03-10 09:00:00+00",)',
          'move_deal: the deal is in stage 12 since `at`, still open');
SELECT is((SELECT count(*) FROM stage_history WHERE deal_id = :a), 2::bigint,
          'move_deal: one more history row');
SELECT is((SELECT (event, from_stage_id, to_stage_id, moved_at, owner_id, amount, result,
                   activity_id = :a_intro, next_activity_id = :a_prop, request_id)::text
             FROM stage_history WHERE deal_id = :a AND event = 'move'),
          '(move,11,12,"2026-03-10 09:00:00+00",4,1500.50,"Intro done, budget confirmed",t,t,a0000000-0000-4000-8000-000000000001)',
          'move_deal: history row from 11 to 12 with the result, the finished and the new activity, the request id');
SELECT is((SELECT format('%s / %s', next_due, next_activity_id) FROM deal WHERE id = :a),
          format('%s / %s', '2026-03-12 08:00+00'::timestamptz, :a_task),
          'move_deal: next_due = the earliest planned (the task, before the new activity)');

-- request_id: the same request again is a no-op
SELECT md5(string_agg(x::text, '|' ORDER BY x.id)) AS acts_before FROM activity x WHERE deal_id = :a \gset
SELECT md5(d::text) AS deal_before FROM deal d WHERE id = :a \gset
SELECT lives_ok(format($$SELECT salesboard.move_deal(%s, 12, 'Intro done, budget confirmed',
                          '2026-03-13 11:00+00', 'Send proposal',
                          request_id => 'a0000000-0000-4000-8000-000000000001',
                          at => '2026-03-10 09:00+00')$$, :a),
                'move_deal retried with the same request_id: no error (not "already in stage")');
SELECT is((SELECT count(*) FROM stage_history WHERE deal_id = :a), 2::bigint,
          'move_deal retry: history count unchanged');
SELECT is((SELECT md5(string_agg(x::text, '|' ORDER BY x.id)) FROM activity x WHERE deal_id = :a),
          :'acts_before', 'move_deal retry: activities unchanged');
SELECT is((SELECT md5(d::text) FROM deal d WHERE id = :a), :'deal_before',
          'move_deal retry: deal row unchanged');

-- ... and a request_id reused for a different change is refused
SELECT throws_ok(format($$SELECT salesboard.move_deal(%s, 13, 'Other', '2026-03-14 11:00+00', 'Other',
                          request_id => 'a0000000-0000-4000-8000-000000000001',
                          at => '2026-03-10 09:00+00')$$, :a),
                 'SB012', NULL, 'move_deal with a request_id used for another stage: SB012');
SELECT throws_ok(format($$SELECT salesboard.move_deal(%s, 12, 'Other', '2026-03-14 11:00+00', 'Other',
                          request_id => 'a0000000-0000-4000-8000-000000000001',
                          at => '2026-03-10 09:00+00')$$, :b),
                 'SB012', NULL, 'move_deal of another deal with a used request_id: SB012');
SELECT throws_ok(format($$SELECT salesboard.close_deal(%s, true, 'Signed',
                          request_id => 'a0000000-0000-4000-8000-000000000001',
                          at => '2026-03-10 09:00+00')$$, :a),
                 'SB012', NULL, 'close_deal with a request_id used by a move: SB012');
SELECT is((SELECT count(*) FROM stage_history WHERE deal_id IN (:a, :b)), 3::bigint,
          'refused request_id reuse: no history written');
SELECT is((SELECT md5(string_agg(x::text, '|' ORDER BY x.id)) FROM activity x WHERE deal_id = :a),
          :'acts_before', 'refused request_id reuse: activities unchanged');

-- finish the task, then move on with an all-day activity for "today"
SELECT complete_activity(:a_task, 'Pricing ready', at => '2026-03-10 09:00+00');
SELECT is((SELECT format('%s / %s', next_due, next_activity_id) FROM deal WHERE id = :a),
          format('%s / %s', '2026-03-13 11:00+00'::timestamptz, :a_prop),
          'complete_activity (task): next_due = the proposal');

-- 05:00 UTC is 08:00 in Moscow on 2026-03-10: earlier than `at`, but the
-- all-day activity is due at the end of that local day, which is ahead.
SELECT move_deal(:a, 13, 'Proposal sent', '2026-03-10 05:00+00', 'Chase the signature',
                 next_kind => 'task', next_all_day => true, at => '2026-03-10 09:00+00');
SELECT id AS a_chase FROM activity WHERE deal_id = :a AND subject = 'Chase the signature' \gset
SELECT is((SELECT (kind, all_day, due_date, due_at, status)::text FROM activity WHERE id = :a_chase),
          '(task,t,2026-03-10,"2026-03-10 20:59:59.999999+00",planned)',
          'move_deal next_all_day: due at the last microsecond of the Moscow day');
SELECT is((SELECT (status, result)::text FROM activity WHERE id = :a_prop),
          '(done,"Proposal sent")',
          'second move_deal: the proposal is done with the result');
SELECT is((SELECT (stage_id, stage_entered_at)::text FROM deal WHERE id = :a),
          '(13,"2026-03-10 09:00:00+00")',
          'second move_deal: the deal is in stage 13');
SELECT is((SELECT (from_stage_id, to_stage_id, result, activity_id = :a_prop,
                   next_activity_id = :a_chase)::text
             FROM stage_history WHERE deal_id = :a AND event = 'move' AND to_stage_id = 13),
          '(12,13,"Proposal sent",t,t)',
          'second move_deal: history row from 12 to 13');
SELECT is((SELECT format('%s / %s', next_due, next_activity_id) FROM deal WHERE id = :a),
          format('%s / %s', '2026-03-10 20:59:59.999999+00'::timestamptz, :a_chase),
          'second move_deal: next_due = the end of the local day');

-- ==================================================================
-- close_deal: won
-- ==================================================================
SELECT plan_activity(:a, '2026-03-16 10:00+00', 'Contract signing', at => '2026-03-10 09:00+00') AS a_sign \gset
SELECT is((SELECT format('%s / %s', next_due, next_activity_id) FROM deal WHERE id = :a),
          format('%s / %s', '2026-03-10 20:59:59.999999+00'::timestamptz, :a_chase),
          'a later activity does not change next');
SELECT close_deal(:a, true, 'Signed the contract',
                  request_id => 'a0000000-0000-4000-8000-000000000002', at => '2026-03-10 09:00+00');
SELECT is((SELECT (stage_id, status, closed_at, lost_reason_id, stage_entered_at)::text FROM deal WHERE id = :a),
          '(14,won,"2026-03-10 09:00:00+00",,"2026-03-10 09:00:00+00")',
          'close_deal won: stage Won, status won, closed at `at`, no lost reason');
SELECT is((SELECT format('%s / %s', next_due, next_activity_id) FROM deal WHERE id = :a),
          ' / ', 'close_deal won: next_due and next_activity_id are NULL');
SELECT is((SELECT (status, result, done_at)::text FROM activity WHERE id = :a_chase),
          '(done,"Signed the contract","2026-03-10 09:00:00+00")',
          'close_deal won: the current activity is done with the result');
SELECT is((SELECT (status, done_at)::text FROM activity WHERE id = :a_sign),
          '(cancelled,"2026-03-10 09:00:00+00")',
          'close_deal won: the remaining planned activity is cancelled');
SELECT is((SELECT count(*) FROM activity WHERE deal_id = :a AND status = 'planned'), 0::bigint,
          'close_deal won: no planned activity left');
SELECT is((SELECT (event, from_stage_id, to_stage_id, moved_at, result, activity_id = :a_chase,
                   next_activity_id, lost_reason_id, request_id)::text
             FROM stage_history WHERE deal_id = :a AND event = 'won'),
          '(won,13,14,"2026-03-10 09:00:00+00","Signed the contract",t,,,a0000000-0000-4000-8000-000000000002)',
          'close_deal won: history row "won" from 13 to 14 with the result');
SELECT is((SELECT count(*) FROM stage_history WHERE deal_id = :a), 4::bigint,
          'deal A history: create, move, move, won');

SELECT md5(string_agg(x::text, '|' ORDER BY x.id)) AS acts_before FROM activity x WHERE deal_id = :a \gset
SELECT lives_ok(format($$SELECT salesboard.close_deal(%s, true, 'Signed the contract',
                          request_id => 'a0000000-0000-4000-8000-000000000002',
                          at => '2026-03-10 09:00+00')$$, :a),
                'close_deal retried with the same request_id: no error (not "already won")');
SELECT is((SELECT count(*) FROM stage_history WHERE deal_id = :a), 4::bigint,
          'close_deal retry: history count unchanged');
SELECT is((SELECT md5(string_agg(x::text, '|' ORDER BY x.id)) FROM activity x WHERE deal_id = :a),
          :'acts_before', 'close_deal retry: activities unchanged');

-- ==================================================================
-- close_deal: lost, then reopen_deal
-- ==================================================================
SELECT plan_activity(:b, '2026-03-11 12:00+00', 'Call the buyer', at => '2026-03-10 09:00+00') AS b_call \gset
SELECT is((SELECT format('%s / %s', next_due, next_activity_id) FROM deal WHERE id = :b),
          format('%s / %s', '2026-03-11 12:00+00'::timestamptz, :b_call),
          'deal B: next = the call');
SELECT close_deal(:b, false, 'Chose a competitor', lost_reason_id => 2, at => '2026-03-10 09:00+00');
SELECT is((SELECT (stage_id, status, closed_at, lost_reason_id)::text FROM deal WHERE id = :b),
          '(15,lost,"2026-03-10 09:00:00+00",2)',
          'close_deal lost: stage Lost, status lost, closed at `at`, the lost reason');
SELECT is((SELECT format('%s / %s', next_due, next_activity_id) FROM deal WHERE id = :b),
          ' / ', 'close_deal lost: next_due and next_activity_id are NULL');
SELECT is((SELECT (status, result)::text FROM activity WHERE id = :b_call),
          '(done,"Chose a competitor")',
          'close_deal lost: the current activity is done with the result');
SELECT is((SELECT status FROM activity WHERE id = :b_first), 'cancelled',
          'close_deal lost: the other planned activity is cancelled');
SELECT is((SELECT (event, from_stage_id, to_stage_id, result, activity_id = :b_call, lost_reason_id)::text
             FROM stage_history WHERE deal_id = :b AND event = 'lost'),
          '(lost,11,15,"Chose a competitor",t,2)',
          'close_deal lost: history row "lost" with the result and the reason');

SELECT reopen_deal(:b, 12, '2026-03-17 10:00+00', 'Re-approach the buyer', reason => 'The competitor failed',
                   request_id => 'a0000000-0000-4000-8000-000000000003', at => '2026-03-10 09:00+00');
SELECT id AS b_re FROM activity WHERE deal_id = :b AND subject = 'Re-approach the buyer' \gset
SELECT is((SELECT (stage_id, status, closed_at, lost_reason_id, stage_entered_at)::text FROM deal WHERE id = :b),
          '(12,open,,,"2026-03-10 09:00:00+00")',
          'reopen_deal: open again in stage 12, closed_at and lost reason cleared');
SELECT is((SELECT (kind, due_at, status)::text FROM activity WHERE id = :b_re),
          '(interaction,"2026-03-17 10:00:00+00",planned)',
          'reopen_deal: the next activity is planned');
SELECT is((SELECT format('%s / %s', next_due, next_activity_id) FROM deal WHERE id = :b),
          format('%s / %s', '2026-03-17 10:00+00'::timestamptz, :b_re),
          'reopen_deal: next_due / next_activity_id = the new activity');
SELECT is((SELECT (event, from_stage_id, to_stage_id, moved_at, result, next_activity_id = :b_re, request_id)::text
             FROM stage_history WHERE deal_id = :b AND event = 'reopen'),
          '(reopen,15,12,"2026-03-10 09:00:00+00","The competitor failed",t,a0000000-0000-4000-8000-000000000003)',
          'reopen_deal: history row "reopen" from Lost to 12');
SELECT is((SELECT count(*) FROM stage_history WHERE deal_id = :b), 3::bigint,
          'deal B history: create, lost, reopen');
SELECT lives_ok(format($$SELECT salesboard.reopen_deal(%s, 12, '2026-03-17 10:00+00', 'Re-approach the buyer',
                          request_id => 'a0000000-0000-4000-8000-000000000003',
                          at => '2026-03-10 09:00+00')$$, :b),
                'reopen_deal retried with the same request_id: no error (not "deal is open")');
SELECT is((SELECT count(*) FROM activity WHERE deal_id = :b), 3::bigint,
          'reopen_deal retry: no second activity planned');
SELECT is((SELECT count(*) FROM stage_history WHERE deal_id = :b), 3::bigint,
          'reopen_deal retry: history count unchanged');

-- ==================================================================
-- set_priority
-- ==================================================================
SELECT set_priority(:b, true);
SELECT is((SELECT priority FROM deal WHERE id = :b), true, 'set_priority true: flagged');
SELECT is((SELECT format('%s / %s', next_due, next_activity_id) FROM deal WHERE id = :b),
          format('%s / %s', '2026-03-17 10:00+00'::timestamptz, :b_re),
          'set_priority: next_due unchanged');
SELECT set_priority(:b, false);
SELECT is((SELECT priority FROM deal WHERE id = :b), false, 'set_priority false: unflagged');
SELECT is((SELECT count(*) FROM stage_history WHERE deal_id = :b), 3::bigint,
          'set_priority writes no history');

-- ==================================================================
-- all-day activities in the owner's zone
-- ==================================================================
-- Kiritimati (UTC+14): `at` is 23:00 local on 2026-03-10
SELECT create_deal(9, 11, 'Kiritimati deal', '2026-03-10 09:30+00', 'Late call today',
                   first_all_day => true, at => '2026-03-10 09:00+00') AS k \gset
SELECT id AS k_first FROM activity WHERE deal_id = :k \gset
SELECT is((SELECT (all_day, due_date, due_at)::text FROM activity WHERE id = :k_first),
          '(t,2026-03-10,"2026-03-10 09:59:59.999999+00")',
          'all-day, Kiritimati: 09:30 UTC is still 2026-03-10 there; due at 23:59:59.999999 local');
SELECT is((SELECT format('%s / %s', next_due, next_activity_id) FROM deal WHERE id = :k),
          format('%s / %s', '2026-03-10 09:59:59.999999+00'::timestamptz, :k_first),
          'all-day create_deal: next_due = the end of the local day');
SELECT plan_activity(:k, '2026-03-10 10:30+00', 'Tomorrow there', all_day => true,
                     at => '2026-03-10 09:00+00') AS k_tomorrow \gset
SELECT is((SELECT (all_day, due_date, due_at)::text FROM activity WHERE id = :k_tomorrow),
          '(t,2026-03-11,"2026-03-11 09:59:59.999999+00")',
          'all-day, Kiritimati: 10:30 UTC is already 2026-03-11 there');
SELECT is((SELECT format('%s / %s', next_due, next_activity_id) FROM deal WHERE id = :k),
          format('%s / %s', '2026-03-10 09:59:59.999999+00'::timestamptz, :k_first),
          'all-day: the earlier local day stays next');

-- New York (UTC-4 after 2026-03-08): 02:00 UTC on the 11th is the 10th there
SELECT plan_activity(:b, '2026-03-11 02:00+00', 'Evening call', all_day => true,
                     at => '2026-03-10 09:00+00') AS b_eve \gset
SELECT is((SELECT (all_day, due_date, due_at)::text FROM activity WHERE id = :b_eve),
          '(t,2026-03-10,"2026-03-11 03:59:59.999999+00")',
          'all-day, New York: due at the end of 2026-03-10 EDT');
SELECT is((SELECT format('%s / %s', next_due, next_activity_id) FROM deal WHERE id = :b),
          format('%s / %s', '2026-03-11 03:59:59.999999+00'::timestamptz, :b_eve),
          'all-day plan_activity: next_due moves to the end of that day');

-- Kathmandu (UTC+05:45)
SELECT create_deal(7, 21, 'Kathmandu renewal', '2026-03-11 00:00+00', 'Renewal call',
                   first_all_day => true, at => '2026-03-10 09:00+00') AS m \gset
SELECT is((SELECT (all_day, due_date, due_at)::text FROM activity WHERE deal_id = :m),
          '(t,2026-03-11,"2026-03-11 18:14:59.999999+00")',
          'all-day, Kathmandu: due at 23:59:59.999999+05:45');

-- Lord Howe: daylight saving ends on 2026-04-05 (+11 -> +10:30)
SELECT create_deal(8, 11, 'Lord Howe deal', '2026-04-05 03:00+00', 'Call on the DST day',
                   first_all_day => true, at => '2026-03-10 09:00+00') AS l \gset
SELECT is((SELECT (all_day, due_date, due_at)::text FROM activity WHERE deal_id = :l),
          '(t,2026-04-05,"2026-04-05 13:29:59.999999+00")',
          'all-day, Lord Howe on its DST-change day: end of day at +10:30');

-- ==================================================================
-- the invariant and the audit
-- ==================================================================
SELECT lives_ok('SET CONSTRAINTS ALL IMMEDIATE',
                'every deferred "planned activity" check of this file passes');
SET CONSTRAINTS ALL DEFERRED;
SELECT is((SELECT count(*) FROM deal d WHERE d.status = 'open'
             AND NOT EXISTS (SELECT 1 FROM activity x WHERE x.deal_id = d.id AND x.status = 'planned')),
          0::bigint, 'every open deal has a planned activity');
SELECT is_empty('SELECT * FROM salesboard.verify()', 'verify() is empty after all the transitions');

SELECT * FROM finish();
ROLLBACK;
