/* test_datakinds.c — the data kinds beyond sparse_regression: shapes, determinism and common
 * random numbers (nothing depends on the model's axes, n is a prefix, the test set is a stream of
 * its own), each kind's defining property checked against something computed here (a linear
 * teacher's labels lie exactly in the column space of X — LAPACK least squares; blobs' exact
 * positive count and class means; points1d's values as written; label noise's flip rate within
 * 5 binomial standard deviations), the IDX reader on small files written here with zlib (plain,
 * gzip, truncated, wrong magic, trailing bytes), fashion_mnist's selection rules on a fake
 * directory, and the real Fashion-MNIST when Debian's package is installed (60 000 / 10 000
 * images of 28×28, 6 000 / 1 000 per class — the dataset's published composition). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "lazysweep/data.h"
#include "lazysweep/data_kind.h"
#include "lazysweep/error.h"

#define FMNIST_DIR "/usr/share/datasets/fashion-mnist"

static void make_job(struct ls_job *job, const char *kind)
{
    memset(job, 0, sizeof *job);
    job->seed = 4;
    job->point_seed = 1;
    snprintf(job->data.kind, LS_NAME_MAX, "%s", kind);
    job->data.n_train = 200;
    job->data.dim = 6;
    job->data.noise_std = 0;
    job->data.teacher_width = 16;
    job->data.teacher_depth = 2;
    job->data.positive_fraction = 0.3;
    job->data.separation = 3;
    job->data.one_vs_rest = -1;
    snprintf(job->data.scaling, LS_NAME_MAX, "unit");
    snprintf(job->data.path, LS_FILE_MAX, "%s", FMNIST_DIR);
    job->model.init_scale = 1;
    job->model.width = 1;
    job->model.depth = 2;
}

/* Resolve (as cfg does once), validate and build. */
static struct ls_data *build(struct ls_job *job)
{
    const char *key = NULL;
    char msg[LS_ERR_MAX] = "";
    struct ls_data *d = NULL;
    if (data_resolve(job, &key, msg, sizeof msg) != LS_OK ||
        data_validate(job, &key, msg, sizeof msg) != LS_OK) {
        print_error("%s: %s\n", key ? key : "?", msg);
        fail();
    }
    assert_int_equal(data_create(job, &d), LS_OK);
    return d;
}

static void same_data(const struct ls_data *a, const struct ls_data *b, size_t n, size_t nt)
{
    assert_int_equal(a->d, b->d);
    assert_memory_equal(a->X, b->X, n * a->d * sizeof(double));
    assert_memory_equal(a->y, b->y, n * sizeof(double));
    if (nt)
        assert_memory_equal(a->X_test, b->X_test, nt * a->d * sizeof(double));
}

/* ---- teacher_student ---- */

/* Same data whatever the model axes; n = 50 is the prefix of n = 200; n_test changes nothing in
 * the training set; the X stream is sparse_regression's. */
static void test_teacher_common_numbers(void **state)
{
    (void)state;
    struct ls_job a, b, c, s;
    make_job(&a, "teacher_student");
    make_job(&b, "teacher_student");
    b.model.init_scale = 1e-3, b.model.width = 64, b.model.depth = 5, b.data.n_test = 30;
    make_job(&c, "teacher_student");
    c.data.n_train = 50;
    make_job(&s, "sparse_regression");
    s.data.support = 2;
    struct ls_data *da = build(&a), *db = build(&b), *dc = build(&c), *ds = build(&s);
    assert_int_equal(da->n, 200);
    assert_int_equal(da->task, LS_TASK_REGRESSION);
    assert_int_equal(db->n_test, 30);
    same_data(da, db, 200, 0);
    same_data(da, dc, 50, 0);
    assert_memory_equal(da->X, ds->X, 200 * 6 * sizeof(double));
    assert_true(memcmp(db->X_test, db->X, 30 * 6 * sizeof(double)) != 0);
    a.point_seed = 2;
    struct ls_data *dd = build(&a);
    assert_true(memcmp(dd->X, da->X, 200 * 6 * sizeof(double)) != 0);
    data_destroy(&da), data_destroy(&db), data_destroy(&dc), data_destroy(&ds), data_destroy(&dd);
}

