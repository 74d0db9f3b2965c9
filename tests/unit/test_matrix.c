/* test_matrix.c — the matrix family and its data kinds against independent references: the
 * gradient against central finite differences of the loss, W against a naive product of the
 * factors, the mirror U_{D+1−i} = U_iᵀ held by gradient descent (so D = 2 is UUᵀ and W stays
 * symmetric), the metrics against closed forms on W = α^D·diag(1,…,1,0,…) and against LAPACK's
 * symmetric eigenvalues, and the data: W* = VVᵀ/‖VVᵀ‖_F symmetric PSD of rank r, observations
 * that are entries of W* in both orders, GOE sensing matrices, and prefixes in the counts. */
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

#include "lazysweep/data.h"
#include "lazysweep/error.h"
#include "lazysweep/matrix.h"
#include "lazysweep/model.h"

#include "fixtures.h"

static void make_job(struct ls_job *job, const char *kind, int D, int k, double alpha,
                     const char *init)
{
    memset(job, 0, sizeof *job);
    job->seed = 9;
    snprintf(job->model.family, LS_NAME_MAX, "matrix");
    snprintf(job->model.init, LS_NAME_MAX, "%s", init);
    job->model.depth = D;
    job->model.width = k;
    job->model.init_scale = alpha;
    snprintf(job->data.kind, LS_NAME_MAX, "%s", kind);
    job->data.dim = 6;
    job->data.rank = 2;
    job->data.observed = 12;
    job->data.measurements = 15;
    snprintf(job->train.optimizer, LS_NAME_MAX, "gd");
}

/* The product of the factors by plain triple loops, into w [dim][dim]. */
static void naive_product(struct ls_model *m, int D, size_t dim, double *w)
{
    size_t r0, c0;
    double *acc = malloc(dim * 64 * sizeof *acc), *nxt = malloc(dim * 64 * sizeof *nxt);
    const double *U = matrix_factor(m, 0, &r0, &c0);
    memcpy(acc, U, r0 * c0 * sizeof *acc);
    for (int i = 1; i < D; i++) {
        size_t r, c;
        U = matrix_factor(m, i, &r, &c);
        for (size_t a = 0; a < dim; a++)
            for (size_t b = 0; b < c; b++) {
                double s = 0;
                for (size_t j = 0; j < r; j++)
                    s += acc[a * r + j] * U[j * c + b];
                nxt[a * c + b] = s;
            }
        memcpy(acc, nxt, dim * c * sizeof *acc);
    }
    memcpy(w, acc, dim * dim * sizeof *w);
    free(acc);
    free(nxt);
}

/* Central differences at h = 1e-6 on a loss of order 1e-2..1: truncation h²·L‴ and rounding
 * ε·L/h are both below 1e-8 here, so 1e-6 relative to max(|g|, 1e-3·‖g‖∞) has a wide margin. */
static double max_rel_grad_error(struct ls_model *m, const struct ls_data *d)
{
    const double h = 1e-6;
    size_t np = m->n_params;
    double *g = malloc(np * sizeof *g), gmax = 0, worst = 0;
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
        worst = fmax(worst, fabs((lp - lm) / (2 * h) - g[i]) / fmax(fabs(g[i]), 1e-3 * gmax));
    }
    free(g);
    return worst;
}

static void test_gradient_and_product(void **state)
{
    (void)state;
    const char *kinds[] = {"matrix_completion", "matrix_sensing"};
    const char *inits[] = {"identity", "gaussian"};
    double w[36];
    for (int a = 0; a < 2; a++)
        for (int D = 2; D <= 4; D++)
            for (int b = 0; b < 2; b++) {
                struct ls_job job;
                struct ls_data *d = NULL;
                struct ls_model *m = NULL;
                make_job(&job, kinds[a], D, 4, 0.9, inits[b]);
                fx_build(&matrix_ops, &job, &d, &m);
                for (size_t i = 0; i < m->n_params; i++) /* off the mirror and the identity */
                    m->params[i] += 0.1 * sin(3.0 * (double)i + 1);
                double err = max_rel_grad_error(m, d);
                naive_product(m, D, 6, w);
                const double *W = matrix_W(m);
                for (int i = 0; i < 36; i++)
                    assert_true(fabs(W[i] - w[i]) <= 1e-13);
                if (!(err < 1e-6)) {
                    print_error("%s D=%d %s: gradient rel err %.3g\n", kinds[a], D, inits[b], err);
                    fail();
                }
                matrix_ops.destroy(&m);
                data_destroy(&d);
            }
}

/* Started mirrored, GD keeps U_{D−1−i} = U_iᵀ (the symmetric gradient makes the two updates
 * transposes): after 300 steps the factors still mirror each other to rounding, W is symmetric
 * and, for D = 2, equal to U₁U₁ᵀ. */
