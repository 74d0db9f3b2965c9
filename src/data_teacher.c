/* data_teacher.c — data kind teacher_student: Gaussian inputs labelled by a random ReLU MLP.
 *
 * x ~ N(0, I_d). The teacher has data.teacher_depth hidden layers of data.teacher_width ReLU
 * units and no biases; hidden weights are N(0, 2/fan_in) (He), the output layer's N(0, 1/fan_in),
 * so its outputs are O(1) at any size. Outputs: one for regression (n_classes 0: y = f(x) + σε,
 * σ = data.noise_std, default 0 for this kind) and binary tasks (n_classes 2: y = 1[f(x) > 0]),
 * C for classes (n_classes C >= 3: y = argmax f(x)). data.label_noise replaces a training label
 * by another class with that probability (test labels stay clean, so test accuracy measures
 * the teacher's function).
 *
 * Streams (keyed by the seed axis and these sizes only, so every α, width and depth of the
 * student sees the same data): "data.X" / "data.X_test" by d (normal draw i·d + j, the same X as
 * sparse_regression), "data.teacher" by (d, width, depth, outputs) — every weight matrix in
 * order, row-major —, "data.noise" / "data.noise_test" (draw i for row i). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lazysweep/data_kind.h"
#include "lazysweep/error.h"
#include "lazysweep/rng.h"

struct teacher {
    size_t d, w, depth, out; /* input, hidden width, hidden layers, outputs */
    double *W;               /* every layer's [out][in] matrix, concatenated */
    double *h[2];            /* [max(w, out)] ping-pong activations of one row */
};

static size_t teacher_outputs(const struct ls_job *job)
{
    return job->data.n_classes >= 3 ? (size_t)job->data.n_classes : 1;
}

static void teacher_defaults(struct ls_job *job)
{
    job->data.noise_std = 0;
}

static enum ls_task teacher_task(const struct ls_job *job, size_t *n_classes)
{
    *n_classes = job->data.n_classes >= 3 ? (size_t)job->data.n_classes : 0;
    return job->data.n_classes == 0   ? LS_TASK_REGRESSION
           : job->data.n_classes == 2 ? LS_TASK_BINARY
                                      : LS_TASK_CLASSES;
}

static int teacher_check(const struct ls_job *job, const char **key, char *msg, size_t len)
{
    const struct ls_data_cfg *c = &job->data;
    double w = (double)c->teacher_width, d = (double)c->dim, L = (double)c->teacher_depth;
    if (c->n_train < 1 || c->dim < 1) {
        snprintf(msg, len, "teacher_student needs n_train >= 1 and dim >= 1");
    } else if (c->n_classes == 1) {
        *key = "data.n_classes";
        snprintf(msg, len, "data.n_classes must be 0 (regression), 2 (binary) or >= 3");
    } else if (c->n_classes != 0 && c->noise_std != 0) {
        *key = "data.noise_std";
        snprintf(msg, len,
                 "data.noise_std is the regression teacher's (n_classes 0); "
                 "classification teachers take data.label_noise");
    } else if (c->n_classes == 0 && c->label_noise != 0) {
        *key = "data.label_noise";
        snprintf(msg, len,
                 "data.label_noise needs a classification teacher (n_classes >= 2); "
                 "regression teachers take data.noise_std");
    } else if (w * (d + w * L) > 1e9) {
        *key = "data.teacher_width";
        snprintf(msg, len, "the teacher would have more than 10^9 weights");
    } else if ((double)(c->n_train + c->n_test) * d > 1e10) {
        snprintf(msg, len, "data.n_train x data.dim is too large");
    } else {
        return LS_OK;
    }
    return LS_EJOB;
}

static size_t teacher_weights(const struct teacher *t)
{
    if (t->depth == 0)
        return t->d * t->out;
    return t->w * t->d + t->w * t->w * (t->depth - 1) + t->out * t->w;
}

