/* The connection core's rules, each run in virtual time against a simulated
 * server (sim.h). Times are virtual milliseconds; nothing here sleeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sim.h"

#define LAT 10 /* the simulated server answers a connection attempt in 10 ms */

static sim S; /* large: keep it off the stack */

static void start_with(const lifeline_config *cfg, sim_server server, uint64_t seed)
{
    sim_init(&S, cfg, seed);
    S.server = server;
    assert_int_equal(sim_app(&S, LL_EV_START), LIFELINE_OK);
}

static const ll_action *logged(long i)
{
    if (i < 0) {
        sim_dump(&S);
        fail_msg("expected action not logged");
    }
    return &S.log[i].act;
}

static int64_t logged_at(long i)
{
    logged(i);
    return S.log[i].at;
}

/* ---- the reconnection schedule -------------------------------------------- */

static void default_schedule_waits_5_10_20_30_30_seconds_plus_jitter(void **state)
{
    (void)state;
    start_with(NULL, SIM_DOWN, 99);
    assert_true(sim_run_to_state(&S, LIFELINE_STATE_SERVER_DOWN, 10 * 60 * 1000));
    const int64_t ceiling[] = {5000, 10000, 20000, 30000, 30000};
    for (int n = 1; n <= 5; n++) {
        const ll_action *r = logged(sim_find(&S, LL_ACT_RETRY, (size_t)n - 1));
        assert_int_equal(r->attempt, n);
        assert_true(r->delay_ms >= ceiling[n - 1] && r->delay_ms < ceiling[n - 1] + 1000);
        /* attempt n is made exactly when its wait ends */
        long ci = sim_find(&S, LL_ACT_CONNECT, (size_t)n);
        assert_int_equal(logged(ci)->attempt, n);
        assert_int_equal(logged_at(ci), logged_at(sim_find(&S, LL_ACT_RETRY, (size_t)n - 1)) + r->delay_ms);
    }
}

static void server_down_follows_exactly_max_attempts_failed_attempts(void **state)
{
    (void)state;
    for (int max = 1; max <= 8; max++) {
        lifeline_config cfg;
        sim_config(&cfg);
        cfg.max_attempts = max;
        start_with(&cfg, SIM_DOWN, (uint64_t)max);
        assert_true(sim_run_to_state(&S, LIFELINE_STATE_SERVER_DOWN, 60 * 60 * 1000));
        /* the first connection plus max reconnection attempts */
        assert_int_equal(sim_count(&S, LL_ACT_CONNECT, 0), (size_t)max + 1);
        assert_int_equal(sim_count(&S, LL_ACT_RETRY, 0), (size_t)max + 1); /* + first probe */
        const ll_action *down = logged(sim_find(&S, LL_ACT_SERVER_DOWN, 0));
        assert_int_equal(down->attempt, max);
        assert_int_equal(down->error, LIFELINE_ERR_CONNECTION_REFUSED);
        assert_int_equal(down->outage_began_ms, LAT); /* the first failure */
        assert_int_equal(S.core.attempt, max);
    }
}

static void delays_cap_at_max_delay(void **state)
{
    (void)state;
    lifeline_config cfg;
    sim_config(&cfg);
    cfg.max_attempts = 12;
    start_with(&cfg, SIM_DOWN, 5);
    assert_true(sim_run_to_state(&S, LIFELINE_STATE_SERVER_DOWN, 60 * 60 * 1000));
    for (size_t k = 3; k < 12; k++) {
        const ll_action *r = logged(sim_find(&S, LL_ACT_RETRY, k));
        assert_true(r->delay_ms >= 30000 && r->delay_ms < 31000);
    }
}

static void full_jitter_mode_waits_within_zero_and_the_ceiling(void **state)
{
    (void)state;
    lifeline_config cfg;
    sim_config(&cfg);
    cfg.jitter_mode = LIFELINE_JITTER_FULL;
    cfg.max_attempts = 8;
    int below_half = 0;
    for (uint64_t seed = 1; seed <= 40; seed++) {
        start_with(&cfg, SIM_DOWN, seed);
        assert_true(sim_run_to_state(&S, LIFELINE_STATE_SERVER_DOWN, 60 * 60 * 1000));
        for (size_t k = 0; k < 8; k++) {
            const ll_action *r = logged(sim_find(&S, LL_ACT_RETRY, k));
            int64_t ceiling = ll_backoff_ceiling(&S.core.backoff, r->attempt);
            assert_true(r->delay_ms >= 0 && r->delay_ms <= ceiling);
            below_half += r->delay_ms < ceiling / 2;
        }
    }
    /* spread over the window, not bunched at its end: about half below half */
    assert_true(below_half > 320 * 0.35 && below_half < 320 * 0.65);
}

