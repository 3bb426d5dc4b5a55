/* Users' last activity as the instances share it in Redis: the write and
 * read commands' arguments, Redis's answer read back (and refused when it
 * is not a figure), and the newest of two figures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "server/cluster_users_wire.h"

static void assert_arg(const srv_redis_argv *a, int i, const char *want)
{
    assert_true(i < a->argc);
    assert_int_equal(a->argvlen[i], strlen(want));
    assert_memory_equal(a->argv[i], want, strlen(want));
}

static void a_batch_is_one_eval_with_the_bound_then_user_store_and_time(void **state)
{
    (void)state;
    const srv_user_put v[] = {
        {"till-3", "shop-7", 1700000000123},
        {"a b", "s\xc3\xa9", 0},
        {"max", "s", SRV_USERS_MS_MAX},
    };
    srv_redis_argv a;
    assert_int_equal(srv_users_put_argv(v, 3, 100000, &a), 0);
    assert_int_equal(a.argc, 6 + 9);
    assert_arg(&a, 0, "EVAL");
    assert_arg(&a, 1, SRV_USERS_PUT_SCRIPT);
    assert_arg(&a, 2, "2");
    assert_arg(&a, 3, SRV_USERS_ACTIVE_KEY);
    assert_arg(&a, 4, SRV_USERS_STORE_KEY);
    assert_arg(&a, 5, "100000");
    assert_arg(&a, 6, "till-3");
    assert_arg(&a, 7, "shop-7");
    assert_arg(&a, 8, "1700000000123");
    assert_arg(&a, 9, "a b");
    assert_arg(&a, 10, "s\xc3\xa9");
    assert_arg(&a, 11, "0");
    assert_arg(&a, 14, "9007199254740992");
    srv_redis_argv_free(&a);
    assert_null(a.argv);
    srv_redis_argv_free(&a); /* twice is fine */
    srv_redis_argv_free(NULL);
}

static void a_batch_out_of_range_is_refused_and_leaves_nothing_to_free(void **state)
{
    (void)state;
    srv_user_put v[SRV_USERS_PUT_MAX + 1];
    for (size_t i = 0; i <= SRV_USERS_PUT_MAX; i++)
        v[i] = (srv_user_put){"u", "s", 1};
    srv_redis_argv a;
    assert_int_equal(srv_users_put_argv(v, 0, 10, &a), -1);
    assert_null(a.argv);
    assert_int_equal(srv_users_put_argv(v, SRV_USERS_PUT_MAX + 1, 10, &a), -1);
    assert_int_equal(srv_users_put_argv(v, 1, 0, &a), -1);
    v[0].last_active_ms = -1;
    assert_int_equal(srv_users_put_argv(v, 1, 10, &a), -1);
    v[0].last_active_ms = SRV_USERS_MS_MAX + 1;
    assert_int_equal(srv_users_put_argv(v, 1, 10, &a), -1);
    assert_int_equal(srv_users_put_argv(v + 1, SRV_USERS_PUT_MAX, 10, &a), 0);
    assert_int_equal(a.argc, 6 + 3 * SRV_USERS_PUT_MAX);
    srv_redis_argv_free(&a);
}

static void a_read_is_one_eval_of_both_keys_for_the_user(void **state)
{
    (void)state;
    const char *argv[6];
    size_t len[6];
    srv_users_get_argv("till-3", argv, len);
    const char *want[] = {"EVAL", SRV_USERS_GET_SCRIPT, "2", SRV_USERS_ACTIVE_KEY,
                          SRV_USERS_STORE_KEY, "till-3"};
    for (int i = 0; i < 6; i++) {
        assert_int_equal(len[i], strlen(want[i]));
        assert_memory_equal(argv[i], want[i], len[i]);
    }
}

static void an_answer_reads_as_a_figure_or_none(void **state)
{
    (void)state;
    srv_user_seen u;
    assert_int_equal(srv_users_parse("1700000000123", 13, "shop-7", 6, &u), 1);
    assert_int_equal(u.last_active_ms, 1700000000123);
    assert_string_equal(u.store, "shop-7");
    assert_int_equal(srv_users_parse("9007199254740992", 16, "s", 1, &u), 1);
    assert_int_equal(u.last_active_ms, SRV_USERS_MS_MAX);
    /* a score of nil: Redis has no such user, whatever the hash says */
    assert_int_equal(srv_users_parse(NULL, 0, NULL, 0, &u), 0);
    assert_int_equal(srv_users_parse(NULL, 0, "s", 1, &u), 0);
    /* a store as long as a name may be */
    char store[SRV_NAME_MAX];
    memset(store, 'x', sizeof(store));
    assert_int_equal(srv_users_parse("1", 1, store, sizeof(store), &u), 1);
    assert_int_equal(strlen(u.store), SRV_NAME_MAX);
}

static void an_answer_that_is_not_a_figure_is_refused(void **state)
{
    (void)state;
    srv_user_seen u;
    const char *scores[] = {"", "-1", "1.5", "1e+12", "inf", "12a", "9007199254740993",
                            "99999999999999999"};
    for (size_t i = 0; i < sizeof(scores) / sizeof(scores[0]); i++)
        assert_int_equal(srv_users_parse(scores[i], strlen(scores[i]), "s", 1, &u), -1);
    assert_int_equal(srv_users_parse("1", 1, NULL, 0, &u), -1);      /* no store */
    assert_int_equal(srv_users_parse("1", 1, "", 0, &u), -1);        /* an empty one */
    assert_int_equal(srv_users_parse("1", 1, "a\nb", 3, &u), -1);    /* not a name */
    assert_int_equal(srv_users_parse("1", 1, "a\0b", 3, &u), -1);    /* a NUL inside */
    char store[SRV_NAME_MAX + 1];
    memset(store, 'x', sizeof(store));
    assert_int_equal(srv_users_parse("1", 1, store, sizeof(store), &u), -1); /* too long */
}

static void the_newest_figure_wins_and_a_tie_goes_to_the_first(void **state)
{
    (void)state;
    srv_user_seen old = {"a", 100}, young = {"b", 200}, same = {"c", 100};
    assert_ptr_equal(srv_users_newest(&old, &young), &young);
    assert_ptr_equal(srv_users_newest(&young, &old), &young);
    assert_ptr_equal(srv_users_newest(&old, &same), &old);
    assert_ptr_equal(srv_users_newest(&old, NULL), &old);
    assert_ptr_equal(srv_users_newest(NULL, &young), &young);
    assert_null(srv_users_newest(NULL, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_batch_is_one_eval_with_the_bound_then_user_store_and_time),
        cmocka_unit_test(a_batch_out_of_range_is_refused_and_leaves_nothing_to_free),
        cmocka_unit_test(a_read_is_one_eval_of_both_keys_for_the_user),
        cmocka_unit_test(an_answer_reads_as_a_figure_or_none),
        cmocka_unit_test(an_answer_that_is_not_a_figure_is_refused),
        cmocka_unit_test(the_newest_figure_wins_and_a_tie_goes_to_the_first),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
