
/* ------------------------------------------------------------------
 * Overdue checks (overdue.c; doc/reference.md, "Overdue checks")
 * ------------------------------------------------------------------ */

ALTER TABLE salesboard.company
    ADD COLUMN alert_department_heads boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN salesboard.company.alert_department_heads IS
    'True: an alert of the overdue checks goes to the employee''s department head too';

/* How far the checks have looked: one row (activities due before
 * activities_until have been checked), and per stage (deals that entered
 * it before entered_until have been checked for rotting). Written only by
 * check_overdue(); dumped with the data, so a restore neither repeats nor
 * skips alerts. */
CREATE TABLE salesboard.overdue_check (
    id                boolean PRIMARY KEY DEFAULT true CHECK (id),
    activities_until  timestamptz NOT NULL CHECK (activities_until < 'infinity')
);
CREATE TABLE salesboard.overdue_rot (
    stage_id       bigint PRIMARY KEY REFERENCES salesboard.stage (id) ON DELETE CASCADE,
    entered_until  timestamptz NOT NULL CHECK (entered_until < 'infinity')
);
SELECT pg_catalog.pg_extension_config_dump('salesboard.overdue_check', '');
SELECT pg_catalog.pg_extension_config_dump('salesboard.overdue_rot', '');
GRANT SELECT ON salesboard.overdue_check, salesboard.overdue_rot
    TO salesboard_admin, salesboard_reader, salesboard_backup;
-- administrators may move the watermarks by hand (doc/reference.md says when)
GRANT UPDATE, DELETE ON salesboard.overdue_check, salesboard.overdue_rot TO salesboard_admin;
CREATE TRIGGER restore_mode BEFORE INSERT ON salesboard.overdue_check
    FOR EACH STATEMENT EXECUTE FUNCTION salesboard.restore_mode_trigger();
CREATE TRIGGER restore_mode BEFORE INSERT ON salesboard.overdue_rot
    FOR EACH STATEMENT EXECUTE FUNCTION salesboard.restore_mode_trigger();
COMMENT ON TABLE salesboard.overdue_check IS
    'The overdue checks'' watermark for activities: one row, written by check_overdue()';
COMMENT ON COLUMN salesboard.overdue_check.id IS 'Always true: the table holds one row';
COMMENT ON COLUMN salesboard.overdue_check.activities_until IS
    'Planned activities due before this moment have been checked (-infinity: none yet)';
COMMENT ON TABLE salesboard.overdue_rot IS
    'The overdue checks'' watermark for rotting deals, per stage, written by check_overdue()';
COMMENT ON COLUMN salesboard.overdue_rot.stage_id IS 'The stage';
COMMENT ON COLUMN salesboard.overdue_rot.entered_until IS
    'Open deals that entered the stage before this moment have been checked for rotting';
COMMENT ON TRIGGER restore_mode ON salesboard.overdue_check IS
    'A restore session loads without rule triggers and foreign keys; verify() checks after';
COMMENT ON TRIGGER restore_mode ON salesboard.overdue_rot IS
    'A restore session loads without rule triggers and foreign keys; verify() checks after';

/* The checks read only what became due or rotten since the last one
 * (activities through activity_due_idx of 1.0). */
CREATE INDEX deal_rot_idx ON salesboard.deal (stage_id, stage_entered_at) WHERE status = 'open';
COMMENT ON INDEX salesboard.deal_rot_idx IS 'Open deals by stage and entry moment: the rotting checks';

CREATE FUNCTION salesboard.check_overdue("at" timestamptz DEFAULT now())
RETURNS integer
AS 'MODULE_PATHNAME', 'sb_check_overdue'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION salesboard.check_overdue(timestamptz) IS
    'Raise one alert per activity that became overdue (due_at before at) and per deal that stayed in a stage longer than its rot_days, since the previous check; idempotent, catches up after a missed run; returns how many alerts it raised';

CREATE FUNCTION salesboard.alerts(employee_id bigint DEFAULT NULL, unseen_only boolean DEFAULT true)
RETURNS TABLE (id bigint, kind text, deal_id bigint, activity_id bigint, stage_id bigint,
               event_at timestamptz, created_at timestamptz, seen_at timestamptz, employee_id bigint)
AS 'MODULE_PATHNAME', 'sb_alerts'
LANGUAGE C STABLE PARALLEL RESTRICTED ROWS 20;
COMMENT ON FUNCTION salesboard.alerts(bigint, boolean) IS
    'An employee''s alerts (default: the acting one''s), unseen ones only unless unseen_only is false, by event moment';

