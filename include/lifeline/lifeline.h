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

/* LIFELINE_VERSION_MAJOR, _MINOR, _PATCH, _STRING ("MAJOR.MINOR.PATCH") and
 * _NUMBER ((MAJOR << 16) | (MINOR << 8) | PATCH), generated from meson.build's
 * project(version:) and installed beside this header. */
#include "lifeline/version.h"

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
       "config was not initialised with lifeline_config_init(), or by a "      \
       "newer lifeline.h than this library (struct_size)")                     \
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
    XX(IN_CALLBACK, 28, /* no function returns it any more */                  \
       "not allowed from inside a lifeline callback on the loop thread")       \
    XX(SYSTEM, 29, "a system call failed (thread, pipe or clock)")             \
    XX(TRANSPORT, 30, "the WebSocket transport could not be set up")           \
    XX(PROBE_FAILED, 31, "health check did not answer 2xx")                    \
    XX(CONFIG_QUEUE, 32, "queue_policy is not a lifeline_queue_policy")        \
    XX(CONFIG_HEADER, 33, "a header is not of the form \"Name: value\"")        \
    XX(CONFIG_CONNECT_TIMEOUT, 34, "connect_timeout_ms must be greater than zero") \
    XX(CONFIG_LIMITS, 35,                                                      \
       "max_message_bytes, queue_max_messages and queue_max_bytes must be "    \
       "greater than zero")                                                    \
    XX(CONFIG_PROXY, 36, "http_proxy is not of the form host:port")           \
    XX(CONFIG_CA_FILE, 37, "ca_file cannot be read")                           \
    XX(CONFIG_LOOP, 38, "loop belongs to another thread that is stopping")     \
    XX(PROTOCOL, 39, "the server broke the WebSocket protocol")               \
    XX(CONFIG_WEBHOOK, 40, "discord_webhook_url is not an http:// or https:// URL") \
    XX(ALERTS_OFF, 41, "no alert channel is configured (discord_webhook_url)")  \
    XX(NOTIFY_GONE, 42, "the webhook answered 404 and is no longer used")      \
    XX(CONFIG_LABEL, 43, "an alert label is not of the form \"Name: value\"")   \
    XX(CONFIG_DEFLATE, 44,                                                     \
       "permessage_deflate needs libwebsockets 4.2 or later (4.1 stalls)")     \
    XX(TIMEOUT, 45, "the wait ran out before the operation was done")         \
    XX(OUTBOX_OPEN, 46, "the outbox file cannot be opened or created")       \
    XX(OUTBOX_CORRUPT, 47, "the outbox file is not an outbox or is damaged") \
    XX(OUTBOX_IO, 48, "the outbox could not be written (disk full?)")        \
    XX(NOT_LIFELINE, 49, "server does not speak lifeline.v1")                 \
    XX(CONFIG_DELIVERY, 50,                                                    \
       "delivery, outbox_durability or ack_every is out of range, or reliable " \
       "delivery is combined with subprotocol, app_ping or queue_policy off") \
    XX(CONFIG_FALLBACK_URL, 51,                                                \
       "fallback_urls has an entry that is missing or not a ws:// or wss:// "  \
       "URL, or more than LIFELINE_MAX_FALLBACK_URLS (32) entries")

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

/* Close codes. A connection that the server closes is lost, never failed
 * for good, whatever its close code: the client goes to disconnected (error
 * LIFELINE_ERR_CLOSED_BY_PEER) and reconnects on its backoff schedule, as
 * after a network loss (and on to server_down when the attempts run out).
 * That holds for 1001 (going away), 1011 (server error), 1012 (service
 * restart: lifeline-server's drain on SIGTERM spreads these over a window
 * so that a fleet does not reconnect at once), 1013 (try again later) and
 * the codes of 3000-4999 alike. A close frame the server may not
 * send (a code reserved or out of range, a reason that is not UTF-8) is
 * answered 1002 or 1007 and reported as LIFELINE_ERR_PROTOCOL, transient
 * too. Only a refused upgrade or certificate, a configuration that cannot
 * be set up, or a server without lifeline.v1 for reliable delivery ends in
 * the error state (see lifeline_state), never a close. With libwebsockets
 * before 4.2, 1012 to 1015 arrive replaced by 1002 (libwebsockets rewrites
 * them and answers 1002 itself): the log then says the server closed with
 * 1002; the reconnection is the same. The client closes with 1000 when
 * stopped, 1001 after a ping or handshake timeout, and 1009, 1007 or 1002
 * when what the server sent breaks max_message_bytes, UTF-8 or the
 * protocol. */

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

/* "additive" or "full"; "unknown" otherwise. Static storage, never freed.
 * Threads: any. */
LIFELINE_API const char *lifeline_jitter_mode_name(int mode);

typedef enum lifeline_queue_policy {
    LIFELINE_QUEUE_REJECT_NEW = 0,  /* full queue: the new send fails */
    LIFELINE_QUEUE_DROP_OLDEST = 1, /* full queue: the oldest is dropped */
    LIFELINE_QUEUE_OFF = 2          /* no queue: send fails while offline */
} lifeline_queue_policy;

/* "reject" (LIFELINE_QUEUE_REJECT_NEW), "drop_oldest" or "off"; "unknown"
 * otherwise. Static storage, never freed. Threads: any. */
