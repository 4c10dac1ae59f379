/*
 * salesboard.h: what the C files of salesboard share.
 *
 * Error codes (class SB), the catalog of relation and index OIDs, the
 * backend caches of stages, employees and departments, the time helpers,
 * identity, and the "protocol" state through which the API functions tell
 * the triggers that a change is theirs.
 */
#ifndef SALESBOARD_H
#define SALESBOARD_H

#include "postgres.h"

#include "access/htup_details.h"
#include "datatype/timestamp.h"
#include "executor/tuptable.h"
#include "pgtime.h"
#include "utils/date.h"
#include "utils/relcache.h"
#include "utils/snapshot.h"
#include "fmgr.h"

/* ------------------------------------------------------------------
 * SQLSTATEs: class SB is ours. doc/reference.md lists each with its rule.
 * ------------------------------------------------------------------ */
#define SB_ERRCODE(c3, c4, c5)	MAKE_SQLSTATE('S', 'B', c3, c4, c5)
#define ERRCODE_SB_NO_PLANNED_ACTIVITY	SB_ERRCODE('0', '0', '1')	/* SB001 */
#define ERRCODE_SB_RAW_STAGE_CHANGE		SB_ERRCODE('0', '0', '2')	/* SB002 */
#define ERRCODE_SB_OTHER_PIPELINE		SB_ERRCODE('0', '0', '3')	/* SB003 */
#define ERRCODE_SB_DEAL_CLOSED			SB_ERRCODE('0', '0', '4')	/* SB004 */
#define ERRCODE_SB_DEAL_NOT_CLOSED		SB_ERRCODE('0', '0', '5')	/* SB005 */
#define ERRCODE_SB_RESULT_REQUIRED		SB_ERRCODE('0', '0', '6')	/* SB006 */
#define ERRCODE_SB_DUE_IN_PAST			SB_ERRCODE('0', '0', '7')	/* SB007 */
#define ERRCODE_SB_LOST_REASON			SB_ERRCODE('0', '0', '8')	/* SB008 */
#define ERRCODE_SB_ACTIVITY_NOT_PLANNED	SB_ERRCODE('0', '0', '9')	/* SB009 */
#define ERRCODE_SB_STAGE_KIND			SB_ERRCODE('0', '1', '0')	/* SB010 */
#define ERRCODE_SB_SAME_STAGE			SB_ERRCODE('0', '1', '1')	/* SB011 */
#define ERRCODE_SB_REQUEST_REUSED		SB_ERRCODE('0', '1', '2')	/* SB012 */
#define ERRCODE_SB_BACKDATING			SB_ERRCODE('0', '1', '3')	/* SB013 */
#define ERRCODE_SB_DERIVED_COLUMN		SB_ERRCODE('0', '1', '4')	/* SB014 */
#define ERRCODE_SB_PLANNED_ON_CLOSED	SB_ERRCODE('0', '1', '5')	/* SB015 */
#define ERRCODE_SB_ACTIVITY_FINAL		SB_ERRCODE('0', '1', '6')	/* SB016 */
#define ERRCODE_SB_TIME_ZONE			SB_ERRCODE('0', '1', '7')	/* SB017 */
#define ERRCODE_SB_DEPARTMENT_CYCLE		SB_ERRCODE('0', '1', '8')	/* SB018 */
#define ERRCODE_SB_BAD_HORIZON			SB_ERRCODE('0', '1', '9')	/* SB019 */
#define ERRCODE_SB_UNKNOWN_TAG			SB_ERRCODE('0', '2', '0')	/* SB020 */
#define ERRCODE_SB_NOT_APP				SB_ERRCODE('0', '2', '1')	/* SB021 */
#define ERRCODE_SB_NO_EMPLOYEE			SB_ERRCODE('0', '2', '2')	/* SB022 */
#define ERRCODE_SB_PIPELINE_TERMINAL	SB_ERRCODE('0', '2', '3')	/* SB023 */
#define ERRCODE_SB_ACCESS				SB_ERRCODE('0', '2', '4')	/* SB024 */
#define ERRCODE_SB_BAD_VALUE			SB_ERRCODE('0', '2', '5')	/* SB025 */
#define ERRCODE_SB_OUT_OF_ORDER		SB_ERRCODE('0', '2', '6')	/* SB026 */
#define ERRCODE_SB_STAGE_CHANGED		SB_ERRCODE('0', '2', '7')	/* SB027 */
#define ERRCODE_SB_UNKNOWN_DEAL			SB_ERRCODE('0', '3', '0')	/* SB030 */
#define ERRCODE_SB_UNKNOWN_STAGE		SB_ERRCODE('0', '3', '1')	/* SB031 */
#define ERRCODE_SB_UNKNOWN_ACTIVITY		SB_ERRCODE('0', '3', '2')	/* SB032 */
#define ERRCODE_SB_UNKNOWN_EMPLOYEE		SB_ERRCODE('0', '3', '3')	/* SB033 */
#define ERRCODE_SB_UNKNOWN_LOST_REASON	SB_ERRCODE('0', '3', '4')	/* SB034 */
#define ERRCODE_SB_UNKNOWN_CLIENT		SB_ERRCODE('0', '3', '5')	/* SB035 */
#define ERRCODE_SB_UNKNOWN_SERVICE_TYPE	SB_ERRCODE('0', '3', '6')	/* SB036 */

