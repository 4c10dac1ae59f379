-- test/pgtap/22_access.sql: access (doc/reference.md, "Identity and access"): nobody sees
-- or changes what they must not, through the tables (row-level security)
-- or through the functions.
--
-- Covers, for the fixture's roles sbt_mseller (employee 4), sbt_other (10,
-- same team), sbt_ahead (team head 3), sbt_mhead (2), sbt_nyhead (5),
-- sbt_ktm (7, head of Far sales), sbt_director (1), sbt_admin
-- (salesboard_admin), sbt_stranger (salesboard_user, no employee) and
-- sbt_app (salesboard_app, before and after set_employee()):
--  * which deals each sees in deal, activity, stage_history, deal_tag
--    (and inbound, alert for three of them);
--  * UPDATE / DELETE of invisible rows affect 0 rows and change nothing;
--    privileges the roles lack are refused (42501);
--  * INSERT of a deal, activity or tag outside one's subtree, or moving
--    one's deal to someone invisible, violates the policy (42501);
--  * move_deal / close_deal / reopen_deal / plan_activity /
--    complete_activity / cancel_activity / set_priority / card_colour /
--    why_colour on an invisible deal fail with SB030 / SB032 and change
--    nothing; create_deal for someone outside one's subtree fails (SB024);
--  * board / deal_list / board_text of someone not below me: SB024;
--  * a session that acts as nobody (sbt_stranger; sbt_app before
--    set_employee) gets SB022 from every function and from row-level
--    security alike, not an empty answer;
--  * set_employee() by a non-app role: 42501 (no EXECUTE) or SB021 (EXECUTE
--    granted but not a salesboard_app member); by the app role it changes
--    current_employee() at once. That it is reset at the end of the
--    transaction cannot be seen from inside this test's one transaction;
--    it is covered elsewhere (the TAP / isolation suites);
--  * `at` other than now() on the write functions (and done_at on a direct
--    UPDATE) is refused to ordinary roles (SB013) and allowed to
--    salesboard_admin and salesboard_app members;
--  * verify() is for salesboard_admin only.
-- The app role's set_employee() acts until the end of the transaction, so
-- its block comes last.
BEGIN;
\ir fixture.psql
SET search_path = salesboard, public;

SELECT plan(143);

/* ------------------------------------------------------------------
 * One open deal per employee, each tagged; employee 10 also has a won deal
 * (created as superuser, at now(), due tomorrow)
 * ------------------------------------------------------------------ */
SELECT create_deal(1, 11, 'deal of 1', now() + interval '1 day', 'call', tags => '{VIP}') AS d1 \gset
SELECT create_deal(2, 11, 'deal of 2', now() + interval '1 day', 'call', tags => '{VIP}') AS d2 \gset
SELECT create_deal(3, 11, 'deal of 3', now() + interval '1 day', 'call', tags => '{VIP}') AS d3 \gset
SELECT create_deal(4, 11, 'deal of 4', now() + interval '1 day', 'call', tags => '{VIP}') AS d4 \gset
SELECT create_deal(5, 11, 'deal of 5', now() + interval '1 day', 'call', tags => '{VIP}') AS d5 \gset
SELECT create_deal(6, 11, 'deal of 6', now() + interval '1 day', 'call', tags => '{VIP}') AS d6 \gset
SELECT create_deal(7, 11, 'deal of 7', now() + interval '1 day', 'call', tags => '{VIP}') AS d7 \gset
SELECT create_deal(8, 11, 'deal of 8', now() + interval '1 day', 'call', tags => '{VIP}') AS d8 \gset
SELECT create_deal(9, 11, 'deal of 9', now() + interval '1 day', 'call', tags => '{VIP}') AS d9 \gset
SELECT create_deal(10, 11, 'deal of 10', now() + interval '1 day', 'call', tags => '{VIP}') AS d10 \gset
SELECT create_deal(10, 11, 'won deal of 10', now() + interval '1 day', 'call', tags => '{VIP}') AS d10c \gset
SELECT close_deal(:d10c, true, 'Signed') \gset junk_
SELECT next_activity_id AS a4 FROM deal WHERE id = :d4 \gset
SELECT next_activity_id AS a10 FROM deal WHERE id = :d10 \gset

-- inbound requests and alerts for employees 4 and 10
INSERT INTO lead_source (channel, address, owner_id) VALUES ('email', 'sales@acme.test', 4), ('email', 'olga@acme.test', 10);
INSERT INTO inbound (source_id, channel, sender, owner_id)
    SELECT id, 'email', 'buyer' || owner_id || '@example.test', owner_id FROM lead_source;
INSERT INTO alert (employee_id, kind, deal_id, event_at) VALUES
    (4, 'activity_overdue', :d4, now()), (10, 'activity_overdue', :d10, now());

