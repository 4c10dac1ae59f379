/*
 * activities.c: activities and the deal's derived "next due" columns.
 *
 * Owns:
 *  - the BEFORE ROW trigger on activity: all-day activities fall due at the
 *    end of their local day in the deal owner's time zone; a planned
 *    activity may not be due in the past; finished activities are final;
 *  - the AFTER STATEMENT triggers on activity (with transition tables) that
 *    keep deal.next_due / deal.next_activity_id exact for every writer,
 *    set-based, so a bulk statement costs one pass and not one query per
 *    row; they also refuse planned activities on closed deals;
 *  - plan_activity(), complete_activity(), cancel_activity().
 *
 * Concurrency: whoever takes planned work away from a deal (complete,
 * cancel, delete, reschedule) first takes the deal's row lock FOR UPDATE,
 * then computes next_due from the newest data. Inserting a planned activity
 * holds FOR KEY SHARE on the deal through the foreign key (which conflicts
 * with FOR UPDATE) and can only move next_due earlier, which it does with a
 * monotone UPDATE that re-checks the newest row. Together they keep the
 * column exact and make the "always a planned activity" check race-free.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "executor/executor.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "activities.h"
#include "calendar.h"
#include "calls.h"
#include "catalog.h"
#include "config.h"
#include "deals.h"
#include "errcodes.h"
#include "identity.h"
#include "protocol.h"
#include "requests.h"
#include "rows.h"
#include "spi.h"
#include "texts.h"

PG_FUNCTION_INFO_V1(sb_activity_before_row);
PG_FUNCTION_INFO_V1(sb_activity_after_insert);
PG_FUNCTION_INFO_V1(sb_activity_after_update);
PG_FUNCTION_INFO_V1(sb_activity_after_delete);
PG_FUNCTION_INFO_V1(sb_plan_activity);
PG_FUNCTION_INFO_V1(sb_complete_activity);
PG_FUNCTION_INFO_V1(sb_cancel_activity);

#define ATT(c) (sb_cat.act_att[c])

/* ------------------------------------------------------------------
 * Small helpers
 * ------------------------------------------------------------------ */

/*
 * The planned activity of a deal with the smallest (due_at, id), as the
 * newest committed data and this transaction's own changes show it: a
 * derived column must follow reality, not an old snapshot. Reads the
 * partial index activity_planned_idx (deal_id, due_at, id) through a
 * probe opened on it with the newest snapshot, and stops after the first n
 * rows that are still planned.
 */
int
sb_planned_probe(SbProbe *p, int64 deal_id, int n, int64 *act_ids, TimestampTz *dues)
{
	TupleTableSlot *slot = sb_probe(p, deal_id);
	int			found = 0;

	for (; slot != NULL && found < n; slot = sb_probe_next(p))
	{
		bool		isnull;

		if (sb_slot_act_status(slot, sb_cat.act_att[ACT_STATUS]) != SB_PLANNED)
			continue;
		act_ids[found] = DatumGetInt64(slot_getattr(slot, sb_cat.act_att[ACT_ID], &isnull));
		dues[found] = DatumGetTimestampTz(slot_getattr(slot, sb_cat.act_att[ACT_DUE_AT], &isnull));
		found++;
	}
	return found;
}

/* The same for one deal, opening and closing what it reads. */
int
sb_next_planned_n(int64 deal_id, int n, int64 *act_ids, TimestampTz *dues)
{
	Relation	rel;
	Snapshot	snap;
	SbProbe		probe;
	int			found;

	sb_catalog();
	rel = table_open(sb_cat.activity, AccessShareLock);
	snap = RegisterSnapshot(GetLatestSnapshot());
	sb_probe_begin(&probe, rel, sb_cat.activity_planned_idx, snap);
	found = sb_planned_probe(&probe, deal_id, n, act_ids, dues);
	sb_probe_end(&probe);
	UnregisterSnapshot(snap);
	table_close(rel, NoLock);
	return found;
}

bool
sb_next_planned(int64 deal_id, int64 *act_id, TimestampTz *due)
{
	return sb_next_planned_n(deal_id, 1, act_id, due) == 1;
}

/* The due moment that counts: the end of the local day for all-day ones. */
TimestampTz
sb_effective_due(TimestampTz due, bool all_day, pg_tz *tz)
{
	if (!all_day)
		return due;
	return sb_end_of_day(sb_local_date(due, tz), tz);
}

/*
 * The owner of a deal as sb_deal_owner() reads it (the newest data), for
 * the per-row checks of this file. A statement that writes many activities
 * of one deal in a row (an import grouped by deal) fetches it once: the
 * answer serves the next row while the transaction and its command id are
 * the same. A row the current command wrote is not visible to that command
 * anyway, and a later command that changes a deal has a new command id.
 */
static bool
row_deal_owner(int64 deal_id, int64 *owner_id)
{
	static LocalTransactionId lxid = InvalidLocalTransactionId;
	static CommandId cid;
	static int64 deal;
	static bool found;
	static int64 owner;
	CommandId	current = GetCurrentCommandId(false);

	if (lxid != MyProc->lxid || cid != current || deal != deal_id)
	{
		lxid = InvalidLocalTransactionId;	/* until the fetch has returned */
		found = sb_deal_owner(deal_id, &owner);
		lxid = MyProc->lxid;
		cid = current;
		deal = deal_id;
	}
	*owner_id = owner;
	return found;
}

/* The time zone of a deal's owner, or NULL when the deal is not there. */
static pg_tz *
deal_owner_tz(int64 deal_id)
{
	int64		owner;
	const SbEmployee *emp;

	if (!row_deal_owner(deal_id, &owner) || (emp = sb_employee(owner)) == NULL)
		return NULL;
	return emp->tz;
}

