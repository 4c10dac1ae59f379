/*
 * board.c: the board (SPEC 2.1-2.9): board(), deal_list(), board_text().
 *
 * A board is read, not searched. For each owner on it (the employee, and
 * for a department head everyone below) one range scan of deal_board_idx
 * (owner_id, next_due, id) WHERE status = 'open' runs from the oldest
 * overdue card up to the end of the horizon in that owner's own calendar,
 * and stops there. The scans are merged in due order with a binary heap,
 * so the cost follows the number of cards on the board, not the size of
 * the table. Won and Lost show the deals closed in the last closed_days
 * local days (deal_closed_idx). Filters (client, service type, tags that
 * a card must all carry) are applied while the scans advance. Cards are
 * then laid out by column (stage order, Won, Lost) keeping due order, or,
 * with overdue_last, planned cards first and overdue ones after.
 *
 * Horizons, in the owner's local calendar days (today = the day `at`
 * falls on): 'today' = overdue and due before the next local midnight;
 * '3 days' = before the midnight that ends the day after tomorrow;
 * 'week' = before today + 7 days; 'month' = before the same day next month
 * (clamped to the month's end).
 *
 * The functions read the tables directly, bypassing row-level security,
 * and enforce the same rule themselves: a board can be read by its
 * employee, by a department head above them and by administrators.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/binaryheap.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "salesboard.h"

PG_FUNCTION_INFO_V1(sb_board);
PG_FUNCTION_INFO_V1(sb_deal_list);
PG_FUNCTION_INFO_V1(sb_board_text);

typedef enum Horizon
{
	H_TODAY, H_3DAYS, H_WEEK, H_MONTH, H_NONE
} Horizon;

typedef struct BoardArgs
{
	int64		employee_id;
	Horizon		horizon;
	bool		overdue_last;
	bool		by_client;
	int64		client_id;
	bool		by_service_type;
	int64		service_type_id;
	int64	   *tag_ids;
	int			ntags;
	bool		subordinates;
	TimestampTz at;
	int			closed_days;
	bool		list_mode;
} BoardArgs;

typedef struct Card
{
	int64		deal_id;
	int64		owner_id;
	int64		client_id;
	int64		service_type_id;
	bool		has_client;
	bool		has_service_type;
	int64		next_activity_id;
	const SbStage *st;
	char	   *title;
	bool		amount_null;
	Datum		amount;
	bool		currency_null;
	Datum		currency;
	bool		has_next;
	TimestampTz next_due;
	bool		priority;
	bool		closed;
	TimestampTz closed_at;
	char		colour;
	int			seq;			/* position in due order (or closed order) */
	bool		late;			/* overdue, for overdue_last */
} Card;

typedef struct CardList
{
	Card	   *cards;
	int			n;
	int			max;
} CardList;

/* The relations a board read keeps open. */
typedef struct BoardRels
{
	Relation	deal,
				board_idx,
				closed_idx,
				deal_tag,
				deal_tag_pkey;
	Snapshot	snap;
	TupleTableSlot *tslot;
} BoardRels;

static void
open_rels(BoardRels *r)
{
	sb_catalog();
	r->snap = GetActiveSnapshot();
	r->deal = table_open(sb_cat.deal, AccessShareLock);
	r->board_idx = index_open(sb_cat.deal_board_idx, AccessShareLock);
	r->closed_idx = index_open(sb_cat.deal_closed_idx, AccessShareLock);
	r->deal_tag = table_open(sb_cat.deal_tag, AccessShareLock);
	r->deal_tag_pkey = index_open(sb_cat.deal_tag_pkey, AccessShareLock);
	r->tslot = table_slot_create(r->deal_tag, NULL);
}

static void
close_rels(BoardRels *r)
{
	ExecDropSingleTupleTableSlot(r->tslot);
	index_close(r->deal_tag_pkey, NoLock);
	table_close(r->deal_tag, NoLock);
	index_close(r->closed_idx, NoLock);
	index_close(r->board_idx, NoLock);
	table_close(r->deal, NoLock);
}

