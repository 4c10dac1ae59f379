-- test/pgtap/29_leavers.sql: people who have left (employee.active =
-- false) get no new work, by the functions and by raw SQL alike (SB040);
-- they hand over their open deals and planned activities before leaving
-- (SB042); a lost reason no longer in use cannot be chosen (SB041); a
-- pipeline without a Won and a Lost stage takes no deal (SB023); the kind
-- or pipeline of a stage that deals or history use cannot change (SB043);
-- a Won stage defaults to probability 100.
BEGIN;
\ir fixture.psql
SET search_path = salesboard, public;
SELECT plan(19);

SET ROLE sbt_app;
SELECT set_employee(3);
SELECT create_deal(10, 11, 'Olga''s deal', now() + interval '1 day', 'Call') AS d10 \gset
SELECT create_deal(4, 11, 'Ivan''s deal', now() + interval '1 day', 'Call') AS d4 \gset
RESET ROLE;

SELECT throws_ok('UPDATE employee SET active = false WHERE id = 10', 'SB042',
                 'employee 10 still owns 1 open deal(s) and is assigned 0 planned activity(ies)',
                 'deactivating someone who owns an open deal is SB042');
UPDATE deal SET owner_id = 4 WHERE id = :d10;
SELECT lives_ok('UPDATE employee SET active = false WHERE id = 10', 'after handing it over, they may leave');

SET ROLE sbt_app;
SELECT set_employee(3);
SELECT throws_ok($$SELECT create_deal(10, 11, 'For a leaver', now() + interval '1 day', 'Call')$$, 'SB040',
                 'employee 10 (Olga Other) has left: no deal can be created for them', 'create_deal for a leaver is SB040');
SELECT throws_ok(format($$SELECT plan_activity(%s, now() + interval '2 days', 'Task', assignee_id => 10)$$, :d4), 'SB040',
                 NULL, 'plan_activity assigned to a leaver is SB040');
RESET ROLE;
SET ROLE sbt_ahead;
SELECT throws_ok(format('UPDATE deal SET owner_id = 10 WHERE id = %s', :d4), 'SB040',
                 'employee 10 (Olga Other) has left: no deal can be handed to them', 'a raw UPDATE handing a deal to a leaver is SB040');
SELECT throws_ok($$INSERT INTO deal (stage_id, owner_id, title) VALUES (11, 10, 'Raw for a leaver')$$, 'SB040', NULL,
                 'a raw INSERT of a deal for a leaver is SB040');
SELECT throws_ok(format($$INSERT INTO activity (deal_id, subject, due_at, assignee_id) VALUES (%s, 'x', now() + interval '1 day', 10)$$, :d4),
                 'SB040', NULL, 'a raw INSERT of an activity assigned to a leaver is SB040');
SELECT throws_ok(format($$UPDATE activity SET assignee_id = 10 WHERE deal_id = %s$$, :d4), 'SB040', NULL,
                 'a raw UPDATE assigning a planned activity to a leaver is SB040');
RESET ROLE;

UPDATE lost_reason SET active = false WHERE id = 2;
SET ROLE sbt_app;
SELECT set_employee(4);
SELECT throws_ok(format($$SELECT close_deal(%s, false, 'Gone', lost_reason_id => 2)$$, :d4), 'SB041',
                 'lost reason 2 is no longer in use', 'an inactive lost reason is SB041');
SELECT lives_ok(format($$SELECT close_deal(%s, false, 'Gone', lost_reason_id => 1)$$, :d4), 'an active one is fine');
RESET ROLE;

-- a pipeline that cannot end takes no deal
INSERT INTO pipeline (id, name) VALUES (9, 'No end');
INSERT INTO stage (id, pipeline_id, name, position, kind, probability) VALUES (91, 9, 'Talking', 1, 'open', 10);
SET ROLE sbt_app;
SELECT set_employee(4);
SELECT throws_ok($$SELECT create_deal(4, 91, 'Endless', now() + interval '1 day', 'Call')$$, 'SB023',
                 'pipeline 9 has no won and no lost stage: no deal can be created in it yet',
                 'create_deal in a pipeline without Won and Lost is SB023');
RESET ROLE;
SELECT throws_ok($$INSERT INTO deal (stage_id, owner_id, title) VALUES (91, 4, 'Raw endless')$$, 'SB023', NULL,
                 'a raw INSERT too');
INSERT INTO stage (id, pipeline_id, name, position, kind, probability) VALUES (92, 9, 'Won', 2, 'won', 100);
SELECT throws_ok($$INSERT INTO deal (stage_id, owner_id, title) VALUES (91, 4, 'Raw endless')$$, 'SB023',
                 'pipeline 9 has no lost stage: no deal can be created in it yet', 'a Won stage alone is not enough');
-- stages under deals and history
SELECT throws_ok('UPDATE stage SET kind = ''won'', probability = 100 WHERE id = 11', 'SB043', NULL,
                 'an open stage with deals and history cannot become a Won stage');
SELECT throws_ok('UPDATE stage SET kind = ''open'', probability = 50 WHERE id = 15', 'SB043',
                 'the kind of stage 15 cannot change: 1 deal(s) and 1 history row(s) use it',
                 'the Lost stage a deal was closed in cannot become open');
SELECT throws_ok('UPDATE stage SET pipeline_id = 2 WHERE id = 11', 'SB043', NULL,
                 'a stage in use cannot move to another pipeline');
INSERT INTO stage (id, pipeline_id, name, position, kind) VALUES (93, 9, 'Lost', 3, 'lost');
UPDATE stage SET position = 5 WHERE id = 93;
SELECT is((SELECT probability FROM stage WHERE id = 92), 100.00, 'the Won stage given 100 keeps it');
INSERT INTO pipeline (id, name) VALUES (8, 'Defaults');
INSERT INTO stage (id, pipeline_id, name, position, kind) VALUES (81, 8, 'Won', 1, 'won');
SELECT is((SELECT probability FROM stage WHERE id = 81), 100.00, 'a Won stage inserted without a probability gets 100');
SELECT is((SELECT count(*) FROM verify()), 0::bigint, 'verify() is empty');

SELECT * FROM finish();
ROLLBACK;
