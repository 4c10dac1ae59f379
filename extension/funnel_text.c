/*
 * funnel_text.c: funnel_text() (feature): funnel() drawn for psql, one
 * line per stage: its name, a bar proportional to the deals that entered
 * it, their count and the conversion from the previous stage
 * (doc/reference.md, "Sales funnel").
 *
 * The figures are funnel()'s own: its C entry point is called through the
 * function manager with a ReturnSetInfo, as the caller (not through SPI,
 * which runs as the extension owner and would see every deal). Cells are
 * cut and padded by display width with the text grid's sb_append_cell, so
 * multibyte and wide stage names line up and nothing is cut inside a
 * character.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "funcapi.h"
#include "nodes/value.h"
#include "parser/parse_func.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "calls.h"
#include "cardinfo.h"
#include "errcodes.h"
#include "textgrid.h"

PG_FUNCTION_INFO_V1(sb_funnel_text);

#define FUNNEL_NARGS	10
#define WIDTH_MIN		40
#define WIDTH_MAX		400
#define BAR_MIN			10
#define PCT_WIDTH		7		/* "100.0%", "of prev" */

typedef struct FunnelLine
{
	char	   *name;
	int64		entered;
	bool		has_conv;
	double		conv;			/* conversion_from_previous, 0..1 */
} FunnelLine;

typedef struct FunnelRows
{
	int64		pipeline;
	FunnelLine *lines;
	int			n;
} FunnelRows;

/* salesboard.funnel(bigint, timestamptz, timestamptz, text, timestamptz, bigint, bigint, bigint, text, text) */
static Oid
funnel_oid(void)
{
	Oid			types[FUNNEL_NARGS] = {INT8OID, TIMESTAMPTZOID, TIMESTAMPTZOID, TEXTOID, TIMESTAMPTZOID,
	INT8OID, INT8OID, INT8OID, TEXTOID, TEXTOID};

	return LookupFuncName(list_make2(makeString("salesboard"), makeString("funnel")),
						  FUNNEL_NARGS, types, false);
}

static void
read_row(TupleTableSlot *slot, FunnelRows *rows)
{
	FunnelLine *l = &rows->lines[rows->n++];
	bool		isnull;
	Datum		d;

	rows->pipeline = DatumGetInt64(slot_getattr(slot, 1, &isnull));
	l->name = TextDatumGetCString(slot_getattr(slot, 3, &isnull));
	l->entered = DatumGetInt64(slot_getattr(slot, 6, &isnull));
	d = slot_getattr(slot, 11, &isnull);
	l->has_conv = !isnull;
	l->conv = isnull ? 0 : DatumGetFloat8(DirectFunctionCall1(numeric_float8, d));
}

/* funnel() with this call's first ten arguments, as the caller. */
static FunnelRows
run_funnel(FunctionCallInfo fcinfo)
{
	FmgrInfo	flinfo;
	ReturnSetInfo rsi = {0};
	ExprContext *econtext = CreateStandaloneExprContext();
	TupleTableSlot *slot;
	FunnelRows	rows = {0};
	int			i;

	LOCAL_FCINFO(fc, FUNNEL_NARGS);

	fmgr_info(funnel_oid(), &flinfo);
	rsi.type = T_ReturnSetInfo;
	rsi.econtext = econtext;
	rsi.allowedModes = SFRM_Materialize;
	rsi.returnMode = SFRM_Materialize;
	InitFunctionCallInfoData(*fc, &flinfo, FUNNEL_NARGS, PG_GET_COLLATION(), NULL, (Node *) &rsi);
	for (i = 0; i < FUNNEL_NARGS; i++)
		fc->args[i] = fcinfo->args[i];
	(void) FunctionCallInvoke(fc);
	if (rsi.setResult == NULL)
		elog(ERROR, "salesboard: funnel() returned no rows");

	slot = MakeSingleTupleTableSlot(rsi.setDesc, &TTSOpsMinimalTuple);
	rows.lines = palloc0(sizeof(FunnelLine) * Max(tuplestore_tuple_count(rsi.setResult), 1));
	while (tuplestore_gettupleslot(rsi.setResult, true, false, slot))
		read_row(slot, &rows);
	ExecDropSingleTupleTableSlot(slot);
	tuplestore_end(rsi.setResult);
	FreeExprContext(econtext, true);
	return rows;
}

/*
 * The display width of s as sb_append_cell shows it, up to cap: what it
 * does not pad (trailing blanks of s aside, which show as nothing).
 */
