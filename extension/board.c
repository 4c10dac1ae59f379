/*
 * board.c: board() and deal_list() (feature): the cards of a board
 * (cards.c) as SQL rows of type salesboard.card, with what each card shows
 * beyond the deal row (cardinfo.c).
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "calls.h"
#include "cardinfo.h"
#include "cards.h"
#include "catalog.h"
#include "colour.h"
#include "config.h"
#include "rows.h"

PG_FUNCTION_INFO_V1(sb_board);
PG_FUNCTION_INFO_V1(sb_deal_list);

/* ------------------------------------------------------------------
 * board() and deal_list(): SQL results
 * ------------------------------------------------------------------ */
#define BOARD_NCOLS 24

static ArrayType *
tag_array(const SbCardInfo *info)
{
	Datum	   *d = palloc(sizeof(Datum) * Max(1, info->ntags));
	int			i;

	for (i = 0; i < info->ntags; i++)
		d[i] = CStringGetTextDatum(info->tags[i]);
	return construct_array(d, info->ntags, TEXTOID, -1, false, TYPALIGN_INT);
}

static void
emit_cards(FunctionCallInfo fcinfo, SbCardList *cards, bool list_mode)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	SbCardInfoReader r;
	int			i,
				rank = 0;
	int64		prev_pipeline = -1;
	int			prev_column = -1;

	InitMaterializedSRF(fcinfo, 0);
	sb_cardinfo_open(&r);
	for (i = 0; i < cards->n; i++)
	{
		SbCard	   *c = &cards->cards[i];
		Datum		v[BOARD_NCOLS];
		bool		nulls[BOARD_NCOLS] = {0};
		SbCardInfo	info;

		if (c->st == NULL)
			continue;			/* a stage deleted under us */
		if (list_mode || c->st->pipeline_id != prev_pipeline || c->st->column != prev_column)
			rank = list_mode ? rank : 0;
		prev_pipeline = c->st->pipeline_id;
		prev_column = c->st->column;
		rank++;
		sb_cardinfo_read(&r, c, &info);

		v[0] = Int32GetDatum(c->st->column);
		v[1] = CStringGetTextDatum(c->st->kind == SB_OPEN ? "stage" : sb_status_name(c->st->kind));
		v[2] = Int64GetDatum(c->st->id);
		v[3] = CStringGetTextDatum(c->st->name);
		v[4] = Int64GetDatum(c->deal_id);
		v[5] = CStringGetTextDatum(c->title);
		v[6] = info.client ? CStringGetTextDatum(info.client) : (Datum) 0;
		nulls[6] = info.client == NULL;
		v[7] = info.service_type ? CStringGetTextDatum(info.service_type) : (Datum) 0;
		nulls[7] = info.service_type == NULL;
		v[8] = c->amount;
		nulls[8] = c->amount_null;
		v[9] = TimestampTzGetDatum(c->next_due);
		nulls[9] = !c->has_next;
		v[10] = info.next_subject ? CStringGetTextDatum(info.next_subject) : (Datum) 0;
		nulls[10] = info.next_subject == NULL;
		v[17] = info.next_kind ? CStringGetTextDatum(info.next_kind) : (Datum) 0;
		nulls[17] = info.next_kind == NULL;
		v[11] = CStringGetTextDatum(sb_colour_name(c->colour));
		v[12] = BoolGetDatum(c->priority);
		v[13] = Int64GetDatum(c->owner_id);
		v[14] = Int32GetDatum(rank);
		v[15] = Int64GetDatum(c->st->pipeline_id);
		v[16] = c->currency;
		nulls[16] = c->currency_null;
		v[18] = TimestampTzGetDatum(c->closed_at);
		nulls[18] = !c->closed;
		v[19] = Int64GetDatum(c->client_id);
		nulls[19] = !c->has_client;
		v[20] = Int64GetDatum(c->service_type_id);
		nulls[20] = !c->has_service_type;
		v[21] = BoolGetDatum(info.next_all_day);
		nulls[21] = info.next_kind == NULL;
		v[22] = DateADTGetDatum(info.next_due_date);
		nulls[22] = !info.has_due_date;
		v[23] = PointerGetDatum(tag_array(&info));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nulls);
	}
	sb_cardinfo_close(&r);
}

Datum
sb_board(PG_FUNCTION_ARGS)
{
	SbBoardArgs	a;
	SbCardList	cards;

	sb_board_args(fcinfo, &a, false);
	cards = sb_build_board(&a, NULL, NULL);
	emit_cards(fcinfo, &cards, false);
	return (Datum) 0;
}

/*
 * deal_list(): list mode, one page of it when page_size or the keyset is
 * given; rank is the position in the rows returned (for the first page, in
 * the whole list): numbering from the start of the list would mean reading
 * every row before the keyset.
 */
Datum
sb_deal_list(PG_FUNCTION_ARGS)
{
	SbBoardArgs	a;
	SbCardList	cards;

	sb_board_args(fcinfo, &a, true);
	cards = sb_build_board(&a, NULL, NULL);
	emit_cards(fcinfo, &cards, true);
	return (Datum) 0;
}
