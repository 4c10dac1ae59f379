/*
 * calls.h: checks of how a C function was called (foundation): trigger
 * functions fired where they belong, required arguments, text and uuid
 * arguments, blank text.
 */
#ifndef SB_CALLS_H
#define SB_CALLS_H

#include "postgres.h"

#include "commands/trigger.h"
#include "datatype/timestamp.h"
#include "fmgr.h"
#include "utils/uuid.h"

/* how a trigger function must be fired: one of each group, OR-ed */
#define SB_TRIG_BEFORE		0x0001
#define SB_TRIG_AFTER		0x0002
#define SB_TRIG_ROW			0x0004
#define SB_TRIG_STATEMENT	0x0008
#define SB_TRIG_NEW_TABLE	0x0010	/* REFERENCING NEW TABLE */
#define SB_TRIG_OLD_TABLE	0x0020	/* REFERENCING OLD TABLE */
#define SB_TRIG_NO_DELETE	0x0040	/* INSERT or UPDATE only */
#define SB_TRIG_UPDATE		0x0080	/* UPDATE only */

/*
 * The TriggerData of a trigger function fired as `how` says; anything else
 * (a plain call, another timing or level, a missing transition table) is
 * 39P01 naming the function and how it must be fired.
 */
extern TriggerData *sb_trigger_call(FunctionCallInfo fcinfo, const char *fname, int how);

/*
 * Restore mode: a superuser's session shaped as pg_dump and pg_restore
 * shape theirs (row_security = off and an empty search_path) is loading a
 * dump. The rule triggers then let every row through as it is, since the
 * dump holds finished, consistent data (derived columns, history) that
 * they would otherwise recompute or refuse. doc/reference.md, "Backup and
 * restore".
 */
extern bool sb_restoring(void);
/* what a trigger returns to let the row through unchanged */
extern Datum sb_trigger_pass(TriggerData *td);

extern void sb_require_arg(FunctionCallInfo fcinfo, int argno, const char *name);
extern char *sb_text_arg(FunctionCallInfo fcinfo, int argno);
extern TimestampTz sb_moment_arg(FunctionCallInfo fcinfo, int argno, const char *name);
extern pg_uuid_t *sb_uuid_arg(FunctionCallInfo fcinfo, int argno);
/* a bigint[] of ids, sorted and unique (SB025 for 2-D, 22004 for a NULL) */
extern int	sb_id_array_arg(FunctionCallInfo fcinfo, int argno, const char *what,
							const char *hint, int64 **ids);

#endif							/* SB_CALLS_H */
