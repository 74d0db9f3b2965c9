/* test_grid.c — point index ↔ axis indices against the row-major formula written out by hand,
 * point keys that do not depend on axis order and survive an axis gaining values, key lookup
 * for every point, the not-found report, and refusal of grids over LS_MAX_POINTS. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lazysweep/error.h"
#include "lazysweep/grid.h"

static struct ls_axis num_axis(const char *name, enum ls_type type, const double *v, size_t n)
{
    struct ls_axis a = {.type = type, .n = n, .swept = 1};
    snprintf(a.name, sizeof a.name, "%s", name);
    a.num = malloc(n * sizeof *a.num);
    assert_non_null(a.num);
    memcpy(a.num, v, n * sizeof *v);
    return a;
}

static struct ls_axis str_axis(const char *name, const char *const *v, size_t n)
{
    struct ls_axis a = {.type = LS_T_STR, .n = n, .swept = 1};
    snprintf(a.name, sizeof a.name, "%s", name);
    a.str = calloc(n, sizeof *a.str);
    assert_non_null(a.str);
    for (size_t i = 0; i < n; i++)
        snprintf(a.str[i], LS_STR_MAX, "%s", v[i]);
    return a;
}

static const double A[] = {0.1, 1e-300, 3.0};
static const char *const B[] = {"x;y", "p=q\\r"}; /* the key's own delimiters, escaped */
static const double C[] = {7, 3, 9007199254740992.0, -4};

/* Axes a (3 reals), b (2 strings), c (4 ints), added in the given order ("abc", "cab", ...). */
static void make_grid(struct ls_grid *g, const char *order)
{
    memset(g, 0, sizeof *g);
    for (const char *o = order; *o; o++) {
        struct ls_axis ax = *o == 'a'   ? num_axis("a", LS_T_REAL, A, 3)
                            : *o == 'b' ? str_axis("b", B, 2)
                                        : num_axis("c", LS_T_INT, C, 4);
        assert_int_equal(grid_add_axis(g, &ax), LS_OK);
    }
}

static void test_ravel_order(void **state)
{
    (void)state;
    struct ls_grid g;
    size_t idx[LS_MAX_AXES];
    make_grid(&g, "abc");
    assert_int_equal(g.n_points, 24);
    for (uint64_t p = 0; p < g.n_points; p++) {
        grid_unravel(&g, p, idx);
        /* Row-major, last axis fastest: p = (i·2 + j)·4 + k. */
        assert_int_equal(idx[0], p / 8);
        assert_int_equal(idx[1], (p / 4) % 2);
        assert_int_equal(idx[2], p % 4);
        assert_int_equal(grid_ravel(&g, idx), p);
    }
    grid_unravel(&g, 1, idx);
    assert_true(idx[0] == 0 && idx[1] == 0 && idx[2] == 1);
    grid_free(&g);
    grid_free(&g); /* safe twice */
}

static void test_key_text(void **state)
{
    (void)state;
    struct ls_grid g;
    char key[LS_KEY_MAX];
    make_grid(&g, "cab");
    size_t idx[3] = {2, 0, 1}; /* c = 2^53, a = 0.1, b = "p=q\r" */
    assert_int_equal(grid_point_key(&g, grid_ravel(&g, idx), key, sizeof key), LS_OK);
    assert_string_equal(key, "a=0.10000000000000001;b=p\\=q\\\\r;c=9007199254740992;");
    /* Too small a buffer is refused, and the buffer is still a string. */
    assert_int_equal(grid_point_key(&g, 0, key, 10), LS_ERANGE);
    assert_int_equal(strlen(key), 9);
    grid_free(&g);
}

/* The same values under a different axis order give the same key, and every key finds its
 * own point back. */
