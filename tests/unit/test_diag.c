/* test_diag.c — the diagnostics (jac, probe, confusion) against independent references: the
 * Gram-trick tangent kernel against JJᵀ from per-sample gradients made by the model's own
 * backward pass (1e-12) and from central finite differences of its outputs; the linearization
 * gap against its closed form for a deep linear net, 0 where f is linear in what moved, and its
 * 1/α fall under scale_mode output; activation change 0 at θ₀ and for a linear activation; and
 * the linear-model sanity value E[cos²] = 1/d for per-sample and mini-batch gradients. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lazysweep/cfg.h"
#include "lazysweep/confusion.h"
#include "lazysweep/data.h"
#include "lazysweep/error.h"
#include "lazysweep/jac.h"
#include "lazysweep/mlp.h"
#include "lazysweep/model.h"
#include "lazysweep/probe.h"
#include "lazysweep/rng.h"

struct opts {
    const char *act, *param, *mode, *init, *variance;
    int bias, antisym, depth, width, classes;
    double alpha;
};

static const struct opts base = {"tanh", "standard", "weights", "gaussian", "he", 1,
                                 0,      2,          6,         0,          1.0};

static void make_job(struct ls_job *job, const struct opts *o, int64_t P)
{
    memset(job, 0, sizeof *job);
    job->seed = 9;
    snprintf(job->model.family, LS_NAME_MAX, "mlp");
    job->model.depth = o->depth;
    job->model.width = o->width;
    job->model.init_scale = o->alpha;
    snprintf(job->model.init, LS_NAME_MAX, "%s", o->init);
    snprintf(job->model.activation, LS_NAME_MAX, "%s", o->act);
    job->model.leaky_slope = 0.1;
    job->model.bias = o->bias;
    snprintf(job->model.variance, LS_NAME_MAX, "%s", o->variance);
    job->model.weight_scale.v[0] = 1.0;
    job->model.bias_scale.v[0] = 0.3;
    snprintf(job->model.parametrization, LS_NAME_MAX, "%s", o->param);
    snprintf(job->model.scale_mode, LS_NAME_MAX, "%s", o->mode);
    job->model.antisymmetric = o->antisym;
    snprintf(job->train.loss, LS_NAME_MAX, "%s", o->classes ? "cross_entropy" : "mse");
    snprintf(job->data.kind, LS_NAME_MAX, "sparse_regression");
    job->diag.probe_size = P;
    job->diag.confusion_pairs = 4;
    job->diag.confusion_batch = 4;
}

/* Inputs of order 1 and targets of the task (y = class index, or a smooth function). */
static struct ls_data *make_data(size_t n, size_t d, size_t classes)
{
    struct ls_data *D = calloc(1, sizeof *D);
    assert_non_null(D);
    *D = (struct ls_data){.n = n,
                          .d = d,
                          .task = classes ? LS_TASK_CLASSES : LS_TASK_REGRESSION,
                          .n_classes = classes};
    D->X = malloc(n * d * sizeof *D->X);
    D->y = malloc(n * sizeof *D->y);
    assert_non_null(D->X);
    assert_non_null(D->y);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < d; j++)
            D->X[i * d + j] = sin(0.9 * (double)i + 1.7 * (double)j + 0.2);
        D->y[i] = classes ? (double)(i % classes) : cos(1.3 * (double)i);
    }
    return D;
}

static void free_data(struct ls_data *D)
{
    free(D->X);
    free(D->y);
    free(D);
}

struct fix {
    struct ls_job job;
    struct ls_data *D;
    struct ls_model *m;
    struct probe *p;
    double *theta0;
};

static void fix_up(struct fix *f, const struct opts *o, size_t n, size_t d, int64_t P,
                   unsigned want)
{
    make_job(&f->job, o, P);
    f->D = make_data(n, d, (size_t)o->classes);
    assert_int_equal(mlp_ops.create(&f->job, f->D, &f->m), LS_OK);
    f->theta0 = malloc(f->m->n_params * sizeof *f->theta0);
    assert_non_null(f->theta0);
    memcpy(f->theta0, f->m->params, f->m->n_params * sizeof *f->theta0);
    assert_int_equal(probe_create(&f->job, f->D, f->m, f->theta0, want, &f->p), LS_OK);
}

