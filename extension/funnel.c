/*
 * funnel.c: the sales funnel (feature): funnel() from the stage history
 * in one pass (doc/reference.md, "Sales funnel"; errors SB200-SB205).
 *
 * One statement reads the pipeline's history joined to its deals, in
 * (deal_id, moved_at, id) order (the index stage_history_deal_idx), through
 * a cursor: each deal's events arrive together and in time order, so one
 * small state per deal is enough, and every stage's figures are summed
 * from it when the deal ends. The words of the reference are the rules:
 *   reach    the highest open stage a counted create/move/reopen entered;
 *            a counted win sets it to the last open stage;
 *   outcome  won/lost when the last counted event is a win/loss;
 *   entered  deals with reach >= k ("reached": skipped stages and deals
 *            created in a later stage count in the earlier ones; a deal
 *            counts once per stage), so no conversion exceeds 1.
 * Amounts are exact: each deal's cents are added (as 128-bit integers) to
 * a bucket of the same conversion, the pair of currency_rate rows its
 * event's moment selects; each bucket converts once at the end
 * (sum x rate(X) / rate(R), numeric), and only the row's total is rounded
 * to cents, half away from zero as numeric round() does.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "calls.h"
#include "catalog.h"
#include "config.h"
#include "errcodes.h"
#include "identity.h"
#include "rates.h"
#include "rows.h"
#include "spi.h"
#include "texts.h"

PG_FUNCTION_INFO_V1(sb_funnel);

typedef enum FunnelMode
{
	F_PERIOD, F_COHORT, F_SNAPSHOT
} FunnelMode;

#ifndef HAVE_INT128
#error "salesboard needs a compiler with 128-bit integers (for exact sums of cents)"
#endif

/* one conversion: the rate rows of the amount's and of the reporting currency */
typedef struct Bucket
{
	int			xi;				/* sb_rate_index of the amount's currency; -2: none */
	int			ri;				/* of the reporting currency; -2: none */
} Bucket;

#define BUCKET_SLOTS 1024		/* open addressing, doubled when half full */

/* one row of the answer: an open stage, Won or Lost */
typedef struct FRow
{
	const SbStage *st;
	int64		entered,
				current,
				advanced,
				won,
				lost,
				stays;
	int128	   *entered_c;		/* cents per bucket */
	int128	   *current_c;
	double		days;
} FRow;

typedef struct Funnel
{
	FunnelMode	mode;
	TimestampTz from,
				to,
				as_of;
	int			nopen;			/* open stages 1..nopen */
	int			nrows;
	FRow	   *rows;			/* by board column - 1 */
	SbRates    *rates;
	const char *report;			/* reporting currency, NULL: the one seen */
	char		seen[4];		/* without one: the only currency met */
	Bucket	   *buckets;
	int			nbuckets,
				maxbuckets;
	int		   *slots;			/* bucket number + 1 by hash, 0: free */
	int			nslots;
	MemoryContext cxt;			/* the call's: outlives SPI_finish */
} Funnel;

/* what one deal contributes, built from its events in time order */
typedef struct DealAcc
{
	int64		deal_id;
	bool		skip;			/* not in the cohort */
	bool		counted;		/* some event counted */
	int			reach;
	int			outcome;		/* 0, or the column of Won / Lost */
	int64		amount;			/* cents of the last counted event */
	TimestampTz amount_at;
	int			cur_col;		/* the stage at as_of (column) */
	int64		cur_amount;
	TimestampTz cur_at;
	int			stay_col;		/* an open stay: its column, 0: none */
	TimestampTz stay_start;
	bool		stay_counted;
	char		currency[4];	/* '\0': none */
} DealAcc;

