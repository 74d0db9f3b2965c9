/* plot_functions.c — the stored functions of 1-D points with their references and the data
 * (plot_functions.h). The grid and the data come from the job text the file keeps (/job), parsed
 * again with cfg, so the figure needs nothing but the results file. */
#include "lazysweep/plot_functions.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lazysweep/cfg.h"
#include "lazysweep/error.h"
#include "lazysweep/mlp_spline.h"
#include "lazysweep/store.h"

/* The job the file was made from: cfg_parse of /job (its data must still be valid there). */
static int file_job(const char *path, struct ls_job *job)
{
    char *text = NULL, err[LS_ERR_MAX];
    int rc = store_read_job_text(path, &text, NULL);
    if (rc == LS_OK)
        rc = cfg_parse(path, text, strlen(text), job, err, sizeof err);
    if (rc != LS_OK)
        fprintf(stderr, "lazysweep: %s: cannot read its job: %s\n", path,
                text ? err : ls_strerror(rc));
    free(text);
    return rc == LS_OK ? LS_OK : LS_EINVAL;
}

/* Rows f and g of point i as datablock $F<k>: "x f g". */
static void point_block(FILE *f, size_t k, const struct ls_job *job, const double *fun,
                        const double *ref, size_t n)
{
    fprintf(f, "$F%zu << EOD\n", k);
    for (size_t i = 0; i < n; i++) {
        double x = job->spline.grid_min + (double)i * job->spline.grid_step;
        fprintf(f, "%.17g %.17g %.17g\n", x, fun[i], ref[i]);
    }
    fputs("EOD\n", f);
}

/* "point I: axis=value, …" of the swept axes. */
static void point_title(const struct ls_results *r, uint64_t p, char *buf, size_t len)
{
    char v[LS_STR_MAX + 8];
    size_t off = (size_t)snprintf(buf, len, "point %llu", (unsigned long long)p);
    for (size_t a = 0; a < r->n_axes && off < len; a++) {
        if (!r->axis[a].swept)
            continue;
        report_value_text(&r->axis[a], r->axis[a].idx[p], 6, v, sizeof v);
        off += (size_t)snprintf(buf + off, len - off, "%s%s=%s", off ? ", " : ": ", r->axis[a].name,
                                v);
    }
}

static void script_body(FILE *f, const struct ls_results *r, const struct ls_job *job,
                        const uint64_t *points, size_t n, const double *fun, const double *ref,
                        size_t len)
{
    fputs("$D << EOD\n", f);
    for (int64_t j = 0; j < job->data.x.n; j++)
        fprintf(f, "%.17g %.17g\n", job->data.x.v[j], job->data.y.v[j]);
    fputs("EOD\n", f);
    for (size_t k = 0; k < n; k++)
        point_block(f, k, job, fun + k * len, ref + k * len, len);
    fprintf(f, "set title \"trained f (solid) and its reference g (dashed) — job %s\"\n",
            r->job_name);
    fputs("set xlabel \"x\"\nset ylabel \"f(x), g(x)\"\nset key below Left reverse\n"
          "set datafile missing NaN\nplot",
          f);
    for (size_t k = 0; k < n; k++) {
        char title[512];
        point_title(r, points[k], title, sizeof title);
        fprintf(f, "%s $F%zu using 1:2 with lines lw 2 lc rgb \"%s\" title \"%s\", \\\n",
                k ? "," : "", k, plot_colour(k), title);
        fprintf(f, "    $F%zu using 1:3 with lines lw 1.5 dt 2 lc rgb \"%s\" notitle", k,
                plot_colour(k));
    }
    fputs(", \\\n    $D using 1:2 with points pt 7 ps 1.3 lc rgb \"black\" title \"data\"\n", f);
}

/* The stored vector `name` of each listed point into out [n][len]. */
static int read_vectors(const char *path, const char *name, const uint64_t *points, size_t n,
                        size_t rows, size_t len, double *out)
{
    char ds[64], msg[LS_ERR_MAX];
    size_t R, C;
    snprintf(ds, sizeof ds, "/vectors/%s", name);
    if (store_probe_matrix(path, ds, &R, &C, msg, sizeof msg) != LS_OK || R != rows || C < len) {
        fprintf(stderr,
                "lazysweep: %s stored no '%s' of the spline grid (store: [function, "
                "reference])\n",
                path, name);
        return LS_ENOTFOUND;
    }
    double *all = malloc(R * C * sizeof *all);
    if (!all)
        return LS_ENOMEM;
    int rc = store_read_matrix(path, ds, all, R, C, msg, sizeof msg);
    for (size_t k = 0; rc == LS_OK && k < n; k++)
        memcpy(out + k * len, all + points[k] * C, len * sizeof *out);
    free(all);
    return rc;
}

int plot_functions(const char *path, const struct ls_results *r, const uint64_t *points, size_t n,
                   const struct ls_plot_opts *o)
{
    struct ls_job job = {0};
    double *fun = NULL, *ref = NULL;
    char *buf = NULL;
    size_t blen = 0, len = 0;
    FILE *f = NULL;
    int rc = LS_OK;
    for (size_t k = 0; k < n; k++)
        if (points[k] >= r->n || r->status[points[k]] != LS_ST_DONE)
            return LS_ERANGE;
    LS_CALL(file_job(path, &job));
    len = mlp_spline_grid_len(&job);
    if (len == 0 || strcmp(job.data.kind, "points1d") != 0) {
        rc = LS_EINVAL;
        goto cleanup;
    }
    fun = malloc(2 * n * len * sizeof *fun);
    LS_CHECK_ALLOC(fun);
    ref = fun + n * len;
    LS_CALL(read_vectors(path, "function", points, n, r->n, len, fun));
    LS_CALL(read_vectors(path, "reference", points, n, r->n, len, ref));
    f = open_memstream(&buf, &blen);
    LS_CHECK_ALLOC(f);
    plot_preamble(f, o);
    script_body(f, r, &job, points, n, fun, ref, len);
    if (fclose(f) != 0) {
        f = NULL;
        rc = LS_ENOMEM;
        goto cleanup;
    }
    f = NULL;
    rc = plot_draw_script(buf, blen, o);
cleanup:
    if (f)
        fclose(f);
    free(buf);
    free(fun);
    cfg_free(&job);
    return rc;
}