-- what the rows of employee 10's deals look like now, to prove nothing changed later
SELECT (SELECT string_agg(format('%s|%s|%s|%s|%s|%s|%s', id, stage_id, status, title, priority, next_due, next_activity_id), ';' ORDER BY id)
          FROM deal WHERE owner_id = 10)
    || '#' || (SELECT string_agg(format('%s|%s|%s|%s|%s', id, status, subject, due_at, result), ';' ORDER BY id)
          FROM activity WHERE deal_id IN (:d10, :d10c))
    || '#' || (SELECT count(*) FROM stage_history WHERE deal_id IN (:d10, :d10c))
    || '#' || (SELECT count(*) FROM deal_tag WHERE deal_id IN (:d10, :d10c)) AS snap10 \gset

/* ------------------------------------------------------------------
 * Visibility matrix: deal ids seen in each table (40 + 6)
 * ------------------------------------------------------------------ */
SET ROLE sbt_mseller;
SELECT is((SELECT array_agg(id ORDER BY id) FROM deal), ARRAY[:d4]::bigint[], 'sbt_mseller sees its own deal only');
SELECT is((SELECT array_agg(DISTINCT deal_id ORDER BY deal_id) FROM activity), ARRAY[:d4]::bigint[], 'sbt_mseller: activities of its own deal only');
SELECT is((SELECT array_agg(DISTINCT deal_id ORDER BY deal_id) FROM stage_history), ARRAY[:d4]::bigint[], 'sbt_mseller: stage history of its own deal only');
SELECT is((SELECT array_agg(DISTINCT deal_id ORDER BY deal_id) FROM deal_tag), ARRAY[:d4]::bigint[], 'sbt_mseller: tags of its own deal only');
SELECT is((SELECT array_agg(owner_id ORDER BY owner_id) FROM inbound), ARRAY[4]::bigint[], 'sbt_mseller: its own inbound requests only');
SELECT is((SELECT array_agg(employee_id ORDER BY employee_id) FROM alert), ARRAY[4]::bigint[], 'sbt_mseller: its own alerts only');
RESET ROLE;

SET ROLE sbt_other;
SELECT is((SELECT array_agg(id ORDER BY id) FROM deal), ARRAY[:d10, :d10c]::bigint[], 'sbt_other sees its own deals, not its teammate''s');
SELECT is((SELECT array_agg(DISTINCT deal_id ORDER BY deal_id) FROM activity), ARRAY[:d10, :d10c]::bigint[], 'sbt_other: activities');
SELECT is((SELECT array_agg(DISTINCT deal_id ORDER BY deal_id) FROM stage_history), ARRAY[:d10, :d10c]::bigint[], 'sbt_other: stage history');
SELECT is((SELECT array_agg(DISTINCT deal_id ORDER BY deal_id) FROM deal_tag), ARRAY[:d10, :d10c]::bigint[], 'sbt_other: tags');
RESET ROLE;

SET ROLE sbt_ahead;
SELECT is((SELECT array_agg(id ORDER BY id) FROM deal), ARRAY[:d3, :d4, :d10, :d10c]::bigint[], 'sbt_ahead (team head) sees 3, 4, 10');
SELECT is((SELECT array_agg(DISTINCT deal_id ORDER BY deal_id) FROM activity), ARRAY[:d3, :d4, :d10, :d10c]::bigint[], 'sbt_ahead: activities');
SELECT is((SELECT array_agg(DISTINCT deal_id ORDER BY deal_id) FROM stage_history), ARRAY[:d3, :d4, :d10, :d10c]::bigint[], 'sbt_ahead: stage history');
SELECT is((SELECT array_agg(DISTINCT deal_id ORDER BY deal_id) FROM deal_tag), ARRAY[:d3, :d4, :d10, :d10c]::bigint[], 'sbt_ahead: tags');
SELECT is((SELECT array_agg(owner_id ORDER BY owner_id) FROM inbound), ARRAY[4, 10]::bigint[], 'sbt_ahead: inbound of its team');
SELECT is((SELECT array_agg(employee_id ORDER BY employee_id) FROM alert), ARRAY[4, 10]::bigint[], 'sbt_ahead: alerts of its team');
RESET ROLE;

SET ROLE sbt_mhead;
SELECT is((SELECT array_agg(id ORDER BY id) FROM deal), ARRAY[:d2, :d3, :d4, :d10, :d10c]::bigint[], 'sbt_mhead sees 2, 3, 4, 10');
SELECT is((SELECT array_agg(DISTINCT deal_id ORDER BY deal_id) FROM activity), ARRAY[:d2, :d3, :d4, :d10, :d10c]::bigint[], 'sbt_mhead: activities');
SELECT is((SELECT array_agg(DISTINCT deal_id ORDER BY deal_id) FROM stage_history), ARRAY[:d2, :d3, :d4, :d10, :d10c]::bigint[], 'sbt_mhead: stage history');
SELECT is((SELECT array_agg(DISTINCT deal_id ORDER BY deal_id) FROM deal_tag), ARRAY[:d2, :d3, :d4, :d10, :d10c]::bigint[], 'sbt_mhead: tags');
RESET ROLE;

