
/* ------------------------------------------------------------------
 * Correct data on every path (doc/reference.md, "Deals and activities")
 * ------------------------------------------------------------------ */

/* Moments are finite: an infinite due moment would keep a card green for
 * ever and satisfy "always a planned activity" without any work planned. */
ALTER TABLE salesboard.activity
    ADD CONSTRAINT activity_moments_finite
    CHECK (pg_catalog.isfinite(due_at) AND pg_catalog.isfinite(created_at)
           AND (done_at IS NULL OR pg_catalog.isfinite(done_at)));
ALTER TABLE salesboard.deal
    ADD CONSTRAINT deal_moments_finite
    CHECK (pg_catalog.isfinite(stage_entered_at) AND pg_catalog.isfinite(created_at)
           AND (closed_at IS NULL OR pg_catalog.isfinite(closed_at))
           AND (next_due IS NULL OR pg_catalog.isfinite(next_due)));
ALTER TABLE salesboard.stage_history
    ADD CONSTRAINT stage_history_moved_at_finite CHECK (pg_catalog.isfinite(moved_at));
ALTER TABLE salesboard.inbound
    ADD CONSTRAINT inbound_moments_finite
    CHECK (pg_catalog.isfinite(received_at) AND (handled_at IS NULL OR pg_catalog.isfinite(handled_at)));
ALTER TABLE salesboard.alert
    ADD CONSTRAINT alert_moments_finite
    CHECK (pg_catalog.isfinite(event_at) AND pg_catalog.isfinite(created_at)
           AND (seen_at IS NULL OR pg_catalog.isfinite(seen_at)));

/* Amounts are numbers: NaN passes amount >= 0 and turns every sum into NaN. */
ALTER TABLE salesboard.deal
    ADD CONSTRAINT deal_amount_is_number CHECK (amount OPERATOR(pg_catalog.<>) 'NaN'::pg_catalog.numeric);
ALTER TABLE salesboard.stage_history
    ADD CONSTRAINT stage_history_amount_is_number CHECK (amount OPERATOR(pg_catalog.<>) 'NaN'::pg_catalog.numeric);

COMMENT ON CONSTRAINT activity_moments_finite ON salesboard.activity IS 'Due, created and done moments are finite';
COMMENT ON CONSTRAINT deal_moments_finite ON salesboard.deal IS 'Stage entry, creation, closing and next due moments are finite';
COMMENT ON CONSTRAINT stage_history_moved_at_finite ON salesboard.stage_history IS 'History moments are finite';
COMMENT ON CONSTRAINT inbound_moments_finite ON salesboard.inbound IS 'Receiving and handling moments are finite';
COMMENT ON CONSTRAINT alert_moments_finite ON salesboard.alert IS 'Alert moments are finite';
COMMENT ON CONSTRAINT deal_amount_is_number ON salesboard.deal IS 'An amount is a number, not NaN';
COMMENT ON CONSTRAINT stage_history_amount_is_number ON salesboard.stage_history IS 'An amount is a number, not NaN';

/* The company: one row of company-wide settings, dumped with the data. */
CREATE TABLE salesboard.company (
    id                boolean PRIMARY KEY DEFAULT true CHECK (id),
    default_currency  char(3) CHECK (default_currency ~ '^[A-Z]{3}$')
);
SELECT pg_catalog.pg_extension_config_dump('salesboard.company', '');
GRANT SELECT ON salesboard.company TO salesboard_user, salesboard_backup;
GRANT INSERT, UPDATE, DELETE, TRUNCATE ON salesboard.company TO salesboard_admin;
CREATE TRIGGER company_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON salesboard.company
    FOR EACH STATEMENT EXECUTE FUNCTION salesboard.config_changed_trigger();
CREATE TRIGGER restore_mode BEFORE INSERT ON salesboard.company
    FOR EACH STATEMENT EXECUTE FUNCTION salesboard.restore_mode_trigger();