/* SB007 when due is before at; both shown in the deal owner's local time. */
static void
check_not_in_past(TimestampTz due, TimestampTz at, int64 deal_id)
{
	int64		owner_id;
	const SbEmployee *owner;
	pg_tz	   *tz;
	const char *zone;

	if (due >= at)
		return;
	owner = row_deal_owner(deal_id, &owner_id) ? sb_employee(owner_id) : NULL;
	tz = owner != NULL ? owner->tz : sb_tz_lookup("UTC");
	zone = owner != NULL ? owner->time_zone : "UTC";
	ereport(ERROR,
			(errcode(ERRCODE_SB_DUE_IN_PAST),
			 errmsg("activity of deal " INT64_FORMAT " would be due at %s, which is already past",
					deal_id, sb_local_str(due, tz, zone)),
			 errdetail("Now is %s.", sb_local_str(at, tz, zone)),
			 errhint("Plan the activity for a moment still ahead, or as all-day for today (the due_date parameters name the owner's calendar day).")));
}

/*
 * The due moment of an activity to plan, from either a moment (due) or
 * the owner's calendar day (due_date, all-day, due at the end of that day
 * in the owner's zone: no session time zone involved). Exactly one of the
 * two is given; the argument numbers name them (date_arg -1: none).
 */
TimestampTz
sb_due_args(FunctionCallInfo fcinfo, int due_arg, int date_arg, int64 owner_id,
			const char *due_name, const char *date_name, bool *all_day)
{
	bool		has_date = date_arg >= 0 && PG_NARGS() > date_arg && !PG_ARGISNULL(date_arg);
	const SbEmployee *owner;
	DateADT		d;

	if (!has_date)
		return sb_moment_arg(fcinfo, due_arg, due_name);
	if (!PG_ARGISNULL(due_arg))
		ereport(ERROR,
				(errcode(ERRCODE_SB_BAD_VALUE),
				 errmsg("pass either %s or %s, not both", due_name, date_name),
				 errhint("%s names a moment; %s names the owner's calendar day of an all-day activity.",
						 due_name, date_name)));
	d = PG_GETARG_DATEADT(date_arg);
	if (DATE_NOT_FINITE(d))
		ereport(ERROR,
				(errcode(ERRCODE_SB_BAD_VALUE),
				 errmsg("%s must be a calendar day, not infinity", date_name),
				 errhint("Pass a date such as '2026-12-05'.")));
	owner = sb_employee(owner_id);
	if (owner == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_SB_UNKNOWN_EMPLOYEE),
				 errmsg("employee " INT64_FORMAT " does not exist", owner_id),
				 errhint("Pass the id of a row of salesboard.employee.")));
	*all_day = true;
	return sb_end_of_day(d, owner->tz);
}

static bool
valid_kind(const char *kind)
{
	return strcmp(kind, "interaction") == 0 || strcmp(kind, "task") == 0;
}

/* ------------------------------------------------------------------
 * BEFORE INSERT OR UPDATE ON activity FOR EACH ROW
 * ------------------------------------------------------------------ */
static void
edit(SbRowEdit *e, SbActCol col, Datum v, bool isnull)
{
	sb_edit(e, ATT(col), v, isnull);
}

static Datum
getcol(HeapTuple tup, TupleDesc desc, SbActCol col, bool *isnull)
{
	return heap_getattr(tup, ATT(col), desc, isnull);
}

/* Set due_date / due_at of an all-day activity from local day d. */
static void
set_all_day(SbRowEdit *e, DateADT d, pg_tz *tz, TimestampTz *due)
{
	*due = sb_end_of_day(d, tz);
	edit(e, ACT_DUE_DATE, DateADTGetDatum(d), false);
	edit(e, ACT_DUE_AT, TimestampTzGetDatum(*due), false);
}

static void
finishing_checks(HeapTuple tup, TupleDesc desc, SbRowEdit *e, char status, int64 id)
{
	bool		isnull;
	Datum		v;

	if (status == SB_DONE)
	{
		v = getcol(tup, desc, ACT_RESULT, &isnull);
		if (isnull || sb_blank(TextDatumGetCString(v)))
			ereport(ERROR,
					(errcode(ERRCODE_SB_RESULT_REQUIRED),
					 errmsg("activity " INT64_FORMAT " cannot be done without a result", id),
					 errhint("Write what came of it into result, e.g. with salesboard.complete_activity(id, result).")));
	}
	v = getcol(tup, desc, ACT_DONE_AT, &isnull);
	if (isnull)
		edit(e, ACT_DONE_AT, TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()), false);
	else if (DatumGetTimestampTz(v) != GetCurrentTransactionStartTimestamp() && !sb_may_backdate())
		ereport(ERROR,
				(errcode(ERRCODE_SB_BACKDATING),
				 errmsg("done_at of activity " INT64_FORMAT " must be now()", id),
				 errhint("Leave done_at out; only salesboard_admin and salesboard_app members may set it.")));
}

/*
 * A planned activity goes to an active employee: its assignee, or the
 * deal's owner when it has none (SB040).
 */
static void
planned_for_active(HeapTuple tup, TupleDesc desc, int64 deal_id)
{
	bool		isnull;
	Datum		v = getcol(tup, desc, ACT_ASSIGNEE_ID, &isnull);
	int64		owner;

	if (!isnull)
		sb_require_active(sb_employee(DatumGetInt64(v)), "no activity can be assigned to them");
	else if (row_deal_owner(deal_id, &owner))
		sb_require_active(sb_employee(owner), "no activity can be planned for them; hand the deal to someone else first");
}