LIFELINE_API const char *lifeline_queue_policy_name(int policy);

/* How messages travel (lifeline_config.delivery). */
typedef enum lifeline_delivery {
    LIFELINE_DELIVERY_BEST_EFFORT = 0, /* plain WebSocket: any server; a
                                          message written just before a
                                          connection dies may be lost */
    LIFELINE_DELIVERY_RELIABLE = 1     /* lifeline.v1 (docs/protocol.md):
                                          numbered, acknowledged, resent
                                          and de-duplicated, both ways; the
                                          server must speak it */
} lifeline_delivery;

/* How an outbox file commits (lifeline_config.outbox_durability). */
typedef enum lifeline_durability {
    LIFELINE_DURABILITY_NORMAL = 0, /* SQLite WAL, synchronous=NORMAL: a
                                       sent message survives a crash or
                                       kill -9 of the app */
    LIFELINE_DURABILITY_FULL = 1    /* synchronous=FULL: a power loss too */
} lifeline_durability;

/* "best_effort" or "reliable"; "unknown" for any other value. Threads: any. */
LIFELINE_API const char *lifeline_delivery_name(int delivery);

/* "normal" or "full"; "unknown" for any other value. Threads: any. */
LIFELINE_API const char *lifeline_durability_name(int durability);

/* ------------------------------------------------------------------------ */
/* Handles and callbacks                                                    */
/* ------------------------------------------------------------------------ */

/* A connection to one server. Opaque; see lifeline_client_new(). */
typedef struct lifeline_client lifeline_client;

/* A service thread with one libwebsockets context, shared by any number of
 * clients; or the same context on the application's own event loop, with
 * no thread of lifeline's. Opaque; see lifeline_loop_new() and
 * lifeline_loop_new_foreign(). */
typedef struct lifeline_loop lifeline_loop;

typedef enum lifeline_log_level {
    LIFELINE_LOG_ERROR = 0,
    LIFELINE_LOG_WARN = 1,
    LIFELINE_LOG_INFO = 2,
    LIFELINE_LOG_DEBUG = 3
} lifeline_log_level;

/* "error", "warn", "info" or "debug"; "unknown" otherwise. Static storage,
 * never freed. Threads: any. */
LIFELINE_API const char *lifeline_log_level_name(int level);

/* What a state change carries. Valid during the callback only. */
typedef struct lifeline_state_info {
    int old_state;          /* lifeline_state */
    int new_state;          /* lifeline_state */
    int attempt;            /* reconnection attempt (0: first connection) */
    int error;              /* lifeline_error that caused it, or LIFELINE_OK */
    int http_status;        /* status of a refused upgrade, else 0 */
    const char *reason;     /* one line for people, never NULL; for a
                               refused upgrade it ends with an excerpt of
                               the server's body, if one came with the
                               headers: the server said "..." */
    /* Which server (appended in 0.2; see lifeline_config.fallback_urls):
     * connecting, the one being tried; connected, the one landed on;
     * disconnected, error and server_down, the one whose attempt or
     * connection failed last; closed, the last one used. */
    int url_index;          /* 0: url, k: fallback_urls[k - 1] */
    const char *url;        /* that URL as lifeline_redact_url() shows it;
                               never NULL */
} lifeline_state_info;

/* All callbacks run on the client's loop thread, one at a time, never while
 * a lifeline lock is held: they may call any lifeline function, the
 * client's own lifeline_client_free() and its loop's lifeline_loop_free()
 * included (both then complete after the callback returns; see there).
 * Keep them short: the loop serves pings and every other client of the
 * loop meanwhile. */
typedef void (*lifeline_state_cb)(lifeline_client *client,
                                  const lifeline_state_info *info,
                                  void *user_data);
/* A whole message (fragments reassembled). data is valid during the call. */
typedef void (*lifeline_message_cb)(lifeline_client *client, const void *data,
                                    size_t len, int is_binary, void *user_data);
/* A pong matched its ping: rtt_ms and the grade it gives (lifeline_quality). */
typedef void (*lifeline_pong_cb)(lifeline_client *client, int64_t rtt_ms,
                                 int quality, void *user_data);
/* The quality grade changed (lifeline_quality). */
typedef void (*lifeline_quality_cb)(lifeline_client *client, int quality,
                                    void *user_data);
/* A retry is scheduled: attempt (1-based) after delay_ms exactly; probe is 1
 * for the probes of server_down. */
typedef void (*lifeline_retry_cb)(lifeline_client *client, int attempt,
                                  int64_t delay_ms, int probe, void *user_data);
/* A message the app handed to lifeline_client_send() will never be sent:
 * reason is LIFELINE_ERR_QUEUE_FULL (dropped as the oldest) or
 * LIFELINE_ERR_STOPPED (still queued at stop or free). data is valid during
 * the call. */
typedef void (*lifeline_dropped_cb)(lifeline_client *client, const void *data,
                                    size_t len, int is_binary, int reason,
                                    void *user_data);
/* What became of one alert: channel "discord"; kind "down", "recovered" or
 * "custom"; ok when the webhook answered 2xx; http_status the last answer
 * (0: none); attempts made; detail one line ("delivered", "refused",
 * "unreachable", "webhook gone (404)", "shutdown"). Valid during the call. */
