/* data_fmnist.c — data kind fashion_mnist, and the IDX reader it uses.
 *
 * The four files of Debian's dataset-fashion-mnist (train-images-idx3-ubyte.gz,
 * train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz) are read from
 * data.path through zlib (gzopen also reads uncompressed files). Selection, in this order:
 * keep the samples whose class is in data.classes (all ten when empty), in file order; take the
 * first n_train of the training file and the first n_test of the test file (0: all); labels
 * become the position of their class in data.classes (one_vs_rest c: 1 for class c, 0 otherwise,
 * a binary task); pixels are scaled by data.scaling: unit x/255, none raw 0…255, standardize x/255
 * then per-pixel standardization with the training subset's statistics. No randomness: the
 * files are already shuffled, and every seed sees the same images.
 *
 * Cache: a point's data are built from the files' raw bytes, which are decompressed once per
 * process and kept (one entry, keyed by data.path; about 55 MB) — the points one worker runs
 * differ in their models, not in their data. data_cache_clear frees it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <zlib.h>

#include "lazysweep/data_kind.h"
#include "lazysweep/error.h"

#define FM_CLASSES 10
#define GZ_CHUNK (1u << 30) /* gzread takes an unsigned int length */

enum { F_TRAIN_X, F_TRAIN_Y, F_TEST_X, F_TEST_Y, N_FILES };
static const char *const file_names[N_FILES] = {
    "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz"};
static const uint32_t file_dims[N_FILES] = {3, 1, 3, 1};

/* ---- IDX ---- */

static int gz_fail(gzFile gz, const char *path, const char *what, char *msg, size_t len)
{
    int zerr = 0;
    const char *zmsg = gz ? gzerror(gz, &zerr) : "";
    snprintf(msg, len, "%s: %s%s%s", path, what, zerr ? ": " : "", zerr ? zmsg : "");
    return LS_EIO;
}

/* Exactly n bytes, in chunks gzread can count. */
static int gz_read_all(gzFile gz, uint8_t *buf, size_t n, size_t *got)
{
    *got = 0;
    while (*got < n) {
        unsigned want = n - *got > GZ_CHUNK ? GZ_CHUNK : (unsigned)(n - *got);
        int r = gzread(gz, buf + *got, want);
        if (r <= 0)
            return r < 0 ? -1 : 0;
        *got += (size_t)r;
    }
    return 1;
}

static int idx_header(gzFile gz, const char *path, uint32_t ndims, struct idx_file *out, char *msg,
                      size_t len)
{
    uint8_t h[4 + 4 * IDX_MAX_DIMS];
    size_t got;
    if (gz_read_all(gz, h, 4, &got) < 0 || got < 4)
        return gz_fail(gz, path, "not an IDX file (shorter than its magic number)", msg, len);
    if (h[0] != 0 || h[1] != 0 || h[2] != 0x08 || h[3] != ndims) {
        snprintf(msg, len,
                 "%s: not an IDX file of unsigned bytes with %u dimensions (magic "
                 "%02x %02x %02x %02x, expected 00 00 08 %02x)",
                 path, ndims, h[0], h[1], h[2], h[3], ndims);
        return LS_ECORRUPT;
    }
    if (gz_read_all(gz, h + 4, 4 * ndims, &got) < 0 || got < 4 * ndims)
        return gz_fail(gz, path, "truncated IDX header", msg, len);
    out->ndims = ndims;
    out->count = 1;
    for (uint32_t i = 0; i < ndims; i++) {
        const uint8_t *p = h + 4 + 4 * i;
        out->dims[i] = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
        if (out->dims[i] == 0 || out->count > SIZE_MAX / out->dims[i]) {
            snprintf(msg, len, "%s: IDX dimension %u is %u", path, i, out->dims[i]);
            return LS_ECORRUPT;
        }
        out->count *= out->dims[i];
    }
    return LS_OK;
}

