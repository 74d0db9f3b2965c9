/* test_pace.c — the units of rates and durations switch at their documented boundaries and the
 * figures are the input converted (pace.h). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "lazysweep/pace.h"

static void test_rates(void **state)
{
    (void)state;
    char b[64];
    pace_rate(b, sizeof b, 38000.0);
    assert_string_equal(b, "38000.0 points/s");
    pace_rate(b, sizeof b, 1.0);
    assert_string_equal(b, "1.0 points/s");
    pace_rate(b, sizeof b, 0.5); /* 30 a minute */
    assert_string_equal(b, "30.0 points/min");
    pace_rate(b, sizeof b, 1.0 / 60.0);
    assert_string_equal(b, "1.0 points/min");
    pace_rate(b, sizeof b, 1.0 / 7200.0); /* one every two hours */
    assert_string_equal(b, "0.50 points/h");
    pace_rate(b, sizeof b, 0.0);
    assert_string_equal(b, "0.00 points/h");
}

static void test_durations(void **state)
{
    (void)state;
    char b[64];
    const struct {
        double s;
        const char *want;
    } cases[] = {{0, "0s"},         {119.4, "119s"}, {120, "2m00s"},   {3725, "62m05s"},
                 {7199, "119m59s"}, {7200, "2h00m"}, {12300, "3h25m"}, {48 * 3600 - 1, "47h59m"},
                 {216000, "2.5d"},  {-1, "-"},       {NAN, "-"},       {INFINITY, "-"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pace_duration(b, sizeof b, cases[i].s);
        assert_string_equal(b, cases[i].want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rates),
        cmocka_unit_test(test_durations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
