/*
 * identity.c: who the session acts as, and what it may see (doc/reference.md, "Identity and access").
 *
 * Owns current_employee() (from the login role through employee.role_name,
 * or, for a pooled application role in salesboard_app, the employee chosen
 * with set_employee() for the rest of the transaction), the visibility rule
 * behind the row-level security policies (an employee sees their own deals;
 * a department head also those of every department below; an admin all),
 * and the "at other than now() is for admin/app only" rule. (The switch to
 * the extension owner for internal SQL lives with the SPI runner in
 * spi.c.)
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/rel.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "utils/timestamp.h"

#include "calls.h"
#include "catalog.h"
#include "config.h"
#include "errcodes.h"
#include "identity.h"
#include "protocol.h"
#include "rows.h"

PG_FUNCTION_INFO_V1(sb_current_employee_sql);
PG_FUNCTION_INFO_V1(sb_set_employee_sql);
PG_FUNCTION_INFO_V1(sb_can_see_sql);

/*
 * set_employee(): valid until the end of the transaction, for the role that
 * set it only, and undone when the subtransaction that set it rolls back.
 */
typedef struct Acting
{
	bool		set;
	int64		employee;
	Oid			role;			/* the salesboard_app member that set it */
	int			nest_level;		/* transaction nesting level when set */
} Acting;

static Acting acting = {false, 0, InvalidOid, 0};

/*
 * What each (sub)transaction level found before its first set_employee(),
 * to restore when it rolls back: one entry per level that called it, the
 * innermost last.
 */
#define MAX_ACTING_LEVELS 64
typedef struct SavedActing
{
	Acting		before;			/* what the level found */
	int			level;			/* the level that called set_employee() */
} SavedActing;
static SavedActing acting_saved[MAX_ACTING_LEVELS];
static int	acting_nsaved = 0;

/* role -> employee look-up, remembered per role and cache generation */
static Oid	last_uid = InvalidOid;
static uint64 last_generation = 0;
static int64 last_employee = 0;

/* The end of a transaction ends set_employee(). */
static void
xact_cb(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			memset(&acting, 0, sizeof(acting));
			acting_nsaved = 0;
			break;
		default:
			break;
	}
}

/*
 * End of a subtransaction: a rollback of a level that called
 * set_employee() restores what that level found; a commit hands its
 * choice, and what it found, to the parent level.
 */
static void
subxact_cb(SubXactEvent event, SubTransactionId mySubid,
		   SubTransactionId parentSubid, void *arg)
{
	int			level = GetCurrentTransactionNestLevel();
	SavedActing *top = acting_nsaved > 0 ? &acting_saved[acting_nsaved - 1] : NULL;

	if (event != SUBXACT_EVENT_COMMIT_SUB && event != SUBXACT_EVENT_ABORT_SUB)
		return;
	if (top == NULL || top->level != level)
		return;					/* this level did not call set_employee() */
	if (event == SUBXACT_EVENT_ABORT_SUB)
	{
		acting = top->before;
		acting_nsaved--;
		return;
	}
	/* commit: the parent now owns the choice */
	acting.nest_level = level - 1;
	if (acting_nsaved > 1 && acting_saved[acting_nsaved - 2].level == level - 1)
		acting_nsaved--;		/* the parent's own entry already holds what it found */
	else
		top->level = level - 1;
}

/*
 * A role renamed, created or dropped: the login role -> employee answer is
 * by name (employee.role_name), so look it up again (a renamed role stops
 * acting as the employee at once).
 */
static void
roles_changed_cb(Datum arg, int cacheid, uint32 hashvalue)
{
	last_uid = InvalidOid;
}

void
sb_identity_init(void)
{
	RegisterXactCallback(xact_cb, NULL);
	RegisterSubXactCallback(subxact_cb, NULL);
	CacheRegisterSyscacheCallback(AUTHOID, roles_changed_cb, (Datum) 0);
}

/* The employee the session acts as, or 0. */
int64
sb_current_employee(void)
{
	/* inside an API call running as the owner, the caller is who counts */
	Oid			uid = sb_caller();

	if (acting.set && acting.role == uid)
		return acting.employee;
	if (uid != last_uid || last_generation != sb_people_generation())
	{
		char	   *name = GetUserNameFromId(uid, true);
		int64		emp = sb_employee_by_role(name);

		/* the look-up may itself have loaded the cache: read the generation after */
		last_generation = sb_people_generation();
		last_uid = uid;
		last_employee = emp;
	}
	return last_employee;
}

bool
sb_is_admin(void)
{
	sb_catalog();
	return superuser() ||
		(OidIsValid(sb_cat.role_admin) && has_privs_of_role(GetUserId(), sb_cat.role_admin));
}