/* Does the deal carry every tag asked for? One probe of deal_tag's key each. */
static bool
has_tags(BoardRels *r, int64 deal_id, const BoardArgs *a)
{
	int			i;

	for (i = 0; i < a->ntags; i++)
	{
		ScanKeyData keys[2];
		IndexScanDesc scan;
		bool		found;

		ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(deal_id));
		ScanKeyInit(&keys[1], 2, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(a->tag_ids[i]));
		scan = index_beginscan(r->deal_tag, r->deal_tag_pkey, r->snap, 2, 0);
		index_rescan(scan, keys, 2, NULL, 0);
		found = index_getnext_slot(scan, ForwardScanDirection, r->tslot);
		index_endscan(scan);
		if (!found)
			return false;
	}
	return true;
}

static bool
passes_filters(BoardRels *r, const SbDealRow *d, const BoardArgs *a)
{
	if (a->by_client && (!d->has_client || d->client_id != a->client_id))
		return false;
	if (a->by_service_type && (!d->has_service_type || d->service_type_id != a->service_type_id))
		return false;
	if (a->ntags > 0 && !has_tags(r, d->id, a))
		return false;
	return true;
}

static void
card_from_deal(Card *c, const SbDealRow *d, const BoardArgs *a)
{
	const SbEmployee *emp = sb_employee(d->owner_id);

	c->deal_id = d->id;
	c->owner_id = d->owner_id;
	c->client_id = d->client_id;
	c->service_type_id = d->service_type_id;
	c->has_client = d->has_client;
	c->has_service_type = d->has_service_type;
	c->next_activity_id = d->next_activity_id;
	c->st = sb_stage(d->stage_id);
	c->title = d->title;
	c->amount_null = d->amount_null;
	c->amount = d->amount;
	c->currency_null = d->currency_null;
	c->currency = d->currency;
	c->has_next = d->has_next && d->status == 'o';
	c->next_due = d->next_due;
	c->priority = d->priority;
	c->closed = d->status != 'o';
	c->closed_at = d->closed_at;
	c->colour = sb_colour(c->has_next, c->next_due, emp ? emp->tz : NULL, a->at);
	c->late = c->has_next && c->next_due < a->at;
}

static void
add_card(CardList *l, const Card *c)
{
	if (l->n == l->max)
	{
		l->max = Max(64, l->max * 2);
		l->cards = l->cards == NULL ? palloc(sizeof(Card) * l->max)
			: repalloc(l->cards, sizeof(Card) * l->max);
	}
	l->cards[l->n] = *c;
	l->cards[l->n].seq = l->n;
	l->n++;
}

/* ------------------------------------------------------------------
 * Open cards: one range scan per owner, merged in due order
 * ------------------------------------------------------------------ */
typedef struct OwnerScan
{
	IndexScanDesc scan;
	TupleTableSlot *slot;
	SbDealRow	row;
	bool		live;
} OwnerScan;

/* Move one owner's scan to its next card that passes the filters. */
static void
advance(BoardRels *r, OwnerScan *os, const BoardArgs *a)
{
	while (index_getnext_slot(os->scan, ForwardScanDirection, os->slot))
	{
		sb_deal_from_slot(os->slot, &os->row);
		if (os->row.status != 'o')
			continue;
		if (passes_filters(r, &os->row, a))
			return;
	}
	os->live = false;
}

static int
cmp_scans(Datum a, Datum b, void *arg)
{
	OwnerScan  *x = (OwnerScan *) DatumGetPointer(a);
	OwnerScan  *y = (OwnerScan *) DatumGetPointer(b);

	/* binaryheap keeps the largest on top: invert for earliest first */
	if (x->row.has_next != y->row.has_next)
		return x->row.has_next ? 1 : -1;
	if (x->row.next_due != y->row.next_due)
		return x->row.next_due < y->row.next_due ? 1 : -1;
	if (x->row.id != y->row.id)
		return x->row.id < y->row.id ? 1 : -1;
	return 0;
}

/* End of the horizon for an owner, in their own calendar. */
static TimestampTz
horizon_end(Horizon h, pg_tz *tz, TimestampTz at)
{
	DateADT		today = sb_local_date(at, tz);

	switch (h)
	{
		case H_TODAY:
			return sb_local_midnight(today + 1, tz);
		case H_3DAYS:
			return sb_local_midnight(today + 3, tz);
		case H_WEEK:
			return sb_local_midnight(today + 7, tz);
		case H_MONTH:
			return sb_local_midnight(sb_date_add_months(today, 1), tz);
		default:
			return DT_NOEND;
	}
}

