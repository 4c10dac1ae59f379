/* ------------------------------------------------------------------
 * The board a web page draws from one call (board.c, board_json.c)
 * ------------------------------------------------------------------ */

/* board() and deal_list() show what a card shows: the all-day flag and
 * local date of the next activity, and the deal's tags. */
ALTER TYPE salesboard.card
    ADD ATTRIBUTE next_all_day boolean,
    ADD ATTRIBUTE next_due_date date,
    ADD ATTRIBUTE tags text[];
COMMENT ON TYPE salesboard.card IS
    'One card of the board or the list: its column (position, kind, stage), the deal, its next activity (subject, kind, due moment; for an all-day activity next_all_day and the owner''s local next_due_date), colour, priority, owner, rank in the column, and tags (names, sorted)';

CREATE FUNCTION salesboard.board_json(
    employee_id bigint DEFAULT NULL, horizon text DEFAULT 'today',
    overdue_last boolean DEFAULT false, client_id bigint DEFAULT NULL,
    service_type_id bigint DEFAULT NULL, tags text[] DEFAULT NULL,
    subordinates boolean DEFAULT true, at timestamptz DEFAULT now(),
    closed_days integer DEFAULT NULL)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'sb_board_json'
LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION salesboard.board_json(bigint, text, boolean, bigint, bigint, text[], boolean, timestamptz, integer) IS
    'The whole board for a web page in one call (board()''s parameters): per pipeline every column in order, empty ones too, with stage, kind, card_count, totals per currency and the cards; the Inbound column first; moments in UTC';
REVOKE EXECUTE ON FUNCTION
    salesboard.board_json(bigint, text, boolean, bigint, bigint, text[], boolean, timestamptz, integer)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    salesboard.board_json(bigint, text, boolean, bigint, bigint, text[], boolean, timestamptz, integer)
    TO salesboard_user, salesboard_reader;
