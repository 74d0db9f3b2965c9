/* test_cfg.c — the job file: every malformed job in tests/bad_jobs fails at the LINE:COL and with
 * the message its first line promises; inputs too large to commit (10^5-deep nesting, a file over
 * 1 MiB) are generated here; a valid job parses into exactly the fields, defaults, grid and
 * canonical text written out by hand below, and its hash moves with every change to the
 * experiment but not with layout, comments or grid values. Run from the repository root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lazysweep/cfg.h"
#include "lazysweep/error.h"
#include "lazysweep/rng.h"

#define BAD_DIR "tests/bad_jobs"
#define MIN_BAD_JOBS 50

/* jobs/quickstart.yaml as of this test's writing, inline so that editing the shipped example
 * does not silently change what this test checks. */
static const char quickstart[] =
    "# Quickstart\n"
    "name: quickstart\n"
    "seed: 7\n"
    "model:\n"
    "  family: diagonal\n"
    "  depth: 2\n"
    "  width: 1\n"
    "  init_scale: 1.0\n"
    "  init: constant\n"
    "data:\n"
    "  kind: sparse_regression\n"
    "  n_train: 30\n"
    "  dim: 100\n"
    "  support: 3\n"
    "  noise_std: 0.05\n"
    "train:\n"
    "  optimizer: gd\n"
    "  lr: 0.002            # stable for alpha <= 1 at both depths\n"
    "  max_steps: 30000\n"
    "  stop_loss: 1.0e-5\n"
    "  log: {points: 48, spacing: log}\n"
    "metrics: [train_loss, population_error, l1_norm, l2_norm, steps]\n"
    "grid:\n"
    "  init_scale: {logspace: [-2, 0, 5]}\n"
    "  depth: [2, 3]\n"
    "  seed: {range: [0, 4]}\n";

/* The same job in flow style with other comments and spacing: same experiment, same hash. */
static const char quickstart_flow[] =
    "name: quickstart   # renamed? no\n"
    "seed: 7\n"
    "model: {family: diagonal, init_scale: 1.0, width: 1, depth: 2, init: constant}\n"
    "data: {kind: sparse_regression, dim: 100, n_train: 30, noise_std: 0.05, support: 3}\n"
    "train: {lr: 0.002, optimizer: gd, max_steps: 30000, stop_loss: 1.0e-5,\n"
    "        log: {spacing: log, points: 48}}\n"
    "\n"
    "grid: {seed: {range: [0, 4]}, init_scale: {logspace: [-2, 0, 5]}, depth: [2, 3]}\n"
    "metrics:\n"
    "  - train_loss\n"
    "  - population_error\n"
    "  - l1_norm\n"
    "  - l2_norm\n"
    "  - steps\n";

static const char minimal[] = "name: min\n"
                              "model: {family: diagonal}\n"
                              "data: {kind: sparse_regression}\n"
                              "train: {lr: 0.5}\n";

/* Written out by hand from the key table's defaults: the contract of the canonical text. */
static const char minimal_canonical[] =
    "data.dim=1000\n"
    "data.kind=sparse_regression\n"
    "data.n_test=0\n"
    "data.n_train=100\n"
    "data.noise_std=0.10000000000000001\n"
    "data.support=5\n"
    "metrics=train_loss,population_error,l1_norm,l2_norm,steps\n"
    "model.depth=2\n"
    "model.family=diagonal\n"
    "model.init=constant\n"
    "model.init_scale=1\n"
    "model.sparsity=0\n"
    "model.width=1\n"
    "name=min\n"
    "seed=0\n"
    "store=\n"
    "train.log.points=64\n"
    "train.log.spacing=log\n"
    "train.lr=base:0.5,init_scale:0,width:0,depth:0\n"
    "train.lr_schedule=constant\n"
    "train.max_seconds=0\n"
    "train.max_steps=1000\n"
    "train.optimizer=gd\n"
    "train.stop_change=0\n"
    "train.stop_loss=0\n"
    "train.weight_decay=base:0,init_scale:0,width:0,depth:0\n";

