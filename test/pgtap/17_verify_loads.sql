-- test/pgtap/17_verify_loads.sql: verify() sees what a bad load leaves
-- (doc/reference.md, "verify()"). Each fault is written with triggers and
-- foreign keys off (session_replication_role = replica, as a careless bulk
-- load or restore would) on a deal of its own, and verify() names it with
-- its own rule:
--   history_duplicate_create   a second create row (history trigger run twice)
--   history_other_pipeline     a history row in a stage of another pipeline
--   history_runs_backwards     a row earlier than the row written before it
--   history_status_differs     a lost event on a deal that is open
--   department_head_missing    a head who is no employee
--   employee_role_missing      a role_name that names no role
--   foreign_key_broken         a tag on a deal that does not exist
-- Also: the head of a department must exist (a trigger, not a foreign key),
-- a deleted head leaves the department without one, and role_name must
-- name a role (SB037).
BEGIN;
\ir fixture.psql
SET search_path = salesboard, public;
SELECT plan(16);

SELECT create_deal(4, 11, 'Twice created', '2026-03-11 10:00+00', 'Call', at => '2026-03-10 09:00+00') AS d1 \gset
SELECT create_deal(4, 11, 'Other pipeline', '2026-03-11 10:00+00', 'Call', at => '2026-03-10 09:00+00') AS d2 \gset
SELECT create_deal(4, 11, 'Backwards', '2026-03-11 10:00+00', 'Call', at => '2026-03-10 09:00+00') AS d3 \gset
SELECT move_deal(:d3, 12, 'Qualified', '2026-03-12 10:00+00', 'Proposal', at => '2026-03-10 12:00+00') AS ignored \gset
SELECT create_deal(4, 11, 'Lost in history', '2026-03-11 10:00+00', 'Call', at => '2026-03-10 09:00+00') AS d4 \gset
SELECT is_empty('SELECT * FROM salesboard.verify()', 'verify() is empty before the bad load');

SET session_replication_role = replica;
INSERT INTO stage_history (deal_id, event, to_stage_id, moved_at, moved_by, owner_id)
    VALUES (:d1, 'create', 11, '2026-03-10 09:00+00', 4, 4);
INSERT INTO stage_history (deal_id, event, from_stage_id, to_stage_id, moved_at, moved_by, owner_id)
    VALUES (:d2, 'move', 11, 21, '2026-03-10 09:00+00', 4, 4),
           (:d2, 'move', 21, 11, '2026-03-10 09:00+00', 4, 4);
UPDATE stage_history SET moved_at = '2026-03-10 08:00+00' WHERE deal_id = :d3 AND event = 'move';
UPDATE deal SET stage_entered_at = '2026-03-10 08:00+00' WHERE id = :d3;
INSERT INTO stage_history (deal_id, event, from_stage_id, to_stage_id, moved_at, moved_by, owner_id, lost_reason_id)
    VALUES (:d4, 'lost', 11, 11, '2026-03-10 09:00+00', 4, 4, 1);
UPDATE department SET head_id = 999 WHERE id = 5;
UPDATE employee SET role_name = 'sbt_nobody_has_this_role' WHERE id = 9;
UPDATE employee SET active = false WHERE id = 6;
INSERT INTO deal_tag (deal_id, tag_id) VALUES (987654, 1);
RESET session_replication_role;

SELECT results_eq(format('SELECT rule FROM salesboard.verify() WHERE deal_id = %s', :d1),
                  $$VALUES ('history_duplicate_create')$$, 'a second create row: history_duplicate_create');
SELECT results_eq(format('SELECT rule FROM salesboard.verify() WHERE deal_id = %s', :d2),
                  $$VALUES ('history_other_pipeline')$$, 'history through another pipeline: history_other_pipeline');
SELECT results_eq(format('SELECT rule FROM salesboard.verify() WHERE deal_id = %s ORDER BY rule', :d3),
                  $$VALUES ('history_chain_broken'), ('history_last_stage_differs'), ('history_runs_backwards')$$,
                  'a row before the one written ahead of it: history_runs_backwards (and, ordered by time, the chain and the last stage break too)');