static HeapTuple
activity_before_insert(TriggerData *td)
{
	HeapTuple	tup = td->tg_trigtuple;
	TupleDesc	desc = RelationGetDescr(td->tg_relation);
	SbRowEdit	e = {0};
	bool		isnull,
				all_day,
				due_null,
				date_null;
	int64		deal_id,
				id,
				owner;
	TimestampTz due;
	Datum		v;
	SbActStatus status;

	deal_id = DatumGetInt64(getcol(tup, desc, ACT_DEAL_ID, &isnull));
	if (isnull)
		return tup;				/* NOT NULL says it */
	/* the same answer for unknown and invisible deals, before RLS or the FK */
	if (!sb_is_admin() && !(row_deal_owner(deal_id, &owner) && sb_can_access_owner(owner)))
		sb_deal_not_found(deal_id);
	id = sb_server_id(tup, desc, ATT(ACT_ID), sb_cat.activity_id_seq, &e);
	v = getcol(tup, desc, ACT_DUE_AT, &due_null);
	due = due_null ? 0 : DatumGetTimestampTz(v);
	all_day = DatumGetBool(getcol(tup, desc, ACT_ALL_DAY, &isnull)) && !isnull;
	v = getcol(tup, desc, ACT_DUE_DATE, &date_null);
	status = sb_tuple_act_status(tup, desc, ATT(ACT_STATUS));

	if (all_day)
	{
		pg_tz	   *tz = deal_owner_tz(deal_id);

		/* an unknown deal: let the foreign key, not a CHECK, report it */
		if (tz == NULL)
			tz = sb_tz_lookup("UTC");
		if (!date_null || !due_null)
		{
			set_all_day(&e, date_null ? sb_local_date(due, tz) : DatumGetDateADT(v), tz, &due);
			due_null = false;
		}
	}
	else if (!date_null)
		edit(&e, ACT_DUE_DATE, (Datum) 0, true);

	if (status == SB_PLANNED)
	{
		if (!sb_protocol_owns(deal_id))
			planned_for_active(tup, desc, deal_id);	/* else the API checked */
		if (!due_null && due < GetCurrentTransactionStartTimestamp() && !sb_may_backdate())
			check_not_in_past(due, GetCurrentTransactionStartTimestamp(), deal_id);
	}
	else if (status == SB_DONE || status == SB_CANCELLED)
		finishing_checks(tup, desc, &e, status, id);

	sb_check_provenance(tup, desc, ATT(ACT_CREATED_AT), ATT(ACT_CREATED_BY), "activity", id, &e);

	return sb_edit_apply(&e, tup, desc);
}

static HeapTuple
activity_before_update(TriggerData *td)
{
	HeapTuple	oldt = td->tg_trigtuple;
	HeapTuple	newt = td->tg_newtuple;
	TupleDesc	desc = RelationGetDescr(td->tg_relation);
	SbRowEdit	e = {0};
	bool		isnull;
	int64		id,
				deal_id;
	SbActStatus old_status,
				new_status;
	int			i;

	id = DatumGetInt64(getcol(oldt, desc, ACT_ID, &isnull));
	deal_id = DatumGetInt64(getcol(oldt, desc, ACT_DEAL_ID, &isnull));
	old_status = sb_tuple_act_status(oldt, desc, ATT(ACT_STATUS));
	new_status = sb_tuple_act_status(newt, desc, ATT(ACT_STATUS));

	if (old_status != SB_PLANNED)
	{
		for (i = 1; i <= desc->natts; i++)
			if (!TupleDescAttr(desc, i - 1)->attisdropped && sb_col_changed(oldt, newt, desc, i))
				ereport(ERROR,
						(errcode(ERRCODE_SB_ACTIVITY_FINAL),
						 errmsg("activity " INT64_FORMAT " of deal " INT64_FORMAT " is %s and can no longer be changed",
								id, deal_id, old_status == SB_DONE ? "done" : "cancelled"),
						 errdetail("Finished activities are the deal's history."),
						 errhint("Plan a new activity with salesboard.plan_activity() instead.")));
		return newt;
	}
	if (sb_col_changed(oldt, newt, desc, ATT(ACT_ID)) ||
		sb_col_changed(oldt, newt, desc, ATT(ACT_DEAL_ID)) ||
		sb_col_changed(oldt, newt, desc, ATT(ACT_CREATED_AT)) ||
		sb_col_changed(oldt, newt, desc, ATT(ACT_CREATED_BY)))
		ereport(ERROR,
				(errcode(ERRCODE_SB_ACTIVITY_FINAL),
				 errmsg("activity " INT64_FORMAT ": id, deal_id, created_at and created_by cannot be changed", id),
				 errhint("Cancel it and plan a new activity on the other deal instead.")));

	if (new_status == SB_PLANNED && sb_col_changed(oldt, newt, desc, ATT(ACT_ASSIGNEE_ID)))
		planned_for_active(newt, desc, deal_id);
	if (new_status == SB_PLANNED)
	{
		bool		all_day = DatumGetBool(getcol(newt, desc, ACT_ALL_DAY, &isnull)) && !isnull;
		bool		due_changed = sb_col_changed(oldt, newt, desc, ATT(ACT_DUE_AT));
		TimestampTz due;
		Datum		v = getcol(newt, desc, ACT_DUE_AT, &isnull);

		if (isnull)
			return newt;		/* NOT NULL says it */
		due = DatumGetTimestampTz(v);
		if (all_day)
		{
			pg_tz	   *tz = deal_owner_tz(deal_id);
			bool		old_all_day = DatumGetBool(getcol(oldt, desc, ACT_ALL_DAY, &isnull)) && !isnull;
			bool		date_changed = sb_col_changed(oldt, newt, desc, ATT(ACT_DUE_DATE));
			Datum		d = getcol(newt, desc, ACT_DUE_DATE, &isnull);

			if (tz != NULL)
			{
				if (!old_all_day || isnull || (due_changed && !date_changed))
					set_all_day(&e, sb_local_date(due, tz), tz, &due);
				else
					set_all_day(&e, DatumGetDateADT(d), tz, &due);
			}
		}
		else
		{
			(void) getcol(newt, desc, ACT_DUE_DATE, &isnull);
			if (!isnull)
				edit(&e, ACT_DUE_DATE, (Datum) 0, true);
		}
		if (due != DatumGetTimestampTz(getcol(oldt, desc, ACT_DUE_AT, &isnull)) &&
			due < GetCurrentTransactionStartTimestamp() && !sb_may_backdate())
			check_not_in_past(due, GetCurrentTransactionStartTimestamp(), deal_id);
	}
	else if (new_status == SB_DONE || new_status == SB_CANCELLED)
		finishing_checks(newt, desc, &e, new_status, id);

	return sb_edit_apply(&e, newt, desc);
}

/*
 * Finished activities are the deal's history: only administrators delete
 * them, and they go with their deal when it is deleted.
 */
