/* The status monitor, driven by scripts of (time, active connections) with
 * the expected change at each step. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "server/monitor.h"

typedef struct step {
    int64_t at;
    uint64_t active;
    srv_monitor_change change;
    int64_t duration;
} step;

static void run(const step *script, size_t n, int64_t down_after)
{
    srv_monitor m;
    srv_monitor_init(&m, down_after, 0);
    for (size_t i = 0; i < n; i++) {
        srv_monitor_result r = srv_monitor_update(&m, script[i].at, script[i].active);
        assert_int_equal(r.change, script[i].change);
        if (r.change != SRV_MONITOR_NONE)
            assert_int_equal(r.duration_ms, script[i].duration);
    }
}

static void no_clients_from_the_start_is_reported_once_after_the_threshold(void **state)
{
    (void)state;
    const step s[] = {
        {0, 0, SRV_MONITOR_NONE, 0},
        {59999, 0, SRV_MONITOR_NONE, 0},
        {60000, 0, SRV_MONITOR_NO_CLIENTS, 60000},
        {90000, 0, SRV_MONITOR_NONE, 0},
    };
    run(s, sizeof(s) / sizeof(s[0]), 60000);
}

static void clients_back_carries_the_whole_gap(void **state)
{
    (void)state;
    const step s[] = {
        {1000, 2, SRV_MONITOR_NONE, 0},
        {5000, 0, SRV_MONITOR_NONE, 0},        /* empty from 5 s */
        {65000, 0, SRV_MONITOR_NO_CLIENTS, 60000},
        {80000, 1, SRV_MONITOR_CLIENTS_BACK, 75000},
        {81000, 3, SRV_MONITOR_NONE, 0},
    };
    run(s, sizeof(s) / sizeof(s[0]), 60000);
}

static void a_short_gap_is_no_change(void **state)
{
    (void)state;
    const step s[] = {
        {0, 1, SRV_MONITOR_NONE, 0},
        {100, 0, SRV_MONITOR_NONE, 0},
        {59000, 0, SRV_MONITOR_NONE, 0},
        {59500, 1, SRV_MONITOR_NONE, 0},
        {200000, 1, SRV_MONITOR_NONE, 0},
    };
    run(s, sizeof(s) / sizeof(s[0]), 60000);
}

static void the_gap_restarts_after_clients_come_back(void **state)
{
    (void)state;
    const step s[] = {
        {0, 0, SRV_MONITOR_NONE, 0},
        {100, 0, SRV_MONITOR_NO_CLIENTS, 100},
        {150, 1, SRV_MONITOR_CLIENTS_BACK, 150},
        {160, 0, SRV_MONITOR_NONE, 0},
        {259, 0, SRV_MONITOR_NONE, 0},
        {260, 0, SRV_MONITOR_NO_CLIENTS, 100},
        {300, 2, SRV_MONITOR_CLIENTS_BACK, 140},
    };
    run(s, sizeof(s) / sizeof(s[0]), 100);
}

static void the_deadline_says_when_to_look_again(void **state)
{
    (void)state;
    srv_monitor m;
    srv_monitor_init(&m, 1000, 500);
    assert_int_equal(srv_monitor_deadline(&m), 1500);
    srv_monitor_update(&m, 600, 1);
    assert_int_equal(srv_monitor_deadline(&m), -1);
    srv_monitor_update(&m, 700, 0);
    assert_int_equal(srv_monitor_deadline(&m), 1700);
    srv_monitor_update(&m, 1700, 0);
    assert_int_equal(srv_monitor_deadline(&m), -1); /* already reported */
}

static void change_names_read_well(void **state)
{
    (void)state;
    assert_string_equal(srv_monitor_change_name(SRV_MONITOR_NO_CLIENTS), "no_clients");
    assert_string_equal(srv_monitor_change_name(SRV_MONITOR_CLIENTS_BACK), "clients_back");
    assert_string_equal(srv_monitor_change_name(SRV_MONITOR_NONE), "none");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(no_clients_from_the_start_is_reported_once_after_the_threshold),
        cmocka_unit_test(clients_back_carries_the_whole_gap),
        cmocka_unit_test(a_short_gap_is_no_change),
        cmocka_unit_test(the_gap_restarts_after_clients_come_back),
        cmocka_unit_test(the_deadline_says_when_to_look_again),
        cmocka_unit_test(change_names_read_well),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
