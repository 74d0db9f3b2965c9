/* data.h — training data: synthetic generators and file loaders, as dense matrices.
 *
 * Kinds are chosen by `data.kind` from a registry (data.c; one file per large kind):
 *   sparse_regression  x ~ N(0, I_d), y = <β*, x> + σε, β* with `support` entries 1/√support
 *   teacher_student    x ~ N(0, I_d), y from a random ReLU MLP teacher (data_teacher.c)
 *   points1d           explicit data.x and data.y lists, d = 1 (docs/theory.md §3)
 *   blobs              two Gaussian blobs, binary labels with a given positive fraction
 *   fashion_mnist      the IDX files of Debian's dataset-fashion-mnist (data_fmnist.c)
 *   hdf5               the user's own file: X and y datasets, a held-out test split
 * Every draw uses rng streams keyed by the master seed, the seed-axis value and the data's own
 * sizes only, so for one seed every α, width and depth sees the same data. Test sets are a fresh
 * sample of the same generator (streams of their own, so the training set does not depend on
 * n_test), the official test file (fashion_mnist), or a held-out split (hdf5). Knows nothing of
 * models; reads HDF5 only through store.c. */
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
    double *X;         /* [n][d] row-major inputs, or NULL when X_index holds them */
    size_t *X_index;   /* [n] or NULL: a one-hot design, row i of X = e_{X_index[i]}, kept as
                          indices (matrix_completion: entry (a, b) observed is a·dim + b) */
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

/* Does this job's data section describe a registered kind with consistent values? Fills msg on
 * failure, and data_validate also sets *key to the dotted path to blame (or "data"). */
int data_check(const struct ls_job *job, char *msg, size_t len);
int data_validate(const struct ls_job *job, const char **key, char *msg, size_t len);

/* The kind's own defaults, applied by cfg after the table's defaults and before the file's
 * values: fashion_mnist and hdf5 take data.n_train = 0 ("all") and their scaling default. */
void data_defaults(struct ls_job *job);

/* Sizes that come from files or lists, run by cfg once on the loaded job: data.dim (784 for
 * fashion_mnist, 1 for points1d, the file's for hdf5), avail_train / avail_test, and n_train /
 * n_test where they mean "all" (0). Reads file headers and labels only; a missing or malformed
 * file is an error that names it, with *key the key to blame. */
int data_resolve(struct ls_job *job, const char **key, char *msg, size_t len);

/* What y holds for this job's data, without building it; *n_classes gets C (classes), else 0. */
enum ls_task data_task(const struct ls_job *job, size_t *n_classes);

/* Bytes the data of this job needs (for the memory estimate; fashion_mnist adds its cache). */
size_t data_memory(const struct ls_job *job);

/* Generate (or load) the data of one grid point's job (after data_resolve on its base job).
 * fashion_mnist keeps the raw files' bytes in a per-process cache keyed by data.path, so the
 * points one worker runs decompress them once; data_cache_clear releases it. */
int data_create(const struct ls_job *job, struct ls_data **out);
void data_destroy(struct ls_data **d);
void data_cache_clear(void);

#endif
