/*
 * newdeal.h: the one deal-creation core (services layer), used by
 * create_deal() and, later, by accepting an inbound request: checks every
 * value, inserts the deal, its tags and its first planned activity, and
 * brings next_due up to date, all inside one protocol step.
 */
#ifndef SB_NEWDEAL_H
#define SB_NEWDEAL_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "utils/array.h"

typedef struct SbNewDeal
{
	int64		owner_id;
	int64		stage_id;
	const char *title;
	bool		has_client;
	int64		client_id;
	bool		has_service_type;
	int64		service_type_id;
	bool		has_amount;
	Datum		amount;			/* numeric */
	const char *currency;		/* NULL: none */
	ArrayType  *tags;			/* text[] of tag names, or NULL */
	const char *first_kind;
	const char *first_subject;
	TimestampTz first_due;
	bool		first_all_day;
	TimestampTz at;				/* checked by the caller (sb_check_at) */
} SbNewDeal;

extern int64 sb_deal_create(const SbNewDeal *nd);

#endif							/* SB_NEWDEAL_H */