/* A linear teacher (depth 0) gives y = Xw exactly: the least-squares residual of y on X is at
 * rounding level; a ReLU teacher's is not, and its outputs are O(1). */
static double lsq_residual(const struct ls_data *d)
{
    size_t n = d->n, p = d->d;
    double *A = malloc(n * p * sizeof *A), *b = malloc(n * sizeof *b), ss = 0, yy = 0;
    assert_non_null(A);
    assert_non_null(b);
    memcpy(A, d->X, n * p * sizeof *A);
    memcpy(b, d->y, n * sizeof *b);
    assert_int_equal(LAPACKE_dgels(LAPACK_ROW_MAJOR, 'N', (int)n, (int)p, 1, A, (int)p, b, 1), 0);
    for (size_t i = p; i < n; i++)
        ss += b[i] * b[i];
    for (size_t i = 0; i < n; i++)
        yy += d->y[i] * d->y[i];
    free(A);
    free(b);
    return sqrt(ss / yy);
}

static void test_teacher_linear_and_scale(void **state)
{
    (void)state;
    struct ls_job job;
    make_job(&job, "teacher_student");
    job.data.teacher_depth = 0;
    struct ls_data *d = build(&job);
    double r0 = lsq_residual(d);
    data_destroy(&d);
    job.data.teacher_depth = 3;
    job.data.teacher_width = 50;
    d = build(&job);
    double r3 = lsq_residual(d), var = 0;
    for (size_t i = 0; i < d->n; i++)
        var += d->y[i] * d->y[i] / (double)d->n;
    print_message("linear teacher residual %.2e, ReLU teacher %.3f, E y^2 %.3f\n", r0, r3, var);
    assert_true(r0 < 1e-12);
    assert_true(r3 > 1e-3);
    assert_true(var > 0.05 && var < 20);
    data_destroy(&d);
}

/* Classes: labels in range, every class used; binary in {0, 1}; label noise flips about p of
 * the training labels and none of the test labels. */
static void test_teacher_classes_and_noise(void **state)
{
    (void)state;
    struct ls_job job;
    make_job(&job, "teacher_student");
    job.data.n_classes = 4;
    job.data.n_train = 4000;
    job.data.n_test = 500;
    struct ls_data *clean = build(&job);
    size_t C, count[4] = {0};
    assert_int_equal(clean->task, LS_TASK_CLASSES);
    assert_int_equal(data_task(&job, &C), LS_TASK_CLASSES);
    assert_int_equal(C, 4);
    for (size_t i = 0; i < clean->n; i++) {
        assert_true(clean->y[i] >= 0 && clean->y[i] < 4 && clean->y[i] == floor(clean->y[i]));
        count[(size_t)clean->y[i]]++;
    }
    for (int c = 0; c < 4; c++)
        assert_true(count[c] > 100);
    job.data.label_noise = 0.2;
    struct ls_data *noisy = build(&job);
    size_t flips = 0;
    for (size_t i = 0; i < clean->n; i++)
        flips += clean->y[i] != noisy->y[i];
    double sd = sqrt(4000 * 0.2 * 0.8);
    print_message("%zu of 4000 labels flipped (expected 800 ± %.0f)\n", flips, sd);
    assert_true(fabs((double)flips - 800) < 5 * sd);
    assert_memory_equal(clean->y_test, noisy->y_test, 500 * sizeof(double));
    assert_memory_equal(clean->X, noisy->X, 4000 * 6 * sizeof(double));
    data_destroy(&clean);
    data_destroy(&noisy);
    job.data.n_classes = 2;
    job.data.label_noise = 0;
    struct ls_data *bin = build(&job);
    assert_int_equal(bin->task, LS_TASK_BINARY);
    double pos = 0;
    for (size_t i = 0; i < bin->n; i++) {
        assert_true(bin->y[i] == 0 || bin->y[i] == 1);
        pos += bin->y[i];
    }
    assert_true(pos > 200 && pos < 3800);
    data_destroy(&bin);
}

