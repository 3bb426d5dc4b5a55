/* Network changes in the connection core (src/core/README.md, "Network
 * changes"), each rule run in virtual time against the simulated server of
 * sim.h. Nothing here sleeps.
 *
 * The rule proved here (W = LL_NETWORK_WINDOW_MS, 1000):
 *  - disconnected: a change makes the pending attempt now, with the number
 *    it was going to have; after it the waits are those the schedule had
 *    (attempt a + 1 waits what it would have waited, the same draw), and
 *    server_down comes after the same number of failed attempts;
 *  - server_down: a change makes the next probe now (none in flight);
 *  - connected: a change sends a ping now unless one is in flight; the
 *    ping cadence goes on from it;
 *  - connecting, idle, error, closed: nothing;
 *  - a wait the server asked for (Retry-After) is not cut;
 *  - at most one early attempt, probe or ping per W: a change inside the
 *    window of the last one acted on is acted on when the window ends,
 *    however many came (one action), unless an attempt or probe started,
 *    or a connection opened, after it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sim.h"

#define LAT 10 /* the simulated server answers an attempt in 10 ms */
#define W LL_NETWORK_WINDOW_MS

static sim S, R; /* large: keep them off the stack; R is a reference run */

static lifeline_config slow_backoff(void)
{
    lifeline_config cfg;
    sim_config(&cfg);
    cfg.base_delay_ms = 20000;
    cfg.max_delay_ms = 120000;
    cfg.jitter_ms = 1000;
    cfg.max_attempts = 4;
    cfg.down_ping_interval_ms = 60000;
    return cfg;
}

/* Not inlined: GCC's -Warray-bounds (-O2, ASan) otherwise reads the i < 0
 * branch, which ends in fail_msg(), as an index of -1. */
__attribute__((noinline)) static const ll_action *logged(long i)
{
    if (i < 0) {
        sim_dump(&S);
        fail_msg("expected action not logged");
    }
    return &S.log[i].act;
}

static int changed(sim *s)
{
    return sim_app(s, LL_EV_NETWORK_CHANGED);
}

/* Start against a server that refuses, run until the first failure is in:
 * disconnected, attempt 1 pending. */
static void start_refused(sim *s, const lifeline_config *cfg, uint64_t seed)
{
    sim_init(s, cfg, seed);
    s->server = SIM_DOWN;
    s->latency_ms = LAT;
    assert_int_equal(sim_app(s, LL_EV_START), LIFELINE_OK);
    sim_run_for(s, LAT);
    assert_int_equal(s->core.state, LIFELINE_STATE_DISCONNECTED);
}

/* The times of the CONNECT actions logged from index from, into out. */
static size_t connect_times(const sim *s, size_t from, int64_t *out, size_t max)
{
    size_t n = 0;
    for (size_t i = from; i < s->n_log && n < max; i++)
        if (s->log[i].act.type == LL_ACT_CONNECT)
            out[n++] = s->log[i].at;
    return n;
}

/* ---- disconnected ------------------------------------------------------------- */

static void a_change_while_disconnected_makes_the_pending_attempt_now(void **state)
{
    (void)state;
    lifeline_config cfg = slow_backoff();
    start_refused(&S, &cfg, 7);
    long r = sim_find(&S, LL_ACT_RETRY, 0);
    assert_int_equal(logged(r)->attempt, 1);
    assert_true(logged(r)->delay_ms >= 20000);

    sim_run_for(&S, 3000); /* the link comes back 3 s into a 20 s wait */
    size_t from = S.n_log;
    assert_int_equal(changed(&S), LIFELINE_OK);
    assert_int_equal(S.core.state, LIFELINE_STATE_CONNECTING);
    assert_int_equal(S.core.attempt, 1); /* the pending one, not reset */
    assert_int_equal(sim_count(&S, LL_ACT_CONNECT, from), 1);
    assert_int_equal(S.n_log - from, 2); /* STATE connecting, CONNECT */
    assert_int_equal(S.log[from].act.type, LL_ACT_STATE);
    assert_int_equal(S.log[from].act.attempt, 1);
    assert_int_equal(S.log[from + 1].act.type, LL_ACT_CONNECT);
    assert_int_equal(S.log[from + 1].at, LAT + 3000);
}

/* The early attempt moves one attempt earlier; everything after it is the
 * schedule of a run without the change, shifted: the same attempt numbers,
 * the same waits (the same draws), server_down after the same failures. */
