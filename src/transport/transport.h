/* The transport: the libwebsockets adapter, and the whole contract between
 * it and the client layer above (src/client/). Only src/transport/ includes
 * <libwebsockets.h>; nothing here names a libwebsockets type.
 *
 * Two objects:
 *  - a loop (struct lifeline_loop, public as lifeline_loop): one service
 *    thread, one libwebsockets context, its vhosts, the wake-up of posted
 *    work, and the log lines waiting for control to return to it;
 *  - a connection (ll_conn), one per client, a member of one loop: the
 *    WebSocket attempt or connection, the health check, their timers and
 *    buffers. It owns its state; the client reaches it through the
 *    functions below, and it reports back through one ll_transport_events
 *    table given at creation, each call with the owner pointer given then
 *    (as nghttp2's session callbacks, or hiredis's redisAsyncContext.ev).
 *
 * The client's queue stays in the client: the transport pulls the next
 * message to write through events->next_out when the socket can take it.
 *
 * THE RULE (re-entrancy). The transport never calls up from inside a call
 * down. A call down (ll_conn_connect(), ll_conn_probe(), ll_conn_close(),
 * ll_conn_want_write(), ll_conn_ping(), ll_conn_timer(), ll_conn_abandon())
 * only starts or records work and returns. What it causes is reported
 * later, from the loop:
 *  - an attempt or health check that ends before it opened (CONNECT_FAILED,
 *    PROBE_OK, PROBE_FAILED) is always reported from a zero-delay timer,
 *    because its cause may run inside the call that started it
 *    (lws_client_connect_via_info() runs callbacks before it returns);
 *  - a log line waits in the loop's line queue, and is delivered before
 *    the next call up, or when lws_service() returns; libwebsockets' own
 *    lines (its log hook runs inside libwebsockets) wait there too;
 *  - OPENED, CLOSED, PONG, messages, next_out/written, timer and wake are
 *    made from the loop: from a libwebsockets callback of lws_service(), a
 *    timer, or the wake-up. None of them can happen inside a call down.
 * So every call up starts with nothing of the transport's below it on the
 * stack but the loop, and the client layer's pump, which makes the calls
 * down, is never re-entered. The client may call down from inside a call
 * up (an app callback sending, say): that is a call down like any other.
 *
 * Threads: ll_loop_new(), ll_loop_free() (a foreign loop's: its thread),
 * ll_conn_new(), ll_conn_post(),
 * ll_conn_leave() and ll_loop_on_thread() from any thread; ll_conn_free()
 * from any thread once the loop has let go of the connection (see there);
 * everything else on the loop's thread only, where every call up is made.
 */
#ifndef LL_TRANSPORT_H
#define LL_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "core/machine.h"
#include "lifeline/lifeline.h"
#include "transport/url.h"

/* ---- time ----------------------------------------------------------------- */

/* Monotonic milliseconds: the clock of the loop's timers, and so the clock
 * the client runs its core on (ll_conn_timer() takes a time in it). */
int64_t ll_now_ms(void);

/* 1 when this libwebsockets can do permessage-deflate as a client (4.2 on:
 * 4.1's client stalls with it). Threads: any. */
int ll_transport_deflate_supported(void);

/* ---- the loop -------------------------------------------------------------- */

typedef struct lifeline_loop ll_loop;

/* Start a loop: its context, its default vhost, its thread. Returns
 * LIFELINE_OK, LIFELINE_ERR_NO_MEMORY, LIFELINE_ERR_TRANSPORT or
 * LIFELINE_ERR_SYSTEM. */
int ll_loop_new(ll_loop **out);

/* A loop on the application's event loop (lifeline_loop_new_foreign();
 * foreign.c), on the calling thread, which runs that loop: no thread.
 * Returns LIFELINE_OK, LIFELINE_ERR_INVALID_ARGUMENT, LIFELINE_ERR_STATE
 * (the thread has a loop), LIFELINE_ERR_NO_MEMORY or
 * LIFELINE_ERR_TRANSPORT. */
int ll_loop_new_foreign(const lifeline_loop_foreign *desc, ll_loop **out);

