/*
 * catalog.c: OIDs of the extension's relations, indexes and roles, and the
 * attribute numbers of the columns the C code reads (foundation layer).
 *
 * Resolved by name once per backend from the lists in catalog.h; a change
 * to any listed relation (DDL, or a relcache invalidation) drops them and
 * the next sb_catalog() resolves them again. Calls nothing of salesboard.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "catalog.h"
#include "errcodes.h"

SbCatalog	sb_cat;

typedef struct RelationEntry
{
	const char *name;
	size_t		offset;			/* of the Oid in SbCatalog */
} RelationEntry;

#define SB_REL_ENTRY(name) {#name, offsetof(SbCatalog, name)},
static const RelationEntry relations[] = {SB_RELATIONS(SB_REL_ENTRY)};
static const RelationEntry later_relations[] = {SB_RELATIONS_LATER(SB_REL_ENTRY) {NULL, 0}};

#define SB_COL_NAME(e, name) name,
static const char *const deal_cols[] = {SB_DEAL_COLUMNS(SB_COL_NAME)};
static const char *const act_cols[] = {SB_ACTIVITY_COLUMNS(SB_COL_NAME)};
static const char *const hist_cols[] = {SB_HISTORY_COLUMNS(SB_COL_NAME)};
static const char *const lost_reason_cols[] = {SB_LOST_REASON_COLUMNS(SB_COL_NAME)};
static const char *const department_cols[] = {SB_DEPARTMENT_COLUMNS(SB_COL_NAME)};
static const char *const employee_cols[] = {SB_EMPLOYEE_COLUMNS(SB_COL_NAME)};
static const char *const stage_cols[] = {SB_STAGE_COLUMNS(SB_COL_NAME)};
static const char *const client_cols[] = {SB_CLIENT_COLUMNS(SB_COL_NAME)};
static const char *const service_type_cols[] = {SB_SERVICE_TYPE_COLUMNS(SB_COL_NAME)};
static const char *const tag_cols[] = {SB_TAG_COLUMNS(SB_COL_NAME)};
static const char *const deal_tag_cols[] = {SB_DEAL_TAG_COLUMNS(SB_COL_NAME)};
static const char *const inbound_cols[] = {SB_INBOUND_COLUMNS(SB_COL_NAME)};
static const char *const lead_source_cols[] = {SB_LEAD_SOURCE_COLUMNS(SB_COL_NAME)};
static const char *const alert_cols[] = {SB_ALERT_COLUMNS(SB_COL_NAME)};

typedef struct ColumnSet
{
	size_t		rel_offset;		/* of the relation's Oid in SbCatalog */
	const char *const *names;
	size_t		atts_offset;	/* of the AttrNumber array in SbCatalog */
	int			n;
} ColumnSet;

static const ColumnSet column_sets[] = {
	{offsetof(SbCatalog, deal), deal_cols, offsetof(SbCatalog, deal_att), DEAL_NCOLS},
	{offsetof(SbCatalog, activity), act_cols, offsetof(SbCatalog, act_att), ACT_NCOLS},
	{offsetof(SbCatalog, stage_history), hist_cols, offsetof(SbCatalog, hist_att), HIST_NCOLS},
	{offsetof(SbCatalog, lost_reason), lost_reason_cols, offsetof(SbCatalog, lost_reason_att), LR_NCOLS},
	{offsetof(SbCatalog, department), department_cols, offsetof(SbCatalog, department_att), DEPT_NCOLS},
	{offsetof(SbCatalog, employee), employee_cols, offsetof(SbCatalog, employee_att), EMP_NCOLS},
	{offsetof(SbCatalog, stage), stage_cols, offsetof(SbCatalog, stage_att), STAGE_NCOLS},
	{offsetof(SbCatalog, client), client_cols, offsetof(SbCatalog, client_att), CLIENT_NCOLS},
	{offsetof(SbCatalog, service_type), service_type_cols, offsetof(SbCatalog, service_type_att), SERVICE_TYPE_NCOLS},
	{offsetof(SbCatalog, tag), tag_cols, offsetof(SbCatalog, tag_att), TAG_NCOLS},
	{offsetof(SbCatalog, deal_tag), deal_tag_cols, offsetof(SbCatalog, deal_tag_att), DEAL_TAG_NCOLS},
	{offsetof(SbCatalog, inbound), inbound_cols, offsetof(SbCatalog, inbound_att), INB_NCOLS},
	{offsetof(SbCatalog, lead_source), lead_source_cols, offsetof(SbCatalog, lead_source_att), SRC_NCOLS},
	{offsetof(SbCatalog, alert), alert_cols, offsetof(SbCatalog, alert_att), ALERT_NCOLS},
};

#define CAT_OID(offset) (*(Oid *) ((char *) &sb_cat + (offset)))

static void
damaged(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("the salesboard extension in this database is incomplete"),
			 errhint("Run ALTER EXTENSION salesboard UPDATE, or reinstall it with DROP EXTENSION and CREATE EXTENSION.")));
}

