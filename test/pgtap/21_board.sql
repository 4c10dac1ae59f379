-- test/pgtap/21_board.sql: the board (doc/reference.md, "The board"): board(),
-- deal_list(), board_text(), with time pinned through `at`.
--
-- Covers:
--  * the cards and their fields: column_position / column_kind / stage_id /
--    stage_name / rank, client and service type names, amount, currency,
--    next_due / next_subject / next_kind, colour, priority, owner_id,
--    pipeline_id; a second pipeline's cards come after the first's;
--  * horizons 'today' (the default), '3 days', 'week', 'month' and their
--    exact ends in the owner's local calendar (due one microsecond before
--    the end: on the board; due at the end: not), in Moscow, in New York
--    across the DST start, on Lord Howe's 24.5-hour day and in Kiritimati;
--    'month' clamped at the end of a shorter month;
--  * order by next_due, earliest first (overdue on top); more than 6
--    overdue cards with and without overdue_last (planned first, overdue
--    after, each group in due order; due exactly at `at` counts as planned);
--  * filters by client_id, service_type_id, tags (a card carries ALL of
--    them), combined with each other and with the horizon; unknown tag
--    (SB020), unknown horizon (SB019), negative closed_days (SB025),
--    unknown employee (SB033), unknown client / service type ids in the
--    filters (SB035 / SB036);
--  * Won / Lost: deals closed in the last closed_days local days (default 7,
--    the salesboard.closed_days setting; 0 hides them), most recent first,
--    the window's first local instant included, closings after `at` not;
--  * department heads: the whole subtree (director 1: everyone; head 2:
--    2, 3, 4, 10; team head 3: 3, 4, 10; head 5: 5, 6; head 7: 7, 8, 9)
--    merged in due order; one subordinate's board (employee_id); only
--    one's own (subordinates => false);
--  * deal_list(): every open deal, chronological, no horizon, no closed;
--  * board_text(): title line, stage headers with counts, a line per card;
--  * the server's TimeZone setting does not change the board.
BEGIN;
\ir fixture.psql
SET search_path = salesboard, public;
SET TimeZone = 'UTC';

SELECT plan(85);

-- "now" for the board: 12:00 on Tuesday 2026-03-10 in Moscow
\set T '2026-03-10 09:00+00'
-- every deal is created at this moment, before all due moments used
\set C '2026-03-01 09:00+00'

/* ------------------------------------------------------------------
 * Employee 4 (Ivan, Moscow): horizon boundaries and filters
 *   today ends 2026-03-11 00:00+03, '3 days' 03-13 00:00+03,
 *   week 03-17 00:00+03, month 04-10 00:00+03
 * ------------------------------------------------------------------ */
SELECT create_deal(4, 11, 'A over', '2026-03-05 15:00+03', 'call A', client_id => 1, service_type_id => 1,
                   tags => '{VIP}', at => :'C') AS a_over \gset
SELECT create_deal(4, 11, 'A today', '2026-03-10 18:00+03', 'prepare offer', client_id => 2, service_type_id => 1,
                   amount => 1000, currency => 'RUB', tags => '{VIP,Urgent}', first_kind => 'task', at => :'C') AS a_today \gset
SELECT create_deal(4, 12, 'B1m', '2026-03-10 23:59:59.999999+03', 'call', client_id => 1, service_type_id => 2,
                   tags => '{VIP,Partner}', at => :'C') AS b1m \gset
SELECT create_deal(4, 11, 'B1', '2026-03-11 00:00+03', 'call', client_id => 1, service_type_id => 1,
                   tags => '{Partner}', at => :'C') AS b1 \gset
SELECT create_deal(4, 13, 'B3m', '2026-03-12 23:59:59.999999+03', 'call', client_id => 2, service_type_id => 2,
                   tags => '{VIP,Partner,Urgent}', at => :'C') AS b3m \gset
SELECT create_deal(4, 11, 'B3', '2026-03-13 00:00+03', 'call', at => :'C') AS b3 \gset
SELECT create_deal(4, 11, 'B7m', '2026-03-16 23:59:59.999999+03', 'call', at => :'C') AS b7m \gset
SELECT create_deal(4, 11, 'B7', '2026-03-17 00:00+03', 'call', at => :'C') AS b7 \gset
SELECT create_deal(4, 11, 'Bmm', '2026-04-09 23:59:59.999999+03', 'call', at => :'C') AS bmm \gset
SELECT create_deal(4, 11, 'Bm', '2026-04-10 00:00+03', 'call', at => :'C') AS bm \gset
SELECT create_deal(4, 11, 'Far', '2026-06-01 12:00+03', 'call', at => :'C') AS far \gset
SELECT create_deal(4, 21, 'R1', '2026-03-10 20:00+03', 'renewal call', at => :'C') AS r1 \gset
SELECT set_priority(:a_today, true) \gset junk_

