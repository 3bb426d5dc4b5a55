/* A virtual-time simulator for the connection core: a clock, a simulated
 * server that answers the core's actions after a latency, and a log of every
 * action. Header-only so each test file stays self-contained.
 *
 * The simulator plays the adapter's loop exactly: it wakes at the core's
 * deadline (LL_EV_TICK) or when a simulated answer is due, whichever comes
 * first, and never sleeps past either. */
#ifndef LL_TEST_SIM_H
#define LL_TEST_SIM_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/machine.h"
#include "machine_names.h"

typedef enum sim_server {
    SIM_UP = 0,           /* accepts, answers pings after rtt_ms */
    SIM_DOWN,             /* refuses connections (transient) */
    SIM_ACCEPT_CLOSE,     /* accepts, then closes at once */
    SIM_SILENT,           /* accepts, never answers pings */
    SIM_REJECT_401,       /* refuses the upgrade with 401 (permanent) */
    SIM_BLACKHOLE,        /* never answers a connection attempt */
    SIM_503_RETRY_AFTER,  /* refuses with 503 and Retry-After: retry_after_ms */
    SIM_MANUAL            /* the test answers by hand */
} sim_server;

#define SIM_MAX_LOG 8192
#define SIM_MAX_PENDING 16

typedef struct sim_logged {
    int64_t at;
    ll_action act;
} sim_logged;

typedef struct sim {
    ll_core core;
    lifeline_config cfg;
    int64_t now;
    sim_server server;
    int64_t latency_ms;    /* connection and probe answers */
    int64_t rtt_ms;        /* pong after a ping */
    int64_t retry_after_ms;
    int health_ok;         /* what a PROBE_HTTP answers */
    /* per_url: each server of the list behaves as url_server[its index]
     * (else all as server); conn_url is the one last opened */
    int per_url;
    sim_server url_server[LIFELINE_MAX_FALLBACK_URLS + 1];
    int conn_url;
    struct { int64_t at; ll_event ev; } pending[SIM_MAX_PENDING];
    size_t n_pending;
    sim_logged log[SIM_MAX_LOG];
    size_t n_log;
} sim;

static inline void sim_config(lifeline_config *cfg)
{
    lifeline_config_init(cfg);
    cfg->url = "ws://sim.invalid/ws";
}

/* Initialise with the config in s->cfg (call sim_config() and edit it
 * first, or pass NULL to use the defaults). */
static inline void sim_init(sim *s, const lifeline_config *cfg, uint64_t seed)
{
    memset(s, 0, sizeof(*s));
    if (cfg)
        s->cfg = *cfg;
    else
        sim_config(&s->cfg);
    s->latency_ms = 10;
    s->rtt_ms = 1;
    s->health_ok = 1;
    ll_core_init(&s->core, &s->cfg, seed);
}

static inline void sim_pend(sim *s, int64_t at, ll_event ev)
{
    if (s->n_pending < SIM_MAX_PENDING) {
        s->pending[s->n_pending].at = at;
        s->pending[s->n_pending].ev = ev;
        s->n_pending++;
    }
}

/* Which server answers a: the one it connects to, else the one last
 * opened. */
static inline sim_server sim_server_for(sim *s, const ll_action *a)
{
    if (a->type == LL_ACT_CONNECT)
        s->conn_url = a->url_index;
    return s->per_url ? s->url_server[s->conn_url] : s->server;
}

/* The simulated server's answer to one action. */
static inline void sim_answer(sim *s, const ll_action *a)
{
    int64_t t = s->now + s->latency_ms;
    uint32_t id = a->conn_id;
    sim_server server = sim_server_for(s, a);
    if (a->type == LL_ACT_PROBE_HTTP && server != SIM_MANUAL) {
        ll_event ev = {.type = s->health_ok ? LL_EV_PROBE_OK : LL_EV_PROBE_FAILED,
                       .conn_id = id, .error = LIFELINE_ERR_PROBE_FAILED};
        sim_pend(s, t, ev);
        return;
    }
    if (a->type == LL_ACT_SEND_PING) {
        if (server == SIM_UP)
            sim_pend(s, s->now + s->rtt_ms,
                     (ll_event){.type = LL_EV_PONG, .conn_id = id, .seq = a->seq});
        return;
    }
    if (a->type != LL_ACT_CONNECT)
        return;
    switch (server) {
    case SIM_UP:
    case SIM_SILENT:
        sim_pend(s, t, (ll_event){.type = LL_EV_OPENED, .conn_id = id});
        break;
    case SIM_DOWN:
        sim_pend(s, t, (ll_event){.type = LL_EV_CONNECT_FAILED, .conn_id = id,
                                  .error = LIFELINE_ERR_CONNECTION_REFUSED});
        break;
    case SIM_ACCEPT_CLOSE:
        sim_pend(s, t, (ll_event){.type = LL_EV_OPENED, .conn_id = id});
        sim_pend(s, t + 1, (ll_event){.type = LL_EV_CLOSED, .conn_id = id,
                                      .error = LIFELINE_ERR_CLOSED_BY_PEER});
        break;
    case SIM_REJECT_401:
        sim_pend(s, t, (ll_event){.type = LL_EV_CONNECT_FAILED, .conn_id = id,
                                  .error = LIFELINE_ERR_HTTP_STATUS,
                                  .http_status = 401, .permanent = 1});
        break;
    case SIM_503_RETRY_AFTER:
        sim_pend(s, t, (ll_event){.type = LL_EV_CONNECT_FAILED, .conn_id = id,
                                  .error = LIFELINE_ERR_HTTP_STATUS, .http_status = 503,
                                  .retry_after_ms = s->retry_after_ms});
        break;
    case SIM_BLACKHOLE:
    case SIM_MANUAL:
        break;
    }
}

