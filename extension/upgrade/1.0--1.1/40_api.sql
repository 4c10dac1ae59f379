
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