-- closed deals of employee 4; the 7-day window at T starts 2026-03-04 00:00+03
SELECT create_deal(4, 11, 'W today', '2026-03-12 10:00+03', 'call', client_id => 2, at => :'C') AS w_today \gset
SELECT create_deal(4, 11, 'W1', '2026-03-12 10:00+03', 'call', client_id => 1, service_type_id => 1,
                   tags => '{VIP}', at => :'C') AS w1 \gset
SELECT create_deal(4, 12, 'L edge', '2026-03-12 10:00+03', 'call', at => :'C') AS l_edge \gset
SELECT create_deal(4, 12, 'L old', '2026-03-12 10:00+03', 'call', at => :'C') AS l_old \gset
SELECT create_deal(4, 11, 'W future', '2026-03-12 10:00+03', 'call', at => :'C') AS w_future \gset
SELECT close_deal(:w_today, true, 'Signed', at => '2026-03-10 08:00+03') \gset junk_
SELECT close_deal(:w1, true, 'Signed', at => '2026-03-09 10:00+03') \gset junk_
SELECT close_deal(:l_edge, false, 'Too expensive', lost_reason_id => 1, at => '2026-03-04 00:00+03') \gset junk_
SELECT close_deal(:l_old, false, 'Too expensive', lost_reason_id => 1, at => '2026-03-03 23:59:59.999999+03') \gset junk_
SELECT close_deal(:w_future, true, 'Signed', at => '2026-03-10 13:00+03') \gset junk_

/* ------------------------------------------------------------------
 * Employee 10 (Olga, Moscow, Ivan's team): 9 overdue cards, created in a
 * scrambled order so that due order differs from id order
 * ------------------------------------------------------------------ */
SELECT create_deal(10, 12, 'P2', '2026-03-10 15:00+03', 'call', at => :'C') \gset junk_
SELECT create_deal(10, 11, 'O5', '2026-03-06 10:00+03', 'call', at => :'C') \gset junk_
-- Z0 is due exactly at T, Zm one microsecond before T
SELECT create_deal(10, 11, 'Z0', '2026-03-10 12:00+03', 'call', at => :'C') \gset junk_
SELECT create_deal(10, 11, 'O1', '2026-03-02 10:00+03', 'call', at => :'C') \gset junk_
SELECT create_deal(10, 11, 'P3', '2026-03-11 10:00+03', 'call', at => :'C') \gset junk_
SELECT create_deal(10, 11, 'O8', '2026-03-09 10:00+03', 'call', at => :'C') \gset junk_
SELECT create_deal(10, 12, 'O3', '2026-03-04 10:00+03', 'call', at => :'C') \gset junk_
SELECT create_deal(10, 11, 'Zm', '2026-03-10 11:59:59.999999+03', 'call', at => :'C') \gset junk_
SELECT create_deal(10, 11, 'O2', '2026-03-03 10:00+03', 'call', at => :'C') \gset junk_
SELECT create_deal(10, 11, 'O7', '2026-03-08 10:00+03', 'call', at => :'C') \gset junk_
SELECT create_deal(10, 11, 'P1', '2026-03-10 13:00+03', 'call', at => :'C') \gset junk_
SELECT create_deal(10, 11, 'O4', '2026-03-05 10:00+03', 'call', at => :'C') \gset junk_
SELECT create_deal(10, 11, 'O6', '2026-03-07 10:00+03', 'call', at => :'C') \gset junk_

/* ------------------------------------------------------------------
 * One card due today (in the owner's own zone) for every other employee
 * ------------------------------------------------------------------ */
SELECT create_deal(1, 11, 'H1', '2026-03-10 17:00+03', 'call', at => :'C') \gset junk_
SELECT create_deal(2, 11, 'H2', '2026-03-10 16:00+03', 'call', at => :'C') \gset junk_
SELECT create_deal(3, 11, 'H3', '2026-03-10 14:00+03', 'call', at => :'C') \gset junk_
SELECT create_deal(5, 11, 'H5', '2026-03-10 12:00-04', 'call', at => :'C') \gset junk_
SELECT create_deal(6, 11, 'H6', '2026-03-10 12:00-04', 'call', at => :'C') \gset junk_
SELECT create_deal(7, 11, 'H7', '2026-03-10 20:00+05:45', 'call', at => :'C') \gset junk_
SELECT create_deal(8, 11, 'H8', '2026-03-10 22:00+11', 'call', at => :'C') \gset junk_
SELECT create_deal(9, 11, 'H9', '2026-03-10 23:30+14', 'call', at => :'C') \gset junk_

