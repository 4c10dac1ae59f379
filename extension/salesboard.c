/*
 * salesboard.c: the module's entry point.
 *
 * Owns PG_MODULE_MAGIC, _PG_init (the settings under the reserved prefix
 * "salesboard", the cache-invalidation and end-of-transaction callbacks),
 * and the protocol state the API functions share with the triggers.
 * Every rule lives in a file of its own:
 *   time.c        calendar days in an employee's time zone
 *   catalog.c     OIDs, configuration caches, direct index access, SPI plans
 *   identity.c    current_employee(), set_employee(), visibility
 *   activities.c  activity triggers, next_due upkeep, plan/complete/cancel
 *   transitions.c deal triggers, create/move/close/reopen, stage history
 *   discipline.c  "every open deal has a planned activity", verify()
 *   colour.c      card colour and why
 *   board.c       board(), deal_list(), board_text()
 */
#include "postgres.h"

#include "access/xact.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"

#include "salesboard.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

SbProtocol	sb_protocol = {SB_OP_NONE, 0, InvalidOid};

/* salesboard.closed_days: how many local days Won/Lost columns look back */
int			sb_closed_days = 7;

void
sb_protocol_reset(void)
{
	sb_protocol.op = SB_OP_NONE;
	sb_protocol.deal_id = 0;
	sb_protocol.caller = InvalidOid;
}

/* An API function starts changing a deal: remember who asked. */
void
sb_protocol_begin(SbOp op, int64 deal_id)
{
	sb_protocol.caller = OidIsValid(sb_protocol.caller) ? sb_protocol.caller : GetUserId();
	sb_protocol.op = op;
	sb_protocol.deal_id = deal_id;
}

/* The role on whose behalf the current change runs (for audit columns). */
Oid
sb_caller(void)
{
	return OidIsValid(sb_protocol.caller) ? sb_protocol.caller : GetUserId();
}

static void
sb_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			sb_catalog_xact_end();
			sb_identity_xact_end();
			sb_protocol_reset();
			break;
		default:
			break;
	}
}

static void
sb_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		sb_identity_subxact_end(false);
	else if (event == SUBXACT_EVENT_COMMIT_SUB)
		sb_identity_subxact_end(true);
}

void
_PG_init(void)
{
	DefineCustomIntVariable("salesboard.closed_days",
							"How many days back the Won and Lost columns of the board look.",
							"Deals closed on the owner's local calendar day today or on the "
							"closed_days - 1 days before it are shown; 0 hides the columns.",
							&sb_closed_days,
							7, 0, 3660,
							PGC_USERSET, 0,
							NULL, NULL, NULL);
	MarkGUCPrefixReserved("salesboard");
	sb_catalog_init();
	RegisterXactCallback(sb_xact_callback, NULL);
	RegisterSubXactCallback(sb_subxact_callback, NULL);
}