static void fix_down(struct fix *f)
{
    probe_destroy(&f->p);
    f->m->ops->destroy(&f->m);
    free_data(f->D);
    free(f->theta0);
}

/* A few plain GD steps by the model's own gradient (so θ moves off θ₀). */
static void gd(struct ls_model *m, const struct ls_data *D, double lr, int steps)
{
    for (int s = 0; s < steps; s++) {
        m->ops->loss(m, D, 1);
        for (size_t i = 0; i < m->n_params; i++)
            m->params[i] -= lr * m->grad[i];
    }
}

static double max_rel(const double *a, const double *b, size_t n, size_t *at)
{
    double scale = 0, worst = 0;
    for (size_t i = 0; i < n; i++)
        scale = fmax(scale, fabs(b[i]));
    for (size_t i = 0; i < n; i++)
        if (fabs(a[i] - b[i]) / scale > worst) {
            worst = fabs(a[i] - b[i]) / scale;
            *at = i;
        }
    return worst;
}

/* ---- the tangent kernel ---------------------------------------------------------------- */

/* ∇f(x_i) of a one-output model by its own backward pass: the mse loss of the single row
 * (x_i, f(x_i) − ½) has gradient 2·½·∇f = ∇f exactly. */
static void model_jacobian(struct ls_model *m, const double *X, size_t n, size_t d, double *J)
{
    double x[64], y, f;
    struct ls_data one = {.n = 1, .d = d, .X = x, .y = &y, .task = LS_TASK_REGRESSION};
    for (size_t i = 0; i < n; i++) {
        memcpy(x, X + i * d, d * sizeof *x);
        mlp_predict(m, x, 1, &f);
        y = f - 0.5;
        m->ops->loss(m, &one, 1);
        memcpy(J + i * m->n_params, m->grad, m->n_params * sizeof *J);
    }
}

static void check_kernel_explicit(const struct opts *o)
{
    struct fix f;
    const size_t n = 24, d = 5, P = 12;
    fix_up(&f, o, n, d, (int64_t)P, PROBE_KERNEL);
    gd(f.m, f.D, 0.05, 5);
    size_t np = f.m->n_params;
    double *J = malloc(P * np * sizeof *J), *K = malloc(P * P * sizeof *K),
           *R = calloc(P * P, sizeof *R), *X = malloc(P * d * sizeof *X);
    assert_true(J && K && R && X);
    for (size_t i = 0; i < P; i++)
        memcpy(X + i * d, f.D->X + probe_index(f.p)[i] * d, d * sizeof *X);
    model_jacobian(f.m, X, P, d, J);
    for (size_t i = 0; i < P; i++)
        for (size_t k = 0; k < P; k++)
            for (size_t q = 0; q < np; q++)
                R[i * P + k] += J[i * np + q] * J[k * np + q];
    probe_kernel_of(f.p, f.m->params, X, P, K);
    size_t at = 0;
    double err = max_rel(K, R, P * P, &at);
    if (err > 1e-12)
        print_error("%s %s %s bias %d anti %d: K %.17g vs JJᵀ %.17g (rel %.3g)\n", o->act, o->param,
                    o->mode, o->bias, o->antisym, K[at], R[at], err);
    assert_true(err <= 1e-12);
    free(J);
    free(K);
    free(R);
    free(X);
    fix_down(&f);
}

static void test_kernel_vs_explicit_gradients(void **state)
{
    (void)state;
    struct opts o = base;
    check_kernel_explicit(&o);
    o.act = "relu", o.bias = 0, o.param = "ntk";
    check_kernel_explicit(&o);
    o = base, o.act = "leaky_relu", o.antisym = 1, o.alpha = 0.7;
    check_kernel_explicit(&o);
    o = base, o.mode = "output", o.alpha = 3.0, o.depth = 3;
    check_kernel_explicit(&o);
    o = base, o.act = "linear", o.variance = "explicit";
    check_kernel_explicit(&o);
}