/* salesboard_reader members (BI tools) see every row and write nothing. */
bool
sb_is_reader(void)
{
	sb_catalog();
	return OidIsValid(sb_cat.role_reader) && has_privs_of_role(GetUserId(), sb_cat.role_reader);
}

/*
 * The employee the session acts as; a session that acts as nobody (and is
 * no administrator or reader, who see everything) gets SB022, the same
 * error everywhere: from the functions and from row-level security alike,
 * rather than an empty answer that hides a forgotten set_employee().
 */
int64
sb_require_employee(void)
{
	int64		me = sb_current_employee();

	if (me == 0 && !sb_is_admin() && !sb_is_reader())
		ereport(ERROR,
				(errcode(ERRCODE_SB_NO_EMPLOYEE),
				 errmsg("role \"%s\" acts as no employee", GetUserNameFromId(sb_caller(), false)),
				 errdetail("salesboard shows and changes deals on behalf of an employee."),
				 errhint("Log in as the role named in the employee's employee.role_name, or, for an application role in salesboard_app, call salesboard.set_employee(employee_id) after BEGIN.")));
	return me;
}

/* May the session pass `at` other than now()? Admins and pooled applications. */
bool
sb_may_backdate(void)
{
	return sb_is_admin() ||
		(OidIsValid(sb_cat.role_app) && has_privs_of_role(GetUserId(), sb_cat.role_app));
}

/* The visibility rule (doc/reference.md, "Identity and access") for one deal owner. */
bool
sb_can_access_owner(int64 owner_id)
{
	int64		me;

	if (sb_is_admin() || sb_is_reader())
		return true;
	me = sb_require_employee();
	if (me == owner_id)
		return true;
	return sb_is_head_over(me, owner_id);
}

void
sb_check_at(TimestampTz at)
{
	if (at != GetCurrentTransactionStartTimestamp() && !sb_may_backdate())
		ereport(ERROR,
				(errcode(ERRCODE_SB_BACKDATING),
				 errmsg("at = %s differs from now(): only salesboard_admin and salesboard_app members may set the moment of a change",
						timestamptz_to_str(at)),
				 errdetail("History records who changed what and when; ordinary users act at now()."),
				 errhint("Leave the at parameter out, or ask an administrator to run the import.")));
}

/*
 * Provenance of a new deal or activity (a BEFORE INSERT ROW trigger, every
 * path: API, raw INSERT, COPY): created_by is the acting employee and
 * created_at is now(). A raw INSERT may leave them out or repeat those
 * values; any other value is refused (SB013) unless the inserting role is
 * a salesboard_admin or salesboard_app member (imports, sample data), so
 * ordinary users cannot forge who created what and when. The API functions
 * write them themselves, as the owner, after sb_check_at().
 */
void
sb_check_provenance(HeapTuple t, TupleDesc desc, AttrNumber at_att,
					AttrNumber by_att, const char *what, int64 id,
					SbRowEdit *e)
{
	bool		isnull;
	Datum		v;
	int64		me;

	if (sb_may_backdate())
	{
		(void) heap_getattr(t, by_att, desc, &isnull);
		if (isnull && (me = sb_current_employee()) != 0)
			sb_edit(e, by_att, Int64GetDatum(me), false);
		return;
	}
	v = heap_getattr(t, at_att, desc, &isnull);
	if (!isnull && DatumGetTimestampTz(v) != GetCurrentTransactionStartTimestamp())
		ereport(ERROR,
				(errcode(ERRCODE_SB_BACKDATING),
				 errmsg("created_at of %s " INT64_FORMAT " must be now()", what, id),
				 errdetail("The server records when a row was created."),
				 errhint("Leave created_at out; only salesboard_admin and salesboard_app members may set it.")));
	me = sb_current_employee();
	v = heap_getattr(t, by_att, desc, &isnull);
	if (!isnull && DatumGetInt64(v) != me)
		ereport(ERROR,
				(errcode(ERRCODE_SB_BACKDATING),
				 errmsg("created_by of %s " INT64_FORMAT " must be the acting employee", what, id),
				 errdetail("The server records who created a row: the employee the session acts as (current_employee())."),
				 errhint("Leave created_by out; only salesboard_admin and salesboard_app members may set it.")));
	if (isnull && me != 0)
		sb_edit(e, by_att, Int64GetDatum(me), false);
}

/*
 * Ids of new deals and activities are the server's for ordinary users: a
 * raw INSERT of theirs gets a fresh id from the identity sequence whatever
 * it supplies (OVERRIDING SYSTEM VALUE included), so an id they choose can
 * neither probe which ids exist (a unique violation) nor claim the ids the
 * next writers would get. salesboard_admin and salesboard_app members keep
 * the ids they give (imports); the API functions insert as the owner.
 */
