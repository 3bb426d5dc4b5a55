/* What to do after one delivery attempt: done, retry after a wait, give
 * up, or stop using the channel. Pure; the notifier applies it. */
#ifndef LL_NOTIFY_POLICY_H
#define LL_NOTIFY_POLICY_H

#include <stdint.h>

typedef enum ll_verdict {
    LL_VERDICT_OK = 0,   /* 2xx */
    LL_VERDICT_RETRY,    /* wait *wait_ms, then again */
    LL_VERDICT_FAIL,     /* give up on this notification */
    LL_VERDICT_GONE      /* 404 from Discord: the webhook was deleted */
} ll_verdict;

typedef struct ll_retry_policy {
    int max_retries;        /* 5xx and network errors: retries after the first try */
    int max_rate_limited;   /* 429 answers honoured before giving up */
    int64_t base_ms;        /* backoff for 5xx and network errors: base * 2^n */
    int64_t max_wait_ms;    /* a longer retry_after gives up instead */
} ll_retry_policy;

/* One attempt's outcome: transport_ok = 0 for a network error or timeout
 * (status ignored). body and retry_after (the header) may be NULL.
 * failures / rate_limited: how many of each came before this one. */
ll_verdict ll_notify_decide(const ll_retry_policy *p, int is_discord, int transport_ok,
                            long status, const char *body, const char *retry_after,
                            int failures, int rate_limited, int64_t *wait_ms);

/* Discord's 429 body {"retry_after": seconds (fractional), ...} or the
 * Retry-After header (seconds, may be fractional), in ms (INT64_MAX for
 * more than that holds); -1 if neither. */
int64_t ll_retry_after_ms(const char *body, const char *header);

#endif
