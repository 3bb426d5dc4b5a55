/* The notifier: delivers notifications over HTTP (libcurl) on its own
 * worker thread, so that a slow or dead webhook never delays a connection
 * loop. Bounded: a small queue, connect and total timeouts per attempt, a
 * bounded retry policy, and a shutdown that waits at most a given time.
 * Used by the client (Discord) and by lifeline-server (Discord, SendGrid).
 *
 * Process-wide set-up: the first notifier calls curl_global_init() once
 * (pthread_once); it is never undone, as libcurl recommends for libraries. */
#ifndef LL_NOTIFY_NOTIFIER_H
#define LL_NOTIFY_NOTIFIER_H

#include <stddef.h>
#include <stdint.h>

#include "notify/policy.h"

typedef enum ll_channel {
    LL_CHANNEL_DISCORD = 0,
    LL_CHANNEL_SENDGRID = 1,
} ll_channel;

const char *ll_channel_name(int channel);

typedef struct ll_notify_result {
    int channel;          /* ll_channel */
    int kind;             /* the caller's tag (ll_alert_kind) */
    int ok;               /* delivered (2xx) */
    long http_status;     /* last status, 0 if none */
    int attempts;
    int gone;             /* Discord answered 404: the channel is off now */
    const char *detail;   /* one line, never a secret */
} ll_notify_result;

typedef void (*ll_notify_done_fn)(void *ud, const ll_notify_result *r);
typedef void (*ll_notify_log_fn)(void *ud, int level, const char *line);

typedef struct ll_notifier_opts {
    long connect_timeout_ms;   /* default 5000 */
    long total_timeout_ms;     /* default 10000, one attempt */
    size_t queue_max;          /* default 16 pending */
    ll_retry_policy retry;     /* default 3 retries from 1 s, 5 rate limits, 60 s */
    ll_notify_done_fn done;    /* on the worker thread */
    ll_notify_log_fn log;      /* on the worker thread, already redacted */
    void *ud;
} ll_notifier_opts;

typedef struct ll_notifier ll_notifier;

void ll_notifier_opts_init(ll_notifier_opts *o);

/* Start the worker. Returns LIFELINE_OK, LIFELINE_ERR_NO_MEMORY or
 * LIFELINE_ERR_SYSTEM. */
int ll_notifier_new(const ll_notifier_opts *o, ll_notifier **out);

/* Queue one POST of body (taken: freed by the notifier in every case) to
 * url with Content-Type: application/json and, if bearer is not NULL,
 * Authorization: Bearer <bearer>. Returns LIFELINE_OK,
 * LIFELINE_ERR_QUEUE_FULL, LIFELINE_ERR_STOPPED, or
 * LIFELINE_ERR_NOTIFY_GONE when Discord said the webhook is gone.
 * Threads: any. */
int ll_notifier_post(ll_notifier *n, int channel, int kind, const char *url,
                     const char *bearer, char *body);

/* Stop: deliver what is queued for at most wait_ms, then abort what is left
 * (each reported as failed) and join the worker. NULL is a no-op. */
void ll_notifier_free(ll_notifier *n, int wait_ms);

#endif
