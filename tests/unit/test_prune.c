/* test_prune.c — pruning at initialization against independent references: SynFlow's
 * conservation laws (Tanaka et al. Thm 1–2) on bias-free ReLU and linear nets of random shapes,
 * GraSP's exact Hessian-vector product against central differences of the family's own
 * gradient (and the symmetry of H), exact remaining counts and the schedules' closed forms,
 * deterministic ties, iterated magnitude = one-shot magnitude, one mask for both copies of an
 * antisymmetric net, pruned entries exactly 0 under every optimizer, and an all-ones mask that
 * changes no bit of training. */
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
#include "lazysweep/mlp.h"
#include "lazysweep/model.h"
#include "lazysweep/optim.h"
#include "lazysweep/prune.h"
#include "lazysweep/rng.h"

/* ---- fixtures ---- */

struct net {
    const char *act, *loss, *param, *mode;
    int bias, antisym, depth, width, d, C;
    double sparsity;
    const char *method;
};

static void make_job(struct ls_job *job, const struct net *o)
{
    memset(job, 0, sizeof *job);
    job->seed = 11;
    snprintf(job->model.family, LS_NAME_MAX, "mlp");
    job->model.depth = o->depth;
    job->model.width = o->width;
    job->model.init_scale = 0.9;
    job->model.sparsity = o->sparsity;
    snprintf(job->model.init, LS_NAME_MAX, "gaussian");
    snprintf(job->model.activation, LS_NAME_MAX, "%s", o->act);
    job->model.leaky_slope = 0.1;
    job->model.bias = o->bias;
    snprintf(job->model.variance, LS_NAME_MAX, "he");
    snprintf(job->model.parametrization, LS_NAME_MAX, "%s", o->param ? o->param : "standard");
    snprintf(job->model.scale_mode, LS_NAME_MAX, "%s", o->mode ? o->mode : "weights");
    job->model.antisymmetric = o->antisym;
    snprintf(job->train.loss, LS_NAME_MAX, "%s", o->loss);
    snprintf(job->prune.method, LS_NAME_MAX, "%s", o->method ? o->method : "synflow");
    snprintf(job->prune.schedule, LS_NAME_MAX, "exponential");
    snprintf(job->prune.scope, LS_NAME_MAX, "global");
    snprintf(job->train.optimizer, LS_NAME_MAX, "gd");
    job->train.beta1 = 0.9;
    job->train.beta2 = 0.999;
    job->train.eps = 1e-8;
    job->train.momentum = 0.9;
}

/* Deterministic rows of order 1 and labels of the loss's task (every class occurs). */
static struct ls_data *make_data(const struct net *o, size_t n)
{
    struct ls_data *D = calloc(1, sizeof *D);
    assert_non_null(D);
    int classes = strcmp(o->loss, "cross_entropy") == 0, binary = strcmp(o->loss, "bce") == 0;
    *D = (struct ls_data){.n = n,
                          .d = (size_t)o->d,
                          .task = classes  ? LS_TASK_CLASSES
                                  : binary ? LS_TASK_BINARY
                                           : LS_TASK_REGRESSION,
                          .n_classes = classes ? (size_t)o->C : 0};
    D->X = malloc(n * D->d * sizeof *D->X);
    D->y = malloc(n * sizeof *D->y);
    assert_non_null(D->X);
    assert_non_null(D->y);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < D->d; j++)
            D->X[i * D->d + j] = sin(0.7 * (double)i + 1.3 * (double)j + 0.2);
        D->y[i] = classes  ? (double)(i % (size_t)o->C)
                  : binary ? (double)(i % 3 != 1)
                           : cos(1.1 * (double)i);
    }
    return D;
}

static void free_data(struct ls_data *D)
{
    free(D->X);
    free(D->y);
    free(D);
}

static struct ls_model *build(const struct net *o, const struct ls_data *D, struct ls_job *job)
{
    struct ls_model *m = NULL;
    make_job(job, o);
    int rc = mlp_ops.create(job, D, &m);
    if (rc != LS_OK) {
        print_error("create: %s\n", ls_strerror(rc));
        fail();
    }
    return m;
}

