-- test/pgtap/20_colour_time_zones.sql: card colour (doc/reference.md, "The board") judged in the
-- deal owner's own time zone (doc/reference.md, "Time"), with time pinned through `at`.
--
-- Covers:
--  * red / yellow / green boundaries: a due moment exactly at `at` is not
--    overdue, one microsecond before `at` is; a due moment exactly at the
--    owner's next local midnight belongs to the next day (green, not yellow);
--  * all-day activities: due at the last microsecond of their local day
--    (yellow all that day, red from the first instant of the next local
--    day), and the day is the owner's local date of the given moment;
--  * Europe/Moscow; America/New_York on 2026-03-08 (DST starts, a 23-hour
--    day) and 2026-11-01 (DST ends, a 25-hour day); Asia/Kathmandu
--    (+05:45); Australia/Lord_Howe on 2026-04-05 (24.5 h) and 2026-10-04
--    (23.5 h); Pacific/Kiritimati (+14, local date ahead of UTC's);
--  * salesboard.end_of_day() and salesboard.local_date() directly, also for
--    zones whose local midnight is skipped (America/Santiago) or repeated
--    (America/Havana), and their refusal of non-IANA names (SB017);
--  * the server's TimeZone setting changes no answer (colours, why_colour,
--    end_of_day, local_date, the stored due moment of a new all-day
--    activity);
--  * a change of the owner's time zone takes effect at once (colour, and the
--    all-day activity's due moment re-anchored to the new zone);
--  * why_colour() names the deciding activities with states
--    overdue / today / planned; tasks count like interactions; done and
--    cancelled activities do not count; closed deals are green;
--  * card_colour_of(d) over a deal row equals card_colour(d.id).
BEGIN;
\ir fixture.psql
SET search_path = salesboard, public;
SET TimeZone = 'UTC';

SELECT plan(121);

-- Every deal is created at this moment (before any due moment used below).
\set C '2026-01-01 00:00+00'

/* ------------------------------------------------------------------
 * Deals, one planned activity each (ids captured, never hard-coded)
 * ------------------------------------------------------------------ */
-- Moscow (employee 4, UTC+3, no DST)
SELECT create_deal(4, 11, 'msk 15:00', '2026-03-10 15:00+03', 'call', at => :'C') AS m_due \gset
SELECT create_deal(4, 11, 'msk midnight', '2026-03-11 00:00+03', 'call', at => :'C') AS m_mid \gset
SELECT create_deal(4, 11, 'msk last us', '2026-03-10 23:59:59.999999+03', 'call', at => :'C') AS m_last \gset
SELECT create_deal(4, 11, 'msk all-day', '2026-03-10 12:00+03', 'call', first_all_day => true, at => :'C') AS m_allday \gset
-- 22:30 UTC on 03-10 is 01:30 on 03-11 in Moscow: the all-day belongs to Moscow's 03-11
SELECT create_deal(4, 11, 'msk all-day utc', '2026-03-10 22:30+00', 'call', first_all_day => true, at => :'C') AS m_allday_utc \gset

-- New York (employee 6): 2026-03-08 starts at 05:00 UTC and ends at 04:00 UTC next day (23 h)
SELECT create_deal(6, 11, 'ny spring last us', '2026-03-09 03:59:59.999999+00', 'call', at => :'C') AS n_spring_last \gset
SELECT create_deal(6, 11, 'ny spring midnight', '2026-03-09 04:00+00', 'call', at => :'C') AS n_spring_next \gset
SELECT create_deal(6, 11, 'ny spring 00:30', '2026-03-09 04:30+00', 'call', at => :'C') AS n_spring_0030 \gset
SELECT create_deal(6, 11, 'ny spring all-day', '2026-03-08 12:00-04', 'call', first_all_day => true, at => :'C') AS n_spring_allday \gset
-- 2026-11-01 starts at 04:00 UTC (EDT) and ends at 05:00 UTC next day (EST): 25 h
SELECT create_deal(6, 11, 'ny fall 23:30', '2026-11-02 04:30+00', 'call', at => :'C') AS n_fall_late \gset
SELECT create_deal(6, 11, 'ny fall midnight', '2026-11-02 05:00+00', 'call', at => :'C') AS n_fall_next \gset
SELECT create_deal(6, 11, 'ny fall all-day', '2026-11-01 12:00-05', 'call', first_all_day => true, at => :'C') AS n_fall_allday \gset

-- Kathmandu (employee 7, +05:45): 2026-03-10 local = [03-09 18:15, 03-10 18:15) UTC
SELECT create_deal(7, 11, 'ktm last us', '2026-03-10 18:14:59.999999+00', 'call', at => :'C') AS k_last \gset
SELECT create_deal(7, 11, 'ktm midnight', '2026-03-10 18:15+00', 'call', at => :'C') AS k_next \gset
SELECT create_deal(7, 11, 'ktm all-day', '2026-03-10 12:00+05:45', 'call', first_all_day => true, at => :'C') AS k_allday \gset