static void test_teacher_check(void **state)
{
    (void)state;
    struct ls_job job;
    const char *key = NULL;
    char msg[256];
    make_job(&job, "teacher_student");
    job.data.n_classes = 1;
    assert_int_equal(data_validate(&job, &key, msg, sizeof msg), LS_EJOB);
    assert_string_equal(key, "data.n_classes");
    job.data.n_classes = 0;
    job.data.label_noise = 0.1;
    assert_int_equal(data_validate(&job, &key, msg, sizeof msg), LS_EJOB);
    assert_string_equal(key, "data.label_noise");
    job.data.label_noise = 0;
    job.data.n_classes = 3;
    job.data.noise_std = 0.5;
    assert_int_equal(data_validate(&job, &key, msg, sizeof msg), LS_EJOB);
    assert_string_equal(key, "data.noise_std");
    /* the kind's own default: no regression noise */
    job.data.noise_std = 0.7;
    data_defaults(&job);
    assert_true(job.data.noise_std == 0);
}

/* ---- points1d and blobs ---- */

static void test_points1d(void **state)
{
    (void)state;
    struct ls_job job;
    const double x[5] = {-2, -1, 0, 1, 2}, y[5] = {1.5, 0.5, 1.5, 0.5, 1.5};
    make_job(&job, "points1d");
    job.data.x.n = job.data.y.n = 5;
    memcpy(job.data.x.v, x, sizeof x);
    memcpy(job.data.y.v, y, sizeof y);
    struct ls_data *d = build(&job);
    assert_int_equal(d->n, 5);
    assert_int_equal(d->d, 1);
    assert_int_equal(d->n_test, 0);
    assert_memory_equal(d->X, x, sizeof x);
    assert_memory_equal(d->y, y, sizeof y);
    data_destroy(&d);
    const char *key = NULL;
    char msg[256];
    job.data.y.n = 4;
    assert_int_equal(data_validate(&job, &key, msg, sizeof msg), LS_EJOB);
    assert_string_equal(key, "data.y");
}

/* Exactly round(0.3·n) positives in both sets; the projections on u = 1/√d have means ±sep/2
 * (within 5 standard errors) and unit variance around them. */
static void test_blobs(void **state)
{
    (void)state;
    struct ls_job job;
    make_job(&job, "blobs");
    job.data.n_train = 1001;
    job.data.n_test = 333;
    struct ls_data *d = build(&job);
    assert_int_equal(d->task, LS_TASK_BINARY);
    double pos = 0, pos_t = 0, m[2] = {0, 0}, cnt[2] = {0, 0};
    for (size_t i = 0; i < d->n; i++) {
        double proj = 0;
        for (size_t j = 0; j < d->d; j++)
            proj += d->X[i * d->d + j] / sqrt((double)d->d);
        pos += d->y[i];
        m[(int)d->y[i]] += proj;
        cnt[(int)d->y[i]]++;
    }
    for (size_t i = 0; i < d->n_test; i++)
        pos_t += d->y_test[i];
    assert_true(pos == 300);   /* round(300.3) */
    assert_true(pos_t == 100); /* round(99.9) */
    for (int c = 0; c < 2; c++) {
        double want = (2 * c - 1) * 1.5, got = m[c] / cnt[c];
        if (fabs(got - want) > 5 / sqrt(cnt[c])) {
            print_error("class %d mean %.4f, want %.4f\n", c, got, want);
            fail();
        }
    }
    data_destroy(&d);
    const char *key = NULL;
    char msg[256];
    job.data.n_train = 2;
    job.data.positive_fraction = 0.1;
    assert_int_equal(data_validate(&job, &key, msg, sizeof msg), LS_EJOB);
    assert_string_equal(key, "data.positive_fraction");
}

