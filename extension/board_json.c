/*
 * board_json.c: board_json() (feature): the whole board a web page draws,
 * in one jsonb value (doc/reference.md, "board_json").
 *
 * The cards are board()'s (cards.c, cardinfo.c); around them every column
 * of each pipeline in board order, empty ones too, with its stage, kind,
 * card count and amount totals per currency, and before the first
 * pipeline's stages the Inbound column (new inbound requests of the
 * board's people received by `at`, at most 200, oldest first). The value
 * is built as jsonb directly (pushJsonbValue), never as text to parse.
 * Moments are ISO 8601 in UTC, so the session's TimeZone changes nothing;
 * local dates come from the owner's zone.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
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
#include "inqueue.h"
#include "rows.h"
#include "spi.h"

PG_FUNCTION_INFO_V1(sb_board_json);

#define INBOUND_SHOWN 200

/* ------------------------------------------------------------------
 * jsonb writers: values pushed straight into a JsonbParseState (no JSON
 * text to write, escape and parse again). Strings pushed must live until
 * the end: they are palloc'd or literals.
 * ------------------------------------------------------------------ */
typedef JsonbParseState *JB;

static void
push_string(JB *b, JsonbIteratorToken tok, const char *s)
{
	JsonbValue	v;

	if (s == NULL)
		v.type = jbvNull;
	else
	{
		v.type = jbvString;
		v.val.string.val = (char *) s;
		v.val.string.len = strlen(s);
	}
	pushJsonbValue(b, tok, &v);
}

static void
key(JB *b, const char *k)
{
	push_string(b, WJB_KEY, k);
}

static void
put_text(JB *b, const char *k, const char *s)
{
	key(b, k);
	push_string(b, WJB_VALUE, s);
}

static void
put_numeric(JB *b, const char *k, bool isnull, Datum n)
{
	JsonbValue	v;

	key(b, k);
	v.type = isnull ? jbvNull : jbvNumeric;
	if (!isnull)
		v.val.numeric = DatumGetNumeric(n);
	pushJsonbValue(b, WJB_VALUE, &v);
}

static void
put_int8(JB *b, const char *k, bool isnull, int64 n)
{
	put_numeric(b, k, isnull, isnull ? (Datum) 0 : NumericGetDatum(int64_to_numeric(n)));
}

static void
put_bool(JB *b, const char *k, bool f)
{
	JsonbValue	v;

	key(b, k);
	v.type = jbvBool;
	v.val.boolean = f;
	pushJsonbValue(b, WJB_VALUE, &v);
}

/* a moment in UTC, or a date: ISO 8601 */
static void
put_moment(JB *b, const char *k, bool isnull, Datum v, Oid type)
{
	char		buf[MAXDATELEN + 1];
	const int	utc = 0;

	if (isnull)
	{
		put_text(b, k, NULL);
		return;
	}
	JsonEncodeDateTime(buf, v, type, type == TIMESTAMPTZOID ? &utc : NULL);
	put_text(b, k, pstrdup(buf));
}

