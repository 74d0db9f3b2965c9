/* store.c — the results file, and the only file that includes hdf5.h.
 *
 * Layout for N points and T logged steps (README "Results file"):
 *   /                      attributes format, tool_version, job_name, job_hash, job_canonical and
 *                          one per library version line
 *   /job                   scalar fixed-length string: the job file's exact bytes
 *   /grid/<axis>     (N)   int64, float64 or fixed-length string; attribute swept (int32 0/1)
 *   /status          (N)   enum over uint8: pending, done, diverged, timeout, failed
 *   /metrics/<name>  (N)   float64, NaN until written
 *   /trajectories/step (T) int64;  /trajectories/<name> (N, T) float64, NaN-padded
 *   /timing/seconds, /timing/rank, /timing/finished, /timing/host  (N)
 *   /point           (N)   int64 0 … N−1: with /trajectories/step, the dimension scales that
 *                          name the axes for netCDF-4 readers (xarray)
 * Every dataset is created at full size, contiguous, allocated and filled (NaN, -1, pending) by
 * store_create, so the file's structure never changes afterwards: writing a row is a few pwrite()s
 * in place, with no chunk to read, modify and write back and no chunk index to update. That is
 * what makes rows arriving in any order cheap (on random rows, 16384-row / 512 KiB chunks gave
 * 2-19k rows/s, contiguous 50-85k), lets the file switch to SWMR and be read by h5py while the
 * sweep runs, and means a killed writer can leave stale rows but no broken metadata. The price is
 * that the file has its final size, about N * (100 + 8 * T * n_traj) bytes, from the start.
 * Root attribute strings are variable-length UTF-8 because
 * h5py 3 reads those as `str` (fixed-length ones come back as numpy `bytes_`); string datasets
 * are fixed-length so they read as numpy arrays (`.asstr()` for `str`).
 *
 * File locking: HDF5 1.10 flock()s the file while it is open for writing and drops the lock when
 * the writer switches to SWMR, so `h5py.File(path, "r", libver="latest", swmr=True)` can read
 * while the sweep runs (checked in the tests). On file systems without flock (some Lustre/NFS
 * mounts) we ask HDF5 to ignore the failure instead of refusing to open (H5Pset_file_locking);
 * h5py users there may need HDF5_USE_FILE_LOCKING=FALSE.
 *
 * Every HDF5 call goes through H5_CHECK, which logs "file:line: call: HDF5's own message" and
 * jumps to the function's cleanup label; HDF5's automatic stack printing is switched off. */
#include "lazysweep/store.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <hdf5.h>
#include <hdf5_hl.h> /* dimension scales (H5DS*) */

#include "lazysweep/error.h"
#include "lazysweep/version.h"
#include "store_internal.h"

/* The per-row datasets that are not metrics or trajectories, by COL_*. */
static const char *const col_path[N_COLS] = {"/status", "/timing/seconds", "/timing/rank",
                                             "/timing/finished", "/timing/host"};

#define TRAJ_POINTS 65536    /* elements per (N, T) write, bounding its selection's memory */
#define READ_BLOCK (1u << 20) /* rows per read in store_summary */

/* ---- small HDF5 helpers -------------------------------------------------------------------- */

#define H5_MSG_MAX 256

static herr_t innermost(unsigned n, const H5E_error2_t *e, void *arg)
{
    if (n == 0 && e->desc != NULL)
        snprintf(arg, H5_MSG_MAX, "%s (%s)", e->desc, e->func_name ? e->func_name : "?");
    return 0;
}

void h5_report(const char *file, int line, const char *call)
{
    char msg[H5_MSG_MAX] = "failed";
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, innermost, msg);
    H5Eclear2(H5E_DEFAULT);
    ls_report(file, line, call, msg);
}

/* Close any kind of HDF5 handle if it is valid, and mark it invalid. */
void h5_close(hid_t *id)
{
    if (*id < 0)
        return;
    switch (H5Iget_type(*id)) {
    case H5I_FILE: H5Fclose(*id); break;
    case H5I_GROUP: H5Gclose(*id); break;
    case H5I_DATATYPE: H5Tclose(*id); break;
    case H5I_DATASPACE: H5Sclose(*id); break;
    case H5I_DATASET: H5Dclose(*id); break;
    case H5I_ATTR: H5Aclose(*id); break;
    case H5I_GENPROP_LST: H5Pclose(*id); break;
    default: break;
    }
    *id = H5I_INVALID_HID;
}

/* Done once per entry point: failures are reported by H5_CHECK, never printed by HDF5 itself. */
static void h5_quiet(void)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

static herr_t find_lock_error(unsigned n, const H5E_error2_t *e, void *arg)
{
    (void)n;
    if (e->desc != NULL && strstr(e->desc, "unable to lock file") != NULL)
        *(int *)arg = 1;
    return 0;
}

/* H5Fopen, with its failure sorted: LS_ELOCKED when another process holds the file's lock (a
 * sweep writing it before it switched to SWMR), else LS_ECORRUPT (not HDF5, truncated, damaged,
 * or marked open for write by a writer that was killed). */
int open_file(const char *path, unsigned flags, hid_t fapl, hid_t *file)
{
    int locked = 0;
    *file = H5Fopen(path, flags, fapl);
    if (*file >= 0)
        return LS_OK;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, find_lock_error, &locked);
    h5_report(__FILE__, __LINE__, path);
    return locked ? LS_ELOCKED : LS_ECORRUPT;
}

/* File access: the latest format (checksummed metadata, needed for SWMR), and file locking that
 * is ignored where the file system does not support it. */
int make_fapl(hid_t *fapl)
{
    int rc = LS_OK;
    H5_CALL(*fapl = H5Pcreate(H5P_FILE_ACCESS));
    H5_CALL(H5Pset_libver_bounds(*fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST));
    H5_CALL(H5Pset_file_locking(*fapl, 1, 1));
    /* Rows are scattered 8-byte and T*8-byte pieces: HDF5's 64 KiB sieve buffer would read and
     * write 64 KiB around each one, so it is off and every piece is one pwrite. */
    H5_CALL(H5Pset_sieve_buf_size(*fapl, 0));
cleanup:
    if (rc != LS_OK)
        h5_close(fapl);
    return rc;
}

/* The /status enum type, from the one status table. */
static int make_status_type(hid_t *type)
{
    int rc = LS_OK;
    uint8_t v;
    H5_CALL(*type = H5Tenum_create(H5T_NATIVE_UINT8));
#define STORE_ENUM_INSERT(up, low, val)                                                          \
    v = (val);                                                                                   \
    H5_CALL(H5Tenum_insert(*type, #low, &v));
    LS_STATUS_MAP(STORE_ENUM_INSERT)
#undef STORE_ENUM_INSERT
cleanup:
    if (rc != LS_OK)
        h5_close(type);
    return rc;
}

/* A fixed-length, NUL-padded string type of `size` bytes (at least 1, as HDF5 requires). */
int make_fixed_str(size_t size, hid_t *type)
{
    int rc = LS_OK;
    H5_CALL(*type = H5Tcopy(H5T_C_S1));
    H5_CALL(H5Tset_size(*type, size ? size : 1));
    H5_CALL(H5Tset_strpad(*type, H5T_STR_NULLPAD));
cleanup:
    if (rc != LS_OK)
        h5_close(type);
    return rc;
}

/* ---- attributes ---------------------------------------------------------------------------- */

/* A scalar integer attribute: int32 for format and flags, int64 for counts and seeds. */
static int put_num_attr(hid_t loc, const char *name, hid_t file_type, hid_t mem_type,
                        const void *value)
{
    int rc = LS_OK;
    hid_t space = H5I_INVALID_HID, attr = H5I_INVALID_HID;
    H5_CALL(space = H5Screate(H5S_SCALAR));
    H5_CALL(attr = H5Acreate2(loc, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT));
    H5_CALL(H5Awrite(attr, mem_type, value));
cleanup:
    h5_close(&attr);
    h5_close(&space);
    return rc;
}

static int put_int_attr(hid_t loc, const char *name, int32_t value)
{
    return put_num_attr(loc, name, H5T_STD_I32LE, H5T_NATIVE_INT32, &value);
}

/* A scalar variable-length UTF-8 string attribute (h5py reads it as str). */
static int put_str_attr(hid_t loc, const char *name, const char *value)
{
    int rc = LS_OK;
    hid_t space = H5I_INVALID_HID, type = H5I_INVALID_HID, attr = H5I_INVALID_HID;
    const char *v = value ? value : "";
    H5_CALL(space = H5Screate(H5S_SCALAR));
    H5_CALL(type = H5Tcopy(H5T_C_S1));
    H5_CALL(H5Tset_size(type, H5T_VARIABLE));
    H5_CALL(H5Tset_cset(type, H5T_CSET_UTF8));
    H5_CALL(attr = H5Acreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT));
    H5_CALL(H5Awrite(attr, type, &v));
cleanup:
    h5_close(&attr);
    h5_close(&type);
    h5_close(&space);
    return rc;
}

int get_int_attr(hid_t loc, const char *name, int32_t *value)
{
    int rc = LS_OK;
    hid_t attr = H5I_INVALID_HID;
    H5_CHECK(attr = H5Aopen(loc, name, H5P_DEFAULT), LS_ECORRUPT);
    H5_CHECK(H5Aread(attr, H5T_NATIVE_INT32, value), LS_ECORRUPT);
cleanup:
    h5_close(&attr);
    return rc;
}

/* Read a scalar string attribute, variable- or fixed-length, into buf[len] (truncated, NUL-ended).
 * LS_ECORRUPT if it is absent or not a string. */
int get_str_attr(hid_t loc, const char *name, char *buf, size_t len)
{
    int rc = LS_OK;
    hid_t attr = H5I_INVALID_HID, ftype = H5I_INVALID_HID, mtype = H5I_INVALID_HID;
    char *vlen = NULL, *fixed = NULL;
    H5_CHECK(attr = H5Aopen(loc, name, H5P_DEFAULT), LS_ECORRUPT);
    H5_CHECK(ftype = H5Aget_type(attr), LS_ECORRUPT);
    STORE_REQUIRE(H5Tget_class(ftype) == H5T_STRING, LS_ECORRUPT, name);
    H5_CALL(mtype = H5Tcopy(H5T_C_S1));
    H5_CALL(H5Tset_cset(mtype, H5Tget_cset(ftype))); /* HDF5 will not convert between csets */
    if (H5Tis_variable_str(ftype) > 0) {
        H5_CALL(H5Tset_size(mtype, H5T_VARIABLE));
        H5_CHECK(H5Aread(attr, mtype, &vlen), LS_ECORRUPT);
        snprintf(buf, len, "%s", vlen ? vlen : "");
    } else {
        size_t size = H5Tget_size(ftype);
        fixed = calloc(size + 1, 1);
        LS_CHECK_ALLOC(fixed);
        H5_CALL(H5Tset_size(mtype, size + 1));
        H5_CALL(H5Tset_strpad(mtype, H5T_STR_NULLTERM));
        H5_CHECK(H5Aread(attr, mtype, fixed), LS_ECORRUPT);
        snprintf(buf, len, "%s", fixed);
    }
cleanup:
    if (vlen != NULL)
        H5free_memory(vlen);
    free(fixed);
    h5_close(&mtype);
    h5_close(&ftype);
    h5_close(&attr);
    return rc;
}

/* One attribute per "key=value" line of `versions` (blank lines skipped), plus hdf5_version
 * unless the caller gave it: this is the one module that can ask HDF5. */
static int put_version_attrs(hid_t file, const char *versions)
{
    int rc = LS_OK;
    unsigned maj = 0, min = 0, rel = 0;
    char hdf5[32];
    char *text = strdup(versions ? versions : "");
    LS_CHECK_ALLOC(text);
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        char *eq = strchr(line, '=');
        STORE_REQUIRE(eq != NULL && eq != line, LS_EINVAL, "versions: a line is not key=value");
        *eq = '\0';
        LS_CALL(put_str_attr(file, line, eq + 1));
    }
    htri_t given = H5Aexists(file, "hdf5_version");
    H5_CALL(given);
    H5_CALL(H5get_libversion(&maj, &min, &rel));
    snprintf(hdf5, sizeof hdf5, "%u.%u.%u", maj, min, rel);
    if (!given)
        LS_CALL(put_str_attr(file, "hdf5_version", hdf5));
cleanup:
    free(text);
    return rc;
}

