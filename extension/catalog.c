/*
 * catalog.c: shared look-ups, resolved once and invalidated properly.
 *
 * Owns:
 *  - the OIDs of the extension's relations, indexes and roles, and the
 *    attribute numbers of deal and activity (resolved by name once per
 *    backend, never per row);
 *  - the backend caches of stages, employees (with their pg_tz) and
 *    departments. Configuration tables carry a statement trigger
 *    (sb_config_changed_trigger) that sends a relcache invalidation for the
 *    table, so every backend drops its copy at its next transaction or
 *    command boundary; an abort undoes a cache built from rolled-back rows
 *    the same way. Entries handed out stay valid until the end of the
 *    transaction: a dropped cache generation is freed only then;
 *  - direct index access by key (a deal, the next planned activity, the
 *    row lock on a deal) for the hot paths, and the cache of kept SPI plans.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/acl.h"
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "salesboard.h"

PG_FUNCTION_INFO_V1(sb_config_changed_trigger);

SbCatalog	sb_cat;

static const char *const deal_cols[DEAL_NCOLS] = {
	"id", "pipeline_id", "stage_id", "owner_id", "title", "client_id",
	"service_type_id", "amount", "currency", "priority", "status",
	"next_due", "next_activity_id", "stage_entered_at", "created_at",
	"created_by", "closed_at", "lost_reason_id"
};

static const char *const act_cols[ACT_NCOLS] = {
	"id", "deal_id", "kind", "subject", "due_at", "all_day", "due_date",
	"assignee_id", "status", "result", "done_at", "created_at", "created_by"
};

/* ------------------------------------------------------------------
 * Relation and role OIDs
 * ------------------------------------------------------------------ */
static Oid
rel_oid(const char *name)
{
	Oid			relid = get_relname_relid(name, sb_cat.nsp);

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("relation salesboard.%s does not exist", name),
				 errhint("The salesboard extension is damaged; reinstall it with DROP EXTENSION and CREATE EXTENSION.")));
	return relid;
}

static void
resolve_atts(Oid relid, const char *const *names, AttrNumber *atts, int n)
{
	int			i;

	for (i = 0; i < n; i++)
	{
		atts[i] = get_attnum(relid, names[i]);
		if (atts[i] == InvalidAttrNumber)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column \"%s\" of relation \"%s\" does not exist",
							names[i], get_rel_name(relid)),
					 errhint("The salesboard extension is damaged; reinstall it.")));
	}
}

/* Make sb_cat valid: the relation, index and role OIDs of this database. */
void
sb_catalog(void)
{
	HeapTuple	tp;

	if (sb_cat.valid)
		return;
	sb_cat.nsp = get_namespace_oid("salesboard", true);
	if (!OidIsValid(sb_cat.nsp))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_SCHEMA),
				 errmsg("schema \"salesboard\" does not exist"),
				 errhint("Run CREATE EXTENSION salesboard first.")));
	sb_cat.deal = rel_oid("deal");
	sb_cat.deal_pkey = rel_oid("deal_pkey");
	sb_cat.deal_board_idx = rel_oid("deal_board_idx");
	sb_cat.deal_closed_idx = rel_oid("deal_closed_idx");
	sb_cat.activity = rel_oid("activity");
	sb_cat.activity_pkey = rel_oid("activity_pkey");
	sb_cat.activity_planned_idx = rel_oid("activity_planned_idx");
	sb_cat.stage = rel_oid("stage");
	sb_cat.employee = rel_oid("employee");
	sb_cat.department = rel_oid("department");
	sb_cat.client = rel_oid("client");
	sb_cat.client_pkey = rel_oid("client_pkey");
	sb_cat.service_type = rel_oid("service_type");
	sb_cat.service_type_pkey = rel_oid("service_type_pkey");
	sb_cat.tag = rel_oid("tag");
	sb_cat.tag_name_key = rel_oid("tag_name_key");
	sb_cat.deal_tag = rel_oid("deal_tag");
	sb_cat.deal_tag_pkey = rel_oid("deal_tag_pkey");
	sb_cat.stage_history = rel_oid("stage_history");
	sb_cat.history_request_key = rel_oid("stage_history_request_id_key");
	sb_cat.lost_reason = rel_oid("lost_reason");
	sb_cat.lost_reason_pkey = rel_oid("lost_reason_pkey");
	sb_cat.role_user = get_role_oid("salesboard_user", true);
	sb_cat.role_admin = get_role_oid("salesboard_admin", true);
	sb_cat.role_app = get_role_oid("salesboard_app", true);
	resolve_atts(sb_cat.deal, deal_cols, sb_cat.deal_att, DEAL_NCOLS);
	resolve_atts(sb_cat.activity, act_cols, sb_cat.act_att, ACT_NCOLS);
	sb_cat.hist_deal_id = get_attnum(sb_cat.stage_history, "deal_id");
	sb_cat.hist_event = get_attnum(sb_cat.stage_history, "event");
	sb_cat.hist_to_stage_id = get_attnum(sb_cat.stage_history, "to_stage_id");

	tp = SearchSysCache1(RELOID, ObjectIdGetDatum(sb_cat.deal));
	if (!HeapTupleIsValid(tp))
		elog(ERROR, "cache lookup failed for relation %u", sb_cat.deal);
	sb_cat.owner = ((Form_pg_class) GETSTRUCT(tp))->relowner;
	ReleaseSysCache(tp);

	sb_cat.valid = true;
}