/* Several outputs: K = Σ_c J_c J_cᵀ with J_c by central differences of f_c (tanh: smooth). */
static void test_kernel_vs_finite_differences(void **state)
{
    (void)state;
    struct fix f;
    struct opts o = base;
    o.classes = 3;
    const size_t n = 20, d = 4, P = 8, C = 3;
    fix_up(&f, &o, n, d, (int64_t)P, PROBE_KERNEL);
    gd(f.m, f.D, 0.1, 3);
    size_t np = f.m->n_params;
    double *J = malloc(P * C * np * sizeof *J), *K = malloc(P * P * sizeof *K),
           *R = calloc(P * P, sizeof *R), *X = malloc(P * d * sizeof *X);
    double fp[8 * 3], fm[8 * 3], h = 1e-5;
    assert_true(J && K && R && X);
    for (size_t i = 0; i < P; i++)
        memcpy(X + i * d, f.D->X + probe_index(f.p)[i] * d, d * sizeof *X);
    for (size_t q = 0; q < np; q++) {
        double keep = f.m->params[q];
        f.m->params[q] = keep + h;
        mlp_predict(f.m, X, P, fp);
        f.m->params[q] = keep - h;
        mlp_predict(f.m, X, P, fm);
        f.m->params[q] = keep;
        for (size_t r = 0; r < P * C; r++)
            J[r * np + q] = (fp[r] - fm[r]) / (2 * h);
    }
    for (size_t i = 0; i < P; i++)
        for (size_t k = 0; k < P; k++)
            for (size_t c = 0; c < C; c++)
                for (size_t q = 0; q < np; q++)
                    R[i * P + k] += J[(i * C + c) * np + q] * J[(k * C + c) * np + q];
    probe_kernel_of(f.p, f.m->params, X, P, K);
    size_t at = 0;
    double err = max_rel(K, R, P * P, &at);
    if (err > 1e-7)
        print_error("K %.12g vs finite differences %.12g (rel %.3g)\n", K[at], R[at], err);
    assert_true(err <= 1e-7);
    free(J);
    free(K);
    free(R);
    free(X);
    fix_down(&f);
}

/* ---- linearization gap ------------------------------------------------------------------ */

/* Moving only the last layer leaves f linear in what moved (f = W_L·a(x) + b_L): the gap is 0
 * to rounding, for any activation; at θ₀ it is undefined (0/0 → NaN). */
static void test_lin_gap_zero_when_linear_in_moved(void **state)
{
    (void)state;
    const char *acts[] = {"relu", "tanh", "linear"};
    for (int a = 0; a < 3; a++) {
        struct fix f;
        struct opts o = base;
        o.act = acts[a];
        fix_up(&f, &o, 30, 4, 16, PROBE_LIN | PROBE_ACT | PROBE_KERNEL);
        struct probe_values v;
        probe_compute(f.p, f.m->params, &v);
        assert_true(isnan(v.linearization_gap));
        assert_true(v.activation_change == 0.0 && v.weight_change == 0.0 && v.ntk_change == 0.0);
        struct jac *j = NULL;
        assert_int_equal(jac_create(f.m, 1, &j), LS_OK);
        size_t off = jac_offset(j, 0, (size_t)o.depth), k = jac_layer_params(j, (size_t)o.depth);
        for (size_t i = 0; i < k; i++)
            f.m->params[off + i] += 0.3 * sin((double)i + 1.0);
        probe_compute(f.p, f.m->params, &v);
        if (!(v.linearization_gap < 1e-13))
            print_error("%s: gap %.3g\n", acts[a], v.linearization_gap);
        assert_true(v.linearization_gap < 1e-13);
        assert_true(v.activation_change == 0.0); /* the hidden layers did not move */
        jac_destroy(&j);
        fix_down(&f);
    }
}

/* A deep linear net without biases, f = W₂W₁x: f(θ₀ + v) − f_lin = V₂V₁x exactly, so the gap is
 * ‖V₂V₁X‖/‖f(θ) − f(θ₀)‖, computed here by hand. */
