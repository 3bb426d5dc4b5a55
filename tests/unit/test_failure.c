/* The core's judgement of a failure's facts (src/core/failure.c), and what
 * it does to the schedule, in virtual time: the core is driven directly,
 * nothing sleeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/machine.h"

static void every_kind_has_its_error_and_permanence(void **state)
{
    (void)state;
    const struct { ll_failure_kind kind; int error; int permanent; } rows[] = {
        {LL_FAIL_DNS, LIFELINE_ERR_DNS, 0},
        {LL_FAIL_REFUSED, LIFELINE_ERR_CONNECTION_REFUSED, 0},
        {LL_FAIL_TIMEOUT, LIFELINE_ERR_CONNECT_TIMEOUT, 0},
        {LL_FAIL_TLS_VERIFY, LIFELINE_ERR_TLS, 1},
        {LL_FAIL_TLS_OTHER, LIFELINE_ERR_TLS, 0},
        {LL_FAIL_TLS_SETUP, LIFELINE_ERR_TLS, 1},
        {LL_FAIL_SETUP, LIFELINE_ERR_TRANSPORT, 1},
        {LL_FAIL_GAVE_UP, LIFELINE_ERR_TRANSPORT, 0},
        {LL_FAIL_PROTOCOL, LIFELINE_ERR_PROTOCOL, 0},
        {LL_FAIL_SUBPROTOCOL, LIFELINE_ERR_NOT_LIFELINE, 1},
        {LL_FAIL_RESET, LIFELINE_ERR_CONNECTION_RESET, 0},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        ll_failure f = {.kind = rows[i].kind, .retry_after_ms = 5000};
        ll_failure_verdict v = ll_failure_judge(&f);
        if (v.error != rows[i].error || v.permanent != rows[i].permanent ||
            v.http_status || v.retry_after_ms)
            fail_msg("%s: %s permanent=%d", ll_failure_kind_name(rows[i].kind),
                     lifeline_error_name(v.error), v.permanent);
    }
    assert_string_equal(ll_failure_kind_name(LL_FAIL_COUNT), "?");
}

static void upgrade_statuses_that_will_not_change_are_permanent(void **state)
{
    (void)state;
    const int permanent[] = {400, 401, 403, 404, 405, 410, 426, 300, 301, 302, 303, 307, 308};
    const int transient[] = {408, 425, 429, 500, 502, 503, 504};
    for (size_t i = 0; i < sizeof(permanent) / sizeof(permanent[0]); i++) {
        ll_failure f = {.kind = LL_FAIL_HTTP_STATUS, .http_status = permanent[i]};
        ll_failure_verdict v = ll_failure_judge(&f);
        assert_true(v.permanent);
        assert_int_equal(v.error, LIFELINE_ERR_HTTP_STATUS);
        assert_int_equal(v.http_status, permanent[i]);
    }
    for (size_t i = 0; i < sizeof(transient) / sizeof(transient[0]); i++) {
        ll_failure f = {.kind = LL_FAIL_HTTP_STATUS, .http_status = transient[i]};
        assert_false(ll_failure_judge(&f).permanent);
    }
}

static void retry_after_is_a_hint_on_429_and_503_only(void **state)
{
    (void)state;
    const struct { int status; int64_t want; } rows[] = {
        {503, 12000}, {429, 12000}, {500, 0}, {502, 0}, {401, 0}, {408, 0},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        ll_failure f = {.kind = LL_FAIL_HTTP_STATUS, .http_status = rows[i].status,
                        .retry_after_ms = 12000};
        assert_int_equal(ll_failure_judge(&f).retry_after_ms, rows[i].want);
    }
}

/* ---- the schedule, in virtual time --------------------------------------- */

static ll_core core;

static const ll_action *find(ll_action_type type)
{
    for (size_t i = 0; i < core.n_actions; i++)
        if (core.actions[i].type == type)
            return &core.actions[i];
    return NULL;
}

/* Started at 0 with no jitter (base 1 s); the first attempt fails at 10 ms
 * with f. */
static void first_attempt_fails_with(ll_failure f)
{
    lifeline_config cfg;
    lifeline_config_init(&cfg);
    cfg.base_delay_ms = 1000;
    cfg.jitter_ms = 0;
    ll_core_init(&core, &cfg, 7);
    assert_int_equal(ll_core_handle(&core, &(ll_event){.type = LL_EV_START}, 0), LIFELINE_OK);
    ll_event ev = {.type = LL_EV_CONNECT_FAILED, .conn_id = core.conn_id, .failure = f};
    assert_int_equal(ll_core_handle(&core, &ev, 10), LIFELINE_OK);
}

