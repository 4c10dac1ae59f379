/*
 * board_json.c: board_json() (feature): the whole board a web page draws,
 * in one jsonb value (doc/reference.md, "board_json").
 *
 * The cards are board()'s (cards.c, cardinfo.c); around them every column
 * of each pipeline in board order, empty ones too, with its stage, kind,
 * card count and amount totals per currency, and before the first
 * pipeline's stages the Inbound column (new inbound requests of the
 * board's people received by `at`, at most 200, oldest first). The JSON text is written here and parsed once into
 * jsonb. Moments are ISO 8601 in UTC, so the session's TimeZone changes
 * nothing; local dates come from the owner's zone.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "calls.h"
#include "cardinfo.h"
#include "cards.h"
#include "colour.h"
#include "config.h"
#include "rows.h"
#include "spi.h"

PG_FUNCTION_INFO_V1(sb_board_json);

#define INBOUND_SHOWN 200

static SbQuery q_inbound = {
	"SELECT i.id, i.channel, i.sender, i.subject, i.received_at, i.owner_id, i.source_id "
	"FROM salesboard.inbound i WHERE i.status = 'new' AND i.owner_id = ANY($1) "
	"AND i.received_at <= $2 ORDER BY i.received_at, i.id LIMIT 201",
	2, {INT8ARRAYOID, TIMESTAMPTZOID}, NULL
};

/* ------------------------------------------------------------------
 * JSON writers
 * ------------------------------------------------------------------ */
static void
key(StringInfo b, bool *first, const char *k)
{
	if (!*first)
		appendStringInfoChar(b, ',');
	*first = false;
	escape_json(b, k);
	appendStringInfoChar(b, ':');
}

static void
put_text(StringInfo b, bool *first, const char *k, const char *v)
{
	key(b, first, k);
	if (v == NULL)
		appendStringInfoString(b, "null");
	else
		escape_json(b, v);
}

static void
put_int8(StringInfo b, bool *first, const char *k, bool isnull, int64 v)
{
	key(b, first, k);
	if (isnull)
		appendStringInfoString(b, "null");
	else
		appendStringInfo(b, INT64_FORMAT, v);
}

static void
put_bool(StringInfo b, bool *first, const char *k, bool v)
{
	key(b, first, k);
	appendStringInfoString(b, v ? "true" : "false");
}

/* a moment in UTC, or a date: ISO 8601 */
static void
put_moment(StringInfo b, bool *first, const char *k, bool isnull, Datum v, Oid type)
{
	char		buf[MAXDATELEN + 1];
	const int	utc = 0;

	key(b, first, k);
	if (isnull)
	{
		appendStringInfoString(b, "null");
		return;
	}
	JsonEncodeDateTime(buf, v, type, type == TIMESTAMPTZOID ? &utc : NULL);
	appendStringInfo(b, "\"%s\"", buf);
}

static void
put_numeric(StringInfo b, bool *first, const char *k, bool isnull, Datum v)
{
	key(b, first, k);
	if (isnull)
		appendStringInfoString(b, "null");
	else
		appendStringInfoString(b, DatumGetCString(DirectFunctionCall1(numeric_out, v)));
}

/* ------------------------------------------------------------------
 * Columns and cards
 * ------------------------------------------------------------------ */
typedef struct Total
{
	char	   *currency;		/* NULL: amounts without a currency */
	Datum		amount;
	int			cards;
} Total;

static void
add_total(Total *t, int *n, const SbCard *c)
{
	char	   *cur = c->currency_null ? NULL : TextDatumGetCString(c->currency);
	int			i;

	if (c->amount_null)
		return;
	for (i = 0; i < *n; i++)
		if ((cur == NULL && t[i].currency == NULL) ||
			(cur != NULL && t[i].currency != NULL && strcmp(cur, t[i].currency) == 0))
			break;
	if (i == *n)
	{
		t[i].currency = cur;
		t[i].amount = DirectFunctionCall1(int4_numeric, Int32GetDatum(0));
		t[i].cards = 0;
		(*n)++;
	}
	t[i].amount = DirectFunctionCall2(numeric_add, t[i].amount, c->amount);
	t[i].cards++;
}

