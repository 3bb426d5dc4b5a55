/* lifeline-server's state and the functions its libwebsockets adapter
 * files share. One server runs on one thread: every function here is
 * called on the service thread, from a libwebsockets callback or timer. */
#ifndef LL_SERVER_SERVER_H
#define LL_SERVER_SERVER_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include <libwebsockets.h>

#include "server/db.h"
#include "server/alerts.h"
#include "server/events.h"
#include "server/fault.h"
#include "server/log.h"
#include "server/monitor.h"
#include "server/options.h"
#include "server/outq.h"
#include "server/registry.h"

_Static_assert(LWS_PRE <= LL_MSG_HEADROOM, "messages need LWS_PRE bytes of headroom");

/* Most queued messages, and queued bytes beyond two largest messages, that
 * a connection may hold before it counts as a slow reader and is closed. */
#define LL_OUTQ_MAX_COUNT 1024
#define LL_OUTQ_SLACK_BYTES (64 * 1024)

/* A connection accepted during blackhole, before its first bytes say
 * whether it is a WebSocket handshake (held) or an API request (let go). */
typedef struct ll_parked {
    struct lws *wsi;
    int fd;
    enum { LL_PARK_NEW, LL_PARK_SNIFFING, LL_PARK_HELD } state;
    struct ll_parked *next;
} ll_parked;

/* Per-wsi user space: HTTP and WebSocket share one protocol. libwebsockets
 * frees it at every HTTP transaction end, so it holds only pointers that
 * the server frees first. */
typedef struct ll_session {
    ll_conn *conn;              /* a WebSocket connection */
    struct ll_http_req *req;    /* an HTTP request waiting for its body */
} ll_session;

typedef struct ll_server {
    ll_opts opt;
    ll_log log;
    ll_srv_events events;
    ll_srv_alerts alerts;
    ll_registry reg;
    ll_db *db;
    ll_fault_state fault;
    ll_monitor monitor;
    struct lws_context *ctx;
    struct lws_vhost *vhost;
    int port;
    bool tls;
    lws_sorted_usec_list_t tick;
    lws_sorted_usec_list_t reap; /* drops failed connections (conn.c) */
    int64_t tick_ms;           /* the tick's period outside fault modes */
    int64_t started_mono;
    int64_t next_flush_mono;
    ll_parked *parked;
    struct pollfd *pfds;       /* scratch for the hold poll */
    size_t pfds_cap;
    bool stopping;             /* shutting down: refuse new connections */
    bool destroying;           /* inside lws_context_destroy: send nothing */
} ll_server;

/* The server behind a wsi. */
ll_server *ll_server_of(struct lws *wsi);

/* --- loop.c --- */

/* Runs the server until SIGINT/SIGTERM; returns the exit status. */
int ll_server_run(const ll_opts *opt);

/* Feeds the monitor the current count and emits any change. */
void ll_server_check_monitor(ll_server *s);

/* Asks the tick to run as soon as possible. */
void ll_server_kick(ll_server *s);

/* --- conn.c: one WebSocket connection --- */

/* Queues m (taking a reference) for c. Returns 0, or -1 when dropped: c is
 * closing or blackholed, or its queue is full (c is then closed as a slow
 * reader with 1008). */
int ll_conn_send(ll_server *s, ll_conn *c, ll_msg *m);

/* Sends m to every member of store except `except`; returns how many
 * accepted it. */
size_t ll_store_send(ll_server *s, ll_store *store, const ll_conn *except, ll_msg *m);

/* Starts closing c with a close frame (code, static reason); the tick
 * drops it if the peer does not finish the close in time. */
void ll_conn_close(ll_server *s, ll_conn *c, uint16_t code, const char *reason);

/* Ends c at once, without a close frame. */
void ll_conn_kill(ll_conn *c);

/* Fails c (RFC 6455 7.1.7) from inside one of its receive callbacks: sets
 * the close frame (code, static reason) libwebsockets sends when the
 * callback returns -1, and marks c so that TCP is dropped as soon as that
 * frame is out, without waiting for the peer's close. Returns -1, for the
 * callback to return. */
int ll_conn_fail(ll_server *s, ll_conn *c, uint16_t code, const char *reason);

