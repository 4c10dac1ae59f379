/*
 * transitions.c: deals and their stages (doc/reference.md, "Deals and activities").
 *
 * Owns:
 *  - the BEFORE ROW trigger on deal: a new deal takes its pipeline and
 *    status from its stage; a stage change is accepted only from the
 *    protocol of move_deal / close_deal / reopen_deal, and checked against
 *    it (same pipeline, open -> open, open -> won/lost, won/lost -> open);
 *    a raw UPDATE of the stage is refused with a hint naming move_deal;
 *    derived columns are refused to everyone but their upkeep;
 *  - the AFTER STATEMENT trigger on deal inserts that writes the "create"
 *    row of stage history for every path (API, INSERT, COPY), set-based;
 *  - the AFTER ROW trigger that re-anchors all-day activities when a deal
 *    changes owner or an employee changes time zone;
 *  - create_deal(), move_deal(), close_deal(), reopen_deal(),
 *    set_priority(), with request_id idempotency for move/close/reopen.
 *
 * Each API call checks the session may see the deal, takes its row lock,
 * validates everything against the newest row, and only then writes, as
 * the extension owner, through kept plans: one statement per change, as a
 * careful engineer would write it by hand.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "funcapi.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "activities.h"
#include "calls.h"
#include "catalog.h"
#include "config.h"
#include "deals.h"
#include "errcodes.h"
#include "identity.h"
#include "newdeal.h"
#include "protocol.h"
#include "requests.h"
#include "rows.h"
#include "spi.h"
#include "texts.h"

PG_FUNCTION_INFO_V1(sb_deal_before_row);
PG_FUNCTION_INFO_V1(sb_deal_after_insert);
PG_FUNCTION_INFO_V1(sb_reanchor_all_day);
PG_FUNCTION_INFO_V1(sb_create_deal);
PG_FUNCTION_INFO_V1(sb_move_deal);
PG_FUNCTION_INFO_V1(sb_close_deal);
PG_FUNCTION_INFO_V1(sb_reopen_deal);
PG_FUNCTION_INFO_V1(sb_set_priority);

#define DATT(c) (sb_cat.deal_att[c])

/* ------------------------------------------------------------------
 * BEFORE INSERT OR UPDATE ON deal FOR EACH ROW
 * ------------------------------------------------------------------ */
static void
dedit(SbRowEdit *e, SbDealCol col, Datum v, bool isnull)
{
	sb_edit(e, DATT(col), v, isnull);
}

static Datum
dget(HeapTuple t, TupleDesc desc, SbDealCol col, bool *isnull)
{
	return heap_getattr(t, DATT(col), desc, isnull);
}

static void
check_now(HeapTuple t, TupleDesc desc, SbDealCol col, const char *name, int64 id)
{
	bool		isnull;
	Datum		v = dget(t, desc, col, &isnull);

	if (!isnull && DatumGetTimestampTz(v) != GetCurrentTransactionStartTimestamp() &&
		!sb_may_backdate())
		ereport(ERROR,
				(errcode(ERRCODE_SB_BACKDATING),
				 errmsg("%s of deal " INT64_FORMAT " must be now()", name, id),
				 errhint("Leave %s out; only salesboard_admin and salesboard_app members may set it.", name)));
}

/* An amount without a currency is in the company's default currency. */
static void
default_currency(HeapTuple t, TupleDesc desc, SbRowEdit *e)
{
	bool		amount_null,
				currency_null;
	const char *cur;

	(void) dget(t, desc, DEAL_AMOUNT, &amount_null);
	(void) dget(t, desc, DEAL_CURRENCY, &currency_null);
	if (!amount_null && currency_null && (cur = sb_default_currency()) != NULL)
		dedit(e, DEAL_CURRENCY, DirectFunctionCall3(bpcharin, CStringGetDatum(cur),
													 ObjectIdGetDatum(InvalidOid), Int32GetDatum(7)), false);
}

static HeapTuple
deal_before_insert(TriggerData *td)
{
	HeapTuple	t = td->tg_trigtuple;
	TupleDesc	desc = RelationGetDescr(td->tg_relation);
	SbRowEdit	e = {0};
	bool		isnull;
	int64		id,
				stage_id,
				pipeline_id;
	const SbStage *st;
	Datum		v;

	id = sb_server_id(t, desc, DATT(DEAL_ID), sb_cat.deal_id_seq, &e);
	stage_id = DatumGetInt64(dget(t, desc, DEAL_STAGE_ID, &isnull));
	if (isnull)
		return t;				/* NOT NULL says it */
	st = sb_stage_or_error(stage_id);
	v = dget(t, desc, DEAL_PIPELINE_ID, &isnull);
	pipeline_id = isnull ? 0 : DatumGetInt64(v);
	if (isnull)
		dedit(&e, DEAL_PIPELINE_ID, Int64GetDatum(st->pipeline_id), false);
	else if (pipeline_id != st->pipeline_id)
		ereport(ERROR,
				(errcode(ERRCODE_SB_OTHER_PIPELINE),
				 errmsg("stage " INT64_FORMAT " \"%s\" belongs to pipeline " INT64_FORMAT ", not to pipeline " INT64_FORMAT,
						stage_id, st->name, st->pipeline_id, pipeline_id),
				 errhint("Leave pipeline_id out: it follows from the stage.")));

	sb_require_terminal_stages(st->pipeline_id);
	v = dget(t, desc, DEAL_OWNER_ID, &isnull);
	if (!isnull && st->kind == SB_OPEN)
		sb_require_active(sb_employee(DatumGetInt64(v)), "no deal can be given to them");

	dedit(&e, DEAL_STATUS, CStringGetTextDatum(sb_status_name(st->kind)), false);
	dedit(&e, DEAL_NEXT_DUE, (Datum) 0, true);
	dedit(&e, DEAL_NEXT_ACTIVITY_ID, (Datum) 0, true);
	(void) dget(t, desc, DEAL_LOST_REASON_ID, &isnull);
	if (st->kind == SB_OPEN)
	{
		dedit(&e, DEAL_CLOSED_AT, (Datum) 0, true);
		if (!isnull)
			ereport(ERROR,
					(errcode(ERRCODE_SB_LOST_REASON),
					 errmsg("new deal " INT64_FORMAT " in open stage \"%s\" cannot carry a lost reason", id, st->name),
					 errhint("Leave lost_reason_id out; close_deal() sets it.")));
	}
	else
	{
		if (!sb_may_backdate())
			ereport(ERROR,
					(errcode(ERRCODE_SB_STAGE_KIND),
					 errmsg("a new deal cannot start in the %s stage \"%s\"", sb_status_name(st->kind), st->name),
					 errhint("Create the deal in an open stage, then close it with salesboard.close_deal().")));
		if (st->kind == SB_LOST && isnull)
			ereport(ERROR,
					(errcode(ERRCODE_SB_LOST_REASON),
					 errmsg("lost deal " INT64_FORMAT " needs a lost reason", id),
					 errhint("Set lost_reason_id to a row of salesboard.lost_reason.")));
		if (st->kind == SB_WON && !isnull)
			ereport(ERROR,
					(errcode(ERRCODE_SB_LOST_REASON),
					 errmsg("won deal " INT64_FORMAT " cannot carry a lost reason", id),
					 errhint("Leave lost_reason_id out for won deals.")));
		(void) dget(t, desc, DEAL_CLOSED_AT, &isnull);
		if (isnull)
			dedit(&e, DEAL_CLOSED_AT, TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()), false);
	}
	check_now(t, desc, DEAL_STAGE_ENTERED_AT, "stage_entered_at", id);
	check_now(t, desc, DEAL_CLOSED_AT, "closed_at", id);
	sb_check_provenance(t, desc, DATT(DEAL_CREATED_AT), DATT(DEAL_CREATED_BY), "deal", id, &e);
	default_currency(t, desc, &e);

	return sb_edit_apply(&e, t, desc);
}

