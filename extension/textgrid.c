/*
 * textgrid.c: columns of text for psql drawings (services layer).
 *
 * Widths are display columns (pg_dsplen), so Cyrillic, CJK and combining
 * characters line up; a cut is marked with '~' and never splits a
 * character.
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

/* Append s to buf, cut or padded to exactly width display columns. */
void
sb_append_cell(StringInfo buf, const char *s, int width)
{
	int			used = 0;
	const char *p = s;

	while (*p && used < width)
	{
		int			len = pg_mblen(p);
		int			w = pg_dsplen(p);

		if (used + w > width)
			break;
		appendBinaryStringInfo(buf, p, len);
		used += w;
		p += len;
	}
	if (*p && used > 0)
	{
		/* mark the cut with '~' in the last column */
		buf->len -= 1;
		buf->data[buf->len] = '\0';
		appendStringInfoChar(buf, '~');
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