static double rel(double a, double b)
{
    return fabs(a - b) / fmax(fmax(fabs(a), fabs(b)), 1e-300);
}

/* ---- SynFlow conservation ---- */

/* Every layer's score sum is R, and a hidden unit's incoming scores sum to its outgoing ones
 * (bias-free, so no flow enters midway). */
static void check_conservation(struct ls_model *m, const struct ls_job *job, const char *what)
{
    double *s = calloc(m->n_params, sizeof *s), worst = 0;
    assert_non_null(s);
    double R = prune_synflow(job, m, 0, s);
    for (size_t l = 0; l < mlp_n_layers(m); l++) {
        struct mlp_layer y, z;
        mlp_layer(m, 0, l, &y);
        const double *sW = s + (y.W - m->params);
        double sum = 0;
        for (size_t i = 0; i < y.in * y.out; i++)
            sum += sW[i];
        worst = fmax(worst, rel(sum, R));
        if (rel(sum, R) > 1e-12)
            print_error("%s layer %zu: score sum %.17g, R %.17g\n", what, l, sum, R);
        if (l + 1 == mlp_n_layers(m))
            continue;
        mlp_layer(m, 0, l + 1, &z);
        const double *sZ = s + (z.W - m->params);
        for (size_t u = 0; u < y.out; u++) {
            double in = 0, out = 0;
            for (size_t j = 0; j < y.in; j++)
                in += sW[u * y.in + j];
            for (size_t k = 0; k < z.out; k++)
                out += sZ[k * z.in + u];
            if (fabs(in - out) > 1e-12 * fmax(fmax(in, out), 1e-12 * R)) {
                print_error("%s unit %zu of layer %zu: in %.17g, out %.17g\n", what, u, l, in, out);
                fail();
            }
        }
    }
    assert_true(worst <= 1e-12);
    assert_true(R > 0);
    free(s);
}

static void test_synflow_conservation(void **state)
{
    (void)state;
    struct ls_rng r;
    rng_init(&r, 77);
    for (int k = 0; k < 24; k++) {
        struct net o = {.act = k % 2 ? "relu" : "linear",
                        .loss = "mse",
                        .bias = 0,
                        .param = k % 3 == 0 ? "ntk" : "standard",
                        .depth = 1 + (int)rng_below(&r, 5),
                        .width = 1 + (int)rng_below(&r, 12),
                        .d = 1 + (int)rng_below(&r, 15),
                        .C = 1};
        if (rng_below(&r, 2)) {
            o.loss = "cross_entropy";
            o.C = 2 + (int)rng_below(&r, 4);
        }
        struct ls_job job;
        struct ls_data *D = make_data(&o, 4);
        struct ls_model *m = build(&o, D, &job);
        char what[96];
        snprintf(what, sizeof what, "%s %s d=%d w=%d L=%d C=%d", o.act, o.param, o.d, o.width,
                 o.depth, o.C);
        check_conservation(m, &job, what);
        mlp_ops.destroy(&m);
        free_data(D);
    }
}

/* ---- GraSP's Hessian-vector product ---- */

/* Hv against (∇L(θ + hv) − ∇L(θ − hv))/2h from the family's own gradient (h = 1e-5: truncation
 * h²·|∂³L| ~ 1e-10, rounding ~ε·|g|/h ~ 1e-11, so 1e-6 of ‖Hv‖∞ is a wide margin that a wrong
 * term — a missing φ″ or loss-Hessian term, a factor c or mult — exceeds by orders); the
 * gradient prune_hvp returns against the family's to 1e-12; and uᵀHv = vᵀHu. */
