/*
 * board.c: board() and deal_list() (feature): the cards of a board
 * (cards.c) as SQL rows of type salesboard.card, with the names of their
 * client, service type and next activity.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "calls.h"
#include "cards.h"
#include "catalog.h"
#include "colour.h"
#include "config.h"
#include "rows.h"

PG_FUNCTION_INFO_V1(sb_board);
PG_FUNCTION_INFO_V1(sb_deal_list);

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
emit_cards(FunctionCallInfo fcinfo, SbCardList *cards, bool list_mode)
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
		SbCard	   *c = &cards->cards[i];
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
		v[1] = CStringGetTextDatum(c->st->kind == SB_OPEN ? "stage" : sb_status_name(c->st->kind));
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
	SbBoardArgs	a;
	SbCardList	cards;

	sb_board_args(fcinfo, &a, false);
	cards = sb_build_board(&a, NULL, NULL);
	emit_cards(fcinfo, &cards, false);
	return (Datum) 0;
}

Datum
sb_deal_list(PG_FUNCTION_ARGS)
{
	SbBoardArgs	a;
	SbCardList	cards;

	sb_board_args(fcinfo, &a, true);
	cards = sb_build_board(&a, NULL, NULL);
	emit_cards(fcinfo, &cards, true);
	return (Datum) 0;
}
