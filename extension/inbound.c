/*
 * inbound.c: inbound dispatch (feature): receiving requests from lead
 * sources with dedupe and auto-linking, the Inbound column, and handling
 * them: dismiss, accept into a new deal, link to an open deal
 * (doc/reference.md, "Inbound dispatch"; errors SB100-SB106).
 *
 * A request's life: stored once per (source, external_ref); then exactly
 * one of
 *   auto_linked  on arrival: a copy of a message already linked (same
 *                external_ref in another source), a reply in a linked
 *                thread, or mail from the client of exactly one open
 *                deal; never to a closed deal;
 *   new          waiting in the Inbound column of the source's employee;
 *                later dismissed, accepted or linked by a person;
 *   dismissed    on arrival when the source has no lead-source flag or the
 *                mail was filed in a "Processed" folder.
 * The rules live in triggers (inbound_rules: handled once, to an open deal,
 * by the acting employee at now(); inbound_linked: a linked request is
 * recorded on its deal as a done incoming interaction and its copies in
 * other sources follow), so raw SQL obeys them as the functions do.
 *
 * Concurrency: every handling function locks the request and its copies
 * (same external_ref) in id order before it looks at their status, so two
 * people acting on one request (or on two copies of one message) at once
 * get one success and one SB102, never two deals. receive_inbound()'s
 * INSERT ... ON CONFLICT on (source_id, external_ref) stores a message
 * delivered twice at the same moment once; the deal it links to is held
 * FOR SHARE, so a concurrent close waits.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "storage/proc.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "activities.h"
#include "calls.h"
#include "catalog.h"
#include "config.h"
#include "deals.h"
#include "errcodes.h"
#include "identity.h"
#include "inqueue.h"
#include "live.h"
#include "newdeal.h"
#include "requests.h"
#include "rows.h"
#include "sender.h"
#include "spi.h"
#include "texts.h"

PG_FUNCTION_INFO_V1(sb_inbound_rules_trigger);
PG_FUNCTION_INFO_V1(sb_inbound_linked_trigger);
PG_FUNCTION_INFO_V1(sb_receive_inbound);
PG_FUNCTION_INFO_V1(sb_inbound_notify_trigger);
PG_FUNCTION_INFO_V1(sb_inbound_queue);
PG_FUNCTION_INFO_V1(sb_dismiss_inbound);
PG_FUNCTION_INFO_V1(sb_accept_inbound);
PG_FUNCTION_INFO_V1(sb_link_inbound);


/* ------------------------------------------------------------------
 * Small readers
 * ------------------------------------------------------------------ */
typedef struct Source
{
	int64		id;
	char	   *channel;
	char	   *address;
	int64		owner_id;
	bool		is_lead_source;
	bool		active;
} Source;

/* A lead source as the newest data shows it; false when there is none. */
static bool
read_source(int64 id, Source *s)
{
	SbFetch		f;
	bool		found,
				isnull;
	Datum		v;
	const AttrNumber *a = sb_cat.lead_source_att;

	sb_catalog();
	found = sb_fetch_begin(&f, sb_cat.lead_source, sb_cat.lead_source_pkey, id, AccessShareLock, NULL);
	if (found)
	{
		s->id = id;
		s->channel = TextDatumGetCString(slot_getattr(f.slot, a[SRC_CHANNEL], &isnull));
		s->address = TextDatumGetCString(slot_getattr(f.slot, a[SRC_ADDRESS], &isnull));
		s->owner_id = sb_slot_int8(f.slot, a[SRC_OWNER_ID], &isnull);
		v = slot_getattr(f.slot, a[SRC_IS_LEAD_SOURCE], &isnull);
		s->is_lead_source = !isnull && DatumGetBool(v);
		v = slot_getattr(f.slot, a[SRC_ACTIVE], &isnull);
		s->active = !isnull && DatumGetBool(v);
	}
	sb_fetch_end(&f);
	return found;
}

static void
source_error(int64 id, const Source *s)
{
	if (s == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_SB_UNKNOWN_SOURCE),
				 errmsg("lead source " INT64_FORMAT " does not exist", id),
				 errhint("Pass the id of a row of salesboard.lead_source.")));
	ereport(ERROR,
			(errcode(ERRCODE_SB_UNKNOWN_SOURCE),
			 errmsg("lead source " INT64_FORMAT " (%s %s) is inactive: it receives nothing",
					id, s->channel, sb_quote_short(s->address)),
			 errhint("Set lead_source.active to true if the source is read again.")));
}

static void
unknown_request(int64 id)
{
	ereport(ERROR,
			(errcode(ERRCODE_SB_UNKNOWN_INBOUND),
			 errmsg("inbound request " INT64_FORMAT " does not exist", id),
			 errhint("Pass the id of a request of your Inbound column (salesboard.inbound_queue()).")));
}

static const char *
linked_status(const char *status)
{
	return strcmp(status, "accepted") == 0 || strcmp(status, "linked") == 0 ||
		strcmp(status, "auto_linked") == 0 ? status : NULL;
}

static void
handled_error(int64 id, const char *status, bool has_deal, int64 deal_id)
{
	if (has_deal)
		ereport(ERROR,
				(errcode(ERRCODE_SB_INBOUND_HANDLED),
				 errmsg("inbound request " INT64_FORMAT " was already handled: %s to deal " INT64_FORMAT,
						id, status, deal_id),
				 errdetail("Every request is handled once: dismissed, accepted, linked or auto-linked."),
				 errhint("Read the Inbound column again (salesboard.inbound_queue()).")));
	ereport(ERROR,
			(errcode(ERRCODE_SB_INBOUND_HANDLED),
			 errmsg("inbound request " INT64_FORMAT " was already handled: %s", id, status),
			 errdetail("Every request is handled once: dismissed, accepted, linked or auto-linked."),
			 errhint("Read the Inbound column again (salesboard.inbound_queue()).")));
}

/* An e-mail filed in the mailbox's "Processed" folder (any parent path). */
static bool
processed_folder(const char *folder)
{
	const char *leaf;
	const char *p;

	if (folder == NULL)
		return false;
	folder = TextDatumGetCString(DirectFunctionCall1(btrim1, CStringGetTextDatum(folder)));
	leaf = folder;
	for (p = folder; *p; p++)
		if (*p == '/' || *p == '.' || *p == '\\')
			leaf = p + 1;
	return pg_strcasecmp(leaf, "processed") == 0;
}

/* ------------------------------------------------------------------
 * NOTIFY salesboard {"event":"inbound","change":...,"requests":[...],
 * "owners":[...],"deals":[...]}: one per call, at commit.
 * ------------------------------------------------------------------ */
static void
notify_inbound(const char *change, int64 *ids, int n, int64 *owners, int nowners,
			   int64 *deals, int ndeals)
{
	StringInfoData buf;

	if (!sb_live_changes())
		return;
	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"event\":\"inbound\",\"change\":\"%s\"", change);
	n = sb_sort_unique_int64(ids, n);
	nowners = sb_sort_unique_int64(owners, nowners);
	ndeals = sb_sort_unique_int64(deals, ndeals);
	if ((n + nowners + ndeals) * 21 + 100 < SB_LIVE_MAX_PAYLOAD)
		sb_live_append_ids(&buf, "requests", ids, n);
	else
		appendStringInfo(&buf, ",\"request_count\":%d", n);
	if ((nowners + ndeals) * 21 + 100 < SB_LIVE_MAX_PAYLOAD)
	{
		sb_live_append_ids(&buf, "owners", owners, nowners);
		if (ndeals > 0)
			sb_live_append_ids(&buf, "deals", deals, ndeals);
	}
	appendStringInfoChar(&buf, '}');
	sb_live_notify(buf.data);
}

/*
 * The four handling functions send one notification per call (above), so
 * the statements they run are not announced again by the trigger below.
 * A call under way is counted with the (sub)transaction it runs in: a
 * call that fails leaves its count behind in a subtransaction that is
 * gone (a savepoint rolled back to starts a new one, with a new id) or in
 * a transaction that is gone, so nothing needs to catch the error. (Not a
 * protocol step: a step would also make the triggers see the caller, not
 * the owner, as the acting user of the call's statements, and so change
 * e.g. the handled_by of a request stored dismissed on arrival.)
 */
static struct
{
	LocalTransactionId lxid;
	SubTransactionId subxid;
	int			depth;
}			api_calls = {InvalidLocalTransactionId, InvalidSubTransactionId, 0};

