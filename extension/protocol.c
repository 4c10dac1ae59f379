/*
 * protocol.c: the protocol between the API functions and the triggers
 * (services layer; protocol.h says what it is for).
 *
 * The steps form a stack. Each saved entry remembers the subtransaction
 * that opened it: when that subtransaction aborts (an error caught by a
 * PL/pgSQL EXCEPTION block or a ROLLBACK TO SAVEPOINT), its steps are
 * closed and the state before them comes back; a transaction's end clears
 * everything.
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"

#include "protocol.h"

#define MAX_STEPS 64

typedef struct SavedStep
{
	SbProtocol	before;			/* the state the step replaced */
	SubTransactionId subid;		/* the subtransaction that opened it */
} SavedStep;

SbProtocol	sb_protocol = {SB_OP_NONE, 0, InvalidOid};
static SavedStep steps[MAX_STEPS];
static int	nsteps = 0;

/*
 * Open a step: op on deal_id (0: the deal this call is about to create,
 * named later with sb_protocol_set_deal). The caller is kept from the
 * outermost step. Returns the handle for sb_protocol_end().
 */
int
sb_protocol_begin(SbOp op, int64 deal_id)
{
	if (nsteps >= MAX_STEPS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("salesboard API calls nested more than %d deep", MAX_STEPS),
				 errhint("Do not call the salesboard API from triggers on its own tables.")));
	steps[nsteps].before = sb_protocol;
	steps[nsteps].subid = GetCurrentSubTransactionId();
	nsteps++;
	if (!OidIsValid(sb_protocol.caller))
		sb_protocol.caller = GetUserId();
	sb_protocol.op = op;
	sb_protocol.deal_id = deal_id;
	return nsteps;
}

/* create_deal (SB_OP_CREATE) names its deal once the row is inserted. */
void
sb_protocol_set_deal(int64 deal_id)
{
	Assert(nsteps > 0 && sb_protocol.op == SB_OP_CREATE);
	sb_protocol.deal_id = deal_id;
}

/* Close the step `step` returned by sb_protocol_begin (and any left inside it). */
void
sb_protocol_end(int step)
{
	Assert(step >= 1 && step <= nsteps);
	sb_protocol = steps[step - 1].before;
	nsteps = step - 1;
}

Oid
sb_caller(void)
{
	return OidIsValid(sb_protocol.caller) ? sb_protocol.caller : GetUserId();
}

static void
xact_cb(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			sb_protocol.op = SB_OP_NONE;
			sb_protocol.deal_id = 0;
			sb_protocol.caller = InvalidOid;
			nsteps = 0;
			break;
		default:
			break;
	}
}

static void
subxact_cb(SubXactEvent event, SubTransactionId mySubid,
		   SubTransactionId parentSubid, void *arg)
{
	int			i;

	if (event == SUBXACT_EVENT_COMMIT_SUB)
	{
		for (i = 0; i < nsteps; i++)
			if (steps[i].subid == mySubid)
				steps[i].subid = parentSubid;
	}
	else if (event == SUBXACT_EVENT_ABORT_SUB)
	{
		/* the steps of the aborted subtransaction are the top of the stack */
		while (nsteps > 0 && steps[nsteps - 1].subid == mySubid)
		{
			sb_protocol = steps[nsteps - 1].before;
			nsteps--;
		}
	}
}

void
sb_protocol_init(void)
{
	RegisterXactCallback(xact_cb, NULL);
	RegisterSubXactCallback(subxact_cb, NULL);
}
