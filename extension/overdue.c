/*
 * overdue.c: overdue checks (feature): check_overdue(), the alerts of an
 * employee, and scheduling the checks with pg_cron when it is there
 * (doc/reference.md, "Overdue checks"; errors SB300-SB302).
 *
 * check_overdue(at) looks only at what happened since the previous check:
 *   - activities: planned ones due in [activities_until, at) (the index
 *     activity_due_idx); an activity is overdue once `at` is past its
 *     due_at, which for an all-day one is the end of its day in its
 *     owner's zone (stored that way), so neither the cron clock nor the
 *     server's TimeZone enters;
 *   - rotting deals, per stage with rot_days: open deals that entered it in
 *     [entered_until, at - rot_days) (the index deal_rot_idx). The rot
 *     moment is read with the stage's rot_days now, so a change applies to
 *     deals already in the stage; the watermark only grows, so a deal rots
 *     once per stay and again only after it moves.
 * The watermarks (overdue_check, overdue_rot) are read FOR UPDATE: two
 * checks at once run one after the other, and the second finds nothing
 * new; a late check catches up on everything since the last one. Alerts go
 * to the activity's assignee (else the deal's owner) or the deal's owner,
 * and to their department head when company.alert_department_heads says
 * so; the unique index alert_once_per_event makes each alert once.
 * Alerts are inserted in deal order: their foreign key takes a share lock
 * on each deal, and the extension's own bulk locks go in id order too, so
 * a check and a change rarely deadlock; if one does (a transaction moving
 * deals in another order), the check rolls back whole, its watermark
 * unmoved, and the next check does its work.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "calls.h"
#include "catalog.h"
#include "config.h"
#include "errcodes.h"
#include "identity.h"
#include "live.h"
#include "rows.h"
#include "spi.h"
#include "texts.h"

PG_FUNCTION_INFO_V1(sb_check_overdue);
PG_FUNCTION_INFO_V1(sb_alerts);
PG_FUNCTION_INFO_V1(sb_mark_alerts_seen);
PG_FUNCTION_INFO_V1(sb_schedule_overdue_checks);
PG_FUNCTION_INFO_V1(sb_unschedule_overdue_checks);

#define JOB_PREFIX "salesboard_overdue_checks"
#define JOB_COMMAND "SELECT salesboard.check_overdue()"

/* ------------------------------------------------------------------
 * check_overdue(at)
 * ------------------------------------------------------------------ */
static SbQuery q_watermark = {
	"INSERT INTO salesboard.overdue_check (id, activities_until) VALUES (true, '-infinity') "
	"ON CONFLICT (id) DO NOTHING",
	0, {0}, NULL
};

static SbQuery q_lock_watermark = {
	"SELECT c.activities_until FROM salesboard.overdue_check c WHERE c.id FOR UPDATE",
	0, {0}, NULL
};

static SbQuery q_set_watermark = {
	"UPDATE salesboard.overdue_check c SET activities_until = $1 WHERE c.id",
	1, {TIMESTAMPTZOID}, NULL
};

/* who hears of an event: the person, and their head if the company says so */
#define RECIPIENTS \
	"rcpt AS (SELECT e.employee_id, e.deal_id, e.activity_id, e.stage_id, e.event_at FROM ev e " \
	"  UNION ALL SELECT dep.head_id, e.deal_id, e.activity_id, e.stage_id, e.event_at FROM ev e " \
	"  JOIN salesboard.employee p ON p.id = e.employee_id " \
	"  JOIN salesboard.department dep ON dep.id = p.department_id " \
	"  JOIN salesboard.employee h ON h.id = dep.head_id AND h.active " \
	"  WHERE dep.head_id <> e.employee_id " \
	"  AND EXISTS (SELECT 1 FROM salesboard.company c WHERE c.alert_department_heads)) "

/*
 * The deal of each activity by a lookup per row (scalar subqueries are
 * never turned into joins): a generic plan's guess of how many activities
 * fall due could otherwise hash-join the whole deal table, and the cost
 * would follow its size instead of the number of new events.
 */
