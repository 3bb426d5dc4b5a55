/* lifeline-server's state and the functions its libwebsockets adapter
 * files share. One server runs on one thread: every function here is
 * called on the service thread, from a libwebsockets callback or timer. */
#ifndef SRV_SERVER_H
#define SRV_SERVER_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include <libwebsockets.h>

#include "server/db.h"
#include "server/alerts.h"
#include "server/cluster.h"
#include "server/shared.h"
#include "server/connlog.h"
#include "server/delivery.h"
#include "server/events.h"
#include "server/fault.h"
#include "server/listener.h"
#include "server/log.h"
#include "server/monitor.h"
#include "server/options.h"
#include "server/outq.h"
#include "server/registry.h"
#include "server/status.h"
#include "server/timer.h"

_Static_assert(LWS_PRE <= SRV_MSG_HEADROOM, "messages need LWS_PRE bytes of headroom");

/* Most queued messages, and queued bytes beyond two largest messages, that
 * a connection may hold before it counts as a slow reader and is closed. */
#define SRV_OUTQ_MAX_COUNT 1024
#define SRV_OUTQ_SLACK_BYTES (64 * 1024)

/* A connection accepted during blackhole, before its first bytes say
 * whether it is a WebSocket handshake (held) or an API request (let go). */
typedef struct srv_parked {
    struct lws *wsi;
    int fd;
    enum { SRV_PARK_NEW, SRV_PARK_SNIFFING, SRV_PARK_HELD } state;
    struct srv_parked *next;
} srv_parked;

/* Per-wsi user space: HTTP and WebSocket share one protocol. libwebsockets
 * frees it at every HTTP transaction end, so it holds only pointers that
 * the server frees first. */
typedef struct srv_session {
    srv_conn *conn;              /* a WebSocket connection */
    struct srv_http_req *req;    /* an HTTP request waiting for its body or its answer */
} srv_session;

typedef struct srv_server {
    srv_opts opt;
    srv_log log;
    srv_events events;
    srv_alerts alerts;
    srv_registry reg;
    srv_db *db;
    srv_fault_state fault;
    srv_monitor monitor;
    srv_status status;         /* the status page's rings: connections, monitor changes */
    srv_dlv dlv;               /* lifeline.v1's sessions */
    bool dlv_tx;               /* a transaction of marks and journal rows is open */
    srv_timer ack_timer;       /* the next ack due by time (v1.c) */
    struct ev_loop *loop;      /* the event loop (loop.c) */
    struct lws_context *ctx;
    struct lws *serving;       /* the wsi whose callback is running (loop.c) */
    srv_cluster *cluster;      /* --redis: the other instances (cluster.c); NULL: alone */
    srv_shared *shared;        /* --redis: lifeline.v1 sessions in Redis (shared.c); NULL: alone */
    struct lws_vhost *vhost;
    srv_listener listener;     /* the listening socket and its guard (listener.c) */
    int port;
    bool tls;
    srv_timer tick;
    srv_timer reap;            /* drops failed connections (conn.c) */
    int64_t tick_ms;           /* the tick's period outside fault modes */
    int64_t started_mono;
    int64_t next_flush_mono;
    srv_parked *parked;
    struct pollfd *pfds;       /* scratch for the hold poll */
    size_t pfds_cap;
    bool stopping;             /* shutting down: refuse new connections */
    bool draining;             /* SIGTERM's drain (loop.c): health says so */
    size_t http_pending;       /* HTTP requests being read (http.c): a drain waits for them */
    bool destroying;           /* inside lws_context_destroy: send nothing */
} srv_server;

/* The server behind a wsi. */
srv_server *srv_server_of(struct lws *wsi);

/* --- loop.c --- */

/* Input switched back on outside a read (from a timer): wakes the loop, so
 * that libwebsockets also serves what it had read and held for the
 * connection. With libev it does that in an idle watcher it starts after a
 * socket's event only (lib/event-libs/libev/libev.c): after a timer's,
 * held input would wait for the next event of any socket. */
void srv_server_rx_resumed(struct lws_context *ctx);

/* A libwebsockets timeout (lws_set_timeout) was set outside its callbacks:
 * wakes the loop, so that libwebsockets arms its timer for it (with libev
 * it does so after its own callbacks only; timer.h). */