/* ---- IDX files ---- */

static char tmpdir[256];

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}

/* An IDX file of bytes: magic 00 00 08 ndims, sizes, data (`extra` more bytes than announced,
 * or fewer when negative), gzip-compressed or plain. */
static void write_idx(const char *path, uint32_t ndims, const uint32_t *dims,
                      const unsigned char *data, int extra, int gz, unsigned char magic2)
{
    unsigned char head[16] = {0, 0, magic2, (unsigned char)ndims};
    size_t count = 1;
    for (uint32_t i = 0; i < ndims; i++) {
        put_be32(head + 4 + 4 * i, dims[i]);
        count *= dims[i];
    }
    size_t n = (size_t)((long)count + extra);
    if (gz) {
        gzFile f = gzopen(path, "wb");
        assert_non_null(f);
        assert_true(gzwrite(f, head, 4 + 4 * ndims) > 0);
        if (n)
            assert_true(gzwrite(f, data, (unsigned)n) == (int)n);
        assert_int_equal(gzclose(f), Z_OK);
    } else {
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(head, 1, 4 + 4 * ndims, f), 4 + 4 * ndims);
        assert_int_equal(fwrite(data, 1, n, f), n);
        fclose(f);
    }
}

static void test_idx_reader(void **state)
{
    (void)state;
    char path[512], msg[LS_ERR_MAX];
    unsigned char bytes[64];
    uint32_t dims[3] = {2, 3, 4};
    struct idx_file f;
    for (int i = 0; i < 64; i++)
        bytes[i] = (unsigned char)(i * 7);
    snprintf(path, sizeof path, "%s/a.gz", tmpdir);
    for (int gz = 0; gz < 2; gz++) {
        write_idx(path, 3, dims, bytes, 0, gz, 8);
        assert_int_equal(idx_read(path, 3, 1, &f, msg, sizeof msg), LS_OK);
        assert_int_equal(f.count, 24);
        assert_int_equal(f.dims[0], 2);
        assert_int_equal(f.dims[2], 4);
        assert_memory_equal(f.data, bytes, 24);
        idx_free(&f);
        assert_int_equal(idx_read(path, 3, 0, &f, msg, sizeof msg), LS_OK);
        assert_null(f.data);
    }
    assert_int_equal(idx_read(path, 1, 1, &f, msg, sizeof msg), LS_ECORRUPT); /* 3-D, not 1-D */
    assert_non_null(strstr(msg, path));
    assert_non_null(strstr(msg, "magic"));
    write_idx(path, 3, dims, bytes, -5, 1, 8);
    assert_int_equal(idx_read(path, 3, 1, &f, msg, sizeof msg), LS_ECORRUPT);
    assert_non_null(strstr(msg, "truncated"));
    write_idx(path, 3, dims, bytes, 3, 1, 8);
    assert_int_equal(idx_read(path, 3, 1, &f, msg, sizeof msg), LS_ECORRUPT);
    assert_non_null(strstr(msg, "more data"));
    write_idx(path, 3, dims, bytes, 0, 1, 0x0D); /* floats */
    assert_int_equal(idx_read(path, 3, 1, &f, msg, sizeof msg), LS_ECORRUPT);
    snprintf(path, sizeof path, "%s/missing.gz", tmpdir);
    assert_int_equal(idx_read(path, 3, 1, &f, msg, sizeof msg), LS_EIO);
    assert_non_null(strstr(msg, "missing.gz"));
}

/* A fake Fashion-MNIST: 12 training images of 2×2 with labels i mod 4 and pixel value 10·i + j;
 * 5 test images with labels 3, 2, 1, 0, 1. */
