/*
 * live.h: the channel of live changes (services layer): NOTIFY on channel
 * "salesboard" and the setting salesboard.live_changes that turns it off
 * (doc/reference.md, "Live changes").
 */
#ifndef SB_LIVE_H
#define SB_LIVE_H

extern void sb_live_init(void);
extern bool sb_live_changes(void);
extern void sb_live_notify(const char *payload);

#endif