SET ROLE sbt_nyhead;
SELECT is((SELECT array_agg(id ORDER BY id) FROM deal), ARRAY[:d5, :d6]::bigint[], 'sbt_nyhead sees 5 and 6');
SELECT is((SELECT array_agg(DISTINCT deal_id ORDER BY deal_id) FROM activity), ARRAY[:d5, :d6]::bigint[], 'sbt_nyhead: activities');
SELECT is((SELECT array_agg(DISTINCT deal_id ORDER BY deal_id) FROM stage_history), ARRAY[:d5, :d6]::bigint[], 'sbt_nyhead: stage history');
SELECT is((SELECT array_agg(DISTINCT deal_id ORDER BY deal_id) FROM deal_tag), ARRAY[:d5, :d6]::bigint[], 'sbt_nyhead: tags');
RESET ROLE;

SET ROLE sbt_ktm;
SELECT is((SELECT array_agg(id ORDER BY id) FROM deal), ARRAY[:d7, :d8, :d9]::bigint[], 'sbt_ktm (head of Far sales) sees 7, 8, 9');
SELECT is((SELECT array_agg(DISTINCT deal_id ORDER BY deal_id) FROM activity), ARRAY[:d7, :d8, :d9]::bigint[], 'sbt_ktm: activities');
SELECT is((SELECT array_agg(DISTINCT deal_id ORDER BY deal_id) FROM stage_history), ARRAY[:d7, :d8, :d9]::bigint[], 'sbt_ktm: stage history');
SELECT is((SELECT array_agg(DISTINCT deal_id ORDER BY deal_id) FROM deal_tag), ARRAY[:d7, :d8, :d9]::bigint[], 'sbt_ktm: tags');
RESET ROLE;

SET ROLE sbt_director;
SELECT is((SELECT array_agg(id ORDER BY id) FROM deal), ARRAY[:d1, :d2, :d3, :d4, :d5, :d6, :d7, :d8, :d9, :d10, :d10c]::bigint[], 'sbt_director sees every deal');
SELECT is((SELECT array_agg(DISTINCT deal_id ORDER BY deal_id) FROM activity), ARRAY[:d1, :d2, :d3, :d4, :d5, :d6, :d7, :d8, :d9, :d10, :d10c]::bigint[], 'sbt_director: activities');
SELECT is((SELECT array_agg(DISTINCT deal_id ORDER BY deal_id) FROM stage_history), ARRAY[:d1, :d2, :d3, :d4, :d5, :d6, :d7, :d8, :d9, :d10, :d10c]::bigint[], 'sbt_director: stage history');
SELECT is((SELECT array_agg(DISTINCT deal_id ORDER BY deal_id) FROM deal_tag), ARRAY[:d1, :d2, :d3, :d4, :d5, :d6, :d7, :d8, :d9, :d10, :d10c]::bigint[], 'sbt_director: tags');
RESET ROLE;

SET ROLE sbt_admin;
SELECT is((SELECT array_agg(id ORDER BY id) FROM deal), ARRAY[:d1, :d2, :d3, :d4, :d5, :d6, :d7, :d8, :d9, :d10, :d10c]::bigint[], 'sbt_admin sees every deal');
SELECT is((SELECT array_agg(DISTINCT deal_id ORDER BY deal_id) FROM activity), ARRAY[:d1, :d2, :d3, :d4, :d5, :d6, :d7, :d8, :d9, :d10, :d10c]::bigint[], 'sbt_admin: activities');
SELECT is((SELECT array_agg(DISTINCT deal_id ORDER BY deal_id) FROM stage_history), ARRAY[:d1, :d2, :d3, :d4, :d5, :d6, :d7, :d8, :d9, :d10, :d10c]::bigint[], 'sbt_admin: stage history');
SELECT is((SELECT array_agg(DISTINCT deal_id ORDER BY deal_id) FROM deal_tag), ARRAY[:d1, :d2, :d3, :d4, :d5, :d6, :d7, :d8, :d9, :d10, :d10c]::bigint[], 'sbt_admin: tags');
RESET ROLE;

SET ROLE sbt_stranger;
SELECT throws_ok('SELECT count(*) FROM deal', 'SB022', NULL, 'sbt_stranger (no employee) reading deals: SB022, not an empty answer');
SELECT throws_ok('SELECT count(*) FROM activity', 'SB022', NULL, 'sbt_stranger: activities, SB022');
SELECT throws_ok('SELECT count(*) FROM stage_history', 'SB022', NULL, 'sbt_stranger: stage history, SB022');
SELECT throws_ok('SELECT count(*) FROM deal_tag', 'SB022', NULL, 'sbt_stranger: tags, SB022');
SELECT throws_ok('SELECT (SELECT count(*) FROM inbound) + (SELECT count(*) FROM alert)', 'SB022', NULL, 'sbt_stranger: inbound requests and alerts, SB022');
RESET ROLE;