static void
collect_open(BoardRels *r, const int64 *owners, int nowners, const BoardArgs *a, CardList *out)
{
	OwnerScan  *scans = palloc0(sizeof(OwnerScan) * nowners);
	binaryheap *heap = binaryheap_allocate(Max(nowners, 1), cmp_scans, NULL);
	int			i;

	for (i = 0; i < nowners; i++)
	{
		const SbEmployee *emp = sb_employee(owners[i]);
		ScanKeyData keys[2];
		int			nkeys = 1;
		OwnerScan  *os = &scans[i];

		if (emp == NULL)
			continue;
		ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(owners[i]));
		if (a->horizon != H_NONE)
		{
			ScanKeyInit(&keys[1], 2, BTLessStrategyNumber, F_TIMESTAMPTZ_LT,
						TimestampTzGetDatum(horizon_end(a->horizon, emp->tz, a->at)));
			nkeys = 2;
		}
		os->slot = table_slot_create(r->deal, NULL);
		os->scan = index_beginscan(r->deal, r->board_idx, r->snap, nkeys, 0);
		index_rescan(os->scan, keys, nkeys, NULL, 0);
		os->live = true;
		advance(r, os, a);
		if (os->live)
			binaryheap_add_unordered(heap, PointerGetDatum(os));
	}
	binaryheap_build(heap);
	while (!binaryheap_empty(heap))
	{
		OwnerScan  *os = (OwnerScan *) DatumGetPointer(binaryheap_first(heap));
		Card		c;

		card_from_deal(&c, &os->row, a);
		add_card(out, &c);
		advance(r, os, a);
		if (os->live)
			binaryheap_replace_first(heap, PointerGetDatum(os));
		else
			(void) binaryheap_remove_first(heap);
	}
	for (i = 0; i < nowners; i++)
	{
		if (scans[i].scan != NULL)
			index_endscan(scans[i].scan);
		if (scans[i].slot != NULL)
			ExecDropSingleTupleTableSlot(scans[i].slot);
	}
	binaryheap_free(heap);
	pfree(scans);
}

/* Won and Lost: deals closed in the last closed_days local days. */
static void
collect_closed(BoardRels *r, const int64 *owners, int nowners, const BoardArgs *a, CardList *out)
{
	TupleTableSlot *slot;
	int			i;

	if (a->closed_days <= 0)
		return;
	slot = table_slot_create(r->deal, NULL);
	for (i = 0; i < nowners; i++)
	{
		const SbEmployee *emp = sb_employee(owners[i]);
		ScanKeyData keys[2];
		IndexScanDesc scan;
		TimestampTz since;

		if (emp == NULL)
			continue;
		since = sb_local_midnight(sb_local_date(a->at, emp->tz) - (a->closed_days - 1), emp->tz);
		ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(owners[i]));
		ScanKeyInit(&keys[1], 2, BTGreaterEqualStrategyNumber, F_TIMESTAMPTZ_GE,
					TimestampTzGetDatum(since));
		scan = index_beginscan(r->deal, r->closed_idx, r->snap, 2, 0);
		index_rescan(scan, keys, 2, NULL, 0);
		while (index_getnext_slot(scan, ForwardScanDirection, slot))
		{
			SbDealRow	d;
			Card		c;

			sb_deal_from_slot(slot, &d);
			if (d.status == 'o' || d.closed_at > a->at || !passes_filters(r, &d, a))
				continue;
			card_from_deal(&c, &d, a);
			add_card(out, &c);
		}
		index_endscan(scan);
	}
	ExecDropSingleTupleTableSlot(slot);
}

/* Layout order: pipeline, column, (overdue_last: planned first), due order. */
static bool sort_overdue_last;

