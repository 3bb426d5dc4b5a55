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

#include "api/config.h"
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
    cfg.struct_size = LL_CONFIG_SIZE_MIN - 1;
    assert_int_equal(lifeline_config_validate(&cfg), LIFELINE_ERR_CONFIG_STRUCT_SIZE);
    cfg.struct_size = sizeof(cfg) + 8;
    assert_int_equal(lifeline_config_validate(&cfg), LIFELINE_ERR_CONFIG_STRUCT_SIZE);
    cfg.struct_size = (size_t)-1;
    assert_int_equal(lifeline_config_validate(&cfg), LIFELINE_ERR_CONFIG_STRUCT_SIZE);
}

/* A lifeline_config in a buffer of guard bytes, as an application with a
 * struct of another size has it. */
typedef union {
    lifeline_config cfg;
    unsigned char bytes[sizeof(lifeline_config) + 64];
} guarded_config;

#define GUARD 0xA5

static void assert_guard_from(const guarded_config *g, size_t from)
{
    for (size_t i = from; i < sizeof(g->bytes); i++)
        if (g->bytes[i] != GUARD)
            fail_msg("byte %zu past a struct of %zu bytes was written", i, from);
}

static void init_sized_refuses_what_cannot_hold_the_url_and_writes_nothing(void **state)
{
    (void)state;
    guarded_config g;
    memset(&g, GUARD, sizeof(g));
    assert_int_equal(lifeline_config_init_sized(NULL, sizeof(lifeline_config)),
                     LIFELINE_ERR_INVALID_ARGUMENT);
    assert_int_equal(lifeline_config_init_sized(&g.cfg, 0), LIFELINE_ERR_INVALID_ARGUMENT);
    assert_int_equal(lifeline_config_init_sized(&g.cfg, LL_CONFIG_SIZE_MIN - 1),
                     LIFELINE_ERR_INVALID_ARGUMENT);
    assert_guard_from(&g, 0);
    assert_int_equal(lifeline_config_init_sized(&g.cfg, LL_CONFIG_SIZE_MIN), LIFELINE_OK);
    assert_int_equal(g.cfg.struct_size, LL_CONFIG_SIZE_MIN);
    assert_null(g.cfg.url);
    assert_guard_from(&g, LL_CONFIG_SIZE_MIN);
}

static void an_older_smaller_config_is_written_up_to_its_size_and_defaulted_past_it(void **state)
{
    (void)state;
    /* an application whose lifeline.h ended the config before the queue */
    const size_t older = offsetof(lifeline_config, max_message_bytes);
    guarded_config g;
    memset(&g, GUARD, sizeof(g));
    assert_int_equal(lifeline_config_init_sized(&g.cfg, older), LIFELINE_OK);
    assert_guard_from(&g, older);
    assert_int_equal(g.cfg.struct_size, older);
    assert_int_equal(g.cfg.ping_interval_ms, 30000);
    assert_int_equal(g.cfg.app_ping, 0);
    g.cfg.url = "ws://127.0.0.1:1/ws";
    g.cfg.max_attempts = 9;
    const char *field = "x";
    assert_int_equal(lifeline_config_check(&g.cfg, &field), LIFELINE_OK);
    assert_null(field);
    /* what the library works with: the application's fields, then ours */
    lifeline_config full;
    assert_int_equal(ll_config_widen(&g.cfg, &full), LIFELINE_OK);
    assert_int_equal(full.struct_size, sizeof(full));
    assert_string_equal(full.url, "ws://127.0.0.1:1/ws");
    assert_int_equal(full.max_attempts, 9);
    assert_int_equal(full.max_message_bytes, 1024 * 1024);
    assert_int_equal(full.queue_max_messages, 1000);
    assert_int_equal(full.alert_min_interval_ms, 600000);
    assert_int_equal(full.log_level, LIFELINE_LOG_WARN);
    assert_null(full.on_state);
    assert_null(full.user_data);
    assert_guard_from(&g, older);
}

