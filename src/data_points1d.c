/* data_points1d.c — data kind points1d: the samples written in the job file, d = 1.
 *
 * `data: {kind: points1d, x: [-2, -1, 0, 1, 2], y: [1.5, 0.5, 1.5, 0.5, 1.5]}` (reference
 * README §3). The values are used exactly as parsed; there is no randomness and no test set. */
#include <stdio.h>
#include <string.h>

#include "lazysweep/data_kind.h"
#include "lazysweep/error.h"

static int points_resolve(struct ls_job *job, const char **key, char *msg, size_t len)
{
    (void)key;
    (void)msg;
    (void)len;
    job->data.dim = 1;
    job->data.n_train = job->data.x.n;
    job->data.avail_train = job->data.x.n;
    job->data.n_test = 0;
    return LS_OK;
}

static int points_check(const struct ls_job *job, const char **key, char *msg, size_t len)
{
    const struct ls_data_cfg *c = &job->data;
    if (c->x.n == 0) {
        *key = "data.x";
        snprintf(msg, len, "points1d needs data.x, a list of at least one number");
    } else if (c->y.n != c->x.n) {
        *key = "data.y";
        snprintf(msg, len, "data.y has %lld values but data.x has %lld", (long long)c->y.n,
                 (long long)c->x.n);
    } else if (c->dim != 1 || c->n_train != c->x.n || c->n_test != 0) {
        snprintf(msg, len, "points1d sizes were not resolved from data.x");
    } else {
        return LS_OK;
    }
    return LS_EJOB;
}

static enum ls_task points_task(const struct ls_job *job, size_t *n_classes)
{
    (void)job;
    *n_classes = 0;
    return LS_TASK_REGRESSION;
}

static int points_generate(const struct ls_job *job, struct ls_data *d)
{
    memcpy(d->X, job->data.x.v, d->n * sizeof *d->X);
    memcpy(d->y, job->data.y.v, d->n * sizeof *d->y);
    return LS_OK;
}

const struct data_kind data_kind_points1d = {
    .name = "points1d",
    .resolve = points_resolve,
    .check = points_check,
    .task = points_task,
    .generate = points_generate,
};
