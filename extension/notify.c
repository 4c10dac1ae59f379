/*
 * notify.c: live changes (feature): NOTIFY on channel "salesboard" when
 * deals change, so an application can LISTEN and redraw a board or push
 * to a browser (doc/reference.md, "Live changes").
 *
 * AFTER INSERT and AFTER UPDATE ON deal, FOR EACH STATEMENT with the
 * transition tables: one notification per statement, however many rows,
 * queued in the transaction and delivered by PostgreSQL at commit (not at
 * all after a rollback). The payload is small JSON:
 *   {"event":"card","change":"create"|"update","what":["stage",...],
 *    "deals":[ids],"owners":[ids]}
 * "what" names what changed among stage (a move, close or reopen), next
 * (the next activity or its due moment), priority, owner, details (title,
 * client, service type, amount, currency). When the ids would make the
 * payload too long (a bulk load), "deals" gives way to "deal_count" and,
 * if needed, "owners" to "owner_count": read the board again.
 *
 * A new deal is announced once: the create notification already says
 * "next", so the update that gives a deal created in this transaction its
 * first planned activity (create_deal, or a raw INSERT then the activity)
 * is not announced again.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "lib/stringinfo.h"
#include "storage/proc.h"
#include "utils/datum.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/tuplestore.h"

#include "calls.h"
#include "catalog.h"
#include "live.h"
#include "rows.h"

PG_FUNCTION_INFO_V1(sb_deal_notify_trigger);


enum
{
	W_STAGE = 1, W_NEXT = 2, W_PRIORITY = 4, W_OWNER = 8, W_DETAILS = 16
};

/* Deals created in the current transaction (ids), for "announced once". */
static HTAB *created_now = NULL;
static LocalTransactionId created_lxid = InvalidLocalTransactionId;

