/*
 * inqueue.h: the Inbound column's one reader (services layer): the new
 * inbound requests of a set of employees received by a moment, oldest
 * first. inbound_queue(), board_json() and board_text() all read it here.
 */
#ifndef SB_INQUEUE_H
#define SB_INQUEUE_H

#include "postgres.h"

#include "datatype/timestamp.h"

typedef struct SbInboundItem
{
	int64		id;
	int64		source_id;
	int64		owner_id;
	char	   *channel;
	char	   *sender;
	char	   *subject;		/* NULL when none */
	TimestampTz received_at;
} SbInboundItem;

/*
 * The requests with status 'new' whose owner is one of owners[] and that
 * were received at or before `at`, by (received_at, id); at most limit of
 * them (limit < 0: all). *items is palloc'd in the caller's memory
 * context; returns how many. The caller has decided who may see which
 * owners (the visibility rule of row-level security).
 */
extern int	sb_inbound_waiting(const int64 *owners, int nowners, TimestampTz at,
							   int limit, SbInboundItem **items);

/* The owners whose requests an employee's Inbound column shows. */
extern int64 *sb_inbound_owners(int64 employee_id, bool subordinates, int *n);

#endif							/* SB_INQUEUE_H */
