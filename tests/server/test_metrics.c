/* The Prometheus text of GET /metrics: the format's lines, label escaping,
 * the bound on stores named, and a buffer too short for the text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "server/metrics.h"

static char text[16384];

static const char *render(srv_metrics *m)
{
    size_t n = srv_metrics_render(m, text, sizeof(text));
    assert_true(n < sizeof(text));
    assert_int_equal(strlen(text), n);
    return text;
}

/* The line that starts with prefix, or NULL. */
static const char *line_of(const char *t, const char *prefix)
{
    size_t n = strlen(prefix);
    for (const char *p = t; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (!strncmp(p, prefix, n))
            return p;
    return NULL;
}

static void has_line(const char *t, const char *line)
{
    char want[512];
    snprintf(want, sizeof(want), "%s\n", line);
    if (!line_of(t, want)) {
        fprintf(stderr, "no line \"%s\" in:\n%s", line, t);
        fail();
    }
}

static void label_values_are_escaped(void **state)
{
    (void)state;
    srv_metrics_store st[] = {{"a\"b\\c\nd", 3}};
    srv_metrics m = {.version = "1.2\"3", .stores = st, .store_count = 1, .max_stores = 10};
    const char *t = render(&m);
    has_line(t, "lifeline_server_store_connections{store=\"a\\\"b\\\\c\\nd\"} 3");
    has_line(t, "lifeline_server_build_info{version=\"1.2\\\"3\"} 1");
}

/* The metric name of a sample line: up to '{' or ' '. */
static void name_of(const char *line, char *out, size_t cap)
{
    size_t n = strcspn(line, "{ \n");
    assert_true(n < cap);
    memcpy(out, line, n);
    out[n] = '\0';
}

static void every_sample_follows_its_help_and_type_and_counters_end_in_total(void **state)
{
    (void)state;
    srv_metrics_store st[] = {{"s1", 2}, {"s2", 1}};
    srv_metrics m = {.version = "0.1.0", .stores = st, .store_count = 2, .max_stores = 100};
    char *t = strdup(render(&m));
    char help[128] = "", type[128] = "", kind[16] = "";
    size_t samples = 0, families = 0;
    for (char *line = strtok(t, "\n"); line; line = strtok(NULL, "\n")) {
        char name[128];
        if (!strncmp(line, "# HELP ", 7)) {
            name_of(line + 7, help, sizeof(help));
            assert_true(strlen(line) > 7 + strlen(help) + 1); /* a text after the name */
            families++;
        } else if (!strncmp(line, "# TYPE ", 7)) {
            name_of(line + 7, type, sizeof(type));
            assert_string_equal(type, help); /* TYPE follows its HELP */
            snprintf(kind, sizeof(kind), "%s", line + 7 + strlen(type) + 1);
            assert_true(!strcmp(kind, "counter") || !strcmp(kind, "gauge"));
            if (!strcmp(kind, "counter"))
                assert_non_null(strstr(type, "_total"));
            assert_int_equal(strncmp(type, "lifeline_server_", 16), 0);
        } else {
            assert_int_not_equal(line[0], '#');
            name_of(line, name, sizeof(name));
            assert_string_equal(name, type); /* a sample of the family declared last */
            const char *value = strrchr(line, ' ');
            assert_non_null(value);
            char *end;
            strtod(value + 1, &end);
            assert_int_equal(*end, '\0');
            samples++;
        }
    }
    free(t);
    assert_true(families >= 20);
    assert_true(samples > families);
}

static void the_stores_with_the_most_connections_are_named_and_the_rest_summed(void **state)
{
    (void)state;
    srv_metrics_store st[] = {{"a", 1}, {"b", 5}, {"d", 3}, {"c", 3}, {"e", 2}};
    srv_metrics m = {.stores = st, .store_count = 5, .max_stores = 2};
    const char *t = render(&m);
    has_line(t, "lifeline_server_stores 5");
    has_line(t, "lifeline_server_store_connections{store=\"b\"} 5");
    has_line(t, "lifeline_server_store_connections{store=\"c\"} 3"); /* a tie goes by name */
    assert_null(line_of(t, "lifeline_server_store_connections{store=\"d\"}"));
    assert_null(line_of(t, "lifeline_server_store_connections{store=\"a\"}"));
    has_line(t, "lifeline_server_store_connections_other 6");
    /* named in order, the largest first */
    assert_true(line_of(t, "lifeline_server_store_connections{store=\"b\"}") <
                line_of(t, "lifeline_server_store_connections{store=\"c\"}"));
}

static void under_the_bound_every_store_is_named_and_none_is_other(void **state)
{
    (void)state;
    srv_metrics_store st[] = {{"x", 1}, {"y", 2}};
    srv_metrics m = {.stores = st, .store_count = 2, .max_stores = 2};
    const char *t = render(&m);
    has_line(t, "lifeline_server_store_connections{store=\"x\"} 1");
    has_line(t, "lifeline_server_store_connections{store=\"y\"} 2");
    has_line(t, "lifeline_server_store_connections_other 0");
    m.max_stores = 0; /* no store by name */
    t = render(&m);
    assert_null(line_of(t, "lifeline_server_store_connections{"));
    has_line(t, "# TYPE lifeline_server_store_connections gauge");
    has_line(t, "lifeline_server_store_connections_other 3");
}

static void figures_land_in_their_metrics(void **state)
{
    (void)state;
    srv_metrics m = {
        .start_time_ms = 1764112026969,
        .connections_open = 4,
        .connections_accepted = 9,
        .refused_no_descriptors = 23,
        .messages_in = 11,
        .messages_out = 12,
        .bytes_in = 13,
        .bytes_out = UINT64_MAX,
        .deliveries = 14,
        .rate_limited = 17,
        .rate_limit_pauses = 19,
        .fault_mode = SRV_FAULT_DELAY_PONGS,
        .db_errors = 2,
        .alerts_sent = {3, 4},
        .alerts_failed = {5, 6},
        .v1 = {.sessions = 7, .duplicates = 8, .resumes_recovered = 1,
               .resumes_not_recovered = 2},
    };
    m.connections_closed[SRV_CLOSE_SLOW_READER] = 15;
    m.connections_closed[SRV_CLOSE_PING_TIMEOUT] = 16;
    m.connections_closed[SRV_CLOSE_RATE_LIMITED] = 18;
    const char *t = render(&m);
    has_line(t, "lifeline_server_start_time_seconds 1764112026.969");
    has_line(t, "lifeline_server_connections_open 4");
    has_line(t, "lifeline_server_connections_accepted_total 9");
    has_line(t, "lifeline_server_connections_refused_no_descriptors_total 23");
    has_line(t, "lifeline_server_connections_closed_total{reason=\"slow_reader\"} 15");
    has_line(t, "lifeline_server_connections_closed_total{reason=\"ping_timeout\"} 16");
    has_line(t, "lifeline_server_connections_closed_total{reason=\"hangup\"} 0");
    has_line(t, "lifeline_server_connections_closed_total{reason=\"rate_limited\"} 18");
    has_line(t, "lifeline_server_messages_received_total 11");
    has_line(t, "lifeline_server_messages_sent_total 12");
    has_line(t, "lifeline_server_received_bytes_total 13");
    has_line(t, "lifeline_server_sent_bytes_total 18446744073709551615");
    has_line(t, "lifeline_server_deliveries_total 14");
    has_line(t, "lifeline_server_rate_limited_messages_total 17");
    has_line(t, "lifeline_server_rate_limit_pauses_total 19");
    has_line(t, "lifeline_server_fault_mode{mode=\"delay_pongs\"} 1");
    has_line(t, "lifeline_server_fault_mode{mode=\"none\"} 0");
    has_line(t, "lifeline_server_database_errors_total 2");
    has_line(t, "lifeline_server_alerts_total{channel=\"discord\",result=\"sent\"} 3");
    has_line(t, "lifeline_server_alerts_total{channel=\"email\",result=\"sent\"} 4");
    has_line(t, "lifeline_server_alerts_total{channel=\"discord\",result=\"failed\"} 5");
    has_line(t, "lifeline_server_alerts_total{channel=\"email\",result=\"failed\"} 6");
    has_line(t, "lifeline_server_v1_sessions 7");
    has_line(t, "lifeline_server_v1_duplicates_total 8");
    has_line(t, "lifeline_server_v1_resumes_total{result=\"recovered\"} 1");
    has_line(t, "lifeline_server_v1_resumes_total{result=\"not_recovered\"} 2");
    /* no cluster, no Redis figures */
    assert_null(line_of(t, "# HELP lifeline_server_redis_up"));
    assert_null(strstr(t, "lifeline_server_cluster_"));
    /* one mode is in force */
    size_t ones = 0;
    for (const char *p = t; (p = strstr(p, "lifeline_server_fault_mode{")); p++)
        ones += !strncmp(strchr(p, '}'), "} 1\n", 4);
    assert_int_equal(ones, 1);
}

static void with_redis_the_cluster_figures_are_there(void **state)
{
    (void)state;
    srv_metrics m = {.cluster = true,
                     .redis_up = true,
                     .cluster_published = 1,
                     .cluster_received = 2,
                     .cluster_dropped = 3,
                     .redis_errors = 4,
                     .redis_reconnects = 5};
    const char *t = render(&m);
    has_line(t, "lifeline_server_redis_up 1");
    has_line(t, "lifeline_server_redis_errors_total 4");
    has_line(t, "lifeline_server_redis_reconnects_total 5");
    has_line(t, "lifeline_server_cluster_frames_published_total 1");
    has_line(t, "lifeline_server_cluster_frames_received_total 2");
    has_line(t, "lifeline_server_cluster_frames_dropped_total 3");
    m.redis_up = false;
    t = render(&m);
    has_line(t, "lifeline_server_redis_up 0");
}

static void a_short_buffer_gets_the_start_of_the_text_and_the_whole_length(void **state)
{
    (void)state;
    srv_metrics m = {.version = "0.1.0"};
    size_t whole = srv_metrics_render(&m, NULL, 0);
    char *full = malloc(whole + 1);
    assert_int_equal(srv_metrics_render(&m, full, whole + 1), whole);
    assert_int_equal(strlen(full), whole);
    char small[10];
    memset(small, 'x', sizeof(small));
    assert_int_equal(srv_metrics_render(&m, small, sizeof(small)), whole);
    assert_int_equal(strlen(small), sizeof(small) - 1);
    assert_memory_equal(small, full, sizeof(small) - 1);
    /* exactly the text's length: the last byte gives way to the NUL */
    char *exact = malloc(whole);
    assert_int_equal(srv_metrics_render(&m, exact, whole), whole);
    assert_int_equal(strlen(exact), whole - 1);
    free(exact);
    free(full);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(label_values_are_escaped),
        cmocka_unit_test(every_sample_follows_its_help_and_type_and_counters_end_in_total),
        cmocka_unit_test(the_stores_with_the_most_connections_are_named_and_the_rest_summed),
        cmocka_unit_test(under_the_bound_every_store_is_named_and_none_is_other),
        cmocka_unit_test(figures_land_in_their_metrics),
        cmocka_unit_test(with_redis_the_cluster_figures_are_there),
        cmocka_unit_test(a_short_buffer_gets_the_start_of_the_text_and_the_whole_length),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