/* ---- helpers ----------------------------------------------------------------------------- */

static int parse_text(const char *text, struct ls_job *job, char *err)
{
    return cfg_parse("test.yaml", text, strlen(text), job, err, LS_ERR_MAX);
}

static void parse_ok(const char *text, struct ls_job *job)
{
    char err[LS_ERR_MAX];
    int rc = parse_text(text, job, err);
    if (rc != LS_OK) {
        print_error("expected a valid job, got rc %d: %s\n", rc, err);
        fail();
    }
}

/* A copy of text with the one occurrence of `from` replaced by `to`. */
static char *replace_once(const char *text, const char *from, const char *to)
{
    const char *at = strstr(text, from);
    if (at == NULL || strstr(at + 1, from) != NULL) {
        print_error("'%s' must occur exactly once in the test job\n", from);
        fail();
    }
    size_t n = strlen(text) - strlen(from) + strlen(to) + 1;
    char *out = malloc(n);
    assert_non_null(out);
    snprintf(out, n, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
    return out;
}

/* Write bytes to a fresh temporary file; its path goes to `path` (unlink when done). */
static void write_temp(const char *bytes, size_t n, char *path, size_t len)
{
    snprintf(path, len, "/tmp/lazysweep-test-cfg-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* cfg_load must fail with LS_EJOB and "PATH:LINE:COL: ...substring...". */
static int expect_error(const char *path, int line, int col, const char *substring)
{
    struct ls_job job;
    char err[LS_ERR_MAX], prefix[4200];
    int rc = cfg_load(path, &job, err, sizeof err);
    cfg_free(&job);
    snprintf(prefix, sizeof prefix, "%s:%d:%d: ", path, line, col);
    if (rc != LS_EJOB) {
        print_error("%s: want LS_EJOB (%d), got %d: %s\n", path, LS_EJOB, rc,
                    rc == LS_OK ? "(accepted)" : err);
        return 1;
    }
    if (strncmp(err, prefix, strlen(prefix)) != 0 || strstr(err, substring) == NULL) {
        print_error("%s:\n  want: %s...%s...\n  got:  %s\n", path, prefix, substring, err);
        return 1;
    }
    return 0;
}

/* ---- malformed jobs ---------------------------------------------------------------------- */

/* First line "# expect: LINE:COL: substring". */
static int read_expectation(const char *path, int *line, int *col, char *sub, size_t len)
{
    char first[1024];
    FILE *f = fopen(path, "rb");
    if (f == NULL || fgets(first, sizeof first, f) == NULL) {
        if (f)
            fclose(f);
        return -1;
    }
    fclose(f);
    first[strcspn(first, "\n")] = '\0';
    int off = 0;
    if (sscanf(first, "# expect: %d:%d: %n", line, col, &off) != 2 || off == 0)
        return -1;
    snprintf(sub, len, "%s", first + off);
    return sub[0] ? 0 : -1;
}

static void test_bad_jobs(void **state)
{
    (void)state;
    DIR *d = opendir(BAD_DIR);
    assert_non_null(d);
    int n = 0, failed = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".yaml") != 0)
            continue;
        char path[512], sub[1024];
        int line, col;
        snprintf(path, sizeof path, "%s/%s", BAD_DIR, e->d_name);
        if (read_expectation(path, &line, &col, sub, sizeof sub) != 0) {
            print_error("%s: first line is not '# expect: LINE:COL: message'\n", path);
            failed++;
            continue;
        }
        failed += expect_error(path, line, col, sub);
        n++;
    }
    closedir(d);
    if (failed || n < MIN_BAD_JOBS) {
        print_error("%d of %d bad jobs failed (at least %d expected)\n", failed, n, MIN_BAD_JOBS);
        fail();
    }
}

/* 10^5 levels of nesting (100 KB, under the size cap): refused at the 33rd level while
 * streaming, so fast and without building 10^5 nodes. */