static bool
api_call_under_way(void)
{
	return api_calls.depth > 0 && api_calls.lxid == MyProc->lxid &&
		api_calls.subxid == GetCurrentSubTransactionId();
}

static void
api_enter(void)
{
	if (!api_call_under_way())
	{
		api_calls.lxid = MyProc->lxid;
		api_calls.subxid = GetCurrentSubTransactionId();
		api_calls.depth = 0;
	}
	api_calls.depth++;
}

static Datum
inbound_api_call(PGFunction impl, FunctionCallInfo fcinfo)
{
	Datum		result;

	api_enter();
	result = impl(fcinfo);
	api_calls.depth--;
	return result;
}

/*
 * The owners of the copies and replies that followed requests of a raw
 * statement onto their deals (inbound_linked), gathered by the row trigger
 * for that statement's notification, whose Inbound columns they leave: the
 * statement that moved them is the trigger's own and is not announced. Kept
 * with the (sub)transaction, like api_calls.
 */
static struct
{
	LocalTransactionId lxid;
	SubTransactionId subxid;
	SbIdSet		owners;
}			followers = {InvalidLocalTransactionId, InvalidSubTransactionId, {NULL, 0, 0}};

static void
followers_add(int64 owner)
{
	MemoryContext old;

	if (followers.lxid != MyProc->lxid || followers.subxid != GetCurrentSubTransactionId())
	{
		/* the old set went with its transaction's memory */
		followers.lxid = MyProc->lxid;
		followers.subxid = GetCurrentSubTransactionId();
		memset(&followers.owners, 0, sizeof(followers.owners));
	}
	old = MemoryContextSwitchTo(TopTransactionContext);
	sb_idset_add(&followers.owners, owner);
	MemoryContextSwitchTo(old);
}

/* Moves the gathered owners into owners; none are kept for later. */
static void
followers_take(SbIdSet *owners)
{
	int			i;

	if (followers.lxid != MyProc->lxid || followers.subxid != GetCurrentSubTransactionId())
		return;
	for (i = 0; i < followers.owners.n; i++)
		sb_idset_add(owners, followers.owners.ids[i]);
	followers.owners.n = 0;
}

/* ------------------------------------------------------------------
 * AFTER INSERT / UPDATE / DELETE ON inbound FOR EACH STATEMENT: raw SQL
 * on requests is announced as the functions' calls are, one notification
 * per kind of change the statement made. The kind is the status a row
 * arrived in or went to (new, dismissed, accepted, linked, auto_linked),
 * "changed" for an update that kept the status (e.g. a new owner), and
 * "deleted"; owners and deals are those of the rows before and after, and
 * the owners of those deals.
 * ------------------------------------------------------------------ */
static const char *const raw_changes[] = {
	"new", "dismissed", "accepted", "linked", "auto_linked", "changed", "deleted"
};

#define RAW_CHANGED 5
#define RAW_DELETED 6

typedef struct RawChange
{
	SbIdSet		requests,
				owners,
				deals;
} RawChange;

static int
raw_kind(TupleTableSlot *slot)
{
	bool		isnull;
	Datum		v = slot_getattr(slot, sb_cat.inbound_att[INB_STATUS], &isnull);
	char	   *status = isnull ? NULL : TextDatumGetCString(v);
	int			k;

	for (k = 0; status != NULL && k < RAW_CHANGED; k++)
		if (strcmp(status, raw_changes[k]) == 0)
			return k;
	return RAW_CHANGED;
}

static void
raw_add(RawChange *c, TupleTableSlot *slot)
{
	bool		isnull;
	int64		v,
				owner;

	sb_idset_add(&c->requests, sb_slot_int8(slot, sb_cat.inbound_att[INB_ID], &isnull));
	v = sb_slot_int8(slot, sb_cat.inbound_att[INB_OWNER_ID], &isnull);
	if (!isnull)
		sb_idset_add(&c->owners, v);
	v = sb_slot_int8(slot, sb_cat.inbound_att[INB_DEAL_ID], &isnull);
	if (!isnull)
	{
		sb_idset_add(&c->deals, v);
		if (sb_deal_owner(v, &owner))
			sb_idset_add(&c->owners, owner);
	}
}

/* Does any column differ between the old and the new version of a row? */
static bool
row_changed(TupleTableSlot *os, TupleTableSlot *ns, TupleDesc desc)
{
	int			i;

	slot_getallattrs(os);
	slot_getallattrs(ns);
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped)
			continue;
		if (os->tts_isnull[i] != ns->tts_isnull[i] ||
			(!os->tts_isnull[i] &&
			 !datumIsEqual(os->tts_values[i], ns->tts_values[i], att->attbyval, att->attlen)))
			return true;
	}
	return false;
}

Datum
sb_inbound_notify_trigger(PG_FUNCTION_ARGS)
{
	const char *fname = "sb_inbound_notify_trigger";
	TriggerData *td = sb_trigger_call(fcinfo, fname, SB_TRIG_AFTER | SB_TRIG_STATEMENT);
	TriggerEvent ev = td->tg_event;
	TupleDesc	desc = RelationGetDescr(td->tg_relation);
	RawChange	changes[lengthof(raw_changes)];
	SbIdSet		followed = {0};
	TupleTableSlot *ns = NULL,
			   *os = NULL;
	int			k;

	/* each event with the transition tables it needs */
	(void) sb_trigger_call(fcinfo, fname, SB_TRIG_AFTER | SB_TRIG_STATEMENT |
						   (TRIGGER_FIRED_BY_INSERT(ev) ? SB_TRIG_NEW_TABLE :
							TRIGGER_FIRED_BY_DELETE(ev) ? SB_TRIG_OLD_TABLE :
							SB_TRIG_NEW_TABLE | SB_TRIG_OLD_TABLE));
	if (api_call_under_way())
		return PointerGetDatum(NULL);
	memset(changes, 0, sizeof(changes));
	followers_take(&followed);	/* this statement's, also when it is not announced */
	if (sb_restoring() || !sb_live_changes())
		return PointerGetDatum(NULL);
	sb_catalog();
	if (td->tg_newtable != NULL)
		ns = sb_transition_slot(td->tg_newtable, desc);
	if (td->tg_oldtable != NULL)
		os = sb_transition_slot(td->tg_oldtable, desc);
	if (TRIGGER_FIRED_BY_INSERT(ev))
		while (tuplestore_gettupleslot(td->tg_newtable, true, false, ns))
			raw_add(&changes[raw_kind(ns)], ns);
	else if (TRIGGER_FIRED_BY_DELETE(ev))
		while (tuplestore_gettupleslot(td->tg_oldtable, true, false, os))
			raw_add(&changes[RAW_DELETED], os);
	else
		/* the old and the new version of each row, in the same order */
		while (tuplestore_gettupleslot(td->tg_newtable, true, false, ns) &&
			   tuplestore_gettupleslot(td->tg_oldtable, true, false, os))
		{
			int			kind = raw_kind(ns);

			if (!row_changed(os, ns, desc))
				continue;		/* an UPDATE that changes nothing is silent */
			if (kind == raw_kind(os))
				kind = RAW_CHANGED;
			raw_add(&changes[kind], ns);
			raw_add(&changes[kind], os);
		}
	if (ns != NULL)
		ExecDropSingleTupleTableSlot(ns);
	if (os != NULL)
		ExecDropSingleTupleTableSlot(os);
	/* the Inbound columns that copies following these requests left */
	for (k = 0; k < RAW_CHANGED; k++)
		if (changes[k].deals.n > 0)
		{
			int			i;

			for (i = 0; i < followed.n; i++)
				sb_idset_add(&changes[k].owners, followed.ids[i]);
			break;
		}
	for (k = 0; k < (int) lengthof(raw_changes); k++)
		if (changes[k].requests.n > 0)
			notify_inbound(raw_changes[k], changes[k].requests.ids, changes[k].requests.n,
						   changes[k].owners.ids, changes[k].owners.n,
						   changes[k].deals.ids, changes[k].deals.n);
	return PointerGetDatum(NULL);
}

/* ------------------------------------------------------------------
 * BEFORE INSERT OR UPDATE ON inbound FOR EACH ROW: the rules of a
 * request's life for every writer.
 * ------------------------------------------------------------------ */
#define INB(c) sb_cat.inbound_att[c]

static char *
tuple_text(HeapTuple t, TupleDesc desc, AttrNumber att)
{
	bool		isnull;
	Datum		v = heap_getattr(t, att, desc, &isnull);

	return isnull ? NULL : TextDatumGetCString(v);
}

