-- test/pgtap/63_deal_list_paging.sql: keyset paging of deal_list()
-- (doc/reference.md, "deal_list"), with time pinned through `at`.
--
-- Covers:
--  * the new signature (page_size, after_next_due, after_deal_id) and that
--    the old one is gone;
--  * the list is in (next_due, deal_id) order, ties on next_due broken by
--    deal id across owners (several deals due at the same moment, all-day
--    ones ending the same local day);
--  * pages walked with the last row's next_due and deal_id, concatenated,
--    equal the unpaged list exactly, for a seller and for a head with
--    subordinates, for page sizes that cut tie groups; rank is the position
--    in the page; page_size larger than the rest; an empty page after the
--    last; a keyset that is no row;
--  * filters (client, service type, tags, subordinates) combined with paging;
--  * errors, all SB025 and nothing changed: page_size 0, -1, 10001; only one
--    of after_next_due / after_deal_id; a non-finite after_next_due;
--  * a page reads the index from the keyset on and stops when full;
--  * an undated open deal (inside the transaction that cancelled its last
--    activity) comes last, paged as unpaged;
--  * the session's TimeZone changes nothing.
BEGIN;
\ir fixture.psql
SET search_path = salesboard, public;
SET TimeZone = 'UTC';

SELECT plan(42);

-- "now" for the list: 12:00 on Tuesday 2026-03-10 in Moscow
\set T '2026-03-10 09:00+00'
-- every deal is created at this moment, before all due moments used
\set C '2026-03-01 09:00+00'
-- the moment several deals share
\set TIE '2026-03-12 10:00+03'

/* ------------------------------------------------------------------
 * Deals of team head 3 and their subordinates 4 and 10 (all Moscow),
 * created interleaved so that ties mix owners and ids
 * ------------------------------------------------------------------ */
SELECT create_deal(4, 11, 'S1', '2026-03-09 10:00+03', 'call', client_id => 1, at => :'C') AS s1 \gset
SELECT create_deal(4, 12, 'S2', '2026-03-11 10:00+03', 'call', service_type_id => 2, at => :'C') AS s2 \gset
SELECT create_deal(3, 11, 'H3', '2026-03-11 10:00+03', 'call', at => :'C') \gset junk_
SELECT create_deal(10, 11, 'O10', '2026-03-10 12:00+03', 'call', at => :'C') \gset junk_
SELECT create_deal(4, 11, 'T4a', :'TIE', 'call', client_id => 1, at => :'C') AS t4a \gset
SELECT create_deal(10, 11, 'T10a', :'TIE', 'call', at => :'C') \gset junk_
SELECT create_deal(4, 13, 'T4b', :'TIE', 'call', tags => '{VIP}', at => :'C') AS t4b \gset
SELECT create_deal(4, 11, 'T4c', :'TIE', 'call', client_id => 1, service_type_id => 2, tags => '{VIP}', at => :'C') AS t4c \gset
SELECT create_deal(10, 12, 'T10b', :'TIE', 'call', at => :'C') \gset junk_
SELECT create_deal(3, 11, 'T3a', :'TIE', 'call', at => :'C') \gset junk_
SELECT create_deal(4, 21, 'T4d', :'TIE', 'call', at => :'C') AS t4d \gset
SELECT create_deal(4, 11, 'T4e', :'TIE', 'call', client_id => 1, at => :'C') AS t4e \gset
-- all day on 12 March: due the last microsecond of that day in Moscow, for 4 and 10 alike
SELECT create_deal(4, 11, 'D4a', NULL, 'task', first_due_date => '2026-03-12', tags => '{VIP}', at => :'C') \gset junk_
SELECT create_deal(10, 11, 'D10a', NULL, 'task', first_due_date => '2026-03-12', at => :'C') \gset junk_
SELECT create_deal(4, 11, 'D4b', NULL, 'task', first_due_date => '2026-03-12', client_id => 1, at => :'C') \gset junk_
SELECT create_deal(4, 11, 'S3', '2026-03-20 10:00+03', 'call', client_id => 1, tags => '{VIP}', at => :'C') AS s3 \gset
-- not on the list: a closed deal of 4, a deal of New York
SELECT create_deal(4, 11, 'Closed', '2026-03-12 10:00+03', 'call', at => :'C') AS closed \gset
SELECT close_deal(:closed, true, 'Signed', at => '2026-03-05 10:00+03') \gset junk_
SELECT create_deal(5, 11, 'NY', :'TIE', 'call', at => :'C') \gset junk_

