/*
 * errcodes.h: salesboard's SQLSTATEs, class SB, in one place.
 *
 * Numbering plan (doc/DEVELOPING.md, "An error code"):
 *   SB000-SB099  core: SB000-SB029 rules of deals, activities, discipline,
 *                board, identity; SB030-SB039 unknown or invisible
 *                objects; SB040-SB099 later core rules
 *   SB100-SB199  inbound dispatch
 *   SB200-SB299  the sales funnel
 *   SB300-SB399  overdue checks
 *   SB400-...    the next feature takes the next free hundred
 * A code, once released, keeps its number and meaning. Every code here has
 * a row in doc/reference.md's "Error codes" table and at least one test
 * that expects it; the static suite of `make test` checks both.
 */
#ifndef SB_ERRCODES_H
#define SB_ERRCODES_H

#include "utils/elog.h"

#define SB_ERRCODE(c3, c4, c5)	MAKE_SQLSTATE('S', 'B', c3, c4, c5)

/* core rules */
#define ERRCODE_SB_NO_PLANNED_ACTIVITY	SB_ERRCODE('0', '0', '1')	/* SB001 */
#define ERRCODE_SB_RAW_STAGE_CHANGE		SB_ERRCODE('0', '0', '2')	/* SB002 */
#define ERRCODE_SB_OTHER_PIPELINE		SB_ERRCODE('0', '0', '3')	/* SB003 */
#define ERRCODE_SB_DEAL_CLOSED			SB_ERRCODE('0', '0', '4')	/* SB004 */
#define ERRCODE_SB_DEAL_NOT_CLOSED		SB_ERRCODE('0', '0', '5')	/* SB005 */
#define ERRCODE_SB_RESULT_REQUIRED		SB_ERRCODE('0', '0', '6')	/* SB006 */
#define ERRCODE_SB_DUE_IN_PAST			SB_ERRCODE('0', '0', '7')	/* SB007 */
#define ERRCODE_SB_LOST_REASON			SB_ERRCODE('0', '0', '8')	/* SB008 */
#define ERRCODE_SB_ACTIVITY_NOT_PLANNED	SB_ERRCODE('0', '0', '9')	/* SB009 */
#define ERRCODE_SB_STAGE_KIND			SB_ERRCODE('0', '1', '0')	/* SB010 */
#define ERRCODE_SB_SAME_STAGE			SB_ERRCODE('0', '1', '1')	/* SB011 */
#define ERRCODE_SB_REQUEST_REUSED		SB_ERRCODE('0', '1', '2')	/* SB012 */
#define ERRCODE_SB_BACKDATING			SB_ERRCODE('0', '1', '3')	/* SB013 */
#define ERRCODE_SB_DERIVED_COLUMN		SB_ERRCODE('0', '1', '4')	/* SB014 */
#define ERRCODE_SB_PLANNED_ON_CLOSED	SB_ERRCODE('0', '1', '5')	/* SB015 */
#define ERRCODE_SB_ACTIVITY_FINAL		SB_ERRCODE('0', '1', '6')	/* SB016 */
#define ERRCODE_SB_TIME_ZONE			SB_ERRCODE('0', '1', '7')	/* SB017 */
#define ERRCODE_SB_DEPARTMENT_CYCLE		SB_ERRCODE('0', '1', '8')	/* SB018 */
#define ERRCODE_SB_BAD_HORIZON			SB_ERRCODE('0', '1', '9')	/* SB019 */
#define ERRCODE_SB_UNKNOWN_TAG			SB_ERRCODE('0', '2', '0')	/* SB020 */
#define ERRCODE_SB_NOT_APP				SB_ERRCODE('0', '2', '1')	/* SB021 */
#define ERRCODE_SB_NO_EMPLOYEE			SB_ERRCODE('0', '2', '2')	/* SB022 */
#define ERRCODE_SB_PIPELINE_TERMINAL	SB_ERRCODE('0', '2', '3')	/* SB023 */
#define ERRCODE_SB_ACCESS				SB_ERRCODE('0', '2', '4')	/* SB024 */
#define ERRCODE_SB_BAD_VALUE			SB_ERRCODE('0', '2', '5')	/* SB025 */
#define ERRCODE_SB_OUT_OF_ORDER			SB_ERRCODE('0', '2', '6')	/* SB026 */
#define ERRCODE_SB_STAGE_CHANGED		SB_ERRCODE('0', '2', '7')	/* SB027 */