static void first_connection_is_retried_like_a_reconnection(void **state)
{
    (void)state;
    start_with(NULL, SIM_DOWN, 3);
    sim_run_for(&S, LAT);
    assert_int_equal(S.core.state, LIFELINE_STATE_DISCONNECTED);
    const ll_action *r = logged(sim_find(&S, LL_ACT_RETRY, 0));
    assert_int_equal(r->attempt, 1);
    /* the server comes up while the kiosk waits: the retry connects */
    S.server = SIM_UP;
    assert_true(sim_run_to_state(&S, LIFELINE_STATE_CONNECTED, 7000));
    assert_int_equal(S.core.attempt, 1);
}

static void same_seed_gives_the_same_trace(void **state)
{
    (void)state;
    static sim a;
    start_with(NULL, SIM_DOWN, 2024);
    sim_run_for(&S, 30 * 60 * 1000);
    a = S;
    start_with(NULL, SIM_DOWN, 2024);
    sim_run_for(&S, 30 * 60 * 1000);
    assert_int_equal(a.n_log, S.n_log);
    for (size_t i = 0; i < S.n_log; i++) {
        assert_int_equal(a.log[i].at, S.log[i].at);
        assert_int_equal(a.log[i].act.type, S.log[i].act.type);
        assert_int_equal(a.log[i].act.delay_ms, S.log[i].act.delay_ms);
    }
}

static void retry_after_hint_is_honoured_up_to_max_delay(void **state)
{
    (void)state;
    sim_init(&S, NULL, 1);
    S.server = SIM_503_RETRY_AFTER;
    S.retry_after_ms = 20000;
    sim_app(&S, LL_EV_START);
    sim_run_for(&S, LAT);
    const ll_action *r = logged(sim_find(&S, LL_ACT_RETRY, 0));
    assert_int_equal(r->delay_ms, 20000);
    const ll_action *st = logged(sim_find(&S, LL_ACT_STATE, 1));
    assert_int_equal(st->new_state, LIFELINE_STATE_DISCONNECTED);
    assert_int_equal(st->http_status, 503);
    S.retry_after_ms = 3600 * 1000;
    sim_run_to_state(&S, LIFELINE_STATE_CONNECTING, 30000);
    sim_run_for(&S, LAT);
    assert_int_equal(logged(sim_find(&S, LL_ACT_RETRY, 1))->delay_ms, 30000);
}

static void connect_timeout_abandons_the_attempt(void **state)
{
    (void)state;
    start_with(NULL, SIM_BLACKHOLE, 1);
    sim_run_for(&S, 10000);
    const ll_action *c = logged(sim_find(&S, LL_ACT_CLOSE, 0));
    assert_int_equal(c->conn_id, 1);
    assert_int_equal(logged_at(sim_find(&S, LL_ACT_CLOSE, 0)), 10000);
    assert_int_equal(S.core.state, LIFELINE_STATE_DISCONNECTED);
    assert_int_equal(S.core.last_error, LIFELINE_ERR_CONNECT_TIMEOUT);
    /* the late answer of the abandoned attempt is ignored */
    assert_int_equal(sim_event(&S, (ll_event){.type = LL_EV_OPENED, .conn_id = 1}), 0);
    assert_int_equal(S.core.state, LIFELINE_STATE_DISCONNECTED);
    assert_int_equal(S.core.n_actions, 0);
}

/* ---- server_down and recovery --------------------------------------------- */