-- horizons in other zones
-- New York: on Saturday 2026-03-07 (EST) '3 days' ends at local midnight of 03-10, which is EDT: 04:00 UTC
SELECT create_deal(6, 11, 'N3m', '2026-03-10 03:59:59.999999+00', 'call', at => :'C') \gset junk_
SELECT create_deal(6, 11, 'N3', '2026-03-10 04:00+00', 'call', at => :'C') \gset junk_
-- Lord Howe: 2026-04-05 runs from 04-04 13:00 UTC to 04-05 13:30 UTC
SELECT create_deal(8, 11, 'LH in', '2026-04-05 13:29:59.999999+00', 'call', at => :'C') \gset junk_
SELECT create_deal(8, 11, 'LH out', '2026-04-05 13:30+00', 'call', at => :'C') \gset junk_
-- Kiritimati: at 12:00 UTC on 03-09 it is 03-10 there, which ends at 03-10 10:00 UTC
SELECT create_deal(9, 11, 'K in', '2026-03-10 09:59:59.999999+00', 'call', at => :'C') \gset junk_
SELECT create_deal(9, 11, 'K out', '2026-03-10 10:00+00', 'call', at => :'C') \gset junk_
-- month horizon from 2027-01-31 ends at the start of 2027-02-28 (clamped), Mark (employee 2)
SELECT create_deal(2, 11, 'Feb27', '2027-02-27 23:59:59.999999+03', 'call', at => :'C') \gset junk_
SELECT create_deal(2, 11, 'Feb28', '2027-02-28 00:00+03', 'call', at => :'C') \gset junk_

/* ------------------------------------------------------------------
 * Card fields (4)
 * ------------------------------------------------------------------ */
SELECT results_eq(
    format($$SELECT column_position, column_kind, stage_id, stage_name, title, client, service_type, amount,
                    currency, next_due, next_subject, next_kind, colour, priority, owner_id, pipeline_id,
                    client_id, service_type_id, closed_at
               FROM salesboard.board(4, at => %L) WHERE deal_id = %s$$, :'T', :a_today),
    $$VALUES (1, 'stage'::text, 11::bigint, 'New'::text, 'A today'::text, 'Globex'::text, 'Consulting'::text,
              1000::numeric, 'RUB'::text, '2026-03-10 18:00+03'::timestamptz, 'prepare offer'::text, 'task'::text,
              'yellow'::text, true, 4::bigint, 1::bigint, 2::bigint, 1::bigint, NULL::timestamptz)$$,
    'a card shows stage, title, client, service type, amount, next activity, colour, priority, owner');
SELECT results_eq(
    format($$SELECT title, column_position, column_kind, stage_name, rank, pipeline_id, colour, priority
               FROM salesboard.board(4, at => %L) WITH ORDINALITY ORDER BY ordinality$$, :'T'),
    $$VALUES ('A over'::text, 1, 'stage'::text, 'New'::text, 1, 1::bigint, 'red'::text, false),
             ('A today', 1, 'stage', 'New', 2, 1, 'yellow', true),
             ('B1m', 2, 'stage', 'Qualified', 1, 1, 'yellow', false),
             ('W today', 4, 'won', 'Won', 1, 1, 'green', false),
             ('W1', 4, 'won', 'Won', 2, 1, 'green', false),
             ('L edge', 5, 'lost', 'Lost', 1, 1, 'green', false),
             ('R1', 1, 'stage', 'Renewal due', 1, 2::bigint, 'yellow', false)$$,
    'board(4) today: columns in stage order then Won, Lost; second pipeline after; rank restarts per column');
SELECT is(
    (SELECT count(*) FROM board(4, at => :'T') WHERE column_kind IN ('won', 'lost')
        AND (next_due IS NOT NULL OR closed_at IS NULL OR next_subject IS NOT NULL)),
    0::bigint, 'closed cards have closed_at and no next activity');
SELECT is(
    (SELECT array_agg(closed_at ORDER BY ordinality) FROM board(4, at => :'T') WITH ORDINALITY WHERE column_kind <> 'stage'),
    ARRAY['2026-03-10 08:00+03', '2026-03-09 10:00+03', '2026-03-04 00:00+03']::timestamptz[],
    'closed cards carry their closing moment, most recent first within Won');

/* ------------------------------------------------------------------
 * Horizons for employee 4 (Moscow), Won/Lost hidden (6)
 * ------------------------------------------------------------------ */
SELECT is((SELECT array_agg(title ORDER BY ordinality) FROM board(4, at => :'T', closed_days => 0) WITH ORDINALITY),
          ARRAY['A over', 'A today', 'B1m', 'R1'],
          'default horizon is today: overdue, and due up to 23:59:59.999999 local; not at local midnight');
