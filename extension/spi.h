/*
 * spi.h: the SPI runner (foundation). Every statement salesboard runs as
 * the extension owner goes through sb_exec() or sb_exec_once(): parsed,
 * planned and executed with the search_path pinned to SB_SAFE_SEARCH_PATH
 * (doc/reference.md, "Security model").
 */
#ifndef SB_SPI_H
#define SB_SPI_H

#include "postgres.h"

/*
 * The search_path every statement the extension runs as its owner is
 * parsed, planned and executed with.
 */
#define SB_SAFE_SEARCH_PATH "pg_catalog, pg_temp"

/* A statement prepared once per backend and kept (a generic plan). */
typedef struct SbQuery
{
	const char *sql;
	int			nargs;
	Oid			argtypes[20];
	void	   *plan;			/* SPIPlanPtr, kept */
} SbQuery;

/* The caller has SPI_connect()ed; both return the SPI result code. */
extern int	sb_exec(SbQuery *q, Datum *values, const char *nulls, bool read_only, long count);
extern int	sb_exec_once(const char *sql, bool read_only);

/*
 * A cursor on a statement (a long read, one pass, not all rows in memory):
 * planned for the call's values, opened and fetched from inside an owner
 * scope each time, closed
 * by sb_cursor_close() or the end of the transaction. sb_cursor_fetch()
 * returns how many rows it put in SPI_tuptable (0: the end).
 */
extern void *sb_cursor_open(SbQuery *q, Datum *values, const char *nulls);
extern uint64 sb_cursor_fetch(void *cursor, long count);
extern void sb_cursor_close(void *cursor);

/*
 * A one-off statement run as the session's own user (for what must carry
 * the caller's rights, such as a pg_cron job), still with the search_path
 * pinned to SB_SAFE_SEARCH_PATH and written fully qualified.
 */
extern int	sb_exec_as_caller(const char *sql, int nargs, Oid *argtypes, Datum *values,
							  const char *nulls, bool read_only);

/* Column col (1-based) of result row `row` of the last statement. */
extern int64 sb_spi_int8(uint64 row, int col, bool *isnull);
extern int32 sb_spi_int4(uint64 row, int col);
extern double sb_spi_float8(uint64 row, int col);
extern char *sb_spi_text(uint64 row, int col, MemoryContext cxt);

#endif							/* SB_SPI_H */
