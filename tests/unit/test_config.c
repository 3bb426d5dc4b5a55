/* lifeline_config_init() defaults, lifeline_config_validate() errors, and the
 * names and texts of the public enums. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <libwebsockets.h>
#include <stdio.h>

#include "lifeline/lifeline.h"

static lifeline_config valid(void)
{
    lifeline_config cfg;
    lifeline_config_init(&cfg);
    cfg.url = "ws://127.0.0.1:8080/ws?store=s1";
    return cfg;
}

static void init_fills_the_specified_defaults(void **state)
{
    (void)state;
    lifeline_config cfg;
    memset(&cfg, 0xff, sizeof(cfg));
    lifeline_config_init(&cfg);
    assert_int_equal(cfg.struct_size, sizeof(cfg));
    assert_null(cfg.url);
    assert_null(cfg.health_url);
    assert_int_equal(cfg.base_delay_ms, 5000);
    assert_int_equal(cfg.max_delay_ms, 30000);
    assert_int_equal(cfg.jitter_ms, 1000);
    assert_int_equal(cfg.jitter_mode, LIFELINE_JITTER_ADDITIVE);
    assert_int_equal(cfg.max_attempts, 5);
    assert_int_equal(cfg.stable_after_ms, 10000);
    assert_int_equal(cfg.down_ping_interval_ms, 5000);
    assert_int_equal(cfg.connect_timeout_ms, 10000);
    assert_int_equal(cfg.ping_interval_ms, 30000);
    assert_int_equal(cfg.ping_timeout_ms, 10000);
    assert_int_equal(cfg.rtt_good_ms, 300);
    assert_int_equal(cfg.rtt_poor_ms, 1000);
    assert_int_equal(cfg.random_seed, 0);
}

static void defaults_with_a_url_validate(void **state)
{
    (void)state;
    lifeline_config cfg = valid();
    assert_int_equal(lifeline_config_validate(&cfg), LIFELINE_OK);
    cfg.url = "wss://pos.example.com/ws";
    assert_int_equal(lifeline_config_validate(&cfg), LIFELINE_OK);
    cfg.url = "WS://[::1]:9000";
    assert_int_equal(lifeline_config_validate(&cfg), LIFELINE_OK);
}

static void null_config_is_an_invalid_argument(void **state)
{
    (void)state;
    assert_int_equal(lifeline_config_validate(NULL), LIFELINE_ERR_INVALID_ARGUMENT);
}

static void uninitialised_config_is_refused(void **state)
{
    (void)state;
    lifeline_config cfg = valid();
    cfg.struct_size = 0;
    assert_int_equal(lifeline_config_validate(&cfg), LIFELINE_ERR_CONFIG_STRUCT_SIZE);
}

static void urls_that_are_not_websocket_are_refused(void **state)
{
    (void)state;
    const char *bad[] = {NULL, "", "http://host/ws", "ws:/host", "ws://", "ws:///path",
                         "ws://:80", "host:80", "wss ://x", "ws://ho st/", "ftp://x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        lifeline_config cfg = valid();
        cfg.url = bad[i];
        assert_int_equal(lifeline_config_validate(&cfg), LIFELINE_ERR_CONFIG_URL);
    }
}

/* Apply one edit to a valid config and validate it. */
#define CHECK(edit, expected)                                                  \
    do {                                                                       \
        lifeline_config cfg = valid();                                         \
        edit;                                                                  \
        assert_int_equal(lifeline_config_validate(&cfg), (expected));          \
    } while (0)

