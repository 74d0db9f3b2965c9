/* mlp_speed.c — training steps per second and achieved GFLOP/s of the mlp family on the four
 * shapes of the speed issue, and the single-core dgemm peak measured in the same run (make bench;
 * bench/mlp_bench.sh puts these next to PyTorch's figures).
 *
 * A step is what train.c does per step of plain gradient descent on a fixed batch: the loss
 * (ops->loss, the forward pass), then the update θ ← θ − η·∇L (ops->descend, the backward pass
 * writing each layer's update into its parameters). float64, one OpenBLAS thread.
 *
 * Time is the thread's CPU time, not the wall clock, and each rate is that of the fastest of
 * many short blocks of calls (each at least BLOCK seconds; at least MIN_BLOCKS of them and as
 * many as fit in `seconds`, after a warm-up): other work on a shared machine then neither counts
 * against a figure nor slows it by preempting it, which is what makes rates measured one after
 * the other comparable (it can still evict caches). bench/torch_mlp.py measures PyTorch the
 * same way.
 *
 * Usage: mlp_speed [seconds per shape, default 1] [shape name ...] (default: every shape).
 * Output: one line per measurement,
 *   openblas <core name as OpenBLAS detected or was told (OPENBLAS_CORETYPE)>
 *   dgemm <n> gflops <g>
 *   mlp <name> batch <B> steps_per_s <s> gflops <g> flops_per_step <f> */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lazysweep/cfg.h"
#include "lazysweep/data.h"
#include "lazysweep/error.h"
#include "lazysweep/mem.h"
#include "lazysweep/mlp.h"
#include "lazysweep/model.h"

#define BLOCK 0.005  /* s: the shortest timed block of calls */
#define MIN_BLOCKS 40 /* blocks timed at least, however long they take */
#define DGEMM_N 512 /* large enough for the peak, short enough (4 ms) to time many times */

struct shape {
    const char *name;
    int d, width, depth, C, batch;
};

static const struct shape shapes[] = {
    {"784-256-256-10", 784, 256, 2, 10, 64},
    {"784-1024x3-10", 784, 1024, 3, 10, 128},
    {"20-100x5-1", 20, 100, 5, 1, 32},
    {"1-1000-1", 1, 1000, 1, 1, 5},
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The rate (calls per second) of fn's fastest block of calls within `seconds`, after a tenth of
 * that as warm-up (page faults, BLAS buffers, caches). */
static double best_rate(void (*fn)(void *), void *arg, double seconds)
{
    double best = 0, start = now(), warm = start + seconds / 10, end = warm + seconds;
    long blocks = 0;
    for (double t0 = start; t0 < end || blocks < MIN_BLOCKS; t0 = now()) {
        long calls = 0;
        double t;
        do {
            fn(arg);
            calls++;
            t = now() - t0;
        } while (t < BLOCK);
        if (t0 >= warm && calls / t > best)
            best = calls / t;
        blocks += t0 >= warm;
    }
    return best;
}

struct gemm {
    double *A, *B, *C;
};

static void gemm_call(void *arg)
{
    struct gemm *g = arg;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, DGEMM_N, DGEMM_N, DGEMM_N, 1.0, g->A,
                DGEMM_N, g->B, DGEMM_N, 0.0, g->C, DGEMM_N);
}

/* The single-core peak the network's products can hope for: a large square dgemm. */
static int dgemm_peak(double seconds)
{
    size_t nn = (size_t)DGEMM_N * DGEMM_N;
    struct gemm g = {ls_doubles(nn), ls_doubles(nn), ls_doubles(nn)};
    if (!g.A || !g.B || !g.C)
        return LS_ENOMEM;
    for (size_t i = 0; i < nn; i++) {
        g.A[i] = sin((double)i);
        g.B[i] = cos((double)i);
    }
    double rate = best_rate(gemm_call, &g, seconds);
    printf("dgemm %d gflops %.2f\n", DGEMM_N, rate * 2.0 * pow(DGEMM_N, 3) * 1e-9);
    free(g.A);
    free(g.B);
    free(g.C);
    return LS_OK;
}