/* ------------------------------------------------------------------
 * Configuration caches
 * ------------------------------------------------------------------ */
typedef struct StageEntry
{
	int64		id;
	SbStage		st;
} StageEntry;

typedef struct EmployeeEntry
{
	int64		id;
	SbEmployee	emp;
	char	   *role_name;
} EmployeeEntry;

typedef struct RoleEntry
{
	NameData	role;
	int64		employee_id;
} RoleEntry;

typedef struct DeptEntry
{
	int64		id;
	int64		parent_id;
	int64		head_id;
	int			nmembers;
	int			maxmembers;
	int64	   *members;
	int			nchildren;
	int			maxchildren;
	int64	   *children;
	uint64		seen;			/* walk stamp of sb_subtree_employees */
} DeptEntry;

typedef struct ConfigCache
{
	MemoryContext cxt;
	HTAB	   *stages;
	HTAB	   *employees;
	HTAB	   *roles;
	HTAB	   *depts;
} ConfigCache;

static ConfigCache cache_stage;		/* stages */
static ConfigCache cache_people;	/* employees, roles, departments */
static List *retired_cxts = NIL;	/* dropped generations, freed at xact end */
static Oid	stage_cache_relid = InvalidOid;	/* relations the caches came from */
static Oid	employee_cache_relid = InvalidOid;
static Oid	department_cache_relid = InvalidOid;
static uint64 people_generation = 1;

static void
retire(ConfigCache *c)
{
	if (c == &cache_people)
		people_generation++;
	if (c->cxt != NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		retired_cxts = lappend(retired_cxts, c->cxt);
		MemoryContextSwitchTo(old);
	}
	memset(c, 0, sizeof(*c));
}

/* At the end of a transaction: free the cache generations dropped in it. */
void
sb_catalog_xact_end(void)
{
	ListCell   *lc;

	foreach(lc, retired_cxts)
		MemoryContextDelete((MemoryContext) lfirst(lc));
	list_free(retired_cxts);
	retired_cxts = NIL;
}

/*
 * The relcache callback: a change to one of our relations (DDL, or the
 * invalidation our statement triggers send after data changes) drops what
 * we derived from it.
 */
static void
relcache_cb(Datum arg, Oid relid)
{
	if (!OidIsValid(relid))
	{
		sb_cat.valid = false;
		retire(&cache_stage);
		retire(&cache_people);
		return;
	}
	if (relid == stage_cache_relid)
		retire(&cache_stage);
	if (relid == employee_cache_relid || relid == department_cache_relid)
		retire(&cache_people);
	if (sb_cat.valid &&
		(relid == sb_cat.deal || relid == sb_cat.activity ||
		 relid == sb_cat.stage_history || relid == sb_cat.tag ||
		 relid == sb_cat.deal_tag || relid == sb_cat.client ||
		 relid == sb_cat.service_type || relid == sb_cat.lost_reason ||
		 relid == sb_cat.stage || relid == sb_cat.employee ||
		 relid == sb_cat.department))
		sb_cat.valid = false;
}

void
sb_catalog_init(void)
{
	CacheRegisterRelcacheCallback(relcache_cb, (Datum) 0);
}

/* Drop the employee and department cache now (a trigger that just changed them). */
void
sb_people_cache_reset(void)
{
	retire(&cache_people);
}

/* Bumped whenever the employee cache is dropped (identity.c caches by it). */
uint64
sb_people_generation(void)
{
	return people_generation;
}

static int64
spi_int8(int row, int col, bool *isnull)
{
	Datum		d = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, isnull);

	return *isnull ? 0 : DatumGetInt64(d);
}

