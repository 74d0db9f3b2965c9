/* cfg.h — the YAML job file, parsed and validated into a `struct ls_job`.
 *
 * Every key of the job file is one row of a table {dotted path, type, offset, range, applies to}
 * (twemproxy's config table): unknown keys, duplicate keys, wrong types, out-of-range values,
 * anchors, aliases, tags, nesting deeper than 32, scalars over 4 KiB and files over 1 MiB are
 * errors reported as "FILE:LINE:COL: message" (1-based). The same table applies a grid point's
 * axis values to a copy of the job, so any scalar key can be an axis by its dotted path.
 * Knows nothing of MPI or HDF5. */
#ifndef LAZYSWEEP_CFG_H
#define LAZYSWEEP_CFG_H

#include <stddef.h>
#include <stdint.h>

#include "lazysweep/grid.h"

#define LS_NAME_MAX 64     /* names and enum-like string values, with NUL */
#define LS_MAX_METRICS 32  /* metrics one job can request */
#define LS_MAX_VECTORS 8   /* per-point vectors one job can store (`store:`) */
#define LS_MAX_VECTOR_TOTAL (1 << 26) /* numbers in one point's stored vectors */
#define LS_ERR_MAX 512     /* room for one "FILE:LINE:COL: message" */
#define LS_JOB_MAX_BYTES (1u << 20)
#define LS_MAX_DEPTH 32    /* YAML nesting limit */

/* The canonical axes, always present in the grid (a singleton where not swept). */
#define LS_CANONICAL_AXES(X) X(init_scale) X(width) X(depth) X(seed) X(sparsity)

/* A number that may scale with axes: value = base · init_scale^e[0] · width^e[1] · depth^e[2].
 * Written `lr: 0.1` or `lr: {base: 0.1, scale: {init_scale: -2, width: -1}}`. */
struct ls_scaled {
    double base;
    double exp[3]; /* exponents for init_scale, width, depth */
};

struct ls_model_cfg {
    char family[LS_NAME_MAX]; /* registered family name: "diagonal" */
    int64_t depth;            /* diagonal: exponent D >= 2 */
    int64_t width;            /* diagonal: copies k >= 1 */
    double init_scale;        /* α > 0 */
    char init[LS_NAME_MAX];   /* diagonal: "constant" (u = α) | "random" (u = α·|N(0,1)|) */
    double sparsity;          /* fraction of prunable weights removed at init, in [0, 1) */
};

struct ls_data_cfg {
    char kind[LS_NAME_MAX]; /* registered generator: "sparse_regression" */
    int64_t n_train;        /* training samples */
    int64_t dim;            /* input dimension d */
    int64_t support;        /* non-zeros of β* (sparse_regression) */
    double noise_std;       /* σ of the label noise */
};

struct ls_train_cfg {
    char optimizer[LS_NAME_MAX]; /* "gd" */
    struct ls_scaled lr;         /* learning rate, possibly coupled to axes */
    int64_t max_steps;           /* step budget */
    double stop_loss;            /* stop once train loss <= this (0: never) */
    double max_seconds;          /* wall-clock budget per point (0: none) → status timeout */
    int64_t log_points;          /* T, logged steps per trajectory */
    char log_spacing[LS_NAME_MAX]; /* "log" | "linear" */
};

struct ls_job {
    char path[4096];  /* job file path as given */
    char *text;       /* the job file's exact bytes, NUL-terminated */
    size_t text_len;

    char name[LS_NAME_MAX];
    uint64_t seed;        /* master seed */
    int64_t point_seed;   /* value of the `seed` axis for this point (0 when not swept) */
    struct ls_model_cfg model;
    struct ls_data_cfg data;
    struct ls_train_cfg train;
    size_t n_metrics;
    char metrics[LS_MAX_METRICS][LS_NAME_MAX]; /* final metrics, in file order */
    size_t n_traj;
    char traj[LS_MAX_METRICS][LS_NAME_MAX];    /* metrics that also get a trajectory */
    size_t n_store;
    char store[LS_MAX_VECTORS][LS_NAME_MAX];   /* per-point vectors to keep (/vectors/<name>) */
    size_t store_len[LS_MAX_VECTORS];          /* their lengths at the largest grid point; shorter
                                                  vectors of smaller points are NaN-padded */

    struct ls_grid grid;  /* swept axes in file order, then unswept canonical axes (singletons) */
    int64_t max_steps_all; /* largest train.max_steps over the grid (sizes the step schedule) */

    char *canonical;      /* sorted "key=value" lines of everything but grid values */
    uint64_t hash;        /* hash of `canonical`: equal jobs ⇔ equal hashes */
    char hash_hex[17];
};

/* Read, parse and validate a job file. On LS_EJOB, err holds "FILE:LINE:COL: message";
 * other codes (LS_EIO, LS_ENOMEM) also fill err. The job must be released with cfg_free. */
int cfg_load(const char *path, struct ls_job *job, char *err, size_t errlen);

/* The same from a buffer (the fuzzer and unit tests); `path` names it in messages. */
int cfg_parse(const char *path, const char *text, size_t len, struct ls_job *job, char *err,
              size_t errlen);

/* The job of one grid point: the scalar fields of `base` with every axis value of point `index`
 * applied. `out->text` and `out->canonical` are NULL and `out->grid` is empty, so `out` owns no
 * storage and needs no cfg_free. */
int cfg_point(const struct ls_job *base, uint64_t index, struct ls_job *out);

/* Total length of the stored vectors of one point (sum of store_len). */
uint32_t cfg_vector_total(const struct ls_job *job);

/* Resolved learning rate (or any ls_scaled) at this job's axis values. */
double cfg_scaled(const struct ls_job *job, const struct ls_scaled *s);

/* For resume: describe how `old_canonical` differs from job->canonical, as a comma-separated
 * list of changed keys in `out` (empty if equal). */
void cfg_diff(const char *old_canonical, const char *new_canonical, char *out, size_t len);

/* Release everything cfg_load allocated; safe twice and on a zeroed job. */
void cfg_free(struct ls_job *job);

#endif
