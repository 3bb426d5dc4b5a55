/* The connection state machine. See machine.h for the contract and the
 * README's "How lifeline reconnects" for the rules in prose.
 *
 * Attempt numbering: `attempt` is the reconnection attempt of the current
 * outage, 0 for the first connection or after a connection stayed up for
 * stable_after_ms. In `disconnected` it is the attempt that just failed and
 * the pending retry is attempt + 1; when attempt attempt_budget fails the
 * state becomes server_down.
 *
 * Servers (README, "Fallback servers"): url_index is the server of the
 * attempt in flight or the last one, next_url the one the next attempt or
 * probe goes to; with one server both are always 0. Reconnection attempts
 * go in passes of url_count: attempt a is in pass (a - 1) / url_count + 1,
 * and only the first attempt of a pass waits the backoff (of its pass).
 *
 * Network changes (README, "Network changes"): LL_EV_NETWORK_CHANGED makes
 * the wait's end now (the pending attempt, or probe) or checks an open
 * connection with a ping, at most once per LL_NETWORK_WINDOW_MS; attempt
 * numbers and the backoff draws are those of the schedule it shortens. */
#include "core/machine.h"

#include <assert.h>
#include <limits.h>
#include <string.h>

/* How many actions each step below emits at most (a step's count is the
 * sum of what it calls, or the largest of its branches). ll_core_handle()
 * runs one event's steps, then regrade(): its most is the largest event's
 * plus regrade's, which must fit ll_core.actions. Change a step, change
 * its line here. */
#define LL_MAX2(a, b) ((a) > (b) ? (a) : (b))
enum {
    ACTS_SET_STATE = 1,
    ACTS_REGRADE = 1,      /* QUALITY */
    ACTS_SEND_PING = 1,
    ACTS_ON_PONG = 1,      /* PONG */
    ACTS_CONNECT = 1,      /* connect_attempt(): CONNECT */
    ACTS_PROBE = 1,        /* probe(): PROBE_HTTP, or connect_attempt() */
    ACTS_CLOSE = 1,        /* abandon(), tick(): CLOSE */
    ACTS_SCHEDULE_PROBE = 1, /* RETRY */
    ACTS_SERVER_DOWN = ACTS_SET_STATE + 1 + ACTS_SCHEDULE_PROBE, /* + SERVER_DOWN */
    /* after_failure(): a probe's (error, or the next probe), a permanent
     * error, server_down, or disconnected and its RETRY */
    ACTS_AFTER_FAILURE = LL_MAX2(LL_MAX2(ACTS_SET_STATE, ACTS_SCHEDULE_PROBE),
                                 LL_MAX2(ACTS_SERVER_DOWN, ACTS_SET_STATE + 1)),
    ACTS_BEGIN = ACTS_SET_STATE + ACTS_CONNECT,
    ACTS_RETRY_NOW = ACTS_SET_STATE + ACTS_CONNECT,
    ACTS_OPENED = ACTS_SET_STATE + 1 + ACTS_SEND_PING, /* + RECOVERED */
    /* network_act(): the pending attempt, a probe, or a ping */
    ACTS_NETWORK = LL_MAX2(ACTS_RETRY_NOW, LL_MAX2(ACTS_PROBE, ACTS_SEND_PING)),
    /* the events */
    ACTS_EV_START = ACTS_BEGIN,
    ACTS_EV_STOP = ACTS_CLOSE + ACTS_SET_STATE,
    ACTS_EV_RECONNECT_NOW = LL_MAX2(LL_MAX2(ACTS_RETRY_NOW, ACTS_PROBE), ACTS_BEGIN),
    ACTS_EV_NETWORK_CHANGED = ACTS_NETWORK,
    /* tick(): a network change held back (network_act(), and then nothing
     * else), or a timeout (CLOSE, then after_failure() or lost(), which is
     * after_failure()), a retry, a probe, a ping */
    ACTS_EV_TICK = LL_MAX2(ACTS_NETWORK,
                           LL_MAX2(LL_MAX2(ACTS_CLOSE + ACTS_AFTER_FAILURE, ACTS_RETRY_NOW),
                                   LL_MAX2(ACTS_PROBE, ACTS_SEND_PING))),
    ACTS_EV_OPENED = ACTS_OPENED,
    ACTS_EV_FAILED = ACTS_AFTER_FAILURE, /* CONNECT_FAILED, CLOSED, PROBE_FAILED */
    ACTS_EV_PONG = ACTS_ON_PONG,
    ACTS_EV_PROBE_OK = ACTS_CONNECT,
    ACTS_EVENT_MAX = LL_MAX2(LL_MAX2(LL_MAX2(LL_MAX2(ACTS_EV_START, ACTS_EV_STOP),
                                             LL_MAX2(ACTS_EV_RECONNECT_NOW, ACTS_EV_TICK)),
                                     LL_MAX2(LL_MAX2(ACTS_EV_OPENED, ACTS_EV_FAILED),
                                             LL_MAX2(ACTS_EV_PONG, ACTS_EV_PROBE_OK))),
                             ACTS_EV_NETWORK_CHANGED),
    ACTS_HANDLE_MAX = ACTS_EVENT_MAX + ACTS_REGRADE,
};
_Static_assert(ACTS_HANDLE_MAX == LL_MAX_ACTIONS,
               "LL_MAX_ACTIONS is not the most one event can produce: recount");

