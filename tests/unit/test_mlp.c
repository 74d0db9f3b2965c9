/* test_mlp.c — the mlp family against independent references: every gradient against central
 * finite differences of the loss (every activation × loss × parametrization × bias ×
 * antisymmetric × scale_mode, in double precision), the chunked passes against the single pass,
 * the identities the parametrizations promise (f ≡ 0 at init when antisymmetric or centered, the
 * centered model against its definition, ntk = standard at init, α scaling), the variance rules'
 * empirical variances, orthogonality, and the metrics against counts made here. */
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
#include "lazysweep/data.h"
#include "lazysweep/error.h"
#include "lazysweep/loss.h"
#include "lazysweep/mlp.h"
#include "lazysweep/model.h"

/* ---- fixtures ---------------------------------------------------------------------------- */

struct opts {
    const char *act, *loss, *param, *scale_mode, *init, *variance;
    int bias, antisym, depth, width;
    double alpha;
};

static const struct opts base_opts = {"tanh", "mse", "standard", "weights", "gaussian", "he",
                                      1,      0,     2,          4,         0.7};

static void make_job(struct ls_job *job, const struct opts *o)
{
    memset(job, 0, sizeof *job);
    job->seed = 5;
    snprintf(job->model.family, LS_NAME_MAX, "mlp");
    job->model.depth = o->depth;
    job->model.width = o->width;
    job->model.init_scale = o->alpha;
    snprintf(job->model.init, LS_NAME_MAX, "%s", o->init);
    snprintf(job->model.activation, LS_NAME_MAX, "%s", o->act);
    job->model.leaky_slope = 0.1;
    job->model.bias = o->bias;
    snprintf(job->model.variance, LS_NAME_MAX, "%s", o->variance);
    job->model.weight_scale.v[0] = 0.8;
    job->model.bias_scale.v[0] = 0.3;
    snprintf(job->model.parametrization, LS_NAME_MAX, "%s", o->param);
    snprintf(job->model.scale_mode, LS_NAME_MAX, "%s", o->scale_mode);
    job->model.antisymmetric = o->antisym;
    snprintf(job->train.loss, LS_NAME_MAX, "%s", o->loss);
    snprintf(job->data.kind, LS_NAME_MAX, "sparse_regression");
}

static enum ls_task task_of(const char *loss, size_t *C)
{
    *C = 1;
    if (strcmp(loss, "mse") == 0)
        return LS_TASK_REGRESSION;
    if (strcmp(loss, "cross_entropy") == 0) {
        *C = 3;
        return LS_TASK_CLASSES;
    }
    return LS_TASK_BINARY;
}

/* Deterministic inputs of order 1; targets of the task (labels cycling so every class occurs). */
static void fill(double *X, double *y, size_t n, size_t d, enum ls_task task, size_t C,
                 double off)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < d; j++)
            X[i * d + j] = sin(0.7 * (double)i + 1.9 * (double)j + off);
        y[i] = task == LS_TASK_REGRESSION ? cos(1.1 * (double)i + off)
               : task == LS_TASK_BINARY   ? (double)(i % 3 != 1)
                                          : (double)(i % C);
    }
}

static struct ls_data *make_data(size_t n, size_t d, enum ls_task task, size_t C, size_t n_test)
{
    struct ls_data *D = calloc(1, sizeof *D);
    assert_non_null(D);
    *D = (struct ls_data){.n = n, .d = d, .task = task, .n_test = n_test,
                          .n_classes = task == LS_TASK_CLASSES ? C : 0};
    D->X = malloc(n * d * sizeof *D->X);
    D->y = malloc(n * sizeof *D->y);
    assert_non_null(D->X);
    assert_non_null(D->y);
    fill(D->X, D->y, n, d, task, C, 0.3);
    if (n_test) {
        D->X_test = malloc(n_test * d * sizeof *D->X_test);
        D->y_test = malloc(n_test * sizeof *D->y_test);
        assert_non_null(D->X_test);
        assert_non_null(D->y_test);
        fill(D->X_test, D->y_test, n_test, d, task, C, 2.1);
    }
    return D;
}

static void free_data(struct ls_data *D)
{
    free(D->X);
    free(D->y);
    free(D->X_test);
    free(D->y_test);
    free(D);
}

static struct ls_model *build(const struct opts *o, const struct ls_data *D)
{
    struct ls_job job;
    struct ls_model *m = NULL;
    make_job(&job, o);
    int rc = mlp_ops.create(&job, D, &m);
    if (rc != LS_OK) {
        print_error("create failed (%s) for %s %s %s\n", ls_strerror(rc), o->act, o->loss,
                    o->param);
        fail();
    }
    return m;
}