static SbQuery q_history = {
	"SELECT h.deal_id, h.event, h.to_stage_id, h.moved_at, (h.amount * 100)::int8, d.currency::text "
	"FROM salesboard.deal d JOIN salesboard.stage_history h ON h.deal_id = d.id "
	"WHERE d.pipeline_id = $1 AND h.moved_at <= $2 "
	"AND ($3::bigint[] IS NULL OR d.owner_id = ANY ($3)) "
	"AND ($4::bigint IS NULL OR d.service_type_id = $4) "
	"AND ($5::text IS NULL OR EXISTS (SELECT 1 FROM salesboard.deal_tag dt JOIN salesboard.tag t "
	"ON t.id = dt.tag_id WHERE dt.deal_id = d.id AND t.name = $5)) "
	"ORDER BY h.deal_id, h.moved_at, h.id",
	5, {INT8OID, TIMESTAMPTZOID, INT8ARRAYOID, INT8OID, TEXTOID}, NULL
};

static SbQuery q_department = {
	"WITH RECURSIVE sub(id) AS (SELECT d.id FROM salesboard.department d WHERE d.id = $1 "
	"UNION SELECT d.id FROM salesboard.department d JOIN sub ON d.parent_id = sub.id) "
	"SELECT e.id FROM salesboard.employee e WHERE e.department_id IN (SELECT sub.id FROM sub)",
	1, {INT8OID}, NULL
};

static SbQuery q_department_exists = {
	"SELECT 1 FROM salesboard.department d WHERE d.id = $1",
	1, {INT8OID}, NULL
};

/* ------------------------------------------------------------------
 * Per deal
 * ------------------------------------------------------------------ */
/* the bucket of a conversion, made when first met */
static int
bucket(Funnel *f, int xi, int ri)
{
	uint32		h = ((uint32) (xi + 2) * 2654435761u) ^ ((uint32) (ri + 2) * 40503u);
	int			k = (int) (h % (uint32) f->nslots),
				i;

	for (;;)
	{
		int			b = f->slots[k] - 1;

		if (b < 0)
			break;
		if (f->buckets[b].xi == xi && f->buckets[b].ri == ri)
			return b;
		k = (k + 1) % f->nslots;
	}
	if ((f->nbuckets + 1) * 2 >= f->nslots)
	{
		/* a larger table: every bucket hashed again */
		int			j;

		pfree(f->slots);
		f->nslots *= 2;
		f->slots = MemoryContextAllocZero(f->cxt, sizeof(int) * f->nslots);
		for (j = 0; j < f->nbuckets; j++)
		{
			uint32		hj = ((uint32) (f->buckets[j].xi + 2) * 2654435761u) ^
				((uint32) (f->buckets[j].ri + 2) * 40503u);
			int			kj = (int) (hj % (uint32) f->nslots);

			while (f->slots[kj] != 0)
				kj = (kj + 1) % f->nslots;
			f->slots[kj] = j + 1;
		}
		k = (int) (h % (uint32) f->nslots);
		while (f->slots[k] != 0)
			k = (k + 1) % f->nslots;
	}
	if (f->nbuckets == f->maxbuckets)
	{
		int			old = f->maxbuckets;

		f->maxbuckets = Max(16, old * 2);
		f->buckets = f->buckets ? repalloc(f->buckets, sizeof(Bucket) * f->maxbuckets) :
			MemoryContextAlloc(f->cxt, sizeof(Bucket) * f->maxbuckets);
		for (i = 0; i < f->nrows; i++)
		{
			FRow	   *r = &f->rows[i];

			r->entered_c = r->entered_c ? repalloc(r->entered_c, sizeof(int128) * f->maxbuckets) :
				MemoryContextAlloc(f->cxt, sizeof(int128) * f->maxbuckets);
			r->current_c = r->current_c ? repalloc(r->current_c, sizeof(int128) * f->maxbuckets) :
				MemoryContextAlloc(f->cxt, sizeof(int128) * f->maxbuckets);
			memset(r->entered_c + old, 0, sizeof(int128) * (f->maxbuckets - old));
			memset(r->current_c + old, 0, sizeof(int128) * (f->maxbuckets - old));
		}
	}
	f->buckets[f->nbuckets].xi = xi;
	f->buckets[f->nbuckets].ri = ri;
	f->slots[k] = ++f->nbuckets;
	return f->nbuckets - 1;
}

