/* test_rng.c — Philox4x32-10 against the Random123 known-answer vectors, stream reproducibility
 * and random access, distribution moments with tolerances derived from their standard errors,
 * rejection sampling and key separation. Every statistical test uses fixed keys, so it is
 * deterministic; the tolerances say how unlikely a failure of a correct generator would be. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lazysweep/rng.h"

#define N_MOMENTS 1000000

/* |got − want| <= tol, printing all three on failure. */
static void check_close(const char *what, double got, double want, double tol)
{
    if (!(fabs(got - want) <= tol)) {
        print_error("%s: got %.10g, want %.10g ± %.3g\n", what, got, want, tol);
        fail();
    }
}

static void kat(const uint32_t ctr[4], const uint32_t key[2], const uint32_t want[4])
{
    uint32_t out[4];
    rng_philox(ctr, key, out);
    for (int i = 0; i < 4; i++)
        if (out[i] != want[i]) {
            print_error("philox word %d: got %08x, want %08x\n", i, out[i], want[i]);
            fail();
        }
}

/* Random123 kat_vectors, philox4x32 with 10 rounds. */
static void test_philox_kat(void **state)
{
    (void)state;
    const uint32_t c0[4] = {0, 0, 0, 0}, k0[2] = {0, 0};
    const uint32_t w0[4] = {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8};
    const uint32_t c1[4] = {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff};
    const uint32_t k1[2] = {0xffffffff, 0xffffffff};
    const uint32_t w1[4] = {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd};
    const uint32_t c2[4] = {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344};
    const uint32_t k2[2] = {0xa4093822, 0x299f31d0};
    const uint32_t w2[4] = {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1};
    kat(c0, k0, w0);
    kat(c1, k1, w1);
    kat(c2, k2, w2);
}

/* Block b is philox((lo32 b, hi32 b, 0, 0), key): the documented counter layout. */
static void test_counter_layout(void **state)
{
    (void)state;
    struct ls_rng r;
    uint64_t key = 0x0123456789abcdefULL;
    rng_init(&r, key);
    r.counter = 0x0000000500000007ULL;
    uint32_t ctr[4] = {7, 5, 0, 0}, k[2] = {(uint32_t)key, (uint32_t)(key >> 32)}, want[4];
    rng_philox(ctr, k, want);
    for (int i = 0; i < 4; i++)
        assert_int_equal(rng_u32(&r), want[i]);
    assert_int_equal(r.counter, 0x0000000500000008ULL);
}

static void test_reproducible(void **state)
{
    (void)state;
    struct ls_rng a, b;
    uint32_t seq[400];
    rng_init(&a, 42);
    rng_init(&b, 42);
    for (int i = 0; i < 400; i++) {
        seq[i] = rng_u32(&a);
        assert_int_equal(seq[i], rng_u32(&b));
    }
    /* Random access: block 37 holds words 148..151. */
    rng_init(&b, 42);
    b.counter = 37;
    for (int i = 0; i < 4; i++)
        assert_int_equal(rng_u32(&b), seq[148 + i]);
}

/* Normal draw i is block i alone, whatever was drawn before from the same generator. */
static void test_normal_random_access(void **state)
{
    (void)state;
    struct ls_rng a, b;
    double seq[100];
    rng_init(&a, 7);
    rng_normals(&a, seq, 100);
    assert_int_equal(a.counter, 100);
    rng_init(&b, 7);
    b.counter = 37;
    assert_true(rng_normal(&b) == seq[37]);
    /* A partly used block is discarded: u32 draws from block 3, then the normal is block 4. */
    rng_init(&b, 7);
    b.counter = 3;
    (void)rng_u32(&b);
    assert_true(rng_normal(&b) == seq[4]);
    assert_true(rng_normal(&b) == seq[5]);
}

/* U(0,1): mean 1/2 with standard error √(1/12/n); the sample variance 1/12 with standard error
 * √(Var (U−½)²/n) = √((1/80 − 1/144)/n) = √(1/(180 n)). 5σ: a false failure has p < 1e-6. */