static void
activity_before_delete(TriggerData *td)
{
	HeapTuple	oldt = td->tg_trigtuple;
	TupleDesc	desc = RelationGetDescr(td->tg_relation);
	bool		isnull;
	SbActStatus status = sb_tuple_act_status(oldt, desc, ATT(ACT_STATUS));
	int64		deal_id;

	if (status == SB_PLANNED || sb_is_admin())
		return;
	deal_id = DatumGetInt64(getcol(oldt, desc, ACT_DEAL_ID, &isnull));
	if (deal_owner_tz(deal_id) == NULL)
		return;					/* the deal is being deleted: cascade */
	ereport(ERROR,
			(errcode(ERRCODE_SB_ACTIVITY_FINAL),
			 errmsg("activity " INT64_FORMAT " of deal " INT64_FORMAT " is %s and cannot be deleted",
					DatumGetInt64(getcol(oldt, desc, ACT_ID, &isnull)), deal_id,
					status == SB_DONE ? "done" : "cancelled"),
			 errdetail("Finished activities are the deal's history."),
			 errhint("Only salesboard_admin members delete history.")));
}

Datum
sb_activity_before_row(PG_FUNCTION_ARGS)
{
	TriggerData *td = sb_trigger_call(fcinfo, "sb_activity_before_row", SB_TRIG_BEFORE | SB_TRIG_ROW);

	if (sb_restoring())
		return sb_trigger_pass(td);

	sb_catalog();
	if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
		return PointerGetDatum(activity_before_insert(td));
	if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
		return PointerGetDatum(activity_before_update(td));
	if (TRIGGER_FIRED_BY_DELETE(td->tg_event))
		activity_before_delete(td);
	return PointerGetDatum(td->tg_trigtuple);
}

/* ------------------------------------------------------------------
 * next_due upkeep, set-based
 * ------------------------------------------------------------------ */

/* One deal touched by a statement, with the earliest planned row seen. */
typedef struct TouchedDeal
{
	int64		deal_id;
	bool		has_planned;
	TimestampTz due;
	int64		act_id;
} TouchedDeal;

typedef struct Touched
{
	HTAB	   *deals;
	bool		all_protocol;	/* every row belongs to the protocol's deal */
} Touched;

