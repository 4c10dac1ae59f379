
/* ------------------------------------------------------------------
 * The API applications need (doc/reference.md, "Identity and access",
 * "The board")
 * ------------------------------------------------------------------ */

/* Driver-friendly signatures: card_colour($1) with an untyped parameter
 * (node-postgres) was ambiguous between the deal-id and the deal-row
 * overloads (42725); the row form is card_colour_of() now. */
DROP FUNCTION salesboard.card_colour(salesboard.deal, timestamptz);
CREATE FUNCTION salesboard.card_colour_of(d salesboard.deal, at timestamptz DEFAULT now())
RETURNS text
AS 'MODULE_PATHNAME', 'sb_card_colour_of' LANGUAGE C STABLE PARALLEL SAFE;
REVOKE EXECUTE ON FUNCTION salesboard.card_colour_of(salesboard.deal, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION salesboard.card_colour_of(salesboard.deal, timestamptz) TO salesboard_user;
COMMENT ON FUNCTION salesboard.card_colour_of(salesboard.deal, timestamptz) IS
    'card_colour of a deal row the query already has (no second read of the deal)';

/* Safe retries: every write function takes request_id. move_deal,
 * close_deal and reopen_deal keep theirs in stage_history; the others in
 * api_request, one row per request id. */
CREATE TABLE salesboard.api_request (
    request_id   uuid PRIMARY KEY,
    operation    text NOT NULL CHECK (operation IN ('create_deal', 'plan_activity', 'complete_activity', 'cancel_activity', 'set_priority', 'stage_change', 'dismiss_inbound', 'accept_inbound', 'link_inbound')),
    target_id    bigint NOT NULL,
    employee_id  bigint,
    deal_id      bigint,
    activity_id  bigint,
    answer_count bigint,
    created_at   timestamptz NOT NULL DEFAULT now() CHECK (pg_catalog.isfinite(created_at))
);
CREATE INDEX api_request_created_idx ON salesboard.api_request (created_at);
ALTER TABLE salesboard.api_request ENABLE ROW LEVEL SECURITY;
SELECT pg_catalog.pg_extension_config_dump('salesboard.api_request', '');
GRANT SELECT ON salesboard.api_request TO salesboard_backup;
GRANT SELECT, DELETE ON salesboard.api_request TO salesboard_admin;
CREATE POLICY api_request_admin ON salesboard.api_request
    USING (salesboard.can_see(coalesce(employee_id, 0)));
CREATE TRIGGER restore_mode BEFORE INSERT ON salesboard.api_request
    FOR EACH STATEMENT EXECUTE FUNCTION salesboard.restore_mode_trigger();
COMMENT ON TABLE salesboard.api_request IS
    'Request ids of create_deal, plan_activity, complete_activity, cancel_activity, set_priority, dismiss_inbound, accept_inbound and link_inbound, with their answers: a retry changes nothing and answers the same (administrators may delete old rows)';
COMMENT ON COLUMN salesboard.api_request.request_id IS 'The caller''s request id';
COMMENT ON COLUMN salesboard.api_request.operation IS 'The function it was used for; stage_change for move_deal, close_deal and reopen_deal, whose change and answer are in stage_history (the row only takes the id)';
COMMENT ON COLUMN salesboard.api_request.target_id IS 'Its target: the owner (create_deal), the deal (plan_activity, set_priority), the activity, or the inbound request (accept_inbound, link_inbound; dismiss_inbound: the smallest id)';
COMMENT ON COLUMN salesboard.api_request.employee_id IS 'The employee the session acted as';
COMMENT ON COLUMN salesboard.api_request.deal_id IS 'The answer: the deal';
COMMENT ON COLUMN salesboard.api_request.activity_id IS 'The answer: the activity';
COMMENT ON COLUMN salesboard.api_request.answer_count IS 'The answer: how many (dismiss_inbound: requests dismissed)';
COMMENT ON COLUMN salesboard.api_request.created_at IS 'When the request was first applied';
COMMENT ON INDEX salesboard.api_request_created_idx IS 'Finding old requests to delete';
COMMENT ON POLICY api_request_admin ON salesboard.api_request IS 'Requests of visible employees (administrators: all)';
COMMENT ON TRIGGER restore_mode ON salesboard.api_request IS
    'A restore session loads without rule triggers and foreign keys; verify() checks after';

/* Useful answers: what a stage change did. */
CREATE TYPE salesboard.change AS (
    deal_id bigint, history_id bigint, planned_activity_id bigint, replayed boolean);
COMMENT ON TYPE salesboard.change IS
    'What move_deal, close_deal and reopen_deal did: the deal, its history row, the activity planned (NULL for a close), and whether the request had been applied before (nothing changed now)';

DROP FUNCTION salesboard.create_deal(bigint, bigint, text, timestamptz, text, bigint, bigint, numeric, text, text[], text, boolean, timestamptz, date);
CREATE FUNCTION salesboard.create_deal(
    owner_id bigint, stage_id bigint, title text,
    first_due timestamptz, first_subject text,
    client_id bigint DEFAULT NULL, service_type_id bigint DEFAULT NULL,
    amount numeric DEFAULT NULL, currency text DEFAULT NULL,
    tags text[] DEFAULT NULL, first_kind text DEFAULT 'interaction',
    first_all_day boolean DEFAULT false, at timestamptz DEFAULT now(),
    first_due_date date DEFAULT NULL, request_id uuid DEFAULT NULL)
RETURNS bigint AS 'MODULE_PATHNAME', 'sb_create_deal' LANGUAGE C VOLATILE PARALLEL UNSAFE;

DROP FUNCTION salesboard.plan_activity(bigint, timestamptz, text, text, boolean, bigint, timestamptz, date);
CREATE FUNCTION salesboard.plan_activity(
    deal_id bigint, due timestamptz, subject text,
    kind text DEFAULT 'interaction', all_day boolean DEFAULT false,
    assignee_id bigint DEFAULT NULL, at timestamptz DEFAULT now(),
    due_date date DEFAULT NULL, request_id uuid DEFAULT NULL)
RETURNS bigint AS 'MODULE_PATHNAME', 'sb_plan_activity' LANGUAGE C VOLATILE PARALLEL UNSAFE;

DROP FUNCTION salesboard.complete_activity(bigint, text, timestamptz);
CREATE FUNCTION salesboard.complete_activity(
    activity_id bigint, result text, at timestamptz DEFAULT now(), request_id uuid DEFAULT NULL)
RETURNS void AS 'MODULE_PATHNAME', 'sb_complete_activity' LANGUAGE C VOLATILE PARALLEL UNSAFE;

DROP FUNCTION salesboard.cancel_activity(bigint, text, timestamptz);
CREATE FUNCTION salesboard.cancel_activity(
    activity_id bigint, reason text, at timestamptz DEFAULT now(), request_id uuid DEFAULT NULL)
RETURNS void AS 'MODULE_PATHNAME', 'sb_cancel_activity' LANGUAGE C VOLATILE PARALLEL UNSAFE;

DROP FUNCTION salesboard.set_priority(bigint, boolean);
CREATE FUNCTION salesboard.set_priority(deal_id bigint, flagged boolean, request_id uuid DEFAULT NULL)
RETURNS void AS 'MODULE_PATHNAME', 'sb_set_priority' LANGUAGE C VOLATILE PARALLEL UNSAFE;

DROP FUNCTION salesboard.move_deal(bigint, bigint, text, timestamptz, text, text, boolean, uuid, timestamptz, bigint, date);
CREATE FUNCTION salesboard.move_deal(
    deal_id bigint, to_stage_id bigint, result text,
    next_due timestamptz, next_subject text,
    next_kind text DEFAULT 'interaction', next_all_day boolean DEFAULT false,
    request_id uuid DEFAULT NULL, at timestamptz DEFAULT now(),
    expected_stage_id bigint DEFAULT NULL, next_due_date date DEFAULT NULL)
RETURNS salesboard.change AS 'MODULE_PATHNAME', 'sb_move_deal' LANGUAGE C VOLATILE PARALLEL UNSAFE;

DROP FUNCTION salesboard.close_deal(bigint, boolean, text, bigint, uuid, timestamptz, bigint);
CREATE FUNCTION salesboard.close_deal(
    deal_id bigint, won boolean, result text,
    lost_reason_id bigint DEFAULT NULL, request_id uuid DEFAULT NULL,
    at timestamptz DEFAULT now(), expected_stage_id bigint DEFAULT NULL)
RETURNS salesboard.change AS 'MODULE_PATHNAME', 'sb_close_deal' LANGUAGE C VOLATILE PARALLEL UNSAFE;

DROP FUNCTION salesboard.reopen_deal(bigint, bigint, timestamptz, text, text, boolean, text, uuid, timestamptz, date);
CREATE FUNCTION salesboard.reopen_deal(
    deal_id bigint, to_stage_id bigint, next_due timestamptz, next_subject text,
    next_kind text DEFAULT 'interaction', next_all_day boolean DEFAULT false,
    reason text DEFAULT NULL, request_id uuid DEFAULT NULL,
    at timestamptz DEFAULT now(), next_due_date date DEFAULT NULL)
RETURNS salesboard.change AS 'MODULE_PATHNAME', 'sb_reopen_deal' LANGUAGE C VOLATILE PARALLEL UNSAFE;

REVOKE EXECUTE ON FUNCTION
    salesboard.create_deal(bigint, bigint, text, timestamptz, text, bigint, bigint, numeric, text, text[], text, boolean, timestamptz, date, uuid),
    salesboard.plan_activity(bigint, timestamptz, text, text, boolean, bigint, timestamptz, date, uuid),
    salesboard.complete_activity(bigint, text, timestamptz, uuid),
    salesboard.cancel_activity(bigint, text, timestamptz, uuid),
    salesboard.set_priority(bigint, boolean, uuid),
    salesboard.move_deal(bigint, bigint, text, timestamptz, text, text, boolean, uuid, timestamptz, bigint, date),
    salesboard.close_deal(bigint, boolean, text, bigint, uuid, timestamptz, bigint),
    salesboard.reopen_deal(bigint, bigint, timestamptz, text, text, boolean, text, uuid, timestamptz, date)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    salesboard.create_deal(bigint, bigint, text, timestamptz, text, bigint, bigint, numeric, text, text[], text, boolean, timestamptz, date, uuid),
    salesboard.plan_activity(bigint, timestamptz, text, text, boolean, bigint, timestamptz, date, uuid),
    salesboard.complete_activity(bigint, text, timestamptz, uuid),
    salesboard.cancel_activity(bigint, text, timestamptz, uuid),
    salesboard.set_priority(bigint, boolean, uuid),
    salesboard.move_deal(bigint, bigint, text, timestamptz, text, text, boolean, uuid, timestamptz, bigint, date),
    salesboard.close_deal(bigint, boolean, text, bigint, uuid, timestamptz, bigint),
    salesboard.reopen_deal(bigint, bigint, timestamptz, text, text, boolean, text, uuid, timestamptz, date)
    TO salesboard_user;
COMMENT ON FUNCTION salesboard.create_deal(bigint, bigint, text, timestamptz, text, bigint, bigint, numeric, text, text[], text, boolean, timestamptz, date, uuid) IS
    'Create a deal in an open stage with its first planned activity (due at first_due, or all day on the owner''s calendar day first_due_date); returns the deal id; once per request_id';
COMMENT ON FUNCTION salesboard.plan_activity(bigint, timestamptz, text, text, boolean, bigint, timestamptz, date, uuid) IS
    'Plan an interaction or task on an open deal (not in the past; due at due, or all day on the owner''s calendar day due_date); returns the activity id; once per request_id';
COMMENT ON FUNCTION salesboard.complete_activity(bigint, text, timestamptz, uuid) IS
    'Mark a planned activity done with its result; once per request_id';
COMMENT ON FUNCTION salesboard.cancel_activity(bigint, text, timestamptz, uuid) IS
    'Cancel a planned activity with a reason; once per request_id';
COMMENT ON FUNCTION salesboard.set_priority(bigint, boolean, uuid) IS
    'Flag or unflag a deal for first-priority handling; once per request_id';
COMMENT ON FUNCTION salesboard.move_deal(bigint, bigint, text, timestamptz, text, text, boolean, uuid, timestamptz, bigint, date) IS
    'Move a deal to another open stage: record the result of the current activity, plan the next (next_due, or all day on next_due_date), write history; once per request_id; returns what it did';
COMMENT ON FUNCTION salesboard.close_deal(bigint, boolean, text, bigint, uuid, timestamptz, bigint) IS
    'Close a deal as won or lost: record the result, cancel the other planned activities, write history; once per request_id; returns what it did';
COMMENT ON FUNCTION salesboard.reopen_deal(bigint, bigint, timestamptz, text, text, boolean, text, uuid, timestamptz, date) IS
    'Bring a won or lost deal back to an open stage with a new planned activity (next_due, or all day on next_due_date); once per request_id; returns what it did';

/* A reader role for BI tools: every row of every table, no write, no
 * row-level security cost when used as the session's role (BYPASSRLS). */
DO $roles$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'salesboard_reader') THEN
        CREATE ROLE salesboard_reader NOLOGIN BYPASSRLS;
    END IF;