typedef struct lifeline_notify_info {
    const char *channel;
    const char *kind;
    int ok;
    int http_status;
    int attempts;
    const char *detail;
} lifeline_notify_info;

typedef void (*lifeline_notify_cb)(lifeline_client *client,
                                   const lifeline_notify_info *info,
                                   void *user_data);

/* A log line (no newline), secrets already removed. level is a
 * lifeline_log_level; lines above config.log_level are not produced. */
typedef void (*lifeline_log_cb)(lifeline_client *client, int level,
                                const char *line, void *user_data);

/* Reliable delivery: the server has every message up to and including id
 * (the ids lifeline_client_send_id() gave) but those on_dropped_id
 * reported; they have left the outbox. */
typedef void (*lifeline_acked_cb)(lifeline_client *client, uint64_t id,
                                  void *user_data);

/* Reliable delivery: a connection resumed the session. recovered 1: the
 * server still had everything it sent while this client was away, and
 * sends it again now (replayed messages, which come to on_message next).
 * recovered 0: it did not (it restarted, or the gap was older than its
 * buffer): messages from the server may have been lost, and the app should
 * resynchronise from its own backend. The first connection of a new
 * session reports recovered 0 with replayed 0. */
typedef void (*lifeline_resumed_cb)(lifeline_client *client, int recovered,
                                    uint64_t replayed, void *user_data);

/* Reliable delivery: the message with id will never be acknowledged: it
 * was dropped as the oldest (reason LIFELINE_ERR_QUEUE_FULL) or held by an
 * outbox in memory at a stop (LIFELINE_ERR_STOPPED). Called right after
 * on_dropped reports its bytes, and before any on_acked whose id is past
 * it (an ack covers the ids up to it that were not dropped). */
typedef void (*lifeline_dropped_id_cb)(lifeline_client *client, uint64_t id,
                                       int reason, void *user_data);

/* ------------------------------------------------------------------------ */
/* Configuration                                                            */
/* ------------------------------------------------------------------------ */

/* Every duration is in milliseconds. Initialise with lifeline_config_init()
 * and then override fields.
 *
 * Fields may be appended in later versions (never removed or reordered); the
 * library reads and writes only what your struct has. lifeline_config_init()
 * is a macro that passes your sizeof(lifeline_config) to the library, which
 * keeps it in struct_size; lifeline_config_validate(), lifeline_config_check()
 * and lifeline_client_new() then read only struct_size bytes, and give every
 * field your struct does not have its default. An application built against
 * an older lifeline.h thus runs with a newer library, and nothing is written
 * past its struct. lifeline_stats and lifeline_client_stats() work the same
 * way. */