static SbQuery q_overdue = {
	"WITH ev AS (SELECT x.employee_id, x.deal_id, x.activity_id, x.stage_id, x.event_at FROM ("
	"  SELECT coalesce(a.assignee_id, (SELECT d.owner_id FROM salesboard.deal d WHERE d.id = a.deal_id)) "
	"  AS employee_id, a.deal_id, a.id AS activity_id, NULL::bigint AS stage_id, a.due_at AS event_at, "
	"  (SELECT d.status FROM salesboard.deal d WHERE d.id = a.deal_id) AS deal_status "
	"  FROM salesboard.activity a WHERE a.status = 'planned' AND a.due_at >= $1 AND a.due_at < $2 "
	"  OFFSET 0) x WHERE x.deal_status = 'open'), "
	RECIPIENTS
	"INSERT INTO salesboard.alert (employee_id, kind, deal_id, activity_id, stage_id, event_at) "
	"SELECT r.employee_id, 'activity_overdue', r.deal_id, r.activity_id, r.stage_id, r.event_at FROM rcpt r "
	"ORDER BY r.deal_id ON CONFLICT DO NOTHING RETURNING id, employee_id",
	2, {TIMESTAMPTZOID, TIMESTAMPTZOID}, NULL
};

static SbQuery q_rot_watermark = {
	"INSERT INTO salesboard.overdue_rot (stage_id, entered_until) VALUES ($1, '-infinity') "
	"ON CONFLICT (stage_id) DO NOTHING",
	1, {INT8OID}, NULL
};

static SbQuery q_lock_rot = {
	"SELECT r.entered_until FROM salesboard.overdue_rot r WHERE r.stage_id = $1 FOR UPDATE",
	1, {INT8OID}, NULL
};

static SbQuery q_set_rot = {
	"UPDATE salesboard.overdue_rot r SET entered_until = $2 WHERE r.stage_id = $1",
	2, {INT8OID, TIMESTAMPTZOID}, NULL
};

static SbQuery q_rotting = {
	"WITH ev AS (SELECT d.owner_id AS employee_id, d.id AS deal_id, NULL::bigint AS activity_id, "
	"  d.stage_id, d.stage_entered_at + $4 * interval '24 hours' AS event_at "
	"  FROM salesboard.deal d WHERE d.stage_id = $1 AND d.status = 'open' "
	"  AND d.stage_entered_at >= $2 AND d.stage_entered_at < $3), "
	RECIPIENTS
	"INSERT INTO salesboard.alert (employee_id, kind, deal_id, activity_id, stage_id, event_at) "
	"SELECT r.employee_id, 'deal_rotting', r.deal_id, r.activity_id, r.stage_id, r.event_at FROM rcpt r "
	"ORDER BY r.deal_id ON CONFLICT DO NOTHING RETURNING id, employee_id",
	4, {INT8OID, TIMESTAMPTZOID, TIMESTAMPTZOID, INT4OID}, NULL
};

typedef struct Raised
{
	int64	   *ids;
	int64	   *employees;
	int			n;
	int			max;
} Raised;

static void
collect(Raised *r, MemoryContext cxt)
{
	uint64		k;
	bool		isnull;

	for (k = 0; k < SPI_processed; k++)
	{
		if (r->n == r->max)
		{
			r->max = Max(16, r->max * 2);
			r->ids = r->ids ? repalloc(r->ids, sizeof(int64) * r->max) : MemoryContextAlloc(cxt, sizeof(int64) * r->max);
			r->employees = r->employees ? repalloc(r->employees, sizeof(int64) * r->max) :
				MemoryContextAlloc(cxt, sizeof(int64) * r->max);
		}
		r->ids[r->n] = sb_spi_int8(k, 1, &isnull);
		r->employees[r->n] = sb_spi_int8(k, 2, &isnull);
		r->n++;
	}
}

static TimestampTz
locked_moment(SbQuery *q, Datum *v)
{
	bool		isnull;

	sb_exec(q, v, NULL, false, 1);
	if (SPI_processed != 1)
		elog(ERROR, "salesboard: the overdue checks' watermark is missing");
	return DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/* NOTIFY salesboard {"event":"alert","alerts":[...],"employees":[...]} */
static void
notify_alerts(Raised *r)
{
	StringInfoData buf;
	int			nemp;

	if (r->n == 0 || !sb_live_changes())
		return;
	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"event\":\"alert\"");
	if (r->n * 21 * 2 + 100 < SB_LIVE_MAX_PAYLOAD)
		sb_live_append_ids(&buf, "alerts", r->ids, r->n);
	else
		appendStringInfo(&buf, ",\"alert_count\":%d", r->n);
	nemp = sb_sort_unique_int64(r->employees, r->n);
	if (nemp * 21 + buf.len + 20 < SB_LIVE_MAX_PAYLOAD)
		sb_live_append_ids(&buf, "employees", r->employees, nemp);
	else
		appendStringInfo(&buf, ",\"employee_count\":%d", nemp);
	appendStringInfoChar(&buf, '}');
	sb_live_notify(buf.data);
}

