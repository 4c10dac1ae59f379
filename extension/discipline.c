/*
 * discipline.c: "every open deal always has a planned activity" (doc/reference.md, "Deals and activities")
 * and the audit of every invariant, verify().
 *
 * The invariant cannot hold row by row inside a transaction (a deal is
 * created, then its first activity), so it is a DEFERRABLE INITIALLY
 * DEFERRED constraint trigger, checked at commit. It is queued only by the
 * events that can break it (WHEN clauses in the install script): a new open
 * deal, a reopened deal, a planned activity finished or deleted. The check
 * reads the newest data (not the transaction's snapshot) so that two
 * REPEATABLE READ transactions finishing the last two activities of one
 * deal cannot both pass; they are serialised by the deal's row lock, which
 * every path that takes planned work away from a deal holds.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/tuplestore.h"

#include "activities.h"
#include "calls.h"
#include "catalog.h"
#include "deals.h"
#include "errcodes.h"
#include "identity.h"
#include "spi.h"

PG_FUNCTION_INFO_V1(sb_planned_activity_check);
PG_FUNCTION_INFO_V1(sb_verify);

/*
 * CONSTRAINT TRIGGER ... AFTER INSERT OR UPDATE ON deal and AFTER UPDATE OR
 * DELETE ON activity, DEFERRABLE INITIALLY DEFERRED, FOR EACH ROW.
 */
Datum
sb_planned_activity_check(PG_FUNCTION_ARGS)
{
	TriggerData *td = sb_trigger_call(fcinfo, "sb_planned_activity_check", SB_TRIG_AFTER | SB_TRIG_ROW);
	HeapTuple	row;
	bool		isnull,
				found;
	int64		deal_id,
				act_id = 0;
	SbDealRow	deal;
	TimestampTz due;

	if (sb_restoring())
		return sb_trigger_pass(td);

	sb_catalog();

	if (RelationGetRelid(td->tg_relation) == sb_cat.deal)
	{
		row = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : td->tg_trigtuple;
		deal_id = DatumGetInt64(heap_getattr(row, sb_cat.deal_att[DEAL_ID],
											 RelationGetDescr(td->tg_relation), &isnull));
	}
	else
	{
		row = td->tg_trigtuple;
		deal_id = DatumGetInt64(heap_getattr(row, sb_cat.act_att[ACT_DEAL_ID],
											 RelationGetDescr(td->tg_relation), &isnull));
		act_id = DatumGetInt64(heap_getattr(row, sb_cat.act_att[ACT_ID],
											RelationGetDescr(td->tg_relation), &isnull));
	}

	/* the common case: it has a planned activity, whatever its status */
	if (sb_next_planned(deal_id, &act_id, &due))
		return PointerGetDatum(NULL);

	found = sb_read_deal(deal_id, &deal);

	if (found && deal.status == SB_OPEN)
	{
		if (act_id != 0)
			ereport(ERROR,
					(errcode(ERRCODE_SB_NO_PLANNED_ACTIVITY),
					 errmsg("deal " INT64_FORMAT " \"%s\" is open but has no planned activity left", deal_id, deal.title),
					 errdetail("Activity " INT64_FORMAT " was its last planned activity. Every open deal must always have a planned interaction or task (checked at commit).", act_id),
					 errhint("Plan the next step with salesboard.plan_activity() in the same transaction, or close the deal with salesboard.close_deal().")));
		ereport(ERROR,
				(errcode(ERRCODE_SB_NO_PLANNED_ACTIVITY),
				 errmsg("deal " INT64_FORMAT " \"%s\" is open but has no planned activity", deal_id, deal.title),
				 errdetail("Every open deal must always have a planned interaction or task (checked at commit)."),
				 errhint("Plan its first step with salesboard.plan_activity() in the same transaction, or create deals with salesboard.create_deal().")));
	}
	return PointerGetDatum(NULL);
}

/*
 * verify(): one row per broken invariant, for DBAs after a load with
 * triggers disabled (session_replication_role = replica) or any doubt.
 * Each branch names its rule; reference.md lists them.
 */
