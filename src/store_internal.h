/* store_internal.h — what the files of the store module share (store.c, store_check.c); private
 * to src/store*.c, the only files that include hdf5.h. Functions here keep the names they had as
 * statics of store.c. */
#ifndef LAZYSWEEP_STORE_INTERNAL_H
#define LAZYSWEEP_STORE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <hdf5.h>

#include "lazysweep/cfg.h"
#include "lazysweep/store.h"

#define GRID_BLOCK 16384 /* rows of /grid (and /point) handled per read or write */

/* Log the innermost message of HDF5's error stack for a failed call, then clear the stack. */
void h5_report(const char *file, int line, const char *call);

#define H5_CHECK(expr, code)                                                                     \
    do {                                                                                         \
        if ((expr) < 0) {                                                                        \
            h5_report(__FILE__, __LINE__, #expr);                                                \
            rc = (code);                                                                         \
            goto cleanup;                                                                        \
        }                                                                                        \
    } while (0)
/* Spelled out rather than H5_CHECK(expr, LS_EHDF5), which would log the call with HDF5's
 * macros (H5F_ACC_TRUNC, H5T_NATIVE_*) expanded. */
#define H5_CALL(expr)                                                                            \
    do {                                                                                         \
        if ((expr) < 0) {                                                                        \
            h5_report(__FILE__, __LINE__, #expr);                                                \
            rc = LS_EHDF5;                                                                       \
            goto cleanup;                                                                        \
        }                                                                                        \
    } while (0)

/* A check of our own on what the file holds: log `what` and fail with `code`. */
#define STORE_REQUIRE(cond, code, what)                                                          \
    do {                                                                                         \
        if (!(cond)) {                                                                           \
            ls_report(__FILE__, __LINE__, #cond, what);                                          \
            rc = (code);                                                                         \
            goto cleanup;                                                                        \
        }                                                                                        \
    } while (0)

/* The per-row datasets that are not metrics or trajectories, in the order they are opened. */
enum { COL_STATUS, COL_SECONDS, COL_RANK, COL_FINISHED, COL_HOST, N_COLS };

struct row_ref {
    uint64_t row; /* row in the file */
    size_t pos;   /* position in the caller's batch */
};

struct ls_store {
    hid_t file;
    hid_t col[N_COLS];
    hid_t metric[LS_MAX_METRICS];
    hid_t traj[LS_MAX_METRICS];
    hid_t vec[LS_MAX_VECTORS]; /* /vectors/<name> (N, vec_len) */
    size_t n_vec, vec_len[LS_MAX_VECTORS], vec_total;
    hid_t status_type; /* the enum, also the memory type of /status */
    hid_t host_type;   /* fixed-length string of LS_HOST_MAX bytes */
    size_t n_metrics, n_traj, T;
    uint64_t n_points;
    size_t cap;            /* rows the batch buffers below hold */
    struct row_ref *refs;  /* [cap] the batch, sorted by row */
    hsize_t *coords;       /* [cap] rows of the (N) selection */
    void *buf;             /* one dataset's values for the batch (or a slice of it) */
    size_t slice;          /* rows per (N, T) write: TRAJ_POINTS / T, at least 1 */
    hsize_t *coords2;      /* [slice * T][2] elements of the (N, T) selection */
};


/* Close any kind of HDF5 handle if it is valid, and mark it invalid. */
void h5_close(hid_t *id);
/* A fixed-length, NUL-padded string type of `size` bytes (at least 1). */
int make_fixed_str(size_t size, hid_t *type);
/* Scalar attributes; LS_ECORRUPT if absent or unreadable. */
int get_int_attr(hid_t loc, const char *name, int32_t *value);
int get_str_attr(hid_t loc, const char *name, char *buf, size_t len);
/* Rows [start, start + count) of a 1-D dataset, as memory type `type`. */
int write_block(hid_t dset, hid_t type, hsize_t start, hsize_t count, const void *buf);
int read_block(hid_t dset, hid_t type, hsize_t start, hsize_t count, void *buf);
/* One block of axis `a`'s /grid column, col[nb], from the block's unravelled indices. */
void fill_axis_column(const struct ls_grid *g, size_t a, const size_t *idx, size_t nb, void *col);

#endif
