/*
 * bench/bench.sql: the measuring functions of `make bench`, in schema
 * bench. Each returns the server-side elapsed milliseconds of one round, so
 * the client round trip does not drown the difference; bench/run.sh runs
 * the variants interleaved and takes medians. Every round that writes runs
 * in a transaction the runner rolls back, so all variants of a round see
 * the same data. The comparisons ("the floor" and "the peer") live here and
 * in bench/plpgsql_rules.sql; the extension itself never sees them.
 */
CREATE SCHEMA bench;

/* ------------------------------------------------------------------
 * Moves
 * ------------------------------------------------------------------ */

-- n open deals (chosen by seed) and the next open stage of each
CREATE FUNCTION bench.pick_moves(n integer, seed integer)
RETURNS TABLE (deal_id bigint, to_stage bigint)
LANGUAGE sql STABLE AS $$
    SELECT d.id, nx.id
      FROM salesboard.deal d
      JOIN salesboard.stage s ON s.id = d.stage_id
      CROSS JOIN LATERAL (SELECT s2.id FROM salesboard.stage s2
                           WHERE s2.pipeline_id = d.pipeline_id AND s2.kind = 'open'
                             AND s2.position > s.position
                           ORDER BY s2.position LIMIT 1) nx
     WHERE d.status = 'open'
     ORDER BY hashint8(d.id + seed * 7919), d.id
     LIMIT n
$$;

/*
 * One round of moves. variant: 'c' (salesboard.move_deal, the C rules),
 * 'plpgsql' (bench_pl.move_deal with its PL/pgSQL triggers), 'floor' (the
 * same DML written by hand, every user trigger off). The deferred checks
 * are fired inside the timed part (SET CONSTRAINTS ALL IMMEDIATE).
 */
CREATE FUNCTION bench.moves(variant text, ids bigint[], stages bigint[])
RETURNS double precision
LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz;
    at timestamptz := now();
    i integer;
    v_stage bigint;
    v_owner bigint;
    v_next bigint;
    v_amount numeric;
    nid bigint;
    ms double precision;
BEGIN
    t0 := clock_timestamp();
    IF variant = 'c' THEN
        FOR i IN 1 .. array_length(ids, 1) LOOP
            PERFORM salesboard.move_deal(ids[i], stages[i], 'Client agreed to the next step',
                                         at + interval '2 days', 'Next step');
        END LOOP;
    ELSIF variant = 'plpgsql' THEN
        FOR i IN 1 .. array_length(ids, 1) LOOP
            PERFORM bench_pl.move_deal(ids[i], stages[i], 'Client agreed to the next step',
                                       at + interval '2 days', 'Next step');
        END LOOP;
    ELSIF variant = 'floor' THEN
        FOR i IN 1 .. array_length(ids, 1) LOOP
            SELECT d.stage_id, d.owner_id, d.next_activity_id, d.amount
              INTO v_stage, v_owner, v_next, v_amount
              FROM salesboard.deal d WHERE d.id = ids[i] FOR UPDATE;
            UPDATE salesboard.activity SET status = 'done', result = 'Client agreed to the next step',
                   done_at = at
             WHERE id = v_next;
            INSERT INTO salesboard.activity (deal_id, kind, subject, due_at, created_at)
            VALUES (ids[i], 'interaction', 'Next step', at + interval '2 days', at)
            RETURNING id INTO nid;
            UPDATE salesboard.deal SET stage_id = stages[i], stage_entered_at = at,
                   next_due = at + interval '2 days', next_activity_id = nid
             WHERE id = ids[i];
            INSERT INTO salesboard.stage_history (deal_id, event, from_stage_id, to_stage_id, moved_at,
                   moved_by_role, owner_id, amount, result, activity_id, next_activity_id)
            VALUES (ids[i], 'move', v_stage, stages[i], at, current_user, v_owner, v_amount,
                    'Client agreed to the next step', v_next, nid);
        END LOOP;
    ELSE
        RAISE EXCEPTION 'unknown variant %', variant;
    END IF;
    SET CONSTRAINTS ALL IMMEDIATE;
    ms := extract(epoch FROM clock_timestamp() - t0) * 1000;
    -- back to deferred checks for whatever the transaction does next
    SET CONSTRAINTS ALL DEFERRED;
    RETURN ms;
END
$$;

-- what a round of moves left behind, to assert the variants agree
CREATE FUNCTION bench.moves_outcome(ids bigint[])
RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT md5(string_agg(format('%s:%s:%s:%s:%s', d.id, d.stage_id, d.status,
                          (SELECT count(*) FROM salesboard.activity a WHERE a.deal_id = d.id AND a.status = 'planned'),
                          (SELECT count(*) FROM salesboard.stage_history h WHERE h.deal_id = d.id)), ',' ORDER BY d.id))
      FROM salesboard.deal d WHERE d.id = ANY (ids)
