/* Who is connected: every WebSocket connection, the stores they belong to
 * and the users behind them, with each user's last activity and the
 * batched writes of it to SQLite. No libwebsockets calls here: a
 * connection's wsi is only carried along for the adapter. */
#ifndef SRV_REGISTRY_H
#define SRV_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/connlog.h"
#include "server/db.h"
#include "server/gate.h"
#include "server/map.h"
#include "server/names.h"
#include "server/outq.h"
#include "server/ping.h"
#include "server/ratelimit.h"
#include "server/stats.h"
#include "proto/ws_utf8.h"

struct lws;
struct srv_conn;
struct srv_tap_entry;
struct srv_dlv_conn;

typedef struct srv_store {
    char *name;
    struct srv_conn *members; /* linked through sprev/snext */
    size_t count;
} srv_store;

typedef struct srv_user {
    char *name;
    char store[SRV_NAME_MAX + 1]; /* where last seen */
    int64_t last_active_ms;      /* unix ms */
    size_t refs;                 /* open connections */
    bool dirty;                  /* last_active_ms not yet written */
    struct srv_user *dirty_next;
} srv_user;

/* One WebSocket connection; about 320 bytes plus its queues (and tap.c's
 * 180 bytes). */
typedef struct srv_conn {
    uint64_t id;                    /* 1, 2, ... in the order opened: the log's connection id */
    struct lws *wsi;
    struct srv_conn *prev, *next;   /* every connection */
    struct srv_conn *sprev, *snext; /* the store's members */
    srv_store *store;               /* NULL when not a member */
    srv_user *user;
    srv_outq outq;
    srv_outq pongs;                 /* answers to the client's pings, written first */
    unsigned char *rx;             /* reassembly of a fragmented message */
    size_t rx_len, rx_cap;
    int64_t opened_ms;             /* monotonic */
    int64_t closing_ms;            /* monotonic; when the close began */
    srv_ping ping;
    srv_gate gate;
    srv_rl rl;                     /* --rate-limit's buckets */
    uint16_t close_code;           /* non-zero: closing with this code */
    const char *close_reason;      /* static text */
    const char *fail_soon;         /* a broken frame seen: fail with 1002 and this */
    char *names;                   /* "user\0store" of one that never joins (accept_then_close) */
    char peer[SRV_PEER_LEN];       /* its address and port, for the log */
    uint16_t client_code;          /* the code of the client's close frame, if it began the close */
    uint8_t cause;                 /* srv_close_cause: why it ends (the first one given) */
    struct srv_tap_entry *tap;      /* its socket as tap.c watches it */
    struct srv_dlv_conn *dlv;       /* lifeline.v1 (delivery.h): its protocol state; NULL: plain */
    unsigned ping_due : 1;         /* write a ping frame when writable */
    unsigned rx_binary : 1;        /* the message being reassembled */
    unsigned rx_partial : 1;       /* a message is partly read */
    unsigned rx_off : 1;           /* input is switched off (lws rx flow) */
    unsigned blackholed : 1;       /* in blackhole: no reads, writes or pings */
    unsigned killed : 1;           /* a hard close was requested */
    unsigned failing : 1;          /* failed (RFC 6455 7.1.7): dropped once our close is out */
    unsigned lws_closing : 1;      /* libwebsockets has begun the close */
    unsigned reap_runs : 2;        /* the reaper's progress (conn.c) */
    unsigned announced : 1;        /* user_joined was sent for it: user_left will be */
    unsigned rl_paused : 1;        /* its input is off until --rate-limit's buckets refill */
    ll_utf8_stream rx_utf8;        /* the text message being received, so far */
} srv_conn;

/* Evictions are reported at most this often (see srv_registry_take_evicted). */
#define SRV_EVICT_REPORT_EVERY_MS 60000

typedef struct srv_registry {
    srv_map stores;     /* name -> srv_store*, only stores with members */
    srv_map users;      /* name -> srv_user*, connected or not yet written */
    srv_conn *conns;    /* every connection, newest first */
    srv_user *dirty;    /* users to write at the next flush */
    size_t dirty_count;
    size_t rl_paused;   /* connections paused by --rate-limit (ws.c, hold.c) */
    srv_stats stats;
    uint64_t last_id;          /* the newest connection's id */
    int64_t max_users;         /* users the database keeps; 0: no limit */
    uint64_t evicted;          /* users evicted since the last report */
    int64_t evicted_report_ms; /* monotonic ms of the last report */
    bool evicted_reported;     /* there has been a report */
} srv_registry;

void srv_registry_init(srv_registry *r);

/* Frees every store and user; call after every connection is closed. */
void srv_registry_free(srv_registry *r);

/* A new connection (counted as active from now, monotonic ms), with the
 * next id. NULL when out of memory. */
srv_conn *srv_registry_open(srv_registry *r, struct lws *wsi, int64_t now);

/* Makes c a member of store as user. Returns 0 or -1 (out of memory). */
int srv_registry_join(srv_registry *r, srv_conn *c, const char *store, const char *user);

/* Forgets c (leaving its store) and frees it; now is monotonic ms. */
void srv_registry_close(srv_registry *r, srv_conn *c, int64_t now);

/* Records activity of c's user at unix ms wall, in c's store. */
void srv_registry_touch(srv_registry *r, srv_conn *c, int64_t wall);

/* Writes every dirty user in one transaction and forgets users with no
 * connection left. When the table then holds more than max_users users,
 * the least recently active are deleted in the same transaction, connected
 * users last: they are never deleted, so while more than max_users users
 * are connected the table holds them all. Returns the number written, or
 * -1 (they stay dirty, nothing is deleted). */
int srv_registry_flush(srv_registry *r, srv_db *db);

/* How many users were evicted since the last report, to be reported now:
 * 0 when none were, or when the last report is less than
 * SRV_EVICT_REPORT_EVERY_MS old (now: monotonic ms) and final is false.
 * A non-zero result starts a new count. */
uint64_t srv_registry_take_evicted(srv_registry *r, int64_t now, bool final);

/* The user with that name, if connected or not yet written; else NULL. */
const srv_user *srv_registry_user(const srv_registry *r, const char *name);

/* The store with that name, if it has members; else NULL. */
srv_store *srv_registry_store(const srv_registry *r, const char *name);

#endif
