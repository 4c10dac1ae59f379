-- test/pgtap/28_due_dates.sql: all-day activities by the owner's calendar
-- day (doc/reference.md, "Deals and activities"): first_due_date,
-- due_date and next_due_date name the day directly, so the session's
-- TimeZone never moves it; they exclude the moment; a due moment in a
-- message is shown in the owner's local time with the zone's name.
BEGIN;
\ir fixture.psql
SET search_path = salesboard, public;
SELECT plan(14);

INSERT INTO department (id, name) VALUES (901, 'West');
INSERT INTO employee (id, name, department_id, time_zone) VALUES (901, 'Lena West', 901, 'America/Los_Angeles');

SET TimeZone = 'UTC';
SELECT create_deal(901, 11, 'All-day for 10 March', NULL, 'Call back', first_due_date => '2026-03-10',
                   at => '2026-03-09 10:00 America/Los_Angeles') AS d1 \gset
SELECT results_eq(format('SELECT due_date, all_day, due_at FROM activity WHERE deal_id = %s', :d1),
                  $$VALUES ('2026-03-10'::date, true, '2026-03-10 23:59:59.999999 America/Los_Angeles'::timestamptz)$$,
                  'first_due_date: all day on 10 March in Los Angeles, from a UTC session');
SELECT is(card_colour(:d1, '2026-03-10 09:00 America/Los_Angeles'), 'yellow', 'the card is yellow that morning');
SET TimeZone = 'Asia/Tokyo';
SELECT create_deal(901, 11, 'Same, Tokyo session', NULL, 'Call back', first_due_date => '2026-03-10',
                   at => '2026-03-09 10:00 America/Los_Angeles') AS d2 \gset
SELECT is((SELECT due_date FROM activity WHERE deal_id = :d2), '2026-03-10'::date,
          'the same day from a Tokyo session: the session TimeZone changes nothing');
SET TimeZone = 'UTC';

SELECT plan_activity(:d1, NULL, 'Send the offer', due_date => '2026-03-12', at => '2026-03-09 10:00 America/Los_Angeles') AS a1 \gset
SELECT is((SELECT due_date FROM activity WHERE id = :a1), '2026-03-12'::date, 'plan_activity: due_date');
SELECT move_deal(:d1, 12, 'Called back', NULL, 'Proposal', next_due_date => '2026-03-11',
                 at => '2026-03-10 10:00 America/Los_Angeles') AS ignored \gset
SELECT ok((SELECT due_date = '2026-03-11' AND all_day FROM activity a JOIN stage_history h ON h.next_activity_id = a.id
            WHERE h.deal_id = :d1 AND h.event = 'move'), 'move_deal: next_due_date plans the next step all day');
SELECT close_deal(:d2, false, 'No budget', lost_reason_id => 1, at => '2026-03-10 10:00 America/Los_Angeles') AS ignored \gset
SELECT reopen_deal(:d2, 11, NULL, 'Try again', next_due_date => '2026-03-20', at => '2026-03-11 10:00 America/Los_Angeles') AS ignored \gset
SELECT is((SELECT due_date FROM activity WHERE deal_id = :d2 AND status = 'planned'), '2026-03-20'::date,
          'reopen_deal: next_due_date');

SELECT throws_ok($$SELECT create_deal(901, 11, 'Both', '2026-03-10 10:00+00', 'Call', first_due_date => '2026-03-10',
                                      at => '2026-03-09 10:00+00')$$,
                 'SB025', 'pass either first_due or first_due_date, not both', 'a moment and a day together are SB025');
SELECT throws_ok($$SELECT create_deal(901, 11, 'Neither', NULL, 'Call', at => '2026-03-09 10:00+00')$$,
                 '22004', 'first_due must not be NULL', 'neither a moment nor a day is 22004');
SELECT throws_ok(format($$SELECT plan_activity(%s, NULL, 'x', due_date => 'infinity', at => '2026-03-10 10:00+00')$$, :d1),
                 'SB025', 'due_date must be a calendar day, not infinity', 'an infinite day is SB025');
SELECT throws_ok(format($$SELECT plan_activity(%s, NULL, 'Yesterday', due_date => '2026-03-09',
                                               at => '2026-03-10 10:00 America/Los_Angeles')$$, :d1),
                 'SB007', NULL, 'a day already over in the owner''s zone is SB007');
SELECT lives_ok(format($$SELECT plan_activity(%s, NULL, 'Today', due_date => '2026-03-10',
                                              at => '2026-03-10 23:00 America/Los_Angeles')$$, :d1),
                'today in the owner''s zone is fine, late in the evening too');

-- SB007 shows moments in the owner's local time with the zone's name
CREATE TEMP TABLE sb007 (message text, detail text);
DO $$
DECLARE m text; d text;
BEGIN
    PERFORM salesboard.plan_activity((SELECT min(id) FROM salesboard.deal WHERE owner_id = 901), '2026-03-10 08:00 America/Los_Angeles', 'Too late',
                                     at => '2026-03-10 09:30 America/Los_Angeles');
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL;
    INSERT INTO sb007 VALUES (m, d);
END $$;
SELECT matches((SELECT message FROM sb007), 'would be due at 2026-03-10 08:00:00 America/Los_Angeles, which is already past',
               'SB007 names the due moment in the owner''s zone');
SELECT is((SELECT detail FROM sb007), 'Now is 2026-03-10 09:30:00 America/Los_Angeles.', 'and now, the same way');
SELECT is((SELECT count(*) FROM verify()), 0::bigint, 'verify() is empty');

SELECT * FROM finish();
ROLLBACK;