static int
cmp_layout(const void *a, const void *b)
{
	const Card *x = (const Card *) a;
	const Card *y = (const Card *) b;

	if (x->st->pipeline_id != y->st->pipeline_id)
		return x->st->pipeline_id < y->st->pipeline_id ? -1 : 1;
	if (x->st->column != y->st->column)
		return x->st->column < y->st->column ? -1 : 1;
	if (x->closed && y->closed)
	{
		/* most recently closed first */
		if (x->closed_at != y->closed_at)
			return x->closed_at > y->closed_at ? -1 : 1;
		return x->deal_id < y->deal_id ? -1 : (x->deal_id > y->deal_id ? 1 : 0);
	}
	if (sort_overdue_last && x->late != y->late)
		return x->late ? 1 : -1;
	return x->seq < y->seq ? -1 : (x->seq > y->seq ? 1 : 0);
}

/* ------------------------------------------------------------------
 * Arguments
 * ------------------------------------------------------------------ */
static Horizon
parse_horizon(const char *h)
{
	if (h == NULL)
		return H_TODAY;
	if (pg_strcasecmp(h, "today") == 0)
		return H_TODAY;
	if (pg_strcasecmp(h, "3 days") == 0 || pg_strcasecmp(h, "3days") == 0)
		return H_3DAYS;
	if (pg_strcasecmp(h, "week") == 0)
		return H_WEEK;
	if (pg_strcasecmp(h, "month") == 0)
		return H_MONTH;
	ereport(ERROR,
			(errcode(ERRCODE_SB_BAD_HORIZON),
			 errmsg("horizon \"%s\" is not known", h),
			 errhint("Use 'today', '3 days', 'week' or 'month'.")));
	return H_TODAY;
}

static int64
employee_arg(FunctionCallInfo fcinfo, int argno)
{
	int64		emp;

	if (PG_ARGISNULL(argno))
	{
		emp = sb_current_employee();
		if (emp == 0)
			ereport(ERROR,
					(errcode(ERRCODE_SB_NO_EMPLOYEE),
					 errmsg("role \"%s\" is not an employee", GetUserNameFromId(GetUserId(), false)),
					 errhint("Pass employee_id, set employee.role_name for this role, or call salesboard.set_employee() first.")));
	}
	else
		emp = PG_GETARG_INT64(argno);
	if (sb_employee(emp) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_SB_UNKNOWN_EMPLOYEE),
				 errmsg("employee " INT64_FORMAT " does not exist", emp),
				 errhint("Pass the id of a row of salesboard.employee.")));
	if (!sb_can_access_owner(emp))
		ereport(ERROR,
				(errcode(ERRCODE_SB_ACCESS),
				 errmsg("you may not see the board of employee " INT64_FORMAT, emp),
				 errdetail("A board is shown to its employee, to the heads of the departments above them and to administrators."),
				 errhint("Ask for your own board, or a subordinate's.")));
	return emp;
}

/*
 * board(employee_id, horizon, overdue_last, client_id, service_type_id,
 *       tags, subordinates, at, closed_days)
 * deal_list(employee_id, client_id, service_type_id, tags, subordinates, at)
 */
static void
board_args(FunctionCallInfo fcinfo, BoardArgs *a, bool list_mode)
{
	int			base = list_mode ? -2 : 0;	/* deal_list has no horizon, overdue_last */

	memset(a, 0, sizeof(*a));
	sb_catalog();
	a->list_mode = list_mode;
	a->employee_id = employee_arg(fcinfo, 0);
	if (list_mode)
	{
		a->horizon = H_NONE;
		a->overdue_last = false;
	}
	else
	{
		a->horizon = parse_horizon(PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1)));
		a->overdue_last = !PG_ARGISNULL(2) && PG_GETARG_BOOL(2);
	}
	a->by_client = !PG_ARGISNULL(base + 3);
	a->client_id = a->by_client ? PG_GETARG_INT64(base + 3) : 0;
	a->by_service_type = !PG_ARGISNULL(base + 4);
	a->service_type_id = a->by_service_type ? PG_GETARG_INT64(base + 4) : 0;
	if (a->by_client && !sb_row_exists(sb_cat.client, sb_cat.client_pkey, a->client_id))
		ereport(ERROR,
				(errcode(ERRCODE_SB_UNKNOWN_CLIENT),
				 errmsg("client " INT64_FORMAT " does not exist", a->client_id),
				 errhint("Filter by the id of a row of salesboard.client.")));
	if (a->by_service_type &&
		!sb_row_exists(sb_cat.service_type, sb_cat.service_type_pkey, a->service_type_id))
		ereport(ERROR,
				(errcode(ERRCODE_SB_UNKNOWN_SERVICE_TYPE),
				 errmsg("service type " INT64_FORMAT " does not exist", a->service_type_id),
				 errhint("Filter by the id of a row of salesboard.service_type.")));
	a->ntags = sb_tag_ids(PG_ARGISNULL(base + 5) ? NULL : PG_GETARG_ARRAYTYPE_P(base + 5),
						  &a->tag_ids, "Filter by the names of rows of salesboard.tag.");
	a->subordinates = PG_ARGISNULL(base + 6) ? true : PG_GETARG_BOOL(base + 6);
	sb_require_arg(fcinfo, base + 7, "at");
	a->at = PG_GETARG_TIMESTAMPTZ(base + 7);
	if (list_mode)
		a->closed_days = 0;
	else
	{
		a->closed_days = PG_ARGISNULL(8) ? sb_closed_days : PG_GETARG_INT32(8);
		if (a->closed_days < 0)
			ereport(ERROR,
					(errcode(ERRCODE_SB_BAD_VALUE),
					 errmsg("closed_days must be 0 or more, not %d", a->closed_days),
					 errhint("Pass how many local days back Won and Lost look; 0 hides them.")));
	}
}