static int64
tuple_int8(HeapTuple t, TupleDesc desc, AttrNumber att, bool *isnull)
{
	Datum		v = heap_getattr(t, att, desc, isnull);

	return *isnull ? 0 : DatumGetInt64(v);
}

/* A handled request: its deal as the status says, at now(), by the acting employee. */
static void
check_handling(HeapTuple t, TupleDesc desc, int64 id, const char *status, SbRowEdit *e)
{
	bool		no_deal,
				isnull;
	int64		deal_id = tuple_int8(t, desc, INB(INB_DEAL_ID), &no_deal);
	Datum		v;
	int64		by;
	int64		me = sb_current_employee();

	if (linked_status(status) != NULL)
	{
		SbDealRow	d;

		if (no_deal)
			ereport(ERROR,
					(errcode(ERRCODE_SB_INBOUND_DEAL),
					 errmsg("inbound request " INT64_FORMAT " cannot be %s without a deal", id, status),
					 errhint("Set deal_id too, or use salesboard.link_inbound() / accept_inbound().")));
		if (sb_read_deal(deal_id, &d) && d.status != SB_OPEN)
			ereport(ERROR,
					(errcode(ERRCODE_SB_LINK_CLOSED_DEAL),
					 errmsg("deal " INT64_FORMAT " is %s: inbound request " INT64_FORMAT " can be linked only to an open deal",
							deal_id, d.status == SB_WON ? "won" : "lost", id),
					 errhint("Reopen the deal first (salesboard.reopen_deal()), or accept the request as a new deal.")));
	}
	else if (!no_deal)
		ereport(ERROR,
				(errcode(ERRCODE_SB_INBOUND_DEAL),
				 errmsg("inbound request " INT64_FORMAT " is %s: it has no deal", id, status),
				 errhint("Leave deal_id NULL; a request gets a deal by being accepted or linked.")));
	if (strcmp(status, "new") == 0)
	{
		(void) tuple_int8(t, desc, INB(INB_HANDLED_BY), &isnull);
		if (!isnull)
			ereport(ERROR,
					(errcode(ERRCODE_SB_INBOUND_DEAL),
					 errmsg("inbound request " INT64_FORMAT " is new: nobody has handled it", id),
					 errhint("Leave handled_by NULL while the status is 'new'.")));
		return;
	}
	v = heap_getattr(t, INB(INB_HANDLED_AT), desc, &isnull);
	if (isnull)
		sb_edit(e, INB(INB_HANDLED_AT), TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()), false);
	else if (DatumGetTimestampTz(v) != GetCurrentTransactionStartTimestamp() && !sb_may_backdate())
		ereport(ERROR,
				(errcode(ERRCODE_SB_BACKDATING),
				 errmsg("handled_at of inbound request " INT64_FORMAT " must be now()", id),
				 errhint("Leave handled_at out; only salesboard_admin and salesboard_app members may set it.")));
	by = tuple_int8(t, desc, INB(INB_HANDLED_BY), &isnull);
	if (isnull && me != 0)
		sb_edit(e, INB(INB_HANDLED_BY), Int64GetDatum(me), false);
	else if (!isnull && by != me && !sb_may_backdate())
		ereport(ERROR,
				(errcode(ERRCODE_SB_BACKDATING),
				 errmsg("handled_by of inbound request " INT64_FORMAT " must be the acting employee", id),
				 errhint("Leave handled_by out; only salesboard_admin and salesboard_app members may set it.")));
}

/* A new row: its source exists and is active, and gives channel and owner. */
static void
check_new_row(HeapTuple t, TupleDesc desc, int64 id, SbRowEdit *e)
{
	bool		isnull;
	int64		source_id = tuple_int8(t, desc, INB(INB_SOURCE_ID), &isnull);
	Source		s;
	char	   *channel;
	int64		owner;

	if (isnull)
		return;					/* NOT NULL says it */
	if (!read_source(source_id, &s))
		source_error(source_id, NULL);
	if (!s.active)
		source_error(source_id, &s);
	channel = tuple_text(t, desc, INB(INB_CHANNEL));
	owner = tuple_int8(t, desc, INB(INB_OWNER_ID), &isnull);
	if ((channel != NULL && strcmp(channel, s.channel) != 0) || (!isnull && owner != s.owner_id))
		ereport(ERROR,
				(errcode(ERRCODE_SB_INBOUND_SOURCE_FIELDS),
				 errmsg("inbound request " INT64_FORMAT " must take channel and owner from lead source " INT64_FORMAT " (%s, employee " INT64_FORMAT ")",
						id, source_id, s.channel, s.owner_id),
				 errhint("Leave channel and owner_id out: the source gives them.")));
	if (channel == NULL)
		sb_edit(e, INB(INB_CHANNEL), CStringGetTextDatum(s.channel), false);
	if (isnull)
		sb_edit(e, INB(INB_OWNER_ID), Int64GetDatum(s.owner_id), false);
}

/* An update of a handled request: only a deal going away (ON DELETE SET NULL). */
static void
check_handled_row(HeapTuple o, HeapTuple n, TupleDesc desc, int64 id, const char *status)
{
	int			att;
	bool		isnull;

	for (att = 1; att <= desc->natts; att++)
	{
		if (TupleDescAttr(desc, att - 1)->attisdropped || !sb_col_changed(o, n, desc, att))
			continue;
		if (att == INB(INB_DEAL_ID))
		{
			(void) heap_getattr(n, att, desc, &isnull);
			if (isnull)
				continue;
		}
		handled_error(id, status, false, 0);
	}
}

/* long because it is the whole life of a request, insert and update, in one place */
Datum
sb_inbound_rules_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *td = sb_trigger_call(fcinfo, "sb_inbound_rules_trigger",
									  SB_TRIG_BEFORE | SB_TRIG_ROW | SB_TRIG_NO_DELETE);
	TupleDesc	desc = RelationGetDescr(td->tg_relation);
	bool		update = TRIGGER_FIRED_BY_UPDATE(td->tg_event);
	HeapTuple	t = update ? td->tg_newtuple : td->tg_trigtuple;
	SbRowEdit	e = {0};
	bool		isnull;
	int64		id;
	char	   *status;

	if (sb_restoring())
		return sb_trigger_pass(td);
	sb_catalog();
	id = tuple_int8(t, desc, INB(INB_ID), &isnull);
	status = tuple_text(t, desc, INB(INB_STATUS));
	if (status == NULL)
		return PointerGetDatum(t);	/* NOT NULL says it */
	if (!update)
	{
		Datum		v = heap_getattr(t, INB(INB_RECEIVED_AT), desc, &isnull);

		check_new_row(t, desc, id, &e);
		if (!isnull && DatumGetTimestampTz(v) > GetCurrentTransactionStartTimestamp())
			ereport(ERROR,
					(errcode(ERRCODE_SB_RECEIVED_FUTURE),
					 errmsg("received_at %s of inbound request " INT64_FORMAT " is in the future",
							timestamptz_to_str(DatumGetTimestampTz(v)), id),
					 errhint("Leave received_at out (now()), or give the moment the message arrived.")));
	}
	else
	{
		HeapTuple	o = td->tg_trigtuple;
		char	   *old_status = tuple_text(o, desc, INB(INB_STATUS));

		if (strcmp(old_status, "new") != 0)
		{
			/* administrators correct handled rows, within the same rules */
			if (!sb_is_admin())
			{
				check_handled_row(o, t, desc, id, old_status);
				return PointerGetDatum(t);
			}
			if (!sb_col_changed(o, t, desc, INB(INB_STATUS)))
			{
				(void) heap_getattr(t, INB(INB_DEAL_ID), desc, &isnull);
				/* nothing of the handling, or its deal deleted (SET NULL) */
				if (!sb_col_changed(o, t, desc, INB(INB_DEAL_ID)) || isnull)
					return PointerGetDatum(t);
			}
		}
		if (sb_col_changed(o, t, desc, INB(INB_SOURCE_ID)) ||
			sb_col_changed(o, t, desc, INB(INB_CHANNEL)) ||
			(sb_col_changed(o, t, desc, INB(INB_OWNER_ID)) && !sb_is_admin()))
			ereport(ERROR,
					(errcode(ERRCODE_SB_INBOUND_SOURCE_FIELDS),
					 errmsg("the source, channel and owner of inbound request " INT64_FORMAT " cannot change", id),
					 errhint("Receive the request again from the right source; an administrator may give it another owner_id.")));
	}
	check_handling(t, desc, id, status, &e);
	return PointerGetDatum(sb_edit_apply(&e, t, desc));
}

