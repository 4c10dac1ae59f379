/*
 * rows.c: direct row access by key (foundation layer).
 *
 * Bypasses SQL, and so row-level security: the callers decide what the
 * session may see. The hot paths (a move, a next_due recompute, a
 * visibility check under row-level security) read rows this way instead of
 * paying an executor start-up per look-up (doc/DEVELOPING.md).
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/visibilitymap.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/predicate.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "errcodes.h"
#include "rows.h"

/*
 * Fetch the row of rel whose unique bigint index indexoid has key id, as
 * seen by snap, into slot.
 */
static bool
fetch_by_id(Relation rel, Oid indexoid, int64 id, Snapshot snap,
			   TupleTableSlot *slot)
{
	Relation	idx = index_open(indexoid, AccessShareLock);
	IndexScanDesc scan;
	ScanKeyData key;
	bool		found;

	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(id));
	scan = index_beginscan(rel, idx, snap, 1, 0);
	index_rescan(scan, &key, 1, NULL, 0);
	found = index_getnext_slot(scan, ForwardScanDirection, slot);
	index_endscan(scan);
	index_close(idx, NoLock);
	return found;
}

/*
 * Many look-ups by key in one relation (a statement trigger's deals): the
 * index stays open and one scan is re-keyed for each probe.
 */
void
sb_probe_begin(SbProbe *p, Relation rel, Oid indexoid, Snapshot snap)
{
	p->rel = rel;
	p->idx = index_open(indexoid, AccessShareLock);
	p->snap = snap;
	p->scan = index_beginscan(rel, p->idx, snap, 1, 0);
	p->slot = table_slot_create(rel, NULL);
	p->vmbuf = InvalidBuffer;
}

TupleTableSlot *
sb_probe(SbProbe *p, int64 id)
{
	ScanKeyData key;

	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(id));
	index_rescan(p->scan, &key, 1, NULL, 0);
	return index_getnext_slot(p->scan, ForwardScanDirection, p->slot) ? p->slot : NULL;
}

/* The next row with the key of the last sb_probe(), or NULL. */
TupleTableSlot *
sb_probe_next(SbProbe *p)
{
	return index_getnext_slot(p->scan, ForwardScanDirection, p->slot) ? p->slot : NULL;
}

/*
 * The bigint column of every row with key id whose index entry holds it
 * (index column idxatt, table column heapatt), as an index-only scan reads
 * it: from the index entry when the visibility map marks the row's page
 * all-visible, else from the row. Writes them to (*values)[0..] (grown by
 * repalloc when *max, its room, is too small) and returns how many.
 */
int
sb_probe_index_only(SbProbe *p, int64 id, AttrNumber idxatt, AttrNumber heapatt,
					int64 **values, int *max)
{
	IndexScanDesc scan = p->scan;
	ScanKeyData key;
	ItemPointer tid;
	int			n = 0;

	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(id));
	scan->xs_want_itup = true;	/* read before the rescan: where entries are kept */
	index_rescan(scan, &key, 1, NULL, 0);
	while ((tid = index_getnext_tid(scan, ForwardScanDirection)) != NULL)
	{
		bool		isnull;
		Datum		v;

		if (VM_ALL_VISIBLE(p->rel, ItemPointerGetBlockNumber(tid), &p->vmbuf))
		{
			Assert(scan->xs_itup != NULL);
			v = index_getattr(scan->xs_itup, idxatt, scan->xs_itupdesc, &isnull);
			PredicateLockPage(p->rel, ItemPointerGetBlockNumber(tid), p->snap);
		}
		else if (index_fetch_heap(scan, p->slot))
			v = slot_getattr(p->slot, heapatt, &isnull);
		else
			continue;			/* not visible to the snapshot */
		if (isnull)
			continue;
		if (n == *max)
		{
			*max = Max(4, *max * 2);
			*values = *values ? repalloc(*values, sizeof(int64) * *max)
				: palloc(sizeof(int64) * *max);
		}
		(*values)[n++] = DatumGetInt64(v);
	}
	return n;
}

void
sb_probe_end(SbProbe *p)
{
	if (BufferIsValid(p->vmbuf))
		ReleaseBuffer(p->vmbuf);
	index_endscan(p->scan);
	ExecDropSingleTupleTableSlot(p->slot);
	index_close(p->idx, NoLock);
}

int64
sb_slot_int8(TupleTableSlot *slot, AttrNumber att, bool *isnull)
{
	Datum		d = slot_getattr(slot, att, isnull);

	return *isnull ? 0 : DatumGetInt64(d);
}

/*
 * Open relid and fetch its row with key id through the unique bigint
 * index indexoid, as snap shows it (NULL: the newest data). The relation
 * stays open with lockmode until sb_fetch_end(); f->slot holds the row
 * when f->found.
 */
bool
sb_fetch_begin(SbFetch *f, Oid relid, Oid indexoid, int64 id, LOCKMODE lockmode,
			   Snapshot snap)
{
	f->rel = table_open(relid, lockmode);
	f->slot = table_slot_create(f->rel, NULL);
	f->snap = RegisterSnapshot(snap != NULL ? snap : GetLatestSnapshot());
	f->found = fetch_by_id(f->rel, indexoid, id, f->snap, f->slot);
	return f->found;
}

void
sb_fetch_end(SbFetch *f)
{
	if (f->snap != NULL)
		UnregisterSnapshot(f->snap);
	f->snap = NULL;
	ExecDropSingleTupleTableSlot(f->slot);
	table_close(f->rel, NoLock);
}