$$;

/* ------------------------------------------------------------------
 * Bulk INSERT of activities for existing deals
 * ------------------------------------------------------------------ */
CREATE FUNCTION bench.bulk_insert(n integer)
RETURNS double precision
LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz := clock_timestamp();
BEGIN
    INSERT INTO salesboard.activity (deal_id, kind, subject, due_at)
    SELECT d.id, 'task', 'Prepare the quarterly review',
           now() + interval '20 days' + (d.id % 1440) * interval '1 minute'
      FROM (SELECT id FROM salesboard.deal WHERE status = 'open') d
      CROSS JOIN generate_series(1, 4) k
     LIMIT n;
    SET CONSTRAINTS ALL IMMEDIATE;
    RETURN extract(epoch FROM clock_timestamp() - t0) * 1000;
END
$$;

/* ------------------------------------------------------------------
 * The board, written by hand: the indexed SELECT that returns the same
 * rows as salesboard.board(employee, horizon, subordinates => false),
 * every column of salesboard.card (the column's place and kind, the
 * stage, the deal, its client and service type names, its next
 * activity, colour, rank and tags), in the same order.
 * ------------------------------------------------------------------ */
-- a pipeline's columns: its open stages in order, then Won, then Lost
CREATE VIEW bench.board_column AS
    SELECT s.id, s.pipeline_id, s.name, s.kind,
           row_number() OVER (PARTITION BY s.pipeline_id
                              ORDER BY CASE s.kind WHEN 'open' THEN 0 WHEN 'won' THEN 1 ELSE 2 END,
                                       s.position, s.id)::integer AS col
      FROM salesboard.stage s;

CREATE FUNCTION bench.board_sql(emp bigint, horizon text, at timestamptz)
RETURNS SETOF salesboard.card
LANGUAGE sql STABLE AS $$
    WITH h AS (
        SELECT e.id, e.time_zone, t.today,
               ((CASE horizon WHEN 'today' THEN t.today + 1 WHEN '3 days' THEN t.today + 3
                              WHEN 'week' THEN t.today + 7
                              ELSE (t.today + interval '1 month')::date END)::timestamp
                 AT TIME ZONE e.time_zone) AS horizon_end,
               ((t.today + 1)::timestamp AT TIME ZONE e.time_zone) AS tomorrow,
               ((t.today - 6)::timestamp AT TIME ZONE e.time_zone) AS since
          FROM salesboard.employee e
          CROSS JOIN LATERAL (SELECT (at AT TIME ZONE e.time_zone)::date AS today) t
         WHERE e.id = emp)
    SELECT s.col, CASE s.kind WHEN 'open' THEN 'stage' ELSE s.kind END, c.stage_id, s.name,
           c.id, c.title, cl.name, st.name, c.amount, c.next_due, a.subject, c.colour,
           c.priority, c.owner_id,
           row_number() OVER (PARTITION BY s.pipeline_id, s.col ORDER BY c.ord1, c.ord2, c.id)::integer,
           s.pipeline_id, c.currency::text, a.kind, c.closed_at, c.client_id, c.service_type_id,
           a.all_day, a.due_date,
           ARRAY(SELECT t.name FROM salesboard.deal_tag dt JOIN salesboard.tag t ON t.id = dt.tag_id
                  WHERE dt.deal_id = c.id ORDER BY t.name COLLATE "C")
      FROM (SELECT d.id, d.stage_id, d.title, d.client_id, d.service_type_id, d.amount,
                   d.currency, d.next_due, d.next_activity_id, d.priority, d.owner_id,
                   NULL::timestamptz AS closed_at,
                   CASE WHEN d.next_due < at THEN 'red' WHEN d.next_due < h.tomorrow THEN 'yellow'
                        ELSE 'green' END AS colour,
                   d.next_due AS ord1, 0::double precision AS ord2
              FROM h JOIN salesboard.deal d
                ON d.owner_id = h.id AND d.status = 'open' AND d.next_due < h.horizon_end
            UNION ALL
            SELECT d.id, d.stage_id, d.title, d.client_id, d.service_type_id, d.amount,
                   d.currency, NULL, NULL, d.priority, d.owner_id, d.closed_at, 'green',
                   NULL, -extract(epoch FROM d.closed_at)::double precision
              FROM h JOIN salesboard.deal d
                ON d.owner_id = h.id AND d.status <> 'open' AND d.closed_at >= h.since
             WHERE d.closed_at <= at) c
      JOIN bench.board_column s ON s.id = c.stage_id
      LEFT JOIN salesboard.client cl ON cl.id = c.client_id
      LEFT JOIN salesboard.service_type st ON st.id = c.service_type_id
      LEFT JOIN salesboard.activity a ON a.id = c.next_activity_id
     ORDER BY s.pipeline_id, s.col, c.ord1, c.ord2, c.id
