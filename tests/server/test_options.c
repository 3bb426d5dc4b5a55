/* The command line: defaults, both value spellings, strict numbers, and
 * messages that name the offending option. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "server/options.h"

static int parse(srv_opts *o, char *err, int argc, char **argv)
{
    srv_opts_init(o);
    return srv_opts_parse(o, argc, argv, err, 256);
}

#define PARSE(o, err, ...)                                                    \
    parse(o, err, (int)(sizeof((char *[]){"lifeline-server", __VA_ARGS__}) /  \
                        sizeof(char *)),                                      \
          (char *[]){"lifeline-server", __VA_ARGS__})

static void defaults_are_the_documented_ones(void **state)
{
    (void)state;
    srv_opts o;
    char err[256];
    char *argv[] = {"lifeline-server"};
    assert_int_equal(parse(&o, err, 1, argv), 0);
    assert_int_equal(o.mode, SRV_MODE_SERVE);
    assert_string_equal(o.host, "127.0.0.1");
    assert_int_equal(o.port, 8080);
    assert_int_equal(o.ping_interval_ms, 30000);
    assert_int_equal(o.ping_timeout_ms, 10000);
    assert_string_equal(o.db_path, "lifeline-server.db");
    assert_null(o.auth_secret);
    assert_null(o.admin_token);
    assert_int_equal(o.max_message_bytes, 1048576);
    assert_int_equal(o.down_after_ms, 60000);
    assert_false(o.json_logs);
    assert_int_equal(o.log_level, SRV_LOG_INFO);
}

static void values_are_read_in_both_spellings(void **state)
{
    (void)state;
    srv_opts o;
    char err[256];
    assert_int_equal(PARSE(&o, err, "--port", "0", "--host=::1", "--ping-interval-ms=200",
                           "--ping-timeout-ms", "150", "--db", "/tmp/x.db", "--json",
                           "--auth-secret", "s", "--admin-token=t", "--max-message-bytes", "4096",
                           "--down-after-ms", "500", "--tls-cert", "c.pem", "--tls-key", "k.pem"),
                     0);
    assert_int_equal(o.port, 0);
    assert_string_equal(o.host, "::1");
    assert_int_equal(o.ping_interval_ms, 200);
    assert_int_equal(o.ping_timeout_ms, 150);
    assert_string_equal(o.db_path, "/tmp/x.db");
    assert_true(o.json_logs);
    assert_string_equal(o.auth_secret, "s");
    assert_string_equal(o.admin_token, "t");
    assert_int_equal(o.max_message_bytes, 4096);
    assert_int_equal(o.down_after_ms, 500);
    assert_string_equal(o.tls_cert, "c.pem");
}

static void bad_numbers_name_the_option(void **state)
{
    (void)state;
    srv_opts o;
    char err[256];
    assert_int_equal(PARSE(&o, err, "--port", "70000"), -1);
    assert_non_null(strstr(err, "--port"));
    assert_int_equal(PARSE(&o, err, "--port", "80x"), -1);
    assert_int_equal(PARSE(&o, err, "--port", ""), -1);
    assert_int_equal(PARSE(&o, err, "--ping-interval-ms", "-1"), -1);
    assert_non_null(strstr(err, "--ping-interval-ms"));
    assert_int_equal(PARSE(&o, err, "--max-message-bytes", "1e6"), -1);
    assert_non_null(strstr(err, "--max-message-bytes"));
    assert_int_equal(PARSE(&o, err, "--down-after-ms", "99999999999999999999"), -1);
}

static void unknown_missing_and_stray_arguments_are_errors(void **state)
{
    (void)state;
    srv_opts o;
    char err[256];
    assert_int_equal(PARSE(&o, err, "--bogus"), -1);
    assert_non_null(strstr(err, "--bogus"));
    assert_int_equal(PARSE(&o, err, "--port"), -1);
    assert_non_null(strstr(err, "--port"));
    assert_int_equal(PARSE(&o, err, "8080"), -1);
    assert_int_equal(PARSE(&o, err, "--json=yes"), -1);
    assert_int_equal(PARSE(&o, err, "--db="), -1);
    assert_non_null(strstr(err, "--db"));
}

static void max_users_defaults_to_100000_and_is_checked(void **state)
{
    (void)state;
    srv_opts o;
    char err[256];
    char *argv[] = {"lifeline-server"};
    assert_int_equal(parse(&o, err, 1, argv), 0);
    assert_int_equal(o.max_users, 100000);
    assert_int_equal(PARSE(&o, err, "--max-users", "5"), 0);
    assert_int_equal(o.max_users, 5);
    assert_int_equal(PARSE(&o, err, "--max-users=1000000000"), 0);
    assert_int_equal(o.max_users, 1000000000);
    const char *bad[] = {"0", "-1", "1000000001", "lots", "5k", ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(PARSE(&o, err, "--max-users", (char *)bad[i]), -1);
        assert_non_null(strstr(err, "--max-users: expected an integer in 1..1000000000"));
    }
}

static void delivery_options_default_as_the_protocol_says_and_are_checked(void **state)
{
    (void)state;
    srv_opts o;
    char err[256];
    char *argv[] = {"lifeline-server"};
    assert_int_equal(parse(&o, err, 1, argv), 0);
    assert_int_equal(o.replay_ms, 120000);
    assert_int_equal(o.replay_max, 10000);
    assert_int_equal(o.replay_max_bytes, 16777216);
    assert_int_equal(o.ack_every, 32);
    assert_int_equal(o.ack_delay_ms, 20);
    assert_int_equal(o.max_sessions, 10000);
    assert_false(o.journal);
    assert_int_equal(PARSE(&o, err, "--replay-ms", "5000", "--replay-max=3", "--ack-every", "1",
                           "--ack-delay-ms=0", "--max-sessions", "2", "--journal",
                           "--replay-max-bytes", "4096"),
                     0);
    assert_int_equal(o.replay_ms, 5000);
    assert_int_equal(o.replay_max, 3);
    assert_int_equal(o.ack_every, 1);
    assert_int_equal(o.ack_delay_ms, 0);
    assert_int_equal(o.max_sessions, 2);
    assert_int_equal(o.replay_max_bytes, 4096);
    assert_true(o.journal);
    assert_int_equal(PARSE(&o, err, "--ack-every", "0"), -1);
    assert_non_null(strstr(err, "--ack-every: expected an integer in 1..1000000"));
    assert_int_equal(PARSE(&o, err, "--replay-max", "0"), -1);
    assert_non_null(strstr(err, "--replay-max"));
    assert_int_equal(PARSE(&o, err, "--max-sessions", "0"), -1);
    assert_int_equal(PARSE(&o, err, "--journal=yes"), -1);
}

static void metrics_max_stores_defaults_to_100_and_is_checked(void **state)
{
    (void)state;
    srv_opts o;
    char err[256];
    char *argv[] = {"lifeline-server"};
    assert_int_equal(parse(&o, err, 1, argv), 0);
    assert_int_equal(o.metrics_max_stores, 100);
    assert_int_equal(PARSE(&o, err, "--metrics-max-stores", "0"), 0);
    assert_int_equal(o.metrics_max_stores, 0);
    assert_int_equal(PARSE(&o, err, "--metrics-max-stores=100000"), 0);
    assert_int_equal(o.metrics_max_stores, 100000);
    const char *bad[] = {"-1", "100001", "ten", ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(PARSE(&o, err, "--metrics-max-stores", (char *)bad[i]), -1);
        assert_non_null(strstr(err, "--metrics-max-stores: expected an integer in 0..100000"));
    }
}

static void rate_limit_is_off_by_default_and_read_with_or_without_units(void **state)
{
    (void)state;
    srv_opts o;
    char err[256];
    char *argv[] = {"lifeline-server"};
    assert_int_equal(parse(&o, err, 1, argv), 0);
    assert_false(srv_rl_enabled(&o.rate_limit));
    assert_int_equal(o.rate_limit.burst_ms, 1000);
    assert_int_equal(o.rate_limit.close_after_ms, 5000);
    assert_int_equal(PARSE(&o, err, "--rate-limit", "100"), 0);
    assert_int_equal(o.rate_limit.msgs_per_s, 100);
    assert_int_equal(o.rate_limit.bytes_per_s, 0);
    assert_int_equal(PARSE(&o, err, "--rate-limit=50/s:65536/s", "--rate-limit-burst-ms", "250",
                           "--rate-limit-close-ms=0"),
                     0);
    assert_int_equal(o.rate_limit.msgs_per_s, 50);
    assert_int_equal(o.rate_limit.bytes_per_s, 65536);
    assert_int_equal(o.rate_limit.burst_ms, 250);
    assert_int_equal(o.rate_limit.close_after_ms, 0);
    assert_int_equal(PARSE(&o, err, "--rate-limit", "1000000:1099511627776"), 0);
    assert_int_equal(o.rate_limit.bytes_per_s, 1099511627776LL);
    assert_int_equal(PARSE(&o, err, "--rate-limit", "7/s:9"), 0);
    assert_int_equal(o.rate_limit.bytes_per_s, 9);
}

static void bad_rate_limits_name_the_option(void **state)
{
    (void)state;
    srv_opts o;
    char err[256];
    const char *bad[] = {"",     "0",     "-5",     "1000001", "ten",   "5/m",  "5/",
                         "/s",   "5:",    "5:0",    ":100",    "5:x",   "5:1099511627777",
                         "5 ",   " 5",    "5:3:4",  "5/s/s",   "99999999999999999999"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(PARSE(&o, err, "--rate-limit", (char *)bad[i]), -1);
        assert_non_null(strstr(err, "--rate-limit: expected MESSAGES[/s][:BYTES[/s]]"));
    }
    assert_int_equal(PARSE(&o, err, "--rate-limit", "5", "--rate-limit-burst-ms", "0"), -1);
    assert_non_null(strstr(err, "--rate-limit-burst-ms: expected an integer in 1..60000"));
    assert_int_equal(PARSE(&o, err, "--rate-limit", "5", "--rate-limit-close-ms", "-1"), -1);
    assert_non_null(strstr(err, "--rate-limit-close-ms: expected an integer in 0..3600000"));
    /* the two others mean nothing alone */
    assert_int_equal(PARSE(&o, err, "--rate-limit-burst-ms", "200"), -1);
    assert_non_null(strstr(err, "--rate-limit-burst-ms: only valid with --rate-limit"));
    assert_int_equal(PARSE(&o, err, "--rate-limit-close-ms", "0"), -1);
    assert_non_null(strstr(err, "--rate-limit-close-ms: only valid with --rate-limit"));
}