static void write_fake_fmnist(const char *dir)
{
    char path[512];
    unsigned char img[48], lab[12], timg[20], tlab[5] = {3, 2, 1, 0, 1};
    uint32_t d3[3] = {12, 2, 2}, d1[1] = {12}, t3[3] = {5, 2, 2}, t1[1] = {5};
    for (int i = 0; i < 12; i++) {
        lab[i] = (unsigned char)(i % 4);
        for (int j = 0; j < 4; j++)
            img[4 * i + j] = (unsigned char)(10 * i + j);
    }
    for (int i = 0; i < 20; i++)
        timg[i] = (unsigned char)(200 + i);
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/train-images-idx3-ubyte.gz", dir);
    write_idx(path, 3, d3, img, 0, 1, 8);
    snprintf(path, sizeof path, "%s/train-labels-idx1-ubyte.gz", dir);
    write_idx(path, 1, d1, lab, 0, 1, 8);
    snprintf(path, sizeof path, "%s/t10k-images-idx3-ubyte.gz", dir);
    write_idx(path, 3, t3, timg, 0, 1, 8);
    snprintf(path, sizeof path, "%s/t10k-labels-idx1-ubyte.gz", dir);
    write_idx(path, 1, t1, tlab, 0, 1, 8);
}

/* classes [2, 0]: training samples 0, 2, 4, 6, 8, 10 in file order, labels 2 → 0, 0 → 1; the
 * first n_train = 4 of them; unit scaling x/255; one_vs_rest 2 makes class 2 the positive one. */
static void test_fmnist_selection(void **state)
{
    (void)state;
    char dir[300];
    snprintf(dir, sizeof dir, "%s/fm", tmpdir);
    write_fake_fmnist(dir);
    data_cache_clear();
    struct ls_job job;
    make_job(&job, "fashion_mnist");
    snprintf(job.data.path, LS_FILE_MAX, "%s", dir);
    data_defaults(&job);
    job.data.classes.n = 2;
    job.data.classes.v[0] = 2;
    job.data.classes.v[1] = 0;
    job.data.n_train = 4;
    struct ls_data *d = build(&job);
    assert_int_equal(job.data.dim, 4);
    assert_int_equal(job.data.avail_train, 6);
    assert_int_equal(job.data.avail_test, 2);
    assert_int_equal(d->n_test, 2); /* n_test 0: all */
    assert_int_equal(d->task, LS_TASK_CLASSES);
    assert_int_equal(d->n_classes, 2);
    const int rows[4] = {0, 2, 4, 6};
    for (int k = 0; k < 4; k++) {
        assert_true(d->y[k] == (rows[k] % 4 == 2 ? 0 : 1));
        for (int j = 0; j < 4; j++)
            assert_true(d->X[4 * k + j] == (10 * rows[k] + j) / 255.0);
    }
    assert_true(d->y_test[0] == 0 && d->y_test[1] == 1); /* test labels 2, 0 */
    assert_true(d->X_test[0] == 204 / 255.0);
    data_destroy(&d);
    job.data.one_vs_rest = 2;
    job.data.n_train = 0;
    data_defaults(&job); /* back to "all" */
    job.data.one_vs_rest = 2;
    d = build(&job);
    assert_int_equal(d->n, 6);
    assert_int_equal(d->task, LS_TASK_BINARY);
    for (int k = 0; k < 6; k++)
        assert_true(d->y[k] == (k % 2 == 1)); /* rows 0 (class 0), 2 (class 2), ... */
    data_destroy(&d);
    data_cache_clear();
}