/* A stage change made by the protocol: check it against the operation. */
static HeapTuple
deal_protocol_update(TriggerData *td, int64 id)
{
	HeapTuple	oldt = td->tg_trigtuple;
	HeapTuple	newt = td->tg_newtuple;
	TupleDesc	desc = RelationGetDescr(td->tg_relation);
	bool		isnull;
	SbStatus	old_status = sb_tuple_status(oldt, desc, DATT(DEAL_STATUS));
	int64		pipeline_id = DatumGetInt64(dget(oldt, desc, DEAL_PIPELINE_ID, &isnull));
	const SbStage *st = sb_stage_or_error(DatumGetInt64(dget(newt, desc, DEAL_STAGE_ID, &isnull)));
	SbRowEdit	e = {0};
	bool		ok;

	if (sb_col_changed(oldt, newt, desc, DATT(DEAL_PIPELINE_ID)) || st->pipeline_id != pipeline_id)
		ereport(ERROR,
				(errcode(ERRCODE_SB_OTHER_PIPELINE),
				 errmsg("deal " INT64_FORMAT " cannot move to stage " INT64_FORMAT " \"%s\" of another pipeline",
						id, st->id, st->name),
				 errhint("Pick a stage of pipeline " INT64_FORMAT ".", pipeline_id)));
	switch (sb_protocol.op)
	{
		case SB_OP_MOVE:
			ok = old_status == SB_OPEN && st->kind == SB_OPEN &&
				sb_col_changed(oldt, newt, desc, DATT(DEAL_STAGE_ID));
			break;
		case SB_OP_CLOSE:
			ok = old_status == SB_OPEN && st->kind != SB_OPEN;
			break;
		case SB_OP_REOPEN:
			ok = old_status != SB_OPEN && st->kind == SB_OPEN;
			break;
		default:
			ok = !sb_col_changed(oldt, newt, desc, DATT(DEAL_STAGE_ID));
			break;
	}
	if (!ok)
		elog(ERROR, "salesboard: deal " INT64_FORMAT " cannot go from %s to %s stage \"%s\" this way",
			 id, sb_status_name(old_status), sb_status_name(st->kind), st->name);
	dedit(&e, DEAL_STATUS, CStringGetTextDatum(sb_status_name(st->kind)), false);
	return sb_edit_apply(&e, newt, desc);
}

static HeapTuple
deal_before_update(TriggerData *td)
{
	HeapTuple	oldt = td->tg_trigtuple;
	HeapTuple	newt = td->tg_newtuple;
	TupleDesc	desc = RelationGetDescr(td->tg_relation);
	bool		isnull;
	int64		id = DatumGetInt64(dget(oldt, desc, DEAL_ID, &isnull));
	static const SbDealCol stage_cols[] = {
		DEAL_STAGE_ID, DEAL_PIPELINE_ID, DEAL_STATUS, DEAL_CLOSED_AT,
		DEAL_LOST_REASON_ID, DEAL_STAGE_ENTERED_AT
	};
	static const SbDealCol fixed_cols[] = {
		DEAL_ID, DEAL_CREATED_AT, DEAL_CREATED_BY
	};
	int			i;

	if ((sb_protocol.op == SB_OP_MOVE || sb_protocol.op == SB_OP_CLOSE ||
		 sb_protocol.op == SB_OP_REOPEN || sb_protocol.op == SB_OP_ACTIVITY ||
		 sb_protocol.op == SB_OP_CREATE) &&
		sb_protocol.deal_id == id)
		return deal_protocol_update(td, id);

	for (i = 0; i < (int) lengthof(stage_cols); i++)
		if (sb_col_changed(oldt, newt, desc, DATT(stage_cols[i])))
			ereport(ERROR,
					(errcode(ERRCODE_SB_RAW_STAGE_CHANGE),
					 errmsg("deal " INT64_FORMAT ": %s cannot be changed by UPDATE", id,
							get_attname(RelationGetRelid(td->tg_relation), DATT(stage_cols[i]), false)),
					 errdetail("A stage change records the result of the current activity and plans the next one."),
					 errhint("Use salesboard.move_deal(deal_id, to_stage_id, result, next_due, next_subject), "
							 "salesboard.close_deal() or salesboard.reopen_deal().")));
	for (i = 0; i < (int) lengthof(fixed_cols); i++)
		if (sb_col_changed(oldt, newt, desc, DATT(fixed_cols[i])))
			ereport(ERROR,
					(errcode(ERRCODE_SB_DERIVED_COLUMN),
					 errmsg("deal " INT64_FORMAT ": %s cannot be changed", id,
							get_attname(RelationGetRelid(td->tg_relation), DATT(fixed_cols[i]), false)),
					 errhint("Create a new deal instead.")));
	if (sb_col_changed(oldt, newt, desc, DATT(DEAL_OWNER_ID)) &&
		sb_tuple_status(newt, desc, DATT(DEAL_STATUS)) == SB_OPEN)
		sb_require_active(sb_employee(DatumGetInt64(dget(newt, desc, DEAL_OWNER_ID, &isnull))),
						  "no deal can be handed to them");
	if (sb_protocol.op != SB_OP_DERIVED &&
		(sb_col_changed(oldt, newt, desc, DATT(DEAL_NEXT_DUE)) ||
		 sb_col_changed(oldt, newt, desc, DATT(DEAL_NEXT_ACTIVITY_ID))))
		ereport(ERROR,
				(errcode(ERRCODE_SB_DERIVED_COLUMN),
				 errmsg("deal " INT64_FORMAT ": next_due and next_activity_id are derived from its planned activities", id),
				 errhint("Plan, complete, cancel or reschedule activities instead (salesboard.plan_activity()).")));
	/* a raw UPDATE of the amount follows the same currency rule as an INSERT */
	if (sb_col_changed(oldt, newt, desc, DATT(DEAL_AMOUNT)) ||
		sb_col_changed(oldt, newt, desc, DATT(DEAL_CURRENCY)))
	{
		SbRowEdit	e = {0};

		default_currency(newt, desc, &e);
		return sb_edit_apply(&e, newt, desc);
	}
	return newt;
}