/* ---- finite differences ------------------------------------------------------------------ */

/* Where the loss has kinks: the sign of every hidden pre-activation (relu and leaky_relu; read
 * off a = φ(z) > 0) and, for the soft-set losses, the segment of every H_τ(p_i). A central
 * difference whose two points see another pattern than the centre straddles a kink, where no
 * derivative exists to compare with: such components are skipped (and counted). */
static size_t kink_pattern(struct ls_model *m, const struct ls_data *D, int relu_like,
                           int softset, unsigned char *sig)
{
    double f[256];
    size_t k = 0;
    assert_true(D->n * mlp_n_outputs(m) <= 256);
    mlp_predict(m, D->X, D->n, f);
    for (size_t t = 0; relu_like && t < mlp_n_towers(m); t++)
        for (size_t l = 0; l + 1 < mlp_n_layers(m); l++) {
            struct mlp_layer v;
            assert_int_equal(mlp_layer(m, t, l, &v), LS_OK);
            for (size_t i = 0; i < D->n * v.out; i++)
                sig[k++] = v.act[i] > 0;
        }
    for (size_t i = 0; softset && i < D->n; i++)
        for (int j = 1; j <= 9; j++) {
            double p = 1 / (1 + exp(-f[i])), tau = j / 10.0, tm = fmin(tau, 1 - tau);
            sig[k++] = (unsigned char)((p >= tau - tm / 2) + (p >= tau) + (p >= tau + tm / 2));
        }
    return k;
}

struct fd_result {
    double worst;        /* largest error over the compared components, in units of its bound */
    size_t skipped, np;  /* components straddling a kink, of np */
};

/* Central differences with h = 1e-5. Their error has two parts, and each component must be
 * within the sum of both bounds:
 *  - truncation, h²/6·|∂³L| ≈ 1e-11·|∂³L|: bounded by 1e-6 relative to max(|g_i|, 1e-3·‖g‖∞)
 *    (as test_diagonal.c; components that are almost zero are compared at a scale where the
 *    difference quotient is still meaningful);
 *  - rounding: each loss value carries a relative error of a few dozen ε (sums over rows,
 *    units and τ), so the quotient is off by up to K·ε·|L|/h, with K = 64.
 * The worst ratio measured over all configurations is about 0.02 (see the test's message), and
 * a wrong gradient — one factor or term off — gives ratios in the thousands. */
static struct fd_result fd_check(struct ls_model *m, const struct ls_data *D, int relu_like,
                                 int softset)
{
    const double h = 1e-5, K = 64;
    size_t np = m->n_params;
    struct fd_result r = {0, 0, np};
    double *g = malloc(np * sizeof *g), gmax = 0;
    unsigned char s0[4096], s1[4096];
    assert_non_null(g);
    double L0 = m->ops->loss(m, D, 1);
    memcpy(g, m->grad, np * sizeof *g);
    kink_pattern(m, D, relu_like, softset, s0);
    for (size_t i = 0; i < np; i++)
        gmax = fmax(gmax, fabs(g[i]));
    for (size_t i = 0; i < np; i++) {
        double p = m->params[i];
        m->params[i] = p + h;
        double lp = m->ops->loss(m, D, 0);
        int kink = memcmp(s0, s1, kink_pattern(m, D, relu_like, softset, s1)) != 0;
        m->params[i] = p - h;
        double lm = m->ops->loss(m, D, 0);
        kink |= memcmp(s0, s1, kink_pattern(m, D, relu_like, softset, s1)) != 0;
        m->params[i] = p;
        if (kink) {
            r.skipped++;
            continue;
        }
        double fd = (lp - lm) / (2 * h);
        double bound = 1e-6 * fmax(fabs(g[i]), 1e-3 * gmax) + K * 2.2e-16 * fabs(L0) / h;
        r.worst = fmax(r.worst, fabs(fd - g[i]) / bound);
    }
    free(g);
    return r;
}

static const char *const acts[] = {"relu", "leaky_relu", "tanh", "linear"};
static const char *const losses[] = {"mse", "bce", "cross_entropy", "soft_f1", "soft_accuracy"};
static const char *const params[] = {"standard", "ntk"};
static const char *const modes[] = {"weights", "output"};

/* One configuration: at init (not for the soft-set losses when f ≡ 0 there, which puts every
 * p = ½ on the kink of H_½) and after moving every parameter off its initial value. */