static int idx_body(gzFile gz, const char *path, struct idx_file *out, char *msg, size_t len)
{
    uint8_t extra;
    size_t got;
    out->data = malloc(out->count);
    if (!out->data)
        return LS_ENOMEM;
    if (gz_read_all(gz, out->data, out->count, &got) < 0)
        return gz_fail(gz, path, "cannot decompress", msg, len);
    if (got < out->count) {
        snprintf(msg, len,
                 "%s: truncated: the header announces %zu bytes of data, the file "
                 "holds %zu",
                 path, out->count, got);
        return LS_ECORRUPT;
    }
    if (gzread(gz, &extra, 1) != 0) {
        snprintf(msg, len, "%s: more data than the header announces (%zu bytes)", path, out->count);
        return LS_ECORRUPT;
    }
    return LS_OK;
}

int idx_read(const char *path, uint32_t ndims, int want_data, struct idx_file *out, char *msg,
             size_t len)
{
    memset(out, 0, sizeof *out);
    if (ndims < 1 || ndims > IDX_MAX_DIMS)
        return LS_EINVAL;
    gzFile gz = gzopen(path, "rb");
    if (!gz) {
        snprintf(msg, len, "%s: cannot open: %s", path, errno ? strerror(errno) : "out of memory");
        return LS_EIO;
    }
    int rc = idx_header(gz, path, ndims, out, msg, len);
    if (rc == LS_OK && want_data)
        rc = idx_body(gz, path, out, msg, len);
    gzclose(gz);
    if (rc != LS_OK)
        idx_free(out);
    return rc;
}

void idx_free(struct idx_file *f)
{
    free(f->data);
    memset(f, 0, sizeof *f);
}

/* ---- the cache of raw files ---- */

static struct {
    char path[LS_FILE_MAX];
    struct idx_file f[N_FILES];
    int loaded;
} cache;

void data_cache_clear(void)
{
    for (int i = 0; i < N_FILES; i++)
        idx_free(&cache.f[i]);
    cache.loaded = 0;
    cache.path[0] = '\0';
}

static void file_path(const char *dir, int i, char *out, size_t len)
{
    snprintf(out, len, "%s/%s", dir, file_names[i]);
}

/* Images and labels agree in count, and images are 2-D. */
static int check_pair(const struct idx_file *x, const struct idx_file *y, const char *dir, int i,
                      char *msg, size_t len)
{
    if (x->dims[0] == y->dims[0])
        return LS_OK;
    snprintf(msg, len, "%.400s: %s holds %u images but %s %u labels", dir, file_names[i],
             x->dims[0], file_names[i + 1], y->dims[0]);
    return LS_ECORRUPT;
}

static int cache_load(const char *dir, char *msg, size_t len)
{
    char path[LS_FILE_MAX + 64];
    int rc = LS_OK;
    if (cache.loaded && strcmp(cache.path, dir) == 0)
        return LS_OK;
    data_cache_clear();
    for (int i = 0; i < N_FILES && rc == LS_OK; i++) {
        file_path(dir, i, path, sizeof path);
        rc = idx_read(path, file_dims[i], 1, &cache.f[i], msg, len);
    }
    if (rc == LS_OK)
        rc = check_pair(&cache.f[F_TRAIN_X], &cache.f[F_TRAIN_Y], dir, F_TRAIN_X, msg, len);
    if (rc == LS_OK)
        rc = check_pair(&cache.f[F_TEST_X], &cache.f[F_TEST_Y], dir, F_TEST_X, msg, len);
    for (int i = 1; i < N_FILES && rc == LS_OK; i += 2)
        for (size_t k = 0; k < cache.f[i].count && rc == LS_OK; k++)
            if (cache.f[i].data[k] >= FM_CLASSES) {
                file_path(dir, i, path, sizeof path);
                snprintf(msg, len, "%.400s: label %u at %zu is not a class 0-9", path,
                         cache.f[i].data[k], k);
                rc = LS_ECORRUPT;
            }
    if (rc != LS_OK) {
        data_cache_clear();
        return rc;
    }
    snprintf(cache.path, sizeof cache.path, "%s", dir);
    cache.loaded = 1;
    return LS_OK;
}