static void after_an_early_attempt_the_waits_are_the_schedules(void **state)
{
    (void)state;
    lifeline_config cfg = slow_backoff();
    start_refused(&S, &cfg, 11);
    start_refused(&R, &cfg, 11);
    sim_run_for(&S, 5000);
    changed(&S);
    assert_true(sim_run_to_state(&S, LIFELINE_STATE_SERVER_DOWN, 10 * 60 * 1000));
    assert_true(sim_run_to_state(&R, LIFELINE_STATE_SERVER_DOWN, 10 * 60 * 1000));

    size_t n = 0;
    for (size_t i = 0, j = 0;; i++, j++) {
        long a = sim_find(&S, LL_ACT_RETRY, i), b = sim_find(&R, LL_ACT_RETRY, j);
        if (a < 0 || b < 0) {
            assert_true(a < 0 && b < 0);
            break;
        }
        assert_int_equal(S.log[a].act.attempt, R.log[b].act.attempt);
        assert_int_equal(S.log[a].act.delay_ms, R.log[b].act.delay_ms);
        assert_int_equal(S.log[a].act.probe, R.log[b].act.probe);
        n++;
    }
    assert_int_equal(n, cfg.max_attempts + 1); /* 4 retries, then the probe */
    assert_int_equal(sim_count(&S, LL_ACT_CONNECT, 0), sim_count(&R, LL_ACT_CONNECT, 0));
    assert_int_equal(S.core.attempt, R.core.attempt);
    /* server_down came the early attempt's head start sooner: the wait of
     * attempt 1, less the 5 s waited */
    long r1 = sim_find(&R, LL_ACT_RETRY, 0);
    int64_t head_start = R.log[r1].act.delay_ms - 5000;
    long sd = sim_find(&S, LL_ACT_SERVER_DOWN, 0), rd = sim_find(&R, LL_ACT_SERVER_DOWN, 0);
    assert_true(sd >= 0 && rd >= 0);
    assert_int_equal(R.log[rd].at - S.log[sd].at, head_start);
}

static void a_wait_the_server_asked_for_is_not_cut(void **state)
{
    (void)state;
    lifeline_config cfg = slow_backoff();
    cfg.base_delay_ms = 1000;
    cfg.jitter_ms = 0;
    sim_init(&S, &cfg, 3);
    S.server = SIM_503_RETRY_AFTER;
    S.retry_after_ms = 30000;
    S.latency_ms = LAT;
    sim_app(&S, LL_EV_START);
    sim_run_for(&S, LAT);
    assert_int_equal(S.core.state, LIFELINE_STATE_DISCONNECTED);
    assert_int_equal(logged(sim_find(&S, LL_ACT_RETRY, 0))->delay_ms, 30000);

    sim_run_for(&S, 10000);
    size_t from = S.n_log;
    changed(&S);
    assert_int_equal(S.n_log, from); /* the server's 30 s hold */
    assert_int_equal(S.core.state, LIFELINE_STATE_DISCONNECTED);
    /* the change does not linger either: the attempt comes at 30 s */
    sim_run_until(&S, LAT + 30000 - 1);
    assert_int_equal(S.n_log, from);
    sim_run_until(&S, LAT + 30000);
    assert_int_equal(S.core.state, LIFELINE_STATE_CONNECTING);
}

/* ---- the window ---------------------------------------------------------------- */

/* Link up, address added, default route added: one burst, one attempt. */
static void a_burst_of_changes_makes_one_attempt(void **state)
{
    (void)state;
    lifeline_config cfg = slow_backoff();
    start_refused(&S, &cfg, 5);
    S.server = SIM_UP; /* the network is back */
    sim_run_for(&S, 4000);
    int64_t t = S.now;
    size_t from = S.n_log;
    for (int i = 0; i < 5; i++) { /* all before the connection opens */
        changed(&S);
        sim_run_for(&S, 1);
    }
    sim_run_for(&S, 5 * W);
    int64_t at[8];
    assert_int_equal(connect_times(&S, from, at, 8), 1);
    assert_int_equal(at[0], t);
    assert_int_equal(S.core.state, LIFELINE_STATE_CONNECTED);
    /* and no ping more than the open's own, once the window ended */
    assert_int_equal(sim_count(&S, LL_ACT_SEND_PING, from), 1);
}

/* The early attempt failed at once (no address yet); the address comes
 * inside the window: one more attempt when the window ends, no more. */
