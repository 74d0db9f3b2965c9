/* prune_speed.c — what sparse training pays (make bench): the step time of a pruned mlp against
 * its density, with its pruned layers run as masked dense products (threshold 0), as sparse ×
 * dense products (every pruned layer sparse), and as the family chooses by default (sparse below
 * SPARSE_DENSITY), next to the unpruned dense step.
 *
 * A step is loss (forward) + descend (backward writing the update), plain SGD on a fixed batch,
 * as mlp_speed.c. 784-1024×3-10 at batch 128 runs through the mlp family. The family's hidden
 * layers all have one width, so 784-300-100-10 at batch 64 is timed at the level of its three
 * layers' products alone (forward, input gradient, weight gradient: dgemm against sparse.h),
 * which is where the two paths differ. Time is the thread's CPU time of the fastest of many
 * short blocks, so a shared machine's other work does not count.
 *
 * Output, one line per density: net, density %, ms per step masked-dense / sparse / default,
 * the dense step's ms, and the ratios dense ÷ sparse and default ÷ masked-dense.
 * Usage: prune_speed [seconds per measurement, default 0.5]; PRUNE_SPEED_ONLY=D times the
 * family's net at density D alone (for a profiler). */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lazysweep/cfg.h"
#include "lazysweep/data.h"
#include "lazysweep/error.h"
#include "lazysweep/mlp.h"
#include "lazysweep/model.h"
#include "lazysweep/rng.h"
#include "lazysweep/sparse.h"

#define BLOCK 0.01
#define MIN_BLOCKS 15

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Seconds per call of fn: the fastest block of calls, within about `seconds`. */
static double best_time(void (*fn)(void *), void *arg, double seconds)
{
    double best = INFINITY, end = now() + seconds;
    fn(arg); /* warm-up */
    for (int b = 0; b < MIN_BLOCKS || now() < end; b++) {
        double t0 = now(), t;
        long calls = 0;
        do {
            fn(arg);
            calls++;
        } while ((t = now() - t0) < BLOCK);
        best = fmin(best, t / (double)calls);
    }
    return best;
}

/* ---- through the family ---- */

struct step {
    struct ls_model *m;
    struct ls_data *d;
};

static void family_step(void *arg)
{
    struct step *s = arg;
    s->m->ops->loss(s->m, s->d, 0);
    s->m->ops->descend(s->m, s->d, 1e-6); /* tiny: the weights stay where they are */
}

static struct ls_data *batch_data(size_t n, size_t d, size_t C)
{
    struct ls_data *D = calloc(1, sizeof *D);
    *D = (struct ls_data){.n = n, .d = d, .task = LS_TASK_CLASSES, .n_classes = C};
    D->X = malloc(n * d * sizeof *D->X);
    D->y = malloc(n * sizeof *D->y);
    struct ls_rng r;
    rng_init(&r, 99);
    for (size_t i = 0; i < n * d; i++)
        D->X[i] = rng_normal(&r);
    for (size_t i = 0; i < n; i++)
        D->y[i] = (double)(i % C);
    return D;
}

static struct ls_model *family_model(const struct ls_data *D, double density)
{
    struct ls_job job;
    memset(&job, 0, sizeof job);
    job.seed = 1;
    snprintf(job.model.family, LS_NAME_MAX, "mlp");
    job.model.depth = 3;
    job.model.width = 1024;
    job.model.init_scale = 1;
    job.model.sparsity = 1 - density;
    job.model.bias = 1;
    snprintf(job.model.init, LS_NAME_MAX, "gaussian");
    snprintf(job.model.activation, LS_NAME_MAX, "relu");
    snprintf(job.model.variance, LS_NAME_MAX, "he");
    snprintf(job.model.parametrization, LS_NAME_MAX, "standard");
    snprintf(job.model.scale_mode, LS_NAME_MAX, "weights");
    snprintf(job.train.loss, LS_NAME_MAX, "cross_entropy");
    snprintf(job.prune.method, LS_NAME_MAX, "random");
    snprintf(job.prune.schedule, LS_NAME_MAX, "exponential");
    snprintf(job.prune.scope, LS_NAME_MAX, "global");
    struct ls_model *m = NULL;
    if (mlp_ops.create(&job, D, &m) != LS_OK)
        exit(1);
    return m;
}

static void print_row(const char *net, double d, double masked, double sparse, double def,
                      double dense)
{
    printf("%-16s %6.1f%% %9.3f %9.3f %9.3f %9.3f %8.2fx %8.3f\n", net, 100 * d, 1e3 * masked,
           1e3 * sparse, 1e3 * def, 1e3 * dense, dense / sparse, def / masked);
}