/* Is there a row with this bigint key (newest data)? */
bool
sb_row_exists(Oid relid, Oid indexoid, int64 id)
{
	SbFetch		f;
	bool		found = sb_fetch_begin(&f, relid, indexoid, id, AccessShareLock, NULL);

	sb_fetch_end(&f);
	return found;
}

/*
 * One bigint column of the row with key id (newest data); false when there
 * is no such row. Cheap enough to run per row under row-level security.
 */
bool
sb_fetch_int8(Oid relid, Oid indexoid, int64 id, AttrNumber att, int64 *value)
{
	SbFetch		f;
	bool		isnull;
	bool		found = sb_fetch_begin(&f, relid, indexoid, id, AccessShareLock, NULL);

	if (found)
		*value = sb_slot_int8(f.slot, att, &isnull);
	sb_fetch_end(&f);
	return found;
}

/*
 * Take the row lock of the row just fetched (FOR UPDATE strength: for a
 * deal it also waits for and blocks the FOR KEY SHARE locks that inserts of
 * activities take through their foreign key); f->slot then holds the
 * newest, locked version. False when the row was deleted meanwhile. Under
 * REPEATABLE READ a row changed since the transaction's snapshot is a
 * serialization failure, as with SELECT ... FOR UPDATE.
 */
bool
sb_lock_fetched_row(SbFetch *f, int64 id, const char *what)
{
	TM_FailureData tmfd;
	TM_Result	res;
	ItemPointerData tid = f->slot->tts_tid;
	int			flags = IsolationUsesXactSnapshot() ? 0 : TUPLE_LOCK_FLAG_FIND_LAST_VERSION;

	/*
	 * A row lock is a write: in a read-only transaction (a hot standby's
	 * too) say so as SELECT ... FOR UPDATE would (25006), before the lock
	 * would ask for a transaction id.
	 */
	PreventCommandIfReadOnly(psprintf("a change of %s " INT64_FORMAT, what, id));
	res = table_tuple_lock(f->rel, &tid, f->snap, f->slot, GetCurrentCommandId(false),
						   LockTupleExclusive, LockWaitBlock, flags, &tmfd);
	switch (res)
	{
		case TM_Ok:
		case TM_SelfModified:
			return true;
		case TM_Deleted:
			return false;
		case TM_Updated:
			ereport(ERROR,
					(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					 errmsg("could not serialize access due to concurrent update of %s " INT64_FORMAT, what, id),
					 errhint("Retry the transaction.")));
			break;
		default:
			elog(ERROR, "unexpected table_tuple_lock status %d for %s " INT64_FORMAT, (int) res, what, id);
	}
	return false;
}

/* Do two versions of a row differ in one column? */
bool
sb_col_changed(HeapTuple a, HeapTuple b, TupleDesc desc, AttrNumber att)
{
	bool		na,
				nb;
	Datum		va = heap_getattr(a, att, desc, &na);
	Datum		vb = heap_getattr(b, att, desc, &nb);
	Form_pg_attribute f = TupleDescAttr(desc, att - 1);

	if (na || nb)
		return na != nb;
	return !datumIsEqual(va, vb, f->attbyval, f->attlen);
}

/* The row a BEFORE ROW trigger returns, with its edits applied. */
HeapTuple
sb_edit_apply(SbRowEdit *e, HeapTuple t, TupleDesc desc)
{
	if (e->n == 0)
		return t;
	return heap_modify_tuple_by_cols(t, desc, e->n, e->cols, e->values, e->nulls);
}

static ArrayType *
array_of(Datum *d, bool *nulls, int n, Oid type)
{
	int			dims[1] = {n};
	int			lbs[1] = {1};

	return construct_md_array(d, nulls, 1, dims, lbs, type, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
}

/* An int8[] of n values, for array parameters. */
ArrayType *
sb_int8_array(const int64 *v, bool *nulls, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * Max(n, 1));
	int			i;

	for (i = 0; i < n; i++)
		d[i] = Int64GetDatum(v[i]);
	return array_of(d, nulls, n, INT8OID);
}

/* A timestamptz[] of n values. */
ArrayType *
sb_tstz_array(const TimestampTz *v, bool *nulls, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * Max(n, 1));
	int			i;

	for (i = 0; i < n; i++)
		d[i] = TimestampTzGetDatum(v[i]);
	return array_of(d, nulls, n, TIMESTAMPTZOID);
}

/*
 * A slot that iterates a trigger's transition table from its start, with a
 * read pointer of its own (several readers of one table do not disturb
 * each other). Drop it with ExecDropSingleTupleTableSlot.
 */
TupleTableSlot *
sb_transition_slot(Tuplestorestate *ts, TupleDesc desc)
{
	int			ptr = tuplestore_alloc_read_pointer(ts, EXEC_FLAG_REWIND);

	tuplestore_select_read_pointer(ts, ptr);
	tuplestore_rescan(ts);
	return MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
}

static int
cmp_int64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a,
				y = *(const int64 *) b;

	return (x > y) - (x < y);
}

/* Sorts ids and drops repeats in place; returns how many remain. */
int
sb_sort_unique_int64(int64 *v, int n)
{
	int			i,
				k = 0;

	if (n <= 1)
		return n;
	qsort(v, n, sizeof(int64), cmp_int64);
	for (i = 1; i < n; i++)
		if (v[i] != v[k])
			v[++k] = v[i];
	return k + 1;
}
