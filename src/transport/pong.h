/* The app-level heartbeat's answer, {"type":"pong","ts":N}, picked out of
 * an incoming text message (config app_ping). Pure: no I/O, no client. */
#ifndef LL_TRANSPORT_PONG_H
#define LL_TRANSPORT_PONG_H

#include <stddef.h>

/* Does the len bytes at data look like an app-level pong? That is: 10 to
 * 256 bytes, the first '{', with "pong" (in quotes) somewhere and a "ts"
 * key followed by ':'; nothing else of the JSON is checked. Returns 1 with
 * the number after that ':' in *ts (strtoll: 0 when it is none, clamped
 * when it overflows), else 0. Any thread. */
int ll_app_pong_ts(const void *data, size_t len, long long *ts);

#endif
