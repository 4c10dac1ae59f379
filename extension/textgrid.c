/*
 * textgrid.c: columns of text for psql drawings (services layer).
 *
 * Widths are display columns (pg_dsplen), so Cyrillic, CJK, emoji and
 * combining characters line up; a cut is marked with '~' and never splits a
 * character; control characters are shown as visible symbols.
 */
#include "postgres.h"

#include "mb/pg_wchar.h"

#include "textgrid.h"

void
sb_grid_init(SbTextGrid *g, int ncols, int width)
{
	g->cols = palloc0(sizeof(SbTextColumn) * ncols);
	g->ncols = ncols;
	g->width = width;
}

void
sb_grid_add(SbTextGrid *g, int col, const char *line)
{
	SbTextColumn *c = &g->cols[col];

	if (c->n == c->max)
	{
		c->max = Max(8, c->max * 2);
		c->lines = c->lines == NULL ? palloc(sizeof(StringInfoData) * c->max)
			: repalloc(c->lines, sizeof(StringInfoData) * c->max);
	}
	initStringInfo(&c->lines[c->n]);
	appendStringInfoString(&c->lines[c->n], line);
	c->n++;
}

/*
 * One character of a cell as it is shown: control characters would break
 * the row (a newline) or the terminal, so a line break shows as U+21B5
 * "↵", a tab as a space and any other control character as U+FFFD. Sets
 * *shown and *shown_len to the bytes to print and returns the display
 * width (wide East Asian characters and emoji take two columns, combining
 * marks none).
 */
static int
shown_char(const char *p, const char **shown, int *shown_len)
{
	unsigned char c = (unsigned char) *p;
	int			w;

	if (c == '\n' || c == '\r')
	{
		*shown = "\xe2\x86\xb5";
		*shown_len = 3;
		return 1;
	}
	if (c == '\t')
	{
		*shown = " ";
		*shown_len = 1;
		return 1;
	}
	w = pg_dsplen(p);
	if (c < 0x20 || c == 0x7f || w < 0)
	{
		*shown = "\xef\xbf\xbd";
		*shown_len = 3;
		return 1;
	}
	*shown = p;
	*shown_len = pg_mblen(p);
	return w;
}

/* The display width of s as cells show it. */
static int
shown_width(const char *s)
{
	int			width = 0;
	const char *shown;
	int			len;

	for (; *s; s += pg_mblen(s))
		width += shown_char(s, &shown, &len);
	return width;
}

/*
 * Append s to buf as exactly width display columns: padded with spaces, or,
 * when it is wider, cut after whole characters with "~" as its last column
 * (the result is always valid UTF-8: nothing is cut inside a character).
 */
void
sb_append_cell(StringInfo buf, const char *s, int width)
{
	int			used = 0;
	int			room = shown_width(s) <= width ? width : width - 1;
	const char *p;

	for (p = s; *p; p += pg_mblen(p))
	{
		const char *shown;
		int			len;
		int			w = shown_char(p, &shown, &len);

		if (used + w > room)
			break;
		appendBinaryStringInfo(buf, shown, len);
		used += w;
	}
	if (*p)
	{
		appendStringInfoChar(buf, '~');
		used++;
	}
	for (; used < width; used++)
		appendStringInfoChar(buf, ' ');
}

/* Columns first_col.. : a header "title (n)", a rule, then the rows. */
void
sb_grid_draw(const SbTextGrid *g, int first_col, StringInfo out)
{
	int			c,
				row,
				k,
				maxrows = 0;

	for (c = first_col; c < g->ncols; c++)
	{
		appendStringInfoString(out, c == first_col ? "" : " | ");
		sb_append_cell(out, psprintf("%s (%d)", g->cols[c].title, g->cols[c].n), g->width);
		maxrows = Max(maxrows, g->cols[c].n);
	}
	appendStringInfoChar(out, '\n');
	for (c = first_col; c < g->ncols; c++)
	{
		appendStringInfoString(out, c == first_col ? "" : "-+-");
		for (k = 0; k < g->width; k++)
			appendStringInfoChar(out, '-');
	}
	appendStringInfoChar(out, '\n');
	for (row = 0; row < maxrows; row++)
	{
		for (c = first_col; c < g->ncols; c++)
		{
			appendStringInfoString(out, c == first_col ? "" : " | ");
			sb_append_cell(out, row < g->cols[c].n ? g->cols[c].lines[row].data : "", g->width);
		}
		/* trim trailing blanks */
		while (out->len > 0 && out->data[out->len - 1] == ' ')
			out->data[--out->len] = '\0';
		appendStringInfoChar(out, '\n');
	}
}
