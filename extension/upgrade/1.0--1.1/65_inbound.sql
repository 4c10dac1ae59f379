
/* ------------------------------------------------------------------
 * Inbound dispatch (inbound.c, inqueue.c; doc/reference.md, "Inbound
 * dispatch"): receiving with dedupe and auto-linking, the Inbound
 * column, dismiss, accept and link.
 * ------------------------------------------------------------------ */

/* Copies of one message in several mailboxes, and replies, are found by
 * the message's own reference in any source. */
DROP INDEX salesboard.inbound_thread_idx;
CREATE INDEX inbound_external_ref_idx ON salesboard.inbound (external_ref)
    WHERE external_ref IS NOT NULL;
CREATE INDEX inbound_thread_ref_idx ON salesboard.inbound (thread_ref)
    WHERE thread_ref IS NOT NULL;
COMMENT ON INDEX salesboard.inbound_external_ref_idx IS
    'Requests by the source''s message reference: copies of one message in several sources, the message a reply answers';
COMMENT ON INDEX salesboard.inbound_thread_ref_idx IS 'Requests by conversation thread (replies are linked to the thread''s deal)';

/* The rules of a request's life, for every writer (functions, raw SQL). */
CREATE FUNCTION salesboard.inbound_rules_trigger() RETURNS trigger
AS 'MODULE_PATHNAME', 'sb_inbound_rules_trigger' LANGUAGE C;
CREATE FUNCTION salesboard.inbound_linked_trigger() RETURNS trigger
AS 'MODULE_PATHNAME', 'sb_inbound_linked_trigger' LANGUAGE C;
REVOKE EXECUTE ON FUNCTION salesboard.inbound_rules_trigger(), salesboard.inbound_linked_trigger() FROM PUBLIC;

CREATE TRIGGER inbound_rules
    BEFORE INSERT OR UPDATE ON salesboard.inbound
    FOR EACH ROW EXECUTE FUNCTION salesboard.inbound_rules_trigger();
CREATE TRIGGER inbound_linked_insert
    AFTER INSERT ON salesboard.inbound
    FOR EACH ROW WHEN (NEW.status IN ('accepted', 'linked', 'auto_linked') AND NEW.deal_id IS NOT NULL)
    EXECUTE FUNCTION salesboard.inbound_linked_trigger();
CREATE TRIGGER inbound_linked_update
    AFTER UPDATE OF status ON salesboard.inbound
    FOR EACH ROW WHEN (OLD.status = 'new' AND NEW.status IN ('accepted', 'linked', 'auto_linked')
                       AND NEW.deal_id IS NOT NULL)
    EXECUTE FUNCTION salesboard.inbound_linked_trigger();

COMMENT ON FUNCTION salesboard.inbound_rules_trigger() IS
    'Trigger: a request''s source exists and gives its channel and owner; a request is handled once (new -> dismissed, accepted, linked or auto_linked), accepted and linked ones to an open deal, by the acting employee at now() (SB100-SB106)';
COMMENT ON FUNCTION salesboard.inbound_linked_trigger() IS
    'Trigger: a request linked to a deal is recorded on it as a done incoming interaction, and its copies in other sources (same external_ref) still new are auto-linked to the same deal';
COMMENT ON TRIGGER inbound_rules ON salesboard.inbound IS
    'The source gives channel and owner; handled once; accepted/linked to an open deal; handled_by/handled_at are the acting employee and now()';
COMMENT ON TRIGGER inbound_linked_insert ON salesboard.inbound IS
    'A request stored already linked is recorded on its deal';
COMMENT ON TRIGGER inbound_linked_update ON salesboard.inbound IS
    'A request that becomes accepted, linked or auto_linked is recorded on its deal; its copies follow';

/* Live changes of raw SQL on inbound; the functions announce their own calls */
CREATE FUNCTION salesboard.inbound_notify_trigger() RETURNS trigger
AS 'MODULE_PATHNAME', 'sb_inbound_notify_trigger' LANGUAGE C;
REVOKE EXECUTE ON FUNCTION salesboard.inbound_notify_trigger() FROM PUBLIC;
CREATE TRIGGER inbound_notify_insert
    AFTER INSERT ON salesboard.inbound REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION salesboard.inbound_notify_trigger();