static void server_down_probes_every_down_ping_interval(void **state)
{
    (void)state;
    start_with(NULL, SIM_DOWN, 4);
    assert_true(sim_run_to_state(&S, LIFELINE_STATE_SERVER_DOWN, 10 * 60 * 1000));
    size_t from = S.n_log;
    int64_t entered = S.now;
    sim_run_for(&S, 60000);
    /* a probe every 5 s after the previous one failed: at +5000, +10010, ... */
    size_t probes = 0;
    int64_t expect = entered + 5000;
    for (size_t i = from; i < S.n_log; i++) {
        if (S.log[i].act.type != LL_ACT_CONNECT)
            continue;
        assert_true(S.log[i].act.probe);
        assert_int_equal(S.log[i].at, expect);
        expect += 5000 + LAT;
        probes++;
    }
    assert_int_equal(probes, 11);
    assert_int_equal(S.core.state, LIFELINE_STATE_SERVER_DOWN);
    assert_int_equal(sim_count(&S, LL_ACT_STATE, from), 0); /* probes do not flap the state */
    assert_int_equal(S.core.attempt, 5);
}

static void a_successful_probe_recovers_and_resets_the_counter(void **state)
{
    (void)state;
    start_with(NULL, SIM_DOWN, 4);
    assert_true(sim_run_to_state(&S, LIFELINE_STATE_SERVER_DOWN, 10 * 60 * 1000));
    int64_t began = logged(sim_find(&S, LL_ACT_SERVER_DOWN, 0))->outage_began_ms;
    S.server = SIM_UP;
    assert_true(sim_run_to_state(&S, LIFELINE_STATE_CONNECTED, 5000 + LAT));
    assert_int_equal(S.core.attempt, 0);
    const ll_action *rec = logged(sim_find(&S, LL_ACT_RECOVERED, 0));
    assert_int_equal(rec->downtime_ms, S.now - began);
    assert_int_equal(sim_count(&S, LL_ACT_RECOVERED, 0), 1);
    /* the next loss starts the schedule from attempt 1 again */
    size_t from = S.n_log;
    sim_event(&S, (ll_event){.type = LL_EV_CLOSED, .conn_id = S.core.conn_id,
                             .error = LIFELINE_ERR_CONNECTION_RESET});
    const ll_action *r = &S.core.actions[1];
    assert_int_equal(r->type, LL_ACT_RETRY);
    assert_int_equal(r->attempt, 1);
    assert_true(r->delay_ms >= 5000 && r->delay_ms < 6000);
    (void)from;
}

static void health_url_is_checked_before_a_probe_connects(void **state)
{
    (void)state;
    lifeline_config cfg;
    sim_config(&cfg);
    cfg.health_url = "http://sim.invalid/api/v1/websockets/health";
    start_with(&cfg, SIM_DOWN, 4);
    S.health_ok = 0;
    assert_true(sim_run_to_state(&S, LIFELINE_STATE_SERVER_DOWN, 10 * 60 * 1000));
    size_t from = S.n_log;
    sim_run_for(&S, 30000);
    assert_true(sim_count(&S, LL_ACT_PROBE_HTTP, from) >= 5);
    assert_int_equal(sim_count(&S, LL_ACT_CONNECT, from), 0); /* health failed: no attempt */
    S.health_ok = 1;
    S.server = SIM_UP;
    assert_true(sim_run_to_state(&S, LIFELINE_STATE_CONNECTED, 6000 + 2 * LAT));
    assert_int_equal(sim_count(&S, LL_ACT_CONNECT, from), 1);
}

static void accept_then_close_never_loops_faster_than_the_schedule(void **state)
{
    (void)state;
    start_with(NULL, SIM_ACCEPT_CLOSE, 8);
    sim_run_for(&S, 60 * 60 * 1000);
    /* walked through the backoff to server_down, not a fast loop */
    assert_true(sim_find(&S, LL_ACT_SERVER_DOWN, 0) >= 0);
    long first_down = sim_find(&S, LL_ACT_SERVER_DOWN, 0);
    assert_int_equal(sim_count(&S, LL_ACT_CONNECT, 0) - sim_count(&S, LL_ACT_CONNECT, (size_t)first_down), 6);
    int64_t prev = -1;
    size_t connects = 0;
    for (size_t i = 0; i < S.n_log; i++) {
        if (S.log[i].act.type != LL_ACT_CONNECT)
            continue;
        if (prev >= 0)
            assert_true(S.log[i].at - prev >= 5000);
        prev = S.log[i].at;
        connects++;
    }
    /* at most one attempt per 5 s over the hour */
    assert_true(connects <= 60 * 60 / 5 + 1);
}

