/* Fault injection for client tests: the modes, the admin request body that
 * selects one, and the state with its expiry. Time is a parameter. */
#ifndef SRV_FAULT_H
#define SRV_FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum srv_fault_mode {
    SRV_FAULT_NONE = 0,
    SRV_FAULT_BLACKHOLE,         /* stop reading, writing and answering pings */
    SRV_FAULT_REFUSE,            /* new upgrades get 503 + Retry-After */
    SRV_FAULT_REJECT_401,        /* new upgrades get 401 */
    SRV_FAULT_ACCEPT_THEN_CLOSE, /* new connections are upgraded, then closed */
    SRV_FAULT_CLOSE_ALL,         /* one-shot: close every connection with 1001 */
    SRV_FAULT_DELAY_PONGS,       /* hold pongs and replies back delay_ms */
    SRV_FAULT_MODE_COUNT
} srv_fault_mode;

/* A parsed POST /api/v1/admin/fault body. */
typedef struct srv_fault_request {
    srv_fault_mode mode;
    int64_t duration_ms;   /* 0: until the next call */
    int64_t delay_ms;      /* delay_pongs only */
    int64_t retry_after_s; /* refuse only; 0: derived from the duration */
} srv_fault_request;

/* The mode in force. */
typedef struct srv_fault_state {
    srv_fault_mode mode;
    int64_t since_ms;
    int64_t until_ms; /* 0: no end */
    int64_t delay_ms;
    int64_t retry_after_s;
} srv_fault_state;

/* "none", "blackhole", "refuse", "reject_401", "accept_then_close",
 * "close_all", "delay_pongs". */
const char *srv_fault_mode_name(srv_fault_mode m);

/* Looks a name up; returns 0 or -1. */
int srv_fault_mode_from_name(const char *name, srv_fault_mode *m);

/* Parses {"mode":M,"duration_ms":N,"delay_ms":N,"retry_after_s":N}. mode
 * is required; delay_ms is required (1..600000) for delay_pongs;
 * duration_ms (1..86400000) and retry_after_s (1..86400) are optional.
 * Returns 0, or -1 with a message in err. */
int srv_fault_parse(const char *body, size_t len, srv_fault_request *req, char *err, size_t errlen);

/* Makes req the mode in force from now. close_all leaves NONE in force:
 * the caller closes the connections. */
void srv_fault_apply(srv_fault_state *st, const srv_fault_request *req, int64_t now);

/* Ends a mode whose duration has run out. Returns true when it just ended
 * (the previous mode is in *ended). */
bool srv_fault_expire(srv_fault_state *st, int64_t now, srv_fault_mode *ended);

/* The Retry-After value for refuse: retry_after_s when given, else the
 * seconds left of the duration rounded up, else 1. */
int64_t srv_fault_retry_after_s(const srv_fault_state *st, int64_t now);

#endif
