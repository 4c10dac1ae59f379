/*
 * requests.c: request ids of create_deal, plan_activity,
 * complete_activity, cancel_activity, set_priority and the inbound
 * dispatch functions (services layer;
 * requests.h).
 *
 * Table salesboard.api_request holds one row per request id: the
 * operation, its target, the employee, and the answer. The claim is an
 * INSERT ... ON CONFLICT DO NOTHING made before the work: a duplicate sent
 * at the same moment waits for the first transaction, then finds its row
 * (READ COMMITTED) or gets 40001 (REPEATABLE READ); if the first rolled
 * back, the duplicate goes ahead as the first.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "catalog.h"
#include "errcodes.h"
#include "identity.h"
#include "requests.h"
#include "spi.h"

static SbQuery q_claim = {
	"INSERT INTO salesboard.api_request (request_id, operation, target_id, employee_id, created_at) "
	"VALUES ($1, $2, $3, $4, pg_catalog.now()) ON CONFLICT (request_id) DO NOTHING RETURNING request_id",
	4, {UUIDOID, TEXTOID, INT8OID, INT8OID}, NULL
};

static SbQuery q_read = {
	"SELECT r.operation, r.target_id, coalesce(r.employee_id, 0), coalesce(r.deal_id, 0), "
	"       coalesce(r.activity_id, 0), coalesce(r.answer_count, 0) "
	"  FROM salesboard.api_request r WHERE r.request_id = $1",
	1, {UUIDOID}, NULL
};

static SbQuery q_answer = {
	"UPDATE salesboard.api_request r SET deal_id = $2, activity_id = $3, answer_count = $4 "
	"WHERE r.request_id = $1",
	4, {UUIDOID, INT8OID, INT8OID, INT8OID}, NULL
};

static SbQuery q_in_history = {
	"SELECT 1 FROM salesboard.stage_history h WHERE h.request_id = $1",
	1, {UUIDOID}, NULL
};

void
sb_request_reused(pg_uuid_t *request_id)
{
	ereport(ERROR,
			(errcode(ERRCODE_SB_REQUEST_REUSED),
			 errmsg("request %s was already used for another change",
					DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(request_id)))),
			 errhint("Generate a new request_id for every new change; reuse one only to retry the same change.")));
}

bool
sb_request_claim(pg_uuid_t *request_id, const char *op, int64 target, SbRequestAnswer *answer)
{
	Datum		v[4];
	char		n[4] = {' ', ' ', ' ', ' '};
	int64		me = sb_current_employee();
	bool		isnull;
	bool		replayed = false;

	answer->deal_id = answer->activity_id = answer->count = 0;
	if (request_id == NULL)
		return false;
	sb_catalog();
	SPI_connect();
	v[0] = UUIDPGetDatum(request_id);
	sb_exec(&q_in_history, v, NULL, true, 1);
	if (SPI_processed > 0)
		sb_request_reused(request_id);	/* a move, close or reopen had it */
	v[1] = CStringGetTextDatum(op);
	v[2] = Int64GetDatum(target);
	v[3] = Int64GetDatum(me);
	n[3] = me != 0 ? ' ' : 'n';
	sb_exec(&q_claim, v, n, false, 1);
	if (SPI_processed == 0)
	{
		char	   *old_op;

		/* not read-only: a fresh snapshot sees the duplicate's committed row */
		sb_exec(&q_read, v, NULL, false, 1);
		if (SPI_processed != 1)
			sb_request_reused(request_id);
		old_op = sb_spi_text(0, 1, CurrentMemoryContext);
		if (strcmp(old_op, op) != 0 || sb_spi_int8(0, 2, &isnull) != target ||
			sb_spi_int8(0, 3, &isnull) != me)
			sb_request_reused(request_id);
		answer->deal_id = sb_spi_int8(0, 4, &isnull);
		answer->activity_id = sb_spi_int8(0, 5, &isnull);
		answer->count = sb_spi_int8(0, 6, &isnull);
		replayed = true;
	}
	SPI_finish();
	return replayed;
}

void
sb_request_answer(pg_uuid_t *request_id, const SbRequestAnswer *answer)
{
	Datum		v[4];
	char		n[4] = {' ', ' ', ' ', ' '};

	if (request_id == NULL)
		return;
	v[0] = UUIDPGetDatum(request_id);
	v[1] = Int64GetDatum(answer->deal_id);
	n[1] = answer->deal_id ? ' ' : 'n';
	v[2] = Int64GetDatum(answer->activity_id);
	n[2] = answer->activity_id ? ' ' : 'n';
	v[3] = Int64GetDatum(answer->count);
	n[3] = answer->count ? ' ' : 'n';
	SPI_connect();
	sb_exec(&q_answer, v, n, false, 0);
	SPI_finish();
}

/*
 * A move, close or reopen takes its request id here too (operation
 * stage_change, target the deal) before it writes stage_history: the
 * primary key of api_request is then the one place that lets an id serve
 * one change, even when a create_deal with the same id commits meanwhile
 * (the second to insert waits for the first, then gets SB012). The caller
 * has already looked in stage_history under the deal's lock, so an id
 * found here belongs to another change.
 */
void
sb_request_reserve(pg_uuid_t *request_id, int64 deal_id)
{
	Datum		v[4];
	char		n[4] = {' ', ' ', ' ', ' '};
	int64		me = sb_current_employee();

	if (request_id == NULL)
		return;
	v[0] = UUIDPGetDatum(request_id);
	v[1] = CStringGetTextDatum("stage_change");
	v[2] = Int64GetDatum(deal_id);
	v[3] = Int64GetDatum(me);
	n[3] = me != 0 ? ' ' : 'n';
	SPI_connect();
	sb_exec(&q_claim, v, n, false, 1);
	if (SPI_processed == 0)
		sb_request_reused(request_id);
	SPI_finish();
}
