/*
 * requests.h: request ids of the write functions that write no stage
 * history (services layer): create_deal, plan_activity, complete_activity,
 * cancel_activity, set_priority and the inbound dispatch functions. The same request applied again changes nothing and
 * returns the same answer; the same id for another operation is SB012.
 * (move_deal, close_deal and reopen_deal keep theirs in stage_history.)
 */
#ifndef SB_REQUESTS_H
#define SB_REQUESTS_H

#include "postgres.h"

#include "utils/uuid.h"

typedef struct SbRequestAnswer
{
	int64		deal_id;		/* 0 when none */
	int64		activity_id;	/* 0 when none */
	int64		count;			/* how many (dismiss_inbound); 0 when none */
} SbRequestAnswer;

/*
 * Claim request_id for operation op on target (owner, deal or activity
 * id). Returns true when the same request was applied before: *answer then
 * holds what it answered and the caller returns that, changing nothing.
 * A concurrent duplicate waits for the first to commit or abort. NULL
 * request_id: nothing to claim, false.
 */
extern bool sb_request_claim(pg_uuid_t *request_id, const char *op, int64 target,
							 SbRequestAnswer *answer);
/* Record the answer of a claimed request. */
extern void sb_request_answer(pg_uuid_t *request_id, const SbRequestAnswer *answer);
/* SB012 for a request id already used otherwise; names nothing. */
extern void sb_request_reused(pg_uuid_t *request_id) pg_attribute_noreturn();
/* Take the id for a move, close or reopen of deal_id (SB012 if taken). */
extern void sb_request_reserve(pg_uuid_t *request_id, int64 deal_id);

#endif							/* SB_REQUESTS_H */