/* Every matrix drawn as standard normals, then scaled by its layer's √(gain/fan_in). */
static int teacher_create(const struct ls_job *job, struct teacher *t)
{
    struct ls_rng r;
    t->d = (size_t)job->data.dim;
    t->w = (size_t)job->data.teacher_width;
    t->depth = (size_t)job->data.teacher_depth;
    t->out = teacher_outputs(job);
    size_t nw = teacher_weights(t), wide = t->w > t->out ? t->w : t->out;
    t->W = malloc(nw * sizeof *t->W);
    t->h[0] = malloc((wide > t->d ? wide : t->d) * sizeof(double));
    t->h[1] = malloc((wide > t->d ? wide : t->d) * sizeof(double));
    if (!t->W || !t->h[0] || !t->h[1])
        return LS_ENOMEM;
    int64_t shape[4] = {(int64_t)t->d, (int64_t)t->w, (int64_t)t->depth, (int64_t)t->out};
    rng_init(&r, data_stream(job, "data.teacher", shape, 4));
    rng_normals(&r, t->W, nw);
    size_t off = 0;
    for (size_t l = 0; l <= t->depth; l++) {
        size_t in = l == 0 ? t->d : t->w, out = l == t->depth ? t->out : t->w;
        double sd = sqrt((l == t->depth ? 1.0 : 2.0) / (double)in);
        for (size_t i = 0; i < in * out; i++)
            t->W[off + i] *= sd;
        off += in * out;
    }
    return LS_OK;
}

static void teacher_free(struct teacher *t)
{
    free(t->W);
    free(t->h[0]);
    free(t->h[1]);
}

/* f(x) into out [t->out], one row at a time (so a label never depends on n). */
static void teacher_forward(struct teacher *t, const double *x, double *out)
{
    const double *in = x, *W = t->W;
    size_t n_in = t->d;
    for (size_t l = 0; l <= t->depth; l++) {
        int last = l == t->depth;
        size_t n_out = last ? t->out : t->w;
        double *h = last ? out : t->h[l % 2];
        for (size_t o = 0; o < n_out; o++) {
            double s = 0;
            for (size_t j = 0; j < n_in; j++)
                s += W[o * n_in + j] * in[j];
            h[o] = last || s > 0 ? s : 0;
        }
        W += n_out * n_in;
        in = h;
        n_in = n_out;
    }
}

static void teacher_label(const struct ls_job *job, struct teacher *t, const char *noise,
                          const double *X, double *y, size_t n, double *f /* [out] */)
{
    struct ls_rng r;
    rng_init(&r, data_stream(job, noise, NULL, 0));
    for (size_t i = 0; i < n; i++) {
        teacher_forward(t, X + i * t->d, f);
        if (job->data.n_classes == 0) {
            y[i] = f[0] + job->data.noise_std * rng_normal(&r);
        } else if (job->data.n_classes == 2) {
            y[i] = f[0] > 0;
        } else {
            size_t best = 0;
            for (size_t c = 1; c < t->out; c++)
                best = f[c] > f[best] ? c : best;
            y[i] = (double)best;
        }
    }
}

static int teacher_generate(const struct ls_job *job, struct ls_data *d)
{
    struct ls_rng r;
    struct teacher t = {0};
    int64_t shape[1] = {(int64_t)d->d};
    int rc = teacher_create(job, &t);
    double *f = malloc(teacher_outputs(job) * sizeof *f);
    if (rc == LS_OK && !f)
        rc = LS_ENOMEM;
    if (rc == LS_OK) {
        rng_init(&r, data_stream(job, "data.X", shape, 1));
        rng_normals(&r, d->X, d->n * d->d);
        rng_init(&r, data_stream(job, "data.X_test", shape, 1));
        rng_normals(&r, d->X_test, d->n_test * d->d);
        teacher_label(job, &t, "data.noise", d->X, d->y, d->n, f);
        teacher_label(job, &t, "data.noise_test", d->X_test, d->y_test, d->n_test, f);
        data_label_noise(job, d->y, d->n, (size_t)job->data.n_classes, job->data.label_noise);
        d->noise_std = job->data.noise_std;
    }
    free(f);
    teacher_free(&t);
    return rc;
}

/* The teacher's weights and two rows of activations, while the data are generated. */
static size_t teacher_memory(const struct ls_job *job)
{
    double w = (double)job->data.teacher_width, d = (double)job->data.dim;
    double bytes = (w * (d + w * (double)job->data.teacher_depth) + 4 * (w + d)) * 8;
    return bytes >= (double)SIZE_MAX ? SIZE_MAX : (size_t)bytes;
}

const struct data_kind data_kind_teacher = {
    .name = "teacher_student",
    .defaults = teacher_defaults,
    .check = teacher_check,
    .task = teacher_task,
    .generate = teacher_generate,
    .memory = teacher_memory,
};