static void
touched_init(Touched *t)
{
	HASHCTL		ctl;

	ctl.keysize = sizeof(int64);
	ctl.entrysize = sizeof(TouchedDeal);
	ctl.hcxt = CurrentMemoryContext;
	t->deals = hash_create("salesboard touched deals", 256, &ctl,
						   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	t->all_protocol = true;
}

static void
touch(Touched *t, int64 deal_id, bool planned, TimestampTz due, int64 act_id)
{
	bool		found;
	TouchedDeal *d = hash_search(t->deals, &deal_id, HASH_ENTER, &found);

	if (!found)
	{
		d->has_planned = false;
		d->due = 0;
		d->act_id = 0;
	}
	if (planned && (!d->has_planned || due < d->due || (due == d->due && act_id < d->act_id)))
	{
		d->has_planned = true;
		d->due = due;
		d->act_id = act_id;
	}
	if (!sb_protocol_owns(deal_id))
		t->all_protocol = false;
}

/*
 * While an API function changes one deal's activities it keeps that deal
 * exact itself: a statement whose rows all belong to that deal needs no
 * upkeep. Checked before anything is built, as it is the common case.
 */
static bool
rows_are_protocol(Tuplestorestate *ts, TupleDesc desc)
{
	TupleTableSlot *slot;
	bool		all = true;

	if (sb_protocol.op == SB_OP_NONE || sb_protocol.op == SB_OP_DERIVED || ts == NULL)
		return false;
	slot = sb_transition_slot(ts, desc);
	while (tuplestore_gettupleslot(ts, true, false, slot))
	{
		bool		isnull;

		if (sb_slot_int8(slot, ATT(ACT_DEAL_ID), &isnull) != sb_protocol.deal_id)
		{
			all = false;
			break;
		}
	}
	ExecDropSingleTupleTableSlot(slot);
	return all;
}

typedef struct ActRow
{
	int64		id;
	int64		deal_id;
	SbActStatus status;
	TimestampTz due;
} ActRow;

static void
act_row(TupleTableSlot *slot, ActRow *r)
{
	bool		isnull;

	r->id = sb_slot_int8(slot, ATT(ACT_ID), &isnull);
	r->deal_id = sb_slot_int8(slot, ATT(ACT_DEAL_ID), &isnull);
	r->status = sb_slot_act_status(slot, ATT(ACT_STATUS));
	r->due = DatumGetTimestampTz(slot_getattr(slot, ATT(ACT_DUE_AT), &isnull));
}

/* What the upkeep needs of a deal row: status and its next activity. */
typedef struct DealNext
{
	SbStatus	status;
	bool		has_next;
	TimestampTz next_due;
	int64		next_id;
} DealNext;

static void
deal_next(TupleTableSlot *slot, DealNext *dn)
{
	bool		isnull;
	Datum		v;

	dn->status = sb_slot_status(slot, sb_cat.deal_att[DEAL_STATUS]);
	v = slot_getattr(slot, sb_cat.deal_att[DEAL_NEXT_DUE], &isnull);
	dn->has_next = !isnull;
	dn->next_due = isnull ? 0 : DatumGetTimestampTz(v);
	dn->next_id = sb_slot_int8(slot, sb_cat.deal_att[DEAL_NEXT_ACTIVITY_ID], &isnull);
}

/* Planned rows can only move next_due earlier: a monotone update. */
static SbQuery q_next_earlier = {
	"UPDATE salesboard.deal d SET next_due = u.due, next_activity_id = u.aid "
	"FROM ROWS FROM (pg_catalog.unnest($1::bigint[]), pg_catalog.unnest($2::timestamptz[]), "
	"pg_catalog.unnest($3::bigint[])) AS u(id, due, aid) "
	"WHERE d.id = u.id AND d.status = 'open' "
	"AND (d.next_due IS NULL OR (u.due, u.aid) < (d.next_due, d.next_activity_id))",
	3, {INT8ARRAYOID, TIMESTAMPTZARRAYOID, INT8ARRAYOID}, NULL
};

/* Exact values, computed under the deals' row locks. */
static SbQuery q_next_exact = {
	"UPDATE salesboard.deal d SET next_due = u.due, next_activity_id = u.aid "
	"FROM ROWS FROM (pg_catalog.unnest($1::bigint[]), pg_catalog.unnest($2::timestamptz[]), "
	"pg_catalog.unnest($3::bigint[])) AS u(id, due, aid) "
	"WHERE d.id = u.id AND d.status = 'open' "
	"AND (d.next_due, d.next_activity_id) IS DISTINCT FROM (u.due, u.aid)",
	3, {INT8ARRAYOID, TIMESTAMPTZARRAYOID, INT8ARRAYOID}, NULL
};

static SbQuery q_lock_deals = {
	"SELECT id FROM salesboard.deal WHERE id = ANY($1) ORDER BY id FOR UPDATE",
	1, {INT8ARRAYOID}, NULL
};

static SbQuery q_set_next = {
	"UPDATE salesboard.deal SET next_due = $2, next_activity_id = $3 WHERE id = $1",
	3, {INT8OID, TIMESTAMPTZOID, INT8OID}, NULL
};

/* Run an upkeep statement with the deal trigger told it is ours. */
static void
exec_derived(SbQuery *q, Datum *values, const char *nulls)
{
	int			step = sb_protocol_begin(SB_OP_DERIVED, 0);

	sb_exec(q, values, nulls, false, 0);
	sb_protocol_end(step);
}

static void
deal_closed_error(int64 deal_id, SbStatus status, int64 act_id)
{
	ereport(ERROR,
			(errcode(ERRCODE_SB_PLANNED_ON_CLOSED),
			 errmsg("cannot plan activity " INT64_FORMAT " on deal " INT64_FORMAT ", which is %s",
					act_id, deal_id, status == SB_WON ? "won" : "lost"),
			 errdetail("A closed deal has no planned activities."),
			 errhint("Reopen the deal first with salesboard.reopen_deal().")));
}

/*
 * AFTER INSERT ON activity REFERENCING NEW TABLE FOR EACH STATEMENT: the
 * earliest new planned row of each deal may become its next activity.
 */
/*
 * The touched deals whose next activity a new planned row comes before,
 * moved earlier with one monotone UPDATE; a planned row on a closed deal
 * is SB015.
 */
static void
move_next_earlier(Touched *t)
{
	HASH_SEQ_STATUS seq;
	TouchedDeal *d;
	int			n = 0,
				max = hash_get_num_entries(t->deals);
	int64	   *ids = palloc(sizeof(int64) * Max(max, 1));
	int64	   *aids = palloc(sizeof(int64) * Max(max, 1));
	TimestampTz *dues = palloc(sizeof(TimestampTz) * Max(max, 1));
	Relation	rel = table_open(sb_cat.deal, AccessShareLock);
	Snapshot	snap = RegisterSnapshot(GetLatestSnapshot());
	TupleTableSlot *dslot;
	SbProbe		probe;

	sb_probe_begin(&probe, rel, sb_cat.deal_pkey, snap);
	hash_seq_init(&seq, t->deals);
	while ((d = hash_seq_search(&seq)) != NULL)
	{
		DealNext	dn;

		if (!d->has_planned || (dslot = sb_probe(&probe, d->deal_id)) == NULL)
			continue;			/* nothing planned, or the foreign key says it */
		deal_next(dslot, &dn);
		if (dn.status != SB_OPEN)
			deal_closed_error(d->deal_id, dn.status, d->act_id);
		if (!dn.has_next || d->due < dn.next_due ||
			(d->due == dn.next_due && d->act_id < dn.next_id))
		{
			ids[n] = d->deal_id;
			dues[n] = d->due;
			aids[n] = d->act_id;
			n++;
		}
	}
	sb_probe_end(&probe);
	UnregisterSnapshot(snap);
	table_close(rel, NoLock);

	if (n > 0)
	{
		Datum		values[3];

		values[0] = PointerGetDatum(sb_int8_array(ids, NULL, n));
		values[1] = PointerGetDatum(sb_tstz_array(dues, NULL, n));
		values[2] = PointerGetDatum(sb_int8_array(aids, NULL, n));
		SPI_connect();
		exec_derived(&q_next_earlier, values, NULL);
		SPI_finish();
	}
}

Datum
sb_activity_after_insert(PG_FUNCTION_ARGS)
{
	TriggerData *td = sb_trigger_call(fcinfo, "sb_activity_after_insert",
									  SB_TRIG_AFTER | SB_TRIG_STATEMENT | SB_TRIG_NEW_TABLE);
	Touched		t;
	TupleTableSlot *slot;

	if (sb_restoring())
		return sb_trigger_pass(td);
	sb_catalog();
	if (rows_are_protocol(td->tg_newtable, RelationGetDescr(td->tg_relation)))
		return PointerGetDatum(NULL);
	touched_init(&t);
	slot = sb_transition_slot(td->tg_newtable, RelationGetDescr(td->tg_relation));
	while (tuplestore_gettupleslot(td->tg_newtable, true, false, slot))
	{
		ActRow		r;

		act_row(slot, &r);
		touch(&t, r.deal_id, r.status == SB_PLANNED, r.due, r.id);
	}
	ExecDropSingleTupleTableSlot(slot);
	if (!t.all_protocol && hash_get_num_entries(t.deals) > 0)
		move_next_earlier(&t);	/* else the API function keeps the deal exact */
	return PointerGetDatum(NULL);
}

/*
 * Recompute next_due of the given deals exactly: lock them (in id order),
 * then read their planned activities as the newest data shows them.
 */
static void
recompute_deals(Touched *t)
{
	HASH_SEQ_STATUS seq;
	TouchedDeal *d;
	int			n = 0,
				m = 0,
				max = hash_get_num_entries(t->deals),
				i;
	int64	   *ids,
			   *uids,
			   *aids;
	TimestampTz *dues;
	bool	   *nulls;
	Datum		values[3];
	Relation	deals,
				acts;
	TupleTableSlot *dslot;
	Snapshot	snap;
	SbProbe		deal_probe,
				planned_probe;

	if (max == 0)
		return;
	ids = palloc(sizeof(int64) * max);
	hash_seq_init(&seq, t->deals);
	while ((d = hash_seq_search(&seq)) != NULL)
		ids[n++] = d->deal_id;

	SPI_connect();
	values[0] = PointerGetDatum(sb_int8_array(ids, NULL, n));
	sb_exec(&q_lock_deals, values, NULL, false, 0);

	uids = palloc(sizeof(int64) * n);
	aids = palloc(sizeof(int64) * n);
	dues = palloc(sizeof(TimestampTz) * n);
	nulls = palloc(sizeof(bool) * n);
	deals = table_open(sb_cat.deal, AccessShareLock);
	acts = table_open(sb_cat.activity, AccessShareLock);
	CommandCounterIncrement();
	snap = RegisterSnapshot(GetLatestSnapshot());
	sb_probe_begin(&deal_probe, deals, sb_cat.deal_pkey, snap);
	sb_probe_begin(&planned_probe, acts, sb_cat.activity_planned_idx, snap);
	for (i = 0; i < n; i++)
	{
		DealNext	dn;
		int64		aid = 0;
		TimestampTz due = 0;
		bool		has;

		if ((dslot = sb_probe(&deal_probe, ids[i])) == NULL)
			continue;
		deal_next(dslot, &dn);
		if (dn.status != SB_OPEN)
			continue;
		has = sb_planned_probe(&planned_probe, ids[i], 1, &aid, &due) == 1;
		if (has == dn.has_next && (!has || (aid == dn.next_id && due == dn.next_due)))
			continue;
		uids[m] = ids[i];
		aids[m] = aid;
		dues[m] = due;
		nulls[m] = !has;
		m++;
	}
	sb_probe_end(&planned_probe);
	sb_probe_end(&deal_probe);
	UnregisterSnapshot(snap);
	table_close(acts, NoLock);
	table_close(deals, NoLock);

	if (m > 0)
	{
		values[0] = PointerGetDatum(sb_int8_array(uids, NULL, m));
		values[1] = PointerGetDatum(sb_tstz_array(dues, nulls, m));
		values[2] = PointerGetDatum(sb_int8_array(aids, nulls, m));
		exec_derived(&q_next_exact, values, NULL);
	}
	SPI_finish();
}

/*
 * AFTER UPDATE ON activity REFERENCING OLD TABLE, NEW TABLE FOR EACH
 * STATEMENT: a deal whose planned work changed (finished, rescheduled)
 * gets its next activity recomputed under its row lock.
 */
Datum
sb_activity_after_update(PG_FUNCTION_ARGS)
{
	TriggerData *td = sb_trigger_call(fcinfo, "sb_activity_after_update",
									  SB_TRIG_AFTER | SB_TRIG_STATEMENT |
									  SB_TRIG_OLD_TABLE | SB_TRIG_NEW_TABLE);
	TupleDesc	desc;
	TupleTableSlot *os,
			   *ns;
	Touched		t;

	if (sb_restoring())
		return sb_trigger_pass(td);

	sb_catalog();
	if (rows_are_protocol(td->tg_newtable, RelationGetDescr(td->tg_relation)))
		return PointerGetDatum(NULL);
	desc = RelationGetDescr(td->tg_relation);
	touched_init(&t);
	os = sb_transition_slot(td->tg_oldtable, desc);
	ns = sb_transition_slot(td->tg_newtable, desc);
	for (;;)
	{
		bool		go = tuplestore_gettupleslot(td->tg_oldtable, true, false, os);
		bool		gn = tuplestore_gettupleslot(td->tg_newtable, true, false, ns);
		ActRow		o,
					nw;

		if (!go || !gn)
			break;
		act_row(os, &o);
		act_row(ns, &nw);
		if ((o.status == SB_PLANNED || nw.status == SB_PLANNED) &&
			(o.status != nw.status || o.due != nw.due || o.deal_id != nw.deal_id))
		{
			touch(&t, o.deal_id, false, 0, 0);
			if (nw.deal_id != o.deal_id)
				touch(&t, nw.deal_id, false, 0, 0);
		}
	}
	ExecDropSingleTupleTableSlot(os);
	ExecDropSingleTupleTableSlot(ns);
	if (!t.all_protocol)
		recompute_deals(&t);
	return PointerGetDatum(NULL);
}

/* AFTER DELETE ON activity REFERENCING OLD TABLE FOR EACH STATEMENT */
Datum
sb_activity_after_delete(PG_FUNCTION_ARGS)
{
	TriggerData *td = sb_trigger_call(fcinfo, "sb_activity_after_delete",
									  SB_TRIG_AFTER | SB_TRIG_STATEMENT | SB_TRIG_OLD_TABLE);
	TupleTableSlot *os;
	Touched		t;

	if (sb_restoring())
		return sb_trigger_pass(td);

	sb_catalog();
	if (rows_are_protocol(td->tg_oldtable, RelationGetDescr(td->tg_relation)))
		return PointerGetDatum(NULL);
	touched_init(&t);
	os = sb_transition_slot(td->tg_oldtable, RelationGetDescr(td->tg_relation));
	while (tuplestore_gettupleslot(td->tg_oldtable, true, false, os))
	{
		ActRow		o;

		act_row(os, &o);
		if (o.status == SB_PLANNED)
			touch(&t, o.deal_id, false, 0, 0);
	}
	ExecDropSingleTupleTableSlot(os);
	if (!t.all_protocol)
		recompute_deals(&t);
	return PointerGetDatum(NULL);
}

/*
 * For the API functions, which hold the deal's row lock: bring next_due of
 * one deal up to date (an UPDATE only when it changed).
 */
void
sb_refresh_next_due(int64 deal_id)
{
	SbDealRow	deal;
	int64		aid = 0;
	TimestampTz due = 0;
	bool		has;

	CommandCounterIncrement();
	if (!sb_read_deal(deal_id, &deal) || deal.status != SB_OPEN)
		return;
	has = sb_next_planned(deal_id, &aid, &due);
	if (has == deal.has_next && (!has || (aid == deal.next_activity_id && due == deal.next_due)))
		return;
	{
		Datum		values[3] = {Int64GetDatum(deal_id), TimestampTzGetDatum(due), Int64GetDatum(aid)};
		char		nulls[3] = {' ', has ? ' ' : 'n', has ? ' ' : 'n'};

		exec_derived(&q_set_next, values, nulls);
	}
}

/* ------------------------------------------------------------------
 * The API: plan_activity, complete_activity, cancel_activity
 * ------------------------------------------------------------------ */
static SbQuery q_insert_activity = {
	"INSERT INTO salesboard.activity (deal_id, kind, subject, due_at, all_day, assignee_id, "
	"created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
	8, {INT8OID, TEXTOID, TEXTOID, TIMESTAMPTZOID, BOOLOID, INT8OID, TIMESTAMPTZOID, INT8OID}, NULL
};

static SbQuery q_finish_activity = {
	"UPDATE salesboard.activity SET status = $2, result = $3, done_at = $4 "
	"WHERE id = $1 AND status = 'planned'",
	4, {INT8OID, TEXTOID, TEXTOID, TIMESTAMPTZOID}, NULL
};

/*
 * Check what the API functions are asked to plan: kind, subject, assignee,
 * and a due moment (the end of the local day for all-day ones) not before
 * `at`. Returns the effective due moment.
 */
TimestampTz
sb_check_new_activity(const SbDealRow *deal, const char *kind, const char *subject,
					  TimestampTz due, bool all_day, const int64 *assignee_id,
					  TimestampTz at)
{
	const SbEmployee *owner = sb_employee(deal->owner_id);
	TimestampTz eff;

	if (kind == NULL || !valid_kind(kind))
		ereport(ERROR,
				(errcode(ERRCODE_SB_BAD_VALUE),
				 errmsg("activity kind \"%s\" is not known", kind ? kind : "(null)"),
				 errhint("Use 'interaction' (with the client) or 'task' (internal work).")));
	if (sb_blank(subject))
		ereport(ERROR,
				(errcode(ERRCODE_SB_BAD_VALUE),
				 errmsg("the activity planned on deal " INT64_FORMAT " needs a subject", deal->id),
				 errhint("Say what is to be done, e.g. 'Call to agree the proposal'.")));
	sb_check_length("subject", subject, SB_TITLE_MAX);
	if (assignee_id != NULL && sb_employee(*assignee_id) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_SB_UNKNOWN_EMPLOYEE),
				 errmsg("assignee " INT64_FORMAT " does not exist", *assignee_id),
				 errhint("Pass the id of a row of salesboard.employee, or NULL for the deal's owner.")));
	if (owner == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_SB_UNKNOWN_EMPLOYEE),
				 errmsg("owner " INT64_FORMAT " of deal " INT64_FORMAT " does not exist", deal->owner_id, deal->id),
				 errhint("Run salesboard.verify() to find damaged rows.")));
	if (assignee_id != NULL)
		sb_require_active(sb_employee(*assignee_id), "no activity can be assigned to them");
	else
		sb_require_active(owner, "no activity can be planned for them; hand the deal to someone else first");
	eff = sb_effective_due(due, all_day, owner->tz);
	check_not_in_past(eff, at, deal->id);
	return eff;
}

