/*
 * calendar.h: calendar days in an employee's own IANA time zone
 * (foundation). Nothing here reads the server's TimeZone setting.
 */
#ifndef SB_CALENDAR_H
#define SB_CALENDAR_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "pgtime.h"
#include "utils/date.h"

extern bool sb_is_iana_zone(const char *name);
extern pg_tz *sb_tz_lookup(const char *name);
extern DateADT sb_local_date(TimestampTz t, pg_tz *tz);
extern TimestampTz sb_local_midnight(DateADT d, pg_tz *tz);
extern TimestampTz sb_end_of_day(DateADT d, pg_tz *tz);
extern DateADT sb_date_add_months(DateADT d, int months);
extern char *sb_local_str(TimestampTz t, pg_tz *tz, const char *zone_name);

#endif							/* SB_CALENDAR_H */