-- Lord Howe (employee 8): 2026-04-05 = [04-04 13:00, 04-05 13:30) UTC (24.5 h),
-- 2026-10-04 = [10-03 13:30, 10-04 13:00) UTC (23.5 h)
SELECT create_deal(8, 11, 'lhw apr 23:45', '2026-04-05 13:15+00', 'call', at => :'C') AS l_apr_late \gset
SELECT create_deal(8, 11, 'lhw apr midnight', '2026-04-05 13:30+00', 'call', at => :'C') AS l_apr_next \gset
SELECT create_deal(8, 11, 'lhw apr all-day', '2026-04-05 12:00+10:30', 'call', first_all_day => true, at => :'C') AS l_apr_allday \gset
SELECT create_deal(8, 11, 'lhw oct 00:15', '2026-10-04 13:15+00', 'call', at => :'C') AS l_oct_late \gset
SELECT create_deal(8, 11, 'lhw oct last us', '2026-10-04 12:59:59.999999+00', 'call', at => :'C') AS l_oct_last \gset
SELECT create_deal(8, 11, 'lhw oct all-day', '2026-10-04 12:00+11', 'call', first_all_day => true, at => :'C') AS l_oct_allday \gset

-- Kiritimati (employee 9, +14): 2026-03-10 local = [03-09 10:00, 03-10 10:00) UTC
SELECT create_deal(9, 11, 'kir 23:00', '2026-03-10 09:00+00', 'call', at => :'C') AS t_late \gset
SELECT create_deal(9, 11, 'kir 13:00', '2026-03-09 23:00+00', 'call', at => :'C') AS t_utc_today \gset
SELECT create_deal(9, 11, 'kir midnight', '2026-03-10 10:00+00', 'call', at => :'C') AS t_next \gset
-- 12:00 UTC on 03-09 is already 03-10 in Kiritimati
SELECT create_deal(9, 11, 'kir all-day', '2026-03-09 12:00+00', 'call', first_all_day => true, at => :'C') AS t_allday \gset

/* ------------------------------------------------------------------
 * Colour cases: (deal, at) -> expected colour
 * ------------------------------------------------------------------ */
CREATE TEMP TABLE cases (
    n serial PRIMARY KEY, label text NOT NULL, deal_id bigint NOT NULL,
    at timestamptz NOT NULL, expected text NOT NULL);
