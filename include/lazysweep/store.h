/* store.h — the results file: the only module that includes hdf5.h.
 *
 * Layout (README "Results file"): /job, /grid/<axis>, /status (enum), /metrics/<name>,
 * /trajectories/step, /trajectories/<name>, /timing/{seconds,rank,finished,host}, root attributes
 * format, tool_version, job_name, job_hash, job_canonical and library versions. Every dataset is
 * created at full size when the file is made, then the file switches to SWMR so h5py can read it
 * while the sweep runs; rows are written in batches. Only the coordinator writes; `report` and
 * `export` read through the store_reader_* functions. /point and /trajectories/step are dimension
 * scales, so xarray (h5netcdf) sees dimensions `point` and `step`. */
#ifndef LAZYSWEEP_STORE_H
#define LAZYSWEEP_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "lazysweep/cfg.h"
#include "lazysweep/result.h"

#define LS_FORMAT_VERSION 1

struct ls_store;

/* Create a new file at `path` (truncating) for this job, every row pending, `steps` [T] the
 * logged steps. `versions` is the text of the library-versions attributes ("key=value\n" lines). */
int store_create(const char *path, const struct ls_job *job, const int64_t *steps, size_t T,
                 const char *versions, struct ls_store **out);

/* Open an existing file for appending rows. LS_EMISMATCH if it is not this job's file as shaped
 * now (hash, N or T differ); LS_ECORRUPT or LS_EHDF5 if it cannot be opened or read (stale SWMR
 * flags after a kill, truncation, bit flips): the caller then rebuilds it from the journal. */
int store_open(const char *path, const struct ls_job *job, size_t T, struct ls_store **out);

/* store_open for reading only (`lazysweep verify`): the file is not changed. */
int store_open_readonly(const char *path, const struct ls_job *job, size_t T,
                        struct ls_store **out);

/* ---- what the job determines (store_check.c) ----
 * /grid/<axis> (values and `swept`), /point, /trajectories/step, /job, the root attributes format,
 * job_name, job_hash and job_canonical, and the dimension scales are checked against the job.
 * Each difference goes to fn: the dataset ("/grid/depth", "/@job_name" for an attribute), the
 * row (-1: not a row), and what differs. */
typedef void (*ls_store_diff_fn)(void *arg, const char *dataset, int64_t row, const char *what);

struct ls_store_expect {
    const int64_t *steps; /* [T] the logged steps */
    const char *job_text; /* the bytes /job must hold, or NULL: not checked */
    size_t job_len;
};

/* With `repair`, values that differ are written again in place; a difference that cannot be
 * written in SWMR mode (an attribute, /job of another length, a type, a dimension scale) returns
 * LS_ECORRUPT, and the caller rebuilds the file. *n_diff counts the differences (rows and
 * attributes). */
int store_check_fixed(struct ls_store *s, const struct ls_job *job,
                      const struct ls_store_expect *e, int repair, ls_store_diff_fn fn,
                      void *arg, size_t *n_diff);

/* The bytes of /job of a results file (also while a sweep writes it), *text malloc'ed and
 * NUL-terminated, *len its length (len may be NULL) (`lazysweep verify` loads the job from them
 * when the journal does not hold it; `report --functions` reads the data set from them). */
int store_read_job_text(const char *path, char **text, size_t *len);

/* Status of every row, status[n_points]. */
int store_read_status(struct ls_store *s, uint8_t *status);

/* Rows [row0, row0 + rows) of every per-point dataset of an open store, column by column, into
 * the caller's arrays (for checking the file against the journal: resume.c). */
struct ls_store_rows {
    uint8_t *status;   /* [rows] */
    double *seconds;   /* [rows] /timing/seconds */
    int32_t *rank;     /* [rows] /timing/rank */
    double *finished;  /* [rows] /timing/finished */
    char *host;        /* [rows][LS_HOST_MAX] /timing/host, NUL-padded */
    double *metrics;   /* [n_metrics][rows] in the job's metric order */
    double *traj;      /* [n_traj][rows][T] in the job's trajectory order */
    double *vec;       /* stored vector v: [rows][store_len[v]] from vec + rows * (the sum of
                          store_len before v) */
};
int store_read_rows(struct ls_store *s, uint64_t row0, size_t rows, struct ls_store_rows *out);

/* Switch to SWMR write mode (after which no dataset may be created). */
int store_start_swmr(struct ls_store *s);

/* Write the rows of n results (their index fields say where). */
int store_write(struct ls_store *s, struct ls_result *const *rs, size_t n);

/* Flush written rows so SWMR readers see them. */
int store_flush(struct ls_store *s);

/* Close cleanly; safe twice and on NULL. */
void store_close(struct ls_store **s);