$$;

/*
 * The same for a department head: every owner of the subtree, each with
 * the horizon of their own calendar, merged in due order; open deals only
 * (board(..., closed_days => 0)).
 */
CREATE FUNCTION bench.head_board_sql(emp bigint, horizon text, at timestamptz)
RETURNS SETOF salesboard.card
LANGUAGE sql STABLE AS $$
    WITH RECURSIVE sub(id) AS (
        SELECT d.id FROM salesboard.department d WHERE d.head_id = emp
        UNION
        SELECT c.id FROM salesboard.department c JOIN sub ON c.parent_id = sub.id),
    h AS (
        SELECT e.id, e.time_zone,
               ((CASE horizon WHEN 'today' THEN t.today + 1 WHEN '3 days' THEN t.today + 3
                              WHEN 'week' THEN t.today + 7
                              ELSE (t.today + interval '1 month')::date END)::timestamp
                 AT TIME ZONE e.time_zone) AS horizon_end,
               ((t.today + 1)::timestamp AT TIME ZONE e.time_zone) AS tomorrow
          FROM salesboard.employee e
          CROSS JOIN LATERAL (SELECT (at AT TIME ZONE e.time_zone)::date AS today) t
         WHERE e.id = emp OR e.department_id IN (SELECT id FROM sub))
    SELECT s.col, 'stage', d.stage_id, s.name,
           d.id, d.title, cl.name, st.name, d.amount, d.next_due, a.subject,
           CASE WHEN d.next_due < at THEN 'red' WHEN d.next_due < h.tomorrow THEN 'yellow'
                ELSE 'green' END,
           d.priority, d.owner_id,
           row_number() OVER (PARTITION BY s.pipeline_id, s.col ORDER BY d.next_due, d.id)::integer,
           s.pipeline_id, d.currency::text, a.kind, NULL::timestamptz, d.client_id, d.service_type_id,
           a.all_day, a.due_date,
           ARRAY(SELECT t.name FROM salesboard.deal_tag dt JOIN salesboard.tag t ON t.id = dt.tag_id
                  WHERE dt.deal_id = d.id ORDER BY t.name COLLATE "C")
      FROM h JOIN salesboard.deal d
        ON d.owner_id = h.id AND d.status = 'open' AND d.next_due < h.horizon_end
      JOIN bench.board_column s ON s.id = d.stage_id
      LEFT JOIN salesboard.client cl ON cl.id = d.client_id
      LEFT JOIN salesboard.service_type st ON st.id = d.service_type_id
      LEFT JOIN salesboard.activity a ON a.id = d.next_activity_id
     ORDER BY s.pipeline_id, s.col, d.next_due, d.id
$$;

/*
 * One round of board reads for a list of employees. variant 'c' calls
 * salesboard.board(); 'sql' the hand-written query. Every column of every
 * row is used (the row is turned into text), so neither side can skip
 * work the other does.
 */
CREATE FUNCTION bench.boards(variant text, emps bigint[], horizon text, head boolean)
RETURNS double precision
LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz := clock_timestamp();
    e bigint;
    n bigint;
    total bigint := 0;
BEGIN
    FOREACH e IN ARRAY emps LOOP
        IF variant = 'json' THEN
            SELECT length(salesboard.board_json(e, horizon, subordinates => false)::text) INTO n;
        ELSIF variant = 'c' AND NOT head THEN
            SELECT sum(length(b::text)) INTO n FROM salesboard.board(e, horizon, subordinates => false) b;
        ELSIF variant = 'c' THEN
            SELECT sum(length(b::text)) INTO n FROM salesboard.board(e, horizon, closed_days => 0) b;
        ELSIF NOT head THEN
            SELECT sum(length(b::text)) INTO n FROM bench.board_sql(e, horizon, now()) b;
        ELSE
            SELECT sum(length(b::text)) INTO n FROM bench.head_board_sql(e, horizon, now()) b;
        END IF;
        total := total + coalesce(n, 0);
    END LOOP;
    RETURN extract(epoch FROM clock_timestamp() - t0) * 1000;
END
$$;

/*
 * Buffers (shared hits and reads) one board() 'today' (variant 'c') or
 * the hand-written SELECT ('sql') touches on average over these employees, from EXPLAIN (ANALYZE, BUFFERS) of the reads: the
 * work at each scale, free of memory and cache effects; and the cards per
 * board beside it, to show the boards are alike.
 */
CREATE FUNCTION bench.board_buffers(emps bigint[], variant text DEFAULT 'c')
RETURNS numeric
LANGUAGE plpgsql AS $$
DECLARE
    plan json;
