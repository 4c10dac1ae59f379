/*
 * bench/plpgsql_rules.sql: the benchmark's peer, the move path of
 * salesboard written as a careful engineer would write it in PL/pgSQL.
 *
 * The project aims for the extension to cost "far less than the
 * same rules written in PL/pgSQL". This file is that PL/pgSQL version, for
 * the move path only, on the SAME tables and indexes, so that a benchmark
 * can run salesboard.move_deal (C) and bench_pl.move_deal side by side:
 *
 *   bench_pl.move_deal(...)             same signature, checks, order of
 *                                       checks, SQLSTATEs and writes as the
 *                                       C salesboard.move_deal
 *   bench_pl.deal_rules_trigger()       BEFORE UPDATE ON deal FOR EACH ROW
 *   bench_pl.activity_rules_trigger()   BEFORE INSERT OR UPDATE ON activity
 *   bench_pl.activity_inserted_trigger()  AFTER INSERT  ... FOR EACH STATEMENT
 *   bench_pl.activity_updated_trigger()   AFTER UPDATE  ... FOR EACH STATEMENT
 *   bench_pl.activity_deleted_trigger()   AFTER DELETE  ... FOR EACH STATEMENT
 *                                       (next_due upkeep, set-based, with
 *                                       transition tables)
 *   bench_pl.planned_activity_check_trigger()  the deferred constraint
 *                                       trigger "every open deal has a
 *                                       planned activity" (SB001)
 *   bench_pl.install_triggers() / uninstall_triggers()
 *                                       create / drop the bench_pl_*
 *                                       triggers on salesboard.deal and
 *                                       salesboard.activity
 *   bench_pl.set_mode('c' | 'pl' | 'none')
 *                                       convenience: which rules are live
 *   bench_pl.self_check()               equivalence check, returns boolean
 *
 * How the benchmark uses it (as a superuser, in its own database):
 *
 *   ALTER TABLE salesboard.deal DISABLE TRIGGER USER;
 *   ALTER TABLE salesboard.activity DISABLE TRIGGER USER;
 *   SELECT bench_pl.install_triggers();
 *   ... SELECT bench_pl.move_deal(...) ...
 *   SELECT bench_pl.uninstall_triggers();
 *   ALTER TABLE salesboard.deal ENABLE TRIGGER USER;
 *   ALTER TABLE salesboard.activity ENABLE TRIGGER USER;
 *
 * (or bench_pl.set_mode('pl') ... bench_pl.set_mode('c')). DISABLE /
 * ENABLE TRIGGER USER also switch the bench_pl_* triggers, so install them
 * after the DISABLE and drop them before the ENABLE, as set_mode() does.
 * ALTER TABLE refuses to run while the transaction has pending trigger
 * events on the table: run SET CONSTRAINTS ALL IMMEDIATE first.
 * Loading this file again drops the schema and with it any installed
 * bench_pl_* triggers; it does not re-enable the C triggers: call
 * bench_pl.set_mode('c') (or ENABLE TRIGGER USER) afterwards.
 *
 * The protocol flag. The C API functions tell the C triggers "this stage
 * change is mine" through a backend variable. The PL/pgSQL equivalent is a
 * transaction-local custom setting, bench_pl.protocol (the prefix
 * "salesboard" is reserved by the module):
 *   '<deal id>'  bench_pl.move_deal is moving that deal (C: SB_OP_MOVE)
 *   '-1'         next_due upkeep is writing derived columns (C: SB_OP_DERIVED)
 *   '' / unset   nobody
 * move_deal saves and restores the previous value; an error rolls it back
 * with the (sub)transaction.
 *
 * What is deliberately the same as C: the order of the checks and the
 * SQLSTATE of each (22004 NULL argument, SB013 at other than now() for
 * non-admins, SB031 unknown stage, SB030 unknown / invisible deal, SB012
 * request reused, SB004 closed deal, SB003 other pipeline, SB010 terminal
 * stage, SB011 same stage, SB006 blank result, SB025 bad kind / blank
 * subject, SB007 due in the past); the row lock of the deal (FOR UPDATE)
 * before any of the deal-dependent checks; the current activity (earliest
 * planned by (due_at, id)); the four writes (complete the current activity,
 * insert the next, update the deal's stage and next_due / next_activity_id,
 * insert the 'move' row of stage_history with the same columns); request_id
 * idempotency.
 *
 * Where the PL/pgSQL version is allowed to be what PL/pgSQL is:
 *  - it looks configuration up with queries (stage, employee time zone)
 *    where C has backend caches; PL/pgSQL caches its plans, no dynamic SQL;
 *  - "find the current activity and complete it" is one UPDATE ... WHERE
 *    id = (SELECT ... LIMIT 1), and "update the deal with its next planned
 *    activity" is one UPDATE with a sub-select: fewer statements than C,
 *    which reads the index directly and then writes;
 *  - kind / subject / due checks run before the writes (C runs them after
 *    completing the current activity; since that UPDATE cannot fail for a
 *    valid move, the SQLSTATE a caller sees is the same);
 *  - the functions are SECURITY INVOKER: C writes as the extension owner
 *    (past row-level security); run the benchmark as a superuser (which is
 *    what it does), or as the tables' owner.
 *  - the deferred check reads with the statement's snapshot (C reads the
 *    newest data); under READ COMMITTED, which the benchmark uses, that is
 *    the same thing.
 *  - only the move path is covered: with the bench_pl triggers installed
 *    and the C ones disabled, create_deal / close_deal / reopen_deal /
 *    plan_activity / complete_activity (C) are not supported (their writes
 *    carry the C protocol, which the PL/pgSQL triggers do not know).
 */

DROP SCHEMA IF EXISTS bench_pl CASCADE;
CREATE SCHEMA bench_pl;
COMMENT ON SCHEMA bench_pl IS 'Benchmark peer: the salesboard move path written in PL/pgSQL (bench/plpgsql_rules.sql)';

/* ------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------ */

/* May the session pass `at` other than now()? (C: sb_may_backdate:
 * superuser, salesboard_admin or salesboard_app; pg_has_role ... 'USAGE'
 * is has_privs_of_role, true for superusers.) Only evaluated on the rare
 * paths where a moment differs from now(). */
CREATE FUNCTION bench_pl.may_backdate()
RETURNS boolean
LANGUAGE sql STABLE
AS $$
    SELECT pg_catalog.pg_has_role('salesboard_admin', 'USAGE')
        OR pg_catalog.pg_has_role('salesboard_app', 'USAGE')
$$;

/* ------------------------------------------------------------------
 * move_deal(deal_id, to_stage_id, result, next_due, next_subject,
 *           next_kind, next_all_day, request_id, at)
 * ------------------------------------------------------------------ */
CREATE FUNCTION bench_pl.move_deal(
    deal_id bigint, to_stage_id bigint, result text,
    next_due timestamptz, next_subject text,
    next_kind text DEFAULT 'interaction', next_all_day boolean DEFAULT false,
    request_id uuid DEFAULT NULL, at timestamptz DEFAULT now())
RETURNS void
LANGUAGE plpgsql VOLATILE
AS $fn$
DECLARE
    -- what C's sb_blank() calls blank: NULL or only isspace() characters
    c_ws        CONSTANT text := E' \t\n\r\f\x0b';
    v_st_pipeline bigint;
    v_st_kind   text;
    v_st_name   text;
    v_pipeline  bigint;
    v_stage     bigint;
    v_owner     bigint;
    v_status    text;
    v_title     text;
    v_amount    numeric;
    v_h_deal    bigint;
    v_h_event   text;
    v_h_stage   bigint;
    v_tz        text;
    v_due       timestamptz;
    v_day       date;
    v_me        bigint;
    v_cur       bigint;
    v_new       bigint;
    v_saved     text;