CREATE FUNCTION salesboard.mark_alerts_seen(ids bigint[])
RETURNS integer
AS 'MODULE_PATHNAME', 'sb_mark_alerts_seen'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION salesboard.mark_alerts_seen(bigint[]) IS
    'Mark alerts seen (now()); returns how many were unseen; an alert one may not see is SB300, as an unknown one';

CREATE FUNCTION salesboard.schedule_overdue_checks(schedule text DEFAULT '* * * * *')
RETURNS bigint
AS 'MODULE_PATHNAME', 'sb_schedule_overdue_checks'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION salesboard.schedule_overdue_checks(text) IS
    'Schedule check_overdue() as the pg_cron job salesboard_overdue_checks (schedule in GMT with pg_cron 1.4); once: scheduling again changes the one job; SB301 without pg_cron, SB302 when pg_cron lives in another database (the hint gives the call to run there)';

CREATE FUNCTION salesboard.unschedule_overdue_checks()
RETURNS boolean
AS 'MODULE_PATHNAME', 'sb_unschedule_overdue_checks'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION salesboard.unschedule_overdue_checks() IS
    'Remove the pg_cron job salesboard_overdue_checks; false when there was none';

REVOKE EXECUTE ON FUNCTION salesboard.check_overdue(timestamptz), salesboard.alerts(bigint, boolean),
    salesboard.mark_alerts_seen(bigint[]), salesboard.schedule_overdue_checks(text),
    salesboard.unschedule_overdue_checks() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION salesboard.check_overdue(timestamptz) TO salesboard_admin, salesboard_app;
GRANT EXECUTE ON FUNCTION salesboard.alerts(bigint, boolean) TO salesboard_user, salesboard_reader;
GRANT EXECUTE ON FUNCTION salesboard.mark_alerts_seen(bigint[]) TO salesboard_user;
GRANT EXECUTE ON FUNCTION salesboard.schedule_overdue_checks(text), salesboard.unschedule_overdue_checks()
    TO salesboard_admin;

/* A planned activity due behind the watermark is still checked. */
CREATE FUNCTION salesboard.overdue_rewind_trigger() RETURNS trigger
AS 'MODULE_PATHNAME', 'sb_overdue_rewind_trigger' LANGUAGE C;
REVOKE EXECUTE ON FUNCTION salesboard.overdue_rewind_trigger() FROM PUBLIC;
CREATE TRIGGER activity_behind_checks
    AFTER INSERT OR UPDATE OF due_at, due_date, status ON salesboard.activity
    FOR EACH ROW WHEN (NEW.status = 'planned' AND NEW.due_at < now())
    EXECUTE FUNCTION salesboard.overdue_rewind_trigger();
COMMENT ON FUNCTION salesboard.overdue_rewind_trigger() IS
    'Trigger: a planned activity due behind the overdue checks'' watermark moves it back, so the next check sees it';
COMMENT ON TRIGGER activity_behind_checks ON salesboard.activity IS
    'A planned activity due before now (re-anchored, imported) is still seen by the next overdue check';

/* rot_days within ten years: the checks compute moments from it */
ALTER TABLE salesboard.stage ADD CONSTRAINT stage_rot_days_range CHECK (rot_days IS NULL OR rot_days BETWEEN 0 AND 3660);
COMMENT ON CONSTRAINT stage_rot_days_range ON salesboard.stage IS 'rot_days is at most 3660 days (ten years)';

/* An alert is seen at now(), once, by raw SQL as by mark_alerts_seen() (SB013). */
CREATE FUNCTION salesboard.alert_seen_trigger() RETURNS trigger
AS 'MODULE_PATHNAME', 'sb_alert_seen_trigger' LANGUAGE C;
REVOKE EXECUTE ON FUNCTION salesboard.alert_seen_trigger() FROM PUBLIC;
CREATE TRIGGER alert_seen
    BEFORE UPDATE OF seen_at ON salesboard.alert
    FOR EACH ROW EXECUTE FUNCTION salesboard.alert_seen_trigger();
COMMENT ON FUNCTION salesboard.alert_seen_trigger() IS
    'Trigger: seen_at is set once, to now(), as mark_alerts_seen() does (SB013); administrators and applications may set other values';
COMMENT ON TRIGGER alert_seen ON salesboard.alert IS 'An alert is seen at now(), once (SB013)';