int64
sb_server_id(HeapTuple t, TupleDesc desc, AttrNumber id_att, Oid seq, SbRowEdit *e)
{
	bool		isnull;
	int64		id;

	if (sb_may_backdate())
		return DatumGetInt64(heap_getattr(t, id_att, desc, &isnull));
	id = nextval_internal(seq, false);
	sb_edit(e, id_att, Int64GetDatum(id), false);
	return id;
}

/* salesboard.current_employee() -> bigint */
Datum
sb_current_employee_sql(PG_FUNCTION_ARGS)
{
	int64		emp = sb_current_employee();

	if (emp == 0)
		PG_RETURN_NULL();
	PG_RETURN_INT64(emp);
}

/* salesboard.set_employee(employee_id bigint) -> void */
Datum
sb_set_employee_sql(PG_FUNCTION_ARGS)
{
	int64		emp;

	sb_require_arg(fcinfo, 0, "employee_id");
	emp = PG_GETARG_INT64(0);
	sb_catalog();
	if (!superuser() &&
		!(OidIsValid(sb_cat.role_app) && has_privs_of_role(GetUserId(), sb_cat.role_app)))
		ereport(ERROR,
				(errcode(ERRCODE_SB_NOT_APP),
				 errmsg("role \"%s\" may not act as another employee",
						GetUserNameFromId(GetUserId(), false)),
				 errdetail("set_employee() is for pooled application roles."),
				 errhint("GRANT salesboard_app TO the application's role, or log in as the employee's own role.")));
	if (!IsTransactionBlock())
		ereport(WARNING,
				(errcode(ERRCODE_NO_ACTIVE_SQL_TRANSACTION),
				 errmsg("set_employee() outside a transaction block lasts only for this statement"),
				 errhint("Call it after BEGIN, in the transaction that does the work.")));
	if (sb_employee(emp) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_SB_UNKNOWN_EMPLOYEE),
				 errmsg("employee " INT64_FORMAT " does not exist", emp),
				 errhint("Pass the id of a row of salesboard.employee.")));
	/* the first call at this level remembers what the level found */
	if (acting_nsaved == 0 ||
		acting_saved[acting_nsaved - 1].level != GetCurrentTransactionNestLevel())
	{
		if (acting_nsaved >= MAX_ACTING_LEVELS)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("set_employee() called in more than %d nested savepoints", MAX_ACTING_LEVELS),
					 errhint("Call set_employee() once, after BEGIN.")));
		acting_saved[acting_nsaved].before = acting;
		acting_saved[acting_nsaved].level = GetCurrentTransactionNestLevel();
		acting_nsaved++;
	}
	acting.set = true;
	acting.employee = emp;
	acting.role = GetUserId();
	acting.nest_level = GetCurrentTransactionNestLevel();
	PG_RETURN_VOID();
}

/* salesboard.can_see(owner_id bigint) -> boolean: the row-level security rule */
Datum
sb_can_see_sql(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_BOOL(false);
	PG_RETURN_BOOL(sb_can_access_owner(PG_GETARG_INT64(0)));
}

/* ------------------------------------------------------------------
 * Deal visibility
 * ------------------------------------------------------------------ */

/* Unknown and invisible deals get this same error everywhere (SB030). */
void
sb_deal_not_found(int64 id)
{
	ereport(ERROR,
			(errcode(ERRCODE_SB_UNKNOWN_DEAL),
			 errmsg("deal " INT64_FORMAT " does not exist or is not visible to you", id),
			 errhint("Pass the id of one of your deals (salesboard.board() or salesboard.deal_list() show them).")));
}

/* The owner of a deal as the newest data shows it; false when there is none. */
bool
sb_deal_owner(int64 id, int64 *owner_id)
{
	sb_catalog();
	return sb_fetch_int8(sb_cat.deal, sb_cat.deal_pkey, id,
						 sb_cat.deal_att[DEAL_OWNER_ID], owner_id);
}

/* Does the deal exist, and may the session see it? */
bool
sb_deal_visible(int64 id)
{
	int64		owner;

	return sb_deal_owner(id, &owner) && sb_can_access_owner(owner);
}

/* salesboard.can_see_deal(deal_id): row-level security of rows hanging off a deal */
PG_FUNCTION_INFO_V1(sb_can_see_deal_sql);

Datum
sb_can_see_deal_sql(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_BOOL(false);
	/* those who see every deal pay no per-row fetch (readers scan whole tables) */
	if (sb_is_admin() || sb_is_reader())
		PG_RETURN_BOOL(true);
	PG_RETURN_BOOL(sb_deal_visible(PG_GETARG_INT64(0)));
}

/*
 * BEFORE INSERT OR UPDATE OF deal_id ON inbound / deal_tag FOR EACH ROW:
 * a row may point only at a deal the session may see. Unknown and
 * invisible deals get the same SB030 as the API functions, before the
 * foreign key could tell the two apart, so ids reveal nothing.
 */