SELECT is((SELECT array_agg(title ORDER BY ordinality) FROM board(4, 'today', at => :'T', closed_days => 0) WITH ORDINALITY),
          ARRAY['A over', 'A today', 'B1m', 'R1'],
          'horizon today: B1m (1 us before midnight) in, B1 (at midnight) out');
SELECT is((SELECT array_agg(title ORDER BY ordinality) FROM board(4, '3 days', at => :'T', closed_days => 0) WITH ORDINALITY),
          ARRAY['A over', 'A today', 'B1', 'B1m', 'B3m', 'R1'],
          'horizon 3 days: up to the end of the day after tomorrow (B3m in, B3 out)');
SELECT is((SELECT array_agg(title ORDER BY ordinality) FROM board(4, 'week', at => :'T', closed_days => 0) WITH ORDINALITY),
          ARRAY['A over', 'A today', 'B1', 'B3', 'B7m', 'B1m', 'B3m', 'R1'],
          'horizon week: before today + 7 local days (B7m in, B7 out)');
SELECT is((SELECT array_agg(title ORDER BY ordinality) FROM board(4, 'month', at => :'T', closed_days => 0) WITH ORDINALITY),
          ARRAY['A over', 'A today', 'B1', 'B3', 'B7m', 'B7', 'Bmm', 'B1m', 'B3m', 'R1'],
          'horizon month: before the same day next month (Bmm in, Bm and Far out)');
SELECT is((SELECT array_agg(title ORDER BY ordinality)
             FROM board(2, 'month', subordinates => false, at => '2027-01-31 12:00+03', closed_days => 0) WITH ORDINALITY),
          ARRAY['H2', 'Feb27'],
          'horizon month from January 31 ends at the start of February 28 (clamped): Feb27 in, Feb28 out');

/* ------------------------------------------------------------------
 * Horizons in other zones (6)
 * ------------------------------------------------------------------ */
SELECT is((SELECT array_agg(title ORDER BY ordinality) FROM board(6, '3 days', at => '2026-03-07 17:00+00', closed_days => 0) WITH ORDINALITY),
          ARRAY['N3m'],
          'New York 3 days from 03-07 ends at 03-10 00:00 EDT (04:00 UTC), not 72 h later');
SELECT is((SELECT count(*) FROM board(6, 'today', at => '2026-03-07 17:00+00', closed_days => 0)),
          0::bigint, 'New York today on 03-07: nothing due');
SELECT is((SELECT array_agg(title ORDER BY ordinality) FROM board(6, 'week', at => '2026-03-07 17:00+00', closed_days => 0) WITH ORDINALITY),
          ARRAY['N3m', 'N3', 'H6'],
          'New York week from 03-07 holds all three');
SELECT is((SELECT array_agg(title ORDER BY ordinality) FROM board(8, at => '2026-04-04 13:00+00', closed_days => 0) WITH ORDINALITY),
          ARRAY['H8', 'LH in'],
          'Lord Howe today on the 24.5-hour day ends at 13:30 UTC (LH in), overdue H8 on top');
SELECT is((SELECT array_agg(title ORDER BY ordinality) FROM board(9, at => '2026-03-09 12:00+00', closed_days => 0) WITH ORDINALITY),
          ARRAY['H9', 'K in'],
          'Kiritimati today at 12:00 UTC on 03-09 is local 03-10, ending 03-10 10:00 UTC');
SELECT is((SELECT array_agg(title ORDER BY ordinality) FROM board(9, at => '2026-03-09 09:59:59.999999+00', closed_days => 0) WITH ORDINALITY),
          NULL::text[],
          'Kiritimati one microsecond before local 03-10 starts: its today (03-09) holds nothing');

/* ------------------------------------------------------------------
 * Order and overdue_last: employee 10 has 9 overdue cards (8)
 * ------------------------------------------------------------------ */
SELECT is((SELECT array_agg(title ORDER BY ordinality) FROM board(10, at => :'T', closed_days => 0) WITH ORDINALITY),
          ARRAY['O1', 'O2', 'O4', 'O5', 'O6', 'O7', 'O8', 'Zm', 'Z0', 'P1', 'O3', 'P2'],
          'cards in due order, earliest (overdue) on top, per column');
SELECT is((SELECT array_agg(title ORDER BY ordinality) FROM board(10, overdue_last => false, at => :'T', closed_days => 0) WITH ORDINALITY),
          ARRAY['O1', 'O2', 'O4', 'O5', 'O6', 'O7', 'O8', 'Zm', 'Z0', 'P1', 'O3', 'P2'],
          'overdue_last => false is the default order');
SELECT is((SELECT count(*) FROM board(10, at => :'T', closed_days => 0) WHERE colour = 'red'), 9::bigint,
          'employee 10 has more than 6 overdue cards');