CREATE TRIGGER inbound_notify_update
    AFTER UPDATE ON salesboard.inbound REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION salesboard.inbound_notify_trigger();
CREATE TRIGGER inbound_notify_delete
    AFTER DELETE ON salesboard.inbound REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION salesboard.inbound_notify_trigger();
COMMENT ON FUNCTION salesboard.inbound_notify_trigger() IS
    'Trigger: NOTIFY salesboard with {"event":"inbound",...} for the requests a raw statement stored, changed or deleted, one per kind of change (the handling functions send one per call instead)';
COMMENT ON TRIGGER inbound_notify_insert ON salesboard.inbound IS
    'NOTIFY salesboard: requests stored by raw SQL (event inbound, change: the status they arrived in)';
COMMENT ON TRIGGER inbound_notify_update ON salesboard.inbound IS
    'NOTIFY salesboard: requests changed by raw SQL (event inbound, change: the new status, or changed)';
COMMENT ON TRIGGER inbound_notify_delete ON salesboard.inbound IS
    'NOTIFY salesboard: requests deleted by raw SQL (event inbound, change deleted)';

/* ---- the functions */
CREATE FUNCTION salesboard.receive_inbound(
    source_id bigint, sender text, subject text, body text,
    received_at timestamptz DEFAULT now(), external_ref text DEFAULT NULL,
    thread_ref text DEFAULT NULL, folder text DEFAULT NULL, payload jsonb DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'sb_receive_inbound'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION salesboard.receive_inbound(bigint, text, text, text, timestamptz, text, text, text, jsonb) IS
    'Store an inbound request from a lead source (for integrations: salesboard_app, salesboard_admin) and return its id; a repeat of the same source and external_ref returns the first id and changes nothing; auto-links to the one open deal it belongs to (a copy of a linked message, a reply in a linked thread, the one open deal of the sender''s client), else it waits in Inbound';

CREATE FUNCTION salesboard.inbound_queue(employee_id bigint DEFAULT NULL, at timestamptz DEFAULT now())
RETURNS TABLE (id bigint, source_id bigint, channel text, sender text, subject text,
               received_at timestamptz, age interval, owner_id bigint)
AS 'MODULE_PATHNAME', 'sb_inbound_queue'
LANGUAGE C STABLE PARALLEL RESTRICTED ROWS 20;
COMMENT ON FUNCTION salesboard.inbound_queue(bigint, timestamptz) IS
    'The Inbound column of an employee (default: the acting one): the new requests of their sources, and of their subtree''s for a head, received by at, oldest first, with age = at - received_at';

CREATE FUNCTION salesboard.dismiss_inbound(ids bigint[], request_id uuid DEFAULT NULL)
RETURNS integer
AS 'MODULE_PATHNAME', 'sb_dismiss_inbound'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION salesboard.dismiss_inbound(bigint[], uuid) IS
    '"Process without creating a task": dismiss many new requests at once, all or none; returns how many';

CREATE FUNCTION salesboard.accept_inbound(
    inbound_id bigint, stage_id bigint, title text, first_due timestamptz, first_subject text,
    client_id bigint DEFAULT NULL, service_type_id bigint DEFAULT NULL, amount numeric DEFAULT NULL,
    first_due_date date DEFAULT NULL, request_id uuid DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'sb_accept_inbound'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION salesboard.accept_inbound(bigint, bigint, text, timestamptz, text, bigint, bigint, numeric, date, uuid) IS
    'Register a new deal from a new request (owner: the request''s owner; client: the given one, else the one matching the sender, else a new client), in the chosen open stage with its first planned activity, through create_deal''s core; the request becomes accepted; returns the deal id';

CREATE FUNCTION salesboard.link_inbound(inbound_id bigint, deal_id bigint, request_id uuid DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'sb_link_inbound'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION salesboard.link_inbound(bigint, bigint, uuid) IS
    'Attach a new request to an existing open deal the session may see; the request becomes linked and is recorded on the deal as an incoming interaction';

REVOKE EXECUTE ON FUNCTION
    salesboard.receive_inbound(bigint, text, text, text, timestamptz, text, text, text, jsonb),
    salesboard.inbound_queue(bigint, timestamptz),
    salesboard.dismiss_inbound(bigint[], uuid),
    salesboard.accept_inbound(bigint, bigint, text, timestamptz, text, bigint, bigint, numeric, date, uuid),
    salesboard.link_inbound(bigint, bigint, uuid)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    salesboard.receive_inbound(bigint, text, text, text, timestamptz, text, text, text, jsonb)
    TO salesboard_app, salesboard_admin;
GRANT EXECUTE ON FUNCTION salesboard.inbound_queue(bigint, timestamptz)
    TO salesboard_user, salesboard_reader;
GRANT EXECUTE ON FUNCTION
    salesboard.dismiss_inbound(bigint[], uuid),
    salesboard.accept_inbound(bigint, bigint, text, timestamptz, text, bigint, bigint, numeric, date, uuid),
    salesboard.link_inbound(bigint, bigint, uuid)
    TO salesboard_user;

/* Nothing waiting is left with nobody: a source's new requests follow its
 * new employee, and an employee who leaves hands over their sources. */
CREATE FUNCTION salesboard.lead_source_owner_trigger() RETURNS trigger
AS 'MODULE_PATHNAME', 'sb_lead_source_owner_trigger' LANGUAGE C;
CREATE FUNCTION salesboard.inbound_leaver_trigger() RETURNS trigger
AS 'MODULE_PATHNAME', 'sb_inbound_leaver_trigger' LANGUAGE C;
REVOKE EXECUTE ON FUNCTION salesboard.lead_source_owner_trigger(), salesboard.inbound_leaver_trigger() FROM PUBLIC;
CREATE TRIGGER lead_source_owner_changed
    AFTER UPDATE OF owner_id ON salesboard.lead_source
    FOR EACH ROW EXECUTE FUNCTION salesboard.lead_source_owner_trigger();
CREATE TRIGGER employee_leaving_inbound
    BEFORE UPDATE OF active ON salesboard.employee
    FOR EACH ROW WHEN (OLD.active AND NOT NEW.active)
    EXECUTE FUNCTION salesboard.inbound_leaver_trigger();
COMMENT ON FUNCTION salesboard.lead_source_owner_trigger() IS
    'Trigger: a lead source''s waiting (new) requests follow its new responsible employee';
COMMENT ON FUNCTION salesboard.inbound_leaver_trigger() IS
    'Trigger: an employee who leaves is responsible for no active lead source and no waiting request (SB042)';
COMMENT ON TRIGGER lead_source_owner_changed ON salesboard.lead_source IS
    'Waiting requests move to the source''s new employee';
COMMENT ON TRIGGER employee_leaving_inbound ON salesboard.employee IS
    'An employee who leaves hands over their lead sources and waiting requests first (SB042)';

/* An active source is read by an active employee (SB040). */
CREATE FUNCTION salesboard.lead_source_rules_trigger() RETURNS trigger
AS 'MODULE_PATHNAME', 'sb_lead_source_rules_trigger' LANGUAGE C;
REVOKE EXECUTE ON FUNCTION salesboard.lead_source_rules_trigger() FROM PUBLIC;
CREATE TRIGGER lead_source_rules
    BEFORE INSERT OR UPDATE OF owner_id, active ON salesboard.lead_source
    FOR EACH ROW EXECUTE FUNCTION salesboard.lead_source_rules_trigger();
COMMENT ON FUNCTION salesboard.lead_source_rules_trigger() IS
    'Trigger: an active lead source belongs to an active employee (SB040)';
COMMENT ON TRIGGER lead_source_rules ON salesboard.lead_source IS
    'An active lead source belongs to an active employee (SB040)';

/* A sender is not blank in any script, by raw SQL as through receive_inbound (SB025 there). */
ALTER TABLE salesboard.inbound ADD CONSTRAINT inbound_sender_text CHECK (NOT salesboard.is_blank(sender));
COMMENT ON CONSTRAINT inbound_sender_text ON salesboard.inbound IS 'A sender is not blank (Unicode spaces count as blank)';