Datum
sb_deal_before_row(PG_FUNCTION_ARGS)
{
	TriggerData *td = sb_trigger_call(fcinfo, "sb_deal_before_row", SB_TRIG_BEFORE | SB_TRIG_ROW);

	if (sb_restoring())
		return sb_trigger_pass(td);

	sb_catalog();
	if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
		return PointerGetDatum(deal_before_insert(td));
	if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
		return PointerGetDatum(deal_before_update(td));
	return PointerGetDatum(td->tg_trigtuple);
}

/* ------------------------------------------------------------------
 * AFTER INSERT ON deal REFERENCING NEW TABLE AS new_deals FOR EACH STATEMENT
 * ------------------------------------------------------------------ */
static SbQuery q_history_create = {
	"INSERT INTO salesboard.stage_history (deal_id, event, from_stage_id, to_stage_id, "
	"moved_at, moved_by, moved_by_role, owner_id, amount) "
	"SELECT n.id, 'create', NULL, n.stage_id, n.stage_entered_at, n.created_by, $1, "
	"n.owner_id, n.amount FROM new_deals n ORDER BY n.id",
	1, {NAMEOID}, NULL
};

Datum
sb_deal_after_insert(PG_FUNCTION_ARGS)
{
	TriggerData *td = sb_trigger_call(fcinfo, "sb_deal_after_insert",
									  SB_TRIG_AFTER | SB_TRIG_STATEMENT | SB_TRIG_NEW_TABLE);
	Datum		values[1];
	NameData	role;

	if (sb_restoring())
		return sb_trigger_pass(td);

	sb_catalog();
	namestrcpy(&role, GetUserNameFromId(sb_caller(), false));
	values[0] = NameGetDatum(&role);
	SPI_connect();
	if (SPI_register_trigger_data(td) != SPI_OK_TD_REGISTER)
		elog(ERROR, "salesboard: could not register the transition table");
	sb_exec(&q_history_create, values, NULL, false, 0);
	SPI_finish();
	return PointerGetDatum(NULL);
}

/* ------------------------------------------------------------------
 * AFTER UPDATE ON deal (owner) / employee (time zone) FOR EACH ROW:
 * all-day activities fall due at the end of the day in the new zone.
 * Touching due_date makes the activity trigger re-derive due_at.
 * ------------------------------------------------------------------ */
static SbQuery q_reanchor_deal = {
	"UPDATE salesboard.activity SET due_date = due_date "
	"WHERE deal_id = $1 AND all_day AND status = 'planned'",
	1, {INT8OID}, NULL
};

static SbQuery q_reanchor_owner = {
	"UPDATE salesboard.activity a SET due_date = a.due_date FROM salesboard.deal d "
	"WHERE d.owner_id = $1 AND d.status = 'open' AND a.deal_id = d.id "
	"AND a.all_day AND a.status = 'planned'",
	1, {INT8OID}, NULL
};

Datum
sb_reanchor_all_day(PG_FUNCTION_ARGS)
{
	TriggerData *td = sb_trigger_call(fcinfo, "sb_reanchor_all_day",
									  SB_TRIG_AFTER | SB_TRIG_ROW | SB_TRIG_UPDATE);
	TupleDesc	desc;
	bool		isnull;
	Datum		values[1];
	bool		is_deal;

	if (sb_restoring())
		return sb_trigger_pass(td);

	sb_catalog();
	desc = RelationGetDescr(td->tg_relation);
	is_deal = RelationGetRelid(td->tg_relation) == sb_cat.deal;
	if (!is_deal)
		sb_people_cache_reset();	/* the new zone, not the cached one */
	values[0] = heap_getattr(td->tg_newtuple, is_deal ? DATT(DEAL_ID) : 1, desc, &isnull);
	SPI_connect();
	sb_exec(is_deal ? &q_reanchor_deal : &q_reanchor_owner, values, NULL, false, 0);
	SPI_finish();
	return PointerGetDatum(NULL);
}

/* ------------------------------------------------------------------
 * Stage history and request ids
 *
 * Every change is written by one statement: a data-modifying WITH query
 * that finishes and plans activities, changes the deal and appends its
 * history row together, so a move costs one executor run. The history
 * columns all changes share are the last six parameters of each query.
 * With a request_id the history insert is ON CONFLICT (request_id) DO
 * NOTHING, so the same id used at the same time for another deal yields no
 * row, which becomes SB012.
 * ------------------------------------------------------------------ */
#define HIST_NPARAMS 6
#define HIST_TYPES INT8OID, INT8OID, NAMEOID, INT8OID, NUMERICOID, UUIDOID

static void
history_params(const SbDealRow *deal, pg_uuid_t *request_id, NameData *role,
			   Datum *v, char *n)
{
	int64		me = sb_current_employee();

	namestrcpy(role, GetUserNameFromId(sb_caller(), false));
	v[0] = Int64GetDatum(deal->stage_id);	/* from_stage_id */
	v[1] = Int64GetDatum(me);	/* moved_by */
	n[1] = me ? ' ' : 'n';
	v[2] = NameGetDatum(role);	/* moved_by_role */
	v[3] = Int64GetDatum(deal->owner_id);	/* owner_id */
	v[4] = deal->amount;		/* amount */
	n[4] = deal->amount_null ? 'n' : ' ';
	v[5] = UUIDPGetDatum(request_id);	/* request_id */
	n[5] = request_id ? ' ' : 'n';
}

/* What move_deal, close_deal and reopen_deal answer (type salesboard.change). */
typedef struct Change
{
	int64		deal_id;
	int64		history_id;
	int64		planned_activity_id;	/* 0: none */
	bool		replayed;
} Change;