/*
 * Plan an activity on a locked, open deal; for the API functions.
 * Returns the new activity's id.
 */
int64
sb_insert_activity(const SbDealRow *deal, const char *kind, const char *subject,
				   TimestampTz due, bool all_day, const int64 *assignee_id, TimestampTz at)
{
	Datum		values[8];
	char		nulls[8] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
	int64		me = sb_current_employee();
	bool		isnull;

	(void) sb_check_new_activity(deal, kind, subject, due, all_day, assignee_id, at);
	values[0] = Int64GetDatum(deal->id);
	values[1] = CStringGetTextDatum(kind);
	values[2] = CStringGetTextDatum(subject);
	values[3] = TimestampTzGetDatum(due);
	values[4] = BoolGetDatum(all_day);
	values[5] = Int64GetDatum(assignee_id ? *assignee_id : 0);
	nulls[5] = assignee_id != NULL ? ' ' : 'n';
	values[6] = TimestampTzGetDatum(at);
	values[7] = Int64GetDatum(me);
	nulls[7] = me != 0 ? ' ' : 'n';
	if (sb_exec(&q_insert_activity, values, nulls, false, 0) != SPI_OK_INSERT_RETURNING ||
		SPI_processed != 1)
		elog(ERROR, "salesboard: inserting an activity returned no row");
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/* Finish (done/cancelled) one planned activity; for the API functions. */
void
sb_finish_activity(int64 act_id, bool done, const char *result, TimestampTz at)
{
	Datum		values[4];

	values[0] = Int64GetDatum(act_id);
	values[1] = CStringGetTextDatum(done ? "done" : "cancelled");
	values[2] = CStringGetTextDatum(result);
	values[3] = TimestampTzGetDatum(at);
	sb_exec(&q_finish_activity, values, NULL, false, 0);
}

/* salesboard.plan_activity(deal_id, due, subject, kind, all_day, assignee_id, at) */
Datum
sb_plan_activity(PG_FUNCTION_ARGS)
{
	int64		deal_id,
				act_id = 0;
	TimestampTz due,
				at;
	char	   *subject,
			   *kind;
	bool		all_day;
	int64		assignee;
	bool		has_assignee;
	SbDealRow	deal;
	int			step;
	pg_uuid_t  *request_id;
	SbRequestAnswer answer;

	(void) sb_require_employee();
	sb_require_arg(fcinfo, 0, "deal_id");
	sb_require_arg(fcinfo, 2, "subject");
	sb_require_arg(fcinfo, 3, "kind");
	sb_require_arg(fcinfo, 4, "all_day");
	sb_require_arg(fcinfo, 6, "at");
	deal_id = PG_GETARG_INT64(0);
	subject = sb_text_arg(fcinfo, 2);
	kind = sb_text_arg(fcinfo, 3);
	all_day = PG_GETARG_BOOL(4);
	assignee = PG_ARGISNULL(5) ? 0 : PG_GETARG_INT64(5);
	has_assignee = !PG_ARGISNULL(5);
	at = sb_moment_arg(fcinfo, 6, "at");
	sb_check_at(at);

	sb_open_deal_for_change(deal_id, &deal);
	if (deal.status != SB_OPEN)
		ereport(ERROR,
				(errcode(ERRCODE_SB_DEAL_CLOSED),
				 errmsg("deal " INT64_FORMAT " \"%s\" is %s: no activities can be planned on it",
						deal_id, deal.title, deal.status == SB_WON ? "won" : "lost"),
				 errhint("Reopen it first with salesboard.reopen_deal().")));
	/* plan_activity(deal_id, due, subject, kind, all_day, assignee_id, at, due_date, request_id) */
	due = sb_due_args(fcinfo, 1, 7, deal.owner_id, "due", "due_date", &all_day);
	request_id = PG_NARGS() > 8 ? sb_uuid_arg(fcinfo, 8) : NULL;
	if (sb_request_claim(request_id, "plan_activity", deal_id, &answer))
		PG_RETURN_INT64(answer.activity_id);

	SPI_connect();
	step = sb_protocol_begin(SB_OP_ACTIVITY, deal_id);
	act_id = sb_insert_activity(&deal, kind, subject, due, all_day,
								has_assignee ? &assignee : NULL, at);
	sb_refresh_next_due(deal_id);
	sb_protocol_end(step);
	SPI_finish();
	answer.deal_id = deal_id;
	answer.activity_id = act_id;
	sb_request_answer(request_id, &answer);
	PG_RETURN_INT64(act_id);
}

/* Read an activity's deal and status, as the newest data shows them. */
static bool
fetch_activity(int64 act_id, int64 *deal_id, SbActStatus *status)
{
	SbFetch		f;
	bool		isnull;

	if (sb_fetch_begin(&f, sb_cat.activity, sb_cat.activity_pkey, act_id, AccessShareLock, NULL))
	{
		*deal_id = sb_slot_int8(f.slot, ATT(ACT_DEAL_ID), &isnull);
		*status = sb_slot_act_status(f.slot, ATT(ACT_STATUS));
	}
	sb_fetch_end(&f);
	return f.found;
}

static void
finish_api(FunctionCallInfo fcinfo, bool done)
{
	pg_uuid_t  *request_id;
	SbRequestAnswer answer;
	int64		act_id,
				deal_id = 0;
	char	   *result;
	TimestampTz at;
	SbActStatus status = SB_ACT_UNKNOWN;
	SbDealRow	deal;
	int			step;

	(void) sb_require_employee();
	sb_require_arg(fcinfo, 0, "activity_id");
	/* request_id (argument 3 from 1.1 on): the same request changes nothing again */
	request_id = PG_NARGS() > 3 ? sb_uuid_arg(fcinfo, 3) : NULL;
	sb_require_arg(fcinfo, 1, done ? "result" : "reason");
	sb_require_arg(fcinfo, 2, "at");
	act_id = PG_GETARG_INT64(0);
	result = sb_text_arg(fcinfo, 1);
	at = sb_moment_arg(fcinfo, 2, "at");
	sb_check_at(at);
	sb_catalog();

	if (!fetch_activity(act_id, &deal_id, &status) || !sb_deal_visible(deal_id))
		ereport(ERROR,
				(errcode(ERRCODE_SB_UNKNOWN_ACTIVITY),
				 errmsg("activity " INT64_FORMAT " does not exist or is not visible to you", act_id),
				 errhint("Pass the id of a planned activity of one of your deals.")));
	sb_open_deal_for_change(deal_id, &deal);
	/* visibility first, as every write: a request id says nothing of others' activities */
	if (sb_request_claim(request_id, done ? "complete_activity" : "cancel_activity", act_id, &answer))
		return;
	/* under the deal's lock, the activity's state is final */
	(void) fetch_activity(act_id, &deal_id, &status);
	if (status != SB_PLANNED)
		ereport(ERROR,
				(errcode(ERRCODE_SB_ACTIVITY_NOT_PLANNED),
				 errmsg("activity " INT64_FORMAT " of deal " INT64_FORMAT " is already %s",
						act_id, deal_id, status == SB_DONE ? "done" : "cancelled"),
				 errhint("Only planned activities can be completed or cancelled; plan a new one with salesboard.plan_activity().")));
	if (sb_blank(result))
		ereport(ERROR,
				(errcode(ERRCODE_SB_RESULT_REQUIRED),
				 errmsg("activity " INT64_FORMAT " of deal " INT64_FORMAT " needs a %s", act_id, deal_id,
						done ? "result" : "reason for cancelling"),
				 errhint("Write what came of it, e.g. 'Client asked for a proposal by Friday'.")));
	sb_check_length(done ? "result" : "reason", result, SB_RESULT_MAX);

	SPI_connect();
	step = sb_protocol_begin(SB_OP_ACTIVITY, deal_id);
	sb_finish_activity(act_id, done, result, at);
	sb_refresh_next_due(deal_id);
	sb_protocol_end(step);
	SPI_finish();
	answer.deal_id = deal_id;
	answer.activity_id = act_id;
	sb_request_answer(request_id, &answer);
}

/* salesboard.complete_activity(activity_id, result, at) */
Datum
sb_complete_activity(PG_FUNCTION_ARGS)
{
	finish_api(fcinfo, true);
	PG_RETURN_VOID();
}

/* salesboard.cancel_activity(activity_id, reason, at) */
Datum
sb_cancel_activity(PG_FUNCTION_ARGS)
{
	finish_api(fcinfo, false);
	PG_RETURN_VOID();
}
