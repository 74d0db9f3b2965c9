/* test_train.c — the logging schedule's invariants over many sizes, and the training loop against
 * independent facts: gradient descent on a depth-2 diagonal net at large α converges to the
 * minimum-ℓ2 interpolant Xᵀ(XXᵀ)⁻¹y (kernel regime, docs/theory.md §1; solved here with
 * LAPACK), and each stop rule (done, stop_loss, diverged, timeout, poll) fills the result record
 * as train.h promises. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lazysweep/diagonal.h"
#include "lazysweep/error.h"
#include "lazysweep/train.h"

/* ---- the schedule ---- */

/* T = min(points, M + 1), strictly increasing, from 0 to M (a single step is M itself). */
static void check_schedule(int64_t M, int64_t points, const char *spacing)
{
    int64_t *s = NULL;
    size_t T = 0;
    assert_int_equal(train_schedule(M, points, spacing, &s, &T), LS_OK);
    int64_t want_T = points < M + 1 ? points : M + 1;
    int ok = (int64_t)T == want_T && s[T - 1] == M && (T == 1 || s[0] == 0);
    for (size_t i = 1; i < T; i++)
        ok = ok && s[i] > s[i - 1];
    if (!ok) {
        print_error("schedule(%lld, %lld, %s): T = %zu, first %lld, last %lld\n", (long long)M,
                    (long long)points, spacing, T, (long long)s[0], (long long)s[T - 1]);
        fail();
    }
    free(s);
}

static void test_schedule_invariants(void **state)
{
    (void)state;
    const int64_t Ms[] = {0,    1,     2,      3,       4,        5,          7,
                          10,   15,    63,     64,      65,       99,         100,
                          1000, 12345, 200000, 1000000, 99999999, 1000000000, 1000000000000LL};
    const char *sp[] = {"log", "linear"};
    for (size_t a = 0; a < sizeof Ms / sizeof Ms[0]; a++)
        for (int64_t p = 1; p <= 300; p += p < 20 ? 1 : 7)
            for (int k = 0; k < 2; k++)
                check_schedule(Ms[a], p, sp[k]);
    for (int64_t M = 0; M <= 400; M++) /* every small M, with points near and above M + 1 */
        for (int64_t p = 1; p <= M + 3; p += 1 + p / 8)
            for (int k = 0; k < 2; k++)
                check_schedule(M, p, sp[k]);
}

static void expect_schedule(int64_t M, int64_t points, const char *spacing, const int64_t *want,
                            size_t n)
{
    int64_t *s = NULL;
    size_t T = 0;
    assert_int_equal(train_schedule(M, points, spacing, &s, &T), LS_OK);
    assert_int_equal(T, n);
    for (size_t i = 0; i < n; i++)
        if (s[i] != want[i]) {
            print_error("schedule(%lld, %lld, %s)[%zu] = %lld, want %lld\n", (long long)M,
                        (long long)points, spacing, i, (long long)s[i], (long long)want[i]);
            fail();
        }
    free(s);
}

/* Worked examples: log 100 over 5 = 0, then round(100^(i/3)) = 1, 5, 22, 100; linear 10 over
 * 4 = round(10/3·i) = 0, 3, 7, 10; log 10 over 10: the geometric values 1, 1.33, 1.78, 2.37,
 * 3.16, 4.22, 5.62, 7.50, 10 round to collisions, pushed up to 0..8 then 10; T = M + 1 gives
 * every step. */
static void test_schedule_examples(void **state)
{
    (void)state;
    const int64_t a[] = {0, 1, 5, 22, 100}, b[] = {0, 3, 7, 10}, d[] = {0, 1, 2, 3, 4};
    const int64_t c[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 10};
    expect_schedule(100, 5, "log", a, 5);
    expect_schedule(10, 4, "linear", b, 4);
    expect_schedule(10, 10, "log", c, 10);
    expect_schedule(4, 9, "log", d, 5);
    expect_schedule(4, 5, "linear", d, 5);
    const int64_t e[] = {0}, f[] = {0, 1000};
    expect_schedule(0, 64, "log", e, 1);
    expect_schedule(1000, 2, "log", f, 2);
    int64_t *s = NULL;
    size_t T = 0;
    assert_int_equal(train_schedule(10, 4, "cubic", &s, &T), LS_EINVAL);
    assert_int_equal(train_schedule(10, 0, "log", &s, &T), LS_EINVAL);
    assert_int_equal(train_schedule(-1, 4, "log", &s, &T), LS_EINVAL);
    assert_null(s);
}