static Change last_change;		/* the answer of the change just written */

/*
 * The answer as a salesboard.change row; void for a 1.0 schema, whose
 * functions return void until ALTER EXTENSION salesboard UPDATE.
 */
static Datum
change_result(FunctionCallInfo fcinfo, const Change *c)
{
	TupleDesc	desc;
	Datum		v[4];
	bool		nulls[4] = {false, false, false, false};

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		PG_RETURN_VOID();
	desc = BlessTupleDesc(desc);
	v[0] = Int64GetDatum(c->deal_id);
	v[1] = Int64GetDatum(c->history_id);
	v[2] = Int64GetDatum(c->planned_activity_id);
	nulls[2] = c->planned_activity_id == 0;
	v[3] = BoolGetDatum(c->replayed);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, v, nulls)));
}

/* Run the one statement of a change; it must have written the history row. */
static void
exec_change(SbQuery *plain, SbQuery *with_request, pg_uuid_t *request_id,
			Datum *v, char *n)
{
	bool		isnull;

	sb_exec(request_id ? with_request : plain, v, n, false, 0);
	if (SPI_processed != 1)
	{
		if (request_id != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_SB_REQUEST_REUSED),
					 errmsg("request %s was used at the same time for a change of another deal",
							DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(request_id)))),
					 errhint("Generate a new request_id for every new change; reuse one only to retry the same change.")));
		elog(ERROR, "salesboard: a stage change wrote no history row");
	}
	last_change.deal_id = DatumGetInt64(v[0]);
	last_change.history_id = sb_spi_int8(0, 1, &isnull);
	last_change.planned_activity_id = sb_spi_int8(0, 2, &isnull);
	last_change.replayed = false;
}

/*
 * Has this request already been applied? True when the same request_id
 * made the same change to the same deal (the caller then does nothing);
 * an error when it was used for something else. Read under the deal's row
 * lock with the newest data, so a retry racing the original waits for it
 * and then sees it.
 */
static bool
request_seen(pg_uuid_t *request_id, int64 deal_id, const char *event, int64 to_stage_id)
{
	Relation	rel,
				idx;
	IndexScanDesc scan;
	ScanKeyData key;
	TupleTableSlot *slot;
	Snapshot	snap;
	bool		found;
	int64		h_deal = 0,
				h_stage = 0,
				h_by = 0;
	char	   *h_event = NULL;

	if (request_id == NULL)
		return false;
	rel = table_open(sb_cat.stage_history, AccessShareLock);
	idx = index_open(sb_cat.stage_history_request_id_key, AccessShareLock);
	slot = table_slot_create(rel, NULL);
	snap = RegisterSnapshot(GetLatestSnapshot());
	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_UUID_EQ, UUIDPGetDatum(request_id));
	scan = index_beginscan(rel, idx, snap, 1, 0);
	index_rescan(scan, &key, 1, NULL, 0);
	found = index_getnext_slot(scan, ForwardScanDirection, slot);
	if (found)
	{
		bool		isnull;

		h_deal = sb_slot_int8(slot, sb_cat.hist_att[HIST_DEAL_ID], &isnull);
		last_change.deal_id = h_deal;
		last_change.history_id = sb_slot_int8(slot, sb_cat.hist_att[HIST_ID], &isnull);
		last_change.planned_activity_id = sb_slot_int8(slot, sb_cat.hist_att[HIST_NEXT_ACTIVITY_ID], &isnull);
		last_change.replayed = true;
		h_stage = sb_slot_int8(slot, sb_cat.hist_att[HIST_TO_STAGE_ID], &isnull);
		h_by = sb_slot_int8(slot, sb_cat.hist_att[HIST_MOVED_BY], &isnull);	/* 0: nobody */
		h_event = TextDatumGetCString(slot_getattr(slot, sb_cat.hist_att[HIST_EVENT], &isnull));
	}
	index_endscan(scan);
	UnregisterSnapshot(snap);
	ExecDropSingleTupleTableSlot(slot);
	index_close(idx, NoLock);
	table_close(rel, NoLock);
	if (!found)
	{
		/* a new change: take the id (SB012 if another operation has it) */
		sb_request_reserve(request_id, deal_id);
		return false;
	}
	/* the same change by the same employee (another one's retry is SB012) */
	if (h_deal == deal_id && strcmp(h_event, event) == 0 &&
		(to_stage_id == 0 || h_stage == to_stage_id) && h_by == sb_current_employee())
		return true;
	/* name the earlier change only to someone who may see its deal */
	if (sb_deal_visible(h_deal))
		ereport(ERROR,
				(errcode(ERRCODE_SB_REQUEST_REUSED),
				 errmsg("request %s was already used for another change",
						DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(request_id)))),
				 errdetail("It was the %s of deal " INT64_FORMAT " to stage " INT64_FORMAT ".",
						   h_event, h_deal, h_stage),
				 errhint("Generate a new request_id for every new change; reuse one only to retry the same change.")));
	ereport(ERROR,
			(errcode(ERRCODE_SB_REQUEST_REUSED),
			 errmsg("request %s was already used for another change",
					DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(request_id)))),
			 errhint("Generate a new request_id for every new change; reuse one only to retry the same change.")));
	return false;				/* keep compiler quiet */
}

/* ------------------------------------------------------------------
 * Checks shared by the API functions
 * ------------------------------------------------------------------ */
static void
require_result(const char *result, int64 deal_id, const char *what)
{
	if (sb_blank(result))
		ereport(ERROR,
				(errcode(ERRCODE_SB_RESULT_REQUIRED),
				 errmsg("%s deal " INT64_FORMAT " needs the result of its current activity", what, deal_id),
				 errhint("Write what came of the current interaction, e.g. 'Client accepted the proposal'.")));
	sb_check_length("result", result, SB_RESULT_MAX);
}

static void
require_open(const SbDealRow *deal, const char *what)
{
	if (deal->status != SB_OPEN)
		ereport(ERROR,
				(errcode(ERRCODE_SB_DEAL_CLOSED),
				 errmsg("deal " INT64_FORMAT " \"%s\" is %s and cannot be %s",
						deal->id, deal->title, sb_status_name(deal->status), what),
				 errhint("Reopen it first with salesboard.reopen_deal().")));
}