BEGIN
    EXECUTE 'EXPLAIN (ANALYZE, BUFFERS, TIMING OFF, FORMAT JSON) SELECT bench.boards($2, $1, ''today'', false)'
       INTO plan USING emps, variant;
    RETURN round(((plan -> 0 -> 'Plan' ->> 'Shared Hit Blocks')::numeric
                  + (plan -> 0 -> 'Plan' ->> 'Shared Read Blocks')::numeric) / cardinality(emps), 1);
END
$$;

/*
 * Where those buffers go: blocks one board touches on average in each
 * relation of salesboard (table or index), from the transaction's own
 * block counters (pg_stat_get_xact_blocks_fetched: hits and reads), for
 * board() ('c') or the hand-written SELECT ('sql').
 */
CREATE FUNCTION bench.board_buffers_by_relation(emps bigint[], variant text DEFAULT 'c')
RETURNS TABLE (relation name, per_board numeric)
LANGUAGE plpgsql AS $$
DECLARE
    before jsonb;
BEGIN
    SELECT jsonb_object_agg(c.oid::text, pg_stat_get_xact_blocks_fetched(c.oid)) INTO before
      FROM pg_class c WHERE c.relnamespace = 'salesboard'::regnamespace AND c.relkind IN ('r', 'i');
    PERFORM bench.boards(variant, emps, 'today', false);
    RETURN QUERY
        SELECT x.relname, x.b FROM (
            SELECT c.relname, round((pg_stat_get_xact_blocks_fetched(c.oid) - (before ->> c.oid::text)::bigint)::numeric
                                    / cardinality(emps), 1) AS b
              FROM pg_class c WHERE c.relnamespace = 'salesboard'::regnamespace AND c.relkind IN ('r', 'i')) x
         WHERE x.b > 0
         ORDER BY x.b DESC, x.relname;
END
$$;

CREATE FUNCTION bench.board_cards(emps bigint[])
RETURNS numeric
LANGUAGE sql AS $$
    SELECT round(count(*)::numeric / cardinality(emps), 1)
      FROM unnest(emps) e, salesboard.board(e, 'today', subordinates => false) b
$$;

-- do board() and the hand-written SQL return the same rows, every column, in the same order?
CREATE FUNCTION bench.boards_agree(emps bigint[], horizon text, head boolean)
RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    e bigint;
    a text;
    b text;
BEGIN
    FOREACH e IN ARRAY emps LOOP
        IF head THEN
            SELECT string_agg(x::text, E'\n') INTO a FROM salesboard.board(e, horizon, closed_days => 0) x;
            SELECT string_agg(y::text, E'\n') INTO b FROM bench.head_board_sql(e, horizon, now()) y;
        ELSE
            SELECT string_agg(x::text, E'\n') INTO a FROM salesboard.board(e, horizon, subordinates => false) x;
            SELECT string_agg(y::text, E'\n') INTO b FROM bench.board_sql(e, horizon, now()) y;
        END IF;
        IF a IS DISTINCT FROM b THEN
            RAISE WARNING E'board of employee % differs\nboard(): %\nSQL:     %', e, a, b;
            RETURN false;
        END IF;
    END LOOP;
    RETURN true;
END
$$;

/* ------------------------------------------------------------------
 * Card colour over every deal
 * ------------------------------------------------------------------ */
CREATE FUNCTION bench.colours(variant text)
RETURNS TABLE (ms double precision, red bigint, yellow bigint, green bigint)
LANGUAGE plpgsql
SET max_parallel_workers_per_gather = 0 AS $$
DECLARE
    t0 timestamptz := clock_timestamp();
BEGIN
    -- each colour is computed once per deal (OFFSET 0 keeps the subquery
    -- from being pulled up into the three FILTER clauses); serial on both
    -- sides, the figure is about the cost per row
    IF variant = 'c' THEN
        SELECT count(*) FILTER (WHERE c = 'red'), count(*) FILTER (WHERE c = 'yellow'),
               count(*) FILTER (WHERE c = 'green')
          INTO red, yellow, green
          FROM (SELECT salesboard.due_colour(d.owner_id, d.next_due) AS c
                  FROM salesboard.deal d OFFSET 0) x;
    ELSE
        SELECT count(*) FILTER (WHERE c = 'red'), count(*) FILTER (WHERE c = 'yellow'),
               count(*) FILTER (WHERE c = 'green')
          INTO red, yellow, green
          FROM (SELECT CASE WHEN d.next_due IS NULL THEN 'green'
                            WHEN d.next_due < now() THEN 'red'
                            WHEN d.next_due < (((now() AT TIME ZONE e.time_zone)::date + 1)::timestamp
                                               AT TIME ZONE e.time_zone) THEN 'yellow'
                            ELSE 'green' END AS c
                  FROM salesboard.deal d JOIN salesboard.employee e ON e.id = d.owner_id OFFSET 0) x;
    END IF;
    ms := extract(epoch FROM clock_timestamp() - t0) * 1000;
    RETURN NEXT;
END
$$;

