/* Failures: what the transport saw, as facts (a kind, the HTTP status of a
 * refused upgrade, the server's Retry-After, an errno), and the core's
 * judgement of them: the lifeline_error, permanent (no retry: the error
 * state) or transient, and the wait the server asked for. Pure: the
 * transport reports, the core decides (ll_core_handle() judges an event's
 * facts before it acts on it). */
#ifndef LL_CORE_FAILURE_H
#define LL_CORE_FAILURE_H

#include <stdint.h>

typedef enum ll_failure_kind {
    LL_FAIL_NONE = 0,     /* no facts: the event's error etc. stand as given */
    LL_FAIL_DNS,          /* the host name did not resolve (getaddrinfo) */
    LL_FAIL_REFUSED,      /* no TCP connection to any address */
    LL_FAIL_TIMEOUT,      /* the transport's own timer ran out */
    LL_FAIL_TLS_VERIFY,   /* the server's certificate was refused */
    LL_FAIL_TLS_OTHER,    /* the TLS handshake failed otherwise */
    LL_FAIL_TLS_SETUP,    /* our TLS could not be set up (the CA file) */
    LL_FAIL_SETUP,        /* the connection could not be set up (a proxy) */
    LL_FAIL_GAVE_UP,      /* the library gave up without saying why */
    LL_FAIL_HTTP_STATUS,  /* the upgrade was answered http_status */
    LL_FAIL_PROTOCOL,     /* the answer broke the protocol (our checks) */
    LL_FAIL_SUBPROTOCOL,  /* a 101 without the subprotocol that must be
                             selected (lifeline.v1) */
    LL_FAIL_RESET,        /* lost, or anything else */
    LL_FAIL_COUNT
} ll_failure_kind;

typedef struct ll_failure {
    ll_failure_kind kind;
    int http_status;          /* LL_FAIL_HTTP_STATUS: the status */
    int64_t retry_after_ms;   /* the Retry-After header, parsed; 0: none */
    int sys_errno;            /* the errno, where the transport has one; 0 */
} ll_failure;

/* The judgement of f. */
typedef struct ll_failure_verdict {
    int error;                /* lifeline_error */
    int http_status;          /* f's status for LL_FAIL_HTTP_STATUS, else 0 */
    int permanent;            /* no retry */
    int64_t retry_after_ms;   /* the wait asked for: Retry-After on a 429 or
                                 a 503 only */
} ll_failure_verdict;

/* f->kind must not be LL_FAIL_NONE. Rules: a refused certificate, a TLS or
 * connection set-up that failed, every 3xx (a WebSocket client does not
 * follow redirects, RFC 6455 §4.1), every 4xx but 408, 425 and 429, and
 * a server that does not speak lifeline.v1 are permanent; the rest (DNS, refused, timeouts, other TLS failures, 5xx,
 * protocol faults, resets) are transient. */
ll_failure_verdict ll_failure_judge(const ll_failure *f);

/* The kind's name ("dns", "tls_verify", ...), "?" for none of them. */
const char *ll_failure_kind_name(int kind);

#endif
