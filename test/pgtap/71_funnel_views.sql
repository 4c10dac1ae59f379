-- test/pgtap/71_funnel_views.sql: the funnel for BI tools and psql
-- (doc/reference.md, "Sales funnel"): convert_amount() and its errors, the
-- views pipeline_now, deal_cards, stage_durations and won_lost on a small
-- history, row-level security through them (security_invoker), the reader,
-- and funnel_text(): the figures of funnel(), proportional bars, valid
-- UTF-8 with multibyte and wide stage names, the width.
BEGIN;
\ir fixture.psql
SET search_path = salesboard, public;
SELECT plan(55);

INSERT INTO company (id, default_currency) VALUES (true, 'RUB');
INSERT INTO currency_rate (currency, valid_from, rate) VALUES
    ('USD', '2026-01-01 00:00+00', 90), ('USD', '2026-03-04 00:00+00', 100), ('EUR', '2026-01-01 00:00+00', 110);

-- pipeline 1 (New 11, Qualified 12, Proposal 13, Won 14, Lost 15); Ivan (4) in Moscow, Sam (6) in New York
SET ROLE sbt_app;
SELECT set_employee(4);
SELECT create_deal(4, 11, 'D1 won', '2026-03-02 10:00+00', 'c', amount => 1000, at => '2026-03-01 09:00+00') AS d1 \gset
SELECT (move_deal(:d1, 12, 'r', '2026-03-04 10:00+00', 'c', at => '2026-03-03 09:00+00')).deal_id AS x \gset
SELECT (close_deal(:d1, true, 'r', at => '2026-03-07 09:00+00')).deal_id AS x \gset
SELECT create_deal(4, 12, 'D2 proposal', now() + interval '30 days', 'c', amount => 10, currency => 'USD', at => '2026-03-01 09:00+00') AS d2 \gset
SELECT (move_deal(:d2, 13, 'r', now() + interval '30 days', 'c', at => '2026-03-05 09:00+00')).deal_id AS x \gset
SELECT create_deal(4, 11, 'D3 lost', '2026-03-02 10:00+00', 'c', at => '2026-03-01 09:00+00') AS d3 \gset
SELECT (move_deal(:d3, 13, 'r', '2026-03-06 10:00+00', 'c', at => '2026-03-05 09:00+00')).deal_id AS x \gset
SELECT (close_deal(:d3, false, 'r', lost_reason_id => 1, at => '2026-03-07 09:00+00')).deal_id AS x \gset
SELECT create_deal(4, 11, 'D4 overdue', now() - interval '2 days', 'c', amount => 500, at => now() - interval '3 days') AS d4 \gset
SELECT create_deal(4, 11, 'D5 new', now() + interval '30 days', 'c', amount => 250, at => '2026-03-02 09:00+00') AS d5 \gset
SELECT set_employee(6);
SELECT create_deal(6, 11, 'N1 New York', now() + interval '30 days', 'c', amount => 5, currency => 'EUR', at => '2026-03-01 09:00+00') AS n1 \gset
SELECT create_deal(6, 11, 'N2 lost in April (UTC)', '2026-03-02 10:00+00', 'c', amount => 20, currency => 'USD', at => '2026-03-01 09:00+00') AS n2 \gset
SELECT (close_deal(:n2, false, 'r', lost_reason_id => 2, at => '2026-03-31 22:00-04')).deal_id AS x \gset
RESET ROLE;

/* convert_amount: the rules of funnel() for one amount */
SELECT is(convert_amount(10, 'USD', '2026-03-05 00:00+00'), 1000.00, 'USD into the default currency at the rate of the moment (100 from 4 March)');
SELECT is(convert_amount(10, 'USD', '2026-03-03 00:00+00'), 900.00, 'and the earlier rate before (90)');
SELECT is(convert_amount(1000, 'RUB', '2026-03-05 00:00+00', 'USD'), 10.00, 'the default currency into another');
SELECT is(convert_amount(5, 'EUR', '2026-03-05 00:00+00', to_currency => 'USD'), 5.50, 'between two other currencies: 5 x 110 / 100');
SELECT is(convert_amount(1, 'USD', '2026-03-05 00:00+00', 'EUR'), 0.91, 'rounded to cents (100 / 110)');
SELECT is(convert_amount(12.345, 'RUB', now()), 12.35, 'the same currency: rounded, not converted');
SELECT is(convert_amount(7.5, NULL, now()), 7.50, 'an amount without a currency is in the target currency');
SELECT is(convert_amount(NULL, 'USD', now()), NULL, 'NULL amount: NULL');
SELECT throws_ok($$SELECT convert_amount(1, 'GBP', now())$$, 'SB203', NULL, 'a currency without a rate is SB203');
SELECT throws_like($$SELECT convert_amount(1, 'USD', '2025-12-31 00:00+00')$$, 'no rate of currency USD on 2025-12-31 %',
                   'no rate yet at the moment: SB203 naming currency and moment');