/* Where the geometric values are more than one step apart they are used as they are. */
static void test_schedule_geometric(void **state)
{
    (void)state;
    int64_t *s = NULL;
    size_t T = 0;
    assert_int_equal(train_schedule(1000000, 64, "log", &s, &T), LS_OK);
    for (size_t i = 1; i < T; i++) {
        int64_t r = llround(pow(1e6, (double)(i - 1) / (double)(T - 2)));
        assert_true(s[i] >= r);
        if (r > s[i - 1] + 1)
            assert_int_equal(s[i], r);
    }
    free(s);
}

/* ---- the loop ---- */

struct fixture {
    struct ls_job job;
    struct ls_data *data;
    struct ls_model *model;
    int64_t *steps;
    size_t T;
    struct ls_result res;
};

static const char *const METRICS[] = {"steps", "train_loss", "population_error", "l2_norm", "x"};
static const char *const TRAJ[] = {"train_loss", "steps", "l2_norm"};

static void make_job(struct ls_job *job, double alpha, int n, int d)
{
    memset(job, 0, sizeof *job);
    job->seed = 3;
    snprintf(job->model.family, LS_NAME_MAX, "diagonal");
    snprintf(job->model.init, LS_NAME_MAX, "constant");
    job->model.depth = 2;
    job->model.width = 1;
    job->model.init_scale = alpha;
    snprintf(job->data.kind, LS_NAME_MAX, "sparse_regression");
    job->data.n_train = n;
    job->data.dim = d;
    job->data.support = 3;
    snprintf(job->train.optimizer, LS_NAME_MAX, "gd");
    job->train.max_steps = 100000;
    job->train.log_points = 32;
    snprintf(job->train.log_spacing, LS_NAME_MAX, "log");
    job->max_steps_all = job->train.max_steps;
    job->n_metrics = sizeof METRICS / sizeof METRICS[0];
    for (size_t i = 0; i < job->n_metrics; i++)
        snprintf(job->metrics[i], LS_NAME_MAX, "%s", METRICS[i]);
    job->n_traj = sizeof TRAJ / sizeof TRAJ[0];
    for (size_t i = 0; i < job->n_traj; i++)
        snprintf(job->traj[i], LS_NAME_MAX, "%s", TRAJ[i]);
}

/* λmax(XXᵀ/n) = λmax(XᵀX/n), from LAPACK's symmetric eigensolver. */
static double lambda_max(const struct ls_data *d)
{
    size_t n = d->n;
    double *A = calloc(n * n, sizeof *A), *w = calloc(n, sizeof *w);
    assert_non_null(A);
    assert_non_null(w);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)n, (int)d->d,
                1.0 / (double)n, d->X, (int)d->d, d->X, (int)d->d, 0.0, A, (int)n);
    assert_int_equal(LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'N', 'U', (int)n, A, (int)n, w), 0);
    double l = w[n - 1];
    free(A);
    free(w);
    return l;
}

/* Data, model, schedule (of job.max_steps_all) and a NaN-filled result; lr = factor times the
 * stable rate 1/(16α²λmax): the Hessian in (u₊, u₋) at init is 16α²·XᵀX/n, so 1/(16α²λ) is half
 * the largest stable step. */
static void setup(struct fixture *f, double lr_factor)
{
    assert_int_equal(data_create(&f->job, &f->data), LS_OK);
    assert_int_equal(diagonal_ops.create(&f->job, f->data, &f->model), LS_OK);
    double a = f->job.model.init_scale;
    f->job.train.lr.base = lr_factor / (16 * a * a * lambda_max(f->data));
    assert_int_equal(train_schedule(f->job.max_steps_all, f->job.train.log_points,
                                    f->job.train.log_spacing, &f->steps, &f->T),
                     LS_OK);
    assert_int_equal(result_init(&f->res, (uint32_t)f->job.n_metrics, (uint32_t)f->job.n_traj,
                                 (uint32_t)f->T, 0),
                     LS_OK);
}

static void teardown(struct fixture *f)
{
    diagonal_ops.destroy(&f->model);
    data_destroy(&f->data);
    free(f->steps);
    result_free(&f->res);
}

static int run(struct fixture *f, ls_poll_fn poll, void *arg)
{
    return train_run(&f->job, f->model, f->data, f->steps, f->T, &f->res, poll, arg);
}

static double traj(const struct fixture *f, size_t metric, size_t col)
{
    return f->res.traj[metric * f->T + col];
}

/* Columns of steps before the stop step are finite, later ones NaN, the last the final state. */
static void check_partial(const struct fixture *f)
{
    int64_t stop = (int64_t)f->res.metrics[0];
    for (size_t t = 0; t + 1 < f->T; t++) {
        int logged = f->steps[t] < stop || (f->steps[t] == stop && f->res.status == LS_ST_DONE);
        for (size_t i = 0; i < f->job.n_traj; i++)
            if (logged ? !isfinite(traj(f, i, t)) : !isnan(traj(f, i, t))) {
                print_error("traj %s col %zu (step %lld, stop %lld): %g\n", TRAJ[i], t,
                            (long long)f->steps[t], (long long)stop, traj(f, i, t));
                fail();
            }
    }
    assert_true(traj(f, 1, f->T - 1) == (double)stop);
    assert_true(traj(f, 0, f->T - 1) == f->res.metrics[1] || isnan(f->res.metrics[1]));
}