static void fd_one(const struct opts *o, double *worst, size_t *skipped, size_t *total)
{
    size_t C;
    enum ls_task task = task_of(o->loss, &C);
    struct ls_data *D = make_data(8, 3, task, C, 0);
    struct ls_model *m = build(o, D);
    int relu_like = strncmp(o->act, "relu", 4) == 0 || strncmp(o->act, "leaky", 5) == 0;
    int softset = strncmp(o->loss, "soft", 4) == 0;
    int zero_at_init = o->antisym || strcmp(o->scale_mode, "output") == 0;
    for (int moved = softset && zero_at_init; moved < 2; moved++) {
        if (moved)
            for (size_t i = 0; i < m->n_params; i++)
                m->params[i] = m->params[i] * (1 + 0.3 * sin((double)i)) + 0.05 * cos(3.0 * i);
        struct fd_result r = fd_check(m, D, relu_like, softset);
        if (r.worst > *worst)
            *worst = r.worst;
        if (!(r.worst < 1) || r.skipped * 5 > r.np) {
            print_error("%s %s %s bias=%d anti=%d %s moved=%d: error/bound %.3g, %zu of %zu "
                        "skipped\n", o->act, o->loss, o->param, o->bias, o->antisym,
                        o->scale_mode, moved, r.worst, r.skipped, r.np);
            fail();
        }
        *skipped += r.skipped;
        *total += r.np;
    }
    mlp_ops.destroy(&m);
    free_data(D);
}

static void test_gradient_fd(void **state)
{
    (void)state;
    double worst = 0;
    size_t skipped = 0, total = 0, configs = 0;
    for (int a = 0; a < 4; a++)
        for (int l = 0; l < 5; l++)
            for (int p = 0; p < 2; p++)
                for (int b = 0; b < 2; b++)
                    for (int s = 0; s < 2; s++)
                        for (int md = 0; md < 2; md++) {
                            struct opts o = base_opts;
                            o.act = acts[a];
                            o.loss = losses[l];
                            o.param = params[p];
                            o.bias = b;
                            o.antisym = s;
                            o.scale_mode = modes[md];
                            fd_one(&o, &worst, &skipped, &total);
                            configs++;
                        }
    print_message("  %zu configurations: worst error/bound %.3g, %zu of %zu components "
                  "skipped at kinks\n", configs, worst, skipped, total);
}

/* mse on a classes task (one-hot targets, C outputs), deeper, each init distribution, and wide
 * enough (20 units) that the forward pass multiplies transposed copies: of the inputs with 8
 * rows, of W with 24 (the 320 configurations above, 4 units wide, multiply by W itself). */
static void test_gradient_fd_more(void **state)
{
    (void)state;
    const char *inits[] = {"gaussian", "uniform", "orthogonal"};
    const char *vars[] = {"lecun", "pytorch", "explicit"};
    for (int i = 0; i < 3; i++) {
        struct opts o = base_opts;
        o.init = inits[i];
        o.variance = vars[i];
        o.depth = 3;
        o.width = 20;
        o.act = "leaky_relu";
        double worst = 0;
        size_t skipped = 0, total = 0;
        fd_one(&o, &worst, &skipped, &total);
        for (size_t n = 8; n <= 24; n += 16) {
            struct ls_data *D = make_data(n, 3, LS_TASK_CLASSES, 3, 0);
            struct ls_model *m = build(&o, D);
            struct fd_result r = fd_check(m, D, 1, 0);
            if (!(r.worst < 1) || r.skipped * 5 > r.np) {
                print_error("mse/classes %s n=%zu: error/bound %.3g, %zu skipped\n", inits[i], n,
                            r.worst, r.skipped);
                fail();
            }
            mlp_ops.destroy(&m);
            free_data(D);
        }
    }
}

/* ---- chunks ------------------------------------------------------------------------------ */

/* A batch run in chunks of 3 rows (decomposable losses accumulate; soft-set losses take the
 * two-pass path) gives the single pass's loss and gradient up to summation order. */