static void test_deep_nesting(void **state)
{
    (void)state;
    size_t depth = 100000, n = 3 + 2 * depth + 1;
    char *text = malloc(n + 1), path[64];
    assert_non_null(text);
    memcpy(text, "a: ", 3);
    memset(text + 3, '[', depth);
    memset(text + 3 + depth, ']', depth);
    text[n - 1] = '\n';
    write_temp(text, n, path, sizeof path);
    clock_t t0 = clock();
    /* The root mapping is level 1, so the 32nd '[' (column 4 + 31) opens level 33. */
    int bad = expect_error(path, 1, 35, "nesting deeper than 32 levels");
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    unlink(path);
    free(text);
    assert_int_equal(bad, 0);
    if (secs > 1.0) {
        print_error("rejecting 10^5-deep nesting took %.2f s\n", secs);
        fail();
    }
}

static void test_file_size_limits(void **state)
{
    (void)state;
    char path[64];
    /* Over 1 MiB: refused at 1:1 before parsing. */
    size_t n = LS_JOB_MAX_BYTES + 1;
    char *text = malloc(n);
    assert_non_null(text);
    memset(text, '#', n);
    write_temp(text, n, path, sizeof path);
    assert_int_equal(expect_error(path, 1, 1, "larger than 1 MiB"), 0);
    unlink(path);
    /* Exactly 1 MiB (a valid job padded with a comment): accepted. */
    n = LS_JOB_MAX_BYTES;
    memset(text, ' ', n);
    memcpy(text, minimal, strlen(minimal));
    text[strlen(minimal)] = '#';
    text[n - 1] = '\n';
    write_temp(text, n, path, sizeof path);
    struct ls_job job;
    char err[LS_ERR_MAX];
    int rc = cfg_load(path, &job, err, sizeof err);
    if (rc != LS_OK)
        print_error("1 MiB job: %s\n", err);
    assert_int_equal(rc, LS_OK);
    assert_int_equal(job.text_len, n);
    cfg_free(&job);
    unlink(path);
    /* Empty: refused at 1:1. */
    write_temp("", 0, path, sizeof path);
    assert_int_equal(expect_error(path, 1, 1, "empty job file"), 0);
    unlink(path);
    free(text);
}

static void test_missing_file(void **state)
{
    (void)state;
    struct ls_job job;
    char err[LS_ERR_MAX];
    assert_int_equal(cfg_load("/nonexistent/job.yaml", &job, err, sizeof err), LS_EIO);
    assert_non_null(strstr(err, "/nonexistent/job.yaml"));
    cfg_free(&job);
}

/* ---- a valid job ------------------------------------------------------------------------- */

static void check_axis(const struct ls_axis *a, const char *name, enum ls_type type, size_t n,
                       int swept, int line, int col)
{
    if (strcmp(a->name, name) != 0 || a->type != type || a->n != n || a->swept != swept ||
        a->line != line || a->col != col) {
        print_error("axis: got %s type %d n %zu swept %d at %d:%d, want %s type %d n %zu swept %d "
                    "at %d:%d\n", a->name, a->type, a->n, a->swept, a->line, a->col, name, type, n,
                    swept, line, col);
        fail();
    }
}