static int put_root_attrs(hid_t file, const struct ls_job *job, const char *versions)
{
    int rc = LS_OK;
    LS_CALL(put_int_attr(file, "format", LS_FORMAT_VERSION));
    LS_CALL(put_str_attr(file, "tool_version", LS_VERSION));
    LS_CALL(put_str_attr(file, "job_name", job->name));
    LS_CALL(put_str_attr(file, "job_hash", job->hash_hex));
    LS_CALL(put_str_attr(file, "job_canonical", job->canonical));
    LS_CALL(put_version_attrs(file, versions));
cleanup:
    return rc;
}

/* ---- creating ------------------------------------------------------------------------------ */

/* A dataset of rank 1 (dims[0]) or 2 (dims[0] x dims[1]), contiguous and allocated at once,
 * filled with *fill when that is given (NULL: the caller writes every element itself). */
static int make_dataset(hid_t loc, const char *name, hid_t type, int rank, const hsize_t *dims,
                        const void *fill, hid_t *out)
{
    int rc = LS_OK;
    hid_t space = H5I_INVALID_HID, dcpl = H5I_INVALID_HID;
    H5_CALL(space = H5Screate_simple(rank, dims, NULL));
    H5_CALL(dcpl = H5Pcreate(H5P_DATASET_CREATE));
    H5_CALL(H5Pset_layout(dcpl, H5D_CONTIGUOUS));
    H5_CALL(H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY));
    if (fill != NULL)
        H5_CALL(H5Pset_fill_value(dcpl, type, fill));
    H5_CALL(*out = H5Dcreate2(loc, name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT));
cleanup:
    h5_close(&dcpl);
    h5_close(&space);
    return rc;
}

/* Write rows [start, start + count) of a 1-D dataset from buf (memory type `type`). */
int write_block(hid_t dset, hid_t type, hsize_t start, hsize_t count, const void *buf)
{
    int rc = LS_OK;
    hid_t fspace = H5I_INVALID_HID, mspace = H5I_INVALID_HID;
    H5_CALL(fspace = H5Dget_space(dset));
    H5_CALL(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, &start, NULL, &count, NULL));
    H5_CALL(mspace = H5Screate_simple(1, &count, NULL));
    H5_CALL(H5Dwrite(dset, type, mspace, fspace, H5P_DEFAULT, buf));
cleanup:
    h5_close(&mspace);
    h5_close(&fspace);
    return rc;
}

/* One block of axis `a`'s column, col[nb], from the block's unravelled indices idx[nb][n_axes]. */
void fill_axis_column(const struct ls_grid *g, size_t a, const size_t *idx, size_t nb,
                      void *col)
{
    const struct ls_axis *ax = &g->axes[a];
    for (size_t i = 0; i < nb; i++) {
        size_t k = idx[i * g->n_axes + a];
        if (ax->type == LS_T_STR)
            strncpy((char *)col + i * LS_STR_MAX, ax->str[k], LS_STR_MAX);
        else if (ax->type == LS_T_REAL)
            ((double *)col)[i] = ax->num[k];
        else /* LS_T_INT and LS_T_BOOL: integers held exactly in num[] */
            ((int64_t *)col)[i] = (int64_t)ax->num[k];
    }
}

/* Create /grid/<axis> datasets (one per axis, with its "swept" attribute) into dset[]. */
static int make_grid_datasets(hid_t grp, const struct ls_grid *g, hid_t str_type, hid_t *dset)
{
    int rc = LS_OK;
    hsize_t n = g->n_points;
    for (size_t a = 0; a < g->n_axes; a++) {
        const struct ls_axis *ax = &g->axes[a];
        hid_t type = ax->type == LS_T_STR    ? str_type
                     : ax->type == LS_T_REAL ? H5T_IEEE_F64LE
                                             : H5T_STD_I64LE;
        LS_CALL(make_dataset(grp, ax->name, type, 1, &n, NULL, &dset[a]));
        LS_CALL(put_int_attr(dset[a], "swept", ax->swept ? 1 : 0));
    }
cleanup:
    return rc;
}

/* Fill every /grid/<axis> column, a block of rows at a time so memory stays bounded for 10^7
 * points; grid_unravel (not arithmetic of our own) decides which value each row has. */
static int write_grid_values(const struct ls_grid *g, hid_t str_type, const hid_t *dset)
{
    int rc = LS_OK;
    size_t *idx = malloc((size_t)GRID_BLOCK * g->n_axes * sizeof *idx);
    void *col = malloc((size_t)GRID_BLOCK * LS_STR_MAX);
    LS_CHECK_ALLOC(idx);
    LS_CHECK_ALLOC(col);
    for (uint64_t b0 = 0; b0 < g->n_points; b0 += GRID_BLOCK) {
        size_t nb = (size_t)(g->n_points - b0 < GRID_BLOCK ? g->n_points - b0 : GRID_BLOCK);
        for (size_t i = 0; i < nb; i++)
            grid_unravel(g, b0 + i, idx + i * g->n_axes);
        for (size_t a = 0; a < g->n_axes; a++) {
            enum ls_type t = g->axes[a].type;
            hid_t mtype = t == LS_T_STR    ? str_type
                          : t == LS_T_REAL ? H5T_NATIVE_DOUBLE
                                           : H5T_NATIVE_INT64;
            fill_axis_column(g, a, idx, nb, col);
            LS_CALL(write_block(dset[a], mtype, b0, nb, col));
        }
    }
cleanup:
    free(idx);
    free(col);
    return rc;
}