/* The rotting deals of one stage since its watermark. */
static void
check_stage(const SbStage *st, TimestampTz at, Raised *raised, MemoryContext cxt)
{
	Datum		v[4];
	TimestampTz until,
				bound;

	v[0] = Int64GetDatum(st->id);
	sb_exec(&q_rot_watermark, v, NULL, false, 0);
	until = locked_moment(&q_lock_rot, v);
	bound = at - (TimestampTz) st->rot_days * USECS_PER_DAY;
	if (bound <= until)
		return;
	v[1] = TimestampTzGetDatum(until);
	v[2] = TimestampTzGetDatum(bound);
	v[3] = Int32GetDatum(st->rot_days);
	sb_exec(&q_rotting, v, NULL, false, 0);
	collect(raised, cxt);
	v[1] = TimestampTzGetDatum(bound);
	sb_exec(&q_set_rot, v, NULL, false, 0);
}

Datum
sb_check_overdue(PG_FUNCTION_ARGS)
{
	TimestampTz at = sb_moment_arg(fcinfo, 0, "at");
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	MemoryContext outer = CurrentMemoryContext;
	Raised		raised = {0};
	TimestampTz until;
	Datum		v[2];
	int64		pipeline;

	/* a check ahead of time would move the watermarks past what is not due yet */
	if (at > now)
		ereport(ERROR,
				(errcode(ERRCODE_SB_CHECK_AHEAD),
				 errmsg("check_overdue() cannot check ahead of time: at = %s is later than now()",
						pstrdup(timestamptz_to_str(at))),
				 errdetail("Now is %s.", pstrdup(timestamptz_to_str(now))),
				 errhint("Leave at out (now()), or pass a moment that has passed.")));
	SPI_connect();
	sb_exec(&q_watermark, NULL, NULL, false, 0);
	until = locked_moment(&q_lock_watermark, NULL);
	if (at > until)
	{
		v[0] = TimestampTzGetDatum(until);
		v[1] = TimestampTzGetDatum(at);
		sb_exec(&q_overdue, v, NULL, false, 0);
		collect(&raised, outer);
		v[0] = TimestampTzGetDatum(at);
		sb_exec(&q_set_watermark, v, NULL, false, 0);
	}
	/* every stage with rot_days, pipeline by pipeline */
	for (pipeline = sb_first_pipeline(); pipeline >= 0;)
	{
		int			nst,
					i;
		const SbStage **stages = sb_pipeline_stages(pipeline, &nst);

		for (i = 0; i < nst; i++)
			if (stages[i]->kind == SB_OPEN && stages[i]->rot_days > 0)
				check_stage(stages[i], at, &raised, outer);
		pipeline = sb_pipeline_after(pipeline);
	}
	SPI_finish();
	notify_alerts(&raised);
	PG_RETURN_INT32(raised.n);
}

/* ------------------------------------------------------------------
 * alerts(employee_id, unseen_only), mark_alerts_seen(ids)
 * ------------------------------------------------------------------ */
static SbQuery q_alerts = {
	"SELECT a.id, a.kind, a.deal_id, a.activity_id, a.stage_id, a.event_at, a.created_at, a.seen_at, a.employee_id "
	"FROM salesboard.alert a WHERE a.employee_id = $1 AND (NOT $2 OR a.seen_at IS NULL) "
	"ORDER BY a.event_at, a.id",
	2, {INT8OID, BOOLOID}, NULL
};

