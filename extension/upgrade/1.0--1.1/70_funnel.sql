
/* ------------------------------------------------------------------
 * The sales funnel (funnel.c, rates.c; doc/reference.md, "Sales funnel")
 * ------------------------------------------------------------------ */

/* Currency rates: one unit of a currency in the company's default currency,
 * from valid_from on. A company that works in one currency needs none. */
CREATE TABLE salesboard.currency_rate (
    currency    char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    valid_from  timestamptz NOT NULL CHECK (pg_catalog.isfinite(valid_from)),
    rate        numeric NOT NULL CHECK (rate > 0 AND rate < 'Infinity'),
    PRIMARY KEY (currency, valid_from)
);
SELECT pg_catalog.pg_extension_config_dump('salesboard.currency_rate', '');
GRANT SELECT ON salesboard.currency_rate TO salesboard_user, salesboard_reader, salesboard_backup;
GRANT INSERT, UPDATE, DELETE, TRUNCATE ON salesboard.currency_rate TO salesboard_admin;
CREATE TRIGGER restore_mode BEFORE INSERT ON salesboard.currency_rate
    FOR EACH STATEMENT EXECUTE FUNCTION salesboard.restore_mode_trigger();
COMMENT ON TABLE salesboard.currency_rate IS
    'Currency rates for reports: the value of one unit of currency in the company''s default currency from valid_from on';
COMMENT ON COLUMN salesboard.currency_rate.currency IS 'ISO 4217 code';
COMMENT ON COLUMN salesboard.currency_rate.valid_from IS 'The moment from which the rate holds (until the next row of the currency)';
COMMENT ON COLUMN salesboard.currency_rate.rate IS 'One unit of currency in company.default_currency (> 0)';
COMMENT ON TRIGGER restore_mode ON salesboard.currency_rate IS
    'A restore session loads without rule triggers and foreign keys; verify() checks after';

CREATE FUNCTION salesboard.funnel(
    pipeline_id bigint DEFAULT NULL, period_from timestamptz DEFAULT NULL,
    period_to timestamptz DEFAULT NULL, mode text DEFAULT 'period',
    as_of timestamptz DEFAULT now(), owner_id bigint DEFAULT NULL,
    department_id bigint DEFAULT NULL, service_type_id bigint DEFAULT NULL,
    tag text DEFAULT NULL, currency text DEFAULT NULL)
RETURNS TABLE (pipeline_id bigint, stage_id bigint, stage_name text, kind text, "position" integer,
               entered bigint, entered_amount numeric, current bigint, current_amount numeric,
               advanced bigint, conversion_from_previous numeric, conversion_from_first numeric,
               won bigint, lost bigint, avg_days_in_stage numeric, weighted_amount numeric,
               currency text)
AS 'MODULE_PATHNAME', 'sb_funnel'
LANGUAGE C STABLE PARALLEL RESTRICTED ROWS 8;
COMMENT ON FUNCTION salesboard.funnel(bigint, timestamptz, timestamptz, text, timestamptz, bigint, bigint, bigint, text, text) IS
    'The sales funnel of a pipeline from the stage history, one row per stage in board order: entered (reached convention), current, advanced, conversions, won, lost, days in stage, amounts in one reporting currency; modes period, cohort, snapshot; as of any moment';
REVOKE EXECUTE ON FUNCTION salesboard.funnel(bigint, timestamptz, timestamptz, text, timestamptz, bigint, bigint, bigint, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION salesboard.funnel(bigint, timestamptz, timestamptz, text, timestamptz, bigint, bigint, bigint, text, text)
    TO salesboard_user, salesboard_reader;
