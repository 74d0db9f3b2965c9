/* test_data.c — the sparse_regression generator: the common-random-number properties the sweep
 * relies on (prefix in n, nothing depends on the model axes), the exact shape of β*, labels
 * against a direct formula, uniformity of the support, and data_check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lazysweep/data.h"
#include "lazysweep/error.h"

static void make_job(struct ls_job *job, int n, int d, int support, double noise)
{
    memset(job, 0, sizeof *job);
    job->seed = 5;
    snprintf(job->data.kind, LS_NAME_MAX, "sparse_regression");
    job->data.n_train = n;
    job->data.dim = d;
    job->data.support = support;
    job->data.noise_std = noise;
    job->model.init_scale = 1;
    job->model.width = 1;
    job->model.depth = 2;
}

static struct ls_data *create(const struct ls_job *job)
{
    struct ls_data *d = NULL;
    assert_int_equal(data_create(job, &d), LS_OK);
    assert_non_null(d);
    return d;
}

/* n = 50 is the prefix of n = 100, bit for bit; model axes change nothing. */
static void test_prefix_and_model_axes(void **state)
{
    (void)state;
    struct ls_job ja, jb;
    make_job(&ja, 50, 30, 5, 0.1);
    make_job(&jb, 100, 30, 5, 0.1);
    jb.model.init_scale = 1e-3;
    jb.model.width = 8;
    jb.model.depth = 4;
    struct ls_data *a = create(&ja), *b = create(&jb);
    assert_int_equal(a->n, 50);
    assert_int_equal(b->d, 30);
    assert_memory_equal(a->X, b->X, 50 * 30 * sizeof(double));
    assert_memory_equal(a->y, b->y, 50 * sizeof(double));
    assert_memory_equal(a->beta_star, b->beta_star, 30 * sizeof(double));
    assert_int_equal((uintptr_t)a->X % 64, 0);
    data_destroy(&a);
    data_destroy(&b);
    data_destroy(&b); /* safe twice */
    assert_null(b);
}

/* β* has exactly `support` entries equal to 1/√support; with no noise y = Xβ*. */
static void test_beta_star_and_labels(void **state)
{
    (void)state;
    struct ls_job job;
    make_job(&job, 20, 40, 7, 0.0);
    struct ls_data *d = create(&job);
    int nz = 0;
    for (size_t j = 0; j < d->d; j++) {
        if (d->beta_star[j] != 0) {
            nz++;
            assert_true(d->beta_star[j] == 1.0 / sqrt(7.0));
        }
    }
    assert_int_equal(nz, 7);
    for (size_t i = 0; i < d->n; i++) {
        double s = 0;
        for (size_t j = 0; j < d->d; j++)
            s += d->X[i * d->d + j] * d->beta_star[j];
        if (!(fabs(s - d->y[i]) <= 1e-14)) {
            print_error("y[%zu] = %.17g, Xb* = %.17g\n", i, d->y[i], s);
            fail();
        }
    }
    data_destroy(&d);
    make_job(&job, 3, 4, 0, 0.5); /* support 0: β* = 0, y is pure noise */
    d = create(&job);
    for (size_t j = 0; j < 4; j++)
        assert_true(d->beta_star[j] == 0.0);
    assert_true(d->noise_std == 0.5);
    data_destroy(&d);
}

/* X entries are N(0,1): over 10^5 entries the mean is within 5/√N of 0, E x² within 5√(2/N). */
static void test_x_moments(void **state)
{
    (void)state;
    struct ls_job job;
    make_job(&job, 200, 500, 5, 0.1);
    struct ls_data *d = create(&job);
    double N = 200 * 500, s1 = 0, s2 = 0;
    for (size_t i = 0; i < d->n * d->d; i++) {
        s1 += d->X[i];
        s2 += d->X[i] * d->X[i];
    }
    assert_true(fabs(s1 / N) < 5 / sqrt(N));
    assert_true(fabs(s2 / N - 1) < 5 * sqrt(2 / N));
    data_destroy(&d);
}

/* Over 20000 seeds each coordinate is in the support with probability s/d. The statistic
 * Σ (c − Np)²/(Np) has mean (d − 1)(1 − p) < 9 here, so the χ²₉ p = 0.001 cut 27.88 is
 * conservative. Different seeds must give different X. */
static void test_support_uniform(void **state)
{
    (void)state;
    const int d = 10, s = 3, N = 20000;
    double count[10] = {0}, chi2 = 0, want = (double)N * s / d;
    struct ls_job job;
    make_job(&job, 1, d, s, 0.0);
    double x0 = 0;
    for (int seed = 0; seed < N; seed++) {
        job.point_seed = seed;
        struct ls_data *dd = create(&job);
        for (int j = 0; j < d; j++)
            count[j] += dd->beta_star[j] != 0;
        if (seed == 1)
            assert_true(dd->X[0] != x0);
        x0 = dd->X[0];
        data_destroy(&dd);
    }
    for (int j = 0; j < d; j++)
        chi2 += (count[j] - want) * (count[j] - want) / want;
    if (!(chi2 < 27.88)) {
        print_error("support chi2 = %g\n", chi2);
        fail();
    }
}

static void test_check(void **state)
{
    (void)state;
    struct ls_job job;
    char msg[256] = "";
    struct ls_data *d = NULL;
    make_job(&job, 10, 5, 5, 0.1);
    assert_int_equal(data_check(&job, msg, sizeof msg), LS_OK);
    job.data.support = 6;
    assert_int_equal(data_check(&job, msg, sizeof msg), LS_EJOB);
    assert_non_null(strstr(msg, "support"));
    assert_int_not_equal(data_create(&job, &d), LS_OK);
    assert_null(d);
    make_job(&job, 10, 5, 5, 0.1);
    snprintf(job.data.kind, LS_NAME_MAX, "mnist");
    assert_int_equal(data_check(&job, msg, sizeof msg), LS_EJOB);
    assert_non_null(strstr(msg, "sparse_regression"));
    make_job(&job, 100, 1000, 5, 0.1);
    assert_true(data_memory(&job) >= (100 * 1000 + 1100) * sizeof(double));
}

int main(void)
{
    openblas_set_num_threads(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prefix_and_model_axes), cmocka_unit_test(test_beta_star_and_labels),
        cmocka_unit_test(test_x_moments),             cmocka_unit_test(test_support_uniform),
        cmocka_unit_test(test_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