static void test_uniform_moments(void **state)
{
    (void)state;
    struct ls_rng r;
    rng_init(&r, rng_key(1, 0, "test.uniform", NULL, 0));
    double s1 = 0, s2 = 0, n = N_MOMENTS;
    for (int i = 0; i < N_MOMENTS; i++) {
        double u = rng_uniform(&r);
        assert_true(u >= 0.0 && u < 1.0);
        s1 += u;
        s2 += (u - 0.5) * (u - 0.5);
    }
    check_close("uniform mean", s1 / n, 0.5, 5 * sqrt(1.0 / 12 / n));
    check_close("uniform variance", s2 / n, 1.0 / 12, 5 * sqrt(1.0 / 180 / n));
}

/* N(0,1): E z = 0 (se 1/√n), E z² = 1 (Var z² = 2), E z⁴ = 3 (Var z⁴ = E z⁸ − 9 = 105 − 9 = 96),
 * P(|z| < 1) = erf(1/√2) (binomial se). The 4th moment checks the tails that Box–Muller gets
 * from log(u1), the last one the shape near the centre. All at 5σ. */
static void test_normal_moments(void **state)
{
    (void)state;
    struct ls_rng r;
    rng_init(&r, rng_key(1, 0, "test.normal", NULL, 0));
    double s1 = 0, s2 = 0, s4 = 0, in1 = 0, n = N_MOMENTS;
    for (int i = 0; i < N_MOMENTS; i++) {
        double z = rng_normal(&r);
        assert_true(isfinite(z));
        s1 += z;
        s2 += z * z;
        s4 += z * z * z * z;
        in1 += fabs(z) < 1.0;
    }
    double p = erf(1.0 / sqrt(2.0));
    check_close("normal mean", s1 / n, 0.0, 5 / sqrt(n));
    check_close("normal E z^2", s2 / n, 1.0, 5 * sqrt(2.0 / n));
    check_close("normal E z^4", s4 / n, 3.0, 5 * sqrt(96.0 / n));
    check_close("normal P(|z|<1)", in1 / n, p, 5 * sqrt(p * (1 - p) / n));
}

/* Pearson correlation of paired draws of two streams; under independence its standard error is
 * 1/√n, so |r| < 5/√n. Keys that differ by one character or one seed must look independent. */
static double stream_correlation(uint64_t ka, uint64_t kb, int n)
{
    struct ls_rng a, b;
    rng_init(&a, ka);
    rng_init(&b, kb);
    double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
    for (int i = 0; i < n; i++) {
        double x = rng_normal(&a), y = rng_normal(&b);
        sa += x;
        sb += y;
        saa += x * x;
        sbb += y * y;
        sab += x * y;
    }
    double cov = sab / n - sa / n * sb / n;
    return cov / sqrt((saa / n - sa / n * sa / n) * (sbb / n - sb / n * sb / n));
}

static void test_stream_correlation(void **state)
{
    (void)state;
    int n = 200000;
    double tol = 5 / sqrt((double)n);
    check_close("corr names a/b", stream_correlation(rng_key(1, 0, "a", NULL, 0),
                                                    rng_key(1, 0, "b", NULL, 0), n), 0, tol);
    check_close("corr seeds 0/1", stream_correlation(rng_key(1, 0, "x", NULL, 0),
                                                    rng_key(1, 1, "x", NULL, 0), n), 0, tol);
    check_close("corr keys 0/1", stream_correlation(0, 1, n), 0, tol);
}