INSERT INTO cases (label, deal_id, at, expected) VALUES
 ('Moscow: due later today is yellow', :m_due, '2026-03-10 09:00+03', 'yellow'),
 ('Moscow: at the first instant of the due day it is yellow', :m_due, '2026-03-10 00:00+03', 'yellow'),
 ('Moscow: at the last microsecond of the day before it is green', :m_due, '2026-03-09 23:59:59.999999+03', 'green'),
 ('Moscow: due exactly at `at` is not overdue (yellow)', :m_due, '2026-03-10 15:00+03', 'yellow'),
 ('Moscow: due one microsecond before `at` is red', :m_due, '2026-03-10 15:00:00.000001+03', 'red'),
 ('Moscow: still red the next day', :m_due, '2026-03-11 10:00+03', 'red'),
 ('Moscow: due exactly at the next local midnight is green, not yellow', :m_mid, '2026-03-10 12:00+03', 'green'),
 ('Moscow: due at the next midnight, at the last microsecond of today: green', :m_mid, '2026-03-10 23:59:59.999999+03', 'green'),
 ('Moscow: due at midnight, `at` = that midnight: yellow', :m_mid, '2026-03-11 00:00+03', 'yellow'),
 ('Moscow: due at the last microsecond of today is yellow', :m_last, '2026-03-10 00:00+03', 'yellow'),
 ('Moscow all-day: yellow from the first instant of its day', :m_allday, '2026-03-10 00:00+03', 'yellow'),
 ('Moscow all-day: still yellow at the last microsecond of its day', :m_allday, '2026-03-10 23:59:59.999999+03', 'yellow'),
 ('Moscow all-day: red from the first instant of the next local day', :m_allday, '2026-03-11 00:00+03', 'red'),
 ('Moscow all-day: green the day before', :m_allday, '2026-03-09 23:59:59.999999+03', 'green'),
 ('Moscow all-day given as 22:30 UTC: its day is Moscow''s 03-11, so green late on 03-10', :m_allday_utc, '2026-03-10 23:00+03', 'green'),
 ('Moscow all-day given as 22:30 UTC: yellow on Moscow''s 03-11', :m_allday_utc, '2026-03-11 00:00+03', 'yellow'),
 ('Moscow all-day given as 22:30 UTC: red on Moscow''s 03-12', :m_allday_utc, '2026-03-12 00:00+03', 'red'),
 ('New York DST start: due at the last microsecond of the 23-hour day is yellow', :n_spring_last, '2026-03-08 05:00+00', 'yellow'),
 ('New York DST start: due at the next local midnight (04:00 UTC) is green', :n_spring_next, '2026-03-08 05:00+00', 'green'),
 ('New York DST start: 00:30 EDT next day is green (the day is not 24 h long)', :n_spring_0030, '2026-03-08 05:00+00', 'green'),
 ('New York DST start: the last microsecond of 03-07 is still the day before: green', :n_spring_last, '2026-03-08 04:59:59.999999+00', 'green'),
 ('New York DST start all-day: yellow at its last microsecond (03:59:59.999999 UTC)', :n_spring_allday, '2026-03-09 03:59:59.999999+00', 'yellow'),
 ('New York DST start all-day: red at 04:00 UTC (local midnight EDT)', :n_spring_allday, '2026-03-09 04:00+00', 'red'),
 ('New York DST start all-day: yellow from local midnight EST', :n_spring_allday, '2026-03-08 05:00+00', 'yellow'),
 ('New York DST end: 23:30 EST on the 25-hour day is yellow', :n_fall_late, '2026-11-01 04:00+00', 'yellow'),
 ('New York DST end: due at the next local midnight (05:00 UTC) is green', :n_fall_next, '2026-11-01 04:00+00', 'green'),
 ('New York DST end all-day: yellow at its last microsecond (04:59:59.999999 UTC)', :n_fall_allday, '2026-11-02 04:59:59.999999+00', 'yellow'),
 ('New York DST end all-day: red at 05:00 UTC (local midnight EST)', :n_fall_allday, '2026-11-02 05:00+00', 'red'),
 ('New York DST end all-day: still yellow at 04:30 UTC (23:30 EST)', :n_fall_allday, '2026-11-02 04:30+00', 'yellow'),
 ('Kathmandu: 23:59:59.999999 local is yellow from local midnight (18:15 UTC)', :k_last, '2026-03-09 18:15+00', 'yellow'),
 ('Kathmandu: the day before ends at 18:14:59.999999 UTC: green', :k_last, '2026-03-09 18:14:59.999999+00', 'green'),
 ('Kathmandu: due at the next local midnight (18:15 UTC) is green', :k_next, '2026-03-09 18:15+00', 'green'),
 ('Kathmandu: due exactly at `at` is yellow', :k_next, '2026-03-10 18:15+00', 'yellow'),
 ('Kathmandu all-day: yellow at 18:14:59.999999 UTC', :k_allday, '2026-03-10 18:14:59.999999+00', 'yellow'),
 ('Kathmandu all-day: red at 18:15 UTC (next local day)', :k_allday, '2026-03-10 18:15+00', 'red'),
 ('Kathmandu all-day: green the day before', :k_allday, '2026-03-09 18:14:59.999999+00', 'green'),
 ('Lord Howe DST end: 23:45 LHST on the 24.5-hour day is yellow', :l_apr_late, '2026-04-04 13:00+00', 'yellow'),
 ('Lord Howe DST end: due at the next local midnight (13:30 UTC) is green', :l_apr_next, '2026-04-04 13:00+00', 'green'),
 ('Lord Howe DST end: due exactly at `at` is yellow', :l_apr_next, '2026-04-05 13:30+00', 'yellow'),
 ('Lord Howe DST end: the last microsecond of 04-04 is the day before: green', :l_apr_late, '2026-04-04 12:59:59.999999+00', 'green'),
 ('Lord Howe DST end all-day: yellow at 13:29:59.999999 UTC', :l_apr_allday, '2026-04-05 13:29:59.999999+00', 'yellow'),
 ('Lord Howe DST end all-day: red at 13:30 UTC', :l_apr_allday, '2026-04-05 13:30+00', 'red'),
 ('Lord Howe DST start: 00:15 LHDT next day is green on the 23.5-hour day', :l_oct_late, '2026-10-03 13:30+00', 'green'),
 ('Lord Howe DST start: due at the last microsecond of the short day is yellow', :l_oct_last, '2026-10-03 13:30+00', 'yellow'),
 ('Lord Howe DST start: the last microsecond of 10-03 is the day before: green', :l_oct_last, '2026-10-03 13:29:59.999999+00', 'green'),
 ('Lord Howe DST start all-day: yellow at 12:59:59.999999 UTC', :l_oct_allday, '2026-10-04 12:59:59.999999+00', 'yellow'),
 ('Lord Howe DST start all-day: red at 13:00 UTC', :l_oct_allday, '2026-10-04 13:00+00', 'red'),
 ('Kiritimati: 23:00 local on 03-10 is yellow at 12:00 UTC on 03-09 (local 03-10)', :t_late, '2026-03-09 12:00+00', 'yellow'),
 ('Kiritimati: due later the same UTC day is yellow', :t_utc_today, '2026-03-09 12:00+00', 'yellow'),
 ('Kiritimati: due at the next local midnight (10:00 UTC) is green', :t_next, '2026-03-09 12:00+00', 'green'),
 ('Kiritimati all-day: yellow at 09:59:59.999999 UTC', :t_allday, '2026-03-10 09:59:59.999999+00', 'yellow'),
 ('Kiritimati all-day: red at 10:00 UTC although the UTC date is still 03-10', :t_allday, '2026-03-10 10:00+00', 'red'),
 ('Kiritimati all-day: green at the last microsecond of local 03-09', :t_allday, '2026-03-09 09:59:59.999999+00', 'green');