-- Walk a list page by page, each page after the last row of the one
-- before, until an empty page (or an undated last row, which ends paging):
-- the deal ids concatenated, the page sizes, whether every page's rank
-- runs 1..n.
CREATE FUNCTION pg_temp.walk(size integer, emp bigint DEFAULT NULL, client bigint DEFAULT NULL,
                             stype bigint DEFAULT NULL, tagz text[] DEFAULT NULL, subs boolean DEFAULT true,
                             OUT ids bigint[], OUT sizes integer[], OUT ranks_ok boolean)
LANGUAGE plpgsql AS $walk$
DECLARE
    page_ids bigint[];
    page_ranks integer[];
    last_due timestamptz;
    last_id bigint;
BEGIN
    ids := '{}';
    sizes := '{}';
    ranks_ok := true;
    LOOP
        SELECT coalesce(array_agg(l.deal_id ORDER BY l.ordinality), '{}'),
               coalesce(array_agg(l.rank ORDER BY l.ordinality), '{}'),
               (array_agg(l.next_due ORDER BY l.ordinality DESC))[1],
               (array_agg(l.deal_id ORDER BY l.ordinality DESC))[1]
          INTO page_ids, page_ranks, last_due, last_id
          FROM salesboard.deal_list(emp, client, stype, tagz, subs, '2026-03-10 09:00+00',
                                    page_size => size, after_next_due => last_due,
                                    after_deal_id => last_id) WITH ORDINALITY AS l;
        sizes := sizes || cardinality(page_ids);
        EXIT WHEN cardinality(page_ids) = 0;
        ranks_ok := ranks_ok AND page_ranks = ARRAY(SELECT generate_series(1, cardinality(page_ids)));
        ids := ids || page_ids;
        EXIT WHEN last_due IS NULL;
        IF cardinality(sizes) > 1000 THEN
            RAISE EXCEPTION 'runaway paging';
        END IF;
    END LOOP;
END
$walk$;

-- the whole list in one call, as deal ids
CREATE FUNCTION pg_temp.whole(emp bigint DEFAULT NULL, client bigint DEFAULT NULL,
                              stype bigint DEFAULT NULL, tagz text[] DEFAULT NULL, subs boolean DEFAULT true)
RETURNS bigint[] LANGUAGE sql AS $whole$
    SELECT coalesce(array_agg(l.deal_id ORDER BY l.ordinality), '{}')
      FROM salesboard.deal_list(emp, client, stype, tagz, subs, '2026-03-10 09:00+00') WITH ORDINALITY AS l
$whole$;

/* ------------------------------------------------------------------
 * Signature (2)
 * ------------------------------------------------------------------ */
SELECT has_function('salesboard', 'deal_list',
                    ARRAY['bigint', 'bigint', 'bigint', 'text[]', 'boolean', 'timestamp with time zone',
                          'integer', 'timestamp with time zone', 'bigint'],
                    'deal_list takes page_size, after_next_due, after_deal_id');
SELECT hasnt_function('salesboard', 'deal_list',
                      ARRAY['bigint', 'bigint', 'bigint', 'text[]', 'boolean', 'timestamp with time zone'],
                      'the 1.0 signature of deal_list is gone (no overload)');

/* ------------------------------------------------------------------
 * The order: (next_due, deal_id), ties across owners by deal id (3)
 * ------------------------------------------------------------------ */
SELECT is(pg_temp.whole(4),
          ARRAY(SELECT d.id FROM deal d WHERE d.owner_id = 4 AND d.status = 'open' ORDER BY d.next_due, d.id),
          'seller 4: the whole list is in (next_due, deal_id) order');
