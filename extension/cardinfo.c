/*
 * cardinfo.c: what a card shows beyond the deal row (services layer), read
 * by primary key with one index scan per relation kept open for the whole
 * board and re-keyed per card; client, service type and tag names cached
 * per call (a board repeats them). Service types and tags, catalogues of a
 * few pages, are read whole when the board opens (one page read instead of
 * a probe per name), as the planner hashes a small table for a join.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "storage/bufmgr.h"
#include "utils/builtins.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "cardinfo.h"
#include "catalog.h"
#include "spi.h"

typedef struct NameEntry
{
	int64		id;
	char	   *name;
} NameEntry;

/* a catalogue of at most this many pages is read whole into its cache */
#define SMALL_CATALOGUE_PAGES 4

static HTAB *
name_cache(const char *what, long size)
{
	HASHCTL		ctl;

	ctl.keysize = sizeof(int64);
	ctl.entrysize = sizeof(NameEntry);
	ctl.hcxt = CurrentMemoryContext;
	return hash_create(what, size, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

/*
 * Read a small catalogue (id, name) whole into its cache, as snap shows it:
 * true when done, and then an id not in the cache has no row. A larger one
 * is left to the probes.
 */
static bool
preload_names(HTAB *cache, Relation rel, AttrNumber id_att, AttrNumber name_att, Snapshot snap)
{
	TableScanDesc scan;
	TupleTableSlot *slot;

	if (RelationGetNumberOfBlocks(rel) > SMALL_CATALOGUE_PAGES)
		return false;
	slot = table_slot_create(rel, NULL);
	scan = table_beginscan(rel, snap, 0, NULL);
	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		bool		isnull;
		int64		id = sb_slot_int8(slot, id_att, &isnull);
		NameEntry  *e = hash_search(cache, &id, HASH_ENTER, NULL);
		Datum		v = slot_getattr(slot, name_att, &isnull);

		e->name = isnull ? NULL : TextDatumGetCString(v);
	}
	table_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	return true;
}

void
sb_cardinfo_open(SbCardInfoReader *r)
{
	Snapshot	snap = GetActiveSnapshot();

	sb_catalog();
	r->client = table_open(sb_cat.client, AccessShareLock);
	r->service_type = table_open(sb_cat.service_type, AccessShareLock);
	r->activity = table_open(sb_cat.activity, AccessShareLock);
	r->tag = table_open(sb_cat.tag, AccessShareLock);
	r->deal_tag = table_open(sb_cat.deal_tag, AccessShareLock);
	sb_probe_begin(&r->clients_by_id, r->client, sb_cat.client_pkey, snap);
	sb_probe_begin(&r->services_by_id, r->service_type, sb_cat.service_type_pkey, snap);
	sb_probe_begin(&r->activities_by_id, r->activity, sb_cat.activity_pkey, snap);
	sb_probe_begin(&r->tags_by_id, r->tag, sb_cat.tag_pkey, snap);
	sb_probe_begin(&r->tags_by_deal, r->deal_tag, sb_cat.deal_tag_pkey, snap);
	r->clients = name_cache("salesboard card clients", 64);
	r->services = name_cache("salesboard card service types", 16);
	r->tags = name_cache("salesboard card tags", 16);
	r->services_complete = preload_names(r->services, r->service_type, sb_cat.service_type_att[SERVICE_TYPE_ID],
										 sb_cat.service_type_att[SERVICE_TYPE_NAME], snap);
	r->tags_complete = preload_names(r->tags, r->tag, sb_cat.tag_att[TAG_ID], sb_cat.tag_att[TAG_NAME], snap);
	r->max_tag_ids = 8;			/* grown by repalloc: stays in this context */
	r->tag_ids = palloc(sizeof(int64) * r->max_tag_ids);
}

void
sb_cardinfo_close(SbCardInfoReader *r)
{
	sb_probe_end(&r->clients_by_id);
	sb_probe_end(&r->services_by_id);
	sb_probe_end(&r->activities_by_id);
	sb_probe_end(&r->tags_by_id);
	sb_probe_end(&r->tags_by_deal);
	table_close(r->deal_tag, NoLock);
	table_close(r->tag, NoLock);
	table_close(r->activity, NoLock);
	table_close(r->service_type, NoLock);
	table_close(r->client, NoLock);
}

/*
 * The name (column att) of a row found by primary key, cached per call;
 * in a complete cache (preload_names) a miss means there is no such row.
 */
static char *
lookup_name(HTAB *cache, bool complete, SbProbe *probe, AttrNumber att, int64 id)
{
	bool		found;
	NameEntry  *e;

	if (complete)
	{
		e = hash_search(cache, &id, HASH_FIND, NULL);
		return e ? e->name : NULL;
	}
	e = hash_search(cache, &id, HASH_ENTER, &found);
	if (!found)
	{
		TupleTableSlot *slot = sb_probe(probe, id);
		bool		isnull;
		Datum		v;

		e->name = NULL;
		if (slot != NULL && !(v = slot_getattr(slot, att, &isnull), isnull))
			e->name = TextDatumGetCString(v);
	}
	return e->name;
}

static char *
slot_text(TupleTableSlot *slot, AttrNumber att)
{
	bool		isnull;
	Datum		v = slot_getattr(slot, att, &isnull);

	return isnull ? NULL : TextDatumGetCString(v);
}

static void
read_next_activity(SbCardInfoReader *r, const SbCard *c, SbCardInfo *out)
{
	TupleTableSlot *slot;
	bool		isnull;
	Datum		v;

	if (!c->has_next || c->next_activity_id == 0 ||
		(slot = sb_probe(&r->activities_by_id, c->next_activity_id)) == NULL)
		return;
	out->next_subject = slot_text(slot, sb_cat.act_att[ACT_SUBJECT]);
	out->next_kind = slot_text(slot, sb_cat.act_att[ACT_KIND]);
	v = slot_getattr(slot, sb_cat.act_att[ACT_ALL_DAY], &isnull);
	out->next_all_day = !isnull && DatumGetBool(v);
	v = slot_getattr(slot, sb_cat.act_att[ACT_DUE_DATE], &isnull);
	out->has_due_date = out->next_all_day && !isnull;
	if (out->has_due_date)
		out->next_due_date = DatumGetDateADT(v);
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/*
 * The deal's tag names, sorted. Its tag ids come from deal_tag_pkey
 * (deal_id, tag_id) as an index-only scan reads them.
 */
static void
read_tags(SbCardInfoReader *r, const SbCard *c, SbCardInfo *out)
{
	int			n = sb_probe_index_only(&r->tags_by_deal, c->deal_id, 2,
										sb_cat.deal_tag_att[DEAL_TAG_TAG_ID],
										&r->tag_ids, &r->max_tag_ids);
	int			i;

	for (i = 0; i < n; i++)
	{
		char	   *name = lookup_name(r->tags, r->tags_complete, &r->tags_by_id, sb_cat.tag_att[TAG_NAME], r->tag_ids[i]);

		if (name == NULL)
			continue;
		if (out->tags == NULL)
			out->tags = palloc(sizeof(char *) * n);
		out->tags[out->ntags++] = name;
	}
	if (out->ntags > 1)
		qsort(out->tags, out->ntags, sizeof(char *), cmp_names);
}

void
sb_cardinfo_read(SbCardInfoReader *r, const SbCard *c, SbCardInfo *out)
{
	memset(out, 0, sizeof(*out));
	if (c->has_client)
		out->client = lookup_name(r->clients, false, &r->clients_by_id, sb_cat.client_att[CLIENT_NAME], c->client_id);
	if (c->has_service_type)
		out->service_type = lookup_name(r->services, r->services_complete, &r->services_by_id, sb_cat.service_type_att[SERVICE_TYPE_NAME],
									   c->service_type_id);
	read_next_activity(r, c, out);
	read_tags(r, c, out);
}

static SbQuery q_pipeline_name = {
	"SELECT p.name FROM salesboard.pipeline p WHERE p.id = $1",
	1, {INT8OID}, NULL
};

/* A pipeline's name, or its id as text when it has gone. */
char *
sb_pipeline_name(int64 id)
{
	MemoryContext outer = CurrentMemoryContext;
	Datum		v[1] = {Int64GetDatum(id)};
	char	   *name = NULL;

	SPI_connect();
	sb_exec(&q_pipeline_name, v, NULL, true, 1);
	if (SPI_processed == 1)
		name = sb_spi_text(0, 1, outer);
	SPI_finish();
	return name ? name : psprintf(INT64_FORMAT, id);
}

/* The next pipeline (by id) after `after` that has cards on the board, or -1. */
int64
sb_next_pipeline(const SbCardList *cards, int64 after)
{
	int64		next = -1;
	int			i;

	for (i = 0; i < cards->n; i++)
		if (cards->cards[i].st != NULL && cards->cards[i].st->pipeline_id > after &&
			(next == -1 || cards->cards[i].st->pipeline_id < next))
			next = cards->cards[i].st->pipeline_id;
	return next;
}
