/*
 * rates.h: currency conversion through salesboard.currency_rate (services
 * layer): rate(C, t) is the rate of the row of C with the greatest
 * valid_from <= t, the value of one unit of C in the company's default
 * currency (which is 1 itself). doc/reference.md, "Sales funnel".
 */
#ifndef SB_RATES_H
#define SB_RATES_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "fmgr.h"

typedef struct SbRates SbRates;

/* Every rate, read once (a small table), in the caller's memory context. */
extern SbRates *sb_rates_load(void);

/*
 * The row of rate(C, t) (-1: C is the default currency, rate 1); SB203
 * when C has no rate at t, SB205 without a company default currency.
 */
extern int	sb_rate_index(SbRates *r, const char *cur, TimestampTz t);
extern Datum sb_rate_value(SbRates *r, int idx);	/* numeric */

/*
 * A numeric amount in `from` (NULL: the company's one unnamed currency,
 * taken as `to`) converted into `to` at moment t, exactly (not rounded).
 */
extern Datum sb_rates_convert(SbRates *r, Datum amount, const char *from, const char *to,
							  TimestampTz t);

/* A currency argument: NULL, or three capital letters (SB204 naming it). */
extern const char *sb_currency_arg(FunctionCallInfo fcinfo, int argno, const char *name);

#endif							/* SB_RATES_H */