SELECT is(pg_temp.whole(3),
          ARRAY(SELECT d.id FROM deal d WHERE d.owner_id IN (3, 4, 10) AND d.status = 'open' ORDER BY d.next_due, d.id),
          'head 3: the deals of 3, 4 and 10 merged in (next_due, deal_id) order');
SELECT is((SELECT array_agg(title ORDER BY ordinality) FROM deal_list(3, at => :'T') WITH ORDINALITY),
          ARRAY['S1', 'O10', 'S2', 'H3', 'T4a', 'T10a', 'T4b', 'T4c', 'T10b', 'T3a', 'T4d', 'T4e',
                'D4a', 'D10a', 'D4b', 'S3'],
          'head 3: deals due at the same moment (and all-day ones ending the same day) in deal id order');

/* ------------------------------------------------------------------
 * Pages concatenated equal the whole list (12)
 * ------------------------------------------------------------------ */
SELECT is((pg_temp.walk(1, 4)).ids, pg_temp.whole(4), 'seller 4, pages of 1: the whole list');
SELECT is((pg_temp.walk(2, 4)).ids, pg_temp.whole(4), 'seller 4, pages of 2: the whole list');
SELECT is((pg_temp.walk(3, 4)).ids, pg_temp.whole(4), 'seller 4, pages of 3 (cutting the tie group): the whole list');
SELECT is((pg_temp.walk(4, 4)).sizes, ARRAY[4, 4, 2, 0], 'seller 4, pages of 4: 4, 4, 2, then an empty page');
SELECT is((pg_temp.walk(5, 4)).sizes, ARRAY[5, 5, 0], 'seller 4, pages of 5: the list ends on a page boundary, then an empty page');
SELECT is((pg_temp.walk(10000, 4)).sizes, ARRAY[10, 0], 'seller 4, page_size 10000: one page, then an empty one');
SELECT ok((pg_temp.walk(3, 4)).ranks_ok AND (pg_temp.walk(4, 3)).ranks_ok, 'rank is the position in the page, 1..n');
SET ROLE sbt_ahead;
SELECT is((pg_temp.walk(1)).ids, pg_temp.whole(), 'head 3 (own session), pages of 1: the whole list');
SELECT is((pg_temp.walk(2)).ids, pg_temp.whole(), 'head 3, pages of 2: the whole list');
SELECT is((pg_temp.walk(4)).ids, pg_temp.whole(), 'head 3, pages of 4 (ties across owners cut): the whole list');
SELECT is((pg_temp.walk(7)).sizes, ARRAY[7, 7, 2, 0], 'head 3, pages of 7: 7, 7, 2, then an empty page');
RESET ROLE;
SET ROLE sbt_mseller;
SELECT is((pg_temp.walk(3)).ids, pg_temp.whole(), 'seller 4 (own session), pages of 3: the whole list');
RESET ROLE;

/* ------------------------------------------------------------------
 * Pages from a given keyset (6)
 * ------------------------------------------------------------------ */
SELECT is((SELECT array_agg(title ORDER BY ordinality)
             FROM deal_list(3, at => :'T', page_size => 3, after_next_due => :'TIE', after_deal_id => :t4b) WITH ORDINALITY),
          ARRAY['T4c', 'T10b', 'T3a'], 'a page after a row inside a tie group goes on with the same moment''s higher ids');
SELECT is((SELECT array_agg(title ORDER BY ordinality)
             FROM deal_list(3, at => :'T', page_size => 2, after_next_due => :'TIE', after_deal_id => 0) WITH ORDINALITY),
          ARRAY['T4a', 'T10a'], 'a keyset that is no row: (moment, 0) starts at that moment''s first deal');
SELECT is((SELECT array_agg(title ORDER BY ordinality)
             FROM deal_list(3, at => :'T', page_size => 100, after_next_due => '2026-03-12 23:00+03', after_deal_id => 0) WITH ORDINALITY),
          ARRAY['D4a', 'D10a', 'D4b', 'S3'], 'page_size larger than the rest: the rest');
