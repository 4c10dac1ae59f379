/*
 * newdeal.c: the deal-creation core (services layer; newdeal.h).
 *
 * Every check runs before anything is written, against the caches and the
 * newest rows; the writes then run as the owner inside one protocol step,
 * so the triggers know the new deal and its first activity are the API's.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "activities.h"
#include "calls.h"
#include "catalog.h"
#include "config.h"
#include "deals.h"
#include "errcodes.h"
#include "identity.h"
#include "newdeal.h"
#include "protocol.h"
#include "rows.h"
#include "spi.h"
#include "texts.h"

static SbQuery q_insert_deal = {
	"INSERT INTO salesboard.deal (stage_id, owner_id, title, client_id, service_type_id, "
	"amount, currency, stage_entered_at, created_at, created_by) "
	"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9) RETURNING id, pipeline_id",
	9, {INT8OID, INT8OID, TEXTOID, INT8OID, INT8OID, NUMERICOID, TEXTOID, TIMESTAMPTZOID, INT8OID}, NULL
};

static SbQuery q_insert_tags = {
	"INSERT INTO salesboard.deal_tag (deal_id, tag_id) SELECT $1, pg_catalog.unnest($2::bigint[]) ON CONFLICT DO NOTHING",
	2, {INT8OID, INT8ARRAYOID}, NULL
};

/* The owner exists, the session may act for them, the stage is open. */
static const SbStage *
check_owner_and_stage(const SbNewDeal *nd)
{
	const SbStage *st;

	const SbEmployee *owner = sb_employee(nd->owner_id);

	if (owner == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_SB_UNKNOWN_EMPLOYEE),
				 errmsg("employee " INT64_FORMAT " does not exist", nd->owner_id),
				 errhint("Pass the id of a row of salesboard.employee as owner_id.")));
	if (!sb_can_access_owner(nd->owner_id))
		ereport(ERROR,
				(errcode(ERRCODE_SB_ACCESS),
				 errmsg("you may not create deals for employee " INT64_FORMAT, nd->owner_id),
				 errdetail("Employees create deals for themselves; department heads also for the people below them."),
				 errhint("Pass your own employee id (salesboard.current_employee()).")));
	sb_require_active(owner, "no deal can be created for them");
	st = sb_stage_or_error(nd->stage_id);
	if (st->kind != SB_OPEN)
		ereport(ERROR,
				(errcode(ERRCODE_SB_STAGE_KIND),
				 errmsg("a new deal cannot start in the %s stage \"%s\"", sb_status_name(st->kind), st->name),
				 errhint("Create the deal in an open stage, then close it with salesboard.close_deal().")));
	sb_require_terminal_stages(st->pipeline_id);
	return st;
}

/* Title, client, service type, amount and currency. */
static void
check_values(const SbNewDeal *nd)
{
	if (sb_blank(nd->title))
		ereport(ERROR,
				(errcode(ERRCODE_SB_BAD_VALUE),
				 errmsg("a deal needs a title"),
				 errhint("Name the deal, e.g. 'Implementation for Acme'.")));
	sb_check_length("title", nd->title, SB_TITLE_MAX);
	if (nd->has_client && !sb_row_exists(sb_cat.client, sb_cat.client_pkey, nd->client_id))
		ereport(ERROR,
				(errcode(ERRCODE_SB_UNKNOWN_CLIENT),
				 errmsg("client " INT64_FORMAT " does not exist", nd->client_id),
				 errhint("Pass the id of a row of salesboard.client, or NULL.")));
	if (nd->has_service_type &&
		!sb_row_exists(sb_cat.service_type, sb_cat.service_type_pkey, nd->service_type_id))
		ereport(ERROR,
				(errcode(ERRCODE_SB_UNKNOWN_SERVICE_TYPE),
				 errmsg("service type " INT64_FORMAT " does not exist", nd->service_type_id),
				 errhint("Pass the id of a row of salesboard.service_type, or NULL.")));
	if (nd->has_amount)
	{
		if (numeric_is_nan(DatumGetNumeric(nd->amount)) || numeric_is_inf(DatumGetNumeric(nd->amount)))
			ereport(ERROR,
					(errcode(ERRCODE_SB_BAD_VALUE),
					 errmsg("the amount of a deal must be a number, not %s",
							numeric_is_nan(DatumGetNumeric(nd->amount)) ? "NaN" : "infinity"),
					 errhint("Pass the expected amount, 0 or more, or NULL.")));
		if (DatumGetBool(DirectFunctionCall2(numeric_ge, nd->amount,
											 DirectFunctionCall3(numeric_in, CStringGetDatum("100000000000000"),
																 ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)))))
			ereport(ERROR,
					(errcode(ERRCODE_SB_BAD_VALUE),
					 errmsg("the amount %s is too large for a deal",
							DatumGetCString(DirectFunctionCall1(numeric_out, nd->amount))),
					 errdetail("Amounts are kept with 2 decimals and at most 14 digits before the point."),
					 errhint("Pass an amount below 100000000000000.")));
		if (DatumGetBool(DirectFunctionCall2(numeric_lt, nd->amount,
											 DirectFunctionCall1(int4_numeric, Int32GetDatum(0)))))
			ereport(ERROR,
					(errcode(ERRCODE_SB_BAD_VALUE),
					 errmsg("the amount of a deal cannot be negative"),
					 errhint("Pass the expected amount, 0 or more, or NULL.")));
	}
	if (nd->currency != NULL &&
		(strlen(nd->currency) != 3 || !isupper((unsigned char) nd->currency[0]) ||
		 !isupper((unsigned char) nd->currency[1]) || !isupper((unsigned char) nd->currency[2])))
		ereport(ERROR,
				(errcode(ERRCODE_SB_BAD_VALUE),
				 errmsg("currency \"%s\" is not an ISO 4217 code", nd->currency),
				 errhint("Use three capital letters such as 'USD', 'EUR' or 'RUB'.")));
}

