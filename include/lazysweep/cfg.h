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

/* A number that may scale with axes: value = base · init_scale^(e[0] + per_depth·depth) ·
 * width^e[1] · depth^e[2], capped at max when max > 0. Written `lr: 0.1`, or
 * `lr: {base: 0.1, scale: {init_scale: -2, width: -1}}`, or with the depth-dependent exponent
 * and the cap `lr: {base: 0.01, scale: {init_scale: 2, init_scale_per_depth: -2, depth: -2},
 * max: 0.1}` (= min(0.1, 0.01·α^(2−2D)/D²), the inverse tangent-kernel scale of a depth-D
 * diagonal net, so one job can sweep α and D together). */
struct ls_scaled {
    double base;
    double exp[3];    /* exponents for init_scale, width, depth */
    double per_depth; /* a further exponent of init_scale, multiplied by depth */
    double max;       /* cap on the value (0: none) */
};

#define LS_MAX_LAYER_SCALES 64 /* values of a per-layer list such as model.weight_scale */

/* A number per layer: `0.5` (every layer) or `[1.0, 0.5, 0.1]` (layer by layer, input first).
 * Set as a grid axis it is always the scalar form. */
struct ls_reals {
    double v[LS_MAX_LAYER_SCALES]; /* v[0] alone when n == 0 */
    int64_t n;                     /* listed values, or 0 for the scalar form */
};

#define LS_LIST_MAX 1024 /* values of a list key such as data.x */
#define LS_FILE_MAX 1024 /* file paths and HDF5 dataset paths, with NUL */

/* A list key (`[a, b, c]`; flag K_LIST in cfg.c): data.x, data.y, data.classes, train.lr_decay.at.
 * Integer lists hold exact integers (|v| <= 2^53). Lists are never grid axes. */
struct ls_list {
    double v[LS_LIST_MAX];
    int64_t n; /* values given (0: the empty list, also the default) */
};

struct ls_model_cfg {
    char family[LS_NAME_MAX]; /* registered family name: "diagonal" | "mlp" */
    int64_t depth;            /* diagonal: exponent D >= 2; mlp: hidden layers >= 1 */
    int64_t width;            /* diagonal: copies k >= 1; mlp: units per hidden layer */
    double init_scale;        /* α > 0 */
    char init[LS_NAME_MAX];   /* diagonal: "constant" (u = α) | "random" (u = α·|N(0,1)|);
                                 mlp: "gaussian" | "uniform" | "orthogonal" */
    double sparsity;          /* fraction of prunable weights removed at init, in [0, 1) */
    /* mlp only (see mlp.h) */
    char activation[LS_NAME_MAX];      /* "relu" | "leaky_relu" | "tanh" | "linear" */
    double leaky_slope;                /* leaky_relu's slope for z < 0, in [0, 1] */
    int bias;                          /* biases on (1) or off (0) */
    char variance[LS_NAME_MAX];        /* "he" | "lecun" | "xavier" | "pytorch" | "explicit" */
    struct ls_reals weight_scale;      /* explicit: standard deviation of each layer's weights */
    struct ls_reals bias_scale;        /* explicit: standard deviation of each layer's biases */
    char parametrization[LS_NAME_MAX]; /* "standard" | "ntk" (weights · 1/√fan_in in forward) */
    char scale_mode[LS_NAME_MAX];      /* "weights" (w₀ ·= α) | "output" (f = α(h(w) − h(w₀))) */
    int antisymmetric;                 /* f = (√2/2)(g₁ − g₂), g₂ a copy of g₁ at init */
};

