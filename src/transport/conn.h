/* Inside the transport: one client's connection (struct ll_conn) and what
 * the transport's files share about it. Not for the client layer, which
 * sees transport.h only. Loop thread only, unless a field says otherwise. */
#ifndef LL_TRANSPORT_CONN_H
#define LL_TRANSPORT_CONN_H

#include <stdint.h>

#include <libwebsockets.h>

#include "proto/ws_utf8.h"
#include "transport/loop.h"
#include "transport/transport.h"

/* app_ping: how many recent pings a {"type":"pong","ts":N} may answer. */
#define LL_APP_PING_SLOTS 4
/* The transport's words on a failure: one line, for a state change's
 * reason. */
#define LL_DETAIL_MAX 200
/* The first bytes of a refused upgrade's body kept for its reason. */
#define LL_BODY_KEPT 256
/* The Host header: a host name (at most 253 bytes), brackets and a port. */
#define LL_HOST_HEADER_MAX 300
/* A reassembly or write buffer above this size is freed once used: an
 * idle link keeps no big buffer. */
#define LL_BUFFER_KEEP_MAX 65536

/* An event held for the zero-delay timer (transport.h, "THE RULE"). Its
 * words, if any, stay in ll_conn.detail: nothing writes there before it
 * is delivered (the attempt is over; the next one drops it). */
typedef struct ll_report {
    int pending;
    ll_event ev;
    int detail_error;             /* 0: no detail */
} ll_report;

struct ll_conn {
    ll_loop *loop;
    ll_conn_opts opts;
    const ll_transport_events *up;
    void *owner;

    /* membership of the loop: guarded by the loop's mutex */
    ll_conn *next_member, *next_dirty;
    int is_dirty;
    int leaving;                  /* ll_conn_leave() */
    int net_watch;                /* ll_conn_watch_network(): changed on the
                                     loop thread, under the mutex */

    /* the timers (lws_sul): the owner's deadline, the bounded graceful
     * close, the zero-delay reports */
    lws_sorted_usec_list_t timer_sul, close_sul, report_sul;
    ll_report report_ws, report_probe;
    int abandoned;                /* nothing is called up any more */

    /* the WebSocket attempt or connection */
    struct lws *wsi;
    uint32_t wsi_conn_id;
    int url_index;                /* the server of the attempt, in opts.urls */
    int wsi_open;
    char host_header[LL_HOST_HEADER_MAX];
    int close_code;               /* 0, or the close to send when writable */
    int close_handed;             /* the close was handed to libwebsockets
                                     (WRITEABLE returned -1 with its reason) */
    int close_answered;           /* the last graceful close ended before
                                     its wait ran out */
    uint32_t ping_seq;            /* a ping to send when writable, 0: none */
    int out_pending;              /* the owner has queued messages to pull */
    int write_held;               /* the message last handed out was given to
                                     lws_write(), which kept part of it to
                                     send later (LL_HELD_PARTIAL), or its
                                     socket was dropped from a call down
                                     (LL_HELD_LOST): events->written is still
                                     owed for it (ll_conn_settle()) */
    int64_t app_ping_ts[LL_APP_PING_SLOTS]; /* app_ping: recent pings */
    uint32_t app_ping_seq[LL_APP_PING_SLOTS];
    unsigned char *tx;            /* a copy of the message being written */
    size_t tx_cap;
    unsigned char *rx;            /* reassembly of a fragmented message */
    size_t rx_len, rx_cap;
    int rx_binary;
    ll_utf8_stream rx_utf8;       /* the text message being received */
    char fail_text[124];          /* the close reason of ll_conn_fail(), or "" */
    int fail_error;               /* 0, or the lifeline_error this connection
                                     is being failed with: MESSAGE_TOO_BIG
                                     (1009), PROTOCOL (1002, 1007); reading
                                     stops */
    int last_peer_close;          /* the server sent a close frame: its code
                                     (1005: none readable), else 0 */
    int cert_refused;             /* OpenSSL refused the server's certificate */
    int hs_status;                /* the upgrade answer's status (0: none yet
                                     or malformed) */
    int hs_malformed;             /* its status line was not HTTP's */
    int hs_no_subprotocol;        /* a 101 without the required subprotocol */
    int hs_body_open;             /* a refused upgrade's body is being read */
    size_t hs_body_len;           /* bytes of it kept in hs_body */
    char hs_body[LL_BODY_KEPT];   /* its first bytes, as they came */
    int detail_error;             /* the error detail[] explains, or 0 */
    char detail[LL_DETAIL_MAX];   /* what the transport saw, for the reason
                                     of the state change that error makes */

    /* the health check */
    struct lws *probe_wsi;
    uint32_t probe_conn_id;
};

/* ---- conn.c ---------------------------------------------------------------- */

enum { LL_HELD_NONE = 0, LL_HELD_PARTIAL, LL_HELD_LOST };

/* Make the events->written owed for a held message (loop context, never
 * inside a call down): ok when libwebsockets has sent all of it (wsi, if
 * not NULL, holds none of it any more), else not written (it goes again,
 * first, or to on_dropped at a stop). Nothing when none is owed. */
void ll_conn_settle(ll_conn *c, struct lws *wsi);

/* A log line for the owner (printf-style), if opts.log_level allows. */
void ll_conn_log(ll_conn *c, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Explain the next failure of the WebSocket with error (printf-style): the
 * CONNECT_FAILED or CLOSED that follows carries it. */
void ll_conn_detail(ll_conn *c, int error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Report ev now (from a libwebsockets callback: the loop), with the detail
 * when with_detail and one is set. */
void ll_conn_report(ll_conn *c, const ll_event *ev, int with_detail);
/* Report ev from the zero-delay timer: an attempt or health check that
 * ended before it opened. The first report of an attempt wins. */
void ll_conn_report_later(ll_conn *c, const ll_event *ev, int with_detail);
/* Drop what is held for conn_id (an attempt let go of). */
void ll_conn_drop_reports(ll_conn *c, uint32_t conn_id);
/* Let go of the WebSocket wsi: its late callbacks reach nobody. */
void ll_conn_forget(ll_conn *c);
/* Close wsi asynchronously; its callbacks reach nobody. */
void ll_conn_kill_wsi(struct lws *wsi);
/* Write the next message the owner has queued: 1 written, 0 none queued,
 * -1 the write failed (the message goes again, first). */
int ll_conn_write_next(ll_conn *c, struct lws *wsi);

/* ---- ws.c ------------------------------------------------------------------- */

/* protocols[0]: the WebSocket ("lifeline-ws"); [1]: the health check;
 * [2]: the network watcher. */
extern const struct lws_protocols ll_protocols[];

/* ---- netwatch.c ------------------------------------------------------------ */

/* protocols[2]: the rtnetlink socket, a raw file descriptor. */
int ll_netwatch_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                         void *in, size_t len);

/* ---- health.c -------------------------------------------------------------- */

int ll_health_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                       void *in, size_t len);

/* ---- loop.c ----------------------------------------------------------------- */

/* The vhost for o's TLS, proxy and deflate options, made on first use
 * (vhost.c); NULL when it cannot be made. */
struct lws_vhost *ll_loop_vhost(ll_loop *l, const ll_conn_opts *o);
/* Mark c as the connection whose work runs on this loop thread now
 * (libwebsockets' log lines go to it); returns the one before, to give
 * back to ll_loop_exit(). */
ll_conn *ll_loop_enter(ll_conn *c);
void ll_loop_exit(ll_conn *prev);
/* EVENT_WAIT_CANCELLED: run the work other threads posted. */
int ll_loop_on_wake(struct lws *wsi);

#endif