static void
require_same_pipeline(const SbDealRow *deal, const SbStage *st)
{
	if (st->pipeline_id != deal->pipeline_id)
		ereport(ERROR,
				(errcode(ERRCODE_SB_OTHER_PIPELINE),
				 errmsg("stage " INT64_FORMAT " \"%s\" belongs to pipeline " INT64_FORMAT ", but deal " INT64_FORMAT " is in pipeline " INT64_FORMAT,
						st->id, st->name, st->pipeline_id, deal->id, deal->pipeline_id),
				 errhint("A deal moves only within its pipeline; pick a stage of pipeline " INT64_FORMAT ".",
						 deal->pipeline_id)));
}

static void
require_open_stage(const SbStage *st, int64 deal_id)
{
	if (st->kind != SB_OPEN)
		ereport(ERROR,
				(errcode(ERRCODE_SB_STAGE_KIND),
				 errmsg("stage " INT64_FORMAT " \"%s\" is the %s stage; deal " INT64_FORMAT " cannot be moved there",
						st->id, st->name, sb_status_name(st->kind), deal_id),
				 errhint("Close deals with salesboard.close_deal(deal_id, won, result, ...).")));
}

/*
 * The moment of a stage change must not precede the deal's previous one,
 * or history (and time in stage) would run backwards. A transaction that
 * began before another one's change of this deal committed, and waited for
 * it, acts at the moment that change took effect; an explicit earlier `at`
 * (an import out of order) is refused.
 */
static TimestampTz
change_moment(const SbDealRow *deal, TimestampTz at)
{
	if (at >= deal->stage_entered_at)
		return at;
	if (at == GetCurrentTransactionStartTimestamp())
		return deal->stage_entered_at;
	ereport(ERROR,
			(errcode(ERRCODE_SB_OUT_OF_ORDER),
			 errmsg("at = %s is before the last stage change of deal " INT64_FORMAT " at %s",
					pstrdup(timestamptz_to_str(at)), deal->id,
					pstrdup(timestamptz_to_str(deal->stage_entered_at))),
			 errhint("Apply the changes of a deal in time order.")));
	return at;
}

/* A client that saw the deal in one column may insist it is still there. */
static void
check_expected_stage(FunctionCallInfo fcinfo, int argno, const SbDealRow *deal)
{
	int64		expected;

	if (PG_ARGISNULL(argno))
		return;
	expected = PG_GETARG_INT64(argno);
	if (expected != deal->stage_id)
		ereport(ERROR,
				(errcode(ERRCODE_SB_STAGE_CHANGED),
				 errmsg("deal " INT64_FORMAT " \"%s\" is no longer in stage " INT64_FORMAT ": it is in stage " INT64_FORMAT " now",
						deal->id, deal->title, expected, deal->stage_id),
				 errdetail("Someone moved it after you last read it."),
				 errhint("Reload the board and decide again.")));
}

/* ------------------------------------------------------------------
 * move_deal(deal_id, to_stage_id, result, next_due, next_subject,
 *           next_kind, next_all_day, request_id, at)
 * ------------------------------------------------------------------ */
#define MOVE_SQL(conflict) \
	"WITH done AS (UPDATE salesboard.activity SET status = 'done', result = $3, done_at = $4 " \
	"               WHERE id = $5 AND status = 'planned' RETURNING id), " \
	"nxt AS (INSERT INTO salesboard.activity (deal_id, kind, subject, due_at, all_day, created_at, created_by) " \
	"        VALUES ($1, $6, $7, $8, $9, $4, $12) RETURNING id, due_at), " \
	"nd AS (SELECT n.id AS new_id, " \
	"              ($10::timestamptz IS NOT NULL AND ($10::timestamptz, $11::bigint) < (n.due_at, n.id)) AS keep " \
	"              , n.due_at FROM nxt n), " \
	"mv AS (UPDATE salesboard.deal d SET stage_id = $2, stage_entered_at = $4, " \
	"              next_due = CASE WHEN nd.keep THEN $10 ELSE nd.due_at END, " \
	"              next_activity_id = CASE WHEN nd.keep THEN $11 ELSE nd.new_id END " \
	"         FROM nd WHERE d.id = $1 RETURNING d.id) " \
	"INSERT INTO salesboard.stage_history (deal_id, event, from_stage_id, to_stage_id, moved_at, " \
	"       moved_by, moved_by_role, owner_id, amount, result, activity_id, next_activity_id, request_id) " \
	"SELECT $1, 'move', $13, $2, $4, $14, $15, $16, $17, $3, (SELECT id FROM done), nd.new_id, $18 " \
	"  FROM nd, mv " conflict " RETURNING id, next_activity_id"
#define MOVE_TYPES {INT8OID, INT8OID, TEXTOID, TIMESTAMPTZOID, INT8OID, TEXTOID, TEXTOID, \
	TIMESTAMPTZOID, BOOLOID, TIMESTAMPTZOID, INT8OID, INT8OID, HIST_TYPES}

static SbQuery q_move = {MOVE_SQL(""), 18, MOVE_TYPES, NULL};
static SbQuery q_move_req = {MOVE_SQL("ON CONFLICT (request_id) DO NOTHING"), 18, MOVE_TYPES, NULL};

/*
 * The next step a move or reopen plans: four arguments from `first` on
 * (next_due, next_subject, next_kind, next_all_day), and next_due_date at
 * date_arg; the due moment is resolved once the deal (its owner) is known.
 */
typedef struct NextStep
{
	TimestampTz due;
	char	   *subject;
	char	   *kind;
	bool		all_day;
	int			due_arg;
	int			date_arg;
} NextStep;

static void
next_step_args(FunctionCallInfo fcinfo, int first, int date_arg, NextStep *n)
{
	sb_require_arg(fcinfo, first + 1, "next_subject");
	sb_require_arg(fcinfo, first + 2, "next_kind");
	sb_require_arg(fcinfo, first + 3, "next_all_day");
	n->subject = sb_text_arg(fcinfo, first + 1);
	n->kind = sb_text_arg(fcinfo, first + 2);
	n->all_day = PG_GETARG_BOOL(first + 3);
	n->due_arg = first;
	n->date_arg = date_arg;
}

static void
next_step_due(FunctionCallInfo fcinfo, NextStep *n, const SbDealRow *deal)
{
	n->due = sb_due_args(fcinfo, n->due_arg, n->date_arg, deal->owner_id,
						 "next_due", "next_due_date", &n->all_day);
}