static char *
spi_text(int row, int col, MemoryContext cxt)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, &isnull);
	char	   *s;
	MemoryContext old;

	if (isnull)
		return NULL;
	old = MemoryContextSwitchTo(cxt);
	s = TextDatumGetCString(d);
	MemoryContextSwitchTo(old);
	return s;
}

static void
load_stages(void)
{
	ConfigCache *c = &cache_stage;
	HASHCTL		ctl;
	uint64		i;

	sb_catalog();
	stage_cache_relid = sb_cat.stage;
	c->cxt = AllocSetContextCreate(CacheMemoryContext, "salesboard stages",
								   ALLOCSET_SMALL_SIZES);
	ctl.keysize = sizeof(int64);
	ctl.entrysize = sizeof(StageEntry);
	ctl.hcxt = c->cxt;

	SPI_connect();
	sb_exec_once("SELECT id, pipeline_id, kind, position, coalesce(rot_days, 0), "
				"probability::float8, name, "
				"pg_catalog.row_number() OVER (PARTITION BY pipeline_id ORDER BY "
				"CASE kind WHEN 'open' THEN 0 WHEN 'won' THEN 1 ELSE 2 END, position, id)::int4 "
				"FROM salesboard.stage", true);
	c->stages = hash_create("salesboard stages", Max(SPI_processed, 16), &ctl,
							HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		int64		id = spi_int8(i, 1, &isnull);
		StageEntry *e = hash_search(c->stages, &id, HASH_ENTER, NULL);
		char	   *kind = spi_text(i, 3, CurrentMemoryContext);

		e->st.id = id;
		e->st.pipeline_id = spi_int8(i, 2, &isnull);
		e->st.kind = kind[0];
		e->st.position = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 4, &isnull));
		e->st.rot_days = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 5, &isnull));
		e->st.probability = DatumGetFloat8(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 6, &isnull));
		e->st.name = spi_text(i, 7, c->cxt);
		e->st.column = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 8, &isnull));
	}
	SPI_finish();
}

