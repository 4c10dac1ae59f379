-- board_basics: a small team's board at a pinned moment, as the board()
-- rows and as board_text() draws it. 10 March 2026, 09:00 UTC is 12:00 in
-- Moscow, 04:00 in New York (EDT since 8 March) and 14:45 in Kathmandu.
SET search_path = salesboard, public;
SET TimeZone = 'UTC';

INSERT INTO department (id, name, parent_id) VALUES (10, 'Team', 1);
INSERT INTO employee (id, name, department_id, time_zone) VALUES
    (10, 'Tanya Teamhead', 10, 'Europe/Moscow'),
    (11, 'Nick NewYork', 10, 'America/New_York'),
    (12, 'Kamal Kathmandu', 10, 'Asia/Kathmandu');
UPDATE department SET head_id = 10 WHERE id = 10;
INSERT INTO service_type (id, name) VALUES (1, 'Consulting'), (2, 'Support');
INSERT INTO client (id, name) VALUES (2, 'Globex');

-- cards created a week earlier, due around the pinned moment
CREATE TEMP TABLE mk (title text, owner bigint, stage bigint, due timestamptz, all_day boolean,
                      client bigint, service bigint, tags text[]);
INSERT INTO mk VALUES
    ('Overdue audit',      10, 11, '2026-03-09 15:00+00', false, 1, 1, '{VIP}'),
    ('Call today',         10, 12, '2026-03-10 14:00+00', false, 2, 2, NULL),
    ('All-day today',      10, 13, '2026-03-10 00:00+00', true,  1, 2, NULL),
    ('Tomorrow meeting',   10, 11, '2026-03-11 07:00+00', false, 2, 1, '{VIP}'),
    ('Next week demo',     10, 12, '2026-03-16 09:00+00', false, 1, 1, NULL),
    ('NY evening call',    11, 11, '2026-03-11 01:00+00', false, 1, 1, NULL),
    ('NY tomorrow',        11, 12, '2026-03-11 05:00+00', false, 2, 2, NULL),
    ('Kathmandu today',    12, 11, '2026-03-10 18:14+00', false, 1, 1, '{VIP}'),
    ('Kathmandu tomorrow', 12, 11, '2026-03-10 18:15+00', false, 2, 2, NULL);
SELECT count(create_deal(owner, stage, title, due, 'Next step', client_id => client,
                         service_type_id => service, tags => tags, first_all_day => all_day,
                         at => '2026-03-03 09:00+00'))
  FROM (SELECT * FROM mk ORDER BY title) m;
-- one won last week, one won long ago (outside the default 7 days)
SELECT create_deal(10, 11, 'Won recently', '2026-03-04 10:00+00', 'Sign', at => '2026-03-03 09:00+00') AS w1 \gset
SELECT close_deal(:w1, true, 'Signed', at => '2026-03-06 10:00+00');
SELECT create_deal(10, 11, 'Won long ago', '2026-02-04 10:00+00', 'Sign', at => '2026-02-03 09:00+00') AS w2 \gset
SELECT close_deal(:w2, true, 'Signed', at => '2026-02-06 10:00+00');

-- Tanya's own board, today: overdue and due-today cards, by column, then due
SELECT column_position AS col, column_kind, stage_name, title, next_due, colour, rank
  FROM board(10, subordinates => false, at => '2026-03-10 09:00+00');

-- the head's view of the team: each owner's "today" in their own zone
SELECT column_position AS col, title, owner_id, next_due, colour, rank
  FROM board(10, at => '2026-03-10 09:00+00', closed_days => 0);

-- a week ahead, filtered to VIP Consulting
SELECT title, colour FROM board(10, 'week', tags => '{VIP}', service_type_id => 1,
                                at => '2026-03-10 09:00+00');

-- list mode: every open deal of the team, chronologically
SELECT rank, title, owner_id, next_due FROM deal_list(10, at => '2026-03-10 09:00+00');

-- the colours and why
SELECT d.title, card_colour_of(d, '2026-03-10 09:00+00') AS colour
  FROM deal d WHERE d.owner_id IN (10, 11, 12) AND d.status = 'open' ORDER BY d.title;
SELECT state, subject, due_at FROM why_colour(
    (SELECT id FROM deal WHERE title = 'All-day today'), '2026-03-10 09:00+00');

-- the board as columns for psql
\pset format unaligned
\pset tuples_only on
SELECT board_text(10, 'week', at => '2026-03-10 09:00+00', width => 22);
\pset format aligned
\pset tuples_only off

SELECT board(10, 'fortnight', at => '2026-03-10 09:00+00');
SELECT board(10, tags => '{NoSuchTag}', at => '2026-03-10 09:00+00');

-- the cards' tags as an index-only scan reads them: once VACUUM has marked
-- deal_tag's pages all-visible, board() takes the tag ids from the entries
-- of deal_tag_pkey; a change not yet vacuumed is read from the rows.
-- (CHECKPOINT first: with synchronous_commit off, a row's commit hint, which
-- VACUUM needs before it marks a page all-visible, waits for the WAL flush.)
CHECKPOINT;
VACUUM (INDEX_CLEANUP ON) salesboard.deal_tag;
CREATE EXTENSION pg_visibility;
SELECT bool_and(all_visible) AS all_visible FROM pg_visibility_map('salesboard.deal_tag');
SELECT title, tags FROM board(10, 'week', at => '2026-03-10 09:00+00', closed_days => 0) ORDER BY title;
BEGIN;
INSERT INTO deal_tag (deal_id, tag_id) SELECT id, 1 FROM deal WHERE title = 'Call today';
DELETE FROM deal_tag WHERE deal_id = (SELECT id FROM deal WHERE title = 'Overdue audit');
SELECT bool_and(all_visible) AS all_visible FROM pg_visibility_map('salesboard.deal_tag');
SELECT title, tags FROM board(10, 'week', at => '2026-03-10 09:00+00', closed_days => 0) ORDER BY title;
ROLLBACK;
DROP EXTENSION pg_visibility;

-- service types and tags of more than a few pages are probed by id rather
-- than read whole when the board opens: the same names either way
BEGIN;
INSERT INTO tag (id, name) SELECT 1000 + g, 'Campaign ' || g || ' ' || repeat('.', 60) FROM generate_series(1, 1000) g;
INSERT INTO service_type (id, name) SELECT 1000 + g, 'Service ' || g || ' ' || repeat('.', 60) FROM generate_series(1, 1000) g;
SELECT pg_relation_size('salesboard.tag') > 4 * 8192 AS tag_large,
       pg_relation_size('salesboard.service_type') > 4 * 8192 AS service_type_large;
INSERT INTO deal_tag (deal_id, tag_id) SELECT id, 1777 FROM deal WHERE title IN ('Call today', 'Overdue audit');
UPDATE deal SET service_type_id = 1999 WHERE title = 'Call today';
SELECT title, service_type, tags FROM board(10, 'week', at => '2026-03-10 09:00+00', closed_days => 0) ORDER BY title;
ROLLBACK;