static void a_change_inside_the_window_is_acted_on_when_it_ends(void **state)
{
    (void)state;
    lifeline_config cfg = slow_backoff();
    start_refused(&S, &cfg, 9);
    sim_run_for(&S, 4000);
    int64_t t = S.now;
    size_t from = S.n_log;
    changed(&S); /* link up: attempt 1, refused LAT later */
    sim_run_for(&S, 300);
    changed(&S); /* address added */
    sim_run_for(&S, 1);
    changed(&S); /* default route added */
    assert_int_equal(ll_core_deadline(&S.core), t + W);
    S.server = SIM_UP;
    sim_run_for(&S, 10 * W);
    int64_t at[8];
    assert_int_equal(connect_times(&S, from, at, 8), 2);
    assert_int_equal(at[0], t);
    assert_int_equal(at[1], t + W);
    assert_int_equal(S.core.attempt, 2);
    assert_int_equal(S.core.state, LIFELINE_STATE_CONNECTED);
}

static void a_change_after_the_window_is_acted_on_at_once(void **state)
{
    (void)state;
    lifeline_config cfg = slow_backoff();
    start_refused(&S, &cfg, 13);
    sim_run_for(&S, 2000);
    int64_t t = S.now;
    size_t from = S.n_log;
    changed(&S);
    sim_run_for(&S, W); /* refused at t + LAT; the window ends at t + W */
    changed(&S);
    int64_t at[8];
    assert_int_equal(connect_times(&S, from, at, 8), 2);
    assert_int_equal(at[0], t);
    assert_int_equal(at[1], t + W);
    assert_int_equal(S.core.attempt, 2);
}

/* Changes every 100 ms for a minute against a server that refuses: at most
 * one attempt per window, and never an attempt without a change or a
 * scheduled retry behind it. */
static void a_flapping_network_makes_at_most_one_attempt_per_window(void **state)
{
    (void)state;
    lifeline_config cfg = slow_backoff();
    cfg.max_attempts = 1000;
    start_refused(&S, &cfg, 17);
    size_t from = S.n_log;
    int64_t t0 = S.now;
    for (int i = 0; i < 600; i++) {
        changed(&S);
        sim_run_for(&S, 100);
    }
    int64_t at[128];
    size_t n = connect_times(&S, from, at, 128);
    /* t0, t0 + W, ..., t0 + 60 W (the last change, at t0 + 59.9 s, held
     * to the end of its window) */
    assert_int_equal(n, 61);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(at[i], t0 + (int64_t)i * W);
    assert_int_equal(S.core.attempt, 61);
}

/* A change the core can do nothing with is dropped: it neither starts a
 * window nor waits to be acted on later. */
static void a_change_while_connecting_is_dropped(void **state)
{
    (void)state;
    lifeline_config cfg = slow_backoff();
    sim_init(&S, &cfg, 1);
    S.server = SIM_MANUAL;
    sim_app(&S, LL_EV_START);
    int64_t d = ll_core_deadline(&S.core);
    size_t from = S.n_log;
    changed(&S);
    assert_int_equal(S.n_log, from);
    assert_int_equal(ll_core_deadline(&S.core), d);
    assert_int_equal(S.core.net_pending, 0);
    /* the attempt fails: the wait is the schedule's */
    sim_event(&S, (ll_event){.type = LL_EV_CONNECT_FAILED, .conn_id = S.core.conn_id,
                             .error = LIFELINE_ERR_CONNECTION_REFUSED});
    assert_int_equal(S.core.state, LIFELINE_STATE_DISCONNECTED);
    assert_true(ll_core_deadline(&S.core) >= S.now + 20000);
    /* and the next change acts at once: no window was started */
    changed(&S);
    assert_int_equal(S.core.state, LIFELINE_STATE_CONNECTING);
}

static void a_change_pending_is_dropped_by_an_attempt_that_starts_after_it(void **state)
{
    (void)state;
    lifeline_config cfg = slow_backoff();
    start_refused(&S, &cfg, 21);
    changed(&S); /* attempt 1 now, refused */
    sim_run_for(&S, 100);
    changed(&S); /* inside the window: pending */
    assert_int_equal(S.core.net_pending, 1);
    assert_int_equal(sim_app(&S, LL_EV_RECONNECT_NOW), LIFELINE_OK); /* attempt 2 */
    assert_int_equal(S.core.net_pending, 0);
    size_t from = S.n_log;
    sim_run_for(&S, 2 * W);
    assert_int_equal(sim_count(&S, LL_ACT_CONNECT, from), 0);
    assert_int_equal(S.core.attempt, 2);
}

