/*
 * catalog.h: the extension's relations, indexes, columns and roles, by OID
 * and attribute number (foundation), and the enums of its status and kind
 * columns.
 *
 * Table-driven: a relation or index is one line of SB_RELATIONS (or of
 * SB_RELATIONS_LATER when an upgrade script creates it), a column one line
 * of its table's column list. sb_catalog() resolves them all by name once
 * per backend; the relcache callback walks the same list and drops the lot
 * when any of them changes (doc/DEVELOPING.md, "A relation or a column the
 * C code reads").
 */
#ifndef SB_CATALOG_H
#define SB_CATALOG_H

#include "postgres.h"

#include "access/attnum.h"

/* relations and indexes of schema salesboard the C code reads directly */
#define SB_RELATIONS(X) \
	X(deal) \
	X(deal_pkey) \
	X(deal_id_seq) \
	X(deal_board_idx) \
	X(deal_closed_idx) \
	X(activity) \
	X(activity_pkey) \
	X(activity_id_seq) \
	X(activity_planned_idx) \
	X(stage) \
	X(employee) \
	X(employee_pkey) \
	X(department) \
	X(client) \
	X(client_pkey) \
	X(service_type) \
	X(service_type_pkey) \
	X(tag) \
	X(tag_pkey) \
	X(tag_name_key) \
	X(deal_tag) \
	X(deal_tag_pkey) \
	X(stage_history) \
	X(stage_history_request_id_key) \
	X(lost_reason) \
	X(lost_reason_pkey) \
	X(inbound) \
	X(inbound_pkey) \
	X(inbound_queue_idx) \
	X(lead_source) \
	X(lead_source_pkey) \
	X(alert)

/*
 * Relations an upgrade script creates after 1.0 (one line each, like the
 * list above). Until ALTER EXTENSION salesboard UPDATE has run they may be
 * missing: their OID is then InvalidOid, and code that needs one calls
 * sb_catalog_require("name") first, which resolves the catalog again if
 * the relation has appeared meanwhile, or says to run the update.
 */
#define SB_RELATIONS_LATER(X) \
	X(company) \
	X(currency_rate)

/* columns: (enum constant, column name), in any order */
#define SB_DEAL_COLUMNS(X) \
	X(DEAL_ID, "id") \
	X(DEAL_PIPELINE_ID, "pipeline_id") \
	X(DEAL_STAGE_ID, "stage_id") \
	X(DEAL_OWNER_ID, "owner_id") \
	X(DEAL_TITLE, "title") \
	X(DEAL_CLIENT_ID, "client_id") \
	X(DEAL_SERVICE_TYPE_ID, "service_type_id") \
	X(DEAL_AMOUNT, "amount") \
	X(DEAL_CURRENCY, "currency") \
	X(DEAL_PRIORITY, "priority") \
	X(DEAL_STATUS, "status") \
	X(DEAL_NEXT_DUE, "next_due") \
	X(DEAL_NEXT_ACTIVITY_ID, "next_activity_id") \
	X(DEAL_STAGE_ENTERED_AT, "stage_entered_at") \
	X(DEAL_CREATED_AT, "created_at") \
	X(DEAL_CREATED_BY, "created_by") \
	X(DEAL_CLOSED_AT, "closed_at") \
	X(DEAL_LOST_REASON_ID, "lost_reason_id")

#define SB_ACTIVITY_COLUMNS(X) \
	X(ACT_ID, "id") \
	X(ACT_DEAL_ID, "deal_id") \
	X(ACT_KIND, "kind") \
	X(ACT_SUBJECT, "subject") \
	X(ACT_DUE_AT, "due_at") \
	X(ACT_ALL_DAY, "all_day") \
	X(ACT_DUE_DATE, "due_date") \
	X(ACT_ASSIGNEE_ID, "assignee_id") \
	X(ACT_STATUS, "status") \
	X(ACT_RESULT, "result") \
	X(ACT_DONE_AT, "done_at") \
	X(ACT_CREATED_AT, "created_at") \
	X(ACT_CREATED_BY, "created_by")