/* LWS_CALLBACK_WS_SERVER_DROP_PROTOCOL: libwebsockets begins closing c. A
 * close it began itself (a protocol error found in its frame parser) or
 * one that ll_conn_fail began is a failure: the replies already queued for
 * c are written, then the close frame, and c is dropped as soon as that is
 * out. Closes begun by ll_conn_close wait for the peer's close. */
void ll_conn_closing(ll_server *s, ll_conn *c);

/* Queues a pong with this payload (at most 125 bytes) for c, answering
 * a ping that tap.c took out of the stream. Only the 16 most recent wait
 * (RFC 6455 5.5.3 allows answering only the most recent). */
void ll_conn_pong(ll_conn *c, const void *payload, size_t len);

/* Fails c with 1002 and reason (static) at the start of the next service
 * pass, its input switched off: tap.c found a broken frame header before
 * libwebsockets parsed it. The messages read before it are handled and
 * answered first. */
void ll_conn_fail_soon(ll_server *s, ll_conn *c, const char *reason);

/* Switches c's input on or off (libwebsockets rx flow control). */
void ll_conn_set_rx(ll_conn *c, bool on);

/* The WRITEABLE handler: one frame per call. Returns what the callback
 * returns (-1 closes). */
int ll_conn_writeable(ll_server *s, ll_conn *c);

/* --- ws.c: the WebSocket endpoint --- */

/* Handles the upgrade check and every WebSocket callback reason; returns
 * the callback's result. */
int ll_ws_callback(ll_server *s, struct lws *wsi, enum lws_callback_reasons reason,
                   ll_session *pss, void *in, size_t len);

/* --- http.c: the HTTP API --- */

int ll_http_callback(ll_server *s, struct lws *wsi, enum lws_callback_reasons reason,
                     ll_session *pss, void *in, size_t len);

/* Writes a whole response: status, JSON body (may be NULL: empty), and
 * optionally one extra header. close adds "Connection: close". Returns 0
 * or -1. */
int ll_http_respond(struct lws *wsi, int status, const char *body, const char *hname,
                    const char *hvalue, bool close);

/* Frees the request state in pss, if any. */
void ll_http_release(ll_session *pss);

/* The HTTP side keeps a little state per connection from one request to
 * the next: made when a connection is accepted, freed when its wsi is
 * destroyed. */
void ll_http_accepted(struct lws *wsi);
void ll_http_forget(struct lws *wsi);

/* Notes that a request on wsi has ended (answered, or an upgrade checked):
 * bytes still buffered after it came pipelined. http.c calls it for its
 * requests, loop.c for upgrade checks. */
void ll_http_request_ended(struct lws *wsi);

/* --- tap.c: the client's bytes before libwebsockets parses them --- */

/* Watches c's socket from now on (at ESTABLISHED): its pings are answered
 * by the server, an unmasked frame fails it. Not when the client sent
 * frames along with its handshake (then libwebsockets alone reads it). */
void ll_tap_watch(ll_server *s, ll_conn *c);

/* Stops watching c (when it closes). */
void ll_tap_forget(ll_conn *c);

/* --- hold.c: blackhole and delay_pongs --- */

/* Called for a newly accepted connection. */
void ll_hold_accepted(ll_server *s, struct lws *wsi);

/* Called when a wsi is destroyed. */
void ll_hold_forget(ll_server *s, struct lws *wsi);

/* Applies the fault mode to a new WebSocket connection. */
void ll_hold_new_conn(ll_server *s, ll_conn *c);

/* Moves every connection from fault mode `from` to `to`. */
void ll_hold_transition(ll_server *s, ll_fault_mode from, ll_fault_mode to);

/* The tick's period while a fault mode watches sockets. */
#define LL_HOLD_TICK_US 10000

/* The hold work of one tick; returns when the next tick is wanted, in
 * microseconds, or 0 when the hold needs no fast ticks. */
int64_t ll_hold_tick(ll_server *s, int64_t now);

/* Applies a fault request (from the admin API): returns how many
 * connections close_all closed. */
size_t ll_server_set_fault(ll_server *s, const ll_fault_request *req);

#endif