/* ------------------------------------------------------------------
 * pgbench: move a random deal to another open stage of its pipeline
 * ------------------------------------------------------------------ */
CREATE FUNCTION bench.move_random(d bigint)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    target bigint;
BEGIN
    SELECT s2.id INTO target
      FROM salesboard.deal x
      JOIN salesboard.stage s ON s.id = x.stage_id
      JOIN salesboard.stage s2 ON s2.pipeline_id = x.pipeline_id AND s2.kind = 'open' AND s2.id <> s.id
     WHERE x.id = d AND x.status = 'open'
     ORDER BY (s2.position - s.position + 100) % 100
     LIMIT 1;
    IF target IS NOT NULL THEN
        PERFORM salesboard.move_deal(d, target, 'Moved by pgbench', now() + interval '1 day', 'Next step');
    END IF;
END
$$;

/*
 * The same move as bench.move_random, as the hand-written DML of the moves
 * floor (bench.moves('floor')): for pgbench with the user triggers of deal
 * and activity disabled, so that concurrent movers can be compared with
 * concurrent writers of the same rows and indexes without any rule.
 */
CREATE FUNCTION bench.move_random_floor(d bigint)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    target bigint;
    v_stage bigint;
    v_owner bigint;
    v_next bigint;
    v_amount numeric;
    nid bigint;
BEGIN
    SELECT s2.id INTO target
      FROM salesboard.deal x
      JOIN salesboard.stage s ON s.id = x.stage_id
      JOIN salesboard.stage s2 ON s2.pipeline_id = x.pipeline_id AND s2.kind = 'open' AND s2.id <> s.id
     WHERE x.id = d AND x.status = 'open'
     ORDER BY (s2.position - s.position + 100) % 100
     LIMIT 1;
    IF target IS NULL THEN
        RETURN;
    END IF;
    SELECT x.stage_id, x.owner_id, x.next_activity_id, x.amount
      INTO v_stage, v_owner, v_next, v_amount
      FROM salesboard.deal x WHERE x.id = d FOR UPDATE;
    UPDATE salesboard.activity SET status = 'done', result = 'Moved by pgbench', done_at = now()
     WHERE id = v_next;
    INSERT INTO salesboard.activity (deal_id, kind, subject, due_at, created_at)
    VALUES (d, 'interaction', 'Next step', now() + interval '1 day', now())
    RETURNING id INTO nid;
    UPDATE salesboard.deal SET stage_id = target, stage_entered_at = now(),
           next_due = now() + interval '1 day', next_activity_id = nid
     WHERE id = d;
    INSERT INTO salesboard.stage_history (deal_id, event, from_stage_id, to_stage_id, moved_at,
           moved_by_role, owner_id, amount, result, activity_id, next_activity_id)
    VALUES (d, 'move', v_stage, target, now(), current_user, v_owner, v_amount,
            'Moved by pgbench', v_next, nid);
END
$$;

/*
 * A head over about 100 people: the generator's teams have about 10, so
 * group ten teams of one region under a new division headed by the first
 * team's head. Returns that head's id.
 */
CREATE FUNCTION bench.make_division()
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    region bigint;
    teams bigint[];
    div bigint;
    head bigint;
BEGIN
    SELECT d.parent_id, (array_agg(d.id ORDER BY d.id))[1:10]
      INTO region, teams
      FROM salesboard.department d
     WHERE d.parent_id IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM salesboard.department c WHERE c.parent_id = d.id)
     GROUP BY d.parent_id
     ORDER BY count(*) DESC, d.parent_id
     LIMIT 1;
    SELECT d.head_id INTO head FROM salesboard.department d WHERE d.id = teams[1];
    INSERT INTO salesboard.department (name, parent_id, head_id)
    VALUES ('Benchmark division', region, head) RETURNING id INTO div;
    UPDATE salesboard.department SET parent_id = div WHERE id = ANY (teams);
    RETURN head;
END
$$;

/*
 * Inbound: n requests from the first active e-mail lead source, from
 * senders who are nobody's contact, each with its own message id. 'c'
 * calls receive_inbound() (source check, sender normalisation, the copy
 * and client look-ups, INSERT ... ON CONFLICT); 'sql' is the bare INSERT
 * into the same table (its triggers run: the source check). tag keeps the
 * message ids of rounds apart.
 */
CREATE FUNCTION bench.receive(variant text, n integer, tag text)
RETURNS double precision
LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz;
    src bigint;
    i integer;
    x bigint;