static void hvp_one(const struct net *o)
{
    struct ls_job job;
    struct ls_data *D = make_data(o, 7);
    struct ls_model *m = build(o, D, &job);
    size_t n = m->n_params;
    double *v = malloc(n * sizeof *v), *u = malloc(n * sizeof *u), *g = malloc(n * sizeof *g);
    double *hv = malloc(n * sizeof *hv), *hu = malloc(n * sizeof *hu), *gp = malloc(n * sizeof *gp);
    double *th = malloc(n * sizeof *th);
    assert_true(v && u && g && hv && hu && gp && th);
    for (size_t i = 0; i < n; i++) {
        v[i] = sin(2.1 * (double)i + 0.4);
        u[i] = cos(1.7 * (double)i);
    }
    memcpy(th, m->params, n * sizeof *th);
    assert_int_equal(prune_hvp(&job, m, D, v, g, hv), LS_OK);
    assert_int_equal(prune_hvp(&job, m, D, u, gp, hu), LS_OK);
    m->ops->loss(m, D, 1);
    double gmax = 0, hmax = 0, worst_g = 0, worst_h = 0, uhv = 0, vhu = 0;
    for (size_t i = 0; i < n; i++) {
        gmax = fmax(gmax, fabs(m->grad[i]));
        hmax = fmax(hmax, fabs(hv[i]));
        worst_g = fmax(worst_g, fabs(g[i] - m->grad[i]));
        uhv += u[i] * hv[i];
        vhu += v[i] * hu[i];
    }
    const double h = 1e-5;
    for (size_t i = 0; i < n; i++)
        m->params[i] = th[i] + h * v[i];
    m->ops->loss(m, D, 1);
    memcpy(gp, m->grad, n * sizeof *gp);
    for (size_t i = 0; i < n; i++)
        m->params[i] = th[i] - h * v[i];
    m->ops->loss(m, D, 1);
    for (size_t i = 0; i < n; i++)
        worst_h = fmax(worst_h, fabs((gp[i] - m->grad[i]) / (2 * h) - hv[i]));
    if (worst_g > 1e-12 * gmax || worst_h > 1e-6 * hmax || rel(uhv, vhu) > 1e-10) {
        print_error("%s %s %s anti=%d %s: |g − g_model| %.3g of %.3g, |Hv − fd| %.3g of %.3g, "
                    "uᵀHv %.17g vᵀHu %.17g\n",
                    o->act, o->loss, o->param ? o->param : "standard", o->antisym,
                    o->mode ? o->mode : "weights", worst_g, gmax, worst_h, hmax, uhv, vhu);
        fail();
    }
    assert_true(hmax > 0);
    free(v), free(u), free(g), free(hv), free(hu), free(gp), free(th);
    mlp_ops.destroy(&m);
    free_data(D);
}

static void test_hvp_against_fd(void **state)
{
    (void)state;
    const struct net nets[] = {
        {.act = "tanh", .loss = "mse", .bias = 1, .depth = 2, .width = 5, .d = 3, .C = 1},
        {.act = "tanh",
         .loss = "cross_entropy",
         .bias = 1,
         .depth = 3,
         .width = 4,
         .d = 3,
         .C = 3,
         .param = "ntk"},
        {.act = "tanh",
         .loss = "bce",
         .bias = 1,
         .depth = 2,
         .width = 4,
         .d = 2,
         .C = 1,
         .antisym = 1},
        {.act = "tanh",
         .loss = "mse",
         .bias = 1,
         .depth = 1,
         .width = 6,
         .d = 2,
         .C = 1,
         .mode = "output"},
        {.act = "relu", .loss = "cross_entropy", .bias = 1, .depth = 2, .width = 6, .d = 4, .C = 3},
        {.act = "leaky_relu", .loss = "bce", .bias = 0, .depth = 3, .width = 5, .d = 3, .C = 1},
        {.act = "linear",
         .loss = "mse",
         .bias = 1,
         .depth = 2,
         .width = 3,
         .d = 3,
         .C = 1,
         .antisym = 1,
         .param = "ntk"},
    };
    for (size_t i = 0; i < sizeof nets / sizeof nets[0]; i++)
        hvp_one(&nets[i]);
}

/* ---- counts, schedules, ties ---- */