SELECT is((SELECT array_agg(title ORDER BY ordinality) FROM board(10, overdue_last => true, at => :'T', closed_days => 0) WITH ORDINALITY),
          ARRAY['Z0', 'P1', 'O1', 'O2', 'O4', 'O5', 'O6', 'O7', 'O8', 'Zm', 'P2', 'O3'],
          'overdue_last: planned cards first (due exactly at `at` counts as planned), overdue after, each in due order');
SELECT is((SELECT array_agg(rank ORDER BY ordinality) FROM board(10, overdue_last => true, at => :'T', closed_days => 0) WITH ORDINALITY),
          ARRAY[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1, 2],
          'overdue_last: rank follows the new order within each column');
SELECT is((SELECT array_agg(title ORDER BY ordinality) FROM board(10, '3 days', overdue_last => true, at => :'T', closed_days => 0) WITH ORDINALITY),
          ARRAY['Z0', 'P1', 'P3', 'O1', 'O2', 'O4', 'O5', 'O6', 'O7', 'O8', 'Zm', 'P2', 'O3'],
          'overdue_last with horizon 3 days: tomorrow''s card joins the planned group');
SELECT is((SELECT array_agg(colour ORDER BY title) FROM board(10, at => :'T', closed_days => 0) WHERE title IN ('Zm', 'Z0')),
          ARRAY['yellow', 'red'],
          'due exactly at `at` is yellow, one microsecond before is red');
SELECT is((SELECT array_agg(title ORDER BY ordinality) FROM board(4, overdue_last => true, at => :'T', closed_days => 0) WITH ORDINALITY),
          ARRAY['A today', 'A over', 'B1m', 'R1'],
          'overdue_last on a board with one overdue card still puts it after the planned ones');

/* ------------------------------------------------------------------
 * Filters, combined with each other and with the horizon (15)
 * ------------------------------------------------------------------ */
SELECT is((SELECT array_agg(title ORDER BY ordinality) FROM board(4, 'month', at => :'T') WITH ORDINALITY),
          ARRAY['A over', 'A today', 'B1', 'B3', 'B7m', 'B7', 'Bmm', 'B1m', 'B3m', 'W today', 'W1', 'L edge', 'R1'],
          'unfiltered month board of employee 4');
SELECT is((SELECT array_agg(title ORDER BY ordinality) FROM board(4, 'month', client_id => 1, at => :'T') WITH ORDINALITY),
          ARRAY['A over', 'B1', 'B1m', 'W1'], 'filter client_id => 1 (closed cards too)');
SELECT is((SELECT array_agg(title ORDER BY ordinality) FROM board(4, 'month', service_type_id => 1, at => :'T') WITH ORDINALITY),
          ARRAY['A over', 'A today', 'B1', 'W1'], 'filter service_type_id => 1');
SELECT is((SELECT array_agg(title ORDER BY ordinality) FROM board(4, 'month', tags => '{VIP}', at => :'T') WITH ORDINALITY),
          ARRAY['A over', 'A today', 'B1m', 'B3m', 'W1'], 'filter tags {VIP}');
SELECT is((SELECT array_agg(title ORDER BY ordinality) FROM board(4, 'month', tags => '{VIP,Partner}', at => :'T') WITH ORDINALITY),
          ARRAY['B1m', 'B3m'], 'filter tags {VIP,Partner}: a card must carry both');
SELECT is((SELECT array_agg(title ORDER BY ordinality) FROM board(4, 'month', tags => '{Partner,Urgent}', at => :'T') WITH ORDINALITY),
          ARRAY['B3m'], 'filter tags {Partner,Urgent}: only the card with both');
SELECT is((SELECT array_agg(title ORDER BY ordinality) FROM board(4, 'month', tags => '{VIP,Partner,Urgent}', at => :'T') WITH ORDINALITY),
          ARRAY['B3m'], 'filter tags {VIP,Partner,Urgent}');
SELECT is((SELECT array_agg(title ORDER BY ordinality) FROM board(4, 'month', tags => '{}', at => :'T') WITH ORDINALITY),
          ARRAY['A over', 'A today', 'B1', 'B3', 'B7m', 'B7', 'Bmm', 'B1m', 'B3m', 'W today', 'W1', 'L edge', 'R1'],
          'an empty tag list filters nothing');
SELECT is((SELECT array_agg(title ORDER BY ordinality) FROM board(4, 'month', client_id => 1, tags => '{VIP}', at => :'T') WITH ORDINALITY),
          ARRAY['A over', 'B1m', 'W1'], 'client 1 and tag VIP');
SELECT is((SELECT array_agg(title ORDER BY ordinality) FROM board(4, 'month', client_id => 1, service_type_id => 1, at => :'T') WITH ORDINALITY),
          ARRAY['A over', 'B1', 'W1'], 'client 1 and service type 1');
