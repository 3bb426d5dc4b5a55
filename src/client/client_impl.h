/* The client's insides, shared by the files of src/client/. Not installed.
 * The transport below is reached through transport/transport.h only: no
 * libwebsockets type appears here.
 *
 * Threads: `mu` guards what app threads and the loop thread share (the
 * core, the queue, the pending commands, the counters). Everything under
 * "loop thread only" is touched by the loop thread alone. Callbacks into
 * the app are made on the loop thread with no lock held. */
#ifndef LL_CLIENT_IMPL_H
#define LL_CLIENT_IMPL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "client/queue.h"
#include "client/redact.h"
#include "client/reliable.h"
#include "core/machine.h"
#include "lifeline/lifeline.h"
#include "notify/notifier.h"
#include "transport/transport.h"
#include "transport/url.h"

/* Work posted by app threads for the loop thread. */
enum {
    LL_CMD_ACTIONS = 1 << 0, /* the core produced actions to perform */
    LL_CMD_WRITE = 1 << 1,   /* the queue has something new */
    LL_CMD_DROPPED = 1 << 2, /* dropped messages to report */
    LL_CMD_FREE = 1 << 3,    /* free: let go of the transport (free.c) */
    LL_CMD_NOTIFY = 1 << 4,  /* alert results or pending log lines */
    LL_CMD_APPENDED = 1 << 5, /* reliable: messages put in the outbox */
    LL_CMD_WATCH = 1 << 6,   /* watch the network (config.watch_network) */
};

/* Who frees the client (free.c). */
enum {
    LL_FREE_BY_CALLER = 1,   /* an app thread, once the loop has let go */
    LL_FREE_BY_LOOP = 2,     /* the loop, once the callback that asked has
                                returned */
};

/* How long lifeline_client_free() waits for alerts still being delivered. */
#define LL_ALERTS_FREE_WAIT_MS 2000
/* stop's wait for the server to answer the close, when none is given. */
#define LL_STOP_WAIT_DEFAULT_MS 2000
/* How long an app thread waits for the loop thread to get to what it asked
 * for, beyond that work's own bound: the loop may be running other
 * clients' callbacks meanwhile. */
#define LL_LOOP_GRACE_MS 5000

/* Alert results kept for the loop thread to report; more are dropped (the
 * notifier's own queue holds 16). */
#define LL_MAX_NOTIFY_RESULTS 32
/* Log lines kept for the loop thread (the notifier's, made on its worker
 * thread), at most, and their longest (NUL included; the notifier's lines
 * are redacted already, so cutting them leaks nothing). */
#define LL_PENDING_LOG_LINES 16
#define LL_PENDING_LOG_MAX 256
/* The transport's words on a failure, in a state change's reason. */
#define LL_CLIENT_DETAIL_MAX 200
/* A state change's reason: lifeline_strerror(), HTTP status, the detail. */
#define LL_REASON_MAX 256
/* The action queue's first capacity; it doubles as the core asks. */
#define LL_ACTIONS_FIRST 32

struct lifeline_client {
    lifeline_loop *loop;
    int owns_loop;
    ll_conn *conn;                 /* the transport: the loop thread only,
                                      but for ll_conn_post() */

    /* immutable after lifeline_client_new() */
    lifeline_config cfg;           /* strings below replace cfg's pointers */
    char *health_str, *subprotocol, *origin, *ca_file, *proxy;
    /* the servers: [0] url, [k] fallback_urls[k - 1] (url_count of them),
     * as configured, parsed, and as lifeline_redact_url() shows them */
    char **url_strs;
    ll_url *urls;
    char **url_shown;
    size_t url_count;
    char **headers;
    size_t header_count;
    char *webhook, *alert_username, *outbox_path;
    char **label_names, **label_values; /* alert labels, split at the colon */
    size_t label_count;
    ll_url health;
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
    int stop_closed;               /* mu: the stop asked for has reached
                                      closed (performed, or closed before) */
    int closed_done;               /* mu: stop finished (no wsi left, or
                                      started again from a callback) */
    int free_by;                   /* mu: LL_FREE_BY_*, 0 until freed */
    int let_go;                    /* mu: the loop let go of this client */
    atomic_int quiet;              /* no callback starts any more (a free
                                      the loop completes) */
    int stop_wait_ms;              /* mu */
    int close_answered;            /* mu: the server answered the last
                                      stop's close (lifeline_stats) */
    uint64_t msgs_sent, bytes_sent, msgs_recv, bytes_recv, msgs_dropped; /* mu */
    ll_notifier *notifier;         /* NULL when alerts are off */
    ll_notify_result results[LL_MAX_NOTIFY_RESULTS]; /* mu: to report */
    size_t n_results;              /* mu */
    /* mu: lines made where on_log cannot be called (the notifier's
     * thread), logged by the loop; past LL_PENDING_LOG_LINES they are
     * counted, and the count is logged with the next lines */
    char pending_logs[LL_PENDING_LOG_LINES][LL_PENDING_LOG_MAX];
    int pending_log_levels[LL_PENDING_LOG_LINES];
    size_t n_pending_logs;
    size_t pending_logs_dropped;
    size_t results_dropped;        /* mu: alert results past
                                      LL_MAX_NOTIFY_RESULTS */
    int notify_closing;            /* mu: free() began, post nothing more */

