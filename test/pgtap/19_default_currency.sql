-- test/pgtap/19_default_currency.sql: an amount without a currency is in
-- the company's default currency (salesboard.company.default_currency), by
-- create_deal() and by raw INSERT alike; a company that never sets one
-- works in one unnamed currency (currency NULL). The company table holds
-- one row.
BEGIN;
\ir fixture.psql
SET search_path = salesboard, public;
SELECT plan(10);

SET ROLE sbt_app;
SELECT set_employee(4);
SELECT create_deal(4, 11, 'Unnamed currency', now() + interval '1 day', 'Call', amount => 100) AS d1 \gset
RESET ROLE;
SELECT is((SELECT currency FROM deal WHERE id = :d1), NULL::bpchar,
          'without a company default an amount keeps no currency (the one unnamed currency)');

INSERT INTO company (default_currency) VALUES ('EUR');
SET ROLE sbt_app;
SELECT set_employee(4);
SELECT create_deal(4, 11, 'Default currency', now() + interval '1 day', 'Call', amount => 100) AS d2 \gset
SELECT create_deal(4, 11, 'Own currency', now() + interval '1 day', 'Call', amount => 100, currency => 'USD') AS d3 \gset
SELECT create_deal(4, 11, 'No amount', now() + interval '1 day', 'Call') AS d4 \gset
RESET ROLE;
SELECT is((SELECT currency FROM deal WHERE id = :d2), 'EUR'::bpchar, 'create_deal: an amount without a currency takes the default');
SELECT is((SELECT currency FROM deal WHERE id = :d3), 'USD'::bpchar, 'a given currency is kept');
SELECT is((SELECT currency FROM deal WHERE id = :d4), NULL::bpchar, 'a deal without an amount gets no currency');

SET ROLE sbt_mseller;
INSERT INTO deal (stage_id, owner_id, title, amount) VALUES (11, 4, 'Raw with amount', 50);
INSERT INTO activity (deal_id, subject, due_at) SELECT id, 'Call', now() + interval '1 day' FROM deal WHERE title = 'Raw with amount';
RESET ROLE;
SELECT is((SELECT currency FROM deal WHERE title = 'Raw with amount'), 'EUR'::bpchar,
          'a raw INSERT of an amount without a currency takes the default too');

UPDATE company SET default_currency = 'RUB';
SET ROLE sbt_app;
SELECT set_employee(4);
SELECT create_deal(4, 11, 'After the change', now() + interval '1 day', 'Call', amount => 100) AS d5 \gset
RESET ROLE;
SELECT is((SELECT currency FROM deal WHERE id = :d5), 'RUB'::bpchar, 'a changed default applies at once (the cache follows)');
SET ROLE sbt_app;
SELECT set_employee(4);
SELECT create_deal(4, 11, 'Amount later', now() + interval '1 day', 'Call') AS d6 \gset
UPDATE deal SET amount = 70 WHERE id = :d6;
RESET ROLE;
SELECT is((SELECT currency FROM deal WHERE id = :d6), 'RUB'::bpchar,
          'a raw UPDATE that gives a deal an amount without a currency takes the default too');

SELECT throws_ok($$INSERT INTO company (default_currency) VALUES ('USD')$$, '23505', NULL, 'the company has one row');
SELECT throws_ok($$UPDATE company SET default_currency = 'eur'$$, '23514', NULL, 'the default is an ISO 4217 code');
SELECT is((SELECT count(*) FROM verify()), 0::bigint, 'verify() is empty');

SELECT * FROM finish();
ROLLBACK;