SELECT is((SELECT array_agg(title ORDER BY ordinality) FROM board(4, 'month', client_id => 2, tags => '{Urgent}', at => :'T') WITH ORDINALITY),
          ARRAY['A today', 'B3m'], 'client 2 and tag Urgent');
SELECT is((SELECT array_agg(title ORDER BY ordinality) FROM board(4, 'month', client_id => 1, service_type_id => 2, tags => '{Urgent}', at => :'T') WITH ORDINALITY),
          NULL::text[], 'client 1, service type 2 and tag Urgent: nothing');
SELECT is((SELECT array_agg(title ORDER BY ordinality) FROM board(4, 'today', tags => '{VIP}', at => :'T') WITH ORDINALITY),
          ARRAY['A over', 'A today', 'B1m', 'W1'], 'horizon today and tag VIP');
SELECT is((SELECT array_agg(title ORDER BY ordinality) FROM board(4, '3 days', tags => '{Partner}', at => :'T') WITH ORDINALITY),
          ARRAY['B1', 'B1m', 'B3m'], 'horizon 3 days and tag Partner');
SELECT is((SELECT array_agg(title ORDER BY ordinality) FROM board(4, 'today', client_id => 2, at => :'T') WITH ORDINALITY),
          ARRAY['A today', 'W today'], 'horizon today and client 2');

/* ------------------------------------------------------------------
 * Errors (8)
 * ------------------------------------------------------------------ */
SELECT throws_ok(format($$SELECT * FROM salesboard.board(4, tags => '{VIP,Nope}', at => %L)$$, :'T'), 'SB020', NULL,
                 'board: an unknown tag name is an error (SB020)');
SELECT throws_ok($$SELECT * FROM salesboard.deal_list(4, tags => '{Nope}')$$, 'SB020', NULL,
                 'deal_list: an unknown tag name is an error (SB020)');
SELECT throws_ok($$SELECT * FROM salesboard.board(4, horizon => 'fortnight')$$, 'SB019', NULL,
                 'board: an unknown horizon is an error (SB019)');
SELECT throws_ok($$SELECT salesboard.board_text(4, horizon => 'year')$$, 'SB019', NULL,
                 'board_text: an unknown horizon is an error (SB019)');
SELECT throws_ok($$SELECT * FROM salesboard.board(4, closed_days => -1)$$, 'SB025', NULL,
                 'board: negative closed_days is an error (SB025)');
SELECT throws_ok($$SELECT * FROM salesboard.board(99999)$$, 'SB033', NULL,
                 'board: an unknown employee is an error (SB033)');
-- unknown ids get a clear error, as unknown tag names do
SELECT throws_ok($$SELECT * FROM salesboard.board(4, client_id => 99999)$$, 'SB035', NULL,
                 'board: an unknown client_id filter is an error (SB035), not an empty board');
SELECT throws_ok($$SELECT * FROM salesboard.deal_list(4, service_type_id => 99999)$$, 'SB036', NULL,
                 'deal_list: an unknown service_type_id filter is an error (SB036), not an empty list');

/* ------------------------------------------------------------------
 * Won / Lost: the last closed_days local days (9)
 * ------------------------------------------------------------------ */
SELECT is(current_setting('salesboard.closed_days'), '7', 'salesboard.closed_days defaults to 7');
SELECT is((SELECT array_agg(title ORDER BY ordinality) FROM board(4, at => :'T') WITH ORDINALITY WHERE column_kind <> 'stage'),
          ARRAY['W today', 'W1', 'L edge'],
          'default 7 days: closed from 03-04 00:00 local on (L edge in, L old 1 us earlier out), not after `at`');
SELECT is((SELECT array_agg(title ORDER BY ordinality) FROM board(4, at => :'T', closed_days => 1) WITH ORDINALITY WHERE column_kind <> 'stage'),
          ARRAY['W today'], 'closed_days => 1: today''s closings only');
SELECT is((SELECT array_agg(title ORDER BY ordinality) FROM board(4, at => :'T', closed_days => 2) WITH ORDINALITY WHERE column_kind <> 'stage'),
          ARRAY['W today', 'W1'], 'closed_days => 2: today and yesterday');
SELECT is((SELECT count(*) FROM board(4, at => :'T', closed_days => 0) WHERE column_kind <> 'stage'),
          0::bigint, 'closed_days => 0 hides Won and Lost');
SET salesboard.closed_days = 2;
SELECT is((SELECT array_agg(title ORDER BY ordinality) FROM board(4, at => :'T') WITH ORDINALITY WHERE column_kind <> 'stage'),
          ARRAY['W today', 'W1'], 'the salesboard.closed_days setting is the default');