/* ------------------------------------------------------------------
 * AFTER INSERT / AFTER UPDATE OF status ON inbound FOR EACH ROW WHEN the
 * request is (now) accepted, linked or auto_linked: recorded on its deal
 * as a done incoming interaction (once per message: a copy already on the
 * same deal is not recorded again), and its copies still new follow.
 * ------------------------------------------------------------------ */
/* copies are e-mails: a Message-ID names one message everywhere */
static SbQuery q_copy_on_deal = {
	"SELECT 1 FROM salesboard.inbound i WHERE i.external_ref = $1 AND i.channel = 'email' "
	"AND i.deal_id = $2 AND i.id <> $3 AND i.status IN ('accepted', 'linked', 'auto_linked') LIMIT 1",
	3, {TEXTOID, INT8OID, INT8OID}, NULL
};

static SbQuery q_record = {
	"INSERT INTO salesboard.activity (deal_id, kind, subject, due_at, status, result) "
	"VALUES ($1, 'interaction', $2, $3, 'done', $4)",
	4, {INT8OID, TEXTOID, TIMESTAMPTZOID, TEXTOID}, NULL
};

/*
 * What follows a request onto its deal: its copies (e-mail: the same
 * Message-ID in any mailbox) and the replies waiting in its thread (e-mail:
 * any mailbox; other channels: the same source, whose references are its
 * own).
 */
static SbQuery q_copies_follow = {
	"UPDATE salesboard.inbound i SET status = 'auto_linked', deal_id = $2, "
	"handled_at = pg_catalog.now(), handled_by = $3 "
	"WHERE i.status = 'new' AND i.id <> $4 "
	"AND (($6 = 'email' AND i.channel = 'email') OR i.source_id = $7) "
	"AND (i.external_ref = $1 OR i.thread_ref = $1 OR i.thread_ref = $5 OR i.external_ref = $5) "
	"RETURNING i.owner_id",
	7, {TEXTOID, INT8OID, INT8OID, INT8OID, TEXTOID, TEXTOID, INT8OID}, NULL
};

#define ACTIVITY_SUBJECT_MAX 300	/* activity_subject_text */
#define CLIENT_NAME_MAX 200		/* client_name_text */

/* s cut to at most max characters (an ellipsis for what is left out) */
static char *
clip(const char *s, int max)
{
	int			len = strlen(s);

	if (pg_mbstrlen_with_len(s, len) <= max)
		return pstrdup(s);
	return psprintf("%s…", pnstrdup(s, pg_mbcharcliplen(s, len, max - 1)));
}

static const char *
channel_label(const char *channel)
{
	if (strcmp(channel, "email") == 0)
		return "E-mail";
	if (strcmp(channel, "phone") == 0)
		return "Call";
	if (strcmp(channel, "telegram") == 0)
		return "Telegram";
	if (strcmp(channel, "vk") == 0)
		return "VK";
	if (strcmp(channel, "viber") == 0)
		return "Viber";
	return "Web form";
}

/*
 * The copies and replies of request id follow it onto deal_id (the caller
 * has SPI_connect()ed). The statement that moves them is this trigger's
 * own, not announced apart: their owners go into the notification of the
 * raw statement that linked the request (a function's call tells them in
 * its own).
 */
static void
copies_follow(const char *ref, const char *thread, int64 deal_id, int64 by, bool by_null,
			  int64 id, const char *channel, int64 source_id)
{
	Datum		f[7];
	char		fn[7] = {' ', ' ', ' ', ' ', ' ', ' ', ' '};
	bool		announce = !api_call_under_way(),
				isnull;
	uint64		k;

	f[0] = ref ? CStringGetTextDatum(ref) : (Datum) 0;
	fn[0] = ref ? ' ' : 'n';
	f[1] = Int64GetDatum(deal_id);
	f[2] = Int64GetDatum(by);
	fn[2] = by_null ? 'n' : ' ';
	f[3] = Int64GetDatum(id);
	f[4] = thread ? CStringGetTextDatum(thread) : (Datum) 0;
	fn[4] = thread ? ' ' : 'n';
	f[5] = CStringGetTextDatum(channel);
	f[6] = Int64GetDatum(source_id);
	api_enter();
	sb_exec(&q_copies_follow, f, fn, false, 0);
	api_calls.depth--;
	for (k = 0; announce && k < SPI_processed; k++)
		followers_add(sb_spi_int8(k, 1, &isnull));
}

Datum
sb_inbound_linked_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *td = sb_trigger_call(fcinfo, "sb_inbound_linked_trigger",
									  SB_TRIG_AFTER | SB_TRIG_ROW | SB_TRIG_NO_DELETE);
	TupleDesc	desc = RelationGetDescr(td->tg_relation);
	HeapTuple	t = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : td->tg_trigtuple;
	bool		isnull,
				by_null;
	int64		id,
				deal_id,
				by,
				source_id;
	char	   *ref,
			   *thread,
			   *channel,
			   *sender,
			   *subject;
	Datum		v[4];
	bool		record = true;

	if (sb_restoring())
		return PointerGetDatum(NULL);
	sb_catalog();
	id = tuple_int8(t, desc, INB(INB_ID), &isnull);
	deal_id = tuple_int8(t, desc, INB(INB_DEAL_ID), &isnull);
	if (isnull)
		return PointerGetDatum(NULL);
	by = tuple_int8(t, desc, INB(INB_HANDLED_BY), &by_null);
	ref = tuple_text(t, desc, INB(INB_EXTERNAL_REF));
	thread = tuple_text(t, desc, INB(INB_THREAD_REF));
	source_id = tuple_int8(t, desc, INB(INB_SOURCE_ID), &isnull);
	channel = tuple_text(t, desc, INB(INB_CHANNEL));
	sender = tuple_text(t, desc, INB(INB_SENDER));
	subject = tuple_text(t, desc, INB(INB_SUBJECT));

	SPI_connect();
	if (ref != NULL && strcmp(channel, "email") == 0)
	{
		v[0] = CStringGetTextDatum(ref);
		v[1] = Int64GetDatum(deal_id);
		v[2] = Int64GetDatum(id);
		sb_exec(&q_copy_on_deal, v, NULL, false, 1);
		record = SPI_processed == 0;
	}
	if (record)
	{
		v[0] = Int64GetDatum(deal_id);
		v[1] = CStringGetTextDatum(clip(psprintf("%s: %s", channel_label(channel),
												 subject != NULL && !sb_blank(subject) ? subject :
												 psprintf("from %s", sender)), ACTIVITY_SUBJECT_MAX));
		v[2] = heap_getattr(t, INB(INB_RECEIVED_AT), desc, &isnull);
		v[3] = CStringGetTextDatum(psprintf("Received from %s (inbound request " INT64_FORMAT ")",
											clip(sender, 200), id));
		sb_exec(&q_record, v, NULL, false, 0);
	}
	if (ref != NULL || thread != NULL)
		copies_follow(ref, thread, deal_id, by, by_null, id, channel, source_id);
	SPI_finish();
	return PointerGetDatum(NULL);
}

/* ------------------------------------------------------------------
 * receive_inbound(source_id, sender, subject, body, received_at,
 *                 external_ref, thread_ref, folder, payload) -> id
 * ------------------------------------------------------------------ */
static SbQuery q_same_ref = {
	"SELECT i.id FROM salesboard.inbound i WHERE i.source_id = $1 AND i.external_ref = $2",
	2, {INT8OID, TEXTOID}, NULL
};

/*
 * Every stored copy of the message, held FOR SHARE: a copy being accepted
 * or linked right now is waited for, so the copy arriving sees its deal
 * (else it would wait in Inbound and could become a second deal). The one
 * of this source, if any, is the repeat's answer.
 */
static SbQuery q_hold_copies = {
	"SELECT i.id, i.source_id, i.external_ref FROM salesboard.inbound i "
	"WHERE (i.external_ref = $2 OR i.external_ref = $4 OR i.thread_ref = $4) "
	"AND (($3 = 'email' AND i.channel = 'email') OR i.source_id = $1) "
	"ORDER BY i.id FOR SHARE",
	4, {INT8OID, TEXTOID, TEXTOID, TEXTOID}, NULL
};