static void
resolve_relations(void)
{
	int			i;

	for (i = 0; i < (int) lengthof(relations); i++)
	{
		Oid			relid = get_relname_relid(relations[i].name, sb_cat.nsp);

		if (!OidIsValid(relid))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("relation salesboard.%s does not exist", relations[i].name),
					 errhint("The salesboard extension is damaged or not updated; run ALTER EXTENSION salesboard UPDATE, or reinstall it.")));
		CAT_OID(relations[i].offset) = relid;
	}
	for (i = 0; later_relations[i].name != NULL; i++)
		CAT_OID(later_relations[i].offset) = get_relname_relid(later_relations[i].name, sb_cat.nsp);
}

/*
 * A relation of SB_RELATIONS_LATER that this call needs must be there; if
 * another session's ALTER EXTENSION UPDATE created it since the catalog was
 * resolved, resolve it again. Returns its OID.
 */
Oid
sb_catalog_require(const char *name)
{
	Oid			relid;
	int			i;

	sb_catalog();
	for (i = 0; later_relations[i].name != NULL; i++)
		if (strcmp(later_relations[i].name, name) == 0 &&
			OidIsValid(CAT_OID(later_relations[i].offset)))
			return CAT_OID(later_relations[i].offset);
	relid = get_relname_relid(name, sb_cat.nsp);
	if (OidIsValid(relid))
	{
		sb_cat.valid = false;	/* pick it up with everything else */
		sb_catalog();
		return relid;
	}
	ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("relation salesboard.%s does not exist yet", name),
				 errhint("The salesboard library is newer than the extension in this database: run ALTER EXTENSION salesboard UPDATE.")));
	return InvalidOid;			/* keep compiler quiet */
}

static void
resolve_columns(void)
{
	int			s,
				i;

	for (s = 0; s < (int) lengthof(column_sets); s++)
	{
		const ColumnSet *cs = &column_sets[s];
		Oid			relid = CAT_OID(cs->rel_offset);
		AttrNumber *atts = (AttrNumber *) ((char *) &sb_cat + cs->atts_offset);

		if (!OidIsValid(relid))
			continue;			/* a later relation, not created yet */
		for (i = 0; i < cs->n; i++)
		{
			atts[i] = get_attnum(relid, cs->names[i]);
			if (atts[i] == InvalidAttrNumber)
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_COLUMN),
						 errmsg("column \"%s\" of relation \"%s\" does not exist",
								cs->names[i], get_rel_name(relid)),
						 errhint("The salesboard extension is damaged or not updated; run ALTER EXTENSION salesboard UPDATE.")));
		}
	}
}

/* Make sb_cat valid: the relation, index, column and role numbers of this database. */
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
	resolve_relations();
	resolve_columns();
	sb_cat.role_user = get_role_oid("salesboard_user", true);
	sb_cat.role_admin = get_role_oid("salesboard_admin", true);
	sb_cat.role_app = get_role_oid("salesboard_app", true);
	sb_cat.role_reader = get_role_oid("salesboard_reader", true);

	tp = SearchSysCache1(RELOID, ObjectIdGetDatum(sb_cat.deal));
	if (!HeapTupleIsValid(tp))
		damaged();
	sb_cat.owner = ((Form_pg_class) GETSTRUCT(tp))->relowner;
	ReleaseSysCache(tp);

	sb_cat.valid = true;
}

/* A change to any listed relation (or a reset of all) drops the lot. */
static void
relcache_cb(Datum arg, Oid relid)
{
	int			i;

	if (!sb_cat.valid)
		return;
	if (!OidIsValid(relid))
	{
		sb_cat.valid = false;
		return;
	}
	for (i = 0; i < (int) lengthof(relations); i++)
		if (CAT_OID(relations[i].offset) == relid)
		{
			sb_cat.valid = false;
			return;
		}
	for (i = 0; later_relations[i].name != NULL; i++)
		if (CAT_OID(later_relations[i].offset) == relid)
		{
			sb_cat.valid = false;
			return;
		}
}

void
sb_catalog_init(void)
{
	CacheRegisterRelcacheCallback(relcache_cb, (Datum) 0);
}

/* ------------------------------------------------------------------
 * Status and kind enums
 * ------------------------------------------------------------------ */
static const SbEnumName status_names[] = {
	{SB_OPEN, "open"}, {SB_WON, "won"}, {SB_LOST, "lost"}
};
static const SbEnumName act_status_names[] = {
	{SB_PLANNED, "planned"}, {SB_DONE, "done"}, {SB_CANCELLED, "cancelled"}
};

const SbEnumSet sb_status_set = {status_names, lengthof(status_names)};
const SbEnumSet sb_act_status_set = {act_status_names, lengthof(act_status_names)};

/* The enum value of a text datum: its whole text, compared exactly; 0 if none. */
int
sb_enum_from_datum(const SbEnumSet *set, Datum d, bool isnull)
{
	struct varlena *t;
	int			len,
				i;

	if (isnull)
		return 0;
	t = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(d));
	len = VARSIZE_ANY_EXHDR(t);
	for (i = 0; i < set->n; i++)
		if ((int) strlen(set->names[i].name) == len &&
			memcmp(set->names[i].name, VARDATA_ANY(t), len) == 0)
			return set->names[i].value;
	return 0;
}

const char *
sb_enum_name(const SbEnumSet *set, int value)
{
	int			i;

	for (i = 0; i < set->n; i++)
		if (set->names[i].value == value)
			return set->names[i].name;
	return "?";
}