BEGIN
    SELECT s.id INTO src FROM salesboard.lead_source s
     WHERE s.active AND s.is_lead_source AND s.channel = 'email' ORDER BY s.id LIMIT 1;
    t0 := clock_timestamp();
    FOR i IN 1 .. n LOOP
        IF variant = 'c' THEN
            x := salesboard.receive_inbound(src, 'Sender ' || i || ' <s' || i || '-' || tag || '@bench.test>',
                                            'Bench request ' || i, 'Hello',
                                            external_ref => '<' || variant || tag || '-' || i || '@bench.test>');
        ELSE
            INSERT INTO salesboard.inbound (source_id, sender, subject, body, external_ref)
            VALUES (src, 'Sender ' || i || ' <s' || i || '-' || tag || '@bench.test>',
                    'Bench request ' || i, 'Hello', '<' || variant || tag || '-' || i || '@bench.test>');
        END IF;
    END LOOP;
    RETURN extract(epoch FROM clock_timestamp() - t0) * 1000;
END
$$;

-- the Inbound column as a DBA would write it: the employee and their subtree
-- (as an array, so that inbound_queue_idx is used per owner)
CREATE FUNCTION bench.queue_sql(emp bigint, at timestamptz)
RETURNS TABLE (id bigint, source_id bigint, channel text, sender text, subject text,
               received_at timestamptz, age interval, owner_id bigint)
LANGUAGE sql STABLE AS $$
    WITH RECURSIVE sub(id) AS (
        SELECT d.id FROM salesboard.department d WHERE d.head_id = emp
        UNION
        SELECT d.id FROM salesboard.department d JOIN sub ON d.parent_id = sub.id)
    SELECT i.id, i.source_id, i.channel, i.sender, i.subject, i.received_at, at - i.received_at, i.owner_id
      FROM salesboard.inbound i
     WHERE i.status = 'new' AND i.received_at <= at
       AND i.owner_id = ANY (ARRAY(SELECT emp UNION SELECT e.id FROM salesboard.employee e
                                    WHERE e.department_id IN (SELECT sub.id FROM sub)))
     ORDER BY i.received_at, i.id
$$;

-- one round of Inbound columns; every row turned into text on both sides
CREATE FUNCTION bench.queues(variant text, emps bigint[])
RETURNS double precision
LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz := clock_timestamp();
    e bigint;
    n bigint;
BEGIN
    FOREACH e IN ARRAY emps LOOP
        IF variant = 'c' THEN
            SELECT sum(length(q::text)) INTO n FROM salesboard.inbound_queue(e, now()) q;
        ELSE
            SELECT sum(length(q::text)) INTO n FROM bench.queue_sql(e, now()) q;
        END IF;
    END LOOP;
    RETURN extract(epoch FROM clock_timestamp() - t0) * 1000;
END
$$;

-- the same rows for these employees?
CREATE FUNCTION bench.queues_agree(emps bigint[])
RETURNS boolean
LANGUAGE sql AS $$
    SELECT NOT EXISTS (
        SELECT e, q.* FROM unnest(emps) e, salesboard.inbound_queue(e, now()) q
        EXCEPT ALL
        SELECT e, s.* FROM unnest(emps) e, bench.queue_sql(e, now()) s)
    AND NOT EXISTS (
        SELECT e, s.* FROM unnest(emps) e, bench.queue_sql(e, now()) s
        EXCEPT ALL
        SELECT e, q.* FROM unnest(emps) e, salesboard.inbound_queue(e, now()) q)
$$;

/*
 * The funnel as a DBA would write it in plain SQL (period mode, counts):
 * per deal its reach and last counted event from the history in the
 * period, the stage every deal stood in at as_of, then one GROUP BY per
 * figure over the stages. Amounts are left out (the C side converts each
 * at its moment; comparing counts is enough to assert the same reading).
 */
