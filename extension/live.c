/*
 * live.c: the channel of live changes (services layer). Every feature that
 * announces a change (cards in notify.c, inbound requests, alerts) queues
 * its payload here, on channel "salesboard", delivered by PostgreSQL at
 * commit (doc/reference.md, "Live changes").
 *
 * The setting salesboard.live_changes (on by default) turns the channel
 * off. A DBA sets it for a database or a role whose writers nobody listens
 * to: PostgreSQL serializes the commits of every transaction that has
 * queued a notification, database-wide (PreCommit_Notify takes one lock,
 * held until after the commit record is written), so concurrent writers
 * that notify commit one at a time. bench/README.md has the figures.
 * Superuser-only (PGC_SUSET) because it decides what other sessions hear;
 * GRANT SET ON PARAMETER hands it to a role.
 */
#include "postgres.h"

#include "commands/async.h"
#include "utils/guc.h"

#include "live.h"
#include "rows.h"

static bool live_changes = true;

void
sb_live_init(void)
{
	DefineCustomBoolVariable("salesboard.live_changes",
							 "Announce changes of deals, inbound requests and alerts on channel \"salesboard\".",
							 "When off, this session's changes send no NOTIFY: writers then commit "
							 "concurrently, and listeners must poll.",
							 &live_changes,
							 true,
							 PGC_SUSET, 0,
							 NULL, NULL, NULL);
}

/* Whether changes are announced: callers skip building a payload when not. */
bool
sb_live_changes(void)
{
	return live_changes;
}

/* Appends ,"name":[id,...] to a payload being built. */
void
sb_live_append_ids(StringInfo buf, const char *name, const int64 *ids, int n)
{
	int			i;

	appendStringInfo(buf, ",\"%s\":[", name);
	for (i = 0; i < n; i++)
		appendStringInfo(buf, "%s" INT64_FORMAT, i ? "," : "", ids[i]);
	appendStringInfoChar(buf, ']');
}

/* Queues one notification on channel "salesboard", if changes are announced. */
void
sb_live_notify(const char *payload)
{
	if (live_changes)
		Async_Notify("salesboard", payload);
}

/* Appends without looking back: a bulk statement stays O(n log n). */
void
sb_idset_add(SbIdSet *s, int64 id)
{
	if (s->n == s->max)
	{
		s->max = Max(16, s->max * 2);
		s->ids = s->ids ? repalloc(s->ids, sizeof(int64) * s->max) : palloc(sizeof(int64) * s->max);
	}
	s->ids[s->n++] = id;
}

/* Sorts and drops repeats: the set a payload lists or counts. */
void
sb_idset_finish(SbIdSet *s)
{
	s->n = sb_sort_unique_int64(s->ids, s->n);
}