static void
put_card(StringInfo b, SbCardInfoReader *r, const SbCard *c, int rank)
{
	SbCardInfo	info;
	const SbEmployee *owner = sb_employee(c->owner_id);
	bool		f = true,
				fo = true;
	int			i;

	sb_cardinfo_read(r, c, &info);
	appendStringInfoChar(b, '{');
	put_int8(b, &f, "deal_id", false, c->deal_id);
	put_text(b, &f, "title", c->title);
	put_int8(b, &f, "client_id", !c->has_client, c->client_id);
	put_text(b, &f, "client", info.client);
	put_int8(b, &f, "service_type_id", !c->has_service_type, c->service_type_id);
	put_text(b, &f, "service_type", info.service_type);
	put_numeric(b, &f, "amount", c->amount_null, c->amount);
	put_text(b, &f, "currency", c->currency_null ? NULL : TextDatumGetCString(c->currency));
	put_int8(b, &f, "next_activity_id", !c->has_next || c->next_activity_id == 0, c->next_activity_id);
	put_moment(b, &f, "next_due", !c->has_next, TimestampTzGetDatum(c->next_due), TIMESTAMPTZOID);
	put_bool(b, &f, "next_all_day", info.next_all_day);
	put_moment(b, &f, "next_due_date", !info.has_due_date, DateADTGetDatum(info.next_due_date), DATEOID);
	put_text(b, &f, "next_subject", info.next_subject);
	put_text(b, &f, "next_kind", info.next_kind);
	put_text(b, &f, "colour", sb_colour_name(c->colour));
	put_bool(b, &f, "priority", c->priority);
	put_moment(b, &f, "closed_at", !c->closed, TimestampTzGetDatum(c->closed_at), TIMESTAMPTZOID);
	put_int8(b, &f, "rank", false, rank);
	key(b, &f, "owner");
	appendStringInfoChar(b, '{');
	put_int8(b, &fo, "id", false, c->owner_id);
	put_text(b, &fo, "name", owner ? owner->name : NULL);
	put_text(b, &fo, "time_zone", owner ? owner->time_zone : NULL);
	appendStringInfoChar(b, '}');
	key(b, &f, "tags");
	appendStringInfoChar(b, '[');
	for (i = 0; i < info.ntags; i++)
	{
		if (i > 0)
			appendStringInfoChar(b, ',');
		escape_json(b, info.tags[i]);
	}
	appendStringInfoString(b, "]}");
}

/* One column: its stage and the cards in it, in board order. */
static void
put_column(StringInfo b, SbCardInfoReader *r, const SbStage *st, const SbCardList *cards)
{
	Total	   *totals = palloc(sizeof(Total) * (cards->n + 1));
	int			ntotals = 0,
				count = 0,
				i;
	bool		f = true;

	appendStringInfoChar(b, '{');
	put_int8(b, &f, "position", false, st->column);
	put_text(b, &f, "kind", st->kind == SB_OPEN ? "stage" : sb_status_name(st->kind));
	put_int8(b, &f, "stage_id", false, st->id);
	put_text(b, &f, "name", st->name);
	key(b, &f, "cards");
	appendStringInfoChar(b, '[');
	for (i = 0; i < cards->n; i++)
	{
		const SbCard *c = &cards->cards[i];

		if (c->st != st)
			continue;
		if (count++ > 0)
			appendStringInfoChar(b, ',');
		put_card(b, r, c, count);
		add_total(totals, &ntotals, c);
	}
	appendStringInfoChar(b, ']');
	put_int8(b, &f, "card_count", false, count);
	key(b, &f, "totals");
	appendStringInfoChar(b, '[');
	for (i = 0; i < ntotals; i++)
	{
		bool		ft = true;

		appendStringInfoString(b, i > 0 ? ",{" : "{");
		put_text(b, &ft, "currency", totals[i].currency);
		put_numeric(b, &ft, "amount", false, totals[i].amount);
		put_int8(b, &ft, "cards", false, totals[i].cards);
		appendStringInfoChar(b, '}');
	}
	appendStringInfoString(b, "]}");
}