/* The deal row; returns its id. Inside SPI. */
static int64
insert_deal(const SbNewDeal *nd)
{
	Datum		v[9];
	char		n[9] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
	int64		me = sb_current_employee();
	bool		isnull;
	/* without a currency the deal trigger applies the company's default */
	const char *currency = nd->currency;

	v[0] = Int64GetDatum(nd->stage_id);
	v[1] = Int64GetDatum(nd->owner_id);
	v[2] = CStringGetTextDatum(nd->title);
	v[3] = Int64GetDatum(nd->client_id);
	n[3] = nd->has_client ? ' ' : 'n';
	v[4] = Int64GetDatum(nd->service_type_id);
	n[4] = nd->has_service_type ? ' ' : 'n';
	v[5] = nd->has_amount ? nd->amount : (Datum) 0;
	n[5] = nd->has_amount ? ' ' : 'n';
	v[6] = currency ? CStringGetTextDatum(currency) : (Datum) 0;
	n[6] = currency ? ' ' : 'n';
	v[7] = TimestampTzGetDatum(nd->at);
	v[8] = Int64GetDatum(me);
	n[8] = me ? ' ' : 'n';
	if (sb_exec(&q_insert_deal, v, n, false, 0) != SPI_OK_INSERT_RETURNING || SPI_processed != 1)
		elog(ERROR, "salesboard: inserting a deal returned no row");
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/*
 * Create a deal: check everything, then insert the deal, its tags and its
 * first planned activity, and set next_due. Returns the deal's id.
 */
int64
sb_deal_create(const SbNewDeal *nd)
{
	const SbStage *st;
	SbDealRow	deal = {0};
	Datum		tag_ids = (Datum) 0;
	int			step;

	sb_catalog();
	(void) sb_require_employee();
	st = check_owner_and_stage(nd);
	check_values(nd);

	SPI_connect();
	if (nd->tags != NULL)
	{
		int64	   *ids;
		int			nids = sb_tag_ids(nd->tags, &ids,
									  "Use the name of a row of salesboard.tag, or ask an administrator to add it.");

		tag_ids = nids > 0 ? PointerGetDatum(sb_int8_array(ids, NULL, nids)) : (Datum) 0;
	}
	step = sb_protocol_begin(SB_OP_CREATE, 0);
	deal.id = insert_deal(nd);
	deal.owner_id = nd->owner_id;
	deal.pipeline_id = st->pipeline_id;
	deal.stage_id = nd->stage_id;
	deal.status = SB_OPEN;
	sb_protocol_set_deal(deal.id);
	if (tag_ids != (Datum) 0)
	{
		Datum		tv[2] = {Int64GetDatum(deal.id), tag_ids};

		sb_exec(&q_insert_tags, tv, NULL, false, 0);
	}
	(void) sb_insert_activity(&deal, nd->first_kind, nd->first_subject, nd->first_due,
							  nd->first_all_day, NULL, nd->at);
	sb_refresh_next_due(deal.id);
	sb_protocol_end(step);
	SPI_finish();
	return deal.id;
}
