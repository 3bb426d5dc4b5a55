/* The client's and the loop's insides, shared by src/client/ and the
 * libwebsockets adapter in src/transport/. Not installed.
 *
 * Threads: `mu` guards what app threads and the loop thread share (the
 * core, the queue, the pending commands, the counters). Everything under
 * "loop thread only" is touched by the loop thread alone. Callbacks into
 * the app are made on the loop thread with no lock held. */
#ifndef LL_CLIENT_IMPL_H
#define LL_CLIENT_IMPL_H

#include <pthread.h>
#include <stdint.h>

#include <libwebsockets.h>

#include "client/queue.h"
#include "client/redact.h"
#include "core/machine.h"
#include "lifeline/lifeline.h"
#include "notify/notifier.h"
#include "proto/ws_utf8.h"
#include "transport/url.h"

/* Work posted by app threads for the loop thread. */
enum {
    LL_CMD_ACTIONS = 1 << 0, /* the core produced actions to perform */
    LL_CMD_WRITE = 1 << 1,   /* the queue has something new */
    LL_CMD_DROPPED = 1 << 2, /* dropped messages to report */
    LL_CMD_DETACH = 1 << 3,  /* free: let go of every wsi, never call back */
    LL_CMD_NOTIFY = 1 << 4,  /* alert results or pending log lines */
};

#define LL_MAX_NOTIFY_RESULTS 32

typedef struct ll_vhost {
    struct ll_vhost *next;
    struct lws_vhost *vh;
    char *ca_file;
    char *proxy;
    int deflate;
    int tls;
    char *name;
} ll_vhost;

struct lifeline_loop {
    struct lws_context *ctx;
    pthread_t thread;
    int thread_started;
    pthread_mutex_t mu;          /* guards the fields below */
    pthread_cond_t cv;
    int stopping;
    int ready;                   /* the thread has entered its service loop */
    size_t n_clients;
    lifeline_client *dirty;      /* clients with pending commands */
    lifeline_client *clients;    /* every client on the loop */
    ll_vhost *vhosts;            /* loop thread only */
    int vhost_seq;               /* loop thread only */
};

struct lifeline_client {
    lifeline_loop *loop;
    int owns_loop;
    lifeline_client *next_on_loop; /* guarded by loop->mu */
    lifeline_client *next_dirty;   /* guarded by loop->mu */
    int is_dirty;                  /* guarded by loop->mu */

    /* immutable after lifeline_client_new() */
    lifeline_config cfg;           /* strings below replace cfg's pointers */
    char *url_str, *health_str, *subprotocol, *origin, *ca_file, *proxy;
    char **headers;
    size_t header_count;
    char *webhook, *alert_username;
    char **label_names, **label_values; /* alert labels, split at the colon */
    size_t label_count;
    ll_url url, health;
    ll_secrets secrets;            /* removed from every log line */
    uint64_t seed;

    pthread_mutex_t mu;
    pthread_cond_t cv;
    ll_core core;                  /* mu */
    ll_action *actions;            /* mu: performed in order by the loop */
    size_t n_actions, cap_actions; /* mu */
    ll_queue queue;                /* mu */
    ll_queue dropped;              /* mu: dropped, not yet reported */
    int write_armed;               /* mu: the loop is draining the queue */
    unsigned cmds;                 /* mu: LL_CMD_* pending */
    int closed_done;               /* mu: stop finished (no wsi left) */
    int detached;                  /* mu: the loop let go of this client */
    int stop_wait_ms;              /* mu */
    uint64_t msgs_sent, bytes_sent, msgs_recv, bytes_recv, msgs_dropped; /* mu */
    ll_notifier *notifier;         /* NULL when alerts are off */
    ll_notify_result results[LL_MAX_NOTIFY_RESULTS]; /* mu: to report */
    size_t n_results;              /* mu */
    char pending_logs[16][256];    /* mu: lines made where on_log cannot be
                                      called (the notifier's thread, under
                                      the loop's lock), logged by the loop */
    int pending_log_levels[16];    /* mu */
    size_t n_pending_logs;         /* mu */
    int notify_closing;            /* mu: free() began, post nothing more */
    int64_t last_down_alert_ms;    /* loop thread: -1 before the first */
    int down_alert_sent;           /* loop thread: this outage's was sent */

    /* loop thread only */
    struct lws *wsi;               /* the WebSocket attempt or connection */
    uint32_t wsi_conn_id;
    int wsi_open;
    char host_header[300];         /* the Host header: host[:port] */
    struct lws *probe_wsi;         /* the health check in flight */
    uint32_t probe_conn_id;
    ll_vhost *vhost;
    lws_sorted_usec_list_t sul;    /* the core's deadline */
    lws_sorted_usec_list_t close_sul; /* the bounded graceful close */
    int close_code;                /* 0, or the close to send when writable */
    uint32_t ping_seq;             /* a ping to send when writable, 0: none */
    int64_t app_ping_ts[4];        /* app_ping: the ts of recent pings */
    uint32_t app_ping_seq[4];
    ll_msg *writing;               /* popped, being written */
    unsigned char *tx;             /* a copy of the message being written */
    size_t tx_cap;
    unsigned char *rx;             /* reassembly of a fragmented message */
    size_t rx_len, rx_cap;
    int rx_binary;
    ll_utf8_stream rx_utf8;        /* the text message being received */
    int fail_error;                /* 0, or the lifeline_error this
                                      connection is being failed with:
                                      MESSAGE_TOO_BIG (1009), PROTOCOL (1002,
                                      1007); reading stops */
    int last_peer_close;           /* the server sent a close frame: its
                                      code (1005: none readable), else 0 */
    int pumping;                   /* performing actions (re-entrancy) */
    int connecting_sync;           /* inside lws_client_connect_via_info() */
    int connect_failed;            /* the attempt reported its failure */
    int cert_refused;              /* OpenSSL refused the server's certificate */
    int hs_status;                 /* the upgrade answer's status (0: none yet
                                      or malformed) */
    int hs_malformed;              /* its status line was not HTTP's */
    int detail_error;              /* the error detail[] explains, or 0 */
    char detail[200];              /* what the transport saw, for the reason
                                      of the state change that error makes */
};

