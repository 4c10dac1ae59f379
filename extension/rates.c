/*
 * rates.c: currency conversion (services layer; rates.h), and
 * convert_amount(), the same conversion for one amount in SQL.
 *
 * The whole of currency_rate is read into one sorted array per call (a
 * few rows per currency and month); a rate is found by binary search on
 * valid_from. Rates stay numeric and conversions are exact:
 * amount x rate(X, t) / rate(R, t), rounded to cents (half away from zero,
 * as numeric round()) only where an amount is reported.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "calls.h"
#include "catalog.h"
#include "config.h"
#include "errcodes.h"
#include "rates.h"
#include "spi.h"
#include "texts.h"

PG_FUNCTION_INFO_V1(sb_convert_amount);

typedef struct Rate
{
	char		currency[4];
	TimestampTz valid_from;
	Datum		rate;			/* numeric */
} Rate;

struct SbRates
{
	Rate	   *rates;			/* by currency, then valid_from */
	int			n;
	const char *base;			/* the company's default currency, or NULL */
	char		base_buf[4];	/* its copy: the rates may outlive a cache reload */
};

SbRates *
sb_rates_load(void)
{
	MemoryContext outer = CurrentMemoryContext;
	SbRates    *r = palloc0(sizeof(SbRates));
	uint64		k;

	if (sb_default_currency() != NULL)
	{
		strlcpy(r->base_buf, sb_default_currency(), sizeof(r->base_buf));
		r->base = r->base_buf;
	}
	if (!OidIsValid(sb_catalog_require("currency_rate")))
		return r;
	SPI_connect();
	sb_exec_once("SELECT c.currency::text, c.valid_from, c.rate FROM salesboard.currency_rate c "
				 "ORDER BY c.currency, c.valid_from", true);
	r->rates = MemoryContextAlloc(outer, sizeof(Rate) * Max(SPI_processed, 1));
	for (k = 0; k < SPI_processed; k++)
	{
		bool		isnull;
		char	   *cur = sb_spi_text(k, 1, CurrentMemoryContext);

		strlcpy(r->rates[k].currency, cur, sizeof(r->rates[k].currency));
		r->rates[k].valid_from = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[k],
																   SPI_tuptable->tupdesc, 2, &isnull));
		{
			MemoryContext spi = MemoryContextSwitchTo(outer);

			r->rates[k].rate = datumCopy(SPI_getbinval(SPI_tuptable->vals[k], SPI_tuptable->tupdesc, 3, &isnull),
										 false, -1);
			MemoryContextSwitchTo(spi);
		}
	}
	r->n = (int) SPI_processed;
	SPI_finish();
	return r;
}

/*
 * The row of rate(C, t): the last row of C with valid_from <= t; -1 for the
 * company's default currency itself (rate 1). SB203 when there is none.
 */
int
sb_rate_index(SbRates *r, const char *cur, TimestampTz t)
{
	int			lo = 0,
				hi = r->n - 1,
				found = -1;

	if (r->base == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_SB_SEVERAL_CURRENCIES),
				 errmsg("amounts in %s cannot be converted: the company has no default currency", cur),
				 errhint("Set salesboard.company.default_currency; currency_rate gives each currency's value in it.")));
	if (strcmp(cur, r->base) == 0)
		return -1;
	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;
		int			c = strcmp(r->rates[mid].currency, cur);

		if (c < 0 || (c == 0 && r->rates[mid].valid_from <= t))
		{
			if (c == 0)
				found = mid;
			lo = mid + 1;
		}
		else
			hi = mid - 1;
	}
	if (found < 0)
		ereport(ERROR,
				(errcode(ERRCODE_SB_MISSING_RATE),
				 errmsg("no rate of currency %s on %s", cur, timestamptz_to_str(t)),
				 errdetail("Amounts in %s convert into the reporting currency through salesboard.currency_rate.", cur),
				 errhint("INSERT INTO salesboard.currency_rate (currency, valid_from, rate) VALUES ('%s', <a moment up to %s>, <one %s in %s>).",
						 cur, timestamptz_to_str(t), cur, r->base)));
	return found;
}

