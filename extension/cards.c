/*
 * cards.c: the cards of a board, read and laid out (services layer), for
 * board(), deal_list() and board_text() (doc/reference.md, "The board").
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
 * deal_list() is the same merge with no horizon, in (next_due, deal id)
 * order: the index orders each owner's deals so, and the heap breaks ties
 * between owners by deal id, so the order is total. A page starts each
 * owner's scan strictly after the keyset (after_next_due, after_deal_id)
 * with a row comparison on the index, and the merge stops after page_size
 * cards. Deals without a next activity (possible only inside the
 * transaction that left them so) come last; a paged scan reaches them by a
 * second range scan (next_due IS NULL) once the dated ones are done.
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
#include "lib/binaryheap.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "calendar.h"
#include "calls.h"
#include "cards.h"
#include "catalog.h"
#include "colour.h"
#include "config.h"
#include "deals.h"
#include "errcodes.h"
#include "identity.h"
#include "rows.h"

int			sb_closed_days = 7;

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
has_tags(BoardRels *r, int64 deal_id, const SbBoardArgs *a)
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
passes_filters(BoardRels *r, const SbDealRow *d, const SbBoardArgs *a)
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
card_from_deal(SbCard *c, const SbDealRow *d, const SbBoardArgs *a)
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
add_card(SbCardList *l, const SbCard *c)
{
	if (l->n == l->max)
	{
		l->max = Max(64, l->max * 2);
		l->cards = l->cards == NULL ? palloc(sizeof(SbCard) * l->max)
			: repalloc(l->cards, sizeof(SbCard) * l->max);
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
	int64		owner_id;
	bool		undated_next;	/* the owner's undated deals are still to scan */
	ScanKeyData after[2];		/* members of the keyset's row comparison */
} OwnerScan;

/*
 * A paged scan from the keyset stops at the owner's first undated deal
 * (NULLs sort last): go on with those, which come after every dated one.
 * The scan began with two keys, so it is rescanned with two.
 */
static void
scan_undated(OwnerScan *os)
{
	ScanKeyData keys[2];

	ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(os->owner_id));
	ScanKeyEntryInitialize(&keys[1], SK_ISNULL | SK_SEARCHNULL, 2, InvalidStrategy,
						   InvalidOid, InvalidOid, InvalidOid, (Datum) 0);
	index_rescan(os->scan, keys, 2, NULL, 0);
}

