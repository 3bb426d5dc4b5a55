/* Per-connection rate limits (--rate-limit): a token bucket for messages
 * and one for bytes, each refilled at its rate and holding burst_ms's
 * worth of it, and the rules for what happens over the limit. Pure: time
 * (monotonic ms) is a parameter; no clock, no I/O, no allocation.
 *
 * Two ways to use it, one per kind of connection:
 *  - srv_rl_take (plain connections): a message over the limit is dropped;
 *    the sender is told at most once a second; a sender over the limit for
 *    close_after_ms without a second's pause is an abuser, to be closed.
 *  - srv_rl_charge (lifeline.v1, where a dropped unit would break the
 *    numbering): every message is taken, the buckets may go into debt, and
 *    the caller stops reading for as long as they need to hold a message
 *    again (flow control). */
#ifndef SRV_RATELIMIT_H
#define SRV_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SRV_RL_DEFAULT_BURST_MS 1000
#define SRV_RL_DEFAULT_CLOSE_AFTER_MS 5000

/* The sender of a dropped message is told at most this often. */
#define SRV_RL_ERROR_EVERY_MS 1000
/* A stretch this long without a drop ends a sender's time over the limit. */
#define SRV_RL_STREAK_GAP_MS 1000

/* The bounds of the options. */
#define SRV_RL_MSGS_MAX 1000000
#define SRV_RL_BYTES_MAX (1LL << 40)
#define SRV_RL_BURST_MS_MAX 60000
#define SRV_RL_CLOSE_AFTER_MS_MAX 3600000

typedef struct srv_rl_cfg {
    int64_t msgs_per_s;     /* 0: no rate limit at all */
    int64_t bytes_per_s;    /* 0: messages only */
    int64_t burst_ms;       /* each bucket holds this long's worth (at least one message) */
    int64_t close_after_ms; /* over the limit this long: an abuser (0: never) */
} srv_rl_cfg;

/* Off, with the default burst and abuse time. */
void srv_rl_cfg_init(srv_rl_cfg *cfg);

/* Whether cfg limits anything. */
bool srv_rl_enabled(const srv_rl_cfg *cfg);

/* One connection's buckets and its record over the limit. */
typedef struct srv_rl {
    int64_t msgs;       /* tokens in thousandths of a message (negative: a debt) */
    int64_t bytes;      /* tokens in thousandths of a byte (negative: a debt) */
    int64_t at_ms;      /* when the buckets were last refilled */
    int64_t error_ms;   /* when the sender was last told */
    int64_t streak_ms;  /* the first drop of the current time over the limit */
    int64_t drop_ms;    /* the last drop */
    uint64_t dropped;   /* messages dropped so far */
    bool told;          /* error_ms is set */
    bool streak;        /* streak_ms is set */
} srv_rl;

/* Full buckets at now. */
void srv_rl_init(srv_rl *rl, const srv_rl_cfg *cfg, int64_t now);

typedef enum srv_rl_verdict {
    SRV_RL_PASS = 0,    /* within the limits: handle it */
    SRV_RL_DROP,        /* over: drop it quietly (the sender was told less than a second ago) */
    SRV_RL_DROP_NOTIFY, /* over: drop it and tell the sender */
    SRV_RL_ABUSE,       /* over for close_after_ms: drop it and close the connection */
} srv_rl_verdict;

/* A message of len bytes arrives at now. It passes when the message bucket
 * holds one message and the byte bucket len bytes (or is full, for a
 * message larger than the bucket: that one leaves a debt), and is then
 * taken from both. Otherwise it is dropped (counted in rl->dropped): see
 * the verdicts. Returns the verdict. */
srv_rl_verdict srv_rl_take(srv_rl *rl, const srv_rl_cfg *cfg, size_t len, int64_t now);

/* A message of len bytes was read at now and is taken whatever the buckets
 * hold (they may go into debt). Returns how long to stop reading, in ms,
 * for the buckets to hold a message again (and no byte debt): 0 when
 * reading may go on. */
int64_t srv_rl_charge(srv_rl *rl, const srv_rl_cfg *cfg, size_t len, int64_t now);

/* How long from now until the buckets hold a message again (and no byte
 * debt), in ms: 0 when reading may go on. Takes nothing. */
int64_t srv_rl_wait(srv_rl *rl, const srv_rl_cfg *cfg, int64_t now);

#endif
