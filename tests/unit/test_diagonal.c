/* test_diagonal.c — the diagonal family against independent references: the gradient against
 * central finite differences of the loss, β and the metrics against direct formulas, the width
 * rescaling identity of Woodworth et al. (docs/theory.md §1), and the registry and check(). */
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

#include "lazysweep/data.h"
#include "lazysweep/diagonal.h"
#include "lazysweep/error.h"
#include "lazysweep/model.h"

#include "fixtures.h"

static void check_close(const char *what, double got, double want, double tol)
{
    if (!(fabs(got - want) <= tol)) {
        print_error("%s: got %.15g, want %.15g (|diff| %.3g > tol %.3g)\n", what, got, want,
                    fabs(got - want), tol);
        fail();
    }
}

static void make_job(struct ls_job *job, int D, int k, double alpha, const char *init, int n,
                     int d)
{
    memset(job, 0, sizeof *job);
    job->seed = 11;
    snprintf(job->model.family, LS_NAME_MAX, "diagonal");
    job->model.depth = D;
    job->model.width = k;
    job->model.init_scale = alpha;
    snprintf(job->model.init, LS_NAME_MAX, "%s", init);
    snprintf(job->data.kind, LS_NAME_MAX, "sparse_regression");
    job->data.n_train = n;
    job->data.dim = d;
    job->data.support = 2;
    job->data.noise_std = 0.1;
    snprintf(job->train.optimizer, LS_NAME_MAX, "gd");
}

/* Central differences have error c₃h² (truncation) + c₀ε/h (rounding of L ~ 1). Measured over
 * the configurations below, the worst component error is 2e-5 at h = 1e-4 and 2e-7 at h = 1e-5
 * (∝ h², truncation), 7e-7 at h = 1e-6 (rounding); h = 3e-6 balances the two at 1.5e-7, so the
 * 1e-6 bound leaves a margin of about 6. Each component's error is taken relative to
 * max(|g_i|, 1e-3·‖g‖∞): components that are almost zero (u near 0 for D ≥ 3) are compared at a
 * scale where the difference quotient is still meaningful. */
static double max_rel_grad_error(struct ls_model *m, const struct ls_data *d)
{
    const double h = 3e-6;
    size_t np = m->n_params;
    double *g = malloc(np * sizeof *g), gmax = 0, worst = 0;
    assert_non_null(g);
    m->ops->loss(m, d, 1);
    memcpy(g, m->grad, np * sizeof *g);
    for (size_t i = 0; i < np; i++)
        gmax = fmax(gmax, fabs(g[i]));
    for (size_t i = 0; i < np; i++) {
        double p = m->params[i];
        m->params[i] = p + h;
        double lp = m->ops->loss(m, d, 0);
        m->params[i] = p - h;
        double lm = m->ops->loss(m, d, 0);
        m->params[i] = p;
        double fd = (lp - lm) / (2 * h);
        worst = fmax(worst, fabs(fd - g[i]) / fmax(fabs(g[i]), 1e-3 * gmax));
    }
    free(g);
    return worst;
}

static void test_gradient_fd(void **state)
{
    (void)state;
    const int depths[] = {2, 3, 4}, widths[] = {1, 3};
    const double alphas[] = {0.3, 1.0};
    const char *inits[] = {"constant", "random"};
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 2; b++)
            for (int c = 0; c < 2; c++)
                for (int e = 0; e < 2; e++) {
                    struct ls_job job;
                    struct ls_data *d = NULL;
                    struct ls_model *m = NULL;
                    make_job(&job, depths[a], widths[b], alphas[c], inits[e], 5, 7);
                    fx_build(&diagonal_ops, &job, &d, &m);
                    double at_init = max_rel_grad_error(m, d);
                    for (size_t i = 0; i < m->n_params; i++) /* off the u₊ = u₋ start */
                        m->params[i] *= 1 + 0.2 * sin((double)i);
                    double moved = max_rel_grad_error(m, d);
                    if (!(at_init < 1e-6 && moved < 1e-6)) {
                        print_error("D=%d k=%d alpha=%g %s: rel err %.3g at init, %.3g after\n",
                                    depths[a], widths[b], alphas[c], inits[e], at_init, moved);
                        fail();
                    }
                    diagonal_ops.destroy(&m);
                    data_destroy(&d);
                }
}

