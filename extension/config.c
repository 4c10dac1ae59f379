/*
 * config.c: the backend caches of stages, employees and departments
 * (services layer; config.h says how they are kept fresh).
 *
 * Also the department tree's walks: is one employee a head over another,
 * and everyone in a head's subtree.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/rel.h"

#include "calls.h"
#include "catalog.h"
#include "config.h"
#include "errcodes.h"
#include "rows.h"
#include "spi.h"
#include "calendar.h"

PG_FUNCTION_INFO_V1(sb_config_changed_trigger);

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

/* company settings, loaded on first use */
static bool company_loaded = false;
static Oid	company_cache_relid = InvalidOid;
static char default_currency[4];
static bool has_default_currency = false;
static char default_region[3];
static bool has_default_region = false;

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
sb_config_xact_end(void)
{
	ListCell   *lc;

	foreach(lc, retired_cxts)
		MemoryContextDelete((MemoryContext) lfirst(lc));
	list_free(retired_cxts);
	retired_cxts = NIL;
}

/*
 * The relcache callback: a change to stage, employee or department (DDL,
 * or the invalidation our statement triggers send after data changes)
 * drops the cache built from it.
 */
static void
relcache_cb(Datum arg, Oid relid)
{
	if (!OidIsValid(relid))
	{
		retire(&cache_stage);
		retire(&cache_people);
		company_loaded = false;
		return;
	}
	/* no company table yet: any change may be the update that creates it */
	if (relid == company_cache_relid || !OidIsValid(company_cache_relid))
		company_loaded = false;
	if (relid == stage_cache_relid)
		retire(&cache_stage);
	if (relid == employee_cache_relid || relid == department_cache_relid)
		retire(&cache_people);
}

void
sb_config_init(void)
{
	CacheRegisterRelcacheCallback(relcache_cb, (Datum) 0);
}

/*
 * The company row, once per session until it changes: default_currency,
 * and default_region where the column exists (an upgrade script adds it
 * after the table, so a fragment between the two may read the row).
 */
static void
load_company(void)
{
	sb_catalog();
	/* created by ALTER EXTENSION UPDATE since the catalog was read? */
	if (!OidIsValid(sb_cat.company) && OidIsValid(get_relname_relid("company", sb_cat.nsp)))
		(void) sb_catalog_require("company");
	has_default_currency = false;
	has_default_region = false;
	company_cache_relid = sb_cat.company;
	if (OidIsValid(sb_cat.company))
	{
		bool		with_region = get_attnum(sb_cat.company, "default_region") != InvalidAttrNumber;

		SPI_connect();
		sb_exec_once(with_region ?
					 "SELECT c.default_currency::text, c.default_region::text FROM salesboard.company c" :
					 "SELECT c.default_currency::text, NULL::text FROM salesboard.company c", true);
		if (SPI_processed == 1)
		{
			char	   *cur = sb_spi_text(0, 1, CurrentMemoryContext);
			char	   *region = sb_spi_text(0, 2, CurrentMemoryContext);

			if (cur != NULL)
			{
				strlcpy(default_currency, cur, sizeof(default_currency));
				has_default_currency = true;
			}
			if (region != NULL)
			{
				strlcpy(default_region, region, sizeof(default_region));
				has_default_region = true;
			}
		}
		SPI_finish();
	}
	company_loaded = true;
}

const char *
sb_default_currency(void)
{
	if (!company_loaded)
		load_company();
	return has_default_currency ? default_currency : NULL;
}

const char *
sb_default_region(void)
{
	if (!company_loaded)
		load_company();
	return has_default_region ? default_region : NULL;
}

/* Read the company row again at its next use (a trigger that just changed it). */
void
sb_company_cache_reset(void)
{
	company_loaded = false;
}

