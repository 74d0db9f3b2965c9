/* result.h — the result record of one grid point.
 *
 * What a worker sends back, what the journal keeps and what the store writes as one row: status,
 * timing, final metrics and trajectories. It serializes to a flat little-endian byte string, the
 * same bytes on the wire (MPI) and in the journal, so the coordinator never re-encodes a result. */
#ifndef LAZYSWEEP_RESULT_H
#define LAZYSWEEP_RESULT_H

#include <stddef.h>
#include <stdint.h>

#include "lazysweep/grid.h"

/* Point status; the numbers are the HDF5 enum values of /status. */
#define LS_STATUS_MAP(X) X(PENDING, pending, 0) X(DONE, done, 1) X(DIVERGED, diverged, 2) \
    X(TIMEOUT, timeout, 3) X(FAILED, failed, 4)
enum ls_status {
#define LS_STATUS_ENUM(up, low, v) LS_ST_##up = v,
    LS_STATUS_MAP(LS_STATUS_ENUM)
#undef LS_STATUS_ENUM
        LS_ST_COUNT
};
const char *ls_status_name(int status);

#define LS_HOST_MAX 64

struct ls_result {
    uint64_t index;           /* point index in the grid that ran it (a hint: key is the identity) */
    char key[LS_KEY_MAX];     /* grid_point_key of the point */
    int32_t status;           /* enum ls_status */
    int32_t rank;             /* MPI rank that trained it */
    double seconds;           /* wall time of data + model + training, s */
    double finished;          /* Unix time when it finished, s */
    char host[LS_HOST_MAX];   /* host name of that rank */
    uint32_t n_metrics;       /* final metrics, in the job's metric order */
    uint32_t n_traj;          /* trajectories, in the job's trajectory order */
    uint32_t n_steps;         /* T, logged steps per trajectory */
    uint32_t n_vec;           /* total length of the stored vectors (sum of job->store_len) */
    double *metrics;          /* [n_metrics], NaN where not defined */
    double *traj;             /* [n_traj][n_steps] row-major, NaN-padded */
    double *vec;              /* [n_vec] the stored vectors one after the other, each in a slot of
                                 its job->store_len, NaN-padded */
};

/* Allocate arrays for the given sizes, filled with NaN; other fields zeroed. */
int result_init(struct ls_result *r, uint32_t n_metrics, uint32_t n_traj, uint32_t n_steps,
                uint32_t n_vec);
void result_free(struct ls_result *r);

/* Encoded size, encode into buf (len >= result_size), decode (validates every length; arrays
 * are (re)allocated in r, which must be zeroed or initialized). LS_ECORRUPT on a bad buffer. */
size_t result_size(const struct ls_result *r);
void result_encode(const struct ls_result *r, unsigned char *buf);
int result_decode(const unsigned char *buf, size_t len, struct ls_result *r);

#endif
