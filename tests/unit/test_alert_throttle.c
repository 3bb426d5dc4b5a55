/* The alert throttle, in the core (machine.c): at most one down alert per
 * alert_min_interval_ms however the server flaps, and a recovered alert only
 * for an outage whose down alert was sent. Virtual time: the test drives
 * the core's events itself; nothing here sleeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/machine.h"

#define MIN 60000

static ll_core core;
static int64_t now;

static void init(int interval_ms)
{
    lifeline_config cfg;
    lifeline_config_init(&cfg);
    cfg.max_attempts = 1;
    cfg.base_delay_ms = 100;
    cfg.max_delay_ms = 100;
    cfg.jitter_ms = 0;
    cfg.alert_min_interval_ms = interval_ms;
    ll_core_init(&core, &cfg, 1);
    now = 0;
}

static const ll_action *find(ll_action_type type)
{
    for (size_t i = 0; i < core.n_actions; i++)
        if (core.actions[i].type == type)
            return &core.actions[i];
    return NULL;
}

static void handle(ll_event_type type)
{
    ll_event ev = {.type = type, .conn_id = core.conn_id,
                   .error = LIFELINE_ERR_CONNECTION_REFUSED};
    assert_int_equal(ll_core_handle(&core, &ev, now), LIFELINE_OK);
}

/* Connected, then lost at down_at - 100: the one retry (100 ms, no
 * jitter) fails at down_at and the server is judged down then. Returns the
 * SERVER_DOWN action's alert flag. */
static int goes_down_at(int64_t down_at)
{
    assert_int_equal(core.state, LIFELINE_STATE_CONNECTED);
    assert_true(now <= down_at - 100); /* time never goes back */
    now = down_at - 100;
    handle(LL_EV_CLOSED);
    assert_int_equal(core.state, LIFELINE_STATE_DISCONNECTED);
    now = ll_core_deadline(&core);
    assert_int_equal(now, down_at);
    handle(LL_EV_TICK);
    assert_non_null(find(LL_ACT_CONNECT));
    handle(LL_EV_CONNECT_FAILED);
    const ll_action *down = find(LL_ACT_SERVER_DOWN);
    assert_non_null(down);
    return down->alert;
}

/* The next probe opens: returns the RECOVERED action's alert flag. */
static int comes_back(void)
{
    now = ll_core_deadline(&core);
    handle(LL_EV_TICK);
    assert_non_null(find(LL_ACT_CONNECT));
    handle(LL_EV_OPENED);
    const ll_action *rec = find(LL_ACT_RECOVERED);
    assert_non_null(rec);
    return rec->alert;
}

static void connected_at_0(void)
{
    handle(LL_EV_START);
    handle(LL_EV_OPENED);
    assert_int_equal(core.state, LIFELINE_STATE_CONNECTED);
}

static void a_flapping_server_alerts_once_per_interval(void **state)
{
    (void)state;
    init(10 * MIN);
    connected_at_0();
    const int64_t t = 5 * MIN;
    /* downs at t, t + 1 min, t + 11 min: alerts at t and t + 11 min */
    assert_true(goes_down_at(t));
    assert_true(comes_back());        /* pairs with the alert at t */
    assert_false(goes_down_at(t + 1 * MIN));
    assert_false(comes_back());       /* its down alert was held back */
    assert_true(goes_down_at(t + 11 * MIN));
    assert_true(comes_back());
}

static void the_interval_is_counted_from_the_last_alert_sent(void **state)
{
    (void)state;
    init(10 * MIN);
    connected_at_0();
    assert_true(goes_down_at(1 * MIN));
    comes_back();
    /* 9 min 59.999 s after the alert: held; 1 min later, 11 min after the
     * alert: sent (the held one did not restart the interval) */
    assert_false(goes_down_at(1 * MIN + 10 * MIN - 1));
    comes_back();
    assert_true(goes_down_at(1 * MIN + 11 * MIN));
}

static void an_interval_of_0_alerts_every_outage(void **state)
{
    (void)state;
    init(0);
    connected_at_0();
    for (int i = 1; i <= 3; i++) {
        assert_true(goes_down_at(i * MIN));
        assert_true(comes_back());
    }
}

static void a_down_alert_not_handed_over_neither_counts_nor_pairs(void **state)
{
    (void)state;
    init(10 * MIN);
    connected_at_0();
    assert_true(goes_down_at(1 * MIN));
    ll_core_down_alert_unsent(&core); /* the notifier refused it */
    assert_false(comes_back());
    assert_true(goes_down_at(2 * MIN)); /* the throttle did not count it */
    assert_true(comes_back());
}

static void the_throttle_outlives_a_stop_and_start(void **state)
{
    (void)state;
    init(10 * MIN);
    connected_at_0();
    assert_true(goes_down_at(1 * MIN));
    handle(LL_EV_STOP);
    now = 2 * MIN;
    handle(LL_EV_START);
    assert_null(find(LL_ACT_RECOVERED)); /* a new start is no recovery */
    handle(LL_EV_OPENED);
    assert_null(find(LL_ACT_RECOVERED));
    assert_false(goes_down_at(3 * MIN));
    assert_false(comes_back());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_flapping_server_alerts_once_per_interval),
        cmocka_unit_test(the_interval_is_counted_from_the_last_alert_sent),
        cmocka_unit_test(an_interval_of_0_alerts_every_outage),
        cmocka_unit_test(a_down_alert_not_handed_over_neither_counts_nor_pairs),
        cmocka_unit_test(the_throttle_outlives_a_stop_and_start),
    };
    return cmocka_run_group_tests_name("alert_throttle", tests, NULL, NULL);
}