void
sb_require_active(const SbEmployee *emp, const char *what)
{
	if (emp != NULL && !emp->active)
		ereport(ERROR,
				(errcode(ERRCODE_SB_EMPLOYEE_LEFT),
				 errmsg("employee " INT64_FORMAT " (%s) has left: %s", emp->id, emp->name, what),
				 errdetail("employee.active is false: people who have left get no new work."),
				 errhint("Choose an active employee, or set active back to true if they have not left.")));
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
	sb_exec_once("SELECT s.id, s.pipeline_id, s.kind, s.position, coalesce(s.rot_days, 0), "
				 "s.probability::float8, s.name, "
				 "pg_catalog.row_number() OVER (PARTITION BY s.pipeline_id ORDER BY "
				 "CASE s.kind WHEN 'open' THEN 0 WHEN 'won' THEN 1 ELSE 2 END, s.position, s.id)::int4 "
				 "FROM salesboard.stage s", true);
	c->stages = hash_create("salesboard stages", Max(SPI_processed, 16), &ctl,
							HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		int64		id = sb_spi_int8(i, 1, &isnull);
		StageEntry *e = hash_search(c->stages, &id, HASH_ENTER, NULL);
		Datum		kind = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 3, &isnull);

		e->st.id = id;
		e->st.pipeline_id = sb_spi_int8(i, 2, &isnull);
		e->st.kind = sb_status_from_datum(kind, isnull);
		e->st.position = sb_spi_int4(i, 4);
		e->st.rot_days = sb_spi_int4(i, 5);
		e->st.probability = sb_spi_float8(i, 6);
		e->st.name = sb_spi_text(i, 7, c->cxt);
		e->st.column = sb_spi_int4(i, 8);
	}
	SPI_finish();
}

/* Append v to a growing array in cxt. */
static void
append_id(MemoryContext cxt, int64 **arr, int *n, int *max, int64 v)
{
	if (*n == *max)
	{
		*max = Max(8, *max * 2);
		*arr = *arr == NULL ? MemoryContextAlloc(cxt, sizeof(int64) * *max)
			: repalloc(*arr, sizeof(int64) * *max);
	}
	(*arr)[(*n)++] = v;
}

/* Departments, each with its children, for walking a subtree top-down. */
static void
load_departments(ConfigCache *c)
{
	HASHCTL		ctl;
	HASH_SEQ_STATUS seq;
	DeptEntry  *d,
			   *parent;
	uint64		i;

	sb_exec_once("SELECT d.id, coalesce(d.parent_id, 0), coalesce(d.head_id, 0) FROM salesboard.department d", true);
	ctl.keysize = sizeof(int64);
	ctl.entrysize = sizeof(DeptEntry);
	ctl.hcxt = c->cxt;
	c->depts = hash_create("salesboard departments", Max(SPI_processed, 16), &ctl,
						   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		int64		id = sb_spi_int8(i, 1, &isnull);

		d = hash_search(c->depts, &id, HASH_ENTER, NULL);
		d->parent_id = sb_spi_int8(i, 2, &isnull);
		d->head_id = sb_spi_int8(i, 3, &isnull);
		d->nmembers = d->maxmembers = 0;
		d->members = NULL;
		d->nchildren = d->maxchildren = 0;
		d->children = NULL;
		d->seen = 0;
	}
	hash_seq_init(&seq, c->depts);
	while ((d = hash_seq_search(&seq)) != NULL)
		if (d->parent_id != 0 &&
			(parent = hash_search(c->depts, &d->parent_id, HASH_FIND, NULL)) != NULL)
			append_id(c->cxt, &parent->children, &parent->nchildren, &parent->maxchildren, d->id);
}

