/*
 * deals.c: a deal as the C code reads it (services layer).
 *
 * Every API call that changes a deal starts with sb_open_deal_for_change:
 * visibility first (so unknown and invisible deals get the same SB030 and
 * nobody waits for a lock on a deal they may not see), then the row lock,
 * then the newest version of the row.
 */
#include "postgres.h"

#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/snapmgr.h"

#include "catalog.h"
#include "deals.h"
#include "errcodes.h"
#include "identity.h"
#include "rows.h"
#include "spi.h"
#include "texts.h"

/* Read the columns of a deal row that the C code uses. */
void
sb_deal_from_slot(TupleTableSlot *slot, SbDealRow *d)
{
	const AttrNumber *a = sb_cat.deal_att;
	bool		isnull;
	Datum		v;

	slot_getallattrs(slot);
	d->id = sb_slot_int8(slot, a[DEAL_ID], &isnull);
	d->pipeline_id = sb_slot_int8(slot, a[DEAL_PIPELINE_ID], &isnull);
	d->stage_id = sb_slot_int8(slot, a[DEAL_STAGE_ID], &isnull);
	d->owner_id = sb_slot_int8(slot, a[DEAL_OWNER_ID], &isnull);
	d->client_id = sb_slot_int8(slot, a[DEAL_CLIENT_ID], &isnull);
	d->has_client = !isnull;
	d->service_type_id = sb_slot_int8(slot, a[DEAL_SERVICE_TYPE_ID], &isnull);
	d->has_service_type = !isnull;
	d->next_activity_id = sb_slot_int8(slot, a[DEAL_NEXT_ACTIVITY_ID], &isnull);
	v = slot_getattr(slot, a[DEAL_NEXT_DUE], &isnull);
	d->has_next = !isnull;
	d->next_due = isnull ? 0 : DatumGetTimestampTz(v);
	d->status = sb_slot_status(slot, a[DEAL_STATUS]);
	v = slot_getattr(slot, a[DEAL_PRIORITY], &isnull);
	d->priority = !isnull && DatumGetBool(v);
	v = slot_getattr(slot, a[DEAL_AMOUNT], &d->amount_null);
	d->amount = d->amount_null ? (Datum) 0 : datumCopy(v, false, -1);
	v = slot_getattr(slot, a[DEAL_CURRENCY], &d->currency_null);
	d->currency = d->currency_null ? (Datum) 0 : datumCopy(v, false, -1);
	v = slot_getattr(slot, a[DEAL_TITLE], &isnull);
	d->title = isnull ? pstrdup("") : TextDatumGetCString(v);
	v = slot_getattr(slot, a[DEAL_STAGE_ENTERED_AT], &isnull);
	d->stage_entered_at = isnull ? 0 : DatumGetTimestampTz(v);
	v = slot_getattr(slot, a[DEAL_CLOSED_AT], &isnull);
	d->closed = !isnull;
	d->closed_at = isnull ? 0 : DatumGetTimestampTz(v);
}

/* Unknown and invisible deals get this same error everywhere (SB030). */

/* The planned activities of a deal as snap shows them: count and id sum. */
static void
planned_digest(Relation acts, int64 deal_id, Snapshot snap, int64 *count, int64 *idsum)
{
	SbProbe		p;
	TupleTableSlot *slot;
	bool		isnull;

	*count = *idsum = 0;
	sb_probe_begin(&p, acts, sb_cat.activity_planned_idx, snap);
	for (slot = sb_probe(&p, deal_id); slot != NULL; slot = sb_probe_next(&p))
		if (sb_slot_act_status(slot, sb_cat.act_att[ACT_STATUS]) == SB_PLANNED)
		{
			(*count)++;
			*idsum += sb_slot_int8(slot, sb_cat.act_att[ACT_ID], &isnull);
		}
	sb_probe_end(&p);
}

/*
 * Under REPEATABLE READ or SERIALIZABLE, an API call acts on the deal's
 * planned activities as its snapshot shows them. If another transaction
 * planned, finished or removed one since, without changing the deal row
 * (a later activity does not move next_due), the row lock alone would not
 * notice: this makes it a serialization failure, as a changed deal row is.
 */