SELECT is((SELECT count(*) FROM deal_list(3, at => :'T', page_size => 5, after_next_due => '2026-03-20 10:00+03', after_deal_id => :s3)),
          0::bigint, 'the page after the last row is empty');
SELECT is((SELECT array_agg(title ORDER BY ordinality)
             FROM deal_list(4, at => :'T', after_next_due => :'TIE', after_deal_id => :t4d) WITH ORDINALITY),
          ARRAY['T4e', 'D4a', 'D4b', 'S3'], 'no page_size: everything after the keyset');
SELECT is((SELECT array_agg(title ORDER BY ordinality) FROM deal_list(4, at => :'T', page_size => 2) WITH ORDINALITY),
          ARRAY['S1', 'S2'], 'page_size without a keyset: the first page');

/* ------------------------------------------------------------------
 * Filters combined with paging (5)
 * ------------------------------------------------------------------ */
SELECT is((pg_temp.walk(2, 4, client => 1)).ids, pg_temp.whole(4, client => 1), 'client_id filter, pages of 2');
SELECT is((pg_temp.walk(1, 4, tagz => '{VIP}')).ids, pg_temp.whole(4, tagz => '{VIP}'), 'tags filter, pages of 1');
SELECT is((pg_temp.walk(1, 4, client => 1, stype => 2, tagz => '{VIP}')).ids, ARRAY[:t4c]::bigint[],
          'client, service type and tags together, paged: the one deal with all');
SELECT is((pg_temp.walk(2, 3, subs => false)).ids, pg_temp.whole(3, subs => false), 'subordinates => false, pages of 2');
SELECT is((SELECT array_agg(title ORDER BY ordinality)
             FROM deal_list(4, client_id => 1, at => :'T', page_size => 2, after_next_due => :'TIE', after_deal_id => :t4a) WITH ORDINALITY),
          ARRAY['T4c', 'T4e'], 'a filtered page from a keyset skips what the filter hides');

/* ------------------------------------------------------------------
 * Errors: SB025, with the object named and a hint (7)
 * ------------------------------------------------------------------ */
SELECT throws_ok($$SELECT * FROM salesboard.deal_list(4, page_size => 0)$$, 'SB025',
                 'deal_list page_size must be between 1 and 10000, not 0', 'page_size 0 is SB025');
SELECT throws_ok($$SELECT * FROM salesboard.deal_list(4, page_size => -1)$$, 'SB025', NULL, 'page_size -1 is SB025');
SELECT throws_ok($$SELECT * FROM salesboard.deal_list(4, page_size => 10001)$$, 'SB025', NULL, 'page_size 10001 is SB025');
SELECT throws_ok($$SELECT * FROM salesboard.deal_list(4, after_next_due => now())$$, 'SB025',
                 'deal_list got after_next_due without after_deal_id', 'after_next_due alone is SB025');
SELECT throws_ok($$SELECT * FROM salesboard.deal_list(4, page_size => 5, after_deal_id => 1)$$, 'SB025',
                 'deal_list got after_deal_id without after_next_due', 'after_deal_id alone is SB025');
SELECT throws_ok($$SELECT * FROM salesboard.deal_list(4, after_next_due => 'infinity', after_deal_id => 1)$$, 'SB025',
                 'after_next_due must be a finite moment, not infinity', 'an infinite after_next_due is SB025');
SELECT throws_ok($$SELECT * FROM salesboard.deal_list(4, after_next_due => '-infinity', after_deal_id => 1)$$, 'SB025',
                 NULL, 'a -infinity after_next_due is SB025');

/* ------------------------------------------------------------------
 * A page reads from the keyset and stops when full (2): 200 deals of
 * employee 8 at distinct moments, 120 of employee 9 at one moment
 * ------------------------------------------------------------------ */
SELECT count(create_deal(8, 11, 'E8 ' || g, :'T'::timestamptz + g * interval '1 hour', 'call', at => :'C'))
  FROM generate_series(1, 200) g \gset junk_