SELECT throws_ok($$SELECT convert_amount(1, 'usd', now())$$, 'SB204', NULL, 'a bad currency code is SB204');
SELECT throws_ok($$SELECT convert_amount(1, 'USD', now(), 'EURO')$$, 'SB204', NULL, 'a bad target code is SB204');
SELECT throws_ok($$SELECT convert_amount('NaN', 'USD', now())$$, 'SB025', NULL, 'NaN is no amount');
SELECT throws_ok($$SELECT convert_amount(1, 'USD', 'infinity')$$, 'SB025', NULL, 'a non-finite moment');
SELECT throws_ok($$SELECT convert_amount(1, 'USD', NULL)$$, '22004', NULL, 'the moment is required');

/* the views, as a superuser: everything */
SELECT results_eq($$SELECT stage_id, owner_id, deals, currency, amount, amount_converted, weighted_amount
                      FROM pipeline_now WHERE pipeline_id = 1 ORDER BY stage_id, owner_id, currency$$,
                  $$VALUES (11::bigint, 4::bigint, 2::bigint, 'RUB'::text, 750.00::numeric, 750.00::numeric, 75.00::numeric),
                           (11, 6, 1, 'EUR', 5.00, 550.00, 55.00),
                           (13, 4, 1, 'USD', 10.00, 1000.00, 600.00)$$,
                  'pipeline_now: open deals per stage, owner and currency, converted now and weighted by the probability');
SELECT is((SELECT sum(weighted_amount) FROM pipeline_now), 730.00, 'the weighted pipeline in one figure');
SELECT results_eq($$SELECT deal_id, stage_name, status, colour, amount, currency FROM deal_cards ORDER BY deal_id$$,
                  format($$VALUES (%s::bigint, 'Won'::text, 'won'::text, NULL::text, 1000.00::numeric, 'RUB'::text),
                                  (%s, 'Proposal', 'open', 'green', 10.00, 'USD'),
                                  (%s, 'Lost', 'lost', NULL, NULL, NULL),
                                  (%s, 'New', 'open', 'red', 500.00, 'RUB'),
                                  (%s, 'New', 'open', 'green', 250.00, 'RUB'),
                                  (%s, 'New', 'open', 'green', 5.00, 'EUR'),
                                  (%s, 'Lost', 'lost', NULL, 20.00, 'USD')$$,
                         :d1, :d2, :d3, :d4, :d5, :n1, :n2),
                  'deal_cards: every deal with its stage and colour (red: overdue; none when closed)');
SELECT results_eq(format($$SELECT stage_id, entered_at, left_at, days FROM stage_durations WHERE deal_id = %s ORDER BY entered_at$$, :d1),
                  $$VALUES (11::bigint, '2026-03-01 09:00+00'::timestamptz, '2026-03-03 09:00+00'::timestamptz, 2.00::numeric),
                           (12, '2026-03-03 09:00+00', '2026-03-07 09:00+00', 4.00),
                           (14, '2026-03-07 09:00+00', NULL, round(extract(epoch FROM now() - '2026-03-07 09:00+00') / 86400, 2))$$,
                  'stage_durations: one row per stay, to the next history row, the last one to now()');
SELECT is((SELECT days FROM stage_durations WHERE deal_id = :n2 AND stage_id = 11), 30.71,
          'days with two decimals (1 March 09:00 to 1 April 02:00 UTC)');
SELECT is((SELECT count(*) FROM stage_durations), (SELECT count(*) FROM stage_history), 'a stay per history row');
SELECT results_eq($$SELECT month, outcome, lost_reason_id, lost_reason, deals, amount_converted FROM won_lost
                     WHERE pipeline_id = 1 ORDER BY month, outcome, lost_reason_id$$,
                  $$VALUES ('2026-03-01'::date, 'lost'::text, 1::bigint, 'Price'::text, 1::bigint, 0.00::numeric),
                           ('2026-03-01', 'won', NULL, NULL, 1, 1000.00),
                           ('2026-04-01', 'lost', 2, 'Competitor', 1, 2000.00)$$,
                  'won_lost: per month in UTC (31 March 22:00 in New York is April), outcome and reason, converted at closing');