/* ------------------------------------------------------------------
 * time.c: calendar days in an employee's own time zone
 * ------------------------------------------------------------------ */
extern pg_tz *sb_tz_lookup(const char *name);
extern bool sb_is_iana_zone(const char *name);
extern DateADT sb_local_date(TimestampTz t, pg_tz *tz);
extern TimestampTz sb_local_midnight(DateADT d, pg_tz *tz);
extern TimestampTz sb_end_of_day(DateADT d, pg_tz *tz);
extern DateADT sb_date_add_months(DateADT d, int months);

/* ------------------------------------------------------------------
 * catalog.c: relation, index and role OIDs, attribute numbers, and the
 * backend caches of configuration rows. Resolved once, dropped by the
 * relcache callback when the relations change (DDL, or our own statement
 * triggers on stage / employee / department, which send a relcache
 * invalidation so that every backend reloads).
 * ------------------------------------------------------------------ */

/* deal columns, in the order of SbDealAtt */
typedef enum SbDealCol
{
	DEAL_ID, DEAL_PIPELINE_ID, DEAL_STAGE_ID, DEAL_OWNER_ID, DEAL_TITLE,
	DEAL_CLIENT_ID, DEAL_SERVICE_TYPE_ID, DEAL_AMOUNT, DEAL_CURRENCY,
	DEAL_PRIORITY, DEAL_STATUS, DEAL_NEXT_DUE, DEAL_NEXT_ACTIVITY_ID,
	DEAL_STAGE_ENTERED_AT, DEAL_CREATED_AT, DEAL_CREATED_BY, DEAL_CLOSED_AT,
	DEAL_LOST_REASON_ID, DEAL_NCOLS
} SbDealCol;

typedef enum SbActCol
{
	ACT_ID, ACT_DEAL_ID, ACT_KIND, ACT_SUBJECT, ACT_DUE_AT, ACT_ALL_DAY,
	ACT_DUE_DATE, ACT_ASSIGNEE_ID, ACT_STATUS, ACT_RESULT, ACT_DONE_AT,
	ACT_CREATED_AT, ACT_CREATED_BY, ACT_NCOLS
} SbActCol;

typedef struct SbCatalog
{
	bool		valid;
	Oid			nsp;
	Oid			owner;			/* owner of the extension's tables */
	Oid			deal, deal_pkey, deal_board_idx, deal_closed_idx;
	Oid			activity, activity_pkey, activity_planned_idx;
	Oid			stage, employee, department, client, client_pkey;
	Oid			service_type, service_type_pkey, tag, tag_name_key;
	Oid			deal_tag, deal_tag_pkey, stage_history, history_request_key;
	Oid			lost_reason, lost_reason_pkey;
	Oid			role_user, role_admin, role_app;
	AttrNumber	deal_att[DEAL_NCOLS];
	AttrNumber	act_att[ACT_NCOLS];
	AttrNumber	hist_deal_id, hist_event, hist_to_stage_id;
} SbCatalog;

extern SbCatalog sb_cat;
extern void sb_catalog(void);
extern void sb_catalog_init(void);
extern void sb_catalog_xact_end(void);
extern uint64 sb_people_generation(void);
extern void sb_people_cache_reset(void);

