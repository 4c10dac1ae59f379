/*
 * rows.h: direct row access by key, past SQL and so past row-level
 * security (foundation): one-row fetches, index probes kept open for many
 * keys, the row lock, slot readers, edits a BEFORE ROW trigger makes, and
 * array builders for statement parameters. The callers decide what the
 * session may see (identity.h).
 */
#ifndef SB_ROWS_H
#define SB_ROWS_H

#include "postgres.h"

#include "utils/tuplestore.h"

#include "access/htup_details.h"
#include "datatype/timestamp.h"
#include "executor/tuptable.h"
#include "storage/buf.h"
#include "storage/lockdefs.h"
#include "utils/array.h"
#include "utils/relcache.h"
#include "utils/snapshot.h"

#include "catalog.h"

/* one row by its bigint key: open, read the slot, close */
typedef struct SbFetch
{
	Relation	rel;
	TupleTableSlot *slot;
	Snapshot	snap;			/* registered; NULL after sb_fetch_end */
	bool		found;
} SbFetch;

/* snap NULL: the newest committed data and this transaction's changes */
extern bool sb_fetch_begin(SbFetch *f, Oid relid, Oid indexoid, int64 id,
						   LOCKMODE lockmode, Snapshot snap);
extern void sb_fetch_end(SbFetch *f);
extern bool sb_row_exists(Oid relid, Oid indexoid, int64 id);
extern bool sb_fetch_int8(Oid relid, Oid indexoid, int64 id, AttrNumber att,
						  int64 *value);
extern bool sb_lock_fetched_row(SbFetch *f, int64 id, const char *what);

/* many look-ups by key in one relation, one scan re-keyed per probe */
typedef struct SbProbe
{
	Relation	rel;
	Relation	idx;
	Snapshot	snap;
	struct IndexScanDescData *scan;
	TupleTableSlot *slot;
	Buffer		vmbuf;			/* visibility map page of sb_probe_index_only() */
} SbProbe;
extern void sb_probe_begin(SbProbe *p, Relation rel, Oid indexoid, Snapshot snap);
extern TupleTableSlot *sb_probe(SbProbe *p, int64 id);
extern TupleTableSlot *sb_probe_next(SbProbe *p);
extern int	sb_probe_index_only(SbProbe *p, int64 id, AttrNumber idxatt,
								AttrNumber heapatt, int64 **values, int *max);
extern void sb_probe_end(SbProbe *p);

/* slot and tuple readers */
extern int64 sb_slot_int8(TupleTableSlot *slot, AttrNumber att, bool *isnull);

static inline SbStatus
sb_slot_status(TupleTableSlot *slot, AttrNumber att)
{
	bool		isnull;
	Datum		d = slot_getattr(slot, att, &isnull);

	return sb_status_from_datum(d, isnull);
}

static inline SbActStatus
sb_slot_act_status(TupleTableSlot *slot, AttrNumber att)
{
	bool		isnull;
	Datum		d = slot_getattr(slot, att, &isnull);

	return sb_act_status_from_datum(d, isnull);
}

static inline SbStatus
sb_tuple_status(HeapTuple t, TupleDesc desc, AttrNumber att)
{
	bool		isnull;
	Datum		d = heap_getattr(t, att, desc, &isnull);

	return sb_status_from_datum(d, isnull);
}

static inline SbActStatus
sb_tuple_act_status(HeapTuple t, TupleDesc desc, AttrNumber att)
{
	bool		isnull;
	Datum		d = heap_getattr(t, att, desc, &isnull);

	return sb_act_status_from_datum(d, isnull);
}

extern bool sb_col_changed(HeapTuple a, HeapTuple b, TupleDesc desc, AttrNumber att);

/* changes a BEFORE ROW trigger makes to the row it returns */
#define SB_MAX_EDITS 32
typedef struct SbRowEdit
{
	int			n;
	int			cols[SB_MAX_EDITS];
	Datum		values[SB_MAX_EDITS];
	bool		nulls[SB_MAX_EDITS];
} SbRowEdit;

static inline void
sb_edit(SbRowEdit *e, AttrNumber att, Datum v, bool isnull)
{
	Assert(e->n < SB_MAX_EDITS);
	e->cols[e->n] = att;
	e->values[e->n] = v;
	e->nulls[e->n] = isnull;
	e->n++;
}
extern HeapTuple sb_edit_apply(SbRowEdit *e, HeapTuple t, TupleDesc desc);

/* one-dimensional arrays for statement parameters (nulls may be NULL) */
extern ArrayType *sb_int8_array(const int64 *v, bool *nulls, int n);
extern int	sb_sort_unique_int64(int64 *v, int n);

/* a trigger's transition table, read from its start */
extern TupleTableSlot *sb_transition_slot(Tuplestorestate *ts, TupleDesc desc);
extern ArrayType *sb_tstz_array(const TimestampTz *v, bool *nulls, int n);

#endif							/* SB_ROWS_H */
