/*
 * rates.c: currency conversion (services layer; rates.h).
 *
 * The whole of currency_rate is read into one sorted array per call (a
 * few rows per currency and month); a rate is found by binary search on
 * valid_from. Amounts travel as cents in a double: exact up to 2^53 cents,
 * rounded to cents where they are reported.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "catalog.h"
#include "config.h"
#include "errcodes.h"
#include "rates.h"
#include "spi.h"

typedef struct Rate
{
	char		currency[4];
	TimestampTz valid_from;
	double		rate;
} Rate;

struct SbRates
{
	Rate	   *rates;			/* by currency, then valid_from */
	int			n;
	const char *base;			/* the company's default currency, or NULL */
};

SbRates *
sb_rates_load(void)
{
	MemoryContext outer = CurrentMemoryContext;
	SbRates    *r = palloc0(sizeof(SbRates));
	uint64		k;

	r->base = sb_default_currency();
	if (!OidIsValid(sb_catalog_require("currency_rate")))
		return r;
	SPI_connect();
	sb_exec_once("SELECT c.currency::text, c.valid_from, c.rate::float8 FROM salesboard.currency_rate c "
				 "ORDER BY c.currency, c.valid_from", true);
	r->rates = MemoryContextAlloc(outer, sizeof(Rate) * Max(SPI_processed, 1));
	for (k = 0; k < SPI_processed; k++)
	{
		bool		isnull;
		char	   *cur = sb_spi_text(k, 1, CurrentMemoryContext);

		strlcpy(r->rates[k].currency, cur, sizeof(r->rates[k].currency));
		r->rates[k].valid_from = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[k],
																   SPI_tuptable->tupdesc, 2, &isnull));
		r->rates[k].rate = sb_spi_float8(k, 3);
	}
	r->n = (int) SPI_processed;
	SPI_finish();
	return r;
}

/* rate(C, t): one unit of C in the default currency */
static double
rate_at(SbRates *r, const char *cur, TimestampTz t)
{
	int			lo = 0,
				hi = r->n - 1,
				found = -1;

	if (r->base != NULL && strcmp(cur, r->base) == 0)
		return 1.0;
	/* the last row of cur with valid_from <= t */
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
						 cur, timestamptz_to_str(t), cur, r->base ? r->base : "the default currency")));
	return r->rates[found].rate;
}

double
sb_rates_convert(SbRates *r, double cents, const char *from, const char *to, TimestampTz t)
{
	if (from == NULL || to == NULL || strcmp(from, to) == 0)
		return cents;
	if (r->base == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_SB_SEVERAL_CURRENCIES),
				 errmsg("amounts in %s cannot be reported in %s: the company has no default currency", from, to),
				 errhint("Set salesboard.company.default_currency; currency_rate gives each currency's value in it.")));
	return cents * rate_at(r, from, t) / rate_at(r, to, t);
}