-- 53 assertions, one per case, under TimeZone = UTC
SELECT is(card_colour(deal_id, at), expected, label) FROM cases ORDER BY n;

/* ------------------------------------------------------------------
 * Stored due moments of all-day activities (8)
 * ------------------------------------------------------------------ */
SELECT is((SELECT (due_date, due_at)::text FROM activity WHERE deal_id = :m_allday),
          ('2026-03-10'::date, '2026-03-10 23:59:59.999999+03'::timestamptz)::text,
          'Moscow all-day: due_date 2026-03-10, due at its last microsecond');
SELECT is((SELECT (due_date, due_at)::text FROM activity WHERE deal_id = :m_allday_utc),
          ('2026-03-11'::date, '2026-03-11 23:59:59.999999+03'::timestamptz)::text,
          'Moscow all-day given as 22:30 UTC on 03-10 falls on Moscow''s 03-11');
SELECT is((SELECT (due_date, due_at)::text FROM activity WHERE deal_id = :n_spring_allday),
          ('2026-03-08'::date, '2026-03-09 03:59:59.999999+00'::timestamptz)::text,
          'New York all-day on the DST-start day ends at 03:59:59.999999 UTC');
SELECT is((SELECT (due_date, due_at)::text FROM activity WHERE deal_id = :n_fall_allday),
          ('2026-11-01'::date, '2026-11-02 04:59:59.999999+00'::timestamptz)::text,
          'New York all-day on the DST-end day ends at 04:59:59.999999 UTC');
SELECT is((SELECT (due_date, due_at)::text FROM activity WHERE deal_id = :k_allday),
          ('2026-03-10'::date, '2026-03-10 18:14:59.999999+00'::timestamptz)::text,
          'Kathmandu all-day ends at 18:14:59.999999 UTC');
SELECT is((SELECT (due_date, due_at)::text FROM activity WHERE deal_id = :l_apr_allday),
          ('2026-04-05'::date, '2026-04-05 13:29:59.999999+00'::timestamptz)::text,
          'Lord Howe all-day on 2026-04-05 ends at 13:29:59.999999 UTC');
SELECT is((SELECT (due_date, due_at)::text FROM activity WHERE deal_id = :l_oct_allday),
          ('2026-10-04'::date, '2026-10-04 12:59:59.999999+00'::timestamptz)::text,
          'Lord Howe all-day on 2026-10-04 ends at 12:59:59.999999 UTC');
SELECT is((SELECT (due_date, due_at)::text FROM activity WHERE deal_id = :t_allday),
          ('2026-03-10'::date, '2026-03-10 09:59:59.999999+00'::timestamptz)::text,
          'Kiritimati all-day given as 12:00 UTC on 03-09 is local 03-10, ends 09:59:59.999999 UTC');

/* ------------------------------------------------------------------
 * end_of_day() and local_date() directly (14 + 3 errors)
 * ------------------------------------------------------------------ */
SELECT is(end_of_day('2026-03-10', 'Europe/Moscow'), '2026-03-10 20:59:59.999999+00'::timestamptz,
          'end_of_day: Moscow 2026-03-10');
SELECT is(end_of_day('2026-03-08', 'America/New_York'), '2026-03-09 03:59:59.999999+00'::timestamptz,
          'end_of_day: New York on the DST-start day (23 h)');
SELECT is(end_of_day('2026-11-01', 'America/New_York'), '2026-11-02 04:59:59.999999+00'::timestamptz,
          'end_of_day: New York on the DST-end day (25 h)');
SELECT is(end_of_day('2026-03-10', 'Asia/Kathmandu'), '2026-03-10 18:14:59.999999+00'::timestamptz,
          'end_of_day: Kathmandu (+05:45)');
SELECT is(end_of_day('2026-04-05', 'Australia/Lord_Howe'), '2026-04-05 13:29:59.999999+00'::timestamptz,
          'end_of_day: Lord Howe on the DST-end day (24.5 h)');