    ll_reliable *rel;              /* reliable delivery, or NULL (see
                                      reliable.h for its locks) */

    /* loop thread only */
    ll_msg *writing;               /* handed to the transport, being written */
    int closing;                   /* a graceful close is under way: the
                                      actions after it wait until the
                                      transport has let go of the socket */
    const ll_detail *why;          /* the transport's words on the failure
                                      it reports, during that event only:
                                      for the state change's reason */
};

/* What the transport calls up with (lifecycle.c assembles it). */
extern const ll_transport_events ll_client_events;

/* 1 once no callback may start any more: every callback is made only when
 * this is 0. */
static inline int ll_client_quiet(lifeline_client *c)
{
    return atomic_load_explicit(&c->quiet, memory_order_acquire);
}

/* ---- lifecycle.c, free.c ----------------------------------------------------- */

/* Free c's memory (its connection freed or never made; the loop lets go). */
void ll_client_destroy(lifeline_client *c);
/* Monotonic milliseconds, the clock of the waits below (not the
 * transport's: a test's transport may run on virtual time). */
int64_t ll_client_clock_ms(void);
/* Wait on c->cv until *flag is set or until_ms (ll_client_clock_ms()
 * time) passes; mu held. Returns *flag. */
int ll_client_wait(lifeline_client *c, const int *flag, int64_t until_ms);
/* The FREE command, on the loop thread: abandon the transport, then hand
 * the client to its caller, or free it here (free.c). */
void ll_client_let_go(lifeline_client *c);

/* ---- settings.c ------------------------------------------------------------ */

/* Copy cfg (validated, widened) into the client: strings, headers, labels,
 * parsed URLs, secrets. Returns LIFELINE_OK, LIFELINE_ERR_NO_MEMORY or the
 * LIFELINE_ERR_CONFIG_* of a URL or CA file the client cannot use. */
int ll_client_copy_config(lifeline_client *c, const lifeline_config *cfg);
/* Free what ll_client_copy_config() made (also after it failed). */
void ll_client_free_config(lifeline_client *c);
/* What the transport needs of the config (pointing into the client's
 * copy, which outlives the connection). */
void ll_client_conn_opts(const lifeline_client *c, ll_conn_opts *o);

/* ---- pump.c: the core, its actions ---------------------------------------- */

/* An app request (start, stop, reconnect_now): decided now, under the
 * client's mutex, so the caller gets the core's answer; performed on the
 * loop. Threads: any. */
int ll_client_app_event(lifeline_client *c, ll_event_type type);
/* Post commands (LL_CMD_*) for the loop thread and wake it. Threads: any. */
void ll_client_post(lifeline_client *c, unsigned cmds);
/* Feed an event to the core and perform what follows (loop thread). */
void ll_client_dispatch(lifeline_client *c, const ll_event *ev);
/* Perform the actions the core produced, then the reports (loop thread;
 * never re-entered: see transport.h, "THE RULE"). */
void ll_client_pump(lifeline_client *c);
/* events->event, ->wake (run the commands app threads posted), ->timer. */
void ll_client_on_event(void *owner, const ll_event *ev, const ll_detail *why);
void ll_client_on_wake(void *owner);
void ll_client_on_timer(void *owner);

/* ---- send.c ----------------------------------------------------------------- */

/* events->next_out and ->written: the write path. */
int ll_client_next_out(void *owner, ll_out *out);
void ll_client_written(void *owner, int ok);
/* Report the dropped messages to on_dropped (loop thread). */
void ll_client_report_dropped(lifeline_client *c);
/* Move everything still queued to the dropped list (stop). mu held. */
void ll_client_drop_all_locked(lifeline_client *c);

/* ---- receive.c -------------------------------------------------------------- */

/* events->message: a whole inbound message. */
void ll_client_on_message(void *owner, const void *data, size_t len, int is_binary);

/* ---- log.c ------------------------------------------------------------------ */

/* A log line from inside lifeline (printf-style), redacted, if level allows. */
void ll_client_log(lifeline_client *c, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* events->log: the transport's lines, redacted like the others. */
void ll_client_on_log(void *owner, int level, const char *line);
/* Keep a log line for the loop thread to log (any thread). Full: the line
 * is dropped. */
void ll_client_log_later(lifeline_client *c, int level, const char *line);
/* Log the lines kept by ll_client_log_later() (loop thread). */
void ll_client_flush_logs(lifeline_client *c);

/* ---- client/alerts.c --------------------------------------------------------- */

/* Start the notifier when a webhook is configured (client_new). */
int ll_alerts_init(lifeline_client *c);
/* The core's facts (loop thread). */
void ll_alerts_server_down(lifeline_client *c, const ll_action *a);
void ll_alerts_recovered(lifeline_client *c, const ll_action *a);
/* Hand finished deliveries to on_notify (loop thread). */
void ll_alerts_report(lifeline_client *c);
/* Stop the notifier, waiting at most wait_ms for deliveries (free). */
void ll_alerts_free(lifeline_client *c, int wait_ms);

#endif
