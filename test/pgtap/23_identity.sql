-- test/pgtap/23_identity.sql: set_employee() (doc/reference.md, "Identity and access") belongs to the
-- application role that called it, lasts until the end of the transaction,
-- survives a released savepoint and is undone by ROLLBACK TO SAVEPOINT.
-- (The end of the transaction itself is checked by the TAP suite's second
-- session, t/001; here everything runs inside the test's transaction.)
BEGIN;
\ir fixture.psql
SET search_path = salesboard, public;
SELECT plan(16);

SET ROLE sbt_app;
SELECT is(current_employee(), NULL::bigint, 'the app role alone is nobody');
SAVEPOINT a;
SELECT set_employee(4);
SELECT is(current_employee(), 4::bigint, 'after set_employee(4): 4');
ROLLBACK TO SAVEPOINT a;
SELECT is(current_employee(), NULL::bigint, 'ROLLBACK TO SAVEPOINT undoes set_employee');
SAVEPOINT b;
SELECT set_employee(6);
RELEASE SAVEPOINT b;
SELECT is(current_employee(), 6::bigint, 'a released savepoint keeps it');
SAVEPOINT c;
SELECT set_employee(4);
ROLLBACK TO SAVEPOINT c;
SELECT is(current_employee(), 6::bigint, 'rolling back a later choice restores the earlier one');
SELECT throws_ok('SELECT 1 / 0', '22012', NULL, 'an unrelated statement fails in its own subtransaction');
SELECT is(current_employee(), 6::bigint, 'an unrelated failed savepoint keeps the choice');
RESET ROLE;

SET ROLE sbt_mseller;
SELECT is(current_employee(), 4::bigint, 'another role acts as its own employee, not as the app''s choice');
RESET ROLE;
SET ROLE sbt_stranger;
SELECT is(current_employee(), NULL::bigint, 'a role that is no employee stays nobody');
RESET ROLE;
SET ROLE sbt_app;
SELECT is(current_employee(), 6::bigint, 'back as the app role: still 6');
RESET ROLE;

-- several calls in one savepoint, and nested savepoints, unwind exactly
SET ROLE sbt_app;
SAVEPOINT x;
SELECT set_employee(6);
SELECT set_employee(10);
ROLLBACK TO SAVEPOINT x;
SELECT is(current_employee(), 6::bigint, 'two calls in one savepoint: its rollback restores what it found (still 6 from before)');
SELECT set_employee(4);
SAVEPOINT p;
SELECT set_employee(6);
SAVEPOINT q;
SELECT set_employee(10);
ROLLBACK TO SAVEPOINT q;
SELECT is(current_employee(), 6::bigint, 'rolling back the inner savepoint: 6');
ROLLBACK TO SAVEPOINT p;
SELECT is(current_employee(), 4::bigint, 'rolling back the outer one: 4');
SAVEPOINT r;
SELECT set_employee(6);
SAVEPOINT s;
SELECT set_employee(10);
RELEASE SAVEPOINT s;
ROLLBACK TO SAVEPOINT r;
SELECT is(current_employee(), 4::bigint, 'a released inner choice goes with its outer savepoint: 4');
RESET ROLE;

-- a renamed role stops acting as the employee at once (role_name is a name)
CREATE ROLE sbt_renamed NOLOGIN IN ROLE salesboard_user;
UPDATE employee SET role_name = 'sbt_renamed' WHERE id = 9;
SET ROLE sbt_renamed;
SELECT is(current_employee(), 9::bigint, 'a role named in employee.role_name acts as the employee');
RESET ROLE;
ALTER ROLE sbt_renamed RENAME TO sbt_renamed_now;
SET ROLE sbt_renamed_now;
SELECT is(current_employee(), NULL::bigint, 'once renamed, the same role acts as nobody (no stale answer)');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