void srv_server_lws_timer_set(struct lws_context *ctx);

/* Runs the server until SIGINT (a stop at once) or SIGTERM (a drain, then
 * the stop); returns the exit status. */
int srv_server_run(const srv_opts *opt);

/* Feeds the monitor the current count and emits any change. */
void srv_server_check_monitor(srv_server *s);

/* Asks the tick to run as soon as possible. */
void srv_server_kick(srv_server *s);

/* The peer of wsi as "addr:port" (srv_peer_format), into out. */
const char *srv_peer_of(struct lws *wsi, char out[SRV_PEER_LEN]);

/* --- conn.c: one WebSocket connection --- */

/* Queues m (taking a reference) for c. Returns 0, or -1 when dropped: c is
 * closing or blackholed, or its queue is full (c is then closed as a slow
 * reader with 1008). */
int srv_conn_send(srv_server *s, srv_conn *c, srv_msg *m);

/* Sends m to every member of the store named store except `except`, and
 * keeps it for the lifeline.v1 sessions of that store that have no
 * connection now; with --redis, to the other instances too (cluster.h).
 * Returns how many took it here. */
size_t srv_store_send(srv_server *s, const char *store, const srv_conn *except, srv_msg *m);

/* Delivers m, which another instance sent to store, to this instance's
 * members and idle lifeline.v1 sessions of it (not to Redis again). */
void srv_store_deliver(srv_server *s, const char *store, srv_msg *m);

/* srv_store_send, and not to except_session either (a lifeline.v1 session
 * whose connection may be gone: the sender of m). */
size_t srv_store_send_from(srv_server *s, const char *store, const srv_conn *except,
                           const srv_dlv_session *except_session, srv_msg *m);

/* Starts closing c with a close frame (code, static reason) because of
 * cause (for the log); the tick drops it if the peer does not finish the
 * close in time. */
void srv_conn_close(srv_server *s, srv_conn *c, uint16_t code, const char *reason,
                    srv_close_cause cause);

/* Ends c at once, without a close frame. */
void srv_conn_kill(srv_conn *c);

/* The reaper's timer callback: starts the failures that were asked for
 * (srv_conn_fail_soon) and shuts the sockets whose close frame is out. */
void srv_conn_reap(srv_server *s);

/* Fails c (RFC 6455 7.1.7) from inside one of its receive callbacks: sets
 * the close frame (code, static reason) libwebsockets sends when the
 * callback returns -1, and marks c so that TCP is dropped as soon as that
 * frame is out, without waiting for the peer's close. cause is for the
 * log. Returns -1, for the callback to return. */
int srv_conn_fail(srv_server *s, srv_conn *c, uint16_t code, const char *reason,
                  srv_close_cause cause);

/* LWS_CALLBACK_WS_SERVER_DROP_PROTOCOL: libwebsockets begins closing c. A
 * close it began itself (a protocol error found in its frame parser) or
 * one that srv_conn_fail began is a failure: the replies already queued for
 * c are written, then the close frame, and c is dropped as soon as that is
 * out. Closes begun by srv_conn_close wait for the peer's close. */
void srv_conn_closing(srv_server *s, srv_conn *c);

/* Queues a pong with this payload (at most 125 bytes) for c, answering
 * a ping that tap.c took out of the stream. Only the 16 most recent wait
 * (RFC 6455 5.5.3 allows answering only the most recent). */
void srv_conn_pong(srv_conn *c, const void *payload, size_t len);

/* Fails c with 1002 and reason (static) at the start of the next service
 * pass, its input switched off: tap.c found a broken frame header before
 * libwebsockets parsed it. The messages read before it are handled and
 * answered first. */
void srv_conn_fail_soon(srv_server *s, srv_conn *c, const char *reason);

/* Switches c's input on or off (libwebsockets rx flow control). */
void srv_conn_set_rx(srv_conn *c, bool on);

/* The WRITEABLE handler: one frame per call. Returns what the callback
 * returns (-1 closes). */
int srv_conn_writeable(srv_server *s, srv_conn *c);

/* --- ws.c: the WebSocket endpoint --- */

/* Handles the upgrade check and every WebSocket callback reason; returns
 * the callback's result. */
int srv_ws_callback(srv_server *s, struct lws *wsi, enum lws_callback_reasons reason,
                    srv_session *pss, void *in, size_t len);