/* Kernel regime: α = 10, n = 10 < d = 40, noise 0, β(0) = 0. The limit β_α deviates from the
 * ℓ2 interpolant by O((β/α²)²) relative (the mirror map asinh(β/2α²) is linear to that order),
 * about 5e-8 here, checked independently in numpy; GD at this step adds less. */
static void test_converges_to_l2_interpolant(void **state)
{
    (void)state;
    struct fixture f = {0};
    make_job(&f.job, 10.0, 10, 40);
    f.job.train.stop_loss = 1e-24;
    setup(&f, 1.0);
    assert_int_equal(run(&f, NULL, NULL), LS_OK);
    assert_int_equal(f.res.status, LS_ST_DONE);
    assert_true(f.res.metrics[0] < 100000);
    assert_true(f.res.metrics[1] <= 1e-24);
    assert_true(isnan(f.res.metrics[4])); /* unknown metric */

    size_t n = f.data->n, d = f.data->d;
    double *A = calloc(n * n, sizeof *A), *w = calloc(n, sizeof *w), *b2 = calloc(d, sizeof *b2);
    assert_true(A && w && b2);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)n, (int)d, 1.0, f.data->X,
                (int)d, f.data->X, (int)d, 0.0, A, (int)n);
    memcpy(w, f.data->y, n * sizeof *w);
    assert_int_equal(LAPACKE_dposv(LAPACK_ROW_MAJOR, 'U', (int)n, 1, A, (int)n, w, 1), 0);
    cblas_dgemv(CblasRowMajor, CblasTrans, (int)n, (int)d, 1.0, f.data->X, (int)d, w, 1, 0.0, b2, 1);
    const double *beta = diagonal_beta(f.model);
    double num = 0, den = 0;
    for (size_t j = 0; j < d; j++) {
        num += (beta[j] - b2[j]) * (beta[j] - b2[j]);
        den += b2[j] * b2[j];
    }
    if (!(sqrt(num / den) < 1e-6)) {
        print_error("|beta - beta_l2| / |beta_l2| = %.3g (steps %g)\n", sqrt(num / den),
                    f.res.metrics[0]);
        fail();
    }
    check_partial(&f);
    free(A);
    free(w);
    free(b2);
    teardown(&f);
}

/* stop_loss is reached long before max_steps; the loss logged just before was above it. */
static void test_stop_loss(void **state)
{
    (void)state;
    struct fixture f = {0};
    make_job(&f.job, 1.0, 10, 40);
    f.job.train.stop_loss = 1e-3;
    setup(&f, 1.0);
    assert_int_equal(run(&f, NULL, NULL), LS_OK);
    assert_int_equal(f.res.status, LS_ST_DONE);
    assert_true(f.res.metrics[0] > 0 && f.res.metrics[0] < 100000);
    assert_true(f.res.metrics[1] <= 1e-3);
    assert_true(traj(&f, 0, 0) > 1e-3);
    check_partial(&f);
    teardown(&f);
}

/* Six times the stable rate (three times the largest stable step) blows up after a few steps
 * (step 5 here): a result, with the step and the trajectory up to it. */
static void test_diverged(void **state)
{
    (void)state;
    struct fixture f = {0};
    make_job(&f.job, 1.0, 10, 40);
    setup(&f, 6.0);
    assert_int_equal(run(&f, NULL, NULL), LS_OK);
    assert_int_equal(f.res.status, LS_ST_DIVERGED);
    double L0 = traj(&f, 0, 0), L = f.res.metrics[1];
    assert_true(f.res.metrics[0] >= 3 && f.res.metrics[0] < 1000);
    assert_true(!isfinite(L) || L > LS_DIVERGE_FACTOR * L0);
    assert_true(f.steps[2] == 2 && isfinite(traj(&f, 0, 2))); /* logged before the blow-up */
    check_partial(&f);
    teardown(&f);
}

static void test_timeout(void **state)
{
    (void)state;
    struct fixture f = {0};
    make_job(&f.job, 1.0, 10, 40);
    f.job.train.max_steps = f.job.max_steps_all = 1000000000;
    f.job.train.max_seconds = 1e-9;
    setup(&f, 0.5);
    assert_int_equal(run(&f, NULL, NULL), LS_OK);
    assert_int_equal(f.res.status, LS_ST_TIMEOUT);
    assert_true(f.res.metrics[0] >= 1 && f.res.metrics[0] < 1000);
    check_partial(&f);
    teardown(&f);
}