static void tls_needs_both_files(void **state)
{
    (void)state;
    srv_opts o;
    char err[256];
    assert_int_equal(PARSE(&o, err, "--tls-cert", "c.pem"), -1);
    assert_non_null(strstr(err, "--tls-key"));
    assert_int_equal(PARSE(&o, err, "--tls-key", "k.pem"), -1);
    assert_non_null(strstr(err, "--tls-cert"));
}

static void make_token_needs_user_store_and_secret(void **state)
{
    (void)state;
    srv_opts o;
    char err[256];
    assert_int_equal(PARSE(&o, err, "--make-token", "--user", "u", "--store", "s",
                           "--auth-secret", "k", "--ttl", "60"), 0);
    assert_int_equal(o.mode, SRV_MODE_MAKE_TOKEN);
    assert_int_equal(o.token_ttl_s, 60);
    assert_int_equal(PARSE(&o, err, "--make-token", "--user", "u", "--store", "s"), -1);
    assert_non_null(strstr(err, "--auth-secret"));
    assert_int_equal(PARSE(&o, err, "--make-token", "--store", "s", "--auth-secret", "k"), -1);
    assert_non_null(strstr(err, "--user"));
    assert_int_equal(PARSE(&o, err, "--user", "u"), -1);
    assert_non_null(strstr(err, "--make-token"));
    assert_int_equal(PARSE(&o, err, "--make-token", "--user", "u", "--store", "s",
                           "--auth-secret", "k", "--ttl", "0"), -1);
    assert_non_null(strstr(err, "--ttl"));
}

