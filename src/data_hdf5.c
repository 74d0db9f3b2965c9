/* data_hdf5.c — data kind hdf5: the user's own data, from two datasets of an HDF5 file.
 *
 * data.file holds X (data.x_dataset, [N][d] or [N]) and y (data.y_dataset, [N] or [N][1]), any
 * integer or float type. data.task says what y is: regression (any reals), binary (0 or 1) or
 * classes (integers 0 … C−1, C = max + 1). Split: with test_fraction f > 0, round(f·N) rows are
 * held out — a uniform shuffle of the rows (stream "data.split" keyed by N: Fisher–Yates from the
 * top over 0 … N−1) puts its last round(f·N) positions in the test set and the first ones in the
 * training set, in shuffled order; with f = 0 the training set is the file's rows in order. Then
 * the first n_train of the training part (0: all). data.scaling standardize uses the training
 * rows' statistics. The file is read through store.c (the only module that includes hdf5.h): its
 * shape and labels when the job is loaded, the values when a point is built. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lazysweep/data_kind.h"
#include "lazysweep/error.h"
#include "lazysweep/rng.h"
#include "lazysweep/store.h"

static void hdf5_defaults(struct ls_job *job)
{
    job->data.n_train = 0; /* all */
    snprintf(job->data.scaling, sizeof job->data.scaling, "none");
}

/* y as the task wants it; C = max + 1 for classes. */
static int check_labels(const struct ls_data_cfg *c, const double *y, size_t n, int64_t *C,
                        char *msg, size_t len)
{
    int binary = strcmp(c->task, "binary") == 0, classes = strcmp(c->task, "classes") == 0;
    double top = 0;
    for (size_t i = 0; i < n; i++) {
        int ok = isfinite(y[i]);
        if (ok && binary)
            ok = y[i] == 0 || y[i] == 1;
        if (ok && classes)
            ok = y[i] >= 0 && y[i] < 1e6 && y[i] == floor(y[i]);
        if (!ok) {
            snprintf(msg, len, "%s: %s[%zu] = %g is not %s", c->file, c->y_dataset, i, y[i],
                     binary    ? "0 or 1"
                     : classes ? "a class 0, 1, 2, ..."
                               : "a finite number");
            return LS_EJOB;
        }
        top = y[i] > top ? y[i] : top;
    }
    *C = classes ? (int64_t)top + 1 : 0;
    if (classes && *C < 2) {
        snprintf(msg, len, "%s: %s holds a single class", c->file, c->y_dataset);
        return LS_EJOB;
    }
    return LS_OK;
}

static int read_labels(struct ls_data_cfg *c, size_t N, char *msg, size_t len)
{
    double *y = malloc(N * sizeof *y);
    if (!y)
        return LS_ENOMEM;
    int rc = store_read_matrix(c->file, c->y_dataset, y, N, 1, msg, len);
    if (rc == LS_OK)
        rc = check_labels(c, y, N, &c->n_classes, msg, len);
    free(y);
    return rc == LS_OK ? LS_OK : LS_EJOB;
}

static int hdf5_resolve(struct ls_job *job, const char **key, char *msg, size_t len)
{
    struct ls_data_cfg *c = &job->data;
    size_t N = 0, d = 0, Ny = 0, cy = 0;
    struct stat st;
    *key = "data.file";
    if (c->file[0] == '\0') {
        snprintf(msg, len, "data kind hdf5 needs data.file");
        return LS_EJOB;
    }
    if (stat(c->file, &st) != 0) {
        snprintf(msg, len, "%s: %s", c->file, strerror(errno));
        return LS_EJOB;
    }
    *key = "data.x_dataset";
    if (store_probe_matrix(c->file, c->x_dataset, &N, &d, msg, len) != LS_OK)
        return LS_EJOB;
    *key = "data.y_dataset";
    if (store_probe_matrix(c->file, c->y_dataset, &Ny, &cy, msg, len) != LS_OK)
        return LS_EJOB;
    if (Ny != N || cy != 1) {
        snprintf(msg, len, "%s: %s must be [%zu] (one label per row of %s), not [%zu][%zu]",
                 c->file, c->y_dataset, N, c->x_dataset, Ny, cy);
        return LS_EJOB;
    }
    if (read_labels(c, N, msg, len) != LS_OK)
        return LS_EJOB;
    c->dim = (int64_t)d;
    c->avail_test = llround(c->test_fraction * (double)N);
    c->avail_train = (int64_t)N - c->avail_test;
    c->n_test = c->avail_test;
    c->n_train = c->n_train == 0 ? c->avail_train : c->n_train;
    return LS_OK;
}