static void
begin(JB *b, JsonbIteratorToken tok)
{
	pushJsonbValue(b, tok, NULL);
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
	char	   *cur;
	int			i;

	if (c->amount_null)
		return;
	cur = c->currency_null ? NULL : TextDatumGetCString(c->currency);
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
put_card(JB *b, SbCardInfoReader *r, const SbCard *c, int rank)
{
	SbCardInfo	info;
	const SbEmployee *owner = sb_employee(c->owner_id);
	int			i;

	sb_cardinfo_read(r, c, &info);
	/*
	 * board()'s columns by their names, and next_activity_id, owner_name,
	 * owner_time_zone, which board() does not show. Pushed in jsonb's own
	 * key order (length, then bytes), so sorting the object costs nothing.
	 */
	begin(b, WJB_BEGIN_OBJECT);
	put_int8(b, "rank", false, rank);
	key(b, "tags");
	begin(b, WJB_BEGIN_ARRAY);
	for (i = 0; i < info.ntags; i++)
		push_string(b, WJB_ELEM, info.tags[i]);
	begin(b, WJB_END_ARRAY);
	put_text(b, "title", c->title);
	put_numeric(b, "amount", c->amount_null, c->amount);
	put_text(b, "client", info.client);
	put_text(b, "colour", sb_colour_name(c->colour));
	put_int8(b, "deal_id", false, c->deal_id);
	put_text(b, "currency", c->currency_null ? NULL : TextDatumGetCString(c->currency));
	put_moment(b, "next_due", !c->has_next, TimestampTzGetDatum(c->next_due), TIMESTAMPTZOID);
	put_int8(b, "owner_id", false, c->owner_id);
	put_bool(b, "priority", c->priority);
	put_int8(b, "client_id", !c->has_client, c->client_id);
	put_moment(b, "closed_at", !c->closed, TimestampTzGetDatum(c->closed_at), TIMESTAMPTZOID);
	put_text(b, "next_kind", info.next_kind);
	put_text(b, "owner_name", owner ? owner->name : NULL);
	put_bool(b, "next_all_day", info.next_all_day);
	put_text(b, "next_subject", info.next_subject);
	put_text(b, "service_type", info.service_type);
	put_moment(b, "next_due_date", !info.has_due_date, DateADTGetDatum(info.next_due_date), DATEOID);
	put_text(b, "owner_time_zone", owner ? owner->time_zone : NULL);
	put_int8(b, "service_type_id", !c->has_service_type, c->service_type_id);
	put_int8(b, "next_activity_id", !c->has_next || c->next_activity_id == 0, c->next_activity_id);
	begin(b, WJB_END_OBJECT);
}

/* One column: its stage and the cards in it, in board order. */
static void
put_column(JB *b, SbCardInfoReader *r, const SbStage *st, const SbCardList *cards)
{
	Total	   *totals = palloc(sizeof(Total) * (cards->n + 1));
	int			ntotals = 0,
				count = 0,
				i;

	begin(b, WJB_BEGIN_OBJECT);
	put_int8(b, "position", false, st->column);
	put_text(b, "kind", st->kind == SB_OPEN ? "stage" : sb_status_name(st->kind));
	put_int8(b, "stage_id", false, st->id);
	put_text(b, "name", st->name);
	key(b, "cards");
	begin(b, WJB_BEGIN_ARRAY);
	for (i = 0; i < cards->n; i++)
	{
		const SbCard *c = &cards->cards[i];

		if (c->st != st)
			continue;
		count++;
		put_card(b, r, c, count);
		add_total(totals, &ntotals, c);
	}
	begin(b, WJB_END_ARRAY);
	put_int8(b, "card_count", false, count);
	key(b, "totals");
	begin(b, WJB_BEGIN_ARRAY);
	for (i = 0; i < ntotals; i++)
	{
		begin(b, WJB_BEGIN_OBJECT);
		put_text(b, "currency", totals[i].currency);
		put_numeric(b, "amount", false, totals[i].amount);
		put_int8(b, "cards", false, totals[i].cards);
		begin(b, WJB_END_OBJECT);
	}
	begin(b, WJB_END_ARRAY);
	begin(b, WJB_END_OBJECT);
}

/* The Inbound column: new inbound requests of the board's people (inqueue.c). */
static void
put_inbound(JB *b, const int64 *owners, int nowners, TimestampTz at)
{
	SbInboundItem *items;
	int			n = sb_inbound_waiting(owners, nowners, at, INBOUND_SHOWN + 1, &items),
				k;

	begin(b, WJB_BEGIN_OBJECT);
	put_int8(b, "position", false, 0);
	put_text(b, "kind", "inbound");
	put_int8(b, "stage_id", true, 0);
	put_text(b, "name", "Inbound");
	key(b, "requests");
	begin(b, WJB_BEGIN_ARRAY);
	for (k = 0; k < n && k < INBOUND_SHOWN; k++)
	{
		begin(b, WJB_BEGIN_OBJECT);
		put_int8(b, "id", false, items[k].id);
		put_text(b, "sender", items[k].sender);
		put_text(b, "channel", items[k].channel);
		put_text(b, "subject", items[k].subject);
		put_int8(b, "owner_id", false, items[k].owner_id);
		put_int8(b, "source_id", false, items[k].source_id);
		put_moment(b, "received_at", false, TimestampTzGetDatum(items[k].received_at), TIMESTAMPTZOID);
		begin(b, WJB_END_OBJECT);
	}
	begin(b, WJB_END_ARRAY);
	put_int8(b, "card_count", false, Min(n, INBOUND_SHOWN));
	put_bool(b, "more", n > INBOUND_SHOWN);
	begin(b, WJB_END_OBJECT);
}

static void
put_pipeline(JB *b, SbCardInfoReader *r, int64 pipeline, const SbCardList *cards,
			 bool with_inbound, const int64 *owners, int nowners, TimestampTz at)
{
	int			nst,
				i;
	const SbStage **stages = sb_pipeline_stages(pipeline, &nst);

	begin(b, WJB_BEGIN_OBJECT);
	put_int8(b, "pipeline_id", false, pipeline);
	put_text(b, "name", sb_pipeline_name(pipeline));
	key(b, "columns");
	begin(b, WJB_BEGIN_ARRAY);
	if (with_inbound)
		put_inbound(b, owners, nowners, at);
	for (i = 0; i < nst; i++)
	{
		put_column(b, r, stages[i], cards);
	}
	begin(b, WJB_END_ARRAY);
	begin(b, WJB_END_OBJECT);
}

/* board_json(employee_id, horizon, overdue_last, client_id, service_type_id, tags, subordinates, at, closed_days) */
Datum
sb_board_json(PG_FUNCTION_ARGS)
{
	SbBoardArgs a;
	SbCardList	cards;
	SbCardInfoReader r;
	JB			b = NULL;
	JsonbValue *res;
	int64		pipeline;
	int64	   *owners;
	int			nowners;
	bool		first = true;

	sb_board_args(fcinfo, &a, false);
	cards = sb_build_board(&a, &owners, &nowners);
	begin(&b, WJB_BEGIN_OBJECT);
	put_int8(&b, "employee_id", false, a.employee_id);
	put_text(&b, "horizon", sb_horizon_name(a.horizon));
	put_moment(&b, "at", false, TimestampTzGetDatum(a.at), TIMESTAMPTZOID);
	key(&b, "pipelines");
	begin(&b, WJB_BEGIN_ARRAY);
	sb_cardinfo_open(&r);
	/* the pipelines with cards, else the first one with empty columns */
	pipeline = sb_next_pipeline(&cards, -1);
	if (pipeline == -1)
		pipeline = sb_first_pipeline();
	while (pipeline != -1)
	{
		put_pipeline(&b, &r, pipeline, &cards, first, owners, nowners, a.at);
		first = false;
		pipeline = sb_next_pipeline(&cards, pipeline);
	}
	sb_cardinfo_close(&r);
	begin(&b, WJB_END_ARRAY);
	res = pushJsonbValue(&b, WJB_END_OBJECT, NULL);
	PG_RETURN_POINTER(JsonbValueToJsonb(res));
}