static void test_quickstart_fields(void **state)
{
    (void)state;
    struct ls_job job;
    parse_ok(quickstart, &job);
    assert_string_equal(job.path, "test.yaml");
    assert_int_equal(job.text_len, strlen(quickstart));
    assert_memory_equal(job.text, quickstart, sizeof quickstart); /* with its NUL */
    assert_string_equal(job.name, "quickstart");
    assert_int_equal(job.seed, 7);
    assert_int_equal(job.point_seed, 0);
    assert_string_equal(job.model.family, "diagonal");
    assert_int_equal(job.model.depth, 2);
    assert_int_equal(job.model.width, 1);
    assert_true(job.model.init_scale == 1.0);
    assert_string_equal(job.model.init, "constant");
    assert_true(job.model.sparsity == 0.0);
    assert_string_equal(job.data.kind, "sparse_regression");
    assert_int_equal(job.data.n_train, 30);
    assert_int_equal(job.data.dim, 100);
    assert_int_equal(job.data.support, 3);
    assert_true(job.data.noise_std == 0.05);
    assert_string_equal(job.train.optimizer, "gd");
    assert_true(job.train.lr.base == 0.002);
    for (int i = 0; i < 3; i++)
        assert_true(job.train.lr.exp[i] == 0.0);
    assert_int_equal(job.train.max_steps, 30000);
    assert_true(job.train.stop_loss == 1e-5);
    assert_true(job.train.max_seconds == 0.0);
    assert_int_equal(job.train.log_points, 48);
    assert_string_equal(job.train.log_spacing, "log");
    assert_int_equal(job.max_steps_all, 30000);
    const char *want[] = {"train_loss", "population_error", "l1_norm", "l2_norm", "steps"};
    assert_int_equal(job.n_metrics, 5);
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(job.metrics[i], want[i]);
    assert_int_equal(job.n_traj, 4); /* steps is a number per point, not a trajectory */
    for (size_t i = 0; i < 4; i++)
        assert_string_equal(job.traj[i], want[i]);
    cfg_free(&job);
    cfg_free(&job); /* safe twice */
}

static void test_quickstart_grid(void **state)
{
    (void)state;
    struct ls_job job;
    parse_ok(quickstart, &job);
    const struct ls_grid *g = &job.grid;
    /* Swept axes in file order at their names' marks, then the unswept canonical ones. */
    assert_int_equal(g->n_axes, 5);
    check_axis(&g->axes[0], "init_scale", LS_T_REAL, 5, 1, 24, 3);
    check_axis(&g->axes[1], "depth", LS_T_INT, 2, 1, 25, 3);
    check_axis(&g->axes[2], "seed", LS_T_INT, 4, 1, 26, 3);
    check_axis(&g->axes[3], "width", LS_T_INT, 1, 0, 0, 0);
    check_axis(&g->axes[4], "sparsity", LS_T_REAL, 1, 0, 0, 0);
    assert_int_equal(g->n_points, 5 * 2 * 4);
    for (size_t i = 0; i < 5; i++) { /* 10^(-2 + i/2), the ends exact */
        double want = pow(10.0, -2.0 + 0.5 * (double)i);
        if (fabs(g->axes[0].num[i] - want) > 1e-15 * want) {
            print_error("logspace[%zu] = %.17g, want %.17g\n", i, g->axes[0].num[i], want);
            fail();
        }
    }
    assert_true(g->axes[0].num[0] == 0.01 && g->axes[0].num[4] == 1.0);
    assert_true(g->axes[1].num[0] == 2 && g->axes[1].num[1] == 3);
    for (size_t i = 0; i < 4; i++)
        assert_true(g->axes[2].num[i] == (double)i);
    assert_true(g->axes[3].num[0] == 1.0 && g->axes[4].num[0] == 0.0);
    cfg_free(&job);
}

static void test_defaults_and_canonical(void **state)
{
    (void)state;
    struct ls_job job;
    parse_ok(minimal, &job);
    if (strcmp(job.canonical, minimal_canonical) != 0) {
        print_error("canonical:\n%s\nwant:\n%s\n", job.canonical, minimal_canonical);
        fail();
    }
    assert_true(job.hash == ls_hash(LS_HASH_INIT, minimal_canonical, strlen(minimal_canonical)));
    char hex[17];
    snprintf(hex, sizeof hex, "%016llx", (unsigned long long)job.hash);
    assert_string_equal(job.hash_hex, hex);
    assert_int_equal(job.n_traj, 4);
    assert_int_equal(job.max_steps_all, 1000);
    /* Every canonical axis, as a singleton holding the job's value. */
    const char *names[] = {"init_scale", "width", "depth", "seed", "sparsity"};
    const double values[] = {1.0, 1, 2, 0, 0.0};
    assert_int_equal(job.grid.n_axes, 5);
    assert_int_equal(job.grid.n_points, 1);
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(job.grid.axes[i].name, names[i]);
        assert_int_equal(job.grid.axes[i].swept, 0);
        assert_true(job.grid.axes[i].num[0] == values[i]);
    }
    cfg_free(&job);
}