static ll_action *emit(ll_core *c, ll_action_type type)
{
    assert(c->n_actions < LL_MAX_ACTIONS); /* proved above */
    ll_action *a = &c->actions[c->n_actions++];
    memset(a, 0, sizeof(*a));
    a->type = type;
    a->conn_id = c->conn_id;
    a->attempt = c->attempt;
    a->url_index = c->url_index;
    return a;
}

static void set_state(ll_core *c, int state, int64_t now, int error, int http)
{
    if (c->state == state)
        return;
    ll_action *a = emit(c, LL_ACT_STATE);
    a->old_state = c->state;
    a->new_state = state;
    a->error = error;
    a->http_status = http;
    c->state = state;
    c->state_since = now;
}

void ll_core_init(ll_core *c, const lifeline_config *cfg, uint64_t seed)
{
    memset(c, 0, sizeof(*c));
    c->backoff.base_delay_ms = cfg->base_delay_ms;
    c->backoff.max_delay_ms = cfg->max_delay_ms;
    c->backoff.jitter_ms = cfg->jitter_ms;
    c->backoff.jitter_mode = cfg->jitter_mode;
    ll_quality_limits_init(&c->limits, cfg->ping_interval_ms, cfg->rtt_good_ms,
                           cfg->rtt_poor_ms);
    c->max_attempts = cfg->max_attempts;
    /* validated: at most LIFELINE_MAX_FALLBACK_URLS fallbacks */
    c->url_count = 1 + (int)cfg->fallback_url_count;
    int64_t budget = (int64_t)cfg->max_attempts * c->url_count;
    c->attempt_budget = budget < INT_MAX ? (int)budget : INT_MAX;
    c->stable_after_ms = cfg->stable_after_ms;
    c->down_ping_interval_ms = cfg->down_ping_interval_ms;
    c->connect_timeout_ms = cfg->connect_timeout_ms;
    c->ping_interval_ms = cfg->ping_interval_ms;
    c->ping_timeout_ms = cfg->ping_timeout_ms;
    c->rtt_good_ms = cfg->rtt_good_ms;
    c->alert_min_interval_ms = cfg->alert_min_interval_ms;
    c->down_alert_at = -1;
    c->down_alert_before = -1;
    c->use_health_probe = cfg->health_url != NULL;
    ll_rng_seed(&c->rng, seed);
    c->state = LIFELINE_STATE_IDLE;
    c->quality = LIFELINE_QUALITY_UNKNOWN;
    c->last_pong_at = -1;
    c->down_since = -1;
    c->stable_at = LL_NO_DEADLINE;
    c->deadline = LL_NO_DEADLINE;
    c->net_acted_at = -1;
    c->hint_until = -1;
    ll_rtt_reset(&c->rtt);
}