/* The one statement of a move, on a deal checked and locked. */
static void
write_move(const SbDealRow *deal, int64 to_stage_id, const char *result,
		   const NextStep *next, pg_uuid_t *request_id, TimestampTz at)
{
	int64		ids[2] = {0, 0};
	TimestampTz dues[2] = {0, 0};
	int			nplanned = sb_next_planned_n(deal->id, 2, ids, dues);
	int64		me = sb_current_employee();
	Datum		v[18];
	char		n[18];
	NameData	role;

	memset(n, ' ', sizeof(n));
	v[0] = Int64GetDatum(deal->id);
	v[1] = Int64GetDatum(to_stage_id);
	v[2] = CStringGetTextDatum(result);
	v[3] = TimestampTzGetDatum(at);
	v[4] = Int64GetDatum(ids[0]);	/* the current activity */
	n[4] = nplanned > 0 ? ' ' : 'n';
	v[5] = CStringGetTextDatum(next->kind);
	v[6] = CStringGetTextDatum(next->subject);
	v[7] = TimestampTzGetDatum(next->due);
	v[8] = BoolGetDatum(next->all_day);
	v[9] = TimestampTzGetDatum(dues[1]);	/* the one after it, if any */
	v[10] = Int64GetDatum(ids[1]);
	n[9] = n[10] = nplanned > 1 ? ' ' : 'n';
	v[11] = Int64GetDatum(me);
	n[11] = me ? ' ' : 'n';
	history_params(deal, request_id, &role, v + 12, n + 12);
	exec_change(&q_move, &q_move_req, request_id, v, n);
}

Datum
sb_move_deal(PG_FUNCTION_ARGS)
{
	int64		to_stage_id;
	char	   *result;
	NextStep	next;
	TimestampTz at;
	pg_uuid_t  *request_id;
	const SbStage *st;
	SbDealRow	deal;
	int			step;

	(void) sb_require_employee();
	sb_require_arg(fcinfo, 0, "deal_id");
	sb_require_arg(fcinfo, 1, "to_stage_id");
	sb_require_arg(fcinfo, 2, "result");
	next_step_args(fcinfo, 3, 10, &next);
	sb_require_arg(fcinfo, 8, "at");
	to_stage_id = PG_GETARG_INT64(1);
	result = sb_text_arg(fcinfo, 2);
	request_id = sb_uuid_arg(fcinfo, 7);
	at = sb_moment_arg(fcinfo, 8, "at");
	sb_check_at(at);
	sb_catalog();
	st = sb_stage_or_error(to_stage_id);

	sb_open_deal_for_change(PG_GETARG_INT64(0), &deal);
	if (request_seen(request_id, deal.id, "move", to_stage_id))
		return change_result(fcinfo, &last_change);
	check_expected_stage(fcinfo, 9, &deal);
	require_open(&deal, "moved");
	at = change_moment(&deal, at);
	require_same_pipeline(&deal, st);
	require_open_stage(st, deal.id);
	if (st->id == deal.stage_id)
		ereport(ERROR,
				(errcode(ERRCODE_SB_SAME_STAGE),
				 errmsg("deal " INT64_FORMAT " \"%s\" is already in stage \"%s\"", deal.id, deal.title, st->name),
				 errhint("To record a result and plan the next step without moving, use salesboard.complete_activity() and salesboard.plan_activity().")));
	require_result(result, deal.id, "moving");
	next_step_due(fcinfo, &next, &deal);
	(void) sb_check_new_activity(&deal, next.kind, next.subject, next.due, next.all_day, NULL, at);

	SPI_connect();
	step = sb_protocol_begin(SB_OP_MOVE, deal.id);
	write_move(&deal, to_stage_id, result, &next, request_id, at);
	sb_protocol_end(step);
	SPI_finish();
	return change_result(fcinfo, &last_change);
}

/* ------------------------------------------------------------------
 * close_deal(deal_id, won, result, lost_reason_id, request_id, at)
 * ------------------------------------------------------------------ */
#define CLOSE_SQL(conflict) \
	"WITH acts AS (UPDATE salesboard.activity " \
	"                 SET status = CASE WHEN id = $2 THEN 'done' ELSE 'cancelled' END, " \
	"                     result = CASE WHEN id = $2 THEN $3 ELSE $4 END, done_at = $5 " \
	"               WHERE deal_id = $1 AND status = 'planned' RETURNING id), " \
	"cl AS (UPDATE salesboard.deal SET stage_id = $6, status = $7, closed_at = $5, " \
	"              stage_entered_at = $5, lost_reason_id = $8, next_due = NULL, next_activity_id = NULL " \
	"        WHERE id = $1 RETURNING id) " \
	"INSERT INTO salesboard.stage_history (deal_id, event, from_stage_id, to_stage_id, moved_at, " \
	"       moved_by, moved_by_role, owner_id, amount, result, activity_id, lost_reason_id, request_id) " \
	"SELECT $1, $7, $9, $6, $5, $10, $11, $12, $13, $3, (SELECT a.id FROM acts a WHERE a.id = $2), $8, $14 " \
	"  FROM cl " conflict " RETURNING id, next_activity_id"
#define CLOSE_TYPES {INT8OID, INT8OID, TEXTOID, TEXTOID, TIMESTAMPTZOID, INT8OID, TEXTOID, INT8OID, HIST_TYPES}

static SbQuery q_close = {CLOSE_SQL(""), 14, CLOSE_TYPES, NULL};
static SbQuery q_close_req = {CLOSE_SQL("ON CONFLICT (request_id) DO NOTHING"), 14, CLOSE_TYPES, NULL};

/* won / lost and the lost reason agree, and the pipeline has the stage. */
static const SbStage *
close_target(const SbDealRow *deal, bool won, bool has_reason, int64 lost_reason_id)
{
	const SbStage *st;

	if (!won && !has_reason)
		ereport(ERROR,
				(errcode(ERRCODE_SB_LOST_REASON),
				 errmsg("losing deal " INT64_FORMAT " \"%s\" needs a lost reason", deal->id, deal->title),
				 errhint("Pass lost_reason_id, a row of salesboard.lost_reason.")));
	if (won && has_reason)
		ereport(ERROR,
				(errcode(ERRCODE_SB_LOST_REASON),
				 errmsg("won deal " INT64_FORMAT " \"%s\" cannot carry a lost reason", deal->id, deal->title),
				 errhint("Leave lost_reason_id out when won is true.")));
	if (has_reason)
	{
		SbFetch		f;
		bool		isnull;
		bool		active = true;

		if (sb_fetch_begin(&f, sb_cat.lost_reason, sb_cat.lost_reason_pkey, lost_reason_id,
						   AccessShareLock, NULL))
			active = DatumGetBool(slot_getattr(f.slot, sb_cat.lost_reason_att[LR_ACTIVE], &isnull));
		sb_fetch_end(&f);
		if (!f.found)
			ereport(ERROR,
					(errcode(ERRCODE_SB_UNKNOWN_LOST_REASON),
					 errmsg("lost reason " INT64_FORMAT " does not exist", lost_reason_id),
					 errhint("Pass the id of a row of salesboard.lost_reason.")));
		if (!active)
			ereport(ERROR,
					(errcode(ERRCODE_SB_LOST_REASON_INACTIVE),
					 errmsg("lost reason " INT64_FORMAT " is no longer in use", lost_reason_id),
					 errdetail("lost_reason.active is false."),
					 errhint("Choose an active lost reason.")));
	}
	st = sb_terminal_stage(deal->pipeline_id, won ? SB_WON : SB_LOST);
	if (st == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_SB_PIPELINE_TERMINAL),
				 errmsg("pipeline " INT64_FORMAT " has no %s stage", deal->pipeline_id, won ? "won" : "lost"),
				 errhint("Add a stage of kind '%s' to the pipeline.", won ? "won" : "lost")));
	return st;
}