static void counter_resets_only_after_stable_after_ms(void **state)
{
    (void)state;
    start_with(NULL, SIM_DOWN, 11);
    sim_run_for(&S, LAT);                                   /* first fails */
    sim_run_to_state(&S, LIFELINE_STATE_CONNECTING, 60000); /* attempt 1 */
    sim_run_for(&S, LAT);                                   /* fails */
    S.server = SIM_UP;                                      /* attempt 2 connects */
    assert_true(sim_run_to_state(&S, LIFELINE_STATE_CONNECTED, 30000));
    assert_int_equal(S.core.attempt, 2);
    /* lost after 9.999 s: not stable, so the next wait is for attempt 3 */
    sim_run_for(&S, 9999);
    sim_event(&S, (ll_event){.type = LL_EV_CLOSED, .conn_id = S.core.conn_id});
    assert_int_equal(S.core.actions[1].attempt, 3);
    assert_true(S.core.actions[1].delay_ms >= 20000);
    /* this time it stays up 10 s: the counter resets, the next wait is 5 s */
    assert_true(sim_run_to_state(&S, LIFELINE_STATE_CONNECTED, 25000));
    sim_run_for(&S, 10000);
    assert_int_equal(S.core.attempt, 0);
    sim_event(&S, (ll_event){.type = LL_EV_CLOSED, .conn_id = S.core.conn_id});
    assert_int_equal(S.core.actions[1].attempt, 1);
    assert_true(S.core.actions[1].delay_ms < 6000);
}

static void permanent_errors_never_retry(void **state)
{
    (void)state;
    start_with(NULL, SIM_REJECT_401, 1);
    sim_run_for(&S, 24 * 60 * 60 * 1000LL);
    assert_int_equal(S.core.state, LIFELINE_STATE_ERROR);
    assert_int_equal(sim_count(&S, LL_ACT_CONNECT, 0), 1);
    assert_int_equal(sim_count(&S, LL_ACT_RETRY, 0), 0);
    const ll_action *st = logged(sim_find(&S, LL_ACT_STATE, 1));
    assert_int_equal(st->new_state, LIFELINE_STATE_ERROR);
    assert_int_equal(st->http_status, 401);
    assert_int_equal(ll_core_deadline(&S.core), LL_NO_DEADLINE);
    /* the app starts it again: one new attempt, and error again */
    S.server = SIM_UP;
    assert_int_equal(sim_app(&S, LL_EV_START), LIFELINE_OK);
    assert_true(sim_run_to_state(&S, LIFELINE_STATE_CONNECTED, LAT));
}

static void a_permanent_failure_of_a_probe_ends_in_error(void **state)
{
    (void)state;
    start_with(NULL, SIM_DOWN, 1);
    assert_true(sim_run_to_state(&S, LIFELINE_STATE_SERVER_DOWN, 10 * 60 * 1000));
    S.server = SIM_REJECT_401;
    assert_true(sim_run_to_state(&S, LIFELINE_STATE_ERROR, 5000 + LAT));
}

/* ---- heartbeat and quality ------------------------------------------------ */

static void pings_go_out_at_connect_and_every_interval(void **state)
{
    (void)state;
    start_with(NULL, SIM_UP, 1);
    sim_run_for(&S, 10 * 60 * 1000);
    int64_t opened = LAT;
    size_t n = sim_count(&S, LL_ACT_SEND_PING, 0);
    assert_int_equal(n, 1 + (10 * 60 * 1000 - LAT) / 30000);
    for (size_t k = 0; k < n; k++) {
        long i = sim_find(&S, LL_ACT_SEND_PING, k);
        assert_int_equal(logged_at(i), opened + (int64_t)k * 30000);
        assert_int_equal(logged(i)->seq, k + 1);
    }
    assert_int_equal(sim_count(&S, LL_ACT_PONG, 0), n);
    assert_int_equal(S.core.rtt.samples, n);
    assert_int_equal(S.core.rtt.last_ms, 1);
}

static void missing_pong_closes_after_ping_timeout_and_schedules_a_retry(void **state)
{
    (void)state;
    start_with(NULL, SIM_SILENT, 1);
    sim_run_for(&S, LAT + 9999);
    assert_int_equal(S.core.state, LIFELINE_STATE_CONNECTED);
    sim_run_for(&S, 1);
    assert_int_equal(S.core.state, LIFELINE_STATE_DISCONNECTED);
    const ll_action *c = logged(sim_find(&S, LL_ACT_CLOSE, 0));
    assert_int_equal(c->close_code, 1001);
    assert_int_equal(logged_at(sim_find(&S, LL_ACT_CLOSE, 0)), LAT + 10000);
    assert_int_equal(S.core.last_error, LIFELINE_ERR_PING_TIMEOUT);
    assert_int_equal(S.core.rtt.timeouts, 1);
    assert_int_equal(logged(sim_find(&S, LL_ACT_RETRY, 0))->attempt, 1);
}