/* ---- heartbeat and quality ---------------------------------------------- */

/* Time since the last pong, not counting the first rtt_good_ms of a ping in
 * flight: a pong that comes back in good time is not silence. Without that
 * grace a steady connection would read "good" for the instant between each
 * ping and its pong. */
int64_t ll_core_silence(const ll_core *c, int64_t now)
{
    if (c->last_pong_at < 0)
        return 0;
    int64_t s = now - c->last_pong_at;
    if (c->ping_outstanding) {
        int64_t flight = now - c->ping_sent_at;
        s -= flight < c->rtt_good_ms ? flight : c->rtt_good_ms;
    }
    return s;
}

static void regrade(ll_core *c, int64_t now)
{
    int q = LIFELINE_QUALITY_UNKNOWN;
    if (c->state == LIFELINE_STATE_CONNECTED && c->last_pong_at >= 0)
        q = ll_quality_grade(&c->limits, 1, ll_core_silence(c, now), c->rtt.srtt_ms);
    if (q != c->quality) {
        c->quality = q;
        emit(c, LL_ACT_QUALITY)->quality = q;
    }
}

/* When the silence will next cross a grade limit (LL_NO_DEADLINE if never). */
static int64_t quality_deadline(const ll_core *c, int64_t now)
{
    if (c->state != LIFELINE_STATE_CONNECTED || c->last_pong_at < 0)
        return LL_NO_DEADLINE;
    int64_t s = ll_core_silence(c, now);
    int64_t limit = s < c->limits.silence_excellent_ms ? c->limits.silence_excellent_ms
                  : s < c->limits.silence_good_ms      ? c->limits.silence_good_ms
                                                       : -1;
    if (limit < 0)
        return LL_NO_DEADLINE;
    int64_t t = c->last_pong_at + limit + (c->ping_outstanding ? c->rtt_good_ms : 0);
    return t > now ? t : now + 1;
}

static void send_ping(ll_core *c, int64_t now)
{
    c->ping_seq++;
    c->ping_outstanding = 1;
    c->ping_sent_at = now;
    c->ping_due_at += c->ping_interval_ms;
    if (c->ping_due_at <= now) /* the loop was late: keep the cadence from now */
        c->ping_due_at = now + c->ping_interval_ms;
    emit(c, LL_ACT_SEND_PING)->seq = c->ping_seq;
}

static void on_pong(ll_core *c, uint32_t seq, int64_t now)
{
    if (!c->ping_outstanding || seq != c->ping_seq)
        return; /* stale or unknown: ignored */
    int64_t rtt = now - c->ping_sent_at;
    ll_rtt_add(&c->rtt, rtt);
    c->ping_outstanding = 0;
    c->last_pong_at = now;
    ll_action *a = emit(c, LL_ACT_PONG);
    a->seq = seq;
    a->rtt_ms = rtt;
    a->quality = ll_quality_grade(&c->limits, 1, 0, c->rtt.srtt_ms);
}

/* ---- attempts, failures, outages ------------------------------------------ */

/* The next attempt or probe goes to next_url: it is now the one in use. */
static void aim(ll_core *c)
{
    c->url_index = c->next_url;
}

static void connect_attempt(ll_core *c, int64_t now, int probe)
{
    aim(c);
    c->conn_id++;
    c->in_flight = 1;
    c->probing = probe;
    c->net_pending = 0; /* it sees the network as it is now */
    c->wait_until = now + c->connect_timeout_ms;
    emit(c, LL_ACT_CONNECT)->probe = probe;
}

static void probe(ll_core *c, int64_t now)
{
    if (!c->use_health_probe) {
        connect_attempt(c, now, 1);
        return;
    }
    c->conn_id++;
    c->in_flight = 1;
    c->probing = 2; /* 2: the HTTP health check, 1: the connection after it */
    c->net_pending = 0; /* it sees the network as it is now */
    c->wait_until = now + c->connect_timeout_ms;
    emit(c, LL_ACT_PROBE_HTTP)->probe = 1;
}

