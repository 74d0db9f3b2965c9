/* cmd_data.c — the `data` sub-command: write the exact data one seed of a sweep trains on (the
 * same generator, streams and sizes as the workers) to an HDF5 file, so any analysis of the
 * results can be recomputed outside the tool. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lazysweep/cfg.h"
#include "lazysweep/cmd.h"
#include "lazysweep/data.h"
#include "lazysweep/error.h"
#include "lazysweep/store.h"
#include "lazysweep/sweep.h"
#include "lazysweep/usage.h"
#include "lazysweep/version.h"

static const char data_help[] =
    "usage: lazysweep data JOB.yaml [--seed S | --point I] -o OUT.h5\n"
    "\n"
    "Write the data the sweep's points train on, drawn by the same generator from the same\n"
    "streams (master seed, seed S, the data's sizes), so that every analysis of the results can\n"
    "be recomputed outside the tool. Datasets, as present for the data kind:\n"
    "  /X [n][d]  /y [n]  /beta_star [d]  /X_test [n_test][d]  /y_test [n_test]\n"
    "  /X_index [n] (int64, matrix_completion: entry (a, b) of the dim×dim matrix is a·dim + b;\n"
    "              the one-hot rows of X are not written out)\n"
    "Root attributes: job_name, job_hash, job_file, data_kind, seed, point (-1 with --seed),\n"
    "tool_version.\n"
    "\n"
    "  --seed S      the seed-axis value S (default: the first value of the seed axis). Refused\n"
    "                when a data.* key is a grid axis, since the data then differ between points\n"
    "                of one seed: name the point instead\n"
    "  --point I     the data of grid point I (0-based, in the order of the results file)\n"
    "  -o, --output OUT.h5   the file to write (replaced if it exists)\n"
    "\n"
    "Exit codes: 0 written, 1 internal error, 2 bad usage or job file.\n";

struct data_args {
    const char *job, *out;
    int64_t seed, point; /* -1: not given */
};

static int usage(const char *what) { return usage_fail("data", what); }

/* A non-negative integer option value, or -1. */
static int64_t nonneg(const char *s)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    return (*s && !*end && errno == 0 && v >= 0) ? (int64_t)v : -1;
}

/* Returns -1 to go on, else an exit code. */
static int parse_data(int argc, char **argv, struct data_args *a)
{
    *a = (struct data_args){.seed = -1, .point = -1};
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        int more = i + 1 < argc;
        if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
            fputs(data_help, stdout);
            return LS_EXIT_OK;
        } else if ((!strcmp(s, "-o") || !strcmp(s, "--output")) && more) {
            a->out = argv[++i];
        } else if (!strcmp(s, "--seed") && more) {
            if ((a->seed = nonneg(argv[++i])) < 0)
                return usage("--seed needs an integer >= 0");
        } else if (!strcmp(s, "--point") && more) {
            if ((a->point = nonneg(argv[++i])) < 0)
                return usage("--point needs an integer >= 0");
        } else if (s[0] == '-') {
            return usage_bad_option("data", data_help, s);
        } else if (!a->job) {
            a->job = s;
        } else {
            return usage("data takes one job file");
        }
    }
    if (!a->job || !a->out)
        return usage("data needs a job file and -o OUT.h5");
    if (a->seed >= 0 && a->point >= 0)
        return usage("give --seed or --point, not both");
    return -1;
}

/* The job of the point whose data to write: --point I as is; --seed S (or the first seed) on
 * point 0 with the seed replaced, which is the data of every point of seed S unless a data key
 * is swept. */