SET ROLE sbt_app;
SELECT is(current_employee(), NULL::bigint, 'sbt_app before set_employee acts as nobody');
SELECT throws_ok('SELECT count(*) FROM deal', 'SB022', NULL, 'sbt_app before set_employee reading deals: SB022 (the forgotten set_employee)');
SELECT throws_ok('SELECT count(*) FROM activity', 'SB022', NULL, 'sbt_app before set_employee: activities, SB022');
SELECT throws_ok('SELECT count(*) FROM stage_history', 'SB022', NULL, 'sbt_app before set_employee: stage history, SB022');
SELECT throws_ok('SELECT count(*) FROM deal_tag', 'SB022', NULL, 'sbt_app before set_employee: tags, SB022');
RESET ROLE;

/* ------------------------------------------------------------------
 * UPDATE / DELETE of invisible rows (14)
 * ------------------------------------------------------------------ */
SET ROLE sbt_mseller;
WITH u AS (UPDATE deal SET title = 'hacked' WHERE id = :d10 RETURNING id) SELECT is((SELECT count(*) FROM u),
          0::bigint, 'sbt_mseller: UPDATE of a teammate''s deal affects 0 rows');
WITH u AS (UPDATE deal SET title = 'touched by 4' RETURNING id) SELECT is((SELECT array_agg(id) FROM u),
          ARRAY[:d4]::bigint[], 'sbt_mseller: UPDATE without WHERE touches its own deal only');
WITH u AS (UPDATE activity SET subject = 'hacked' WHERE deal_id = :d10 RETURNING id) SELECT is((SELECT count(*) FROM u),
          0::bigint, 'sbt_mseller: UPDATE of invisible activities affects 0 rows');
WITH u AS (DELETE FROM activity WHERE deal_id IN (:d10, :d10c) RETURNING id) SELECT is((SELECT count(*) FROM u),
          0::bigint, 'sbt_mseller: DELETE of invisible activities affects 0 rows');
WITH u AS (DELETE FROM deal_tag WHERE deal_id = :d10 RETURNING deal_id) SELECT is((SELECT count(*) FROM u),
          0::bigint, 'sbt_mseller: DELETE of invisible tags affects 0 rows');
WITH u AS (UPDATE inbound SET status = 'dismissed', handled_at = now() WHERE owner_id = 10 RETURNING id) SELECT is((SELECT count(*) FROM u),
          0::bigint, 'sbt_mseller: UPDATE of a teammate''s inbound request affects 0 rows');
WITH u AS (UPDATE alert SET seen_at = now() WHERE employee_id = 10 RETURNING id) SELECT is((SELECT count(*) FROM u),
          0::bigint, 'sbt_mseller: UPDATE of a teammate''s alert affects 0 rows');
SELECT throws_ok(format('DELETE FROM salesboard.deal WHERE id = %s', :d10), '42501', NULL,
                 'sbt_mseller may not DELETE deals at all (42501)');
SELECT throws_ok(format('UPDATE salesboard.stage_history SET result = %L WHERE deal_id = %s', 'x', :d4), '42501', NULL,
                 'sbt_mseller may not UPDATE stage history (42501)');
RESET ROLE;

SET ROLE sbt_ahead;
WITH u AS (UPDATE deal SET title = 'hacked' WHERE id IN (:d2, :d5) RETURNING id) SELECT is((SELECT count(*) FROM u),
          0::bigint, 'sbt_ahead: UPDATE of deals above it and in another department affects 0 rows');
WITH u AS (UPDATE deal SET title = 'touched by 3' WHERE id = :d10 RETURNING id) SELECT is((SELECT count(*) FROM u),
          1::bigint, 'sbt_ahead: UPDATE of a subordinate''s deal works (1 row)');
RESET ROLE;
SET ROLE sbt_stranger;
SELECT throws_ok($$UPDATE deal SET title = 'hacked'$$, 'SB022', NULL, 'sbt_stranger: UPDATE of deals is SB022');
RESET ROLE;
SET ROLE sbt_app;
SELECT throws_ok($$UPDATE deal SET title = 'hacked'$$, 'SB022', NULL, 'sbt_app before set_employee: UPDATE of deals is SB022');
RESET ROLE;
-- only the team head's own edit of deal 10's title is there; put it back and compare everything
UPDATE deal SET title = 'deal of 10' WHERE id = :d10;
SELECT is(
    (SELECT string_agg(format('%s|%s|%s|%s|%s|%s|%s', id, stage_id, status, title, priority, next_due, next_activity_id), ';' ORDER BY id)
       FROM deal WHERE owner_id = 10)
    || '#' || (SELECT string_agg(format('%s|%s|%s|%s|%s', id, status, subject, due_at, result), ';' ORDER BY id)
       FROM activity WHERE deal_id IN (:d10, :d10c))
    || '#' || (SELECT count(*) FROM stage_history WHERE deal_id IN (:d10, :d10c))
    || '#' || (SELECT count(*) FROM deal_tag WHERE deal_id IN (:d10, :d10c)),
    :'snap10', 'the refused changes left employee 10''s deals, activities, history and tags as they were');