/* Which conversion an amount of this deal at moment t takes. */
static int
conversion(Funnel *f, DealAcc *d, TimestampTz t)
{
	const char *cur = d->currency[0] ? d->currency : NULL;

	if (f->report == NULL)
	{
		/* no reporting currency: every amount must be in one currency */
		if (cur != NULL && f->seen[0] == '\0')
			strlcpy(f->seen, cur, sizeof(f->seen));
		else if (cur != NULL && strcmp(cur, f->seen) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_SB_SEVERAL_CURRENCIES),
					 errmsg("the funnel's amounts are in several currencies (%s, %s) and there is no reporting currency",
							f->seen, cur),
					 errhint("Pass currency => 'XXX', or set salesboard.company.default_currency, and give rates in salesboard.currency_rate.")));
		return bucket(f, -2, -2);
	}
	if (cur == NULL || strcmp(cur, f->report) == 0)
		return bucket(f, -2, -2);
	return bucket(f, sb_rate_index(f->rates, cur, t), sb_rate_index(f->rates, f->report, t));
}

static void
deal_begin(DealAcc *d, int64 id, const char *currency)
{
	memset(d, 0, sizeof(*d));
	d->deal_id = id;
	if (currency != NULL)
		strlcpy(d->currency, currency, sizeof(d->currency));
}

/* close the open stay at moment t */
static void
end_stay(Funnel *f, DealAcc *d, TimestampTz t)
{
	if (d->stay_col > 0 && d->stay_counted)
	{
		FRow	   *r = &f->rows[d->stay_col - 1];

		r->days += (double) (t - d->stay_start) / USECS_PER_DAY;
		r->stays++;
	}
	d->stay_col = 0;
}

static void
deal_event(Funnel *f, DealAcc *d, bool first, bool create, const SbStage *st,
		   TimestampTz t, int64 cents)
{
	bool		counted;

	if (first && f->mode == F_COHORT)
		d->skip = !create || t < f->from || t >= f->to;
	if (d->skip)
		return;
	counted = f->mode != F_PERIOD || (t >= f->from && t < f->to);
	end_stay(f, d, t);
	if (st == NULL || st->column < 1 || st->column > f->nrows)
		return;					/* a stage of another pipeline: not this report's */
	if (counted)
	{
		d->counted = true;
		if (st->kind == SB_OPEN)
		{
			d->reach = Max(d->reach, st->column);
			d->outcome = 0;
		}
		else
		{
			if (st->kind == SB_WON)
				d->reach = f->nopen;
			d->outcome = st->column;
		}
		d->amount = cents;
		d->amount_at = t;
	}
	if (st->kind == SB_OPEN)
	{
		d->stay_col = st->column;
		d->stay_start = t;
		d->stay_counted = counted;
	}
	d->cur_col = st->column;
	d->cur_amount = cents;
	d->cur_at = t;
}

/* long because it adds one deal to every row it counts in */
static void
deal_end(Funnel *f, DealAcc *d)
{
	int64		amount;
	int			k,
				b;

	if (d->deal_id == 0 || d->skip)
		return;
	end_stay(f, d, f->as_of);
	if (d->cur_col > 0)
	{
		FRow	   *r = &f->rows[d->cur_col - 1];

		r->current++;
		if (d->cur_amount != 0)
		{
			int			b = conversion(f, d, d->cur_at);

			f->rows[d->cur_col - 1].current_c[b] += d->cur_amount;
		}
	}
	if (!d->counted)
		return;
	amount = d->amount;
	b = amount != 0 ? conversion(f, d, d->amount_at) : -1;
	for (k = 1; k <= d->reach && k <= f->nopen; k++)
	{
		FRow	   *r = &f->rows[k - 1];

		r->entered++;
		if (b >= 0)
			r->entered_c[b] += amount;
		if (k < d->reach || (k == f->nopen && d->outcome == f->nopen + 1))
			r->advanced++;
		if (d->outcome == f->nopen + 1)
			r->won++;
		else if (d->outcome == f->nopen + 2)
			r->lost++;
	}
	if (d->outcome > 0 && d->outcome <= f->nrows)
	{
		FRow	   *r = &f->rows[d->outcome - 1];

		r->entered++;
		if (b >= 0)
			r->entered_c[b] += amount;
		if (d->outcome == f->nopen + 1)
			r->won++;
		else
			r->lost++;
	}
}