static void
load_people(void)
{
	ConfigCache *c = &cache_people;
	HASHCTL		ctl;
	uint64		i;

	sb_catalog();
	employee_cache_relid = sb_cat.employee;
	department_cache_relid = sb_cat.department;
	c->cxt = AllocSetContextCreate(CacheMemoryContext, "salesboard employees",
								   ALLOCSET_DEFAULT_SIZES);
	SPI_connect();

	sb_exec_once("SELECT id, coalesce(parent_id, 0), coalesce(head_id, 0) FROM salesboard.department", true);
	ctl.keysize = sizeof(int64);
	ctl.entrysize = sizeof(DeptEntry);
	ctl.hcxt = c->cxt;
	c->depts = hash_create("salesboard departments", Max(SPI_processed, 16), &ctl,
						   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		int64		id = spi_int8(i, 1, &isnull);
		DeptEntry  *d = hash_search(c->depts, &id, HASH_ENTER, NULL);

		d->parent_id = spi_int8(i, 2, &isnull);
		d->head_id = spi_int8(i, 3, &isnull);
		d->nmembers = d->maxmembers = 0;
		d->members = NULL;
		d->nchildren = d->maxchildren = 0;
		d->children = NULL;
		d->seen = 0;
	}
	/* each department's children, for walking a subtree top-down */
	{
		HASH_SEQ_STATUS seq;
		DeptEntry  *d,
				   *parent;

		hash_seq_init(&seq, c->depts);
		while ((d = hash_seq_search(&seq)) != NULL)
		{
			if (d->parent_id == 0 ||
				(parent = hash_search(c->depts, &d->parent_id, HASH_FIND, NULL)) == NULL)
				continue;
			if (parent->nchildren == parent->maxchildren)
			{
				parent->maxchildren = Max(4, parent->maxchildren * 2);
				parent->children = parent->children == NULL
					? MemoryContextAlloc(c->cxt, sizeof(int64) * parent->maxchildren)
					: repalloc(parent->children, sizeof(int64) * parent->maxchildren);
			}
			parent->children[parent->nchildren++] = d->id;
		}
	}

	sb_exec_once("SELECT id, coalesce(department_id, 0), time_zone, name, role_name::text "
				"FROM salesboard.employee ORDER BY id", true);
	ctl.keysize = sizeof(int64);
	ctl.entrysize = sizeof(EmployeeEntry);
	c->employees = hash_create("salesboard employees", Max(SPI_processed, 16), &ctl,
							   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	ctl.keysize = NAMEDATALEN;
	ctl.entrysize = sizeof(RoleEntry);
	c->roles = hash_create("salesboard employee roles", 64, &ctl,
						   HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		int64		id = spi_int8(i, 1, &isnull);
		EmployeeEntry *e = hash_search(c->employees, &id, HASH_ENTER, NULL);
		DeptEntry  *d;

		e->emp.id = id;
		e->emp.department_id = spi_int8(i, 2, &isnull);
		e->emp.time_zone = spi_text(i, 3, c->cxt);
		e->emp.tz = NULL;		/* resolved on first use */
		e->emp.name = spi_text(i, 4, c->cxt);
		e->role_name = spi_text(i, 5, c->cxt);
		if (e->role_name != NULL && strlen(e->role_name) < NAMEDATALEN)
		{
			RoleEntry  *r = hash_search(c->roles, e->role_name, HASH_ENTER, NULL);

			r->employee_id = id;
		}
		if (e->emp.department_id != 0 &&
			(d = hash_search(c->depts, &e->emp.department_id, HASH_FIND, NULL)) != NULL)
		{
			if (d->nmembers == d->maxmembers)
			{
				d->maxmembers = Max(8, d->maxmembers * 2);
				d->members = d->members == NULL
					? MemoryContextAlloc(c->cxt, sizeof(int64) * d->maxmembers)
					: repalloc(d->members, sizeof(int64) * d->maxmembers);
			}
			d->members[d->nmembers++] = id;
		}
	}
	SPI_finish();
}

const SbStage *
sb_stage(int64 id)
{
	StageEntry *e;
	int			attempt;

	for (attempt = 0; attempt < 2; attempt++)
	{
		if (cache_stage.stages == NULL)
			load_stages();
		e = hash_search(cache_stage.stages, &id, HASH_FIND, NULL);
		if (e != NULL)
			return &e->st;
		/* maybe committed after our cache was built: reload once */
		retire(&cache_stage);
	}
	return NULL;
}

/* The won ('w') or lost ('l') stage of a pipeline, or NULL. */
const SbStage *
sb_terminal_stage(int64 pipeline_id, char kind)
{
	HASH_SEQ_STATUS seq;
	StageEntry *e;
	const SbStage *found = NULL;

	if (cache_stage.stages == NULL)
		load_stages();
	hash_seq_init(&seq, cache_stage.stages);
	while ((e = hash_seq_search(&seq)) != NULL)
	{
		if (e->st.pipeline_id == pipeline_id && e->st.kind == kind)
			found = &e->st;
	}
	return found;
}

static int
cmp_stage_column(const void *a, const void *b)
{
	const SbStage *x = *(const SbStage *const *) a;
	const SbStage *y = *(const SbStage *const *) b;

	return x->column - y->column;
}

/* The stages of a pipeline in board-column order; palloc'd array. */
const SbStage **
sb_pipeline_stages(int64 pipeline_id, int *n)
{
	HASH_SEQ_STATUS seq;
	StageEntry *e;
	const SbStage **out;
	int			count = 0;

	if (cache_stage.stages == NULL)
		load_stages();
	out = palloc(sizeof(SbStage *) * (hash_get_num_entries(cache_stage.stages) + 1));
	hash_seq_init(&seq, cache_stage.stages);
	while ((e = hash_seq_search(&seq)) != NULL)
		if (e->st.pipeline_id == pipeline_id)
			out[count++] = &e->st;
	qsort(out, count, sizeof(SbStage *), cmp_stage_column);
	*n = count;
	return out;
}

/* The pipeline with the smallest id that has stages, or -1. */
int64
sb_first_pipeline(void)
{
	HASH_SEQ_STATUS seq;
	StageEntry *e;
	int64		first = -1;

	if (cache_stage.stages == NULL)
		load_stages();
	hash_seq_init(&seq, cache_stage.stages);
	while ((e = hash_seq_search(&seq)) != NULL)
		if (first == -1 || e->st.pipeline_id < first)
			first = e->st.pipeline_id;
	return first;
}

const SbEmployee *
sb_employee(int64 id)
{
	EmployeeEntry *e;
	int			attempt;

	for (attempt = 0; attempt < 2; attempt++)
	{
		if (cache_people.employees == NULL)
			load_people();
		e = hash_search(cache_people.employees, &id, HASH_FIND, NULL);
		if (e != NULL)
		{
			if (e->emp.tz == NULL)
				e->emp.tz = sb_tz_lookup(e->emp.time_zone);
			return &e->emp;
		}
		retire(&cache_people);
	}
	return NULL;
}

int64
sb_employee_by_role(const char *rolname)
{
	RoleEntry  *r;

	if (rolname == NULL || strlen(rolname) >= NAMEDATALEN)
		return 0;
	if (cache_people.roles == NULL)
		load_people();
	r = hash_search(cache_people.roles, rolname, HASH_FIND, NULL);
	return r != NULL ? r->employee_id : 0;
}

/* True when employee_id works in a department whose chain of parents includes one headed by head_id. */
bool
sb_is_head_over(int64 head_id, int64 employee_id)
{
	const SbEmployee *emp = sb_employee(employee_id);
	int64		dept;
	int			depth = 0;

	if (emp == NULL)
		return false;
	dept = emp->department_id;
	while (dept != 0 && depth++ < 10000)
	{
		DeptEntry  *d = hash_search(cache_people.depts, &dept, HASH_FIND, NULL);

		if (d == NULL)
			break;
		if (d->head_id == head_id)
			return true;
		dept = d->parent_id;
	}
	return false;
}

/*
 * Every employee in the departments headed by head_id and all departments
 * below them, plus head_id itself; palloc'd, sorted by id.
 */
static int
cmp_int64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a,
				y = *(const int64 *) b;

	return x < y ? -1 : (x > y ? 1 : 0);
}