SELECT count(create_deal(9, 11, 'E9 ' || g, :'T'::timestamptz + interval '1 day', 'call', at => :'C'))
  FROM generate_series(1, 120) g \gset junk_
SELECT d.id AS e8_150 FROM deal d WHERE d.title = 'E8 150' \gset
SELECT (SELECT array_agg(d.id ORDER BY d.id) FROM deal d WHERE d.owner_id = 9)[100] AS e9_100 \gset
-- index entries read in this transaction (pg_stat_all_indexes.idx_tup_read, not yet flushed)
SELECT pg_stat_get_xact_tuples_returned('salesboard.deal_board_idx'::regclass) AS read0 \gset
SELECT is((SELECT array_agg(title ORDER BY ordinality)
             FROM deal_list(8, at => :'T', page_size => 3, after_next_due => :'T'::timestamptz + interval '150 hours',
                            after_deal_id => :e8_150) WITH ORDINALITY)
          || (SELECT array_agg(title ORDER BY ordinality)
             FROM deal_list(9, subordinates => false, at => :'T', page_size => 3,
                            after_next_due => :'T'::timestamptz + interval '1 day', after_deal_id => :e9_100) WITH ORDINALITY),
          ARRAY['E8 151', 'E8 152', 'E8 153', 'E9 101', 'E9 102', 'E9 103'],
          'pages of 3 from the middle of 200 deals and of 120 deals due at one moment');
SELECT pg_stat_get_xact_tuples_returned('salesboard.deal_board_idx'::regclass) - :read0 AS read_pages \gset
SELECT count(*) FROM deal_list(8, at => :'T') \gset junk_
SELECT count(*) FROM deal_list(9, subordinates => false, at => :'T') \gset junk_
SELECT pg_stat_get_xact_tuples_returned('salesboard.deal_board_idx'::regclass) - :read0 - :read_pages AS read_whole \gset
-- (every entry counts, those of row versions this transaction made dead too:
-- several per deal here)
SELECT cmp_ok(:read_pages * 20, '<', :read_whole,
              'those two pages read a twentieth of the index entries the two whole lists read: each scan starts at the keyset and stops with the page full');

/* ------------------------------------------------------------------
 * An undated open deal comes last, paged as unpaged (2)
 * ------------------------------------------------------------------ */
SELECT d.next_activity_id AS s2_act FROM deal d WHERE d.id = :s2 \gset
SELECT cancel_activity(:s2_act, 'not needed', at => :'T') \gset junk_
SELECT is((pg_temp.whole(3))[15:16], ARRAY[:s3, :s2]::bigint[],
          'a deal without a planned activity (before commit) comes after every dated one');
SELECT is((pg_temp.walk(3, 3)).ids, pg_temp.whole(3), 'head 3, pages of 3, with an undated deal: the whole list');

/* ------------------------------------------------------------------
 * The session's TimeZone changes nothing (3)
 * ------------------------------------------------------------------ */
SELECT pg_temp.whole(3)::text AS whole_utc \gset
SELECT array_agg(deal_id ORDER BY ordinality)::text AS page_utc
  FROM deal_list(3, at => :'T', page_size => 4, after_next_due => :'TIE', after_deal_id => :t4a) WITH ORDINALITY \gset
SET TimeZone = 'Pacific/Kiritimati';
SELECT is((pg_temp.walk(4, 3)).ids::text, :'whole_utc', 'TimeZone Pacific/Kiritimati: pages of 4 give the same list');
SELECT is((SELECT array_agg(deal_id ORDER BY ordinality)::text
             FROM deal_list(3, at => :'T', page_size => 4, after_next_due => :'TIE', after_deal_id => :t4a) WITH ORDINALITY),
          :'page_utc', 'TimeZone Pacific/Kiritimati: the same keyset gives the same page');
SET TimeZone = 'America/New_York';
SELECT is((pg_temp.walk(2, 3)).ids::text, :'whole_utc', 'TimeZone America/New_York: pages of 2 give the same list');
RESET TimeZone;

SELECT * FROM finish();
ROLLBACK;
