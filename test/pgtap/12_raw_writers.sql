-- test/pgtap/12_raw_writers.sql: the rules hold for raw SQL too (doc/reference.md,
-- 3.5): the triggers keep history and next_due exact whoever writes.
--
-- Covers: a raw INSERT of a deal plus a raw INSERT of its activity in one
-- transaction (pipeline and status derived, a 'create' history row,
-- next_due, the deferred check passes); a multi-row INSERT of deals (one
-- 'create' row each); a multi-row INSERT of activities for several deals
-- (each deal's next_due = its earliest planned); a bulk UPDATE completing
-- activities of several deals; DELETE of a planned activity; COPY into
-- activity (COPY ... FROM STDIN, data inline); an all-day activity
-- inserted by due_date alone; rescheduling (UPDATE due_at) earlier and
-- later; an employee's time-zone change re-anchoring that employee's
-- all-day planned activities (and nothing else); a deal's owner change
-- re-anchoring them to the new owner's zone; a raw INSERT of a planned
-- activity due in the past by an ordinary role (SB007) and by a superuser
-- (allowed: backfill); verify() empty and the deferred checks passing.
--
-- API calls pass at => '2026-03-10 09:00+00'. Raw writes run at now(), so
-- a deal is written either through the API or raw, never both (history
-- would otherwise mix moments). The two deals that COPY writes to are
-- inserted with explicit ids (9000000001, 9000000002) because COPY data
-- cannot refer to psql variables; every other id is captured.
BEGIN;
\ir fixture.psql
SET search_path = salesboard, public;
SET TimeZone = 'UTC';

SELECT plan(49);

-- ==================================================================
-- raw INSERT of a deal and of its activity, in one transaction
-- ==================================================================
INSERT INTO deal (stage_id, owner_id, title, client_id) VALUES (12, 4, 'Raw deal', 1)
RETURNING id AS r \gset
SELECT is((SELECT (pipeline_id, status, next_due, next_activity_id, closed_at)::text FROM deal WHERE id = :r),
          '(1,open,,,)',
          'raw INSERT of a deal: pipeline from the stage, status open, no next activity yet');
SELECT is((SELECT count(*) FROM stage_history WHERE deal_id = :r), 1::bigint,
          'raw INSERT of a deal: one history row');
SELECT is((SELECT (h.event, h.from_stage_id, h.to_stage_id, h.owner_id, h.moved_at = d.stage_entered_at)::text
             FROM stage_history h JOIN deal d ON d.id = h.deal_id WHERE h.deal_id = :r),
          '(create,,12,4,t)',
          'raw INSERT of a deal: a create row into stage 12 at the moment the deal entered it');

INSERT INTO activity (deal_id, subject, due_at) VALUES (:r, 'First call', '2026-03-12 10:00+00')
RETURNING id AS r_act \gset
SELECT is((SELECT format('%s / %s', next_due, next_activity_id) FROM deal WHERE id = :r),
          format('%s / %s', '2026-03-12 10:00+00'::timestamptz, :r_act),
          'raw INSERT of its activity: next_due / next_activity_id set');
SELECT lives_ok('SET CONSTRAINTS ALL IMMEDIATE',
                'raw deal + raw activity in one transaction satisfy the invariant');
SET CONSTRAINTS ALL DEFERRED;

-- several deals in one statement
WITH ins AS (
    INSERT INTO deal (stage_id, owner_id, title) VALUES (11, 4, 'Raw multi one'), (21, 6, 'Raw multi two')
    RETURNING id, title)
SELECT min(id) FILTER (WHERE title = 'Raw multi one') AS m1,
       min(id) FILTER (WHERE title = 'Raw multi two') AS m2 FROM ins \gset
SELECT is((SELECT array_agg(format('%s>%s', event, to_stage_id) ORDER BY to_stage_id)
             FROM stage_history WHERE deal_id IN (:m1, :m2)),
          ARRAY['create>11', 'create>21'],
          'multi-row INSERT of deals: one create row for each');
SELECT is((SELECT pipeline_id FROM deal WHERE id = :m2), 2::bigint,
          'multi-row INSERT of deals: pipeline 2 derived from stage 21');
INSERT INTO activity (deal_id, kind, subject, due_at) VALUES
    (:m1, 'task', 'Research', '2026-03-13 10:00+00'),
    (:m2, 'interaction', 'Renewal call', '2026-03-14 10:00+00');
SELECT lives_ok('SET CONSTRAINTS ALL IMMEDIATE',
                'multi-row raw deals, each with a raw activity, satisfy the invariant');
SET CONSTRAINTS ALL DEFERRED;

-- ==================================================================
-- multi-row INSERT of activities for several deals
-- ==================================================================
SELECT create_deal(4, 11, 'Deal X', '2026-03-20 10:00+00', 'X first', at => '2026-03-10 09:00+00') AS x \gset
SELECT create_deal(4, 11, 'Deal Y', '2026-03-20 10:00+00', 'Y first', at => '2026-03-10 09:00+00') AS y \gset
SELECT create_deal(4, 11, 'Deal Z', '2026-03-20 10:00+00', 'Z first', at => '2026-03-10 09:00+00') AS z \gset
SELECT id AS x_first FROM activity WHERE deal_id = :x \gset
SELECT id AS y_first FROM activity WHERE deal_id = :y \gset
SELECT id AS z_first FROM activity WHERE deal_id = :z \gset

INSERT INTO activity (deal_id, subject, due_at) VALUES
    (:x, 'x1', '2026-03-15 10:00+00'),
    (:x, 'x2', '2026-03-14 10:00+00'),
    (:y, 'y1', '2026-03-25 10:00+00'),
    (:z, 'z1', '2026-03-19 10:00+00'),
    (:z, 'z2', '2026-03-17 10:00+00');
SELECT id AS x1 FROM activity WHERE deal_id = :x AND subject = 'x1' \gset
SELECT id AS x2 FROM activity WHERE deal_id = :x AND subject = 'x2' \gset
SELECT id AS y1 FROM activity WHERE deal_id = :y AND subject = 'y1' \gset
SELECT id AS z1 FROM activity WHERE deal_id = :z AND subject = 'z1' \gset
SELECT id AS z2 FROM activity WHERE deal_id = :z AND subject = 'z2' \gset

SELECT is((SELECT format('%s / %s', next_due, next_activity_id) FROM deal WHERE id = :x),
          format('%s / %s', '2026-03-14 10:00+00'::timestamptz, :x2),
          'multi-row INSERT: deal X next = its earliest new row (x2), not the first row inserted');
SELECT is((SELECT format('%s / %s', next_due, next_activity_id) FROM deal WHERE id = :y),
          format('%s / %s', '2026-03-20 10:00+00'::timestamptz, :y_first),
          'multi-row INSERT: deal Y keeps its earlier first activity');
SELECT is((SELECT format('%s / %s', next_due, next_activity_id) FROM deal WHERE id = :z),
          format('%s / %s', '2026-03-17 10:00+00'::timestamptz, :z2),
          'multi-row INSERT: deal Z next = z2');

-- ==================================================================
-- bulk UPDATE completing activities
-- ==================================================================
UPDATE activity SET status = 'done', result = 'Done in bulk' WHERE id IN (:x2, :y_first, :z2);
SELECT is((SELECT count(*) FROM activity WHERE id IN (:x2, :y_first, :z2) AND status = 'done' AND done_at IS NOT NULL),
          3::bigint, 'bulk complete: three activities done, done_at filled in');
SELECT is((SELECT format('%s / %s', next_due, next_activity_id) FROM deal WHERE id = :x),
          format('%s / %s', '2026-03-15 10:00+00'::timestamptz, :x1),
          'bulk complete: deal X next = x1');
SELECT is((SELECT format('%s / %s', next_due, next_activity_id) FROM deal WHERE id = :y),
          format('%s / %s', '2026-03-25 10:00+00'::timestamptz, :y1),
          'bulk complete: deal Y next = y1');
SELECT is((SELECT format('%s / %s', next_due, next_activity_id) FROM deal WHERE id = :z),
          format('%s / %s', '2026-03-19 10:00+00'::timestamptz, :z1),
          'bulk complete: deal Z next = z1');

-- ==================================================================
-- DELETE of a planned activity
-- ==================================================================
DELETE FROM activity WHERE id = :x1;
SELECT is((SELECT format('%s / %s', next_due, next_activity_id) FROM deal WHERE id = :x),
          format('%s / %s', '2026-03-20 10:00+00'::timestamptz, :x_first),
          'DELETE of the next activity: deal X next = its first activity again');

-- ==================================================================
-- an all-day activity inserted by its date alone
-- ==================================================================
INSERT INTO activity (deal_id, subject, all_day, due_date) VALUES (:x, 'By date', true, '2026-03-13')
RETURNING id AS x_date \gset
SELECT is((SELECT (due_date, due_at)::text FROM activity WHERE id = :x_date),
          '(2026-03-13,"2026-03-13 20:59:59.999999+00")',
          'raw all-day INSERT by due_date: due at the end of that day in Moscow');
SELECT is((SELECT format('%s / %s', next_due, next_activity_id) FROM deal WHERE id = :x),
          format('%s / %s', '2026-03-13 20:59:59.999999+00'::timestamptz, :x_date),
          'raw all-day INSERT: next_due = the end of its day');

-- ==================================================================
-- rescheduling
-- ==================================================================
UPDATE activity SET due_at = '2026-03-11 10:00+00' WHERE id = :z1;
SELECT is((SELECT format('%s / %s', next_due, next_activity_id) FROM deal WHERE id = :z),
          format('%s / %s', '2026-03-11 10:00+00'::timestamptz, :z1),
          'rescheduling earlier: next_due follows the activity');
UPDATE activity SET due_at = '2026-03-28 10:00+00' WHERE id = :z1;
SELECT is((SELECT format('%s / %s', next_due, next_activity_id) FROM deal WHERE id = :z),
          format('%s / %s', '2026-03-20 10:00+00'::timestamptz, :z_first),
          'rescheduling later than another: next_due moves to the other activity');

-- ==================================================================
-- COPY into activity
-- ==================================================================
INSERT INTO deal (id, stage_id, owner_id, title) VALUES
    (9000000001, 11, 4, 'Copy target Moscow'),
    (9000000002, 12, 6, 'Copy target New York');
COPY activity (deal_id, kind, subject, due_at, all_day) FROM STDIN;
9000000001	interaction	Copied call	2026-03-14 10:00:00+00	f
9000000001	task	Copied task	2026-03-13 10:00:00+00	f
9000000002	interaction	Copied all-day	2026-03-12 12:00:00+00	t
\.
SELECT is((SELECT format('%s / %s', d.next_due, a.subject) FROM deal d JOIN activity a ON a.id = d.next_activity_id
            WHERE d.id = 9000000001),
          format('%s / %s', '2026-03-13 10:00+00'::timestamptz, 'Copied task'),
          'COPY: next_due = the earliest copied row of the deal');
SELECT is((SELECT (a.due_date, a.due_at, d.next_activity_id = a.id, d.next_due = a.due_at)::text
             FROM activity a JOIN deal d ON d.id = a.deal_id WHERE a.deal_id = 9000000002),
          '(2026-03-12,"2026-03-13 03:59:59.999999+00",t,t)',
          'COPY of an all-day row: due at the end of its New York day, and next');
SELECT is((SELECT count(*) FROM stage_history WHERE deal_id IN (9000000001, 9000000002) AND event = 'create'),
          2::bigint, 'the deals COPY filled have their create rows');
SELECT lives_ok('SET CONSTRAINTS ALL IMMEDIATE', 'after COPY every open deal has a planned activity');
SET CONSTRAINTS ALL DEFERRED;

-- ==================================================================
-- an employee's time zone changes: all-day planned activities re-anchor
-- ==================================================================
SELECT create_deal(6, 11, 'Deal N', '2026-03-12 12:00+00', 'All-day call', first_all_day => true,
                   at => '2026-03-10 09:00+00') AS n \gset
SELECT id AS n_allday FROM activity WHERE deal_id = :n \gset
SELECT plan_activity(:n, '2026-03-14 10:00+00', 'Timed call', at => '2026-03-10 09:00+00') AS n_timed \gset
SELECT plan_activity(:n, '2026-03-11 12:00+00', 'Done all-day', all_day => true,
                     at => '2026-03-10 09:00+00') AS n_done \gset
SELECT complete_activity(:n_done, 'Done early', at => '2026-03-10 09:00+00') AS ignored \gset
SELECT create_deal(5, 11, 'Deal P', '2026-03-12 12:00+00', 'Other New Yorker', first_all_day => true,
                   at => '2026-03-10 09:00+00') AS p \gset
SELECT id AS p_allday FROM activity WHERE deal_id = :p \gset

SELECT is((SELECT due_at FROM activity WHERE id = :n_allday), '2026-03-13 03:59:59.999999+00'::timestamptz,
          'before: the all-day activity of employee 6 is due at the end of 2026-03-12 in New York');

UPDATE employee SET time_zone = 'Asia/Kathmandu' WHERE id = 6;
SELECT is((SELECT (due_date, due_at)::text FROM activity WHERE id = :n_allday),
          '(2026-03-12,"2026-03-12 18:14:59.999999+00")',
          'time zone change: the planned all-day activity is due at the end of 2026-03-12 in Kathmandu');
SELECT is((SELECT format('%s / %s', next_due, next_activity_id) FROM deal WHERE id = :n),
          format('%s / %s', '2026-03-12 18:14:59.999999+00'::timestamptz, :n_allday),
          'time zone change: next_due follows');
SELECT is((SELECT due_at FROM activity WHERE id = :n_timed), '2026-03-14 10:00+00'::timestamptz,
          'time zone change: a timed activity keeps its moment');
SELECT is((SELECT due_at FROM activity WHERE id = :n_done), '2026-03-12 03:59:59.999999+00'::timestamptz,
          'time zone change: a done all-day activity keeps its moment');
SELECT is((SELECT (a.due_at, d.next_due = a.due_at)::text
             FROM activity a JOIN deal d ON d.id = a.deal_id WHERE a.deal_id = 9000000002),
          '("2026-03-12 18:14:59.999999+00",t)',
          'time zone change: the raw-written deal of the same employee re-anchors too');
SELECT is((SELECT due_at FROM activity WHERE id = :p_allday), '2026-03-13 03:59:59.999999+00'::timestamptz,
          'time zone change: another employee''s all-day activity is unchanged');
SELECT is_empty('SELECT * FROM salesboard.verify()', 'time zone change: verify() is empty');

-- ==================================================================
-- a deal changes owner: all-day planned activities re-anchor
-- ==================================================================
UPDATE deal SET owner_id = 9 WHERE id = :n;
SELECT is((SELECT (due_date, due_at)::text FROM activity WHERE id = :n_allday),
          '(2026-03-12,"2026-03-12 09:59:59.999999+00")',
          'owner change: due at the end of 2026-03-12 in Kiritimati (the new owner''s zone)');
SELECT is((SELECT format('%s / %s', next_due, next_activity_id) FROM deal WHERE id = :n),
          format('%s / %s', '2026-03-12 09:59:59.999999+00'::timestamptz, :n_allday),
          'owner change: next_due follows');
SELECT is((SELECT due_at FROM activity WHERE id = :n_timed), '2026-03-14 10:00+00'::timestamptz,
          'owner change: a timed activity keeps its moment');
SELECT is((SELECT (a.due_at, d.next_due = a.due_at)::text
             FROM activity a JOIN deal d ON d.id = a.deal_id WHERE a.deal_id = 9000000002),
          '("2026-03-12 18:14:59.999999+00",t)',
          'owner change: other deals of the old owner are unchanged');
SELECT is_empty('SELECT * FROM salesboard.verify()', 'owner change: verify() is empty');
-- a row's checks read the deal's owner as the newest data shows it, also
-- for the next row of the same deal in the same transaction
INSERT INTO activity (deal_id, subject, all_day, due_date) VALUES (:n, 'Before the handover', true, '2027-03-20');
UPDATE deal SET owner_id = 4 WHERE id = :n;
INSERT INTO activity (deal_id, subject, all_day, due_date) VALUES (:n, 'After the handover', true, '2027-03-20');
SELECT is((SELECT string_agg(format('%s: %s', subject, due_at), '; ' ORDER BY id)
             FROM activity WHERE deal_id = :n AND subject LIKE '% handover'),
          'Before the handover: 2027-03-20 20:59:59.999999+00; After the handover: 2027-03-20 20:59:59.999999+00',
          'owner change: the next all-day row of the deal is anchored in the new owner''s zone (Moscow), not the old one''s');

-- ==================================================================
-- a planned activity due in the past: refused for an ordinary role,
-- allowed for a superuser (backfill)
-- ==================================================================
SELECT create_deal(4, 11, 'Deal M', '2026-03-20 10:00+00', 'M first', at => '2026-03-10 09:00+00') AS mm \gset
SELECT id AS mm_first FROM activity WHERE deal_id = :mm \gset
SET ROLE sbt_mseller;
SELECT throws_ok(format($$INSERT INTO salesboard.activity (deal_id, subject, due_at)
                          VALUES (%s, 'Backdated call', '2026-03-09 09:00+00')$$, :mm),
                 'SB007', NULL, 'raw INSERT of a planned activity due in the past by sbt_mseller: SB007');
RESET ROLE;
SELECT is((SELECT count(*) FROM activity WHERE deal_id = :mm), 1::bigint,
          'refused backdated INSERT: no activity added');
SELECT is((SELECT format('%s / %s', next_due, next_activity_id) FROM deal WHERE id = :mm),
          format('%s / %s', '2026-03-20 10:00+00'::timestamptz, :mm_first),
          'refused backdated INSERT: next_due unchanged');

-- the same for an all-day activity given by its (past) date alone
SET ROLE sbt_mseller;
SELECT throws_ok(format($$INSERT INTO salesboard.activity (deal_id, subject, all_day, due_date)
                          VALUES (%s, 'Backdated all-day', true, '2026-03-09')$$, :mm),
                 'SB007', NULL, 'raw INSERT of an all-day activity on a past day (by due_date) by sbt_mseller: SB007');
RESET ROLE;
SELECT is((SELECT count(*) FROM activity WHERE deal_id = :mm AND subject = 'Backdated all-day'), 0::bigint,
          'refused backdated all-day INSERT: no activity added');
SELECT is((SELECT format('%s / %s', next_due, next_activity_id) FROM deal WHERE id = :mm),
          format('%s / %s', '2026-03-20 10:00+00'::timestamptz, :mm_first),
          'refused backdated all-day INSERT: next_due unchanged');

SELECT lives_ok(format($$INSERT INTO salesboard.activity (deal_id, subject, due_at)
                         VALUES (%s, 'Backdated call', '2026-03-09 09:00+00')$$, :mm),
                'the same INSERT as a superuser is allowed (backfill)');
SELECT id AS mm_back FROM activity WHERE deal_id = :mm AND subject = 'Backdated call' \gset
SELECT is((SELECT format('%s / %s', next_due, next_activity_id) FROM deal WHERE id = :mm),
          format('%s / %s', '2026-03-09 09:00+00'::timestamptz, :mm_back),
          'backfilled activity: it is the next (overdue) one');

-- ==================================================================
-- at the end
-- ==================================================================
SELECT lives_ok('SET CONSTRAINTS ALL IMMEDIATE', 'every deferred check of this file passes');
SET CONSTRAINTS ALL DEFERRED;
SELECT is_empty('SELECT * FROM salesboard.verify()', 'verify() is empty at the end');

/* found by sqlsmith: a stage without a kind crashed the server (its rules
 * trigger read the kind's NULL flag before the value); now the NOT NULL says it */
RESET ROLE;
SET ROLE sbt_admin;
SELECT throws_ok($$INSERT INTO salesboard.stage (pipeline_id, name, position, kind) VALUES (1, 'No kind', 58, NULL)$$,
                 '23502', NULL, 'a stage without a kind is a NOT NULL error, not a crash');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