/* a copy of this e-mail in another mailbox, linked to an open deal */
static SbQuery q_copy_linked = {
	"SELECT i.deal_id FROM salesboard.inbound i JOIN salesboard.deal d ON d.id = i.deal_id "
	"WHERE i.external_ref = $1 AND i.channel = 'email' AND i.source_id <> $2 AND d.status = 'open' "
	"AND i.status IN ('accepted', 'linked', 'auto_linked') "
	"ORDER BY i.received_at DESC, i.id DESC LIMIT 1",
	2, {TEXTOID, INT8OID}, NULL
};

/*
 * the newest request of the thread linked to an open deal (e-mail: in any
 * mailbox; other channels: in the same source)
 */
static SbQuery q_thread_linked = {
	"SELECT i.deal_id FROM salesboard.inbound i JOIN salesboard.deal d ON d.id = i.deal_id "
	"WHERE (i.external_ref = $1 OR i.thread_ref = $1) AND d.status = 'open' "
	"AND i.status IN ('accepted', 'linked', 'auto_linked') "
	"AND (($2 = 'email' AND i.channel = 'email') OR i.source_id = $3) "
	"ORDER BY i.received_at DESC, i.id DESC LIMIT 1",
	3, {TEXTOID, TEXTOID, INT8OID}, NULL
};

/*
 * the open deals of the clients whose e-mail or phone is the sender's (no
 * LIMIT: with one, a generic plan expects many matches and scans client)
 */
static SbQuery q_client_deals = {
	"SELECT d.id, d.owner_id FROM salesboard.client c JOIN salesboard.deal d ON d.client_id = c.id "
	"WHERE (pg_catalog.lower(c.email) = $1 OR c.phone_key = $1) AND d.status = 'open'",
	1, {TEXTOID}, NULL
};

static SbQuery q_hold_open_deal = {
	"SELECT d.owner_id FROM salesboard.deal d WHERE d.id = $1 AND d.status = 'open' FOR SHARE",
	1, {INT8OID}, NULL
};

static SbQuery q_insert = {
	"INSERT INTO salesboard.inbound (source_id, sender, subject, body, received_at, external_ref, "
	"thread_ref, folder, payload, status, deal_id, handled_at) "
	"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, "
	"CASE WHEN $10 = 'new' THEN NULL ELSE pg_catalog.now() END) "
	"ON CONFLICT (source_id, external_ref) DO NOTHING RETURNING id",
	11, {INT8OID, TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID, TEXTOID, TEXTOID, TEXTOID, JSONBOID,
	TEXTOID, INT8OID}, NULL
};

static int64
first_int8(SbQuery *q, Datum *v, const char *n)
{
	bool		isnull;

	sb_exec(q, v, n, false, 1);
	return SPI_processed == 1 ? sb_spi_int8(0, 1, &isnull) : 0;
}

/*
 * May a request of this source be linked to a deal of owner by its
 * client's contact? The source's employee, someone of their department, or
 * someone they head: a client row any employee may write must not draw
 * another department's leads onto one's own deal (they wait in Inbound).
 */
static bool
near_source(const Source *s, int64 owner)
{
	const SbEmployee *a = sb_employee(s->owner_id);
	const SbEmployee *b = sb_employee(owner);

	if (owner == s->owner_id || sb_is_head_over(s->owner_id, owner))
		return true;
	return a != NULL && b != NULL && a->department_id != 0 && a->department_id == b->department_id;
}

/*
 * The open deal a request belongs to, held FOR SHARE, or 0: a copy of a
 * linked message, a reply in a linked thread, the one open deal of the
 * sender's client (two or more: a person chooses, so 0).
 */
static int64
auto_link_target(const Source *s, const char *key, const char *ref, const char *thread,
				 int64 *deal_owner)
{
	Datum		v[3];
	int64		deal = 0;
	bool		isnull;

	if (ref != NULL && strcmp(s->channel, "email") == 0)
	{
		v[0] = CStringGetTextDatum(ref);
		v[1] = Int64GetDatum(s->id);
		deal = first_int8(&q_copy_linked, v, NULL);
	}
	if (deal == 0 && thread != NULL)
	{
		v[0] = CStringGetTextDatum(thread);
		v[1] = CStringGetTextDatum(s->channel);
		v[2] = Int64GetDatum(s->id);
		deal = first_int8(&q_thread_linked, v, NULL);
	}
	if (deal == 0)
	{
		v[0] = CStringGetTextDatum(key);
		sb_exec(&q_client_deals, v, NULL, false, 0);
		if (SPI_processed == 1 && near_source(s, sb_spi_int8(0, 2, &isnull)))
			deal = sb_spi_int8(0, 1, &isnull);
	}
	if (deal == 0)
		return 0;
	v[0] = Int64GetDatum(deal);
	sb_exec(&q_hold_open_deal, v, NULL, false, 1);
	if (SPI_processed != 1)
		return 0;				/* closed meanwhile: a person decides */
	*deal_owner = sb_spi_int8(0, 1, &isnull);
	return deal;
}

/* long because it is one call's whole path: checks, dedupe, auto-link, store, notify */
static Datum
receive_inbound_call(PG_FUNCTION_ARGS)
{
	int64		source_id;
	char	   *sender,
			   *ref,
			   *thread,
			   *folder,
			   *key;
	TimestampTz received;
	Source		s;
	Datum		v[11];
	char		n[11];
	int64		id,
				deal = 0,
				deal_owner = 0;
	const char *status;
	int			i;

	sb_require_arg(fcinfo, 0, "source_id");
	sb_require_arg(fcinfo, 1, "sender");
	source_id = PG_GETARG_INT64(0);
	sender = sb_text_arg(fcinfo, 1);
	received = sb_moment_arg(fcinfo, 4, "received_at");
	ref = sb_text_arg(fcinfo, 5);
	thread = sb_text_arg(fcinfo, 6);
	folder = sb_text_arg(fcinfo, 7);
	if (sb_blank(sender))
		ereport(ERROR,
				(errcode(ERRCODE_SB_BAD_VALUE),
				 errmsg("the sender of an inbound request must not be blank"),
				 errhint("Pass the sender's address, number or handle as the channel gives it.")));
	if (ref != NULL && sb_blank(ref))
		ref = NULL;
	if (thread != NULL && sb_blank(thread))
		thread = NULL;
	if (received > GetCurrentTransactionStartTimestamp())
		ereport(ERROR,
				(errcode(ERRCODE_SB_RECEIVED_FUTURE),
				 errmsg("received_at %s is in the future", timestamptz_to_str(received)),
				 errdetail("Now is %s.", timestamptz_to_str(GetCurrentTransactionStartTimestamp())),
				 errhint("Leave received_at out (now()), or pass the moment the message arrived.")));
	if (!read_source(source_id, &s))
		source_error(source_id, NULL);
	if (!s.active)
		source_error(source_id, &s);
	key = sb_sender_key(s.channel, sender);

	SPI_connect();
	if (ref != NULL)
	{
		/* a repeat: the first id, nothing changed */
		uint64		k;
		bool		isnull;

		char		hn[4] = {' ', ' ', ' ', thread ? ' ' : 'n'};

		v[0] = Int64GetDatum(source_id);
		v[1] = CStringGetTextDatum(ref);
		v[2] = CStringGetTextDatum(s.channel);
		v[3] = thread ? CStringGetTextDatum(thread) : (Datum) 0;
		sb_exec(&q_hold_copies, v, hn, false, 0);
		for (k = 0; k < SPI_processed; k++)
		{
			char	   *ext = sb_spi_text(k, 3, CurrentMemoryContext);

			/* the held rows include the thread's, which may have no reference */
			if (sb_spi_int8(k, 2, &isnull) == source_id && ext != NULL && strcmp(ext, ref) == 0)
			{
				id = sb_spi_int8(k, 1, &isnull);
				SPI_finish();
				PG_RETURN_INT64(id);
			}
		}
	}
	deal = auto_link_target(&s, key, ref, thread, &deal_owner);
	status = deal != 0 ? "auto_linked" :
		(!s.is_lead_source || processed_folder(folder)) ? "dismissed" : "new";
	for (i = 0; i < 11; i++)
		n[i] = ' ';
	v[0] = Int64GetDatum(source_id);
	v[1] = CStringGetTextDatum(sender);
	for (i = 2; i <= 3; i++)
	{
		v[i] = PG_ARGISNULL(i) ? (Datum) 0 : PG_GETARG_DATUM(i);
		n[i] = PG_ARGISNULL(i) ? 'n' : ' ';
	}
	v[4] = TimestampTzGetDatum(received);
	v[5] = ref ? CStringGetTextDatum(ref) : (Datum) 0;
	n[5] = ref ? ' ' : 'n';
	v[6] = thread ? CStringGetTextDatum(thread) : (Datum) 0;
	n[6] = thread ? ' ' : 'n';
	v[7] = PG_ARGISNULL(7) ? (Datum) 0 : PG_GETARG_DATUM(7);
	n[7] = PG_ARGISNULL(7) ? 'n' : ' ';
	v[8] = PG_ARGISNULL(8) ? (Datum) 0 : PG_GETARG_DATUM(8);
	n[8] = PG_ARGISNULL(8) ? 'n' : ' ';
	v[9] = CStringGetTextDatum(status);
	v[10] = Int64GetDatum(deal);
	n[10] = deal ? ' ' : 'n';
	id = first_int8(&q_insert, v, n);
	if (id == 0)
	{
		/* delivered twice at once: the other copy committed first */
		v[0] = Int64GetDatum(source_id);
		v[1] = CStringGetTextDatum(ref);
		id = first_int8(&q_same_ref, v, NULL);
		SPI_finish();
		if (id == 0)
			elog(ERROR, "salesboard: inbound request of source " INT64_FORMAT " conflicted but was not found", source_id);
		PG_RETURN_INT64(id);
	}
	SPI_finish();
	if (strcmp(status, "dismissed") != 0)
	{
		int64		ids[1] = {id};
		int64		owners[2] = {s.owner_id, deal_owner};
		int64		deals[1] = {deal};

		notify_inbound(status, ids, 1, owners, deal ? 2 : 1, deals, deal ? 1 : 0);
	}
	PG_RETURN_INT64(id);
}