/* Employees, by id and by role name, and as members of their department. */
static void
load_employees(ConfigCache *c)
{
	HASHCTL		ctl;
	uint64		i;

	sb_exec_once("SELECT e.id, coalesce(e.department_id, 0), e.time_zone, e.name, e.role_name::text, "
				 "e.active FROM salesboard.employee e ORDER BY e.id", true);
	ctl.keysize = sizeof(int64);
	ctl.entrysize = sizeof(EmployeeEntry);
	ctl.hcxt = c->cxt;
	c->employees = hash_create("salesboard employees", Max(SPI_processed, 16), &ctl,
							   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	ctl.keysize = NAMEDATALEN;
	ctl.entrysize = sizeof(RoleEntry);
	c->roles = hash_create("salesboard employee roles", 64, &ctl,
						   HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		int64		id = sb_spi_int8(i, 1, &isnull);
		EmployeeEntry *e = hash_search(c->employees, &id, HASH_ENTER, NULL);
		DeptEntry  *d;

		e->emp.id = id;
		e->emp.department_id = sb_spi_int8(i, 2, &isnull);
		e->emp.time_zone = sb_spi_text(i, 3, c->cxt);
		e->emp.tz = NULL;		/* resolved on first use */
		e->emp.name = sb_spi_text(i, 4, c->cxt);
		e->role_name = sb_spi_text(i, 5, c->cxt);
		e->emp.active = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 6, &isnull));
		if (e->role_name != NULL && strlen(e->role_name) < NAMEDATALEN)
		{
			RoleEntry  *r = hash_search(c->roles, e->role_name, HASH_ENTER, NULL);

			r->employee_id = id;
		}
		if (e->emp.department_id != 0 &&
			(d = hash_search(c->depts, &e->emp.department_id, HASH_FIND, NULL)) != NULL)
			append_id(c->cxt, &d->members, &d->nmembers, &d->maxmembers, id);
	}
}

static void
load_people(void)
{
	ConfigCache *c = &cache_people;

	sb_catalog();
	employee_cache_relid = sb_cat.employee;
	department_cache_relid = sb_cat.department;
	c->cxt = AllocSetContextCreate(CacheMemoryContext, "salesboard employees",
								   ALLOCSET_DEFAULT_SIZES);
	SPI_connect();
	load_departments(c);
	load_employees(c);
	SPI_finish();
}

/* A stage, or NULL when there is none (a miss is an answer: see config.h). */
const SbStage *
sb_stage(int64 id)
{
	StageEntry *e;

	if (cache_stage.stages == NULL)
		load_stages();
	e = hash_search(cache_stage.stages, &id, HASH_FIND, NULL);
	return e != NULL ? &e->st : NULL;
}

const SbStage *
sb_stage_or_error(int64 id)
{
	const SbStage *st = sb_stage(id);

	if (st == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_SB_UNKNOWN_STAGE),
				 errmsg("stage " INT64_FORMAT " does not exist", id),
				 errhint("Pass the id of a row of salesboard.stage.")));
	return st;
}

/* The won or lost stage of a pipeline, or NULL. */
const SbStage *
sb_terminal_stage(int64 pipeline_id, SbStatus kind)
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

/*
 * Deals live only in a pipeline that can end: one with a Won and a Lost
 * stage (SB023 at creation, not when someone first tries to close one).
 */
void
sb_require_terminal_stages(int64 pipeline_id)
{
	bool		won = sb_terminal_stage(pipeline_id, SB_WON) != NULL;
	bool		lost = sb_terminal_stage(pipeline_id, SB_LOST) != NULL;

	if (!won || !lost)
		ereport(ERROR,
				(errcode(ERRCODE_SB_PIPELINE_TERMINAL),
				 errmsg("pipeline " INT64_FORMAT " has no %s stage: no deal can be created in it yet",
						pipeline_id, !won && !lost ? "won and no lost" : !won ? "won" : "lost"),
				 errhint("Add a stage of kind 'won' and one of kind 'lost' to the pipeline first.")));
}

/* The pipeline with the smallest id above `after` that has stages, or -1. */
int64
sb_pipeline_after(int64 after)
{
	HASH_SEQ_STATUS seq;
	StageEntry *e;
	int64		next = -1;

	if (cache_stage.stages == NULL)
		load_stages();
	hash_seq_init(&seq, cache_stage.stages);
	while ((e = hash_seq_search(&seq)) != NULL)
		if (e->st.pipeline_id > after && (next == -1 || e->st.pipeline_id < next))
			next = e->st.pipeline_id;
	return next;
}