COMMENT ON TABLE salesboard.company IS 'Company-wide settings: at most one row (id is always true)';
COMMENT ON COLUMN salesboard.company.id IS 'Always true: the table holds one row';
COMMENT ON COLUMN salesboard.company.default_currency IS
    'ISO 4217 code of an amount given without a currency; NULL: the company works in one unnamed currency';
COMMENT ON TRIGGER company_changed ON salesboard.company IS 'Sessions reload their cached company settings';
COMMENT ON TRIGGER restore_mode ON salesboard.company IS
    'A restore session loads without rule triggers and foreign keys; verify() checks after';

/* An amount without a currency is in the company's default currency (set
 * by create_deal and the deal trigger), or in its one unnamed currency. */
ALTER TABLE salesboard.deal DROP CONSTRAINT deal_amount_has_currency;
COMMENT ON COLUMN salesboard.deal.currency IS
    'ISO 4217 code; an amount without one takes company.default_currency; NULL with an amount: the company''s one unnamed currency';

/* Text: one definition of blank (Unicode white space and invisible format
 * characters), the same in the functions and in these CHECKs, and length
 * limits (doc/reference.md, "Text"). */
CREATE FUNCTION salesboard.is_blank(value text) RETURNS boolean
AS 'MODULE_PATHNAME', 'sb_is_blank' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
GRANT EXECUTE ON FUNCTION salesboard.is_blank(text) TO PUBLIC;
COMMENT ON FUNCTION salesboard.is_blank(text) IS
    'True when the text is empty or only Unicode white space and invisible format characters (U+00A0, U+200B, U+3000, tabs, line breaks...)';

ALTER TABLE salesboard.department ADD CONSTRAINT department_name_text
    CHECK (NOT salesboard.is_blank(name) AND pg_catalog.char_length(name) <= 200);
ALTER TABLE salesboard.employee ADD CONSTRAINT employee_name_text
    CHECK (NOT salesboard.is_blank(name) AND pg_catalog.char_length(name) <= 200);
ALTER TABLE salesboard.client ADD CONSTRAINT client_name_text
    CHECK (NOT salesboard.is_blank(name) AND pg_catalog.char_length(name) <= 200);
ALTER TABLE salesboard.service_type ADD CONSTRAINT service_type_name_text
    CHECK (NOT salesboard.is_blank(name) AND pg_catalog.char_length(name) <= 200);
ALTER TABLE salesboard.tag ADD CONSTRAINT tag_name_text
    CHECK (NOT salesboard.is_blank(name) AND pg_catalog.char_length(name) <= 200);
ALTER TABLE salesboard.pipeline ADD CONSTRAINT pipeline_name_text
    CHECK (NOT salesboard.is_blank(name) AND pg_catalog.char_length(name) <= 200);
ALTER TABLE salesboard.stage ADD CONSTRAINT stage_name_text
    CHECK (NOT salesboard.is_blank(name) AND pg_catalog.char_length(name) <= 200);
ALTER TABLE salesboard.lost_reason ADD CONSTRAINT lost_reason_name_text
    CHECK (NOT salesboard.is_blank(name) AND pg_catalog.char_length(name) <= 200);
ALTER TABLE salesboard.deal ADD CONSTRAINT deal_title_text
    CHECK (NOT salesboard.is_blank(title) AND pg_catalog.char_length(title) <= 300);
ALTER TABLE salesboard.activity
    ADD CONSTRAINT activity_subject_text
    CHECK (NOT salesboard.is_blank(subject) AND pg_catalog.char_length(subject) <= 300),
    ADD CONSTRAINT activity_result_text
    CHECK (pg_catalog.char_length(result) <= 4000 AND (status <> 'done' OR NOT salesboard.is_blank(result)));
ALTER TABLE salesboard.stage_history ADD CONSTRAINT stage_history_result_text
    CHECK (pg_catalog.char_length(result) <= 4000);