RESET salesboard.closed_days;
SELECT is((SELECT array_agg(title ORDER BY ordinality) FROM board(4, at => '2026-03-10 14:00+03') WITH ORDINALITY WHERE column_kind <> 'stage'),
          ARRAY['W future', 'W today', 'W1', 'L edge'],
          'a deal closed before `at` shows, most recent first');
SELECT is((SELECT array_agg(title ORDER BY ordinality) FROM board(4, at => '2026-03-10 23:59:59.999999+03') WITH ORDINALITY WHERE column_kind = 'lost'),
          ARRAY['L edge'], 'at the last microsecond of 03-10 the window still starts on 03-04');
SELECT is((SELECT count(*) FROM board(4, at => '2026-03-11 00:00+03') WHERE column_kind = 'lost'),
          0::bigint, 'from local midnight of 03-11 the window starts on 03-05: L edge leaves');

/* ------------------------------------------------------------------
 * Department heads (12); ordinary roles may read at a pinned moment
 * ------------------------------------------------------------------ */
SET ROLE sbt_director;
SELECT is((SELECT array_agg(DISTINCT owner_id ORDER BY owner_id) FROM board(at => :'T')),
          ARRAY[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]::bigint[], 'director 1 sees every employee''s cards');
SELECT is((SELECT count(*) FROM (
              SELECT next_due < lag(next_due) OVER (PARTITION BY pipeline_id, column_position ORDER BY ordinality) AS inv
                FROM board(at => :'T', closed_days => 0) WITH ORDINALITY) s WHERE inv),
          0::bigint, 'director''s board: cards of all owners merged in due order within each column');
SELECT is((SELECT array_agg(DISTINCT owner_id ORDER BY owner_id) FROM board(3, at => :'T')),
          ARRAY[3, 4, 10]::bigint[], 'director looking at team head 3''s board sees that subtree');
SELECT is((SELECT array_agg(DISTINCT owner_id ORDER BY owner_id) FROM board(3, subordinates => false, at => :'T')),
          ARRAY[3]::bigint[], 'director looking at team head 3 without subordinates sees 3 only');
RESET ROLE;
SET ROLE sbt_mhead;
SELECT is((SELECT array_agg(DISTINCT owner_id ORDER BY owner_id) FROM board(at => :'T')),
          ARRAY[2, 3, 4, 10]::bigint[], 'head 2 sees 2, 3, 4, 10 (two levels down)');
RESET ROLE;
SET ROLE sbt_ahead;
SELECT is((SELECT array_agg(DISTINCT owner_id ORDER BY owner_id) FROM board(at => :'T')),
          ARRAY[3, 4, 10]::bigint[], 'team head 3 sees 3, 4, 10');
SELECT is((SELECT array_agg(title ORDER BY ordinality) FROM board(at => :'T', closed_days => 0) WITH ORDINALITY),
          ARRAY['O1', 'O2', 'O4', 'A over', 'O5', 'O6', 'O7', 'O8', 'Zm', 'Z0', 'P1', 'H3', 'A today',
                'O3', 'P2', 'B1m', 'R1'],
          'team head 3: the cards of 3, 4 and 10 merged in due order per column');
SELECT is((SELECT array_agg(title ORDER BY ordinality) FROM board(employee_id => 4, at => :'T') WITH ORDINALITY),
          ARRAY['A over', 'A today', 'B1m', 'W today', 'W1', 'L edge', 'R1'],
          'team head 3 looking at subordinate 4''s board sees exactly 4''s board');
SELECT is((SELECT array_agg(DISTINCT owner_id ORDER BY owner_id) FROM board(subordinates => false, at => :'T')),
          ARRAY[3]::bigint[], 'team head 3 with subordinates => false sees only their own cards');
RESET ROLE;
SET ROLE sbt_nyhead;
SELECT is((SELECT array_agg(DISTINCT owner_id ORDER BY owner_id) FROM board(at => :'T')),
          ARRAY[5, 6]::bigint[], 'New York head 5 sees 5 and 6');
RESET ROLE;
SET ROLE sbt_ktm;
SELECT is((SELECT array_agg(DISTINCT owner_id ORDER BY owner_id) FROM board(at => :'T')),
          ARRAY[7, 8, 9]::bigint[], 'Far sales head 7 sees 7, 8, 9 (each judged in their own zone)');
RESET ROLE;
SET ROLE sbt_mseller;
SELECT is((SELECT array_agg(title ORDER BY ordinality) FROM board(at => :'T') WITH ORDINALITY),
          ARRAY['A over', 'A today', 'B1m', 'W today', 'W1', 'L edge', 'R1'],
          'seller 4''s own board (default employee = current_employee())');