/* The pipeline with the smallest id that has stages, or -1. */
int64
sb_first_pipeline(void)
{
	return sb_pipeline_after(PG_INT64_MIN);
}

/* An employee, or NULL when there is none (a miss is an answer). */
const SbEmployee *
sb_employee(int64 id)
{
	EmployeeEntry *e;

	if (cache_people.employees == NULL)
		load_people();
	e = hash_search(cache_people.employees, &id, HASH_FIND, NULL);
	if (e == NULL)
		return NULL;
	if (e->emp.tz == NULL)
		e->emp.tz = sb_tz_lookup(e->emp.time_zone);
	return &e->emp;
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
	/* unique: the head is usually also a member of their department */
	pos = sb_sort_unique_int64(result, nresult);
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
	TriggerData *trigdata = sb_trigger_call(fcinfo, "sb_config_changed_trigger", SB_TRIG_AFTER | SB_TRIG_STATEMENT);
	CacheInvalidateRelcacheByRelid(RelationGetRelid(trigdata->tg_relation));
	return PointerGetDatum(NULL);
}

/*
 * BEFORE INSERT OR UPDATE ON department FOR EACH ROW: the department tree
 * stays a tree (a department may not sit below itself).
 */
PG_FUNCTION_INFO_V1(sb_department_tree_trigger);

static SbQuery q_dept_cycle = {
	"WITH RECURSIVE up(id) AS (SELECT $1::bigint UNION "
	"SELECT d.parent_id FROM salesboard.department d JOIN up ON d.id = up.id "
	"WHERE d.parent_id IS NOT NULL) SELECT 1 FROM up WHERE up.id = $2",
	2, {INT8OID, INT8OID}, NULL
};

Datum
sb_department_tree_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *td = sb_trigger_call(fcinfo, "sb_department_tree_trigger", SB_TRIG_BEFORE | SB_TRIG_ROW);
	HeapTuple	row;
	TupleDesc	desc;
	bool		isnull,
				pnull;
	Datum		v[2];

	if (sb_restoring())
		return sb_trigger_pass(td);

	sb_catalog();
	row = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : td->tg_trigtuple;
	desc = RelationGetDescr(td->tg_relation);
	v[0] = heap_getattr(row, sb_cat.department_att[DEPT_PARENT_ID], desc, &pnull);
	v[1] = heap_getattr(row, sb_cat.department_att[DEPT_ID], desc, &isnull);
	if (!pnull && !isnull && TRIGGER_FIRED_BY_UPDATE(td->tg_event))
	{
		SPI_connect();
		sb_exec(&q_dept_cycle, v, NULL, true, 1);
		if (SPI_processed > 0)
			ereport(ERROR,
					(errcode(ERRCODE_SB_DEPARTMENT_CYCLE),
					 errmsg("department " INT64_FORMAT " cannot be placed below department " INT64_FORMAT ", which is below it",
							DatumGetInt64(v[1]), DatumGetInt64(v[0])),
					 errdetail("Departments form a tree."),
					 errhint("Pick a parent outside the department's own subtree.")));
		SPI_finish();
	}
	return PointerGetDatum(row);
}

/*
 * BEFORE INSERT OR UPDATE OF head_id ON department FOR EACH ROW: the head
 * of a department is an employee. (A trigger rather than a foreign key, so
 * that department and employee do not reference each other in a cycle
 * that no restore order could satisfy; verify() reports a missing head.)
 */
PG_FUNCTION_INFO_V1(sb_department_head_trigger);

