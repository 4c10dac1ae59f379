-- test/pgtap/70_funnel.sql: the sales funnel (doc/reference.md, "Sales
-- funnel"): the reached convention (skipped stages, deals created in a later
-- stage), period/cohort/snapshot modes from the history, re-entries and
-- reopens, amounts converted at the moment of each event, cuts, access, and
-- bad input. (Random histories against plain SQL: test/t/008_funnel_property.pl.)
BEGIN;
\ir fixture.psql
SET search_path = salesboard, public;
SELECT plan(39);

INSERT INTO company (id, default_currency) VALUES (true, 'RUB');
INSERT INTO currency_rate (currency, valid_from, rate) VALUES
    ('USD', '2026-01-01 00:00+00', 90), ('USD', '2026-03-04 00:00+00', 100), ('EUR', '2026-01-01 00:00+00', 110);

SET ROLE sbt_app;
SELECT set_employee(4);
-- March 2026, pipeline 1 (New 11, Qualified 12, Proposal 13, Won 14, Lost 15)
SELECT create_deal(4, 11, 'D1', '2026-03-02 10:00+00', 'c', amount => 1000, at => '2026-03-01 09:00+00') AS d1 \gset
SELECT (move_deal(:d1, 12, 'r', '2026-03-04 10:00+00', 'c', at => '2026-03-03 09:00+00')).deal_id AS x \gset
SELECT (move_deal(:d1, 13, 'r', '2026-03-06 10:00+00', 'c', at => '2026-03-05 09:00+00')).deal_id AS x \gset
SELECT (close_deal(:d1, true, 'r', at => '2026-03-07 09:00+00')).deal_id AS x \gset
SELECT create_deal(4, 12, 'D2 referral', '2026-03-02 10:00+00', 'c', amount => 10, currency => 'USD',
                   service_type_id => 1, at => '2026-03-01 09:00+00') AS d2 \gset
SELECT (move_deal(:d2, 13, 'r', '2026-03-06 10:00+00', 'c', at => '2026-03-05 09:00+00')).deal_id AS x \gset
SELECT create_deal(4, 11, 'D3 skips', '2026-03-02 10:00+00', 'c', at => '2026-03-01 09:00+00') AS d3 \gset
SELECT (move_deal(:d3, 13, 'r', '2026-03-06 10:00+00', 'c', at => '2026-03-05 09:00+00')).deal_id AS x \gset
SELECT (close_deal(:d3, false, 'r', lost_reason_id => 1, at => '2026-03-07 09:00+00')).deal_id AS x \gset
SELECT create_deal(4, 11, 'D4 waits', '2026-03-02 10:00+00', 'c', tags => '{VIP}', at => '2026-03-01 09:00+00') AS d4 \gset
SELECT set_employee(6);
SELECT create_deal(6, 11, 'N1 New York', '2026-03-02 10:00+00', 'c', amount => 5, currency => 'EUR', at => '2026-03-01 09:00+00') AS n1 \gset
RESET ROLE;

CREATE TEMP TABLE f AS
    SELECT * FROM funnel(1, '2026-03-01', '2026-04-01', mode => 'cohort', as_of => '2026-03-10 00:00+00', owner_id => 4);
SELECT results_eq($$SELECT stage_name, kind, entered, advanced, won, lost FROM f ORDER BY position$$,
                  $$VALUES ('New', 'open', 4::bigint, 3::bigint, 1::bigint, 1::bigint), ('Qualified', 'open', 3, 3, 1, 1),
                           ('Proposal', 'open', 3, 1, 1, 1), ('Won', 'won', 1, 0, 1, 0), ('Lost', 'lost', 1, 0, 0, 1)$$,
                  'reached: a skipped stage and a deal created in a later stage count in the earlier stages (case 29)');
SELECT results_eq($$SELECT conversion_from_previous, conversion_from_first FROM f ORDER BY position$$,
                  $$VALUES (NULL::numeric, 1.0000::numeric), (0.7500, 0.7500), (1.0000, 0.7500), (0.3333, 0.2500), (NULL, 0.2500)$$,
                  'conversions from the previous and the first stage, never above 1');
SELECT is((SELECT bool_and(conversion_from_previous <= 1 AND conversion_from_first <= 1) FROM f), true, 'no rate above 100%');
SELECT results_eq($$SELECT current FROM f ORDER BY position$$, $$VALUES (1::bigint), (0), (1), (1), (1)$$,
                  'current: where the cohort stands at as_of');
SELECT is((SELECT avg_days_in_stage FROM f WHERE stage_name = 'New'), 4.88,
           'days in New: 2, 4 and 8.625 (still there at as_of)');