/* Feed one event at s->now; log and answer its actions. */
static inline int sim_event(sim *s, ll_event ev)
{
    int rc = ll_core_handle(&s->core, &ev, s->now);
    for (size_t i = 0; i < s->core.n_actions; i++) {
        const ll_action *a = &s->core.actions[i];
        if (s->n_log < SIM_MAX_LOG) {
            s->log[s->n_log].at = s->now;
            s->log[s->n_log].act = *a;
            s->n_log++;
        }
        sim_answer(s, a);
    }
    return rc;
}

static inline int sim_app(sim *s, ll_event_type type)
{
    return sim_event(s, (ll_event){.type = type});
}

/* Run the loop until virtual time `until`: ticks at each deadline and the
 * simulated answers as they come due, in time order. */
static inline void sim_run_until(sim *s, int64_t until)
{
    for (;;) {
        int64_t next = ll_core_deadline(&s->core);
        size_t pi = SIM_MAX_PENDING;
        for (size_t i = 0; i < s->n_pending; i++)
            if (pi == SIM_MAX_PENDING || s->pending[i].at < s->pending[pi].at)
                pi = i;
        /* an answer due at the same instant as a deadline arrives first */
        if (pi != SIM_MAX_PENDING && s->pending[pi].at <= next)
            next = s->pending[pi].at;
        else
            pi = SIM_MAX_PENDING;
        if (next > until)
            break;
        if (next > s->now)
            s->now = next;
        if (pi != SIM_MAX_PENDING) {
            ll_event ev = s->pending[pi].ev;
            s->pending[pi] = s->pending[--s->n_pending];
            sim_event(s, ev);
        } else {
            sim_app(s, LL_EV_TICK);
        }
    }
    if (until > s->now)
        s->now = until;
}

static inline void sim_run_for(sim *s, int64_t ms)
{
    sim_run_until(s, s->now + ms);
}

/* Run until the core enters `state` or `limit` ms pass; returns 1 if it did. */
static inline int sim_run_to_state(sim *s, int state, int64_t limit)
{
    int64_t end = s->now + limit;
    while (s->core.state != state && s->now < end) {
        int64_t d = ll_core_deadline(&s->core);
        int64_t step = end;
        if (d < step)
            step = d;
        for (size_t i = 0; i < s->n_pending; i++)
            if (s->pending[i].at < step)
                step = s->pending[i].at;
        sim_run_until(s, step);
    }
    return s->core.state == state;
}

/* Count logged actions of a type (from log index `from`). */
static inline size_t sim_count(const sim *s, ll_action_type type, size_t from)
{
    size_t n = 0;
    for (size_t i = from; i < s->n_log; i++)
        n += s->log[i].act.type == type;
    return n;
}

/* The index of the k-th (0-based) logged action of a type, or -1. */
static inline long sim_find(const sim *s, ll_action_type type, size_t k)
{
    for (size_t i = 0; i < s->n_log; i++)
        if (s->log[i].act.type == type && k-- == 0)
            return (long)i;
    return -1;
}

/* The log as a trace, one line an action, for failure messages. (Kept
 * this small: a larger one changes how GCC inlines test_machine.c's
 * logged(), and -Warray-bounds then misreads its i < 0 check, which ends
 * in fail_msg(); test_machine_fallback.c prints the servers itself.) */
static inline void sim_dump(const sim *s)
{
    for (size_t i = 0; i < s->n_log; i++) {
        const ll_action *a = &s->log[i].act;
        fprintf(stderr, "# %8lld %-11s", (long long)s->log[i].at, sim_action_name(a->type));
        if (a->type == LL_ACT_STATE)
            fprintf(stderr, " %s -> %s attempt=%d", lifeline_state_name(a->old_state),
                    lifeline_state_name(a->new_state), a->attempt);
        if (a->type == LL_ACT_RETRY)
            fprintf(stderr, " attempt=%d delay=%lld probe=%d", a->attempt,
                    (long long)a->delay_ms, a->probe);
        if (a->type == LL_ACT_QUALITY || a->type == LL_ACT_PONG)
            fprintf(stderr, " %s", lifeline_quality_name(a->quality));
        fprintf(stderr, "\n");
    }
}

#endif