/* one stage, from the backend's stage cache */
typedef struct SbStage
{
	int64		id;
	int64		pipeline_id;
	char		kind;			/* 'o'pen, 'w'on, 'l'ost */
	int32		position;
	int32		rot_days;		/* 0 when not set */
	double		probability;
	int32		column;			/* board column within its pipeline: open
								 * stages 1..n by position, then Won, Lost */
	char	   *name;
} SbStage;

extern const SbStage *sb_stage(int64 id);
extern const SbStage *sb_terminal_stage(int64 pipeline_id, char kind);
extern const SbStage **sb_pipeline_stages(int64 pipeline_id, int *n);
extern int64 sb_first_pipeline(void);

/* one employee, from the backend's employee cache */
typedef struct SbEmployee
{
	int64		id;
	int64		department_id;	/* 0 when none */
	pg_tz	   *tz;
	char	   *time_zone;
	char	   *name;
} SbEmployee;

extern const SbEmployee *sb_employee(int64 id);
extern int64 sb_employee_by_role(const char *rolname);
extern bool sb_is_head_over(int64 head_id, int64 employee_id);
extern int64 *sb_subtree_employees(int64 head_id, int *n);
extern void sb_config_changed(Oid relid);

/* a deal row, read from a slot */
typedef struct SbDealRow
{
	int64		id;
	int64		pipeline_id;
	int64		stage_id;
	int64		owner_id;
	int64		client_id;		/* 0 when NULL */
	int64		service_type_id;	/* 0 when NULL */
	bool		has_client;
	bool		has_service_type;
	int64		next_activity_id;	/* 0 when NULL */
	bool		has_next;
	TimestampTz next_due;
	char		status;			/* 'o'pen, 'w'on, 'l'ost */
	bool		priority;
	bool		amount_null;
	Datum		amount;			/* numeric, copied */
	bool		currency_null;
	Datum		currency;		/* bpchar, copied */
	char	   *title;
	TimestampTz stage_entered_at;
	bool		closed;
	TimestampTz closed_at;
} SbDealRow;

extern void sb_deal_from_slot(TupleTableSlot *slot, SbDealRow *d);
extern void sb_open_deal_for_change(int64 id, SbDealRow *d);
extern bool sb_deal_visible(int64 id);
extern void sb_deal_not_found(int64 id) pg_attribute_noreturn();
extern bool sb_deal_owner(int64 id, int64 *owner_id);
extern bool sb_row_exists(Oid relid, Oid indexoid, int64 id);

/* first character of a text value: the code of a status or kind column */
static inline char
sb_text_code(Datum d, bool isnull)
{
	struct varlena *t;

	if (isnull)
		return '\0';
	t = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(d));
	return VARSIZE_ANY_EXHDR(t) > 0 ? VARDATA_ANY(t)[0] : '\0';
}

/* the code of a text column of a heap tuple / a slot */
static inline char
sb_tuple_code(HeapTuple t, TupleDesc desc, AttrNumber att)
{
	bool		isnull;
	Datum		d = heap_getattr(t, att, desc, &isnull);

	return sb_text_code(d, isnull);
}

static inline char
sb_slot_code(TupleTableSlot *slot, AttrNumber att)
{
	bool		isnull;
	Datum		d = slot_getattr(slot, att, &isnull);

	return sb_text_code(d, isnull);
}

/* direct access by key, bypassing SQL (and so row-level security) */
extern bool sb_fetch_by_id(Relation rel, Oid indexoid, int64 id,
						   Snapshot snap, TupleTableSlot *slot);
extern int64 sb_slot_int8(TupleTableSlot *slot, AttrNumber att, bool *isnull);

typedef struct SbProbe
{
	Relation	rel;
	Relation	idx;
	Snapshot	snap;
	struct IndexScanDescData *scan;
	TupleTableSlot *slot;
} SbProbe;
extern void sb_probe_begin(SbProbe *p, Relation rel, Oid indexoid, Snapshot snap);
extern TupleTableSlot *sb_probe(SbProbe *p, int64 id);
extern TupleTableSlot *sb_probe_next(SbProbe *p);
extern int	sb_planned_probe(SbProbe *p, int64 deal_id, int n, int64 *act_ids, TimestampTz *dues);
extern void sb_probe_end(SbProbe *p);
extern bool sb_next_planned(int64 deal_id, int64 *act_id, TimestampTz *due);
extern int	sb_next_planned_n(int64 deal_id, int n, int64 *act_ids, TimestampTz *dues);
extern bool sb_lock_fetched_deal(Relation rel, int64 id, Snapshot snap, TupleTableSlot *slot);

