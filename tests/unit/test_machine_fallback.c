/* Fallback servers in the connection core (src/core/README.md, "Fallback
 * servers"), each rule run in virtual time against simulated servers, one
 * per URL of the list (sim.h, per_url). Nothing here sleeps.
 *
 * The rule proved here:
 *  - a start goes to url (index 0);
 *  - after an attempt that failed before opening, the next goes to the next
 *    index, round the list; after a connection that opened and was lost,
 *    to the same index;
 *  - reconnection attempts go in passes of N = 1 + fallback_url_count; the
 *    first of pass p waits exactly what attempt p waits with one server
 *    (the same draw of the same generator), the others follow at once;
 *  - server_down when attempt max_attempts * N fails;
 *  - probes go on round the list; a failed health check moves nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sim.h"

#define LAT 10 /* every simulated server answers an attempt in 10 ms */

static const char *const FALLBACKS[] = {"ws://b.sim.invalid/ws", "ws://c.sim.invalid/ws",
                                        "ws://d.sim.invalid/ws"};

static sim S; /* large: keep it off the stack */

/* A config of url plus n fallbacks. */
static lifeline_config with_fallbacks(size_t n)
{
    lifeline_config cfg;
    sim_config(&cfg);
    cfg.fallback_urls = FALLBACKS;
    cfg.fallback_url_count = n;
    return cfg;
}

/* The Retry-After of the servers that answer 503 (SIM_503_RETRY_AFTER). */
static int64_t retry_after_ms;