static void test_keep_and_schedule(void **state)
{
    (void)state;
    assert_int_equal(prune_keep(1060, 0.01), 11); /* 10.6 */
    assert_int_equal(prune_keep(10, 0.25), 3);    /* 2.5 rounds up */
    assert_int_equal(prune_keep(10, 0.0), 0);
    assert_int_equal(prune_keep(10, 1.0), 10);
    for (int n = 1; n <= 100; n += 33)
        for (int k = 1; k <= n; k++) {
            double s = 0.999, e = pow(0.001, (double)k / n), lin = 1 - s * k / n;
            assert_true(rel(prune_round_density(s, k, n, 1), e) < 1e-14);
            assert_true(fabs(prune_round_density(s, k, n, 0) - lin) < 1e-15); /* near 0.001 */
        }
    assert_true(prune_round_density(0.9, 7, 7, 1) == 1.0 - 0.9);
}

/* Kept prunable entries of tower 0, and every pruned parameter exactly +0. */
static size_t kept(struct ls_model *m, const double *mask, int with_bias, size_t *N)
{
    size_t k = 0;
    *N = 0;
    for (size_t l = 0; l < mlp_n_layers(m); l++) {
        struct mlp_layer y;
        mlp_layer(m, 0, l, &y);
        size_t w = (size_t)(y.W - m->params), nw = y.in * y.out;
        for (size_t i = 0; i < nw; i++)
            k += mask[w + i] != 0;
        *N += nw;
        if (with_bias && y.b) {
            for (size_t i = 0; i < y.out; i++)
                k += mask[(y.b - m->params) + i] != 0;
            *N += y.out;
        }
    }
    for (size_t i = 0; i < m->n_params; i++)
        if (mask[i] == 0)
            assert_true(m->params[i] == 0 && !signbit(m->params[i]));
    return k;
}

static void test_exact_counts(void **state)
{
    (void)state;
    const char *methods[] = {"random", "magnitude", "snip", "grasp", "synflow"};
    const double s[] = {0.3, 0.77, 0.95, 0.999};
    for (int pb = 0; pb < 2; pb++)
        for (int sc = 0; sc < 2; sc++)
            for (size_t i = 0; i < 5; i++)
                for (size_t j = 0; j < 4; j++) {
                    struct net o = {.act = "relu",
                                    .loss = "cross_entropy",
                                    .bias = 1,
                                    .depth = 2,
                                    .width = 9,
                                    .d = 7,
                                    .C = 3,
                                    .sparsity = s[j],
                                    .method = methods[i]};
                    struct ls_job job;
                    struct ls_data *D = make_data(&o, 30);
                    make_job(&job, &o);
                    job.prune.prune_bias = pb;
                    snprintf(job.prune.scope, LS_NAME_MAX, "%s", sc ? "layer" : "global");
                    struct ls_model *m = NULL;
                    assert_int_equal(mlp_ops.create(&job, D, &m), LS_OK);
                    struct ls_prune *p = NULL;
                    assert_int_equal(prune_create(&job, D, m, &p), LS_OK); /* once more */
                    size_t N, k = kept(m, prune_mask(p), pb, &N);
                    if ((int64_t)k != prune_keep((int64_t)N, 1 - s[j])) {
                        print_error("%s s=%g bias=%d scope=%d: kept %zu of %zu, want %lld\n",
                                    methods[i], s[j], pb, sc, k, N,
                                    (long long)prune_keep((int64_t)N, 1 - s[j]));
                        fail();
                    }
                    double dens;
                    assert_int_equal(prune_eval(p, "density", &dens), LS_OK);
                    assert_true(dens == (double)k / (double)N);
                    prune_destroy(&p);
                    mlp_ops.destroy(&m);
                    free_data(D);
                }
}

/* Equal scores everywhere: the lowest positions of the arena are kept. Iterated magnitude keeps
 * what one-shot magnitude keeps (removing entries does not change the others' |θ|). */
