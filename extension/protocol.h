/*
 * protocol.h: how an API function tells the triggers that a change is its
 * own (services layer).
 *
 * move_deal() and the other API functions change the tables with plain
 * statements; the triggers would refuse those as raw UPDATEs of stage
 * columns, or redo upkeep the function does itself. So a function opens a
 * protocol step naming the operation and the deal; the triggers accept
 * (and check) exactly that change. Steps nest; sb_protocol_end() closes
 * one, and an error closes every step opened in the (sub)transaction it
 * aborts, so call sites need no PG_TRY.
 */
#ifndef SB_PROTOCOL_H
#define SB_PROTOCOL_H

#include "postgres.h"

typedef enum SbOp
{
	SB_OP_NONE = 0,
	SB_OP_CREATE,				/* create_deal: a new deal and its first activity */
	SB_OP_MOVE,					/* move_deal: open stage -> open stage */
	SB_OP_CLOSE,				/* close_deal: open stage -> won/lost */
	SB_OP_REOPEN,				/* reopen_deal: won/lost -> open stage */
	SB_OP_ACTIVITY,				/* an API call changing one deal's activities */
	SB_OP_DERIVED				/* upkeep of next_due / next_activity_id */
} SbOp;

typedef struct SbProtocol
{
	SbOp		op;
	int64		deal_id;		/* 0 with SB_OP_DERIVED: any deal */
	Oid			caller;			/* the session's user before the switch to the owner */
} SbProtocol;

/* the current step; read it, change it only through the functions below */
extern SbProtocol sb_protocol;

extern int	sb_protocol_begin(SbOp op, int64 deal_id);
extern void sb_protocol_set_deal(int64 deal_id);
extern void sb_protocol_end(int step);

/* the role on whose behalf the current change runs (audit columns, identity) */
extern Oid	sb_caller(void);

/* is this deal the one the current API step changes? */
static inline bool
sb_protocol_owns(int64 deal_id)
{
	return sb_protocol.op != SB_OP_NONE && sb_protocol.op != SB_OP_DERIVED &&
		sb_protocol.deal_id == deal_id;
}

extern void sb_protocol_init(void);

#endif							/* SB_PROTOCOL_H */
