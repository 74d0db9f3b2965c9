/* test_optim.c — optimizers, learning-rate rules and mini-batches against hand-computed values.
 *
 * Each update rule of optim.h is checked on a few parameters against the textbook formula
 * written out here (adam's bias correction in its m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ) form, not
 * PyTorch's order, so the two algebraic forms check each other; tolerance a few ulps). The loop
 * is driven through train_run with two small models defined here: a one-parameter quadratic
 * whose halve_on_rise trajectory is exact in binary (rejections at steps 1 and 2, then a factor
 * 1/4 per step), and least squares on hand-made data, where mini-batch SGD is replayed by hand
 * from the sampler's batches and a batch as large as the data must be gd bit for bit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lazysweep/error.h"
#include "lazysweep/optim.h"
#include "lazysweep/rng.h"
#include "lazysweep/train.h"

static void base_job(struct ls_job *job, const char *optimizer)
{
    memset(job, 0, sizeof *job);
    job->seed = 9;
    job->point_seed = 2;
    job->model.init_scale = 1;
    job->model.width = 1;
    job->model.depth = 2;
    snprintf(job->train.optimizer, LS_NAME_MAX, "%s", optimizer);
    snprintf(job->train.lr_schedule, LS_NAME_MAX, "constant");
    job->train.momentum = 0.9;
    job->train.beta1 = 0.9;
    job->train.beta2 = 0.999;
    job->train.eps = 1e-8;
    job->train.lr.base = 0.1;
}

static void expect_close(double got, double want, double rel, const char *what, int i)
{
    if (!(fabs(got - want) <= rel * fabs(want))) {
        print_error("%s[%d]: got %.17g, want %.17g (rel %.3g)\n", what, i, got, want,
                    fabs(got - want) / fabs(want));
        fail();
    }
}

static struct ls_optim *make_optim(const struct ls_job *job, size_t n)
{
    struct ls_optim *o = NULL;
    assert_int_equal(optim_create(job, n, &o), LS_OK);
    return o;
}

/* ---- update rules ---- */

/* gd and sgd: θ − η(g + λθ), and the gradient arena receives the decay. */
static void test_gd_weight_decay(void **state)
{
    (void)state;
    struct ls_job job;
    base_job(&job, "sgd");
    job.train.weight_decay.base = 0.5;
    struct ls_optim *o = make_optim(&job, 3);
    double p[3] = {1, -2, 4}, g[3] = {0.5, 0.25, -1};
    optim_step(o, 0.1, p, g);
    const double want[3] = {1 - 0.1 * (0.5 + 0.5), -2 - 0.1 * (0.25 - 1), 4 - 0.1 * (-1 + 2)};
    for (int i = 0; i < 3; i++)
        expect_close(p[i], want[i], 1e-15, "sgd", i);
    assert_true(g[0] == 0.5 + 0.5 * 1);
    optim_destroy(&o);
    optim_destroy(&o);
    assert_null(o);
}

/* Two steps of heavy ball and of Nesterov by hand: v₁ = g₁, v₂ = μg₁ + g₂. */
static void test_momentum_nesterov(void **state)
{
    (void)state;
    const double mu = 0.9, lr = 0.1, g1 = 2, g2 = -1, p0 = 1;
    const char *names[2] = {"momentum", "nesterov"};
    for (int k = 0; k < 2; k++) {
        struct ls_job job;
        base_job(&job, names[k]);
        struct ls_optim *o = make_optim(&job, 1);
        double p = p0, g = g1;
        optim_step(o, lr, &p, &g);
        double v1 = g1, v2 = mu * g1 + g2;
        double want1 = k == 0 ? p0 - lr * v1 : p0 - lr * (g1 + mu * v1);
        expect_close(p, want1, 1e-15, names[k], 1);
        g = g2;
        optim_step(o, lr, &p, &g);
        double want2 = k == 0 ? want1 - lr * v2 : want1 - lr * (g2 + mu * v2);
        expect_close(p, want2, 1e-15, names[k], 2);
        optim_destroy(&o);
    }
}

/* Textbook Adam over three steps; the first step moves every coordinate by about lr whatever
 * the gradient's scale (bias correction), and a zero gradient moves nothing. */