typedef struct lifeline_config {
    size_t struct_size;      /* set by lifeline_config_init(): the size of the
                                application's struct; do not touch */

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

    /* Transport. Strings are copied by lifeline_client_new(). */
    const char *const *headers; /* "Name: value" lines sent on the upgrade */
    size_t header_count;
    const char *subprotocol;    /* Sec-WebSocket-Protocol, NULL for none */
    const char *origin;         /* Origin header, NULL for none */
    int permessage_deflate;     /* 1: offer permessage-deflate (default 0).
                                   lifeline_client_new() refuses it with
                                   LIFELINE_ERR_CONFIG_DEFLATE on
                                   libwebsockets 4.1, whose client stalls
                                   with it (README, "Known limits") */
    const char *http_proxy;     /* "host:port" of an HTTP proxy, NULL: none */
    const char *ca_file;        /* PEM CA bundle for wss, NULL: system store */
    int allow_insecure_tls;     /* 1: accept self-signed certificates and any
                                   host name (development only; default 0) */
    int app_ping;               /* 1: heartbeat with {"type":"ping","ts":N}
                                   text messages instead of ping frames */
    size_t max_message_bytes;   /* default 1 MiB: larger inbound closes 1009,
                                   larger outbound is refused */

    /* Offline queue: messages sent while not connected (and those not yet
     * written while connected) wait here, in order. */
    int queue_policy;           /* lifeline_queue_policy, default REJECT_NEW */
    size_t queue_max_messages;  /* default 1000 */
    size_t queue_max_bytes;     /* default 1 MiB */

    /* Threads: NULL (the default) gives the client its own service thread;
     * a loop from lifeline_loop_new() shares that loop's thread; one from
     * lifeline_loop_new_foreign() (<lifeline/glib.h>, <lifeline/uv.h>)
     * runs the client on the application's own event loop. */
    lifeline_loop *loop;

    /* Alerts: a Discord webhook called through libcurl on a worker thread
     * when the server is judged down, and when it recovers. The URL holds a
     * secret: it never appears in a log, event or error text. */
    const char *discord_webhook_url; /* NULL (default): alerts off */
    const char *const *alert_labels; /* "Name: value" fields in every alert,
                                        e.g. "Store: 12", "Device: till-3" */
    size_t alert_label_count;
    int alert_min_interval_ms;  /* default 600000: at most one down alert in
                                   10 minutes, however the server flaps */
    const char *alert_username; /* the webhook's display name, default
                                   "lifeline" */

    /* Callbacks, all optional, and the pointer given to each of them. */
    lifeline_state_cb on_state;
    lifeline_message_cb on_message;
    lifeline_pong_cb on_pong;
    lifeline_quality_cb on_quality;
    lifeline_retry_cb on_retry;
    lifeline_dropped_cb on_dropped;
    lifeline_log_cb on_log;
    lifeline_notify_cb on_notify;
    int log_level;              /* lifeline_log_level, default WARN */
    void *user_data;

    /* Delivery (appended in 0.2). With LIFELINE_DELIVERY_RELIABLE the
     * client offers the subprotocol lifeline.v1 (subprotocol must be NULL)
     * and a server that does not select it is a permanent
     * LIFELINE_ERR_NOT_LIFELINE. Messages wait in the outbox until the
     * server acknowledges them, within queue_max_messages and
     * queue_max_bytes, by queue_policy (REJECT_NEW or DROP_OLDEST; OFF is
     * refused): what the queue does in best-effort mode. */
    int delivery;               /* lifeline_delivery, default BEST_EFFORT */
    const char *outbox_path;    /* a SQLite file (created if missing) that
                                   keeps the session and what is not yet
                                   acknowledged across restarts of the app;
                                   NULL (default): in memory, which survives
                                   reconnections only */
    int outbox_durability;      /* lifeline_durability, default NORMAL */
    int ack_every;              /* acknowledge the server's messages after
                                   this many (default 32) ... */
    int ack_delay_ms;           /* ... or this long after the first not yet
                                   acknowledged (default 20) */
    lifeline_acked_cb on_acked;
    lifeline_resumed_cb on_resumed;
    lifeline_dropped_id_cb on_dropped_id;

    /* Fallback servers (appended in 0.2). The servers are url (index 0)
     * then fallback_urls[0 .. fallback_url_count - 1] (indexes 1 to
     * fallback_url_count), at most LIFELINE_MAX_FALLBACK_URLS of them, each
     * a ws:// or wss:// URL (else LIFELINE_ERR_CONFIG_FALLBACK_URL, field
     * "fallback_urls"). They share every other setting: headers,
     * subprotocol, origin, proxy, TLS, health_url. lifeline_client_new()
     * copies the array and its strings; the caller keeps its own.
     * Which server each attempt goes to, and when the list is judged down:
     *  - the first attempt after a start goes to url;
     *  - an attempt that fails before opening is followed by one to the
     *    next server in the list, after the last back to url; a connection
     *    that opened and was lost is followed by one to the same server;
     *  - reconnection attempts go in passes of 1 + fallback_url_count: the
     *    first attempt of pass p waits what attempt p waits without
     *    fallbacks (min(base_delay_ms * 2^(p-1), max_delay_ms) plus
     *    jitter), the others of the pass follow the failure before them at
     *    once (a Retry-After hint still holds: it raises any wait to
     *    min(hint, max_delay_ms));
     *  - server_down comes when reconnection attempt max_attempts *
     *    (1 + fallback_url_count) fails: max_attempts passes, every server
     *    tried max_attempts times in a row;
     *  - in server_down each probe goes to the server after the one tried
     *    last, round the list, every down_ping_interval_ms (a failed
     *    health_url check moves nothing);
     *  - a permanent failure (HTTP 401, a refused certificate) on any
     *    server is the error state, as with one server.
     * With no fallback (the default) every rule is the one above for url
     * alone. lifeline_state_info and lifeline_stats say which server. */
    const char *const *fallback_urls;
    size_t fallback_url_count;  /* default 0 */

    /* Network changes (appended in 0.2). 1 (the default): the client's
     * loop watches the host's network (Linux rtnetlink: a link up and
     * running, an address added, a default route added or removed; one
     * socket per loop, shared by its clients that watch) and treats each
     * change as lifeline_client_network_changed() does: a till whose
     * Wi-Fi comes back reconnects at once instead of waiting out its
     * backoff. 0: no socket; the app may still call
     * lifeline_client_network_changed(). Where no rtnetlink socket can be
     * had (not Linux, a sandbox that refuses it) the client logs a warning
     * and runs as with 0. */
    int watch_network;
} lifeline_config;

/* The most fallback_urls a config may have. */
#define LIFELINE_MAX_FALLBACK_URLS 32

/* Fill *cfg, a struct of size bytes, with every default documented above
 * (url, health_url and every other pointer NULL) and set struct_size to
 * size. Writes exactly size bytes. Applications use lifeline_config_init(),
 * which passes the size for them; a binding that lays the struct out itself
 * passes the size of its own layout.
 * A size below the library's sizeof(lifeline_config) (an older lifeline.h)
 * gets the fields it has; a larger one (a lifeline.h newer than the library)
 * gets the library's fields, zero beyond, and LIFELINE_ERR_CONFIG_STRUCT_SIZE,
 * which every function given that config then returns too.
 * Returns LIFELINE_OK, LIFELINE_ERR_CONFIG_STRUCT_SIZE, or
 * LIFELINE_ERR_INVALID_ARGUMENT when cfg is NULL or size cannot hold
 * struct_size and url (then nothing is written). Threads: any. */
LIFELINE_API int lifeline_config_init_sized(lifeline_config *cfg, size_t size);

/* lifeline_config_init(lifeline_config *cfg): lifeline_config_init_sized()
 * with the size of the lifeline_config this header declares; returns what
 * it returns. (Programs built with the 0.1 development headers, where it
 * was a function, call the function of that name, which the library still
 * exports: it fills the struct as those headers declared it.) */