CREATE FUNCTION bench.funnel_sql(p bigint, f timestamptz, t timestamptz, as_of timestamptz)
RETURNS TABLE (stage_id bigint, entered bigint, current bigint, advanced bigint, won bigint, lost bigint)
LANGUAGE sql STABLE AS $$
    WITH st AS (
        SELECT s.id, s.kind,
               row_number() OVER (ORDER BY CASE s.kind WHEN 'open' THEN 0 WHEN 'won' THEN 1 ELSE 2 END, s.position, s.id) AS col,
               count(*) FILTER (WHERE s.kind = 'open') OVER () AS nopen
          FROM salesboard.stage s WHERE s.pipeline_id = p),
    ev AS (
        SELECT h.deal_id, h.moved_at, h.id, st.col, st.kind, st.nopen
          FROM salesboard.stage_history h JOIN st ON st.id = h.to_stage_id
         WHERE h.moved_at >= f AND h.moved_at < t AND h.moved_at <= as_of),
    per_deal AS (
        SELECT ev.deal_id,
               max(CASE ev.kind WHEN 'open' THEN ev.col WHEN 'won' THEN ev.nopen ELSE 0 END) AS reach,
               (array_agg(ev.kind ORDER BY ev.moved_at DESC, ev.id DESC))[1] AS last_kind
          FROM ev GROUP BY ev.deal_id),
    cur AS (
        SELECT DISTINCT ON (h.deal_id) h.to_stage_id
          FROM salesboard.stage_history h JOIN st ON st.id = h.to_stage_id
         WHERE h.moved_at <= as_of
         ORDER BY h.deal_id, h.moved_at DESC, h.id DESC),
    cur_n AS (SELECT cur.to_stage_id, count(*) AS n FROM cur GROUP BY cur.to_stage_id)
    SELECT st.id,
           CASE st.kind WHEN 'open' THEN (SELECT count(*) FROM per_deal d WHERE d.reach >= st.col)
                        ELSE (SELECT count(*) FROM per_deal d WHERE d.last_kind = st.kind) END,
           coalesce((SELECT c.n FROM cur_n c WHERE c.to_stage_id = st.id), 0),
           CASE st.kind WHEN 'open' THEN (SELECT count(*) FROM per_deal d
                                           WHERE d.reach > st.col OR (st.col = st.nopen AND d.last_kind = 'won'))
                        ELSE 0 END,
           CASE st.kind WHEN 'lost' THEN 0 ELSE (SELECT count(*) FROM per_deal d
                                                  WHERE d.last_kind = 'won' AND (st.kind = 'won' OR d.reach >= st.col)) END,
           CASE st.kind WHEN 'won' THEN 0 ELSE (SELECT count(*) FROM per_deal d
                                                 WHERE d.last_kind = 'lost' AND (st.kind = 'lost' OR d.reach >= st.col)) END
      FROM st ORDER BY st.col
$$;

-- where every deal of the pipeline stood at as_of, by hand
CREATE FUNCTION bench.snapshot_sql(p bigint, as_of timestamptz)
RETURNS TABLE (stage_id bigint, current bigint)
LANGUAGE sql STABLE AS $$
    SELECT s.id, count(c.deal_id)
      FROM salesboard.stage s
      LEFT JOIN (SELECT DISTINCT ON (h.deal_id) h.deal_id, h.to_stage_id
                   FROM salesboard.stage_history h JOIN salesboard.deal d ON d.id = h.deal_id
                  WHERE d.pipeline_id = p AND h.moved_at <= as_of
                  ORDER BY h.deal_id, h.moved_at DESC, h.id DESC) c ON c.to_stage_id = s.id
     WHERE s.pipeline_id = p
     GROUP BY s.id
$$;

-- one timed call of each side (ms); variant 'c' or 'sql', kind 'period' or 'snapshot'
CREATE FUNCTION bench.funnel_time(variant text, kind text, f timestamptz, t timestamptz, as_of timestamptz)
RETURNS double precision
LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz := clock_timestamp();
    n bigint;
BEGIN
    IF variant = 'c' AND kind = 'period' THEN
        SELECT sum(length(x::text)) INTO n FROM salesboard.funnel(1, f, t, as_of => as_of) x;
    ELSIF variant = 'c' THEN
        SELECT sum(length(x::text)) INTO n FROM salesboard.funnel(1, mode => 'snapshot', as_of => as_of) x;
    ELSIF kind = 'period' THEN
        SELECT sum(length(x::text)) INTO n FROM bench.funnel_sql(1, f, t, as_of) x;
    ELSE
        SELECT sum(length(x::text)) INTO n FROM bench.snapshot_sql(1, as_of) x;
    END IF;
    RETURN extract(epoch FROM clock_timestamp() - t0) * 1000;
END
$$;

-- do funnel() and the plain SQL give the same counts?
CREATE FUNCTION bench.funnel_agree(f timestamptz, t timestamptz, as_of timestamptz)
RETURNS boolean
LANGUAGE sql AS $$
    SELECT NOT EXISTS (
        (SELECT x.stage_id, x.entered, x.current, x.advanced, x.won, x.lost FROM salesboard.funnel(1, f, t, as_of => as_of) x
         EXCEPT SELECT * FROM bench.funnel_sql(1, f, t, as_of))
        UNION ALL
        (SELECT * FROM bench.funnel_sql(1, f, t, as_of)
         EXCEPT SELECT x.stage_id, x.entered, x.current, x.advanced, x.won, x.lost FROM salesboard.funnel(1, f, t, as_of => as_of) x))
    AND NOT EXISTS (
        (SELECT x.stage_id, x.current FROM salesboard.funnel(1, mode => 'snapshot', as_of => as_of - interval '60 days') x
         EXCEPT SELECT * FROM bench.snapshot_sql(1, as_of - interval '60 days'))
        UNION ALL
        (SELECT * FROM bench.snapshot_sql(1, as_of - interval '60 days')
         EXCEPT SELECT x.stage_id, x.current FROM salesboard.funnel(1, mode => 'snapshot', as_of => as_of - interval '60 days') x))
$$;