Datum
sb_department_head_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *td = sb_trigger_call(fcinfo, "sb_department_head_trigger",
									  SB_TRIG_BEFORE | SB_TRIG_ROW | SB_TRIG_NO_DELETE);
	HeapTuple	row;
	TupleDesc	desc;
	bool		isnull;
	Datum		head;

	if (sb_restoring())
		return sb_trigger_pass(td);
	row = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : td->tg_trigtuple;
	desc = RelationGetDescr(td->tg_relation);
	sb_catalog();
	head = heap_getattr(row, sb_cat.department_att[DEPT_HEAD_ID], desc, &isnull);
	if (!isnull && !sb_row_exists(sb_cat.employee, sb_cat.employee_pkey, DatumGetInt64(head)))
		ereport(ERROR,
				(errcode(ERRCODE_SB_UNKNOWN_EMPLOYEE),
				 errmsg("employee " INT64_FORMAT " cannot head department " INT64_FORMAT ": there is no such employee",
						DatumGetInt64(head),
						DatumGetInt64(heap_getattr(row, sb_cat.department_att[DEPT_ID], desc, &isnull))),
				 errhint("Set head_id to the id of a row of salesboard.employee, or NULL.")));
	return PointerGetDatum(row);
}

/*
 * AFTER DELETE ON employee FOR EACH ROW: the departments the employee
 * headed have no head now (what ON DELETE SET NULL did in 1.0).
 */
PG_FUNCTION_INFO_V1(sb_employee_deleted_trigger);

static SbQuery q_clear_head = {
	"UPDATE salesboard.department d SET head_id = NULL WHERE d.head_id = $1",
	1, {INT8OID}, NULL
};

Datum
sb_employee_deleted_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *td = sb_trigger_call(fcinfo, "sb_employee_deleted_trigger", SB_TRIG_AFTER | SB_TRIG_ROW);
	bool		isnull;
	Datum		v[1];

	if (sb_restoring())
		return sb_trigger_pass(td);
	sb_catalog();
	v[0] = heap_getattr(td->tg_trigtuple, sb_cat.employee_att[EMP_ID], RelationGetDescr(td->tg_relation), &isnull);
	SPI_connect();
	sb_exec(&q_clear_head, v, NULL, false, 0);
	SPI_finish();
	return PointerGetDatum(NULL);
}

/*
 * BEFORE UPDATE OF active ON employee FOR EACH ROW WHEN (OLD.active AND
 * NOT NEW.active): someone who leaves hands over their work first, so no
 * open deal and no planned activity is left with nobody to do it (SB042).
 */
PG_FUNCTION_INFO_V1(sb_employee_leaving_trigger);

static SbQuery q_open_work = {
	"SELECT (SELECT pg_catalog.count(*) FROM salesboard.deal d WHERE d.owner_id = $1 AND d.status = 'open'), "
	"       (SELECT pg_catalog.count(*) FROM salesboard.activity a "
	"         WHERE a.assignee_id = $1 AND a.status = 'planned')",
	1, {INT8OID}, NULL
};

Datum
sb_employee_leaving_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *td = sb_trigger_call(fcinfo, "sb_employee_leaving_trigger",
									  SB_TRIG_BEFORE | SB_TRIG_ROW | SB_TRIG_UPDATE);
	bool		isnull;
	Datum		v[1];
	int64		deals,
				acts;

	if (sb_restoring())
		return sb_trigger_pass(td);
	sb_catalog();
	v[0] = heap_getattr(td->tg_newtuple, sb_cat.employee_att[EMP_ID], RelationGetDescr(td->tg_relation), &isnull);
	SPI_connect();
	sb_exec(&q_open_work, v, NULL, true, 1);
	deals = sb_spi_int8(0, 1, &isnull);
	acts = sb_spi_int8(0, 2, &isnull);
	SPI_finish();
	if (deals > 0 || acts > 0)
		ereport(ERROR,
				(errcode(ERRCODE_SB_EMPLOYEE_HAS_WORK),
				 errmsg("employee " INT64_FORMAT " still owns " INT64_FORMAT " open deal(s) and is assigned " INT64_FORMAT " planned activity(ies)",
						DatumGetInt64(v[0]), deals, acts),
				 errdetail("Someone who leaves hands over their work first."),
				 errhint("Reassign it, e.g. UPDATE salesboard.deal SET owner_id = <successor> WHERE owner_id = " INT64_FORMAT " AND status = 'open', then deactivate.",
						 DatumGetInt64(v[0]))));
	return PointerGetDatum(td->tg_newtuple);
}