static void each_bad_field_has_its_own_error(void **state)
{
    (void)state;
    CHECK(cfg.base_delay_ms = -1, LIFELINE_ERR_CONFIG_NEGATIVE);
    CHECK(cfg.max_delay_ms = -1, LIFELINE_ERR_CONFIG_NEGATIVE);
    CHECK(cfg.jitter_ms = -5, LIFELINE_ERR_CONFIG_NEGATIVE);
    CHECK(cfg.max_attempts = -1, LIFELINE_ERR_CONFIG_NEGATIVE);
    CHECK(cfg.stable_after_ms = -1, LIFELINE_ERR_CONFIG_NEGATIVE);
    CHECK(cfg.down_ping_interval_ms = -1, LIFELINE_ERR_CONFIG_NEGATIVE);
    CHECK(cfg.connect_timeout_ms = -1, LIFELINE_ERR_CONFIG_NEGATIVE);
    CHECK(cfg.ping_interval_ms = -1, LIFELINE_ERR_CONFIG_NEGATIVE);
    CHECK(cfg.ping_timeout_ms = -1, LIFELINE_ERR_CONFIG_NEGATIVE);
    CHECK(cfg.rtt_good_ms = -1, LIFELINE_ERR_CONFIG_NEGATIVE);
    CHECK(cfg.rtt_poor_ms = -1, LIFELINE_ERR_CONFIG_NEGATIVE);
    CHECK(cfg.base_delay_ms = 0, LIFELINE_ERR_CONFIG_BASE_DELAY);
    CHECK(cfg.max_delay_ms = 4999, LIFELINE_ERR_CONFIG_MAX_DELAY);
    CHECK(cfg.max_attempts = 0, LIFELINE_ERR_CONFIG_MAX_ATTEMPTS);
    CHECK(cfg.jitter_mode = 7, LIFELINE_ERR_CONFIG_JITTER_MODE);
    CHECK(cfg.down_ping_interval_ms = 0, LIFELINE_ERR_CONFIG_DOWN_PING_INTERVAL);
    CHECK(cfg.health_url = "ws://host/health", LIFELINE_ERR_CONFIG_HEALTH_URL);
    CHECK(cfg.health_url = "", LIFELINE_ERR_CONFIG_HEALTH_URL);
    CHECK(cfg.connect_timeout_ms = 0, LIFELINE_ERR_CONFIG_CONNECT_TIMEOUT);
    CHECK(cfg.ping_interval_ms = 0, LIFELINE_ERR_CONFIG_PING_INTERVAL);
    CHECK(cfg.ping_timeout_ms = 0, LIFELINE_ERR_CONFIG_PING_TIMEOUT);
    CHECK(cfg.ping_timeout_ms = 30000, LIFELINE_ERR_CONFIG_PING_TIMEOUT);
    CHECK(cfg.ping_timeout_ms = 45000, LIFELINE_ERR_CONFIG_PING_TIMEOUT);
    CHECK(cfg.rtt_good_ms = 0, LIFELINE_ERR_CONFIG_RTT_THRESHOLDS);
    CHECK(cfg.rtt_good_ms = 1000, LIFELINE_ERR_CONFIG_RTT_THRESHOLDS);
    /* the edges that are allowed */
    CHECK(cfg.max_delay_ms = cfg.base_delay_ms, LIFELINE_OK);
    CHECK(cfg.ping_timeout_ms = cfg.ping_interval_ms - 1, LIFELINE_OK);
    CHECK(cfg.jitter_ms = 0, LIFELINE_OK);
    CHECK(cfg.stable_after_ms = 0, LIFELINE_OK);
    CHECK(cfg.jitter_mode = LIFELINE_JITTER_FULL, LIFELINE_OK);
    CHECK(cfg.health_url = "http://127.0.0.1:8080/api/v1/websockets/health", LIFELINE_OK);
}

static void check_names_the_bad_field(void **state)
{
    (void)state;
    const char *field = "x";
    lifeline_config cfg = valid();
    assert_int_equal(lifeline_config_check(&cfg, &field), LIFELINE_OK);
    assert_null(field);
    cfg.stable_after_ms = -1;
    assert_int_equal(lifeline_config_check(&cfg, &field), LIFELINE_ERR_CONFIG_NEGATIVE);
    assert_string_equal(field, "stable_after_ms");
    cfg = valid();
    cfg.ping_timeout_ms = 40000;
    assert_int_equal(lifeline_config_check(&cfg, &field), LIFELINE_ERR_CONFIG_PING_TIMEOUT);
    assert_string_equal(field, "ping_timeout_ms");
    cfg = valid();
    cfg.queue_max_bytes = 0;
    assert_int_equal(lifeline_config_check(&cfg, &field), LIFELINE_ERR_CONFIG_LIMITS);
    assert_string_equal(field, "queue_max_bytes");
    const char *labels[] = {"Store: 12", "no colon"};
    cfg = valid();
    cfg.alert_labels = labels;
    cfg.alert_label_count = 2;
    assert_int_equal(lifeline_config_check(&cfg, &field), LIFELINE_ERR_CONFIG_LABEL);
    assert_string_equal(field, "alert_labels");
    cfg.url = NULL; /* the first bad field in declaration order wins */
    assert_int_equal(lifeline_config_check(&cfg, &field), LIFELINE_ERR_CONFIG_URL);
    assert_string_equal(field, "url");
    assert_int_equal(lifeline_config_check(NULL, &field), LIFELINE_ERR_INVALID_ARGUMENT);
}

