/*
 * sender.h: the sender of an inbound request as a comparable key
 * (services layer), so that requests by e-mail, call, messenger or web
 * form are matched to clients (client.email, client.phone_key). The rules
 * are in sender.c and in doc/reference.md, "Sender normalisation".
 */
#ifndef SB_SENDER_H
#define SB_SENDER_H

#include "postgres.h"

/*
 * The key of sender on channel (email, phone, telegram, viber, vk,
 * web_form), palloc'd, never NULL; SB025 for any other channel.
 */
extern char *sb_sender_key(const char *channel, const char *sender);

#endif							/* SB_SENDER_H */