/* core: unknown or invisible objects (ids reveal nothing) */
#define ERRCODE_SB_UNKNOWN_DEAL			SB_ERRCODE('0', '3', '0')	/* SB030 */
#define ERRCODE_SB_UNKNOWN_STAGE		SB_ERRCODE('0', '3', '1')	/* SB031 */
#define ERRCODE_SB_UNKNOWN_ACTIVITY		SB_ERRCODE('0', '3', '2')	/* SB032 */
#define ERRCODE_SB_UNKNOWN_EMPLOYEE		SB_ERRCODE('0', '3', '3')	/* SB033 */
#define ERRCODE_SB_UNKNOWN_LOST_REASON	SB_ERRCODE('0', '3', '4')	/* SB034 */
#define ERRCODE_SB_UNKNOWN_CLIENT		SB_ERRCODE('0', '3', '5')	/* SB035 */
#define ERRCODE_SB_UNKNOWN_SERVICE_TYPE	SB_ERRCODE('0', '3', '6')	/* SB036 */
#define ERRCODE_SB_UNKNOWN_ROLE			SB_ERRCODE('0', '3', '7')	/* SB037 */

/* core: later rules */
#define ERRCODE_SB_EMPLOYEE_LEFT		SB_ERRCODE('0', '4', '0')	/* SB040 */
#define ERRCODE_SB_LOST_REASON_INACTIVE	SB_ERRCODE('0', '4', '1')	/* SB041 */
#define ERRCODE_SB_EMPLOYEE_HAS_WORK	SB_ERRCODE('0', '4', '2')	/* SB042 */
#define ERRCODE_SB_STAGE_IN_USE			SB_ERRCODE('0', '4', '3')	/* SB043 */

/* inbound dispatch: SB100-SB199 */
#define ERRCODE_SB_UNKNOWN_INBOUND		SB_ERRCODE('1', '0', '0')	/* SB100 */
#define ERRCODE_SB_UNKNOWN_SOURCE		SB_ERRCODE('1', '0', '1')	/* SB101 */
#define ERRCODE_SB_INBOUND_HANDLED		SB_ERRCODE('1', '0', '2')	/* SB102 */
#define ERRCODE_SB_LINK_CLOSED_DEAL		SB_ERRCODE('1', '0', '3')	/* SB103 */
#define ERRCODE_SB_RECEIVED_FUTURE		SB_ERRCODE('1', '0', '4')	/* SB104 */
#define ERRCODE_SB_INBOUND_DEAL			SB_ERRCODE('1', '0', '5')	/* SB105 */
#define ERRCODE_SB_INBOUND_SOURCE_FIELDS	SB_ERRCODE('1', '0', '6')	/* SB106 */
#define ERRCODE_SB_UNKNOWN_REGION		SB_ERRCODE('1', '0', '7')	/* SB107 */
/* the sales funnel: SB200-SB299 */
#define ERRCODE_SB_FUNNEL_MODE			SB_ERRCODE('2', '0', '0')	/* SB200 */
#define ERRCODE_SB_FUNNEL_PERIOD		SB_ERRCODE('2', '0', '1')	/* SB201 */
#define ERRCODE_SB_UNKNOWN_PIPELINE		SB_ERRCODE('2', '0', '2')	/* SB202 */
#define ERRCODE_SB_MISSING_RATE			SB_ERRCODE('2', '0', '3')	/* SB203 */
#define ERRCODE_SB_BAD_CURRENCY			SB_ERRCODE('2', '0', '4')	/* SB204 */
#define ERRCODE_SB_SEVERAL_CURRENCIES	SB_ERRCODE('2', '0', '5')	/* SB205 */
/* overdue checks: SB300-SB399 */
#define ERRCODE_SB_UNKNOWN_ALERT		SB_ERRCODE('3', '0', '0')	/* SB300 */
#define ERRCODE_SB_NO_PG_CRON			SB_ERRCODE('3', '0', '1')	/* SB301 */
#define ERRCODE_SB_CRON_ELSEWHERE		SB_ERRCODE('3', '0', '2')	/* SB302 */
#define ERRCODE_SB_CHECK_AHEAD			SB_ERRCODE('3', '0', '3')	/* SB303 */

#endif							/* SB_ERRCODES_H */
