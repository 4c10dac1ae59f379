-- test/pgtap/25_security.sql: what an ordinary employee cannot do to the
-- record or learn through errors (doc/reference.md, "Security model"):
--  * provenance: created_by / created_at of deals and activities are the
--    acting employee and now() on every path (function, INSERT; COPY into
--    these tables is PostgreSQL's own refusal under row-level security);
--    other values are SB013 for ordinary users, allowed for admin/app;
--  * SB012 (a request_id reused) names the earlier change only to someone
--    who may see its deal;
--  * a column pointing at a deal (inbound.deal_id, deal_tag.deal_id,
--    activity.deal_id) accepts only visible deals: unknown and invisible
--    ids get the same SB030 message as the functions;
--  * is_time_zone() accepts only IANA names, not the extra files of a
--    zoneinfo folder.
-- The search_path attacks themselves (shadowed functions, operators and
-- types) are test/t/003_hostile.pl.
BEGIN;
\ir fixture.psql
SET search_path = salesboard, public;
SELECT plan(43);

-- deals of employee 4 (sbt_mseller, Moscow team A) and 6 (sbt_nyseller, New York)
SET ROLE sbt_app;
SELECT set_employee(4);
SELECT create_deal(4, 11, 'Mine', now() + interval '2 days', 'Call') AS d4 \gset
SELECT set_employee(6);
SELECT create_deal(6, 11, 'Theirs', now() + interval '2 days', 'Call') AS d6 \gset
RESET ROLE;
CREATE TEMP TABLE ids AS SELECT :d4::bigint AS d4, :d6::bigint AS d6;
GRANT SELECT ON ids TO PUBLIC;
INSERT INTO lead_source (channel, address, owner_id) VALUES ('email', 'sales@acme.test', 4);
INSERT INTO inbound (source_id, channel, sender, owner_id)
    SELECT id, 'email', 'buyer@example.test', 4 FROM lead_source;

/* ------------------------------------------------------------------
 * Provenance (12)
 * ------------------------------------------------------------------ */
SET ROLE sbt_mseller;
SELECT throws_ok($$INSERT INTO deal (stage_id, owner_id, title, created_by) VALUES (11, 4, 'forged', 10)$$,
                 'SB013', NULL, 'an ordinary user cannot INSERT a deal created_by someone else (SB013)');
SELECT throws_ok(format($$INSERT INTO activity (deal_id, subject, due_at, created_by) VALUES (%s, 'x', now() + interval '1 day', 1)$$, :d4),
                 'SB013', NULL, 'an ordinary user cannot INSERT an activity created_by someone else (SB013)');
SELECT throws_ok(format($$INSERT INTO activity (deal_id, subject, due_at, created_at) VALUES (%s, 'x', now() + interval '1 day', now() - interval '1 year')$$, :d4),
                 'SB013', NULL, 'an ordinary user cannot INSERT a backdated activity (SB013)');
INSERT INTO activity (deal_id, subject, due_at) VALUES (:d4, 'own call', now() + interval '1 day');
SELECT is((SELECT created_by FROM activity WHERE subject = 'own call'), 4::bigint,
          'an activity inserted without created_by is created by the acting employee');
INSERT INTO activity (deal_id, subject, due_at, created_by, created_at) VALUES (:d4, 'same values', now() + interval '1 day', 4, now());
SELECT is((SELECT created_by FROM activity WHERE subject = 'same values'), 4::bigint,
          'repeating the values the server would set is accepted');
-- COPY into a table under row-level security is refused by PostgreSQL
-- itself for everyone but the owner and superusers: no third path
SELECT throws_ok('COPY activity (deal_id, subject, due_at) FROM STDIN', '0A000', NULL,
                 'an ordinary user cannot COPY into activity (row-level security)');
RESET ROLE;

SET ROLE sbt_mseller;
SELECT lives_ok($$INSERT INTO deal (stage_id, owner_id, title) VALUES (11, 4, 'raw deal')$$,
                'an ordinary user may INSERT a deal without provenance columns');
INSERT INTO activity (deal_id, subject, due_at) SELECT id, 'first', now() + interval '1 day' FROM deal WHERE title = 'raw deal';
SELECT is((SELECT created_by FROM deal WHERE title = 'raw deal'), 4::bigint, 'its created_by is the acting employee');
SELECT is((SELECT moved_by FROM stage_history h JOIN deal d ON d.id = h.deal_id WHERE d.title = 'raw deal'), 4::bigint,
          'its history create row was made by the acting employee');
RESET ROLE;

SET ROLE sbt_admin;
SELECT lives_ok($$INSERT INTO deal (stage_id, owner_id, title, created_by, created_at, stage_entered_at)
                  VALUES (11, 6, 'imported', 5, '2025-01-01 10:00+00', '2025-01-01 10:00+00')$$,
                'an administrator may import a deal with its original provenance');
INSERT INTO activity (deal_id, subject, due_at, created_by, created_at)
    SELECT id, 'imported call', now() + interval '1 day', 5, '2025-01-01 10:00+00' FROM deal WHERE title = 'imported';
SELECT is((SELECT created_by FROM deal WHERE title = 'imported'), 5::bigint, 'the imported created_by is kept');
SELECT is((SELECT created_by FROM activity WHERE subject = 'imported call'), 5::bigint, 'the imported activity keeps its created_by');
RESET ROLE;

/* ------------------------------------------------------------------
 * SB012 reveals nothing of other people's changes (6)
 * ------------------------------------------------------------------ */
SET ROLE sbt_app;
SELECT set_employee(6);
SELECT move_deal(:d6, 12, 'qualified', now() + interval '3 days', 'Proposal',
                 request_id => 'aaaaaaaa-0000-4000-8000-000000000001');
SELECT set_employee(4);
CREATE TEMP TABLE sb012 (who text, sqlstate text, message text, detail text);
GRANT ALL ON sb012 TO PUBLIC;
DO $$
DECLARE st text; msg text; det text;
BEGIN
    PERFORM salesboard.move_deal((SELECT d4 FROM ids), 12, 'x',
                                 now() + interval '3 days', 'y', request_id => 'aaaaaaaa-0000-4000-8000-000000000001');
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
    INSERT INTO sb012 VALUES ('stranger', st, msg, det);
END $$;
SELECT set_employee(6);
DO $$
DECLARE st text; msg text; det text;
BEGIN
    PERFORM salesboard.close_deal((SELECT d6 FROM ids), true, 'won',
                                  request_id => 'aaaaaaaa-0000-4000-8000-000000000001');
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
    INSERT INTO sb012 VALUES ('owner', st, msg, det);
END $$;
RESET ROLE;
SELECT is((SELECT sqlstate FROM sb012 WHERE who = 'stranger'), 'SB012', 'reusing another employee''s request id is SB012');
SELECT is((SELECT message FROM sb012 WHERE who = 'stranger'),
          'request aaaaaaaa-0000-4000-8000-000000000001 was already used for another change',
          'the message names no deal, event or stage');
SELECT is((SELECT detail FROM sb012 WHERE who = 'stranger'), '', 'and there is no detail for someone who cannot see the deal');
SELECT is((SELECT sqlstate FROM sb012 WHERE who = 'owner'), 'SB012', 'the owner reusing it for another change gets SB012 too');
SELECT is((SELECT detail FROM sb012 WHERE who = 'owner'),
          format('It was the move of deal %s to stage 12.', :d6),
          'the owner, who may see the deal, is told which change it was');
SELECT is((SELECT count(*) FROM stage_history WHERE request_id = 'aaaaaaaa-0000-4000-8000-000000000001'), 1::bigint,
          'and nothing was written');

/* ------------------------------------------------------------------
 * Columns that point at a deal (11)
 * ------------------------------------------------------------------ */
SET ROLE sbt_mseller;
SELECT throws_ok(format($$UPDATE inbound SET status = 'linked', deal_id = %s$$, :d6), 'SB030',
                 format('deal %s does not exist or is not visible to you', :d6),
                 'linking an inbound request to an invisible deal is SB030');
SELECT throws_ok($$UPDATE inbound SET status = 'linked', deal_id = 987654321$$, 'SB030',
                 'deal 987654321 does not exist or is not visible to you',
                 'linking it to a deal that does not exist is the same SB030');
SELECT lives_ok(format($$UPDATE inbound SET status = 'linked', deal_id = %s$$, :d4), 'linking it to one''s own deal works');
SELECT is((SELECT deal_id FROM inbound), :d4::bigint, 'and is stored');
SELECT lives_ok('UPDATE inbound SET status = status', 'an UPDATE that leaves deal_id alone is not checked again');
SELECT throws_ok(format('INSERT INTO deal_tag (deal_id, tag_id) VALUES (%s, 1)', :d6), 'SB030',
                 format('deal %s does not exist or is not visible to you', :d6),
                 'tagging an invisible deal is SB030');
SELECT throws_ok('INSERT INTO deal_tag (deal_id, tag_id) VALUES (987654321, 1)', 'SB030',
                 'deal 987654321 does not exist or is not visible to you',
                 'tagging a deal that does not exist is the same SB030');
INSERT INTO deal_tag (deal_id, tag_id) VALUES (:d4, 1);
SELECT throws_ok(format('UPDATE deal_tag SET deal_id = %s WHERE deal_id = %s', :d6, :d4), 'SB030',
                 format('deal %s does not exist or is not visible to you', :d6),
                 'moving a tag onto an invisible deal is SB030');
SELECT throws_ok(format($$INSERT INTO activity (deal_id, subject, due_at) VALUES (%s, 'x', now() + interval '1 day')$$, :d6), 'SB030',
                 format('deal %s does not exist or is not visible to you', :d6),
                 'an activity on an invisible deal is SB030');
SELECT throws_ok($$INSERT INTO activity (deal_id, subject, due_at) VALUES (987654321, 'x', now() + interval '1 day')$$, 'SB030',
                 'deal 987654321 does not exist or is not visible to you',
                 'an activity on a deal that does not exist is the same SB030');
RESET ROLE;
SET ROLE sbt_admin;
SELECT throws_ok($$UPDATE inbound SET status = 'linked', deal_id = 987654321$$, '23503', NULL,
                 'an administrator, who sees every deal, gets the foreign key''s answer');
RESET ROLE;

/* ------------------------------------------------------------------
 * Ids are the server's for ordinary users (3)
 * ------------------------------------------------------------------ */
SET ROLE sbt_mseller;
SELECT lives_ok(format($$INSERT INTO deal (id, stage_id, owner_id, title) VALUES (%s, 11, 4, 'Probe')$$, :d6),
                'a raw INSERT with the id of someone else''s deal does not fail on it');
INSERT INTO activity (deal_id, subject, due_at) SELECT id, 'Call', now() + interval '1 day' FROM deal WHERE title = 'Probe';
SELECT isnt((SELECT id FROM deal WHERE title = 'Probe'), :d6::bigint, 'the server gave the deal its own id');
SELECT lives_ok(format($$INSERT INTO deal (id, stage_id, owner_id, title) OVERRIDING SYSTEM VALUE VALUES (%s, 11, 4, 'Probe 2')$$, :d6 + 1000),
                'OVERRIDING SYSTEM VALUE does not pick the id either');
DELETE FROM activity WHERE deal_id IN (SELECT id FROM deal WHERE title LIKE 'Probe%');
RESET ROLE;
DELETE FROM deal WHERE title LIKE 'Probe%';

/* ------------------------------------------------------------------
 * Inbound: only the columns handling changes (1)
 * ------------------------------------------------------------------ */
SET ROLE sbt_mseller;
SELECT throws_ok($$UPDATE inbound SET external_ref = 'x'$$, '42501', NULL,
                 'an employee may not change an inbound request''s source or reference');
RESET ROLE;

/* ------------------------------------------------------------------
 * A board shows only what the caller may see (2)
 * ------------------------------------------------------------------ */
-- Ivan (4, team A under Alla) also heads Far sales (department 5, not under Alla)
UPDATE department SET head_id = 4 WHERE id = 5;
SET ROLE sbt_app;
SELECT set_employee(7);
SELECT create_deal(7, 11, 'Kiran confidential', now() + interval '1 hour', 'Call') AS d7 \gset
RESET ROLE;
SET ROLE sbt_ahead;
SELECT is((SELECT count(*) FROM board(4, 'month') WHERE owner_id = 7), 0::bigint,
          'Alla, reading Ivan''s board, does not see the deals of Far sales, which Ivan heads but she does not');
SELECT ok(position('Kiran confidential' IN board_text(4, 'month')) = 0, 'nor in board_text()');
RESET ROLE;

/* ------------------------------------------------------------------
 * is_time_zone: IANA names only (8)
 * ------------------------------------------------------------------ */
SELECT ok(is_time_zone('Europe/Moscow') AND is_time_zone('UTC') AND is_time_zone('America/Argentina/Buenos_Aires'),
          'zone names of the IANA database are accepted');
SELECT ok(is_time_zone('US/Eastern') AND is_time_zone('Europe/Kiev'), 'so are its backward-compatible links');
SELECT ok(NOT is_time_zone('localtime'), 'localtime is a file of the server, not an IANA name');
SELECT ok(NOT is_time_zone('posixrules'), 'posixrules is refused');
SELECT ok(NOT is_time_zone('Factory'), 'Factory is refused');
SELECT ok(NOT is_time_zone('posix/Europe/Moscow') AND NOT is_time_zone('right/UTC'), 'posix/... and right/... are refused');
SELECT ok(NOT is_time_zone('europe/moscow') AND NOT is_time_zone('MSK') AND NOT is_time_zone('UTC+3') AND NOT is_time_zone(''),
          'other spellings, abbreviations, POSIX rules and the empty string are refused');
SELECT throws_ok($$INSERT INTO employee (name, time_zone) VALUES ('Lex Local', 'localtime')$$, '23514', NULL,
                 'an employee in "localtime" violates the CHECK');

SELECT * FROM finish();
ROLLBACK;