static void
planned_unchanged_since_snapshot(int64 deal_id)
{
	Relation	acts = table_open(sb_cat.activity, AccessShareLock);
	Snapshot	latest = RegisterSnapshot(GetLatestSnapshot());
	int64		c1,
				s1,
				c2,
				s2;

	planned_digest(acts, deal_id, GetTransactionSnapshot(), &c1, &s1);
	planned_digest(acts, deal_id, latest, &c2, &s2);
	UnregisterSnapshot(latest);
	table_close(acts, NoLock);
	if (c1 != c2 || s1 != s2)
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("could not serialize access due to concurrent change of the activities of deal " INT64_FORMAT, deal_id),
				 errhint("Retry the transaction.")));
}

/*
 * The first step of every API call that changes a deal: check that the
 * session may see it, take its row lock, and read its newest version.
 * Unknown and invisible deals get the same error, so ids of other
 * people's deals reveal nothing.
 */
void
sb_open_deal_for_change(int64 id, SbDealRow *d)
{
	SbFetch		f;
	bool		isnull;
	bool		found;

	sb_catalog();
	found = sb_fetch_begin(&f, sb_cat.deal, sb_cat.deal_pkey, id, RowShareLock,
						   IsolationUsesXactSnapshot() ? GetActiveSnapshot() : NULL);
	/* check visibility before taking a lock others would wait for */
	if (!found ||
		!sb_can_access_owner(sb_slot_int8(f.slot, sb_cat.deal_att[DEAL_OWNER_ID], &isnull)) ||
		!sb_lock_fetched_row(&f, id, "deal"))
		sb_deal_not_found(id);
	sb_deal_from_slot(f.slot, d);
	sb_fetch_end(&f);
	if (!sb_can_access_owner(d->owner_id))
		sb_deal_not_found(id);
	if (IsolationUsesXactSnapshot())
		planned_unchanged_since_snapshot(id);
}

/* A deal as the newest data shows it (no visibility check); false if none. */
bool
sb_read_deal(int64 id, SbDealRow *d)
{
	SbFetch		f;
	bool		found;

	sb_catalog();
	found = sb_fetch_begin(&f, sb_cat.deal, sb_cat.deal_pkey, id, AccessShareLock, NULL);
	if (found)
		sb_deal_from_slot(f.slot, d);
	sb_fetch_end(&f);
	return found;
}

static SbQuery q_tag_ids = {
	"SELECT t.name, g.id FROM pg_catalog.unnest($1::text[]) AS t(name) "
	"LEFT JOIN salesboard.tag g ON g.name = t.name",
	1, {TEXTARRAYOID}, NULL
};

/*
 * Tag names to ids, in the caller's memory context; an unknown name is an
 * error (SB020) whose hint is the caller's. Returns the number of ids.
 */
int
sb_tag_ids(ArrayType *tags, int64 **ids, const char *hint)
{
	MemoryContext outer = CurrentMemoryContext;
	Datum		v[1];
	uint64		i;
	int			n = 0;

	*ids = NULL;
	if (tags == NULL || ArrayGetNItems(ARR_NDIM(tags), ARR_DIMS(tags)) == 0)
		return 0;
	if (array_contains_nulls(tags))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("tags must not contain NULL"),
				 errhint("%s", hint)));
	if (ARR_NDIM(tags) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_SB_BAD_VALUE),
				 errmsg("tags must be a one-dimensional array of tag names, not %d-dimensional",
						ARR_NDIM(tags)),
				 errhint("%s", hint)));
	SPI_connect();
	v[0] = PointerGetDatum(tags);
	sb_exec(&q_tag_ids, v, NULL, true, 0);
	*ids = MemoryContextAlloc(outer, sizeof(int64) * Max(SPI_processed, 1));
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Datum		id = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull);

		if (isnull)
		{
			char	   *name = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);

			ereport(ERROR,
					(errcode(ERRCODE_SB_UNKNOWN_TAG),
					 errmsg("tag \"%s\" does not exist", sb_quote_short(name)),
					 errhint("%s", hint)));
		}
		(*ids)[n++] = DatumGetInt64(id);
	}
	SPI_finish();
	return n;
}