static void begin(ll_core *c, int64_t now)
{
    c->attempt = 0;
    c->in_flight = 0;
    c->probing = 0;
    c->down_since = -1;
    c->outage_judged = 0;
    c->outage_alerted = 0;
    c->net_pending = 0;
    c->hint_until = -1;
    c->next_url = 0; /* a start goes to url first */
    aim(c);
    set_state(c, LIFELINE_STATE_CONNECTING, now, LIFELINE_OK, 0);
    connect_attempt(c, now, 0);
}

static void abandon(ll_core *c, int close_code)
{
    if (c->in_flight || c->state == LIFELINE_STATE_CONNECTED)
        emit(c, LL_ACT_CLOSE)->close_code = close_code;
    c->in_flight = 0;
    c->probing = 0;
    c->ping_outstanding = 0;
}

static void schedule_probe(ll_core *c, int64_t now, int64_t hint_ms)
{
    int64_t delay = c->down_ping_interval_ms;
    if (hint_ms > 0) {
        int64_t hint = hint_ms < c->backoff.max_delay_ms ? hint_ms : c->backoff.max_delay_ms;
        if (hint > delay)
            delay = hint;
    }
    c->wait_until = now + delay;
    ll_action *a = emit(c, LL_ACT_RETRY);
    a->probe = 1;
    a->delay_ms = delay;
    a->url_index = c->next_url;
}

static void enter_server_down(ll_core *c, int64_t now)
{
    set_state(c, LIFELINE_STATE_SERVER_DOWN, now, c->last_error, c->last_http_status);
    c->outage_judged = 1;
    ll_action *a = emit(c, LL_ACT_SERVER_DOWN);
    a->error = c->last_error;
    a->http_status = c->last_http_status;
    a->outage_began_ms = c->down_since;
    /* the throttle: however the server flaps, one down alert per
     * alert_min_interval_ms; a recovered alert only pairs with a sent one */
    a->alert = c->down_alert_at < 0 || now - c->down_alert_at >= c->alert_min_interval_ms;
    c->outage_alerted = a->alert;
    if (a->alert) {
        c->down_alert_before = c->down_alert_at;
        c->down_alert_at = now;
    }
    schedule_probe(c, now, 0);
}

void ll_core_down_alert_unsent(ll_core *c)
{
    if (!c->outage_alerted)
        return;
    c->outage_alerted = 0;
    c->down_alert_at = c->down_alert_before;
}

/* The wait before reconnection attempt a (>= 1): the backoff of its pass
 * for the first attempt of a pass, none for the others; a server's hint
 * raises either to min(hint, max_delay_ms). With one server every attempt
 * is the first of its pass, and this is ll_backoff_delay(a) exactly (the
 * generator is drawn the same). */
static int64_t attempt_delay(ll_core *c, int a, int64_t hint_ms)
{
    int pass = (a - 1) / c->url_count + 1;
    if ((a - 1) % c->url_count == 0)
        return ll_backoff_delay(&c->backoff, pass, hint_ms, &c->rng);
    if (hint_ms <= 0)
        return 0;
    return hint_ms < c->backoff.max_delay_ms ? hint_ms : c->backoff.max_delay_ms;
}

/* A failed attempt or a lost connection (dropped: it had opened): error,
 * backoff or server_down. */