static const char *const verify_sql =
"SELECT d.id, NULL::bigint, 'open_deal_without_planned_activity', "
"       pg_catalog.format('deal %s %L is open in stage %s but has no planned activity', d.id, d.title, d.stage_id) "
"  FROM salesboard.deal d "
" WHERE d.status = 'open' AND NOT EXISTS (SELECT 1 FROM salesboard.activity a "
"        WHERE a.deal_id = d.id AND a.status = 'planned') "
"UNION ALL "
"SELECT d.id, a.id, 'closed_deal_with_planned_activity', "
"       pg_catalog.format('deal %s is %s but activity %s is still planned', d.id, d.status, a.id) "
"  FROM salesboard.deal d JOIN salesboard.activity a ON a.deal_id = d.id AND a.status = 'planned' "
" WHERE d.status <> 'open' "
"UNION ALL "
"SELECT d.id, n.id, 'next_due_stale', "
"       pg_catalog.format('deal %s has next_due %s / next_activity_id %s, but its next planned activity is %s due %s', "
"              d.id, d.next_due, d.next_activity_id, n.id, n.due_at) "
"  FROM salesboard.deal d "
"  LEFT JOIN LATERAL (SELECT a.id, a.due_at FROM salesboard.activity a "
"        WHERE a.deal_id = d.id AND a.status = 'planned' ORDER BY a.due_at, a.id LIMIT 1) n ON true "
" WHERE d.status = 'open' AND (d.next_due, d.next_activity_id) IS DISTINCT FROM (n.due_at, n.id) "
"UNION ALL "
"SELECT d.id, NULL, 'stage_missing', pg_catalog.format('deal %s is in stage %s, which does not exist', d.id, d.stage_id) "
"  FROM salesboard.deal d WHERE NOT EXISTS (SELECT 1 FROM salesboard.stage s WHERE s.id = d.stage_id) "
"UNION ALL "
"SELECT d.id, NULL, 'stage_of_other_pipeline', "
"       pg_catalog.format('deal %s is in pipeline %s but its stage %s belongs to pipeline %s', d.id, d.pipeline_id, s.id, s.pipeline_id) "
"  FROM salesboard.deal d JOIN salesboard.stage s ON s.id = d.stage_id WHERE s.pipeline_id <> d.pipeline_id "
"UNION ALL "
"SELECT d.id, NULL, 'status_differs_from_stage', "
"       pg_catalog.format('deal %s has status %s but its stage %s is of kind %s', d.id, d.status, s.id, s.kind) "
"  FROM salesboard.deal d JOIN salesboard.stage s ON s.id = d.stage_id WHERE s.kind <> d.status "
"UNION ALL "
"SELECT d.id, NULL, 'history_missing_create', pg_catalog.format('deal %s has no create row in stage_history', d.id) "
"  FROM salesboard.deal d WHERE NOT EXISTS (SELECT 1 FROM salesboard.stage_history h "
"        WHERE h.deal_id = d.id AND h.event = 'create') "
"UNION ALL "
"SELECT d.id, NULL, 'history_last_stage_differs', "
"       pg_catalog.format('deal %s is in stage %s since %s, but its last history row goes to stage %s at %s', "
"              d.id, d.stage_id, d.stage_entered_at, h.to_stage_id, h.moved_at) "
"  FROM salesboard.deal d "
"  JOIN LATERAL (SELECT h.to_stage_id, h.moved_at FROM salesboard.stage_history h "
"        WHERE h.deal_id = d.id ORDER BY h.moved_at DESC, h.id DESC LIMIT 1) h ON true "
" WHERE h.to_stage_id <> d.stage_id OR h.moved_at <> d.stage_entered_at "
"UNION ALL "
"SELECT h.deal_id, NULL, 'history_chain_broken', "
"       pg_catalog.format('history row %s of deal %s comes from stage %s, but the row before it went to stage %s', "
"              h.id, h.deal_id, h.from_stage_id, h.prev) "
"  FROM (SELECT h.*, pg_catalog.lag(h.to_stage_id) OVER (PARTITION BY h.deal_id ORDER BY h.moved_at, h.id) AS prev "
"          FROM salesboard.stage_history h) h "
" WHERE h.event <> 'create' AND h.from_stage_id IS DISTINCT FROM h.prev "
"UNION ALL "
"SELECT a.deal_id, a.id, 'all_day_due_differs', "
"       pg_catalog.format('all-day activity %s is due %s, but the end of %s in %s is %s', "
"              a.id, a.due_at, a.due_date, e.time_zone, salesboard.end_of_day(a.due_date, e.time_zone)) "
"  FROM salesboard.activity a JOIN salesboard.deal d ON d.id = a.deal_id "
"  JOIN salesboard.employee e ON e.id = d.owner_id "
" WHERE a.all_day AND a.status = 'planned' "
"   AND a.due_at <> salesboard.end_of_day(a.due_date, e.time_zone) "
"UNION ALL "
"SELECT a.deal_id, a.id, 'activity_of_missing_deal', pg_catalog.format('activity %s belongs to deal %s, which does not exist', a.id, a.deal_id) "
"  FROM salesboard.activity a WHERE NOT EXISTS (SELECT 1 FROM salesboard.deal d WHERE d.id = a.deal_id) "
"UNION ALL "
"SELECT d.id, NULL, 'owner_missing', pg_catalog.format('deal %s belongs to employee %s, who does not exist', d.id, d.owner_id) "
"  FROM salesboard.deal d WHERE NOT EXISTS (SELECT 1 FROM salesboard.employee e WHERE e.id = d.owner_id) "
"UNION ALL "
"SELECT h.deal_id, NULL, 'history_duplicate_create', "
"       pg_catalog.format('deal %s has %s create rows in stage_history', h.deal_id, pg_catalog.count(*)) "
"  FROM salesboard.stage_history h WHERE h.event = 'create' GROUP BY h.deal_id HAVING pg_catalog.count(*) > 1 "
"UNION ALL "
"SELECT h.deal_id, NULL, 'history_other_pipeline', "
"       pg_catalog.format('history row %s of deal %s goes to stage %s of pipeline %s, but the deal is in stage %s of pipeline %s', "
"              h.id, h.deal_id, s.id, s.pipeline_id, cur.id, cur.pipeline_id) "
"  FROM salesboard.stage_history h JOIN salesboard.deal d ON d.id = h.deal_id "
"  JOIN salesboard.stage cur ON cur.id = d.stage_id "
"  JOIN salesboard.stage s ON s.id = h.to_stage_id WHERE s.pipeline_id <> cur.pipeline_id "
"UNION ALL "
"SELECT h.deal_id, NULL, 'history_runs_backwards', "
"       pg_catalog.format('history row %s of deal %s is at %s, before the row %s written ahead of it at %s', "
"              h.id, h.deal_id, h.moved_at, h.prev_id, h.prev_at) "
"  FROM (SELECT h.id, h.deal_id, h.moved_at, "
"               pg_catalog.lag(h.id) OVER w AS prev_id, pg_catalog.lag(h.moved_at) OVER w AS prev_at "
"          FROM salesboard.stage_history h WINDOW w AS (PARTITION BY h.deal_id ORDER BY h.id)) h "
" WHERE h.moved_at < h.prev_at "
"UNION ALL "
"SELECT d.id, NULL, 'history_status_differs', "
"       pg_catalog.format('deal %s is %s, but its last history row is a %s', d.id, d.status, h.event) "
"  FROM salesboard.deal d "
"  JOIN LATERAL (SELECT h.event FROM salesboard.stage_history h "
"        WHERE h.deal_id = d.id ORDER BY h.moved_at DESC, h.id DESC LIMIT 1) h ON true "
" WHERE (h.event IN ('won', 'lost') AND h.event <> d.status) "
"    OR (h.event IN ('move', 'reopen') AND d.status <> 'open') "
"UNION ALL "
"SELECT NULL::bigint, NULL::bigint, 'department_head_missing', "
"       pg_catalog.format('department %s is headed by employee %s, who does not exist', p.id, p.head_id) "
"  FROM salesboard.department p "
" WHERE p.head_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM salesboard.employee e WHERE e.id = p.head_id) "
"UNION ALL "
"SELECT d.id, NULL, 'leaver_owns_open_deal', "
"       pg_catalog.format('open deal %s belongs to employee %s, who has left', d.id, d.owner_id) "
"  FROM salesboard.deal d JOIN salesboard.employee e ON e.id = d.owner_id "
" WHERE d.status = 'open' AND NOT e.active "
"UNION ALL "
"SELECT a.deal_id, a.id, 'leaver_assigned_planned_activity', "
"       pg_catalog.format('planned activity %s of deal %s is assigned to employee %s, who has left', a.id, a.deal_id, a.assignee_id) "
"  FROM salesboard.activity a JOIN salesboard.employee e ON e.id = a.assignee_id "
" WHERE a.status = 'planned' AND NOT e.active "
"UNION ALL "
"SELECT NULL::bigint, NULL::bigint, 'employee_role_missing', "
"       pg_catalog.format('employee %s acts through role %s, which does not exist', e.id, e.role_name) "
"  FROM salesboard.employee e "
" WHERE e.role_name IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname = e.role_name) "
"";