static void test_adam(void **state)
{
    (void)state;
    struct ls_job job;
    base_job(&job, "adam");
    const double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8;
    const double grads[3][4] = {{1e-3, -5, 1e3, 0}, {2e-3, 4, -1e3, 0}, {-1e-3, 1, 1e3, 0}};
    struct ls_optim *o = make_optim(&job, 4);
    double p[4] = {1, 1, 1, 1}, want[4] = {1, 1, 1, 1}, m[4] = {0}, v[4] = {0};
    for (int t = 1; t <= 3; t++) {
        double g[4];
        memcpy(g, grads[t - 1], sizeof g);
        optim_step(o, lr, p, g);
        for (int i = 0; i < 4; i++) {
            double gi = grads[t - 1][i];
            m[i] = b1 * m[i] + (1 - b1) * gi;
            v[i] = b2 * v[i] + (1 - b2) * gi * gi;
            double mh = m[i] / (1 - pow(b1, t)), vh = v[i] / (1 - pow(b2, t));
            want[i] -= lr * mh / (sqrt(vh) + eps);
        }
        for (int i = 0; i < 4; i++)
            expect_close(p[i], want[i], 4e-15, "adam", i);
        if (t == 1)
            for (int i = 0; i < 3; i++)
                expect_close(1 - p[i],
                             copysign(lr, grads[0][i]) * fabs(grads[0][i]) /
                                 (fabs(grads[0][i]) + eps),
                             1e-12, "adam step 1", i);
    }
    assert_true(p[3] == 1.0);
    assert_int_equal(o->t, 3);
    optim_destroy(&o);
}

/* With g = 0: adamw only decays (θ(1 − ηλ), decoupled), adam with L2 moves by about η·sign(θ). */
static void test_adam_decay_kinds(void **state)
{
    (void)state;
    struct ls_job job;
    base_job(&job, "adamw");
    job.train.weight_decay.base = 0.1;
    struct ls_optim *o = make_optim(&job, 2);
    double p[2] = {3, -2}, g[2] = {0, 0};
    optim_step(o, 0.5, p, g);
    assert_true(p[0] == 3 - 0.5 * 0.1 * 3);
    assert_true(p[1] == -2 - 0.5 * 0.1 * -2);
    optim_destroy(&o);
    base_job(&job, "adam");
    job.train.weight_decay.base = 0.1;
    o = make_optim(&job, 2);
    p[0] = 3, p[1] = -2, g[0] = g[1] = 0;
    optim_step(o, 0.5, p, g);
    expect_close(p[0], 3 - 0.5 * 0.3 / (0.3 + 1e-8), 1e-15, "adam L2", 0);
    expect_close(p[1], -2 + 0.5 * 0.2 / (0.2 + 1e-8), 1e-15, "adam L2", 1);
    optim_destroy(&o);
}

/* The coupling form applies to weight decay: λ = base · α^e · width^f. */
static void test_weight_decay_coupling(void **state)
{
    (void)state;
    struct ls_job job;
    base_job(&job, "gd");
    job.train.weight_decay.base = 0.2;
    job.train.weight_decay.exp[0] = -2;
    job.train.weight_decay.exp[1] = -1;
    job.model.init_scale = 0.5;
    job.model.width = 8;
    struct ls_optim *o = make_optim(&job, 1);
    expect_close(o->wd, 0.2 * 4 / 8, 1e-15, "wd", 0);
    optim_destroy(&o);
}

/* ---- learning-rate rules ---- */

static void test_step_decay(void **state)
{
    (void)state;
    struct ls_job job;
    base_job(&job, "gd");
    assert_true(optim_lr(&job, 0.3, 1000) == 0.3);
    snprintf(job.train.lr_schedule, LS_NAME_MAX, "step");
    job.train.lr_decay_factor = 0.5;
    job.train.lr_decay_at.n = 2;
    job.train.lr_decay_at.v[0] = 20; /* any order */
    job.train.lr_decay_at.v[1] = 10;
    assert_true(optim_lr(&job, 0.3, 0) == 0.3);
    assert_true(optim_lr(&job, 0.3, 9) == 0.3);
    assert_true(optim_lr(&job, 0.3, 10) == 0.3 * 0.5);
    assert_true(optim_lr(&job, 0.3, 19) == 0.3 * 0.5);
    assert_true(optim_lr(&job, 0.3, 20) == 0.3 * 0.5 * 0.5);
    assert_true(optim_lr(&job, 0.3, 1000000) == 0.3 * 0.5 * 0.5);
}

