/*
 * texts.h: what counts as text (foundation): one definition of a blank
 * value, shared by the functions and the tables' CHECK constraints
 * (salesboard.is_blank), the length limits, and short quotations of user
 * text in messages.
 */
#ifndef SB_TEXTS_H
#define SB_TEXTS_H

#include "postgres.h"

/* length limits, in characters (doc/reference.md, "Text") */
#define SB_NAME_MAX		200		/* names of departments, people, clients, stages... */
#define SB_TITLE_MAX	300		/* deal titles, activity subjects */
#define SB_RESULT_MAX	4000	/* results and reasons */

extern bool sb_blank(const char *s);
extern void sb_check_length(const char *what, const char *s, int max);
extern char *sb_quote_short(const char *s);

#endif							/* SB_TEXTS_H */