#define SB_HISTORY_COLUMNS(X) \
	X(HIST_ID, "id") \
	X(HIST_DEAL_ID, "deal_id") \
	X(HIST_EVENT, "event") \
	X(HIST_TO_STAGE_ID, "to_stage_id") \
	X(HIST_MOVED_BY, "moved_by") \
	X(HIST_NEXT_ACTIVITY_ID, "next_activity_id")

#define SB_LOST_REASON_COLUMNS(X) \
	X(LR_ACTIVE, "active")

#define SB_DEPARTMENT_COLUMNS(X) \
	X(DEPT_ID, "id") \
	X(DEPT_PARENT_ID, "parent_id") \
	X(DEPT_HEAD_ID, "head_id")

#define SB_EMPLOYEE_COLUMNS(X) \
	X(EMP_ID, "id")

#define SB_STAGE_COLUMNS(X) \
	X(STAGE_ID, "id") \
	X(STAGE_PIPELINE_ID, "pipeline_id") \
	X(STAGE_KIND, "kind") \
	X(STAGE_PROBABILITY, "probability")

/* the name column of client, service_type and tag; deal_tag's tag */
#define SB_CLIENT_COLUMNS(X) X(CLIENT_NAME, "name")
#define SB_SERVICE_TYPE_COLUMNS(X) X(SERVICE_TYPE_ID, "id") X(SERVICE_TYPE_NAME, "name")
#define SB_TAG_COLUMNS(X) X(TAG_ID, "id") X(TAG_NAME, "name")
#define SB_DEAL_TAG_COLUMNS(X) X(DEAL_TAG_TAG_ID, "tag_id")

#define SB_INBOUND_COLUMNS(X) \
	X(INB_ID, "id") \
	X(INB_SOURCE_ID, "source_id") \
	X(INB_CHANNEL, "channel") \
	X(INB_SENDER, "sender") \
	X(INB_SUBJECT, "subject") \
	X(INB_RECEIVED_AT, "received_at") \
	X(INB_EXTERNAL_REF, "external_ref") \
	X(INB_THREAD_REF, "thread_ref") \
	X(INB_STATUS, "status") \
	X(INB_DEAL_ID, "deal_id") \
	X(INB_OWNER_ID, "owner_id") \
	X(INB_HANDLED_AT, "handled_at") \
	X(INB_HANDLED_BY, "handled_by")
#define SB_LEAD_SOURCE_COLUMNS(X) \
	X(SRC_ID, "id") \
	X(SRC_CHANNEL, "channel") \
	X(SRC_ADDRESS, "address") \
	X(SRC_OWNER_ID, "owner_id") \
	X(SRC_IS_LEAD_SOURCE, "is_lead_source") \
	X(SRC_ACTIVE, "active")
#define SB_ALERT_COLUMNS(X) \
	X(ALERT_SEEN_AT, "seen_at")
#define SB_ENUM_ITEM(e, name) e,
typedef enum SbDealCol { SB_DEAL_COLUMNS(SB_ENUM_ITEM) DEAL_NCOLS } SbDealCol;
typedef enum SbActCol { SB_ACTIVITY_COLUMNS(SB_ENUM_ITEM) ACT_NCOLS } SbActCol;
typedef enum SbHistCol { SB_HISTORY_COLUMNS(SB_ENUM_ITEM) HIST_NCOLS } SbHistCol;
typedef enum SbLostReasonCol { SB_LOST_REASON_COLUMNS(SB_ENUM_ITEM) LR_NCOLS } SbLostReasonCol;
typedef enum SbDeptCol { SB_DEPARTMENT_COLUMNS(SB_ENUM_ITEM) DEPT_NCOLS } SbDeptCol;
typedef enum SbEmpCol { SB_EMPLOYEE_COLUMNS(SB_ENUM_ITEM) EMP_NCOLS } SbEmpCol;
typedef enum SbStageCol { SB_STAGE_COLUMNS(SB_ENUM_ITEM) STAGE_NCOLS } SbStageCol;
typedef enum SbClientCol { SB_CLIENT_COLUMNS(SB_ENUM_ITEM) CLIENT_NCOLS } SbClientCol;
typedef enum SbServiceTypeCol { SB_SERVICE_TYPE_COLUMNS(SB_ENUM_ITEM) SERVICE_TYPE_NCOLS } SbServiceTypeCol;
typedef enum SbTagCol { SB_TAG_COLUMNS(SB_ENUM_ITEM) TAG_NCOLS } SbTagCol;
typedef enum SbDealTagCol { SB_DEAL_TAG_COLUMNS(SB_ENUM_ITEM) DEAL_TAG_NCOLS } SbDealTagCol;
typedef enum SbInboundCol { SB_INBOUND_COLUMNS(SB_ENUM_ITEM) INB_NCOLS } SbInboundCol;
typedef enum SbLeadSourceCol { SB_LEAD_SOURCE_COLUMNS(SB_ENUM_ITEM) SRC_NCOLS } SbLeadSourceCol;
typedef enum SbAlertCol { SB_ALERT_COLUMNS(SB_ENUM_ITEM) ALERT_NCOLS } SbAlertCol;

