/* Randomized event sequences, in random configs, never break the core's
 * invariants. Deterministic: the seeds are fixed, a failure names its seed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sim.h"

static sim S;

static void check_invariants(uint64_t seed, int step, int prev_state)
{
    const ll_core *c = &S.core;
    int64_t d = ll_core_deadline(c);
#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond))                                                                  \
            fail_msg("seed %llu step %d (%s): %s", (unsigned long long)seed, step,    \
                     lifeline_state_name(c->state), #cond);                           \
    } while (0)
    CHECK(c->state >= 0 && c->state < LIFELINE_STATE_COUNT);
    CHECK(c->n_actions <= LL_MAX_ACTIONS);
    CHECK(c->attempt >= 0 && c->attempt <= c->attempt_budget);
    CHECK(c->attempt_budget == c->max_attempts * c->url_count);
    CHECK(c->url_index >= 0 && c->url_index < c->url_count);
    CHECK(c->next_url >= 0 && c->next_url < c->url_count);
    CHECK(d == LL_NO_DEADLINE || d >= S.now);
    CHECK(c->quality == LIFELINE_QUALITY_UNKNOWN || c->state == LIFELINE_STATE_CONNECTED);
    CHECK(!c->in_flight || c->state == LIFELINE_STATE_CONNECTING ||
          c->state == LIFELINE_STATE_SERVER_DOWN);
    CHECK(c->state != LIFELINE_STATE_CONNECTING || c->in_flight);
    CHECK((d == LL_NO_DEADLINE) == (c->state == LIFELINE_STATE_IDLE ||
                                     c->state == LIFELINE_STATE_ERROR ||
                                     c->state == LIFELINE_STATE_CLOSED));
    /* nothing happens after closed but what START begins */
    if (prev_state == LIFELINE_STATE_CLOSED && c->state == LIFELINE_STATE_CLOSED)
        CHECK(c->n_actions == 0);
    for (size_t i = 0; i < c->n_actions; i++) {
        const ll_action *a = &c->actions[i];
        if (a->type == LL_ACT_RETRY && !a->probe) {
            int64_t ceiling = ll_backoff_ceiling(&c->backoff, a->attempt);
            CHECK(a->attempt >= 1 && a->attempt <= c->attempt_budget);
            CHECK(a->delay_ms >= 0);
            CHECK(a->delay_ms <= (ceiling + c->backoff.jitter_ms > c->backoff.max_delay_ms
                                      ? ceiling + c->backoff.jitter_ms
                                      : c->backoff.max_delay_ms));
        }
        if (a->type == LL_ACT_STATE)
            CHECK(a->old_state != a->new_state);
        CHECK(a->url_index >= 0 && a->url_index < c->url_count);
        /* a start (the only attempt 0 that is not a probe) goes to url */
        if (a->type == LL_ACT_CONNECT && !a->probe && a->attempt == 0)
            CHECK(a->url_index == 0);
    }
#undef CHECK
}

static uint64_t next(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static const char *const FALLBACKS[] = {"ws://b.sim.invalid/ws", "ws://c.sim.invalid/ws",
                                        "ws://d.sim.invalid/ws"};

/* Random configs and events from seeds first to last; with_fallbacks adds
 * 0 to 3 fallback URLs (drawn after everything else, so the runs without
 * are the same as ever). */
static void run(uint64_t first, uint64_t last, int with_fallbacks)
{
    for (uint64_t seed = first; seed <= last; seed++) {
        uint64_t x = seed * 0x9e3779b97f4a7c15ULL;
        lifeline_config cfg;
        sim_config(&cfg);
        cfg.base_delay_ms = 1 + (int)(next(&x) % 2000);
        cfg.max_delay_ms = cfg.base_delay_ms + (int)(next(&x) % 10000);
        cfg.jitter_ms = (int)(next(&x) % 500);
        cfg.jitter_mode = (int)(next(&x) % 2);
        cfg.max_attempts = 1 + (int)(next(&x) % 6);
        cfg.stable_after_ms = (int)(next(&x) % 3000);
        cfg.down_ping_interval_ms = 1 + (int)(next(&x) % 3000);
        cfg.connect_timeout_ms = 1 + (int)(next(&x) % 3000);
        cfg.ping_interval_ms = 2 + (int)(next(&x) % 5000);
        cfg.ping_timeout_ms = 1 + (int)(next(&x) % (uint64_t)(cfg.ping_interval_ms - 1));
        if (next(&x) % 3 == 0)
            cfg.health_url = "http://sim.invalid/health";
        if (with_fallbacks) {
            cfg.fallback_urls = FALLBACKS;
            cfg.fallback_url_count = (size_t)(next(&x) % 4);
        }
        assert_int_equal(lifeline_config_validate(&cfg), LIFELINE_OK);
        sim_init(&S, &cfg, seed);
        S.server = SIM_MANUAL;
        for (int step = 0; step < 400; step++) {
            int prev = S.core.state;
            uint64_t r = next(&x);
            ll_event ev = {.type = (ll_event_type)(r % LL_EV_COUNT)};
            ev.conn_id = (next(&x) % 4 == 0) ? S.core.conn_id - 1 : S.core.conn_id;
            ev.seq = (next(&x) % 4 == 0) ? 0 : S.core.ping_seq;
            ev.permanent = next(&x) % 10 == 0;
            ev.retry_after_ms = next(&x) % 5 == 0 ? (int64_t)(next(&x) % 60000) : 0;
            ev.error = LIFELINE_ERR_CONNECTION_RESET;
            if (ev.type == LL_EV_TICK) {
                int64_t d = ll_core_deadline(&S.core);
                if (d != LL_NO_DEADLINE)
                    S.now = d;
            } else {
                /* a loop never lets time pass its deadline without a tick */
                int64_t d = ll_core_deadline(&S.core), t = S.now + (int64_t)(next(&x) % 1000);
                S.now = t < d ? t : d;
            }
            int rc = sim_event(&S, ev);
            if (rc != LIFELINE_OK && rc != LIFELINE_ERR_STATE)
                fail_msg("seed %llu: rc %d", (unsigned long long)seed, rc);
            check_invariants(seed, step, prev);
            /* time may pass past the deadline only through TICK, as a loop does */
            int64_t d = ll_core_deadline(&S.core);
            if (d != LL_NO_DEADLINE && S.now > d)
                fail_msg("seed %llu: deadline passed without a tick", (unsigned long long)seed);
        }
    }
}

static void random_sequences_keep_the_invariants(void **state)
{
    (void)state;
    run(1, 3000, 0);
}

static void random_sequences_with_fallback_urls_keep_the_invariants(void **state)
{
    (void)state;
    run(100001, 103000, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(random_sequences_keep_the_invariants),
        cmocka_unit_test(random_sequences_with_fallback_urls_keep_the_invariants),
    };
    return cmocka_run_group_tests_name("machine_random", tests, NULL, NULL);
}
