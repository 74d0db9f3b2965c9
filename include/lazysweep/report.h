/* report.h — what a results file says: aggregates over an axis, tables, CSV.
 *
 * A results file is loaded once (report_open): every point's axis values as indices into each
 * axis's sorted distinct values, its status and its final metrics. Trajectories and timing stay
 * in the file and are read by blocks of rows when a plot or an export needs them. Works while a
 * sweep writes the file: what is done so far, and how many points are pending.
 *
 * An aggregate groups the points by some axes (`by`) and pools the rest. Per group and metric it
 * gives count, mean, sample standard deviation (n − 1, NaN for one value), min, median, max over
 * the points whose status is `done` and whose value is finite; points that diverged, timed out,
 * failed or are pending are counted per group, never averaged in. Knows nothing of training. */
#ifndef LAZYSWEEP_REPORT_H
#define LAZYSWEEP_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lazysweep/grid.h"
#include "lazysweep/result.h"
#include "lazysweep/store.h"

#define LS_NO_GROUP UINT32_MAX

/* One axis of the file. */
struct ls_raxis {
    char name[LS_PATH_MAX];
    enum ls_type type;       /* LS_T_INT, LS_T_REAL or LS_T_STR */
    int swept;               /* 1 if the job file swept it */
    size_t n_values;         /* distinct values */
    double *num;             /* [n_values] ascending (numeric axes), else NULL */
    char (*str)[LS_STR_MAX]; /* [n_values] in strcmp order (string axes), else NULL */
    uint32_t *idx;           /* [N] value index of each point */
};

struct ls_results {
    char job_name[LS_NAME_MAX];
    uint64_t n;                        /* points N */
    size_t T;                          /* logged steps */
    int running;                       /* a sweep holds the file's lock right now */
    size_t n_axes;                     /* swept axes in the job's order (slowest first), */
    struct ls_raxis axis[LS_MAX_AXES]; /* then the fixed (unswept) ones */
    uint8_t *status;                   /* [N] enum ls_status */
    uint64_t count[LS_ST_COUNT];       /* points per status */
    size_t n_metrics;
    char metric[LS_MAX_METRICS][LS_PATH_MAX]; /* in the job's order */
    double *value[LS_MAX_METRICS];            /* [N] final value of each metric */
    size_t n_traj;
    char traj[LS_MAX_METRICS][LS_PATH_MAX]; /* metrics with a trajectory */
    double *step;                           /* [T] the logged steps */
    struct ls_reader *reader;               /* the file, open for trajectories and timing */
};

/* Load a results file (retrying for about 2 s while a starting sweep holds its lock). Errors:
 * LS_ENOTFOUND, LS_ELOCKED, LS_ECORRUPT (not a results file), LS_ENOMEM. */
int report_open(const char *path, struct ls_results *r);
void report_close(struct ls_results *r); /* safe twice */

/* Index of an axis / metric / trajectory by name, or -1. */
int report_find_axis(const struct ls_results *r, const char *name);
int report_find_metric(const struct ls_results *r, const char *name);
int report_find_traj(const struct ls_results *r, const char *name);

/* Value k of axis a as text: integers exactly, reals with `digits` significant digits (17
 * round-trips), strings as they are. */
void report_value_text(const struct ls_raxis *ax, uint32_t k, int digits, char *buf, size_t len);

/* Restrict to points passing every filter: "AXIS=V[,V...]" (any of the values), "AXIS!=V[,V...]"
 * (none of them), "AXIS<V", "<=", ">", ">=" (numeric axes), and "status=done[,diverged...]" (or
 * !=). Numeric values match = within a relative 1e-6, so a value printed with %.6g selects its
 * point. `=` filters of one axis add up (any of their values); every other filter must hold
 * as well. keep[N] gets 1 for the points kept. LS_EINVAL
 * with a message in err for a bad filter or one that no value passes. */
int report_filter(const struct ls_results *r, const char *const *where, size_t n_where,
                  uint8_t *keep, char *err, size_t len);

struct ls_agg_spec {
    size_t n_by; /* grouping axes, slowest-varying first */
    size_t by[LS_MAX_AXES];
    size_t n_metrics; /* metrics to summarize (indices into r->metric) */
    size_t metric[LS_MAX_METRICS];
    const uint8_t *keep; /* [N] 1 for points to use; NULL: all */
};

struct ls_stat {
    uint64_t count;                     /* done points with a finite value */
    double mean, std, min, median, max; /* NaN when count is 0 (std also when it is 1) */
};

struct ls_agg {
    struct ls_agg_spec spec;
    size_t n_groups;      /* groups with at least one kept point, in by-value order */
    uint32_t *key;        /* [n_groups][n_by] value index of each grouping axis */
    uint64_t *status;     /* [n_groups][LS_ST_COUNT] kept points per status */
    struct ls_stat *stat; /* [n_metrics][n_groups] */
    uint32_t *group;      /* [N] group of each point, LS_NO_GROUP if not kept */
    char pooled[256];     /* the kept axes with several values that are not in `by` */
};

int report_aggregate(const struct ls_results *r, const struct ls_agg_spec *spec, struct ls_agg *a);
void report_agg_free(struct ls_agg *a); /* safe twice */

/* The aggregate as an aligned table, one block per metric, with a header of status counts. */
void report_print_table(const struct ls_results *r, const struct ls_agg *a, FILE *out);

/* The aggregate as a tidy CSV: one row per (group, metric) with the grouping axes, metric,
 * points, done, diverged, timeout, failed, pending, count, mean, std, min, median, max. Missing
 * numbers are empty cells. Returns LS_EIO if writing fails. */
int report_write_csv(const struct ls_results *r, const struct ls_agg *a, FILE *out);

/* One CSV row per point: point, every axis, status, every metric, seconds, rank, finished, host. */
int report_export_points(const struct ls_results *r, FILE *out);

/* Trajectories in long format: point, the swept axes, status, step, one column per trajectory;
 * one row per point and logged step, leaving out rows where every trajectory is NaN (padding,
 * pending points). */
int report_export_traj(const struct ls_results *r, FILE *out);

/* Per-step statistics of trajectory `traj` over the done points of each group of `a`:
 * mean/lo/hi/sd/count are [n_groups][T] (caller-allocated). A point that stopped early keeps its
 * final value (the trajectory's last column) at the later steps, since its training ended there;
 * stops (optional, NULL: not counted) says how many of a group's points begin carrying their
 * final value at each column, so a figure can mark where a flat stretch is a stop. */
struct ls_traj_stats {
    double *mean, *min, *max, *std;
    uint64_t *count;
    uint64_t *stops;
};
int report_traj_stats(const struct ls_results *r, const struct ls_agg *a, size_t traj,
                      struct ls_traj_stats *st);

/* The trajectory of one point (row of T values) and the step at which each value was logged;
 * for a point that stopped early, the final value is placed at the step it stopped (metric
 * `steps`, when the file has it) instead of at the last logged step. */
int report_point_traj(const struct ls_results *r, size_t traj, uint64_t point, double *x,
                      double *y);

#endif