static void test_lin_gap_deep_linear_closed_form(void **state)
{
    (void)state;
    struct fix f;
    struct opts o = base;
    o.act = "linear", o.bias = 0, o.depth = 1, o.width = 5;
    const size_t d = 3, w = 5, P = 10;
    fix_up(&f, &o, 20, d, (int64_t)P, PROBE_LIN | PROBE_ACT);
    gd(f.m, f.D, 0.05, 20);
    const double *th = f.m->params, *t0 = f.theta0;
    double num = 0, den = 0, f0[10], f1[10];
    const double *X = NULL;
    for (size_t i = 0; i < P; i++) {
        X = f.D->X + probe_index(f.p)[i] * d;
        double r = 0;
        f0[i] = f1[i] = 0;
        for (size_t u = 0; u < w; u++) {
            double h1 = 0, h0 = 0, hv = 0;
            for (size_t k = 0; k < d; k++) {
                h1 += th[u * d + k] * X[k];
                h0 += t0[u * d + k] * X[k];
                hv += (th[u * d + k] - t0[u * d + k]) * X[k];
            }
            f1[i] += th[w * d + u] * h1;
            f0[i] += t0[w * d + u] * h0;
            r += (th[w * d + u] - t0[w * d + u]) * hv;
        }
        num += r * r;
        den += (f1[i] - f0[i]) * (f1[i] - f0[i]);
    }
    struct probe_values v;
    probe_compute(f.p, f.m->params, &v);
    double want = sqrt(num / den);
    if (fabs(v.linearization_gap - want) > 1e-10 * want)
        print_error("gap %.17g vs closed form %.17g\n", v.linearization_gap, want);
    assert_true(fabs(v.linearization_gap - want) <= 1e-10 * want);
    assert_true(want > 1e-4); /* the case is not trivially linear */
    assert_true(v.activation_change == 0.0);
    fix_down(&f);
}

/* Under scale_mode output with lr ∝ α⁻², f moves the same in function space while θ moves
 * ∝ 1/α, and the gap (second order in θ − θ₀ over first order) falls like 1/α: the log-log slope
 * over α = 10 … 1000 must be −1 ± 0.05. */
static void test_lin_gap_falls_like_inverse_alpha(void **state)
{
    (void)state;
    double alphas[3] = {10, 100, 1000}, gaps[3];
    for (int k = 0; k < 3; k++) {
        struct fix f;
        struct opts o = base;
        o.mode = "output", o.alpha = alphas[k], o.act = "tanh";
        fix_up(&f, &o, 30, 4, 16, PROBE_LIN);
        gd(f.m, f.D, 0.05 / (alphas[k] * alphas[k]), 40);
        struct probe_values v;
        probe_compute(f.p, f.m->params, &v);
        gaps[k] = v.linearization_gap;
        fix_down(&f);
    }
    for (int k = 0; k < 2; k++) {
        double slope = log(gaps[k + 1] / gaps[k]) / log(alphas[k + 1] / alphas[k]);
        if (fabs(slope + 1) > 0.05)
            print_error("gap %.4g at α %g, %.4g at α %g: slope %.4f\n", gaps[k], alphas[k],
                        gaps[k + 1], alphas[k + 1], slope);
        assert_true(fabs(slope + 1) <= 0.05);
    }
}

/* ---- the linear-model sanity value ------------------------------------------------------ */

/* f = W₂·W₁x with a linear activation, W₁ = c·Q (Q with orthonormal columns: orthogonal init,
 * width >= d) and W₂ = 0: every gradient lives in W₂ and equals r_i·W₁x_i, so the cosine of two
 * samples' gradients is ±cos(x_i, x_j), and for Gaussian x (directions uniform on the sphere)
 * E[cos²] = 1/d. Mini-batch gradients, sums of such vectors, are isotropic too: E[cos²] = 1/d. */
static void linear_sanity(size_t d, size_t n, struct fix *f, struct ls_job *job)
{
    struct opts o = base;
    memset(f, 0, sizeof *f);
    o.act = "linear", o.bias = 0, o.depth = 1, o.width = (int)d, o.init = "orthogonal";
    o.variance = "explicit";
    make_job(job, &o, 128);
    job->model.weight_scale.n = 2;
    job->model.weight_scale.v[0] = 1.0;
    job->model.weight_scale.v[1] = 0.0;
    f->D = make_data(n, d, 0);
    struct ls_rng r;
    rng_init(&r, rng_key(1, 0, "test.sphere", NULL, 0));
    rng_normals(&r, f->D->X, n * d);
    for (size_t i = 0; i < n; i++)
        f->D->y[i] = 1.0;
    assert_int_equal(mlp_ops.create(job, f->D, &f->m), LS_OK);
    f->theta0 = malloc(f->m->n_params * sizeof *f->theta0);
    memcpy(f->theta0, f->m->params, f->m->n_params * sizeof *f->theta0);
}