static int write_grid(hid_t file, const struct ls_grid *g)
{
    int rc = LS_OK;
    hid_t grp = H5I_INVALID_HID, str_type = H5I_INVALID_HID;
    hid_t dset[LS_MAX_AXES];
    for (size_t a = 0; a < LS_MAX_AXES; a++)
        dset[a] = H5I_INVALID_HID;
    STORE_REQUIRE(g->n_axes <= LS_MAX_AXES, LS_EINVAL, "too many axes");
    LS_CALL(make_fixed_str(LS_STR_MAX, &str_type));
    H5_CALL(grp = H5Gcreate2(file, "grid", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    LS_CALL(make_grid_datasets(grp, g, str_type, dset));
    LS_CALL(write_grid_values(g, str_type, dset));
cleanup:
    for (size_t a = 0; a < LS_MAX_AXES; a++)
        h5_close(&dset[a]);
    h5_close(&grp);
    h5_close(&str_type);
    return rc;
}

/* /job: the job file's exact bytes as one fixed-length string. */
static int write_job_text(hid_t file, const struct ls_job *job)
{
    int rc = LS_OK;
    hid_t type = H5I_INVALID_HID, space = H5I_INVALID_HID, dset = H5I_INVALID_HID;
    size_t len = job->text ? job->text_len : 0;
    char empty[1] = {0};
    LS_CALL(make_fixed_str(len, &type));
    H5_CALL(space = H5Screate(H5S_SCALAR));
    H5_CALL(dset = H5Dcreate2(file, "job", type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    H5_CALL(H5Dwrite(dset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, len ? job->text : empty));
cleanup:
    h5_close(&dset);
    h5_close(&space);
    h5_close(&type);
    return rc;
}

static int write_steps(hid_t grp, const int64_t *steps, size_t T)
{
    int rc = LS_OK;
    hid_t dset = H5I_INVALID_HID;
    hsize_t t = T;
    LS_CALL(make_dataset(grp, "step", H5T_STD_I64LE, 1, &t, NULL, &dset));
    H5_CALL(H5Dwrite(dset, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, steps));
cleanup:
    h5_close(&dset);
    return rc;
}

/* The row datasets (status, metrics, trajectories, timing), their handles kept in s. */
static int make_row_datasets(struct ls_store *s, const struct ls_job *job, const int64_t *steps)
{
    int rc = LS_OK;
    hid_t grp = H5I_INVALID_HID;
    hsize_t n = s->n_points, nt[2] = {s->n_points, s->T};
    double nan = NAN;
    int32_t no_rank = -1;
    uint8_t pending = LS_ST_PENDING;
    char no_host[LS_HOST_MAX] = {0};
    LS_CALL(make_dataset(s->file, "status", s->status_type, 1, &n, &pending, &s->col[COL_STATUS]));
    H5_CALL(grp = H5Gcreate2(s->file, "metrics", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    for (size_t m = 0; m < s->n_metrics; m++)
        LS_CALL(make_dataset(grp, job->metrics[m], H5T_IEEE_F64LE, 1, &n, &nan, &s->metric[m]));
    h5_close(&grp);
    H5_CALL(grp = H5Gcreate2(s->file, "trajectories", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    LS_CALL(write_steps(grp, steps, s->T));
    for (size_t m = 0; m < s->n_traj; m++)
        LS_CALL(make_dataset(grp, job->traj[m], H5T_IEEE_F64LE, 2, nt, &nan, &s->traj[m]));
    h5_close(&grp);
    H5_CALL(grp = H5Gcreate2(s->file, "timing", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    LS_CALL(make_dataset(grp, "seconds", H5T_IEEE_F64LE, 1, &n, &nan, &s->col[COL_SECONDS]));
    LS_CALL(make_dataset(grp, "rank", H5T_STD_I32LE, 1, &n, &no_rank, &s->col[COL_RANK]));
    LS_CALL(make_dataset(grp, "finished", H5T_IEEE_F64LE, 1, &n, &nan, &s->col[COL_FINISHED]));
    /* An explicit fill, so no pending row can show bytes of space HDF5 freed and reused. */
    LS_CALL(make_dataset(grp, "host", s->host_type, 1, &n, no_host, &s->col[COL_HOST]));
    h5_close(&grp);
    if (s->n_vec > 0)
        H5_CALL(grp = H5Gcreate2(s->file, "vectors", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    for (size_t v = 0; v < s->n_vec; v++) {
        hsize_t nl[2] = {s->n_points, s->vec_len[v]};
        LS_CALL(make_dataset(grp, job->store[v], H5T_IEEE_F64LE, 2, nl, &nan, &s->vec[v]));
    }
cleanup:
    h5_close(&grp);
    return rc;
}

/* A store with every handle invalid and the job's shape. */
static int store_alloc(const struct ls_job *job, size_t T, struct ls_store **out)
{
    int rc = LS_OK;
    struct ls_store *s = calloc(1, sizeof *s);
    LS_CHECK_ALLOC(s);
    s->file = s->status_type = s->host_type = H5I_INVALID_HID;
    for (int c = 0; c < N_COLS; c++)
        s->col[c] = H5I_INVALID_HID;
    for (size_t m = 0; m < LS_MAX_METRICS; m++)
        s->metric[m] = s->traj[m] = H5I_INVALID_HID;
    for (size_t v = 0; v < LS_MAX_VECTORS; v++)
        s->vec[v] = H5I_INVALID_HID;
    s->n_vec = job->n_store;
    for (size_t v = 0; v < s->n_vec; v++)
        s->vec_total += s->vec_len[v] = job->store_len[v];
    s->n_metrics = job->n_metrics;
    s->n_traj = job->n_traj;
    s->n_points = job->grid.n_points;
    s->T = T;
    *out = s;
    STORE_REQUIRE(T >= 1 && s->n_points >= 1, LS_EINVAL, "a results file needs N >= 1, T >= 1");
    STORE_REQUIRE(s->n_metrics <= LS_MAX_METRICS && s->n_traj <= LS_MAX_METRICS, LS_EINVAL,
                  "too many metrics");
    LS_CALL(make_status_type(&s->status_type));
    LS_CALL(make_fixed_str(LS_HOST_MAX, &s->host_type));
cleanup:
    return rc;
}

/* ---- dimensions, for netCDF-4 readers (xarray with h5netcdf) -------------------------------- */

/* netCDF-4 readers name a dataset's dimensions after the HDF5 dimension scales attached to its
 * axes, and refuse datasets without them. So /point (N) int64 = 0 … N−1 is the scale `point` and
 * /trajectories/step the scale `step`; axis 0 of every per-point dataset gets `point`, axis 1 of
 * every trajectory `step`. xarray then opens each group with dimensions (point) or (point, step)
 * while h5py reads every dataset by the same name as before. /vectors/<name> get no scale:
 * h5netcdf refuses a dataset with one axis named and one not, and giving each vector length a
 * scale would add datasets to /vectors; that group opens with phony_dims="access". Done at
 * creation because attaching writes attributes, which SWMR mode forbids. */
static int write_point_scale(hid_t file, uint64_t n, hid_t *out)
{
    int rc = LS_OK;
    hsize_t dims = n;
    int64_t *buf = malloc(GRID_BLOCK * sizeof *buf);
    LS_CHECK_ALLOC(buf);
    LS_CALL(make_dataset(file, "point", H5T_STD_I64LE, 1, &dims, NULL, out));
    for (uint64_t b0 = 0; b0 < n; b0 += GRID_BLOCK) {
        size_t nb = (size_t)(n - b0 < GRID_BLOCK ? n - b0 : GRID_BLOCK);
        for (size_t i = 0; i < nb; i++)
            buf[i] = (int64_t)(b0 + i);
        LS_CALL(write_block(*out, H5T_NATIVE_INT64, b0, nb, buf));
    }
    H5_CALL(H5DSset_scale(*out, "point"));
cleanup:
    free(buf);
    return rc;
}

/* Attach `point` to axis 0 of /grid/<axis> for every axis of the grid. */
static int attach_grid(hid_t file, const struct ls_grid *g, hid_t point)
{
    int rc = LS_OK;
    hid_t dset = H5I_INVALID_HID;
    char name[LS_PATH_MAX + 8];
    for (size_t a = 0; a < g->n_axes; a++) {
        snprintf(name, sizeof name, "/grid/%s", g->axes[a].name);
        H5_CALL(dset = H5Dopen2(file, name, H5P_DEFAULT));
        H5_CALL(H5DSattach_scale(dset, point, 0));
        h5_close(&dset);
    }
cleanup:
    h5_close(&dset);
    return rc;
}

static int attach_dimensions(struct ls_store *s, const struct ls_job *job)
{
    int rc = LS_OK;
    hid_t point = H5I_INVALID_HID, step = H5I_INVALID_HID;
    LS_CALL(write_point_scale(s->file, s->n_points, &point));
    H5_CALL(step = H5Dopen2(s->file, "/trajectories/step", H5P_DEFAULT));
    H5_CALL(H5DSset_scale(step, "step"));
    LS_CALL(attach_grid(s->file, &job->grid, point));
    for (int c = 0; c < N_COLS; c++)
        H5_CALL(H5DSattach_scale(s->col[c], point, 0));
    for (size_t m = 0; m < s->n_metrics; m++)
        H5_CALL(H5DSattach_scale(s->metric[m], point, 0));
    for (size_t m = 0; m < s->n_traj; m++) {
        H5_CALL(H5DSattach_scale(s->traj[m], point, 0));
        H5_CALL(H5DSattach_scale(s->traj[m], step, 1));
    }
cleanup:
    h5_close(&step);
    h5_close(&point);
    return rc;
}

int store_create(const char *path, const struct ls_job *job, const int64_t *steps, size_t T,
                 const char *versions, struct ls_store **out)
{
    int rc = LS_OK;
    hid_t fapl = H5I_INVALID_HID;
    struct ls_store *s = NULL;
    h5_quiet();
    *out = NULL;
    LS_CALL(store_alloc(job, T, &s));
    LS_CALL(make_fapl(&fapl));
    H5_CALL(s->file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl));
    LS_CALL(put_root_attrs(s->file, job, versions));
    LS_CALL(write_job_text(s->file, job));
    LS_CALL(write_grid(s->file, &job->grid));
    LS_CALL(make_row_datasets(s, job, steps));
    LS_CALL(attach_dimensions(s, job));
    *out = s;
    s = NULL;
cleanup:
    h5_close(&fapl);
    store_close(&s);
    return rc;
}

/* ---- opening ------------------------------------------------------------------------------- */

/* Open dataset `name` and check that it has rank 1 with d0 rows, or rank 2 with d0 x d1 (d1 > 0).
 * LS_ECORRUPT if it is missing or unreadable, `shape_code` if its shape differs. */
static int open_shaped(hid_t file, const char *name, hsize_t d0, hsize_t d1, int shape_code,
                       hid_t *out)
{
    int rc = LS_OK;
    hid_t space = H5I_INVALID_HID;
    hsize_t dims[2] = {0, 0};
    int rank = d1 > 0 ? 2 : 1;
    H5_CHECK(*out = H5Dopen2(file, name, H5P_DEFAULT), LS_ECORRUPT);
    H5_CHECK(space = H5Dget_space(*out), LS_ECORRUPT);
    STORE_REQUIRE(H5Sget_simple_extent_ndims(space) == rank, LS_ECORRUPT, name);
    H5_CHECK(H5Sget_simple_extent_dims(space, dims, NULL), LS_ECORRUPT);
    STORE_REQUIRE(dims[0] == d0 && (rank == 1 || dims[1] == d1), shape_code, name);
cleanup:
    h5_close(&space);
    return rc;
}

static int check_identity(hid_t file, const struct ls_job *job)
{
    int rc = LS_OK;
    int32_t format = -1;
    char hash[64];
    LS_CALL(get_int_attr(file, "format", &format));
    STORE_REQUIRE(format == LS_FORMAT_VERSION, LS_EMISMATCH, "results file format differs");
    LS_CALL(get_str_attr(file, "job_hash", hash, sizeof hash));
    if (strcmp(hash, job->hash_hex) != 0) {
        char msg[160];
        snprintf(msg, sizeof msg, "results file has job hash %s, this job has %s", hash,
                 job->hash_hex);
        ls_report(__FILE__, __LINE__, "check_identity", msg);
        rc = LS_EMISMATCH;
    }
cleanup:
    return rc;
}

/* Open and shape-check every row dataset, keeping the handles in s. */
static int open_row_datasets(struct ls_store *s, const struct ls_job *job)
{
    int rc = LS_OK;
    hid_t steps = H5I_INVALID_HID, type = H5I_INVALID_HID;
    char name[LS_NAME_MAX + 32];
    uint64_t n = s->n_points;
    LS_CALL(open_shaped(s->file, "/status", n, 0, LS_EMISMATCH, &s->col[COL_STATUS]));
    H5_CHECK(type = H5Dget_type(s->col[COL_STATUS]), LS_ECORRUPT);
    STORE_REQUIRE(H5Tequal(type, s->status_type) > 0, LS_ECORRUPT, "/status is not the enum");
    LS_CALL(open_shaped(s->file, "/trajectories/step", s->T, 0, LS_EMISMATCH, &steps));
    for (int c = COL_SECONDS; c < N_COLS; c++)
        LS_CALL(open_shaped(s->file, col_path[c], n, 0, LS_ECORRUPT, &s->col[c]));
    for (size_t m = 0; m < s->n_metrics; m++) {
        snprintf(name, sizeof name, "/metrics/%s", job->metrics[m]);
        LS_CALL(open_shaped(s->file, name, n, 0, LS_ECORRUPT, &s->metric[m]));
    }
    for (size_t m = 0; m < s->n_traj; m++) {
        snprintf(name, sizeof name, "/trajectories/%s", job->traj[m]);
        LS_CALL(open_shaped(s->file, name, n, s->T, LS_ECORRUPT, &s->traj[m]));
    }
    for (size_t v = 0; v < s->n_vec; v++) {
        snprintf(name, sizeof name, "/vectors/%s", job->store[v]);
        LS_CALL(open_shaped(s->file, name, n, s->vec_len[v], LS_EMISMATCH, &s->vec[v]));
    }
cleanup:
    h5_close(&type);
    h5_close(&steps);
    return rc;
}

/* A file a killed writer left marked "open for write" (or in SWMR-write mode) fails H5Fopen in
 * HDF5 1.10 at once with "file is already open for write"; that is reported as LS_ECORRUPT so
 * the caller rebuilds it from the journal. A live writer in SWMR mode looks the same to HDF5 (it
 * holds no lock then), so the caller must know by its own lock that no sweep is running.
 *
 * The file opens straight into SWMR-write mode, so that h5py readers (swmr=True) can read it at
 * every instant of a resume, the replay of missing rows included; nothing is created in it after
 * store_create, which is all SWMR forbids. HDF5's own file lock is not taken: a SWMR reader
 * holds a shared lock for as long as it has the file open, which would make the resume fail
 * (and rebuild the file) merely because someone is watching it; the results file's own lock
 * (lock.h) already keeps a second writer out, and the superblock's SWMR flag keeps non-SWMR
 * readers out. */
/* store_open, or a read-only open (`readonly`, for `lazysweep verify`). */
static int open_existing(const char *path, const struct ls_job *job, size_t T, int readonly,
                         struct ls_store **out)
{
    int rc = LS_OK;
    hid_t fapl = H5I_INVALID_HID;
    struct ls_store *s = NULL;
    struct stat st;
    h5_quiet();
    *out = NULL;
    if (stat(path, &st) != 0 && errno == ENOENT)
        return LS_ENOTFOUND;
    LS_CALL(store_alloc(job, T, &s));
    LS_CALL(make_fapl(&fapl));
    H5_CALL(H5Pset_file_locking(fapl, 0, 1));
    /* SWMR opens retry a failed metadata checksum up to 100 times with growing sleeps, for a
     * reader racing a writer; this writer has no one to race, so damage must fail at once. */
    H5_CALL(H5Pset_metadata_read_attempts(fapl, 1));
    LS_CALL(open_file(path, readonly ? H5F_ACC_RDONLY : H5F_ACC_RDWR | H5F_ACC_SWMR_WRITE, fapl,
                      &s->file));
    LS_CALL(check_identity(s->file, job));
    LS_CALL(open_row_datasets(s, job));
    *out = s;
    s = NULL;
cleanup:
    h5_close(&fapl);
    store_close(&s);
    return rc;
}

int store_open(const char *path, const struct ls_job *job, size_t T, struct ls_store **out)
{
    return open_existing(path, job, T, 0, out);
}

int store_open_readonly(const char *path, const struct ls_job *job, size_t T,
                        struct ls_store **out)
{
    return open_existing(path, job, T, 1, out);
}

int store_read_status(struct ls_store *s, uint8_t *status)
{
    int rc = LS_OK;
    H5_CHECK(H5Dread(s->col[COL_STATUS], s->status_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, status),
             LS_ECORRUPT);
    for (uint64_t i = 0; i < s->n_points; i++)
        STORE_REQUIRE(status[i] < LS_ST_COUNT, LS_ECORRUPT, "/status holds an unknown value");
cleanup:
    return rc;
}

/* A file from store_open is in SWMR mode already: then this does nothing. */
int store_start_swmr(struct ls_store *s)
{
    int rc = LS_OK;
    unsigned intent = 0;
    H5_CALL(H5Fget_intent(s->file, &intent));
    if (!(intent & H5F_ACC_SWMR_WRITE))
        H5_CALL(H5Fstart_swmr_write(s->file));
cleanup:
    return rc;
}

int store_flush(struct ls_store *s)
{
    int rc = LS_OK;
    H5_CALL(H5Fflush(s->file, H5F_SCOPE_LOCAL));
cleanup:
    return rc;
}

void store_close(struct ls_store **sp)
{
    if (sp == NULL || *sp == NULL)
        return;
    struct ls_store *s = *sp;
    for (int c = 0; c < N_COLS; c++)
        h5_close(&s->col[c]);
    for (size_t m = 0; m < LS_MAX_METRICS; m++) {
        h5_close(&s->metric[m]);
        h5_close(&s->traj[m]);
    }
    for (size_t v = 0; v < LS_MAX_VECTORS; v++)
        h5_close(&s->vec[v]);
    h5_close(&s->status_type);
    h5_close(&s->host_type);
    if (s->file >= 0 && H5Fclose(s->file) < 0)
        h5_report(__FILE__, __LINE__, "H5Fclose(results file)");
    free(s->refs);
    free(s->coords);
    free(s->coords2);
    free(s->buf);
    free(s);
    *sp = NULL;
}

/* ---- writing rows -------------------------------------------------------------------------- */

static int cmp_ref(const void *a, const void *b)
{
    const struct row_ref *x = a, *y = b;
    if (x->row != y->row)
        return x->row < y->row ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Grow the batch buffers to n rows (the (N, T) ones are fixed at one slice). */
static int reserve_rows(struct ls_store *s, size_t n)
{
    if (s->coords2 == NULL) {
        s->slice = TRAJ_POINTS / s->T > 0 ? TRAJ_POINTS / s->T : 1;
        s->coords2 = malloc(s->slice * s->T * 2 * sizeof *s->coords2);
        if (s->coords2 == NULL)
            return LS_ENOMEM;
    }
    if (n <= s->cap)
        return LS_OK;
    struct row_ref *refs = realloc(s->refs, n * sizeof *refs);
    if (refs != NULL)
        s->refs = refs;
    hsize_t *coords = realloc(s->coords, n * sizeof *coords);
    if (coords != NULL)
        s->coords = coords;
    size_t per_row = LS_HOST_MAX > sizeof(double) ? LS_HOST_MAX : sizeof(double);
    size_t bytes = n * per_row, traj = s->slice * s->T * sizeof(double);
    void *buf = realloc(s->buf, bytes > traj ? bytes : traj);
    if (buf != NULL)
        s->buf = buf;
    if (refs == NULL || coords == NULL || buf == NULL)
        return LS_ENOMEM;
    s->cap = n;
    return LS_OK;
}

/* Check the batch against the file's shape, sort it by row and drop repeated rows (the last in
 * the batch wins), leaving *m distinct rows in s->refs and s->coords. */
static int sort_batch(struct ls_store *s, struct ls_result *const *rs, size_t n, size_t *m)
{
    int rc = LS_OK;
    for (size_t i = 0; i < n; i++) {
        const struct ls_result *r = rs[i];
        STORE_REQUIRE(r->index < s->n_points && r->n_metrics == s->n_metrics &&
                          r->n_traj == s->n_traj && r->n_steps == s->T &&
                          r->n_vec == s->vec_total,
                      LS_EINVAL, "result does not fit the results file");
        s->refs[i] = (struct row_ref){r->index, i};
    }
    qsort(s->refs, n, sizeof *s->refs, cmp_ref);
    *m = 0;
    for (size_t i = 0; i < n; i++) {
        if (*m > 0 && s->refs[*m - 1].row == s->refs[i].row)
            (*m)--;
        s->refs[(*m)++] = s->refs[i];
    }
    for (size_t i = 0; i < *m; i++)
        s->coords[i] = s->refs[i].row;
cleanup:
    return rc;
}

/* Which scalar field of a result a column write takes. */
enum field { F_STATUS, F_SECONDS, F_RANK, F_FINISHED, F_HOST, F_METRIC };

/* Gather field `f` (metric number k for F_METRIC) of the sorted batch into s->buf. */
static void gather(struct ls_store *s, struct ls_result *const *rs, size_t m, enum field f,
                   size_t k)
{
    for (size_t i = 0; i < m; i++) {
        const struct ls_result *r = rs[s->refs[i].pos];
        switch (f) {
        case F_STATUS: ((uint8_t *)s->buf)[i] = (uint8_t)r->status; break;
        case F_SECONDS: ((double *)s->buf)[i] = r->seconds; break;
        case F_RANK: ((int32_t *)s->buf)[i] = r->rank; break;
        case F_FINISHED: ((double *)s->buf)[i] = r->finished; break;
        case F_HOST: strncpy((char *)s->buf + i * LS_HOST_MAX, r->host, LS_HOST_MAX); break;
        case F_METRIC: ((double *)s->buf)[i] = r->metrics[k]; break;
        }
    }
}

/* Every (N) dataset but /status: one H5Dwrite each through the point selection fsel of the m
 * sorted rows (points, not a union of hyperslabs: HDF5 1.10 builds a point list in linear time,
 * a union of m blocks in quadratic). */
static int write_scalars(struct ls_store *s, struct ls_result *const *rs, size_t m, hid_t fsel,
                         hid_t mem)
{
    int rc = LS_OK;
    static const enum field col_field[N_COLS] = {F_STATUS, F_SECONDS, F_RANK, F_FINISHED, F_HOST};
    const hid_t col_type[N_COLS] = {s->status_type, H5T_NATIVE_DOUBLE, H5T_NATIVE_INT32,
                                    H5T_NATIVE_DOUBLE, s->host_type};
    for (int c = COL_STATUS + 1; c < N_COLS; c++) {
        gather(s, rs, m, col_field[c], 0);
        H5_CALL(H5Dwrite(s->col[c], col_type[c], mem, fsel, H5P_DEFAULT, s->buf));
    }
    for (size_t k = 0; k < s->n_metrics; k++) {
        gather(s, rs, m, F_METRIC, k);
        H5_CALL(H5Dwrite(s->metric[k], H5T_NATIVE_DOUBLE, mem, fsel, H5P_DEFAULT, s->buf));
    }
cleanup:
    return rc;
}

/* Sorted rows [i0, i1) of every trajectory dataset (i1 - i0 <= s->slice). */
static int write_traj_slice(struct ls_store *s, struct ls_result *const *rs, size_t i0, size_t i1)
{
    int rc = LS_OK;
    hid_t fsel = H5I_INVALID_HID, mem = H5I_INVALID_HID;
    size_t T = s->T, k = i1 - i0;
    hsize_t dims[2] = {s->n_points, T}, mdims[2] = {k, T};
    for (size_t i = 0; i < k; i++)
        for (size_t t = 0; t < T; t++) {
            s->coords2[2 * (i * T + t)] = s->coords[i0 + i];
            s->coords2[2 * (i * T + t) + 1] = t;
        }
    H5_CALL(fsel = H5Screate_simple(2, dims, NULL));
    H5_CALL(H5Sselect_elements(fsel, H5S_SELECT_SET, k * T, s->coords2));
    H5_CALL(mem = H5Screate_simple(2, mdims, NULL));
    for (size_t j = 0; j < s->n_traj; j++) {
        for (size_t i = 0; i < k; i++)
            memcpy((double *)s->buf + i * T, rs[s->refs[i0 + i].pos]->traj + j * T,
                   T * sizeof(double));
        H5_CALL(H5Dwrite(s->traj[j], H5T_NATIVE_DOUBLE, mem, fsel, H5P_DEFAULT, s->buf));
    }
cleanup:
    h5_close(&mem);
    h5_close(&fsel);
    return rc;
}

/* The stored vectors of the m sorted rows: one hyperslab write per row and vector, since a row
 * of vectors (d or n_params numbers) dwarfs the cost of a write call. */
static int write_vectors(struct ls_store *s, struct ls_result *const *rs, size_t m)
{
    int rc = LS_OK;
    hid_t fsel = H5I_INVALID_HID, mem = H5I_INVALID_HID;
    for (size_t v = 0, off = 0; v < s->n_vec; off += s->vec_len[v], v++) {
        hsize_t dims[2] = {s->n_points, s->vec_len[v]}, len = s->vec_len[v];
        H5_CALL(fsel = H5Screate_simple(2, dims, NULL));
        H5_CALL(mem = H5Screate_simple(1, &len, NULL));
        for (size_t i = 0; i < m; i++) {
            hsize_t start[2] = {s->coords[i], 0}, count[2] = {1, len};
            H5_CALL(H5Sselect_hyperslab(fsel, H5S_SELECT_SET, start, NULL, count, NULL));
            H5_CALL(H5Dwrite(s->vec[v], H5T_NATIVE_DOUBLE, mem, fsel, H5P_DEFAULT,
                             rs[s->refs[i].pos]->vec + off));
        }
        h5_close(&mem);
        h5_close(&fsel);
    }
cleanup:
    h5_close(&mem);
    h5_close(&fsel);
    return rc;
}

/* /status goes last, so a reader that sees a row's status also sees the rest of the row. */
int store_write(struct ls_store *s, struct ls_result *const *rs, size_t n)
{
    int rc = LS_OK;
    hid_t fsel = H5I_INVALID_HID, mem = H5I_INVALID_HID;
    hsize_t dims = s->n_points, mm = 0;
    size_t m = 0;
    if (n == 0)
        return LS_OK;
    LS_CALL(reserve_rows(s, n));
    LS_CALL(sort_batch(s, rs, n, &m));
    mm = m;
    H5_CALL(fsel = H5Screate_simple(1, &dims, NULL));
    H5_CALL(H5Sselect_elements(fsel, H5S_SELECT_SET, m, s->coords));
    H5_CALL(mem = H5Screate_simple(1, &mm, NULL));
    LS_CALL(write_scalars(s, rs, m, fsel, mem));
    for (size_t i0 = 0; s->n_traj > 0 && i0 < m; i0 += s->slice)
        LS_CALL(write_traj_slice(s, rs, i0, i0 + s->slice < m ? i0 + s->slice : m));
    LS_CALL(write_vectors(s, rs, m));
    gather(s, rs, m, F_STATUS, 0);
    H5_CALL(H5Dwrite(s->col[COL_STATUS], s->status_type, mem, fsel, H5P_DEFAULT, s->buf));
cleanup:
    h5_close(&mem);
    h5_close(&fsel);
    return rc;
}

/* ---- reading, for status and report -------------------------------------------------------- */

/* Open for reading while a sweep may be writing: SWMR-read first (which also opens a file whose
 * writer was killed), plain read-only otherwise. LS_ELOCKED while a writer holds the file's lock,
 * i.e. before it switched to SWMR. */
static int open_reader(const char *path, hid_t *file)
{
    int rc = LS_OK;
    hid_t fapl = H5I_INVALID_HID;
    struct stat st;
    h5_quiet();
    if (stat(path, &st) != 0 && errno == ENOENT)
        return LS_ENOTFOUND;
    H5_CALL(fapl = H5Pcreate(H5P_FILE_ACCESS));
    H5_CALL(H5Pset_file_locking(fapl, 1, 1));
    *file = H5Fopen(path, H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, fapl);
    if (*file < 0) {
        int locked = 0;
        H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, find_lock_error, &locked);
        H5Eclear2(H5E_DEFAULT);
        if (locked)
            rc = LS_ELOCKED;
        else
            rc = open_file(path, H5F_ACC_RDONLY, fapl, file);
    }
cleanup:
    h5_close(&fapl);
    return rc;
}

int store_read_job_text(const char *path, char **text, size_t *len)
{
    int rc = LS_OK;
    hid_t file = H5I_INVALID_HID, dset = H5I_INVALID_HID, type = H5I_INVALID_HID;
    *text = NULL;
    if (len)
        *len = 0;
    LS_CALL(open_reader(path, &file));
    H5_CHECK(dset = H5Dopen2(file, "job", H5P_DEFAULT), LS_ECORRUPT);
    H5_CHECK(type = H5Dget_type(dset), LS_ECORRUPT);
    if (H5Tget_class(type) != H5T_STRING || H5Tis_variable_str(type) != 0) {
        rc = LS_ECORRUPT; /* /job is always a fixed-length string */
        goto cleanup;
    }
    size_t n = H5Tget_size(type);
    *text = calloc(n + 1, 1);
    LS_CHECK_ALLOC(*text);
    H5_CALL(H5Dread(dset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, *text));
    if (len)
        *len = strnlen(*text, n);
cleanup:
    if (rc != LS_OK) {
        free(*text);
        *text = NULL;
    }
    h5_close(&type);
    h5_close(&dset);
    h5_close(&file);
    return rc;
}

/* Read rows [start, start + count) of a 1-D dataset as memory type `type`. */
int read_block(hid_t dset, hid_t type, hsize_t start, hsize_t count, void *buf)
{
    int rc = LS_OK;
    hid_t fspace = H5I_INVALID_HID, mspace = H5I_INVALID_HID;
    H5_CHECK(fspace = H5Dget_space(dset), LS_ECORRUPT);
    H5_CHECK(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, &start, NULL, &count, NULL), LS_ECORRUPT);
    H5_CALL(mspace = H5Screate_simple(1, &count, NULL));
    H5_CHECK(H5Dread(dset, type, mspace, fspace, H5P_DEFAULT, buf), LS_ECORRUPT);
cleanup:
    h5_close(&mspace);
    h5_close(&fspace);
    return rc;
}

/* Rows [row0, row0 + rows) x all `width` columns of a 2-D dataset. */
static int read_rows_2d(hid_t dset, size_t width, hsize_t row0, hsize_t rows, double *buf)
{
    int rc = LS_OK;
    hid_t fspace = H5I_INVALID_HID, mspace = H5I_INVALID_HID;
    hsize_t start[2] = {row0, 0}, count[2] = {rows, width};
    H5_CHECK(fspace = H5Dget_space(dset), LS_ECORRUPT);
    H5_CHECK(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL), LS_ECORRUPT);
    H5_CALL(mspace = H5Screate_simple(2, count, NULL));
    H5_CHECK(H5Dread(dset, H5T_NATIVE_DOUBLE, mspace, fspace, H5P_DEFAULT, buf), LS_ECORRUPT);
cleanup:
    h5_close(&mspace);
    h5_close(&fspace);
    return rc;
}

/* One hyperslab read per dataset: the rows are contiguous in every one of them, so this runs at
 * the disk's (or page cache's) speed. */
int store_read_rows(struct ls_store *s, uint64_t row0, size_t rows, struct ls_store_rows *out)
{
    int rc = LS_OK;
    STORE_REQUIRE(row0 <= s->n_points && rows <= s->n_points - row0, LS_EINVAL, "rows past N");
    if (rows == 0)
        return LS_OK;
    LS_CALL(read_block(s->col[COL_STATUS], s->status_type, row0, rows, out->status));
    LS_CALL(read_block(s->col[COL_SECONDS], H5T_NATIVE_DOUBLE, row0, rows, out->seconds));
    LS_CALL(read_block(s->col[COL_RANK], H5T_NATIVE_INT32, row0, rows, out->rank));
    LS_CALL(read_block(s->col[COL_FINISHED], H5T_NATIVE_DOUBLE, row0, rows, out->finished));
    LS_CALL(read_block(s->col[COL_HOST], s->host_type, row0, rows, out->host));
    for (size_t k = 0; k < s->n_metrics; k++)
        LS_CALL(read_block(s->metric[k], H5T_NATIVE_DOUBLE, row0, rows, out->metrics + k * rows));
    for (size_t j = 0; j < s->n_traj; j++)
        LS_CALL(read_rows_2d(s->traj[j], s->T, row0, rows, out->traj + j * rows * s->T));
    for (size_t v = 0, off = 0; v < s->n_vec; off += s->vec_len[v], v++)
        LS_CALL(read_rows_2d(s->vec[v], s->vec_len[v], row0, rows, out->vec + rows * off));
cleanup:
    return rc;
}

/* Accumulates the summary over blocks of rows; `window` > 0 selects the second pass, which
 * counts finished rows at or after it. */
struct tally {
    struct ls_store_summary *sum;
    double window;
    uint64_t recent;
};

static void tally_block(struct tally *t, const uint8_t *st, const double *fin, size_t nb)
{
    struct ls_store_summary *sum = t->sum;
    for (size_t i = 0; i < nb; i++) {
        int finished = st[i] != LS_ST_PENDING && st[i] < LS_ST_COUNT && isfinite(fin[i]);
        if (t->window > 0) {
            t->recent += finished && fin[i] >= t->window;
            continue;
        }
        if (st[i] < LS_ST_COUNT)
            sum->count[st[i]]++;
        if (!finished)
            continue;
        if (sum->first_finished == 0 || fin[i] < sum->first_finished)
            sum->first_finished = fin[i];
        if (fin[i] > sum->last_finished)
            sum->last_finished = fin[i];
    }
}

/* One pass over /status and /timing/finished, READ_BLOCK rows at a time. */
static int tally_pass(hid_t status, hid_t finished, hid_t status_type, uint64_t n,
                      struct tally *t)
{
    int rc = LS_OK;
    uint8_t *st = malloc(READ_BLOCK);
    double *fin = malloc(READ_BLOCK * sizeof *fin);
    LS_CHECK_ALLOC(st);
    LS_CHECK_ALLOC(fin);
    for (uint64_t b0 = 0; b0 < n; b0 += READ_BLOCK) {
        size_t nb = (size_t)(n - b0 < READ_BLOCK ? n - b0 : READ_BLOCK);
        LS_CALL(read_block(status, status_type, b0, nb, st));
        LS_CALL(read_block(finished, H5T_NATIVE_DOUBLE, b0, nb, fin));
        tally_block(t, st, fin, nb);
    }
cleanup:
    free(st);
    free(fin);
    return rc;
}

/* Counts and finish times; recent_rate is the finished rows of the last 60 s before the latest
 * finish, over the time they span (every finished status counts: it is progress for an ETA). */
static int summarize(hid_t file, struct ls_store_summary *sum)
{
    int rc = LS_OK;
    hid_t status = H5I_INVALID_HID, finished = H5I_INVALID_HID, type = H5I_INVALID_HID;
    hid_t space = H5I_INVALID_HID;
    hsize_t n = 0;
    struct tally t = {sum, 0, 0};
    H5_CHECK(status = H5Dopen2(file, "/status", H5P_DEFAULT), LS_ECORRUPT);
    H5_CHECK(space = H5Dget_space(status), LS_ECORRUPT);
    STORE_REQUIRE(H5Sget_simple_extent_ndims(space) == 1, LS_ECORRUPT, "/status");
    H5_CHECK(H5Sget_simple_extent_dims(space, &n, NULL), LS_ECORRUPT);
    LS_CALL(open_shaped(file, "/timing/finished", n, 0, LS_ECORRUPT, &finished));
    LS_CALL(make_status_type(&type));
    sum->n_points = n;
    LS_CALL(tally_pass(status, finished, type, n, &t));
    if (sum->last_finished > sum->first_finished) {
        t.window = fmax(sum->last_finished - 60.0, sum->first_finished);
        LS_CALL(tally_pass(status, finished, type, n, &t));
        sum->recent_rate = (double)t.recent / (sum->last_finished - t.window);
    }
cleanup:
    h5_close(&space);
    h5_close(&type);
    h5_close(&finished);
    h5_close(&status);
    return rc;
}

int store_summary(const char *path, struct ls_store_summary *sum)
{
    int rc = LS_OK;
    hid_t file = H5I_INVALID_HID;
    memset(sum, 0, sizeof *sum);
    LS_CALL(open_reader(path, &file));
    LS_CALL(get_str_attr(file, "job_name", sum->job_name, sizeof sum->job_name));
    LS_CALL(get_str_attr(file, "job_hash", sum->job_hash, sizeof sum->job_hash));
    LS_CALL(summarize(file, sum));
cleanup:
    h5_close(&file);
    return rc;
}

/* Whether every link along an absolute or relative path exists (H5Lexists alone fails, rather
 * than answering no, when an intermediate group is missing). */
static int path_exists(hid_t file, const char *path)
{
    char buf[1024];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return 0;
    for (char *p = buf + (buf[0] == '/');; p++) {
        char *slash = strchr(p, '/');
        if (slash != NULL)
            *slash = '\0';
        if (H5Lexists(file, buf, H5P_DEFAULT) <= 0)
            return 0;
        if (slash == NULL)
            return 1;
        *slash = '/';
        p = slash;
    }
}

/* A dataset of rank 2 (a trajectory) comes back flattened row-major, n = N * T. */
int store_read_column(const char *path, const char *dataset, double **data, size_t *n)
{
    int rc = LS_OK;
    hid_t file = H5I_INVALID_HID, dset = H5I_INVALID_HID, space = H5I_INVALID_HID;
    hid_t type = H5I_INVALID_HID;
    hssize_t npoints = 0;
    hsize_t dims = 0;
    *data = NULL;
    *n = 0;
    LS_CALL(open_reader(path, &file));
    if (!path_exists(file, dataset)) {
        H5Eclear2(H5E_DEFAULT);
        rc = LS_ENOTFOUND;
        goto cleanup;
    }
    H5_CHECK(dset = H5Dopen2(file, dataset, H5P_DEFAULT), LS_ECORRUPT);
    H5_CHECK(space = H5Dget_space(dset), LS_ECORRUPT);
    H5_CHECK(type = H5Dget_type(dset), LS_ECORRUPT);
    H5T_class_t cls = H5Tget_class(type);
    STORE_REQUIRE(cls == H5T_INTEGER || cls == H5T_FLOAT || cls == H5T_ENUM, LS_EINVAL, dataset);
    H5_CHECK(npoints = H5Sget_simple_extent_npoints(space), LS_ECORRUPT);
    dims = (hsize_t)npoints;
    *data = malloc((dims ? dims : 1) * sizeof **data);
    LS_CHECK_ALLOC(*data);
    /* HDF5 converts integers and enums (by their integer values) to double itself. */
    H5_CHECK(H5Dread(dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, *data), LS_ECORRUPT);
    *n = dims;
cleanup:
    if (rc != LS_OK) {
        free(*data);
        *data = NULL;
    }
    h5_close(&type);
    h5_close(&space);
    h5_close(&dset);
    h5_close(&file);
    return rc;
}

/* ---- reading by rows, for report and export ------------------------------------------------ */

struct ls_reader {
    hid_t file;
    hid_t status_type;
};

/* Collects the dataset names of one group (H5Literate callback), skipping `skip`. */
struct name_list {
    char (*names)[LS_PATH_MAX];
    size_t n, cap;
    const char *skip;
    int too_long;
};

static herr_t collect_name(hid_t grp, const char *name, const H5L_info_t *info, void *arg)
{
    struct name_list *l = arg;
    H5O_info_t oi;
    (void)info;
    if (l->skip != NULL && !strcmp(name, l->skip))
        return 0;
    if (H5Oget_info_by_name2(grp, name, &oi, H5O_INFO_BASIC, H5P_DEFAULT) < 0)
        return -1;
    if (oi.type != H5O_TYPE_DATASET)
        return 0;
    if (l->n == l->cap || strlen(name) >= LS_PATH_MAX) {
        l->too_long = 1;
        return 1; /* stop: more names than the caller holds, or a name that does not fit */
    }
    snprintf(l->names[l->n++], LS_PATH_MAX, "%s", name);
    return 0;
}

/* The datasets of group `group` in name order (an absent group has none). */
static int list_group(hid_t file, const char *group, const char *skip, char (*names)[LS_PATH_MAX],
                      size_t cap, size_t *n)
{
    int rc = LS_OK;
    hid_t grp = H5I_INVALID_HID;
    struct name_list l = {names, 0, cap, skip, 0};
    *n = 0;
    if (H5Lexists(file, group, H5P_DEFAULT) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return LS_OK;
    }
    H5_CHECK(grp = H5Gopen2(file, group, H5P_DEFAULT), LS_ECORRUPT);
    H5_CHECK(H5Literate(grp, H5_INDEX_NAME, H5_ITER_INC, NULL, collect_name, &l), LS_ECORRUPT);
    STORE_REQUIRE(!l.too_long, LS_ECORRUPT, group);
    *n = l.n;
cleanup:
    h5_close(&grp);
    return rc;
}

/* Put the names listed after "metrics=" in the job_canonical attribute first, in that order (the
 * job's metric order; HDF5 lists names alphabetically), the others after them. */
static void order_like_job(hid_t file, char (*names)[LS_PATH_MAX], size_t n)
{
    size_t done = 0, len = 1 << 16;
    char *canon = malloc(len), *list = NULL;
    if (canon == NULL || get_str_attr(file, "job_canonical", canon, len) != LS_OK) {
        H5Eclear2(H5E_DEFAULT);
        free(canon);
        return;
    }
    list = strstr(canon, "\nmetrics=");
    if (list == NULL) {
        free(canon);
        return;
    }
    list += strlen("\nmetrics=");
    list[strcspn(list, "\n")] = '\0';
    for (char *save = NULL, *m = strtok_r(list, ",", &save); m != NULL && done < n;
         m = strtok_r(NULL, ",", &save))
        for (size_t i = done; i < n; i++)
            if (!strcmp(names[i], m)) {
                char tmp[LS_PATH_MAX];
                memcpy(tmp, names[i], LS_PATH_MAX);
                memmove(names[done + 1], names[done], (i - done) * LS_PATH_MAX);
                memcpy(names[done++], tmp, LS_PATH_MAX);
                break;
            }
    free(canon);
}

/* Type and swept flag of every /grid/<axis>. */
static int describe_axes(hid_t file, struct ls_reader_info *info)
{
    int rc = LS_OK;
    hid_t dset = H5I_INVALID_HID, type = H5I_INVALID_HID;
    char name[LS_PATH_MAX + 8];
    for (size_t a = 0; a < info->n_axes; a++) {
        snprintf(name, sizeof name, "/grid/%s", info->axis[a]);
        H5_CHECK(dset = H5Dopen2(file, name, H5P_DEFAULT), LS_ECORRUPT);
        H5_CHECK(type = H5Dget_type(dset), LS_ECORRUPT);
        H5T_class_t cls = H5Tget_class(type);
        STORE_REQUIRE(cls == H5T_STRING || cls == H5T_FLOAT || cls == H5T_INTEGER, LS_ECORRUPT,
                      name);
        info->axis_type[a] = cls == H5T_STRING ? LS_T_STR : cls == H5T_FLOAT ? LS_T_REAL : LS_T_INT;
        int32_t swept = 0;
        if (H5Aexists(dset, "swept") > 0)
            LS_CALL(get_int_attr(dset, "swept", &swept));
        info->axis_swept[a] = swept != 0;
        h5_close(&type);
        h5_close(&dset);
    }
cleanup:
    H5Eclear2(H5E_DEFAULT);
    h5_close(&type);
    h5_close(&dset);
    return rc;
}

/* Extent of axis 0 and 1 (0 when rank 1) of a dataset. */
static int extent(hid_t file, const char *name, hsize_t *d0, hsize_t *d1)
{
    int rc = LS_OK;
    hid_t dset = H5I_INVALID_HID, space = H5I_INVALID_HID;
    hsize_t dims[2] = {0, 0};
    H5_CHECK(dset = H5Dopen2(file, name, H5P_DEFAULT), LS_ECORRUPT);
    H5_CHECK(space = H5Dget_space(dset), LS_ECORRUPT);
    int rank = H5Sget_simple_extent_ndims(space);
    STORE_REQUIRE(rank == 1 || rank == 2, LS_ECORRUPT, name);
    H5_CHECK(H5Sget_simple_extent_dims(space, dims, NULL), LS_ECORRUPT);
    *d0 = dims[0];
    *d1 = rank == 2 ? dims[1] : 0;
cleanup:
    h5_close(&space);
    h5_close(&dset);
    return rc;
}

static int describe(hid_t file, struct ls_reader_info *info)
{
    int rc = LS_OK;
    hsize_t n = 0, t = 0, unused = 0;
    memset(info, 0, sizeof *info);
    LS_CALL(get_str_attr(file, "job_name", info->job_name, sizeof info->job_name));
    LS_CALL(get_str_attr(file, "job_hash", info->job_hash, sizeof info->job_hash));
    LS_CALL(extent(file, "/status", &n, &unused));
    LS_CALL(extent(file, "/trajectories/step", &t, &unused));
    info->n_points = n;
    info->T = (size_t)t;
    LS_CALL(list_group(file, "/grid", NULL, info->axis, LS_MAX_AXES, &info->n_axes));
    LS_CALL(describe_axes(file, info));
    LS_CALL(list_group(file, "/metrics", NULL, info->metric, LS_MAX_METRICS, &info->n_metrics));
    order_like_job(file, info->metric, info->n_metrics);
    LS_CALL(list_group(file, "/trajectories", "step", info->traj, LS_MAX_METRICS, &info->n_traj));
    order_like_job(file, info->traj, info->n_traj);
cleanup:
    return rc;
}

int store_reader_open(const char *path, struct ls_reader **out, struct ls_reader_info *info)
{
    int rc = LS_OK;
    struct ls_reader *r = calloc(1, sizeof *r);
    *out = NULL;
    LS_CHECK_ALLOC(r);
    r->file = r->status_type = H5I_INVALID_HID;
    LS_CALL(open_reader(path, &r->file));
    LS_CALL(make_status_type(&r->status_type));
    LS_CALL(describe(r->file, info));
    *out = r;
    r = NULL;
cleanup:
    store_reader_close(&r);
    return rc;
}

void store_reader_close(struct ls_reader **rp)
{
    if (rp == NULL || *rp == NULL)
        return;
    h5_close(&(*rp)->status_type);
    h5_close(&(*rp)->file);
    free(*rp);
    *rp = NULL;
}

/* Rows [row0, row0 + rows) of dataset `name` (all of axis 1 for a 2-D one) as memory type
 * `mtype` into buf. LS_ERANGE past the end, LS_ENOTFOUND if there is no such dataset. */
static int read_rows(struct ls_reader *r, const char *name, hid_t mtype, uint64_t row0,
                     size_t rows, void *buf)
{
    int rc = LS_OK;
    hid_t dset = H5I_INVALID_HID, fspace = H5I_INVALID_HID, mspace = H5I_INVALID_HID;
    hsize_t d0 = 0, d1 = 0;
    if (!path_exists(r->file, name)) {
        H5Eclear2(H5E_DEFAULT);
        return LS_ENOTFOUND;
    }
    LS_CALL(extent(r->file, name, &d0, &d1));
    STORE_REQUIRE(row0 <= d0 && rows <= d0 - row0, LS_ERANGE, name);
    hsize_t start[2] = {row0, 0}, count[2] = {rows, d1};
    int rank = d1 > 0 ? 2 : 1;
    H5_CHECK(dset = H5Dopen2(r->file, name, H5P_DEFAULT), LS_ECORRUPT);
    H5_CHECK(fspace = H5Dget_space(dset), LS_ECORRUPT);
    H5_CHECK(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL), LS_ECORRUPT);
    H5_CALL(mspace = H5Screate_simple(rank, count, NULL));
    if (rows > 0 && (rank == 1 || d1 > 0))
        H5_CHECK(H5Dread(dset, mtype, mspace, fspace, H5P_DEFAULT, buf), LS_ECORRUPT);
cleanup:
    h5_close(&mspace);
    h5_close(&fspace);
    h5_close(&dset);
    return rc;
}

int store_reader_numeric(struct ls_reader *r, const char *dataset, uint64_t row0, size_t rows,
                         double *buf)
{
    return read_rows(r, dataset, H5T_NATIVE_DOUBLE, row0, rows, buf);
}

int store_reader_strings(struct ls_reader *r, const char *dataset, uint64_t row0, size_t rows,
                         size_t width, char *buf)
{
    int rc = LS_OK;
    hid_t mtype = H5I_INVALID_HID;
    /* NULLTERM of `width` bytes: HDF5 truncates longer values and always ends them with NUL. */
    H5_CALL(mtype = H5Tcopy(H5T_C_S1));
    H5_CALL(H5Tset_size(mtype, width));
    H5_CALL(H5Tset_strpad(mtype, H5T_STR_NULLTERM));
    LS_CALL(read_rows(r, dataset, mtype, row0, rows, buf));
cleanup:
    h5_close(&mtype);
    return rc;
}

int store_reader_status(struct ls_reader *r, uint64_t row0, size_t rows, uint8_t *buf)
{
    int rc = LS_OK;
    LS_CALL(read_rows(r, "/status", r->status_type, row0, rows, buf));
    for (size_t i = 0; i < rows; i++)
        STORE_REQUIRE(buf[i] < LS_ST_COUNT, LS_ECORRUPT, "/status holds an unknown value");
cleanup:
    return rc;
}

/* ---- the user's own data (data kind hdf5) -------------------------------------------------- */

struct user_matrix {
    hid_t file, dset, space;
    size_t rows, cols;
};

static void user_close(struct user_matrix *u)
{
    h5_close(&u->space);
    h5_close(&u->dset);
    h5_close(&u->file);
}

/* The checks that give the user a sentence instead of HDF5's error stack. */
static int user_shape(struct user_matrix *u, const char *path, const char *dataset, char *msg,
                      size_t len)
{
    hid_t type = H5Dget_type(u->dset);
    H5T_class_t cls = type >= 0 ? H5Tget_class(type) : H5T_NO_CLASS;
    hsize_t dims[2] = {0, 0};
    int rank = (u->space = H5Dget_space(u->dset)) >= 0 ? H5Sget_simple_extent_ndims(u->space) : -1;
    if (type >= 0)
        H5Tclose(type);
    H5Eclear2(H5E_DEFAULT);
    if (cls != H5T_INTEGER && cls != H5T_FLOAT) {
        snprintf(msg, len, "%s: dataset '%s' does not hold numbers", path, dataset);
        return LS_EINVAL;
    }
    if (rank != 1 && rank != 2) {
        snprintf(msg, len, "%s: dataset '%s' has rank %d, not 1 or 2", path, dataset, rank);
        return LS_EINVAL;
    }
    H5Sget_simple_extent_dims(u->space, dims, NULL);
    u->rows = (size_t)dims[0];
    u->cols = rank == 2 ? (size_t)dims[1] : 1;
    if (u->rows == 0 || u->cols == 0) {
        snprintf(msg, len, "%s: dataset '%s' is empty", path, dataset);
        return LS_EINVAL;
    }
    return LS_OK;
}

static int user_open(const char *path, const char *dataset, struct user_matrix *u, char *msg,
                     size_t len)
{
    struct stat st;
    h5_quiet();
    u->file = u->dset = u->space = H5I_INVALID_HID;
    if (stat(path, &st) != 0) {
        snprintf(msg, len, "%s: %s", path, strerror(errno));
        return LS_EIO;
    }
    u->file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (u->file < 0) {
        H5Eclear2(H5E_DEFAULT);
        snprintf(msg, len, "%s: not a readable HDF5 file", path);
        return LS_EIO;
    }
    if (!path_exists(u->file, dataset)) {
        H5Eclear2(H5E_DEFAULT);
        snprintf(msg, len, "%s: no dataset '%s'", path, dataset);
        return LS_ENOTFOUND;
    }
    u->dset = H5Dopen2(u->file, dataset, H5P_DEFAULT);
    if (u->dset < 0) {
        H5Eclear2(H5E_DEFAULT);
        snprintf(msg, len, "%s: '%s' is not a dataset", path, dataset);
        return LS_EINVAL;
    }
    return user_shape(u, path, dataset, msg, len);
}

int store_probe_matrix(const char *path, const char *dataset, size_t *rows, size_t *cols,
                       char *msg, size_t len)
{
    struct user_matrix u;
    int rc = user_open(path, dataset, &u, msg, len);
    *rows = rc == LS_OK ? u.rows : 0;
    *cols = rc == LS_OK ? u.cols : 0;
    user_close(&u);
    return rc;
}

int store_read_matrix(const char *path, const char *dataset, double *buf, size_t rows,
                      size_t cols, char *msg, size_t len)
{
    struct user_matrix u;
    int rc = user_open(path, dataset, &u, msg, len);
    if (rc == LS_OK && (u.rows != rows || u.cols != cols)) {
        snprintf(msg, len, "%s: dataset '%s' changed shape since the job was loaded", path,
                 dataset);
        rc = LS_EINVAL;
    }
    if (rc == LS_OK && H5Dread(u.dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
        H5Eclear2(H5E_DEFAULT);
        snprintf(msg, len, "%s: cannot read dataset '%s'", path, dataset);
        rc = LS_EIO;
    }
    user_close(&u);
    return rc;
}

/* ---- a standalone file of arrays (`lazysweep data`) ---------------------------------------- */

static int write_array(hid_t file, const struct ls_array *a)
{
    int rc = LS_OK;
    hid_t dset = H5I_INVALID_HID;
    hsize_t dims[2] = {a->rows, a->cols};
    const void *buf = a->idata ? (const void *)a->idata : (const void *)a->data;
    STORE_REQUIRE(a->rows > 0 && buf != NULL, LS_EINVAL, a->name);
    LS_CALL(make_dataset(file, a->name, a->idata ? H5T_STD_I64LE : H5T_IEEE_F64LE,
                         a->cols ? 2 : 1, dims, NULL, &dset));
    H5_CALL(H5Dwrite(dset, a->idata ? H5T_NATIVE_INT64 : H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL,
                     H5P_DEFAULT, buf));
cleanup:
    h5_close(&dset);
    return rc;
}

int store_write_arrays(const char *path, const struct ls_array *arrays, size_t n,
                       const struct ls_attr *attrs, size_t n_attrs)
{
    int rc = LS_OK;
    hid_t fapl = H5I_INVALID_HID, file = H5I_INVALID_HID;
    h5_quiet();
    LS_CALL(make_fapl(&fapl));
    H5_CALL(file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl));
    for (size_t i = 0; i < n_attrs; i++) {
        if (attrs[i].text)
            LS_CALL(put_str_attr(file, attrs[i].name, attrs[i].text));
        else
            LS_CALL(put_num_attr(file, attrs[i].name, H5T_STD_I64LE, H5T_NATIVE_INT64,
                                 &attrs[i].ival));
    }
    for (size_t i = 0; i < n; i++)
        LS_CALL(write_array(file, &arrays[i]));
    H5_CALL(H5Fflush(file, H5F_SCOPE_GLOBAL));
cleanup:
    h5_close(&file);
    h5_close(&fapl);
    if (rc != LS_OK)
        remove(path); /* no half-written export is left behind */
    return rc;
}