/* standardize: every pixel of the training set has mean 0 and variance 1 (all vary here). */
static void test_fmnist_standardize_and_errors(void **state)
{
    (void)state;
    char dir[300];
    snprintf(dir, sizeof dir, "%s/fm", tmpdir);
    write_fake_fmnist(dir);
    struct ls_job job;
    make_job(&job, "fashion_mnist");
    snprintf(job.data.path, LS_FILE_MAX, "%s", dir);
    data_defaults(&job);
    snprintf(job.data.scaling, LS_NAME_MAX, "standardize");
    struct ls_data *d = build(&job);
    assert_int_equal(d->n, 12);
    assert_int_equal(d->n_classes, 10);
    for (size_t j = 0; j < 4; j++) {
        double m = 0, v = 0;
        for (size_t i = 0; i < 12; i++)
            m += d->X[i * 4 + j] / 12;
        for (size_t i = 0; i < 12; i++)
            v += (d->X[i * 4 + j] - m) * (d->X[i * 4 + j] - m) / 12;
        assert_true(fabs(m) < 1e-14 && fabs(v - 1) < 1e-13);
    }
    data_destroy(&d);
    const char *key = NULL;
    char msg[LS_ERR_MAX];
    job.data.n_train = 13;
    assert_int_equal(data_validate(&job, &key, msg, sizeof msg), LS_EJOB);
    assert_string_equal(key, "data.n_train");
    job.data.n_train = 12;
    job.data.one_vs_rest = 5;
    job.data.classes.n = 2;
    job.data.classes.v[0] = 1, job.data.classes.v[1] = 3;
    assert_int_equal(data_validate(&job, &key, msg, sizeof msg), LS_EJOB);
    assert_string_equal(key, "data.one_vs_rest");
    snprintf(job.data.path, LS_FILE_MAX, "%s/nowhere", tmpdir);
    assert_int_equal(data_resolve(&job, &key, msg, sizeof msg), LS_EJOB);
    assert_string_equal(key, "data.path");
    assert_non_null(strstr(msg, "nowhere"));
    data_cache_clear();
}

/* The real files, when Debian's dataset-fashion-mnist is installed. */
static void test_fmnist_real(void **state)
{
    (void)state;
    struct stat st;
    if (stat(FMNIST_DIR "/train-images-idx3-ubyte.gz", &st) != 0) {
        print_message("skipped: %s not installed (apt-get install dataset-fashion-mnist)\n",
                      FMNIST_DIR);
        skip();
    }
    struct ls_job job;
    make_job(&job, "fashion_mnist");
    data_defaults(&job);
    struct ls_data *d = build(&job);
    assert_int_equal(d->n, 60000);
    assert_int_equal(d->n_test, 10000);
    assert_int_equal(d->d, 784);
    size_t count[10] = {0}, tcount[10] = {0};
    double lo = 1, hi = 0;
    for (size_t i = 0; i < d->n; i++)
        count[(size_t)d->y[i]]++;
    for (size_t i = 0; i < d->n_test; i++)
        tcount[(size_t)d->y_test[i]]++;
    for (size_t i = 0; i < d->n * d->d; i++) {
        lo = d->X[i] < lo ? d->X[i] : lo;
        hi = d->X[i] > hi ? d->X[i] : hi;
    }
    for (int c = 0; c < 10; c++) {
        assert_int_equal(count[c], 6000);
        assert_int_equal(tcount[c], 1000);
    }
    assert_true(lo == 0 && hi == 1);
    data_destroy(&d);
    data_cache_clear();
}

static int make_tmp(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_datakinds.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmp(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_teacher_common_numbers),
        cmocka_unit_test(test_teacher_linear_and_scale),
        cmocka_unit_test(test_teacher_classes_and_noise),
        cmocka_unit_test(test_teacher_check),
        cmocka_unit_test(test_points1d),
        cmocka_unit_test(test_blobs),
        cmocka_unit_test(test_idx_reader),
        cmocka_unit_test(test_fmnist_selection),
        cmocka_unit_test(test_fmnist_standardize_and_errors),
        cmocka_unit_test(test_fmnist_real),
    };
    return cmocka_run_group_tests(tests, make_tmp, remove_tmp);
}
