/*
 * cardinfo.h: what a card shows beyond the deal row (services layer): the
 * names of its client and service type, its next activity's subject, kind
 * and all-day date, and its tags. For board() and board_json().
 */
#ifndef SB_CARDINFO_H
#define SB_CARDINFO_H

#include "postgres.h"

#include "utils/date.h"
#include "utils/hsearch.h"
#include "utils/relcache.h"

#include "cards.h"
#include "rows.h"

typedef struct SbCardInfoReader
{
	Relation	client,
				service_type,
				activity,
				tag,
				deal_tag;
	SbProbe		clients_by_id,
				services_by_id,
				activities_by_id,
				tags_by_id,
				tags_by_deal;
	HTAB	   *clients;
	HTAB	   *services;
	HTAB	   *tags;
	bool		services_complete;	/* read whole: a miss means no row */
	bool		tags_complete;
	int64	   *tag_ids;		/* one deal's tag ids; room for max_tag_ids */
	int			max_tag_ids;
} SbCardInfoReader;

typedef struct SbCardInfo
{
	char	   *client;			/* NULL: none */
	char	   *service_type;	/* NULL: none */
	char	   *next_subject;	/* NULL: no next activity */
	char	   *next_kind;		/* NULL: no next activity */
	bool		next_all_day;
	bool		has_due_date;	/* an all-day next activity: its local date */
	DateADT		next_due_date;
	char	  **tags;			/* names, sorted (byte order) */
	int			ntags;
} SbCardInfo;

extern void sb_cardinfo_open(SbCardInfoReader *r);
extern void sb_cardinfo_read(SbCardInfoReader *r, const SbCard *c, SbCardInfo *out);
extern void sb_cardinfo_close(SbCardInfoReader *r);

/* a pipeline's name; the pipelines of a board in order (-1: no more) */
extern char *sb_pipeline_name(int64 id);
extern int64 sb_next_pipeline(const SbCardList *cards, int64 after);

#endif