static void test_hash_layout_independent(void **state)
{
    (void)state;
    struct ls_job a, b;
    parse_ok(quickstart, &a);
    parse_ok(quickstart_flow, &b);
    assert_string_equal(a.canonical, b.canonical);
    assert_true(a.hash == b.hash);
    assert_string_equal(a.hash_hex, b.hash_hex);
    /* The grid axes appear in b's file order, so the points are ordered differently. */
    assert_string_equal(b.grid.axes[0].name, "seed");
    cfg_free(&a);
    cfg_free(&b);
}

static void test_hash_ignores_grid_values(void **state)
{
    (void)state;
    static const char *const edits[][2] = {
        {"depth: [2, 3]", "depth: [2, 3, 4]"},
        {"logspace: [-2, 0, 5]", "logspace: [-3, 0, 7]"},
        {"range: [0, 4]", "range: [0, 16]"},
        {"seed: {range: [0, 4]}", "seed: [0, 1, 2, 3]"},
    };
    struct ls_job base, job;
    parse_ok(quickstart, &base);
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        char *text = replace_once(quickstart, edits[i][0], edits[i][1]);
        parse_ok(text, &job);
        if (job.hash != base.hash) {
            print_error("'%s' → '%s' changed the hash\n", edits[i][0], edits[i][1]);
            fail();
        }
        cfg_free(&job);
        free(text);
    }
    cfg_free(&base);
}

static void test_hash_changes(void **state)
{
    (void)state;
    static const char *const edits[][3] = {
        {"name: quickstart", "name: quickstart2", "name"},
        {"seed: 7", "seed: 8", "seed"},
        {"family: diagonal", "family: diagonal\n  sparsity: 0.0", NULL}, /* same value: no change */
        {"  depth: 2\n", "  depth: 3\n", "model.depth"},
        {"width: 1", "width: 2", "model.width"},
        {"init_scale: 1.0", "init_scale: 0.5", "model.init_scale"},
        {"init: constant", "init: random", "model.init"},
        {"n_train: 30", "n_train: 31", "data.n_train"},
        {"dim: 100", "dim: 101", "data.dim"},
        {"support: 3", "support: 4", "data.support"},
        {"noise_std: 0.05", "noise_std: 0", "data.noise_std"},
        {"lr: 0.002 ", "lr: 0.003 ", "train.lr"},
        {"lr: 0.002 ", "lr: {base: 0.002, scale: {width: -1}} ", "train.lr"},
        {"max_steps: 30000", "max_steps: 30001", "train.max_steps"},
        {"stop_loss: 1.0e-5", "stop_loss: 0", "train.stop_loss"},
        {"stop_loss: 1.0e-5", "stop_loss: 1.0e-5\n  max_seconds: 60", "train.max_seconds"},
        {"points: 48", "points: 49", "train.log.points"},
        {"spacing: log", "spacing: linear", "train.log.spacing"},
        {"l2_norm, steps", "steps, l2_norm", "metrics"},
        {"l2_norm, steps", "l2_norm", "metrics"},
        {"  depth: [2, 3]\n", "", "grid.depth"},
        {"  depth: [2, 3]\n", "  depth: [2, 3]\n  data.n_train: [30, 60]\n", "grid.data.n_train"},
    };
    struct ls_job base, job;
    char diff[512];
    parse_ok(quickstart, &base);
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        char *text = replace_once(quickstart, edits[i][0], edits[i][1]);
        parse_ok(text, &job);
        cfg_diff(base.canonical, job.canonical, diff, sizeof diff);
        const char *want = edits[i][2] ? edits[i][2] : "";
        if ((job.hash != base.hash) != (edits[i][2] != NULL) || strcmp(diff, want) != 0) {
            print_error("'%s' → '%s': hash %s, diff '%s', want '%s'\n", edits[i][0], edits[i][1],
                        job.hash != base.hash ? "changed" : "unchanged", diff, want);
            fail();
        }
        cfg_free(&job);
        free(text);
    }
    cfg_free(&base);
}