/* row-level security applies through the views (security_invoker) */
SET ROLE sbt_mseller;
SELECT results_eq($$SELECT DISTINCT owner_id FROM pipeline_now$$, $$VALUES (4::bigint)$$,
                  'an employee''s pipeline_now has only the deals they may see');
SELECT is((SELECT count(*) FROM deal_cards), 5::bigint, 'deal_cards: their five deals');
SELECT is((SELECT count(*) FROM stage_durations WHERE deal_id IN (:n1, :n2)), 0::bigint, 'stage_durations: no stay of another''s deal');
SELECT is((SELECT count(*) FROM won_lost WHERE lost_reason = 'Competitor'), 0::bigint, 'won_lost: no loss of another''s deal');
RESET ROLE;
SET ROLE sbt_nyhead;
SELECT is((SELECT string_agg(deal_id::text, ',' ORDER BY deal_id) FROM deal_cards), :n1 || ',' || :n2,
          'a head sees the deals of the people below them');
RESET ROLE;
SET ROLE sbt_stranger;
SELECT throws_ok($$SELECT * FROM stage_durations$$, 'SB022', NULL, 'acting as nobody is SB022, as on the table');
RESET ROLE;
SET ROLE salesboard_reader;
SELECT is((SELECT count(*) FROM deal_cards), 7::bigint, 'a reader sees every deal');
SELECT is((SELECT sum(deals) FROM pipeline_now), 4::numeric, 'and the whole open pipeline');
SELECT is((SELECT count(*) FROM stage_durations), 13::bigint, 'and every stay');
SELECT is((SELECT sum(deals) FROM won_lost), 3::numeric, 'and every closed deal');
RESET ROLE;

/* funnel_text: the figures of funnel(), drawn */
CREATE TEMP TABLE ft AS
    SELECT w, funnel_text(1, '2026-03-01', '2026-04-01', mode => 'cohort', as_of => '2026-03-10 00:00+00', width => w) AS t
      FROM (VALUES (40), (60), (80), (120)) v(w);
CREATE TEMP TABLE fl AS
    SELECT ft.w, l.n, l.line FROM ft, regexp_split_to_table(rtrim(ft.t, E'\n'), E'\n') WITH ORDINALITY AS l(line, n);
CREATE TEMP VIEW bars AS
    SELECT fl.w, (fl.n - 3)::integer AS position, length(substring(fl.line FROM '#+')) AS bar,
           substring(fl.line FROM '#* +([0-9]+)')::bigint AS entered,
           substring(fl.line FROM '([0-9.]+)%$') AS pct
      FROM fl WHERE fl.n > 3;
CREATE TEMP TABLE fr AS
    SELECT * FROM funnel(1, '2026-03-01', '2026-04-01', mode => 'cohort', as_of => '2026-03-10 00:00+00');
SELECT results_eq($$SELECT position, entered FROM bars WHERE w = 80 ORDER BY position$$,
                  $$SELECT position, entered FROM fr ORDER BY position$$,
                  'a line per stage in board order with the count of funnel()');
SELECT results_eq($$SELECT position, pct FROM bars WHERE w = 80 ORDER BY position$$,
                  $$SELECT position, to_char(conversion_from_previous * 100, 'FM990.0') FROM fr ORDER BY position$$,
                  'and its conversion from the previous stage as a percentage');
SELECT is((SELECT count(*) FROM bars b JOIN fr ON fr.position = b.position
            WHERE abs(b.bar * (SELECT max(entered) FROM fr) - fr.entered * (SELECT max(bar) FROM bars x WHERE x.w = b.w))
                  > (SELECT max(entered) FROM fr)), 0::bigint,
          'the bars are proportional to the deals that entered (within a character), at every width');
SELECT is((SELECT max(bar) FROM bars WHERE w = 120) > (SELECT max(bar) FROM bars WHERE w = 40), true,
          'a wider drawing has longer bars');
SELECT is((SELECT bar FROM bars WHERE w = 80 AND position = 5), (SELECT bar FROM bars WHERE w = 80 AND position = 4),
          'one lost and one won deal: bars of one length');
SELECT is((SELECT max(length(line)) FROM fl WHERE w = 40), 40, 'width 40 respected');
SELECT is((SELECT count(*) FROM fl WHERE length(fl.line) > fl.w), 0::bigint, 'no line wider than asked');
SELECT alike((SELECT t FROM ft WHERE w = 80), 'Funnel of pipeline "Sales", cohort, as of 2026-03-%' || E'\n' || 'deals created in [2026-0%, 2026-0%)' || E'\n' || 'stage %',
            'a title with the pipeline, the mode and the period');