static void help_is_a_mode(void **state)
{
    (void)state;
    srv_opts o;
    char err[256];
    assert_int_equal(PARSE(&o, err, "--help"), 0);
    assert_int_equal(o.mode, SRV_MODE_HELP);
}

static void version_is_a_mode(void **state)
{
    (void)state;
    srv_opts o;
    char err[256];
    assert_int_equal(PARSE(&o, err, "--version"), 0);
    assert_int_equal(o.mode, SRV_MODE_VERSION);
    assert_int_equal(PARSE(&o, err, "--version=1"), -1);
    assert_non_null(strstr(err, "--version"));
}

static void log_level_takes_the_four_level_names(void **state)
{
    (void)state;
    srv_opts o;
    char err[256];
    assert_int_equal(PARSE(&o, err, "--log-level", "debug"), 0);
    assert_int_equal(o.log_level, SRV_LOG_DEBUG);
    assert_int_equal(PARSE(&o, err, "--log-level=info"), 0);
    assert_int_equal(o.log_level, SRV_LOG_INFO);
    assert_int_equal(PARSE(&o, err, "--log-level", "warn"), 0);
    assert_int_equal(o.log_level, SRV_LOG_WARN);
    assert_int_equal(PARSE(&o, err, "--log-level", "error"), 0);
    assert_int_equal(o.log_level, SRV_LOG_ERROR);
    assert_int_equal(PARSE(&o, err, "--log-level", "verbose"), -1);
    assert_string_equal(err, "--log-level: expected error, warn, info or debug, got 'verbose'");
    assert_int_equal(PARSE(&o, err, "--log-level", "INFO"), -1);
    assert_int_equal(PARSE(&o, err, "--log-level"), -1);
    assert_non_null(strstr(err, "--log-level"));
}