static void test_chunked_equals_whole(void **state)
{
    (void)state;
    for (int l = 0; l < 5; l++) {
        struct opts o = base_opts;
        o.loss = losses[l];
        o.act = "relu";
        o.antisym = l % 2;
        size_t C;
        enum ls_task task = task_of(o.loss, &C);
        struct ls_data *D = make_data(11, 3, task, C, 0);
        struct ls_model *m = build(&o, D);
        assert_int_equal(mlp_chunk_rows(m), 11);
        double L1 = m->ops->loss(m, D, 1), *g = malloc(m->n_params * sizeof *g), gmax = 0;
        assert_non_null(g);
        memcpy(g, m->grad, m->n_params * sizeof *g);
        assert_int_equal(mlp_set_chunk_rows(m, 3), LS_OK);
        assert_int_equal(mlp_set_chunk_rows(m, 4), LS_EINVAL);
        double L2 = m->ops->loss(m, D, 1), worst = 0;
        for (size_t i = 0; i < m->n_params; i++)
            gmax = fmax(gmax, fabs(g[i]));
        for (size_t i = 0; i < m->n_params; i++)
            worst = fmax(worst, fabs(m->grad[i] - g[i]));
        if (!(fabs(L1 - L2) <= 1e-14 * fabs(L1) && worst <= 1e-13 * gmax)) {
            print_error("%s: loss %.17g vs %.17g, grad diff %.3g of %.3g\n", o.loss, L1, L2,
                        worst, gmax);
            fail();
        }
        free(g);
        mlp_ops.destroy(&m);
        free_data(D);
    }
}

/* ---- descend: the update folded into the backward pass ---------------------------------- */

/* One descend step from the current parameters against θ − lr·∇L from loss(): the same up to
 * rounding (the products scale by −lr before, not after, rounding the gradient), so within a few
 * ulps of the largest parameter; the step itself must be far larger than that, so a descend
 * that moved nothing, or the wrong way, fails. `how`: 0 after loss() on d, 1 after a pass on
 * other rows (the forward must be run again), 2 with chunks of 3 rows (the stored-gradient
 * path). */
static void descend_one(const struct opts *o, int how)
{
    size_t C;
    enum ls_task task = task_of(o->loss, &C);
    struct ls_data *D = make_data(11, 3, task, C, 4);
    struct ls_model *m = build(o, D);
    size_t np = m->n_params;
    double *want = malloc(np * sizeof *want), lr, pmax = 0, gmax = 0, step = 0, worst = 0;
    assert_non_null(want);
    for (size_t i = 0; i < np; i++) /* off the init, where f ≡ 0 makes soft-set losses flat */
        m->params[i] = m->params[i] * (1 + 0.3 * sin((double)i)) + 0.05 * cos(3.0 * (double)i);
    m->ops->loss(m, D, 1);
    for (size_t i = 0; i < np; i++) {
        pmax = fmax(pmax, fabs(m->params[i]));
        gmax = fmax(gmax, fabs(m->grad[i]));
    }
    lr = gmax > 0 ? 0.01 * pmax / gmax : 1.0; /* a step of 1% of the largest parameter */
    for (size_t i = 0; i < np; i++) {
        want[i] = m->params[i] - lr * m->grad[i];
        step = fmax(step, fabs(lr * m->grad[i]));
    }
    if (how == 2)
        assert_int_equal(mlp_set_chunk_rows(m, 3), LS_OK);
    m->ops->loss(m, D, 0);
    if (how == 1) {
        double out[4 * 3];
        mlp_predict(m, D->X_test, 4, out);
    }
    assert_int_equal(m->ops->descend(m, D, lr), LS_OK);
    for (size_t i = 0; i < np; i++)
        worst = fmax(worst, fabs(m->params[i] - want[i]));
    if (!(worst <= 1e-14 * pmax && step >= 1e-3 * pmax)) {
        print_error("%s %s %s bias=%d anti=%d %s how=%d: descend off by %.3g, step %.3g, "
                    "params up to %.3g\n", o->act, o->loss, o->param, o->bias, o->antisym,
                    o->scale_mode, how, worst, step, pmax);
        fail();
    }
    free(want);
    mlp_ops.destroy(&m);
    free_data(D);
}

static void test_descend_is_a_gradient_step(void **state)
{
    (void)state;
    for (int a = 0; a < 4; a++)
        for (int l = 0; l < 5; l++)
            for (int v = 0; v < 8; v++) {
                struct opts o = base_opts;
                o.act = acts[a];
                o.loss = losses[l];
                o.param = params[v & 1];
                o.antisym = (v >> 1) & 1;
                o.scale_mode = modes[(v >> 2) & 1];
                o.bias = (a + v) % 2;
                o.width = v % 3 == 0 ? 20 : 4; /* 20: forward through transposed copies */
                for (int how = 0; how < 3; how++)
                    descend_one(&o, how);
            }
}

/* ---- the parametrizations' identities ---------------------------------------------------- */

static double max_abs_output(struct ls_model *m, const double *X, size_t n)
{
    double f[64], worst = 0;
    mlp_predict(m, X, n, f);
    for (size_t i = 0; i < n * mlp_n_outputs(m); i++)
        worst = fmax(worst, fabs(f[i]));
    return worst;
}