/* ------------------------------------------------------------------
 * Arguments
 * ------------------------------------------------------------------ */
static FunnelMode
mode_arg(FunctionCallInfo fcinfo)
{
	char	   *m;

	sb_require_arg(fcinfo, 3, "mode");
	m = sb_text_arg(fcinfo, 3);
	if (strcmp(m, "period") == 0)
		return F_PERIOD;
	if (strcmp(m, "cohort") == 0)
		return F_COHORT;
	if (strcmp(m, "snapshot") == 0)
		return F_SNAPSHOT;
	ereport(ERROR,
			(errcode(ERRCODE_SB_FUNNEL_MODE),
			 errmsg("funnel mode \"%s\" is not known", sb_quote_short(m)),
			 errhint("Use 'period' (stage entries in the period), 'cohort' (deals created in the period) or 'snapshot' (where deals stand at as_of).")));
	return F_PERIOD;			/* not reached */
}

static void
period_args(FunctionCallInfo fcinfo, Funnel *f)
{
	bool		has_from = !PG_ARGISNULL(1),
				has_to = !PG_ARGISNULL(2);

	if (f->mode == F_SNAPSHOT)
	{
		if (has_from || has_to)
			ereport(ERROR,
					(errcode(ERRCODE_SB_FUNNEL_PERIOD),
					 errmsg("a snapshot funnel takes no period: it shows where deals stand at as_of"),
					 errhint("Leave period_from and period_to out, or use mode => 'period' or 'cohort'.")));
		return;
	}
	if (!has_from || !has_to)
		ereport(ERROR,
				(errcode(ERRCODE_SB_FUNNEL_PERIOD),
				 errmsg("a %s funnel needs period_from and period_to", f->mode == F_PERIOD ? "period" : "cohort"),
				 errhint("Pass the period as [period_from, period_to), e.g. period_from => '2026-03-01', period_to => '2026-04-01'.")));
	f->from = sb_moment_arg(fcinfo, 1, "period_from");
	f->to = sb_moment_arg(fcinfo, 2, "period_to");
	if (f->to <= f->from)
		ereport(ERROR,
				(errcode(ERRCODE_SB_FUNNEL_PERIOD),
				 errmsg("the period ends (%s) no later than it starts (%s)",
						pstrdup(timestamptz_to_str(f->to)), pstrdup(timestamptz_to_str(f->from))),
				 errhint("period_to is the first moment after the period: it must be later than period_from.")));
}

/*
 * The employees of a department and the departments below it; with
 * within (n >= 0) only those among within[].
 */
static int64 *
department_owners(int64 department, const int64 *within, int *n)
{
	Datum		v[1] = {Int64GetDatum(department)};
	MemoryContext outer = CurrentMemoryContext;
	int64	   *out;
	int			nout = 0,
				j;
	uint64		k;
	bool		isnull;

	SPI_connect();
	sb_exec(&q_department_exists, v, NULL, true, 1);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_SB_BAD_VALUE),
				 errmsg("department " INT64_FORMAT " does not exist", department),
				 errhint("Pass the id of a row of salesboard.department.")));
	sb_exec(&q_department, v, NULL, true, 0);
	out = MemoryContextAlloc(outer, sizeof(int64) * Max(SPI_processed, 1));
	for (k = 0; k < SPI_processed; k++)
	{
		int64		e = sb_spi_int8(k, 1, &isnull);

		if (*n < 0)
			out[nout++] = e;
		else
			for (j = 0; j < *n; j++)
				if (within[j] == e)
					out[nout++] = e;
	}
	SPI_finish();
	*n = nout;
	return out;
}

