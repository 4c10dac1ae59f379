/*
 * calendar.c: calendar days in an employee's own time zone (foundation).
 *
 * Owns: validation of IANA time-zone names (salesboard.is_time_zone, the
 * CHECK on employee.time_zone), the local date of a moment, the first
 * instant of a local day (correct across DST gaps and overlaps, for zones
 * such as Asia/Kathmandu at +05:45 and Australia/Lord_Howe with its
 * 30-minute DST), and the end of a local day, which is when an all-day
 * activity falls due. Nothing here reads the server's TimeZone setting.
 */
#include "postgres.h"

#include "fmgr.h"
#include "pgtime.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

#include "calendar.h"
#include "errcodes.h"
#include "tz_names.h"

PG_FUNCTION_INFO_V1(sb_is_time_zone);
PG_FUNCTION_INFO_V1(sb_end_of_day_sql);
PG_FUNCTION_INFO_V1(sb_local_date_sql);

static int
cmp_zone_name(const void *key, const void *elem)
{
	return strcmp((const char *) key, *(const char *const *) elem);
}

/*
 * True when name is a zone or link of the IANA time-zone database exactly
 * as spelled there ("Europe/Moscow", "UTC", "US/Eastern"): not an
 * abbreviation, a POSIX rule string ("UTC+3"), a differently cased
 * spelling, nor a file of the server's zoneinfo folder that is no IANA
 * name (localtime, posixrules, Factory, posix/..., right/...). The names
 * are compiled in (tz_names.h, scripts/tz_names.sh), so the answer is the
 * same on every server and a restore passes the same CHECK.
 */
bool
sb_is_iana_zone(const char *name)
{
	if (name == NULL || name[0] == '\0' || strlen(name) > TZ_STRLEN_MAX)
		return false;
	return bsearch(name, sb_tz_names, lengthof(sb_tz_names),
				   sizeof(sb_tz_names[0]), cmp_zone_name) != NULL;
}

/*
 * The zone for a validated name; pg_tzset keeps its own cache, so this is a
 * hash probe after the first call for a zone.
 */
pg_tz *
sb_tz_lookup(const char *name)
{
	pg_tz	   *tz = pg_tzset(name);

	if (tz == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_SB_TIME_ZONE),
				 errmsg("time zone \"%s\" is not known", name),
				 errhint("Use an IANA time-zone name such as Europe/Moscow or America/New_York.")));
	return tz;
}

/*
 * Moment t as its owner reads it: "2026-03-10 09:00:00 America/Los_Angeles"
 * (seconds only when not zero are still shown; the zone's name, not the
 * session's TimeZone, says where).
 */
char *
sb_local_str(TimestampTz t, pg_tz *tz, const char *zone_name)
{
	struct pg_tm tm;
	fsec_t		fsec;
	int			tzoff;

	if (TIMESTAMP_NOT_FINITE(t) || timestamp2tm(t, &tzoff, &tm, &fsec, NULL, tz) != 0)
		return pstrdup(timestamptz_to_str(t));
	return psprintf("%04d-%02d-%02d %02d:%02d:%02d %s", tm.tm_year, tm.tm_mon, tm.tm_mday,
					tm.tm_hour, tm.tm_min, tm.tm_sec, zone_name);
}

/* The local calendar date of moment t in zone tz. */
DateADT
sb_local_date(TimestampTz t, pg_tz *tz)
{
	struct pg_tm tm;
	fsec_t		fsec;
	int			tzoff;

	if (TIMESTAMP_NOT_FINITE(t) ||
		timestamp2tm(t, &tzoff, &tm, &fsec, NULL, tz) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range for a calendar day"),
				 errhint("Use a finite moment.")));
	return date2j(tm.tm_year, tm.tm_mon, tm.tm_mday) - POSTGRES_EPOCH_JDATE;
}

