/* The quality grade table: silence and smoothed RTT, the worse one wins. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/quality.h"
#include "lifeline/lifeline.h"

enum { U = LIFELINE_QUALITY_UNKNOWN, E = LIFELINE_QUALITY_EXCELLENT,
       G = LIFELINE_QUALITY_GOOD, P = LIFELINE_QUALITY_POOR };

static void grade_table_with_the_default_limits(void **state)
{
    (void)state;
    ll_quality_limits q;
    ll_quality_limits_init(&q, 30000, 300, 1000);
    const struct { int have; int64_t silence; double srtt; int grade; } rows[] = {
        {0, 0, 0, U},          {0, 100000, 5000, U},
        {1, 0, 1, E},          {1, 29999, 299.9, E},
        {1, 30000, 1, G},      {1, 59999, 1, G},
        {1, 60000, 1, P},      {1, 3600000, 1, P},
        {1, 0, 300, G},        {1, 0, 999.9, G},
        {1, 0, 1000, P},       {1, 0, 20000, P},
        {1, 45000, 500, G},    {1, 45000, 1500, P},
        {1, 70000, 10, P},     {1, 10, 1200, P},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        int got = ll_quality_grade(&q, rows[i].have, rows[i].silence, rows[i].srtt);
        if (got != rows[i].grade)
            fail_msg("row %zu: silence %lld srtt %.1f: got %s, want %s", i,
                     (long long)rows[i].silence, rows[i].srtt, lifeline_quality_name(got),
                     lifeline_quality_name(rows[i].grade));
    }
}

static void silence_limits_follow_a_longer_ping_interval(void **state)
{
    (void)state;
    ll_quality_limits q;
    ll_quality_limits_init(&q, 45000, 300, 1000);
    assert_int_equal(q.silence_excellent_ms, 45000);
    assert_int_equal(q.silence_good_ms, 90000);
    assert_int_equal(ll_quality_grade(&q, 1, 44999, 5), E);
    ll_quality_limits_init(&q, 1000, 300, 1000); /* short intervals keep 30/60 s */
    assert_int_equal(q.silence_excellent_ms, 30000);
    assert_int_equal(q.silence_good_ms, 60000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(grade_table_with_the_default_limits),
        cmocka_unit_test(silence_limits_follow_a_longer_ping_interval),
    };
    return cmocka_run_group_tests_name("quality", tests, NULL, NULL);
}