/* ---- server_down, connected, the rest ----------------------------------------- */

static void a_change_in_server_down_probes_now(void **state)
{
    (void)state;
    lifeline_config cfg = slow_backoff();
    cfg.max_attempts = 1;
    cfg.base_delay_ms = 100;
    cfg.jitter_ms = 0;
    start_refused(&S, &cfg, 2);
    assert_true(sim_run_to_state(&S, LIFELINE_STATE_SERVER_DOWN, 10000));
    sim_run_for(&S, 5000); /* 55 s to the next probe */
    int64_t t = S.now;
    size_t from = S.n_log;
    changed(&S);
    changed(&S);
    assert_int_equal(S.n_log - from, 1);
    const ll_action *a = &S.log[from].act;
    assert_int_equal(a->type, LL_ACT_CONNECT);
    assert_int_equal(a->probe, 1);
    /* refused: the next probe down_ping_interval_ms after the failure */
    sim_run_for(&S, LAT);
    long r = sim_find(&S, LL_ACT_RETRY, sim_count(&S, LL_ACT_RETRY, 0) - 1);
    assert_int_equal(logged(r)->probe, 1);
    assert_int_equal(logged(r)->delay_ms, 60000);
    assert_int_equal(S.log[r].at, t + LAT);
    /* the second change came after the probe started (it may have missed
     * it): held, and acted on when the window ends, a probe again */
    sim_run_until(&S, t + W);
    assert_int_equal(sim_count(&S, LL_ACT_CONNECT, from), 2);
    assert_int_equal(S.core.state, LIFELINE_STATE_SERVER_DOWN);
}

static void a_change_in_server_down_with_health_url_checks_health_now(void **state)
{
    (void)state;
    lifeline_config cfg = slow_backoff();
    cfg.max_attempts = 1;
    cfg.base_delay_ms = 100;
    cfg.health_url = "http://sim.invalid/health";
    start_refused(&S, &cfg, 2);
    assert_true(sim_run_to_state(&S, LIFELINE_STATE_SERVER_DOWN, 10000));
    size_t from = S.n_log;
    changed(&S);
    assert_int_equal(S.n_log - from, 1);
    assert_int_equal(S.log[from].act.type, LL_ACT_PROBE_HTTP);
}

static void a_change_while_connected_sends_a_ping_now(void **state)
{
    (void)state;
    lifeline_config cfg = slow_backoff();
    sim_init(&S, &cfg, 1);
    S.server = SIM_UP;
    S.rtt_ms = 5;
    sim_app(&S, LL_EV_START);
    sim_run_for(&S, 10000); /* open at 10, ping at 10, pong at 15 */
    assert_int_equal(S.core.state, LIFELINE_STATE_CONNECTED);
    uint32_t seq = S.core.ping_seq;
    int64_t t = S.now;
    size_t from = S.n_log;
    changed(&S);
    assert_int_equal(S.n_log - from, 1);
    assert_int_equal(S.log[from].act.type, LL_ACT_SEND_PING);
    assert_int_equal(S.log[from].act.seq, seq + 1);
    /* a second change while it is in flight: nothing (and nothing held:
     * the ping in flight is the check) */
    changed(&S);
    assert_int_equal(S.n_log - from, 1);
    /* the cadence goes on from the early ping */
    sim_run_until(&S, t + cfg.ping_interval_ms - 1);
    assert_int_equal(sim_count(&S, LL_ACT_SEND_PING, from), 1);
    sim_run_until(&S, t + cfg.ping_interval_ms);
    assert_int_equal(sim_count(&S, LL_ACT_SEND_PING, from), 2);
}

static void a_change_that_broke_the_connection_finds_it_within_the_ping_timeout(void **state)
{
    (void)state;
    lifeline_config cfg = slow_backoff();
    sim_init(&S, &cfg, 1);
    S.server = SIM_UP;
    sim_app(&S, LL_EV_START);
    sim_run_for(&S, 1000);
    S.server = SIM_SILENT; /* the new address: the old connection is dead */
    int64_t t = S.now;
    changed(&S);
    assert_true(sim_run_to_state(&S, LIFELINE_STATE_DISCONNECTED, 60000));
    assert_int_equal(S.now, t + cfg.ping_timeout_ms);
}