static void test_key_order_and_find(void **state)
{
    (void)state;
    struct ls_grid g1, g2;
    char k1[LS_KEY_MAX], k2[LS_KEY_MAX];
    size_t i1[LS_MAX_AXES], i2[LS_MAX_AXES];
    make_grid(&g1, "abc");
    make_grid(&g2, "cab");
    for (uint64_t p = 0; p < g1.n_points; p++) {
        grid_unravel(&g1, p, i1);
        i2[0] = i1[2];
        i2[1] = i1[0];
        i2[2] = i1[1];
        uint64_t q = grid_ravel(&g2, i2), found;
        const char *axis = "unset";
        assert_int_equal(grid_point_key(&g1, p, k1, sizeof k1), LS_OK);
        assert_int_equal(grid_point_key(&g2, q, k2, sizeof k2), LS_OK);
        assert_string_equal(k1, k2);
        assert_int_equal(grid_find_key(&g1, k1, &found, &axis), LS_OK);
        assert_int_equal(found, p);
        assert_int_equal(grid_find_key(&g2, k1, &found, &axis), LS_OK);
        assert_int_equal(found, q);
    }
    grid_free(&g1);
    grid_free(&g2);
}

/* An axis that gained values (in front, so every index moves) still finds every old key. */
static void test_find_after_growth(void **state)
{
    (void)state;
    struct ls_grid g, big;
    const double C2[] = {11, 7, 3, 9007199254740992.0, 5, -4};
    char key[LS_KEY_MAX], key2[LS_KEY_MAX];
    make_grid(&g, "abc");
    memset(&big, 0, sizeof big);
    struct ls_axis a = num_axis("a", LS_T_REAL, A, 3), b = str_axis("b", B, 2),
                   c = num_axis("c", LS_T_INT, C2, 6);
    assert_int_equal(grid_add_axis(&big, &a), LS_OK);
    assert_int_equal(grid_add_axis(&big, &b), LS_OK);
    assert_int_equal(grid_add_axis(&big, &c), LS_OK);
    for (uint64_t p = 0; p < g.n_points; p++) {
        uint64_t q;
        const char *axis;
        assert_int_equal(grid_point_key(&g, p, key, sizeof key), LS_OK);
        assert_int_equal(grid_find_key(&big, key, &q, &axis), LS_OK);
        assert_int_equal(grid_point_key(&big, q, key2, sizeof key2), LS_OK);
        assert_string_equal(key, key2);
    }
    grid_free(&g);
    grid_free(&big);
}

static void test_not_found(void **state)
{
    (void)state;
    struct ls_grid g;
    uint64_t p = 12345;
    const char *axis = "unset";
    make_grid(&g, "abc");
    /* a and c both lack their value: the first in key order is named. */
    assert_int_equal(grid_find_key(&g, "a=0.5;b=x\\;y;c=8;", &p, &axis), LS_ENOTFOUND);
    assert_non_null(axis);
    assert_string_equal(axis, "a");
    assert_int_equal(grid_find_key(&g, "a=3;b=x\\;y;c=8;", &p, &axis), LS_ENOTFOUND);
    assert_string_equal(axis, "c");
    assert_int_equal(grid_find_key(&g, "a=3;b=x;y;c=7;", &p, &axis), LS_ENOTFOUND);
    assert_int_equal(grid_find_key(&g, "a=3;b=x\\;yz;c=7;", &p, &axis), LS_ENOTFOUND);
    assert_string_equal(axis, "b");
    /* A different set of axes names no axis. */
    const char *other[] = {"a=3;b=x\\;y;", "a=3;b=x\\;y;c=7;d=1;", "a=3;b=x\\;y;e=7;",
                           "a=3;a=3;c=7;", "a=3;b=x\\;y;c=7", "", "garbage"};
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++) {
        axis = "unset";
        assert_int_equal(grid_find_key(&g, other[i], &p, &axis), LS_ENOTFOUND);
        assert_null(axis);
    }
    assert_int_equal(p, 12345); /* untouched on failure */
    assert_int_equal(grid_find_key(&g, "a=3;b=x\\;y;c=7;", &p, &axis), LS_OK);
    assert_int_equal(p, 2 * 8 + 0 * 4 + 0);
    grid_free(&g);
}