/* The one statement of a close, on a deal checked and locked. */
static void
write_close(const SbDealRow *deal, const SbStage *st, bool won, const char *result,
			bool has_reason, int64 lost_reason_id, pg_uuid_t *request_id, TimestampTz at)
{
	int64		cur = 0;
	TimestampTz cur_due;
	bool		has_cur = sb_next_planned(deal->id, &cur, &cur_due);
	Datum		v[14];
	char		n[14];
	NameData	role;

	memset(n, ' ', sizeof(n));
	v[0] = Int64GetDatum(deal->id);
	v[1] = Int64GetDatum(cur);
	n[1] = has_cur ? ' ' : 'n';
	v[2] = CStringGetTextDatum(result);
	v[3] = CStringGetTextDatum(won ? "Cancelled: the deal was won" : "Cancelled: the deal was lost");
	v[4] = TimestampTzGetDatum(at);
	v[5] = Int64GetDatum(st->id);
	v[6] = CStringGetTextDatum(won ? "won" : "lost");
	v[7] = Int64GetDatum(lost_reason_id);
	n[7] = has_reason ? ' ' : 'n';
	history_params(deal, request_id, &role, v + 8, n + 8);
	exec_change(&q_close, &q_close_req, request_id, v, n);
}

Datum
sb_close_deal(PG_FUNCTION_ARGS)
{
	bool		won,
				has_reason;
	int64		lost_reason_id;
	char	   *result;
	pg_uuid_t  *request_id;
	TimestampTz at;
	SbDealRow	deal;
	const SbStage *st;
	int			step;

	(void) sb_require_employee();
	sb_require_arg(fcinfo, 0, "deal_id");
	sb_require_arg(fcinfo, 1, "won");
	sb_require_arg(fcinfo, 2, "result");
	sb_require_arg(fcinfo, 5, "at");
	won = PG_GETARG_BOOL(1);
	result = sb_text_arg(fcinfo, 2);
	has_reason = !PG_ARGISNULL(3);
	lost_reason_id = has_reason ? PG_GETARG_INT64(3) : 0;
	request_id = sb_uuid_arg(fcinfo, 4);
	at = sb_moment_arg(fcinfo, 5, "at");
	sb_check_at(at);
	sb_catalog();

	sb_open_deal_for_change(PG_GETARG_INT64(0), &deal);
	if (request_seen(request_id, deal.id, won ? "won" : "lost", 0))
		return change_result(fcinfo, &last_change);
	check_expected_stage(fcinfo, 6, &deal);
	require_open(&deal, "closed again");
	at = change_moment(&deal, at);
	require_result(result, deal.id, won ? "winning" : "losing");
	st = close_target(&deal, won, has_reason, lost_reason_id);

	SPI_connect();
	step = sb_protocol_begin(SB_OP_CLOSE, deal.id);
	write_close(&deal, st, won, result, has_reason, lost_reason_id, request_id, at);
	sb_protocol_end(step);
	SPI_finish();
	return change_result(fcinfo, &last_change);
}

/* ------------------------------------------------------------------
 * reopen_deal(deal_id, to_stage_id, next_due, next_subject, next_kind,
 *             next_all_day, reason, request_id, at)
 * ------------------------------------------------------------------ */
#define REOPEN_SQL(conflict) \
	"WITH nxt AS (INSERT INTO salesboard.activity (deal_id, kind, subject, due_at, all_day, created_at, created_by) " \
	"             VALUES ($1, $4, $5, $6, $7, $3, $8) RETURNING id, due_at), " \
	"ro AS (UPDATE salesboard.deal d SET stage_id = $2, status = 'open', closed_at = NULL, " \
	"              lost_reason_id = NULL, stage_entered_at = $3, next_due = nxt.due_at, " \
	"              next_activity_id = nxt.id FROM nxt WHERE d.id = $1 RETURNING d.id) " \
	"INSERT INTO salesboard.stage_history (deal_id, event, from_stage_id, to_stage_id, moved_at, " \
	"       moved_by, moved_by_role, owner_id, amount, result, next_activity_id, request_id) " \
	"SELECT $1, 'reopen', $10, $2, $3, $11, $12, $13, $14, $9, nxt.id, $15 " \
	"  FROM nxt, ro " conflict " RETURNING id, next_activity_id"
#define REOPEN_TYPES {INT8OID, INT8OID, TIMESTAMPTZOID, TEXTOID, TEXTOID, TIMESTAMPTZOID, BOOLOID, \
	INT8OID, TEXTOID, HIST_TYPES}

static SbQuery q_reopen = {REOPEN_SQL(""), 15, REOPEN_TYPES, NULL};
static SbQuery q_reopen_req = {REOPEN_SQL("ON CONFLICT (request_id) DO NOTHING"), 15, REOPEN_TYPES, NULL};

/* The one statement of a reopen, on a deal checked and locked. */
static void
write_reopen(const SbDealRow *deal, int64 to_stage_id, const NextStep *next,
			 const char *reason, pg_uuid_t *request_id, TimestampTz at)
{
	int64		me = sb_current_employee();
	Datum		v[15];
	char		n[15];
	NameData	role;

	memset(n, ' ', sizeof(n));
	v[0] = Int64GetDatum(deal->id);
	v[1] = Int64GetDatum(to_stage_id);
	v[2] = TimestampTzGetDatum(at);
	v[3] = CStringGetTextDatum(next->kind);
	v[4] = CStringGetTextDatum(next->subject);
	v[5] = TimestampTzGetDatum(next->due);
	v[6] = BoolGetDatum(next->all_day);
	v[7] = Int64GetDatum(me);
	n[7] = me ? ' ' : 'n';
	v[8] = sb_blank(reason) ? (Datum) 0 : CStringGetTextDatum(reason);
	n[8] = sb_blank(reason) ? 'n' : ' ';
	history_params(deal, request_id, &role, v + 9, n + 9);
	exec_change(&q_reopen, &q_reopen_req, request_id, v, n);
}