/* Start with the servers of the list behaving as given (count of them). */
static void start(const lifeline_config *cfg, const sim_server *servers, int count,
                  uint64_t seed)
{
    sim_init(&S, cfg, seed);
    S.retry_after_ms = retry_after_ms;
    S.per_url = 1;
    for (int i = 0; i < count; i++)
        S.url_server[i] = servers[i];
    assert_int_equal(S.core.url_count, count);
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

/* The url_index of every CONNECT logged from index from, into out (at most
 * max); returns how many. */
static size_t connect_urls(size_t from, int *out, size_t max)
{
    size_t n = 0;
    for (size_t i = from; i < S.n_log && n < max; i++)
        if (S.log[i].act.type == LL_ACT_CONNECT)
            out[n++] = S.log[i].act.url_index;
    return n;
}

/* ---- which server ------------------------------------------------------------ */

static void one_url_sends_every_attempt_and_probe_to_it(void **state)
{
    (void)state;
    sim_init(&S, NULL, 7);
    S.server = SIM_DOWN;
    sim_app(&S, LL_EV_START);
    assert_int_equal(S.core.url_count, 1);
    assert_int_equal(S.core.attempt_budget, S.cfg.max_attempts);
    sim_run_for(&S, 10 * 60 * 1000); /* attempts, server_down, probes */
    assert_int_equal(S.core.state, LIFELINE_STATE_SERVER_DOWN);
    for (size_t i = 0; i < S.n_log; i++)
        assert_int_equal(S.log[i].act.url_index, 0);
}

static void failed_attempts_go_round_the_list_in_order(void **state)
{
    (void)state;
    lifeline_config cfg = with_fallbacks(2);
    cfg.max_attempts = 2;
    const sim_server down[] = {SIM_DOWN, SIM_DOWN, SIM_DOWN};
    start(&cfg, down, 3, 1);
    assert_true(sim_run_to_state(&S, LIFELINE_STATE_SERVER_DOWN, 10 * 60 * 1000));
    /* the start, then two passes over the list */
    int urls[16];
    assert_int_equal(connect_urls(0, urls, 16), 7);
    const int expected[] = {0, 1, 2, 0, 1, 2, 0};
    for (int i = 0; i < 7; i++)
        assert_int_equal(urls[i], expected[i]);
    /* each state change names the server of its attempt */
    for (size_t i = 0; i < S.n_log; i++) {
        const ll_action *a = &S.log[i].act;
        if (a->type == LL_ACT_STATE && a->new_state == LIFELINE_STATE_CONNECTING)
            assert_int_equal(a->url_index, expected[a->attempt]);
        if (a->type == LL_ACT_STATE && a->new_state == LIFELINE_STATE_DISCONNECTED)
            assert_int_equal(a->url_index, expected[a->attempt]);
        if (a->type == LL_ACT_RETRY && !a->probe)
            assert_int_equal(a->url_index, expected[a->attempt]); /* where it will go */
    }
}

static void a_fallback_that_answers_is_landed_on_and_reported(void **state)
{
    (void)state;
    lifeline_config cfg = with_fallbacks(2);
    const sim_server servers[] = {SIM_DOWN, SIM_UP, SIM_UP};
    start(&cfg, servers, 3, 2);
    assert_true(sim_run_to_state(&S, LIFELINE_STATE_CONNECTED, 60 * 1000));
    assert_int_equal(S.core.url_index, 1);
    const ll_action *up = logged(sim_find(&S, LL_ACT_STATE, 3)); /* connecting,
        disconnected, connecting, connected */
    assert_int_equal(up->new_state, LIFELINE_STATE_CONNECTED);
    assert_int_equal(up->url_index, 1);
    assert_int_equal(up->attempt, 1);
    const ll_action *failed = logged(sim_find(&S, LL_ACT_STATE, 1));
    assert_int_equal(failed->new_state, LIFELINE_STATE_DISCONNECTED);
    assert_int_equal(failed->url_index, 0);
}

static void a_drop_reconnects_to_the_server_that_worked_first(void **state)
{
    (void)state;
    lifeline_config cfg = with_fallbacks(2);
    const sim_server servers[] = {SIM_DOWN, SIM_UP, SIM_UP};
    start(&cfg, servers, 3, 3);
    assert_true(sim_run_to_state(&S, LIFELINE_STATE_CONNECTED, 60 * 1000));
    sim_run_for(&S, 60 * 1000); /* stable: the count is back to 0 */
    assert_int_equal(S.core.attempt, 0);
    /* the server it is on drops it, and refuses the next attempt */
    S.url_server[1] = SIM_DOWN;
    size_t from = S.n_log;
    sim_event(&S, (ll_event){.type = LL_EV_CLOSED, .conn_id = S.core.conn_id,
                             .error = LIFELINE_ERR_CLOSED_BY_PEER});
    const ll_action *lost = logged(sim_find(&S, LL_ACT_STATE, 4));
    assert_int_equal(lost->new_state, LIFELINE_STATE_DISCONNECTED);
    assert_int_equal(lost->url_index, 1);
    assert_true(sim_run_to_state(&S, LIFELINE_STATE_CONNECTED, 60 * 1000));
    /* 1 again (it had worked), then on: 2 answers */
    int urls[8];
    assert_int_equal(connect_urls(from, urls, 8), 2);
    assert_int_equal(urls[0], 1);
    assert_int_equal(urls[1], 2);
    assert_int_equal(S.core.url_index, 2);
}

static void a_start_goes_to_the_first_url_again(void **state)
{
    (void)state;
    lifeline_config cfg = with_fallbacks(1);
    const sim_server servers[] = {SIM_DOWN, SIM_UP};
    start(&cfg, servers, 2, 4);
    assert_true(sim_run_to_state(&S, LIFELINE_STATE_CONNECTED, 60 * 1000));
    assert_int_equal(S.core.url_index, 1);
    sim_app(&S, LL_EV_STOP);
    long last_state = -1;
    for (size_t i = 0; i < S.n_log; i++)
        if (S.log[i].act.type == LL_ACT_STATE)
            last_state = (long)i;
    const ll_action *closed = logged(last_state);
    assert_int_equal(closed->new_state, LIFELINE_STATE_CLOSED);
    assert_int_equal(closed->url_index, 1); /* the last one used */
    size_t from = S.n_log;
    sim_app(&S, LL_EV_START);
    int urls[1];
    assert_int_equal(connect_urls(from, urls, 1), 1);
    assert_int_equal(urls[0], 0);
}

static void reconnect_now_goes_to_the_next_server_at_once(void **state)
{
    (void)state;
    lifeline_config cfg = with_fallbacks(2);
    const sim_server servers[] = {SIM_DOWN, SIM_DOWN, SIM_UP};
    start(&cfg, servers, 3, 5);
    sim_run_for(&S, LAT); /* url fails: wait for attempt 1, to index 1 */
    assert_int_equal(S.core.state, LIFELINE_STATE_DISCONNECTED);
    size_t from = S.n_log;
    assert_int_equal(sim_app(&S, LL_EV_RECONNECT_NOW), LIFELINE_OK);
    int urls[1];
    assert_int_equal(connect_urls(from, urls, 1), 1);
    assert_int_equal(urls[0], 1);
}

/* ---- the waits and the budget ------------------------------------------------ */

static void only_the_first_attempt_of_a_pass_waits_and_it_waits_the_pass_backoff(void **state)
{
    (void)state;
    for (size_t n = 0; n <= 3; n++) {
        lifeline_config cfg = with_fallbacks(n);
        cfg.max_attempts = 4;
        int count = (int)n + 1;
        const sim_server down[] = {SIM_DOWN, SIM_DOWN, SIM_DOWN, SIM_DOWN};
        start(&cfg, down, count, 11);
        assert_true(sim_run_to_state(&S, LIFELINE_STATE_SERVER_DOWN, 60 * 60 * 1000));
        for (int a = 1; a <= 4 * count; a++) {
            const ll_action *r = logged(sim_find(&S, LL_ACT_RETRY, (size_t)a - 1));
            assert_int_equal(r->attempt, a);
            int pass = (a - 1) / count + 1;
            if ((a - 1) % count == 0) {
                int64_t ceiling = ll_backoff_ceiling(&S.core.backoff, pass);
                assert_true(r->delay_ms >= ceiling && r->delay_ms < ceiling + 1000);
            } else {
                assert_int_equal(r->delay_ms, 0);
            }
        }
    }
}

static void the_pass_waits_are_the_single_server_waits_draw_for_draw(void **state)
{
    (void)state;
    static int64_t single[8];
    for (uint64_t seed = 1; seed <= 20; seed++) {
        lifeline_config one = with_fallbacks(0);
        one.max_attempts = 8;
        one.jitter_mode = (int)(seed % 2);
        const sim_server down[] = {SIM_DOWN, SIM_DOWN, SIM_DOWN};
        start(&one, down, 1, seed);
        assert_true(sim_run_to_state(&S, LIFELINE_STATE_SERVER_DOWN, 60 * 60 * 1000));
        for (size_t k = 0; k < 8; k++)
            single[k] = logged(sim_find(&S, LL_ACT_RETRY, k))->delay_ms;
        lifeline_config three = one;
        three.fallback_urls = FALLBACKS;
        three.fallback_url_count = 2;
        start(&three, down, 3, seed);
        assert_true(sim_run_to_state(&S, LIFELINE_STATE_SERVER_DOWN, 60 * 60 * 1000));
        for (size_t p = 0; p < 8; p++)
            assert_int_equal(logged(sim_find(&S, LL_ACT_RETRY, p * 3))->delay_ms, single[p]);
    }
}

static void server_down_follows_exactly_max_attempts_passes(void **state)
{
    (void)state;
    for (size_t n = 0; n <= 3; n++) {
        for (int max = 1; max <= 5; max++) {
            lifeline_config cfg = with_fallbacks(n);
            cfg.max_attempts = max;
            int count = (int)n + 1;
            const sim_server down[] = {SIM_DOWN, SIM_DOWN, SIM_DOWN, SIM_DOWN};
            start(&cfg, down, count, (uint64_t)(max * 10 + count));
            assert_true(sim_run_to_state(&S, LIFELINE_STATE_SERVER_DOWN, 60 * 60 * 1000));
            /* the start plus max * count reconnection attempts */
            int urls[64];
            size_t made = connect_urls(0, urls, 64);
            assert_int_equal(made, (size_t)(max * count + 1));
            /* every server tried max times by the reconnection attempts */
            int tries[4] = {0};
            for (size_t i = 1; i < made; i++)
                tries[urls[i]]++;
            for (int u = 0; u < count; u++)
                assert_int_equal(tries[u], max);
            const ll_action *down_act = logged(sim_find(&S, LL_ACT_SERVER_DOWN, 0));
            assert_int_equal(down_act->attempt, max * count);
            assert_int_equal(down_act->url_index, urls[made - 1]); /* the last that failed */
            assert_int_equal(down_act->outage_began_ms, LAT);
            /* judged at: the first failure, the max pass waits, one failed
             * attempt (LAT) each */
            int64_t waits = 0;
            for (size_t k = 0; k < (size_t)(max * count); k++)
                waits += logged(sim_find(&S, LL_ACT_RETRY, k))->delay_ms;
            assert_int_equal(S.log[sim_find(&S, LL_ACT_SERVER_DOWN, 0)].at,
                             LAT + waits + (int64_t)(max * count) * LAT);
        }
    }
}

static void a_retry_after_hint_holds_for_the_next_server_too(void **state)
{
    (void)state;
    lifeline_config cfg = with_fallbacks(1);
    /* url answers 503 Retry-After: 20 s; the fallback refuses */
    const sim_server first[] = {SIM_503_RETRY_AFTER, SIM_DOWN};
    retry_after_ms = 20000;
    start(&cfg, first, 2, 6);
    sim_run_for(&S, 30000);
    const ll_action *r1 = logged(sim_find(&S, LL_ACT_RETRY, 0));
    const ll_action *r2 = logged(sim_find(&S, LL_ACT_RETRY, 1));
    const ll_action *r3 = logged(sim_find(&S, LL_ACT_RETRY, 2));
    assert_int_equal(r1->url_index, 1);
    assert_int_equal(r1->delay_ms, 20000); /* pass 1's wait, raised by the hint */
    assert_int_equal(r2->url_index, 0);
    assert_int_equal(r2->delay_ms, 0);     /* in the pass, after a plain refusal */
    assert_int_equal(r3->url_index, 1);
    assert_int_equal(r3->delay_ms, 20000); /* pass 2's wait, raised by the hint */
    /* the fallback answers 503 Retry-After: the attempt after it, within
     * its pass, waits the hint too */
    const sim_server second[] = {SIM_DOWN, SIM_503_RETRY_AFTER};
    start(&cfg, second, 2, 6);
    sim_run_for(&S, 10000);
    r1 = logged(sim_find(&S, LL_ACT_RETRY, 0));
    r2 = logged(sim_find(&S, LL_ACT_RETRY, 1));
    assert_true(r1->delay_ms >= 5000 && r1->delay_ms < 6000);
    assert_int_equal(r2->attempt, 2);
    assert_int_equal(r2->url_index, 0);
    assert_int_equal(r2->delay_ms, 20000);
    retry_after_ms = 0;
}

static void a_permanent_failure_on_a_fallback_ends_in_error(void **state)
{
    (void)state;
    lifeline_config cfg = with_fallbacks(2);
    const sim_server servers[] = {SIM_DOWN, SIM_REJECT_401, SIM_UP};
    start(&cfg, servers, 3, 8);
    assert_true(sim_run_to_state(&S, LIFELINE_STATE_ERROR, 60 * 1000));
    const ll_action *err = logged((long)sim_find(&S, LL_ACT_STATE, 3));
    assert_int_equal(err->new_state, LIFELINE_STATE_ERROR);
    assert_int_equal(err->url_index, 1);
    assert_int_equal(err->http_status, 401);
}

/* ---- server_down -------------------------------------------------------------- */

static void probes_go_round_the_list_and_recover_where_one_answers(void **state)
{
    (void)state;
    lifeline_config cfg = with_fallbacks(2);
    cfg.max_attempts = 1;
    const sim_server down[] = {SIM_DOWN, SIM_DOWN, SIM_DOWN};
    start(&cfg, down, 3, 9);
    assert_true(sim_run_to_state(&S, LIFELINE_STATE_SERVER_DOWN, 60 * 1000));
    /* attempts 0 1 2 0; the probes carry on from 1, every 5 s */
    size_t from = S.n_log;
    sim_run_for(&S, 4 * 5000 + 4 * LAT);
    int urls[8];
    assert_int_equal(connect_urls(from, urls, 8), 4);
    const int expected[] = {1, 2, 0, 1};
    for (int i = 0; i < 4; i++)
        assert_int_equal(urls[i], expected[i]);
    for (size_t i = from; i < S.n_log; i++) {
        const ll_action *a = &S.log[i].act;
        if (a->type == LL_ACT_CONNECT)
            assert_true(a->probe);
        if (a->type == LL_ACT_RETRY)
            assert_true(a->probe && a->delay_ms == 5000);
    }
    /* the backup at index 2 comes up: the probe that reaches it recovers */
    S.url_server[2] = SIM_UP;
    assert_true(sim_run_to_state(&S, LIFELINE_STATE_CONNECTED, 60 * 1000));
    const ll_action *rec = logged(sim_find(&S, LL_ACT_RECOVERED, 0));
    assert_int_equal(rec->url_index, 2);
    assert_int_equal(S.core.url_index, 2);
    assert_int_equal(S.core.attempt, 0);
}

static void a_failed_health_check_moves_no_server(void **state)
{
    (void)state;
    lifeline_config cfg = with_fallbacks(1);
    cfg.max_attempts = 1;
    cfg.health_url = "http://sim.invalid/health";
    const sim_server down[] = {SIM_DOWN, SIM_DOWN};
    start(&cfg, down, 2, 10);
    assert_true(sim_run_to_state(&S, LIFELINE_STATE_SERVER_DOWN, 60 * 1000));
    /* attempts went 0 1 0: the next probe is for 1 */
    assert_int_equal(S.core.next_url, 1);
    S.health_ok = 0;
    sim_run_for(&S, 3 * 5000 + 3 * LAT); /* three failed health checks */
    assert_int_equal(sim_count(&S, LL_ACT_PROBE_HTTP, 0), 3);
    assert_int_equal(S.core.next_url, 1);
    /* the health check passes: the probe connects to 1, which answers */
    S.health_ok = 1;
    S.url_server[1] = SIM_UP;
    assert_true(sim_run_to_state(&S, LIFELINE_STATE_CONNECTED, 60 * 1000));
    assert_int_equal(S.core.url_index, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_url_sends_every_attempt_and_probe_to_it),
        cmocka_unit_test(failed_attempts_go_round_the_list_in_order),
        cmocka_unit_test(a_fallback_that_answers_is_landed_on_and_reported),
        cmocka_unit_test(a_drop_reconnects_to_the_server_that_worked_first),
        cmocka_unit_test(a_start_goes_to_the_first_url_again),
        cmocka_unit_test(reconnect_now_goes_to_the_next_server_at_once),
        cmocka_unit_test(only_the_first_attempt_of_a_pass_waits_and_it_waits_the_pass_backoff),
        cmocka_unit_test(the_pass_waits_are_the_single_server_waits_draw_for_draw),
        cmocka_unit_test(server_down_follows_exactly_max_attempts_passes),
        cmocka_unit_test(a_retry_after_hint_holds_for_the_next_server_too),
        cmocka_unit_test(a_permanent_failure_on_a_fallback_ends_in_error),
        cmocka_unit_test(probes_go_round_the_list_and_recover_where_one_answers),
        cmocka_unit_test(a_failed_health_check_moves_no_server),
    };
    return cmocka_run_group_tests_name("machine_fallback", tests, NULL, NULL);
}
