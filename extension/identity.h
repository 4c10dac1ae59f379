/*
 * identity.h: who the session acts as and what it may see (services
 * layer): current_employee(), set_employee(), the visibility rule behind
 * row-level security and the C functions alike, the `at` rule, the
 * provenance of new rows (doc/reference.md, "Security model").
 */
#ifndef SB_IDENTITY_H
#define SB_IDENTITY_H

#include "postgres.h"

#include "access/htup_details.h"
#include "datatype/timestamp.h"
#include "fmgr.h"

#include "rows.h"

extern int64 sb_current_employee(void);
extern bool sb_is_admin(void);
extern bool sb_is_reader(void);
extern int64 sb_require_employee(void);
extern bool sb_may_backdate(void);
extern bool sb_can_access_owner(int64 owner_id);
extern void sb_check_at(TimestampTz at);
extern int64 sb_server_id(HeapTuple t, TupleDesc desc, AttrNumber id_att, Oid seq,
						  SbRowEdit *e);
extern void sb_check_provenance(HeapTuple t, TupleDesc desc, AttrNumber at_att,
								AttrNumber by_att, const char *what, int64 id,
								SbRowEdit *e);

/* deals: unknown and invisible ones get the same SB030 */
extern bool sb_deal_owner(int64 id, int64 *owner_id);
extern bool sb_deal_visible(int64 id);
extern void sb_deal_not_found(int64 id) pg_attribute_noreturn();

/* the employee whose board, Inbound column or alerts are asked for (SB022/SB033/SB024) */
extern int64 sb_view_employee_arg(FunctionCallInfo fcinfo, int argno, const char *what);

extern void sb_identity_init(void);

#endif							/* SB_IDENTITY_H */