/* Width k at α equals width 1 at α·k^(1/D): at init both β are 0 with equal loss. GD keeps it
 * exact: with v = c·u, c = k^(1/D), the update v − η' g D v^(D−1) = c(u − η' c^(D−2) g D u^(D−1)),
 * which is c times the width-k update when η' = η·k^((2−D)/D). So after 50 steps both β agree to
 * rounding. */
static void test_width_equivalence(void **state)
{
    (void)state;
    for (int D = 2; D <= 4; D++) {
        int k = 3;
        double alpha = 0.5, lr = 0.01;
        struct ls_job jk, j1;
        struct ls_data *dk = NULL, *d1 = NULL;
        struct ls_model *mk = NULL, *m1 = NULL;
        make_job(&jk, D, k, alpha, "constant", 6, 9);
        make_job(&j1, D, 1, alpha * pow(k, 1.0 / D), "constant", 6, 9);
        fx_build(&diagonal_ops, &jk, &dk, &mk);
        fx_build(&diagonal_ops, &j1, &d1, &m1);
        check_close("loss at init", mk->ops->loss(mk, dk, 0), m1->ops->loss(m1, d1, 0), 1e-14);
        const double *bk = diagonal_beta(mk), *b1 = diagonal_beta(m1);
        for (size_t j = 0; j < dk->d; j++)
            check_close("beta at init", bk[j], b1[j], 0);
        fx_gd_steps(mk, dk, lr, 50);
        fx_gd_steps(m1, d1, lr * pow(k, (2.0 - D) / D), 50);
        bk = diagonal_beta(mk);
        b1 = diagonal_beta(m1);
        for (size_t j = 0; j < dk->d; j++)
            check_close("beta after 50 steps", bk[j], b1[j], 1e-12 * (1 + fabs(b1[j])));
        diagonal_ops.destroy(&mk);
        diagonal_ops.destroy(&m1);
        data_destroy(&dk);
        data_destroy(&d1);
    }
}

/* β, loss and metrics recomputed here by direct loops over the parameter arena. */
static void test_beta_and_metrics(void **state)
{
    (void)state;
    struct ls_job job;
    struct ls_data *d = NULL;
    struct ls_model *m = NULL;
    make_job(&job, 3, 2, 0.7, "random", 8, 10);
    fx_build(&diagonal_ops, &job, &d, &m);
    size_t k = 2, n = d->n, dim = d->d;
    double want[10], loss = 0, l1 = 0, l2 = 0, pop = 0;
    for (size_t j = 0; j < dim; j++) {
        want[j] = 0;
        for (size_t c = 0; c < k; c++)
            want[j] += pow(m->params[c * dim + j], 3) - pow(m->params[(k + c) * dim + j], 3);
        l1 += fabs(want[j]);
        l2 += want[j] * want[j];
        pop += (want[j] - d->beta_star[j]) * (want[j] - d->beta_star[j]);
    }
    for (size_t i = 0; i < n; i++) {
        double r = -d->y[i];
        for (size_t j = 0; j < dim; j++)
            r += d->X[i * dim + j] * want[j];
        loss += r * r / (double)n;
    }
    const double *beta = diagonal_beta(m);
    for (size_t j = 0; j < dim; j++)
        check_close("beta", beta[j], want[j], 1e-14);
    check_close("loss (no 1/2)", m->ops->loss(m, d, 0), loss, 1e-13 * loss);
    double v;
    assert_int_equal(m->ops->eval(m, d, "l1_norm", &v), LS_OK);
    check_close("l1_norm", v, l1, 1e-13);
    assert_int_equal(m->ops->eval(m, d, "l2_norm", &v), LS_OK);
    check_close("l2_norm", v, sqrt(l2), 1e-13);
    assert_int_equal(m->ops->eval(m, d, "population_error", &v), LS_OK);
    check_close("population_error", v, pop + 0.01, 1e-13);
    assert_int_equal(m->ops->eval(m, d, "train_loss", &v), LS_ENOTFOUND);
    assert_int_equal(m->ops->eval(m, d, "nonsense", &v), LS_ENOTFOUND);
    diagonal_ops.destroy(&m);
    diagonal_ops.destroy(&m); /* safe twice */
    data_destroy(&d);
}