#define SB_REL_FIELD(name) Oid name;
typedef struct SbCatalog
{
	bool		valid;
	Oid			nsp;
	Oid			owner;			/* owner of the extension's tables */
	SB_RELATIONS(SB_REL_FIELD)
	SB_RELATIONS_LATER(SB_REL_FIELD)
	Oid			role_user,
				role_admin,
				role_app,
				role_reader;
	AttrNumber	deal_att[DEAL_NCOLS];
	AttrNumber	act_att[ACT_NCOLS];
	AttrNumber	hist_att[HIST_NCOLS];
	AttrNumber	lost_reason_att[LR_NCOLS];
	AttrNumber	department_att[DEPT_NCOLS];
	AttrNumber	employee_att[EMP_NCOLS];
	AttrNumber	stage_att[STAGE_NCOLS];
	AttrNumber	client_att[CLIENT_NCOLS];
	AttrNumber	service_type_att[SERVICE_TYPE_NCOLS];
	AttrNumber	tag_att[TAG_NCOLS];
	AttrNumber	deal_tag_att[DEAL_TAG_NCOLS];
	AttrNumber	inbound_att[INB_NCOLS];
	AttrNumber	lead_source_att[SRC_NCOLS];
	AttrNumber	alert_att[ALERT_NCOLS];
} SbCatalog;

extern SbCatalog sb_cat;
extern void sb_catalog(void);
extern void sb_catalog_init(void);
extern Oid	sb_catalog_require(const char *name);

/*
 * The values of the status and kind columns, parsed from their full text
 * (never from a first letter). The constants keep the letters the code
 * used before, so that a debugger shows something readable.
 */
typedef enum SbStatus			/* deal.status and stage.kind */
{
	SB_STATUS_UNKNOWN = 0,
	SB_OPEN = 'o',
	SB_WON = 'w',
	SB_LOST = 'l'
} SbStatus;

typedef enum SbActStatus		/* activity.status */
{
	SB_ACT_UNKNOWN = 0,
	SB_PLANNED = 'p',
	SB_DONE = 'd',
	SB_CANCELLED = 'c'
} SbActStatus;

typedef struct SbEnumName
{
	int			value;
	const char *name;
} SbEnumName;

typedef struct SbEnumSet
{
	const SbEnumName *names;
	int			n;
} SbEnumSet;

extern const SbEnumSet sb_status_set;	/* open, won, lost */
extern const SbEnumSet sb_act_status_set;	/* planned, done, cancelled */

extern int	sb_enum_from_datum(const SbEnumSet *set, Datum d, bool isnull);
extern const char *sb_enum_name(const SbEnumSet *set, int value);

static inline SbStatus
sb_status_from_datum(Datum d, bool isnull)
{
	return (SbStatus) sb_enum_from_datum(&sb_status_set, d, isnull);
}

static inline const char *
sb_status_name(SbStatus s)
{
	return sb_enum_name(&sb_status_set, s);
}

static inline SbActStatus
sb_act_status_from_datum(Datum d, bool isnull)
{
	return (SbActStatus) sb_enum_from_datum(&sb_act_status_set, d, isnull);
}

#endif							/* SB_CATALOG_H */
