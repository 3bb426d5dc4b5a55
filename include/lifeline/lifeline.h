/*
 * lifeline: keeps a point-of-sale or kiosk app connected to its server over
 * WebSocket, tells the app how that connection is doing, and raises the alarm
 * when the server is down.
 *
 * This is the only header an application includes.
 *
 * Conventions used throughout:
 *  - Every function returns a lifeline_error (0 is LIFELINE_OK) unless its
 *    comment says otherwise. When a function returns an error, no callback
 *    fires because of that call.
 *  - Strings passed in are copied unless a comment says otherwise; the caller
 *    keeps ownership of what it passes.
 *  - "Threads:" says from which threads a function may be called.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef LIFELINE_H
#define LIFELINE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(LIFELINE_BUILDING) && defined(__GNUC__)
#define LIFELINE_API __attribute__((visibility("default")))
#else
#define LIFELINE_API
#endif

/* ------------------------------------------------------------------------ */
/* Version                                                                  */
/* ------------------------------------------------------------------------ */

#define LIFELINE_VERSION_MAJOR 0
#define LIFELINE_VERSION_MINOR 1
#define LIFELINE_VERSION_PATCH 0
#define LIFELINE_VERSION_NUMBER                                                \
    ((LIFELINE_VERSION_MAJOR << 16) | (LIFELINE_VERSION_MINOR << 8) |          \
     LIFELINE_VERSION_PATCH)

/* The library's version as "MAJOR.MINOR.PATCH". Static storage, never freed.
 * Threads: any. */
LIFELINE_API const char *lifeline_version(void);

/* The library's version as LIFELINE_VERSION_NUMBER was when it was built:
 * compare with the header's macro to detect a mismatch. Threads: any. */
LIFELINE_API unsigned lifeline_version_number(void);

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */
/* ------------------------------------------------------------------------ */

/* One table for every error: XX(NAME, value, message). Values are part of
 * the ABI and are never renumbered; new errors are appended. */
#define LIFELINE_ERROR_MAP(XX)                                                 \
    XX(OK, 0, "success")                                                       \
    XX(INVALID_ARGUMENT, 1, "invalid argument (a required pointer is NULL)")   \
    XX(NO_MEMORY, 2, "out of memory")                                          \
    XX(CONFIG_STRUCT_SIZE, 3,                                                  \
       "config was not initialised with lifeline_config_init() "               \
       "(struct_size mismatch)")                                               \
    XX(CONFIG_URL, 4, "url is missing or is not a ws:// or wss:// URL")       \
    XX(CONFIG_NEGATIVE, 5, "a duration, count or limit in the config is negative") \
    XX(CONFIG_BASE_DELAY, 6, "base_delay_ms must be greater than zero")        \
    XX(CONFIG_MAX_DELAY, 7, "max_delay_ms must not be below base_delay_ms")    \
    XX(CONFIG_MAX_ATTEMPTS, 8, "max_attempts must be at least 1")              \
    XX(CONFIG_JITTER_MODE, 9, "jitter_mode is not a lifeline_jitter_mode")     \
    XX(CONFIG_PING_INTERVAL, 10, "ping_interval_ms must be greater than zero") \
    XX(CONFIG_PING_TIMEOUT, 11,                                                \
       "ping_timeout_ms must be greater than zero and below ping_interval_ms") \
    XX(CONFIG_DOWN_PING_INTERVAL, 12,                                          \
       "down_ping_interval_ms must be greater than zero")                      \
    XX(CONFIG_RTT_THRESHOLDS, 13,                                              \
       "rtt_good_ms must be greater than zero and below rtt_poor_ms")          \
    XX(CONFIG_HEALTH_URL, 14, "health_url is not an http:// or https:// URL")  \
    XX(STATE, 15, "the operation is not allowed in the current state")        \
    XX(CONNECT_TIMEOUT, 16, "connection attempt timed out")                    \
    XX(DNS, 17, "host name could not be resolved")                             \
    XX(CONNECTION_REFUSED, 18, "connection refused")                           \
    XX(CONNECTION_RESET, 19, "connection reset or closed unexpectedly")        \
    XX(HTTP_STATUS, 20, "server refused the WebSocket upgrade")                \
    XX(TLS, 21, "TLS handshake failed or certificate refused")                 \
    XX(PING_TIMEOUT, 22, "no pong within ping_timeout_ms")                     \
    XX(CLOSED_BY_PEER, 23, "server closed the connection")                     \
    XX(MESSAGE_TOO_BIG, 24, "message is larger than max_message_bytes")        \
    XX(QUEUE_FULL, 25, "offline queue is full")                                \
    XX(NOT_CONNECTED, 26, "not connected and offline queueing is off")         \
    XX(STOPPED, 27, "the client was stopped")                                  \
    XX(IN_CALLBACK, 28,                                                        \
       "not allowed from inside a lifeline callback on the loop thread")       \
    XX(SYSTEM, 29, "a system call failed (thread, pipe or clock)")             \
    XX(TRANSPORT, 30, "the WebSocket transport could not be set up")           \
    XX(PROBE_FAILED, 31, "health check did not answer 2xx")                    \
    XX(CONFIG_QUEUE, 32, "queue_policy is not a lifeline_queue_policy")        \
    XX(CONFIG_HEADER, 33, "a header is not of the form \"Name: value\"")        \
    XX(CONFIG_CONNECT_TIMEOUT, 34, "connect_timeout_ms must be greater than zero")

typedef enum lifeline_error {
#define LIFELINE_XX_(name, value, msg) LIFELINE_ERR_##name = value,
    LIFELINE_ERROR_MAP(LIFELINE_XX_)
#undef LIFELINE_XX_
} lifeline_error;