/* The numeric rate of a row of sb_rate_index() (-1: 1). */
Datum
sb_rate_value(SbRates *r, int idx)
{
	return idx < 0 ? DirectFunctionCall1(int4_numeric, Int32GetDatum(1)) : r->rates[idx].rate;
}

/* amount (numeric) in `from` as `to` at t, exactly (not rounded) */
Datum
sb_rates_convert(SbRates *r, Datum amount, const char *from, const char *to, TimestampTz t)
{
	Datum		x;

	if (from == NULL || to == NULL || strcmp(from, to) == 0)
		return amount;
	x = DirectFunctionCall2(numeric_mul, amount, sb_rate_value(r, sb_rate_index(r, from, t)));
	return DirectFunctionCall2(numeric_div, x, sb_rate_value(r, sb_rate_index(r, to, t)));
}

/* ------------------------------------------------------------------
 * convert_amount(amount, currency, at, to_currency) -> numeric
 *
 * One amount by the rules above, rounded to cents. A view calls it once a
 * row: the rates are read at the first call of a query (its call site's
 * FmgrInfo) and kept in fn_extra for the rest of it.
 * ------------------------------------------------------------------ */
typedef struct ConvertCache
{
	SbRates    *rates;
	char		seen[4];		/* no target currency: the one currency met */
} ConvertCache;

static ConvertCache *
convert_cache(FunctionCallInfo fcinfo)
{
	ConvertCache *c = (ConvertCache *) fcinfo->flinfo->fn_extra;

	if (c == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);

		c = palloc0(sizeof(ConvertCache));
		c->rates = sb_rates_load();
		MemoryContextSwitchTo(old);
		fcinfo->flinfo->fn_extra = c;
	}
	return c;
}

/* A currency argument: NULL, or three capital letters (SB204). */
const char *
sb_currency_arg(FunctionCallInfo fcinfo, int argno, const char *name)
{
	char	   *c = sb_text_arg(fcinfo, argno);
	int			i;

	if (c == NULL)
		return NULL;
	for (i = 0; c[i]; i++)
		if (c[i] < 'A' || c[i] > 'Z')
			break;
	if (i != 3 || c[i] != '\0')
		ereport(ERROR,
				(errcode(ERRCODE_SB_BAD_CURRENCY),
				 errmsg("%s \"%s\" is not an ISO 4217 code", name, sb_quote_short(c)),
				 errhint("Pass three capital letters, such as 'EUR'.")));
	return c;
}

static Datum
round_cents(Datum amount)
{
	return DirectFunctionCall2(numeric_round, amount, Int32GetDatum(2));
}

Datum
sb_convert_amount(PG_FUNCTION_ARGS)
{
	Numeric		amount;
	const char *from,
			   *to;
	TimestampTz at;
	ConvertCache *c;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	amount = PG_GETARG_NUMERIC(0);
	if (numeric_is_nan(amount) || numeric_is_inf(amount))
		ereport(ERROR,
				(errcode(ERRCODE_SB_BAD_VALUE),
				 errmsg("amount must be a finite number"),
				 errhint("Pass an amount such as 1500.00.")));
	from = sb_currency_arg(fcinfo, 1, "currency");
	at = sb_moment_arg(fcinfo, 2, "at");
	to = sb_currency_arg(fcinfo, 3, "to_currency");
	c = convert_cache(fcinfo);
	if (to == NULL)
		to = c->rates->base;
	if (to == NULL && from != NULL)
	{
		/* no target currency: every amount of the query in one currency */
		if (c->seen[0] == '\0')
			strlcpy(c->seen, from, sizeof(c->seen));
		else if (strcmp(c->seen, from) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_SB_SEVERAL_CURRENCIES),
					 errmsg("the amounts are in several currencies (%s, %s) and there is no target currency",
							c->seen, from),
					 errhint("Pass to_currency => 'XXX', or set salesboard.company.default_currency, and give rates in salesboard.currency_rate.")));
		to = from;
	}
	PG_RETURN_DATUM(round_cents(sb_rates_convert(c->rates, NumericGetDatum(amount), from, to, at)));
}
