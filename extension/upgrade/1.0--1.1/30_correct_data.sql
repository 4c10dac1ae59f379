
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