Datum
sb_reopen_deal(PG_FUNCTION_ARGS)
{
	int64		to_stage_id;
	char	   *reason;
	NextStep	next;
	TimestampTz at;
	pg_uuid_t  *request_id;
	const SbStage *st;
	SbDealRow	deal;
	int			step;

	(void) sb_require_employee();
	sb_require_arg(fcinfo, 0, "deal_id");
	sb_require_arg(fcinfo, 1, "to_stage_id");
	next_step_args(fcinfo, 2, 9, &next);
	sb_require_arg(fcinfo, 8, "at");
	to_stage_id = PG_GETARG_INT64(1);
	reason = sb_text_arg(fcinfo, 6);
	sb_check_length("reason", reason, SB_RESULT_MAX);
	request_id = sb_uuid_arg(fcinfo, 7);
	at = sb_moment_arg(fcinfo, 8, "at");
	sb_check_at(at);
	sb_catalog();
	st = sb_stage_or_error(to_stage_id);

	sb_open_deal_for_change(PG_GETARG_INT64(0), &deal);
	if (request_seen(request_id, deal.id, "reopen", to_stage_id))
		return change_result(fcinfo, &last_change);
	at = change_moment(&deal, at);
	if (deal.status == SB_OPEN)
		ereport(ERROR,
				(errcode(ERRCODE_SB_DEAL_NOT_CLOSED),
				 errmsg("deal " INT64_FORMAT " \"%s\" is open; only won or lost deals can be reopened", deal.id, deal.title),
				 errhint("Use salesboard.move_deal() to move an open deal.")));
	require_same_pipeline(&deal, st);
	require_open_stage(st, deal.id);
	next_step_due(fcinfo, &next, &deal);
	(void) sb_check_new_activity(&deal, next.kind, next.subject, next.due, next.all_day, NULL, at);

	SPI_connect();
	step = sb_protocol_begin(SB_OP_REOPEN, deal.id);
	write_reopen(&deal, to_stage_id, &next, reason, request_id, at);
	sb_protocol_end(step);
	SPI_finish();
	return change_result(fcinfo, &last_change);
}

/* ------------------------------------------------------------------
 * set_priority(deal_id, flagged, request_id)
 * ------------------------------------------------------------------ */
static SbQuery q_priority = {
	"UPDATE salesboard.deal SET priority = $2 WHERE id = $1 AND priority IS DISTINCT FROM $2",
	2, {INT8OID, BOOLOID}, NULL
};

Datum
sb_set_priority(PG_FUNCTION_ARGS)
{
	SbDealRow	deal;
	Datum		v[2];
	pg_uuid_t  *request_id;
	SbRequestAnswer answer = {0};

	(void) sb_require_employee();
	sb_require_arg(fcinfo, 0, "deal_id");
	sb_require_arg(fcinfo, 1, "flagged");
	sb_catalog();
	sb_open_deal_for_change(PG_GETARG_INT64(0), &deal);
	/* request_id (argument 2 from 1.1 on): the same request changes nothing again */
	request_id = PG_NARGS() > 2 ? sb_uuid_arg(fcinfo, 2) : NULL;
	if (sb_request_claim(request_id, "set_priority", deal.id, &answer))
		PG_RETURN_VOID();
	v[0] = PG_GETARG_DATUM(0);
	v[1] = PG_GETARG_DATUM(1);
	SPI_connect();
	sb_exec(&q_priority, v, NULL, false, 0);
	SPI_finish();
	answer.deal_id = deal.id;
	sb_request_answer(request_id, &answer);
	PG_RETURN_VOID();
}

/* ------------------------------------------------------------------
 * create_deal(owner_id, stage_id, title, first_due, first_subject,
 *             client_id, service_type_id, amount, currency, tags,
 *             first_kind, first_all_day, at, first_due_date)
 * ------------------------------------------------------------------ */
Datum
sb_create_deal(PG_FUNCTION_ARGS)
{
	SbNewDeal	nd = {0};
	pg_uuid_t  *request_id;
	SbRequestAnswer answer;

	sb_require_arg(fcinfo, 0, "owner_id");
	sb_require_arg(fcinfo, 1, "stage_id");
	sb_require_arg(fcinfo, 2, "title");
	sb_require_arg(fcinfo, 4, "first_subject");
	sb_require_arg(fcinfo, 10, "first_kind");
	sb_require_arg(fcinfo, 11, "first_all_day");
	sb_require_arg(fcinfo, 12, "at");
	nd.owner_id = PG_GETARG_INT64(0);
	nd.stage_id = PG_GETARG_INT64(1);
	nd.title = sb_text_arg(fcinfo, 2);
	nd.first_subject = sb_text_arg(fcinfo, 4);
	nd.has_client = !PG_ARGISNULL(5);
	nd.client_id = nd.has_client ? PG_GETARG_INT64(5) : 0;
	nd.has_service_type = !PG_ARGISNULL(6);
	nd.service_type_id = nd.has_service_type ? PG_GETARG_INT64(6) : 0;
	nd.has_amount = !PG_ARGISNULL(7);
	nd.amount = nd.has_amount ? PG_GETARG_DATUM(7) : (Datum) 0;
	nd.currency = sb_text_arg(fcinfo, 8);
	nd.tags = PG_ARGISNULL(9) ? NULL : PG_GETARG_ARRAYTYPE_P(9);
	nd.first_kind = sb_text_arg(fcinfo, 10);
	nd.first_all_day = PG_GETARG_BOOL(11);
	nd.at = sb_moment_arg(fcinfo, 12, "at");
	sb_check_at(nd.at);
	/* first_due, or first_due_date (argument 13 from 1.1 on): the owner's day */
	nd.first_due = sb_due_args(fcinfo, 3, 13, nd.owner_id, "first_due", "first_due_date",
							   &nd.first_all_day);
	/* request_id (argument 14 from 1.1 on): the same request returns its deal */
	request_id = PG_NARGS() > 14 ? sb_uuid_arg(fcinfo, 14) : NULL;
	if (sb_request_claim(request_id, "create_deal", nd.owner_id, &answer))
		PG_RETURN_INT64(answer.deal_id);
	answer.deal_id = sb_deal_create(&nd);
	sb_request_answer(request_id, &answer);
	PG_RETURN_INT64(answer.deal_id);
}