static int pick_point(const struct ls_job *job, const struct data_args *a, struct ls_job *pt)
{
    if (a->point >= 0) {
        if ((uint64_t)a->point >= job->grid.n_points) {
            fprintf(stderr, "lazysweep: --point %" PRId64 ": the grid has %" PRIu64 " points\n",
                    a->point, job->grid.n_points);
            return LS_EXIT_USAGE;
        }
        return cfg_point(job, (uint64_t)a->point, pt) == LS_OK ? -1 : LS_EXIT_INTERNAL;
    }
    for (size_t i = 0; i < job->grid.n_axes; i++)
        if (job->grid.axes[i].swept && !strncmp(job->grid.axes[i].name, "data.", 5)) {
            fprintf(stderr,
                    "lazysweep: %s is a grid axis, so the data differ between points of "
                    "one seed: choose one with --point I\n",
                    job->grid.axes[i].name);
            return LS_EXIT_USAGE;
        }
    if (cfg_point(job, 0, pt) != LS_OK)
        return LS_EXIT_INTERNAL;
    if (a->seed >= 0)
        pt->point_seed = a->seed;
    return -1;
}

/* X_index as int64 for the file; *out is malloc'ed (NULL when there is none). */
static int index_copy(const struct ls_data *d, int64_t **out)
{
    *out = NULL;
    if (!d->X_index)
        return LS_OK;
    *out = malloc((d->n ? d->n : 1) * sizeof **out);
    if (!*out)
        return LS_ENOMEM;
    for (size_t i = 0; i < d->n; i++)
        (*out)[i] = (int64_t)d->X_index[i];
    return LS_OK;
}

static int write_data(const struct ls_job *job, const struct ls_job *pt, int64_t point,
                      const struct ls_data *d, const char *out)
{
    struct ls_array arr[6];
    size_t n = 0;
    int64_t *idx = NULL;
    int rc = index_copy(d, &idx);
    if (rc != LS_OK)
        return rc;
    if (d->X && d->n)
        arr[n++] = (struct ls_array){"X", d->n, d->d, d->X, NULL};
    if (idx && d->n)
        arr[n++] = (struct ls_array){"X_index", d->n, 0, NULL, idx};
    if (d->n)
        arr[n++] = (struct ls_array){"y", d->n, 0, d->y, NULL};
    if (d->beta_star)
        arr[n++] = (struct ls_array){"beta_star", d->d, 0, d->beta_star, NULL};
    if (d->n_test && d->X_test)
        arr[n++] = (struct ls_array){"X_test", d->n_test, d->d, d->X_test, NULL};
    if (d->n_test && d->y_test)
        arr[n++] = (struct ls_array){"y_test", d->n_test, 0, d->y_test, NULL};
    const struct ls_attr attrs[] = {
        {"job_name", job->name, 0},      {"job_hash", job->hash_hex, 0}, {"job_file", job->path, 0},
        {"data_kind", pt->data.kind, 0}, {"seed", NULL, pt->point_seed}, {"point", NULL, point},
        {"tool_version", LS_VERSION, 0},
    };
    rc = store_write_arrays(out, arr, n, attrs, sizeof attrs / sizeof attrs[0]);
    free(idx);
    return rc;
}

int cmd_data(int argc, char **argv)
{
    struct data_args a;
    struct ls_job job = {0}, pt;
    struct ls_data *d = NULL;
    char err[LS_ERR_MAX];
    int code = parse_data(argc, argv, &a);
    if (code >= 0)
        return code;
    if (cfg_load(a.job, &job, err, sizeof err) != LS_OK) {
        fprintf(stderr, "%s\n", err);
        return LS_EXIT_USAGE;
    }
    if (a.seed < 0 && a.point < 0) /* the first value of the seed axis */
        a.seed = (int64_t)grid_find(&job.grid, "seed")->num[0];
    code = pick_point(&job, &a, &pt);
    int rc = code < 0 ? data_create(&pt, &d) : LS_OK;
    if (code < 0 && rc == LS_OK)
        rc = write_data(&job, &pt, a.point, d, a.out);
    if (code < 0 && rc != LS_OK) {
        fprintf(stderr, "lazysweep: cannot write the data to %s: %s\n", a.out, ls_strerror(rc));
        code = LS_EXIT_INTERNAL;
    }
    if (code < 0)
        printf("%s: data of %s (seed %" PRId64 ", %zu samples, dimension %zu)\n", a.out, job.name,
               pt.point_seed, d->n, d->d);
    data_destroy(&d);
    cfg_free(&job);
    return code < 0 ? LS_EXIT_OK : code;
}
