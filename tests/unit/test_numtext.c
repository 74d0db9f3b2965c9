/* test_numtext.c — numtext gives the shortest text that reads back to the same double: checked
 * for values people type, for the edges of the double range, and for 200 000 random bit
 * patterns against an exhaustive search over every digit count (independent of the bisection). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lazysweep/numtext.h"

static void test_typed_values(void **state)
{
    (void)state;
    const struct {
        double v;
        const char *want;
    } cases[] = {{0.1, "0.1"},       {-0.1, "-0.1"},   {10, "10"},           {100, "100"},
                 {150, "150"},       {1e13, "1e+13"},  {1e-3, "0.001"},      {2.5e-7, "2.5e-07"},
                 {0.0, "0"},         {-0.0, "-0"},     {1.0 / 3, "0.3333333333333333"},
                 {0.1 + 0.2, "0.30000000000000004"}, {123450, "123450"}, {NAN, "nan"},
                 {INFINITY, "inf"},  {-INFINITY, "-inf"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char b[NUMTEXT_MAX];
        numtext(b, cases[i].v);
        if (strcmp(b, cases[i].want))
            fail_msg("numtext(%.17g) = %s, want %s", cases[i].v, b, cases[i].want);
    }
    assert_string_equal(NUMTEXT(5e-324), "5e-324");
    assert_string_equal(NUMTEXT(1.7976931348623157e308), "1.7976931348623157e+308");
}

/* The fewest significant digits any %.{p}g text of v needs to read back, by trying them all. */
static int fewest_digits(double v)
{
    char b[64];
    for (int p = 1; p <= 17; p++) {
        snprintf(b, sizeof b, "%.*g", p, v);
        if (strtod(b, NULL) == v)
            return p;
    }
    return -1;
}

static int digits_of(const char *s)
{
    int n = 0;
    for (; *s && *s != 'e'; s++)
        n += *s >= '0' && *s <= '9';
    return n;
}

static void test_random_bit_patterns(void **state)
{
    (void)state;
    uint64_t x = 0x9E3779B97F4A7C15u;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        double v;
        memcpy(&v, &x, sizeof v);
        if (!isfinite(v))
            continue;
        char b[NUMTEXT_MAX];
        numtext(b, v);
        if (strtod(b, NULL) != v)
            fail_msg("%s does not read back as %.17g", b, v);
        /* Positional text may carry trailing zeros of the integer part ("150"), never more
         * significant digits than the shortest exponent form needs beyond them. */
        int want = fewest_digits(v), got = digits_of(b);
        if (strchr(b, 'e') && got != want)
            fail_msg("%s has %d digits, %.17g needs %d", b, got, v, want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_typed_values),
                                       cmocka_unit_test(test_random_bit_patterns)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