PG_FUNCTION_INFO_V1(sb_deal_reference_trigger);

Datum
sb_deal_reference_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *td = sb_trigger_call(fcinfo, "sb_deal_reference_trigger",
									  SB_TRIG_BEFORE | SB_TRIG_ROW | SB_TRIG_NO_DELETE);
	HeapTuple	row;
	TupleDesc	desc;
	AttrNumber	att;
	bool		isnull;
	Datum		v;

	if (sb_restoring())
		return sb_trigger_pass(td);

	desc = RelationGetDescr(td->tg_relation);
	att = SPI_fnumber(desc, "deal_id");
	if (att <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function deal_reference_trigger must be fired on a table with a deal_id column"),
				 errhint("It is installed by the salesboard extension; do not attach it elsewhere.")));
	row = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : td->tg_trigtuple;
	v = heap_getattr(row, att, desc, &isnull);
	if (isnull ||
		(TRIGGER_FIRED_BY_UPDATE(td->tg_event) &&
		 !sb_col_changed(td->tg_trigtuple, row, desc, att)))
		return PointerGetDatum(row);
	/* administrators see every deal: the foreign key reports unknown ones */
	if (!sb_is_admin() && !sb_deal_visible(DatumGetInt64(v)))
		sb_deal_not_found(DatumGetInt64(v));
	return PointerGetDatum(row);
}

/*
 * BEFORE INSERT OR UPDATE OF role_name ON employee FOR EACH ROW: the login
 * role an employee acts through exists (a typo is an error, not a silent
 * "not an employee"). The name is stored, not the role's OID: a renamed
 * role stops acting as the employee until role_name follows it, and a role
 * dropped and created again under the same name acts as the employee again
 * (doc/reference.md, "Identity and access").
 */
PG_FUNCTION_INFO_V1(sb_employee_role_trigger);

Datum
sb_employee_role_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *td = sb_trigger_call(fcinfo, "sb_employee_role_trigger",
									  SB_TRIG_BEFORE | SB_TRIG_ROW | SB_TRIG_NO_DELETE);
	HeapTuple	row;
	TupleDesc	desc;
	AttrNumber	att;
	bool		isnull;
	Datum		v;

	if (sb_restoring())
		return sb_trigger_pass(td);
	row = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : td->tg_trigtuple;
	desc = RelationGetDescr(td->tg_relation);
	att = SPI_fnumber(desc, "role_name");
	if (att <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function employee_role_trigger must be fired on salesboard.employee"),
				 errhint("It is installed by the salesboard extension; do not attach it elsewhere.")));
	v = heap_getattr(row, att, desc, &isnull);
	if (!isnull && !OidIsValid(get_role_oid(NameStr(*DatumGetName(v)), true)))
		ereport(ERROR,
				(errcode(ERRCODE_SB_UNKNOWN_ROLE),
				 errmsg("role \"%s\" does not exist", NameStr(*DatumGetName(v))),
				 errdetail("employee.role_name names the login role that acts as the employee."),
				 errhint("CREATE ROLE %s LOGIN IN ROLE salesboard_user first, or correct the name.",
						 quote_identifier(NameStr(*DatumGetName(v))))));
	return PointerGetDatum(row);
}

/*
 * The employee whose view a reading function shows (board, Inbound column,
 * alerts): argument argno, or when it is NULL the acting employee. A
 * session acting as nobody gets SB022 (an administrator or reader must
 * name one), an unknown employee SB033, and one the session may not see
 * SB024; what names the view in the message.
 */
int64
sb_view_employee_arg(FunctionCallInfo fcinfo, int argno, const char *what)
{
	int64		emp = sb_require_employee();

	if (PG_ARGISNULL(argno))
	{
		if (emp == 0)			/* an administrator or reader acting as nobody */
			ereport(ERROR,
					(errcode(ERRCODE_SB_NO_EMPLOYEE),
					 errmsg("role \"%s\" acts as no employee, and no employee_id was given",
							GetUserNameFromId(GetUserId(), false)),
					 errhint("Pass employee_id: whose %s to show.", what)));
	}
	else
		emp = PG_GETARG_INT64(argno);
	if (sb_employee(emp) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_SB_UNKNOWN_EMPLOYEE),
				 errmsg("employee " INT64_FORMAT " does not exist", emp),
				 errhint("Pass the id of a row of salesboard.employee.")));
	if (!sb_can_access_owner(emp))
		ereport(ERROR,
				(errcode(ERRCODE_SB_ACCESS),
				 errmsg("you may not see the %s of employee " INT64_FORMAT, what, emp),
				 errdetail("It is shown to its employee, to the heads of the departments above them and to administrators."),
				 errhint("Ask for your own %s, or a subordinate's.", what)));
	return emp;
}
