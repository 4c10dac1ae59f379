/* ------------------------------------------------------------------
 * Paging for list mode: deal_list() by keyset (board.c, cards.c)
 * ------------------------------------------------------------------ */

/* deal_list() takes a page size and the keyset of the last row of the
 * previous page, (next_due, deal_id); the list is in that order. The
 * signature changes, so the function is dropped (with the grants of the 1.0
 * script and of the API fragment) and created again with the same grants. */
DROP FUNCTION salesboard.deal_list(bigint, bigint, bigint, text[], boolean, timestamptz);
CREATE FUNCTION salesboard.deal_list(
    employee_id bigint DEFAULT NULL, client_id bigint DEFAULT NULL,
    service_type_id bigint DEFAULT NULL, tags text[] DEFAULT NULL,
    subordinates boolean DEFAULT true, at timestamptz DEFAULT now(),
    page_size integer DEFAULT NULL, after_next_due timestamptz DEFAULT NULL,
    after_deal_id bigint DEFAULT NULL)
RETURNS SETOF salesboard.card
AS 'MODULE_PATHNAME', 'sb_deal_list'
LANGUAGE C STABLE PARALLEL RESTRICTED;
REVOKE EXECUTE ON FUNCTION
    salesboard.deal_list(bigint, bigint, bigint, text[], boolean, timestamptz, integer, timestamptz, bigint)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    salesboard.deal_list(bigint, bigint, bigint, text[], boolean, timestamptz, integer, timestamptz, bigint)
    TO salesboard_user, salesboard_reader;
COMMENT ON FUNCTION salesboard.deal_list(bigint, bigint, bigint, text[], boolean, timestamptz, integer, timestamptz, bigint) IS
    'List mode: every open deal in (next_due, deal_id) order, no horizon; a page of at most page_size rows (1..10000, NULL: all) strictly after the keyset (after_next_due, after_deal_id), both or neither';
