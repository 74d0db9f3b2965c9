/* data.h — training data: synthetic generators and (later) file loaders, as dense matrices.
 *
 * Generators are chosen by `data.kind` from a registry. Every draw uses rng streams keyed by the
 * master seed, the seed-axis value and the data's own sizes only, so for one seed every α, width
 * and depth sees the same data. Knows nothing of models. */
#ifndef LAZYSWEEP_DATA_H
#define LAZYSWEEP_DATA_H

#include <stddef.h>

#include "lazysweep/cfg.h"

/* What the targets y hold. */
enum ls_task {
    LS_TASK_REGRESSION = 0, /* real y; one output */
    LS_TASK_BINARY,         /* y ∈ {0, 1}; one output (a logit) */
    LS_TASK_CLASSES,        /* y ∈ {0, …, C−1} stored as doubles; C outputs */
};

struct ls_data {
    size_t n;          /* training samples */
    size_t d;          /* input dimension */
    double *X;         /* [n][d] row-major inputs */
    double *y;         /* [n] targets */
    double *beta_star; /* [d] ground-truth weights (sparse_regression), or NULL */
    double noise_std;  /* σ of the label noise (for closed-form population error) */
    enum ls_task task; /* what y and y_test hold */
    size_t n_classes;  /* C for LS_TASK_CLASSES (else 0) */
    size_t n_test;     /* test samples (0: no test set) */
    double *X_test;    /* [n_test][d] row-major, or NULL */
    double *y_test;    /* [n_test], or NULL */
};

/* Rows idx[0..b) of d's training set gathered into `batch`, whose X and y must have room for b
 * rows (a mini-batch; the batch keeps d's task, sizes and test set pointers). */
void data_gather(const struct ls_data *d, const size_t *idx, size_t b, struct ls_data *batch);

/* Does this job's data section describe a registered kind? Fills msg on failure. */
int data_check(const struct ls_job *job, char *msg, size_t len);

/* Bytes the data of this job needs (for the memory estimate). */
size_t data_memory(const struct ls_job *job);

/* Generate (or load) the data of one grid point's job. */
int data_create(const struct ls_job *job, struct ls_data **out);
void data_destroy(struct ls_data **d);

#endif