/* u = α·|z| from draws that depend on neither α nor depth (common random numbers). */
static void test_random_init_common(void **state)
{
    (void)state;
    struct ls_job ja, jb;
    struct ls_data *da = NULL, *db = NULL;
    struct ls_model *ma = NULL, *mb = NULL;
    make_job(&ja, 2, 3, 0.25, "random", 4, 6);
    make_job(&jb, 4, 3, 2.0, "random", 4, 6);
    fx_build(&diagonal_ops, &ja, &da, &ma);
    fx_build(&diagonal_ops, &jb, &db, &mb);
    assert_int_equal(ma->n_params, 36);
    for (size_t i = 0; i < ma->n_params; i++) {
        assert_true(ma->params[i] > 0);
        check_close("u/alpha", ma->params[i] / 0.25, mb->params[i] / 2.0, 1e-15 * mb->params[i]);
    }
    assert_true(ma->params[0] != ma->params[18]); /* u₊ and u₋ use different draws */
    diagonal_ops.destroy(&ma);
    diagonal_ops.destroy(&mb);
    data_destroy(&da);
    data_destroy(&db);
}

static void expect_rejected(struct ls_job *job, const char *key)
{
    const char *got = NULL;
    char msg[256] = "";
    assert_int_equal(diagonal_ops.check(job, &got, msg, sizeof msg), LS_EJOB);
    assert_non_null(got);
    assert_string_equal(got, key);
    assert_true(msg[0] != '\0');
}

static void test_check_and_registry(void **state)
{
    (void)state;
    struct ls_job job;
    const char *key = NULL;
    char msg[256];
    make_job(&job, 2, 1, 1.0, "constant", 10, 20);
    assert_int_equal(diagonal_ops.check(&job, &key, msg, sizeof msg), LS_OK);
    job.model.depth = 1;
    expect_rejected(&job, "model.depth");
    job.model.depth = 2;
    job.model.sparsity = 0.5;
    expect_rejected(&job, "model.sparsity");
    job.model.sparsity = 0;
    snprintf(job.data.kind, LS_NAME_MAX, "fashion_mnist");
    expect_rejected(&job, "data.kind");

    assert_ptr_equal(model_find("diagonal"), &diagonal_ops);
    assert_null(model_find("resnet"));
    assert_string_equal(model_families()[0], "diagonal");
    assert_true(model_has_metric(&diagonal_ops, "steps"));
    assert_true(model_has_metric(&diagonal_ops, "population_error"));
    assert_false(model_has_metric(&diagonal_ops, "kernel_drift"));
    make_job(&job, 3, 4, 1.0, "constant", 100, 1000);
    check_close("flops", diagonal_ops.flops_per_step(&job), 4e5 + 2 * 4 * 1000 * 6, 0);
    assert_true(diagonal_ops.memory(&job) >= (4 * 4 * 1000 + 2 * 1000 + 100) * sizeof(double));
}

static void test_model_alloc(void **state)
{
    (void)state;
    for (size_t n = 0; n < 20; n++) {
        double *p = model_alloc(n);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % 64, 0);
        for (size_t i = 0; i < n; i++)
            assert_true(p[i] == 0.0);
        free(p);
    }
}

int main(void)
{
    openblas_set_num_threads(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gradient_fd),        cmocka_unit_test(test_width_equivalence),
        cmocka_unit_test(test_beta_and_metrics),   cmocka_unit_test(test_random_init_common),
        cmocka_unit_test(test_check_and_registry), cmocka_unit_test(test_model_alloc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