static void after_failure(ll_core *c, const ll_event *ev, int64_t now, int dropped)
{
    /* the next server: the same after a drop (it worked), the next after a
     * failed attempt; a failed health check tried no server */
    if (c->probing != 2)
        c->next_url = dropped ? c->url_index : (c->url_index + 1) % c->url_count;
    c->in_flight = 0;
    c->last_error = ev->error;
    c->last_http_status = ev->http_status;
    /* the server asked for this wait: a network change does not cut it */
    c->hint_until = -1;
    if (ev->retry_after_ms > 0)
        c->hint_until = now + (ev->retry_after_ms < c->backoff.max_delay_ms
                                   ? ev->retry_after_ms
                                   : c->backoff.max_delay_ms);
    if (c->down_since < 0)
        c->down_since = now;

    if (c->state == LIFELINE_STATE_SERVER_DOWN) { /* a probe failed */
        c->probing = 0;
        if (ev->permanent)
            set_state(c, LIFELINE_STATE_ERROR, now, ev->error, ev->http_status);
        else
            schedule_probe(c, now, ev->retry_after_ms);
        return;
    }
    if (ev->permanent) {
        set_state(c, LIFELINE_STATE_ERROR, now, ev->error, ev->http_status);
        return;
    }
    if (c->attempt >= c->attempt_budget) {
        enter_server_down(c, now);
        return;
    }
    set_state(c, LIFELINE_STATE_DISCONNECTED, now, ev->error, ev->http_status);
    int64_t delay = attempt_delay(c, c->attempt + 1, ev->retry_after_ms);
    c->wait_until = now + delay;
    ll_action *a = emit(c, LL_ACT_RETRY);
    a->attempt = c->attempt + 1;
    a->delay_ms = delay;
    a->url_index = c->next_url;
}

static void retry_now(ll_core *c, int64_t now)
{
    c->attempt++;
    aim(c); /* the state change names the server about to be tried */
    set_state(c, LIFELINE_STATE_CONNECTING, now, LIFELINE_OK, 0);
    connect_attempt(c, now, 0);
}

static void opened(ll_core *c, int64_t now)
{
    int was_probe = c->probing;
    c->in_flight = 0;
    c->probing = 0;
    c->net_pending = 0; /* its first ping, now, checks it on today's network */
    if (was_probe)
        c->attempt = 0;
    set_state(c, LIFELINE_STATE_CONNECTED, now, LIFELINE_OK, 0);
    if (c->ever_connected)
        c->reconnections++;
    c->ever_connected = 1;
    if (c->down_since >= 0) {
        int64_t down = now - c->down_since;
        c->downtime_total_ms += down;
        if (c->outage_judged) {
            ll_action *a = emit(c, LL_ACT_RECOVERED);
            a->downtime_ms = down;
            a->alert = c->outage_alerted;
        }
        c->down_since = -1;
        c->outage_judged = 0;
        c->outage_alerted = 0;
    }
    c->stable_at = c->attempt > 0 ? now + c->stable_after_ms : LL_NO_DEADLINE;
    /* the first ping goes out at once so the grade is known within one RTT */
    c->last_pong_at = -1;
    c->ping_outstanding = 0;
    c->ping_due_at = now;
    send_ping(c, now);
}

static void lost(ll_core *c, const ll_event *ev, int64_t now)
{
    c->ping_outstanding = 0;
    c->stable_at = LL_NO_DEADLINE;
    after_failure(c, ev, now, 1);
}

/* ---- network changes ------------------------------------------------------ */

/* The states a network change can do something in (the others drop it). */
static int network_matters(const ll_core *c)
{
    return c->state == LIFELINE_STATE_CONNECTING || c->state == LIFELINE_STATE_CONNECTED ||
           c->state == LIFELINE_STATE_DISCONNECTED || c->state == LIFELINE_STATE_SERVER_DOWN;
}

/* What a network change does now: the pending attempt (disconnected) or
 * probe (server_down) at once, unless the server's Retry-After still holds
 * the wait; a ping now on an open connection that has none in flight (a
 * connection the change broke is then found within ping_timeout_ms); else
 * nothing (an attempt or a probe is in flight: it ends by itself). Returns
 * 1 when it did something, which starts a window. */
static int network_act(ll_core *c, int64_t now)
{
    switch (c->state) {
    case LIFELINE_STATE_DISCONNECTED:
        if (now < c->hint_until)
            return 0;
        retry_now(c, now); /* the attempt that was pending, same number */
        break;
    case LIFELINE_STATE_SERVER_DOWN:
        if (c->in_flight || now < c->hint_until)
            return 0;
        probe(c, now);
        break;
    case LIFELINE_STATE_CONNECTED:
        if (c->ping_outstanding)
            return 0;
        c->ping_due_at = now; /* the cadence goes on from this ping */
        send_ping(c, now);
        break;
    default:
        return 0;
    }
    c->net_acted_at = now;
    return 1;
}

