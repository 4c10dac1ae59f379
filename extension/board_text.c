/*
 * board_text.c: board_text() (feature): the board drawn as columns for
 * psql, one block per pipeline: the Inbound column (new requests for the
 * people on the board, first block only), the open stages, Won and Lost.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

#include "calendar.h"
#include "cardinfo.h"
#include "cards.h"
#include "colour.h"
#include "config.h"
#include "errcodes.h"
#include "inqueue.h"
#include "rows.h"
#include "spi.h"
#include "textgrid.h"

PG_FUNCTION_INFO_V1(sb_board_text);

/* New inbound requests of the board's people received by `at`, into column col. */
static void
add_inbound(SbTextGrid *g, int col, const int64 *owners, int nowners, TimestampTz at)
{
	SbInboundItem *items;
	int			n = sb_inbound_waiting(owners, nowners, at, 200, &items),
				k;

	for (k = 0; k < n; k++)
		sb_grid_add(g, col, psprintf("%s %s: %s", items[k].channel, items[k].sender,
									 items[k].subject ? items[k].subject : ""));
}

/* "R! 05.12 Title": colour (or +/- for won/lost), priority, the owner's local date. */
static char *
card_line(const SbCard *cd)
{
	const SbEmployee *emp = sb_employee(cd->owner_id);
	char		mark;
	TimestampTz when;
	int			y,
				m,
				d;

	if (cd->closed)
	{
		mark = cd->st->kind == SB_WON ? '+' : '-';
		when = cd->closed_at;
	}
	else if (cd->has_next)
	{
		mark = cd->colour == SB_RED ? 'R' : cd->colour == SB_YELLOW ? 'Y' : 'G';
		when = cd->next_due;
	}
	else
		return psprintf("?%c ----- %s", cd->priority ? '!' : ' ', cd->title);
	j2date(sb_local_date(when, emp->tz) + POSTGRES_EPOCH_JDATE, &y, &m, &d);
	return psprintf("%c%c %02d.%02d %s", mark, cd->priority ? '!' : ' ', d, m, cd->title);
}

/* One pipeline's block; with_inbound adds the Inbound column in front. */
static void
draw_pipeline(StringInfo out, int64 pipeline, const SbCardList *cards, int width,
			  bool with_inbound, const int64 *owners, int nowners, TimestampTz at)
{
	int			nst,
				c,
				i;
	const SbStage **stages = sb_pipeline_stages(pipeline, &nst);
	SbTextGrid	g;

	sb_grid_init(&g, nst + 1, width);
	g.cols[0].title = "Inbound";
	for (c = 0; c < nst; c++)
		g.cols[c + 1].title = stages[c]->name;
	appendStringInfo(out, "\nPipeline \"%s\"\n", sb_pipeline_name(pipeline));
	if (with_inbound)
		add_inbound(&g, 0, owners, nowners, at);
	for (i = 0; i < cards->n; i++)
	{
		const SbCard *cd = &cards->cards[i];

		if (cd->st == NULL || cd->st->pipeline_id != pipeline)
			continue;
		for (c = 0; c < nst; c++)
			if (stages[c] == cd->st)
				sb_grid_add(&g, c + 1, card_line(cd));
	}
	sb_grid_draw(&g, with_inbound ? 0 : 1, out);
}

/* board_text(employee_id, horizon, overdue_last, client_id, service_type_id, tags, subordinates, at, closed_days, width) */
Datum
sb_board_text(PG_FUNCTION_ARGS)
{
	SbBoardArgs a;
	SbCardList	cards;
	StringInfoData out;
	int			width = PG_ARGISNULL(9) ? 26 : PG_GETARG_INT32(9);
	int64		pipeline;
	int64	   *owners;
	int			nowners;
	bool		first = true;

	if (width < 12 || width > 200)
		ereport(ERROR,
				(errcode(ERRCODE_SB_BAD_VALUE),
				 errmsg("column width %d is out of range", width),
				 errhint("Pass a width between 12 and 200.")));
	sb_board_args(fcinfo, &a, false);
	cards = sb_build_board(&a, &owners, &nowners);
	initStringInfo(&out);
	appendStringInfo(&out, "Board of %s%s, horizon %s, at %s\n",
					 sb_employee(a.employee_id)->name,
					 a.subordinates && nowners > 1 ? " and team" : "",
					 sb_horizon_name(a.horizon), timestamptz_to_str(a.at));
	appendStringInfoString(&out, "R overdue, Y due today, G later, ! priority; dates are the owner's local dates\n");

	/* the pipelines with cards, else the first one with empty columns */
	pipeline = sb_next_pipeline(&cards, -1);
	if (pipeline == -1)
		pipeline = sb_first_pipeline();
	while (pipeline != -1)
	{
		draw_pipeline(&out, pipeline, &cards, width, first, owners, nowners, a.at);
		first = false;
		pipeline = sb_next_pipeline(&cards, pipeline);
	}
	PG_RETURN_TEXT_P(cstring_to_text_with_len(out.data, out.len));
}