/*
 * Build the cards of a board, laid out in output order; the owners whose
 * cards it holds go to *owners_out when asked.
 */
static CardList
build_board(const BoardArgs *a, int64 **owners_out, int *nowners_out)
{
	BoardRels	r;
	CardList	cards = {0};
	int64	   *owners;
	int			nowners;

	if (a->subordinates)
		owners = sb_subtree_employees(a->employee_id, &nowners);
	else
	{
		owners = palloc(sizeof(int64));
		owners[0] = a->employee_id;
		nowners = 1;
	}
	open_rels(&r);
	collect_open(&r, owners, nowners, a, &cards);
	collect_closed(&r, owners, nowners, a, &cards);
	close_rels(&r);
	if (!a->list_mode && cards.n > 1)
	{
		sort_overdue_last = a->overdue_last;
		qsort(cards.cards, cards.n, sizeof(Card), cmp_layout);
	}
	if (owners_out != NULL)
	{
		*owners_out = owners;
		*nowners_out = nowners;
	}
	return cards;
}

/* ------------------------------------------------------------------
 * Names for the output: client, service type, next activity
 * ------------------------------------------------------------------ */
typedef struct Names
{
	Relation	client,
				service_type,
				activity;
	SbProbe		clients_by_id,
				services_by_id,
				activities_by_id;
	HTAB	   *clients;
	HTAB	   *services;
} Names;

typedef struct NameEntry
{
	int64		id;
	char	   *name;
} NameEntry;