/* ------------------------------------------------------------------
 * INSERT outside one's subtree: row-level security WITH CHECK (12)
 * ------------------------------------------------------------------ */
SET ROLE sbt_mseller;
SELECT throws_ok($$INSERT INTO salesboard.deal (stage_id, owner_id, title) VALUES (11, 10, 'for my teammate')$$,
                 '42501', NULL, 'sbt_mseller: INSERT of a deal for a teammate violates the policy (42501)');
SELECT throws_ok(format($$INSERT INTO salesboard.activity (deal_id, subject, due_at) VALUES (%s, 'sneaky', now() + interval '2 days')$$, :d10),
                 'SB030', format('deal %s does not exist or is not visible to you', :d10),
                 'sbt_mseller: INSERT of an activity on an invisible deal is SB030, as from the functions');
SELECT throws_ok(format('INSERT INTO salesboard.deal_tag (deal_id, tag_id) VALUES (%s, 2)', :d10),
                 'SB030', format('deal %s does not exist or is not visible to you', :d10),
                 'sbt_mseller: INSERT of a tag on an invisible deal is SB030, as from the functions');
SELECT throws_ok(format('UPDATE salesboard.deal SET owner_id = 5 WHERE id = %s', :d4),
                 '42501', NULL, 'sbt_mseller: handing its deal to someone invisible violates the policy (42501)');
SELECT throws_ok(format($$INSERT INTO salesboard.stage_history (deal_id, event, to_stage_id, moved_at, owner_id) VALUES (%s, 'move', 12, now(), 4)$$, :d4),
                 '42501', NULL, 'sbt_mseller may not write stage history (42501)');
SELECT lives_ok(format('INSERT INTO salesboard.deal_tag (deal_id, tag_id) VALUES (%s, 2)', :d4),
                'sbt_mseller may tag its own deal');
SELECT throws_ok('UPDATE salesboard.inbound SET owner_id = 10 WHERE owner_id = 4',
                 '42501', NULL, 'sbt_mseller: handing its inbound request to a teammate violates the policy (42501)');
SELECT throws_ok($$UPDATE salesboard.alert SET kind = 'deal_rotting' WHERE employee_id = 4$$,
                 '42501', NULL, 'sbt_mseller may update only seen_at of its alerts (42501)');
SELECT throws_ok($$INSERT INTO salesboard.deal (stage_id, owner_id, title, created_at) VALUES (11, 4, 'backdated', now() - interval '1 day')$$,
                 'SB013', NULL, 'sbt_mseller: a direct INSERT of a deal with a backdated created_at is SB013');
RESET ROLE;
SET ROLE sbt_ahead;
SELECT throws_ok($$INSERT INTO salesboard.deal (stage_id, owner_id, title) VALUES (11, 5, 'for New York')$$,
                 '42501', NULL, 'sbt_ahead: INSERT of a deal for another department violates the policy (42501)');
SELECT lives_ok($$INSERT INTO salesboard.deal (stage_id, owner_id, title) VALUES (11, 4, 'inserted by 3 for 4')$$,
                'sbt_ahead may INSERT a deal for its subordinate');
SELECT lives_ok($$INSERT INTO salesboard.activity (deal_id, subject, due_at)
                  SELECT id, 'call', now() + interval '1 day' FROM salesboard.deal WHERE title = 'inserted by 3 for 4'$$,
                'sbt_ahead may plan its first activity');
RESET ROLE;

/* ------------------------------------------------------------------
 * API on invisible deals: SB030 / SB032, nothing changes (20)
 * ------------------------------------------------------------------ */
SET ROLE sbt_mseller;
SELECT throws_ok(format($$SELECT salesboard.move_deal(%s, 12, 'done', now() + interval '2 days', 'next')$$, :d10),
                 'SB030', NULL, 'sbt_mseller: move_deal on a teammate''s deal is SB030');
SELECT throws_ok(format($$SELECT salesboard.close_deal(%s, true, 'done')$$, :d10),
                 'SB030', NULL, 'sbt_mseller: close_deal on a teammate''s deal is SB030');
SELECT throws_ok(format($$SELECT salesboard.reopen_deal(%s, 11, now() + interval '2 days', 'again')$$, :d10c),
                 'SB030', NULL, 'sbt_mseller: reopen_deal on a teammate''s closed deal is SB030');
SELECT throws_ok(format($$SELECT salesboard.plan_activity(%s, now() + interval '2 days', 'sneaky')$$, :d10),
                 'SB030', NULL, 'sbt_mseller: plan_activity on a teammate''s deal is SB030');
