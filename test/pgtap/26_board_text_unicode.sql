-- test/pgtap/26_board_text_unicode.sql: board_text() draws any title
-- safely (doc/reference.md, "board_text"): it returns valid UTF-8; a cut
-- title loses whole characters and ends with "~"; every cell is exactly
-- `width` display columns, wide CJK characters and emoji counting two; a
-- line break or tab inside a title cannot split the row (shown as "↵" and
-- a space).
BEGIN;
\ir fixture.psql
SET search_path = salesboard, public;
SET TimeZone = 'UTC';
SELECT plan(8);

INSERT INTO department (id, name) VALUES (951, 'Wide team');
INSERT INTO employee (id, name, department_id, time_zone) VALUES (951, 'Yuki Wide', 951, 'Asia/Tokyo');
INSERT INTO pipeline (id, name) VALUES (951, 'Wide sales');
INSERT INTO stage (id, pipeline_id, name, position, kind, probability) VALUES
    (9511, 951, 'New', 1, 'open', 10), (9512, 951, 'Qualified', 2, 'open', 30),
    (9513, 951, 'Won', 3, 'won', 100), (9514, 951, 'Lost', 4, 'lost', 0);
SELECT create_deal(951, 9511, '東京オフィス移転', '2026-03-10 09:00+00', 'Call', at => '2026-03-10 01:00+00') AS ignored \gset
SELECT create_deal(951, 9512, 'Поставка оборудования', '2026-03-10 09:00+00', 'Call', at => '2026-03-10 01:00+00') AS ignored \gset
SELECT create_deal(951, 9512, E'Line one\nLine two\tend', '2026-03-10 09:00+00', 'Call', at => '2026-03-10 01:00+00') AS ignored \gset
SELECT create_deal(951, 9511, '🚀 Launch', '2026-03-10 09:00+00', 'Call', at => '2026-03-10 01:00+00') AS ignored \gset
SELECT create_deal(951, 9511, 'Café', '2026-03-10 09:00+00', 'Call', at => '2026-03-10 01:00+00') AS ignored \gset

CREATE TEMP TABLE drawing AS
    SELECT board_text(951, width => 14, closed_days => 0, at => '2026-03-10 02:00+00') AS narrow,
           board_text(951, width => 30, closed_days => 0, at => '2026-03-10 02:00+00') AS wide;

SELECT lives_ok($$SELECT convert_to(narrow, 'UTF8'), convert_to(wide, 'UTF8') FROM drawing$$,
                'board_text() returns valid UTF-8 (convert_to validates it)');
SELECT ok(NOT (SELECT encode(textsend(narrow), 'hex') ~ '(e69d|d1|f09f)7e' FROM drawing),
          'no "~" stands right after the lead byte of a multibyte character');
SELECT is((SELECT l FROM drawing, regexp_split_to_table(narrow, E'\n') l WHERE l LIKE '%東%'),
          '               | Y  10.03 東京~ | Y  10.03 Пост~ |                |',
          'a CJK title is cut after whole characters, two columns each; a Cyrillic one after whole letters');
SELECT is((SELECT l FROM drawing, regexp_split_to_table(narrow, E'\n') l WHERE l LIKE '%🚀%'),
          '               | Y  10.03 🚀 L~ | Y  10.03 Line~ |                |',
          'an emoji counts two columns, and the columns after it stay in line');
SELECT is((SELECT l FROM drawing, regexp_split_to_table(narrow, E'\n') l WHERE l LIKE '%Caf%'),
          '               | Y  10.03 Café  |                |                |',
          'a title that fits is padded to the width');
SELECT is((SELECT l FROM drawing, regexp_split_to_table(wide, E'\n') l WHERE l LIKE '%Line one%'),
          '                               | Y  10.03 🚀 Launch             | Y  10.03 Line one↵Line two end |                                |',
          'a line break in a title shows as ↵ and a tab as a space: the row stays one line');
SELECT is((SELECT count(*) FROM drawing, regexp_split_to_table(wide, E'\n') l WHERE l LIKE '%| Y  %'),
          3::bigint, 'three card rows: nothing split a row');
SELECT is((SELECT regexp_replace(l, '[^|]', ' ', 'g') FROM drawing, regexp_split_to_table(narrow, E'\n') l
            WHERE l LIKE '%Caf%'),
          (SELECT left(translate(regexp_replace(l, '[^+]', ' ', 'g'), '+', '|'),
                       (SELECT char_length(c) FROM drawing, regexp_split_to_table(narrow, E'\n') c WHERE c LIKE '%Caf%'))
             FROM drawing, regexp_split_to_table(narrow, E'\n') l WHERE l LIKE '%-+-%'),
          'the column separators of a card row stand under those of the rule line');

SELECT * FROM finish();
ROLLBACK;