static void silence_is_detected_within_interval_plus_timeout(void **state)
{
    (void)state;
    start_with(NULL, SIM_UP, 1);
    sim_run_for(&S, 95000); /* three pongs */
    S.server = SIM_SILENT;  /* the server goes silent after the last pong */
    int64_t silent_from = S.now;
    assert_true(sim_run_to_state(&S, LIFELINE_STATE_DISCONNECTED, 40000));
    assert_true(S.now - silent_from <= 30000 + 10000);
}

static void stale_and_unknown_pongs_are_ignored(void **state)
{
    (void)state;
    start_with(NULL, SIM_MANUAL, 1);
    sim_event(&S, (ll_event){.type = LL_EV_OPENED, .conn_id = 1});
    uint32_t seq = S.core.ping_seq;
    sim_event(&S, (ll_event){.type = LL_EV_PONG, .conn_id = 1, .seq = seq + 7});
    assert_int_equal(S.core.rtt.samples, 0);
    sim_event(&S, (ll_event){.type = LL_EV_PONG, .conn_id = 99, .seq = seq});
    assert_int_equal(S.core.rtt.samples, 0);
    S.now += 40;
    sim_event(&S, (ll_event){.type = LL_EV_PONG, .conn_id = 1, .seq = seq});
    assert_int_equal(S.core.rtt.samples, 1);
    assert_int_equal(S.core.rtt.last_ms, 40);
    sim_event(&S, (ll_event){.type = LL_EV_PONG, .conn_id = 1, .seq = seq}); /* duplicate */
    assert_int_equal(S.core.rtt.samples, 1);
}

static void steady_connection_reads_excellent_at_every_instant(void **state)
{
    (void)state;
    start_with(NULL, SIM_UP, 1);
    sim_run_for(&S, LAT + 1);
    assert_int_equal(S.core.quality, LIFELINE_QUALITY_EXCELLENT);
    size_t from = S.n_log;
    /* two hours, looking at the grade every 7 ms */
    for (int64_t t = 0; t < 2 * 60 * 60 * 1000; t += 7) {
        sim_run_for(&S, 7);
        int q = ll_quality_grade(&S.core.limits, 1, ll_core_silence(&S.core, S.now),
                                 S.core.rtt.srtt_ms);
        if (q != LIFELINE_QUALITY_EXCELLENT)
            fail_msg("grade %s at %lld", lifeline_quality_name(q), (long long)S.now);
    }
    assert_int_equal(sim_count(&S, LL_ACT_QUALITY, from), 0);
    assert_int_equal(S.core.quality, LIFELINE_QUALITY_EXCELLENT);
}

static void quality_is_unknown_until_a_pong_and_reported_on_change_only(void **state)
{
    (void)state;
    start_with(NULL, SIM_UP, 1);
    sim_run_for(&S, LAT);
    assert_int_equal(S.core.quality, LIFELINE_QUALITY_UNKNOWN);
    sim_run_for(&S, 5 * 60 * 1000);
    assert_int_equal(sim_count(&S, LL_ACT_QUALITY, 0), 1);
    assert_true(sim_count(&S, LL_ACT_PONG, 0) > 5);
    assert_int_equal(logged(sim_find(&S, LL_ACT_QUALITY, 0))->quality, LIFELINE_QUALITY_EXCELLENT);
}

static void a_late_pong_degrades_the_grade_when_it_is_due(void **state)
{
    (void)state;
    start_with(NULL, SIM_UP, 1);
    sim_run_for(&S, LAT + 1); /* first pong at 11: excellent */
    S.rtt_ms = 9000;          /* the next pong takes 9 s (timeout is 10 s) */
    sim_run_until(&S, 31000);
    /* silence passes 30 s at 11 + 30000 + 300 (the in-flight grace) */
    long g = sim_find(&S, LL_ACT_QUALITY, 1);
    assert_int_equal(logged(g)->quality, LIFELINE_QUALITY_GOOD);
    assert_int_equal(logged_at(g), 11 + 30000 + 300);
    sim_run_until(&S, 40000);
    /* the pong came: srtt 1 + 8999/8 > 1000 ms, so poor by RTT */
    long p = sim_find(&S, LL_ACT_QUALITY, 2);
    assert_int_equal(logged(p)->quality, LIFELINE_QUALITY_POOR);
    assert_int_equal(logged_at(p), LAT + 30000 + 9000);
}