SELECT is(end_of_day('2026-10-04', 'Australia/Lord_Howe'), '2026-10-04 12:59:59.999999+00'::timestamptz,
          'end_of_day: Lord Howe on the DST-start day (23.5 h)');
SELECT is(end_of_day('2026-03-10', 'Pacific/Kiritimati'), '2026-03-10 09:59:59.999999+00'::timestamptz,
          'end_of_day: Kiritimati (+14)');
-- Santiago: 2026-09-06 00:00 does not exist (clocks jump to 01:00 -03 = 04:00 UTC)
SELECT is(end_of_day('2026-09-05', 'America/Santiago'), '2026-09-06 03:59:59.999999+00'::timestamptz,
          'end_of_day: a day followed by a skipped midnight ends just before the first instant of the next day');
-- Havana: local midnight of 2026-11-01 happens twice (04:00 and 05:00 UTC): the day starts at the first
SELECT is(end_of_day('2026-10-31', 'America/Havana'), '2026-11-01 03:59:59.999999+00'::timestamptz,
          'end_of_day: a day followed by a repeated midnight ends before its first occurrence');
SELECT is(local_date('2026-03-09 12:00+00', 'Pacific/Kiritimati'), '2026-03-10'::date,
          'local_date: Kiritimati is a calendar day ahead of UTC at 12:00 UTC');
SELECT is(local_date('2026-03-09 18:15+00', 'Asia/Kathmandu'), '2026-03-10'::date,
          'local_date: Kathmandu day starts at 18:15 UTC');
SELECT is(local_date('2026-03-09 18:14:59.999999+00', 'Asia/Kathmandu'), '2026-03-09'::date,
          'local_date: one microsecond earlier is still the day before in Kathmandu');
SELECT is(local_date('2026-11-02 04:30+00', 'America/New_York'), '2026-11-01'::date,
          'local_date: 04:30 UTC on 11-02 is still 11-01 in New York (EST)');
SELECT is(local_date('2026-04-04 12:59:59.999999+00', 'Australia/Lord_Howe'), '2026-04-04'::date,
          'local_date: Lord Howe 04-04 ends at 12:59:59.999999 UTC (LHDT)');
SELECT throws_ok($$SELECT salesboard.end_of_day('2026-03-10', 'Mars/Olympus')$$, 'SB017', NULL,
                 'end_of_day: an unknown zone is refused with SB017');
SELECT throws_ok($$SELECT salesboard.end_of_day('2026-03-10', 'UTC+3')$$, 'SB017', NULL,
                 'end_of_day: a POSIX offset string is not an IANA name (SB017)');
SELECT throws_ok($$SELECT salesboard.local_date('2026-03-10 12:00+00', 'europe/moscow')$$, 'SB017', NULL,
                 'local_date: a differently cased zone name is refused (SB017)');

/* ------------------------------------------------------------------
 * why_colour: the deciding activities and their states (13)
 * ------------------------------------------------------------------ */
-- w: Moscow; call A 10:00, task B 11:00, meeting C 18:00, all-day D on 03-10, E on 03-12
SELECT create_deal(4, 12, 'why', '2026-03-10 10:00+03', 'call A', at => :'C') AS w \gset
SELECT next_activity_id AS w_a FROM deal WHERE id = :w \gset
SELECT plan_activity(:w, '2026-03-10 11:00+03', 'task B', kind => 'task', at => :'C') AS w_b \gset
SELECT plan_activity(:w, '2026-03-10 18:00+03', 'meeting C', at => :'C') AS w_c \gset
SELECT plan_activity(:w, '2026-03-10 09:00+03', 'all-day D', all_day => true, at => :'C') AS w_d \gset
SELECT plan_activity(:w, '2026-03-12 10:00+03', 'later E', at => :'C') AS w_e \gset

SELECT results_eq(
    $$SELECT activity_id, subject, state, colour FROM salesboard.why_colour($$ || :w || $$, '2026-03-10 12:00+03') ORDER BY due_at, activity_id$$,
    format($$VALUES (%s::bigint, 'call A'::text, 'overdue'::text, 'red'::text), (%s::bigint, 'task B', 'overdue', 'red')$$, :w_a, :w_b),
    'why_colour red: names every overdue activity (an interaction and a task), state overdue');
SELECT results_eq(
    $$SELECT activity_id, subject, state, colour, all_day FROM salesboard.why_colour($$ || :w || $$, '2026-03-10 09:00+03') ORDER BY due_at, activity_id$$,
    format($$VALUES (%s::bigint, 'call A'::text, 'today'::text, 'yellow'::text, false),
                    (%s::bigint, 'task B', 'today', 'yellow', false),
                    (%s::bigint, 'meeting C', 'today', 'yellow', false),
                    (%s::bigint, 'all-day D', 'today', 'yellow', true)$$, :w_a, :w_b, :w_c, :w_d),
    'why_colour yellow: names every activity due today (all-day included), not the later one');