int64 *
sb_subtree_employees(int64 head_id, int *n)
{
	static uint64 walk = 0;
	HASH_SEQ_STATUS seq;
	DeptEntry  *d;
	DeptEntry **queue;
	int			head = 0,
				tail = 0,
				i,
				pos;
	int64	   *result;
	int			nresult = 0,
				maxresult = 16;

	if (cache_people.depts == NULL)
		load_people();
	walk++;
	queue = palloc(sizeof(DeptEntry *) * (hash_get_num_entries(cache_people.depts) + 1));

	/* departments headed by head_id, then breadth-first below them */
	hash_seq_init(&seq, cache_people.depts);
	while ((d = hash_seq_search(&seq)) != NULL)
		if (d->head_id == head_id && d->seen != walk)
		{
			d->seen = walk;
			queue[tail++] = d;
		}
	result = palloc(sizeof(int64) * maxresult);
	result[nresult++] = head_id;
	while (head < tail)
	{
		d = queue[head++];
		for (pos = 0; pos < d->nmembers; pos++)
		{
			if (nresult == maxresult)
			{
				maxresult *= 2;
				result = repalloc(result, sizeof(int64) * maxresult);
			}
			result[nresult++] = d->members[pos];
		}
		for (i = 0; i < d->nchildren; i++)
		{
			DeptEntry  *child = hash_search(cache_people.depts, &d->children[i], HASH_FIND, NULL);

			/* the stamp also stops a cycle loaded with triggers off */
			if (child != NULL && child->seen != walk)
			{
				child->seen = walk;
				queue[tail++] = child;
			}
		}
	}
	qsort(result, nresult, sizeof(int64), cmp_int64);
	/* unique: the head is usually also a member of their department */
	pos = 0;
	for (i = 0; i < nresult; i++)
		if (i == 0 || result[i] != result[pos - 1])
			result[pos++] = result[i];
	*n = pos;
	pfree(queue);
	return result;
}

/*
 * AFTER ... FOR EACH STATEMENT on stage, employee and department: tell
 * every backend (this one included) to drop its cached copy.
 */
Datum
sb_config_changed_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_STATEMENT(trigdata->tg_event))
		sb_trigger_misuse("sb_config_changed_trigger", "AFTER ... FOR EACH STATEMENT");
	CacheInvalidateRelcacheByRelid(RelationGetRelid(trigdata->tg_relation));
	return PointerGetDatum(NULL);
}

/* ------------------------------------------------------------------
 * Direct access by key
 * ------------------------------------------------------------------ */

/*
 * Fetch the row of rel whose unique bigint index indexoid has key id, as
 * seen by snap, into slot. Bypasses SQL, and so row-level security: the
 * callers decide what the session may see.
 */