static void test_check_rules(void **state)
{
    (void)state;
    struct ls_job job;
    const char *key = NULL;
    char msg[256];
    base_job(&job, "sgd");
    job.data.n_train = 100;
    assert_int_equal(optim_check(&job, &key, msg, sizeof msg), LS_EJOB);
    assert_string_equal(key, "train.batch_size");
    job.train.batch_size = 10;
    assert_int_equal(optim_check(&job, &key, msg, sizeof msg), LS_OK);
    snprintf(job.train.lr_schedule, LS_NAME_MAX, "halve_on_rise");
    assert_int_equal(optim_check(&job, &key, msg, sizeof msg), LS_EJOB);
    assert_string_equal(key, "train.lr_schedule");
    job.train.batch_size = 100; /* a batch of everything is a full batch */
    assert_int_equal(optim_check(&job, &key, msg, sizeof msg), LS_OK);
    snprintf(job.train.lr_schedule, LS_NAME_MAX, "step");
    assert_int_equal(optim_check(&job, &key, msg, sizeof msg), LS_EJOB);
    assert_string_equal(key, "train.lr_decay.at");
    assert_int_equal(optim_kind("adamw"), LS_OPT_ADAMW);
    assert_int_equal(optim_kind("lbfgs"), -1);
}

/* ---- the sampler ---- */

/* Every epoch is a permutation cut into ⌈n/b⌉ batches (the last shorter); epoch 1 equals a
 * Fisher–Yates shuffle from the top written here over the documented stream; the seed axis
 * changes the order. */