static void every_error_has_a_distinct_name_and_text(void **state)
{
    (void)state;
    int values[] = {
#define XX(name, value, msg) value,
        LIFELINE_ERROR_MAP(XX)
#undef XX
    };
    size_t n = sizeof(values) / sizeof(values[0]);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(values[i], (int)i); /* dense, never renumbered */
        assert_string_not_equal(lifeline_strerror(values[i]), "unknown error");
        for (size_t j = 0; j < i; j++) {
            assert_string_not_equal(lifeline_strerror(values[i]), lifeline_strerror(values[j]));
            assert_string_not_equal(lifeline_error_name(values[i]), lifeline_error_name(values[j]));
        }
    }
    assert_string_equal(lifeline_strerror(0), "success");
    assert_string_equal(lifeline_error_name(LIFELINE_ERR_PING_TIMEOUT), "PING_TIMEOUT");
    assert_string_equal(lifeline_strerror(-1), "unknown error");
    assert_string_equal(lifeline_strerror(100000), "unknown error");
    assert_string_equal(lifeline_error_name(100000), "UNKNOWN");
}

static void enum_names_are_the_documented_strings(void **state)
{
    (void)state;
    const char *states[] = {"idle", "connecting", "connected", "disconnected",
                            "error", "server_down", "closed"};
    for (int i = 0; i < LIFELINE_STATE_COUNT; i++)
        assert_string_equal(lifeline_state_name(i), states[i]);
    assert_string_equal(lifeline_state_name(LIFELINE_STATE_COUNT), "unknown");
    assert_string_equal(lifeline_state_name(-1), "unknown");
    assert_string_equal(lifeline_quality_name(LIFELINE_QUALITY_EXCELLENT), "excellent");
    assert_string_equal(lifeline_quality_name(LIFELINE_QUALITY_GOOD), "good");
    assert_string_equal(lifeline_quality_name(LIFELINE_QUALITY_POOR), "poor");
    assert_string_equal(lifeline_quality_name(LIFELINE_QUALITY_UNKNOWN), "unknown");
    assert_string_equal(lifeline_quality_name(9), "unknown");
    assert_string_equal(lifeline_jitter_mode_name(LIFELINE_JITTER_FULL), "full");
    assert_string_equal(lifeline_jitter_mode_name(LIFELINE_JITTER_ADDITIVE), "additive");
}

static void deflate_is_refused_on_libwebsockets_4_1(void **state)
{
    (void)state;
    lifeline_config cfg = valid();
    cfg.permessage_deflate = 1;
    lifeline_client *c = NULL;
    int major = 0, minor = 0;
    sscanf(lws_get_library_version(), "%d.%d", &major, &minor);
    if (major == 4 && minor < 2) {
        assert_int_equal(lifeline_client_new(&cfg, &c), LIFELINE_ERR_CONFIG_DEFLATE);
        assert_null(c);
    } else {
        assert_int_equal(lifeline_client_new(&cfg, &c), LIFELINE_OK);
        assert_int_equal(lifeline_client_free(c), LIFELINE_OK);
    }
}

static void version_matches_the_header(void **state)
{
    (void)state;
    assert_string_equal(lifeline_version(), "0.1.0");
    assert_int_equal(lifeline_version_number(), LIFELINE_VERSION_NUMBER);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(init_fills_the_specified_defaults),
        cmocka_unit_test(defaults_with_a_url_validate),
        cmocka_unit_test(null_config_is_an_invalid_argument),
        cmocka_unit_test(uninitialised_config_is_refused),
        cmocka_unit_test(urls_that_are_not_websocket_are_refused),
        cmocka_unit_test(each_bad_field_has_its_own_error),
        cmocka_unit_test(check_names_the_bad_field),
        cmocka_unit_test(every_error_has_a_distinct_name_and_text),
        cmocka_unit_test(enum_names_are_the_documented_strings),
        cmocka_unit_test(deflate_is_refused_on_libwebsockets_4_1),
        cmocka_unit_test(version_matches_the_header),
    };
    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