bool
sb_fetch_by_id(Relation rel, Oid indexoid, int64 id, Snapshot snap,
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

void
sb_probe_end(SbProbe *p)
{
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
 * The planned activity of a deal with the smallest (due_at, id), as the
 * newest committed data and this transaction's own changes show it: a
 * derived column must follow reality, not an old snapshot. Reads the
 * partial index activity_planned_idx (deal_id, due_at, id) through a
 * probe opened on it with the newest snapshot, and stops after the first n
 * rows that are still planned.
 */
int
sb_planned_probe(SbProbe *p, int64 deal_id, int n, int64 *act_ids, TimestampTz *dues)
{
	TupleTableSlot *slot = sb_probe(p, deal_id);
	int			found = 0;

	for (; slot != NULL && found < n; slot = sb_probe_next(p))
	{
		bool		isnull;

		if (sb_slot_code(slot, sb_cat.act_att[ACT_STATUS]) != 'p')
			continue;
		act_ids[found] = DatumGetInt64(slot_getattr(slot, sb_cat.act_att[ACT_ID], &isnull));
		dues[found] = DatumGetTimestampTz(slot_getattr(slot, sb_cat.act_att[ACT_DUE_AT], &isnull));
		found++;
	}
	return found;
}

/* The same for one deal, opening and closing what it reads. */
int
sb_next_planned_n(int64 deal_id, int n, int64 *act_ids, TimestampTz *dues)
{
	Relation	rel;
	Snapshot	snap;
	SbProbe		probe;
	int			found;

	sb_catalog();
	rel = table_open(sb_cat.activity, AccessShareLock);
	snap = RegisterSnapshot(GetLatestSnapshot());
	sb_probe_begin(&probe, rel, sb_cat.activity_planned_idx, snap);
	found = sb_planned_probe(&probe, deal_id, n, act_ids, dues);
	sb_probe_end(&probe);
	UnregisterSnapshot(snap);
	table_close(rel, NoLock);
	return found;
}

bool
sb_next_planned(int64 deal_id, int64 *act_id, TimestampTz *due)
{
	return sb_next_planned_n(deal_id, 1, act_id, due) == 1;
}

/*
 * Take the row lock of deal id (FOR UPDATE strength: it also waits for and
 * blocks the FOR KEY SHARE locks that inserts of activities take through
 * their foreign key) and return its newest version in slot. False when the
 * deal does not exist. Under REPEATABLE READ a deal changed since the
 * transaction's snapshot is a serialization failure, as with SELECT ... FOR
 * UPDATE.
 */
/*
 * Lock the deal row just fetched into slot (with snap); slot then holds the
 * newest, locked version. False when it was deleted meanwhile.
 */
bool
sb_lock_fetched_deal(Relation rel, int64 id, Snapshot snap, TupleTableSlot *slot)
{
	TM_FailureData tmfd;
	TM_Result	res;
	ItemPointerData tid = slot->tts_tid;
	int			flags = IsolationUsesXactSnapshot() ? 0 : TUPLE_LOCK_FLAG_FIND_LAST_VERSION;

	res = table_tuple_lock(rel, &tid, snap, slot, GetCurrentCommandId(false),
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
					 errmsg("could not serialize access due to concurrent update of deal " INT64_FORMAT, id),
					 errhint("Retry the transaction.")));
			break;
		default:
			elog(ERROR, "unexpected table_tuple_lock status %d for deal " INT64_FORMAT, (int) res, id);
	}
	return false;
}

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
	v = slot_getattr(slot, a[DEAL_STATUS], &isnull);
	d->status = sb_text_code(v, isnull);
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
void
sb_deal_not_found(int64 id)
{
	ereport(ERROR,
			(errcode(ERRCODE_SB_UNKNOWN_DEAL),
			 errmsg("deal " INT64_FORMAT " does not exist or is not visible to you", id),
			 errhint("Pass the id of one of your deals (salesboard.board() or salesboard.deal_list() show them).")));
}

/*
 * The owner of a deal, as the newest data shows it; false when there is no
 * such deal. Reads one column: it runs per row under row-level security.
 */
bool
sb_deal_owner(int64 id, int64 *owner_id)
{
	Relation	rel;
	TupleTableSlot *slot;
	Snapshot	snap;
	bool		found,
				isnull;

	sb_catalog();
	rel = table_open(sb_cat.deal, AccessShareLock);
	slot = table_slot_create(rel, NULL);
	snap = RegisterSnapshot(GetLatestSnapshot());
	found = sb_fetch_by_id(rel, sb_cat.deal_pkey, id, snap, slot);
	if (found)
		*owner_id = sb_slot_int8(slot, sb_cat.deal_att[DEAL_OWNER_ID], &isnull);
	UnregisterSnapshot(snap);
	ExecDropSingleTupleTableSlot(slot);
	table_close(rel, NoLock);
	return found;
}