static void test_ties_and_iterated_magnitude(void **state)
{
    (void)state;
    struct net o = {.act = "relu",
                    .loss = "mse",
                    .bias = 1,
                    .depth = 2,
                    .width = 6,
                    .d = 5,
                    .C = 1,
                    .sparsity = 0.6,
                    .method = "magnitude"};
    struct ls_job job;
    struct ls_data *D = make_data(&o, 10);
    struct ls_model *m = build(&o, D, &job), *m1 = NULL;
    struct ls_prune *p = NULL;
    for (size_t i = 0; i < m->n_params; i++)
        m->params[i] = 0.5;
    assert_int_equal(prune_create(&job, D, m, &p), LS_OK);
    size_t N, k = kept(m, prune_mask(p), 0, &N), seen = 0;
    for (size_t l = 0; l < mlp_n_layers(m); l++) { /* weights in arena order: the first k kept */
        struct mlp_layer y;
        mlp_layer(m, 0, l, &y);
        for (size_t i = 0; i < y.in * y.out; i++, seen++)
            assert_int_equal(prune_mask(p)[(y.W - m->params) + i] != 0, seen < k);
    }
    prune_destroy(&p);
    mlp_ops.destroy(&m);
    m = build(&o, D, &job); /* one round */
    job.prune.iterations = 7;
    assert_int_equal(mlp_ops.create(&job, D, &m1), LS_OK);
    double *a = malloc(m->n_params * sizeof *a), *b = malloc(m->n_params * sizeof *b);
    assert_true(a && b);
    assert_int_equal(m->ops->vector(m, D, "masks", a), LS_OK);
    assert_int_equal(m1->ops->vector(m1, D, "masks", b), LS_OK);
    assert_memory_equal(a, b, m->n_params * sizeof *a);
    assert_int_equal(m1->ops->vector(m1, D, "layer_density", b), LS_OK);
    assert_true(b[0] < 1 && b[2] < 1); /* it did prune */
    free(a);
    free(b);
    mlp_ops.destroy(&m);
    mlp_ops.destroy(&m1);
    free_data(D);
}

/* Antisymmetric: the mask of copy 2 is copy 1's, so f ≡ 0 still holds after pruning. */
static void test_antisymmetric_shared_mask(void **state)
{
    (void)state;
    const char *methods[] = {"random", "magnitude", "snip", "grasp", "synflow"};
    for (size_t i = 0; i < 5; i++) {
        struct net o = {.act = "tanh",
                        .loss = "mse",
                        .bias = 1,
                        .depth = 2,
                        .width = 8,
                        .d = 4,
                        .C = 1,
                        .sparsity = 0.9,
                        .method = methods[i],
                        .antisym = 1};
        struct ls_job job;
        struct ls_data *D = make_data(&o, 12);
        struct ls_model *m = build(&o, D, &job);
        size_t half = m->n_params / 2;
        double f[12], R, dens;
        assert_memory_equal(m->params, m->params + half, half * sizeof(double));
        mlp_predict(m, D->X, D->n, f);
        for (int r = 0; r < 12; r++)
            assert_true(f[r] == 0.0);
        assert_int_equal(m->ops->eval(m, D, "synflow_r", &R), LS_OK);
        assert_int_equal(m->ops->eval(m, D, "density", &dens), LS_OK);
        assert_true(dens == 10.0 / 104.0); /* N = 4·8 + 8·8 + 8·1 weights, round(10.4) kept */
        assert_true(R >= 0 && (R > 0 || strcmp(methods[i], "synflow") != 0));
        mlp_ops.destroy(&m);
        free_data(D);
    }
}

/* ---- training with the mask ---- */

static const char *const optimizers[] = {"gd", "sgd", "momentum", "nesterov", "adam", "adamw"};

/* 25 steps: the descend op for plain gd, else the gradient and optim_step. */
static void train(struct ls_model *m, const struct ls_job *job, const struct ls_data *D)
{
    struct ls_optim *opt = NULL;
    assert_int_equal(optim_create(job, m->n_params, &opt), LS_OK);
    for (int s = 0; s < 25; s++) {
        if (optim_plain(opt)) {
            m->ops->loss(m, D, 0);
            assert_int_equal(m->ops->descend(m, D, 0.05), LS_OK);
        } else {
            m->ops->loss(m, D, 1);
            optim_step(opt, 0.05, m->params, m->grad);
        }
    }
    optim_destroy(&opt);
}

