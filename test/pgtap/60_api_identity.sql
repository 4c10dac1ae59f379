-- test/pgtap/60_api_identity.sql: what an application and a BI tool need
-- of identity (doc/reference.md, "Identity and access"):
--  * a session that acts as nobody (the forgotten set_employee() behind a
--    pool) gets one error, SB022, with a hint naming set_employee() and
--    employee.role_name, from every function and from row-level security;
--  * salesboard_reader reads every row and every board, writes nothing and
--    calls no write function; used as the session's role it bypasses
--    row-level security (BYPASSRLS);
--  * no function is ambiguous for an untyped parameter (a driver's $1).
BEGIN;
\ir fixture.psql
SET search_path = salesboard, public;
SELECT plan(15);

SELECT create_deal(4, 11, 'Reader sees me', now() + interval '1 hour', 'Call') AS d \gset
CREATE ROLE sbt_bi NOLOGIN IN ROLE salesboard_reader;

-- nobody
SET ROLE sbt_app;
CREATE TEMP TABLE nobody (fn text, sqlstate text, hint text);
GRANT ALL ON nobody TO PUBLIC;
DO $$
DECLARE st text; h text; call text;
BEGIN
    FOREACH call IN ARRAY ARRAY[
        'SELECT salesboard.create_deal(4, 11, ''x'', now() + interval ''1 day'', ''y'')',
        'SELECT salesboard.plan_activity(1, now() + interval ''1 day'', ''y'')',
        'SELECT salesboard.complete_activity(1, ''done'')',
        'SELECT salesboard.move_deal(1, 12, ''r'', now() + interval ''1 day'', ''y'')',
        'SELECT salesboard.close_deal(1, true, ''r'')',
        'SELECT salesboard.card_colour(1)',
        'SELECT salesboard.due_colour(4, now())',
        'SELECT * FROM salesboard.why_colour(1)',
        'SELECT * FROM salesboard.board(4)',
        'SELECT count(*) FROM salesboard.deal']
    LOOP
        BEGIN
            EXECUTE call;
            INSERT INTO nobody VALUES (call, 'none', NULL);
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, h = PG_EXCEPTION_HINT;
            INSERT INTO nobody VALUES (call, st, h);
        END;
    END LOOP;
END $$;
RESET ROLE;
SELECT is((SELECT count(*) FROM nobody), 10::bigint, 'ten calls made acting as nobody');
SELECT is((SELECT array_agg(DISTINCT sqlstate) FROM nobody), ARRAY['SB022'],
          'every function and a raw SELECT give SB022 to a session that acts as nobody');
SELECT ok((SELECT bool_and(hint LIKE '%set_employee%' AND hint LIKE '%role_name%') FROM nobody),
          'the hint names set_employee() and employee.role_name');

-- the reader
SET ROLE sbt_bi;
SELECT is((SELECT count(*) FROM deal), (SELECT count(*) FROM deal), 'a reader member sees every deal (through the policies)');
SELECT ok((SELECT count(*) FROM board(4, 'month')) >= 1, 'and every board');
SELECT is(card_colour(:d), due_colour(4, (SELECT next_due FROM deal WHERE id = :d)), 'and colours');
SELECT throws_ok($$UPDATE deal SET title = 'x'$$, '42501', NULL, 'a reader may not write');
SELECT throws_ok($$SELECT create_deal(4, 11, 'x', now() + interval '1 day', 'y')$$, '42501', NULL,
                 'a reader may not call a write function');
SELECT throws_ok('SELECT * FROM verify()', '42501', NULL, 'verify() stays for administrators');
RESET ROLE;
SET ROLE salesboard_reader;
SELECT is((SELECT count(*) FROM deal), (SELECT count(*) FROM deal),
          'as the session''s role (ALTER ROLE ... SET role = salesboard_reader) it reads past row-level security');
SELECT ok((SELECT rolbypassrls FROM pg_roles WHERE rolname = 'salesboard_reader'), 'salesboard_reader has BYPASSRLS');
RESET ROLE;

-- untyped parameters
SELECT lives_ok('PREPARE colour_of_untyped AS SELECT salesboard.card_colour($1)',
                'card_colour($1) with an untyped parameter is not ambiguous');
SELECT is((SELECT count(*) FROM (SELECT p.proname FROM pg_proc p
                                  WHERE p.pronamespace = 'salesboard'::regnamespace
                                  GROUP BY p.proname HAVING count(*) > 1) x), 0::bigint,
          'no function of schema salesboard is overloaded');
SELECT is(card_colour_of(d), card_colour(d.id), 'the row form is card_colour_of(d)') FROM deal d WHERE id = :d;
SELECT is((SELECT count(*) FROM pg_proc WHERE proname = 'card_colour' AND pronamespace = 'salesboard'::regnamespace),
          1::bigint, 'card_colour is one function');

SELECT * FROM finish();
ROLLBACK;