/* The application's handling of one complete message from c (a plain
 * connection; a text message is valid UTF-8): echo, reply, broadcast. */
void srv_ws_app_message(srv_server *s, srv_conn *c, const unsigned char *data, size_t len,
                        bool binary);

/* What the application makes of one message from user of store: *reply
 * (for the sender) and *broadcast (for the rest of the store), each a new
 * message or NULL. Sends nothing: lifeline.v1 (v1.c) routes them once the
 * message's acceptance is committed. */
void srv_ws_app_effects(const char *store, const char *user, const unsigned char *data,
                        size_t len, bool binary, srv_msg **reply, srv_msg **broadcast);

/* Tells the rest of c's store that c joined (user_joined), once: at the
 * upgrade, or for a lifeline.v1 connection at its hello, when its session
 * is attached (so that the session itself is not sent the notice). */
void srv_ws_joined(srv_server *s, srv_conn *c);

/* --- v1.c: lifeline.v1 on connections (delivery.c's adapter) --- */

/* c was upgraded with the subprotocol lifeline.v1. Returns 0 or -1. */
int srv_v1_open(srv_server *s, srv_conn *c);

/* c ends: its session stays, without a connection. */
void srv_v1_close(srv_server *s, srv_conn *c);

/* One complete message from c, read as a unit. Returns 0, or -1 for the
 * receive callback to return (c failed: a protocol error closes it with
 * 1002 and a reason naming the error). */
int srv_v1_message(srv_server *s, srv_conn *c, const unsigned char *data, size_t len,
                   bool binary);

/* m for c: into its session's stream (or, before its hello, held for it).
 * Returns 0, or -1 when dropped. */
int srv_v1_send(srv_server *s, srv_conn *c, srv_msg *m);

/* m for the sessions of store without a connection, but except (NULL:
 * none); returns how many. */
size_t srv_v1_send_idle(srv_server *s, const char *store, const srv_dlv_session *except,
                        srv_msg *m);

/* WRITEABLE for c: writes one unit. Returns 0, or -1 (close). */
int srv_v1_writeable(srv_server *s, srv_conn *c);

/* Whether c has a unit to write now. */
bool srv_v1_has_write(srv_server *s, const srv_conn *c);

/* After each service pass: commits when an ack is due (or a held message
 * has waited --ack-delay-ms), asks to write the acks that are, and sets
 * the timer for the next. */
void srv_v1_service(srv_server *s);

/* Commits the sessions' marks and journal rows now, then hands the
 * messages they accepted to the application (srv_ws_app_effects), whose
 * replies and broadcasts go out from then on. Returns 0 or -1 (the batch
 * was rolled back, its messages dropped unhandled, its sessions'
 * connections closed). */
int srv_v1_commit(srv_server *s);

/* Drops messages older than --replay-ms (once a second). */
void srv_v1_sweep(srv_server *s);

/* The application acts on message seq of session ss, accepted and
 * committed (delivery.c's srv_dlv_act_fn; ctx: the server): its reply goes
 * to the session, its broadcast to the rest of the store. */
void srv_v1_act(srv_dlv_session *ss, uint64_t seq, srv_msg *m, void *ctx);

/* A random epoch for a new stream, never 0. */
uint64_t srv_v1_random_epoch(void);

/* --- v1_shared.c: lifeline.v1 sessions shared through Redis (--redis) --- */

/* At c's hello u for session hex, with Redis up: claims the session and
 * puts its state in memory (adopted from Redis unless the one in memory is
 * current), marked claimed. *settle gets what srv_v1_shared_settle is to
 * be given after the hello (NULL: nothing). Returns 0; -1 when Redis is
 * down or failed (the hello goes on as alone); SRV_V1_SHARED_WAIT when
 * Redis is down and the session's last commit may have reached it (close c
 * with 1013: the till comes back later); SRV_DLV_ERROR with c's reason
 * (the session is another store's or user's). */
#define SRV_V1_SHARED_WAIT (-2)
int srv_v1_shared_claim(srv_server *s, srv_conn *c, const ll_wire_unit *u, const char *hex,
                        int64_t now, void **settle);

/* Closes connection owner (ctx: the server) with 1013, "lifeline.v1: the
 * session waits for Redis". */
void srv_v1_shared_close_waiting(void *owner, void *ctx);