SELECT results_eq(format('SELECT rule FROM salesboard.verify() WHERE deal_id = %s', :d4),
                  $$VALUES ('history_status_differs')$$, 'a lost event on an open deal: history_status_differs');
SELECT results_eq($$SELECT detail FROM salesboard.verify() WHERE rule = 'department_head_missing'$$,
                  $$VALUES ('department 5 is headed by employee 999, who does not exist')$$,
                  'a head who is no employee: department_head_missing');
SELECT results_eq($$SELECT detail FROM salesboard.verify() WHERE rule = 'employee_role_missing'$$,
                  $$VALUES ('employee 9 acts through role sbt_nobody_has_this_role, which does not exist')$$,
                  'a role_name without a role: employee_role_missing');
SELECT results_eq($$SELECT detail FROM salesboard.verify() WHERE rule = 'foreign_key_broken'$$,
                  $$VALUES ('1 row(s) of salesboard.deal_tag break foreign key deal_tag_deal_id_fkey')$$,
                  'a tag on a missing deal: foreign_key_broken, named by its constraint');
SELECT is((SELECT count(*) FROM salesboard.verify() WHERE rule = 'leaver_owns_open_deal'), 0::bigint,
          'a leaver without open deals is no fault');
SELECT is((SELECT count(*) FROM salesboard.verify()), 9::bigint, 'seven faults, nine rows (the backwards row counts three times)');

SET session_replication_role = replica;
UPDATE employee SET active = false WHERE id = 4;
RESET session_replication_role;
SELECT is((SELECT count(*) FROM salesboard.verify() WHERE rule IN ('leaver_owns_open_deal', 'leaver_assigned_planned_activity')),
          4::bigint, 'work left with someone who has left: leaver_owns_open_deal for each of his four open deals');
UPDATE employee SET active = true WHERE id = 4;

-- the rules those faults broke, with triggers on
DELETE FROM deal_tag WHERE deal_id = 987654;
SELECT throws_ok('UPDATE department SET head_id = 999 WHERE id = 4', 'SB033',
                 'employee 999 cannot head department 4: there is no such employee',
                 'the head of a department must be an employee (SB033)');
SELECT throws_ok($$UPDATE employee SET role_name = 'sbt_typo' WHERE id = 10$$, 'SB037',
                 'role "sbt_typo" does not exist', 'role_name must name a role (SB037)');
SELECT lives_ok($$UPDATE employee SET role_name = 'sbt_other' WHERE id = 10$$, 'an existing role is accepted');
INSERT INTO employee (id, name, department_id, time_zone) VALUES (77, 'Short-lived head', 4, 'UTC');
UPDATE department SET head_id = 77 WHERE id = 4;
DELETE FROM employee WHERE id = 77;
SELECT is((SELECT head_id FROM department WHERE id = 4), NULL::bigint,
          'deleting the head of a department leaves it without one');

-- restore mode is for superusers: an administrator in a session shaped as
-- a restore (row_security off, empty search_path) is held to every rule
CREATE TEMP TABLE shaped (sqlstate text);
GRANT ALL ON shaped TO PUBLIC;
SET ROLE sbt_admin;
SET row_security = off;
SET search_path = '';
DO $$
BEGIN
    UPDATE salesboard.department SET head_id = 999 WHERE id = 4;
    INSERT INTO pg_temp.shaped VALUES ('none');
EXCEPTION WHEN OTHERS THEN
    INSERT INTO pg_temp.shaped VALUES (SQLSTATE);
END $$;
RESET search_path;
RESET row_security;
RESET ROLE;
SET search_path = salesboard, public;
SELECT is((SELECT sqlstate FROM shaped), 'SB033',
          'a non-superuser in a restore-shaped session still meets the triggers (SB033)');

SELECT * FROM finish();
ROLLBACK;
