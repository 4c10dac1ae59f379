-- test/pgtap/27_text.sql: one definition of blank text and the length
-- limits (doc/reference.md, "Text"), alike for the functions (SB025) and
-- raw SQL (23514): a title, subject or result made only of no-break
-- spaces, ideographic spaces, zero-width spaces, tabs or line breaks is
-- blank; titles and subjects take at most 300 characters, results 4000,
-- names 200; an unknown tag name is quoted short in its error.
BEGIN;
\ir fixture.psql
SET search_path = salesboard, public;
SELECT plan(16);

SELECT ok(is_blank(E' \u00a0\u3000\u200b\t\n') AND is_blank(''), 'Unicode blanks are blank');
SELECT ok(NOT is_blank(E'\u200bx') AND NOT is_blank('Café'), 'a visible character is not');

SET ROLE sbt_app;
SELECT set_employee(4);
SELECT create_deal(4, 11, 'Fine', now() + interval '1 day', 'Call') AS d \gset
SELECT throws_ok(format($$SELECT create_deal(4, 11, %L, now() + interval '1 day', 'Call')$$, E'\u00a0\u00a0'),
                 'SB025', 'a deal needs a title', 'create_deal: a title of no-break spaces is blank (SB025)');
SELECT throws_ok(format($$SELECT create_deal(4, 11, 'T', now() + interval '1 day', %L)$$, E'\u3000\u200b'),
                 'SB025', NULL, 'create_deal: a subject of ideographic and zero-width spaces is blank (SB025)');
SELECT throws_ok(format($$SELECT plan_activity(%s, now() + interval '2 days', %L)$$, :d, E'\t\n'),
                 'SB025', NULL, 'plan_activity: a subject of a tab and a line break is blank (SB025)');
SELECT throws_ok(format($$SELECT move_deal(%s, 12, %L, now() + interval '2 days', 'Next')$$, :d, E'\u200b'),
                 'SB006', NULL, 'move_deal: a zero-width result is no result (SB006)');
SELECT throws_ok(format($$SELECT create_deal(4, 11, %L, now() + interval '1 day', 'Call')$$, repeat('x', 301)),
                 'SB025', 'title is 301 characters long; at most 300 are allowed', 'a title of 301 characters is SB025');
SELECT lives_ok(format($$SELECT create_deal(4, 11, %L, now() + interval '1 day', 'Call')$$, repeat('я', 300)),
                'a title of 300 characters (of two bytes each) is accepted');
SELECT throws_ok(format($$SELECT move_deal(%s, 12, %L, now() + interval '2 days', 'Next')$$, :d, repeat('r', 4001)),
                 'SB025', 'result is 4001 characters long; at most 4000 are allowed', 'a result of 4001 characters is SB025');
SELECT throws_ok(format($$SELECT * FROM board(tags => ARRAY[%L])$$, repeat('t', 100000)),
                 'SB020', format('tag "%s..." does not exist', repeat('t', 60)), 'an unknown long tag name is quoted short');
RESET ROLE;

SET ROLE sbt_mseller;
SELECT throws_ok(format($$INSERT INTO activity (deal_id, subject, due_at) VALUES (%s, %L, now() + interval '1 day')$$, :d, E'\t'),
                 '23514', NULL, 'a raw INSERT of a tab-only subject violates activity_subject_text');
SELECT throws_ok(format($$UPDATE deal SET title = %L WHERE id = %s$$, E'\u00a0', :d),
                 '23514', NULL, 'a raw UPDATE to a no-break-space title violates deal_title_text');
SELECT throws_ok(format($$UPDATE deal SET title = %L WHERE id = %s$$, repeat('x', 301), :d),
                 '23514', NULL, 'a raw UPDATE to a 301-character title too');
SELECT throws_ok(format($$UPDATE activity SET status = 'done', result = %L WHERE deal_id = %s$$, E'\u200b', :d),
                 'SB006', NULL, 'an activity done by raw UPDATE with a zero-width result is SB006, as by the functions');
RESET ROLE;
SELECT throws_ok(format($$INSERT INTO client (name) VALUES (%L)$$, E'\u3000'), '23514', NULL,
                 'a client named by an ideographic space violates client_name_text');
SELECT throws_ok(format($$INSERT INTO tag (name) VALUES (%L)$$, repeat('t', 201)), '23514', NULL,
                 'a tag name of 201 characters violates tag_name_text');

SELECT * FROM finish();
ROLLBACK;