static void a_change_in_idle_error_or_closed_does_nothing(void **state)
{
    (void)state;
    lifeline_config cfg = slow_backoff();
    sim_init(&S, &cfg, 1);
    assert_int_equal(changed(&S), LIFELINE_OK);
    assert_int_equal(S.n_log, 0);
    assert_int_equal(ll_core_deadline(&S.core), LL_NO_DEADLINE);

    S.server = SIM_REJECT_401;
    sim_app(&S, LL_EV_START);
    sim_run_for(&S, LAT);
    assert_int_equal(S.core.state, LIFELINE_STATE_ERROR);
    size_t from = S.n_log;
    assert_int_equal(changed(&S), LIFELINE_OK);
    assert_int_equal(S.n_log, from);
    assert_int_equal(ll_core_deadline(&S.core), LL_NO_DEADLINE);

    sim_app(&S, LL_EV_STOP);
    from = S.n_log;
    assert_int_equal(changed(&S), LIFELINE_OK);
    assert_int_equal(S.n_log, from);
    assert_int_equal(ll_core_deadline(&S.core), LL_NO_DEADLINE);
}

/* With fallbacks the early attempt goes where the wait would have led. */
static void with_fallbacks_the_early_attempt_goes_where_the_wait_led(void **state)
{
    (void)state;
    static const char *const fb[] = {"ws://b.sim.invalid/ws", "ws://c.sim.invalid/ws"};
    lifeline_config cfg = slow_backoff();
    cfg.fallback_urls = fb;
    cfg.fallback_url_count = 2;
    start_refused(&S, &cfg, 4);
    /* the start's attempt (url 0) was refused: attempt 1, the first of
     * pass 1, waits, and goes to url 1 */
    assert_int_equal(S.core.next_url, 1);
    assert_int_equal(S.core.attempt, 0);
    size_t from = S.n_log;
    changed(&S);
    long c = sim_find(&S, LL_ACT_CONNECT, sim_count(&S, LL_ACT_CONNECT, 0) - 1);
    assert_true((size_t)c >= from);
    assert_int_equal(logged(c)->url_index, 1);
    assert_int_equal(logged(c)->attempt, 1);
    /* refused: the rest of pass 1 at once (attempts 2 and 3, urls 2 and
     * 0), then pass 2 (attempt 4, url 1) waits what attempt 2 waits with
     * one server */
    sim_run_for(&S, 4 * LAT);
    int64_t at[8];
    assert_int_equal(connect_times(&S, from, at, 8), 3);
    assert_int_equal(at[1], at[0] + LAT);
    assert_int_equal(at[2], at[0] + 2 * LAT);
    long r = sim_find(&S, LL_ACT_RETRY, sim_count(&S, LL_ACT_RETRY, 0) - 1);
    assert_int_equal(logged(r)->attempt, 4);
    assert_int_equal(logged(r)->url_index, 1);
    assert_true(logged(r)->delay_ms >= 40000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_change_while_disconnected_makes_the_pending_attempt_now),
        cmocka_unit_test(after_an_early_attempt_the_waits_are_the_schedules),
        cmocka_unit_test(a_wait_the_server_asked_for_is_not_cut),
        cmocka_unit_test(a_burst_of_changes_makes_one_attempt),
        cmocka_unit_test(a_change_inside_the_window_is_acted_on_when_it_ends),
        cmocka_unit_test(a_change_after_the_window_is_acted_on_at_once),
        cmocka_unit_test(a_flapping_network_makes_at_most_one_attempt_per_window),
        cmocka_unit_test(a_change_while_connecting_is_dropped),
        cmocka_unit_test(a_change_pending_is_dropped_by_an_attempt_that_starts_after_it),
        cmocka_unit_test(a_change_in_server_down_probes_now),
        cmocka_unit_test(a_change_in_server_down_with_health_url_checks_health_now),
        cmocka_unit_test(a_change_while_connected_sends_a_ping_now),
        cmocka_unit_test(a_change_that_broke_the_connection_finds_it_within_the_ping_timeout),
        cmocka_unit_test(a_change_in_idle_error_or_closed_does_nothing),
        cmocka_unit_test(with_fallbacks_the_early_attempt_goes_where_the_wait_led),
    };
    return cmocka_run_group_tests_name("machine_network", tests, NULL, NULL);
}