/* The Inbound column: new inbound requests of the board's people. */
static void
put_inbound(StringInfo b, const int64 *owners, int nowners, TimestampTz at)
{
	Datum		v[2];
	uint64		k;
	bool		f = true,
				isnull;

	v[0] = PointerGetDatum(sb_int8_array(owners, NULL, nowners));
	v[1] = TimestampTzGetDatum(at);
	SPI_connect();
	sb_exec(&q_inbound, v, NULL, true, 0);
	appendStringInfoChar(b, '{');
	put_int8(b, &f, "position", false, 0);
	put_text(b, &f, "kind", "inbound");
	put_int8(b, &f, "stage_id", true, 0);
	put_text(b, &f, "name", "Inbound");
	key(b, &f, "requests");
	appendStringInfoChar(b, '[');
	for (k = 0; k < SPI_processed && k < INBOUND_SHOWN; k++)
	{
		bool		fr = true;

		appendStringInfoString(b, k > 0 ? ",{" : "{");
		put_int8(b, &fr, "id", false, sb_spi_int8(k, 1, &isnull));
		put_text(b, &fr, "channel", sb_spi_text(k, 2, CurrentMemoryContext));
		put_text(b, &fr, "sender", sb_spi_text(k, 3, CurrentMemoryContext));
		put_text(b, &fr, "subject", sb_spi_text(k, 4, CurrentMemoryContext));
		put_moment(b, &fr, "received_at", false,
				   SPI_getbinval(SPI_tuptable->vals[k], SPI_tuptable->tupdesc, 5, &isnull),
				   TIMESTAMPTZOID);
		put_int8(b, &fr, "owner_id", false, sb_spi_int8(k, 6, &isnull));
		put_int8(b, &fr, "source_id", false, sb_spi_int8(k, 7, &isnull));
		appendStringInfoChar(b, '}');
	}
	appendStringInfoChar(b, ']');
	put_int8(b, &f, "card_count", false, Min(SPI_processed, INBOUND_SHOWN));
	put_bool(b, &f, "more", SPI_processed > INBOUND_SHOWN);
	appendStringInfoChar(b, '}');
	SPI_finish();
}

static void
put_pipeline(StringInfo b, SbCardInfoReader *r, int64 pipeline, const SbCardList *cards,
			 bool with_inbound, const int64 *owners, int nowners, TimestampTz at)
{
	int			nst,
				i;
	const SbStage **stages = sb_pipeline_stages(pipeline, &nst);
	bool		f = true;

	appendStringInfoChar(b, '{');
	put_int8(b, &f, "pipeline_id", false, pipeline);
	put_text(b, &f, "name", sb_pipeline_name(pipeline));
	key(b, &f, "columns");
	appendStringInfoChar(b, '[');
	if (with_inbound)
		put_inbound(b, owners, nowners, at);
	for (i = 0; i < nst; i++)
	{
		if (i > 0 || with_inbound)
			appendStringInfoChar(b, ',');
		put_column(b, r, stages[i], cards);
	}
	appendStringInfoString(b, "]}");
}

/* board_json(employee_id, horizon, overdue_last, client_id, service_type_id, tags, subordinates, at, closed_days) */
Datum
sb_board_json(PG_FUNCTION_ARGS)
{
	SbBoardArgs a;
	SbCardList	cards;
	SbCardInfoReader r;
	StringInfoData b;
	int64		pipeline;
	int64	   *owners;
	int			nowners;
	bool		f = true,
				first = true;

	sb_board_args(fcinfo, &a, false);
	cards = sb_build_board(&a, &owners, &nowners);
	initStringInfo(&b);
	appendStringInfoChar(&b, '{');
	put_int8(&b, &f, "employee_id", false, a.employee_id);
	put_text(&b, &f, "horizon", sb_horizon_name(a.horizon));
	put_moment(&b, &f, "at", false, TimestampTzGetDatum(a.at), TIMESTAMPTZOID);
	key(&b, &f, "pipelines");
	appendStringInfoChar(&b, '[');
	sb_cardinfo_open(&r);
	/* the pipelines with cards, else the first one with empty columns */
	pipeline = sb_next_pipeline(&cards, -1);
	if (pipeline == -1)
		pipeline = sb_first_pipeline();
	while (pipeline != -1)
	{
		if (!first)
			appendStringInfoChar(&b, ',');
		put_pipeline(&b, &r, pipeline, &cards, first, owners, nowners, a.at);
		first = false;
		pipeline = sb_next_pipeline(&cards, pipeline);
	}
	sb_cardinfo_close(&r);
	appendStringInfoString(&b, "]}");
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(b.data)));
}