SELECT throws_ok(format($$SELECT salesboard.complete_activity(%s, 'done')$$, :a10),
                 'SB032', NULL, 'sbt_mseller: complete_activity of a teammate''s activity is SB032');
SELECT throws_ok(format($$SELECT salesboard.cancel_activity(%s, 'no')$$, :a10),
                 'SB032', NULL, 'sbt_mseller: cancel_activity of a teammate''s activity is SB032');
SELECT throws_ok($$SELECT salesboard.complete_activity(999999999, 'done')$$,
                 'SB032', NULL, 'an unknown activity gives the same SB032');
SELECT throws_ok(format('SELECT salesboard.set_priority(%s, true)', :d10),
                 'SB030', NULL, 'sbt_mseller: set_priority on a teammate''s deal is SB030');
SELECT throws_ok(format('SELECT salesboard.card_colour(%s)', :d10),
                 'SB030', NULL, 'sbt_mseller: card_colour of a teammate''s deal is SB030');
SELECT throws_ok(format('SELECT * FROM salesboard.why_colour(%s)', :d10),
                 'SB030', NULL, 'sbt_mseller: why_colour of a teammate''s deal is SB030');
SELECT throws_ok($$SELECT salesboard.card_colour(999999999)$$,
                 'SB030', NULL, 'an unknown deal gives the same SB030');
SELECT throws_ok($$SELECT salesboard.create_deal(10, 11, 'for my teammate', now() + interval '1 day', 'call')$$,
                 'SB024', NULL, 'sbt_mseller: create_deal for a teammate is SB024');
SELECT is(card_colour(:d4), 'green', 'sbt_mseller: card_colour of its own deal works');
RESET ROLE;
SET ROLE sbt_ahead;
SELECT throws_ok(format($$SELECT salesboard.move_deal(%s, 12, 'done', now() + interval '2 days', 'next')$$, :d5),
                 'SB030', NULL, 'sbt_ahead: move_deal on another department''s deal is SB030');
SELECT throws_ok(format('SELECT salesboard.card_colour(%s)', :d2),
                 'SB030', NULL, 'sbt_ahead: card_colour of its own head''s deal is SB030');
SELECT throws_ok($$SELECT salesboard.create_deal(2, 11, 'for my boss', now() + interval '1 day', 'call')$$,
                 'SB024', NULL, 'sbt_ahead: create_deal for its head is SB024');
RESET ROLE;
SET ROLE sbt_stranger;
SELECT throws_ok(format('SELECT salesboard.set_priority(%s, true)', :d4),
                 'SB022', NULL, 'sbt_stranger: set_priority on any deal is SB022');
SELECT throws_ok(format('SELECT salesboard.card_colour(%s)', :d4),
                 'SB022', NULL, 'sbt_stranger: card_colour of any deal is SB022');
RESET ROLE;
SET ROLE sbt_app;
SELECT throws_ok(format('SELECT salesboard.set_priority(%s, true)', :d4),
                 'SB022', NULL, 'sbt_app before set_employee: set_priority is SB022');
RESET ROLE;
SELECT is(
    (SELECT string_agg(format('%s|%s|%s|%s|%s|%s|%s', id, stage_id, status, title, priority, next_due, next_activity_id), ';' ORDER BY id)
       FROM deal WHERE owner_id = 10)
    || '#' || (SELECT string_agg(format('%s|%s|%s|%s|%s', id, status, subject, due_at, result), ';' ORDER BY id)
       FROM activity WHERE deal_id IN (:d10, :d10c))
    || '#' || (SELECT count(*) FROM stage_history WHERE deal_id IN (:d10, :d10c))
    || '#' || (SELECT count(*) FROM deal_tag WHERE deal_id IN (:d10, :d10c)),
    :'snap10', 'the refused API calls left employee 10''s deals, activities, history and tags as they were');

/* ------------------------------------------------------------------
 * Boards of people not below me: SB024; of nobody: SB022 (17)
 * ------------------------------------------------------------------ */
