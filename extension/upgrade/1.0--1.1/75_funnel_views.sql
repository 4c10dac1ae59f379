
/* ------------------------------------------------------------------
 * The funnel for BI tools and psql (rates.c, funnel_text.c;
 * doc/reference.md, "Sales funnel"): convert_amount(), funnel_text(),
 * and views over the working data.
 * ------------------------------------------------------------------ */

CREATE FUNCTION salesboard.convert_amount(amount numeric, currency text, at timestamptz,
                                          to_currency text DEFAULT NULL)
RETURNS numeric
AS 'MODULE_PATHNAME', 'sb_convert_amount'
LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION salesboard.convert_amount(numeric, text, timestamptz, text) IS
    'An amount in currency converted at moment at into to_currency (NULL: the company''s default currency) by the rates of currency_rate, as funnel() converts; rounded to cents; NULL amount: NULL';
REVOKE EXECUTE ON FUNCTION salesboard.convert_amount(numeric, text, timestamptz, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION salesboard.convert_amount(numeric, text, timestamptz, text)
    TO salesboard_user, salesboard_reader;

CREATE FUNCTION salesboard.funnel_text(
    pipeline_id bigint DEFAULT NULL, period_from timestamptz DEFAULT NULL,
    period_to timestamptz DEFAULT NULL, mode text DEFAULT 'period',
    as_of timestamptz DEFAULT now(), owner_id bigint DEFAULT NULL,
    department_id bigint DEFAULT NULL, service_type_id bigint DEFAULT NULL,
    tag text DEFAULT NULL, currency text DEFAULT NULL, width integer DEFAULT 80)
RETURNS text
AS 'MODULE_PATHNAME', 'sb_funnel_text'
LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION salesboard.funnel_text(bigint, timestamptz, timestamptz, text, timestamptz, bigint, bigint, bigint, text, text, integer) IS
    'funnel() drawn for psql: one line per stage with a bar proportional to the deals that entered it, their count and the conversion from the previous stage, in width display columns';
REVOKE EXECUTE ON FUNCTION salesboard.funnel_text(bigint, timestamptz, timestamptz, text, timestamptz, bigint, bigint, bigint, text, text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION salesboard.funnel_text(bigint, timestamptz, timestamptz, text, timestamptz, bigint, bigint, bigint, text, text, integer)
    TO salesboard_user, salesboard_reader;

/* The views read the tables as the caller (security_invoker): an
 * employee sees the rows row-level security shows them, a reader all. */
CREATE VIEW salesboard.pipeline_now WITH (security_invoker = true) AS
SELECT g.pipeline_id, g.stage_id, g.stage_name, g."position", g.owner_id, g.deals, g.currency, g.amount,
       g.amount_converted, round(g.amount_converted * g.probability / 100, 2) AS weighted_amount
  FROM (SELECT s.pipeline_id, s.id AS stage_id, s.name AS stage_name, s."position", d.owner_id,
               count(*) AS deals, d.currency::text AS currency, sum(d.amount) AS amount,
               coalesce(salesboard.convert_amount(sum(d.amount), d.currency::text, now()), 0.00) AS amount_converted,
               s.probability
          FROM salesboard.deal d
          JOIN salesboard.stage s ON s.id = d.stage_id
         WHERE d.status = 'open'
         GROUP BY s.pipeline_id, s.id, s.name, s."position", s.probability, d.owner_id, d.currency) g;
COMMENT ON VIEW salesboard.pipeline_now IS
    'The open pipeline now: per open stage, owner and currency the deals and their amounts, converted into the company''s default currency at now() and weighted by the stage''s probability';
COMMENT ON COLUMN salesboard.pipeline_now.pipeline_id IS 'The pipeline';
COMMENT ON COLUMN salesboard.pipeline_now.stage_id IS 'The open stage the deals are in';
COMMENT ON COLUMN salesboard.pipeline_now.stage_name IS 'The stage''s name';
COMMENT ON COLUMN salesboard.pipeline_now."position" IS 'The stage''s board column';
COMMENT ON COLUMN salesboard.pipeline_now.owner_id IS 'The deals'' owner';
COMMENT ON COLUMN salesboard.pipeline_now.deals IS 'Open deals of this stage, owner and currency';
COMMENT ON COLUMN salesboard.pipeline_now.currency IS 'Their currency (NULL: deals without an amount, or the company''s one unnamed currency)';
COMMENT ON COLUMN salesboard.pipeline_now.amount IS 'The sum of their amounts in that currency (NULL when none has an amount)';
COMMENT ON COLUMN salesboard.pipeline_now.amount_converted IS 'amount in the company''s default currency at now() (convert_amount); 0 without amounts';
COMMENT ON COLUMN salesboard.pipeline_now.weighted_amount IS 'amount_converted x the stage''s probability / 100, rounded to cents';

CREATE VIEW salesboard.deal_cards WITH (security_invoker = true) AS
SELECT d.id AS deal_id, d.title, d.owner_id, d.pipeline_id, d.stage_id, s.name AS stage_name, d.status,
       d.priority, d.next_due,
       CASE WHEN d.status = 'open' THEN salesboard.due_colour(d.owner_id, d.next_due, now()) END AS colour,
       d.amount, d.currency::text AS currency
  FROM salesboard.deal d
  JOIN salesboard.stage s ON s.id = d.stage_id;
COMMENT ON VIEW salesboard.deal_cards IS
    'Every deal as a card: stage, status, next due moment and its colour now (due_colour, in the owner''s time zone), amount';
COMMENT ON COLUMN salesboard.deal_cards.deal_id IS 'The deal';
COMMENT ON COLUMN salesboard.deal_cards.title IS 'Its title';
COMMENT ON COLUMN salesboard.deal_cards.owner_id IS 'Its owner';
COMMENT ON COLUMN salesboard.deal_cards.pipeline_id IS 'Its pipeline';
COMMENT ON COLUMN salesboard.deal_cards.stage_id IS 'Its stage';
COMMENT ON COLUMN salesboard.deal_cards.stage_name IS 'The stage''s name';
COMMENT ON COLUMN salesboard.deal_cards.status IS 'open, won or lost';
COMMENT ON COLUMN salesboard.deal_cards.priority IS 'Marked as priority';
COMMENT ON COLUMN salesboard.deal_cards.next_due IS 'When its next planned activity is due (NULL: none, and for closed deals)';
COMMENT ON COLUMN salesboard.deal_cards.colour IS 'red (overdue), yellow (due today in the owner''s zone), green; NULL for won and lost deals';
COMMENT ON COLUMN salesboard.deal_cards.amount IS 'Its amount, in currency';
COMMENT ON COLUMN salesboard.deal_cards.currency IS 'The amount''s currency';

CREATE VIEW salesboard.stage_durations WITH (security_invoker = true) AS
SELECT t.history_id, t.deal_id, t.stage_id, t.entered_at, t.left_at,
       round(extract(epoch FROM coalesce(t.left_at, now()) - t.entered_at) / 86400, 2) AS days
  FROM (SELECT h.id AS history_id, h.deal_id, h.to_stage_id AS stage_id, h.moved_at AS entered_at,
               lead(h.moved_at) OVER (PARTITION BY h.deal_id ORDER BY h.moved_at, h.id) AS left_at
          FROM salesboard.stage_history h) t;
COMMENT ON VIEW salesboard.stage_durations IS
    'Each stay of a deal in a stage, from the stage history: from the row that entered the stage to the deal''s next row (still there: to now())';
COMMENT ON COLUMN salesboard.stage_durations.history_id IS 'The stage_history row that began the stay';
COMMENT ON COLUMN salesboard.stage_durations.deal_id IS 'The deal';
COMMENT ON COLUMN salesboard.stage_durations.stage_id IS 'The stage it stayed in (stage_history.to_stage_id); Won or Lost for a closed deal''s last stay';
COMMENT ON COLUMN salesboard.stage_durations.entered_at IS 'When it entered the stage (stage_history.moved_at)';
COMMENT ON COLUMN salesboard.stage_durations.left_at IS 'When it left: the moved_at of the deal''s next history row; NULL while it is there';
COMMENT ON COLUMN salesboard.stage_durations.days IS 'Length of the stay in days (24 hours), to now() while it lasts; two decimals';

CREATE VIEW salesboard.won_lost WITH (security_invoker = true) AS
SELECT (date_trunc('month', d.closed_at AT TIME ZONE 'UTC'))::date AS month, d.pipeline_id, d.status AS outcome,
       d.lost_reason_id, r.name AS lost_reason, count(*) AS deals,
       coalesce(sum(salesboard.convert_amount(d.amount, d.currency::text, d.closed_at)), 0.00) AS amount_converted
  FROM salesboard.deal d
  LEFT JOIN salesboard.lost_reason r ON r.id = d.lost_reason_id
 WHERE d.status IN ('won', 'lost')
 GROUP BY 1, d.pipeline_id, d.status, d.lost_reason_id, r.name;
COMMENT ON VIEW salesboard.won_lost IS
    'Won and lost deals per month of closing (in UTC), pipeline, outcome and reason, with their amounts in the company''s default currency';
COMMENT ON COLUMN salesboard.won_lost.month IS 'The first day of the month, in UTC, in which the deals were closed (deal.closed_at)';
COMMENT ON COLUMN salesboard.won_lost.pipeline_id IS 'The pipeline';
COMMENT ON COLUMN salesboard.won_lost.outcome IS 'won or lost';
COMMENT ON COLUMN salesboard.won_lost.lost_reason_id IS 'The reason of a loss (NULL for won deals)';
COMMENT ON COLUMN salesboard.won_lost.lost_reason IS 'The reason''s name';
COMMENT ON COLUMN salesboard.won_lost.deals IS 'How many deals';
COMMENT ON COLUMN salesboard.won_lost.amount_converted IS 'The sum of their amounts, each converted at its closing moment into the company''s default currency (convert_amount); 0 without amounts';

GRANT SELECT ON salesboard.pipeline_now, salesboard.deal_cards, salesboard.stage_durations, salesboard.won_lost
    TO salesboard_user, salesboard_reader;
