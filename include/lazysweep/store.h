/* store.h — the results file: the only module that includes hdf5.h.
 *
 * Layout (README "Results file"): /job, /grid/<axis>, /status (enum), /metrics/<name>,
 * /trajectories/step, /trajectories/<name>, /timing/{seconds,rank,finished,host}, root attributes
 * format, tool_version, job_name, job_hash, job_canonical and library versions. Every dataset is
 * created at full size when the file is made, then the file switches to SWMR so h5py can read it
 * while the sweep runs; rows are written in batches. Only the coordinator calls this. */
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

/* Status of every row, status[n_points]. */
int store_read_status(struct ls_store *s, uint8_t *status);

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

#endif