static void drain_window_defaults_to_10_s_and_is_checked(void **state)
{
    (void)state;
    srv_opts o;
    char err[256];
    char *argv[] = {"lifeline-server"};
    assert_int_equal(parse(&o, err, 1, argv), 0);
    assert_int_equal(o.drain_window_ms, 10000);
    assert_int_equal(PARSE(&o, err, "--drain-window-ms", "0"), 0);
    assert_int_equal(o.drain_window_ms, 0);
    assert_int_equal(PARSE(&o, err, "--drain-window-ms=3600000"), 0);
    assert_int_equal(o.drain_window_ms, 3600000);
    /* given twice, the last counts (the test suite's default, then a test's own) */
    assert_int_equal(PARSE(&o, err, "--drain-window-ms", "0", "--drain-window-ms", "2000"), 0);
    assert_int_equal(o.drain_window_ms, 2000);
    const char *bad[] = {"-1", "3600001", "10s", "", "1e4"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(PARSE(&o, err, "--drain-window-ms", (char *)bad[i]), -1);
        assert_non_null(strstr(err, "--drain-window-ms: expected an integer in 0..3600000"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_are_the_documented_ones),
        cmocka_unit_test(values_are_read_in_both_spellings),
        cmocka_unit_test(bad_numbers_name_the_option),
        cmocka_unit_test(unknown_missing_and_stray_arguments_are_errors),
        cmocka_unit_test(max_users_defaults_to_100000_and_is_checked),
        cmocka_unit_test(delivery_options_default_as_the_protocol_says_and_are_checked),
        cmocka_unit_test(metrics_max_stores_defaults_to_100_and_is_checked),
        cmocka_unit_test(rate_limit_is_off_by_default_and_read_with_or_without_units),
        cmocka_unit_test(bad_rate_limits_name_the_option),
        cmocka_unit_test(tls_needs_both_files),
        cmocka_unit_test(make_token_needs_user_store_and_secret),
        cmocka_unit_test(help_is_a_mode),
        cmocka_unit_test(version_is_a_mode),
        cmocka_unit_test(log_level_takes_the_four_level_names),
        cmocka_unit_test(drain_window_defaults_to_10_s_and_is_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
