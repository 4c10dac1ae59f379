-- test/pgtap/14_moments.sql: history never runs backwards (doc/reference.md, SB026).
--
-- A stage change happens at `at`, but never before the deal's previous one:
--  * with the default at => now() (a transaction that began before another
--    change of the deal took effect), the change is recorded at the moment
--    the previous one took effect: the history chain stays in time order;
--  * an explicit earlier `at` is refused (SB026) and changes nothing;
--  * expected_stage_id guards a move against a card someone else moved (SB027).
BEGIN;
\ir fixture.psql
SET search_path = salesboard, public;
SELECT plan(12);

-- a deal whose last change is an hour in the future (an admin's import)
SELECT create_deal(4, 11, 'Future move', now() + interval '2 hours', 'Call') AS d \gset
SELECT move_deal(:d, 12, 'Agreed', now() + interval '3 hours', 'Send offer', at => now() + interval '1 hour');
SELECT is((SELECT stage_entered_at FROM deal WHERE id = :d), now() + interval '1 hour',
          'the imported move entered stage 12 an hour from now');

-- a move at the default moment (now(), earlier than that) is recorded when the previous took effect
SELECT lives_ok(format($$SELECT move_deal(%s, 13, 'Offer sent', now() + interval '5 hours', 'Call back')$$, :d),
                'a move with the default at after a later change is accepted');
SELECT is((SELECT stage_entered_at FROM deal WHERE id = :d), now() + interval '1 hour',
          'it is recorded at the moment of the previous change, not before it');
SELECT is((SELECT count(*) FROM (SELECT moved_at < lag(moved_at) OVER (ORDER BY id) AS back
                                   FROM stage_history WHERE deal_id = :d) x WHERE back),
          0::bigint, 'the history rows are in time order');
SELECT is((SELECT done_at FROM activity WHERE deal_id = :d AND subject = 'Send offer'),
          now() + interval '1 hour', 'the completed activity carries the same moment');
SELECT is((SELECT count(*) FROM verify() WHERE deal_id = :d), 0::bigint, 'verify() finds nothing');

-- an explicit earlier at is refused and changes nothing
SELECT count(*) AS h FROM stage_history WHERE deal_id = :d \gset
SELECT throws_ok(format($$SELECT move_deal(%s, 12, 'Back', now() + interval '6 hours', 'Again', at => now() + interval '30 minutes')$$, :d),
                 'SB026', NULL, 'an explicit at before the last stage change is SB026');
SELECT is((SELECT count(*) FROM stage_history WHERE deal_id = :d), :h::bigint, 'no history row was written');
SELECT throws_ok(format($$SELECT close_deal(%s, true, 'Won', at => now() + interval '10 minutes')$$, :d),
                 'SB026', NULL, 'close_deal with an explicit earlier at is SB026 too');

-- expected_stage_id: the card was dragged from stage 12, but the deal is in 13 now
SELECT throws_ok(format($$SELECT move_deal(%s, 11, 'Drag', now() + interval '6 hours', 'x', expected_stage_id => 12)$$, :d),
                 'SB027', NULL, 'move_deal with a stale expected_stage_id is SB027');
SELECT lives_ok(format($$SELECT move_deal(%s, 11, 'Drag', now() + interval '6 hours', 'x', expected_stage_id => 13)$$, :d),
                'move_deal with the right expected_stage_id works');
SELECT is((SELECT stage_id FROM deal WHERE id = :d), 11::bigint, 'and the deal moved');

SELECT * FROM finish();
ROLLBACK;