#define lifeline_config_init(cfg)                                              \
    lifeline_config_init_sized((cfg), sizeof(lifeline_config))

/* Check cfg as lifeline_client_new() will: every rule above, url and
 * health_url parsed as the client parses them, ca_file opened to see that
 * it can be read, permessage_deflate refused on libwebsockets 4.1. Only
 * LIFELINE_ERR_CONFIG_LOOP (a loop being freed meanwhile) is left to
 * lifeline_client_new(). Returns LIFELINE_OK or the LIFELINE_ERR_CONFIG_*
 * error of the first bad field, fields checked in the order they are
 * declared; LIFELINE_ERR_INVALID_ARGUMENT when cfg is NULL;
 * LIFELINE_ERR_CONFIG_STRUCT_SIZE when struct_size is not one
 * lifeline_config_init() sets. Reads struct_size bytes of cfg (see above);
 * does not keep cfg. Threads: any. */
LIFELINE_API int lifeline_config_validate(const lifeline_config *cfg);

/* lifeline_config_validate(), and *field (if field is not NULL) set to the
 * name of the bad field as declared above ("ping_timeout_ms", "headers",
 * "struct_size", ...), a static string, or NULL when the config is valid.
 * For a rule between two fields (max_delay_ms and base_delay_ms,
 * ping_timeout_ms and ping_interval_ms, rtt_poor_ms and rtt_good_ms) the
 * field named is the one the application changed from its default when it
 * changed only one of them, else the one the rule's error is about (the
 * first named). The one place that decides which field is bad: messages
 * that name it, the CLI and the bindings ask here. Threads: any. */
LIFELINE_API int lifeline_config_check(const lifeline_config *cfg, const char **field);

/* url as it may be shown (to print a configuration, say): its userinfo,
 * each query value (a whole item without '='), its fragment and a
 * webhook's token (what follows /webhooks/ID/) each become "***", whatever
 * their length: in "wss://u:pw@h/ws?store=7&token=abc", "u:pw", "7" and
 * "abc" do. These are the parts the client removes from its log lines.
 * Writes at most out_size bytes to out, NUL included, as snprintf does (out
 * may be NULL when out_size is 0); the caller owns out. Returns the length
 * of the whole redacted URL without the NUL: out_size must exceed it for
 * the result not to be cut. A NULL url gives "" and 0. Threads: any. */
LIFELINE_API size_t lifeline_redact_url(const char *url, char *out, size_t out_size);

/* ------------------------------------------------------------------------ */
/* Loops                                                                    */
/* ------------------------------------------------------------------------ */

/* Start a service thread with its own libwebsockets context, for clients
 * created with config.loop set to it. On success *out owns the loop: free it
 * with lifeline_loop_free() after every client on it is freed.
 * Returns LIFELINE_OK, LIFELINE_ERR_INVALID_ARGUMENT, LIFELINE_ERR_NO_MEMORY,
 * LIFELINE_ERR_TRANSPORT or LIFELINE_ERR_SYSTEM. Threads: any. */
LIFELINE_API int lifeline_loop_new(lifeline_loop **out);

/* Stop the loop's thread and free it. NULL is a no-op. Returns LIFELINE_OK,
 * or LIFELINE_ERR_STATE while a client still uses it (one not freed, or
 * one whose lifeline_client_free() has not finished; nothing is freed
 * then). From another thread than the loop's it returns once the thread
 * has ended. From a callback on the loop's own thread, where every client
 * of the loop must have been freed already (from that callback, say), the
 * loop frees itself once the callback and the frees it asked for are done,
 * and its thread ends. Do not use the loop after LIFELINE_OK.
 * A loop on the application's event loop (lifeline_loop_new_foreign()) is
 * freed from the loop's thread only (LIFELINE_ERR_STATE from another), and
 * always later, from that loop, once every client's free has completed:
 * keep running the loop until then (libuv: uv_run() returns only once
 * libwebsockets has closed its handles and the loop is freed; GLib: the
 * next iterations of the context).
 * Threads: any, callbacks included. */
LIFELINE_API int lifeline_loop_free(lifeline_loop *loop);

/* The application's event loop (appended in 0.2). A loop made on it has no
 * thread: libwebsockets runs on that loop (its evlib plugins: Debian's
 * libwebsockets-evlib-glib and libwebsockets-evlib-uv packages), and every
 * callback of the loop's clients runs on the thread that runs it, from it.
 * A GTK app then updates its widgets straight from on_state.
 *
 * Include <lifeline/glib.h> (lifeline_loop_new_glib()) or <lifeline/uv.h>
 * (lifeline_loop_new_uv()): small headers that fill the description below
 * and call lifeline_loop_new_foreign(), so that liblifeline itself links
 * neither GLib nor libuv. Fill one yourself only for a loop those headers
 * do not cover (it is the whole contract between lifeline and a loop, as
 * hiredis's redisAsyncContext.ev).
 *
 * Threads, on such a loop: the thread that runs the loop is "the loop's
 * thread". There, inside callbacks or not, lifeline_client_stop() and
 * lifeline_client_free() return at once and complete when control returns
 * to the loop (the thread cannot wait for itself); lifeline_loop_free()
 * too. From other threads every function behaves as with a loop of
 * lifeline's own: stop and free wait for the loop, which must be running.
 * Nothing of lifeline's runs on the loop while the application does not
 * run it: timers, pings and reconnections wait. */
