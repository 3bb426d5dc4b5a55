/* The connection state machine: events and the current monotonic time in,
 * actions and the next deadline out. No I/O, no clock, no allocation.
 *
 * Use:
 *     ll_core_init(&core, &cfg, seed);
 *     ll_core_handle(&core, &(ll_event){.type = LL_EV_START}, now);
 *     for (size_t i = 0; i < core.n_actions; i++) perform(&core.actions[i]);
 *     sleep until ll_core_deadline(&core), then handle LL_EV_TICK.
 *
 * Every connection attempt and probe the core asks for carries a conn_id;
 * the transport echoes it in the events about that attempt, and events with
 * another id (from an attempt the core has already abandoned) are ignored.
 *
 * Servers: the config's url and its fallback_urls make a list of url_count
 * URLs, index 0 being url. Each attempt and probe goes to one index (the
 * CONNECT action's url_index), chosen by the rule in src/core/README.md
 * ("Fallback servers"): the core knows the count, never the URLs.
 */
#ifndef LL_CORE_MACHINE_H
#define LL_CORE_MACHINE_H

#include <stddef.h>
#include <stdint.h>

#include "core/backoff.h"
#include "core/failure.h"
#include "core/heartbeat.h"
#include "core/quality.h"
#include "core/rng.h"
#include "lifeline/lifeline.h"

#define LL_NO_DEADLINE INT64_MAX

/* Network changes: at most one early attempt, probe or ping per this many
 * ms; a change inside the window is acted on when it ends. */
#define LL_NETWORK_WINDOW_MS 1000

typedef enum ll_event_type {
    /* from the application */
    LL_EV_START = 0,         /* start, or restart from error / closed */
    LL_EV_STOP,              /* stop for good: close 1000 */
    LL_EV_RECONNECT_NOW,     /* skip the current wait */
    /* from the network watcher, or the application */
    LL_EV_NETWORK_CHANGED,   /* the host's network changed (a link came up,
                                an address or a default route appeared):
                                see "Network changes" in README.md */
    /* from the clock */
    LL_EV_TICK,              /* now >= the last deadline given */
    /* from the transport, about conn_id */
    LL_EV_OPENED,            /* the WebSocket is open */
    LL_EV_CONNECT_FAILED,    /* the attempt failed before opening */
    LL_EV_CLOSED,            /* an open connection was lost */
    LL_EV_PONG,              /* a pong echoing seq */
    LL_EV_PROBE_OK,          /* health_url answered 2xx */
    LL_EV_PROBE_FAILED,      /* health_url failed */
    LL_EV_COUNT
} ll_event_type;

typedef struct ll_event {
    ll_event_type type;
    uint32_t conn_id;        /* transport events: the attempt they are about */
    /* CONNECT_FAILED, CLOSED, PROBE_FAILED: what the transport saw. With a
     * kind, the core judges it (ll_failure_judge()) and the four fields
     * below are replaced by the verdict; without one they stand as given
     * (a loss: error alone) */
    ll_failure failure;
    int error;               /* lifeline_error: why it failed or closed */
    int http_status;         /* status of a refused upgrade, else 0 */
    int permanent;           /* no retry: go to the error state */
    int64_t retry_after_ms;  /* server hint (Retry-After), 0 for none */
    uint32_t seq;            /* LL_EV_PONG: the sequence number it echoes */
} ll_event;

typedef enum ll_action_type {
    LL_ACT_CONNECT = 0,      /* open conn_id; attempt, probe */
    LL_ACT_PROBE_HTTP,       /* GET health_url as conn_id, report PROBE_* */
    LL_ACT_CLOSE,            /* close or abandon conn_id with close_code */
    LL_ACT_SEND_PING,        /* ping on conn_id carrying seq */
    LL_ACT_STATE,            /* old_state -> new_state (attempt, error, http) */
    LL_ACT_RETRY,            /* attempt will be made after delay_ms */
    LL_ACT_PONG,             /* a pong matched: rtt_ms, quality */
    LL_ACT_QUALITY,          /* the grade changed to quality */
    LL_ACT_SERVER_DOWN,      /* outage judged: attempt, error, outage_began_ms,
                                alert */
    LL_ACT_RECOVERED,        /* back after server_down: downtime_ms, alert */
    LL_ACT_COUNT
} ll_action_type;

