/*
 * activities.h: activities and a deal's derived next_due (services layer):
 * the planned activities of a deal, planning and finishing one for the
 * API functions, and the upkeep of deal.next_due / next_activity_id.
 */
#ifndef SB_ACTIVITIES_H
#define SB_ACTIVITIES_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "fmgr.h"
#include "pgtime.h"

#include "deals.h"
#include "rows.h"

/* the first n planned activities of a deal by (due_at, id), newest data */
extern int	sb_planned_probe(SbProbe *p, int64 deal_id, int n, int64 *act_ids, TimestampTz *dues);
extern int	sb_next_planned_n(int64 deal_id, int n, int64 *act_ids, TimestampTz *dues);
extern bool sb_next_planned(int64 deal_id, int64 *act_id, TimestampTz *due);

extern TimestampTz sb_effective_due(TimestampTz due, bool all_day, pg_tz *tz);
extern TimestampTz sb_due_args(FunctionCallInfo fcinfo, int due_arg, int date_arg, int64 owner_id,
							   const char *due_name, const char *date_name, bool *all_day);
extern TimestampTz sb_check_new_activity(const SbDealRow *deal, const char *kind,
										 const char *subject, TimestampTz due,
										 bool all_day, const int64 *assignee_id,
										 TimestampTz at);
/* for the API functions, inside SPI and a protocol step on the deal */
extern int64 sb_insert_activity(const SbDealRow *deal, const char *kind,
								const char *subject, TimestampTz due,
								bool all_day, const int64 *assignee_id, TimestampTz at);
extern void sb_finish_activity(int64 act_id, bool done, const char *result,
							   TimestampTz at);
extern void sb_refresh_next_due(int64 deal_id);

#endif							/* SB_ACTIVITIES_H */
