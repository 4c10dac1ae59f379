-- test/pgtap/18_finite_values.sql: moments and amounts are real values on
-- every path (doc/reference.md, "Deals and activities"):
--  * every moment a function takes (due, next_due, first_due, at) is finite:
--    -infinity and infinity are SB025 naming the parameter;
--  * the tables refuse non-finite moments from raw SQL (23514);
--  * an amount is a number: NaN (and infinity) is SB025 from the functions
--    and 23514 from raw SQL; a too-large amount is SB025 with its limit.
BEGIN;
\ir fixture.psql
SET search_path = salesboard, public;
SELECT plan(16);

SET ROLE sbt_app;
SELECT set_employee(4);
SELECT create_deal(4, 11, 'Real', now() + interval '1 day', 'Call', amount => 1000, currency => 'EUR') AS d \gset

SELECT throws_ok($$SELECT create_deal(4, 11, 'Never', 'infinity', 'Call')$$, 'SB025',
                 'first_due must be a finite moment, not infinity', 'create_deal: an infinite first_due is SB025');
SELECT throws_ok(format($$SELECT plan_activity(%s, 'infinity', 'Some day')$$, :d), 'SB025',
                 'due must be a finite moment, not infinity', 'plan_activity: an infinite due is SB025');
SELECT throws_ok(format($$SELECT move_deal(%s, 12, 'ok', '-infinity', 'Next')$$, :d), 'SB025',
                 'next_due must be a finite moment, not -infinity', 'move_deal: a -infinity next_due is SB025');
SELECT throws_ok(format($$SELECT close_deal(%s, true, 'Signed', at => 'infinity')$$, :d), 'SB025',
                 'at must be a finite moment, not infinity', 'close_deal at infinity (an app may pass at) is SB025');
SELECT throws_ok($$SELECT * FROM board(at => 'infinity')$$, 'SB025', NULL, 'board() at infinity is SB025');
SELECT throws_ok(format($$SELECT card_colour(%s, 'infinity')$$, :d), 'SB025', NULL, 'card_colour() at infinity is SB025');
SELECT throws_ok($$SELECT due_colour(4, 'infinity', now())$$, 'SB025',
                 'next_due must be a finite moment, not infinity', 'due_colour() with an infinite next_due is SB025');

SELECT throws_ok($$SELECT create_deal(4, 11, 'NaN', now() + interval '1 day', 'Call', amount => 'NaN', currency => 'EUR')$$,
                 'SB025', 'the amount of a deal must be a number, not NaN', 'create_deal: a NaN amount is SB025');
SELECT throws_ok($$SELECT create_deal(4, 11, 'Huge', now() + interval '1 day', 'Call', amount => 1e20, currency => 'EUR')$$,
                 'SB025', 'the amount 100000000000000000000 is too large for a deal', 'create_deal: a too-large amount is SB025');
SELECT lives_ok($$SELECT create_deal(4, 11, 'Largest', now() + interval '1 day', 'Call', amount => 99999999999999.99, currency => 'EUR')$$,
                'the largest amount that fits is accepted');
RESET ROLE;

-- raw SQL
SELECT throws_ok(format($$INSERT INTO activity (deal_id, subject, due_at) VALUES (%s, 'Never', 'infinity')$$, :d),
                 '23514', NULL, 'a raw INSERT of an activity due at infinity violates activity_moments_finite');
SELECT throws_ok(format($$UPDATE activity SET due_at = 'infinity' WHERE deal_id = %s$$, :d),
                 '23514', NULL, 'a raw UPDATE to infinity too');
SELECT throws_ok($$INSERT INTO deal (stage_id, owner_id, title, created_at, stage_entered_at) VALUES (11, 4, 'Eternal', '-infinity', '-infinity')$$,
                 '23514', NULL, 'a deal created at -infinity violates deal_moments_finite');
SELECT throws_ok(format($$UPDATE deal SET amount = 'NaN' WHERE id = %s$$, :d),
                 '23514', NULL, 'a raw UPDATE of an amount to NaN violates deal_amount_is_number');
SELECT is((SELECT sum(amount) FROM deal WHERE title IN ('Real', 'Largest')), 100000000000999.99,
          'sums stay numbers');
SELECT is((SELECT count(*) FROM verify()), 0::bigint, 'and verify() is empty');

SELECT * FROM finish();
ROLLBACK;
