/* lifeline.v1 sessions in Redis (src/server/shared_wire.c): a ring entry
 * both ways, bytes that are not one, the decimal numbers the scripts pass,
 * the keys, and when a taken session's stream goes on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "server/shared_wire.h"

static void an_entry_reads_back_as_written(void **state)
{
    (void)state;
    char buf[SRV_SHARED_ENTRY_HEAD_MAX + 16];
    size_t h = srv_shared_entry_head(42, 1764500000123LL, false, buf);
    assert_string_equal(buf, "42 1764500000123 t ");
    memcpy(buf + h, "n=1 2\n", 6); /* spaces and newlines in the payload are the payload's */
    srv_shared_entry e;
    assert_int_equal(srv_shared_entry_parse(buf, h + 6, &e), 0);
    assert_int_equal(e.seq, 42);
    assert_int_equal(e.wall_ms, 1764500000123LL);
    assert_false(e.binary);
    assert_int_equal(e.len, 6);
    assert_memory_equal(e.payload, "n=1 2\n", 6);

    h = srv_shared_entry_head(UINT64_MAX, 0, true, buf);
    assert_int_equal(srv_shared_entry_parse(buf, h, &e), 0); /* an empty payload */
    assert_int_equal(e.seq, UINT64_MAX);
    assert_true(e.binary);
    assert_int_equal(e.len, 0);
}

static void what_is_not_an_entry_is_refused(void **state)
{
    (void)state;
    const char *bad[] = {
        "",           "1",           "1 2",          "1 2 t",       "0 1 t x", /* seq 0 */
        "01 1 t x",   "1 01 t x",    "1 2 x y",      "1 2 tt",      "-1 2 t x",
        "1 -2 t x",   "18446744073709551616 1 t x", /* 2^64 */
        "1 9223372036854775808 t x",                /* past int64 */
        "1  2 t x",   " 1 2 t x",
    };
    srv_shared_entry e;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (srv_shared_entry_parse(bad[i], strlen(bad[i]), &e) == 0)
            fail_msg("accepted \"%s\"", bad[i]);
}

static void numbers_are_plain_decimals_of_64_bits(void **state)
{
    (void)state;
    uint64_t v;
    assert_int_equal(srv_shared_u64("0", 1, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(srv_shared_u64("18446744073709551615", 20, &v), 0);
    assert_int_equal(v, UINT64_MAX);
    assert_int_equal(srv_shared_u64("18446744073709551616", 20, &v), -1);
    assert_int_equal(srv_shared_u64("00", 2, &v), -1);
    assert_int_equal(srv_shared_u64("", 0, &v), -1);
    assert_int_equal(srv_shared_u64("1e3", 3, &v), -1);
    assert_int_equal(srv_shared_u64("+1", 2, &v), -1);
}

static void keys_name_the_session(void **state)
{
    (void)state;
    char h[SRV_SHARED_KEY_MAX], r[SRV_SHARED_KEY_MAX], t[SRV_SHARED_TOKEN_KEY_MAX];
    const char *hex = "0123456789abcdef0123456789abcdef";
    srv_shared_keys(hex, h, r);
    assert_string_equal(h, "lifeline:v1:0123456789abcdef0123456789abcdef");
    assert_string_equal(r, "lifeline:v1:0123456789abcdef0123456789abcdef:ring");
    char id[65];
    memset(id, 'i', 64);
    id[64] = 0;
    srv_shared_token_key(hex, id, t); /* the longest instance id fits */
    assert_int_equal(strlen(t), strlen(h) + strlen(":released:") + 64);
}

static void a_stream_goes_on_only_when_released_whole(void **state)
{
    (void)state;
    assert_true(srv_shared_stream_continues(true, false, 7));
    assert_false(srv_shared_stream_continues(false, false, 7)); /* died, or no answer */
    assert_false(srv_shared_stream_continues(true, true, 7));   /* a message went astray */
    assert_false(srv_shared_stream_continues(true, false, 0));  /* no stream yet */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(an_entry_reads_back_as_written),
        cmocka_unit_test(what_is_not_an_entry_is_refused),
        cmocka_unit_test(numbers_are_plain_decimals_of_64_bits),
        cmocka_unit_test(keys_name_the_session),
        cmocka_unit_test(a_stream_goes_on_only_when_released_whole),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
