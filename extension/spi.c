/*
 * spi.c: the SPI runner (foundation layer).
 *
 * Owns the only way salesboard runs SQL as the extension's owner: kept
 * statements (sb_exec) and one-off statements (sb_exec_once), each inside
 * an owner scope with the search_path pinned. Calls nothing of salesboard
 * but the catalog (for the owner's OID).
 */
#include "postgres.h"

#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "catalog.h"
#include "spi.h"

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
 * nest level; run_as_owner()'s PG_CATCH restores the user at once only.
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
 * Run a kept statement (q) or a one-off one (sql) as the extension owner
 * with the pinned search_path; the caller has SPI_connect()ed.
 */
static int
run_as_owner(SbQuery *q, const char *sql, Datum *values, const char *nulls,
			 bool read_only, long count)
{
	OwnerScope	scope;
	volatile int rc = 0;

	owner_scope_enter(&scope);
	PG_TRY();
	{
		if (q != NULL)
			rc = SPI_execute_plan(kept_plan(q), values, nulls, read_only, count);
		else
			rc = SPI_execute(sql, read_only, count);
	}
	PG_CATCH();
	{
		owner_scope_exit(&scope, false);
		PG_RE_THROW();
	}
	PG_END_TRY();
	owner_scope_exit(&scope, true);
	if (rc < 0)
		elog(ERROR, "salesboard: SPI failed for \"%s\": %s",
			 q != NULL ? q->sql : sql, SPI_result_code_string(rc));
	return rc;
}

/* A kept statement; returns the SPI result code. */
int
sb_exec(SbQuery *q, Datum *values, const char *nulls, bool read_only, long count)
{
	return run_as_owner(q, NULL, values, nulls, read_only, count);
}

void *
sb_cursor_open(SbQuery *q, Datum *values, const char *nulls)
{
	OwnerScope	scope;
	Portal		volatile portal = NULL;

	owner_scope_enter(&scope);
	PG_TRY();
	{
		/*
		 * A report, not a look-up: planned for this call's values (which
		 * filters are NULL decides the best plan), freed at SPI_finish.
		 */
		SPIPlanPtr	p = SPI_prepare_cursor(q->sql, q->nargs, q->argtypes, CURSOR_OPT_CUSTOM_PLAN);

		if (p == NULL)
			elog(ERROR, "salesboard: SPI_prepare failed for \"%s\": %s",
				 q->sql, SPI_result_code_string(SPI_result));
		portal = SPI_cursor_open(NULL, p, values, nulls, true);
	}
	PG_CATCH();
	{
		owner_scope_exit(&scope, false);
		PG_RE_THROW();
	}
	PG_END_TRY();
	owner_scope_exit(&scope, true);
	if (portal == NULL)
		elog(ERROR, "salesboard: opening a cursor failed for \"%s\"", q->sql);
	return portal;
}

uint64
sb_cursor_fetch(void *cursor, long count)
{
	OwnerScope	scope;

	owner_scope_enter(&scope);
	PG_TRY();
	{
		SPI_cursor_fetch((Portal) cursor, true, count);
	}
	PG_CATCH();
	{
		owner_scope_exit(&scope, false);
		PG_RE_THROW();
	}
	PG_END_TRY();
	owner_scope_exit(&scope, true);
	return SPI_processed;
}

void
sb_cursor_close(void *cursor)
{
	SPI_cursor_close((Portal) cursor);
}

int
sb_exec_as_caller(const char *sql, int nargs, Oid *argtypes, Datum *values,
				  const char *nulls, bool read_only)
{
	int			nest = NewGUCNestLevel();
	int			rc;

	(void) set_config_option("search_path", SB_SAFE_SEARCH_PATH,
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
	rc = SPI_execute_with_args(sql, nargs, argtypes, values, nulls, read_only, 0);
	AtEOXact_GUC(true, nest);
	if (rc < 0)
		elog(ERROR, "salesboard: SPI failed for \"%s\": %s", sql, SPI_result_code_string(rc));
	return rc;
}

/* A one-off statement without parameters (cache loads, verify()). */
int
sb_exec_once(const char *sql, bool read_only)
{
	return run_as_owner(NULL, sql, NULL, NULL, read_only, 0);
}

int64
sb_spi_int8(uint64 row, int col, bool *isnull)
{
	Datum		d = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, isnull);

	return *isnull ? 0 : DatumGetInt64(d);
}

int32
sb_spi_int4(uint64 row, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, &isnull);

	return isnull ? 0 : DatumGetInt32(d);
}

double
sb_spi_float8(uint64 row, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, &isnull);

	return isnull ? 0 : DatumGetFloat8(d);
}

/* A text column copied into cxt; NULL for SQL NULL. */
char *
sb_spi_text(uint64 row, int col, MemoryContext cxt)
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