static int poll_stop(void *arg)
{
    int *calls = arg;
    return ++*calls >= 2;
}

/* poll runs about every 0.1 s; its nonzero answer abandons the run. */
static void test_poll_interrupts(void **state)
{
    (void)state;
    struct fixture f = {0};
    int calls = 0;
    make_job(&f.job, 1.0, 10, 40);
    f.job.train.max_steps = f.job.max_steps_all = 1000000000;
    setup(&f, 0.5);
    assert_int_equal(run(&f, poll_stop, &calls), LS_EINTR);
    assert_int_equal(calls, 2);
    teardown(&f);
}

/* train.max_steps below the schedule's end (max_steps is an axis): later columns stay NaN, the
 * last holds step 100. Bitwise identical when run again. */
static void test_short_max_steps(void **state)
{
    (void)state;
    struct fixture f = {0}, g = {0};
    make_job(&f.job, 1.0, 10, 40);
    f.job.max_steps_all = 1000;
    f.job.train.max_steps = 100;
    g.job = f.job;
    setup(&f, 1.0);
    setup(&g, 1.0);
    assert_int_equal(run(&f, NULL, NULL), LS_OK);
    assert_int_equal(run(&g, NULL, NULL), LS_OK);
    assert_int_equal(f.res.status, LS_ST_DONE);
    assert_true(f.res.metrics[0] == 100);
    assert_true(f.steps[f.T - 1] == 1000);
    check_partial(&f);
    assert_memory_equal(f.res.traj, g.res.traj, f.T * f.job.n_traj * sizeof(double));
    assert_memory_equal(f.res.metrics, g.res.metrics, 4 * sizeof(double));
    teardown(&f);
    teardown(&g);
}

/* A singleton numeric axis, as cfg makes for an unswept canonical one. */
static void add_axis(struct ls_grid *g, const char *name, enum ls_type type, double v)
{
    struct ls_axis a = {.type = type, .n = 1, .num = malloc(sizeof(double))};
    assert_non_null(a.num);
    a.num[0] = v;
    snprintf(a.name, sizeof a.name, "%s", name);
    assert_int_equal(grid_add_axis(g, &a), LS_OK);
}

/* The whole point: data, model, training, timing, key; an unbuildable point is `failed`. */
static void test_train_point(void **state)
{
    (void)state;
    struct fixture f = {0};
    make_job(&f.job, 1.0, 10, 40);
    f.job.train.stop_loss = 1e-3;
    f.job.train.lr.base = 0.01;
    add_axis(&f.job.grid, "init_scale", LS_T_REAL, 1.0);
    add_axis(&f.job.grid, "width", LS_T_INT, 1);
    add_axis(&f.job.grid, "depth", LS_T_INT, 2);
    add_axis(&f.job.grid, "seed", LS_T_INT, 0);
    add_axis(&f.job.grid, "sparsity", LS_T_REAL, 0);
    assert_int_equal(f.job.grid.n_points, 1);
    assert_int_equal(train_schedule(f.job.max_steps_all, 16, "log", &f.steps, &f.T), LS_OK);
    assert_int_equal(result_init(&f.res, (uint32_t)f.job.n_metrics, (uint32_t)f.job.n_traj,
                                 (uint32_t)f.T, 0), LS_OK);
    assert_int_equal(train_point(&f.job, 0, f.steps, f.T, &f.res, NULL, NULL), LS_OK);
    assert_int_equal(f.res.status, LS_ST_DONE);
    assert_true(f.res.key[0] != '\0');
    assert_true(f.res.seconds >= 0 && f.res.finished > 1.5e9);
    assert_true(f.res.metrics[1] <= 1e-3);
    result_free(&f.res);

    f.job.data.support = 41; /* more non-zeros than dimensions */
    assert_int_equal(result_init(&f.res, (uint32_t)f.job.n_metrics, (uint32_t)f.job.n_traj,
                                 (uint32_t)f.T, 0), LS_OK);
    assert_int_equal(train_point(&f.job, 0, f.steps, f.T, &f.res, NULL, NULL), LS_OK);
    assert_int_equal(f.res.status, LS_ST_FAILED);
    assert_true(isnan(f.res.metrics[0]));
    grid_free(&f.job.grid);
    teardown(&f);
}

int main(void)
{
    openblas_set_num_threads(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schedule_invariants),
        cmocka_unit_test(test_schedule_examples),
        cmocka_unit_test(test_schedule_geometric),
        cmocka_unit_test(test_converges_to_l2_interpolant),
        cmocka_unit_test(test_stop_loss),
        cmocka_unit_test(test_diverged),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_poll_interrupts),
        cmocka_unit_test(test_short_max_steps),
        cmocka_unit_test(test_train_point),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