SELECT is((SELECT entered_amount FROM f WHERE stage_name = 'New'), 2000.00::numeric,
          'amounts in the reporting currency: 1000 RUB + 10 USD at 100 (the rate at its last event, 5 March; 90 before 4 March)');
SELECT is((SELECT entered_amount FROM f WHERE stage_name = 'Won'), 1000.00::numeric, 'the won amount');
SELECT is((SELECT weighted_amount FROM f WHERE stage_name = 'Proposal'), 600.00::numeric,
          'weighted: the current amount (D2, 1000) x 60%');
SELECT is((SELECT currency FROM f LIMIT 1), 'RUB', 'in the company''s default currency');

SELECT results_eq($$SELECT entered_amount FROM funnel(1, '2026-03-01', '2026-04-01', mode => 'cohort',
                        as_of => '2026-03-10 00:00+00', owner_id => 4, currency => 'USD') ORDER BY position$$,
                  $$VALUES (20.00::numeric), (20.00), (20.00), (10.00), (0.00)$$,
                  'another reporting currency: 1000 RUB at 100 (7 March) + 10 USD as it is');

/* the modes, from the history */
SELECT results_eq($$SELECT entered, current FROM funnel(1, '2026-03-05', '2026-03-06', mode => 'period',
                        as_of => '2026-03-10 00:00+00', owner_id => 4) ORDER BY position$$,
                  $$VALUES (3::bigint, 1::bigint), (3, 0), (3, 1), (0, 1), (0, 1)$$,
                  'period: only entries in the period count (5 March: D1, D2, D3 reach Proposal); current is where all stand');
SELECT results_eq($$SELECT current FROM funnel(1, mode => 'snapshot', as_of => '2026-03-04 00:00+00', owner_id => 4) ORDER BY position$$,
                  $$VALUES (2::bigint), (2), (0), (0), (0)$$,
                  'snapshot: where the deals stood at a past moment (4 March: D3, D4 in New; D1, D2 in Qualified)');
SELECT results_eq($$SELECT current FROM funnel(1, mode => 'snapshot', as_of => '2026-02-01 00:00+00') ORDER BY position$$,
                  $$VALUES (0::bigint), (0), (0), (0), (0)$$, 'before anything happened: nothing');

/* re-entries and reopens count once; a reopened win is no win */
SET ROLE sbt_app;
SELECT set_employee(4);
SELECT (reopen_deal(:d1, 13, '2026-03-20 10:00+00', 'c', reason => 'amendment', at => '2026-03-12 09:00+00')).deal_id AS x \gset
SELECT (move_deal(:d1, 12, 'back', '2026-03-21 10:00+00', 'c', at => '2026-03-13 09:00+00')).deal_id AS x \gset
SELECT (move_deal(:d1, 13, 'again', '2026-03-22 10:00+00', 'c', at => '2026-03-14 09:00+00')).deal_id AS x \gset
RESET ROLE;
SELECT results_eq($$SELECT entered, won FROM funnel(1, '2026-03-01', '2026-04-01', mode => 'period',
                        as_of => '2026-03-31 00:00+00', owner_id => 4) WHERE stage_name IN ('Proposal', 'Won') ORDER BY position$$,
                  $$VALUES (3::bigint, 0::bigint), (0, 0)$$,
                  'D1 entered Proposal three times: counted once; won then reopened: no win');
SELECT is((SELECT entered FROM funnel(1, '2026-03-12', '2026-03-15', mode => 'period', as_of => '2026-03-31 00:00+00',
                                      owner_id => 4) WHERE stage_name = 'Qualified'), 1::bigint,
          'a backward move is an entry of the earlier stage, once');

/* cuts */
SELECT is((SELECT entered FROM funnel(1, '2026-03-01', '2026-04-01', mode => 'cohort', as_of => '2026-03-10 00:00+00',
                                      service_type_id => 1) WHERE position = 1), 1::bigint, 'by service type');
SELECT is((SELECT entered FROM funnel(1, '2026-03-01', '2026-04-01', mode => 'cohort', as_of => '2026-03-10 00:00+00',
                                      tag => 'VIP') WHERE position = 1), 1::bigint, 'by tag');
SELECT is((SELECT entered FROM funnel(1, '2026-03-01', '2026-04-01', mode => 'cohort', as_of => '2026-03-10 00:00+00',
                                      department_id => 4) WHERE position = 1), 1::bigint, 'by department subtree (New York)');
SELECT is((SELECT entered FROM funnel(1, '2026-03-01', '2026-04-01', mode => 'cohort', as_of => '2026-03-10 00:00+00',
                                      department_id => 2) WHERE position = 1), 4::bigint, 'Moscow sales and the teams below it');