/* ------------------------------------------------------------------
 * inbound_queue(employee_id, at) -> the Inbound column
 * ------------------------------------------------------------------ */
Datum
sb_inbound_queue(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int64		emp;
	TimestampTz at;
	int64	   *owners;
	int			nowners,
				n,
				k;
	SbInboundItem *items;

	emp = sb_view_employee_arg(fcinfo, 0, "Inbound column");
	at = sb_moment_arg(fcinfo, 1, "at");
	owners = sb_inbound_owners(emp, true, &nowners);
	n = sb_inbound_waiting(owners, nowners, at, -1, &items);
	InitMaterializedSRF(fcinfo, 0);
	for (k = 0; k < n; k++)
	{
		Datum		values[8];
		bool		nulls[8] = {0};

		values[0] = Int64GetDatum(items[k].id);
		values[1] = Int64GetDatum(items[k].source_id);
		values[2] = CStringGetTextDatum(items[k].channel);
		values[3] = CStringGetTextDatum(items[k].sender);
		values[4] = items[k].subject ? CStringGetTextDatum(items[k].subject) : (Datum) 0;
		nulls[4] = items[k].subject == NULL;
		values[5] = TimestampTzGetDatum(items[k].received_at);
		values[6] = DirectFunctionCall2(timestamp_mi, TimestampTzGetDatum(at),
										TimestampTzGetDatum(items[k].received_at));
		values[7] = Int64GetDatum(items[k].owner_id);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/* ------------------------------------------------------------------
 * Handling: dismiss, accept, link
 * ------------------------------------------------------------------ */
static SbQuery q_owners = {
	"SELECT i.id, i.owner_id FROM salesboard.inbound i WHERE i.id = ANY($1) ORDER BY i.id",
	1, {INT8ARRAYOID}, NULL
};

/* a request to accept or link, as the newest data shows it */
typedef struct Request
{
	int64		id;
	int64		owner;
	int64		source_id;
	char	   *channel;
	char	   *sender;
	char	   *ref;			/* NULL: none */
	char	   *thread;			/* NULL: none */
} Request;

/* the requests to dismiss, locked in id order */
static SbQuery q_lock = {
	"SELECT i.id, i.status, i.deal_id, i.owner_id FROM salesboard.inbound i "
	"WHERE i.id = ANY($1) ORDER BY i.id FOR UPDATE OF i",
	1, {INT8ARRAYOID}, NULL
};

/*
 * A request and what will follow it onto its deal (copies: e-mail with the
 * same Message-ID; its thread: e-mail anywhere, other channels in the same
 * source), locked in id order: two people taking two copies of one message
 * at once queue behind each other instead of deadlocking. Each arm of the
 * UNION is an index probe.
 */
static SbQuery q_lock_followers = {
	"SELECT i.id, i.status, i.deal_id, i.owner_id FROM salesboard.inbound i "
	"WHERE i.id IN (SELECT $1::bigint "
	"  UNION ALL SELECT c.id FROM salesboard.inbound c WHERE c.external_ref = $2 "
	"  UNION ALL SELECT c.id FROM salesboard.inbound c WHERE c.thread_ref = $2 "
	"  UNION ALL SELECT c.id FROM salesboard.inbound c WHERE c.thread_ref = $3 "
	"  UNION ALL SELECT c.id FROM salesboard.inbound c WHERE c.external_ref = $3) "
	"AND (i.id = $1 OR ($4 = 'email' AND i.channel = 'email') OR i.source_id = $5) "
	"ORDER BY i.id FOR UPDATE OF i",
	5, {INT8OID, TEXTOID, TEXTOID, TEXTOID, INT8OID}, NULL
};

static SbQuery q_handle = {
	"UPDATE salesboard.inbound i SET status = $2, deal_id = $3, handled_at = pg_catalog.now(), handled_by = $4 "
	"WHERE i.id = ANY($1)",
	4, {INT8ARRAYOID, TEXTOID, INT8OID, INT8OID}, NULL
};

/*
 * Sorted unique ids (n of them) the session may see: else SB100 for the
 * first that is unknown or invisible, the same answer for both. Their
 * owners go to owners[] (n entries).
 */
static void
check_visible(const int64 *ids, int n, int64 *owners)
{
	Datum		v[1];
	uint64		k;
	int			i = 0;
	bool		isnull;

	v[0] = PointerGetDatum(sb_int8_array(ids, NULL, n));
	SPI_connect();
	sb_exec(&q_owners, v, NULL, false, 0);
	for (k = 0; k < SPI_processed && i < n; k++)
	{
		int64		id = sb_spi_int8(k, 1, &isnull);
		int64		owner = sb_spi_int8(k, 2, &isnull);

		if (id != ids[i] || !sb_can_access_owner(owner))
			break;
		owners[i++] = owner;
	}
	SPI_finish();
	if (i < n)
		unknown_request(ids[i]);
}

/*
 * Check the locked rows of the last statement: each of ids (sorted) must
 * still be new (SB102). The owners of the other rows still new (what will
 * follow onto the deal) go to *followers.
 */
static void
check_locked(const int64 *ids, int n, int64 **followers, int *nfollowers)
{
	uint64		k;
	int			i = 0;
	bool		isnull;

	if (followers != NULL)
	{
		*followers = palloc(sizeof(int64) * Max(SPI_processed, 1));
		*nfollowers = 0;
	}
	for (k = 0; k < SPI_processed; k++)
	{
		int64		id = sb_spi_int8(k, 1, &isnull);
		char	   *status = sb_spi_text(k, 2, CurrentMemoryContext);
		int64		deal = sb_spi_int8(k, 3, &isnull);
		bool		no_deal = isnull;

		while (i < n && ids[i] < id)
			i++;
		if (i < n && ids[i] == id)
		{
			if (strcmp(status, "new") != 0)
				handled_error(id, status, !no_deal, deal);
		}
		else if (followers != NULL && strcmp(status, "new") == 0)
			(*followers)[(*nfollowers)++] = sb_spi_int8(k, 4, &isnull);
	}
}

/* Lock the requests to dismiss; each must still be new (SB102). */
static void
lock_new(const int64 *ids, int n)
{
	Datum		v[1];

	v[0] = PointerGetDatum(sb_int8_array(ids, NULL, n));
	SPI_connect();
	sb_exec(&q_lock, v, NULL, false, 0);
	check_locked(ids, n, NULL, NULL);
	SPI_finish();
}

/* Lock a request to accept or link and what will follow it; it must be new. */
static void
lock_with_followers(const Request *r, int64 **followers, int *nfollowers)
{
	MemoryContext outer = CurrentMemoryContext;
	Datum		v[5];
	char		n[5] = {' ', ' ', ' ', ' ', ' '};

	v[0] = Int64GetDatum(r->id);
	v[1] = r->ref ? CStringGetTextDatum(r->ref) : (Datum) 0;
	n[1] = r->ref ? ' ' : 'n';
	v[2] = r->thread ? CStringGetTextDatum(r->thread) : (Datum) 0;
	n[2] = r->thread ? ' ' : 'n';
	v[3] = CStringGetTextDatum(r->channel);
	v[4] = Int64GetDatum(r->source_id);
	SPI_connect();
	sb_exec(&q_lock_followers, v, n, false, 0);
	{
		MemoryContext spi = MemoryContextSwitchTo(outer);

		check_locked(&r->id, 1, followers, nfollowers);
		MemoryContextSwitchTo(spi);
	}
	SPI_finish();
}

static void
handle(const int64 *ids, int n, const char *status, int64 deal, int64 me)
{
	Datum		v[4];
	char		nl[4] = {' ', ' ', ' ', ' '};

	v[0] = PointerGetDatum(sb_int8_array(ids, NULL, n));
	v[1] = CStringGetTextDatum(status);
	v[2] = Int64GetDatum(deal);
	nl[2] = deal ? ' ' : 'n';
	v[3] = Int64GetDatum(me);
	nl[3] = me ? ' ' : 'n';
	SPI_connect();
	sb_exec(&q_handle, v, nl, false, 0);
	SPI_finish();
}

/* dismiss_inbound(ids bigint[], request_id uuid) -> integer */
static Datum
dismiss_inbound_call(PG_FUNCTION_ARGS)
{
	int			n;
	int64	   *ids,
			   *owners;
	int64		me;
	pg_uuid_t  *request_id = sb_uuid_arg(fcinfo, 1);
	SbRequestAnswer answer;

	n = sb_id_array_arg(fcinfo, 0, "inbound request", "Pass the ids of requests of your Inbound column.", &ids);
	me = sb_require_employee();
	if (n == 0)
	{
		/* nothing to dismiss, but the request id is taken all the same */
		if (sb_request_claim(request_id, "dismiss_inbound", 0, &answer) && answer.count != 0)
			sb_request_reused(request_id);
		PG_RETURN_INT32(0);
	}
	owners = palloc(sizeof(int64) * n);
	check_visible(ids, n, owners);
	if (sb_request_claim(request_id, "dismiss_inbound", ids[0], &answer))
	{
		if (answer.count != n)
			sb_request_reused(request_id);
		PG_RETURN_INT32((int32) answer.count);
	}
	lock_new(ids, n);
	handle(ids, n, "dismissed", 0, me);
	answer.count = n;
	sb_request_answer(request_id, &answer);
	notify_inbound("dismissed", ids, n, owners, n, NULL, 0);
	PG_RETURN_INT32(n);
}

/* The one request of id, visible (SB100). */
static void
read_request(int64 id, Request *r)
{
	SbFetch		f;
	bool		isnull;
	Datum		v;

	sb_catalog();
	if (!sb_fetch_begin(&f, sb_cat.inbound, sb_cat.inbound_pkey, id, AccessShareLock, NULL))
	{
		sb_fetch_end(&f);
		unknown_request(id);
	}
	r->id = id;
	r->owner = sb_slot_int8(f.slot, INB(INB_OWNER_ID), &isnull);
	r->source_id = sb_slot_int8(f.slot, INB(INB_SOURCE_ID), &isnull);
	r->channel = TextDatumGetCString(slot_getattr(f.slot, INB(INB_CHANNEL), &isnull));
	r->sender = TextDatumGetCString(slot_getattr(f.slot, INB(INB_SENDER), &isnull));
	v = slot_getattr(f.slot, INB(INB_EXTERNAL_REF), &isnull);
	r->ref = isnull ? NULL : TextDatumGetCString(v);
	v = slot_getattr(f.slot, INB(INB_THREAD_REF), &isnull);
	r->thread = isnull ? NULL : TextDatumGetCString(v);
	sb_fetch_end(&f);
	if (!sb_can_access_owner(r->owner))
		unknown_request(id);
}

static SbQuery q_client_by_key = {
	"SELECT c.id FROM salesboard.client c WHERE pg_catalog.lower(c.email) = $1 OR c.phone_key = $1",
	1, {TEXTOID}, NULL
};

static SbQuery q_new_client = {
	"INSERT INTO salesboard.client (name, email, phone) VALUES ($1, $2, $3) RETURNING id",
	3, {TEXTOID, TEXTOID, TEXTOID}, NULL
};

/* what client.email accepts: one @ with something on each side, no spaces */
static bool
plain_address(const char *a)
{
	const char *at = strchr(a, '@');

	return at != NULL && at != a && at[1] != '\0' && strchr(at + 1, '@') == NULL &&
		strpbrk(a, " \t\r\n\f\v") == NULL;
}

/* "Anna B <anna@x>" -> "Anna B"; else NULL */
static char *
display_name(const char *sender)
{
	const char *lt = strrchr(sender, '<');
	char	   *name;

	if (lt == NULL || lt == sender)
		return NULL;
	name = pnstrdup(sender, lt - sender);
	name = TextDatumGetCString(DirectFunctionCall1(btrim1, CStringGetTextDatum(name)));
	if (name[0] == '"' && strlen(name) >= 2 && name[strlen(name) - 1] == '"')
		name = pnstrdup(name + 1, strlen(name) - 2);
	return sb_blank(name) ? NULL : name;
}

/*
 * The client of a new deal from a request: the one whose e-mail or phone
 * is the sender's (the lowest id when several), else a new client named
 * by the sender's display name (or the sender), with the contact the
 * channel gives.
 */
static int64
client_for(const char *channel, const char *sender)
{
	char	   *key = sb_sender_key(channel, sender);
	Datum		v[3];
	char		n[3] = {' ', 'n', 'n'};
	int64		id;
	char	   *name = display_name(sender);
	bool		is_email = strchr(key, '@') != NULL;
	uint64		k;

	SPI_connect();
	v[0] = CStringGetTextDatum(key);
	sb_exec(&q_client_by_key, v, NULL, false, 0);
	id = 0;
	for (k = 0; k < SPI_processed; k++)
	{
		bool		isnull;
		int64		c = sb_spi_int8(k, 1, &isnull);

		if (id == 0 || c < id)
			id = c;
	}
	if (id == 0)
	{
		char	   *trimmed = TextDatumGetCString(DirectFunctionCall1(btrim1, CStringGetTextDatum(sender)));

		v[0] = CStringGetTextDatum(clip(name ? name : trimmed, CLIENT_NAME_MAX));
		if (is_email && plain_address(key))
		{
			v[1] = CStringGetTextDatum(key);
			n[1] = ' ';
		}
		else if (key[0] == '+' && strspn(key + 1, "0123456789") == strlen(key + 1) && strlen(key) >= 5)
		{
			v[2] = CStringGetTextDatum(key);
			n[2] = ' ';
		}
		id = first_int8(&q_new_client, v, n);
	}
	SPI_finish();
	return id;
}

/* accept_inbound(inbound_id, stage_id, title, first_due, first_subject,
 *   client_id, service_type_id, amount, first_due_date, request_id) -> deal id */
static Datum
accept_inbound_call(PG_FUNCTION_ARGS)
{
	Request		r;
	int64		me;
	SbNewDeal	nd = {0};
	pg_uuid_t  *request_id = sb_uuid_arg(fcinfo, 9);
	SbRequestAnswer answer;
	int64	   *owners;
	int			nowners;

	sb_require_arg(fcinfo, 0, "inbound_id");
	sb_require_arg(fcinfo, 1, "stage_id");
	sb_require_arg(fcinfo, 2, "title");
	sb_require_arg(fcinfo, 4, "first_subject");
	me = sb_require_employee();
	read_request(PG_GETARG_INT64(0), &r);
	nd.owner_id = r.owner;
	nd.stage_id = PG_GETARG_INT64(1);
	nd.title = sb_text_arg(fcinfo, 2);
	nd.first_subject = sb_text_arg(fcinfo, 4);
	nd.first_kind = "interaction";
	nd.first_due = sb_due_args(fcinfo, 3, 8, r.owner, "first_due", "first_due_date", &nd.first_all_day);
	nd.has_service_type = !PG_ARGISNULL(6);
	nd.service_type_id = nd.has_service_type ? PG_GETARG_INT64(6) : 0;
	nd.has_amount = !PG_ARGISNULL(7);
	nd.amount = nd.has_amount ? PG_GETARG_DATUM(7) : (Datum) 0;
	nd.at = GetCurrentTransactionStartTimestamp();
	if (sb_request_claim(request_id, "accept_inbound", r.id, &answer))
		PG_RETURN_INT64(answer.deal_id);
	lock_with_followers(&r, &owners, &nowners);
	nd.has_client = true;
	nd.client_id = PG_ARGISNULL(5) ? client_for(r.channel, r.sender) : PG_GETARG_INT64(5);
	answer.deal_id = sb_deal_create(&nd);
	handle(&r.id, 1, "accepted", answer.deal_id, me);
	sb_request_answer(request_id, &answer);
	/* the Inbound columns the request and what followed it leave */
	owners = repalloc(owners, sizeof(int64) * (nowners + 1));
	owners[nowners++] = r.owner;
	notify_inbound("accepted", &r.id, 1, owners, nowners, &answer.deal_id, 1);
	PG_RETURN_INT64(answer.deal_id);
}

/* link_inbound(inbound_id, deal_id, request_id) */
static Datum
link_inbound_call(PG_FUNCTION_ARGS)
{
	Request		r;
	int64		me;
	SbDealRow	d;
	pg_uuid_t  *request_id = sb_uuid_arg(fcinfo, 2);
	SbRequestAnswer answer;
	int64		deal_id;
	int64	   *owners;
	int			nowners;

	sb_require_arg(fcinfo, 0, "inbound_id");
	sb_require_arg(fcinfo, 1, "deal_id");
	me = sb_require_employee();
	deal_id = PG_GETARG_INT64(1);
	read_request(PG_GETARG_INT64(0), &r);
	if (sb_request_claim(request_id, "link_inbound", r.id, &answer))
	{
		if (answer.deal_id != deal_id)
			sb_request_reused(request_id);
		PG_RETURN_VOID();
	}
	lock_with_followers(&r, &owners, &nowners);
	sb_open_deal_for_change(deal_id, &d);
	if (d.status != SB_OPEN)
		ereport(ERROR,
				(errcode(ERRCODE_SB_LINK_CLOSED_DEAL),
				 errmsg("deal " INT64_FORMAT " (%s) is %s: inbound request " INT64_FORMAT " can be linked only to an open deal",
						deal_id, sb_quote_short(d.title), d.status == SB_WON ? "won" : "lost", r.id),
				 errhint("Reopen the deal first (salesboard.reopen_deal()), or accept the request as a new deal.")));
	handle(&r.id, 1, "linked", deal_id, me);
	answer.deal_id = deal_id;
	sb_request_answer(request_id, &answer);
	owners = repalloc(owners, sizeof(int64) * (nowners + 2));
	owners[nowners++] = r.owner;
	owners[nowners++] = d.owner_id;
	notify_inbound("linked", &r.id, 1, owners, nowners, &deal_id, 1);
	PG_RETURN_VOID();
}

/* ------------------------------------------------------------------
 * Sources and their employees: nothing waiting is left with nobody.
 * ------------------------------------------------------------------ */
static SbQuery q_follow_owner = {
	"UPDATE salesboard.inbound i SET owner_id = $2 WHERE i.source_id = $1 AND i.status = 'new'",
	2, {INT8OID, INT8OID}, NULL
};

/*
 * AFTER UPDATE OF owner_id ON lead_source FOR EACH ROW: the requests of
 * the source still waiting move to the new responsible employee's Inbound
 * (those handled keep who had them).
 */
PG_FUNCTION_INFO_V1(sb_lead_source_owner_trigger);

Datum
sb_lead_source_owner_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *td = sb_trigger_call(fcinfo, "sb_lead_source_owner_trigger",
									  SB_TRIG_AFTER | SB_TRIG_ROW | SB_TRIG_UPDATE);
	TupleDesc	desc = RelationGetDescr(td->tg_relation);
	bool		isnull;
	Datum		v[2];

	if (sb_restoring())
		return sb_trigger_pass(td);
	sb_catalog();
	if (!sb_col_changed(td->tg_trigtuple, td->tg_newtuple, desc, sb_cat.lead_source_att[SRC_OWNER_ID]))
		return PointerGetDatum(NULL);
	v[0] = heap_getattr(td->tg_newtuple, sb_cat.lead_source_att[SRC_ID], desc, &isnull);
	v[1] = heap_getattr(td->tg_newtuple, sb_cat.lead_source_att[SRC_OWNER_ID], desc, &isnull);
	SPI_connect();
	sb_exec(&q_follow_owner, v, NULL, false, 0);
	SPI_finish();
	return PointerGetDatum(NULL);
}

/*
 * BEFORE INSERT OR UPDATE OF owner_id, active ON lead_source FOR EACH ROW:
 * an active source is read by an active employee (SB040), so nothing
 * lands in the Inbound of someone who has left.
 */
PG_FUNCTION_INFO_V1(sb_lead_source_rules_trigger);

Datum
sb_lead_source_rules_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *td = sb_trigger_call(fcinfo, "sb_lead_source_rules_trigger",
									  SB_TRIG_BEFORE | SB_TRIG_ROW | SB_TRIG_NO_DELETE);
	TupleDesc	desc = RelationGetDescr(td->tg_relation);
	HeapTuple	t = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : td->tg_trigtuple;
	bool		isnull;
	Datum		active;
	Datum		owner;

	if (sb_restoring())
		return sb_trigger_pass(td);
	sb_catalog();
	active = heap_getattr(t, sb_cat.lead_source_att[SRC_ACTIVE], desc, &isnull);
	if (isnull || !DatumGetBool(active))
		return PointerGetDatum(t);
	owner = heap_getattr(t, sb_cat.lead_source_att[SRC_OWNER_ID], desc, &isnull);
	if (!isnull)
		sb_require_active(sb_employee(DatumGetInt64(owner)), "no active lead source can be theirs");
	return PointerGetDatum(t);
}