/* Does the deal exist, and may the session see it? */
bool
sb_deal_visible(int64 id)
{
	int64		owner;

	return sb_deal_owner(id, &owner) && sb_can_access_owner(owner);
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
	Relation	rel;
	TupleTableSlot *slot;
	Snapshot	snap;
	bool		found;
	bool		isnull;

	sb_catalog();
	rel = table_open(sb_cat.deal, RowShareLock);
	slot = table_slot_create(rel, NULL);
	snap = RegisterSnapshot(IsolationUsesXactSnapshot() ? GetActiveSnapshot() : GetLatestSnapshot());
	found = sb_fetch_by_id(rel, sb_cat.deal_pkey, id, snap, slot);
	/* check visibility before taking a lock others would wait for */
	if (!found ||
		!sb_can_access_owner(sb_slot_int8(slot, sb_cat.deal_att[DEAL_OWNER_ID], &isnull)) ||
		!sb_lock_fetched_deal(rel, id, snap, slot))
		sb_deal_not_found(id);
	UnregisterSnapshot(snap);
	sb_deal_from_slot(slot, d);
	if (!sb_can_access_owner(d->owner_id))
		sb_deal_not_found(id);
	ExecDropSingleTupleTableSlot(slot);
	table_close(rel, NoLock);
}

/* Is there a row with this bigint key (newest data)? */
bool
sb_row_exists(Oid relid, Oid indexoid, int64 id)
{
	Relation	rel = table_open(relid, AccessShareLock);
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	Snapshot	snap = RegisterSnapshot(GetLatestSnapshot());
	bool		found = sb_fetch_by_id(rel, indexoid, id, snap, slot);

	UnregisterSnapshot(snap);
	ExecDropSingleTupleTableSlot(slot);
	table_close(rel, NoLock);
	return found;
}

/* An int8[] of n values (nulls may be NULL), for array parameters. */
ArrayType *
sb_int8_array(const int64 *v, bool *nulls, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * Max(n, 1));
	int			dims[1] = {n};
	int			lbs[1] = {1};
	int			i;

	for (i = 0; i < n; i++)
		d[i] = Int64GetDatum(v[i]);
	return construct_md_array(d, nulls, 1, dims, lbs, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
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
					 errmsg("tag \"%s\" does not exist", name ? name : "(null)"),
					 errhint("%s", hint)));
		}
		(*ids)[n++] = DatumGetInt64(id);
	}
	SPI_finish();
	return n;
}

/* ------------------------------------------------------------------
 * The SPI runner: every statement the extension runs as its owner
 *
 * Internal SQL reads and writes the extension's tables as their owner,
 * past row-level security: the C code has already decided what the caller
 * may do. Running as the owner must never mean running anything the
 * caller defined. Names in a statement are resolved when it is parsed and
 * planned (and again whenever a kept plan is re-planned), through the
 * search_path then in force; so each statement is parsed, planned and
 * executed inside an "owner scope":
 *   - a new GUC nest level with search_path = SB_SAFE_SEARCH_PATH (only
 *     pg_catalog for functions, operators and types; the session's temp
 *     schema, which is never searched for functions or operators, last),
 *     undone at the end of the scope and by any (sub)transaction abort;
 *   - the extension owner as current user (SECURITY_LOCAL_USERID_CHANGE,
 *     as a SECURITY DEFINER function does). A security-restricted
 *     operation is not used: it would forbid the deferred constraint
 *     triggers that carry the discipline rules.
 * The statements are written fully qualified as well (salesboard.x,
 * pg_catalog.f()), so a reader sees they are safe without this comment.
 * ------------------------------------------------------------------ */
typedef struct OwnerScope
{
	Oid			saved_uid;
	int			saved_sec;
	int			guc_nest;
} OwnerScope;