SET ROLE sbt_mseller;
SELECT throws_ok('SELECT * FROM salesboard.board(10)', 'SB024', NULL, 'sbt_mseller: board of a teammate is SB024');
SELECT throws_ok('SELECT * FROM salesboard.board(3)', 'SB024', NULL, 'sbt_mseller: board of its head is SB024');
SELECT throws_ok('SELECT * FROM salesboard.deal_list(10)', 'SB024', NULL, 'sbt_mseller: deal_list of a teammate is SB024');
SELECT throws_ok('SELECT salesboard.board_text(10)', 'SB024', NULL, 'sbt_mseller: board_text of a teammate is SB024');
SELECT is((SELECT array_agg(DISTINCT owner_id) FROM deal_list()), ARRAY[4]::bigint[], 'sbt_mseller: its own deal_list holds its deals only');
RESET ROLE;
SET ROLE sbt_other;
SELECT throws_ok('SELECT * FROM salesboard.board(4)', 'SB024', NULL, 'sbt_other: board of a teammate is SB024');
RESET ROLE;
SET ROLE sbt_ahead;
SELECT throws_ok('SELECT * FROM salesboard.board(5)', 'SB024', NULL, 'sbt_ahead: board of another department is SB024');
SELECT throws_ok('SELECT * FROM salesboard.board(2)', 'SB024', NULL, 'sbt_ahead: board of its own head is SB024');
RESET ROLE;
SET ROLE sbt_mhead;
SELECT throws_ok('SELECT * FROM salesboard.board(1)', 'SB024', NULL, 'sbt_mhead: board of the director is SB024');
RESET ROLE;
SET ROLE sbt_nyhead;
SELECT throws_ok('SELECT * FROM salesboard.board(4)', 'SB024', NULL, 'sbt_nyhead: board of a Moscow seller is SB024');
SELECT throws_ok('SELECT * FROM salesboard.deal_list(4)', 'SB024', NULL, 'sbt_nyhead: deal_list of a Moscow seller is SB024');
RESET ROLE;
SET ROLE sbt_stranger;
SELECT throws_ok('SELECT * FROM salesboard.board()', 'SB022', NULL, 'sbt_stranger: board() without an employee is SB022');
SELECT throws_ok('SELECT * FROM salesboard.board(4)', 'SB022', NULL, 'sbt_stranger: board of an employee is SB022 too');
RESET ROLE;
SET ROLE sbt_app;
SELECT throws_ok('SELECT * FROM salesboard.board()', 'SB022', NULL, 'sbt_app before set_employee: board() is SB022');
SELECT throws_ok('SELECT * FROM salesboard.board(4)', 'SB022', NULL, 'sbt_app before set_employee: board(4) is SB022');
RESET ROLE;
SET ROLE sbt_director;
SELECT lives_ok('SELECT * FROM salesboard.board(4)', 'sbt_director may read a board two levels down');
RESET ROLE;
SET ROLE sbt_admin;
SELECT lives_ok('SELECT * FROM salesboard.board(10)', 'sbt_admin may read any board');
RESET ROLE;

/* ------------------------------------------------------------------
 * set_employee by roles outside salesboard_app (5)
 * ------------------------------------------------------------------ */
SET ROLE sbt_mseller;
SELECT throws_ok('SELECT salesboard.set_employee(10)', '42501', NULL, 'sbt_mseller may not call set_employee (42501)');
RESET ROLE;
SET ROLE sbt_admin;
SELECT throws_ok('SELECT salesboard.set_employee(4)', '42501', NULL, 'sbt_admin is not an app role: set_employee is 42501');
RESET ROLE;
SET ROLE sbt_stranger;
SELECT throws_ok('SELECT salesboard.set_employee(4)', '42501', NULL, 'sbt_stranger may not call set_employee (42501)');
RESET ROLE;
GRANT EXECUTE ON FUNCTION set_employee(bigint) TO sbt_other;
SET ROLE sbt_other;
SELECT throws_ok('SELECT salesboard.set_employee(4)', 'SB021', NULL,
                 'EXECUTE granted but not in salesboard_app: set_employee is SB021');
SELECT is(current_employee(), 10::bigint, 'sbt_other still acts as itself after the refused set_employee');
RESET ROLE;

/* ------------------------------------------------------------------
 * `at` other than now(): ordinary roles refused (SB013), admin allowed (9)
 * ------------------------------------------------------------------ */
SET ROLE sbt_mseller;
SELECT throws_ok($$SELECT salesboard.create_deal(4, 11, 'backdated', now() + interval '1 day', 'call', at => now() - interval '1 hour')$$,
                 'SB013', NULL, 'sbt_mseller: create_deal with at in the past is SB013');
SELECT throws_ok(format($$SELECT salesboard.plan_activity(%s, now() + interval '2 days', 'call', at => now() + interval '1 minute')$$, :d4),
                 'SB013', NULL, 'sbt_mseller: plan_activity with at in the future is SB013');
SELECT throws_ok(format($$SELECT salesboard.complete_activity(%s, 'done', at => now() - interval '1 minute')$$, :a4),
                 'SB013', NULL, 'sbt_mseller: complete_activity with a pinned at is SB013');
SELECT throws_ok(format($$SELECT salesboard.cancel_activity(%s, 'no', at => now() - interval '1 minute')$$, :a4),
                 'SB013', NULL, 'sbt_mseller: cancel_activity with a pinned at is SB013');
SELECT throws_ok(format($$SELECT salesboard.move_deal(%s, 12, 'done', now() + interval '2 days', 'next', at => now() - interval '1 minute')$$, :d4),
                 'SB013', NULL, 'sbt_mseller: move_deal with a pinned at is SB013');
