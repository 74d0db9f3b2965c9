/* store_check.c — the parts of a results file that the job determines, checked against it.
 *
 * The journal vouches for the rows of results (resume.c checks those); everything else in the file
 * follows from the job alone: the axis value of every point (/grid), the point numbers (/point),
 * the logged steps (/trajectories/step), the job's text (/job), the root attributes that identify
 * the experiment, and the dimension scales. HDF5 checksums the object headers that hold most
 * attributes, but neither the values of contiguous datasets nor the global heap that holds
 * variable-length strings (job_canonical, job_name) and the scales' DIMENSION_LIST references,
 * so a flipped bit there passes unseen unless it is looked for. Dataset values are written back
 * in place (raw data may change in SWMR mode); an attribute, a type or a scale cannot be, and
 * the caller rebuilds the file then. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hdf5.h>
#include <hdf5_hl.h>

#include "lazysweep/error.h"
#include "store_internal.h"

/* Where the differences go, and whether to mend them. */
struct chk {
    ls_store_diff_fn fn;
    void *arg;
    int repair;
    size_t n_diff;
    int rebuild; /* a difference that only rebuilding the file mends */
};

static void differ(struct chk *k, const char *dataset, int64_t row, const char *what,
                   int rebuild)
{
    k->n_diff++;
    k->rebuild |= rebuild;
    if (k->fn != NULL)
        k->fn(k->arg, dataset, row, what);
}

/* One value of an axis column as text, for a message. */
static void axis_value(enum ls_type t, const void *col, size_t i, char *buf, size_t len)
{
    if (t == LS_T_STR)
        snprintf(buf, len, "'%.*s'", LS_STR_MAX, (const char *)col + i * LS_STR_MAX);
    else if (t == LS_T_REAL)
        snprintf(buf, len, "%.17g", ((const double *)col)[i]);
    else
        snprintf(buf, len, "%" PRId64, ((const int64_t *)col)[i]);
}

static size_t axis_width(enum ls_type t)
{
    return t == LS_T_STR ? LS_STR_MAX : sizeof(int64_t);
}

/* The axis dataset's type and `swept` attribute; 0 if they are as store_create made them. */
static int axis_shape_differs(hid_t dset, const struct ls_axis *ax, uint64_t n)
{
    hid_t type = H5Dget_type(dset), space = H5Dget_space(dset);
    hsize_t dims[1] = {0};
    int32_t swept = -1;
    H5T_class_t cls = type >= 0 ? H5Tget_class(type) : H5T_NO_CLASS;
    H5T_class_t want = ax->type == LS_T_STR ? H5T_STRING : ax->type == LS_T_REAL ? H5T_FLOAT
                                                                                 : H5T_INTEGER;
    int bad = cls != want || H5Tget_size(type) != axis_width(ax->type) || space < 0 ||
              H5Sget_simple_extent_ndims(space) != 1 ||
              H5Sget_simple_extent_dims(space, dims, NULL) < 0 || dims[0] != n ||
              get_int_attr(dset, "swept", &swept) != LS_OK || swept != (ax->swept ? 1 : 0);
    h5_close(&type);
    h5_close(&space);
    H5Eclear2(H5E_DEFAULT);
    return bad;
}

/* Compare one block of an axis column with what the grid says; report each differing row. */
static int compare_axis_block(struct chk *k, const char *name, enum ls_type t, uint64_t b0,
                              size_t nb, const void *want, const void *got)
{
    size_t w = axis_width(t);
    int dirty = 0;
    for (size_t i = 0; i < nb; i++) {
        if (memcmp((const char *)want + i * w, (const char *)got + i * w, w) == 0)
            continue;
        char a[LS_STR_MAX + 8], b[LS_STR_MAX + 8], what[2 * LS_STR_MAX + 64];
        axis_value(t, got, i, a, sizeof a);
        axis_value(t, want, i, b, sizeof b);
        snprintf(what, sizeof what, "holds %s, the job's grid says %s", a, b);
        differ(k, name, (int64_t)(b0 + i), what, 0);
        dirty = 1;
    }
    return dirty;
}

/* /grid/<axis a>: type, shape and `swept`, then every value, block by block. */
static int check_axis(hid_t file, const struct ls_grid *g, size_t a, struct chk *k, size_t *idx,
                      char *want, char *got)
{
    int rc = LS_OK;
    const struct ls_axis *ax = &g->axes[a];
    hid_t dset = H5I_INVALID_HID, mtype = H5I_INVALID_HID;
    char name[LS_PATH_MAX + 8];
    snprintf(name, sizeof name, "/grid/%s", ax->name);
    dset = H5Dopen2(file, name, H5P_DEFAULT);
    if (dset < 0 || axis_shape_differs(dset, ax, g->n_points)) {
        H5Eclear2(H5E_DEFAULT);
        differ(k, name, -1, "is missing, or its type, shape or `swept` attribute differs", 1);
        goto cleanup;
    }
    if (ax->type == LS_T_STR)
        LS_CALL(make_fixed_str(LS_STR_MAX, &mtype));
    else
        H5_CALL(mtype = H5Tcopy(ax->type == LS_T_REAL ? H5T_NATIVE_DOUBLE : H5T_NATIVE_INT64));
    for (uint64_t b0 = 0; b0 < g->n_points; b0 += GRID_BLOCK) {
        size_t nb = (size_t)(g->n_points - b0 < GRID_BLOCK ? g->n_points - b0 : GRID_BLOCK);
        for (size_t i = 0; i < nb; i++)
            grid_unravel(g, b0 + i, idx + i * g->n_axes);
        memset(want, 0, nb * LS_STR_MAX);
        fill_axis_column(g, a, idx, nb, want);
        LS_CALL(read_block(dset, mtype, b0, nb, got));
        if (compare_axis_block(k, name, ax->type, b0, nb, want, got) && k->repair)
            LS_CALL(write_block(dset, mtype, b0, nb, want));
    }
cleanup:
    h5_close(&mtype);
    h5_close(&dset);
    return rc;
}

