/*
 * calls.c: how a C function was called (foundation layer).
 *
 * One check for every trigger function (fired where it belongs, or 39P01)
 * and the argument helpers of the SQL-callable functions. Calls nothing of
 * salesboard.
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
#include "utils/guc.h"
#include "utils/rls.h"

#include "calls.h"
#include "errcodes.h"
#include "rows.h"

static char *
describe(int how)
{
	StringInfoData s;

	initStringInfo(&s);
	appendStringInfoString(&s, (how & SB_TRIG_BEFORE) ? "BEFORE " : "AFTER ");
	if (how & SB_TRIG_UPDATE)
		appendStringInfoString(&s, "UPDATE ");
	else if (how & SB_TRIG_NO_DELETE)
		appendStringInfoString(&s, "INSERT OR UPDATE ");
	appendStringInfoString(&s, "...");
	if (how & SB_TRIG_NEW_TABLE)
		appendStringInfoString(&s, " REFERENCING NEW TABLE");
	if (how & SB_TRIG_OLD_TABLE)
		appendStringInfoString(&s, " REFERENCING OLD TABLE");
	appendStringInfoString(&s, (how & SB_TRIG_ROW) ? " FOR EACH ROW" : " FOR EACH STATEMENT");
	return s.data;
}

TriggerData *
sb_trigger_call(FunctionCallInfo fcinfo, const char *fname, int how)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	bool		ok = CALLED_AS_TRIGGER(fcinfo);

	if (ok)
	{
		TriggerEvent ev = td->tg_event;

		ok = ((how & SB_TRIG_BEFORE) ? TRIGGER_FIRED_BEFORE(ev) : TRIGGER_FIRED_AFTER(ev)) &&
			((how & SB_TRIG_ROW) ? TRIGGER_FIRED_FOR_ROW(ev) : TRIGGER_FIRED_FOR_STATEMENT(ev)) &&
			(!(how & SB_TRIG_NEW_TABLE) || td->tg_newtable != NULL) &&
			(!(how & SB_TRIG_OLD_TABLE) || td->tg_oldtable != NULL) &&
			(!(how & SB_TRIG_NO_DELETE) || !TRIGGER_FIRED_BY_DELETE(ev)) &&
			(!(how & SB_TRIG_UPDATE) || TRIGGER_FIRED_BY_UPDATE(ev));
	}
	if (!ok)
	{
		/* name the SQL function the caller sees; the C symbol if none */
		char	   *sqlname = fcinfo->flinfo && OidIsValid(fcinfo->flinfo->fn_oid) ?
			get_func_name(fcinfo->flinfo->fn_oid) : NULL;

		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function %s must be fired %s", sqlname ? sqlname : fname, describe(how)),
				 errhint("It is installed by the salesboard extension; do not call it or attach it elsewhere.")));
	}
	return td;
}

bool
sb_restoring(void)
{
	/* both the login and the current role: not through a definer function */
	return !row_security && namespace_search_path != NULL &&
		namespace_search_path[0] == '\0' && superuser() &&
		superuser_arg(GetSessionUserId());
}

/*
 * BEFORE INSERT ... FOR EACH STATEMENT on every table of the extension:
 * the first load of a restore session switches the session to
 * session_replication_role = replica, so that the rest of the restore
 * loads the tables in any order and in parallel (pg_restore -j) without
 * the foreign keys and rule triggers, which a parallel load of tables that
 * reference each other cannot satisfy. verify() checks all of it after.
 */
PG_FUNCTION_INFO_V1(sb_restore_mode_trigger);

Datum
sb_restore_mode_trigger(PG_FUNCTION_ARGS)
{
	(void) sb_trigger_call(fcinfo, "sb_restore_mode_trigger", SB_TRIG_BEFORE | SB_TRIG_STATEMENT);
	if (sb_restoring() && SessionReplicationRole != SESSION_REPLICATION_ROLE_REPLICA)
		(void) set_config_option("session_replication_role", "replica",
								 PGC_SUSET, PGC_S_SESSION, GUC_ACTION_SET, true, 0, false);
	return PointerGetDatum(NULL);
}

Datum
sb_trigger_pass(TriggerData *td)
{
	if (!TRIGGER_FIRED_BEFORE(td->tg_event) || !TRIGGER_FIRED_FOR_ROW(td->tg_event))
		return PointerGetDatum(NULL);
	return PointerGetDatum(TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : td->tg_trigtuple);
}

void
sb_require_arg(FunctionCallInfo fcinfo, int argno, const char *name)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", name),
				 errhint("Pass a value for %s.", name)));
}

/* A text argument as a C string, or NULL. */
char *
sb_text_arg(FunctionCallInfo fcinfo, int argno)
{
	if (PG_ARGISNULL(argno))
		return NULL;
	return text_to_cstring(PG_GETARG_TEXT_PP(argno));
}

/*
 * A timestamptz argument that must be a real moment: not NULL (22004) and
 * not -infinity or infinity (SB025): an infinite due moment would keep a
 * card green for ever, an infinite `at` would freeze a deal.
 */
TimestampTz
sb_moment_arg(FunctionCallInfo fcinfo, int argno, const char *name)
{
	TimestampTz t;

	sb_require_arg(fcinfo, argno, name);
	t = PG_GETARG_TIMESTAMPTZ(argno);
	if (TIMESTAMP_NOT_FINITE(t))
		ereport(ERROR,
				(errcode(ERRCODE_SB_BAD_VALUE),
				 errmsg("%s must be a finite moment, not %s", name,
						TIMESTAMP_IS_NOBEGIN(t) ? "-infinity" : "infinity"),
				 errhint("Pass a real moment, such as now() + interval '1 day'.")));
	return t;
}

pg_uuid_t *
sb_uuid_arg(FunctionCallInfo fcinfo, int argno)
{
	return PG_ARGISNULL(argno) ? NULL : PG_GETARG_UUID_P(argno);
}


/*
 * A bigint[] argument of ids (required): one-dimensional (SB025), without
 * NULLs (22004); *ids gets them sorted, each once. Returns how many. what
 * names the ids in the messages, hint says where to find them.
 */
int
sb_id_array_arg(FunctionCallInfo fcinfo, int argno, const char *what, const char *hint,
				int64 **ids)
{
	ArrayType  *arr;
	Datum	   *elems;
	bool	   *nulls;
	int			n,
				i;

	sb_require_arg(fcinfo, argno, "ids");
	arr = PG_GETARG_ARRAYTYPE_P(argno);
	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_SB_BAD_VALUE),
				 errmsg("ids must be a one-dimensional array of %s ids, not %d-dimensional",
						what, ARR_NDIM(arr)),
				 errhint("Pass ARRAY[id, ...].")));
	deconstruct_array(arr, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &elems, &nulls, &n);
	*ids = palloc(sizeof(int64) * Max(n, 1));
	for (i = 0; i < n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("ids must not contain NULL"),
					 errhint("%s", hint)));
		(*ids)[i] = DatumGetInt64(elems[i]);
	}
	return sb_sort_unique_int64(*ids, n);
}