/* ------------------------------------------------------------------
 * identity.c: who the session acts as, and what it may see
 * ------------------------------------------------------------------ */
extern int64 sb_current_employee(void);
extern bool sb_is_admin(void);
extern bool sb_may_backdate(void);
extern bool sb_can_access_owner(int64 owner_id);
extern void sb_check_at(TimestampTz at);
extern void sb_identity_xact_end(void);
extern void sb_identity_subxact_end(bool commit);
struct SbRowEdit;
extern void sb_check_provenance(HeapTuple t, TupleDesc desc, AttrNumber at_att,
								AttrNumber by_att, const char *what, int64 id,
								struct SbRowEdit *e);

/* ------------------------------------------------------------------
 * The protocol: an API function tells the triggers which deal it is
 * changing and how, so that the triggers accept (and check) the change
 * instead of refusing it as a raw UPDATE, and leave the upkeep of the
 * deal's derived columns to the function.
 * ------------------------------------------------------------------ */
typedef enum SbOp
{
	SB_OP_NONE = 0,
	SB_OP_MOVE,					/* move_deal: open stage -> open stage */
	SB_OP_CLOSE,				/* close_deal: open stage -> won/lost */
	SB_OP_REOPEN,				/* reopen_deal: won/lost -> open stage */
	SB_OP_ACTIVITY,				/* an API call changing activities */
	SB_OP_DERIVED				/* upkeep of next_due / next_activity_id */
} SbOp;

typedef struct SbProtocol
{
	SbOp		op;
	int64		deal_id;		/* 0 with SB_OP_DERIVED: any deal */
	Oid			caller;			/* the session's user before the switch to the owner */
} SbProtocol;

extern SbProtocol sb_protocol;
extern int	sb_closed_days;
extern void sb_protocol_reset(void);
extern void sb_protocol_begin(SbOp op, int64 deal_id);
extern Oid	sb_caller(void);

/* activities.c */
extern void sb_refresh_next_due(int64 deal_id);
extern TimestampTz sb_effective_due(TimestampTz due, bool all_day, pg_tz *tz);
extern int64 sb_insert_activity(const SbDealRow *deal, const char *kind,
								const char *subject, TimestampTz due,
								bool all_day, const int64 *assignee_id, TimestampTz at);
extern void sb_finish_activity(int64 act_id, bool done, const char *result,
							   TimestampTz at);
extern TimestampTz sb_check_new_activity(const SbDealRow *deal, const char *kind,
										 const char *subject, TimestampTz due,
										 bool all_day, const int64 *assignee_id,
										 TimestampTz at);

/* colour.c */
extern TimestampTz sb_tomorrow_start(pg_tz *tz, TimestampTz at);
extern char sb_colour(bool has_next, TimestampTz next_due, pg_tz *tz, TimestampTz at);
extern const char *sb_colour_name(char c);

/* spi helpers (catalog.c) */
typedef struct SbQuery
{
	const char *sql;
	int			nargs;
	Oid			argtypes[20];
	void	   *plan;			/* SPIPlanPtr, kept */
} SbQuery;
extern int	sb_exec(SbQuery *q, Datum *values, const char *nulls, bool read_only, long count);
extern int	sb_exec_once(const char *sql, bool read_only);

/*
 * The search_path every statement the extension runs as its owner is
 * parsed, planned and executed with (doc/reference.md, "Security model").
 */
#define SB_SAFE_SEARCH_PATH "pg_catalog, pg_temp"

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
extern void sb_trigger_misuse(const char *fname, const char *how) pg_attribute_noreturn();
extern bool sb_read_deal(int64 id, SbDealRow *d);

/* arrays and tags */
extern struct ArrayType *sb_int8_array(const int64 *v, bool *nulls, int n);
extern int	sb_tag_ids(struct ArrayType *tags, int64 **ids, const char *hint);

/* misc */
extern bool sb_col_changed(HeapTuple a, HeapTuple b, TupleDesc desc, AttrNumber att);
extern void sb_require_arg(FunctionCallInfo fcinfo, int argno, const char *name);
extern char *sb_text_arg(FunctionCallInfo fcinfo, int argno);
extern bool sb_blank(const char *s);

#endif							/* SALESBOARD_H */