Datum
sb_alerts(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int64		emp;
	Datum		v[2];
	uint64		k;

	sb_require_arg(fcinfo, 1, "unseen_only");
	emp = sb_view_employee_arg(fcinfo, 0, "alerts");
	v[0] = Int64GetDatum(emp);
	v[1] = PG_GETARG_DATUM(1);
	InitMaterializedSRF(fcinfo, 0);
	SPI_connect();
	sb_exec(&q_alerts, v, NULL, true, 0);
	for (k = 0; k < SPI_processed; k++)
	{
		Datum		values[9];
		bool		nulls[9];
		int			c;

		for (c = 0; c < 9; c++)
			values[c] = SPI_getbinval(SPI_tuptable->vals[k], SPI_tuptable->tupdesc, c + 1, &nulls[c]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_finish();
	return (Datum) 0;
}

static SbQuery q_alert_owners = {
	"SELECT a.id, a.employee_id FROM salesboard.alert a WHERE a.id = ANY($1) ORDER BY a.id",
	1, {INT8ARRAYOID}, NULL
};

static SbQuery q_mark_seen = {
	"UPDATE salesboard.alert a SET seen_at = pg_catalog.now() WHERE a.id = ANY($1) AND a.seen_at IS NULL",
	1, {INT8ARRAYOID}, NULL
};

Datum
sb_mark_alerts_seen(PG_FUNCTION_ARGS)
{
	int			n,
				i,
				seen = 0;
	int64	   *ids;
	Datum		v[1];
	uint64		k;

	n = sb_id_array_arg(fcinfo, 0, "alert", "Pass the ids of your alerts (salesboard.alerts()).", &ids);
	(void) sb_require_employee();
	if (n == 0)
		PG_RETURN_INT32(0);
	v[0] = PointerGetDatum(sb_int8_array(ids, NULL, n));
	SPI_connect();
	sb_exec(&q_alert_owners, v, NULL, false, 0);
	for (k = 0, i = 0; i < n; i++, k++)
	{
		bool		isnull;

		/* unknown and invisible alerts: the same SB300 */
		if (k >= SPI_processed || sb_spi_int8(k, 1, &isnull) != ids[i] ||
			!sb_can_access_owner(sb_spi_int8(k, 2, &isnull)))
			ereport(ERROR,
					(errcode(ERRCODE_SB_UNKNOWN_ALERT),
					 errmsg("alert " INT64_FORMAT " does not exist", ids[i]),
					 errhint("Pass the ids of your alerts (salesboard.alerts()).")));
	}
	sb_exec(&q_mark_seen, v, NULL, false, 0);
	seen = (int) SPI_processed;
	SPI_finish();
	PG_RETURN_INT32(seen);
}

/* ------------------------------------------------------------------
 * schedule_overdue_checks(schedule), unschedule_overdue_checks():
 * pg_cron when it is there, never required
 * ------------------------------------------------------------------ */

/*
 * The job's name: one per database (pg_cron names a job per user, and a
 * second database's job must not replace the first's).
 */
static char *
job_name(void)
{
	return psprintf("%s:%s", JOB_PREFIX, get_database_name(MyDatabaseId));
}

/* pg_cron is loaded and lives in this database, else SB301/SB302 naming what to do */
static void
require_pg_cron_here(const char *schedule)
{
	const char *cron_db = GetConfigOption("cron.database_name", true, false);
	char	   *here = get_database_name(MyDatabaseId);
	bool		installed;

	if (cron_db == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_SB_NO_PG_CRON),
				 errmsg("pg_cron is not available on this server: the overdue checks cannot be scheduled"),
				 errdetail("salesboard works without pg_cron; only the schedule needs it."),
				 errhint("Add pg_cron to shared_preload_libraries and CREATE EXTENSION pg_cron in the database cron.database_name names, or call salesboard.check_overdue() from another scheduler every minute.")));
	if (strcmp(cron_db, here) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_SB_CRON_ELSEWHERE),
				 errmsg("pg_cron lives in database \"%s\", not in \"%s\": schedule the checks from there",
						cron_db, here),
				 errhint("In database \"%s\" run: SELECT cron.schedule_in_database(%s, %s, %s, %s);",
						 cron_db, quote_literal_cstr(job_name()),
						 quote_literal_cstr(schedule ? schedule : "* * * * *"),
						 quote_literal_cstr(JOB_COMMAND), quote_literal_cstr(here))));
	SPI_connect();
	sb_exec_once("SELECT 1 FROM pg_catalog.pg_extension e WHERE e.extname = 'pg_cron'", true);
	installed = SPI_processed > 0;
	SPI_finish();
	if (!installed)
		ereport(ERROR,
				(errcode(ERRCODE_SB_NO_PG_CRON),
				 errmsg("pg_cron is loaded but not installed in database \"%s\"", here),
				 errhint("CREATE EXTENSION pg_cron; then schedule again.")));
}

Datum
sb_schedule_overdue_checks(PG_FUNCTION_ARGS)
{
	char	   *schedule;
	Oid			types[3] = {TEXTOID, TEXTOID, TEXTOID};
	Datum		v[3];
	bool		isnull;
	int64		job;

	sb_require_arg(fcinfo, 0, "schedule");
	schedule = sb_text_arg(fcinfo, 0);
	require_pg_cron_here(schedule);
	v[0] = CStringGetTextDatum(job_name());
	v[1] = CStringGetTextDatum(schedule);
	v[2] = CStringGetTextDatum(JOB_COMMAND);
	SPI_connect();
	/* as the caller: the job runs with their rights, never the owner's */
	sb_exec_as_caller("SELECT cron.schedule($1, $2, $3)", 3, types, v, NULL, false);
	job = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	PG_RETURN_INT64(job);
}

