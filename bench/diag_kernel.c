/* diag_kernel.c — the empirical tangent kernel on a probe set by the layer-wise Gram trick
 * (probe.c: K = Σ_c Σ_l (Δ_lΔ_lᵀ) ∘ (A_lA_lᵀ + 1), per-sample gradients never formed) against
 * forming the per-sample gradients and multiplying them (K = Σ_c G_cG_cᵀ, G_c [P][params] with
 * row i = ∇f_c(x_i)), both in C over the same forward and backward passes, in the same run
 * (make bench). Also prints the largest relative difference of the two kernels.
 *
 * Network 784-256-256-10 (ReLU, biases, He init), P = 256 probe rows, float64, one OpenBLAS
 * thread. Time is the thread's CPU time; the Gram trick is the best of several runs, forming
 * the gradients one run (it takes seconds). The explicit side forms each output's gradients
 * one layer at a time (the first layer alone would need 256 × 200 960 doubles, 400 MB) and
 * multiplies them with dsyrk, the fastest way BLAS offers for GGᵀ.
 *
 * Usage: diag_kernel [P, default 256]. Output: one line,
 *   diag_kernel 784-256-256-10 P <P> gram_s <s> explicit_s <s> speedup <x> max_rel_diff <r> */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lazysweep/cfg.h"
#include "lazysweep/data.h"
#include "lazysweep/error.h"
#include "lazysweep/jac.h"
#include "lazysweep/mlp.h"
#include "lazysweep/model.h"
#include "lazysweep/probe.h"
#include "lazysweep/rng.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void make_job(struct ls_job *job, int64_t P)
{
    memset(job, 0, sizeof *job);
    job->seed = 1;
    snprintf(job->model.family, LS_NAME_MAX, "mlp");
    job->model.depth = 2;
    job->model.width = 256;
    job->model.init_scale = 1.0;
    snprintf(job->model.init, LS_NAME_MAX, "gaussian");
    snprintf(job->model.activation, LS_NAME_MAX, "relu");
    job->model.bias = 1;
    snprintf(job->model.variance, LS_NAME_MAX, "he");
    snprintf(job->model.parametrization, LS_NAME_MAX, "standard");
    snprintf(job->model.scale_mode, LS_NAME_MAX, "weights");
    snprintf(job->train.loss, LS_NAME_MAX, "cross_entropy");
    job->diag.probe_size = P;
}

/* K += G Gᵀ over one layer's per-sample gradients, formed explicitly: row i of G is
 * (mult·Δ[i] ⊗ A[i], Δ[i]) (weights then biases). */
static void explicit_layer(const double *D, const double *A, size_t P, size_t in, size_t out,
                           double mult, double *G, double *K)
{
    size_t cols = in * out + out;
    for (size_t i = 0; i < P; i++) {
        double *g = G + i * cols;
        for (size_t o = 0; o < out; o++)
            for (size_t k = 0; k < in; k++)
                g[o * in + k] = mult * D[i * out + o] * A[i * in + k];
        memcpy(g + in * out, D + i * out, out * sizeof *g);
    }
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (int)P, (int)cols, 1.0, G, (int)cols, 1.0,
                K, (int)P);
}

static void explicit_kernel(struct jac *j, const double *theta, const double *X, size_t P,
                            double *G, double *dF, double *K)
{
    size_t C = j->s.C, L = j->s.L, w = j->s.width;
    memset(K, 0, P * P * sizeof *K);
    jac_forward(j, theta, theta, X, P);
    for (size_t c = 0; c < C; c++) {
        memset(dF, 0, P * C * sizeof *dF);
        for (size_t i = 0; i < P; i++)
            dF[i * C + c] = 1.0;
        jac_backward(j, theta, 0, X, P, dF, NULL);
        for (size_t l = 0; l <= L; l++) {
            const double *A = l == 0 ? X : j->acts + (l - 1) * j->cap * w;
            size_t in = l == 0 ? j->s.d : w, out = l == L ? C : w;
            explicit_layer(j->delta + l * j->cap * j->wide, A, P, in, out, j->s.mult[l], G, K);
        }
    }
    jac_mirror(K, P);
}

int main(int argc, char **argv)
{
    size_t P = argc > 1 ? (size_t)atoi(argv[1]) : 256, d = 784, n = P;
    struct ls_job job;
    make_job(&job, (int64_t)P);
    struct ls_data data = {.n = n, .d = d, .task = LS_TASK_CLASSES, .n_classes = 10};
    data.X = malloc(n * d * sizeof *data.X);
    data.y = malloc(n * sizeof *data.y);
    struct ls_rng r;
    rng_init(&r, rng_key(1, 0, "bench.inputs", NULL, 0));
    for (size_t i = 0; i < n * d; i++)
        data.X[i] = rng_uniform(&r);
    for (size_t i = 0; i < n; i++)
        data.y[i] = (double)(i % 10);
    struct ls_model *m = NULL;
    struct probe *p = NULL;
    struct jac *j = NULL;
    if (mlp_ops.create(&job, &data, &m) != LS_OK ||
        probe_create(&job, &data, m, m->params, 0, &p) != LS_OK || jac_create(m, P, &j) != LS_OK) {
        fprintf(stderr, "diag_kernel: cannot build the model\n");
        return 1;
    }
    double *K1 = malloc(P * P * sizeof *K1), *K2 = malloc(P * P * sizeof *K2);
    double *G = malloc(P * (d * 256 + 256) * sizeof *G), *dF = malloc(P * 10 * sizeof *dF);
    if (!K1 || !K2 || !G || !dF)
        return 1;
    double best = INFINITY;
    for (int rep = 0; rep < 5; rep++) {
        double t0 = now();
        probe_kernel_of(p, m->params, data.X, P, K1);
        best = fmin(best, now() - t0);
    }
    double t0 = now();
    explicit_kernel(j, m->params, data.X, P, G, dF, K2);
    double naive = now() - t0, scale = 0, diff = 0;
    for (size_t i = 0; i < P * P; i++)
        scale = fmax(scale, fabs(K2[i]));
    for (size_t i = 0; i < P * P; i++)
        diff = fmax(diff, fabs(K1[i] - K2[i]) / scale);
    printf("diag_kernel 784-256-256-10 P %zu gram_s %.4f explicit_s %.3f speedup %.1f "
           "max_rel_diff %.2e\n",
           P, best, naive, naive / best, diff);
    free(K1);
    free(K2);
    free(G);
    free(dF);
    jac_destroy(&j);
    probe_destroy(&p);
    m->ops->destroy(&m);
    free(data.X);
    free(data.y);
    return diff < 1e-10 ? 0 : 1;
}
