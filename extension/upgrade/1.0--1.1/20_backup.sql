
/* ------------------------------------------------------------------
 * Backup and restore (doc/reference.md, "Backup and restore")
 * ------------------------------------------------------------------ */

/* No foreign-key cycle: department.head_id -> employee becomes a trigger,
 * so department, then employee, is an order every restore can load. */
ALTER TABLE salesboard.department DROP CONSTRAINT department_head_id_fkey;

CREATE FUNCTION salesboard.department_head_trigger() RETURNS trigger
AS 'MODULE_PATHNAME', 'sb_department_head_trigger' LANGUAGE C;
CREATE FUNCTION salesboard.employee_deleted_trigger() RETURNS trigger
AS 'MODULE_PATHNAME', 'sb_employee_deleted_trigger' LANGUAGE C;
CREATE FUNCTION salesboard.employee_role_trigger() RETURNS trigger
AS 'MODULE_PATHNAME', 'sb_employee_role_trigger' LANGUAGE C;
REVOKE EXECUTE ON FUNCTION salesboard.department_head_trigger(),
    salesboard.employee_deleted_trigger(), salesboard.employee_role_trigger() FROM PUBLIC;

CREATE TRIGGER department_head
    BEFORE INSERT OR UPDATE OF head_id ON salesboard.department
    FOR EACH ROW EXECUTE FUNCTION salesboard.department_head_trigger();
CREATE TRIGGER employee_deleted
    AFTER DELETE ON salesboard.employee
    FOR EACH ROW EXECUTE FUNCTION salesboard.employee_deleted_trigger();
CREATE TRIGGER employee_role
    BEFORE INSERT OR UPDATE OF role_name ON salesboard.employee
    FOR EACH ROW EXECUTE FUNCTION salesboard.employee_role_trigger();

COMMENT ON FUNCTION salesboard.department_head_trigger() IS
    'Trigger: the head of a department is an existing employee (SB033)';
COMMENT ON FUNCTION salesboard.employee_deleted_trigger() IS
    'Trigger: departments headed by a deleted employee get no head';
COMMENT ON FUNCTION salesboard.employee_role_trigger() IS
    'Trigger: employee.role_name names an existing role (SB037)';
COMMENT ON TRIGGER department_head ON salesboard.department IS
    'The head of a department is an existing employee (a trigger, not a foreign key: no cycle with employee.department_id)';
COMMENT ON TRIGGER employee_deleted ON salesboard.employee IS
    'Departments headed by a deleted employee get no head';
COMMENT ON TRIGGER employee_role ON salesboard.employee IS
    'role_name names an existing role (SB037)';
COMMENT ON COLUMN salesboard.department.head_id IS
    'The employee who heads this department and sees its whole subtree; must exist (trigger department_head), NULL when that employee is deleted';
COMMENT ON COLUMN salesboard.employee.role_name IS
    'Login role that acts as this employee (current_employee()), optional; must exist when set (SB037); stored by name';

/* Restore mode (doc/reference.md, "Backup and restore"): a superuser's
 * session shaped as pg_dump shapes its scripts (row_security = off, empty
 * search_path) is a restore. The rule triggers let its rows through, and
 * the first load of the session switches it to session_replication_role =
 * replica, so tables load in any order and in parallel; verify() checks
 * everything, foreign keys included, afterwards. */
CREATE FUNCTION salesboard.restore_mode_trigger() RETURNS trigger
AS 'MODULE_PATHNAME', 'sb_restore_mode_trigger' LANGUAGE C;
REVOKE EXECUTE ON FUNCTION salesboard.restore_mode_trigger() FROM PUBLIC;
COMMENT ON FUNCTION salesboard.restore_mode_trigger() IS
    'Trigger: the first load of a restore session (superuser, row_security off, empty search_path) switches it to session_replication_role = replica';
DO $restore$
DECLARE t regclass;
BEGIN
    FOR t IN SELECT c.oid::regclass FROM pg_catalog.pg_extension e,
                    pg_catalog.unnest(e.extconfig) AS x(oid)
               JOIN pg_catalog.pg_class c ON c.oid = x.oid
              WHERE e.extname = 'salesboard' AND c.relkind = 'r'
    LOOP
        EXECUTE pg_catalog.format('CREATE TRIGGER restore_mode BEFORE INSERT ON %s '
                                  'FOR EACH STATEMENT EXECUTE FUNCTION salesboard.restore_mode_trigger()', t);
        EXECUTE pg_catalog.format('COMMENT ON TRIGGER restore_mode ON %s IS %L', t,
                                  'A restore session loads without rule triggers and foreign keys; verify() checks after');
    END LOOP;
END
$restore$;

/* Backups without a superuser: salesboard_backup reads every row of every
 * table and sequence (BYPASSRLS: use pg_dump --role=salesboard_backup);
 * salesboard_admin members may dump with --enable-row-security. */
DO $roles$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'salesboard_backup') THEN
        CREATE ROLE salesboard_backup NOLOGIN BYPASSRLS;
    END IF;
END
$roles$;
GRANT USAGE ON SCHEMA salesboard TO salesboard_backup;
GRANT SELECT ON ALL TABLES IN SCHEMA salesboard TO salesboard_backup;
GRANT SELECT ON ALL SEQUENCES IN SCHEMA salesboard TO salesboard_backup, salesboard_admin;
