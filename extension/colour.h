/*
 * colour.h: the colour of a card (services layer): red when a planned
 * activity is overdue, yellow when one falls due before the owner's next
 * local midnight, green otherwise (doc/reference.md, "The board").
 */
#ifndef SB_COLOUR_H
#define SB_COLOUR_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "pgtime.h"

typedef enum SbColour
{
	SB_GREEN = 'g',
	SB_YELLOW = 'y',
	SB_RED = 'r'
} SbColour;

extern TimestampTz sb_tomorrow_start(pg_tz *tz, TimestampTz at);
extern SbColour sb_colour(bool has_next, TimestampTz next_due, pg_tz *tz, TimestampTz at);
extern const char *sb_colour_name(SbColour c);

#endif							/* SB_COLOUR_H */