/* UTC offset (seconds west, PostgreSQL's convention) in force at moment t. */
static int
offset_at(TimestampTz t, pg_tz *tz)
{
	struct pg_tm tm;
	fsec_t		fsec;
	int			tzoff = 0;

	if (timestamp2tm(t, &tzoff, &tm, &fsec, NULL, tz) != 0)
		return 0;
	return tzoff;
}

/*
 * The first instant of local day d in zone tz. Local midnight may not exist
 * (a DST gap at midnight) or may exist twice (an overlap): take the
 * earliest instant whose local date is d, trying the offsets in force a day
 * before and a day after, which between them cover any transition.
 */
TimestampTz
sb_local_midnight(DateADT d, pg_tz *tz)
{
	struct pg_tm tm;
	Timestamp	local;
	TimestampTz best;
	int			tzoff;
	int			offs[2];
	int			i;

	memset(&tm, 0, sizeof(tm));
	j2date(d + POSTGRES_EPOCH_JDATE, &tm.tm_year, &tm.tm_mon, &tm.tm_mday);
	tzoff = DetermineTimeZoneOffset(&tm, tz);
	if (tm2timestamp(&tm, 0, &tzoff, &best) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("date out of range for a calendar day"),
				 errhint("Use a date between 4713 BC and 294276 AD.")));

	/* midnight read as UTC; an offset of tzoff seconds west is added */
	local = best - (TimestampTz) tzoff * USECS_PER_SEC;
	offs[0] = offset_at(best - USECS_PER_DAY, tz);
	offs[1] = offset_at(best + USECS_PER_DAY, tz);
	for (i = 0; i < 2; i++)
	{
		TimestampTz cand = local + (TimestampTz) offs[i] * USECS_PER_SEC;

		if (cand < best && sb_local_date(cand, tz) == d)
			best = cand;
	}
	return best;
}

/*
 * The due moment of an all-day activity on local day d: the last
 * microsecond of the day. It is "due today" all day and overdue from the
 * first instant of the next day.
 */
TimestampTz
sb_end_of_day(DateADT d, pg_tz *tz)
{
	return sb_local_midnight(d + 1, tz) - 1;
}

/* d plus a number of calendar months, clamped to the month's last day. */
DateADT
sb_date_add_months(DateADT d, int months)
{
	int			y,
				m,
				day,
				mi;

	j2date(d + POSTGRES_EPOCH_JDATE, &y, &m, &day);
	mi = (y * 12 + (m - 1)) + months;
	y = mi / 12;
	m = mi % 12 + 1;
	if (day > day_tab[isleap(y)][m - 1])
		day = day_tab[isleap(y)][m - 1];
	return date2j(y, m, day) - POSTGRES_EPOCH_JDATE;
}

/* salesboard.is_time_zone(text): the CHECK on employee.time_zone. */
Datum
sb_is_time_zone(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));

	PG_RETURN_BOOL(sb_is_iana_zone(name));
}

static pg_tz *
zone_arg(FunctionCallInfo fcinfo, int argno)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(argno));

	if (!sb_is_iana_zone(name))
		ereport(ERROR,
				(errcode(ERRCODE_SB_TIME_ZONE),
				 errmsg("time zone \"%s\" is not an IANA time-zone name", name),
				 errhint("Use an IANA time-zone name such as Europe/Moscow; salesboard.is_time_zone() tells which names are accepted (not Factory, posix/... or right/...).")));
	return sb_tz_lookup(name);
}

/* salesboard.end_of_day(date, time_zone text) -> timestamptz */
Datum
sb_end_of_day_sql(PG_FUNCTION_ARGS)
{
	DateADT		d = PG_GETARG_DATEADT(0);

	if (DATE_NOT_FINITE(d))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("date must be finite"),
				 errhint("Pass a calendar date, not infinity.")));
	PG_RETURN_TIMESTAMPTZ(sb_end_of_day(d, zone_arg(fcinfo, 1)));
}

/* salesboard.local_date(timestamptz, time_zone text) -> date */
Datum
sb_local_date_sql(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATEADT(sb_local_date(PG_GETARG_TIMESTAMPTZ(0), zone_arg(fcinfo, 1)));
}
