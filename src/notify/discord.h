/* The JSON body of a Discord webhook call: a username and one rich embed,
 * within every documented limit (title 256, description 4096, 25 fields,
 * field name 256 and value 1024, footer 2048, 6000 in all, username 80),
 * cut at a character boundary with an ellipsis. */
#ifndef LL_NOTIFY_DISCORD_H
#define LL_NOTIFY_DISCORD_H

#include "notify/alert.h"

#define LL_DISCORD_TITLE_MAX 256
#define LL_DISCORD_DESCRIPTION_MAX 4096
#define LL_DISCORD_FIELDS_MAX 25
#define LL_DISCORD_FIELD_NAME_MAX 256
#define LL_DISCORD_FIELD_VALUE_MAX 1024
#define LL_DISCORD_FOOTER_MAX 2048
#define LL_DISCORD_TOTAL_MAX 6000
#define LL_DISCORD_USERNAME_MAX 80

/* A heap JSON string (free()), or NULL on OOM. username NULL: "lifeline". */
char *ll_discord_payload(const ll_alert *alert, const char *username);

/* The webhook id of a https://.../webhooks/{id}/{token} URL, for logs: the
 * token never appears. Writes "?" when there is none. */
void ll_discord_webhook_id(const char *url, char *out, size_t n);

#endif