SELECT results_eq(
    $$SELECT activity_id, subject, state, colour FROM salesboard.why_colour($$ || :w || $$, '2026-03-09 12:00+03')$$,
    format($$VALUES (%s::bigint, 'call A'::text, 'planned'::text, 'green'::text)$$, :w_a),
    'why_colour green: names the next planned activity only, state planned');
SELECT is(card_colour(:w, '2026-03-10 12:00+03'), 'red', 'why deal is red at 12:00 Moscow');

-- done and cancelled activities no longer count
SELECT complete_activity(:w_a, 'Client picked up', at => '2026-03-10 12:00+03') \gset junk_
SELECT cancel_activity(:w_b, 'Not needed', at => '2026-03-10 12:00+03') \gset junk_
SELECT is(card_colour(:w, '2026-03-10 12:00+03'), 'yellow',
          'after completing and cancelling the overdue ones the card is yellow');
SELECT results_eq(
    $$SELECT activity_id, state FROM salesboard.why_colour($$ || :w || $$, '2026-03-10 12:00+03') ORDER BY due_at, activity_id$$,
    format($$VALUES (%s::bigint, 'today'::text), (%s::bigint, 'today'::text)$$, :w_c, :w_d),
    'why_colour yellow after that: the meeting and the all-day activity, both today');
SELECT is(card_colour(:w, '2026-03-11 00:00+03'), 'red',
          'the all-day activity makes the card red from the next local midnight');
SELECT results_eq(
    $$SELECT activity_id, state FROM salesboard.why_colour($$ || :w || $$, '2026-03-11 00:00+03') ORDER BY due_at, activity_id$$,
    format($$VALUES (%s::bigint, 'overdue'::text), (%s::bigint, 'overdue'::text)$$, :w_c, :w_d),
    'why_colour at the next midnight: the meeting and the all-day activity are overdue');
SELECT cancel_activity(:w_c, 'Moved', at => '2026-03-10 12:00+03') \gset junk_
SELECT cancel_activity(:w_d, 'Moved', at => '2026-03-10 12:00+03') \gset junk_
SELECT results_eq(
    $$SELECT activity_id, state, colour FROM salesboard.why_colour($$ || :w || $$, '2026-03-10 12:00+03')$$,
    format($$VALUES (%s::bigint, 'planned'::text, 'green'::text)$$, :w_e),
    'with only a later activity left, the card is green and why_colour names it');

-- a task alone decides red: the interaction is later
SELECT create_deal(4, 11, 'why task', '2026-03-12 10:00+03', 'call later', at => :'C') AS w2 \gset
SELECT plan_activity(:w2, '2026-03-10 10:00+03', 'internal task', kind => 'task', at => :'C') AS w2_t \gset
SELECT is(card_colour(:w2, '2026-03-10 12:00+03'), 'red', 'an overdue task alone makes the card red');
SELECT results_eq(
    $$SELECT activity_id, kind, state FROM salesboard.why_colour($$ || :w2 || $$, '2026-03-10 12:00+03')$$,
    format($$VALUES (%s::bigint, 'task'::text, 'overdue'::text)$$, :w2_t),
    'why_colour names the overdue task');

-- a closed deal has no planned work: green, nothing to explain
SELECT close_deal(:w2, false, 'Went with a competitor', lost_reason_id => 2, at => '2026-03-10 13:00+03') \gset junk_
SELECT is(card_colour(:w2, '2026-03-10 14:00+03'), 'green', 'a closed deal is green');
SELECT is_empty($$SELECT * FROM salesboard.why_colour($$ || :w2 || $$, '2026-03-10 14:00+03')$$,
                'why_colour of a closed deal is empty');

/* ------------------------------------------------------------------
 * card_colour_of(d) over a row equals card_colour(d.id) (3)
 * ------------------------------------------------------------------ */
SELECT is(
    (SELECT count(*) FROM deal d CROSS JOIN (SELECT DISTINCT at FROM cases) x
      WHERE card_colour_of(d, x.at) IS DISTINCT FROM card_colour(d.id, x.at)),
    0::bigint,
    'card_colour(row) = card_colour(id) for every deal at every case moment');
SELECT is(
    (SELECT array_agg(DISTINCT card_colour_of(d, x.at) ORDER BY card_colour_of(d, x.at))
       FROM deal d CROSS JOIN (SELECT DISTINCT at FROM cases) x),
    ARRAY['green', 'red', 'yellow'],
    'the row comparison above covers all three colours');
SELECT is((SELECT card_colour_of(d, '2026-03-10 12:00+03') FROM deal d WHERE id = :w2), 'green',
          'card_colour(row) of a closed deal is green');

/* ------------------------------------------------------------------
 * Default at = now() (2): the fixed dates above are in the past of the clock
 * ------------------------------------------------------------------ */