static int64_t network_window_end(const ll_core *c)
{
    return c->net_acted_at < 0 ? INT64_MIN : c->net_acted_at + LL_NETWORK_WINDOW_MS;
}

/* A change: acted on now, or when the window of the last one acted on
 * ends (however many come meanwhile: one). */
static void network_changed(ll_core *c, int64_t now)
{
    if (!network_matters(c))
        return;
    /* a ping in flight checks the connection: its pong crosses the
     * network as it is now, or it times out */
    if (c->state == LIFELINE_STATE_CONNECTED && c->ping_outstanding)
        return;
    if (now < network_window_end(c))
        c->net_pending = 1;
    else
        network_act(c, now);
}

static void tick(ll_core *c, int64_t now)
{
    if (c->net_pending && now >= network_window_end(c)) {
        c->net_pending = 0;
        if (network_matters(c) && network_act(c, now))
            return; /* what else is due comes at the next deadline: now */
    }
    switch (c->state) {
    case LIFELINE_STATE_CONNECTING:
        if (c->in_flight && now >= c->wait_until) {
            emit(c, LL_ACT_CLOSE)->close_code = 1001;
            after_failure(c, &(ll_event){.error = LIFELINE_ERR_CONNECT_TIMEOUT}, now, 0);
        }
        break;
    case LIFELINE_STATE_DISCONNECTED:
        if (now >= c->wait_until)
            retry_now(c, now);
        break;
    case LIFELINE_STATE_SERVER_DOWN:
        if (now < c->wait_until)
            break;
        if (c->in_flight) { /* the probe timed out */
            emit(c, LL_ACT_CLOSE)->close_code = 1001;
            after_failure(c, &(ll_event){.error = LIFELINE_ERR_CONNECT_TIMEOUT}, now, 0);
        } else {
            probe(c, now);
        }
        break;
    case LIFELINE_STATE_CONNECTED:
        if (c->ping_outstanding && now >= c->ping_sent_at + c->ping_timeout_ms) {
            c->rtt.timeouts++;
            emit(c, LL_ACT_CLOSE)->close_code = 1001;
            lost(c, &(ll_event){.error = LIFELINE_ERR_PING_TIMEOUT}, now);
            break;
        }
        if (now >= c->stable_at) {
            c->attempt = 0;
            c->stable_at = LL_NO_DEADLINE;
        }
        if (now >= c->ping_due_at)
            send_ping(c, now);
        break;
    default:
        break;
    }
}

static int64_t state_deadline(const ll_core *c, int64_t now)
{
    switch (c->state) {
    case LIFELINE_STATE_CONNECTING:
    case LIFELINE_STATE_DISCONNECTED:
    case LIFELINE_STATE_SERVER_DOWN:
        return c->wait_until;
    case LIFELINE_STATE_CONNECTED: {
        int64_t d = c->ping_outstanding ? c->ping_sent_at + c->ping_timeout_ms
                                        : c->ping_due_at;
        if (c->stable_at < d)
            d = c->stable_at;
        int64_t q = quality_deadline(c, now);
        return q < d ? q : d;
    }
    default:
        return LL_NO_DEADLINE;
    }
}

static int64_t compute_deadline(const ll_core *c, int64_t now)
{
    int64_t d = state_deadline(c, now);
    if (c->net_pending && network_matters(c)) {
        int64_t w = network_window_end(c);
        if (w < d)
            d = w > now ? w : now;
    }
    return d;
}

/* Is ev about the attempt or connection the core is waiting on? */
static int current(const ll_core *c, const ll_event *ev)
{
    return ev->conn_id == c->conn_id;
}