/* Right after the hello that srv_v1_shared_claim prepared, with its
 * session ss (NULL: the hello failed) and the claim's settle (freed here;
 * NULL: nothing to do): when that claim lifted a doubt over
 * the session's last commit (Redis went while it ran), Redis's mark says
 * which of the messages it held were committed, with their journal
 * entries: those are handed to the application now, as the commit would
 * have, their replies going to the new connection; the rest the till
 * sends again. Only when no other instance had the session since: else
 * they were that instance's. */
void srv_v1_shared_settle(srv_server *s, srv_dlv_session *ss, void *settle);

/* Before the local commit: commits the claimed sessions' marks (and
 * journal entries) in Redis, and disowns or restarts those Redis says to.
 * Returns 0, or -1 (Redis failed: roll the batch back). */
int srv_v1_shared_commit(srv_server *s);

/* Another instance asks (on this one's channel, text[0..len): "release
 * <hex> <claimant>") for a session whose till reconnected there: it is
 * committed, given up in Redis, and dropped here (its connection, if any,
 * closed). */
void srv_v1_shared_release_asked(srv_server *s, const char *text, size_t len);

/* delivery.c's on_push: mirrors a claimed session's message to Redis. */
void srv_v1_shared_pushed(const srv_dlv_session *ss, const srv_dlv_entry *e, void *ctx);

/* shared.c's on_status: a mirror's answer for session hex. */
void srv_v1_shared_status(const char *hex, int status, void *ctx);

/* --- http.c: the HTTP API --- */

int srv_http_callback(srv_server *s, struct lws *wsi, enum lws_callback_reasons reason,
                      srv_session *pss, void *in, size_t len);

/* Writes a whole response: status, JSON body (may be NULL: empty), and
 * optionally one extra header. close adds "Connection: close". Returns 0
 * or -1. */
int srv_http_respond(struct lws *wsi, int status, const char *body, const char *hname,
                     const char *hvalue, bool close);

/* Logs the answer to the request on wsi: an http_request line (method,
 * path, status, peer) at level, with error (static, may be NULL), as
 * event (http_request, or upgrade_refused for a refused /ws upgrade). */
void srv_http_log(srv_server *s, struct lws *wsi, srv_log_level level, const char *event,
                  int status, const char *error);

/* Frees the request state in pss, if any. */
void srv_http_release(srv_session *pss);

/* The HTTP side keeps a little state per connection from one request to
 * the next: made when a connection is accepted, freed when its wsi is
 * destroyed. */
void srv_http_accepted(struct lws *wsi);
void srv_http_forget(struct lws *wsi);

/* Notes that a request on wsi has ended (answered, or an upgrade checked):
 * bytes still buffered after it came pipelined. http.c calls it for its
 * requests, loop.c for upgrade checks. */
void srv_http_request_ended(struct lws *wsi);

/* --- tap.c: the client's bytes before libwebsockets parses them --- */

/* Watches c's socket from now on (at ESTABLISHED): its pings are answered
 * by the server, an unmasked frame fails it. Not when the client sent
 * frames along with its handshake (then libwebsockets alone reads it). */
void srv_tap_watch(srv_server *s, srv_conn *c);

/* Stops watching c (when it closes). */
void srv_tap_forget(srv_conn *c);

/* --- hold.c: blackhole and delay_pongs --- */

/* Called for a newly accepted connection. */
void srv_hold_accepted(srv_server *s, struct lws *wsi);

/* Called when a wsi is destroyed. */
void srv_hold_forget(srv_server *s, struct lws *wsi);

/* Applies the fault mode to a new WebSocket connection. */
void srv_hold_new_conn(srv_server *s, srv_conn *c);

/* Moves every connection from fault mode `from` to `to`. */
void srv_hold_transition(srv_server *s, srv_fault_mode from, srv_fault_mode to);

/* The tick's period while a fault mode watches sockets. */
#define SRV_HOLD_TICK_US 10000

/* The hold work of one tick; returns when the next tick is wanted, in
 * microseconds, or 0 when the hold needs no fast ticks. */
int64_t srv_hold_tick(srv_server *s, int64_t now);

/* Applies a fault request (from the admin API): returns how many
 * connections close_all closed. */
size_t srv_server_set_fault(srv_server *s, const srv_fault_request *req);

#endif
