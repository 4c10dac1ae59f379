/*
 * salesboard.c: the module's entry point: PG_MODULE_MAGIC and _PG_init,
 * which reserves the "salesboard" settings prefix and lets each module
 * that needs one register its settings and callbacks.
 *
 * The modules, in layers (calls and includes go only downward;
 * doc/DEVELOPING.md has the map):
 *   foundation  calendar, catalog, spi, rows, calls (+ errcodes.h)
 *   services    config, live, protocol, identity, deals, activities, newdeal,
 *               colour, cards, textgrid
 *   features    transitions, discipline, board, board_text
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/guc.h"

#include "cards.h"
#include "catalog.h"
#include "config.h"
#include "identity.h"
#include "live.h"
#include "protocol.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	sb_cards_init();
	sb_live_init();
	MarkGUCPrefixReserved("salesboard");
	sb_catalog_init();
	sb_config_init();
	sb_protocol_init();
	sb_identity_init();
}