typedef enum lifeline_loop_kind {
    LIFELINE_LOOP_GLIB = 1,     /* loop: a GMainLoop * on the context to run
                                   on (libwebsockets 4.1 wants a GMainLoop;
                                   it never runs or quits it) */
    LIFELINE_LOOP_LIBUV = 2     /* loop: a uv_loop_t * */
} lifeline_loop_kind;

/* What lifeline_loop_new_foreign() needs to know of a loop. Fields may be
 * appended: the macro passes the caller's size. */
typedef struct lifeline_loop_foreign {
    int kind;                   /* lifeline_loop_kind */
    void *loop;                 /* the loop, as kind says; not owned */
    void *adapter;              /* the adapter's own state, for the
                                   functions below */
    /* Call fn(arg) once, soon, on the loop's thread, from the loop, outside
     * any lifeline callback. 0, or -1 when it cannot. Required. lifeline
     * calls it on the loop's thread only. */
    int (*defer)(void *adapter, void (*fn)(void *arg), void *arg);
    /* 1 when no handle of the loop is still closing (libuv: every
     * uv_close() callback asked for has run). NULL: always 1. */
    int (*settled)(void *adapter);
    /* lifeline is done with the loop and adapter: the loop is freed, from
     * the loop's thread. NULL: nothing to do. Never called when
     * lifeline_loop_new_foreign() fails. */
    void (*release)(void *adapter);
} lifeline_loop_foreign;

/* Make a loop on the application's event loop described by desc (read
 * during the call only). Call it on the loop's thread: the one that runs
 * that loop. On success *out owns the loop: free it with
 * lifeline_loop_free(), from the loop's thread, after every client on it.
 * At most one lifeline loop per thread: share it between the clients.
 * Returns LIFELINE_OK; LIFELINE_ERR_INVALID_ARGUMENT (desc or out NULL, a
 * size too small, an unknown kind, loop or defer NULL);
 * LIFELINE_ERR_STATE (this thread already has a loop of lifeline's);
 * LIFELINE_ERR_NO_MEMORY; LIFELINE_ERR_TRANSPORT (libwebsockets could not
 * run on it: its evlib plugin for that loop is not installed, say).
 * Threads: the loop's. */
#define lifeline_loop_new_foreign(desc, out)                                   \
    lifeline_loop_new_foreign_sized((desc), sizeof(lifeline_loop_foreign), (out))
LIFELINE_API int lifeline_loop_new_foreign_sized(const lifeline_loop_foreign *desc,
                                                 size_t size, lifeline_loop **out);

/* ------------------------------------------------------------------------ */
/* Clients                                                                  */
/* ------------------------------------------------------------------------ */

/* Create a client from cfg (validated first; its strings are copied, cfg is
 * not kept). The client is idle until lifeline_client_start(). On success
 * *out owns the client: free it with lifeline_client_free().
 * Returns LIFELINE_OK, an error of lifeline_config_validate(),
 * LIFELINE_ERR_CONFIG_LOOP, LIFELINE_ERR_NO_MEMORY, LIFELINE_ERR_TRANSPORT
 * or LIFELINE_ERR_SYSTEM. Threads: any. */
LIFELINE_API int lifeline_client_new(const lifeline_config *cfg,
                                     lifeline_client **out);

/* Start connecting (from idle), or start again (from error or closed).
 * Returns at once; progress is reported through the callbacks.
 * Returns LIFELINE_OK or LIFELINE_ERR_STATE (already running).
 * Threads: any, callbacks included. */
LIFELINE_API int lifeline_client_start(lifeline_client *client);

/* Send one message: copied, then written in order once connected. While not
 * connected it waits in the offline queue. With reliable delivery it goes
 * into the outbox instead, as lifeline_client_send_id() says (also the
 * returns).
 * Returns LIFELINE_OK (accepted: it will be written or reported to
 * on_dropped), LIFELINE_ERR_MESSAGE_TOO_BIG, LIFELINE_ERR_QUEUE_FULL (policy
 * REJECT_NEW), LIFELINE_ERR_NOT_CONNECTED (policy OFF and not connected),
 * LIFELINE_ERR_STOPPED (the client is closed; a client that is idle, or in
 * error, queues), LIFELINE_ERR_INVALID_ARGUMENT. A message refused by an error return is the
 * caller's and is never reported to on_dropped. Threads: any, callbacks
 * included. */
LIFELINE_API int lifeline_client_send(lifeline_client *client, const void *data,
                                      size_t len, int is_binary);

/* Reliable delivery: put one message (copied) in the outbox under the next
 * id, which goes to *id (if id is not NULL); it is written once the session
 * has resumed, and again after each reconnection (or restart of the app,
 * with an outbox file) until the server acknowledges it (on_acked). Returns
 * once the message is in the outbox at its durability (committed to the
 * file: sends of several threads at the same moment share one commit).
 * Returns LIFELINE_OK; LIFELINE_ERR_MESSAGE_TOO_BIG;
 * LIFELINE_ERR_QUEUE_FULL (outbox full, REJECT_NEW); LIFELINE_ERR_OUTBOX_IO
 * (the outbox file could not be written: the message is not in it);
 * LIFELINE_ERR_STOPPED (closed); LIFELINE_ERR_STATE (best-effort delivery:
 * use lifeline_client_send()); LIFELINE_ERR_INVALID_ARGUMENT. Threads: any,
 * callbacks included (from a callback on the loop thread a file outbox's
 * commit holds up the loop for its duration). */