static void slow_rtt_grades_good_then_poor(void **state)
{
    (void)state;
    sim_init(&S, NULL, 1);
    S.server = SIM_UP;
    S.rtt_ms = 500;
    sim_app(&S, LL_EV_START);
    sim_run_for(&S, LAT + 500);
    assert_int_equal(S.core.quality, LIFELINE_QUALITY_GOOD);
    S.rtt_ms = 4000;
    sim_run_for(&S, 5 * 60 * 1000);
    assert_int_equal(S.core.quality, LIFELINE_QUALITY_POOR);
}

static void leaving_connected_makes_the_grade_unknown(void **state)
{
    (void)state;
    start_with(NULL, SIM_UP, 1);
    sim_run_for(&S, 1000);
    assert_int_equal(S.core.quality, LIFELINE_QUALITY_EXCELLENT);
    sim_event(&S, (ll_event){.type = LL_EV_CLOSED, .conn_id = S.core.conn_id});
    assert_int_equal(S.core.quality, LIFELINE_QUALITY_UNKNOWN);
    assert_int_equal(logged(sim_find(&S, LL_ACT_QUALITY, 1))->quality, LIFELINE_QUALITY_UNKNOWN);
}

/* ---- app requests -------------------------------------------------------- */

static void reconnect_now_skips_the_wait(void **state)
{
    (void)state;
    start_with(NULL, SIM_DOWN, 1);
    sim_run_for(&S, LAT);
    int64_t t = S.now;
    S.server = SIM_UP;
    assert_int_equal(sim_app(&S, LL_EV_RECONNECT_NOW), LIFELINE_OK);
    assert_int_equal(S.core.state, LIFELINE_STATE_CONNECTING);
    assert_int_equal(S.core.attempt, 1);
    sim_run_for(&S, LAT);
    assert_int_equal(S.core.state, LIFELINE_STATE_CONNECTED);
    assert_int_equal(S.now, t + LAT);
}

static void stop_closes_gracefully_and_nothing_follows(void **state)
{
    (void)state;
    start_with(NULL, SIM_UP, 1);
    sim_run_for(&S, 1000);
    assert_int_equal(sim_app(&S, LL_EV_STOP), LIFELINE_OK);
    const ll_action *c = logged(sim_find(&S, LL_ACT_CLOSE, 0));
    assert_int_equal(c->close_code, 1000);
    assert_int_equal(S.core.state, LIFELINE_STATE_CLOSED);
    size_t from = S.n_log;
    sim_run_for(&S, 60 * 60 * 1000);
    assert_int_equal(S.n_log, from);
    assert_int_equal(ll_core_deadline(&S.core), LL_NO_DEADLINE);
}

/* LL_MAX_ACTIONS is the most one event produces (machine.c counts it), and
 * this event produces it: a ping timeout on a connection made by the last
 * attempt the budget allows. */
static void the_busiest_event_fills_ll_max_actions_exactly(void **state)
{
    (void)state;
    lifeline_config cfg;
    sim_config(&cfg);
    cfg.max_attempts = 1;
    cfg.ping_interval_ms = 1000; /* the timeout comes before stable_after_ms */
    cfg.ping_timeout_ms = 500;
    start_with(&cfg, SIM_MANUAL, 1);
    ll_core *c = &S.core;
    S.now = 10;
    sim_event(&S, (ll_event){.type = LL_EV_CONNECT_FAILED, .conn_id = c->conn_id,
                             .error = LIFELINE_ERR_CONNECTION_REFUSED});
    S.now = ll_core_deadline(c); /* the retry: the last attempt */
    sim_app(&S, LL_EV_TICK);
    sim_event(&S, (ll_event){.type = LL_EV_OPENED, .conn_id = c->conn_id});
    S.now += 1;
    sim_event(&S, (ll_event){.type = LL_EV_PONG, .conn_id = c->conn_id, .seq = c->ping_seq});
    assert_int_equal(c->quality, LIFELINE_QUALITY_EXCELLENT);
    while (c->state == LIFELINE_STATE_CONNECTED) { /* the next ping goes unanswered */
        S.now = ll_core_deadline(c);
        sim_app(&S, LL_EV_TICK);
    }
    static const ll_action_type want[] = {LL_ACT_CLOSE, LL_ACT_STATE, LL_ACT_SERVER_DOWN,
                                          LL_ACT_RETRY, LL_ACT_QUALITY};
    assert_int_equal(LL_MAX_ACTIONS, sizeof(want) / sizeof(want[0]));
    assert_int_equal(c->n_actions, LL_MAX_ACTIONS);
    for (size_t i = 0; i < c->n_actions; i++)
        assert_int_equal(c->actions[i].type, want[i]);
}

