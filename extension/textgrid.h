/*
 * textgrid.h: text drawn as side-by-side columns for psql (services layer):
 * each column a title and lines, each cell cut or padded to a width in
 * display columns (multibyte and wide characters count as they show).
 */
#ifndef SB_TEXTGRID_H
#define SB_TEXTGRID_H

#include "postgres.h"

#include "lib/stringinfo.h"

typedef struct SbTextColumn
{
	const char *title;
	StringInfoData *lines;
	int			n;
	int			max;
} SbTextColumn;

typedef struct SbTextGrid
{
	SbTextColumn *cols;
	int			ncols;
	int			width;			/* of every column, in display columns */
} SbTextGrid;

extern void sb_grid_init(SbTextGrid *g, int ncols, int width);
extern void sb_grid_add(SbTextGrid *g, int col, const char *line);
extern void sb_grid_draw(const SbTextGrid *g, int first_col, StringInfo out);
extern void sb_append_cell(StringInfo buf, const char *s, int width);

#endif							/* SB_TEXTGRID_H */