/* Move one owner's scan to its next card that passes the filters. */
static void
advance(BoardRels *r, OwnerScan *os, const SbBoardArgs *a)
{
	for (;;)
	{
		while (index_getnext_slot(os->scan, ForwardScanDirection, os->slot))
		{
			sb_deal_from_slot(os->slot, &os->row);
			if (os->row.status != SB_OPEN)
				continue;
			if (passes_filters(r, &os->row, a))
				return;
		}
		if (!os->undated_next)
			break;
		os->undated_next = false;
		scan_undated(os);
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
horizon_end(SbHorizon h, pg_tz *tz, TimestampTz at)
{
	DateADT		today = sb_local_date(at, tz);

	switch (h)
	{
		case SB_H_TODAY:
			return sb_local_midnight(today + 1, tz);
		case SB_H_3DAYS:
			return sb_local_midnight(today + 3, tz);
		case SB_H_WEEK:
			return sb_local_midnight(today + 7, tz);
		case SB_H_MONTH:
			return sb_local_midnight(sb_date_add_months(today, 1), tz);
		default:
			return DT_NOEND;
	}
}

/*
 * Start one owner's scan of deal_board_idx (owner_id, next_due, id) and
 * move it to the first card: up to the end of the horizon; for a page,
 * from strictly after the keyset, (next_due, id) > (after_due, after_id)
 * as a row comparison, which the index starts at.
 */
static void
start_scan(BoardRels *r, OwnerScan *os, int64 owner, const SbEmployee *emp,
		   const SbBoardArgs *a)
{
	ScanKeyData keys[3];
	int			nkeys = 0;

	os->owner_id = owner;
	ScanKeyInit(&keys[nkeys++], 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(owner));
	if (a->horizon != SB_H_NONE)
		ScanKeyInit(&keys[nkeys++], 2, BTLessStrategyNumber, F_TIMESTAMPTZ_LT,
					TimestampTzGetDatum(horizon_end(a->horizon, emp->tz, a->at)));
	if (a->has_after)
	{
		/* row members take the btree comparison support functions */
		ScanKeyEntryInitialize(&os->after[0], SK_ROW_MEMBER, 2, BTGreaterStrategyNumber,
							   InvalidOid, InvalidOid, F_TIMESTAMPTZ_CMP,
							   TimestampTzGetDatum(a->after_due));
		ScanKeyEntryInitialize(&os->after[1], SK_ROW_MEMBER | SK_ROW_END, 3,
							   BTGreaterStrategyNumber, InvalidOid, InvalidOid, F_BTINT8CMP,
							   Int64GetDatum(a->after_id));
		ScanKeyEntryInitialize(&keys[nkeys++], SK_ROW_HEADER, 2, BTGreaterStrategyNumber,
							   InvalidOid, InvalidOid, InvalidOid, PointerGetDatum(os->after));
	}
	/* a horizon ends before the undated deals: only list mode reaches them */
	os->undated_next = a->has_after && a->horizon == SB_H_NONE;
	Assert(!os->undated_next || nkeys == 2);
	os->slot = table_slot_create(r->deal, NULL);
	os->scan = index_beginscan(r->deal, r->board_idx, r->snap, nkeys, 0);
	index_rescan(os->scan, keys, nkeys, NULL, 0);
	os->live = true;
	advance(r, os, a);
}

static void
collect_open(BoardRels *r, const int64 *owners, int nowners, const SbBoardArgs *a, SbCardList *out)
{
	OwnerScan  *scans = palloc0(sizeof(OwnerScan) * nowners);
	binaryheap *heap = binaryheap_allocate(Max(nowners, 1), cmp_scans, NULL);
	int			i,
				taken = 0;

	for (i = 0; i < nowners; i++)
	{
		const SbEmployee *emp = sb_employee(owners[i]);

		if (emp == NULL)
			continue;
		start_scan(r, &scans[i], owners[i], emp, a);
		if (scans[i].live)
			binaryheap_add_unordered(heap, PointerGetDatum(&scans[i]));
	}
	binaryheap_build(heap);
	while (!binaryheap_empty(heap))
	{
		OwnerScan  *os = (OwnerScan *) DatumGetPointer(binaryheap_first(heap));
		SbCard		c;

		card_from_deal(&c, &os->row, a);
		add_card(out, &c);
		if (a->page_size > 0 && ++taken >= a->page_size)
			break;				/* the page is full: read no further */
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
collect_closed(BoardRels *r, const int64 *owners, int nowners, const SbBoardArgs *a, SbCardList *out)
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
			SbCard		c;

			sb_deal_from_slot(slot, &d);
			if (d.status == SB_OPEN || d.closed_at > a->at || !passes_filters(r, &d, a))
				continue;
			card_from_deal(&c, &d, a);
			add_card(out, &c);
		}
		index_endscan(scan);
	}
	ExecDropSingleTupleTableSlot(slot);
}

/* Layout order: pipeline, column, (overdue_last: planned first), due order. */
static int
cmp_layout(const void *a, const void *b, void *arg)
{
	bool		overdue_last = *(const bool *) arg;
	const SbCard *x = (const SbCard *) a;
	const SbCard *y = (const SbCard *) b;

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
	if (overdue_last && x->late != y->late)
		return x->late ? 1 : -1;
	return x->seq < y->seq ? -1 : (x->seq > y->seq ? 1 : 0);
}

/* ------------------------------------------------------------------
 * Arguments
 * ------------------------------------------------------------------ */
static SbHorizon
parse_horizon(const char *h)
{
	if (h == NULL)
		return SB_H_TODAY;
	if (pg_strcasecmp(h, "today") == 0)
		return SB_H_TODAY;
	if (pg_strcasecmp(h, "3 days") == 0 || pg_strcasecmp(h, "3days") == 0)
		return SB_H_3DAYS;
	if (pg_strcasecmp(h, "week") == 0)
		return SB_H_WEEK;
	if (pg_strcasecmp(h, "month") == 0)
		return SB_H_MONTH;
	ereport(ERROR,
			(errcode(ERRCODE_SB_BAD_HORIZON),
			 errmsg("horizon \"%s\" is not known", h),
			 errhint("Use 'today', '3 days', 'week' or 'month'.")));
	return SB_H_TODAY;
}

/*
 * deal_list()'s page: page_size (NULL: the whole list), and the keyset
 * after_next_due, after_deal_id (the last row of the previous page; both or
 * neither). deal_list() of the 1.0 script, before ALTER EXTENSION UPDATE,
 * has no such arguments and pages nothing.
 */
static void
page_args(FunctionCallInfo fcinfo, SbBoardArgs *a)
{
	if (PG_NARGS() < 9)
		return;
	if (!PG_ARGISNULL(6))
	{
		int32		n = PG_GETARG_INT32(6);

		if (n < 1 || n > SB_PAGE_SIZE_MAX)
			ereport(ERROR,
					(errcode(ERRCODE_SB_BAD_VALUE),
					 errmsg("deal_list page_size must be between 1 and %d, not %d",
							SB_PAGE_SIZE_MAX, n),
					 errhint("Pass how many rows a page holds, or NULL for the whole list.")));
		a->page_size = n;
	}
	if (PG_ARGISNULL(7) != PG_ARGISNULL(8))
		ereport(ERROR,
				(errcode(ERRCODE_SB_BAD_VALUE),
				 errmsg("deal_list got %s without %s",
						PG_ARGISNULL(7) ? "after_deal_id" : "after_next_due",
						PG_ARGISNULL(7) ? "after_next_due" : "after_deal_id"),
				 errhint("Pass both, the next_due and deal_id of the last row of the previous page, or neither for the first page.")));
	if (!PG_ARGISNULL(7))
	{
		a->after_due = sb_moment_arg(fcinfo, 7, "after_next_due");
		a->after_id = PG_GETARG_INT64(8);
		a->has_after = true;
	}
}

/*
 * board(employee_id, horizon, overdue_last, client_id, service_type_id,
 *       tags, subordinates, at, closed_days)
 * deal_list(employee_id, client_id, service_type_id, tags, subordinates, at,
 *           page_size, after_next_due, after_deal_id)
 */
void
sb_board_args(FunctionCallInfo fcinfo, SbBoardArgs *a, bool list_mode)
{
	int			base = list_mode ? -2 : 0;	/* deal_list has no horizon, overdue_last */

	memset(a, 0, sizeof(*a));
	sb_catalog();
	a->list_mode = list_mode;
	a->employee_id = sb_view_employee_arg(fcinfo, 0, "board");
	if (list_mode)
	{
		a->horizon = SB_H_NONE;
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
	a->at = sb_moment_arg(fcinfo, base + 7, "at");
	if (list_mode)
	{
		a->closed_days = 0;
		page_args(fcinfo, a);
	}
	else
	{
		a->closed_days = PG_ARGISNULL(8) ? sb_closed_days : PG_GETARG_INT32(8);
		if (a->closed_days < 0 || a->closed_days > SB_CLOSED_DAYS_MAX)
			ereport(ERROR,
					(errcode(ERRCODE_SB_BAD_VALUE),
					 errmsg("closed_days must be between 0 and %d, not %d",
							SB_CLOSED_DAYS_MAX, a->closed_days),
					 errhint("Pass how many local days back Won and Lost look (at most ten years, "
							 "as the setting salesboard.closed_days); 0 hides them.")));
	}
}

/*
 * Build the cards of a board, laid out in output order; the owners whose
 * cards it holds go to *owners_out when asked.
 */
SbCardList
sb_build_board(const SbBoardArgs *a, int64 **owners_out, int *nowners_out)
{
	BoardRels	r;
	SbCardList	cards = {0};
	int64	   *owners;
	int			nowners;

	if (a->subordinates)
	{
		int			i,
					kept = 0;

		/*
		 * Everyone below the board's employee, less those the caller may not
		 * see: the employee may also head a department outside the caller's
		 * subtree, and a board shows only what row-level security would.
		 */
		owners = sb_subtree_employees(a->employee_id, &nowners);
		for (i = 0; i < nowners; i++)
			if (sb_can_access_owner(owners[i]))
				owners[kept++] = owners[i];
		nowners = kept;
	}
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
		bool		overdue_last = a->overdue_last;

		qsort_arg(cards.cards, cards.n, sizeof(SbCard), cmp_layout, &overdue_last);
	}
	if (owners_out != NULL)
	{
		*owners_out = owners;
		*nowners_out = nowners;
	}
	return cards;
}

const char *
sb_horizon_name(SbHorizon h)
{
	return h == SB_H_TODAY ? "today" : h == SB_H_3DAYS ? "3 days" :
		h == SB_H_WEEK ? "week" : h == SB_H_MONTH ? "month" : "none";
}

void
sb_cards_init(void)
{
	DefineCustomIntVariable("salesboard.closed_days",
							"How many days back the Won and Lost columns of the board look.",
							"Deals closed on the owner's local calendar day today or on the "
							"closed_days - 1 days before it are shown; 0 hides the columns.",
							&sb_closed_days,
							7, 0, SB_CLOSED_DAYS_MAX,
							PGC_USERSET, 0,
							NULL, NULL, NULL);
}