static SbQuery q_inbound_work = {
	"SELECT (SELECT pg_catalog.count(*) FROM salesboard.lead_source s WHERE s.owner_id = $1 AND s.active), "
	"       (SELECT pg_catalog.count(*) FROM salesboard.inbound i WHERE i.owner_id = $1 AND i.status = 'new')",
	1, {INT8OID}, NULL
};

/*
 * BEFORE UPDATE OF active ON employee FOR EACH ROW WHEN (OLD.active AND
 * NOT NEW.active): someone who leaves hands over their lead sources and
 * their waiting requests first (SB042, as for open deals).
 */
PG_FUNCTION_INFO_V1(sb_inbound_leaver_trigger);

Datum
sb_inbound_leaver_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *td = sb_trigger_call(fcinfo, "sb_inbound_leaver_trigger",
									  SB_TRIG_BEFORE | SB_TRIG_ROW | SB_TRIG_UPDATE);
	bool		isnull;
	Datum		v[1];
	int64		sources,
				waiting;

	if (sb_restoring())
		return sb_trigger_pass(td);
	sb_catalog();
	v[0] = heap_getattr(td->tg_newtuple, sb_cat.employee_att[EMP_ID], RelationGetDescr(td->tg_relation), &isnull);
	SPI_connect();
	sb_exec(&q_inbound_work, v, NULL, true, 1);
	sources = sb_spi_int8(0, 1, &isnull);
	waiting = sb_spi_int8(0, 2, &isnull);
	SPI_finish();
	if (sources > 0 || waiting > 0)
		ereport(ERROR,
				(errcode(ERRCODE_SB_EMPLOYEE_HAS_WORK),
				 errmsg("employee " INT64_FORMAT " is still responsible for " INT64_FORMAT " active lead source(s) and " INT64_FORMAT " waiting inbound request(s)",
						DatumGetInt64(v[0]), sources, waiting),
				 errdetail("Requests from a source nobody reads would wait for ever."),
				 errhint("Give the lead sources another employee (UPDATE salesboard.lead_source SET owner_id = ...; their waiting requests follow) or deactivate them, then let the employee leave.")));
	return PointerGetDatum(td->tg_newtuple);
}

Datum
sb_receive_inbound(PG_FUNCTION_ARGS)
{
	return inbound_api_call(receive_inbound_call, fcinfo);
}

Datum
sb_dismiss_inbound(PG_FUNCTION_ARGS)
{
	return inbound_api_call(dismiss_inbound_call, fcinfo);
}

Datum
sb_accept_inbound(PG_FUNCTION_ARGS)
{
	return inbound_api_call(accept_inbound_call, fcinfo);
}

Datum
sb_link_inbound(PG_FUNCTION_ARGS)
{
	return inbound_api_call(link_inbound_call, fcinfo);
}