typedef struct ll_action {
    ll_action_type type;
    uint32_t conn_id;
    int probe;               /* CONNECT: made as a probe in server_down */
    int close_code;          /* CLOSE: 1000 stop, 1001 going away (timeout) */
    int old_state, new_state;
    int attempt;
    int error;
    int http_status;
    int64_t delay_ms;
    uint32_t seq;
    int64_t rtt_ms;
    int quality;
    int64_t outage_began_ms;
    int64_t downtime_ms;
    int url_index;           /* CONNECT: the server to open (0: url, k:
                                fallback_urls[k-1]); RETRY: the one the retry
                                or probe will go to; any other: the one of
                                the attempt or connection in flight, or of
                                the last one (STATE, SERVER_DOWN: the last
                                that failed; RECOVERED: the one landed on) */
    int alert;               /* SERVER_DOWN: send the down alert (1), or the
                                throttle holds it back (0); RECOVERED: send
                                the recovered alert (1: this outage's down
                                alert was sent) */
} ll_action;

/* The most actions one ll_core_handle() can produce, and the size of
 * ll_core.actions: a ping timeout that closes (CLOSE), finds the retry
 * budget spent (STATE server_down, SERVER_DOWN, RETRY of the first probe)
 * and regrades (QUALITY). machine.c counts it step by step, next to the
 * code that emits, and checks the sum against this at compile time;
 * tests/unit/test_machine.c reaches it. */
#define LL_MAX_ACTIONS 5

typedef struct ll_core {
    /* settings, copied from the config at init */
    ll_backoff backoff;
    ll_quality_limits limits;
    int max_attempts;
    int url_count;           /* 1 + fallback_url_count */
    int attempt_budget;      /* max_attempts * url_count (at most INT_MAX):
                                failing this attempt judges server_down */
    int64_t stable_after_ms, down_ping_interval_ms, connect_timeout_ms;
    int64_t ping_interval_ms, ping_timeout_ms, rtt_good_ms;
    int use_health_probe;
    ll_rng rng;

    /* state */
    int state;
    int64_t state_since;
    int attempt;             /* reconnection attempt in this outage (0: none) */
    int url_index;           /* the server of the attempt or connection in
                                flight, or of the last one */
    int next_url;            /* the server the next attempt or probe goes to */
    uint32_t conn_id;        /* the attempt or connection in flight, if any */
    int in_flight;           /* an attempt or probe is outstanding */
    int probing;             /* in server_down: the in-flight one is a probe */
    int64_t wait_until;      /* retry or next probe; connect timeout */
    int64_t stable_at;       /* connected: when attempt resets to 0 */
    int64_t deadline;        /* computed at the end of each handle() */
    int ever_connected;

    /* heartbeat */
    uint32_t ping_seq;
    int ping_outstanding;
    int64_t ping_sent_at, ping_due_at, last_pong_at;
    int quality;
    ll_rtt_stats rtt;

    /* outage bookkeeping */
    int64_t down_since;      /* -1 when not in an outage */
    int outage_judged;       /* server_down entered during this outage */
    int64_t downtime_total_ms;
    uint64_t reconnections;
    int last_error, last_http_status;

    /* network changes (README.md, "Network changes") */
    int64_t net_acted_at;    /* the last early attempt, probe or ping made
                                for one; -1 for none */
    int net_pending;         /* a change came inside the window: acted on
                                at net_acted_at + LL_NETWORK_WINDOW_MS */
    int64_t hint_until;      /* the server's Retry-After holds the current
                                wait until then (-1: no hint) */

    /* the alert throttle: at most one down alert per alert_min_interval_ms
     * (kept across outages, stops and starts) */
    int64_t alert_min_interval_ms;
    int64_t down_alert_at;      /* the last down alert sent, -1 for none */
    int64_t down_alert_before;  /* down_alert_at before it, for unsent() */
    int outage_alerted;         /* this outage's down alert was sent */

    /* output of the last ll_core_handle() call */
    ll_action actions[LL_MAX_ACTIONS];
    size_t n_actions;
} ll_core;

/* cfg must have passed lifeline_config_validate(). */
void ll_core_init(ll_core *core, const lifeline_config *cfg, uint64_t seed);

/* Handle one event at now (monotonic ms, never decreasing). Fills
 * core->actions. Returns LIFELINE_OK, or LIFELINE_ERR_STATE for an
 * application event the current state does not allow (then no action). */
int ll_core_handle(ll_core *core, const ll_event *ev, int64_t now);

/* The down alert the last SERVER_DOWN action said to send could not be
 * handed over (the notifier refused it): it does not count against the
 * throttle, and the outage's recovered alert is not sent. */
void ll_core_down_alert_unsent(ll_core *core);

/* When the core wants LL_EV_TICK next, or LL_NO_DEADLINE. */
int64_t ll_core_deadline(const ll_core *core);

/* Time until the next retry or probe (0 when none is scheduled). */
int64_t ll_core_retry_in(const ll_core *core, int64_t now);

/* Downtime so far, the current outage included. */
int64_t ll_core_downtime(const ll_core *core, int64_t now);

/* Silence as the quality grade sees it (see machine.c). */
int64_t ll_core_silence(const ll_core *core, int64_t now);

#endif
