/*
 * config.h: the backend caches of configuration rows (services layer):
 * stages, employees (with their pg_tz), departments.
 *
 * Loaded on first use; the statement triggers on stage, employee and
 * department send a relcache invalidation, so every backend drops its copy
 * at its next command boundary (an abort undoes a cache built from
 * rolled-back rows the same way). A look-up miss is therefore an answer:
 * the row does not exist as this command sees the data. Entries handed out
 * stay valid until the end of the transaction.
 */
#ifndef SB_CONFIG_H
#define SB_CONFIG_H

#include "postgres.h"

#include "pgtime.h"

#include "catalog.h"

/* one stage */
typedef struct SbStage
{
	int64		id;
	int64		pipeline_id;
	SbStatus	kind;			/* SB_OPEN, SB_WON, SB_LOST */
	int32		position;
	int32		rot_days;		/* 0 when not set */
	double		probability;
	int32		column;			/* board column within its pipeline: open
								 * stages 1..n by position, then Won, Lost */
	char	   *name;
} SbStage;

extern const SbStage *sb_stage(int64 id);
extern const SbStage *sb_stage_or_error(int64 id);
extern const SbStage *sb_terminal_stage(int64 pipeline_id, SbStatus kind);
extern const SbStage **sb_pipeline_stages(int64 pipeline_id, int *n);
extern int64 sb_first_pipeline(void);
extern int64 sb_pipeline_after(int64 after);
extern void sb_require_terminal_stages(int64 pipeline_id);

/* one employee */
typedef struct SbEmployee
{
	int64		id;
	int64		department_id;	/* 0 when none */
	pg_tz	   *tz;
	char	   *time_zone;
	char	   *name;
	bool		active;			/* false: the employee has left */
} SbEmployee;

/* SB040 unless the employee is active; what names the work refused */
extern void sb_require_active(const SbEmployee *emp, const char *what);

extern const SbEmployee *sb_employee(int64 id);
extern int64 sb_employee_by_role(const char *rolname);
extern bool sb_is_head_over(int64 head_id, int64 employee_id);
extern int64 *sb_subtree_employees(int64 head_id, int *n);

/*
 * company.default_currency: the currency of an amount given without one;
 * NULL when the company never set one (it works in one unnamed currency)
 * or the database is not updated to 1.1 yet.
 */
extern const char *sb_default_currency(void);

/*
 * company.default_region: the ISO 3166-1 alpha-2 country of phone numbers
 * written in national form (sender.h); NULL when not set (only numbers in
 * international form are recognised) or the database is not updated yet.
 */
extern const char *sb_default_region(void);
/* read the company row again at its next use */
extern void sb_company_cache_reset(void);

/* the employee cache's generation: bumped whenever it is dropped */
extern uint64 sb_people_generation(void);
extern void sb_people_cache_reset(void);

extern void sb_config_init(void);
extern void sb_config_xact_end(void);

#endif							/* SB_CONFIG_H */
