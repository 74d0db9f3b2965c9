/* data_kind.h — the inside of the data module: one `struct data_kind` per generator or loader
 * (each in its own src/data_*.c, one row in data.c's registry), the helpers they share, and the
 * IDX reader (exposed for tests). Users of data go through data.h. */
#ifndef LAZYSWEEP_DATA_KIND_H
#define LAZYSWEEP_DATA_KIND_H

#include <stddef.h>
#include <stdint.h>

#include "lazysweep/data.h"

struct data_kind {
    const char *name;
    /* Kind-specific defaults before the file's values (may be NULL). */
    void (*defaults)(struct ls_job *job);
    /* Fill dim, avail_* and "all" sizes from files or lists (may be NULL: the job's sizes hold). */
    int (*resolve)(struct ls_job *job, const char **key, char *msg, size_t len);
    /* Per-point validation; sets *key to the dotted path to blame. */
    int (*check)(const struct ls_job *job, const char **key, char *msg, size_t len);
    /* What y holds and, for classes, C. */
    enum ls_task (*task)(const struct ls_job *job, size_t *n_classes);
    /* Fill d: X, y (n_train rows) and X_test, y_test (n_test rows) are allocated and zeroed,
     * d->n, d->d, d->n_test, d->task and d->n_classes are set. */
    int (*generate)(const struct ls_job *job, struct ls_data *d);
    /* Extra bytes beyond the (n_train + n_test)·(dim + 1) doubles (may be NULL). */
    size_t (*memory)(const struct ls_job *job);
    /* Training sizes when they are not data.n_train × data.dim with a dense X (may be NULL):
     * *n, *d, and *dense = 0 for no X but a one-hot X_index [n] (data_matrix.c). */
    void (*shape)(const struct ls_job *job, size_t *n, size_t *d, int *dense);
};

extern const struct data_kind data_kind_teacher;
extern const struct data_kind data_kind_points1d;
extern const struct data_kind data_kind_blobs;
extern const struct data_kind data_kind_fmnist;
extern const struct data_kind data_kind_hdf5;
extern const struct data_kind data_kind_matrix_completion; /* data_matrix.c */
extern const struct data_kind data_kind_matrix_sensing;    /* data_matrix.c */

/* Is `kind` one of the NULL-terminated names? */
int data_kind_in(const char *kind, const char *const *names);

/* Stream of (master seed, seed axis, name, shape) for this job. */
uint64_t data_stream(const struct ls_job *job, const char *name, const int64_t *shape, size_t n);

/* With probability p, replace label y[i] (in {0, …, C−1}) by a different class drawn uniformly;
 * the draws for row i are uniform draw 2i and integer draw 2i+1 of stream "data.label_noise"
 * keyed by C, so a prefix of rows sees the same flips. */
void data_label_noise(const struct ls_job *job, double *y /* [n] */, size_t n, size_t C, double p);

/* Per-feature standardization with the training set's mean and standard deviation (features
 * with zero deviation are only centred), applied to X [n][d] and X_test [n_test][d]. */
void data_standardize(double *X, size_t n, double *X_test, size_t n_test, size_t d);

/* ---- IDX files (LeCun's MNIST format), gzip-compressed or plain, read through zlib ---- */

#define IDX_MAX_DIMS 3

struct idx_file {
    uint32_t ndims;
    uint32_t dims[IDX_MAX_DIMS]; /* sizes, outermost first */
    size_t count;                /* product of dims */
    uint8_t *data;               /* [count] unsigned bytes (type 0x08), or NULL for a header */
};

/* Read an IDX file of unsigned bytes with `ndims` dimensions: the header only (want_data 0) or
 * everything. Checks the magic (0x0000 08 ndims), that the sizes are non-zero and that the file
 * holds exactly the announced bytes; errors name the file in msg. */
int idx_read(const char *path, uint32_t ndims, int want_data, struct idx_file *out, char *msg,
             size_t len);
void idx_free(struct idx_file *f);

#endif