static void test_mirror_is_kept(void **state)
{
    (void)state;
    for (int D = 2; D <= 5; D++) {
        struct ls_job job;
        struct ls_data *d = NULL;
        struct ls_model *m = NULL;
        double v;
        make_job(&job, D % 2 ? "matrix_sensing" : "matrix_completion", D, 5, 0.6, "gaussian");
        fx_build(&matrix_ops, &job, &d, &m);
        fx_gd_steps(m, d, 0.05, 300);
        for (int i = 0; 2 * i + 1 < D; i++) {
            size_t r, c, r2, c2;
            const double *A = matrix_factor(m, i, &r, &c),
                         *B = matrix_factor(m, D - 1 - i, &r2, &c2);
            assert_true(r == c2 && c == r2);
            for (size_t p = 0; p < r; p++)
                for (size_t q = 0; q < c; q++)
                    assert_true(fabs(A[p * c + q] - B[q * r + p]) <= 1e-13);
        }
        assert_int_equal(m->ops->eval(m, d, "asymmetry", &v), LS_OK);
        assert_true(v <= 1e-13);
        if (D == 2) {
            size_t r, c;
            const double *U = matrix_factor(m, 0, &r, &c), *W = matrix_W(m);
            for (size_t a = 0; a < 6; a++)
                for (size_t b = 0; b < 6; b++)
                    assert_true(fabs(W[a * 6 + b] -
                                     cblas_ddot((int)c, U + a * c, 1, U + b * c, 1)) <= 1e-14);
        }
        matrix_ops.destroy(&m);
        data_destroy(&d);
    }
}

/* identity init: W = α^D·diag(1, 1, 1, 0, 0, 0) for k = 3, so nuclear_norm = 3α^D and
 * effective_rank = 3 exactly; test_error = ‖W − W*‖²_F/‖W*‖²_F computed here. Then after some
 * training, nuclear_norm against the eigenvalues of the (symmetric) W from LAPACK's dsyev. */
static void test_metrics_closed_form(void **state)
{
    (void)state;
    struct ls_job job;
    struct ls_data *d = NULL;
    struct ls_model *m = NULL;
    double v, w[36], ev[6], te = 0, ws = 0;
    make_job(&job, "matrix_completion", 3, 3, 0.7, "identity");
    fx_build(&matrix_ops, &job, &d, &m);
    const double *W = matrix_W(m);
    for (int i = 0; i < 36; i++) {
        double want = (i % 7 == 0 && i / 7 < 3) ? pow(0.7, 3) : 0.0;
        assert_true(fabs(W[i] - want) <= 1e-16);
        te += (W[i] - d->beta_star[i]) * (W[i] - d->beta_star[i]);
        ws += d->beta_star[i] * d->beta_star[i];
    }
    assert_int_equal(m->ops->eval(m, d, "nuclear_norm", &v), LS_OK);
    assert_true(fabs(v - 3 * pow(0.7, 3)) <= 1e-14);
    assert_int_equal(m->ops->eval(m, d, "effective_rank", &v), LS_OK);
    assert_true(fabs(v - 3) <= 1e-12);
    assert_int_equal(m->ops->eval(m, d, "test_error", &v), LS_OK);
    assert_true(fabs(v - te / ws) <= 1e-14);
    fx_gd_steps(m, d, 0.5, 200);
    memcpy(w, matrix_W(m), sizeof w);
    assert_int_equal(LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'N', 'U', 6, w, 6, ev), 0);
    double nuc = 0;
    for (int i = 0; i < 6; i++)
        nuc += fabs(ev[i]);
    assert_int_equal(m->ops->eval(m, d, "nuclear_norm", &v), LS_OK);
    assert_true(fabs(v - nuc) <= 1e-12 * nuc);
    assert_int_equal(m->ops->eval(m, d, "nonsense", &v), LS_ENOTFOUND);
    matrix_ops.destroy(&m);
    matrix_ops.destroy(&m);
    data_destroy(&d);
}

/* W* = VVᵀ/‖VVᵀ‖_F: symmetric, unit Frobenius norm, exactly `rank` positive eigenvalues. */
static void check_truth(const double *ws, int dim, int rank)
{
    double a[64 * 64], ev[64], fro = 0;
    memcpy(a, ws, (size_t)(dim * dim) * sizeof *a);
    for (int i = 0; i < dim * dim; i++)
        fro += ws[i] * ws[i];
    assert_true(fabs(fro - 1) <= 1e-14);
    for (int p = 0; p < dim; p++)
        for (int q = 0; q < dim; q++)
            assert_true(ws[p * dim + q] == ws[q * dim + p]);
    assert_int_equal(LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'N', 'U', dim, a, dim, ev), 0);
    for (int i = 0; i < dim; i++)
        assert_true(i < dim - rank ? fabs(ev[i]) <= 1e-14 : ev[i] > 1e-3);
}

/* Completion: every observation is an entry of W* (noise 0), both orders of an off-diagonal
 * pair are present, no entry twice, and `observed` = 8 gives a prefix of `observed` = 12's
 * upper-triangle picks; model axes change nothing. */