/* ---- the kind ---- */

/* Position of class `label` in data.classes (the label itself when the list is empty), or -1. */
static int class_slot(const struct ls_data_cfg *c, unsigned label)
{
    if (label >= FM_CLASSES)
        return -1;
    if (c->classes.n == 0)
        return (int)label;
    for (int64_t i = 0; i < c->classes.n; i++)
        if (c->classes.v[i] == (double)label)
            return (int)i;
    return -1;
}

static int64_t count_kept(const struct ls_data_cfg *c, const struct idx_file *labels)
{
    int64_t n = 0;
    for (size_t i = 0; i < labels->count; i++)
        n += class_slot(c, labels->data[i]) >= 0;
    return n;
}

static void fmnist_defaults(struct ls_job *job)
{
    job->data.n_train = 0; /* all */
    snprintf(job->data.scaling, sizeof job->data.scaling, "unit");
}

/* The label files (70 kB) in full and the image files' headers: enough for the sizes, and a
 * missing or malformed file is refused when the job is loaded, not when a point runs. */
static int read_headers(const char *dir, struct idx_file f[N_FILES], char *msg, size_t len)
{
    char path[LS_FILE_MAX + 64];
    int rc = LS_OK;
    for (int i = 0; i < N_FILES && rc == LS_OK; i++) {
        file_path(dir, i, path, sizeof path);
        rc = idx_read(path, file_dims[i], file_dims[i] == 1, &f[i], msg, len);
    }
    if (rc == LS_OK)
        rc = check_pair(&f[F_TRAIN_X], &f[F_TRAIN_Y], dir, F_TRAIN_X, msg, len);
    if (rc == LS_OK)
        rc = check_pair(&f[F_TEST_X], &f[F_TEST_Y], dir, F_TEST_X, msg, len);
    if (rc == LS_OK && (f[F_TEST_X].dims[1] != f[F_TRAIN_X].dims[1] ||
                        f[F_TEST_X].dims[2] != f[F_TRAIN_X].dims[2])) {
        snprintf(msg, len, "%.400s: the test images are %ux%u, the training images %ux%u", dir,
                 f[F_TEST_X].dims[1], f[F_TEST_X].dims[2], f[F_TRAIN_X].dims[1],
                 f[F_TRAIN_X].dims[2]);
        rc = LS_ECORRUPT;
    }
    return rc;
}

static int fmnist_resolve(struct ls_job *job, const char **key, char *msg, size_t len)
{
    struct ls_data_cfg *c = &job->data;
    struct idx_file f[N_FILES] = {{0}};
    struct stat st;
    int e = stat(c->path, &st) != 0 ? errno : 0;
    *key = "data.path";
    if (e || !S_ISDIR(st.st_mode)) {
        snprintf(msg, len,
                 "%s: %s (install Debian's dataset-fashion-mnist, or set data.path to "
                 "the directory of its IDX files)",
                 c->path, e ? strerror(e) : "not a directory");
        return LS_EJOB;
    }
    int rc = read_headers(c->path, f, msg, len);
    if (rc == LS_OK) {
        c->dim = (int64_t)f[F_TRAIN_X].dims[1] * f[F_TRAIN_X].dims[2];
        c->avail_train = count_kept(c, &f[F_TRAIN_Y]);
        c->avail_test = count_kept(c, &f[F_TEST_Y]);
        c->n_train = c->n_train == 0 ? c->avail_train : c->n_train;
        c->n_test = c->n_test == 0 ? c->avail_test : c->n_test;
    }
    for (int i = 0; i < N_FILES; i++)
        idx_free(&f[i]);
    return rc == LS_OK ? LS_OK : LS_EJOB;
}