SELECT create_deal(4, 11, 'far future', now() + interval '400 days', 'call') AS far \gset
SELECT is(card_colour(:far), 'green', 'card_colour with the default at: due in 400 days is green');
SELECT is(card_colour(:m_due), CASE WHEN now() > '2026-03-10 15:00+03' THEN 'red' ELSE 'green' END,
          'card_colour with the default at uses now()');

/* ------------------------------------------------------------------
 * The server's TimeZone setting changes no answer (1 + 5 zones x 4)
 * ------------------------------------------------------------------ */
CREATE TEMP TABLE base_why AS
    SELECT c.n, w.activity_id, w.state, w.colour FROM cases c, LATERAL why_colour(c.deal_id, c.at) w;
CREATE TEMP TABLE base_time AS
    SELECT z, d, m, end_of_day(d, z) AS eod, local_date(m, z) AS ld
      FROM (VALUES ('America/New_York', '2026-03-08'::date, '2026-11-02 04:30+00'::timestamptz),
                   ('America/New_York', '2026-11-01', '2026-03-08 04:59:59.999999+00'),
                   ('Asia/Kathmandu', '2026-03-10', '2026-03-09 18:15+00'),
                   ('Australia/Lord_Howe', '2026-04-05', '2026-04-04 13:00+00'),
                   ('Australia/Lord_Howe', '2026-10-04', '2026-10-03 13:29:59.999999+00'),
                   ('Pacific/Kiritimati', '2026-03-10', '2026-03-09 12:00+00'),
                   ('Europe/Moscow', '2026-03-10', '2026-03-10 20:59:59.999999+00')) v(z, d, m);
SELECT is((SELECT array_agg(DISTINCT state ORDER BY state) FROM base_why), ARRAY['overdue', 'planned', 'today'],
          'the why_colour baseline (under UTC) holds all three states');
-- the all-day activity of m_allday_utc, created under UTC: the reference for new ones
SELECT (due_date, extract(epoch FROM due_at))::text AS allday_ref FROM activity WHERE deal_id = :m_allday_utc \gset

SET TimeZone = 'Pacific/Honolulu';
SELECT is((SELECT count(*) FROM cases WHERE card_colour(deal_id, at) <> expected), 0::bigint,
          'TimeZone Pacific/Honolulu: every colour case gives the same answer');
SELECT set_eq('SELECT c.n, w.activity_id, w.state, w.colour FROM cases c, LATERAL salesboard.why_colour(c.deal_id, c.at) w',
              'SELECT n, activity_id, state, colour FROM base_why',
              'TimeZone Pacific/Honolulu: why_colour gives the same rows');
SELECT set_eq('SELECT z, d, salesboard.end_of_day(d, z), salesboard.local_date(m, z) FROM base_time',
              'SELECT z, d, eod, ld FROM base_time',
              'TimeZone Pacific/Honolulu: end_of_day and local_date give the same answers');
SELECT create_deal(4, 11, 'all-day under Pacific/Honolulu', '2026-03-10 22:30+00', 'call', first_all_day => true, at => :'C') AS nd \gset
SELECT is((SELECT (due_date, extract(epoch FROM due_at))::text FROM activity WHERE deal_id = :nd),
          :'allday_ref',
          'TimeZone Pacific/Honolulu: a new all-day activity gets the owner''s day and end of day');

SET TimeZone = 'Asia/Tokyo';
SELECT is((SELECT count(*) FROM cases WHERE card_colour(deal_id, at) <> expected), 0::bigint,
          'TimeZone Asia/Tokyo: every colour case gives the same answer');
SELECT set_eq('SELECT c.n, w.activity_id, w.state, w.colour FROM cases c, LATERAL salesboard.why_colour(c.deal_id, c.at) w',
              'SELECT n, activity_id, state, colour FROM base_why',
              'TimeZone Asia/Tokyo: why_colour gives the same rows');
SELECT set_eq('SELECT z, d, salesboard.end_of_day(d, z), salesboard.local_date(m, z) FROM base_time',
              'SELECT z, d, eod, ld FROM base_time',
              'TimeZone Asia/Tokyo: end_of_day and local_date give the same answers');
SELECT create_deal(4, 11, 'all-day under Asia/Tokyo', '2026-03-10 22:30+00', 'call', first_all_day => true, at => :'C') AS nd \gset
SELECT is((SELECT (due_date, extract(epoch FROM due_at))::text FROM activity WHERE deal_id = :nd),
          :'allday_ref',
          'TimeZone Asia/Tokyo: a new all-day activity gets the owner''s day and end of day');

SET TimeZone = 'Pacific/Kiritimati';
SELECT is((SELECT count(*) FROM cases WHERE card_colour(deal_id, at) <> expected), 0::bigint,
          'TimeZone Pacific/Kiritimati: every colour case gives the same answer');
