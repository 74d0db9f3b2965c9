/* grid.h — sweep axes expanded into a flat list of points.
 *
 * A grid is the Cartesian product of its axes in declaration order, the last axis varying
 * fastest (row-major), so point index i ↔ one index per axis. Each point also has a *key*: the
 * canonical text of its axis values, independent of axis order and of which other values an axis
 * has. Keys, not indices, identify finished points in the journal, which is what lets a grid that
 * gained values be re-indexed without losing a finished point. Knows nothing of YAML or HDF5. */
#ifndef LAZYSWEEP_GRID_H
#define LAZYSWEEP_GRID_H

#include <stddef.h>
#include <stdint.h>

#define LS_PATH_MAX 64   /* longest axis name / dotted key path, with NUL */
#define LS_STR_MAX 64    /* longest string value, with NUL */
#define LS_MAX_AXES 16   /* axes in one grid, canonical ones included */
#define LS_KEY_MAX 1024  /* longest point key, with NUL */
#define LS_MAX_POINTS 10000000ULL /* 10^7: larger grids are refused */

/* Value type of a configuration key, and so of an axis over it. */
enum ls_type { LS_T_INT = 1, LS_T_REAL, LS_T_STR, LS_T_BOOL };

struct ls_axis {
    char name[LS_PATH_MAX];  /* "init_scale", "depth", ... or a dotted path "data.n_train" */
    enum ls_type type;       /* LS_T_INT and LS_T_REAL store values in num[], LS_T_STR in str[] */
    size_t n;                /* number of values, >= 1 */
    double *num;             /* [n] numeric values (integers are exact), or NULL */
    char (*str)[LS_STR_MAX]; /* [n] string values, or NULL */
    int swept;               /* 1 if the job file lists it under grid:, 0 for a canonical singleton */
    int line, col;           /* 1-based position of its declaration in the job file (0 if none) */
};

struct ls_grid {
    size_t n_axes;
    struct ls_axis axes[LS_MAX_AXES];
    uint64_t n_points; /* product of the axes' sizes */
};

/* Append an axis (takes ownership of num/str, which must be malloc'ed); recomputes n_points.
 * LS_ERANGE if the product exceeds LS_MAX_POINTS, LS_EINVAL if the name is taken or too many.
 * On failure nothing is taken: num/str remain the caller's to free. */
int grid_add_axis(struct ls_grid *g, const struct ls_axis *axis);

/* Axis by name, or NULL. */
const struct ls_axis *grid_find(const struct ls_grid *g, const char *name);

/* Point index → per-axis indices idx[n_axes], and back. */
void grid_unravel(const struct ls_grid *g, uint64_t point, size_t *idx);
uint64_t grid_ravel(const struct ls_grid *g, const size_t *idx);

/* Canonical key of a point: "name=value;" per axis in name order, numbers as %.17g, so the same
 * values give the same key whatever the axis order. Returns LS_ERANGE if it does not fit. */
int grid_point_key(const struct ls_grid *g, uint64_t point, char *key, size_t len);

/* Index of the point whose key is `key`, or LS_ENOTFOUND; on LS_ENOTFOUND, *axis names the first
 * axis (in key order) whose value in the key is not among the grid's values (NULL if the key names
 * a different set of axes). */
int grid_find_key(const struct ls_grid *g, const char *key, uint64_t *point, const char **axis);

/* Deep copy (dst must be empty/zeroed) and release of axis storage; free is safe twice. */
int grid_copy(struct ls_grid *dst, const struct ls_grid *src);
void grid_free(struct ls_grid *g);

#endif