/*
 * Foreign keys among the extension's tables, checked by verify() as well:
 * a restore loads with them off (doc/reference.md, "Backup and restore").
 * This statement writes one check per constraint from the catalog; each
 * names no value, only catalog identifiers, quoted.
 */
static const char *const fk_checks_sql =
"SELECT pg_catalog.string_agg(pg_catalog.format("
"  'SELECT NULL::bigint, NULL::bigint, %L, pg_catalog.format(%L, pg_catalog.count(*)) "
"     FROM %s t WHERE %s AND NOT EXISTS (SELECT 1 FROM %s r WHERE %s) HAVING pg_catalog.count(*) > 0', "
"  'foreign_key_broken', '%s row(s) of ' || c.conrelid::pg_catalog.regclass || ' break foreign key ' || c.conname, "
"  c.conrelid::pg_catalog.regclass, k.not_null, c.confrelid::pg_catalog.regclass, k.matches), ' UNION ALL ' ORDER BY c.conname) "
"  FROM pg_catalog.pg_constraint c "
"  CROSS JOIN LATERAL (SELECT "
"         pg_catalog.string_agg('t.' || pg_catalog.quote_ident(a.attname) || ' IS NOT NULL', ' AND ') AS not_null, "
"         pg_catalog.string_agg('r.' || pg_catalog.quote_ident(fa.attname) || ' OPERATOR(pg_catalog.=) t.' "
"                               || pg_catalog.quote_ident(a.attname), ' AND ') AS matches "
"       FROM ROWS FROM (pg_catalog.unnest(c.conkey), pg_catalog.unnest(c.confkey)) AS x(att, fatt) "
"       JOIN pg_catalog.pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = x.att "
"       JOIN pg_catalog.pg_attribute fa ON fa.attrelid = c.confrelid AND fa.attnum = x.fatt) k "
" WHERE c.contype = 'f' AND c.connamespace = $1";