/* The owners whose deals the report may count, or NULL: everyone's. */
static ArrayType *
owners_arg(FunctionCallInfo fcinfo)
{
	int64	   *vis = NULL,
			   *dep = NULL,
			   *out;
	int			nvis = -1,
				ndep = -1,
				nout = 0,
				i,
				j;

	if (!sb_is_admin() && !sb_is_reader())
	{
		int64		me = sb_require_employee();

		vis = sb_subtree_employees(me, &nvis);
		nvis = sb_sort_unique_int64(vis, nvis);
	}
	if (!PG_ARGISNULL(5))
	{
		int64		o = PG_GETARG_INT64(5);

		if (sb_employee(o) == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_SB_UNKNOWN_EMPLOYEE),
					 errmsg("employee " INT64_FORMAT " does not exist", o),
					 errhint("Pass the id of a row of salesboard.employee as owner_id.")));
		dep = palloc(sizeof(int64));
		dep[0] = o;
		ndep = 1;
	}
	if (!PG_ARGISNULL(6))
		dep = department_owners(PG_GETARG_INT64(6), dep, &ndep);
	if (vis == NULL && dep == NULL)
		return NULL;
	if (vis == NULL || dep == NULL)
	{
		out = vis ? vis : dep;
		nout = vis ? nvis : ndep;
	}
	else
	{
		out = palloc(sizeof(int64) * Max(ndep, 1));
		for (i = 0; i < ndep; i++)
			for (j = 0; j < nvis; j++)
				if (dep[i] == vis[j])
					out[nout++] = dep[i];
		if (!PG_ARGISNULL(5) && nout == 0)
			ereport(ERROR,
					(errcode(ERRCODE_SB_ACCESS),
					 errmsg("you may not see the funnel of employee " INT64_FORMAT, PG_GETARG_INT64(5)),
					 errdetail("Employees see their own deals; department heads also those of the people below them."),
					 errhint("Leave owner_id out for all the deals you may see.")));
	}
	return sb_int8_array(out, NULL, nout);
}

/* ------------------------------------------------------------------
 * funnel(pipeline_id, period_from, period_to, mode, as_of, owner_id,
 *        department_id, service_type_id, tag, currency)
 * ------------------------------------------------------------------ */