/* Shorthand for success. */
#define LIFELINE_OK LIFELINE_ERR_OK

/* A human-readable, one-line description of err. Static storage, never
 * freed; an unknown value gives "unknown error". Threads: any. */
LIFELINE_API const char *lifeline_strerror(int err);

/* The error's name without prefix, e.g. "PING_TIMEOUT". Static storage;
 * "UNKNOWN" for an unknown value. Threads: any. */
LIFELINE_API const char *lifeline_error_name(int err);

/* ------------------------------------------------------------------------ */
/* States, quality grades, modes                                            */
/* ------------------------------------------------------------------------ */

typedef enum lifeline_state {
    LIFELINE_STATE_IDLE = 0,        /* created, not started */
    LIFELINE_STATE_CONNECTING = 1,  /* a connection attempt is in progress */
    LIFELINE_STATE_CONNECTED = 2,   /* open and heartbeating */
    LIFELINE_STATE_DISCONNECTED = 3,/* lost or failed, waiting to retry */
    LIFELINE_STATE_ERROR = 4,       /* permanent failure, no automatic retry */
    LIFELINE_STATE_SERVER_DOWN = 5, /* retry budget spent, probing */
    LIFELINE_STATE_CLOSED = 6       /* stopped by the application */
} lifeline_state;

#define LIFELINE_STATE_COUNT 7

/* "idle", "connecting", "connected", "disconnected", "error", "server_down"
 * or "closed"; "unknown" otherwise. Static storage. Threads: any. */
LIFELINE_API const char *lifeline_state_name(int state);

typedef enum lifeline_quality {
    LIFELINE_QUALITY_UNKNOWN = 0,   /* nothing measured on this connection */
    LIFELINE_QUALITY_EXCELLENT = 1,
    LIFELINE_QUALITY_GOOD = 2,
    LIFELINE_QUALITY_POOR = 3
} lifeline_quality;

/* "unknown", "excellent", "good" or "poor". Static storage. Threads: any. */
LIFELINE_API const char *lifeline_quality_name(int quality);

typedef enum lifeline_jitter_mode {
    /* wait = min(base * 2^(n-1), max) + uniform[0, jitter_ms) */
    LIFELINE_JITTER_ADDITIVE = 0,
    /* wait = uniform[0, min(base * 2^(n-1), max)]: spreads a fleet that lost
     * the same server over the whole window */
    LIFELINE_JITTER_FULL = 1
} lifeline_jitter_mode;

/* "additive" or "full"; "unknown" otherwise. Threads: any. */
LIFELINE_API const char *lifeline_jitter_mode_name(int mode);

typedef enum lifeline_queue_policy {
    LIFELINE_QUEUE_REJECT_NEW = 0,  /* full queue: the new send fails */
    LIFELINE_QUEUE_DROP_OLDEST = 1, /* full queue: the oldest is dropped */
    LIFELINE_QUEUE_OFF = 2          /* no queue: send fails while offline */
} lifeline_queue_policy;

/* ------------------------------------------------------------------------ */
/* Configuration                                                            */
/* ------------------------------------------------------------------------ */

/* Every duration is in milliseconds. Initialise with lifeline_config_init()
 * and then override fields: fields may be appended in later versions, and
 * struct_size tells the library which ones the application knows. */
typedef struct lifeline_config {
    size_t struct_size;      /* set by lifeline_config_init(); do not touch */

    const char *url;         /* ws:// or wss:// URL (required) */

    /* Reconnection. The wait before reconnection attempt n (1-based) is
     * min(base_delay_ms * 2^(n-1), max_delay_ms) plus jitter. */
    int base_delay_ms;       /* default 5000 */
    int max_delay_ms;        /* default 30000 */
    int jitter_ms;           /* default 1000 (additive mode only) */
    int jitter_mode;         /* lifeline_jitter_mode, default ADDITIVE */
    int max_attempts;        /* default 5; then the state is server_down */
    int stable_after_ms;     /* default 10000: a connection must stay up this
                                long before the attempt counter resets */
    int down_ping_interval_ms; /* default 5000: probe cadence in server_down */
    const char *health_url;  /* optional http(s) URL probed (2xx) before a
                                connection attempt in server_down */
    int connect_timeout_ms;  /* default 10000: one attempt or probe, TCP, TLS
                                and the WebSocket handshake included */

    /* Heartbeat and quality. */
    int ping_interval_ms;    /* default 30000 */
    int ping_timeout_ms;     /* default 10000; must be < ping_interval_ms */
    int rtt_good_ms;         /* default 300: smoothed RTT below is excellent */
    int rtt_poor_ms;         /* default 1000: smoothed RTT at/above is poor */

    /* Seed for the jitter generator. 0 (the default) lets the client pick
     * one from the operating system; any other value replays exactly. */
    uint64_t random_seed;
} lifeline_config;

/* Fill cfg with every default documented above and set struct_size.
 * url and health_url are NULL. Threads: any. */
LIFELINE_API void lifeline_config_init(lifeline_config *cfg);

/* Check cfg. Returns LIFELINE_OK or the LIFELINE_ERR_CONFIG_* error naming
 * the first bad field (in the order the fields are declared);
 * LIFELINE_ERR_INVALID_ARGUMENT when cfg is NULL. Does not keep cfg.
 * Threads: any. */
LIFELINE_API int lifeline_config_validate(const lifeline_config *cfg);

#ifdef __cplusplus
}
#endif

#endif /* LIFELINE_H */