/*
 * BEFORE INSERT OR UPDATE ON stage FOR EACH ROW: a new Won stage takes
 * probability 100 when none is given (the column's default, 0, is the Lost
 * stage's); the kind or pipeline of a stage that deals or history use
 * cannot change (SB043): an open deal would sit in a Won column, or
 * history would cross pipelines.
 */
PG_FUNCTION_INFO_V1(sb_stage_rules_trigger);

static SbQuery q_stage_used = {
	"SELECT (SELECT pg_catalog.count(*) FROM salesboard.deal d WHERE d.stage_id = $1), "
	"       (SELECT pg_catalog.count(*) FROM salesboard.stage_history h "
	"         WHERE h.to_stage_id = $1 OR h.from_stage_id = $1)",
	1, {INT8OID}, NULL
};

static void
stage_not_in_use(HeapTuple row, TupleDesc desc, const char *what)
{
	bool		isnull;
	Datum		v[1];
	int64		deals,
				rows;

	v[0] = heap_getattr(row, sb_cat.stage_att[STAGE_ID], desc, &isnull);
	SPI_connect();
	sb_exec(&q_stage_used, v, NULL, true, 1);
	deals = sb_spi_int8(0, 1, &isnull);
	rows = sb_spi_int8(0, 2, &isnull);
	SPI_finish();
	if (deals > 0 || rows > 0)
		ereport(ERROR,
				(errcode(ERRCODE_SB_STAGE_IN_USE),
				 errmsg("the %s of stage " INT64_FORMAT " cannot change: " INT64_FORMAT " deal(s) and " INT64_FORMAT " history row(s) use it",
						what, DatumGetInt64(v[0]), deals, rows),
				 errdetail("Deals would sit in a column of another kind, or history would cross pipelines."),
				 errhint("Create a new stage and move the deals there with salesboard.move_deal().")));
}

Datum
sb_stage_rules_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *td = sb_trigger_call(fcinfo, "sb_stage_rules_trigger",
									  SB_TRIG_BEFORE | SB_TRIG_ROW | SB_TRIG_NO_DELETE);
	TupleDesc	desc;
	HeapTuple	row;
	int			kind_att,
				pipe_att,
				prob_att;
	bool		isnull;
	Datum		kind;

	if (sb_restoring())
		return sb_trigger_pass(td);
	desc = RelationGetDescr(td->tg_relation);
	sb_catalog();
	kind_att = sb_cat.stage_att[STAGE_KIND];
	pipe_att = sb_cat.stage_att[STAGE_PIPELINE_ID];
	prob_att = sb_cat.stage_att[STAGE_PROBABILITY];
	if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
	{
		row = td->tg_newtuple;
		if (sb_col_changed(td->tg_trigtuple, row, desc, kind_att))
			stage_not_in_use(row, desc, "kind");
		if (sb_col_changed(td->tg_trigtuple, row, desc, pipe_att))
			stage_not_in_use(row, desc, "pipeline");
		return PointerGetDatum(row);
	}
	row = td->tg_trigtuple;
	/* read the kind first: the order of a call's arguments is unspecified */
	kind = heap_getattr(row, kind_att, desc, &isnull);
	if (sb_status_from_datum(kind, isnull) == SB_WON)
	{
		Datum		p = heap_getattr(row, prob_att, desc, &isnull);

		if (isnull || DatumGetBool(DirectFunctionCall2(numeric_eq, p,
													   DirectFunctionCall1(int4_numeric, Int32GetDatum(0)))))
		{
			SbRowEdit	e = {0};

			sb_edit(&e, prob_att, DirectFunctionCall1(int4_numeric, Int32GetDatum(100)), false);
			row = sb_edit_apply(&e, row, desc);
		}
	}
	return PointerGetDatum(row);
}