/* f ≡ 0 at init, exactly, on training and unseen inputs, for both the antisymmetric network
 * (g₁ = g₂) and the centered one (h(w) = h(w₀)); and not after a step away from init. */
static void test_zero_at_init(void **state)
{
    (void)state;
    for (int a = 0; a < 4; a++)
        for (int k = 0; k < 2; k++) {
            struct opts o = base_opts;
            o.act = acts[a];
            o.antisym = k == 0;
            o.scale_mode = k == 0 ? "weights" : "output";
            o.alpha = 3.0;
            struct ls_data *D = make_data(10, 3, LS_TASK_REGRESSION, 1, 7);
            struct ls_model *m = build(&o, D);
            assert_true(max_abs_output(m, D->X, D->n) == 0.0);
            assert_true(max_abs_output(m, D->X_test, D->n_test) == 0.0);
            m->ops->loss(m, D, 1);
            for (size_t i = 0; i < m->n_params; i++)
                m->params[i] -= 0.1 * m->grad[i];
            assert_true(max_abs_output(m, D->X, D->n) > 1e-6);
            mlp_ops.destroy(&m);
            free_data(D);
        }
}

/* The centered model against its definition: f = α·(h(w) − h(w₀)) with h the uncentered network
 * (scale_mode weights at α = 1 draws the same w₀), evaluated at the same moved parameters. */
static void test_centered_definition(void **state)
{
    (void)state;
    struct opts o = base_opts, plain = base_opts;
    o.scale_mode = "output";
    o.alpha = 2.5;
    plain.alpha = 1.0;
    struct ls_data *D = make_data(9, 3, LS_TASK_REGRESSION, 1, 0);
    struct ls_model *m = build(&o, D), *h = build(&plain, D);
    double h0[9], hw[9], f[9];
    assert_int_equal(m->n_params, h->n_params);
    for (size_t i = 0; i < m->n_params; i++)
        assert_true(m->params[i] == h->params[i]);
    mlp_predict(h, D->X, 9, h0);
    for (size_t i = 0; i < m->n_params; i++)
        m->params[i] = h->params[i] = m->params[i] + 0.2 * sin(2.0 * i);
    mlp_predict(h, D->X, 9, hw);
    mlp_predict(m, D->X, 9, f);
    for (int i = 0; i < 9; i++)
        if (!(fabs(f[i] - 2.5 * (hw[i] - h0[i])) <= 1e-14 * fmax(1.0, fabs(f[i])))) {
            print_error("row %d: f %.17g, alpha(h - h0) %.17g\n", i, f[i], 2.5 * (hw[i] - h0[i]));
            fail();
        }
    mlp_ops.destroy(&m);
    mlp_ops.destroy(&h);
    free_data(D);
}

/* ntk keeps the function at init (only the dynamics change); α under scale_mode weights
 * multiplies every initial parameter. */
static void test_ntk_and_alpha(void **state)
{
    (void)state;
    struct opts s = base_opts, n = base_opts, a = base_opts;
    n.param = "ntk";
    s.alpha = n.alpha = 1.0;
    a.alpha = 0.37;
    s.act = n.act = a.act = "relu";
    struct ls_data *D = make_data(9, 5, LS_TASK_REGRESSION, 1, 0);
    struct ls_model *ms = build(&s, D), *mn = build(&n, D), *ma = build(&a, D);
    double fs[9], fn[9];
    mlp_predict(ms, D->X, 9, fs);
    mlp_predict(mn, D->X, 9, fn);
    for (int i = 0; i < 9; i++)
        assert_true(fabs(fs[i] - fn[i]) <= 1e-14 * fmax(1.0, fabs(fs[i])));
    struct mlp_layer v;
    assert_int_equal(mlp_layer(mn, 0, 0, &v), LS_OK);
    assert_true(fabs(v.mult - 1 / sqrt(5.0)) < 1e-16);
    for (size_t i = 0; i < ms->n_params; i++)
        assert_true(fabs(ma->params[i] - 0.37 * ms->params[i]) <= 1e-15 * fabs(ms->params[i]));
    mlp_ops.destroy(&ms);
    mlp_ops.destroy(&mn);
    mlp_ops.destroy(&ma);
    free_data(D);
}

/* ---- initialization ---------------------------------------------------------------------- */

/* Layer 0 of a 400 → 300 network: 120 000 weights, so the sample variance is within 3% of σ²
 * (its standard error is σ²·√(2/N) = 0.4% for Gaussian draws, less for uniform ones: 7 standard
 * errors). */
