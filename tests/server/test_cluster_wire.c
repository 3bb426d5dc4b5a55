/* What instances say to each other through Redis, and --redis: the
 * fan-out frame both ways, bytes that are not one, presence records and
 * their sum, the Redis address forms and the instance id rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "server/cluster_wire.h"

static void a_frame_reads_back_as_written(void **state)
{
    (void)state;
    char *f;
    size_t n;
    const char payload[] = "{\"type\":\"broadcast\"}\nline two";
    assert_int_equal(srv_fanout_encode("i1", "store-7", false, payload, sizeof(payload) - 1, &f,
                                       &n), 0);
    srv_fanout d;
    assert_int_equal(srv_fanout_decode(f, n, &d), 0);
    assert_int_equal(d.origin_len, 2);
    assert_memory_equal(d.origin, "i1", 2);
    assert_int_equal(d.store_len, 7);
    assert_memory_equal(d.store, "store-7", 7);
    assert_false(d.binary);
    assert_int_equal(d.len, sizeof(payload) - 1);
    assert_memory_equal(d.payload, payload, d.len); /* newlines in the payload kept */
    free(f);
    const unsigned char bin[] = {0, 1, 2, '\n', 255};
    assert_int_equal(srv_fanout_encode("a:1", "s", true, bin, sizeof(bin), &f, &n), 0);
    assert_int_equal(srv_fanout_decode(f, n, &d), 0);
    assert_true(d.binary);
    assert_int_equal(d.len, sizeof(bin));
    assert_memory_equal(d.payload, bin, sizeof(bin));
    free(f);
    assert_int_equal(srv_fanout_encode("a", "s", false, NULL, 0, &f, &n), 0);
    assert_int_equal(srv_fanout_decode(f, n, &d), 0);
    assert_int_equal(d.len, 0);
    free(f);
}

static void bytes_that_are_not_a_frame_are_refused(void **state)
{
    (void)state;
    const char *bad[] = {
        "",                         /* nothing */
        "hello",                    /* another program's message */
        "lf2\na\ns\nt\nx",          /* another version */
        "lf1\n",                    /* no fields */
        "lf1\na\ns\n",              /* no kind */
        "lf1\n\ns\nt\nx",           /* no origin */
        "lf1\na\n\nt\nx",           /* no store */
        "lf1\na\ns\nx\nx",          /* an unknown kind */
        "lf1\na\ns\ntt\nx",         /* a kind too long */
    };
    srv_fanout d;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(srv_fanout_decode(bad[i], strlen(bad[i]), &d), -1);
}

static size_t count_of(const void *value)
{
    return *(const size_t *)value;
}

static void presence_records_add_up_across_instances(void **state)
{
    (void)state;
    srv_map stores;
    srv_map_init(&stores);
    size_t two = 2, none = 0, one = 1;
    srv_map_put(&stores, "s", &two);
    srv_map_put(&stores, "empty", &none);
    srv_map_put(&stores, "t\"q", &one);
    char *a = srv_presence_encode("i1", 1700000000000, 3, &stores, count_of);
    assert_non_null(a);
    assert_non_null(strstr(a, "\"instance\":\"i1\""));
    assert_null(strstr(a, "empty")); /* stores with none left out */
    srv_map_remove(&stores, "t\"q");
    char *b = srv_presence_encode("i2", 1700000000000, 2, &stores, count_of);
    srv_cluster_view v;
    srv_cluster_view_init(&v);
    assert_int_equal(srv_cluster_view_add(&v, a, strlen(a)), 0);
    assert_int_equal(srv_cluster_view_add(&v, b, strlen(b)), 0);
    assert_int_equal(srv_cluster_view_add(&v, "{\"nope\":1}", 10), -1);
    assert_int_equal(srv_cluster_view_add(&v, "not json", 8), -1);
    assert_int_equal(srv_cluster_view_add(&v, "{\"connections\":-1,\"stores\":{}}", 31), -1);
    const char *huge = "{\"connections\":1e300,\"stores\":{}}"; /* found by fuzz_cluster */
    assert_int_equal(srv_cluster_view_add(&v, huge, strlen(huge)), -1);
    const char *odd = "{\"connections\":0,\"stores\":{\"x\":1.5,\"y\":1e300,\"z\":\"2\"}}";
    assert_int_equal(srv_cluster_view_add(&v, odd, strlen(odd)), 0);
    v.instances--; /* odd's stores were all left out; it counted as an instance */
    assert_int_equal(v.instances, 2);
    assert_int_equal(v.connections, 5);
    assert_int_equal((uintptr_t)srv_map_get(&v.stores, "s"), 4);
    assert_int_equal((uintptr_t)srv_map_get(&v.stores, "t\"q"), 1);
    assert_null(srv_map_get(&v.stores, "empty"));
    srv_cluster_view_free(&v);
    free(a);
    free(b);
    srv_map_free(&stores);
}

static void redis_addresses_in_their_forms(void **state)
{
    (void)state;
    srv_redis_addr a;
    char err[256];
    assert_int_equal(srv_redis_url_parse("redis://localhost", &a, err, sizeof(err)), 0);
    assert_string_equal(a.host, "localhost");
    assert_int_equal(a.port, 6379);
    assert_int_equal(a.db, 0);
    assert_int_equal(srv_redis_url_parse("redis://10.0.0.2:6380/3", &a, err, sizeof(err)), 0);
    assert_string_equal(a.host, "10.0.0.2");
    assert_int_equal(a.port, 6380);
    assert_int_equal(a.db, 3);
    assert_int_equal(srv_redis_url_parse("redis://[::1]:7000/", &a, err, sizeof(err)), 0);
    assert_string_equal(a.host, "::1");
    assert_int_equal(a.port, 7000);
    assert_int_equal(srv_redis_url_parse("unix:///run/redis.sock", &a, err, sizeof(err)), 0);
    assert_string_equal(a.path, "/run/redis.sock");
    assert_string_equal(a.host, "");
    assert_int_equal(srv_redis_url_parse("unix:/tmp/r.sock", &a, err, sizeof(err)), 0);
    assert_string_equal(a.path, "/tmp/r.sock");
    const char *bad[] = {"", "localhost", "http://h", "redis://", "redis://h:0", "redis://h:65536",
                         "redis://h:x", "redis://h/16", "redis://h/a", "redis://u:p@h",
                         "redis://[::1", "unix:relative", "redis://h:1:2"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = 0;
        assert_int_equal(srv_redis_url_parse(bad[i], &a, err, sizeof(err)), -1);
        assert_non_null(strstr(err, "expected redis://host[:port][/db] or unix:/path"));
    }
}

static void instance_ids_are_short_and_plain(void **state)
{
    (void)state;
    assert_true(srv_cluster_id_valid("i1"));
    assert_true(srv_cluster_id_valid("till-host.example:8080"));
    assert_false(srv_cluster_id_valid(""));
    assert_false(srv_cluster_id_valid("a b"));
    assert_false(srv_cluster_id_valid("a\nb"));
    char longest[66];
    memset(longest, 'x', 65);
    longest[65] = 0;
    assert_false(srv_cluster_id_valid(longest));
    longest[64] = 0;
    assert_true(srv_cluster_id_valid(longest));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_frame_reads_back_as_written),
        cmocka_unit_test(bytes_that_are_not_a_frame_are_refused),
        cmocka_unit_test(presence_records_add_up_across_instances),
        cmocka_unit_test(redis_addresses_in_their_forms),
        cmocka_unit_test(instance_ids_are_short_and_plain),
    };
    return cmocka_run_group_tests_name("cluster_wire", tests, NULL, NULL);
}
