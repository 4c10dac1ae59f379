-- test/pgtap/64_sender_key.sql: senders of inbound requests as comparable
-- keys (salesboard.sender_key(); doc/reference.md, "Sender normalisation"):
-- phone numbers in E.164 form by libphonenumber, national numbers read in
-- company.default_region; e-mail addresses from the display-name form,
-- lowercased; messenger handles without '@'; and client.phone_key, kept
-- by a trigger and recomputed when the region changes.
BEGIN;
\ir fixture.psql
SET search_path = salesboard, public;
SELECT plan(42);

-- without a company row: no region, only international numbers
SELECT is(sender_key('phone', '+7 495 123-45-67'), '+74951234567',
          'no region: a number in international form is normalised');
SELECT is(sender_key('phone', ' 8 495 123 45 67 '), '8 495 123 45 67',
          'no region: a national number is kept as given (trimmed)');
SELECT is((SELECT phone_key FROM client WHERE id = 1), '+74950000001',
          'no region: the fixture''s client in international form has its key');

INSERT INTO company (default_region) VALUES ('RU');
SELECT is(sender_key('phone', '+7 (495) 123-45-67'), '+74951234567', 'RU: international form with brackets and dashes');
SELECT is(sender_key('phone', '8 495 123 45 67'), '+74951234567', 'RU: the national trunk prefix 8');
SELECT is(sender_key('phone', '74951234567'), '+74951234567', 'RU: the country code without +');
SELECT is(sender_key('viber', '  +7 495 123 45 67 '), '+74951234567', 'viber ids are phone numbers');
SELECT is(sender_key('phone', '  12  '), '12', 'a text too short for a number is kept as given, trimmed');
SELECT is(sender_key('phone', 'Hello Desk'), 'Hello Desk', 'a text that is no number is kept as given, not lowercased');

UPDATE company SET default_region = 'US';
SELECT is(sender_key('phone', '(212) 555-0100'), '+12125550100', 'US: a national number');
SELECT is(sender_key('phone', '+1 212 555 0100'), '+12125550100', 'US: the same number in international form');
SELECT is(sender_key('phone', '8 495 123 45 67'), '8 495 123 45 67',
          'US: a Russian national number is no US number: kept as given');

SELECT is(sender_key('email', '"Anna B" <Anna.B@Fabrikam.Example>'), 'anna.b@fabrikam.example',
          'e-mail: the address of the display-name form, lowercased');
SELECT is(sender_key('email', 'Anna <old@x.example> via <Anna.B@Fabrikam.Example >'), 'anna.b@fabrikam.example',
          'e-mail: the last <...> counts, trimmed');
SELECT is(sender_key('email', E'  Anna.B@Fabrikam.EXAMPLE \t'), 'anna.b@fabrikam.example',
          'e-mail: a plain address, padded and in capitals');
SELECT is(sender_key('email', ' Help Desk <Desk> '), 'help desk <desk>',
          'e-mail: no address inside <...>: the whole text, trimmed and lowercased');
SELECT is(sender_key('telegram', ' @Handle '), 'handle', 'telegram: trimmed, lowercased, without the @');
SELECT is(sender_key('telegram', '@@Two'), '@two', 'telegram: only one leading @ goes');
SELECT is(sender_key('vk', 'Some.Page'), 'some.page', 'vk: lowercased');
SELECT is(sender_key('web_form', ' "Anna B" <Anna.B@Fabrikam.Example>'), 'anna.b@fabrikam.example',
          'web form: a sender with @ is an e-mail address');
SELECT is(sender_key('web_form', ' (212) 555-0100 '), '+12125550100', 'web form: any other sender is a phone number');

SELECT throws_ok($$SELECT salesboard.sender_key('fax', '+1 212 555 0100')$$, 'SB025',
                 '"fax" is not a channel of inbound requests', 'an unknown channel is SB025');
SELECT throws_ok($$SELECT salesboard.sender_key('Email', 'a@b.example')$$, 'SB025', NULL,
                 'channel names are exact');
