-- test/pgtap/61_retries.sql: safe retries and useful answers
-- (doc/reference.md, "Deals and activities"): every write function takes
-- request_id (set_priority too); the same request again changes nothing and answers the same;
-- the same id for another operation, target or employee is SB012 and names
-- nothing; move_deal, close_deal and reopen_deal answer a salesboard.change.
-- (Concurrent duplicates: test/isolation/specs/same_request_create.spec.)
BEGIN;
\ir fixture.psql
SET search_path = salesboard, public;
SELECT plan(24);

SET ROLE sbt_app;
SELECT set_employee(4);
SELECT create_deal(4, 11, 'Once', now() + interval '1 day', 'Call', request_id => 'c0000000-0000-4000-8000-000000000001') AS d \gset
SELECT is(create_deal(4, 11, 'Once', now() + interval '1 day', 'Call', request_id => 'c0000000-0000-4000-8000-000000000001'),
          :d::bigint, 'create_deal again with the same request answers the same deal');
SELECT is((SELECT count(*) FROM deal WHERE title = 'Once'), 1::bigint, 'and creates nothing more');

SELECT plan_activity(:d, now() + interval '2 days', 'Offer', request_id => 'c0000000-0000-4000-8000-000000000002') AS a \gset
SELECT is(plan_activity(:d, now() + interval '2 days', 'Offer', request_id => 'c0000000-0000-4000-8000-000000000002'),
          :a::bigint, 'plan_activity again answers the same activity');
SELECT is((SELECT count(*) FROM activity WHERE deal_id = :d), 2::bigint, 'and plans nothing more');

SELECT lives_ok(format($$SELECT complete_activity(%s, 'Sent', request_id => 'c0000000-0000-4000-8000-000000000003')$$, :a),
                'complete_activity with a request id');
SELECT lives_ok(format($$SELECT complete_activity(%s, 'Sent', request_id => 'c0000000-0000-4000-8000-000000000003')$$, :a),
                'the same again is no error (not SB009): nothing happens');
SELECT throws_ok(format($$SELECT complete_activity(%s, 'Sent again')$$, :a), 'SB009', NULL,
                 'without the request id it is a second completion (SB009)');

CREATE TEMP TABLE changes AS
    SELECT 'first' AS call, c.* FROM move_deal(:d, 12, 'Qualified', now() + interval '3 days', 'Proposal',
                                              request_id => 'c0000000-0000-4000-8000-000000000004') c;
INSERT INTO changes
    SELECT 'again', c.* FROM move_deal(:d, 12, 'Qualified', now() + interval '3 days', 'Proposal',
                                       request_id => 'c0000000-0000-4000-8000-000000000004') c;
SELECT results_eq($$SELECT deal_id, history_id, planned_activity_id FROM changes ORDER BY call DESC$$,
                  $$SELECT deal_id, history_id, planned_activity_id FROM changes ORDER BY call$$,
                  'move_deal again answers the same change');
SELECT results_eq($$SELECT call, replayed FROM changes ORDER BY call$$, $$VALUES ('again', true), ('first', false)$$,
                  'and says it was replayed');
SELECT is((SELECT planned_activity_id FROM changes WHERE call = 'first'),
          (SELECT next_activity_id FROM deal WHERE id = :d), 'the change names the activity it planned');
SELECT is((SELECT history_id FROM changes WHERE call = 'first'),
          (SELECT max(id) FROM stage_history WHERE deal_id = :d), 'and its history row');
SELECT ok((SELECT planned_activity_id IS NULL AND NOT replayed FROM close_deal(:d, true, 'Signed')),
          'close_deal answers a change without a planned activity');
SELECT ok((SELECT planned_activity_id IS NOT NULL FROM reopen_deal(:d, 11, now() + interval '4 days', 'Again')),
          'reopen_deal answers the activity it planned');

-- one id, one operation
SELECT throws_ok(format($$SELECT plan_activity(%s, now() + interval '5 days', 'x', request_id => 'c0000000-0000-4000-8000-000000000001')$$, :d),
                 'SB012', 'request c0000000-0000-4000-8000-000000000001 was already used for another change',
                 'a create_deal request id reused for plan_activity is SB012');
SELECT throws_ok($$SELECT create_deal(4, 11, 'Other', now() + interval '1 day', 'Call', request_id => 'c0000000-0000-4000-8000-000000000004')$$,
                 'SB012', NULL, 'a move request id reused for create_deal is SB012');
-- set_priority: a retry after the flag was changed back changes nothing
SELECT set_priority(:d, true, request_id => 'c0000000-0000-4000-8000-000000000009');
SELECT set_priority(:d, false);
SELECT lives_ok(format($$SELECT set_priority(%s, true, request_id => 'c0000000-0000-4000-8000-000000000009')$$, :d),
                'set_priority again with the same request is no error');
SELECT is((SELECT priority FROM deal WHERE id = :d), false, 'and changes nothing (the later unflagging stands)');
SELECT throws_ok(format($$SELECT set_priority(%s, true, request_id => 'c0000000-0000-4000-8000-000000000002')$$, :d),
                 'SB012', NULL, 'a plan_activity request id reused for set_priority is SB012');
SELECT is((SELECT priority FROM deal WHERE id = :d), false, 'and the refused call changed nothing');
SELECT set_employee(6);
SELECT throws_ok($$SELECT create_deal(6, 11, 'Once', now() + interval '1 day', 'Call', request_id => 'c0000000-0000-4000-8000-000000000001')$$,
                 'SB012', 'request c0000000-0000-4000-8000-000000000001 was already used for another change',
                 'another employee reusing a request id gets SB012, which names nothing of it');
SELECT throws_ok(format($$SELECT complete_activity(%s, 'Sent', request_id => 'c0000000-0000-4000-8000-000000000003')$$, :a),
                 'SB032', NULL,
                 'another employee replaying a completion of an activity they cannot see: SB032, visibility before the request id');
RESET ROLE;
SET ROLE sbt_mseller;
SELECT throws_ok('SELECT * FROM api_request', '42501', NULL, 'employees do not read the request log');
RESET ROLE;

/* a move retried by another employee is no retry (found by the random-operations test) */
SET ROLE sbt_app;
SELECT set_employee(4);
SELECT create_deal(4, 11, 'Moved once', now() + interval '1 day', 'Call') AS m \gset
SELECT (move_deal(:m, 12, 'Qualified', now() + interval '2 days', 'Offer', request_id => 'c0000000-0000-4000-8000-000000000099')).deal_id AS x \gset
SELECT set_employee(3);   -- Ivan's head: may move his deals, but this request is Ivan's
SELECT throws_ok(format($$SELECT * FROM move_deal(%s, 12, 'Qualified', now() + interval '2 days', 'Offer', request_id => 'c0000000-0000-4000-8000-000000000099')$$, :m),
                 'SB012', NULL, 'the same request id from another employee is SB012, not a replay');
SELECT set_employee(4);
SELECT is((SELECT replayed FROM move_deal(:m, 12, 'Qualified', now() + interval '2 days', 'Offer', request_id => 'c0000000-0000-4000-8000-000000000099')),
          true, 'from the same employee it is a replay');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