SELECT throws_ok(format($$SELECT salesboard.close_deal(%s, true, 'done', at => now() - interval '1 minute')$$, :d4),
                 'SB013', NULL, 'sbt_mseller: close_deal with a pinned at is SB013');
SELECT throws_ok(format($$UPDATE salesboard.activity SET status = 'done', result = 'done', done_at = now() - interval '1 day' WHERE id = %s$$, :a4),
                 'SB013', NULL, 'sbt_mseller: a direct UPDATE with a backdated done_at is SB013');
SELECT lives_ok($$SELECT salesboard.create_deal(4, 11, 'at now', now() + interval '1 day', 'call', at => now())$$,
                'sbt_mseller may pass at => now()');
RESET ROLE;
SET ROLE sbt_admin;
SELECT lives_ok($$SELECT salesboard.create_deal(4, 11, 'admin import', now() + interval '1 day', 'call', at => now() - interval '1 day')$$,
                'sbt_admin may pass at other than now() (imports)');
RESET ROLE;

/* ------------------------------------------------------------------
 * verify() is for salesboard_admin (4)
 * ------------------------------------------------------------------ */
SET ROLE sbt_mseller;
SELECT throws_ok('SELECT * FROM salesboard.verify()', '42501', NULL, 'sbt_mseller may not run verify()');
RESET ROLE;
SET ROLE sbt_director;
SELECT throws_ok('SELECT * FROM salesboard.verify()', '42501', NULL, 'sbt_director (an employee, not an admin) may not run verify()');
RESET ROLE;
SET ROLE sbt_app;
SELECT throws_ok('SELECT * FROM salesboard.verify()', '42501', NULL, 'sbt_app may not run verify()');
RESET ROLE;
SET ROLE sbt_admin;
SELECT lives_ok('SELECT * FROM salesboard.verify()', 'sbt_admin may run verify()');
RESET ROLE;

/* ------------------------------------------------------------------
 * The application role: set_employee() (16). Last: it lasts until the
 * end of this (the test's) transaction.
 * ------------------------------------------------------------------ */
SET ROLE sbt_app;
SELECT throws_ok('SELECT salesboard.set_employee(99999)', 'SB033', NULL, 'sbt_app: set_employee of an unknown employee is SB033');
SELECT is(current_employee(), NULL::bigint, 'sbt_app still acts as nobody after the refused set_employee');
SELECT throws_ok($$SELECT salesboard.create_deal(4, 11, 'app import', now() + interval '1 day', 'call', at => now() - interval '1 day')$$,
                 'SB022', NULL, 'sbt_app acting as nobody may not create deals (SB022)');
SELECT lives_ok('SELECT salesboard.set_employee(4)', 'sbt_app may call set_employee(4)');
SELECT is(current_employee(), 4::bigint, 'after set_employee(4), current_employee() is 4 at once');
SELECT is((SELECT array_agg(DISTINCT owner_id) FROM deal), ARRAY[4]::bigint[], 'acting as 4, sbt_app sees the deals of 4 only');
SELECT is((SELECT count(*) FROM activity WHERE deal_id = :d10), 0::bigint, 'acting as 4, sbt_app sees no activity of 10');
SELECT is((SELECT array_agg(DISTINCT owner_id) FROM board(horizon => 'week')), ARRAY[4]::bigint[], 'acting as 4, board() is the board of 4');
SELECT lives_ok(format('SELECT salesboard.set_priority(%s, true)', :d4), 'acting as 4, set_priority on deal 4 works');
SELECT throws_ok(format('SELECT salesboard.set_priority(%s, true)', :d10), 'SB030', NULL, 'acting as 4, set_priority on deal 10 is SB030');
SELECT lives_ok($$SELECT salesboard.create_deal(4, 11, 'app import', now() + interval '1 day', 'call', at => now() - interval '1 day')$$,
                'sbt_app (salesboard_app) may pass at other than now()');
SELECT lives_ok('SELECT salesboard.set_employee(2)', 'sbt_app may switch to employee 2 in the same transaction');
SELECT is(current_employee(), 2::bigint, 'after set_employee(2), current_employee() is 2');
SELECT is((SELECT array_agg(DISTINCT owner_id ORDER BY owner_id) FROM deal), ARRAY[2, 3, 4, 10]::bigint[],
          'acting as head 2, sbt_app sees the subtree of 2');
RESET ROLE;
SELECT is((SELECT priority FROM deal WHERE id = :d4), true, 'the flag set by the app acting as 4 is there');
-- the acting employee belongs to the application role that chose it: another role in the
-- same transaction acts as itself (set_employee is for salesboard_app members)
SET ROLE sbt_stranger;
SELECT throws_ok('SELECT count(*) FROM deal', 'SB022', NULL,
                 'sbt_stranger, after the app chose an employee in this transaction, still acts as nobody (SB022)');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