static void test_overflow_refused(void **state)
{
    (void)state;
    struct ls_grid g;
    memset(&g, 0, sizeof g);
    double *big = calloc(10000, sizeof *big);
    assert_non_null(big);
    for (size_t i = 0; i < 10000; i++)
        big[i] = (double)i;
    struct ls_axis a = num_axis("a", LS_T_INT, big, 10000), b = num_axis("b", LS_T_INT, big, 1000);
    struct ls_axis c = num_axis("c", LS_T_INT, big, 2);
    assert_int_equal(grid_add_axis(&g, &a), LS_OK);
    assert_int_equal(grid_add_axis(&g, &b), LS_OK);
    assert_int_equal(g.n_points, LS_MAX_POINTS); /* exactly the limit is allowed */
    assert_int_equal(grid_add_axis(&g, &c), LS_ERANGE);
    assert_int_equal(g.n_points, LS_MAX_POINTS);
    assert_int_equal(g.n_axes, 2);
    /* A size whose product would wrap 64 bits is refused, not wrapped. */
    struct ls_axis huge = c;
    snprintf(huge.name, sizeof huge.name, "huge");
    huge.n = SIZE_MAX;
    assert_int_equal(grid_add_axis(&g, &huge), LS_ERANGE);
    free(c.num); /* refused axes stay the caller's */
    grid_free(&g);

    struct ls_axis one = num_axis("one", LS_T_INT, big, 2);
    one.n = (size_t)LS_MAX_POINTS + 1;
    assert_int_equal(grid_add_axis(&g, &one), LS_ERANGE);
    one.n = 0;
    assert_int_equal(grid_add_axis(&g, &one), LS_EINVAL);
    one.n = 2;
    assert_int_equal(grid_add_axis(&g, &one), LS_OK);
    struct ls_axis dup = num_axis("one", LS_T_INT, big, 2);
    assert_int_equal(grid_add_axis(&g, &dup), LS_EINVAL);
    free(dup.num);
    grid_free(&g);
    free(big);
}

static void test_too_many_axes(void **state)
{
    (void)state;
    struct ls_grid g;
    const double v[] = {1};
    memset(&g, 0, sizeof g);
    for (int i = 0; i < LS_MAX_AXES; i++) {
        char name[8];
        snprintf(name, sizeof name, "x%d", i);
        struct ls_axis a = num_axis(name, LS_T_REAL, v, 1);
        assert_int_equal(grid_add_axis(&g, &a), LS_OK);
    }
    struct ls_axis extra = num_axis("extra", LS_T_REAL, v, 1);
    assert_int_equal(grid_add_axis(&g, &extra), LS_EINVAL);
    free(extra.num);
    char key[LS_KEY_MAX];
    uint64_t p;
    const char *axis;
    assert_int_equal(grid_point_key(&g, 0, key, sizeof key), LS_OK);
    assert_int_equal(grid_find_key(&g, key, &p, &axis), LS_OK);
    assert_int_equal(p, 0);
    grid_free(&g);
}

static void test_copy(void **state)
{
    (void)state;
    struct ls_grid g, h;
    char k1[LS_KEY_MAX], k2[LS_KEY_MAX];
    make_grid(&g, "bca");
    memset(&h, 0, sizeof h);
    assert_int_equal(grid_copy(&h, &g), LS_OK);
    assert_int_equal(h.n_points, g.n_points);
    assert_ptr_not_equal(h.axes[0].str, g.axes[0].str);
    assert_ptr_not_equal(h.axes[1].num, g.axes[1].num);
    h.axes[1].num[0] = 12345; /* deep: the original does not change */
    assert_true(g.axes[1].num[0] == C[0]);
    assert_int_equal(grid_point_key(&g, 5, k1, sizeof k1), LS_OK);
    grid_free(&g);
    h.axes[1].num[0] = C[0];
    assert_int_equal(grid_point_key(&h, 5, k2, sizeof k2), LS_OK);
    assert_string_equal(k1, k2);
    assert_non_null(grid_find(&h, "c"));
    assert_null(grid_find(&h, "d"));
    grid_free(&h);
    grid_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ravel_order),      cmocka_unit_test(test_key_text),
        cmocka_unit_test(test_key_order_and_find), cmocka_unit_test(test_find_after_growth),
        cmocka_unit_test(test_not_found),        cmocka_unit_test(test_overflow_refused),
        cmocka_unit_test(test_too_many_axes),    cmocka_unit_test(test_copy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