static void family_rows(const double *dens, size_t nd, double seconds)
{
    struct ls_data *D = batch_data(128, 784, 10);
    struct step s = {family_model(D, 1.0), D};
    double dense = best_time(family_step, &s, seconds);
    mlp_ops.destroy(&s.m);
    for (size_t k = 0; k < nd; k++) {
        s.m = family_model(D, dens[k]);
        double t[3];
        const double thr[3] = {0.0, 2.0, -1.0};
        for (int i = 0; i < 3; i++) {
            if (thr[i] >= 0)
                mlp_set_sparse(s.m, thr[i]);
            else { /* the default choice, as create made it */
                mlp_ops.destroy(&s.m);
                s.m = family_model(D, dens[k]);
            }
            t[i] = best_time(family_step, &s, seconds);
        }
        print_row("784-1024x3-10", dens[k], t[0], t[1], t[2], dense);
        mlp_ops.destroy(&s.m);
    }
    free(D->X), free(D->y), free(D);
}

/* ---- 784-300-100-10, the products alone ---- */

struct prods {
    size_t n, L, in[3], out[3];
    double *W[3], *A[3], *Z[3], *dA[3], *scratch;
    struct sparse_layer sp[3];
    int sparse;
};

static void prods_step(void *arg)
{
    struct prods *p = arg;
    for (size_t l = 0; l < p->L; l++) {
        int n = (int)p->n, in = (int)p->in[l], out = (int)p->out[l];
        if (p->sparse)
            sparse_forward(&p->sp[l], p->W[l], p->A[l], p->n, 1.0, p->Z[l], p->scratch);
        else
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, out, in, 1.0, p->A[l], in,
                        p->W[l], in, 0.0, p->Z[l], out);
    }
    for (size_t l = p->L; l-- > 0;) {
        int n = (int)p->n, in = (int)p->in[l], out = (int)p->out[l];
        double *dA = l ? p->dA[l] : NULL;
        if (p->sparse) {
            sparse_backward(&p->sp[l], p->W[l], p->W[l], p->Z[l], p->A[l], dA, p->n, 1.0, 1.0,
                            -1e-9, 1, p->scratch);
            continue;
        }
        if (dA)
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, in, out, 1.0, p->Z[l], out,
                        p->W[l], in, 0.0, dA, in);
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out, in, n, -1e-9, p->Z[l], out,
                    p->A[l], in, 1.0, p->W[l], in);
    }
}

static void prods_rows(const double *dens, size_t nd, double seconds)
{
    struct prods p = {.n = 64, .L = 3, .in = {784, 300, 100}, .out = {300, 100, 10}};
    struct ls_rng r;
    rng_init(&r, 7);
    p.scratch = malloc(sparse_scratch(784, 300, 64) * sizeof(double));
    for (size_t l = 0; l < 3; l++) {
        p.W[l] = malloc(p.in[l] * p.out[l] * sizeof(double));
        p.A[l] = malloc(p.n * p.in[l] * sizeof(double));
        p.Z[l] = malloc(p.n * p.out[l] * sizeof(double));
        p.dA[l] = malloc(p.n * p.in[l] * sizeof(double));
        for (size_t i = 0; i < p.n * p.in[l]; i++)
            p.A[l][i] = rng_normal(&r);
    }
    double dense = 0;
    for (size_t k = 0; k <= nd; k++) {
        double d = k ? dens[k - 1] : 1.0, t[2];
        for (size_t l = 0; l < 3; l++) { /* a random mask of density d; W zero elsewhere */
            for (size_t i = 0; i < p.in[l] * p.out[l]; i++)
                p.W[l][i] = rng_uniform(&r) < d ? 0.05 * rng_normal(&r) : 0.0;
            sparse_free(&p.sp[l]);
            sparse_build(p.W[l], p.out[l], p.in[l], &p.sp[l]);
        }
        for (p.sparse = 0; p.sparse < 2; p.sparse++)
            t[p.sparse] = best_time(prods_step, &p, seconds);
        if (k == 0) {
            dense = t[0];
            continue;
        }
        print_row("784-300-100-10*", d, t[0], t[1], d < 0.02 ? t[1] : t[0],
                  dense); /* mlp.c's rule */
    }
    for (size_t l = 0; l < 3; l++) {
        free(p.W[l]), free(p.A[l]), free(p.Z[l]), free(p.dA[l]);
        sparse_free(&p.sp[l]);
    }
    free(p.scratch);
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 0.5;
    const double dens[] = {1.0, 0.3, 0.1, 0.03, 0.01, 0.003};
    if (getenv("PRUNE_SPEED_ONLY"))
        return family_rows((double[]){atof(getenv("PRUNE_SPEED_ONLY"))}, 1, seconds), 0;
    openblas_set_num_threads(1);
    printf("%-16s %7s %9s %9s %9s %9s %9s %8s\n", "net", "density", "masked", "sparse", "default",
           "dense", "dense/sp", "def/mask");
    family_rows(dens, 6, seconds);
    prods_rows(dens, 6, seconds);
    printf("(ms per step; * the three layers' products only, batch 64; 784-1024x3-10 batch 128 "
           "through the mlp family)\n");
    return 0;
}