-- an employee's drawing counts what funnel() counts for them (not everyone's)
SET ROLE sbt_mseller;
SELECT is((SELECT substring(funnel_text(1, '2026-03-01', '2026-04-01', mode => 'cohort', as_of => '2026-03-10 00:00+00')
                            FROM E'\nNew +#+ +([0-9]+)\n')), '4', 'as the caller: an employee''s funnel counts their own deals');
RESET ROLE;
SET ROLE salesboard_reader;
SELECT is((SELECT substring(funnel_text(1, '2026-03-01', '2026-04-01', mode => 'cohort', as_of => '2026-03-10 00:00+00')
                            FROM E'\nNew +#+ +([0-9]+)\n')), '6', 'a reader''s counts every deal');
RESET ROLE;

-- multibyte and wide (two-column) stage names
UPDATE stage SET name = 'Квалификация' WHERE id = 12;
UPDATE stage SET name = '提案書' WHERE id = 13;
UPDATE stage SET name = 'Выиграна — сделка подписана и оплачена полностью' WHERE id = 14;
CREATE FUNCTION pg_temp.dw(s text) RETURNS integer LANGUAGE sql IMMUTABLE
    AS $$SELECT length(s) + length(regexp_replace(s, '[^一-鿿]', '', 'g'))$$;
CREATE TEMP TABLE fu AS
    SELECT w, l.n, l.line
      FROM (VALUES (40), (80)) v(w),
           regexp_split_to_table(rtrim(funnel_text(1, '2026-03-01', '2026-04-01', mode => 'cohort',
                                                   as_of => '2026-03-10 00:00+00', width => w), E'\n'), E'\n')
               WITH ORDINALITY AS l(line, n);
SELECT lives_ok($$SELECT convert_from(convert_to(string_agg(line, E'\n'), 'UTF8'), 'UTF8') FROM fu$$,
                'the drawing is valid UTF-8 (nothing cut inside a character)');
SELECT is((SELECT count(*) FROM fu WHERE pg_temp.dw(line) > w), 0::bigint,
          'no line wider than asked in display columns (a CJK character takes two)');
SELECT is((SELECT count(DISTINCT pg_temp.dw(substring(line FROM '^[^#]*'))) FROM fu WHERE n > 3 AND w = 80), 1::bigint,
          'the bars start in one display column whatever the names');
SELECT ok((SELECT line FROM fu WHERE w = 80 AND n = 5) LIKE 'Квалификация %#%', 'a Cyrillic name whole');
SELECT ok((SELECT line FROM fu WHERE w = 80 AND n = 6) LIKE '提案書 %#%', 'a wide name padded by its display width');
SELECT ok((SELECT line FROM fu WHERE w = 40 AND n = 7) ~ '^Выиграна[^#]*~ #', 'a long name cut by display width, marked with ~');

/* bad input */
SELECT throws_ok($$SELECT funnel_text(1, mode => 'snapshot', width => 39)$$, 'SB025', NULL, 'a width below 40');
SELECT throws_ok($$SELECT funnel_text(1, mode => 'snapshot', width => 401)$$, 'SB025', NULL, 'a width above 400');
SELECT throws_ok($$SELECT funnel_text(1, '2026-03-01', '2026-04-01', mode => 'weekly')$$, 'SB200', NULL,
                 'funnel()''s errors: an unknown mode');
SELECT throws_ok($$SELECT funnel_text(99, mode => 'snapshot')$$, 'SB202', NULL, 'an unknown pipeline');

/* without a default currency: one currency per query, or a target */
DELETE FROM company;
SELECT throws_ok($$SELECT convert_amount(10, 'USD', now(), 'EUR')$$, 'SB205', NULL,
                 'no default currency: different currencies cannot convert (SB205)');
SELECT throws_ok($$SELECT sum(convert_amount(a, c, now())) FROM (VALUES (1, 'USD'), (2, 'EUR')) v(a, c)$$, 'SB205', NULL,
                 'nor can one query return amounts of several currencies unconverted');
SELECT is((SELECT sum(convert_amount(a, c, now())) FROM (VALUES (1, 'USD'), (2, 'USD')) v(a, c)), 3.00,
          'a company that works in one currency configures nothing');

SELECT * FROM finish();
ROLLBACK;