static void test_batcher(void **state)
{
    (void)state;
    struct ls_job job;
    base_job(&job, "sgd");
    const size_t n = 23, b = 5;
    struct ls_batcher *bt = NULL;
    assert_int_equal(batcher_create(&job, n, b, &bt), LS_OK);
    struct ls_rng r;
    int64_t shape[2] = {(int64_t)n, (int64_t)b};
    rng_init(&r, rng_key(9, 2, "train.batches", shape, 2));
    for (int epoch = 0; epoch < 3; epoch++) {
        size_t perm[23], seen[23] = {0}, pos = 0;
        for (size_t i = 0; i < n; i++)
            perm[i] = i;
        for (size_t i = n - 1; i > 0; i--) {
            size_t j = (size_t)rng_below(&r, i + 1), t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        for (int k = 0; k < 5; k++) {
            const size_t *idx;
            size_t len;
            batcher_next(bt, &idx, &len);
            assert_int_equal(len, k < 4 ? 5 : 3);
            for (size_t i = 0; i < len; i++, pos++) {
                assert_int_equal(idx[i], perm[pos]);
                seen[idx[i]]++;
            }
        }
        for (size_t i = 0; i < n; i++)
            assert_int_equal(seen[i], 1);
    }
    assert_int_equal(bt->epoch, 3);
    batcher_destroy(&bt);
    struct ls_batcher *b1 = NULL, *b2 = NULL;
    job.point_seed = 3;
    assert_int_equal(batcher_create(&job, n, b, &b1), LS_OK);
    job.point_seed = 2;
    assert_int_equal(batcher_create(&job, n, b, &b2), LS_OK);
    const size_t *i1, *i2;
    size_t l1, l2;
    batcher_next(b1, &i1, &l1);
    batcher_next(b2, &i2, &l2);
    assert_true(memcmp(i1, i2, b * sizeof *i1) != 0);
    batcher_destroy(&b1);
    batcher_destroy(&b2);
    assert_int_equal(batcher_create(&job, 5, 6, &b1), LS_EINVAL);
}

/* ---- two tiny models for the loop ---- */

/* L(θ) = θ² on one parameter, whatever the data. */
static double quad_loss(struct ls_model *m, const struct ls_data *d, int grad)
{
    (void)d;
    if (grad)
        m->grad[0] = 2 * m->params[0];
    return m->params[0] * m->params[0];
}

/* Least squares (1/n)·Σ(⟨xᵢ, θ⟩ − yᵢ)² on d's n rows (a batch or the whole set). */
static double lsq_loss(struct ls_model *m, const struct ls_data *d, int grad)
{
    double L = 0;
    if (grad)
        memset(m->grad, 0, m->n_params * sizeof *m->grad);
    for (size_t i = 0; i < d->n; i++) {
        double r = -d->y[i];
        for (size_t j = 0; j < d->d; j++)
            r += d->X[i * d->d + j] * m->params[j];
        L += r * r;
        for (size_t j = 0; grad && j < d->d; j++)
            m->grad[j] += 2 * r * d->X[i * d->d + j] / (double)d->n;
    }
    return L / (double)d->n;
}

static int no_eval(struct ls_model *m, const struct ls_data *d, const char *name, double *out)
{
    (void)m, (void)d, (void)name, (void)out;
    return LS_ENOTFOUND;
}

static struct ls_model_ops quad_ops = {.name = "quad", .loss = quad_loss, .eval = no_eval};
static struct ls_model_ops lsq_ops = {.name = "lsq", .loss = lsq_loss, .eval = no_eval};

#define NP 3
#define NS 20

struct run {
    struct ls_job job;
    double params[NP], grad[NP];
    struct ls_model m;
    struct ls_data d;
    double X[NS * NP], y[NS];
    int64_t steps[64];
    size_t T;
    struct ls_result res;
};

/* Every step logged (max_steps < 64); metrics train_loss and steps. */
static void run_setup(struct run *r, const char *opt, const struct ls_model_ops *ops,
                      int64_t max_steps)
{
    memset(r, 0, sizeof *r);
    base_job(&r->job, opt);
    r->job.train.max_steps = max_steps;
    r->job.n_metrics = 2;
    snprintf(r->job.metrics[0], LS_NAME_MAX, "train_loss");
    snprintf(r->job.metrics[1], LS_NAME_MAX, "steps");
    r->job.n_traj = 1;
    snprintf(r->job.traj[0], LS_NAME_MAX, "train_loss");
    r->m = (struct ls_model){
        .ops = ops, .n_params = ops == &quad_ops ? 1 : NP, .params = r->params, .grad = r->grad};
    r->d = (struct ls_data){.n = NS, .d = NP, .X = r->X, .y = r->y};
    for (size_t i = 0; i < NS; i++) { /* a fixed design; y = Xθ* + a little misfit */
        const double theta_star[NP] = {1, -2, 0.5};
        r->y[i] = 0.1 * cos((double)i);
        for (size_t j = 0; j < NP; j++) {
            r->X[i * NP + j] = sin((double)(i * NP + j) + 1.0);
            r->y[i] += r->X[i * NP + j] * theta_star[j];
        }
    }
    r->job.data.n_train = NS;
    r->T = (size_t)max_steps + 1;
    for (size_t t = 0; t < r->T; t++)
        r->steps[t] = (int64_t)t;
    assert_int_equal(result_init(&r->res, 2, 1, (uint32_t)r->T, 0), LS_OK);
}

static void run_go(struct run *r)
{
    assert_int_equal(train_run(&r->job, &r->m, &r->d, r->steps, r->T, &r->res, NULL, NULL), LS_OK);
}

/* θ₀ = 1, η₀ = 3: θ(1 − 2η) = −5 and −2 raise the loss and are undone (steps 1 and 2 log the
 * loss 1 again), η = 0.75 halves |θ| from then on: L = 1, 1, 1, 1/4, 1/16, … exactly. */
static void test_halve_on_rise(void **state)
{
    (void)state;
    struct run *r = calloc(1, sizeof *r);
    assert_non_null(r);
    run_setup(r, "gd", &quad_ops, 10);
    snprintf(r->job.train.lr_schedule, LS_NAME_MAX, "halve_on_rise");
    r->job.train.lr.base = 3;
    r->params[0] = 1;
    run_go(r);
    assert_int_equal(r->res.status, LS_ST_DONE);
    const double want[11] = {1,         1,          1,          1.0 / 4,     1.0 / 16,   1.0 / 64,
                             1.0 / 256, 1.0 / 1024, 1.0 / 4096, 1.0 / 16384, 1.0 / 65536};
    for (int s = 0; s <= 10; s++)
        expect_close(r->res.traj[s], want[s], 0, "halve_on_rise loss", s);
    /* The same under a constant rate diverges: |θ| grows 5× per step. */
    result_free(&r->res);
    run_setup(r, "gd", &quad_ops, 10);
    r->job.train.lr.base = 3;
    r->params[0] = 1;
    run_go(r);
    assert_int_equal(r->res.status, LS_ST_DIVERGED);
    result_free(&r->res);
    free(r);
}

/* sgd with a batch of the whole set (or more) is gd bit for bit. */
static void test_full_batch_is_gd(void **state)
{
    (void)state;
    struct run *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
    assert_non_null(a);
    assert_non_null(b);
    run_setup(a, "gd", &lsq_ops, 30);
    run_setup(b, "sgd", &lsq_ops, 30);
    b->job.train.batch_size = NS + 5;
    run_go(a);
    run_go(b);
    assert_memory_equal(a->params, b->params, sizeof a->params);
    assert_memory_equal(a->res.traj, b->res.traj, a->T * sizeof(double));
    result_free(&a->res);
    result_free(&b->res);
    free(a);
    free(b);
}

/* Mini-batch momentum with weight decay and a step decay, replayed by hand: the batches from a
 * second sampler, the gradient of each batch and the update written out here; every logged
 * train_loss is the full-data loss of the parameters at that step. */
static void test_minibatch_replay(void **state)
{
    (void)state;
    struct run *r = calloc(1, sizeof *r);
    assert_non_null(r);
    run_setup(r, "momentum", &lsq_ops, 40);
    r->job.train.batch_size = 6;
    r->job.train.weight_decay.base = 0.01;
    snprintf(r->job.train.lr_schedule, LS_NAME_MAX, "step");
    r->job.train.lr_decay_at.n = 1;
    r->job.train.lr_decay_at.v[0] = 25;
    r->job.train.lr_decay_factor = 0.5;
    run_go(r);
    assert_int_equal(r->res.status, LS_ST_DONE);
    struct ls_batcher *bt = NULL;
    assert_int_equal(batcher_create(&r->job, NS, 6, &bt), LS_OK);
    double th[NP] = {0}, v[NP] = {0};
    for (int s = 0; s <= 40; s++) {
        double L = 0;
        for (size_t i = 0; i < NS; i++) {
            double e = -r->y[i];
            for (int j = 0; j < NP; j++)
                e += r->X[i * NP + j] * th[j];
            L += e * e / NS;
        }
        expect_close(r->res.traj[s], L, 1e-12, "replayed full loss", s);
        if (s == 40)
            break;
        const size_t *idx;
        size_t len;
        double g[NP] = {0};
        batcher_next(bt, &idx, &len);
        for (size_t k = 0; k < len; k++) {
            double e = -r->y[idx[k]];
            for (int j = 0; j < NP; j++)
                e += r->X[idx[k] * NP + j] * th[j];
            for (int j = 0; j < NP; j++)
                g[j] += 2 * e * r->X[idx[k] * NP + j] / (double)len;
        }
        double lr = s < 25 ? 0.1 : 0.05;
        for (int j = 0; j < NP; j++) {
            v[j] = 0.9 * v[j] + g[j] + 0.01 * th[j];
            th[j] -= lr * v[j];
        }
    }
    for (int j = 0; j < NP; j++)
        expect_close(r->params[j], th[j], 1e-12, "replayed params", j);
    assert_true(r->res.traj[40] < 0.8 * r->res.traj[0]);
    batcher_destroy(&bt);
    result_free(&r->res);
    free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gd_weight_decay),
        cmocka_unit_test(test_momentum_nesterov),
        cmocka_unit_test(test_adam),
        cmocka_unit_test(test_adam_decay_kinds),
        cmocka_unit_test(test_weight_decay_coupling),
        cmocka_unit_test(test_step_decay),
        cmocka_unit_test(test_check_rules),
        cmocka_unit_test(test_batcher),
        cmocka_unit_test(test_halve_on_rise),
        cmocka_unit_test(test_full_batch_is_gd),
        cmocka_unit_test(test_minibatch_replay),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
