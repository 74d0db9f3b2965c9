/* Unit tests of theory_spline: ζ's closed forms at hand-computed values, the natural cubic spline
 * of three points worked by hand, interpolation and the energy identities of both references,
 * and the refused inputs. (tests/e2e/test_spline.py compares everything with scipy.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>

#include "lazysweep/error.h"
#include "lazysweep/theory_spline.h"

static const double pi = 3.14159265358979323846;

static void near(double got, double want, double tol, const char *what)
{
    if (!(fabs(got - want) <= tol * fmax(1.0, fabs(want)))) {
        print_error("%s: got %.17g, want %.17g (tol %g)\n", what, got, want, tol);
        fail();
    }
}

/* Weights U(−1, 1), biases U(−2, 2). */
static const struct spline_init uni = {SPLINE_UNIFORM, SPLINE_UNIFORM, 0.5773502691896258,
                                       1.1547005383792515, 0};

static void test_zeta_values(void **state)
{
    (void)state;
    /* a_w³/(8a_b) = 1/16 inside |x| <= 2, a_b³/(8a_w x⁴) = 1/x⁴ outside */
    near(spline_zeta(&uni, 0.0), 1.0 / 16, 1e-14, "uniform zeta(0)");
    near(spline_zeta(&uni, -1.9), 1.0 / 16, 1e-14, "uniform zeta(-1.9)");
    near(spline_zeta(&uni, 4.0), 1.0 / 256, 1e-14, "uniform zeta(4)");
    near(spline_zeta_quad(&uni, 4.0), 1.0 / 256, 1e-12, "uniform zeta(4) by quadrature");
    assert_true(spline_zeta_flat(&uni, -2.0, 2.0));
    assert_false(spline_zeta_flat(&uni, -2.0, 2.5));
    const struct spline_init g = {SPLINE_GAUSSIAN, SPLINE_GAUSSIAN, 1.0, 1.0, 0};
    near(spline_zeta(&g, 1.0), 2.0 / pi / 4.0, 1e-14, "gaussian zeta(1)");
    near(spline_zeta_quad(&g, 1.0), 2.0 / pi / 4.0, 1e-12, "gaussian zeta(1) by quadrature");
    assert_false(spline_zeta_flat(&g, -1.0, 1.0));
}

/* x = −1, 0, 1, y = 0, 1, 0: the natural spline has M = g″ = −3 at 0 (row: (2/3)M = −2), so
 * g(±0.5) = 0.5 + (−3)(0.125 − 0.5)/6 = 0.6875, g′(±1) = ∓1.5 beyond, and ∫g″²/ζ =
 * 16·2·∫₀¹(3t)²dt = 96. */
static void test_natural_by_hand(void **state)
{
    (void)state;
    const double x[3] = {1, -1, 0}, y[3] = {0, 0, 1}; /* unsorted on purpose */
    const double at[4] = {-0.5, 0.5, 2.0, -3.0}, want[4] = {0.6875, 0.6875, -1.5, -3.0};
    double g[4];
    struct spline_ref *r = NULL;
    assert_int_equal(spline_solve(&uni, x, y, 3, &r), LS_OK);
    assert_true(r->flat);
    spline_eval(r, at, 4, g);
    for (int i = 0; i < 4; i++)
        near(g[i], want[i], 1e-14, "natural spline value");
    near(spline_energy(r), 96.0, 1e-13, "natural spline energy");
    spline_free(&r);
    spline_free(&r); /* safe twice */
}

/* Both references interpolate; the weighted one's energy equals a Riemann sum of g″²/ζ from
 * second differences of g; the full one's energy cᵀKc = yᵀK⁻¹y is at least the span one's
 * (it minimizes a larger functional over the same interpolants, up to the affine terms). */
static void test_interpolation_and_energy(void **state)
{
    (void)state;
    const struct spline_init g = {SPLINE_GAUSSIAN, SPLINE_GAUSSIAN, 1.0, 0.7, 0};
    const double x[5] = {-2, -0.7, 0.1, 1.2, 2}, y[5] = {1, -1, 0.5, 2, 0};
    double v[5];
    struct spline_ref *span = NULL, *full = NULL;
    assert_int_equal(spline_solve(&g, x, y, 5, &span), LS_OK);
    assert_int_equal(spline_solve_full(&g, x, y, 5, &full), LS_OK);
    spline_eval(span, x, 5, v);
    for (int i = 0; i < 5; i++)
        near(v[i], y[i], 1e-12, "span interpolates");
    spline_eval(full, x, 5, v);
    for (int i = 0; i < 5; i++)
        near(v[i], y[i], 1e-9, "full interpolates");
    const double h = 1e-3;
    double sum = 0.0;
    for (double t = -2.0 + h; t < 2.0 - h / 2; t += h) {
        double p[3] = {t - h, t, t + h}, q[3];
        spline_eval(span, p, 3, q);
        double d2 = (q[0] - 2 * q[1] + q[2]) / (h * h);
        sum += d2 * d2 / spline_zeta(&g, t) * h;
    }
    near(sum, spline_energy(span), 2e-3, "span energy vs Riemann sum");
    assert_true(spline_energy(full) >= spline_energy(span) * (1 - 1e-9));
    spline_free(&span);
    spline_free(&full);
}

static void test_refused(void **state)
{
    (void)state;
    struct spline_ref *r = NULL;
    const double x[3] = {0, 1, 1}, y[3] = {0, 1, 2};
    assert_int_equal(spline_solve(&uni, x, y, 1, &r), LS_EINVAL);
    assert_int_equal(spline_solve(&uni, x, y, 3, &r), LS_EINVAL); /* repeated x */
    assert_null(r);
    struct spline_init bad = uni;
    bad.sb = 0.0;
    assert_int_equal(spline_solve(&bad, x, y, 2, &r), LS_EINVAL);
    assert_int_equal(spline_solve_full(&bad, x, y, 2, &r), LS_EINVAL);
    bad = uni;
    bad.w = SPLINE_SPHERE;
    bad.n = 2;
    assert_int_equal(spline_solve(&bad, x, y, 2, &r), LS_EINVAL);
    assert_null(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zeta_values),
        cmocka_unit_test(test_natural_by_hand),
        cmocka_unit_test(test_interpolation_and_energy),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