/* One probe per relation, each an index scan kept open and re-keyed per card. */
static void
names_open(Names *n)
{
	HASHCTL		ctl;
	Snapshot	snap = GetActiveSnapshot();

	n->client = table_open(sb_cat.client, AccessShareLock);
	n->service_type = table_open(sb_cat.service_type, AccessShareLock);
	n->activity = table_open(sb_cat.activity, AccessShareLock);
	sb_probe_begin(&n->clients_by_id, n->client, sb_cat.client_pkey, snap);
	sb_probe_begin(&n->services_by_id, n->service_type, sb_cat.service_type_pkey, snap);
	sb_probe_begin(&n->activities_by_id, n->activity, sb_cat.activity_pkey, snap);
	ctl.keysize = sizeof(int64);
	ctl.entrysize = sizeof(NameEntry);
	ctl.hcxt = CurrentMemoryContext;
	n->clients = hash_create("salesboard board clients", 64, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	n->services = hash_create("salesboard board services", 16, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

static void
names_close(Names *n)
{
	sb_probe_end(&n->clients_by_id);
	sb_probe_end(&n->services_by_id);
	sb_probe_end(&n->activities_by_id);
	table_close(n->activity, NoLock);
	table_close(n->service_type, NoLock);
	table_close(n->client, NoLock);
}

/* The name (column 2) of a row found by primary key, cached per call. */
static char *
lookup_name(HTAB *cache, SbProbe *probe, int64 id)
{
	bool		found;
	NameEntry  *e;

	e = hash_search(cache, &id, HASH_ENTER, &found);
	if (!found)
	{
		TupleTableSlot *slot = sb_probe(probe, id);
		bool		isnull;

		e->name = NULL;
		if (slot != NULL)
		{
			Datum		v = slot_getattr(slot, 2, &isnull);

			if (!isnull)
				e->name = TextDatumGetCString(v);
		}
	}
	return e->name;
}

/* ------------------------------------------------------------------
 * board() and deal_list(): SQL results
 * ------------------------------------------------------------------ */
#define BOARD_NCOLS 21

static void
emit_cards(FunctionCallInfo fcinfo, CardList *cards, bool list_mode)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Names		n;
	int			i,
				rank = 0;
	int64		prev_pipeline = -1;
	int			prev_column = -1;

	InitMaterializedSRF(fcinfo, 0);
	names_open(&n);
	for (i = 0; i < cards->n; i++)
	{
		Card	   *c = &cards->cards[i];
		Datum		v[BOARD_NCOLS];
		bool		nulls[BOARD_NCOLS] = {0};
		char	   *client = c->has_client ? lookup_name(n.clients, &n.clients_by_id, c->client_id) : NULL;
		char	   *service = c->has_service_type ? lookup_name(n.services, &n.services_by_id, c->service_type_id) : NULL;
		TupleTableSlot *aslot;
		bool		isnull;

		if (c->st == NULL)
			continue;			/* a stage deleted under us */
		if (list_mode || c->st->pipeline_id != prev_pipeline || c->st->column != prev_column)
			rank = list_mode ? rank : 0;
		prev_pipeline = c->st->pipeline_id;
		prev_column = c->st->column;
		rank++;

		v[0] = Int32GetDatum(c->st->column);
		v[1] = CStringGetTextDatum(c->st->kind == 'w' ? "won" : c->st->kind == 'l' ? "lost" : "stage");
		v[2] = Int64GetDatum(c->st->id);
		v[3] = CStringGetTextDatum(c->st->name);
		v[4] = Int64GetDatum(c->deal_id);
		v[5] = CStringGetTextDatum(c->title);
		v[6] = client ? CStringGetTextDatum(client) : (Datum) 0;
		nulls[6] = client == NULL;
		v[7] = service ? CStringGetTextDatum(service) : (Datum) 0;
		nulls[7] = service == NULL;
		v[8] = c->amount;
		nulls[8] = c->amount_null;
		v[9] = TimestampTzGetDatum(c->next_due);
		nulls[9] = !c->has_next;
		nulls[10] = nulls[17] = true;
		if (c->has_next && c->next_activity_id != 0 &&
			(aslot = sb_probe(&n.activities_by_id, c->next_activity_id)) != NULL)
		{
			v[10] = slot_getattr(aslot, sb_cat.act_att[ACT_SUBJECT], &isnull);
			nulls[10] = isnull;
			v[17] = slot_getattr(aslot, sb_cat.act_att[ACT_KIND], &isnull);
			nulls[17] = isnull;
		}
		v[11] = CStringGetTextDatum(sb_colour_name(c->colour));
		v[12] = BoolGetDatum(c->priority);
		v[13] = Int64GetDatum(c->owner_id);
		v[14] = Int32GetDatum(rank);
		v[15] = Int64GetDatum(c->st->pipeline_id);
		v[16] = c->currency;
		nulls[16] = c->currency_null;
		v[18] = TimestampTzGetDatum(c->closed_at);
		nulls[18] = !c->closed;
		v[19] = Int64GetDatum(c->client_id);
		nulls[19] = !c->has_client;
		v[20] = Int64GetDatum(c->service_type_id);
		nulls[20] = !c->has_service_type;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nulls);
	}
	names_close(&n);
}

Datum
sb_board(PG_FUNCTION_ARGS)
{
	BoardArgs	a;
	CardList	cards;

	board_args(fcinfo, &a, false);
	cards = build_board(&a, NULL, NULL);
	emit_cards(fcinfo, &cards, false);
	return (Datum) 0;
}

Datum
sb_deal_list(PG_FUNCTION_ARGS)
{
	BoardArgs	a;
	CardList	cards;

	board_args(fcinfo, &a, true);
	cards = build_board(&a, NULL, NULL);
	emit_cards(fcinfo, &cards, true);
	return (Datum) 0;
}

/* ------------------------------------------------------------------
 * board_text(): the board drawn as columns for psql
 * ------------------------------------------------------------------ */

/* Append s to buf, cut or padded to exactly width display columns. */
static void
append_cell(StringInfo buf, const char *s, int width)
{
	int			used = 0;
	const char *p = s;

	while (*p && used < width)
	{
		int			len = pg_mblen(p);
		int			w = pg_dsplen(p);

		if (used + w > width)
			break;
		appendBinaryStringInfo(buf, p, len);
		used += w;
		p += len;
	}
	if (*p && used > 0)
	{
		/* mark the cut with '~' in the last column */
		buf->len -= 1;
		buf->data[buf->len] = '\0';
		appendStringInfoChar(buf, '~');
	}
	for (; used < width; used++)
		appendStringInfoChar(buf, ' ');
}

typedef struct Column
{
	const SbStage *st;
	StringInfoData *lines;
	int			n;
	int			max;
} Column;

static void
column_add(Column *c, const char *line)
{
	if (c->n == c->max)
	{
		c->max = Max(8, c->max * 2);
		c->lines = c->lines == NULL ? palloc(sizeof(StringInfoData) * c->max)
			: repalloc(c->lines, sizeof(StringInfoData) * c->max);
	}
	initStringInfo(&c->lines[c->n]);
	appendStringInfoString(&c->lines[c->n], line);
	c->n++;
}

static SbQuery q_inbound = {
	"SELECT channel, sender, coalesce(subject, '') FROM salesboard.inbound "
	"WHERE status = 'new' AND owner_id = ANY($1) ORDER BY received_at, id LIMIT 200",
	1, {INT8ARRAYOID}, NULL
};

static SbQuery q_pipeline_name = {
	"SELECT name FROM salesboard.pipeline WHERE id = $1",
	1, {INT8OID}, NULL
};

static char *
pipeline_name(int64 id)
{
	MemoryContext outer = CurrentMemoryContext;
	Datum		v[1] = {Int64GetDatum(id)};
	char	   *name = NULL;

	SPI_connect();
	sb_exec(&q_pipeline_name, v, NULL, true, 1);
	if (SPI_processed == 1)
	{
		char	   *n = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

		name = MemoryContextStrdup(outer, n ? n : "");
	}
	SPI_finish();
	return name ? name : psprintf(INT64_FORMAT, id);
}

/* board_text(employee_id, horizon, overdue_last, client_id, service_type_id, tags, subordinates, at, closed_days, width) */
Datum
sb_board_text(PG_FUNCTION_ARGS)
{
	BoardArgs	a;
	CardList	cards;
	StringInfoData out;
	int			width = PG_ARGISNULL(9) ? 26 : PG_GETARG_INT32(9);
	int64		pipeline = -1;
	int			i;
	int64	   *owners;
	int			nowners;
	bool		first_block = true;
	int			first_col;

	if (width < 12 || width > 200)
		ereport(ERROR,
				(errcode(ERRCODE_SB_BAD_VALUE),
				 errmsg("column width %d is out of range", width),
				 errhint("Pass a width between 12 and 200.")));
	board_args(fcinfo, &a, false);
	cards = build_board(&a, &owners, &nowners);
	initStringInfo(&out);
	appendStringInfo(&out, "Board of %s%s, horizon %s, at %s\n",
					 sb_employee(a.employee_id)->name,
					 a.subordinates && nowners > 1 ? " and team" : "",
					 a.horizon == H_TODAY ? "today" : a.horizon == H_3DAYS ? "3 days" :
					 a.horizon == H_WEEK ? "week" : "month",
					 timestamptz_to_str(a.at));
	appendStringInfoString(&out, "R overdue, Y due today, G later, ! priority; dates are the owner's local dates\n");

	/* the pipelines to draw: those with cards, else the first one */
	for (;;)
	{
		int64		next = -1;
		int			nst,
					ncols,
					c,
					row,
					maxrows = 0;
		const SbStage **stages;
		Column	   *cols;

		for (i = 0; i < cards.n; i++)
			if (cards.cards[i].st != NULL && cards.cards[i].st->pipeline_id > pipeline &&
				(next == -1 || cards.cards[i].st->pipeline_id < next))
				next = cards.cards[i].st->pipeline_id;
		if (next == -1 && pipeline == -1)
			next = sb_first_pipeline();	/* no cards: draw empty columns */
		if (next == -1)
			break;
		pipeline = next;
		stages = sb_pipeline_stages(pipeline, &nst);
		ncols = nst + 1;
		cols = palloc0(sizeof(Column) * ncols);
		for (c = 0; c < nst; c++)
			cols[c + 1].st = stages[c];

		/* the Inbound column (first block only): new requests for the people on this board */
		first_col = first_block ? 0 : 1;
		appendStringInfo(&out, "\nPipeline \"%s\"\n", pipeline_name(pipeline));
		if (first_block)
		{
			Datum		v[1];
			uint64		k;
			MemoryContext outer = CurrentMemoryContext;

			v[0] = PointerGetDatum(sb_int8_array(owners, NULL, nowners));

			SPI_connect();
			sb_exec(&q_inbound, v, NULL, true, 0);
			for (k = 0; k < SPI_processed; k++)
			{
				HeapTuple	t = SPI_tuptable->vals[k];
				TupleDesc	td = SPI_tuptable->tupdesc;
				MemoryContext spi = MemoryContextSwitchTo(outer);

				column_add(&cols[0], psprintf("%s %s: %s", SPI_getvalue(t, td, 1),
											  SPI_getvalue(t, td, 2), SPI_getvalue(t, td, 3)));
				MemoryContextSwitchTo(spi);
			}
			SPI_finish();
		}

		for (i = 0; i < cards.n; i++)
		{
			Card	   *cd = &cards.cards[i];
			const SbEmployee *emp;
			DateADT		d;
			int			y,
						m,
						dd;
			char	   *line;

			if (cd->st == NULL || cd->st->pipeline_id != pipeline)
				continue;
			emp = sb_employee(cd->owner_id);
			if (cd->closed)
			{
				d = sb_local_date(cd->closed_at, emp->tz);
				j2date(d + POSTGRES_EPOCH_JDATE, &y, &m, &dd);
				line = psprintf("%c%c %02d.%02d %s", cd->st->kind == 'w' ? '+' : '-',
								cd->priority ? '!' : ' ', dd, m, cd->title);
			}
			else if (cd->has_next)
			{
				d = sb_local_date(cd->next_due, emp->tz);
				j2date(d + POSTGRES_EPOCH_JDATE, &y, &m, &dd);
				line = psprintf("%c%c %02d.%02d %s", cd->colour == 'r' ? 'R' : cd->colour == 'y' ? 'Y' : 'G',
								cd->priority ? '!' : ' ', dd, m, cd->title);
			}
			else
				line = psprintf("?%c ----- %s", cd->priority ? '!' : ' ', cd->title);
			for (c = 1; c < ncols; c++)
				if (cols[c].st == cd->st)
					column_add(&cols[c], line);
		}

		/* header, rule, rows */
		for (c = first_col; c < ncols; c++)
		{
			char	   *h = psprintf("%s (%d)", c == 0 ? "Inbound" : cols[c].st->name, cols[c].n);

			appendStringInfoString(&out, c == first_col ? "" : " | ");
			append_cell(&out, h, width);
			maxrows = Max(maxrows, cols[c].n);
		}
		appendStringInfoChar(&out, '\n');
		for (c = first_col; c < ncols; c++)
		{
			int			k;

			appendStringInfoString(&out, c == first_col ? "" : "-+-");
			for (k = 0; k < width; k++)
				appendStringInfoChar(&out, '-');
		}
		appendStringInfoChar(&out, '\n');
		for (row = 0; row < maxrows; row++)
		{
			for (c = first_col; c < ncols; c++)
			{
				appendStringInfoString(&out, c == first_col ? "" : " | ");
				append_cell(&out, row < cols[c].n ? cols[c].lines[row].data : "", width);
			}
			/* trim trailing blanks */
			while (out.len > 0 && out.data[out.len - 1] == ' ')
				out.data[--out.len] = '\0';
			appendStringInfoChar(&out, '\n');
		}
		first_block = false;
	}
	PG_RETURN_TEXT_P(cstring_to_text_with_len(out.data, out.len));
}