static SbQuery q_fk_checks = {NULL, 1, {OIDOID}, NULL};

Datum
sb_verify(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	uint64		i;
	const char *sql;

	if (!sb_is_admin())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("verify() reads every deal and is for salesboard_admin members"),
				 errhint("Ask an administrator, or GRANT salesboard_admin to your role.")));
	InitMaterializedSRF(fcinfo, 0);
	sb_catalog();
	q_fk_checks.sql = fk_checks_sql;
	SPI_connect();
	sql = verify_sql;
	{
		Datum		nsp[1] = {ObjectIdGetDatum(sb_cat.nsp)};
		char	   *fk;

		sb_exec(&q_fk_checks, nsp, NULL, true, 1);
		fk = SPI_processed == 1 ? sb_spi_text(0, 1, CurrentMemoryContext) : NULL;
		if (fk != NULL)
			sql = psprintf("%s UNION ALL %s", verify_sql, fk);
	}
	sb_exec_once(psprintf("%s ORDER BY 1, 3, 2", sql), true);
	for (i = 0; i < SPI_processed; i++)
	{
		Datum		values[4];
		bool		nulls[4];
		int			c;

		for (c = 0; c < 4; c++)
			values[c] = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, c + 1, &nulls[c]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_finish();
	return (Datum) 0;
}
