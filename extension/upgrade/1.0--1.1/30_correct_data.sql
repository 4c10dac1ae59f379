
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