static void test_cfg_diff(void **state)
{
    (void)state;
    char out[256];
    cfg_diff("a=1\nb=2\nc=3\n", "a=1\nb=2\nc=3\n", out, sizeof out);
    assert_string_equal(out, "");
    cfg_diff("a=1\nb=2\nc=3\n", "c=4\na=1\nd=5\n", out, sizeof out);
    assert_string_equal(out, "b, c, d");
    cfg_diff("", "x=1\n", out, sizeof out);
    assert_string_equal(out, "x");
    cfg_diff("ab=1\n", "a=1\n", out, sizeof out);
    assert_string_equal(out, "a, ab");
    cfg_diff("a=1\nb=2\n", "a=2\nb=3\n", out, 3); /* truncated, still terminated */
    assert_int_equal(strlen(out), 2);
}

/* Every point's job carries exactly its axis values; everything else is the base's. */
static void test_cfg_point(void **state)
{
    (void)state;
    char *text = replace_once(quickstart, "  seed: {range: [0, 4]}\n",
                              "  seed: {range: [5, 7]}\n  model.init: [random, constant]\n"
                              "  data.n_train: [10, 20]\n  train.lr: [0.001, 0.002]\n");
    struct ls_job base, pt;
    parse_ok(text, &base);
    assert_int_equal(base.grid.n_points, 5 * 2 * 2 * 2 * 2 * 2);
    size_t idx[LS_MAX_AXES];
    for (uint64_t p = 0; p < base.grid.n_points; p++) {
        assert_int_equal(cfg_point(&base, p, &pt), LS_OK);
        grid_unravel(&base.grid, p, idx);
        const struct ls_axis *ax = base.grid.axes;
        assert_true(pt.model.init_scale == ax[0].num[idx[0]]);
        assert_int_equal(pt.model.depth, (int64_t)ax[1].num[idx[1]]);
        assert_int_equal(pt.point_seed, 5 + (int64_t)idx[2]);
        assert_string_equal(pt.model.init, idx[3] == 0 ? "random" : "constant");
        assert_int_equal(pt.data.n_train, idx[4] == 0 ? 10 : 20);
        assert_true(pt.train.lr.base == (idx[5] == 0 ? 0.001 : 0.002));
        assert_int_equal(pt.model.width, 1);
        assert_int_equal(pt.seed, 7);
        assert_int_equal(pt.data.dim, 100);
        assert_string_equal(pt.name, "quickstart");
        assert_null(pt.text);
        assert_null(pt.canonical);
        assert_int_equal(pt.grid.n_axes, 0);
        assert_true(pt.hash == base.hash);
    }
    assert_int_equal(cfg_point(&base, base.grid.n_points, &pt), LS_EINVAL);
    /* cfg_point_axes on a job reused across points, visited out of order (stride 7, coprime
     * with the 160 points), gives each point's job byte for byte. */
    struct ls_job re;
    assert_int_equal(cfg_point(&base, base.grid.n_points - 1, &re), LS_OK);
    for (uint64_t k = 0, p = 0; k < base.grid.n_points; k++, p = (p + 7) % base.grid.n_points) {
        assert_int_equal(cfg_point_axes(&base, p, &re), LS_OK);
        assert_int_equal(cfg_point(&base, p, &pt), LS_OK);
        assert_memory_equal(&re, &pt, sizeof pt);
    }
    assert_int_equal(cfg_point_axes(&base, base.grid.n_points, &re), LS_EINVAL);
    cfg_free(&base);
    free(text);
}

