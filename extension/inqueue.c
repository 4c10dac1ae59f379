/*
 * inqueue.c: the Inbound column's one reader (services layer; inqueue.h).
 *
 * One statement over inbound_queue_idx (owner_id, received_at) WHERE
 * status = 'new': the planner scans the index once per owner of the array
 * and sorts the (few) waiting requests. Runs as the extension's owner, so
 * row-level security does not add can_see() per row: the caller passes
 * only owners the session may see.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "config.h"
#include "identity.h"
#include "inqueue.h"
#include "rows.h"
#include "spi.h"

static SbQuery q_waiting = {
	"SELECT i.id, i.source_id, i.owner_id, i.channel, i.sender, i.subject, i.received_at "
	"FROM salesboard.inbound i WHERE i.status = 'new' AND i.owner_id = ANY($1) "
	"AND i.received_at <= $2 ORDER BY i.received_at, i.id LIMIT $3",
	3, {INT8ARRAYOID, TIMESTAMPTZOID, INT8OID}, NULL
};

int
sb_inbound_waiting(const int64 *owners, int nowners, TimestampTz at, int limit,
				   SbInboundItem **items)
{
	MemoryContext outer = CurrentMemoryContext;
	Datum		v[3];
	char		n[3] = {' ', ' ', ' '};
	uint64		k;
	int			count;

	*items = NULL;
	if (nowners == 0 || limit == 0)
		return 0;
	v[0] = PointerGetDatum(sb_int8_array(owners, NULL, nowners));
	v[1] = TimestampTzGetDatum(at);
	v[2] = Int64GetDatum(limit);
	n[2] = limit < 0 ? 'n' : ' ';	/* LIMIT NULL: all */
	SPI_connect();
	sb_exec(&q_waiting, v, n, true, 0);
	count = (int) SPI_processed;
	*items = MemoryContextAlloc(outer, sizeof(SbInboundItem) * Max(count, 1));
	for (k = 0; k < SPI_processed; k++)
	{
		SbInboundItem *it = &(*items)[k];
		bool		isnull;

		it->id = sb_spi_int8(k, 1, &isnull);
		it->source_id = sb_spi_int8(k, 2, &isnull);
		it->owner_id = sb_spi_int8(k, 3, &isnull);
		it->channel = sb_spi_text(k, 4, outer);
		it->sender = sb_spi_text(k, 5, outer);
		it->subject = sb_spi_text(k, 6, outer);
		it->received_at = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[k],
															SPI_tuptable->tupdesc, 7, &isnull));
	}
	SPI_finish();
	return count;
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