COMMENT ON CONSTRAINT department_name_text ON salesboard.department IS 'A name is not blank and at most 200 characters';
COMMENT ON CONSTRAINT employee_name_text ON salesboard.employee IS 'A name is not blank and at most 200 characters';
COMMENT ON CONSTRAINT client_name_text ON salesboard.client IS 'A name is not blank and at most 200 characters';
COMMENT ON CONSTRAINT service_type_name_text ON salesboard.service_type IS 'A name is not blank and at most 200 characters';
COMMENT ON CONSTRAINT tag_name_text ON salesboard.tag IS 'A name is not blank and at most 200 characters';
COMMENT ON CONSTRAINT pipeline_name_text ON salesboard.pipeline IS 'A name is not blank and at most 200 characters';
COMMENT ON CONSTRAINT stage_name_text ON salesboard.stage IS 'A name is not blank and at most 200 characters';
COMMENT ON CONSTRAINT lost_reason_name_text ON salesboard.lost_reason IS 'A name is not blank and at most 200 characters';
COMMENT ON CONSTRAINT deal_title_text ON salesboard.deal IS 'A title is not blank and at most 300 characters';
COMMENT ON CONSTRAINT activity_subject_text ON salesboard.activity IS 'A subject is not blank and at most 300 characters';
COMMENT ON CONSTRAINT activity_result_text ON salesboard.activity IS 'A result is at most 4000 characters, and not blank once done';
COMMENT ON CONSTRAINT stage_history_result_text ON salesboard.stage_history IS 'A result is at most 4000 characters';

/* All-day activities by the owner's calendar day: a date parameter beside
 * each due moment, exclusive with it (the moment may then be NULL). */