SELECT is((SELECT entered FROM funnel(1, '2026-03-01', '2026-04-01', mode => 'cohort', as_of => '2026-03-10 00:00+00')
            WHERE position = 1), 5::bigint, 'everyone (a superuser sees all)');

/* access: as row-level security */
SET ROLE sbt_mseller;
SELECT is((SELECT entered FROM funnel(1, '2026-03-01', '2026-04-01', mode => 'cohort', as_of => '2026-03-10 00:00+00')
            WHERE position = 1), 4::bigint, 'an employee counts only the deals they may see');
SELECT throws_ok($$SELECT * FROM funnel(1, '2026-03-01', '2026-04-01', mode => 'cohort', owner_id => 6)$$, 'SB024', NULL,
                 'and may not ask for another department''s employee (SB024)');
RESET ROLE;
SET ROLE sbt_director;
SELECT is((SELECT entered FROM funnel(1, '2026-03-01', '2026-04-01', mode => 'cohort', as_of => '2026-03-10 00:00+00')
            WHERE position = 1), 5::bigint, 'the director sees the whole company');
RESET ROLE;
SET ROLE sbt_stranger;
SELECT throws_ok($$SELECT * FROM funnel(1, '2026-03-01', '2026-04-01')$$, 'SB022', NULL, 'acting as nobody is SB022');
RESET ROLE;
SET ROLE salesboard_reader;
SELECT is((SELECT entered FROM funnel(1, '2026-03-01', '2026-04-01', mode => 'cohort', as_of => '2026-03-10 00:00+00')
            WHERE position = 1), 5::bigint, 'a reader sees all');
RESET ROLE;

/* bad input: a specific SQLSTATE each */
SELECT throws_ok($$SELECT * FROM funnel(1, '2026-03-01', '2026-04-01', mode => 'weekly')$$, 'SB200', NULL, 'an unknown mode');
SELECT throws_ok($$SELECT * FROM funnel(1, '2026-04-01', '2026-03-01')$$, 'SB201', NULL, 'a period that ends before it starts');
SELECT throws_ok($$SELECT * FROM funnel(1, '2026-04-01', '2026-04-01')$$, 'SB201', NULL, 'an empty period');
SELECT throws_ok($$SELECT * FROM funnel(1)$$, 'SB201', NULL, 'a period funnel without a period');
SELECT throws_ok($$SELECT * FROM funnel(1, '2026-03-01', '2026-04-01', mode => 'snapshot')$$, 'SB201', NULL,
                 'a snapshot with a period');
SELECT throws_ok($$SELECT * FROM funnel(99, '2026-03-01', '2026-04-01')$$, 'SB202', NULL, 'an unknown pipeline');
SELECT throws_ok($$SELECT * FROM funnel(1, '-infinity', '2026-04-01')$$, 'SB025', NULL, 'a non-finite bound');
SELECT throws_ok($$SELECT * FROM funnel(1, '2026-03-01', '2026-04-01', as_of => 'infinity')$$, 'SB025', NULL, 'a non-finite as_of');
SELECT throws_ok($$SELECT * FROM funnel(1, '2026-03-01', '2026-04-01', currency => 'usd')$$, 'SB204', NULL, 'a bad currency code');
SELECT throws_ok($$SELECT * FROM funnel(1, '2026-03-01', '2026-04-01', currency => 'GBP')$$, 'SB203', NULL,
                 'a missing rate names the currency');
SELECT throws_ok($$SELECT * FROM funnel(1, '2026-03-01', '2026-04-01', mode => 'cohort', department_id => 999)$$, 'SB025', NULL,
                 'an unknown department');
DELETE FROM currency_rate WHERE currency = 'EUR';
SELECT throws_like($$SELECT * FROM funnel(1, '2026-03-01', '2026-04-01', mode => 'cohort', as_of => '2026-03-10 00:00+00')$$,
                   'no rate of currency EUR on 2026-03-01 %', 'a missing rate at an event''s moment: SB203 naming currency and moment');
DELETE FROM company;
SELECT throws_ok($$SELECT * FROM funnel(1, '2026-03-01', '2026-04-01', mode => 'cohort', as_of => '2026-03-10 00:00+00')$$,
                 'SB205', NULL, 'several currencies and no reporting currency');
SELECT is((SELECT entered_amount FROM funnel(1, '2026-03-01', '2026-04-01', mode => 'cohort', as_of => '2026-03-10 00:00+00',
                                             owner_id => 6) WHERE position = 1), 5.00::numeric,
          'one currency needs no configuration');

SELECT * FROM finish();
ROLLBACK;