static Datum
int128_numeric(int128 v)
{
	char		buf[48];
	char	   *p = buf + sizeof(buf) - 1;
	bool		neg = v < 0;
	uint128		u = neg ? -(uint128) v : (uint128) v;

	if (v >= PG_INT64_MIN && v <= PG_INT64_MAX)
		return DirectFunctionCall1(int8_numeric, Int64GetDatum((int64) v));
	*p = '\0';
	do
	{
		*--p = '0' + (int) (u % 10);
		u /= 10;
	} while (u > 0);
	if (neg)
		*--p = '-';
	return DirectFunctionCall3(numeric_in, CStringGetDatum(p), ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
}

/*
 * A row's amount from its cents per bucket: each bucket converted exactly
 * (sum x rate(X) / rate(R)), the total rounded to cents.
 */
static Datum
total(Funnel *f, const int128 *cents)
{
	Datum		sum = DirectFunctionCall1(int4_numeric, Int32GetDatum(0));
	int			b;

	for (b = 0; cents != NULL && b < f->nbuckets; b++)
	{
		Datum		x;

		if (cents[b] == 0)
			continue;
		x = int128_numeric(cents[b]);
		if (f->buckets[b].xi != -2)
		{
			x = DirectFunctionCall2(numeric_mul, x, sb_rate_value(f->rates, f->buckets[b].xi));
			x = DirectFunctionCall2(numeric_div, x, sb_rate_value(f->rates, f->buckets[b].ri));
		}
		sum = DirectFunctionCall2(numeric_add, sum, x);
	}
	sum = DirectFunctionCall2(numeric_div, sum, DirectFunctionCall1(int4_numeric, Int32GetDatum(100)));
	return DirectFunctionCall2(numeric_round, sum, Int32GetDatum(2));
}

/* the weighted amount: the reported amount x probability / 100, rounded to cents */
static Datum
weighted(Datum amount, double probability)
{
	Datum		p = DirectFunctionCall1(float8_numeric, Float8GetDatum(probability));
	Datum		w = DirectFunctionCall2(numeric_mul, amount, p);

	w = DirectFunctionCall2(numeric_div, w, DirectFunctionCall1(int4_numeric, Int32GetDatum(100)));
	return DirectFunctionCall2(numeric_round, w, Int32GetDatum(2));
}

static Datum
ratio(int64 a, int64 b)
{
	Datum		n = DirectFunctionCall2(numeric_div,
										DirectFunctionCall1(int8_numeric, Int64GetDatum(a)),
										DirectFunctionCall1(int8_numeric, Int64GetDatum(b)));

	return DirectFunctionCall2(numeric_round, n, Int32GetDatum(4));
}

static Datum
round2(double v)
{
	return DirectFunctionCall2(numeric_round, DirectFunctionCall1(float8_numeric, Float8GetDatum(v)),
							   Int32GetDatum(2));
}

/* long because it emits the seventeen columns of every row, with their rules */
static void
emit(FunctionCallInfo fcinfo, Funnel *f, int64 pipeline)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	const char *cur = f->report ? f->report : (f->seen[0] ? f->seen : NULL);
	int			i;

	for (i = 0; i < f->nrows; i++)
	{
		FRow	   *r = &f->rows[i];
		Datum		v[17];
		bool		n[17] = {0};
		int64		first = f->rows[0].entered;
		int64		prev = i > 0 ? f->rows[i - 1].entered : 0;
		bool		is_won = r->st->kind == SB_WON,
					is_lost = r->st->kind == SB_LOST;

		v[0] = Int64GetDatum(pipeline);
		v[1] = Int64GetDatum(r->st->id);
		v[2] = CStringGetTextDatum(r->st->name);
		v[3] = CStringGetTextDatum(r->st->kind == SB_OPEN ? "open" : sb_status_name(r->st->kind));
		v[4] = Int32GetDatum(r->st->column);
		v[5] = Int64GetDatum(r->entered);
		v[6] = total(f, r->entered_c);
		v[7] = Int64GetDatum(r->current);
		v[8] = total(f, r->current_c);
		v[9] = Int64GetDatum(r->advanced);
		/* from the previous stage: Won from the last open one; Lost none */
		if (is_won)
			prev = f->nopen > 0 ? f->rows[f->nopen - 1].entered : 0;
		n[10] = i == 0 || is_lost || prev == 0;
		v[10] = n[10] ? (Datum) 0 : ratio(r->entered, prev);
		n[11] = first == 0;
		v[11] = n[11] ? (Datum) 0 : ratio(r->entered, first);
		v[12] = Int64GetDatum(r->won);
		v[13] = Int64GetDatum(r->lost);
		n[14] = r->stays == 0;
		v[14] = n[14] ? (Datum) 0 : round2(r->days / r->stays);
		v[15] = is_lost ? total(f, NULL) : is_won ? v[8] : weighted(v[8], r->st->probability);
		n[16] = cur == NULL;
		v[16] = cur ? CStringGetTextDatum(cur) : (Datum) 0;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
	}
}