static int check_grid(hid_t file, const struct ls_grid *g, struct chk *k)
{
    int rc = LS_OK;
    size_t *idx = malloc((size_t)GRID_BLOCK * (g->n_axes ? g->n_axes : 1) * sizeof *idx);
    char *want = malloc((size_t)GRID_BLOCK * LS_STR_MAX);
    char *got = malloc((size_t)GRID_BLOCK * LS_STR_MAX);
    LS_CHECK_ALLOC(idx);
    LS_CHECK_ALLOC(want);
    LS_CHECK_ALLOC(got);
    for (size_t a = 0; a < g->n_axes; a++)
        LS_CALL(check_axis(file, g, a, k, idx, want, got));
cleanup:
    free(idx);
    free(want);
    free(got);
    return rc;
}

/* An int64 dataset that must hold want(i) at row i, n rows: /point (i) or the steps. */
static int check_int_column(hid_t file, const char *name, uint64_t n, const int64_t *steps,
                            struct chk *k)
{
    int rc = LS_OK;
    hid_t dset = H5Dopen2(file, name, H5P_DEFAULT), space = H5I_INVALID_HID;
    int64_t *got = malloc(GRID_BLOCK * sizeof *got), *want = malloc(GRID_BLOCK * sizeof *want);
    hsize_t dims[1] = {0};
    LS_CHECK_ALLOC(got);
    LS_CHECK_ALLOC(want);
    if (dset < 0 || (space = H5Dget_space(dset)) < 0 || H5Sget_simple_extent_ndims(space) != 1 ||
        H5Sget_simple_extent_dims(space, dims, NULL) < 0 || dims[0] != n) {
        H5Eclear2(H5E_DEFAULT);
        differ(k, name, -1, "is missing or has another shape", 1);
        goto cleanup;
    }
    for (uint64_t b0 = 0; b0 < n; b0 += GRID_BLOCK) {
        size_t nb = (size_t)(n - b0 < GRID_BLOCK ? n - b0 : GRID_BLOCK);
        int dirty = 0;
        for (size_t i = 0; i < nb; i++)
            want[i] = steps ? steps[b0 + i] : (int64_t)(b0 + i);
        LS_CALL(read_block(dset, H5T_NATIVE_INT64, b0, nb, got));
        for (size_t i = 0; i < nb; i++) {
            if (got[i] == want[i])
                continue;
            char what[96];
            snprintf(what, sizeof what, "holds %" PRId64 ", must be %" PRId64, got[i], want[i]);
            differ(k, name, (int64_t)(b0 + i), what, 0);
            dirty = 1;
        }
        if (dirty && k->repair)
            LS_CALL(write_block(dset, H5T_NATIVE_INT64, b0, nb, want));
    }
cleanup:
    free(got);
    free(want);
    h5_close(&space);
    h5_close(&dset);
    return rc;
}

/* The first byte at which two texts of n bytes differ. */
static size_t first_diff(const char *a, const char *b, size_t n)
{
    size_t i = 0;
    while (i < n && a[i] == b[i])
        i++;
    return i;
}

/* /job: a scalar fixed-length string of exactly the job file's bytes. */
static int check_job_text(hid_t file, const struct ls_store_expect *e, struct chk *k)
{
    int rc = LS_OK;
    hid_t dset = H5Dopen2(file, "/job", H5P_DEFAULT), type = H5I_INVALID_HID;
    size_t size = e->job_len ? e->job_len : 1;
    char *got = malloc(size + 1), what[128];
    const char *want = e->job_len ? e->job_text : "";
    LS_CHECK_ALLOC(got);
    if (dset < 0 || (type = H5Dget_type(dset)) < 0 || H5Tget_class(type) != H5T_STRING ||
        H5Tget_size(type) != size || H5Tis_variable_str(type) > 0) {
        H5Eclear2(H5E_DEFAULT);
        differ(k, "/job", -1, "is missing or not a string of the job file's length", 1);
        goto cleanup;
    }
    got[size] = '\0';
    H5_CHECK(H5Dread(dset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, got), LS_ECORRUPT);
    if (memcmp(got, want, size) == 0 || (!e->job_len && got[0] == '\0'))
        goto cleanup;
    snprintf(what, sizeof what, "differs from the job file's text at byte %zu",
             first_diff(got, want, size));
    differ(k, "/job", -1, what, 0);
    if (k->repair)
        H5_CALL(H5Dwrite(dset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, want));
cleanup:
    free(got);
    h5_close(&type);
    h5_close(&dset);
    return rc;
}