/* Bounds for small, odd, 32-bit-edge and 64-bit n. */
static void test_below_bounds(void **state)
{
    (void)state;
    const uint64_t ns[] = {1, 2, 3, 7, 10, 1000, 0xffffffffULL, 0x100000000ULL, 0x100000005ULL,
                           0x8000000000000001ULL, UINT64_MAX};
    struct ls_rng r;
    rng_init(&r, 99);
    for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++)
        for (int i = 0; i < 10000; i++) {
            uint64_t x = rng_below(&r, ns[k]);
            if (x >= ns[k]) {
                print_error("rng_below(%llu) gave %llu\n", (unsigned long long)ns[k],
                            (unsigned long long)x);
                fail();
            }
        }
}

/* Chi-square over 10 equal bins, 9 degrees of freedom: P(χ²₉ > 27.88) = 0.001. n = 3·2^30 rejects
 * a quarter of the 32-bit words: without rejection, bins 0–3 would get 4/3 of the others. */
static double chi2_bins(uint64_t n, int draws)
{
    struct ls_rng r;
    double count[10] = {0}, chi2 = 0, want = draws / 10.0;
    rng_init(&r, rng_key(3, 0, "test.below", NULL, 0));
    for (int i = 0; i < draws; i++)
        count[(size_t)((double)rng_below(&r, n) / (double)n * 10)] += 1;
    for (int b = 0; b < 10; b++)
        chi2 += (count[b] - want) * (count[b] - want) / want;
    return chi2;
}

static void test_below_chi2(void **state)
{
    (void)state;
    const uint64_t ns[] = {10, 3ULL << 30, 0xc000000000000000ULL};
    for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++) {
        double chi2 = chi2_bins(ns[k], 200000);
        if (!(chi2 < 27.88)) {
            print_error("n = %llu: chi2 = %g >= 27.88\n", (unsigned long long)ns[k], chi2);
            fail();
        }
    }
}

/* FNV-1a 64 published test values, and the little-endian u64 convention. */
static void test_hash(void **state)
{
    (void)state;
    assert_int_equal(ls_hash(LS_HASH_INIT, "", 0), 0xcbf29ce484222325ULL);
    assert_int_equal(ls_hash(LS_HASH_INIT, "a", 1), 0xaf63dc4c8601ec8cULL);
    assert_int_equal(ls_hash(LS_HASH_INIT, "foobar", 6), 0x85944171f73967e8ULL);
    const unsigned char le[8] = {0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01};
    assert_int_equal(ls_hash_u64(LS_HASH_INIT, 0x0102030405060708ULL),
                     ls_hash(LS_HASH_INIT, le, 8));
}

static void test_keys(void **state)
{
    (void)state;
    const int64_t s1[1] = {1000}, s2[2] = {1000, 5}, s3[2] = {1000, 6}, ab[1] = {0x62};
    uint64_t k[] = {
        rng_key(7, 0, "data.X", s1, 1),  rng_key(7, 1, "data.X", s1, 1),
        rng_key(8, 0, "data.X", s1, 1),  rng_key(7, 0, "data.Y", s1, 1),
        rng_key(7, 0, "data.X", s2, 2),  rng_key(7, 0, "data.X", s3, 2),
        rng_key(7, 0, "data.X", NULL, 0), rng_key(7, 0, "ab", NULL, 0),
        rng_key(7, 0, "a", ab, 1),        rng_key(7, -1, "data.X", s1, 1),
    };
    size_t n = sizeof k / sizeof k[0];
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (k[i] == k[j]) {
                print_error("keys %zu and %zu collide: %016llx\n", i, j, (unsigned long long)k[i]);
                fail();
            }
    assert_int_equal(k[0], rng_key(7, 0, "data.X", s1, 1));
}

int main(void)
{
    openblas_set_num_threads(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_philox_kat),       cmocka_unit_test(test_counter_layout),
        cmocka_unit_test(test_reproducible),     cmocka_unit_test(test_normal_random_access),
        cmocka_unit_test(test_uniform_moments),  cmocka_unit_test(test_normal_moments),
        cmocka_unit_test(test_stream_correlation), cmocka_unit_test(test_below_bounds),
        cmocka_unit_test(test_below_chi2),       cmocka_unit_test(test_hash),
        cmocka_unit_test(test_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
