/* The string map: put, get, replace, remove, growth, iteration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "server/map.h"

static void an_empty_map_finds_nothing(void **state)
{
    (void)state;
    srv_map m;
    srv_map_init(&m);
    assert_null(srv_map_get(&m, "x"));
    assert_null(srv_map_remove(&m, "x"));
    srv_map_free(&m);
}

static void values_are_found_replaced_and_removed(void **state)
{
    (void)state;
    srv_map m;
    int a = 1, b = 2;
    srv_map_init(&m);
    assert_int_equal(srv_map_put(&m, "k", &a), 0);
    assert_ptr_equal(srv_map_get(&m, "k"), &a);
    assert_int_equal(srv_map_put(&m, "k", &b), 0);
    assert_ptr_equal(srv_map_get(&m, "k"), &b);
    assert_int_equal(m.count, 1);
    assert_ptr_equal(srv_map_remove(&m, "k"), &b);
    assert_null(srv_map_get(&m, "k"));
    assert_int_equal(m.count, 0);
    srv_map_free(&m);
}

static void count(const char *key, void *value, void *ctx)
{
    (void)key;
    *(size_t *)ctx += (size_t)(uintptr_t)value;
}

static void thousands_of_keys_survive_growth(void **state)
{
    (void)state;
    srv_map m;
    char key[32];
    srv_map_init(&m);
    for (uintptr_t i = 1; i <= 5000; i++) {
        snprintf(key, sizeof(key), "user-%lu", (unsigned long)i);
        assert_int_equal(srv_map_put(&m, key, (void *)i), 0);
    }
    assert_int_equal(m.count, 5000);
    for (uintptr_t i = 1; i <= 5000; i++) {
        snprintf(key, sizeof(key), "user-%lu", (unsigned long)i);
        assert_ptr_equal(srv_map_get(&m, key), (void *)i);
    }
    size_t sum = 0;
    srv_map_each(&m, count, &sum);
    assert_int_equal(sum, 5000 * 5001 / 2);
    for (uintptr_t i = 1; i <= 5000; i += 2) {
        snprintf(key, sizeof(key), "user-%lu", (unsigned long)i);
        assert_ptr_equal(srv_map_remove(&m, key), (void *)i);
    }
    assert_int_equal(m.count, 2500);
    srv_map_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(an_empty_map_finds_nothing),
        cmocka_unit_test(values_are_found_replaced_and_removed),
        cmocka_unit_test(thousands_of_keys_survive_growth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
