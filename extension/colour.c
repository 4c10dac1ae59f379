/*
 * colour.c: the colour of a card (doc/reference.md, "The board") and why.
 *
 * A deal's colour follows from its planned activities, judged in its
 * owner's own time zone: red when one is overdue (its due moment is before
 * `at`), yellow when none is overdue and one falls due before the owner's
 * next local midnight, green otherwise. Because deal.next_due is the
 * earliest effective due moment of the planned activities (all-day ones
 * count at the last microsecond of their local day), the colour is a
 * function of next_due alone: overdue iff next_due < at; due today iff
 * next_due < the start of the owner's next local day. The start of that
 * day is computed once per (zone, at) and cached, so colouring a million
 * deals costs two comparisons each. Closed deals have no planned work:
 * green.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"
#include "catalog/pg_type.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/tuplestore.h"

#include "calendar.h"
#include "calls.h"
#include "catalog.h"
#include "colour.h"
#include "config.h"
#include "deals.h"
#include "errcodes.h"
#include "identity.h"
#include "rows.h"
#include "spi.h"

PG_FUNCTION_INFO_V1(sb_card_colour_id);
PG_FUNCTION_INFO_V1(sb_card_colour_row);
PG_FUNCTION_INFO_V1(sb_card_colour_of);
PG_FUNCTION_INFO_V1(sb_why_colour);
PG_FUNCTION_INFO_V1(sb_card_colour_due);

/* Start of the next local day after `at` in tz, for the last few (tz, at). */
#define DAY_CACHE 16
typedef struct DayCacheEntry
{
	pg_tz	   *tz;
	TimestampTz at;
	TimestampTz tomorrow;
} DayCacheEntry;

static DayCacheEntry day_cache[DAY_CACHE];
static int	day_cache_next = 0;

TimestampTz
sb_tomorrow_start(pg_tz *tz, TimestampTz at)
{
	int			i;
	TimestampTz t;

	for (i = 0; i < DAY_CACHE; i++)
		if (day_cache[i].tz == tz && day_cache[i].at == at && tz != NULL)
			return day_cache[i].tomorrow;
	t = sb_local_midnight(sb_local_date(at, tz) + 1, tz);
	day_cache[day_cache_next].tz = tz;
	day_cache[day_cache_next].at = at;
	day_cache[day_cache_next].tomorrow = t;
	day_cache_next = (day_cache_next + 1) % DAY_CACHE;
	return t;
}

SbColour
sb_colour(bool has_next, TimestampTz next_due, pg_tz *tz, TimestampTz at)
{
	if (!has_next)
		return SB_GREEN;
	if (next_due < at)
		return SB_RED;
	if (next_due < sb_tomorrow_start(tz, at))
		return SB_YELLOW;
	return SB_GREEN;
}

const char *
sb_colour_name(SbColour c)
{
	return c == SB_RED ? "red" : c == SB_YELLOW ? "yellow" : "green";
}

/*
 * The three colour names as text values, made once per backend: colouring
 * a million rows need not allocate a million copies of "green".
 */
static text *
colour_text(SbColour c)
{
	static text *names[3] = {NULL, NULL, NULL};
	int			i = c == SB_RED ? 0 : c == SB_YELLOW ? 1 : 2;

	if (names[i] == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		names[i] = cstring_to_text(sb_colour_name(c));
		MemoryContextSwitchTo(old);
	}
	return names[i];
}

static pg_tz *
owner_tz(int64 owner_id)
{
	const SbEmployee *emp = sb_employee(owner_id);

	if (emp == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_SB_UNKNOWN_EMPLOYEE),
				 errmsg("employee " INT64_FORMAT " does not exist", owner_id),
				 errhint("Run salesboard.verify() to find deals of missing owners.")));
	return emp->tz;
}

/* Read a visible deal for the colour functions; errors like the API. */
static void
read_deal(int64 deal_id, SbDealRow *d)
{
	SbFetch		f;
	bool		found = sb_fetch_begin(&f, sb_cat.deal, sb_cat.deal_pkey, deal_id,
									   AccessShareLock, GetActiveSnapshot());

	if (found)
		sb_deal_from_slot(f.slot, d);
	sb_fetch_end(&f);
	if (!found || !sb_can_access_owner(d->owner_id))
		sb_deal_not_found(deal_id);
}

/* salesboard.card_colour(deal_id bigint, at timestamptz) -> text */
Datum
sb_card_colour_id(PG_FUNCTION_ARGS)
{
	SbDealRow	d;
	TimestampTz at;

	(void) sb_require_employee();
	sb_require_arg(fcinfo, 0, "deal_id");
	sb_require_arg(fcinfo, 1, "at");
	at = sb_moment_arg(fcinfo, 1, "at");
	sb_catalog();
	read_deal(PG_GETARG_INT64(0), &d);
	PG_RETURN_TEXT_P(cstring_to_text(sb_colour_name(
		sb_colour(d.status == SB_OPEN && d.has_next, d.next_due, owner_tz(d.owner_id), at))));
}

/*
 * salesboard.card_colour_of(d salesboard.deal, at timestamptz) -> text: the
 * same rule for a row the query already has, without reading the deal
 * again. (1.0 called it card_colour(d, at), symbol sb_card_colour_row, which
 * stays for a 1.0 schema: an untyped parameter made the two card_colour
 * overloads ambiguous for drivers.)
 */
