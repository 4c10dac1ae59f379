-- test/pgtap/24_due_colour.sql: due_colour(owner_id, next_due, at), the
-- colour rule for many rows, agrees with card_colour() for every deal at
-- every moment, in every zone of the fixture, and handles its edge cases.
BEGIN;
\ir fixture.psql
SET search_path = salesboard, public;
SELECT plan(7);

-- one deal per owner zone, due at 18:00 UTC on 2026-03-10, one of them all-day
SELECT count(create_deal(e, 11, 'zone ' || e, '2026-03-10 18:00+00', 'call',
                         first_all_day => e = 7, at => '2026-03-01 00:00+00'))
  FROM unnest(ARRAY[4, 6, 7, 8, 9]) e;
SELECT create_deal(4, 11, 'to close', '2026-03-10 18:00+00', 'call', at => '2026-03-01 00:00+00') AS c \gset
SELECT close_deal(:c, true, 'Signed', at => '2026-03-02 00:00+00');

CREATE TEMP TABLE moments AS
SELECT timestamptz '2026-03-09 00:00+00' + g * interval '30 minutes' AS at FROM generate_series(0, 96) g;

SELECT is((SELECT count(*) FROM deal d, moments m
            WHERE due_colour(d.owner_id, d.next_due, m.at) IS DISTINCT FROM card_colour(d.id, m.at)),
          0::bigint, 'due_colour agrees with card_colour for every deal at 97 moments over two days');
SELECT is((SELECT count(DISTINCT due_colour(d.owner_id, d.next_due, m.at)) FROM deal d, moments m),
          3::bigint, 'the moments cover all three colours');
SELECT is(due_colour(4, NULL, '2026-03-10 09:00+00'), 'green', 'no next activity (a closed deal) is green');
SELECT is((SELECT due_colour(owner_id, next_due, '2026-03-10 09:00+00') FROM deal WHERE id = :c),
          'green', 'the closed deal is green');
SELECT throws_ok($$SELECT due_colour(99999, now())$$, 'SB033', NULL, 'an unknown owner is SB033');
SELECT throws_ok($$SELECT due_colour(NULL, now())$$, '22004', NULL, 'a NULL owner is 22004');
SET TimeZone = 'Pacific/Honolulu';
SELECT is((SELECT count(*) FROM deal d, moments m
            WHERE due_colour(d.owner_id, d.next_due, m.at) IS DISTINCT FROM card_colour(d.id, m.at)),
          0::bigint, 'and under another server TimeZone');
RESET TimeZone;

SELECT * FROM finish();
ROLLBACK;
