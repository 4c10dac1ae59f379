/*
 * deals.h: a deal as the C code reads it (services layer): the row, the
 * first step of every change (visibility, row lock, newest version), and
 * tag names.
 */
#ifndef SB_DEALS_H
#define SB_DEALS_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "executor/tuptable.h"
#include "utils/array.h"

#include "catalog.h"

typedef struct SbDealRow
{
	int64		id;
	int64		pipeline_id;
	int64		stage_id;
	int64		owner_id;
	int64		client_id;		/* 0 when NULL */
	int64		service_type_id;	/* 0 when NULL */
	bool		has_client;
	bool		has_service_type;
	int64		next_activity_id;	/* 0 when NULL */
	bool		has_next;
	TimestampTz next_due;
	SbStatus	status;
	bool		priority;
	bool		amount_null;
	Datum		amount;			/* numeric, copied */
	bool		currency_null;
	Datum		currency;		/* bpchar, copied */
	char	   *title;
	TimestampTz stage_entered_at;
	bool		closed;
	TimestampTz closed_at;
} SbDealRow;

extern void sb_deal_from_slot(TupleTableSlot *slot, SbDealRow *d);
extern void sb_open_deal_for_change(int64 id, SbDealRow *d);
extern bool sb_read_deal(int64 id, SbDealRow *d);
extern int	sb_tag_ids(ArrayType *tags, int64 **ids, const char *hint);

#endif							/* SB_DEALS_H */