RESET ROLE;

/* ------------------------------------------------------------------
 * deal_list(): list mode (6)
 * ------------------------------------------------------------------ */
SELECT is((SELECT array_agg(title ORDER BY ordinality) FROM deal_list(4, at => :'T') WITH ORDINALITY),
          ARRAY['A over', 'A today', 'R1', 'B1m', 'B1', 'B3m', 'B3', 'B7m', 'B7', 'Bmm', 'Bm', 'Far'],
          'deal_list: every open deal in due order across stages and pipelines, no horizon, no closed deals');
SELECT is((SELECT array_agg(rank ORDER BY ordinality) FROM deal_list(4, at => :'T') WITH ORDINALITY),
          ARRAY[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], 'deal_list: rank runs through the whole list');
SELECT is((SELECT array_agg(colour ORDER BY ordinality) FROM deal_list(4, at => :'T') WITH ORDINALITY WHERE title IN ('A over', 'A today', 'B1')),
          ARRAY['red', 'yellow', 'green'], 'deal_list: colours as on the board');
SELECT is((SELECT array_agg(title ORDER BY ordinality) FROM deal_list(4, client_id => 1, at => :'T') WITH ORDINALITY),
          ARRAY['A over', 'B1m', 'B1'], 'deal_list with client filter');
SELECT is((SELECT array_agg(title ORDER BY ordinality) FROM deal_list(4, tags => '{Partner}', at => :'T') WITH ORDINALITY),
          ARRAY['B1m', 'B1', 'B3m'], 'deal_list with tag filter');
SET ROLE sbt_ahead;
SELECT is((SELECT count(*) FROM (
              SELECT next_due < lag(next_due) OVER (ORDER BY ordinality) AS inv FROM deal_list(at => :'T') WITH ORDINALITY) s
            WHERE inv) + (SELECT 26 - count(*) FROM deal_list(at => :'T')),
          0::bigint, 'deal_list of team head 3: the 26 open deals of 3, 4 and 10 in one chronological list');
RESET ROLE;

/* ------------------------------------------------------------------
 * board_text() (9)
 * ------------------------------------------------------------------ */
SELECT board_text(4, at => :'T') AS bt \gset
SELECT matches(:'bt'::text, '(?n)^Board of Ivan Seller, horizon today, at ', 'board_text: title line');
SELECT matches(:'bt'::text, '(?n)^Inbound \(0\) +\| New \(2\) +\| Qualified \(1\) +\| Proposal \(0\) +\| Won \(2\) +\| Lost \(1\) *$',
               'board_text: headers of the first pipeline with card counts');
SELECT matches(:'bt'::text, '(?n)^ +\| R  05\.03 A over +\|', 'board_text: the overdue card, red, local date');
SELECT matches(:'bt'::text, '(?n)^ +\| Y! 10\.03 A today +\|', 'board_text: the flagged yellow card');
SELECT matches(:'bt'::text, '(?n)\| Y  10\.03 B1m +\|', 'board_text: the Qualified card');
SELECT matches(:'bt'::text, '(?n)\| \+  10\.03 W today +\| -  04\.03 L edge$', 'board_text: Won and Lost cards with closing dates');
SELECT matches(:'bt'::text, '(?n)Renewal due \(1\)', 'board_text: the second pipeline is drawn too');
SELECT matches(board_text(3, 'week', at => :'T'), '(?n)^Board of Alla Teamhead and team, horizon week, at ',
               'board_text of a head names the team and the horizon');
SELECT unalike(board_text(4, at => :'T'), '%B1 %', 'board_text today does not draw the card due at local midnight');

/* ------------------------------------------------------------------
 * The server's TimeZone does not change the board (2)
 * ------------------------------------------------------------------ */
SELECT array_agg(title ORDER BY ordinality)::text AS week_utc FROM board(4, 'week', at => :'T') WITH ORDINALITY \gset
SELECT array_agg(title ORDER BY ordinality)::text AS kir_utc FROM board(9, at => '2026-03-09 12:00+00') WITH ORDINALITY \gset
SET TimeZone = 'Pacific/Kiritimati';
SELECT is((SELECT array_agg(title ORDER BY ordinality)::text FROM board(4, 'week', at => :'T') WITH ORDINALITY),
          :'week_utc', 'TimeZone Pacific/Kiritimati: Moscow week board unchanged');
SET TimeZone = 'Pacific/Honolulu';
SELECT is((SELECT array_agg(title ORDER BY ordinality)::text FROM board(9, at => '2026-03-09 12:00+00') WITH ORDINALITY),
          :'kir_utc', 'TimeZone Pacific/Honolulu: Kiritimati today board unchanged');
RESET TimeZone;

SELECT * FROM finish();
ROLLBACK;
