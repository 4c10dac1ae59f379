
/* ------------------------------------------------------------------
 * Security (doc/reference.md, "Security model")
 * ------------------------------------------------------------------ */

/* A row may point only at a deal the session may see: unknown and
 * invisible deals get the functions' SB030 before the foreign key could
 * tell them apart. (activity checks it in its own BEFORE ROW trigger.) */
CREATE FUNCTION salesboard.deal_reference_trigger() RETURNS trigger
AS 'MODULE_PATHNAME', 'sb_deal_reference_trigger' LANGUAGE C;
REVOKE EXECUTE ON FUNCTION salesboard.deal_reference_trigger() FROM PUBLIC;

CREATE TRIGGER inbound_deal_visible
    BEFORE INSERT OR UPDATE OF deal_id ON salesboard.inbound
    FOR EACH ROW EXECUTE FUNCTION salesboard.deal_reference_trigger();
CREATE TRIGGER deal_tag_deal_visible
    BEFORE INSERT OR UPDATE OF deal_id ON salesboard.deal_tag
    FOR EACH ROW EXECUTE FUNCTION salesboard.deal_reference_trigger();

COMMENT ON FUNCTION salesboard.deal_reference_trigger() IS
    'Trigger: the deal_id of a new or changed row must be a deal the session may see (SB030 otherwise, as from the API)';
COMMENT ON TRIGGER inbound_deal_visible ON salesboard.inbound IS
    'An inbound request can be linked only to a deal the session may see (SB030)';
COMMENT ON TRIGGER deal_tag_deal_visible ON salesboard.deal_tag IS
    'A tag can be put only on a deal the session may see (SB030)';

/* Provenance is set by the server on every path (API, INSERT, COPY). */
COMMENT ON COLUMN salesboard.deal.created_at IS
    'When the deal was created: now(), or the at of the API call; only salesboard_admin/salesboard_app members may set another value (SB013)';
COMMENT ON COLUMN salesboard.deal.created_by IS
    'Employee who created the deal: the acting employee (current_employee()); only salesboard_admin/salesboard_app members may set another (SB013)';
COMMENT ON COLUMN salesboard.activity.created_at IS
    'When it was planned: now(), or the at of the API call; only salesboard_admin/salesboard_app members may set another value (SB013)';
COMMENT ON COLUMN salesboard.activity.created_by IS
    'Employee who planned it: the acting employee (current_employee()); only salesboard_admin/salesboard_app members may set another (SB013)';

/* Only the names of the IANA database, the same on every server. */
COMMENT ON FUNCTION salesboard.is_time_zone(text) IS
    'True for a zone or link name of the IANA time-zone database exactly as spelled there (compiled-in list, tzdata 2025b); false for abbreviations, POSIX rules, localtime, posixrules, Factory, posix/..., right/...';

/* An employee updates only what handling an inbound request changes: not
 * its source, reference, sender or moments (an UPDATE of the unique
 * (source_id, external_ref) could probe other people's requests). */
REVOKE UPDATE ON salesboard.inbound FROM salesboard_user;
GRANT UPDATE (status, deal_id, handled_at, handled_by) ON salesboard.inbound TO salesboard_user;
/* An administrator may also hand a new request to someone else. */
GRANT UPDATE (owner_id) ON salesboard.inbound TO salesboard_admin;