static void a_config_larger_than_the_library_knows_is_refused(void **state)
{
    (void)state;
    /* an application built against a newer lifeline.h than this library */
    const size_t newer = sizeof(lifeline_config) + 16;
    guarded_config g;
    memset(&g, GUARD, sizeof(g));
    assert_int_equal(lifeline_config_init_sized(&g.cfg, newer), LIFELINE_ERR_CONFIG_STRUCT_SIZE);
    assert_int_equal(g.cfg.struct_size, newer);
    assert_int_equal(g.cfg.max_attempts, 5);
    for (size_t i = sizeof(lifeline_config); i < newer; i++)
        assert_int_equal(g.bytes[i], 0); /* fields this library does not know */
    assert_guard_from(&g, newer);
    g.cfg.url = "ws://127.0.0.1:1/ws";
    const char *field = NULL;
    assert_int_equal(lifeline_config_check(&g.cfg, &field), LIFELINE_ERR_CONFIG_STRUCT_SIZE);
    assert_string_equal(field, "struct_size");
    lifeline_client *c = (lifeline_client *)&g;
    assert_int_equal(lifeline_client_new(&g.cfg, &c), LIFELINE_ERR_CONFIG_STRUCT_SIZE);
    assert_null(c);
}

static void the_0_1_init_symbol_writes_the_0_1_struct_only(void **state)
{
    (void)state;
    /* what a program built with the 0.1 headers (a function, not the
     * macro) calls */
    guarded_config g;
    memset(&g, GUARD, sizeof(g));
    (lifeline_config_init)(&g.cfg);
    assert_int_equal(g.cfg.struct_size, LL_CONFIG_SIZE_0_1);
    assert_int_equal(g.cfg.base_delay_ms, 5000);
    assert_guard_from(&g, LL_CONFIG_SIZE_0_1);
    (lifeline_config_init)(NULL); /* a no-op, as it was */
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

static void fallback_urls_are_checked_each_and_named(void **state)
{
    (void)state;
    const char *field = "x";
    lifeline_config cfg = valid();
    assert_int_equal(cfg.fallback_url_count, 0);
    assert_null(cfg.fallback_urls);
    const char *good[] = {"wss://b.example/ws", "ws://[::1]:8080/ws?store=1"};
    cfg.fallback_urls = good;
    cfg.fallback_url_count = 2;
    assert_int_equal(lifeline_config_check(&cfg, &field), LIFELINE_OK);
    assert_null(field);
    /* each entry as url is parsed, else CONFIG_FALLBACK_URL naming the field */
    const char *bad[] = {NULL, "", "http://b/ws", "ws://", "ws://b:0/ws", "ws://b:99999/",
                         "ws://[::1/ws", "ws://b /ws"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *list[] = {"ws://b.example/ws", bad[i]};
        cfg.fallback_urls = list;
        cfg.fallback_url_count = 2;
        field = NULL;
        assert_int_equal(lifeline_config_check(&cfg, &field), LIFELINE_ERR_CONFIG_FALLBACK_URL);
        assert_string_equal(field, "fallback_urls");
    }
    /* a count without an array, and more than the most */
    cfg.fallback_urls = NULL;
    cfg.fallback_url_count = 1;
    assert_int_equal(lifeline_config_check(&cfg, &field), LIFELINE_ERR_CONFIG_FALLBACK_URL);
    const char *many[LIFELINE_MAX_FALLBACK_URLS + 1];
    for (size_t i = 0; i <= LIFELINE_MAX_FALLBACK_URLS; i++)
        many[i] = "ws://b.example/ws";
    cfg.fallback_urls = many;
    cfg.fallback_url_count = LIFELINE_MAX_FALLBACK_URLS;
    assert_int_equal(lifeline_config_check(&cfg, &field), LIFELINE_OK);
    cfg.fallback_url_count = LIFELINE_MAX_FALLBACK_URLS + 1;
    assert_int_equal(lifeline_config_check(&cfg, &field), LIFELINE_ERR_CONFIG_FALLBACK_URL);
    assert_string_equal(field, "fallback_urls");
    /* lifeline_client_new() refuses what the check refuses */
    lifeline_client *c = NULL;
    assert_int_equal(lifeline_client_new(&cfg, &c), LIFELINE_ERR_CONFIG_FALLBACK_URL);
    assert_null(c);
    assert_string_equal(lifeline_error_name(LIFELINE_ERR_CONFIG_FALLBACK_URL),
                        "CONFIG_FALLBACK_URL");
}

/* Reliable delivery's fields (issue 12): their defaults, and each rule
 * naming its field. */
static void reliable_delivery_fields_are_checked_by_name(void **state)
{
    (void)state;
    lifeline_config cfg = valid();
    assert_int_equal(cfg.delivery, LIFELINE_DELIVERY_BEST_EFFORT);
    assert_null(cfg.outbox_path);
    assert_int_equal(cfg.outbox_durability, LIFELINE_DURABILITY_NORMAL);
    assert_int_equal(cfg.ack_every, 32);
    assert_int_equal(cfg.ack_delay_ms, 20);
    static const struct {
        int delivery, durability, ack_every, ack_delay_ms, app_ping, policy;
        const char *subprotocol;
        int err;
        const char *field;
    } rows[] = {
        {1, 0, 32, 20, 0, 0, NULL, LIFELINE_OK, NULL},
        {1, 1, 1, 0, 0, 1, NULL, LIFELINE_OK, NULL},
        {2, 0, 32, 20, 0, 0, NULL, LIFELINE_ERR_CONFIG_DELIVERY, "delivery"},
        {-1, 0, 32, 20, 0, 0, NULL, LIFELINE_ERR_CONFIG_DELIVERY, "delivery"},
        {1, 0, 32, 20, 0, 0, "chat", LIFELINE_ERR_CONFIG_DELIVERY, "subprotocol"},
        {0, 0, 32, 20, 0, 0, "chat", LIFELINE_OK, NULL}, /* best effort: the app's */
        {1, 0, 32, 20, 1, 0, NULL, LIFELINE_ERR_CONFIG_DELIVERY, "app_ping"},
        {1, 0, 32, 20, 0, LIFELINE_QUEUE_OFF, NULL, LIFELINE_ERR_CONFIG_DELIVERY, "queue_policy"},
        {1, 2, 32, 20, 0, 0, NULL, LIFELINE_ERR_CONFIG_DELIVERY, "outbox_durability"},
        {1, 0, 0, 20, 0, 0, NULL, LIFELINE_ERR_CONFIG_DELIVERY, "ack_every"},
        {1, 0, -3, 20, 0, 0, NULL, LIFELINE_ERR_CONFIG_DELIVERY, "ack_every"},
        {1, 0, 32, -1, 0, 0, NULL, LIFELINE_ERR_CONFIG_NEGATIVE, "ack_delay_ms"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        cfg = valid();
        cfg.delivery = rows[i].delivery;
        cfg.outbox_durability = rows[i].durability;
        cfg.ack_every = rows[i].ack_every;
        cfg.ack_delay_ms = rows[i].ack_delay_ms;
        cfg.app_ping = rows[i].app_ping;
        cfg.queue_policy = rows[i].policy;
        cfg.subprotocol = rows[i].subprotocol;
        const char *field = "x";
        int err = lifeline_config_check(&cfg, &field);
        if (err != rows[i].err || (field == NULL) != (rows[i].field == NULL) ||
            (field && strcmp(field, rows[i].field) != 0))
            fail_msg("row %zu: %s naming %s, want %s naming %s", i, lifeline_error_name(err),
                     field ? field : "nothing", lifeline_error_name(rows[i].err),
                     rows[i].field ? rows[i].field : "nothing");
    }
}

/* Apply one edit to a valid config; check names the field expected. */
#define NAMES(edit, expected_err, expected_field)                              \
    do {                                                                       \
        lifeline_config cfg = valid();                                         \
        const char *field = NULL;                                              \
        edit;                                                                  \
        assert_int_equal(lifeline_config_check(&cfg, &field), (expected_err)); \
        assert_non_null(field);                                                \
        assert_string_equal(field, (expected_field));                          \
    } while (0)

static void a_rule_between_two_fields_names_the_one_the_app_changed(void **state)
{
    (void)state;
    /* only one changed from its default: that one broke the rule */
    NAMES(cfg.base_delay_ms = 40000, LIFELINE_ERR_CONFIG_MAX_DELAY, "base_delay_ms");
    NAMES(cfg.max_delay_ms = 100, LIFELINE_ERR_CONFIG_MAX_DELAY, "max_delay_ms");
    NAMES(cfg.ping_interval_ms = 5000, LIFELINE_ERR_CONFIG_PING_TIMEOUT, "ping_interval_ms");
    NAMES(cfg.ping_timeout_ms = 40000, LIFELINE_ERR_CONFIG_PING_TIMEOUT, "ping_timeout_ms");
    NAMES(cfg.rtt_good_ms = 2000, LIFELINE_ERR_CONFIG_RTT_THRESHOLDS, "rtt_good_ms");
    NAMES(cfg.rtt_good_ms = 1000, LIFELINE_ERR_CONFIG_RTT_THRESHOLDS, "rtt_good_ms");
    NAMES(cfg.rtt_poor_ms = 100, LIFELINE_ERR_CONFIG_RTT_THRESHOLDS, "rtt_poor_ms");
    /* both changed: the field the error is about */
    NAMES((cfg.base_delay_ms = 500, cfg.max_delay_ms = 400), LIFELINE_ERR_CONFIG_MAX_DELAY,
          "max_delay_ms");
    NAMES((cfg.ping_interval_ms = 300, cfg.ping_timeout_ms = 300),
          LIFELINE_ERR_CONFIG_PING_TIMEOUT, "ping_timeout_ms");
    NAMES((cfg.rtt_good_ms = 1500, cfg.rtt_poor_ms = 1200), LIFELINE_ERR_CONFIG_RTT_THRESHOLDS,
          "rtt_poor_ms");
    /* a rule on one field names it, whatever the other */
    NAMES((cfg.ping_interval_ms = 5000, cfg.ping_timeout_ms = 0),
          LIFELINE_ERR_CONFIG_PING_TIMEOUT, "ping_timeout_ms");
    NAMES((cfg.rtt_poor_ms = 100, cfg.rtt_good_ms = 0), LIFELINE_ERR_CONFIG_RTT_THRESHOLDS,
          "rtt_good_ms");
}

static void check_refuses_what_the_client_would(void **state)
{
    (void)state;
    /* URLs as the client parses them */
    NAMES(cfg.url = "ws://host:0/ws", LIFELINE_ERR_CONFIG_URL, "url");
    NAMES(cfg.url = "ws://host:65536/ws", LIFELINE_ERR_CONFIG_URL, "url");
    NAMES(cfg.url = "wss://[::1/ws", LIFELINE_ERR_CONFIG_URL, "url");
    NAMES(cfg.health_url = "http://host:99999/health", LIFELINE_ERR_CONFIG_HEALTH_URL,
          "health_url");
    CHECK(cfg.url = "wss://[::1]:8443/ws?store=1", LIFELINE_OK);
    CHECK(cfg.health_url = "https://[::1]/health", LIFELINE_OK);
    /* a CA file that cannot be read */
    NAMES(cfg.ca_file = "/nonexistent/lifeline-ca.pem", LIFELINE_ERR_CONFIG_CA_FILE, "ca_file");
    CHECK(cfg.ca_file = "/dev/null", LIFELINE_OK);
    /* and the client agrees */
    lifeline_config cfg = valid();
    cfg.ca_file = "/nonexistent/lifeline-ca.pem";
    lifeline_client *c = NULL;
    assert_int_equal(lifeline_client_new(&cfg, &c), LIFELINE_ERR_CONFIG_CA_FILE);
    assert_null(c);
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
    assert_string_equal(lifeline_jitter_mode_name(2), "unknown");
    assert_string_equal(lifeline_queue_policy_name(LIFELINE_QUEUE_REJECT_NEW), "reject");
    assert_string_equal(lifeline_queue_policy_name(LIFELINE_QUEUE_DROP_OLDEST), "drop_oldest");
    assert_string_equal(lifeline_queue_policy_name(LIFELINE_QUEUE_OFF), "off");
    assert_string_equal(lifeline_queue_policy_name(3), "unknown");
    assert_string_equal(lifeline_queue_policy_name(-1), "unknown");
    assert_string_equal(lifeline_log_level_name(LIFELINE_LOG_ERROR), "error");
    assert_string_equal(lifeline_log_level_name(LIFELINE_LOG_WARN), "warn");
    assert_string_equal(lifeline_log_level_name(LIFELINE_LOG_INFO), "info");
    assert_string_equal(lifeline_log_level_name(LIFELINE_LOG_DEBUG), "debug");
    assert_string_equal(lifeline_log_level_name(4), "unknown");
    assert_string_equal(lifeline_delivery_name(LIFELINE_DELIVERY_BEST_EFFORT), "best_effort");
    assert_string_equal(lifeline_delivery_name(LIFELINE_DELIVERY_RELIABLE), "reliable");
    assert_string_equal(lifeline_delivery_name(2), "unknown");
    assert_string_equal(lifeline_durability_name(LIFELINE_DURABILITY_NORMAL), "normal");
    assert_string_equal(lifeline_durability_name(LIFELINE_DURABILITY_FULL), "full");
    assert_string_equal(lifeline_durability_name(-1), "unknown");
}

static void deflate_is_refused_on_libwebsockets_4_1(void **state)
{
    (void)state;
    lifeline_config cfg = valid();
    cfg.permessage_deflate = 1;
    lifeline_client *c = NULL;
    int major = 0, minor = 0;
    sscanf(lws_get_library_version(), "%d.%d", &major, &minor);
    const char *field = NULL;
    if (major == 4 && minor < 2) {
        assert_int_equal(lifeline_config_check(&cfg, &field), LIFELINE_ERR_CONFIG_DEFLATE);
        assert_string_equal(field, "permessage_deflate");
        assert_int_equal(lifeline_client_new(&cfg, &c), LIFELINE_ERR_CONFIG_DEFLATE);
        assert_null(c);
    } else {
        assert_int_equal(lifeline_config_check(&cfg, &field), LIFELINE_OK);
        assert_int_equal(lifeline_client_new(&cfg, &c), LIFELINE_OK);
        assert_int_equal(lifeline_client_free(c), LIFELINE_OK);
    }
}

static void version_matches_the_header(void **state)
{
    (void)state;
    assert_string_equal(lifeline_version(), LIFELINE_VERSION_STRING);
    assert_int_equal(lifeline_version_number(), LIFELINE_VERSION_NUMBER);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(init_fills_the_specified_defaults),
        cmocka_unit_test(defaults_with_a_url_validate),
        cmocka_unit_test(null_config_is_an_invalid_argument),
        cmocka_unit_test(uninitialised_config_is_refused),
        cmocka_unit_test(init_sized_refuses_what_cannot_hold_the_url_and_writes_nothing),
        cmocka_unit_test(an_older_smaller_config_is_written_up_to_its_size_and_defaulted_past_it),
        cmocka_unit_test(a_config_larger_than_the_library_knows_is_refused),
        cmocka_unit_test(the_0_1_init_symbol_writes_the_0_1_struct_only),
        cmocka_unit_test(urls_that_are_not_websocket_are_refused),
        cmocka_unit_test(each_bad_field_has_its_own_error),
        cmocka_unit_test(check_names_the_bad_field),
        cmocka_unit_test(fallback_urls_are_checked_each_and_named),
        cmocka_unit_test(a_rule_between_two_fields_names_the_one_the_app_changed),
        cmocka_unit_test(check_refuses_what_the_client_would),
        cmocka_unit_test(reliable_delivery_fields_are_checked_by_name),
        cmocka_unit_test(every_error_has_a_distinct_name_and_text),
        cmocka_unit_test(enum_names_are_the_documented_strings),
        cmocka_unit_test(deflate_is_refused_on_libwebsockets_4_1),
        cmocka_unit_test(version_matches_the_header),
    };
    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