LIFELINE_API int lifeline_client_send_id(lifeline_client *client, const void *data,
                                         size_t len, int is_binary, uint64_t *id);

/* Check an outbox file as lifeline_client_new() opens it, without keeping
 * it open (nor creating it, nor changing an empty file): LIFELINE_OK (a
 * valid outbox, or no file or an empty one: one would be made there),
 * LIFELINE_ERR_OUTBOX_OPEN or LIFELINE_ERR_OUTBOX_CORRUPT with why (why_size
 * bytes, NUL-terminated, may be NULL) saying what is wrong, the path
 * included; LIFELINE_ERR_INVALID_ARGUMENT when path is NULL. What to call
 * when lifeline_client_new() returns one of those errors. Threads: any. */
LIFELINE_API int lifeline_outbox_check(const char *path, char *why, size_t why_size);
/* (An outbox file is locked while a client has it open: a second client,
 * or lifeline_outbox_check(), then gets LIFELINE_ERR_OUTBOX_OPEN "in use
 * by another outbox". One outbox file belongs to one client.) */

/* lifeline_client_send() of a NUL-terminated text message. */
LIFELINE_API int lifeline_client_send_text(lifeline_client *client,
                                           const char *text);

/* Skip the current wait: the pending attempt now (disconnected), a probe now
 * (server_down), a fresh start (error); nothing while connecting or
 * connected. Returns LIFELINE_OK or LIFELINE_ERR_STATE (idle or closed).
 * Threads: any, callbacks included. */
LIFELINE_API int lifeline_client_reconnect_now(lifeline_client *client);

/* The host's network changed (the app heard it from NetworkManager,
 * SystemConfiguration, a link-state callback...): skip the current wait
 * if there is one to skip. By state:
 *  - disconnected: the pending attempt now, keeping its number (the
 *    attempt count is not reset; if it fails, the next wait is the one
 *    the schedule had for the attempt after it);
 *  - server_down: the next probe now, unless one is under way;
 *  - connected: a ping now unless one is in flight, so a connection the
 *    change broke is found within ping_timeout_ms;
 *  - connecting, idle, error, closed: nothing.
 * A wait the server asked for (Retry-After) is not cut. At most one such
 * early attempt, probe or ping is made per second: a change within a
 * second of the last one acted on is acted on when that second is up
 * (however many came), unless an attempt or probe started, or a
 * connection opened, after it. The watcher of config.watch_network calls
 * the same rule; both together still make one attempt.
 * Returns LIFELINE_OK (also when there was nothing to do), or
 * LIFELINE_ERR_INVALID_ARGUMENT when client is NULL.
 * Threads: any, callbacks included. */
LIFELINE_API int lifeline_client_network_changed(lifeline_client *client);

/* A consistent snapshot of the client's figures. Fields may be appended in
 * later versions, as in lifeline_config: the library writes only what your
 * struct has. */
typedef struct lifeline_stats {
    size_t struct_size;         /* set by lifeline_client_stats(): how many
                                   bytes of the struct it filled */
    int state;                  /* lifeline_state */
    int64_t time_in_state_ms;
    int attempt;
    int64_t retry_in_ms;        /* until the next retry or probe, 0: none */
    int last_error;             /* lifeline_error of the last failure */
    int last_http_status;       /* of the last refused upgrade, else 0 */
    int quality;                /* lifeline_quality */
    int64_t rtt_last_ms;
    double rtt_smoothed_ms;
    double rtt_variation_ms;
    int64_t rtt_min_ms;
    int64_t rtt_max_ms;
    uint64_t pongs;
    uint64_t ping_timeouts;
    int64_t since_last_pong_ms; /* -1 before the first pong */
    uint64_t queued_messages;
    uint64_t queued_bytes;
    uint64_t messages_sent;
    uint64_t bytes_sent;
    uint64_t messages_received;
    uint64_t bytes_received;
    uint64_t messages_dropped;
    uint64_t reconnections;
    int64_t downtime_ms;        /* total time not connected after a loss */
    int last_close_answered;    /* 1: the server answered the close of the
                                   last lifeline_client_stop() (its
                                   connection ended within the wait); 0: it
                                   did not in time, the socket was dropped,
                                   or that stop found no open connection */
    /* Reliable delivery (appended in 0.2; 0 in best-effort mode). */
    uint64_t outbox_messages;   /* held: not yet acknowledged */
    uint64_t outbox_bytes;
    uint64_t unacked_messages;  /* of those, written on this connection */
    uint64_t last_acked_id;     /* every id up to it is acknowledged, or
                                   was dropped (on_dropped_id) */
    uint64_t resends;           /* messages written again after a resume */
    uint64_t duplicates_dropped;/* server messages received twice, dropped */
    uint64_t replayed;          /* server messages sent again on resumes */
    uint64_t resumes_recovered;
    uint64_t resumes_lost;      /* resumes where the server had lost what it
                                   sent meanwhile */
    /* Fallback servers (appended in 0.2). */
    int url_index;              /* the server of the attempt or connection
                                   under way, else of the last one: 0 url,
                                   k fallback_urls[k - 1] (as in
                                   lifeline_state_info) */
} lifeline_stats;