/* From another thread than the loop's: stop its thread, join it, free it.
 * LIFELINE_ERR_STATE while a connection is still a member (one still
 * leaving included). */
int ll_loop_free(ll_loop *loop);

/* From the loop's own thread (a callback): the loop frees itself once the
 * work running now returns and every member has gone; its thread is
 * detached and ends. LIFELINE_ERR_STATE unless every member is leaving
 * (ll_conn_leave()). A foreign loop: both are this, from the loop's
 * thread only (LIFELINE_ERR_STATE from another), and the loop frees
 * itself from a call the adapter defers. */
int ll_loop_free_later(ll_loop *loop);

/* 1 when called on loop's service thread. */
int ll_loop_on_thread(const ll_loop *loop);

/* ---- a connection -------------------------------------------------------------- */

typedef struct ll_conn ll_conn;

/* What a connection needs to know. The strings and URLs are not copied:
 * they must outlive the connection (the client's immutable copy of its
 * config). */
typedef struct ll_conn_opts {
    const ll_url *urls;           /* the servers, ws:// or wss:// */
    const char *const *url_texts; /* them as configured, for log lines */
    size_t url_count;             /* at least 1 */
    const ll_url *health;         /* http(s) health check, or NULL */
    const char *subprotocol;      /* NULL for none */
    int require_subprotocol;      /* a 101 that does not select subprotocol
                                     fails the attempt (LL_FAIL_SUBPROTOCOL):
                                     libwebsockets 4.1 accepts one that
                                     selects none */
    const char *origin;           /* NULL for none */
    const char *const *headers;   /* "Name: value" lines */
    size_t header_count;
    const char *ca_file;          /* NULL: the system store */
    const char *proxy;            /* "host:port", NULL for none */
    int allow_insecure_tls;
    int permessage_deflate;
    int app_ping;                 /* pings as {"type":"ping","ts":N} texts */
    size_t max_message_bytes;     /* larger inbound fails with 1009 */
    int log_level;                /* lifeline_log_level: lines above it are
                                     not made */
} ll_conn_opts;

/* The message events->next_out hands over: valid until events->written. */
typedef struct ll_out {
    const void *data;
    size_t len;
    int is_binary;
    int more;                     /* others wait behind it */
} ll_out;

/* Why an attempt or a connection failed, in the transport's words (it may
 * quote the server: the owner redacts it). */
typedef struct ll_detail {
    int error;                    /* the lifeline_error it explains */
    const char *text;
} ll_detail;

/* Every call up, on the loop thread, with the owner given to ll_conn_new().
 * All are required. */
typedef struct ll_transport_events {
    /* A core event about an attempt, a connection or a health check:
     * OPENED, CONNECT_FAILED, CLOSED, PONG, PROBE_OK, PROBE_FAILED, with
     * the conn_id it is about. why: what the transport saw, or NULL. */
    void (*event)(void *owner, const ll_event *ev, const ll_detail *why);
    /* A whole inbound message (fragments reassembled, text checked as
     * UTF-8). data is valid during the call only. */
    void (*message)(void *owner, const void *data, size_t len, int is_binary);
    /* The socket can take a message: fill *out with the next queued one
     * and return 1, or return 0 when the queue is empty. */
    int (*next_out)(void *owner, ll_out *out);
    /* The message last handed out was written (ok 1), or was not and must
     * go again, first (ok 0). It comes once for each message handed out,
     * before the next is asked for: when the socket has taken all of it (a
     * large one may take several WRITEABLEs), or ok 0 when the connection
     * ended first (before its CLOSED or the next report). Only an
     * abandoned connection owes it (the owner frees what it handed out). */
    void (*written)(void *owner, int ok);
    /* A log line (lifeline_log_level), not redacted: the owner redacts. */
    void (*log)(void *owner, int level, const char *line);
    /* ll_conn_post() was called: run what was posted. */
    void (*wake)(void *owner);
    /* The time given to ll_conn_timer() has come. */
    void (*timer)(void *owner);
} ll_transport_events;