static int fmnist_check(const struct ls_job *job, const char **key, char *msg, size_t len)
{
    const struct ls_data_cfg *c = &job->data;
    int ovr_known = c->one_vs_rest < 0 || class_slot(c, (unsigned)c->one_vs_rest) >= 0;
    if (c->classes.n == 1) {
        *key = "data.classes";
        snprintf(msg, len, "data.classes needs at least two classes (or leave it out for all)");
    } else if (!ovr_known) {
        *key = "data.one_vs_rest";
        snprintf(msg, len, "data.one_vs_rest %lld is not among data.classes",
                 (long long)c->one_vs_rest);
    } else if (c->n_train < 1 || c->n_train > c->avail_train) {
        *key = "data.n_train";
        snprintf(msg, len,
                 "data.n_train must be between 1 and the %lld training images of the "
                 "chosen classes, not %lld",
                 (long long)c->avail_train, (long long)c->n_train);
    } else if (c->n_test > c->avail_test) {
        *key = "data.n_test";
        snprintf(msg, len,
                 "data.n_test must be at most the %lld test images of the chosen "
                 "classes, not %lld",
                 (long long)c->avail_test, (long long)c->n_test);
    } else if (c->dim < 1) {
        snprintf(msg, len, "fashion_mnist sizes were not resolved from %s", c->path);
    } else {
        return LS_OK;
    }
    return LS_EJOB;
}

static enum ls_task fmnist_task(const struct ls_job *job, size_t *n_classes)
{
    if (job->data.one_vs_rest >= 0) {
        *n_classes = 0;
        return LS_TASK_BINARY;
    }
    *n_classes = job->data.classes.n ? (size_t)job->data.classes.n : FM_CLASSES;
    return LS_TASK_CLASSES;
}

/* The first n kept samples of one file pair into X [n][d], y [n]. */
static void fmnist_select(const struct ls_data_cfg *c, const struct idx_file *img,
                          const struct idx_file *lab, double *X, double *y, size_t n, size_t d)
{
    /* A division, not a multiplication by 1/255: the value numpy's X / 255 gives, bit for bit */
    double scale = strcmp(c->scaling, "none") == 0 ? 1.0 : 255.0;
    for (size_t i = 0, k = 0; k < n && i < lab->count; i++) {
        int slot = class_slot(c, lab->data[i]);
        if (slot < 0)
            continue;
        for (size_t j = 0; j < d; j++)
            X[k * d + j] = img->data[i * d + j] / scale;
        y[k++] = c->one_vs_rest >= 0 ? (double)(lab->data[i] == c->one_vs_rest) : (double)slot;
    }
}

static int fmnist_generate(const struct ls_job *job, struct ls_data *d)
{
    char msg[LS_ERR_MAX];
    const struct ls_data_cfg *c = &job->data;
    if (cache_load(c->path, msg, sizeof msg) != LS_OK) {
        fprintf(stderr, "lazysweep: %s\n", msg);
        return LS_EIO;
    }
    if ((size_t)cache.f[F_TRAIN_X].dims[1] * cache.f[F_TRAIN_X].dims[2] != d->d)
        return LS_EINVAL;
    fmnist_select(c, &cache.f[F_TRAIN_X], &cache.f[F_TRAIN_Y], d->X, d->y, d->n, d->d);
    fmnist_select(c, &cache.f[F_TEST_X], &cache.f[F_TEST_Y], d->X_test, d->y_test, d->n_test, d->d);
    if (strcmp(c->scaling, "standardize") == 0)
        data_standardize(d->X, d->n, d->X_test, d->n_test, d->d);
    return LS_OK;
}

static size_t fmnist_memory(const struct ls_job *job)
{
    (void)job;
    return (60000 + 10000) * (28 * 28 + 1); /* the cache of raw bytes */
}

const struct data_kind data_kind_fmnist = {
    .name = "fashion_mnist",
    .defaults = fmnist_defaults,
    .resolve = fmnist_resolve,
    .check = fmnist_check,
    .task = fmnist_task,
    .generate = fmnist_generate,
    .memory = fmnist_memory,
};