/* Fill *out, a struct of size bytes, with a snapshot. Writes exactly size
 * bytes: the fields that fit, and zero past the library's own
 * sizeof(lifeline_stats) (a lifeline.h newer than the library); struct_size
 * is set to the bytes filled, the smaller of the two sizes. Applications use
 * lifeline_client_stats(), which passes the size for them.
 * Returns LIFELINE_OK, or LIFELINE_ERR_INVALID_ARGUMENT when client or out is
 * NULL or size cannot hold struct_size and state (then nothing is written).
 * Threads: any, callbacks included. */
LIFELINE_API int lifeline_client_stats_sized(lifeline_client *client,
                                             lifeline_stats *out, size_t size);

/* lifeline_client_stats(lifeline_client *client, lifeline_stats *out):
 * lifeline_client_stats_sized() with the size of the lifeline_stats this
 * header declares; returns what it returns. (As for lifeline_config_init(),
 * the function of the 0.1 development headers is still exported.) */
#define lifeline_client_stats(client, out)                                     \
    lifeline_client_stats_sized((client), (out), sizeof(lifeline_stats))

/* The current state (lifeline_state). Threads: any. */
LIFELINE_API int lifeline_client_state(lifeline_client *client);

/* Stop: while connected, write what is queued, then close the connection
 * with 1000 and wait for the server to answer the close; all of it within
 * timeout_ms (< 0: 2000 ms), then the connection is dropped. What could
 * not be written by then is reported to on_dropped (LIFELINE_ERR_STOPPED),
 * as is everything queued when not connected; then on_state says closed,
 * the last event. lifeline_stats.last_close_answered then says whether the
 * server answered the close in time. While the stop is under way the state
 * is already closed (lifeline_client_send() returns LIFELINE_ERR_STOPPED),
 * and what the server sends meanwhile is not passed to on_message (closed
 * is the last event): an app that needs the server's answers to its last
 * messages waits for them before it stops, or uses reliable delivery.
 * From any thread but the loop's, it returns once the client is closed:
 * after at most timeout_ms, and at most 5000 ms more for the loop thread to
 * get there (it may be running another client's callback); from a callback
 * it returns at once and the close completes after the callback.
 * Returns LIFELINE_OK (also when already closed), LIFELINE_ERR_TIMEOUT when
 * the client was not closed in time (the loop thread is held up, by a
 * callback that does not return, say: the close completes when the loop
 * gets to it), or LIFELINE_ERR_INVALID_ARGUMENT.
 * Threads: any, callbacks included. */
LIFELINE_API int lifeline_client_stop(lifeline_client *client, int timeout_ms);

/* Send an alert now through the client's alert channel, with the same
 * delivery rules as the automatic ones (worker thread, timeouts, 429 and 5xx
 * retries). title and text are copied; Discord's limits are applied.
 * Returns LIFELINE_OK (queued: the result comes to on_notify),
 * LIFELINE_ERR_ALERTS_OFF, LIFELINE_ERR_QUEUE_FULL, LIFELINE_ERR_NOTIFY_GONE,
 * LIFELINE_ERR_INVALID_ARGUMENT. Threads: any, callbacks included. */
LIFELINE_API int lifeline_client_alert(lifeline_client *client, const char *title,
                                       const char *text);

/* Free the client. NULL is a no-op. Returns LIFELINE_OK. Once it has
 * returned, no callback of the client starts any more, and the client must
 * not be used again.
 * From any thread but the client's loop thread: it stops the client as
 * lifeline_client_stop() does (what is queued is written, then the close,
 * whose answer is awaited, all within 2000 ms; what could not be written
 * goes to on_dropped, then on_state says closed), waits at most 2000 ms for alerts still being delivered,
 * and returns once the loop has let go of the client: within 9 s at most
 * (2 s for the close, 2 s for alerts, 5 s in all for the loop thread to
 * get to the stop and to the free). A loop thread held up longer (by a
 * callback that does not return) gets the client handed over: free
 * returns, no callback of the client starts any more, and the loop frees
 * it when it gets there (what is still queued is then discarded unseen).
 * From a callback on the client's loop thread (on_message, on_state...):
 * it returns at once, and the callback running is the client's last. After
 * it returns, the loop stops the client without a word (an open
 * connection writes what is queued and is closed with 1000, the server's
 * answer awaited, as lifeline_client_stop() does, without holding up the
 * loop; what could not be written is discarded, not reported to
 * on_dropped) and then frees it, abandoning alerts
 * not yet delivered; a client with a loop of its own ends that loop's
 * thread.
 * Threads: any, callbacks included. It is the application's job not to
 * call anything on the client, from any thread, once the free has begun: a
 * lifeline_client_send() racing it on another thread uses freed memory. */
LIFELINE_API int lifeline_client_free(lifeline_client *client);

#ifdef __cplusplus
}
#endif

#endif /* LIFELINE_H */