/* A root string attribute that must equal `want`. */
static int check_str_attr(hid_t file, const char *name, const char *want, struct chk *k)
{
    size_t len = strlen(want) + 2; /* room to see one byte more than wanted */
    char *got = malloc(len), path[64];
    if (got == NULL)
        return LS_ENOMEM;
    snprintf(path, sizeof path, "/@%s", name);
    if (get_str_attr(file, name, got, len) != LS_OK) {
        H5Eclear2(H5E_DEFAULT);
        differ(k, path, -1, "is missing or unreadable", 1);
    } else if (strcmp(got, want) != 0) {
        char what[96];
        snprintf(what, sizeof what, "differs from the job's at byte %zu",
                 first_diff(got, want, strlen(want) + 1));
        differ(k, path, -1, what, 1);
    }
    free(got);
    return LS_OK;
}

static int check_attrs(hid_t file, const struct ls_job *job, struct chk *k)
{
    int32_t format = -1;
    if (get_int_attr(file, "format", &format) != LS_OK || format != LS_FORMAT_VERSION) {
        H5Eclear2(H5E_DEFAULT);
        differ(k, "/@format", -1, "is missing or not this tool's format", 1);
    }
    int rc = check_str_attr(file, "job_name", job->name, k);
    if (rc == LS_OK)
        rc = check_str_attr(file, "job_hash", job->hash_hex, k);
    if (rc == LS_OK)
        rc = check_str_attr(file, "job_canonical", job->canonical ? job->canonical : "", k);
    return rc;
}

/* Is `scale` attached to axis `idx` of dataset `name`? Reports the ones that are not. */
static void check_attached(hid_t file, const char *name, hid_t scale, unsigned idx, struct chk *k)
{
    hid_t dset = H5Dopen2(file, name, H5P_DEFAULT);
    if (dset < 0 || H5DSis_attached(dset, scale, idx) <= 0)
        differ(k, name, -1, idx ? "lost its dimension scale `step`" : "lost its dimension scale "
                                                                         "`point`", 1);
    H5Eclear2(H5E_DEFAULT);
    h5_close(&dset);
}

/* The dimension scales store_create attached (xarray names dimensions by them). */
static void check_scales(struct ls_store *s, const struct ls_job *job, struct chk *k)
{
    static const char *const cols[] = {"/status", "/timing/seconds", "/timing/rank",
                                       "/timing/finished", "/timing/host"};
    char name[LS_PATH_MAX + 32];
    hid_t point = H5Dopen2(s->file, "/point", H5P_DEFAULT);
    hid_t step = H5Dopen2(s->file, "/trajectories/step", H5P_DEFAULT);
    if (point < 0 || step < 0 || H5DSis_scale(point) <= 0 || H5DSis_scale(step) <= 0) {
        differ(k, "/point", -1, "/point or /trajectories/step is no longer a dimension scale", 1);
        goto done;
    }
    for (size_t a = 0; a < job->grid.n_axes; a++) {
        snprintf(name, sizeof name, "/grid/%s", job->grid.axes[a].name);
        check_attached(s->file, name, point, 0, k);
    }
    for (size_t c = 0; c < sizeof cols / sizeof cols[0]; c++)
        check_attached(s->file, cols[c], point, 0, k);
    for (size_t m = 0; m < job->n_metrics; m++) {
        snprintf(name, sizeof name, "/metrics/%s", job->metrics[m]);
        check_attached(s->file, name, point, 0, k);
    }
    for (size_t m = 0; m < job->n_traj; m++) {
        snprintf(name, sizeof name, "/trajectories/%s", job->traj[m]);
        check_attached(s->file, name, point, 0, k);
        check_attached(s->file, name, step, 1, k);
    }
done:
    H5Eclear2(H5E_DEFAULT);
    h5_close(&point);
    h5_close(&step);
}

int store_check_fixed(struct ls_store *s, const struct ls_job *job,
                      const struct ls_store_expect *e, int repair, ls_store_diff_fn fn,
                      void *arg, size_t *n_diff)
{
    struct chk k = {.fn = fn, .arg = arg, .repair = repair};
    int rc = check_attrs(s->file, job, &k);
    if (rc == LS_OK && e->job_text != NULL)
        rc = check_job_text(s->file, e, &k);
    if (rc == LS_OK)
        rc = check_grid(s->file, &job->grid, &k);
    if (rc == LS_OK)
        rc = check_int_column(s->file, "/point", s->n_points, NULL, &k);
    if (rc == LS_OK)
        rc = check_int_column(s->file, "/trajectories/step", s->T, e->steps, &k);
    if (rc == LS_OK)
        check_scales(s, job, &k);
    *n_diff = k.n_diff;
    if (rc == LS_OK && k.rebuild && repair)
        rc = LS_ECORRUPT;
    return rc;
}