static HTAB *
created_set(void)
{
	HASHCTL		ctl;

	if (created_now != NULL && created_lxid == MyProc->lxid)
		return created_now;
	/* the old table went with its transaction's memory */
	ctl.keysize = sizeof(int64);
	ctl.entrysize = sizeof(int64);
	ctl.hcxt = TopTransactionContext;
	created_now = hash_create("salesboard deals created", 64, &ctl,
							  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	created_lxid = MyProc->lxid;
	return created_now;
}

static char *
payload(bool created, int what, const SbIdSet *deals, const SbIdSet *owners)
{
	static const char *const words[] = {"stage", "next", "priority", "owner", "details"};
	StringInfoData buf;
	int			i,
				first = 1;
	bool		with_deals = deals->n * 21 + owners->n * 21 < SB_LIVE_MAX_PAYLOAD - 200;
	bool		with_owners = owners->n * 21 < SB_LIVE_MAX_PAYLOAD - 200;

	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"event\":\"card\",\"change\":\"%s\",\"what\":[", created ? "create" : "update");
	for (i = 0; i < (int) lengthof(words); i++)
		if (what & (1 << i))
		{
			appendStringInfo(&buf, "%s\"%s\"", first ? "" : ",", words[i]);
			first = 0;
		}
	appendStringInfoChar(&buf, ']');
	if (with_deals)
		sb_live_append_ids(&buf, "deals", deals->ids, deals->n);
	else
		appendStringInfo(&buf, ",\"deal_count\":%d", deals->n);
	if (with_owners)
		sb_live_append_ids(&buf, "owners", owners->ids, owners->n);
	else
		appendStringInfo(&buf, ",\"owner_count\":%d", owners->n);
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

static bool
changed(TupleTableSlot *o, TupleTableSlot *n, SbDealCol col)
{
	bool		on,
				nn;
	Datum		ov = slot_getattr(o, sb_cat.deal_att[col], &on);
	Datum		nv = slot_getattr(n, sb_cat.deal_att[col], &nn);
	Form_pg_attribute att = TupleDescAttr(o->tts_tupleDescriptor, sb_cat.deal_att[col] - 1);

	if (on || nn)
		return on != nn;
	return !datumIsEqual(ov, nv, att->attbyval, att->attlen);
}

/* What changed between two versions of a deal: W_* bits. */
static int
what_changed(TupleTableSlot *o, TupleTableSlot *n)
{
	int			what = 0;

	if (changed(o, n, DEAL_STAGE_ID) || changed(o, n, DEAL_STATUS))
		what |= W_STAGE;
	if (changed(o, n, DEAL_NEXT_DUE) || changed(o, n, DEAL_NEXT_ACTIVITY_ID))
		what |= W_NEXT;
	if (changed(o, n, DEAL_PRIORITY))
		what |= W_PRIORITY;
	if (changed(o, n, DEAL_OWNER_ID))
		what |= W_OWNER;
	if (changed(o, n, DEAL_TITLE) || changed(o, n, DEAL_CLIENT_ID) ||
		changed(o, n, DEAL_SERVICE_TYPE_ID) || changed(o, n, DEAL_AMOUNT) ||
		changed(o, n, DEAL_CURRENCY))
		what |= W_DETAILS;
	return what;
}

/* The update that gives a deal created in this transaction its first plan. */
static bool
first_plan_of_new_deal(TupleTableSlot *o)
{
	bool		isnull;
	int64		id;

	(void) slot_getattr(o, sb_cat.deal_att[DEAL_NEXT_ACTIVITY_ID], &isnull);
	if (!isnull)
		return false;
	id = sb_slot_int8(o, sb_cat.deal_att[DEAL_ID], &isnull);
	return hash_search(created_set(), &id, HASH_FIND, NULL) != NULL;
}

Datum
sb_deal_notify_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *td = sb_trigger_call(fcinfo, "sb_deal_notify_trigger",
									  SB_TRIG_AFTER | SB_TRIG_STATEMENT | SB_TRIG_NO_DELETE |
									  SB_TRIG_NEW_TABLE);
	TupleDesc	desc = RelationGetDescr(td->tg_relation);
	bool		created = TRIGGER_FIRED_BY_INSERT(td->tg_event);
	SbIdSet		deals = {0},
				owners = {0};
	TupleTableSlot *ns,
			   *os = NULL;
	int			what = 0;
	int64		id;
	bool		isnull;

	if (sb_restoring() || !sb_live_changes())
		return sb_trigger_pass(td);
	sb_catalog();
	ns = sb_transition_slot(td->tg_newtable, desc);
	if (!created && td->tg_oldtable != NULL)
		os = sb_transition_slot(td->tg_oldtable, desc);
	while (tuplestore_gettupleslot(td->tg_newtable, true, false, ns))
	{
		int			w = W_STAGE | W_NEXT | W_DETAILS;

		if (os != NULL)
		{
			if (!tuplestore_gettupleslot(td->tg_oldtable, true, false, os))
				break;
			w = what_changed(os, ns);
			if (w == W_NEXT && first_plan_of_new_deal(os))
				continue;
			if (w & W_OWNER)
				sb_idset_add(&owners, sb_slot_int8(os, sb_cat.deal_att[DEAL_OWNER_ID], &isnull));
		}
		if (w == 0)
			continue;			/* nothing a board shows changed */
		what |= w;
		id = sb_slot_int8(ns, sb_cat.deal_att[DEAL_ID], &isnull);
		if (created)
			(void) hash_search(created_set(), &id, HASH_ENTER, NULL);
		sb_idset_add(&deals, id);
		sb_idset_add(&owners, sb_slot_int8(ns, sb_cat.deal_att[DEAL_OWNER_ID], &isnull));
	}
	ExecDropSingleTupleTableSlot(ns);
	if (os != NULL)
		ExecDropSingleTupleTableSlot(os);
	sb_idset_finish(&deals);
	sb_idset_finish(&owners);
	if (deals.n > 0)
		sb_live_notify(payload(created, what, &deals, &owners));
	return PointerGetDatum(NULL);
}