/* A connection on loop (which it joins). events (kept by pointer: static
 * storage) and owner are what it calls up with. Returns LIFELINE_OK,
 * LIFELINE_ERR_NO_MEMORY, or LIFELINE_ERR_CONFIG_LOOP when the loop is
 * being freed. Threads: any. */
int ll_conn_new(ll_loop *loop, const ll_conn_opts *opts, const ll_transport_events *events,
                void *owner, ll_conn **out);

/* The owner is going: the connection counts as gone for
 * ll_loop_free_later(). Threads: any. */
void ll_conn_leave(ll_conn *conn);

/* Leave the loop and free the connection. Threads: the loop's, after
 * ll_conn_abandon(); or any other once the loop thread has made its
 * ll_conn_abandon() and will call nothing of it again. NULL is a no-op. */
void ll_conn_free(ll_conn *conn);

/* Ask for events->wake on the loop thread, soon: from another thread it
 * wakes the loop (lws_cancel_service()); from the loop thread the wake
 * comes after the work running now. Threads: any. */
void ll_conn_post(ll_conn *conn);

/* events->timer at at_ms (ll_now_ms() time; a time past is at once, from
 * the loop), replacing the one armed before; LL_NO_DEADLINE disarms. */
void ll_conn_timer(ll_conn *conn, int64_t at_ms);

/* Open the WebSocket to opts.urls[url_index] (below url_count) as attempt
 * conn_id, abandoning any attempt or connection before it; reported as
 * OPENED or CONNECT_FAILED (then CLOSED once it was open). */
void ll_conn_connect(ll_conn *conn, uint32_t conn_id, int url_index);

/* GET the health URL as conn_id; reported as PROBE_OK (2xx) or
 * PROBE_FAILED. */
void ll_conn_probe(ll_conn *conn, uint32_t conn_id);

/* Close what conn_id is (attempt, connection or health check). code 1000
 * on an open connection is a graceful close: what the owner has queued is
 * pulled (events->next_out) and written, one message per write as always,
 * then the close frame; the server's answer is awaited; all of it within
 * wait_ms, then the socket is dropped (what is still queued stays the
 * owner's); reported as CLOSED, and ll_conn_close_answered() says how it
 * ended. Anything else is dropped at once, unreported. */
void ll_conn_close(ll_conn *conn, uint32_t conn_id, int code, int wait_ms);

/* Fail the open connection conn_id: close it with code (1002, say) and
 * text (at most 123 bytes are sent) as the close frame's reason, read
 * nothing more, and report CLOSED with error and text as the detail. Not
 * open, or another conn_id: nothing. */
void ll_conn_fail(ll_conn *conn, uint32_t conn_id, int code, int error, const char *text);

/* After a graceful close has ended (ll_conn_busy() 0): 1 when the server
 * answered it within the wait (libwebsockets 4.1 ends the connection as
 * soon as the answer comes; a server that ends the connection without an
 * answer counts too, as nothing tells the two apart), 0 when the wait ran
 * out and the socket was dropped, or the close was not a graceful one. */
int ll_conn_close_answered(const ll_conn *conn);

/* The client has queued a message: pull it (events->next_out) when the
 * connection can write. Nothing while it is not open. */
void ll_conn_want_write(ll_conn *conn);

/* Send a ping carrying seq (a ping frame, or app_ping's text) before the
 * next queued message. */
void ll_conn_ping(ll_conn *conn, uint32_t seq);

/* Watch the host's network (on 1) or stop (0): while on, a link that
 * comes up, an address or a default route that appears or goes is
 * reported as events->event LL_EV_NETWORK_CHANGED (conn_id 0), once per
 * reading of the loop's one rtnetlink socket, opened with the first
 * connection that watches and kept until the loop is freed. Linux only; where the
 * socket cannot be had, a warning is logged and nothing is reported.
 * ll_conn_abandon() stops it. */
void ll_conn_watch_network(ll_conn *conn, int on);

/* Let go of everything at once: sockets (dropped, no close frame),
 * timers, reports and log lines waiting; nothing is called up any more. */
void ll_conn_abandon(ll_conn *conn);

/* 1 while a socket (attempt, connection or health check) is held. */
int ll_conn_busy(const ll_conn *conn);

#endif
