/*
 * live.h: the channel of live changes (services layer): NOTIFY on channel
 * "salesboard" and the setting salesboard.live_changes that turns it off
 * (doc/reference.md, "Live changes").
 */
#ifndef SB_LIVE_H
#define SB_LIVE_H

#include "postgres.h"


#include "lib/stringinfo.h"

/* a NOTIFY payload takes less than 8000 bytes; ours stay below this */
#define SB_LIVE_MAX_PAYLOAD 7000

/* a set of ids being gathered for a payload: add freely, then finish */
typedef struct SbIdSet
{
	int64	   *ids;
	int			n;
	int			max;
} SbIdSet;

extern void sb_idset_add(SbIdSet *s, int64 id);
extern void sb_idset_finish(SbIdSet *s);

extern void sb_live_init(void);
extern void sb_live_append_ids(StringInfo buf, const char *name, const int64 *ids, int n);
extern bool sb_live_changes(void);
extern void sb_live_notify(const char *payload);

#endif