static void test_cfg_scaled(void **state)
{
    (void)state;
    char *text = replace_once(quickstart, "lr: 0.002 ",
                              "lr: {base: 0.5, scale: {init_scale: -2, width: -1, depth: 0.5}} ");
    char *t2 = replace_once(text, "  depth: [2, 3]\n", "  depth: [9]\n  width: [4]\n");
    struct ls_job base, pt;
    parse_ok(t2, &base);
    assert_true(base.train.lr.exp[0] == -2 && base.train.lr.exp[1] == -1 &&
                base.train.lr.exp[2] == 0.5);
    for (uint64_t p = 0; p < base.grid.n_points; p++) {
        assert_int_equal(cfg_point(&base, p, &pt), LS_OK);
        double a = pt.model.init_scale;
        double want = 0.5 / (a * a) / 4.0 * 3.0; /* 0.5 · α^-2 · 4^-1 · 9^0.5 */
        double got = cfg_scaled(&pt, &pt.train.lr);
        if (fabs(got - want) > 1e-13 * want) {
            print_error("lr at α=%g: got %.17g, want %.17g\n", a, got, want);
            fail();
        }
    }
    /* An unscaled lr is the base, exactly. */
    struct ls_scaled plain = {.base = 0.125};
    assert_true(cfg_scaled(&base, &plain) == 0.125);
    cfg_free(&base);
    free(text);
    free(t2);
}

static void test_max_steps_all(void **state)
{
    (void)state;
    char *text = replace_once(quickstart, "  depth: [2, 3]\n",
                              "  depth: [2, 3]\n  train.max_steps: [10, 50000, 20]\n");
    struct ls_job job;
    parse_ok(text, &job);
    assert_int_equal(job.max_steps_all, 50000);
    assert_int_equal(job.train.max_steps, 30000);
    cfg_free(&job);
    free(text);
}

/* The generated axis values on an integer key: logspace gives exact integers. */
static void test_int_logspace(void **state)
{
    (void)state;
    char *text = replace_once(quickstart, "  depth: [2, 3]\n", "  width: {logspace: [0, 3, 4]}\n");
    struct ls_job job;
    parse_ok(text, &job);
    const struct ls_axis *w = grid_find(&job.grid, "width");
    assert_non_null(w);
    assert_int_equal(w->type, LS_T_INT);
    assert_int_equal(w->n, 4);
    for (size_t i = 0; i < 4; i++)
        assert_true(w->num[i] == pow(10, (double)i));
    cfg_free(&job);
    free(text);
}

/* cfg_load keeps the file's exact bytes; every shipped job file is valid. */
static void test_shipped_jobs(void **state)
{
    (void)state;
    DIR *d = opendir("jobs");
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".yaml") != 0)
            continue;
        char path[512], err[LS_ERR_MAX];
        struct ls_job job;
        snprintf(path, sizeof path, "jobs/%s", e->d_name);
        int rc = cfg_load(path, &job, err, sizeof err);
        if (rc != LS_OK) {
            print_error("%s: %s\n", path, err);
            fail();
        }
        assert_int_equal(strlen(job.text), job.text_len);
        cfg_free(&job);
        n++;
    }
    closedir(d);
    assert_true(n >= 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_jobs),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_file_size_limits),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_quickstart_fields),
        cmocka_unit_test(test_quickstart_grid),
        cmocka_unit_test(test_defaults_and_canonical),
        cmocka_unit_test(test_hash_layout_independent),
        cmocka_unit_test(test_hash_ignores_grid_values),
        cmocka_unit_test(test_hash_changes),
        cmocka_unit_test(test_cfg_diff),
        cmocka_unit_test(test_cfg_point),
        cmocka_unit_test(test_cfg_scaled),
        cmocka_unit_test(test_max_steps_all),
        cmocka_unit_test(test_int_logspace),
        cmocka_unit_test(test_shipped_jobs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