static void check_variance(const char *init, const char *variance, double want_w, double bound)
{
    struct opts o = base_opts;
    o.init = init;
    o.variance = variance;
    o.depth = 1;
    o.width = 300;
    o.alpha = 1.0;
    struct ls_data *D = make_data(2, 400, LS_TASK_REGRESSION, 1, 0);
    struct ls_model *m = build(&o, D);
    struct mlp_layer v;
    assert_int_equal(mlp_layer(m, 0, 0, &v), LS_OK);
    double s = 0, mx = 0;
    for (size_t i = 0; i < 400 * 300; i++) {
        s += v.W[i] * v.W[i];
        mx = fmax(mx, fabs(v.W[i]));
    }
    if (!(fabs(s / 120000 - want_w) <= 0.03 * want_w) || (bound > 0 && mx > bound)) {
        print_error("%s/%s: variance %.6g, want %.6g; max |w| %.6g (bound %.6g)\n", init,
                    variance, s / 120000, want_w, mx, bound);
        fail();
    }
    mlp_ops.destroy(&m);
    free_data(D);
}

static void test_variance_rules(void **state)
{
    (void)state;
    check_variance("gaussian", "he", 2.0 / 400, 0);
    check_variance("gaussian", "lecun", 1.0 / 400, 0);
    check_variance("uniform", "xavier", 2.0 / 700, sqrt(3 * 2.0 / 700) * (1 + 1e-12));
    /* nn.Linear's default: U(±1/√fan_in), variance 1/(3·fan_in). */
    check_variance("uniform", "pytorch", 1.0 / 1200, 1.0 / sqrt(400.0) * (1 + 1e-12));
    check_variance("gaussian", "explicit", 0.64, 0);
    check_variance("orthogonal", "he", 2.0 / 400, 0);
}

/* Orthogonal: W = s·√max(out, in)·Q with orthonormal columns (out >= in) or rows (out < in). */
static void test_orthogonal(void **state)
{
    (void)state;
    struct opts o = base_opts;
    o.init = "orthogonal";
    o.variance = "lecun";
    o.width = 7;
    o.alpha = 1.0;
    struct ls_data *D = make_data(2, 4, LS_TASK_CLASSES, 3, 0);
    struct ls_model *m = build(&o, D);
    for (size_t l = 0; l < 3; l++) { /* 4 → 7 (tall), 7 → 7, 7 → 3 (wide) */
        struct mlp_layer v;
        assert_int_equal(mlp_layer(m, 0, l, &v), LS_OK);
        size_t k = v.out >= v.in ? v.in : v.out, big = v.out >= v.in ? v.out : v.in;
        double want = big / (double)v.in; /* (s·√max)² with s² = 1/in */
        for (size_t a = 0; a < k; a++)
            for (size_t b = 0; b < k; b++) {
                double dot = 0;
                for (size_t r = 0; r < big; r++)
                    dot += v.out >= v.in ? v.W[r * v.in + a] * v.W[r * v.in + b]
                                         : v.W[a * v.in + r] * v.W[b * v.in + r];
                if (!(fabs(dot - (a == b ? want : 0.0)) < 1e-12)) {
                    print_error("layer %zu: Gram[%zu][%zu] = %.17g\n", l, a, b, dot);
                    fail();
                }
            }
    }
    mlp_ops.destroy(&m);
    free_data(D);
}

/* ---- metrics ----------------------------------------------------------------------------- */