/*
 * Overdue checks with the same number of new events on datasets of
 * different sizes. The events are the sample's own planned activities, the
 * n earliest due: where the generator put them, spread over the table as
 * activities that fall due together are in a real database (new rows
 * inserted for the bench would sit together on the few pages the free
 * space map offers, differently at each size, and a fresh session pays per
 * page it touches). Each round removes the alerts of that window, sets the
 * watermarks to its start (and the rot watermarks past its end: nothing
 * rots) and checks up to its end, asserting that it raised one alert per
 * activity of the window (n, or a few more when several fall due at the
 * window's last moment).
 */
CREATE TABLE bench.overdue_window (from_at timestamptz NOT NULL, to_at timestamptz NOT NULL, n integer NOT NULL);

CREATE FUNCTION bench.overdue_prepare(n integer)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM bench.overdue_window;
    INSERT INTO bench.overdue_window
    SELECT min(x.due_at), max(x.due_at) + interval '1 microsecond', n
      FROM (SELECT a.due_at FROM salesboard.activity a
             WHERE a.status = 'planned' AND a.due_at < now() - interval '1 day'
             ORDER BY a.due_at LIMIT n) x;
    -- activities due at the same moment as the last one (all-day ones at
    -- a local midnight) belong to the window too: n is what it holds
    UPDATE bench.overdue_window w
       SET n = (SELECT count(*) FROM salesboard.activity a
                 WHERE a.status = 'planned' AND a.due_at >= w.from_at AND a.due_at < w.to_at);
END
$$;

/*
 * The start of every round over the window: its alerts removed, the
 * watermarks at its start (the rot watermarks past its end: nothing rots).
 */
CREATE FUNCTION bench.overdue_reset()
RETURNS bench.overdue_window
LANGUAGE plpgsql AS $$
DECLARE
    w bench.overdue_window;
BEGIN
    SELECT * INTO STRICT w FROM bench.overdue_window;
    DELETE FROM salesboard.alert a
     WHERE a.kind = 'activity_overdue' AND a.event_at >= w.from_at AND a.event_at < w.to_at;
    INSERT INTO salesboard.overdue_check (id, activities_until) VALUES (true, w.from_at)
        ON CONFLICT (id) DO UPDATE SET activities_until = EXCLUDED.activities_until;
    INSERT INTO salesboard.overdue_rot (stage_id, entered_until)
    SELECT s.id, w.to_at - s.rot_days * interval '1 day'
      FROM salesboard.stage s WHERE s.rot_days > 0
        ON CONFLICT (stage_id) DO UPDATE SET entered_until = EXCLUDED.entered_until;
    RETURN w;
END
$$;

/*
 * One timed check of the window: check_overdue() (variant 'c') or, with
 * 'sql', the hand-written INSERT ... SELECT of the same alerts (a join to
 * the deal, no watermark), the machine's own cost of those reads and
 * inserts at each size. Either must raise one alert per activity of the
 * window.
 */
CREATE FUNCTION bench.overdue_round(variant text DEFAULT 'c')
RETURNS double precision
LANGUAGE plpgsql AS $$
DECLARE
    w bench.overdue_window;
    t0 timestamptz;
    raised integer;
BEGIN
    w := bench.overdue_reset();
    t0 := clock_timestamp();
    IF variant = 'c' THEN
        raised := salesboard.check_overdue(w.to_at);
    ELSE
        INSERT INTO salesboard.alert (employee_id, kind, deal_id, activity_id, event_at)
        SELECT coalesce(a.assignee_id, d.owner_id), 'activity_overdue', a.deal_id, a.id, a.due_at
          FROM salesboard.activity a JOIN salesboard.deal d ON d.id = a.deal_id
         WHERE a.status = 'planned' AND a.due_at >= w.from_at AND a.due_at < w.to_at AND d.status = 'open'
         ORDER BY a.deal_id
        ON CONFLICT DO NOTHING;
        GET DIAGNOSTICS raised = ROW_COUNT;
    END IF;
    IF raised <> w.n THEN
        RAISE EXCEPTION 'variant % raised % alerts, not %', variant, raised, w.n;
    END IF;
    RETURN extract(epoch FROM clock_timestamp() - t0) * 1000;
END
$$;

/*
 * Buffers touched (shared hits and reads) by one check of the window, from
 * EXPLAIN (ANALYZE, BUFFERS) of the call: the work itself, free of the
 * machine's memory and cache effects.
 */
CREATE FUNCTION bench.overdue_buffers()
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    w bench.overdue_window;
    plan json;
BEGIN
    w := bench.overdue_reset();
    EXECUTE 'EXPLAIN (ANALYZE, BUFFERS, TIMING OFF, FORMAT JSON) SELECT salesboard.check_overdue($1)' INTO plan USING w.to_at;
    RETURN (plan -> 0 -> 'Plan' ->> 'Shared Hit Blocks')::bigint + (plan -> 0 -> 'Plan' ->> 'Shared Read Blocks')::bigint;
END
$$;