/* For `lazysweep status`: open read-only (SWMR-read when a writer is active) and return counts
 * per status, the number of points, the job name, and the finish times of done rows for a rate. */
struct ls_store_summary {
    uint64_t n_points;
    uint64_t count[LS_ST_COUNT];
    char job_name[LS_NAME_MAX];
    char job_hash[17];
    double first_finished, last_finished; /* Unix times over finished rows (0 if none) */
    double recent_rate;                   /* points/s over the last minute of finishes */
};
int store_summary(const char *path, struct ls_store_summary *sum);

/* Read a numeric dataset (/grid/<axis>, /metrics/<name>, /status, /timing/...) as doubles,
 * *data malloc'ed [*n]; for `report`. A 2-D dataset (/trajectories/<name>) comes back
 * flattened row-major, *n = N * T. LS_ENOTFOUND if absent. */
int store_read_column(const char *path, const char *dataset, double **data, size_t *n);

/* ---- reading by rows, for `report` and `export` ----
 * A reader holds a results file open (SWMR-read first, so a running sweep can be read; LS_ELOCKED
 * while its writer has not yet switched to SWMR, LS_ENOTFOUND if there is no file) and reads
 * blocks of rows of any dataset by name. */
struct ls_reader;

struct ls_reader_info {
    uint64_t n_points;                           /* N */
    size_t T;                                    /* logged steps */
    char job_name[LS_NAME_MAX];
    char job_hash[17];
    size_t n_axes;                               /* /grid datasets, in name order */
    char axis[LS_MAX_AXES][LS_PATH_MAX];
    enum ls_type axis_type[LS_MAX_AXES];         /* LS_T_INT, LS_T_REAL or LS_T_STR */
    int axis_swept[LS_MAX_AXES];                 /* its `swept` attribute */
    size_t n_metrics;                            /* /metrics datasets, in the job's order */
    char metric[LS_MAX_METRICS][LS_PATH_MAX];
    size_t n_traj;                               /* /trajectories datasets but step, same order */
    char traj[LS_MAX_METRICS][LS_PATH_MAX];
};

int store_reader_open(const char *path, struct ls_reader **r, struct ls_reader_info *info);
void store_reader_close(struct ls_reader **r);

/* Rows [row0, row0 + rows) of a numeric dataset ("/metrics/l1_norm", "/grid/depth",
 * "/trajectories/train_loss", "/timing/rank", ...) as doubles into buf; a 2-D dataset fills
 * rows × (its second extent). LS_ENOTFOUND if absent, LS_ERANGE past its end. */
int store_reader_numeric(struct ls_reader *r, const char *dataset, uint64_t row0, size_t rows,
                         double *buf);

/* The same for a string dataset (/grid/<string axis>, /timing/host): buf[rows][width], each
 * NUL-terminated (truncated to width − 1 bytes). */
int store_reader_strings(struct ls_reader *r, const char *dataset, uint64_t row0, size_t rows,
                         size_t width, char *buf);

/* Rows of /status (enum ls_status values, checked). */
int store_reader_status(struct ls_reader *r, uint64_t row0, size_t rows, uint8_t *buf);

/* ---- the user's own data (data kind hdf5) ----
 * A numeric dataset of any HDF5 file, [rows] (cols = 1) or [rows][cols]. Errors name the file
 * and the dataset in msg: LS_EIO (no such file, not HDF5), LS_ENOTFOUND (no such dataset),
 * LS_EINVAL (not numeric, rank not 1 or 2, empty). */
int store_probe_matrix(const char *path, const char *dataset, size_t *rows, size_t *cols,
                       char *msg, size_t len);

/* Its values as doubles (HDF5 converts integer and float types) into buf [rows][cols], which must
 * be the probed shape (LS_EINVAL otherwise). */
int store_read_matrix(const char *path, const char *dataset, double *buf, size_t rows,
                      size_t cols, char *msg, size_t len);

/* ---- a standalone file of named arrays: `lazysweep data` exports a point's data with it ----
 * Each array becomes the dataset /<name>: float64 (data) or int64 (idata), [rows] when cols = 0
 * else [rows][cols], row-major; each attribute a root attribute, a UTF-8 string (text) or int64
 * (ival, when text is NULL). The file is truncated first and removed again on failure. */
struct ls_array {
    const char *name;
    size_t rows, cols;
    const double *data;   /* [rows][cols or 1], or NULL ... */
    const int64_t *idata; /* ... when this is given instead */
};
struct ls_attr {
    const char *name;
    const char *text;
    int64_t ival;
};
int store_write_arrays(const char *path, const struct ls_array *arrays, size_t n,
                       const struct ls_attr *attrs, size_t n_attrs);

#endif
