/*
 * cards.h: the cards of a board, read and laid out (services layer), for
 * board(), deal_list() and board_text(). cards.c says how a board is read.
 */
#ifndef SB_CARDS_H
#define SB_CARDS_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "fmgr.h"

#include "colour.h"
#include "config.h"

typedef enum SbHorizon
{
	SB_H_TODAY, SB_H_3DAYS, SB_H_WEEK, SB_H_MONTH, SB_H_NONE
} SbHorizon;

typedef struct SbBoardArgs
{
	int64		employee_id;
	SbHorizon	horizon;
	bool		overdue_last;
	bool		by_client;
	int64		client_id;
	bool		by_service_type;
	int64		service_type_id;
	int64	   *tag_ids;
	int			ntags;
	bool		subordinates;
	TimestampTz at;
	int			closed_days;
	bool		list_mode;
	/* deal_list() paging: at most page_size cards (0: all) after a keyset */
	int			page_size;
	bool		has_after;		/* start after (after_due, after_id) */
	TimestampTz after_due;
	int64		after_id;
} SbBoardArgs;

/* the largest page_size deal_list() accepts */
#define SB_PAGE_SIZE_MAX 10000

typedef struct SbCard
{
	int64		deal_id;
	int64		owner_id;
	int64		client_id;
	int64		service_type_id;
	bool		has_client;
	bool		has_service_type;
	int64		next_activity_id;
	const SbStage *st;
	char	   *title;
	bool		amount_null;
	Datum		amount;
	bool		currency_null;
	Datum		currency;
	bool		has_next;
	TimestampTz next_due;
	bool		priority;
	bool		closed;
	TimestampTz closed_at;
	SbColour	colour;
	int			seq;			/* position in due order (or closed order) */
	bool		late;			/* overdue, for overdue_last */
} SbCard;

typedef struct SbCardList
{
	SbCard	   *cards;
	int			n;
	int			max;
} SbCardList;

/* salesboard.closed_days: how many local days Won/Lost columns look back */
extern int	sb_closed_days;
#define SB_CLOSED_DAYS_MAX 3660	/* the setting's and the parameter's limit */

/*
 * The arguments of board() (list_mode false) and deal_list() (true), which
 * share their order but for horizon and overdue_last (deal_list() adds
 * page_size, after_next_due, after_deal_id at the end); board_text() takes
 * board()'s.
 */
extern void sb_board_args(FunctionCallInfo fcinfo, SbBoardArgs *a, bool list_mode);
extern SbCardList sb_build_board(const SbBoardArgs *a, int64 **owners_out, int *nowners_out);
extern const char *sb_horizon_name(SbHorizon h);

extern void sb_cards_init(void);

#endif							/* SB_CARDS_H */
