/*
 * texts.c: blank text, length limits, short quotations (foundation layer).
 *
 * Blank: empty, or made only of Unicode White_Space characters (U+0009 to
 * U+000D, U+0020, U+0085, U+00A0, U+1680, U+2000 to U+200A, U+2028,
 * U+2029, U+202F, U+205F, U+3000) and invisible format characters (U+00AD,
 * U+180E, U+200B to U+200F, U+202A to U+202E, U+2060 to U+2064, U+2066 to
 * U+206F, U+FEFF). A title of no-break spaces or zero-width spaces is as
 * empty to a reader as no title. In a database whose encoding is not UTF-8
 * only the ASCII white space counts.
 */
#include "postgres.h"

#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

#include "errcodes.h"
#include "texts.h"

PG_FUNCTION_INFO_V1(sb_is_blank);

static bool
invisible(pg_wchar c)
{
	return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 ||
		c == 0xAD || c == 0x1680 || c == 0x180E ||
		(c >= 0x2000 && c <= 0x200F) || c == 0x2028 || c == 0x2029 ||
		(c >= 0x202A && c <= 0x202F) || c == 0x205F ||
		(c >= 0x2060 && c <= 0x2064) || (c >= 0x2066 && c <= 0x206F) ||
		c == 0x3000 || c == 0xFEFF;
}

bool
sb_blank(const char *s)
{
	bool		utf8 = GetDatabaseEncoding() == PG_UTF8;

	if (s == NULL)
		return true;
	while (*s)
	{
		if (utf8)
		{
			int			len = pg_utf_mblen((const unsigned char *) s);

			if (!invisible(utf8_to_unicode((const unsigned char *) s)))
				return false;
			s += len;
		}
		else
		{
			if (!isspace((unsigned char) *s))
				return false;
			s++;
		}
	}
	return true;
}

/* SB025 when s is longer than max characters. */
void
sb_check_length(const char *what, const char *s, int max)
{
	int			n;

	if (s == NULL)
		return;
	n = pg_mbstrlen(s);
	if (n > max)
		ereport(ERROR,
				(errcode(ERRCODE_SB_BAD_VALUE),
				 errmsg("%s is %d characters long; at most %d are allowed", what, n, max),
				 errhint("Shorten the %s.", what)));
}

/* s for a message: at most 60 characters, "..." marking a cut. */
char *
sb_quote_short(const char *s)
{
	int			len;

	if (s == NULL)
		return pstrdup("(null)");
	len = pg_mbcliplen(s, strlen(s), 240);
	if (pg_mbstrlen_with_len(s, len) > 60)
		len = pg_mbcharcliplen(s, len, 60);
	if (s[len] == '\0')
		return pstrdup(s);
	return psprintf("%.*s...", len, s);
}

/* salesboard.is_blank(text) -> boolean: the tables' CHECK constraints use it */
Datum
sb_is_blank(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(sb_blank(text_to_cstring(PG_GETARG_TEXT_PP(0))));
}