static void test_binary_metrics(void **state)
{
    (void)state;
    struct opts o = base_opts;
    o.loss = "bce";
    o.width = 6;
    struct ls_data *D = make_data(20, 3, LS_TASK_BINARY, 1, 17);
    struct ls_model *m = build(&o, D);
    double f[17], tp = 0, fp = 0, fn = 0, tn = 0, v;
    mlp_predict(m, D->X_test, 17, f);
    for (int i = 0; i < 17; i++) {
        int pred = 1 / (1 + exp(-f[i])) >= 0.5, pos = D->y_test[i] == 1;
        tp += pred && pos;
        fp += pred && !pos;
        fn += !pred && pos;
        tn += !pred && !pos;
    }
    assert_int_equal(m->ops->eval(m, D, "test_accuracy", &v), LS_OK);
    assert_true(fabs(v - (tp + tn) / 17) < 1e-15);
    assert_int_equal(m->ops->eval(m, D, "test_precision", &v), LS_OK);
    assert_true(fabs(v - (tp + fp > 0 ? tp / (tp + fp) : 0)) < 1e-15);
    assert_int_equal(m->ops->eval(m, D, "test_recall", &v), LS_OK);
    assert_true(fabs(v - (tp + fn > 0 ? tp / (tp + fn) : 0)) < 1e-15);
    assert_int_equal(m->ops->eval(m, D, "test_f1", &v), LS_OK);
    assert_true(fabs(v - 2 * tp / (2 * tp + fp + fn)) < 1e-15);
    /* test_loss is the loss of the test outputs; the cache follows parameter changes. */
    double before, after, want;
    assert_int_equal(m->ops->eval(m, D, "test_loss", &before), LS_OK);
    assert_true(fabs(before - loss_value(LS_LOSS_BCE, f, D->y_test, 17, 1, 17, NULL)) < 1e-15);
    m->params[0] += 0.5;
    assert_int_equal(m->ops->eval(m, D, "test_loss", &after), LS_OK);
    mlp_predict(m, D->X_test, 17, f);
    want = loss_value(LS_LOSS_BCE, f, D->y_test, 17, 1, 17, NULL);
    assert_true(after != before && fabs(after - want) < 1e-15);
    assert_int_equal(m->ops->eval(m, D, "train_accuracy", &v), LS_OK);
    assert_int_equal(m->ops->eval(m, D, "population_error", &v), LS_ENOTFOUND);
    mlp_ops.destroy(&m);
    free_data(D);
}

static void test_other_task_metrics(void **state)
{
    (void)state;
    struct opts o = base_opts;
    double v, f[36];
    o.loss = "cross_entropy";
    struct ls_data *D = make_data(12, 3, LS_TASK_CLASSES, 3, 0);
    struct ls_model *m = build(&o, D);
    mlp_predict(m, D->X, 12, f);
    size_t right = loss_correct(LS_LOSS_CROSS_ENTROPY, LS_TASK_CLASSES, f, D->y, 12, 3);
    assert_int_equal(m->ops->eval(m, D, "train_accuracy", &v), LS_OK);
    assert_true(v == (double)right / 12);
    assert_int_equal(m->ops->eval(m, D, "test_accuracy", &v), LS_ENOTFOUND); /* no test set */
    assert_int_equal(m->ops->eval(m, D, "test_f1", &v), LS_ENOTFOUND);
    mlp_ops.destroy(&m);
    free_data(D);
    o.loss = "mse";
    D = make_data(12, 3, LS_TASK_REGRESSION, 1, 5);
    m = build(&o, D);
    assert_int_equal(m->ops->eval(m, D, "train_accuracy", &v), LS_ENOTFOUND);
    assert_int_equal(m->ops->eval(m, D, "test_loss", &v), LS_OK);
    mlp_ops.destroy(&m);
    free_data(D);
}

/* ---- the job's rules --------------------------------------------------------------------- */

static void test_check(void **state)
{
    (void)state;
    struct ls_job job;
    const char *key = NULL;
    char msg[256];
    make_job(&job, &base_opts);
    job.model.weight_scale.n = 2; /* depth 2: three layers */
    assert_int_equal(mlp_ops.check(&job, &key, msg, sizeof msg), LS_EJOB);
    assert_string_equal(key, "model.weight_scale");
    job.model.weight_scale.n = 3;
    job.model.sparsity = 0.5; /* prunable, but GraSP needs a loss with a Hessian */
    snprintf(job.prune.method, LS_NAME_MAX, "grasp");
    snprintf(job.train.loss, LS_NAME_MAX, "soft_f1");
    assert_int_equal(mlp_ops.check(&job, &key, msg, sizeof msg), LS_EJOB);
    assert_string_equal(key, "prune.method");
    snprintf(job.train.loss, LS_NAME_MAX, "mse");
    assert_int_equal(mlp_ops.check(&job, &key, msg, sizeof msg), LS_OK);
    job.model.sparsity = 0;
    snprintf(job.model.init, LS_NAME_MAX, "constant");
    assert_int_equal(mlp_ops.check(&job, &key, msg, sizeof msg), LS_EJOB);
    assert_string_equal(key, "model.init");
}