/* ---- settings.c ------------------------------------------------------------ */

/* Copy cfg (validated, widened) into the client: strings, headers, labels,
 * parsed URLs, secrets. Returns LIFELINE_OK, LIFELINE_ERR_NO_MEMORY or the
 * LIFELINE_ERR_CONFIG_* of a URL or CA file the client cannot use. */
int ll_client_copy_config(lifeline_client *c, const lifeline_config *cfg);
/* Free what ll_client_copy_config() made (also after it failed). */
void ll_client_free_config(lifeline_client *c);

/* ---- pump.c: the core, its actions, the glue the transport calls ---------- */

/* An app request (start, stop, reconnect_now): decided now, under the
 * client's mutex, so the caller gets the core's answer; performed on the
 * loop. Threads: any. */
int ll_client_app_event(lifeline_client *c, ll_event_type type);
/* Feed a transport event to the core and perform what follows. */
void ll_client_dispatch(lifeline_client *c, const ll_event *ev);
/* Perform the actions the core produced (re-entrancy safe). */
void ll_client_pump(lifeline_client *c);
/* The loop thread is done with the current batch: re-arm the timer. */
void ll_client_arm_timer(lifeline_client *c);
/* Run the commands app threads posted. */
void ll_client_run_commands(lifeline_client *c);
int64_t ll_now_ms(void);

/* ---- send.c ----------------------------------------------------------------- */

/* Write the next queued message; returns -1 if the connection failed. */
int ll_client_write_next(lifeline_client *c, struct lws *wsi);
/* Report the dropped messages to on_dropped (loop thread). */
void ll_client_report_dropped(lifeline_client *c);
/* Move everything still queued to the dropped list (stop). mu held. */
void ll_client_drop_all_locked(lifeline_client *c);

/* ---- receive.c -------------------------------------------------------------- */

/* A whole inbound message. */
void ll_client_deliver(lifeline_client *c, const void *data, size_t len, int is_binary);

/* ---- log.c ------------------------------------------------------------------ */

/* Explain the next failure with error (printf-style): the state change it
 * causes (disconnected or error) gets "<lifeline_strerror(error)>: <this>"
 * as its reason. Kept until used, or until the next connection attempt. */
void ll_client_detail(lifeline_client *c, int error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A log line from inside lifeline (printf-style), redacted, if level allows. */
void ll_client_log(lifeline_client *c, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Keep a log line for the loop thread to log (any thread; the caller may
 * hold the loop's lock). Full: the line is dropped. */
void ll_client_log_later(lifeline_client *c, int level, const char *line);
/* Log the lines kept by ll_client_log_later() (loop thread). */
void ll_client_flush_logs(lifeline_client *c);

/* ---- transport/loop.c ---------------------------------------------------------------- */

int ll_loop_attach(lifeline_loop *loop, lifeline_client *c);
void ll_loop_detach(lifeline_loop *loop, lifeline_client *c);
/* Post commands for c and wake the loop. Threads: any. */
void ll_loop_post(lifeline_client *c, unsigned cmds);
int ll_loop_is_current(const lifeline_loop *loop);
/* The vhost for c's TLS, proxy and deflate options (loop thread). */
struct lws_vhost *ll_loop_vhost(lifeline_loop *loop, lifeline_client *c);
/* Route libwebsockets' log lines to the clients of the calling loop. */
void ll_loop_route_lws_logs(void);
/* EVENT_WAIT_CANCELLED: run the work app threads posted. */
int ll_loop_on_wake(struct lws *wsi);
/* The client whose callback is running on this loop thread, if any. */
extern __thread lifeline_client *ll_tls_client;

/* ---- transport/ws.c -------------------------------------------------------- */

extern const struct lws_protocols ll_protocols[];
void ll_ws_connect(lifeline_client *c, uint32_t conn_id);
void ll_ws_close(lifeline_client *c, uint32_t conn_id, int code);
void ll_ws_want_write(lifeline_client *c);
void ll_ws_send_ping(lifeline_client *c, uint32_t seq);
/* Let go of every wsi at once (free). */
void ll_ws_abandon_all(lifeline_client *c);

/* ---- client/alerts.c --------------------------------------------------------- */

/* Start the notifier when a webhook is configured (client_new). */
int ll_alerts_init(lifeline_client *c);
/* The core's facts (loop thread). */
void ll_alerts_server_down(lifeline_client *c, const ll_action *a);
void ll_alerts_recovered(lifeline_client *c, const ll_action *a);
/* Hand finished deliveries to on_notify (loop thread). */
void ll_alerts_report(lifeline_client *c);
/* Stop the notifier, bounded (free). */
void ll_alerts_free(lifeline_client *c);

/* ---- transport/health.c ---------------------------------------------------- */

void ll_health_probe(lifeline_client *c, uint32_t conn_id);
int ll_health_callback(struct lws *wsi, enum lws_callback_reasons reason,
                       void *user, void *in, size_t len);

#endif