static int
cell_width(const char *s, int cap)
{
	StringInfoData b;
	int			pad = 0;

	initStringInfo(&b);
	sb_append_cell(&b, s, cap);
	while (pad < b.len && b.data[b.len - 1 - pad] == ' ')
		pad++;
	pfree(b.data);
	return cap - pad;
}

/* Finish a line: no trailing blanks, a newline. */
static void
end_line(StringInfo out)
{
	while (out->len > 0 && out->data[out->len - 1] == ' ')
		out->data[--out->len] = '\0';
	appendStringInfoChar(out, '\n');
}

/* The title: the pipeline, mode and as_of; then the period, if any. */
static void
draw_title(StringInfo out, FunctionCallInfo fcinfo, int64 pipeline, int width)
{
	char	   *mode = text_to_cstring(PG_GETARG_TEXT_PP(3));

	sb_append_cell(out, psprintf("Funnel of pipeline \"%s\", %s, as of %s", sb_pipeline_name(pipeline), mode,
								 timestamptz_to_str(PG_GETARG_TIMESTAMPTZ(4))), width);
	end_line(out);
	if (!PG_ARGISNULL(1) && !PG_ARGISNULL(2))
	{
		const char *from = pstrdup(timestamptz_to_str(PG_GETARG_TIMESTAMPTZ(1)));

		sb_append_cell(out, psprintf("%s [%s, %s)", strcmp(mode, "cohort") == 0 ? "deals created in" : "stage entries in",
									 from, timestamptz_to_str(PG_GETARG_TIMESTAMPTZ(2))), width);
		end_line(out);
	}
}

/* name, bar, entered, conversion: one line */
static void
draw_line(StringInfo out, const FunnelLine *l, int name_w, int bar_w, int count_w, int64 max_entered)
{
	int			bar = 0,
				k;

	if (l->entered > 0 && max_entered > 0)
		bar = Max(1, (int) rint((double) l->entered * bar_w / max_entered));
	sb_append_cell(out, l->name, name_w);
	appendStringInfoChar(out, ' ');
	for (k = 0; k < bar_w; k++)
		appendStringInfoChar(out, k < bar ? '#' : ' ');
	appendStringInfo(out, " %*lld", count_w, (long long) l->entered);
	if (l->has_conv)
		appendStringInfo(out, " %*s", PCT_WIDTH, psprintf("%.1f%%", l->conv * 100.0));
	end_line(out);
}

/* funnel_text(pipeline_id, period_from, period_to, mode, as_of, owner_id, department_id, service_type_id, tag, currency, width) */
Datum
sb_funnel_text(PG_FUNCTION_ARGS)
{
	int			width;
	FunnelRows	rows;
	StringInfoData out;
	int64		max_entered = 0;
	int			name_w = 0,
				count_w = 7,	/* "entered" */
				bar_w,
				i;

	sb_require_arg(fcinfo, 10, "width");
	width = PG_GETARG_INT32(10);
	if (width < WIDTH_MIN || width > WIDTH_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_SB_BAD_VALUE),
				 errmsg("width %d is out of range", width),
				 errhint("Pass a width between %d and %d display columns.", WIDTH_MIN, WIDTH_MAX)));
	rows = run_funnel(fcinfo);
	for (i = 0; i < rows.n; i++)
	{
		max_entered = Max(max_entered, rows.lines[i].entered);
		name_w = Max(name_w, cell_width(rows.lines[i].name, width / 3));
		count_w = Max(count_w, (int) strlen(psprintf(INT64_FORMAT, rows.lines[i].entered)));
	}
	name_w = Max(name_w, 5);	/* "stage" */
	bar_w = width - name_w - count_w - PCT_WIDTH - 3;
	if (bar_w < BAR_MIN)
	{
		name_w = Max(5, name_w - (BAR_MIN - bar_w));
		bar_w = width - name_w - count_w - PCT_WIDTH - 3;
	}

	initStringInfo(&out);
	draw_title(&out, fcinfo, rows.pipeline, width);
	sb_append_cell(&out, "stage", name_w);
	appendStringInfoChar(&out, ' ');
	sb_append_cell(&out, "deals that entered the stage", bar_w);
	appendStringInfo(&out, " %*s %*s", count_w, "entered", PCT_WIDTH, "of prev");
	end_line(&out);
	for (i = 0; i < rows.n; i++)
		draw_line(&out, &rows.lines[i], name_w, bar_w, count_w, max_entered);
	PG_RETURN_TEXT_P(cstring_to_text_with_len(out.data, out.len));
}