struct step {
    struct ls_model *m;
    struct ls_data *d;
    double lr;
};

static void train_step(void *arg)
{
    struct step *s = arg;
    struct ls_model *m = s->m;
    m->ops->loss(m, s->d, 0);
    m->ops->descend(m, s->d, s->lr);
}

/* A job as cfg would build it for this shape: relu, biases, He init, and a data section whose
 * kind gives the model its outputs (teacher_student: classes when n_classes > 0). */
static void shape_job(const struct shape *sh, struct ls_job *job)
{
    memset(job, 0, sizeof *job);
    job->seed = 1;
    snprintf(job->model.family, LS_NAME_MAX, "mlp");
    job->model.depth = sh->depth;
    job->model.width = sh->width;
    job->model.init_scale = 1.0;
    job->model.bias = 1;
    snprintf(job->model.init, LS_NAME_MAX, "gaussian");
    snprintf(job->model.activation, LS_NAME_MAX, "relu");
    snprintf(job->model.variance, LS_NAME_MAX, "he");
    snprintf(job->model.parametrization, LS_NAME_MAX, "standard");
    snprintf(job->model.scale_mode, LS_NAME_MAX, "weights");
    snprintf(job->train.loss, LS_NAME_MAX, sh->C > 1 ? "cross_entropy" : "mse");
    snprintf(job->train.optimizer, LS_NAME_MAX, "gd");
    snprintf(job->data.kind, LS_NAME_MAX, "teacher_student");
    job->data.n_classes = sh->C > 1 ? sh->C : 0;
    job->data.dim = sh->d;
    job->data.n_train = sh->batch;
}

static int bench_shape(const struct shape *sh, double seconds)
{
    int rc = LS_OK;
    struct ls_job job;
    struct ls_data d = {.n = (size_t)sh->batch, .d = (size_t)sh->d};
    struct step s = {.d = &d, .lr = 1e-4};
    shape_job(sh, &job);
    d.task = sh->C > 1 ? LS_TASK_CLASSES : LS_TASK_REGRESSION;
    d.n_classes = sh->C > 1 ? (size_t)sh->C : 0;
    d.X = ls_doubles(d.n * d.d);
    d.y = ls_doubles(d.n);
    LS_CHECK_ALLOC(d.X);
    LS_CHECK_ALLOC(d.y);
    for (size_t i = 0; i < d.n * d.d; i++)
        d.X[i] = sin(0.37 * (double)i);
    for (size_t i = 0; i < d.n; i++)
        d.y[i] = sh->C > 1 ? (double)(i % (size_t)sh->C) : cos((double)i);
    LS_CALL(mlp_ops.create(&job, &d, &s.m));
    double flops = mlp_ops.flops_per_step(&job);
    double rate = best_rate(train_step, &s, seconds);
    printf("mlp %s batch %d steps_per_s %.1f gflops %.2f flops_per_step %.4g\n", sh->name,
           sh->batch, rate, rate * flops * 1e-9, flops);
cleanup:
    if (s.m)
        mlp_ops.destroy(&s.m);
    free(d.X);
    free(d.y);
    return rc;
}

static int wanted(const char *name, int argc, char **argv)
{
    for (int i = 2; i < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return 1;
    return argc <= 2;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 1.0;
    if (!(seconds > 0)) {
        fprintf(stderr, "usage: mlp_speed [seconds per timed run] [shape ...]\n");
        return 2;
    }
    openblas_set_num_threads(1);
    printf("openblas %s\n", openblas_get_corename());
    int rc = dgemm_peak(seconds);
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0] && rc == LS_OK; i++) {
        if (wanted(shapes[i].name, argc, argv))
            rc = bench_shape(&shapes[i], seconds);
        fflush(stdout);
    }
    if (rc != LS_OK)
        fprintf(stderr, "mlp_speed: %s\n", ls_strerror(rc));
    return rc == LS_OK ? 0 : 1;
}