/* A per-layer list sets each layer's standard deviation. */
static void test_explicit_list(void **state)
{
    (void)state;
    struct opts o = base_opts;
    o.variance = "explicit";
    o.depth = 1;
    o.width = 300;
    struct ls_job job;
    struct ls_model *m = NULL;
    struct ls_data *D = make_data(2, 400, LS_TASK_REGRESSION, 1, 0);
    make_job(&job, &o);
    job.model.init_scale = 1.0;
    job.model.weight_scale = (struct ls_reals){.v = {0.5, 0.0}, .n = 2};
    job.model.bias_scale = (struct ls_reals){.v = {0.0, 2.0}, .n = 2};
    assert_int_equal(mlp_ops.create(&job, D, &m), LS_OK);
    struct mlp_layer v0, v1;
    assert_int_equal(mlp_layer(m, 0, 0, &v0), LS_OK);
    assert_int_equal(mlp_layer(m, 0, 1, &v1), LS_OK);
    double s = 0;
    for (size_t i = 0; i < 120000; i++)
        s += v0.W[i] * v0.W[i];
    assert_true(fabs(s / 120000 - 0.25) < 0.03 * 0.25);
    for (size_t i = 0; i < 300; i++)
        assert_true(v0.b[i] == 0.0 && v1.W[i] == 0.0);
    assert_true(fabs(v1.b[0]) > 0);
    mlp_ops.destroy(&m);
    free_data(D);
}

/* ---- the job file's mlp keys --------------------------------------------------------------- */

static const char mlp_job[] =
    "name: m\n"
    "model: {family: mlp, depth: 2, width: 8, variance: explicit,\n"
    "        weight_scale: [1.0, 0.5, 0.25], antisymmetric: true}\n"
    "data: {kind: teacher_student, dim: 3, n_classes: 2}\n"
    "train: {lr: 0.1, loss: soft_f1}\n"
    "grid:\n"
    "  model.bias_scale: [0.1, 0.2]\n"
    "  model.init: [uniform, orthogonal]\n";

static void test_job_keys(void **state)
{
    (void)state;
    struct ls_job job, pt;
    char err[LS_ERR_MAX];
    int rc = cfg_parse("m.yaml", mlp_job, strlen(mlp_job), &job, err, sizeof err);
    if (rc != LS_OK) {
        print_error("%s\n", err);
        fail();
    }
    /* Defaults of the family, the file's values, the per-layer list. */
    assert_string_equal(job.model.init, "gaussian");
    assert_string_equal(job.model.activation, "relu");
    assert_true(job.model.bias == 1 && job.model.antisymmetric == 1);
    assert_true(job.model.leaky_slope == 0.01);
    assert_string_equal(job.model.parametrization, "standard");
    assert_string_equal(job.model.scale_mode, "weights");
    assert_string_equal(job.train.loss, "soft_f1");
    assert_int_equal(job.model.weight_scale.n, 3);
    assert_true(job.model.weight_scale.v[2] == 0.25);
    assert_int_equal(job.model.bias_scale.n, 0);
    assert_non_null(strstr(job.canonical, "model.weight_scale=[1,0.5,0.25]\n"));
    assert_non_null(strstr(job.canonical, "model.bias_scale=0\n"));
    assert_non_null(strstr(job.canonical, "train.loss=soft_f1\n"));
    /* A swept per-layer key is the scalar form; a swept init takes the family's values. */
    assert_int_equal(cfg_point(&job, 3, &pt), LS_OK);
    assert_true(pt.model.bias_scale.n == 0 && pt.model.bias_scale.v[0] == 0.2);
    assert_string_equal(pt.model.init, "orthogonal");
    /* vector_len from the job alone matches the model built on its data. */
    size_t want = 2 * (3 * 8 + 8 + 8 * 8 + 8 + 8 * 1 + 1);
    assert_int_equal(mlp_ops.vector_len(&pt, "params_final"), want);
    cfg_free(&job);
    /* A diagonal job's canonical text lists none of the mlp keys (its hash is unchanged). */
    static const char diag[] = "name: d\nmodel: {family: diagonal}\n"
                               "data: {kind: sparse_regression}\ntrain: {lr: 0.5}\n";
    assert_int_equal(cfg_parse("d.yaml", diag, strlen(diag), &job, err, sizeof err), LS_OK);
    assert_null(strstr(job.canonical, "model.activation"));
    assert_null(strstr(job.canonical, "train.loss"));
    assert_non_null(strstr(job.canonical, "model.init=constant\n"));
    cfg_free(&job);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gradient_fd),
        cmocka_unit_test(test_gradient_fd_more),
        cmocka_unit_test(test_chunked_equals_whole),
        cmocka_unit_test(test_descend_is_a_gradient_step),
        cmocka_unit_test(test_zero_at_init),
        cmocka_unit_test(test_centered_definition),
        cmocka_unit_test(test_ntk_and_alpha),
        cmocka_unit_test(test_variance_rules),
        cmocka_unit_test(test_orthogonal),
        cmocka_unit_test(test_binary_metrics),
        cmocka_unit_test(test_other_task_metrics),
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_explicit_list),
        cmocka_unit_test(test_job_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