Datum
sb_card_colour_of(PG_FUNCTION_ARGS)
{
	return sb_card_colour_row(fcinfo);
}

Datum
sb_card_colour_row(PG_FUNCTION_ARGS)
{
	HeapTupleHeader row;
	HeapTupleData tup;
	TupleDesc	desc;
	bool		isnull;
	Datum		v;
	int64		owner;
	bool		has_next;
	TimestampTz next_due = 0;
	SbStatus	status;

	(void) sb_require_employee();
	sb_require_arg(fcinfo, 0, "d");
	sb_require_arg(fcinfo, 1, "at");
	sb_catalog();
	row = PG_GETARG_HEAPTUPLEHEADER(0);
	desc = lookup_rowtype_tupdesc(HeapTupleHeaderGetTypeId(row), HeapTupleHeaderGetTypMod(row));
	tup.t_len = HeapTupleHeaderGetDatumLength(row);
	ItemPointerSetInvalid(&tup.t_self);
	tup.t_tableOid = InvalidOid;
	tup.t_data = row;

	owner = DatumGetInt64(heap_getattr(&tup, sb_cat.deal_att[DEAL_OWNER_ID], desc, &isnull));
	if (isnull)
	{
		ReleaseTupleDesc(desc);
		PG_RETURN_NULL();
	}
	status = sb_tuple_status(&tup, desc, sb_cat.deal_att[DEAL_STATUS]);
	v = heap_getattr(&tup, sb_cat.deal_att[DEAL_NEXT_DUE], desc, &isnull);
	has_next = !isnull && status == SB_OPEN;
	if (has_next)
		next_due = DatumGetTimestampTz(v);
	ReleaseTupleDesc(desc);
	PG_RETURN_TEXT_P(cstring_to_text(sb_colour_name(
		sb_colour(has_next, next_due, owner_tz(owner), sb_moment_arg(fcinfo, 1, "at")))));
}

/*
 * salesboard.due_colour(owner_id bigint, next_due timestamptz, at) -> text:
 * the rule itself, for queries that colour many rows: the owner's zone
 * comes from the employee cache and "tomorrow" from the day cache, so a
 * row costs a hash probe and two comparisons. NULL next_due (a closed
 * deal) is green.
 */
Datum
sb_card_colour_due(PG_FUNCTION_ARGS)
{
	(void) sb_require_employee();
	sb_require_arg(fcinfo, 0, "owner_id");
	sb_require_arg(fcinfo, 2, "at");
	PG_RETURN_TEXT_P(colour_text(
		sb_colour(!PG_ARGISNULL(1), PG_ARGISNULL(1) ? 0 : sb_moment_arg(fcinfo, 1, "next_due"),
				  owner_tz(PG_GETARG_INT64(0)), sb_moment_arg(fcinfo, 2, "at"))));
}

/*
 * salesboard.why_colour(deal_id, at) -> the activities that decide the
 * colour: every overdue one when red, every one due today when yellow, the
 * next planned one when green; with the state of each.
 */
static SbQuery q_planned = {
	"SELECT a.id, a.kind, a.subject, a.due_at, a.all_day FROM salesboard.activity a "
	"WHERE a.deal_id = $1 AND a.status = 'planned' ORDER BY a.due_at, a.id",
	1, {INT8OID}, NULL
};

Datum
sb_why_colour(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	SbDealRow	d;
	TimestampTz at,
				tomorrow;
	pg_tz	   *tz;
	SbColour	colour;
	uint64		i;
	Datum		arg[1];

	(void) sb_require_employee();
	sb_require_arg(fcinfo, 0, "deal_id");
	sb_require_arg(fcinfo, 1, "at");
	at = sb_moment_arg(fcinfo, 1, "at");
	sb_catalog();
	read_deal(PG_GETARG_INT64(0), &d);
	tz = owner_tz(d.owner_id);
	colour = sb_colour(d.status == SB_OPEN && d.has_next, d.next_due, tz, at);
	tomorrow = sb_tomorrow_start(tz, at);
	InitMaterializedSRF(fcinfo, 0);
	if (d.status != SB_OPEN)
		return (Datum) 0;

	SPI_connect();
	arg[0] = Int64GetDatum(d.id);
	sb_exec(&q_planned, arg, NULL, true, 0);
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		TupleDesc	td = SPI_tuptable->tupdesc;
		bool		isnull;
		TimestampTz due = DatumGetTimestampTz(SPI_getbinval(t, td, 4, &isnull));
		const char *state = due < at ? "overdue" : due < tomorrow ? "today" : "planned";
		Datum		values[7];
		bool		nulls[7] = {0};

		if ((colour == SB_RED && due >= at) ||
			(colour == SB_YELLOW && (due < at || due >= tomorrow)) ||
			(colour == SB_GREEN && i > 0))
			continue;
		values[0] = SPI_getbinval(t, td, 1, &isnull);
		values[1] = SPI_getbinval(t, td, 2, &isnull);
		values[2] = SPI_getbinval(t, td, 3, &isnull);
		values[3] = TimestampTzGetDatum(due);
		values[4] = SPI_getbinval(t, td, 5, &isnull);
		values[5] = CStringGetTextDatum(state);
		values[6] = CStringGetTextDatum(sb_colour_name(colour));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_finish();
	return (Datum) 0;
}