SELECT is(sender_key(NULL, 'a@b.example'), NULL, 'STRICT: a NULL argument gives NULL');
SET ROLE sbt_stranger;
SELECT is(salesboard.sender_key('vk', '@Desk'), 'desk', 'salesboard_user may call sender_key()');
RESET ROLE;
CREATE ROLE sbt_public NOLOGIN;
SELECT ok(NOT has_function_privilege('sbt_public', 'salesboard.sender_key(text, text)', 'EXECUTE'),
          'PUBLIC may not call sender_key()');

-- client.phone_key by raw SQL, as an ordinary user
UPDATE company SET default_region = 'RU';
SET ROLE sbt_mseller;
INSERT INTO client (name, phone) VALUES ('Raw national', '8 (495) 765-43-21'), ('Raw none', NULL);
UPDATE client SET phone = '+1 212 555 0100' WHERE id = 2;
UPDATE client SET phone_key = 'forged' WHERE name = 'Raw national';
RESET ROLE;
SELECT is((SELECT phone_key FROM client WHERE name = 'Raw national'), '+74957654321',
          'a raw INSERT gets its phone_key, a direct write of it is replaced');
SELECT is((SELECT phone_key FROM client WHERE name = 'Raw none'), NULL, 'no phone, no key');
SELECT is((SELECT phone_key FROM client WHERE id = 2), '+12125550100', 'a raw UPDATE of phone recomputes the key');
UPDATE client SET phone = NULL WHERE name = 'Raw national';
SELECT is((SELECT phone_key FROM client WHERE name = 'Raw national'), NULL, 'a phone set to NULL drops the key');
UPDATE client SET phone = '8 (495) 765-43-21' WHERE name = 'Raw national';

-- a changed region recomputes every client's key
UPDATE company SET default_region = 'US';
SELECT is((SELECT phone_key FROM client WHERE name = 'Raw national'), '8 (495) 765-43-21',
          'region US: the Russian national number is kept as given');
SELECT is((SELECT phone_key FROM client WHERE id = 2), '+12125550100',
          'region US: an international number keeps its key');
UPDATE company SET default_region = 'RU';
SELECT is((SELECT phone_key FROM client WHERE name = 'Raw national'), '+74957654321',
          'back to RU: the national number is normalised again');
-- two capital letters that name no region with phone numbers
SELECT throws_ok($$UPDATE salesboard.company SET default_region = 'XX'$$, 'SB107',
                 'company.default_region "XX" is not a region with phone numbers',
                 'a region libphonenumber does not know is SB107');
SELECT is((SELECT default_region::text FROM company), 'RU', 'and the region stays as it was');
SELECT is((SELECT phone_key FROM client WHERE name = 'Raw national'), '+74957654321',
          'and so do the keys');
DELETE FROM company;
SELECT throws_ok($$INSERT INTO salesboard.company (default_region) VALUES ('ZZ')$$, 'SB107', NULL,
                 'an INSERT of such a region too');
INSERT INTO company (default_region) VALUES ('DE');
SELECT is(sender_key('phone', '030 1234567'), '+49301234567', 'region DE: a Berlin number in national form');
DELETE FROM company;
SELECT is((SELECT phone_key FROM client WHERE name = 'Raw national'), '8 (495) 765-43-21',
          'the company row deleted (no region): the national number is kept as given');
SELECT is((SELECT count(*) FROM client WHERE phone_key IS DISTINCT FROM sender_key('phone', phone)), 0::bigint,
          'every client''s key is sender_key(''phone'', phone)');

SELECT throws_ok($$INSERT INTO salesboard.company (default_region) VALUES ('ru')$$, '23514', NULL,
                 'the region is an upper-case ISO 3166-1 alpha-2 code');
SELECT is((SELECT count(*) FROM verify()), 0::bigint, 'verify() is empty');

SELECT * FROM finish();
ROLLBACK;
