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

typedef struct SbRates SbRates;

/* Every rate, read once (a small table), in the caller's memory context. */
extern SbRates *sb_rates_load(void);

/*
 * Convert cents of currency `from` (NULL: the company's one unnamed
 * currency, the same as `to`) into cents of `to` at moment t. Equal
 * currencies convert exactly. A missing rate is SB203 naming the currency
 * and the moment; without a company default currency, different
 * currencies cannot convert (SB205).
 */
extern double sb_rates_convert(SbRates *r, double cents, const char *from, const char *to,
							   TimestampTz t);

#endif							/* SB_RATES_H */