static void downtime_adds_up_across_outages(void **state)
{
    (void)state;
    start_with(NULL, SIM_UP, 1);
    sim_run_for(&S, 1000);
    S.server = SIM_DOWN;
    sim_event(&S, (ll_event){.type = LL_EV_CLOSED, .conn_id = S.core.conn_id});
    int64_t lost_at = S.now;
    sim_run_for(&S, 20000);
    S.server = SIM_UP;
    assert_true(sim_run_to_state(&S, LIFELINE_STATE_CONNECTED, 60000));
    int64_t first = S.now - lost_at;
    assert_int_equal(ll_core_downtime(&S.core, S.now), first);
    assert_int_equal(S.core.reconnections, 1);
    assert_int_equal(sim_count(&S, LL_ACT_RECOVERED, 0), 0); /* never judged down */
    sim_run_for(&S, 500);
    sim_event(&S, (ll_event){.type = LL_EV_CLOSED, .conn_id = S.core.conn_id});
    sim_run_for(&S, 100);
    assert_int_equal(ll_core_downtime(&S.core, S.now), first + 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(default_schedule_waits_5_10_20_30_30_seconds_plus_jitter),
        cmocka_unit_test(server_down_follows_exactly_max_attempts_failed_attempts),
        cmocka_unit_test(delays_cap_at_max_delay),
        cmocka_unit_test(full_jitter_mode_waits_within_zero_and_the_ceiling),
        cmocka_unit_test(first_connection_is_retried_like_a_reconnection),
        cmocka_unit_test(same_seed_gives_the_same_trace),
        cmocka_unit_test(retry_after_hint_is_honoured_up_to_max_delay),
        cmocka_unit_test(connect_timeout_abandons_the_attempt),
        cmocka_unit_test(server_down_probes_every_down_ping_interval),
        cmocka_unit_test(a_successful_probe_recovers_and_resets_the_counter),
        cmocka_unit_test(health_url_is_checked_before_a_probe_connects),
        cmocka_unit_test(accept_then_close_never_loops_faster_than_the_schedule),
        cmocka_unit_test(counter_resets_only_after_stable_after_ms),
        cmocka_unit_test(permanent_errors_never_retry),
        cmocka_unit_test(a_permanent_failure_of_a_probe_ends_in_error),
        cmocka_unit_test(pings_go_out_at_connect_and_every_interval),
        cmocka_unit_test(missing_pong_closes_after_ping_timeout_and_schedules_a_retry),
        cmocka_unit_test(silence_is_detected_within_interval_plus_timeout),
        cmocka_unit_test(stale_and_unknown_pongs_are_ignored),
        cmocka_unit_test(steady_connection_reads_excellent_at_every_instant),
        cmocka_unit_test(quality_is_unknown_until_a_pong_and_reported_on_change_only),
        cmocka_unit_test(a_late_pong_degrades_the_grade_when_it_is_due),
        cmocka_unit_test(slow_rtt_grades_good_then_poor),
        cmocka_unit_test(leaving_connected_makes_the_grade_unknown),
        cmocka_unit_test(reconnect_now_skips_the_wait),
        cmocka_unit_test(stop_closes_gracefully_and_nothing_follows),
        cmocka_unit_test(downtime_adds_up_across_outages),
        cmocka_unit_test(the_busiest_event_fills_ll_max_actions_exactly),
    };
    return cmocka_run_group_tests_name("machine", tests, NULL, NULL);
}