int ll_core_handle(ll_core *c, const ll_event *given, int64_t now)
{
    /* a failure's facts, judged: error, permanent, the server's hint */
    ll_event judged;
    const ll_event *ev = given;
    if (given->failure.kind != LL_FAIL_NONE) {
        ll_failure_verdict v = ll_failure_judge(&given->failure);
        judged = *given;
        judged.error = v.error;
        judged.http_status = v.http_status;
        judged.permanent = v.permanent;
        judged.retry_after_ms = v.retry_after_ms;
        ev = &judged;
    }
    c->n_actions = 0;
    int st = c->state;
    int attempting = c->in_flight && current(c, ev);

    switch (ev->type) {
    case LL_EV_START:
        if (st != LIFELINE_STATE_IDLE && st != LIFELINE_STATE_ERROR &&
            st != LIFELINE_STATE_CLOSED)
            return LIFELINE_ERR_STATE;
        begin(c, now);
        break;
    case LL_EV_STOP:
        if (st == LIFELINE_STATE_CLOSED)
            return LIFELINE_OK;
        abandon(c, 1000);
        if (c->down_since >= 0) {
            c->downtime_total_ms += now - c->down_since;
            c->down_since = -1;
        }
        c->stable_at = LL_NO_DEADLINE;
        c->net_pending = 0;
        set_state(c, LIFELINE_STATE_CLOSED, now, LIFELINE_ERR_STOPPED, 0);
        break;
    case LL_EV_RECONNECT_NOW:
        if (st == LIFELINE_STATE_IDLE || st == LIFELINE_STATE_CLOSED)
            return LIFELINE_ERR_STATE;
        if (st == LIFELINE_STATE_DISCONNECTED)
            retry_now(c, now);
        else if (st == LIFELINE_STATE_SERVER_DOWN && !c->in_flight)
            probe(c, now);
        else if (st == LIFELINE_STATE_ERROR)
            begin(c, now);
        break; /* connecting, connected, a probe in flight: nothing to skip */
    case LL_EV_NETWORK_CHANGED:
        network_changed(c, now);
        break;
    case LL_EV_TICK:
        tick(c, now);
        break;
    case LL_EV_OPENED:
        if (attempting && c->probing != 2 &&
            (st == LIFELINE_STATE_CONNECTING || st == LIFELINE_STATE_SERVER_DOWN))
            opened(c, now);
        break;
    case LL_EV_CONNECT_FAILED:
        if (attempting && c->probing != 2 &&
            (st == LIFELINE_STATE_CONNECTING || st == LIFELINE_STATE_SERVER_DOWN))
            after_failure(c, ev, now, 0);
        break;
    case LL_EV_CLOSED:
        if (st == LIFELINE_STATE_CONNECTED && current(c, ev))
            lost(c, ev, now);
        else if (attempting && c->probing != 2)
            after_failure(c, ev, now, 0); /* closed before it opened */
        break;
    case LL_EV_PONG:
        if (st == LIFELINE_STATE_CONNECTED && current(c, ev))
            on_pong(c, ev->seq, now);
        break;
    case LL_EV_PROBE_OK:
        if (attempting && c->probing == 2 && st == LIFELINE_STATE_SERVER_DOWN)
            connect_attempt(c, now, 1);
        break;
    case LL_EV_PROBE_FAILED:
        if (attempting && c->probing == 2 && st == LIFELINE_STATE_SERVER_DOWN)
            after_failure(c, ev, now, 0);
        break;
    default:
        return LIFELINE_ERR_INVALID_ARGUMENT;
    }
    regrade(c, now);
    c->deadline = compute_deadline(c, now);
    return LIFELINE_OK;
}

int64_t ll_core_deadline(const ll_core *c)
{
    return c->deadline;
}

int64_t ll_core_retry_in(const ll_core *c, int64_t now)
{
    int waiting = c->state == LIFELINE_STATE_DISCONNECTED ||
                  (c->state == LIFELINE_STATE_SERVER_DOWN && !c->in_flight);
    if (!waiting || c->wait_until <= now)
        return 0;
    return c->wait_until - now;
}

int64_t ll_core_downtime(const ll_core *c, int64_t now)
{
    return c->downtime_total_ms + (c->down_since >= 0 ? now - c->down_since : 0);
}