BEGIN
    -- arguments, in C's order (sb_require_arg)
    IF move_deal.deal_id IS NULL THEN
        RAISE EXCEPTION 'deal_id must not be NULL' USING ERRCODE = '22004', HINT = 'Pass a value for deal_id.';
    END IF;
    IF move_deal.to_stage_id IS NULL THEN
        RAISE EXCEPTION 'to_stage_id must not be NULL' USING ERRCODE = '22004', HINT = 'Pass a value for to_stage_id.';
    END IF;
    IF move_deal.result IS NULL THEN
        RAISE EXCEPTION 'result must not be NULL' USING ERRCODE = '22004', HINT = 'Pass a value for result.';
    END IF;
    IF move_deal.next_due IS NULL THEN
        RAISE EXCEPTION 'next_due must not be NULL' USING ERRCODE = '22004', HINT = 'Pass a value for next_due.';
    END IF;
    IF move_deal.next_subject IS NULL THEN
        RAISE EXCEPTION 'next_subject must not be NULL' USING ERRCODE = '22004', HINT = 'Pass a value for next_subject.';
    END IF;
    IF move_deal.next_kind IS NULL THEN
        RAISE EXCEPTION 'next_kind must not be NULL' USING ERRCODE = '22004', HINT = 'Pass a value for next_kind.';
    END IF;
    IF move_deal.next_all_day IS NULL THEN
        RAISE EXCEPTION 'next_all_day must not be NULL' USING ERRCODE = '22004', HINT = 'Pass a value for next_all_day.';
    END IF;
    IF move_deal.at IS NULL THEN
        RAISE EXCEPTION 'at must not be NULL' USING ERRCODE = '22004', HINT = 'Pass a value for at.';
    END IF;

    -- sb_check_at
    IF move_deal.at <> transaction_timestamp() AND NOT bench_pl.may_backdate() THEN
        RAISE EXCEPTION 'at = % differs from now(): only salesboard_admin and salesboard_app members may set the moment of a change', move_deal.at
            USING ERRCODE = 'SB013',
                  DETAIL = 'History records who changed what and when; ordinary users act at now().',
                  HINT = 'Leave the at parameter out, or ask an administrator to run the import.';
    END IF;

    -- the target stage
    SELECT s.pipeline_id, s.kind, s.name
      INTO v_st_pipeline, v_st_kind, v_st_name
      FROM salesboard.stage s
     WHERE s.id = move_deal.to_stage_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'stage % does not exist', move_deal.to_stage_id
            USING ERRCODE = 'SB031', HINT = 'Pass the id of a row of salesboard.stage.';
    END IF;

    -- the deal, locked, newest version
    SELECT d.pipeline_id, d.stage_id, d.owner_id, d.status, d.title, d.amount
      INTO v_pipeline, v_stage, v_owner, v_status, v_title, v_amount
      FROM salesboard.deal d
     WHERE d.id = move_deal.deal_id
       FOR UPDATE;
    IF NOT FOUND OR NOT salesboard.can_see(v_owner) THEN
        RAISE EXCEPTION 'deal % does not exist or is not visible to you', move_deal.deal_id
            USING ERRCODE = 'SB030',
                  HINT = 'Pass the id of one of your deals (salesboard.board() or salesboard.deal_list() show them).';
    END IF;

    -- request_id: the same change again is a no-op, another change an error
    IF move_deal.request_id IS NOT NULL THEN
        SELECT h.deal_id, h.event, h.to_stage_id
          INTO v_h_deal, v_h_event, v_h_stage
          FROM salesboard.stage_history h
         WHERE h.request_id = move_deal.request_id;
        IF FOUND THEN
            IF v_h_deal = move_deal.deal_id AND v_h_event = 'move' AND v_h_stage = move_deal.to_stage_id THEN
                RETURN;
            END IF;
            RAISE EXCEPTION 'request % was already used for another change (% of deal % to stage %)',
                    move_deal.request_id, v_h_event, v_h_deal, v_h_stage
                USING ERRCODE = 'SB012',
                      HINT = 'Generate a new request_id for every new change; reuse one only to retry the same change.';
        END IF;
    END IF;

    IF v_status <> 'open' THEN
        RAISE EXCEPTION 'deal % "%" is % and cannot be moved', move_deal.deal_id, v_title, v_status
            USING ERRCODE = 'SB004', HINT = 'Reopen it first with salesboard.reopen_deal().';
    END IF;
    IF v_st_pipeline <> v_pipeline THEN
        RAISE EXCEPTION 'stage % "%" belongs to pipeline %, but deal % is in pipeline %',
                move_deal.to_stage_id, v_st_name, v_st_pipeline, move_deal.deal_id, v_pipeline
            USING ERRCODE = 'SB003',
                  HINT = format('A deal moves only within its pipeline; pick a stage of pipeline %s.', v_pipeline);
    END IF;
    IF v_st_kind <> 'open' THEN
        RAISE EXCEPTION 'stage % "%" is the % stage; deal % cannot be moved there',
                move_deal.to_stage_id, v_st_name, v_st_kind, move_deal.deal_id
            USING ERRCODE = 'SB010', HINT = 'Close deals with salesboard.close_deal(deal_id, won, result, ...).';
    END IF;
    IF move_deal.to_stage_id = v_stage THEN
        RAISE EXCEPTION 'deal % "%" is already in stage "%"', move_deal.deal_id, v_title, v_st_name
            USING ERRCODE = 'SB011',
                  HINT = 'To record a result and plan the next step without moving, use salesboard.complete_activity() and salesboard.plan_activity().';
    END IF;
    IF btrim(move_deal.result, c_ws) = '' THEN
        RAISE EXCEPTION 'moving deal % needs the result of its current activity', move_deal.deal_id
            USING ERRCODE = 'SB006',
                  HINT = 'Write what came of the current interaction, e.g. ''Client accepted the proposal''.';
    END IF;

    -- the next activity (sb_insert_activity's checks)
    IF move_deal.next_kind NOT IN ('interaction', 'task') THEN
        RAISE EXCEPTION 'activity kind "%" is not known', move_deal.next_kind
            USING ERRCODE = 'SB025', HINT = 'Use ''interaction'' (with the client) or ''task'' (internal work).';
    END IF;
    IF btrim(move_deal.next_subject, c_ws) = '' THEN
        RAISE EXCEPTION 'the activity planned on deal % needs a subject', move_deal.deal_id
            USING ERRCODE = 'SB025', HINT = 'Say what is to be done, e.g. ''Call to agree the proposal''.';
    END IF;
    IF move_deal.next_all_day THEN
        SELECT e.time_zone INTO v_tz FROM salesboard.employee e WHERE e.id = v_owner;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'owner % of deal % does not exist', v_owner, move_deal.deal_id
                USING ERRCODE = 'SB033', HINT = 'Run salesboard.verify() to find damaged rows.';
        END IF;
        v_day := salesboard.local_date(move_deal.next_due, v_tz);
        v_due := salesboard.end_of_day(v_day, v_tz);
    ELSE
        v_due := move_deal.next_due;
    END IF;
    IF v_due < move_deal.at THEN
        RAISE EXCEPTION 'activity of deal % would be due at %, which is already past', move_deal.deal_id, v_due
            USING ERRCODE = 'SB007', DETAIL = format('Now is %s.', move_deal.at),
                  HINT = 'Plan the activity for a moment still ahead, or as all-day for today.';
    END IF;

    -- the writes, under the protocol flag
    v_me := salesboard.current_employee();
    v_saved := current_setting('bench_pl.protocol', true);
    PERFORM set_config('bench_pl.protocol', move_deal.deal_id::text, true);

    -- the current activity: the earliest planned one, done with the result
    UPDATE salesboard.activity a
       SET status = 'done', result = move_deal.result, done_at = move_deal.at
     WHERE a.id = (SELECT p.id FROM salesboard.activity p
                    WHERE p.deal_id = move_deal.deal_id AND p.status = 'planned'
                    ORDER BY p.due_at, p.id LIMIT 1)
       AND a.status = 'planned'
    RETURNING a.id INTO v_cur;

    INSERT INTO salesboard.activity (deal_id, kind, subject, due_at, all_day, due_date, created_at, created_by)
    VALUES (move_deal.deal_id, move_deal.next_kind, move_deal.next_subject, v_due,
            move_deal.next_all_day, v_day, move_deal.at, v_me)
    RETURNING id INTO v_new;

    UPDATE salesboard.deal d
       SET stage_id = move_deal.to_stage_id,
           stage_entered_at = move_deal.at,
           (next_due, next_activity_id) =
               (SELECT p.due_at, p.id FROM salesboard.activity p
                 WHERE p.deal_id = move_deal.deal_id AND p.status = 'planned'
                 ORDER BY p.due_at, p.id LIMIT 1)
     WHERE d.id = move_deal.deal_id;

    INSERT INTO salesboard.stage_history (deal_id, event, from_stage_id, to_stage_id,
        moved_at, moved_by, moved_by_role, owner_id, amount, result, activity_id,
        next_activity_id, lost_reason_id, request_id)
    VALUES (move_deal.deal_id, 'move', v_stage, move_deal.to_stage_id,
        move_deal.at, v_me, current_user, v_owner, v_amount, move_deal.result, v_cur,
        v_new, NULL, move_deal.request_id);

    PERFORM set_config('bench_pl.protocol', coalesce(v_saved, ''), true);
END
$fn$;

COMMENT ON FUNCTION bench_pl.move_deal(bigint, bigint, text, timestamptz, text, text, boolean, uuid, timestamptz)
    IS 'PL/pgSQL peer of salesboard.move_deal for the benchmark: same checks, order, SQLSTATEs and writes';

/* ------------------------------------------------------------------
 * BEFORE UPDATE ON deal FOR EACH ROW (C: sb_deal_before_row, update part)
 * ------------------------------------------------------------------ */
CREATE FUNCTION bench_pl.deal_rules_trigger()
RETURNS trigger
LANGUAGE plpgsql
AS $fn$
DECLARE
    v_proto     bigint := nullif(current_setting('bench_pl.protocol', true), '')::bigint;
    v_st_pipeline bigint;
    v_st_kind   text;
    v_st_name   text;
    v_col       text;
BEGIN
    IF v_proto = OLD.id THEN
        -- a stage change by move_deal: check it against the move
        SELECT s.pipeline_id, s.kind, s.name INTO v_st_pipeline, v_st_kind, v_st_name
          FROM salesboard.stage s WHERE s.id = NEW.stage_id;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'stage % does not exist', NEW.stage_id
                USING ERRCODE = 'SB031', HINT = 'Pass the id of a row of salesboard.stage.';
        END IF;
        IF NEW.pipeline_id IS DISTINCT FROM OLD.pipeline_id OR v_st_pipeline <> OLD.pipeline_id THEN
            RAISE EXCEPTION 'deal % cannot move to stage % "%" of another pipeline', OLD.id, NEW.stage_id, v_st_name
                USING ERRCODE = 'SB003', HINT = format('Pick a stage of pipeline %s.', OLD.pipeline_id);
        END IF;
        IF NOT (OLD.status = 'open' AND v_st_kind = 'open' AND NEW.stage_id IS DISTINCT FROM OLD.stage_id) THEN
            RAISE EXCEPTION 'salesboard: deal % cannot go from % to % stage "%" this way',
                OLD.id, OLD.status, v_st_kind, v_st_name USING ERRCODE = 'XX000';
        END IF;
        NEW.status := v_st_kind;
        RETURN NEW;
    END IF;

    v_col := CASE
        WHEN NEW.stage_id IS DISTINCT FROM OLD.stage_id THEN 'stage_id'
        WHEN NEW.pipeline_id IS DISTINCT FROM OLD.pipeline_id THEN 'pipeline_id'
        WHEN NEW.status IS DISTINCT FROM OLD.status THEN 'status'
        WHEN NEW.closed_at IS DISTINCT FROM OLD.closed_at THEN 'closed_at'
        WHEN NEW.lost_reason_id IS DISTINCT FROM OLD.lost_reason_id THEN 'lost_reason_id'
        WHEN NEW.stage_entered_at IS DISTINCT FROM OLD.stage_entered_at THEN 'stage_entered_at'
    END;
    IF v_col IS NOT NULL THEN
        RAISE EXCEPTION 'deal %: % cannot be changed by UPDATE', OLD.id, v_col
            USING ERRCODE = 'SB002',
                  DETAIL = 'A stage change records the result of the current activity and plans the next one.',
                  HINT = 'Use salesboard.move_deal(deal_id, to_stage_id, result, next_due, next_subject), salesboard.close_deal() or salesboard.reopen_deal().';
    END IF;
    v_col := CASE
        WHEN NEW.id IS DISTINCT FROM OLD.id THEN 'id'
        WHEN NEW.created_at IS DISTINCT FROM OLD.created_at THEN 'created_at'
        WHEN NEW.created_by IS DISTINCT FROM OLD.created_by THEN 'created_by'
    END;
    IF v_col IS NOT NULL THEN
        RAISE EXCEPTION 'deal %: % cannot be changed', OLD.id, v_col
            USING ERRCODE = 'SB014', HINT = 'Create a new deal instead.';
    END IF;
    IF v_proto IS DISTINCT FROM -1
       AND (NEW.next_due IS DISTINCT FROM OLD.next_due
            OR NEW.next_activity_id IS DISTINCT FROM OLD.next_activity_id) THEN
        RAISE EXCEPTION 'deal %: next_due and next_activity_id are derived from its planned activities', OLD.id
            USING ERRCODE = 'SB014',
                  HINT = 'Plan, complete, cancel or reschedule activities instead (salesboard.plan_activity()).';
    END IF;
    RETURN NEW;
END
$fn$;

/* ------------------------------------------------------------------
 * BEFORE INSERT OR UPDATE ON activity FOR EACH ROW
 * (C: sb_activity_before_row)
 * ------------------------------------------------------------------ */
CREATE FUNCTION bench_pl.activity_rules_trigger()
RETURNS trigger
LANGUAGE plpgsql
AS $fn$
DECLARE
    c_ws        CONSTANT text := E' \t\n\r\f\x0b';
    v_tz        text;
    v_day       date;
    v_due       timestamptz;
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.deal_id IS NULL THEN
            RETURN NEW;                 -- NOT NULL says it
        END IF;
        IF NEW.all_day THEN
            SELECT e.time_zone INTO v_tz
              FROM salesboard.deal d JOIN salesboard.employee e ON e.id = d.owner_id
             WHERE d.id = NEW.deal_id;
            -- an unknown deal: let the foreign key, not a CHECK, report it
            v_tz := coalesce(v_tz, 'UTC');
            IF NEW.due_date IS NOT NULL OR NEW.due_at IS NOT NULL THEN
                v_day := coalesce(NEW.due_date, salesboard.local_date(NEW.due_at, v_tz));
                NEW.due_date := v_day;
                NEW.due_at := salesboard.end_of_day(v_day, v_tz);
            END IF;
        ELSIF NEW.due_date IS NOT NULL THEN
            NEW.due_date := NULL;
        END IF;

        IF NEW.status = 'planned' THEN
            IF NEW.due_at < transaction_timestamp() AND NOT bench_pl.may_backdate() THEN
                RAISE EXCEPTION 'activity of deal % would be due at %, which is already past', NEW.deal_id, NEW.due_at
                    USING ERRCODE = 'SB007', DETAIL = format('Now is %s.', transaction_timestamp()),
                          HINT = 'Plan the activity for a moment still ahead, or as all-day for today.';
            END IF;
        ELSIF NEW.status IN ('done', 'cancelled') THEN
            IF NEW.status = 'done' AND btrim(coalesce(NEW.result, ''), c_ws) = '' THEN
                RAISE EXCEPTION 'activity % cannot be done without a result', NEW.id
                    USING ERRCODE = 'SB006',
                          HINT = 'Write what came of it into result, e.g. with salesboard.complete_activity(id, result).';
            END IF;
            IF NEW.done_at IS NULL THEN
                NEW.done_at := transaction_timestamp();
            ELSIF NEW.done_at <> transaction_timestamp() AND NOT bench_pl.may_backdate() THEN
                RAISE EXCEPTION 'done_at of activity % must be now()', NEW.id
                    USING ERRCODE = 'SB013',
                          HINT = 'Leave done_at out; only salesboard_admin and salesboard_app members may set it.';
            END IF;
        END IF;

        IF NEW.created_by IS NULL THEN
            NEW.created_by := salesboard.current_employee();
        END IF;
        RETURN NEW;
    END IF;

    -- UPDATE
    IF OLD.status <> 'planned' THEN
        IF NEW IS DISTINCT FROM OLD THEN
            RAISE EXCEPTION 'activity % of deal % is % and can no longer be changed', OLD.id, OLD.deal_id, OLD.status
                USING ERRCODE = 'SB016', DETAIL = 'Finished activities are the deal''s history.',
                      HINT = 'Plan a new activity with salesboard.plan_activity() instead.';
        END IF;
        RETURN NEW;
    END IF;
    IF NEW.id IS DISTINCT FROM OLD.id OR NEW.deal_id IS DISTINCT FROM OLD.deal_id
       OR NEW.created_at IS DISTINCT FROM OLD.created_at OR NEW.created_by IS DISTINCT FROM OLD.created_by THEN
        RAISE EXCEPTION 'activity %: id, deal_id, created_at and created_by cannot be changed', OLD.id
            USING ERRCODE = 'SB016', HINT = 'Cancel it and plan a new activity on the other deal instead.';
    END IF;

    IF NEW.status = 'planned' THEN
        IF NEW.due_at IS NULL THEN
            RETURN NEW;                 -- NOT NULL says it
        END IF;
        v_due := NEW.due_at;
        IF NEW.all_day THEN
            SELECT e.time_zone INTO v_tz
              FROM salesboard.deal d JOIN salesboard.employee e ON e.id = d.owner_id
             WHERE d.id = OLD.deal_id;
            IF v_tz IS NOT NULL THEN
                IF NOT OLD.all_day OR NEW.due_date IS NULL
                   OR (NEW.due_at IS DISTINCT FROM OLD.due_at AND NEW.due_date IS NOT DISTINCT FROM OLD.due_date) THEN
                    v_day := salesboard.local_date(v_due, v_tz);
                ELSE
                    v_day := NEW.due_date;
                END IF;
                v_due := salesboard.end_of_day(v_day, v_tz);
                NEW.due_date := v_day;
                NEW.due_at := v_due;
            END IF;
        ELSIF NEW.due_date IS NOT NULL THEN
            NEW.due_date := NULL;
        END IF;
        IF v_due <> OLD.due_at AND v_due < transaction_timestamp() AND NOT bench_pl.may_backdate() THEN
            RAISE EXCEPTION 'activity of deal % would be due at %, which is already past', OLD.deal_id, v_due
                USING ERRCODE = 'SB007', DETAIL = format('Now is %s.', transaction_timestamp()),
                      HINT = 'Plan the activity for a moment still ahead, or as all-day for today.';
        END IF;
    ELSIF NEW.status IN ('done', 'cancelled') THEN
        IF NEW.status = 'done' AND btrim(coalesce(NEW.result, ''), c_ws) = '' THEN
            RAISE EXCEPTION 'activity % cannot be done without a result', OLD.id
                USING ERRCODE = 'SB006',
                      HINT = 'Write what came of it into result, e.g. with salesboard.complete_activity(id, result).';
        END IF;
        IF NEW.done_at IS NULL THEN
            NEW.done_at := transaction_timestamp();
        ELSIF NEW.done_at <> transaction_timestamp() AND NOT bench_pl.may_backdate() THEN
            RAISE EXCEPTION 'done_at of activity % must be now()', OLD.id
                USING ERRCODE = 'SB013',
                      HINT = 'Leave done_at out; only salesboard_admin and salesboard_app members may set it.';
        END IF;
    END IF;
    RETURN NEW;
END
$fn$;

/* ------------------------------------------------------------------
 * next_due upkeep, set-based, from the transition tables
 * (C: sb_activity_after_insert / _update / _delete). A statement whose
 * rows all belong to the deal move_deal is moving is skipped: move_deal
 * keeps that deal exact itself, as the C functions do.
 * ------------------------------------------------------------------ */

/* Exact next_due of the given deals, under their row locks (id order). */
CREATE FUNCTION bench_pl.recompute_next_due(ids bigint[])
RETURNS void
LANGUAGE plpgsql
AS $fn$
DECLARE
    v_saved text := current_setting('bench_pl.protocol', true);
BEGIN
    PERFORM 1 FROM salesboard.deal d WHERE d.id = ANY (ids) ORDER BY d.id FOR UPDATE;
    PERFORM set_config('bench_pl.protocol', '-1', true);
    UPDATE salesboard.deal d
       SET next_due = n.due_at, next_activity_id = n.id
      FROM unnest(ids) AS i(deal_id)
      LEFT JOIN LATERAL (SELECT a.due_at, a.id FROM salesboard.activity a
                          WHERE a.deal_id = i.deal_id AND a.status = 'planned'
                          ORDER BY a.due_at, a.id LIMIT 1) n ON true
     WHERE d.id = i.deal_id AND d.status = 'open'
       AND (d.next_due, d.next_activity_id) IS DISTINCT FROM (n.due_at, n.id);
    PERFORM set_config('bench_pl.protocol', coalesce(v_saved, ''), true);
END
$fn$;

/* AFTER INSERT ON activity REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT */
CREATE FUNCTION bench_pl.activity_inserted_trigger()
RETURNS trigger
LANGUAGE plpgsql
AS $fn$
DECLARE
    v_saved     text := current_setting('bench_pl.protocol', true);
    v_proto     bigint := nullif(v_saved, '')::bigint;
    v_deal      bigint;
    v_status    text;
    v_act       bigint;
BEGIN
    IF v_proto > 0 AND NOT EXISTS (SELECT 1 FROM new_rows n WHERE n.deal_id <> v_proto) THEN
        RETURN NULL;                    -- move_deal keeps its deal exact
    END IF;

    -- no planned activities on closed deals
    SELECT n.deal_id, d.status, n.id INTO v_deal, v_status, v_act
      FROM new_rows n JOIN salesboard.deal d ON d.id = n.deal_id
     WHERE n.status = 'planned' AND d.status <> 'open'
     ORDER BY n.deal_id, n.due_at, n.id
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'cannot plan activity % on deal %, which is %', v_act, v_deal, v_status
            USING ERRCODE = 'SB015', DETAIL = 'A closed deal has no planned activities.',
                  HINT = 'Reopen the deal first with salesboard.reopen_deal().';
    END IF;

    -- new planned rows can only move next_due earlier: a monotone update
    PERFORM set_config('bench_pl.protocol', '-1', true);
    UPDATE salesboard.deal d
       SET next_due = n.due_at, next_activity_id = n.id
      FROM (SELECT DISTINCT ON (r.deal_id) r.deal_id, r.due_at, r.id
              FROM new_rows r WHERE r.status = 'planned'
             ORDER BY r.deal_id, r.due_at, r.id) n
     WHERE d.id = n.deal_id AND d.status = 'open'
       AND (d.next_due IS NULL OR (n.due_at, n.id) < (d.next_due, d.next_activity_id));
    PERFORM set_config('bench_pl.protocol', coalesce(v_saved, ''), true);
    RETURN NULL;
END
$fn$;

/* AFTER UPDATE ON activity REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT */
CREATE FUNCTION bench_pl.activity_updated_trigger()
RETURNS trigger
LANGUAGE plpgsql
AS $fn$
DECLARE
    v_proto     bigint := nullif(current_setting('bench_pl.protocol', true), '')::bigint;
    v_ids       bigint[];
BEGIN
    -- deals whose planned work changed (finished, rescheduled, moved);
    -- the row trigger keeps id fixed, so old and new pair up by id
    SELECT array_agg(DISTINCT t.deal_id) INTO v_ids
      FROM old_rows o
      JOIN new_rows n ON n.id = o.id
      CROSS JOIN LATERAL (VALUES (o.deal_id), (n.deal_id)) AS t(deal_id)
     WHERE (o.status = 'planned' OR n.status = 'planned')
       AND (o.status <> n.status OR o.due_at <> n.due_at OR o.deal_id <> n.deal_id);
    IF v_ids IS NULL OR (v_proto > 0 AND v_ids = ARRAY[v_proto]) THEN
        RETURN NULL;
    END IF;
    PERFORM bench_pl.recompute_next_due(v_ids);
    RETURN NULL;
END
$fn$;

/* AFTER DELETE ON activity REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT */
CREATE FUNCTION bench_pl.activity_deleted_trigger()
RETURNS trigger
LANGUAGE plpgsql
AS $fn$
DECLARE
    v_proto     bigint := nullif(current_setting('bench_pl.protocol', true), '')::bigint;
    v_ids       bigint[];
BEGIN
    SELECT array_agg(DISTINCT o.deal_id) INTO v_ids FROM old_rows o WHERE o.status = 'planned';
    IF v_ids IS NULL OR (v_proto > 0 AND v_ids = ARRAY[v_proto]) THEN
        RETURN NULL;
    END IF;
    PERFORM bench_pl.recompute_next_due(v_ids);
    RETURN NULL;
END
$fn$;

/* ------------------------------------------------------------------
 * Constraint trigger, DEFERRABLE INITIALLY DEFERRED, FOR EACH ROW:
 * every open deal has a planned activity (C: sb_planned_activity_check).
 * ------------------------------------------------------------------ */
CREATE FUNCTION bench_pl.planned_activity_check_trigger()
RETURNS trigger
LANGUAGE plpgsql
AS $fn$
DECLARE
    v_deal      bigint;
    v_act       bigint;
    v_title     text;
BEGIN
    IF TG_TABLE_NAME = 'deal' THEN
        v_deal := NEW.id;
    ELSE
        v_deal := OLD.deal_id;
        v_act := OLD.id;
    END IF;
    SELECT d.title INTO v_title
      FROM salesboard.deal d
     WHERE d.id = v_deal AND d.status = 'open'
       AND NOT EXISTS (SELECT 1 FROM salesboard.activity a
                        WHERE a.deal_id = d.id AND a.status = 'planned');
    IF FOUND THEN
        IF v_act IS NOT NULL THEN
            RAISE EXCEPTION 'deal % "%" is open but has no planned activity left', v_deal, v_title
                USING ERRCODE = 'SB001',
                      DETAIL = format('Activity %s was its last planned activity. Every open deal must always have a planned interaction or task (checked at commit).', v_act),
                      HINT = 'Plan the next step with salesboard.plan_activity() in the same transaction, or close the deal with salesboard.close_deal().';
        END IF;
        RAISE EXCEPTION 'deal % "%" is open but has no planned activity', v_deal, v_title
            USING ERRCODE = 'SB001',
                  DETAIL = 'Every open deal must always have a planned interaction or task (checked at commit).',
                  HINT = 'Plan its first step with salesboard.plan_activity() in the same transaction, or create deals with salesboard.create_deal().';
    END IF;
    RETURN NULL;
END
$fn$;

/* ------------------------------------------------------------------
 * Installing the triggers (same events and WHEN clauses as the C ones)
 * ------------------------------------------------------------------ */
CREATE FUNCTION bench_pl.uninstall_triggers()
RETURNS void
LANGUAGE plpgsql
AS $fn$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT t.tgname, t.tgrelid::regclass AS rel
               FROM pg_catalog.pg_trigger t
              WHERE t.tgrelid IN ('salesboard.deal'::regclass, 'salesboard.activity'::regclass)
                AND t.tgname LIKE 'bench\_pl\_%' AND NOT t.tgisinternal
              ORDER BY 1 LOOP
        EXECUTE format('DROP TRIGGER %I ON %s', r.tgname, r.rel);
    END LOOP;
END
$fn$;

CREATE FUNCTION bench_pl.install_triggers()
RETURNS void
LANGUAGE plpgsql
AS $fn$
BEGIN
    PERFORM bench_pl.uninstall_triggers();
    CREATE TRIGGER bench_pl_deal_rules
        BEFORE UPDATE ON salesboard.deal
        FOR EACH ROW EXECUTE FUNCTION bench_pl.deal_rules_trigger();
    CREATE CONSTRAINT TRIGGER bench_pl_deal_has_planned_activity
        AFTER INSERT ON salesboard.deal DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW WHEN (NEW.status = 'open')
        EXECUTE FUNCTION bench_pl.planned_activity_check_trigger();
    CREATE CONSTRAINT TRIGGER bench_pl_deal_reopened_has_planned_activity
        AFTER UPDATE ON salesboard.deal DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW WHEN (OLD.status <> 'open' AND NEW.status = 'open')
        EXECUTE FUNCTION bench_pl.planned_activity_check_trigger();

    CREATE TRIGGER bench_pl_activity_rules
        BEFORE INSERT OR UPDATE ON salesboard.activity
        FOR EACH ROW EXECUTE FUNCTION bench_pl.activity_rules_trigger();
    CREATE TRIGGER bench_pl_activity_inserted
        AFTER INSERT ON salesboard.activity REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION bench_pl.activity_inserted_trigger();
    CREATE TRIGGER bench_pl_activity_updated
        AFTER UPDATE ON salesboard.activity REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION bench_pl.activity_updated_trigger();
    CREATE TRIGGER bench_pl_activity_deleted
        AFTER DELETE ON salesboard.activity REFERENCING OLD TABLE AS old_rows
        FOR EACH STATEMENT EXECUTE FUNCTION bench_pl.activity_deleted_trigger();
    CREATE CONSTRAINT TRIGGER bench_pl_activity_finished_keeps_planned
        AFTER UPDATE ON salesboard.activity DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW WHEN (OLD.status = 'planned' AND NEW.status <> 'planned')
        EXECUTE FUNCTION bench_pl.planned_activity_check_trigger();
    CREATE CONSTRAINT TRIGGER bench_pl_activity_deleted_keeps_planned
        AFTER DELETE ON salesboard.activity DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW WHEN (OLD.status = 'planned')
        EXECUTE FUNCTION bench_pl.planned_activity_check_trigger();
END
$fn$;

/*
 * Which rules are live on deal and activity:
 *   'c'    the extension's C triggers (the normal state)
 *   'pl'   the bench_pl PL/pgSQL triggers, C ones disabled
 *   'none' no user triggers at all (the bare-DML floor)
 * Needs no pending trigger events on the tables (SET CONSTRAINTS ALL
 * IMMEDIATE first). Inside a transaction that is rolled back, the switch
 * is rolled back too.
 */
CREATE FUNCTION bench_pl.set_mode(mode text)
RETURNS void
LANGUAGE plpgsql
AS $fn$
BEGIN
    IF mode IS NULL OR mode NOT IN ('c', 'pl', 'none') THEN
        RAISE EXCEPTION 'mode must be c, pl or none, not %', coalesce(mode, 'NULL') USING ERRCODE = '22023';
    END IF;
    PERFORM bench_pl.uninstall_triggers();
    IF mode = 'c' THEN
        ALTER TABLE salesboard.deal ENABLE TRIGGER USER;
        ALTER TABLE salesboard.activity ENABLE TRIGGER USER;
    ELSE
        ALTER TABLE salesboard.deal DISABLE TRIGGER USER;
        ALTER TABLE salesboard.activity DISABLE TRIGGER USER;
        IF mode = 'pl' THEN
            PERFORM bench_pl.install_triggers();
        END IF;
    END IF;
END
$fn$;

/* ------------------------------------------------------------------
 * The equivalence check
 *
 * bench_pl.self_check() builds a small data set (3 employees in UTC,
 * Europe/Moscow and Asia/Kathmandu, a pipeline of 5 open stages + won +
 * lost, a second pipeline, 13 deals made with salesboard.create_deal /
 * plan_activity / close_deal), then, once with the C triggers and
 * salesboard.move_deal and once with the C triggers disabled, the bench_pl
 * triggers installed and bench_pl.move_deal:
 *   - moves deals (plain, all-day across a time-zone date line, task kind,
 *     the current activity not the newest, the next activity an older
 *     planned one, twice in a row, with a request_id and its retry);
 *   - tries bad inputs (NULLs, unknown deal / stage, closed deal, other
 *     pipeline, won stage, same stage, blank result, due in the past, bad
 *     kind, blank subject, reused request_id) and direct DML (raw stage
 *     change, derived column, done without result, changing a finished
 *     activity, planning on a closed deal, insert / reschedule / delete /
 *     cancel of activities with next_due upkeep, finishing the last planned
 *     activity with and without a replacement, checked at commit);
 *   - runs SET CONSTRAINTS ALL IMMEDIATE and salesboard.verify();
 *   - lists the deal / activity / stage_history rows of its deals with ids
 *     replaced by names and ranks (ignoring moved_by_role).
 * Each run happens in a subtransaction that is rolled back (the data and
 * the trigger switch vanish; only sequence values are used up). True when
 * both runs list the same lines, every SQLSTATE is the expected one and
 * verify() reports nothing for the check's deals. Differences are shown
 * as NOTICEs. Ends with the C triggers enabled (set_mode('c')).
 * ------------------------------------------------------------------ */

/* Run one statement; 'label: <SQLSTATE or OK>', flagged when not as expected. */
CREATE FUNCTION bench_pl._expect(label text, expected text, stmt text)
RETURNS text
LANGUAGE plpgsql
AS $fn$
DECLARE
    v_got text := 'OK';
BEGIN
    BEGIN
        EXECUTE stmt;
    EXCEPTION WHEN OTHERS THEN
        v_got := SQLSTATE;
    END;
    IF v_got IS DISTINCT FROM expected THEN
        RETURN format('UNEXPECTED %s: got %s, expected %s', label, v_got, expected);
    END IF;
    RETURN format('%s: %s', label, v_got);
END
$fn$;

/* The check's deals, activities and history, ids replaced by names / ranks. */
CREATE FUNCTION bench_pl._check_contents(pipelines bigint[])
RETURNS text[]
LANGUAGE sql
AS $fn$
    WITH d AS (
        SELECT * FROM salesboard.deal WHERE pipeline_id = ANY (pipelines)
    ), a AS (
        SELECT a.*, row_number() OVER (PARTITION BY a.deal_id ORDER BY a.id) AS rk
          FROM salesboard.activity a WHERE a.deal_id IN (SELECT id FROM d)
    ), h AS (
        SELECT h.*, row_number() OVER (PARTITION BY h.deal_id ORDER BY h.moved_at, h.id) AS rk
          FROM salesboard.stage_history h WHERE h.deal_id IN (SELECT id FROM d)
    ), lines AS (
        SELECT format('deal %s | stage %s | %s | owner %s | next %s #%s | entered %s | closed %s | amount %s %s | lost %s | prio %s | by %s | created %s',
                      d.title, s.name, d.status, o.name, d.next_due, na.rk, d.stage_entered_at,
                      d.closed_at, d.amount, d.currency, d.lost_reason_id IS NOT NULL, d.priority,
                      cb.name, d.created_at) AS line
          FROM d
          JOIN salesboard.stage s ON s.id = d.stage_id
          JOIN salesboard.employee o ON o.id = d.owner_id
          LEFT JOIN a na ON na.id = d.next_activity_id
          LEFT JOIN salesboard.employee cb ON cb.id = d.created_by
        UNION ALL
        SELECT format('activity %s #%s | %s | %s | due %s | all_day %s %s | %s | result %s | done %s | created %s by %s | assignee %s',
                      d.title, a.rk, a.kind, a.subject, a.due_at, a.all_day, a.due_date, a.status,
                      a.result, a.done_at, a.created_at, cb.name, a.assignee_id)
          FROM a JOIN d ON d.id = a.deal_id
          LEFT JOIN salesboard.employee cb ON cb.id = a.created_by
        UNION ALL
        SELECT format('history %s #%s | %s | %s -> %s | at %s | by %s | owner %s | amount %s | result %s | activity #%s | next #%s | lost %s | request %s',
                      d.title, h.rk, h.event, fs.name, ts.name, h.moved_at, mb.name, o.name, h.amount,
                      h.result, ca.rk, na.rk, h.lost_reason_id IS NOT NULL, h.request_id)
          FROM h JOIN d ON d.id = h.deal_id
          LEFT JOIN salesboard.stage fs ON fs.id = h.from_stage_id
          JOIN salesboard.stage ts ON ts.id = h.to_stage_id
          LEFT JOIN salesboard.employee mb ON mb.id = h.moved_by
          JOIN salesboard.employee o ON o.id = h.owner_id
          LEFT JOIN a ca ON ca.id = h.activity_id
          LEFT JOIN a na ON na.id = h.next_activity_id
    )
    SELECT coalesce(array_agg(line ORDER BY line), '{}') FROM lines
$fn$;

/* One run of the check: 'c' (C triggers, salesboard.move_deal) or 'pl'. */
CREATE FUNCTION bench_pl._check_run(variant text)
RETURNS text[]
LANGUAGE plpgsql
AS $fn$
DECLARE
    mv      text := CASE variant WHEN 'c' THEN 'salesboard.move_deal' ELSE 'bench_pl.move_deal' END;
    t0      timestamptz := '2026-03-10 09:00+00';
    t1      timestamptz := '2026-03-11 10:00+00';
    t2      timestamptz := '2026-03-12 11:00+00';
    r1      uuid := 'b0b0b0b0-0000-4000-8000-000000000001';
    r2      uuid := 'b0b0b0b0-0000-4000-8000-000000000002';
    e1      bigint;
    e2      bigint;
    e3      bigint;
    p1      bigint;
    p2      bigint;
    s       bigint[] := '{}';
    t       bigint[] := '{}';
    d       bigint[] := '{}';
    x       bigint;
    i       int;
    out     text[] := '{}';
BEGIN
    -- configuration
    INSERT INTO salesboard.employee (name, time_zone, role_name)
    VALUES ('check e1', 'UTC',
            CASE WHEN NOT EXISTS (SELECT 1 FROM salesboard.employee WHERE role_name = current_user)
                 THEN current_user END)
    RETURNING id INTO e1;
    INSERT INTO salesboard.employee (name, time_zone) VALUES ('check e2', 'Europe/Moscow') RETURNING id INTO e2;
    INSERT INTO salesboard.employee (name, time_zone) VALUES ('check e3', 'Asia/Kathmandu') RETURNING id INTO e3;
    INSERT INTO salesboard.pipeline (name) VALUES ('bench_pl check P1') RETURNING id INTO p1;
    INSERT INTO salesboard.pipeline (name) VALUES ('bench_pl check P2') RETURNING id INTO p2;
    FOR i IN 1..5 LOOP
        INSERT INTO salesboard.stage (pipeline_id, name, position) VALUES (p1, 'P1 s' || i, i) RETURNING id INTO x;
        s := s || x;
    END LOOP;
    INSERT INTO salesboard.stage (pipeline_id, name, position, kind, probability) VALUES (p1, 'P1 won', 6, 'won', 100) RETURNING id INTO x;
    s := s || x;
    INSERT INTO salesboard.stage (pipeline_id, name, position, kind, probability) VALUES (p1, 'P1 lost', 7, 'lost', 0) RETURNING id INTO x;
    s := s || x;
    FOR i IN 1..2 LOOP
        INSERT INTO salesboard.stage (pipeline_id, name, position) VALUES (p2, 'P2 s' || i, i) RETURNING id INTO x;
        t := t || x;
    END LOOP;
    INSERT INTO salesboard.stage (pipeline_id, name, position, kind, probability) VALUES (p2, 'P2 won', 3, 'won', 100) RETURNING id INTO x;
    t := t || x;
    INSERT INTO salesboard.stage (pipeline_id, name, position, kind, probability) VALUES (p2, 'P2 lost', 4, 'lost', 0) RETURNING id INTO x;
    t := t || x;

    -- deals, with the C API (C triggers on)
    d[1] := salesboard.create_deal(e1, s[1], 'D1', t0 + interval '1 day', 'First call D1', amount => 1000, currency => 'USD', at => t0);
    d[2] := salesboard.create_deal(e2, s[1], 'D2', t0 + interval '2 days', 'First call D2', at => t0);
    PERFORM salesboard.plan_activity(d[2], t0 + interval '5 hours', 'Early task D2', 'task', at => t0);
    d[3] := salesboard.create_deal(e3, s[2], 'D3', t0 + interval '1 day', 'First call D3', amount => 50.5, currency => 'EUR', at => t0);
    PERFORM salesboard.plan_activity(d[3], t0 + interval '10 days', 'Later meeting D3', at => t0);
    d[4] := salesboard.create_deal(e1, s[1], 'D4', t0 + interval '1 day', 'First call D4', at => t0);
    d[5] := salesboard.create_deal(e2, s[1], 'D5', t0 + interval '1 day', 'First call D5', at => t0);
    d[6] := salesboard.create_deal(e1, s[1], 'D6', t0 + interval '1 day', 'First call D6', at => t0);
    PERFORM salesboard.close_deal(d[6], true, 'Signed at once', at => t0 + interval '1 hour');
    d[7] := salesboard.create_deal(e3, s[1], 'D7', t0 + interval '1 day', 'All-day D7', first_all_day => true, at => t0);
    d[8] := salesboard.create_deal(e1, t[1], 'D8', t0 + interval '1 day', 'First call D8', at => t0);
    d[9] := salesboard.create_deal(e1, s[3], 'D9', t0 + interval '1 day', 'First call D9', at => t0);
    d[10] := salesboard.create_deal(e2, s[1], 'D10', t0 + interval '1 day', 'First call D10', at => t0);
    d[11] := salesboard.create_deal(e1, s[2], 'D11', t0 + interval '3 days', 'First call D11', at => t0);
    PERFORM salesboard.plan_activity(d[11], t0 + interval '4 days', 'Second call D11', at => t0);
    PERFORM salesboard.plan_activity(d[11], t0 + interval '5 days', 'Third call D11', 'task', at => t0);
    d[12] := salesboard.create_deal(e1, s[1], 'D12', t0 + interval '1 day', 'Only call D12', at => t0);
    d[13] := salesboard.create_deal(e2, s[1], 'D13', t0 + interval '1 day', 'Only call D13', at => t0);

    -- flush the deferred checks of the setup so that ALTER TABLE may run
    SET CONSTRAINTS ALL IMMEDIATE;
    SET CONSTRAINTS ALL DEFERRED;
    IF variant = 'pl' THEN
        PERFORM bench_pl.set_mode('pl');
    END IF;

    -- moves that succeed
    out := out || bench_pl._expect('move D1 s1->s2', 'OK',
        format('SELECT %s(%s, %s, %L, %L, %L, at => %L)', mv, d[1], s[2], 'Agreed to a demo', t1 + interval '1 day', 'Demo D1', t1));
    out := out || bench_pl._expect('move D2 s1->s3 all-day, current = the earlier task', 'OK',
        format('SELECT %s(%s, %s, %L, %L, %L, next_all_day => true, at => %L)', mv, d[2], s[3], 'Task done', t1 + interval '2 days', 'All-day follow-up D2', t1));
    out := out || bench_pl._expect('move D3 s2->s4 task, next = older planned', 'OK',
        format('SELECT %s(%s, %s, %L, %L, %L, %L, at => %L)', mv, d[3], s[4], 'Sent the offer', t1 + interval '20 days', 'Check payment D3', 'task', t1));
    out := out || bench_pl._expect('move D4 request r1', 'OK',
        format('SELECT %s(%s, %s, %L, %L, %L, request_id => %L, at => %L)', mv, d[4], s[2], 'Called', t1 + interval '1 day', 'Call again D4', r1, t1));
    out := out || bench_pl._expect('move D4 request r1 again (no-op)', 'OK',
        format('SELECT %s(%s, %s, %L, %L, %L, request_id => %L, at => %L)', mv, d[4], s[2], 'Called', t1 + interval '1 day', 'Call again D4', r1, t1));
    out := out || bench_pl._expect('move D5 s1->s4', 'OK',
        format('SELECT %s(%s, %s, %L, %L, %L, request_id => %L, at => %L)', mv, d[5], s[4], 'Skipped ahead', t1 + interval '6 hours', 'Meeting D5', r2, t1));
    out := out || bench_pl._expect('move D5 s4->s5 all-day', 'OK',
        format('SELECT %s(%s, %s, %L, %L, %L, next_all_day => true, at => %L)', mv, d[5], s[5], 'Met', t2 + interval '3 days', 'Contract D5', t2));
    out := out || bench_pl._expect('move D7 s1->s2 all-day to all-day', 'OK',
        format('SELECT %s(%s, %s, %L, %L, %L, next_all_day => true, at => %L)', mv, d[7], s[2], 'Done', t1, 'All-day again D7', t1));
    out := out || bench_pl._expect('move D8 P2 s1->s2', 'OK',
        format('SELECT %s(%s, %s, %L, %L, %L, at => %L)', mv, d[8], t[2], 'Fine', t1 + interval '1 hour', 'Next D8', t1));
    out := out || bench_pl._expect('move D10 all-day across the Moscow date line', 'OK',
        format('SELECT %s(%s, %s, %L, %L, %L, next_all_day => true, at => %L)', mv, d[10], s[2], 'Talked', timestamptz '2026-03-11 22:30+00', 'All-day D10', t1));
    out := out || bench_pl._expect('move D9 all-day today, before at', 'OK',
        format('SELECT %s(%s, %s, %L, %L, %L, next_all_day => true, at => %L)', mv, d[9], s[4], 'Today', t1 - interval '1 hour', 'All-day today D9', t1));

    -- bad input: the same SQLSTATE, nothing changed
    out := out || bench_pl._expect('NULL deal_id', '22004',
        format('SELECT %s(NULL, %s, %L, %L, %L, at => %L)', mv, s[2], 'r', t2 + interval '1 day', 'x', t2));
    out := out || bench_pl._expect('NULL result', '22004',
        format('SELECT %s(%s, %s, NULL, %L, %L, at => %L)', mv, d[9], s[2], t2 + interval '1 day', 'x', t2));
    out := out || bench_pl._expect('NULL next_all_day', '22004',
        format('SELECT %s(%s, %s, %L, %L, %L, next_all_day => NULL, at => %L)', mv, d[9], s[2], 'r', t2 + interval '1 day', 'x', t2));
    out := out || bench_pl._expect('NULL at', '22004',
        format('SELECT %s(%s, %s, %L, %L, %L, at => NULL)', mv, d[9], s[2], 'r', t2 + interval '1 day', 'x'));
    out := out || bench_pl._expect('unknown deal', 'SB030',
        format('SELECT %s(%s, %s, %L, %L, %L, at => %L)', mv, -1, s[2], 'r', t2 + interval '1 day', 'x', t2));
    out := out || bench_pl._expect('unknown stage (and unknown deal)', 'SB031',
        format('SELECT %s(%s, %s, %L, %L, %L, at => %L)', mv, -1, -1, 'r', t2 + interval '1 day', 'x', t2));
    out := out || bench_pl._expect('closed deal', 'SB004',
        format('SELECT %s(%s, %s, %L, %L, %L, at => %L)', mv, d[6], s[2], 'r', t2 + interval '1 day', 'x', t2));
    out := out || bench_pl._expect('other pipeline', 'SB003',
        format('SELECT %s(%s, %s, %L, %L, %L, at => %L)', mv, d[8], s[3], 'r', t2 + interval '1 day', 'x', t2));
    out := out || bench_pl._expect('won stage', 'SB010',
        format('SELECT %s(%s, %s, %L, %L, %L, at => %L)', mv, d[9], s[6], 'r', t2 + interval '1 day', 'x', t2));
    out := out || bench_pl._expect('same stage', 'SB011',
        format('SELECT %s(%s, %s, %L, %L, %L, at => %L)', mv, d[9], s[4], 'r', t2 + interval '1 day', 'x', t2));
    out := out || bench_pl._expect('blank result', 'SB006',
        format('SELECT %s(%s, %s, %L, %L, %L, at => %L)', mv, d[9], s[5], E' \t\n', t2 + interval '1 day', 'x', t2));
    out := out || bench_pl._expect('due in the past', 'SB007',
        format('SELECT %s(%s, %s, %L, %L, %L, at => %L)', mv, d[9], s[5], 'r', t2 - interval '1 second', 'x', t2));
    out := out || bench_pl._expect('all-day due yesterday', 'SB007',
        format('SELECT %s(%s, %s, %L, %L, %L, next_all_day => true, at => %L)', mv, d[9], s[5], 'r', t2 - interval '1 day', 'x', t2));
    out := out || bench_pl._expect('bad kind', 'SB025',
        format('SELECT %s(%s, %s, %L, %L, %L, %L, at => %L)', mv, d[9], s[5], 'r', t2 + interval '1 day', 'x', 'meeting', t2));
    out := out || bench_pl._expect('blank subject', 'SB025',
        format('SELECT %s(%s, %s, %L, %L, %L, at => %L)', mv, d[9], s[5], 'r', t2 + interval '1 day', '   ', t2));
    out := out || bench_pl._expect('request r1 on another deal', 'SB012',
        format('SELECT %s(%s, %s, %L, %L, %L, request_id => %L, at => %L)', mv, d[9], s[5], 'r', t2 + interval '1 day', 'x', r1, t2));
    out := out || bench_pl._expect('request r1 to another stage', 'SB012',
        format('SELECT %s(%s, %s, %L, %L, %L, request_id => %L, at => %L)', mv, d[4], s[3], 'r', t2 + interval '1 day', 'x', r1, t2));
    out := out || bench_pl._expect('request r2 on a closed deal (request first)', 'SB012',
        format('SELECT %s(%s, %s, %L, %L, %L, request_id => %L, at => %L)', mv, d[6], s[3], 'r', t2 + interval '1 day', 'x', r2, t2));

    -- direct DML: the triggers
    out := out || bench_pl._expect('raw stage change', 'SB002',
        format('UPDATE salesboard.deal SET stage_id = %s WHERE id = %s', s[3], d[11]));
    out := out || bench_pl._expect('raw status change', 'SB002',
        format('UPDATE salesboard.deal SET status = %L WHERE id = %s', 'won', d[11]));
    out := out || bench_pl._expect('derived column', 'SB014',
        format('UPDATE salesboard.deal SET next_due = next_due + interval %L WHERE id = %s', '1 hour', d[11]));
    out := out || bench_pl._expect('title change', 'OK',
        format('UPDATE salesboard.deal SET title = title || %L, priority = true WHERE id = %s', ' (renamed)', d[11]));
    out := out || bench_pl._expect('done without result', 'SB006',
        format('UPDATE salesboard.activity SET status = %L WHERE deal_id = %s AND status = %L', 'done', d[11], 'planned'));
    out := out || bench_pl._expect('change a finished activity', 'SB016',
        format('UPDATE salesboard.activity SET result = %L WHERE deal_id = %s AND status = %L', 'rewritten', d[1], 'done'));
    out := out || bench_pl._expect('move an activity to another deal', 'SB016',
        format('UPDATE salesboard.activity SET deal_id = %s WHERE deal_id = %s AND status = %L', d[12], d[11], 'planned'));
    out := out || bench_pl._expect('plan on a closed deal', 'SB015',
        format('INSERT INTO salesboard.activity (deal_id, subject, due_at) VALUES (%s, %L, %L)', d[6], 'x', t2 + interval '1 day'));
    out := out || bench_pl._expect('insert an earlier activity', 'OK',
        format('INSERT INTO salesboard.activity (deal_id, subject, due_at) VALUES (%s, %L, %L)', d[11], 'Urgent call D11', t0 + interval '3 hours'));
    out := out || bench_pl._expect('insert an all-day activity by date', 'OK',
        format('INSERT INTO salesboard.activity (deal_id, subject, all_day, due_date) VALUES (%s, %L, true, %L)', d[11], 'All-day D11', date '2026-03-20'));
    out := out || bench_pl._expect('reschedule the all-day activity by date', 'OK',
        format('UPDATE salesboard.activity SET due_date = due_date + 1 WHERE deal_id = %s AND subject = %L', d[11], 'All-day D11'));
    out := out || bench_pl._expect('reschedule the earliest activity later', 'OK',
        format('UPDATE salesboard.activity SET due_at = due_at + interval %L WHERE deal_id = %s AND subject = %L', '30 days', d[11], 'Urgent call D11'));
    out := out || bench_pl._expect('delete the earliest planned activity', 'OK',
        format('DELETE FROM salesboard.activity WHERE deal_id = %s AND subject = %L', d[11], 'First call D11'));
    out := out || bench_pl._expect('cancel the next planned activity', 'OK',
        format('UPDATE salesboard.activity SET status = %L, result = %L WHERE deal_id = %s AND subject = %L', 'cancelled', 'Not needed', d[11], 'Second call D11'));
    out := out || bench_pl._expect('finish the only activity, then plan the next (deferred check)', 'OK',
        format('UPDATE salesboard.activity SET status = %L, result = %L WHERE deal_id = %s; '
               'INSERT INTO salesboard.activity (deal_id, subject, due_at, kind) VALUES (%s, %L, %L, %L)',
               'done', 'Talked', d[13], d[13], 'Next step D13', t2 + interval '2 days', 'task'));

    -- the deferred checks now; then finishing a last activity fails at once
    out := out || bench_pl._expect('deferred checks', 'OK', 'SET CONSTRAINTS ALL IMMEDIATE');
    out := out || bench_pl._expect('finish the last planned activity', 'SB001',
        format('UPDATE salesboard.activity SET status = %L, result = %L WHERE deal_id = %s', 'done', 'Talked', d[12]));
    out := out || bench_pl._expect('delete the last planned activity', 'SB001',
        format('DELETE FROM salesboard.activity WHERE deal_id = %s', d[12]));

    -- verify(): nothing broken among the check's deals
    out := out || ARRAY(SELECT format('VERIFY deal %s %s: %s', v.deal_id, v.rule, v.detail)
                          FROM salesboard.verify() v
                         WHERE v.deal_id IN (SELECT id FROM salesboard.deal WHERE pipeline_id IN (p1, p2))
                         ORDER BY v.deal_id, v.rule);

    RETURN out || bench_pl._check_contents(ARRAY[p1, p2]);
END
$fn$;

CREATE FUNCTION bench_pl.self_check()
RETURNS boolean
LANGUAGE plpgsql
AS $fn$
DECLARE
    v_c     text[];
    v_pl    text[];
    v_line  text;
    v_ok    boolean := true;
BEGIN
    FOR i IN 1..2 LOOP
        BEGIN
            IF i = 1 THEN
                PERFORM bench_pl.set_mode('c');
                v_c := bench_pl._check_run('c');
            ELSE
                PERFORM bench_pl.set_mode('c');
                v_pl := bench_pl._check_run('pl');
            END IF;
            RAISE EXCEPTION 'bench_pl self_check: roll back' USING ERRCODE = 'BP999';
        EXCEPTION WHEN SQLSTATE 'BP999' THEN
            NULL;
        END;
    END LOOP;

    FOREACH v_line IN ARRAY v_c LOOP
        IF v_line LIKE 'UNEXPECTED%' OR v_line LIKE 'VERIFY%' THEN
            RAISE NOTICE 'C: %', v_line;
            v_ok := false;
        END IF;
    END LOOP;
    FOREACH v_line IN ARRAY v_pl LOOP
        IF v_line LIKE 'UNEXPECTED%' OR v_line LIKE 'VERIFY%' THEN
            RAISE NOTICE 'PL/pgSQL: %', v_line;
            v_ok := false;
        END IF;
    END LOOP;
    FOR v_line IN SELECT 'only C:        ' || l FROM unnest(v_c) l WHERE l <> ALL (v_pl)
                  UNION ALL
                  SELECT 'only PL/pgSQL: ' || l FROM unnest(v_pl) l WHERE l <> ALL (v_c) LOOP
        RAISE NOTICE '%', v_line;
        v_ok := false;
    END LOOP;
    IF v_c IS DISTINCT FROM v_pl THEN
        v_ok := false;
    END IF;
    RAISE NOTICE 'bench_pl.self_check: % lines each (C %, PL/pgSQL %), %',
        greatest(cardinality(v_c), cardinality(v_pl)), cardinality(v_c), cardinality(v_pl),
        CASE WHEN v_ok THEN 'identical' ELSE 'DIFFERENT' END;
    PERFORM bench_pl.set_mode('c');
    RETURN v_ok;
END
$fn$;

COMMENT ON FUNCTION bench_pl.self_check()
    IS 'True when bench_pl.move_deal with the bench_pl triggers gives the same rows and SQLSTATEs as salesboard.move_deal with the C triggers';

/* ------------------------------------------------------------------
 * Informal timing harness (not run by this file). One transaction per
 * run, rolled back, so every run sees the same data; interleave the modes
 * over several rounds and VACUUM ANALYZE the three tables between runs.
 * <mode> is c, pl or none; <move> is, for c and pl,
 *     PERFORM salesboard.move_deal(v_id, v_s2, 'Talked to the client', v_due, 'Next call');
 *     PERFORM bench_pl.move_deal(v_id, v_s2, 'Talked to the client', v_due, 'Next call');
 * and for none (the bare-DML floor, all user triggers off) the same four
 * statements by hand:
 *     UPDATE salesboard.activity a SET status = 'done', result = 'Talked to the client', done_at = now()
 *      WHERE a.id = (SELECT p.id FROM salesboard.activity p WHERE p.deal_id = v_id AND p.status = 'planned'
 *                     ORDER BY p.due_at, p.id LIMIT 1)
 *     RETURNING a.id INTO v_cur;
 *     INSERT INTO salesboard.activity (deal_id, kind, subject, due_at, all_day, created_at)
 *     VALUES (v_id, 'interaction', 'Next call', v_due, false, now()) RETURNING id INTO v_new;
 *     UPDATE salesboard.deal d SET stage_id = v_s2, stage_entered_at = now(),
 *            (next_due, next_activity_id) = (SELECT p.due_at, p.id FROM salesboard.activity p
 *                  WHERE p.deal_id = v_id AND p.status = 'planned' ORDER BY p.due_at, p.id LIMIT 1)
 *      WHERE d.id = v_id RETURNING d.owner_id, d.amount INTO v_owner, v_amount;
 *     INSERT INTO salesboard.stage_history (deal_id, event, from_stage_id, to_stage_id, moved_at, moved_by,
 *         moved_by_role, owner_id, amount, result, activity_id, next_activity_id, request_id)
 *     VALUES (v_id, 'move', v_s1, v_s2, now(), NULL, current_user, v_owner, v_amount,
 *         'Talked to the client', v_cur, v_new, NULL);
 *
 *   BEGIN;
 *   SELECT bench_pl.set_mode('<mode>');
 *   DO $$
 *   DECLARE
 *     v_s1 bigint := <id of the first open stage>;
 *     v_s2 bigint := <id of the second open stage>;
 *     v_ids bigint[] := ARRAY(SELECT id FROM salesboard.deal WHERE stage_id = v_s1 ORDER BY id LIMIT 20000);
 *     v_id bigint; v_due timestamptz; v_cur bigint; v_new bigint; v_owner bigint; v_amount numeric;
 *     v_i int := 0; v_t0 timestamptz := clock_timestamp();
 *   BEGIN
 *     FOREACH v_id IN ARRAY v_ids LOOP
 *       v_i := v_i + 1;
 *       v_due := now() + interval '1 day' + (v_i % 100) * interval '1 minute';
 *       <move>
 *     END LOOP;
 *     SET CONSTRAINTS ALL IMMEDIATE;
 *     RAISE NOTICE 'elapsed % ms', round(extract(epoch FROM clock_timestamp() - v_t0) * 1000, 1);
 *   END
 *   $$;
 *   ROLLBACK;
 *   VACUUM ANALYZE salesboard.deal, salesboard.activity, salesboard.stage_history;
 *
 * On a shared machine, the backend's own CPU time is steadier than the
 * wall clock: as a superuser, read fields 14 + 15 (utime + stime, in
 * clock ticks) of pg_read_file('/proc/self/stat') before and after.
 * ------------------------------------------------------------------ */