END
$roles$;
GRANT USAGE ON SCHEMA salesboard TO salesboard_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA salesboard TO salesboard_reader;
GRANT EXECUTE ON FUNCTION
    salesboard.card_colour(bigint, timestamptz),
    salesboard.card_colour_of(salesboard.deal, timestamptz),
    salesboard.due_colour(bigint, timestamptz, timestamptz),
    salesboard.why_colour(bigint, timestamptz),
    salesboard.board(bigint, text, boolean, bigint, bigint, text[], boolean, timestamptz, integer),
    salesboard.deal_list(bigint, bigint, bigint, text[], boolean, timestamptz),
    salesboard.board_text(bigint, text, boolean, bigint, bigint, text[], boolean, timestamptz, integer, integer)
    TO salesboard_reader;

/* Live changes: NOTIFY salesboard, one small JSON payload per statement
 * that creates or changes deals, delivered at commit. */
CREATE FUNCTION salesboard.deal_notify_trigger() RETURNS trigger
AS 'MODULE_PATHNAME', 'sb_deal_notify_trigger' LANGUAGE C;
REVOKE EXECUTE ON FUNCTION salesboard.deal_notify_trigger() FROM PUBLIC;
CREATE TRIGGER deal_notify_insert
    AFTER INSERT ON salesboard.deal REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION salesboard.deal_notify_trigger();
CREATE TRIGGER deal_notify_update
    AFTER UPDATE ON salesboard.deal REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION salesboard.deal_notify_trigger();
COMMENT ON FUNCTION salesboard.deal_notify_trigger() IS
    'Trigger: NOTIFY salesboard with {"event":"card",...} for the deals a statement created or changed';
COMMENT ON TRIGGER deal_notify_insert ON salesboard.deal IS 'NOTIFY salesboard: new deals (event card, change create)';
COMMENT ON TRIGGER deal_notify_update ON salesboard.deal IS 'NOTIFY salesboard: changed deals (event card, change update, what changed)';