struct ls_data_cfg {
    char kind[LS_NAME_MAX]; /* registered kind (data.c): "sparse_regression", "teacher_student",
                               "points1d", "blobs", "fashion_mnist", "hdf5" */
    int64_t n_train;        /* training samples (file kinds: resolved at load, see data.h) */
    int64_t dim;            /* input dimension d (file kinds and points1d: resolved at load) */
    int64_t support;        /* non-zeros of β* (sparse_regression) */
    double noise_std;       /* σ of additive Gaussian label noise (sparse_regression, teacher) */
    int64_t n_test;         /* test samples: a fresh draw (generators); fashion_mnist: the first
                               n_test of the test file (0: all); hdf5: the held-out split */
    int64_t teacher_width;  /* teacher_student: hidden units per layer of the teacher */
    int64_t teacher_depth;  /* teacher_student: hidden layers of the teacher (0: linear) */
    int64_t n_classes;      /* teacher_student: 0 regression, 2 binary, C >= 3 classes */
    double label_noise;     /* teacher_student (classes) and blobs: P(training label replaced) */
    double positive_fraction; /* blobs: fraction of label-1 samples */
    double separation;      /* blobs: distance between the two means */
    struct ls_list x, y;    /* points1d: inputs and targets */
    char path[LS_FILE_MAX]; /* fashion_mnist: directory of the four IDX .gz files */
    struct ls_list classes; /* fashion_mnist: classes kept, relabelled 0.. in this order (empty:
                               all ten) */
    int64_t one_vs_rest;    /* fashion_mnist: binary task "class c vs the rest" (-1: off) */
    char scaling[LS_NAME_MAX]; /* "unit" (x/255, fashion_mnist) | "standardize" | "none" */
    char file[LS_FILE_MAX];      /* hdf5: the user's file */
    char x_dataset[LS_FILE_MAX]; /* hdf5: dataset path of X [N][d] (or [N]) */
    char y_dataset[LS_FILE_MAX]; /* hdf5: dataset path of y [N] (or [N][1]) */
    double test_fraction;   /* hdf5: fraction of rows held out as the test set */
    char task[LS_NAME_MAX]; /* hdf5: "regression" | "binary" | "classes" */
    int64_t avail_train;    /* resolved at load (file kinds): training rows available */
    int64_t avail_test;     /* resolved at load (file kinds): test rows available */
    int64_t rank;           /* matrix kinds: rank r of the ground truth W* = VVᵀ/‖VVᵀ‖_F */
    int64_t observed;       /* matrix_completion: entries (a <= b) observed, of dim(dim+1)/2 */
    int64_t measurements;   /* matrix_sensing: Gaussian measurements ⟨A_i, W*⟩ */
};

struct ls_train_cfg {
    char optimizer[LS_NAME_MAX]; /* "gd" | "sgd" | "momentum" | "nesterov" | "adam" | "adamw" */
    int64_t batch_size;          /* mini-batch size (0: full batch; sgd needs >= 1) */
    double momentum;             /* momentum, nesterov: μ in [0, 1) */
    double beta1, beta2, eps;    /* adam, adamw */
    struct ls_scaled weight_decay; /* λ >= 0, possibly coupled to axes (optim.h says how) */
    char lr_schedule[LS_NAME_MAX]; /* "constant" | "step" | "halve_on_rise" */
    struct ls_list lr_decay_at;  /* step: the steps at which lr is multiplied by ... */
    double lr_decay_factor;      /* ... this factor */
    char loss[LS_NAME_MAX];      /* mlp: "mse" | "bce" | "cross_entropy" | "soft_f1" | ... */
    struct ls_scaled lr;         /* learning rate, possibly coupled to axes */
    int64_t max_steps;           /* step budget */
    double stop_loss;            /* stop once train loss <= this (0: never) */
    double stop_change;          /* stop once |Δ train loss| over an accepted full-batch step
                                    is below this (0: never; docs/spline.md) */
    double max_seconds;          /* wall-clock budget per point (0: none) → status timeout */
    int64_t log_points;          /* T, logged steps per trajectory */
    char log_spacing[LS_NAME_MAX]; /* "log" | "linear" */
};

/* mlp on points1d: the grid of the spline metrics and stored functions (docs/spline.md):
 * x = grid_min + i·grid_step for every such x < grid_max. */
struct ls_spline_cfg {
    double grid_min, grid_max, grid_step;
    char reference[LS_NAME_MAX]; /* "full" (affine part penalized) | "span" (∫ over the span) */
};

/* The diagnostics of the mlp family (diag.h): the probe set and the gradient-confusion draws. */
struct ls_diag_cfg {
    int64_t probe_size;      /* probe.size: P training inputs the probe metrics use */
    int64_t confusion_pairs; /* confusion.pairs: pairs of disjoint mini-batches per logged step */
    int64_t confusion_batch; /* confusion.batch: samples in each of those mini-batches */
};

/* Pruning at initialization (mlp only; prune.h says what each key does). */
struct ls_prune_cfg {
    char method[LS_NAME_MAX];   /* "random" | "magnitude" | "snip" | "grasp" | "synflow" */
    int64_t iterations;         /* rounds of score-and-mask (0: 100 for synflow, else 1) */
    char schedule[LS_NAME_MAX]; /* "exponential" (keep ρ^(−k/n) after round k) | "linear" */
    char scope[LS_NAME_MAX];    /* "global" (one threshold) | "layer" (every layer alike) */
    int64_t samples;            /* training rows the data-dependent scores see (0: 10 × classes) */
    int prune_bias;             /* biases prunable too (default: only weights) */
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
    struct ls_spline_cfg spline;
    struct ls_diag_cfg diag;
    struct ls_prune_cfg prune;
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

/* cfg_point for an `out` that already holds a point of `base` (from cfg_point): sets only the
 * swept keys, which every point has, without copying the whole job again. For loops over many
 * points (the cost of each, when ordering them). */
int cfg_point_axes(const struct ls_job *base, uint64_t index, struct ls_job *out);

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