static int hdf5_check(const struct ls_job *job, const char **key, char *msg, size_t len)
{
    const struct ls_data_cfg *c = &job->data;
    if (strcmp(c->scaling, "unit") == 0) {
        *key = "data.scaling";
        snprintf(msg, len,
                 "data.scaling unit is fashion_mnist's x/255; hdf5 takes none or "
                 "standardize");
    } else if (c->avail_train < 1) {
        *key = "data.test_fraction";
        snprintf(msg, len, "data.test_fraction %g leaves no training rows", c->test_fraction);
    } else if (c->n_train < 1 || c->n_train > c->avail_train) {
        *key = "data.n_train";
        snprintf(msg, len,
                 "data.n_train must be between 1 and the %lld training rows of %s, "
                 "not %lld",
                 (long long)c->avail_train, c->file, (long long)c->n_train);
    } else if (c->dim < 1) {
        snprintf(msg, len, "hdf5 sizes were not resolved from %s", c->file);
    } else {
        return LS_OK;
    }
    return LS_EJOB;
}

static enum ls_task hdf5_task(const struct ls_job *job, size_t *n_classes)
{
    const char *t = job->data.task;
    *n_classes = 0;
    if (strcmp(t, "binary") == 0)
        return LS_TASK_BINARY;
    if (strcmp(t, "classes") != 0)
        return LS_TASK_REGRESSION;
    *n_classes = (size_t)job->data.n_classes;
    return LS_TASK_CLASSES;
}

/* Row order: the file's, or the documented shuffle when a test set is held out. */
static void split_order(const struct ls_job *job, size_t *perm, size_t N)
{
    struct ls_rng r;
    int64_t shape[1] = {(int64_t)N};
    for (size_t i = 0; i < N; i++)
        perm[i] = i;
    if (job->data.avail_test == 0)
        return;
    rng_init(&r, data_stream(job, "data.split", shape, 1));
    for (size_t i = N - 1; i > 0; i--) {
        size_t j = (size_t)rng_below(&r, (uint64_t)i + 1), t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}

static void copy_rows(const double *X, const double *y, const size_t *rows, size_t n, size_t d,
                      double *Xo, double *yo)
{
    for (size_t i = 0; i < n; i++) {
        memcpy(Xo + i * d, X + rows[i] * d, d * sizeof *Xo);
        yo[i] = y[rows[i]];
    }
}

static int hdf5_generate(const struct ls_job *job, struct ls_data *d)
{
    char msg[LS_ERR_MAX];
    const struct ls_data_cfg *c = &job->data;
    size_t N = (size_t)(c->avail_train + c->avail_test);
    double *X = malloc(N * d->d * sizeof *X), *y = malloc(N * sizeof *y);
    size_t *perm = malloc(N * sizeof *perm);
    int rc = X && y && perm ? LS_OK : LS_ENOMEM;
    if (rc == LS_OK)
        rc = store_read_matrix(c->file, c->x_dataset, X, N, d->d, msg, sizeof msg);
    if (rc == LS_OK)
        rc = store_read_matrix(c->file, c->y_dataset, y, N, 1, msg, sizeof msg);
    if (rc != LS_OK && rc != LS_ENOMEM)
        fprintf(stderr, "lazysweep: %s\n", msg);
    if (rc == LS_OK) {
        split_order(job, perm, N);
        copy_rows(X, y, perm, d->n, d->d, d->X, d->y);
        copy_rows(X, y, perm + c->avail_train, d->n_test, d->d, d->X_test, d->y_test);
        if (strcmp(c->scaling, "standardize") == 0)
            data_standardize(d->X, d->n, d->X_test, d->n_test, d->d);
    }
    free(X);
    free(y);
    free(perm);
    return rc;
}

/* The whole file's X and y, read before the rows are picked. */
static size_t hdf5_memory(const struct ls_job *job)
{
    double N = (double)(job->data.avail_train + job->data.avail_test);
    double bytes = N * ((double)job->data.dim + 2) * 8;
    return bytes >= (double)SIZE_MAX ? SIZE_MAX : (size_t)bytes;
}

const struct data_kind data_kind_hdf5 = {
    .name = "hdf5",
    .defaults = hdf5_defaults,
    .resolve = hdf5_resolve,
    .check = hdf5_check,
    .task = hdf5_task,
    .generate = hdf5_generate,
    .memory = hdf5_memory,
};