static void test_pruned_stay_zero(void **state)
{
    (void)state;
    for (size_t i = 0; i < 6; i++)
        for (int wd = 0; wd < 2; wd++) {
            struct net o = {.act = "relu",
                            .loss = "cross_entropy",
                            .bias = 1,
                            .depth = 2,
                            .width = 8,
                            .d = 5,
                            .C = 3,
                            .sparsity = 0.8,
                            .method = "snip"};
            struct ls_job job;
            struct ls_data *D = make_data(&o, 20);
            struct ls_model *m = build(&o, D, &job);
            snprintf(job.train.optimizer, LS_NAME_MAX, "%s", optimizers[i]);
            job.train.weight_decay.base = wd ? 0.01 : 0.0;
            double *start = malloc(m->n_params * sizeof *start);
            assert_non_null(start);
            memcpy(start, m->params, m->n_params * sizeof *start);
            train(m, &job, D);
            double ld;
            size_t moved = 0, zeros = 0;
            assert_int_equal(m->ops->eval(m, D, "min_layer_density", &ld), LS_OK);
            struct mlp_layer y;
            for (size_t l = 0; l < mlp_n_layers(m); l++) {
                mlp_layer(m, 0, l, &y);
                for (size_t q = 0; q < y.in * y.out; q++) {
                    size_t at = (size_t)(y.W - m->params) + q;
                    zeros += start[at] == 0;
                    if (start[at] == 0 && !(m->params[at] == 0 && !signbit(m->params[at]))) {
                        print_error("%s wd=%d: pruned entry %zu is %g\n", optimizers[i], wd, at,
                                    m->params[at]);
                        fail();
                    }
                    moved += start[at] != 0 && m->params[at] != start[at];
                }
            }
            assert_true(zeros > 0 && moved > 0);
            free(start);
            mlp_ops.destroy(&m);
            free_data(D);
        }
}

/* s so small that every entry is kept: the mask (all ones) is held every step and changes no
 * bit of any optimizer's trajectory. */
static void test_all_ones_mask_is_identity(void **state)
{
    (void)state;
    for (size_t i = 0; i < 6; i++) {
        struct net o = {.act = "tanh",
                        .loss = "mse",
                        .bias = 1,
                        .depth = 2,
                        .width = 7,
                        .d = 4,
                        .C = 1,
                        .sparsity = 0,
                        .antisym = (int)(i % 2)};
        struct ls_job j0, j1;
        struct ls_data *D = make_data(&o, 16);
        struct ls_model *a = build(&o, D, &j0);
        o.sparsity = 1e-9;
        struct ls_model *b = build(&o, D, &j1);
        snprintf(j0.train.optimizer, LS_NAME_MAX, "%s", optimizers[i]);
        snprintf(j1.train.optimizer, LS_NAME_MAX, "%s", optimizers[i]);
        j0.train.weight_decay.base = j1.train.weight_decay.base = i == 1 ? 0.0 : 0.01;
        double dens;
        assert_int_equal(b->ops->eval(b, D, "density", &dens), LS_OK);
        assert_true(dens == 1.0);
        assert_int_equal(a->ops->eval(a, D, "density", &dens), LS_ENOTFOUND);
        train(a, &j0, D);
        train(b, &j1, D);
        assert_memory_equal(a->params, b->params, a->n_params * sizeof(double));
        mlp_ops.destroy(&a);
        mlp_ops.destroy(&b);
        free_data(D);
    }
}

/* ---- sparse layers ---- */

static double max_diff(const double *a, const double *b, size_t n, double *scale)
{
    double d = 0;
    *scale = 0;
    for (size_t i = 0; i < n; i++) {
        d = fmax(d, fabs(a[i] - b[i]));
        *scale = fmax(*scale, fabs(a[i]));
    }
    return d;
}

/* One pruned net run with every pruned layer dense (threshold 0) and every one sparse: outputs,
 * loss gradients and a descent step agree to 1e-12 of their largest entry (the sums differ only
 * in order), and the sparse step leaves pruned entries at exactly 0. */