SELECT set_eq('SELECT c.n, w.activity_id, w.state, w.colour FROM cases c, LATERAL salesboard.why_colour(c.deal_id, c.at) w',
              'SELECT n, activity_id, state, colour FROM base_why',
              'TimeZone Pacific/Kiritimati: why_colour gives the same rows');
SELECT set_eq('SELECT z, d, salesboard.end_of_day(d, z), salesboard.local_date(m, z) FROM base_time',
              'SELECT z, d, eod, ld FROM base_time',
              'TimeZone Pacific/Kiritimati: end_of_day and local_date give the same answers');
SELECT create_deal(4, 11, 'all-day under Pacific/Kiritimati', '2026-03-10 22:30+00', 'call', first_all_day => true, at => :'C') AS nd \gset
SELECT is((SELECT (due_date, extract(epoch FROM due_at))::text FROM activity WHERE deal_id = :nd),
          :'allday_ref',
          'TimeZone Pacific/Kiritimati: a new all-day activity gets the owner''s day and end of day');

SET TimeZone = 'America/New_York';
SELECT is((SELECT count(*) FROM cases WHERE card_colour(deal_id, at) <> expected), 0::bigint,
          'TimeZone America/New_York: every colour case gives the same answer');
SELECT set_eq('SELECT c.n, w.activity_id, w.state, w.colour FROM cases c, LATERAL salesboard.why_colour(c.deal_id, c.at) w',
              'SELECT n, activity_id, state, colour FROM base_why',
              'TimeZone America/New_York: why_colour gives the same rows');
SELECT set_eq('SELECT z, d, salesboard.end_of_day(d, z), salesboard.local_date(m, z) FROM base_time',
              'SELECT z, d, eod, ld FROM base_time',
              'TimeZone America/New_York: end_of_day and local_date give the same answers');
SELECT create_deal(4, 11, 'all-day under America/New_York', '2026-03-10 22:30+00', 'call', first_all_day => true, at => :'C') AS nd \gset
SELECT is((SELECT (due_date, extract(epoch FROM due_at))::text FROM activity WHERE deal_id = :nd),
          :'allday_ref',
          'TimeZone America/New_York: a new all-day activity gets the owner''s day and end of day');

SET TimeZone = 'Australia/Lord_Howe';
SELECT is((SELECT count(*) FROM cases WHERE card_colour(deal_id, at) <> expected), 0::bigint,
          'TimeZone Australia/Lord_Howe: every colour case gives the same answer');
SELECT set_eq('SELECT c.n, w.activity_id, w.state, w.colour FROM cases c, LATERAL salesboard.why_colour(c.deal_id, c.at) w',
              'SELECT n, activity_id, state, colour FROM base_why',
              'TimeZone Australia/Lord_Howe: why_colour gives the same rows');
SELECT set_eq('SELECT z, d, salesboard.end_of_day(d, z), salesboard.local_date(m, z) FROM base_time',
              'SELECT z, d, eod, ld FROM base_time',
              'TimeZone Australia/Lord_Howe: end_of_day and local_date give the same answers');
SELECT create_deal(4, 11, 'all-day under Australia/Lord_Howe', '2026-03-10 22:30+00', 'call', first_all_day => true, at => :'C') AS nd \gset
SELECT is((SELECT (due_date, extract(epoch FROM due_at))::text FROM activity WHERE deal_id = :nd),
          :'allday_ref',
          'TimeZone Australia/Lord_Howe: a new all-day activity gets the owner''s day and end of day');
RESET TimeZone;

/* ------------------------------------------------------------------
 * The owner's zone, not a zone remembered from before (4): employee 4
 * moves to Pacific/Kiritimati in this transaction
 * ------------------------------------------------------------------ */
SELECT is(card_colour(:m_due, '2026-03-09 22:00+00'), 'yellow',
          'before the move: 01:00 on 03-10 in Moscow, due 15:00 that day: yellow');
UPDATE employee SET time_zone = 'Pacific/Kiritimati' WHERE id = 4;
SELECT is(card_colour(:m_due, '2026-03-09 22:00+00'), 'green',
          'after the owner moves to Kiritimati it is 03-10 12:00 there and the call is on 03-11: green');
SELECT is((SELECT (due_date, extract(epoch FROM due_at))::text FROM activity WHERE deal_id = :m_allday),
          ('2026-03-10'::date, extract(epoch FROM '2026-03-10 09:59:59.999999+00'::timestamptz))::text,
          'the all-day activity keeps its day and now ends at the end of 03-10 in Kiritimati');
SELECT is(card_colour(:m_allday, '2026-03-10 10:00+00'), 'red',
          'so it is red from 10:00 UTC on 03-10 (it would still be yellow in Moscow)');

SELECT * FROM finish();
ROLLBACK;
