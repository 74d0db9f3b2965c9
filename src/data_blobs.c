/* data_blobs.c — data kind blobs: two Gaussian blobs for (imbalanced) binary classification.
 *
 * Exactly round(positive_fraction · n) of the n training samples (and of the n_test test samples)
 * have label 1, at positions chosen by a uniform shuffle; x = z + (2y − 1)·(separation/2)·u with
 * z ~ N(0, I_d) and u = (1, …, 1)/√d, so the means are `separation` apart and the Bayes rule is
 * the sign of <x, u> shifted by the class prior. data.label_noise flips training labels with that
 * probability (after the positions are chosen; test labels stay clean).
 *
 * Streams: "data.X" / "data.X_test" by d (normal draw i·d + j, as the other generators), and
 * "data.labels" / "data.labels_test" by (n, positives): Fisher–Yates from the top over
 * [1]·positives + [0]·(n − positives). */
#include <math.h>
#include <stdio.h>

#include "lazysweep/data_kind.h"
#include "lazysweep/error.h"
#include "lazysweep/rng.h"

static size_t positives(double fraction, int64_t n)
{
    return (size_t)llround(fraction * (double)n);
}

static int blobs_check(const struct ls_job *job, const char **key, char *msg, size_t len)
{
    const struct ls_data_cfg *c = &job->data;
    size_t p = positives(c->positive_fraction, c->n_train);
    if (c->n_train < 2 || c->dim < 1) {
        snprintf(msg, len, "blobs needs n_train >= 2 and dim >= 1");
    } else if (p == 0 || p == (size_t)c->n_train) {
        *key = "data.positive_fraction";
        snprintf(msg, len, "data.positive_fraction %g of %lld samples leaves one class empty",
                 c->positive_fraction, (long long)c->n_train);
    } else if ((double)(c->n_train + c->n_test) * (double)c->dim > 1e10) {
        snprintf(msg, len, "data.n_train x data.dim is too large");
    } else {
        return LS_OK;
    }
    return LS_EJOB;
}

static enum ls_task blobs_task(const struct ls_job *job, size_t *n_classes)
{
    (void)job;
    *n_classes = 0;
    return LS_TASK_BINARY;
}

static void blobs_draw(const struct ls_job *job, const char *xs, const char *ls, double *X,
                       double *y, size_t n, size_t d)
{
    struct ls_rng r;
    size_t p = positives(job->data.positive_fraction, (int64_t)n);
    int64_t xshape[1] = {(int64_t)d}, lshape[2] = {(int64_t)n, (int64_t)p};
    for (size_t i = 0; i < n; i++)
        y[i] = i < p;
    rng_init(&r, data_stream(job, ls, lshape, 2));
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)rng_below(&r, i), k = i - 1;
        double t = y[k];
        y[k] = y[j];
        y[j] = t;
    }
    rng_init(&r, data_stream(job, xs, xshape, 1));
    rng_normals(&r, X, n * d);
    double shift = job->data.separation / 2 / sqrt((double)d);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++)
            X[i * d + j] += (2 * y[i] - 1) * shift;
}

static int blobs_generate(const struct ls_job *job, struct ls_data *d)
{
    blobs_draw(job, "data.X", "data.labels", d->X, d->y, d->n, d->d);
    blobs_draw(job, "data.X_test", "data.labels_test", d->X_test, d->y_test, d->n_test, d->d);
    data_label_noise(job, d->y, d->n, 2, job->data.label_noise);
    return LS_OK;
}

const struct data_kind data_kind_blobs = {
    .name = "blobs",
    .check = blobs_check,
    .task = blobs_task,
    .generate = blobs_generate,
};