static void
owner_scope_enter(OwnerScope *s)
{
	sb_catalog();
	GetUserIdAndSecContext(&s->saved_uid, &s->saved_sec);
	s->guc_nest = NewGUCNestLevel();
	(void) set_config_option("search_path", SB_SAFE_SEARCH_PATH,
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
	SetUserIdAndSecContext(sb_cat.owner, s->saved_sec | SECURITY_LOCAL_USERID_CHANGE);
}

/*
 * Leave the scope. On an error thrown inside it the scope is left by the
 * abort of the (sub)transaction, which restores both the user and the GUC
 * nest level; the callers' PG_FINALLY restores the user at once only.
 */
static void
owner_scope_exit(OwnerScope *s, bool ok)
{
	SetUserIdAndSecContext(s->saved_uid, s->saved_sec);
	if (ok)
		AtEOXact_GUC(true, s->guc_nest);
}

/* A statement's plan, prepared once inside an owner scope and kept. */
static SPIPlanPtr
kept_plan(SbQuery *q)
{
	if (q->plan == NULL)
	{
		/*
		 * Generic plans only: every statement here looks rows up by key,
		 * one id or an array of ids, and a custom plan for a large array
		 * could trade the index probes for a scan of the whole table.
		 */
		SPIPlanPtr	p = SPI_prepare_cursor(q->sql, q->nargs, q->argtypes,
										   CURSOR_OPT_GENERIC_PLAN);

		if (p == NULL)
			elog(ERROR, "salesboard: SPI_prepare failed for \"%s\": %s",
				 q->sql, SPI_result_code_string(SPI_result));
		SPI_keepplan(p);
		q->plan = p;
	}
	return (SPIPlanPtr) q->plan;
}

/*
 * Execute a kept statement as the extension owner with the pinned
 * search_path; returns the SPI result code. The caller has SPI_connect()ed.
 */
int
sb_exec(SbQuery *q, Datum *values, const char *nulls, bool read_only, long count)
{
	OwnerScope	scope;
	volatile int rc = 0;

	owner_scope_enter(&scope);
	PG_TRY();
	{
		rc = SPI_execute_plan(kept_plan(q), values, nulls, read_only, count);
	}
	PG_CATCH();
	{
		owner_scope_exit(&scope, false);
		PG_RE_THROW();
	}
	PG_END_TRY();
	owner_scope_exit(&scope, true);
	if (rc < 0)
		elog(ERROR, "salesboard: SPI_execute_plan failed for \"%s\": %s",
			 q->sql, SPI_result_code_string(rc));
	return rc;
}

/*
 * Run a one-off statement without parameters (cache loads, verify()) the
 * same way; the caller has SPI_connect()ed and reads SPI_tuptable.
 */
int
sb_exec_once(const char *sql, bool read_only)
{
	OwnerScope	scope;
	volatile int rc = 0;

	owner_scope_enter(&scope);
	PG_TRY();
	{
		rc = SPI_execute(sql, read_only, 0);
	}
	PG_CATCH();
	{
		owner_scope_exit(&scope, false);
		PG_RE_THROW();
	}
	PG_END_TRY();
	owner_scope_exit(&scope, true);
	if (rc < 0)
		elog(ERROR, "salesboard: SPI_execute failed for \"%s\": %s",
			 sql, SPI_result_code_string(rc));
	return rc;
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

/* A trigger function attached where it does not belong. */
void
sb_trigger_misuse(const char *fname, const char *how)
{
	ereport(ERROR,
			(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
			 errmsg("function %s must be fired %s", fname, how),
			 errhint("It is installed by the salesboard extension; do not attach it elsewhere.")));
}

/* A deal as the newest data shows it (no visibility check); false if none. */
bool
sb_read_deal(int64 id, SbDealRow *d)
{
	Relation	rel = table_open(sb_cat.deal, AccessShareLock);
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	Snapshot	snap = RegisterSnapshot(GetLatestSnapshot());
	bool		found = sb_fetch_by_id(rel, sb_cat.deal_pkey, id, snap, slot);

	if (found)
		sb_deal_from_slot(slot, d);
	UnregisterSnapshot(snap);
	ExecDropSingleTupleTableSlot(slot);
	table_close(rel, NoLock);
	return found;
}

/* ------------------------------------------------------------------
 * Argument helpers
 * ------------------------------------------------------------------ */
void
sb_require_arg(FunctionCallInfo fcinfo, int argno, const char *name)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", name),
				 errhint("Pass a value for %s.", name)));
}

char *
sb_text_arg(FunctionCallInfo fcinfo, int argno)
{
	if (PG_ARGISNULL(argno))
		return NULL;
	return text_to_cstring(PG_GETARG_TEXT_PP(argno));
}

bool
sb_blank(const char *s)
{
	if (s == NULL)
		return true;
	for (; *s; s++)
		if (!isspace((unsigned char) *s))
			return false;
	return true;
}

/* salesboard.can_see_deal(deal_id): row-level security of rows hanging off a deal */
PG_FUNCTION_INFO_V1(sb_can_see_deal_sql);

Datum
sb_can_see_deal_sql(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_BOOL(false);
	if (sb_is_admin())
		PG_RETURN_BOOL(true);
	PG_RETURN_BOOL(sb_deal_visible(PG_GETARG_INT64(0)));
}