Datum
sb_unschedule_overdue_checks(PG_FUNCTION_ARGS)
{
	Oid			types[1] = {TEXTOID};
	Datum		v[1];
	bool		found;

	require_pg_cron_here(NULL);
	v[0] = CStringGetTextDatum(job_name());
	SPI_connect();
	sb_exec_as_caller("SELECT 1 FROM cron.job j WHERE j.jobname = $1 AND j.username = CURRENT_USER "
					  "AND j.database = pg_catalog.current_database()",
					  1, types, v, NULL, true);
	found = SPI_processed > 0;
	if (found)
		sb_exec_as_caller("SELECT cron.unschedule($1)", 1, types, v, NULL, false);
	SPI_finish();
	PG_RETURN_BOOL(found);
}

/* ------------------------------------------------------------------
 * AFTER INSERT OR UPDATE OF due_at, due_date, status ON activity FOR EACH ROW
 * WHEN (NEW.status = 'planned' AND NEW.due_at < now()): a planned activity
 * whose due moment lies behind the checks' watermark (an all-day one
 * re-anchored to an owner's new zone, an import) moves the watermark back
 * to it, so the next check still sees it; the alerts already raised are
 * not raised again (alert_once_per_event).
 * ------------------------------------------------------------------ */
PG_FUNCTION_INFO_V1(sb_overdue_rewind_trigger);

static SbQuery q_rewind = {
	"UPDATE salesboard.overdue_check c SET activities_until = $1 WHERE c.id AND c.activities_until > $1",
	1, {TIMESTAMPTZOID}, NULL
};

Datum
sb_overdue_rewind_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *td = sb_trigger_call(fcinfo, "sb_overdue_rewind_trigger",
									  SB_TRIG_AFTER | SB_TRIG_ROW | SB_TRIG_NO_DELETE);
	HeapTuple	t = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : td->tg_trigtuple;
	bool		isnull;
	Datum		v[1];

	if (sb_restoring())
		return PointerGetDatum(NULL);
	sb_catalog();
	v[0] = heap_getattr(t, sb_cat.act_att[ACT_DUE_AT], RelationGetDescr(td->tg_relation), &isnull);
	if (isnull)
		return PointerGetDatum(NULL);
	SPI_connect();
	sb_exec(&q_rewind, v, NULL, false, 0);
	SPI_finish();
	return PointerGetDatum(NULL);
}

/* ------------------------------------------------------------------
 * BEFORE UPDATE OF seen_at ON alert FOR EACH ROW: an alert is seen at
 * now(), once, as mark_alerts_seen() does it; raw SQL may not backdate it
 * or make it unseen again (SB013), but for administrators and
 * applications (imports).
 * ------------------------------------------------------------------ */
PG_FUNCTION_INFO_V1(sb_alert_seen_trigger);

Datum
sb_alert_seen_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *td = sb_trigger_call(fcinfo, "sb_alert_seen_trigger",
									  SB_TRIG_BEFORE | SB_TRIG_ROW | SB_TRIG_UPDATE);
	TupleDesc	desc = RelationGetDescr(td->tg_relation);
	AttrNumber	att;
	bool		was_null,
				is_null;
	Datum		o,
				n;

	sb_catalog();
	att = sb_cat.alert_att[ALERT_SEEN_AT];
	o = heap_getattr(td->tg_trigtuple, att, desc, &was_null);
	n = heap_getattr(td->tg_newtuple, att, desc, &is_null);
	if (sb_restoring() || sb_may_backdate() ||
		(was_null == is_null && (is_null || DatumGetTimestampTz(o) == DatumGetTimestampTz(n))))
		return PointerGetDatum(td->tg_newtuple);
	if (!was_null || is_null || DatumGetTimestampTz(n) != GetCurrentTransactionStartTimestamp())
		ereport(ERROR,
				(errcode(ERRCODE_SB_BACKDATING),
				 errmsg("an alert is seen at now(), once: seen_at cannot become %s",
						is_null ? "NULL" : pstrdup(timestamptz_to_str(DatumGetTimestampTz(n)))),
				 errhint("Use salesboard.mark_alerts_seen(ids), or SET seen_at = now() on an unseen alert.")));
	return PointerGetDatum(td->tg_newtuple);
}