static void test_sample_cos_squared_is_one_over_d(void **state)
{
    (void)state;
    const size_t d = 16, P = 128;
    struct fix f;
    linear_sanity(d, 400, &f, &f.job);
    assert_int_equal(probe_create(&f.job, f.D, f.m, f.theta0, PROBE_SAMPLE, &f.p), LS_OK);
    struct probe_values v;
    probe_compute(f.p, f.m->params, &v);
    const double *G = probe_sample_gram(f.p);
    double s = 0;
    size_t pairs = 0;
    for (size_t i = 0; i < P; i++)
        for (size_t k = i + 1; k < P; k++, pairs++)
            s += G[i * P + k] * G[i * P + k] / (G[i * P + i] * G[k * P + k]);
    /* sd of cos² is √(3/(d(d+2)) − 1/d²) = 0.081 at d = 16; over 8128 pairs the standard error
     * is about 0.001: 0.006 is 6 of them. */
    if (fabs(s / (double)pairs - 1.0 / (double)d) > 0.006)
        print_error("E[cos²] %.5f vs 1/d %.5f\n", s / (double)pairs, 1.0 / (double)d);
    assert_true(fabs(s / (double)pairs - 1.0 / (double)d) <= 0.006);
    assert_true(v.sample_cos_min < 0 && v.sample_cos_min >= -1);
    fix_down(&f);
}

static void test_batch_cos_squared_is_one_over_d(void **state)
{
    (void)state;
    const size_t d = 16;
    struct fix f;
    struct confusion *c = NULL;
    linear_sanity(d, 400, &f, &f.job);
    f.job.diag.confusion_pairs = 3000;
    f.job.diag.confusion_batch = 20;
    assert_int_equal(confusion_create(&f.job, f.D, f.m, f.theta0, &c), LS_OK);
    struct confusion_values v;
    confusion_compute(c, f.m->params, f.D, &v);
    const double *cs = confusion_cosines(c);
    double s = 0;
    for (size_t q = 0; q < 3000; q++)
        s += cs[q] * cs[q];
    /* 3000 independent pairs: standard error 0.081/√3000 = 0.0015; 0.008 is 5 of them. */
    if (fabs(s / 3000 - 1.0 / (double)d) > 0.008)
        print_error("E[cos²] %.5f vs 1/d %.5f\n", s / 3000, 1.0 / (double)d);
    assert_true(fabs(s / 3000 - 1.0 / (double)d) <= 0.008);
    assert_true(v.min < v.p05 && v.p05 < v.mean && v.negative > 0.3 && v.negative < 0.7);
    /* the pairs' rows: 2B distinct rows each */
    const size_t *rows = confusion_rows(c);
    for (size_t q = 0; q < 10; q++)
        for (size_t a = 0; a < 40; a++)
            for (size_t b = a + 1; b < 40; b++)
                assert_true(rows[q * 40 + a] != rows[q * 40 + b]);
    confusion_destroy(&c);
    fix_down(&f);
}

/* numpy's percentile (linear interpolation) on a small case computed by hand. */
static void test_stats(void **state)
{
    (void)state;
    double x[5] = {0.3, -0.2, 0.9, 0.1, -0.5};
    struct confusion_values v;
    confusion_stats(x, 5, &v);
    /* sorted −0.5 −0.2 0.1 0.3 0.9; h = 0.05·4 = 0.2: −0.5 + 0.2·0.3 = −0.44 */
    assert_true(fabs(v.p05 + 0.44) < 1e-15);
    assert_true(v.min == -0.5 && fabs(v.mean - 0.12) < 1e-15 && v.negative == 0.4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kernel_vs_explicit_gradients),
        cmocka_unit_test(test_kernel_vs_finite_differences),
        cmocka_unit_test(test_lin_gap_zero_when_linear_in_moved),
        cmocka_unit_test(test_lin_gap_deep_linear_closed_form),
        cmocka_unit_test(test_lin_gap_falls_like_inverse_alpha),
        cmocka_unit_test(test_sample_cos_squared_is_one_over_d),
        cmocka_unit_test(test_batch_cos_squared_is_one_over_d),
        cmocka_unit_test(test_stats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
