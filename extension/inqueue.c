/*
 * inqueue.c: the Inbound column's one reader (services layer; inqueue.h).
 *
 * One probe of inbound_queue_idx (owner_id, received_at) WHERE status =
 * 'new' per owner, past SQL (no plan, no role switch: a few requests per
 * employee), then the rows sorted by (received_at, id). Row-level security
 * is the caller's: it passes only owners the session may see.
 */
#include "postgres.h"

#include "access/table.h"
#include "utils/builtins.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "catalog.h"
#include "config.h"
#include "identity.h"
#include "inqueue.h"
#include "rows.h"

#define INB(c) sb_cat.inbound_att[c]

static int
cmp_items(const void *a, const void *b)
{
	const SbInboundItem *x = a;
	const SbInboundItem *y = b;

	if (x->received_at != y->received_at)
		return x->received_at < y->received_at ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id ? 1 : 0;
}

static char *
slot_text(TupleTableSlot *slot, AttrNumber att)
{
	bool		isnull;
	Datum		v = slot_getattr(slot, att, &isnull);

	return isnull ? NULL : TextDatumGetCString(v);
}

int
sb_inbound_waiting(const int64 *owners, int nowners, TimestampTz at, int limit,
				   SbInboundItem **items)
{
	Relation	rel;
	SbProbe		p;
	TupleTableSlot *slot;
	int			n = 0,
				max = 16,
				i;

	*items = NULL;
	if (nowners == 0 || limit == 0)
		return 0;
	sb_catalog();
	*items = palloc(sizeof(SbInboundItem) * max);
	rel = table_open(sb_cat.inbound, AccessShareLock);
	sb_probe_begin(&p, rel, sb_cat.inbound_queue_idx, GetActiveSnapshot());
	for (i = 0; i < nowners; i++)
		for (slot = sb_probe(&p, owners[i]); slot != NULL; slot = sb_probe_next(&p))
		{
			bool		isnull;
			SbInboundItem *it;
			char	   *status = slot_text(slot, INB(INB_STATUS));
			TimestampTz received = DatumGetTimestampTz(slot_getattr(slot, INB(INB_RECEIVED_AT), &isnull));

			/* the index holds new requests; a row version may have moved on */
			if (status == NULL || strcmp(status, "new") != 0 || isnull || received > at)
				continue;
			if (n == max)
			{
				max *= 2;
				*items = repalloc(*items, sizeof(SbInboundItem) * max);
			}
			it = &(*items)[n++];
			it->id = sb_slot_int8(slot, INB(INB_ID), &isnull);
			it->source_id = sb_slot_int8(slot, INB(INB_SOURCE_ID), &isnull);
			it->owner_id = sb_slot_int8(slot, INB(INB_OWNER_ID), &isnull);
			it->channel = slot_text(slot, INB(INB_CHANNEL));
			it->sender = slot_text(slot, INB(INB_SENDER));
			it->subject = slot_text(slot, INB(INB_SUBJECT));
			it->received_at = received;
		}
	sb_probe_end(&p);
	table_close(rel, NoLock);
	if (n > 1)
		qsort(*items, n, sizeof(SbInboundItem), cmp_items);
	return limit >= 0 && n > limit ? limit : n;
}

/*
 * The employee, and with subordinates everyone in the departments they
 * head and below, less those the session may not see (an employee may
 * head a department outside the caller's subtree): what row-level
 * security on inbound would show.
 */
int64 *
sb_inbound_owners(int64 employee_id, bool subordinates, int *n)
{
	int64	   *owners;
	int			i,
				kept = 0;

	if (!subordinates)
	{
		owners = palloc(sizeof(int64));
		owners[0] = employee_id;
		*n = sb_can_access_owner(employee_id) ? 1 : 0;
		return owners;
	}
	owners = sb_subtree_employees(employee_id, n);
	for (i = 0; i < *n; i++)
		if (sb_can_access_owner(owners[i]))
			owners[kept++] = owners[i];
	*n = kept;
	return owners;
}