static void test_completion_data(void **state)
{
    (void)state;
    struct ls_job ja, jb;
    struct ls_data *a = NULL, *b = NULL;
    make_job(&ja, "matrix_completion", 2, 3, 1.0, "identity");
    jb = ja;
    jb.data.observed = 8;
    jb.model.depth = 4;
    jb.model.init_scale = 0.01;
    assert_int_equal(data_create(&ja, &a), LS_OK);
    assert_int_equal(data_create(&jb, &b), LS_OK);
    assert_null(a->X);
    assert_int_equal(a->d, 36);
    check_truth(a->beta_star, 6, 2);
    assert_memory_equal(a->beta_star, b->beta_star, 36 * sizeof(double));
    int seen[36] = {0}, diag = 0;
    for (size_t i = 0; i < a->n; i++) {
        size_t idx = a->X_index[i], p = idx / 6, q = idx % 6;
        assert_true(idx < 36 && seen[idx]++ == 0);
        assert_true(a->y[i] == a->beta_star[idx]);
        diag += p == q;
    }
    for (int i = 0; i < 36; i++)
        assert_int_equal(seen[i], seen[(i % 6) * 6 + i / 6]);
    assert_int_equal(a->n, 2 * 12 - diag);
    assert_true(b->n < a->n);
    assert_memory_equal(a->X_index, b->X_index, b->n * sizeof(size_t));
    data_destroy(&a);
    data_destroy(&b);
}

/* Sensing: A_i symmetric with off-diagonal variance 1 and diagonal variance 2 (sample moments
 * over many measurements), y_i = ⟨A_i, W*⟩ exactly, and m = 15 is a prefix of m = 400. */
static void test_sensing_data(void **state)
{
    (void)state;
    struct ls_job ja, jb;
    struct ls_data *a = NULL, *b = NULL;
    make_job(&ja, "matrix_sensing", 2, 3, 1.0, "identity");
    jb = ja;
    jb.data.measurements = 400;
    assert_int_equal(data_create(&ja, &a), LS_OK);
    assert_int_equal(data_create(&jb, &b), LS_OK);
    check_truth(b->beta_star, 6, 2);
    assert_memory_equal(a->X, b->X, 15 * 36 * sizeof(double));
    assert_memory_equal(a->y, b->y, 15 * sizeof(double));
    double off = 0, dg = 0;
    for (size_t i = 0; i < b->n; i++) {
        const double *A = b->X + i * 36;
        for (int p = 0; p < 6; p++)
            for (int q = 0; q < 6; q++) {
                assert_true(A[p * 6 + q] == A[q * 6 + p]);
                *(p == q ? &dg : &off) += A[p * 6 + q] * A[p * 6 + q];
            }
        assert_true(fabs(b->y[i] - cblas_ddot(36, A, 1, b->beta_star, 1)) <= 1e-14);
    }
    off /= 400.0 * 30, dg /= 400.0 * 6; /* 30 off-diagonal and 6 diagonal entries per matrix */
    assert_true(fabs(off - 1) < 0.1 && fabs(dg - 2) < 0.3); /* 4 to 5 standard errors */
    data_destroy(&a);
    data_destroy(&b);
}

static void expect_rejected(struct ls_job *job, const char *key)
{
    const char *got = NULL;
    char msg[256] = "";
    assert_int_equal(matrix_ops.check(job, &got, msg, sizeof msg), LS_EJOB);
    assert_non_null(got);
    assert_string_equal(got, key);
}

static void test_check_and_registry(void **state)
{
    (void)state;
    struct ls_job job;
    const char *key = NULL;
    char msg[256];
    make_job(&job, "matrix_completion", 3, 4, 0.1, "identity");
    assert_int_equal(matrix_ops.check(&job, &key, msg, sizeof msg), LS_OK);
    job.model.depth = 1;
    expect_rejected(&job, "model.depth");
    job.model.depth = 3;
    job.train.batch_size = 8;
    expect_rejected(&job, "train.batch_size");
    job.train.batch_size = 0;
    snprintf(job.data.kind, LS_NAME_MAX, "sparse_regression");
    expect_rejected(&job, "data.kind");
    assert_ptr_equal(model_find("matrix"), &matrix_ops);
    assert_true(model_has_metric(&matrix_ops, "effective_rank"));
    assert_false(model_has_metric(&matrix_ops, "population_error"));
    make_job(&job, "matrix_sensing", 3, 4, 0.1, "identity");
    assert_int_equal(matrix_ops.vector_len(&job, "W"), 36);
    assert_int_equal(matrix_ops.vector_len(&job, "params_final"), 2 * 6 * 4 + 16);
}

int main(void)
{
    openblas_set_num_threads(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gradient_and_product), cmocka_unit_test(test_mirror_is_kept),
        cmocka_unit_test(test_metrics_closed_form),  cmocka_unit_test(test_completion_data),
        cmocka_unit_test(test_sensing_data),         cmocka_unit_test(test_check_and_registry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