static void sparse_one(const struct net *o, double density, size_t chunk)
{
    struct net q = *o;
    q.sparsity = 1 - density;
    q.method = "random";
    struct ls_job job;
    struct ls_data *D = make_data(&q, 40);
    struct ls_model *m = build(&q, D, &job);
    size_t np = m->n_params, nf = D->n * mlp_n_outputs(m);
    double *f0 = malloc(nf * sizeof *f0), *f1 = malloc(nf * sizeof *f1), sc;
    double *g0 = malloc(np * sizeof *g0), *th = malloc(np * sizeof *th), *p0 = malloc(np * 8);
    assert_true(f0 && f1 && g0 && th && p0);
    memcpy(th, m->params, np * sizeof *th);
    if (chunk)
        assert_int_equal(mlp_set_chunk_rows(m, chunk), LS_OK);
    double L[2], worst[3] = {0};
    for (int sparse = 0; sparse < 2; sparse++) {
        assert_int_equal(mlp_set_sparse(m, sparse ? 2.0 : 0.0), LS_OK);
        memcpy(m->params, th, np * sizeof *th);
        mlp_predict(m, D->X, D->n, sparse ? f1 : f0);
        L[sparse] = m->ops->loss(m, D, 1);
        if (!sparse)
            memcpy(g0, m->grad, np * sizeof *g0);
        else
            worst[1] = max_diff(g0, m->grad, np, &sc) / sc;
        m->ops->loss(m, D, 0);
        assert_int_equal(m->ops->descend(m, D, 0.1), LS_OK);
        if (!sparse)
            memcpy(p0, m->params, np * sizeof *p0);
        else
            worst[2] = max_diff(p0, m->params, np, &sc) / sc;
    }
    worst[0] = max_diff(f0, f1, nf, &sc) / sc;
    if (worst[0] > 1e-12 || worst[1] > 1e-12 || worst[2] > 1e-12 || rel(L[0], L[1]) > 1e-12) {
        print_error("density %g chunk %zu anti=%d: f %.3g, grad %.3g, step %.3g, loss %.17g vs "
                    "%.17g\n",
                    density, chunk, o->antisym, worst[0], worst[1], worst[2], L[0], L[1]);
        fail();
    }
    assert_int_equal(m->ops->vector(m, D, "masks", g0), LS_OK);
    for (size_t i = 0; i < np; i++)
        if (g0[i] == 0)
            assert_true(m->params[i] == 0 && !signbit(m->params[i]));
    free(f0), free(f1), free(g0), free(th), free(p0);
    mlp_ops.destroy(&m);
    free_data(D);
}

static void test_sparse_equals_dense(void **state)
{
    (void)state;
    const double dens[] = {0.5, 0.3, 0.1, 0.03, 0.01, 0.003};
    const struct net nets[] = {
        {.act = "relu",
         .loss = "cross_entropy",
         .bias = 1,
         .depth = 2,
         .width = 30,
         .d = 25,
         .C = 4},
        {.act = "tanh",
         .loss = "mse",
         .bias = 0,
         .depth = 3,
         .width = 24,
         .d = 17,
         .C = 1,
         .antisym = 1,
         .param = "ntk"},
        {.act = "leaky_relu",
         .loss = "bce",
         .bias = 1,
         .depth = 1,
         .width = 40,
         .d = 9,
         .C = 1,
         .mode = "output"},
    };
    for (size_t k = 0; k < 3; k++)
        for (size_t i = 0; i < 6; i++) {
            sparse_one(&nets[k], dens[i], 0);
            sparse_one(&nets[k], dens[i], 16); /* the chunked passes */
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_synflow_conservation),
        cmocka_unit_test(test_hvp_against_fd),
        cmocka_unit_test(test_keep_and_schedule),
        cmocka_unit_test(test_exact_counts),
        cmocka_unit_test(test_ties_and_iterated_magnitude),
        cmocka_unit_test(test_antisymmetric_shared_mask),
        cmocka_unit_test(test_pruned_stay_zero),
        cmocka_unit_test(test_all_ones_mask_is_identity),
        cmocka_unit_test(test_sparse_equals_dense),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