/* long because it is the one pass: arguments, the cursor, the deals */
Datum
sb_funnel(PG_FUNCTION_ARGS)
{
	Funnel		f = {0};
	int64		pipeline;
	int			nst,
				i;
	const SbStage **stages;
	Datum		v[5];
	char		nl[5] = {' ', ' ', ' ', ' ', ' '};
	ArrayType  *owners;
	void	   *cursor;
	DealAcc		d = {0};

	f.mode = mode_arg(fcinfo);
	period_args(fcinfo, &f);
	f.as_of = sb_moment_arg(fcinfo, 4, "as_of");
	if (PG_ARGISNULL(0))
	{
		pipeline = sb_first_pipeline();
		if (pipeline < 0)
			ereport(ERROR,
					(errcode(ERRCODE_SB_UNKNOWN_PIPELINE),
					 errmsg("there is no pipeline with stages yet"),
					 errhint("Create a pipeline and its stages first.")));
	}
	else
		pipeline = PG_GETARG_INT64(0);
	stages = sb_pipeline_stages(pipeline, &nst);
	if (nst == 0)
		ereport(ERROR,
				(errcode(ERRCODE_SB_UNKNOWN_PIPELINE),
				 errmsg("pipeline " INT64_FORMAT " does not exist or has no stages", pipeline),
				 errhint("Pass the id of a row of salesboard.pipeline that has stages.")));
	owners = owners_arg(fcinfo);
	f.report = sb_currency_arg(fcinfo, 9, "reporting currency");
	if (f.report == NULL)
		f.report = sb_default_currency();
	f.rates = sb_rates_load();
	f.nrows = nst;
	f.rows = palloc0(sizeof(FRow) * nst);
	f.nslots = BUCKET_SLOTS;
	f.cxt = CurrentMemoryContext;
	f.slots = MemoryContextAllocZero(f.cxt, sizeof(int) * f.nslots);
	for (i = 0; i < nst; i++)
	{
		f.rows[stages[i]->column - 1].st = stages[i];
		if (stages[i]->kind == SB_OPEN)
			f.nopen++;
	}

	v[0] = Int64GetDatum(pipeline);
	v[1] = TimestampTzGetDatum(f.as_of);
	v[2] = owners ? PointerGetDatum(owners) : (Datum) 0;
	nl[2] = owners ? ' ' : 'n';
	v[3] = PG_ARGISNULL(7) ? (Datum) 0 : PG_GETARG_DATUM(7);
	nl[3] = PG_ARGISNULL(7) ? 'n' : ' ';
	v[4] = PG_ARGISNULL(8) ? (Datum) 0 : PG_GETARG_DATUM(8);
	nl[4] = PG_ARGISNULL(8) ? 'n' : ' ';
	SPI_connect();
	cursor = sb_cursor_open(&q_history, v, nl);
	while (sb_cursor_fetch(cursor, 500) > 0)
	{
		uint64		k;

		for (k = 0; k < SPI_processed; k++)
		{
			HeapTuple	t = SPI_tuptable->vals[k];
			TupleDesc	td = SPI_tuptable->tupdesc;
			bool		isnull,
						first = false;
			int64		deal = sb_spi_int8(k, 1, &isnull);
			text	   *ev = DatumGetTextPP(SPI_getbinval(t, td, 2, &isnull));
			/* create, move, won, lost, reopen: the first letter tells */
			bool		create = VARSIZE_ANY_EXHDR(ev) > 0 && VARDATA_ANY(ev)[0] == 'c';
			const SbStage *st = sb_stage(sb_spi_int8(k, 3, &isnull));
			TimestampTz at = DatumGetTimestampTz(SPI_getbinval(t, td, 4, &isnull));
			int64		cents = sb_spi_int8(k, 5, &isnull);

			if (deal != d.deal_id)
			{
				Datum		c = SPI_getbinval(t, td, 6, &isnull);

				char		cur[4] = "";

				if (!isnull)
					text_to_cstring_buffer(DatumGetTextPP(c), cur, sizeof(cur));
				deal_end(&f, &d);
				deal_begin(&d, deal, isnull ? NULL : cur);
				first = true;
			}
			deal_event(&f, &d, first, create, st && st->pipeline_id == pipeline ? st : NULL,
					   at, cents);
		}
		SPI_freetuptable(SPI_tuptable);
	}
	deal_end(&f, &d);
	sb_cursor_close(cursor);
	SPI_finish();

	InitMaterializedSRF(fcinfo, 0);
	emit(fcinfo, &f, pipeline);
	return (Datum) 0;
}