DROP FUNCTION salesboard.create_deal(bigint, bigint, text, timestamptz, text, bigint, bigint, numeric, text, text[], text, boolean, timestamptz);
CREATE FUNCTION salesboard.create_deal(
    owner_id bigint, stage_id bigint, title text,
    first_due timestamptz, first_subject text,
    client_id bigint DEFAULT NULL, service_type_id bigint DEFAULT NULL,
    amount numeric DEFAULT NULL, currency text DEFAULT NULL,
    tags text[] DEFAULT NULL, first_kind text DEFAULT 'interaction',
    first_all_day boolean DEFAULT false, at timestamptz DEFAULT now(),
    first_due_date date DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'sb_create_deal'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

DROP FUNCTION salesboard.plan_activity(bigint, timestamptz, text, text, boolean, bigint, timestamptz);
CREATE FUNCTION salesboard.plan_activity(
    deal_id bigint, due timestamptz, subject text,
    kind text DEFAULT 'interaction', all_day boolean DEFAULT false,
    assignee_id bigint DEFAULT NULL, at timestamptz DEFAULT now(),
    due_date date DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'sb_plan_activity'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

DROP FUNCTION salesboard.move_deal(bigint, bigint, text, timestamptz, text, text, boolean, uuid, timestamptz, bigint);
CREATE FUNCTION salesboard.move_deal(
    deal_id bigint, to_stage_id bigint, result text,
    next_due timestamptz, next_subject text,
    next_kind text DEFAULT 'interaction', next_all_day boolean DEFAULT false,
    request_id uuid DEFAULT NULL, at timestamptz DEFAULT now(),
    expected_stage_id bigint DEFAULT NULL, next_due_date date DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'sb_move_deal'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

DROP FUNCTION salesboard.reopen_deal(bigint, bigint, timestamptz, text, text, boolean, text, uuid, timestamptz);
CREATE FUNCTION salesboard.reopen_deal(
    deal_id bigint, to_stage_id bigint, next_due timestamptz, next_subject text,
    next_kind text DEFAULT 'interaction', next_all_day boolean DEFAULT false,
    reason text DEFAULT NULL, request_id uuid DEFAULT NULL,
    at timestamptz DEFAULT now(), next_due_date date DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'sb_reopen_deal'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

REVOKE EXECUTE ON FUNCTION
    salesboard.create_deal(bigint, bigint, text, timestamptz, text, bigint, bigint, numeric, text, text[], text, boolean, timestamptz, date),
    salesboard.plan_activity(bigint, timestamptz, text, text, boolean, bigint, timestamptz, date),
    salesboard.move_deal(bigint, bigint, text, timestamptz, text, text, boolean, uuid, timestamptz, bigint, date),
    salesboard.reopen_deal(bigint, bigint, timestamptz, text, text, boolean, text, uuid, timestamptz, date)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    salesboard.create_deal(bigint, bigint, text, timestamptz, text, bigint, bigint, numeric, text, text[], text, boolean, timestamptz, date),
    salesboard.plan_activity(bigint, timestamptz, text, text, boolean, bigint, timestamptz, date),
    salesboard.move_deal(bigint, bigint, text, timestamptz, text, text, boolean, uuid, timestamptz, bigint, date),
    salesboard.reopen_deal(bigint, bigint, timestamptz, text, text, boolean, text, uuid, timestamptz, date)
    TO salesboard_user;
COMMENT ON FUNCTION salesboard.create_deal(bigint, bigint, text, timestamptz, text, bigint, bigint, numeric, text, text[], text, boolean, timestamptz, date) IS
    'Create a deal in an open stage with its first planned activity (due at first_due, or all day on the owner''s calendar day first_due_date); returns the deal id';
COMMENT ON FUNCTION salesboard.plan_activity(bigint, timestamptz, text, text, boolean, bigint, timestamptz, date) IS
    'Plan an interaction or task on an open deal (not in the past; due at due, or all day on the owner''s calendar day due_date); returns the activity id';
COMMENT ON FUNCTION salesboard.move_deal(bigint, bigint, text, timestamptz, text, text, boolean, uuid, timestamptz, bigint, date) IS
    'Move a deal to another open stage: record the result of the current activity, plan the next (next_due, or all day on next_due_date), write history; once per request_id';
COMMENT ON FUNCTION salesboard.reopen_deal(bigint, bigint, timestamptz, text, text, boolean, text, uuid, timestamptz, date) IS
    'Bring a won or lost deal back to an open stage with a new planned activity (next_due, or all day on next_due_date); once per request_id';

/* People who have left get no new work, and hand over theirs first. */
CREATE FUNCTION salesboard.employee_leaving_trigger() RETURNS trigger
AS 'MODULE_PATHNAME', 'sb_employee_leaving_trigger' LANGUAGE C;
REVOKE EXECUTE ON FUNCTION salesboard.employee_leaving_trigger() FROM PUBLIC;
CREATE TRIGGER employee_leaving
    BEFORE UPDATE OF active ON salesboard.employee
    FOR EACH ROW WHEN (OLD.active AND NOT NEW.active)
    EXECUTE FUNCTION salesboard.employee_leaving_trigger();
COMMENT ON FUNCTION salesboard.employee_leaving_trigger() IS
    'Trigger: an employee who still owns open deals or is assigned planned activities cannot be deactivated (SB042)';
COMMENT ON TRIGGER employee_leaving ON salesboard.employee IS
    'Hand over open deals and planned activities before deactivating (SB042)';
COMMENT ON COLUMN salesboard.employee.active IS
    'False for people who have left: no deal is created for or handed to them, no activity planned for them (SB040); they must hand over their work first (SB042)';
COMMENT ON COLUMN salesboard.lost_reason.active IS
    'False for reasons no longer offered: close_deal refuses them (SB041)';

/* Stages under deals and history keep their kind and pipeline; a Won stage
 * defaults to probability 100. */
CREATE FUNCTION salesboard.stage_rules_trigger() RETURNS trigger
AS 'MODULE_PATHNAME', 'sb_stage_rules_trigger' LANGUAGE C;
REVOKE EXECUTE ON FUNCTION salesboard.stage_rules_trigger() FROM PUBLIC;
CREATE TRIGGER stage_rules
    BEFORE INSERT OR UPDATE OF kind, pipeline_id ON salesboard.stage
    FOR EACH ROW EXECUTE FUNCTION salesboard.stage_rules_trigger();
COMMENT ON FUNCTION salesboard.stage_rules_trigger() IS
    'Trigger: a Won stage defaults to probability 100; the kind or pipeline of a stage in use cannot change (SB043)';
COMMENT ON TRIGGER stage_rules ON salesboard.stage IS
    'A Won stage defaults to probability 100; the kind or pipeline of a stage in use cannot change (SB043)';