static void a_401_stops_retrying(void **state)
{
    (void)state;
    first_attempt_fails_with((ll_failure){.kind = LL_FAIL_HTTP_STATUS, .http_status = 401});
    assert_int_equal(core.state, LIFELINE_STATE_ERROR);
    assert_null(find(LL_ACT_RETRY));
    const ll_action *st = find(LL_ACT_STATE);
    assert_int_equal(st->error, LIFELINE_ERR_HTTP_STATUS);
    assert_int_equal(st->http_status, 401);
    assert_int_equal(ll_core_deadline(&core), LL_NO_DEADLINE);
    assert_int_equal(core.last_http_status, 401);
}

static void a_503_with_retry_after_20_s_waits_20_s(void **state)
{
    (void)state;
    first_attempt_fails_with((ll_failure){.kind = LL_FAIL_HTTP_STATUS, .http_status = 503,
                                          .retry_after_ms = 20000});
    assert_int_equal(core.state, LIFELINE_STATE_DISCONNECTED);
    assert_int_equal(find(LL_ACT_RETRY)->delay_ms, 20000);
    assert_int_equal(ll_core_deadline(&core), 10 + 20000);
    /* the same answer without the header: the backoff's own 1 s */
    first_attempt_fails_with((ll_failure){.kind = LL_FAIL_HTTP_STATUS, .http_status = 503});
    assert_int_equal(find(LL_ACT_RETRY)->delay_ms, 1000);
    /* and a 500 with it: no hint taken */
    first_attempt_fails_with((ll_failure){.kind = LL_FAIL_HTTP_STATUS, .http_status = 500,
                                          .retry_after_ms = 20000});
    assert_int_equal(find(LL_ACT_RETRY)->delay_ms, 1000);
}

static void a_refused_certificate_goes_to_error(void **state)
{
    (void)state;
    first_attempt_fails_with((ll_failure){.kind = LL_FAIL_TLS_VERIFY});
    assert_int_equal(core.state, LIFELINE_STATE_ERROR);
    assert_int_equal(find(LL_ACT_STATE)->error, LIFELINE_ERR_TLS);
    assert_null(find(LL_ACT_RETRY));
    /* any other TLS failure retries */
    first_attempt_fails_with((ll_failure){.kind = LL_FAIL_TLS_OTHER});
    assert_int_equal(core.state, LIFELINE_STATE_DISCONNECTED);
    assert_non_null(find(LL_ACT_RETRY));
}

static void a_name_that_does_not_resolve_is_retried(void **state)
{
    (void)state;
    first_attempt_fails_with((ll_failure){.kind = LL_FAIL_DNS});
    assert_int_equal(core.state, LIFELINE_STATE_DISCONNECTED);
    assert_int_equal(find(LL_ACT_STATE)->error, LIFELINE_ERR_DNS);
    assert_int_equal(find(LL_ACT_RETRY)->delay_ms, 1000);
    assert_int_equal(ll_core_handle(&core, &(ll_event){.type = LL_EV_TICK}, 1010), LIFELINE_OK);
    assert_non_null(find(LL_ACT_CONNECT));
}

static void without_facts_the_event_stands_as_given(void **state)
{
    (void)state;
    lifeline_config cfg;
    lifeline_config_init(&cfg);
    ll_core_init(&core, &cfg, 7);
    ll_core_handle(&core, &(ll_event){.type = LL_EV_START}, 0);
    ll_event ev = {.type = LL_EV_CONNECT_FAILED, .conn_id = core.conn_id,
                   .error = LIFELINE_ERR_CLOSED_BY_PEER};
    ll_core_handle(&core, &ev, 10);
    assert_int_equal(find(LL_ACT_STATE)->error, LIFELINE_ERR_CLOSED_BY_PEER);
    assert_int_equal(core.state, LIFELINE_STATE_DISCONNECTED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_kind_has_its_error_and_permanence),
        cmocka_unit_test(upgrade_statuses_that_will_not_change_are_permanent),
        cmocka_unit_test(retry_after_is_a_hint_on_429_and_503_only),
        cmocka_unit_test(a_401_stops_retrying),
        cmocka_unit_test(a_503_with_retry_after_20_s_waits_20_s),
        cmocka_unit_test(a_refused_certificate_goes_to_error),
        cmocka_unit_test(a_name_that_does_not_resolve_is_retried),
        cmocka_unit_test(without_facts_the_event_stands_as_given),
    };
    return cmocka_run_group_tests_name("failure", tests, NULL, NULL);
}
