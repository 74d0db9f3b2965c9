/* test_loss.c — the losses against closed forms computed by hand, their output gradients against
 * central finite differences, the soft-set pieces (Tsoi et al., docs/theory.md §5) against an
 * independent transcription of the definition, and the hard counts behind the metrics. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lazysweep/error.h"
#include "lazysweep/loss.h"

static void check_close(const char *what, double got, double want, double tol)
{
    if (!(fabs(got - want) <= tol)) {
        print_error("%s: got %.17g, want %.17g (|diff| %.3g > tol %.3g)\n", what, got, want,
                    fabs(got - want), tol);
        fail();
    }
}

/* ---- closed forms ------------------------------------------------------------------------ */

static void test_mse_closed_form(void **state)
{
    (void)state;
    const double z[2] = {1.0, 2.0}, y[2] = {0.0, 4.0};
    double dz[2];
    /* ((1 − 0)² + (2 − 4)²)/2 = 2.5; dL/dz = (2/2)(z − y). */
    check_close("mse", loss_value(LS_LOSS_MSE, z, y, 2, 1, 2, dz), 2.5, 1e-15);
    check_close("mse dz0", dz[0], 1.0, 1e-15);
    check_close("mse dz1", dz[1], -2.0, 1e-15);
    /* Classes: one-hot targets. Row 0 label 2: (0.5² + 1² + (3 − 1)²) = 5.25; row 1 label 0:
     * ((−1 − 1)² + 0 + 0.5²) = 4.25; mean 4.75. */
    const double zc[6] = {0.5, 1.0, 3.0, -1.0, 0.0, 0.5}, yc[2] = {2, 0};
    check_close("mse classes", loss_value(LS_LOSS_MSE, zc, yc, 2, 3, 2, NULL), 4.75, 1e-15);
}

static void test_bce_closed_form(void **state)
{
    (void)state;
    const double z[4] = {0.0, 2.0, 800.0, -800.0}, y[4] = {1.0, 0.0, 0.0, 0.0};
    double dz[4];
    /* ℓ(0, 1) = log 2, ℓ(2, 0) = log(1 + e²), ℓ(800, 0) = 800 (no overflow), ℓ(−800, 0) = 0. */
    double want = (log(2.0) + log(1.0 + exp(2.0)) + 800.0 + 0.0) / 4.0;
    check_close("bce", loss_value(LS_LOSS_BCE, z, y, 4, 1, 4, dz), want, 1e-13);
    check_close("bce dz0", dz[0], (0.5 - 1.0) / 4, 1e-16);
    check_close("bce dz1", dz[1], 1.0 / (1.0 + exp(-2.0)) / 4, 1e-16);
    check_close("bce dz2", dz[2], 0.25, 1e-16);
    check_close("bce dz3", dz[3], 0.0, 1e-16);
}

static void test_cross_entropy_closed_form(void **state)
{
    (void)state;
    const double z[6] = {0, 0, 0, 1, 2, 3}, y[2] = {1, 2};
    double dz[6];
    /* log 3, and log(e + e² + e³) − 3. */
    double want = (log(3.0) + log(exp(1) + exp(2) + exp(3)) - 3.0) / 2;
    check_close("ce", loss_value(LS_LOSS_CROSS_ENTROPY, z, y, 2, 3, 2, dz), want, 1e-15);
    check_close("ce dz01", dz[1], (1.0 / 3 - 1) / 2, 1e-16);
    check_close("ce dz10", dz[3], exp(1) / (exp(1) + exp(2) + exp(3)) / 2, 1e-16);
    /* Far-apart logits: no overflow. */
    const double big[3] = {1000, 0, -1000}, lab[1] = {0};
    check_close("ce big", loss_value(LS_LOSS_CROSS_ENTROPY, big, lab, 1, 3, 1, NULL), 0.0,
                1e-15);
    const double bad[1] = {3};
    assert_true(isnan(loss_value(LS_LOSS_CROSS_ENTROPY, big, bad, 1, 3, 1, NULL)));
}

/* Rows summed in two pieces give the whole batch's mean (what the chunked model relies on). */
static void test_chunks_add_up(void **state)
{
    (void)state;
    double z[12], y[4], dz[12], dz2[12];
    for (int i = 0; i < 12; i++)
        z[i] = sin(1.7 * i);
    for (int i = 0; i < 4; i++)
        y[i] = i % 3;
    const enum ls_loss kinds[] = {LS_LOSS_MSE, LS_LOSS_CROSS_ENTROPY};
    for (int k = 0; k < 2; k++) {
        double whole = loss_value(kinds[k], z, y, 4, 3, 4, dz);
        double a = loss_value(kinds[k], z, y, 1, 3, 4, dz2);
        double b = loss_value(kinds[k], z + 3, y + 1, 3, 3, 4, dz2 + 3);
        check_close("chunked loss", a + b, whole, 1e-15);
        for (int i = 0; i < 12; i++)
            check_close("chunked dz", dz2[i], dz[i], 0.0);
    }
}

/* ---- the soft-set losses ------------------------------------------------------------------ */

/* The Heaviside at τ = 0.3 by hand: knots (0,0), (0.15,0.2), (0.3,0.5), (0.45,0.8), (1,1). */
static void test_heaviside_values(void **state)
{
    (void)state;
    double s;
    check_close("H(0)", softset_heaviside(0.0, 0.3, NULL), 0.0, 0);
    check_close("H(0.075)", softset_heaviside(0.075, 0.3, &s), 0.1, 1e-15);
    check_close("slope 1", s, 0.2 / 0.15, 1e-12);
    check_close("H(0.225)", softset_heaviside(0.225, 0.3, &s), 0.35, 1e-15);
    check_close("slope 2", s, 2.0, 1e-12);
    check_close("H(tau)", softset_heaviside(0.3, 0.3, NULL), 0.5, 1e-15);
    check_close("H(0.725)", softset_heaviside(0.725, 0.3, &s), 0.9, 1e-15);
    check_close("slope 4", s, 0.2 / 0.55, 1e-12);
    check_close("H(1)", softset_heaviside(1.0, 0.3, NULL), 1.0, 1e-15);
    /* Every τ: H(τ ∓ τ_m/2) = δ, 1 − δ. */
    for (int k = 1; k <= 9; k++) {
        double tau = k / 10.0, tm = fmin(tau, 1 - tau);
        check_close("H(knot-)", softset_heaviside(tau - tm / 2, tau, NULL), 0.2, 1e-14);
        check_close("H(knot+)", softset_heaviside(tau + tm / 2, tau, NULL), 0.8, 1e-14);
    }
}

/* The definition transcribed independently: H by interpolation between the five knots, counts,
 * F₁ with ε, the mean over τ. */
static double ref_interp(double p, double tau)
{
    double tm = fmin(tau, 1 - tau);
    const double x[5] = {0, tau - tm / 2, tau, tau + tm / 2, 1}, h[5] = {0, 0.2, 0.5, 0.8, 1};
    for (int k = 0; k < 4; k++)
        if (p <= x[k + 1])
            return h[k] + (h[k + 1] - h[k]) * (p - x[k]) / (x[k + 1] - x[k]);
    return 1.0;
}

static double ref_softset(const double *z, const double *y, size_t n, int f1)
{
    double sum = 0, e = 1e-7;
    for (int k = 1; k <= 9; k++) {
        double tp = 0, fn = 0, fp = 0, tn = 0;
        for (size_t i = 0; i < n; i++) {
            double H = ref_interp(1 / (1 + exp(-z[i])), k / 10.0);
            tp += y[i] * H;
            fn += y[i] * (1 - H);
            fp += (1 - y[i]) * H;
            tn += (1 - y[i]) * (1 - H);
        }
        double P = tp / (tp + fp + e), R = tp / (tp + fn + e);
        sum += f1 ? 2 * P * R / (P + R + e) : (tp + tn) / (tp + tn + fp + fn);
    }
    return 1 - sum / 9;
}

static void test_softset_counts(void **state)
{
    (void)state;
    const double p[6] = {0.05, 0.3, 0.5, 0.77, 0.92, 0.999}, y[6] = {1, 0, 1, 1, 0, 1};
    for (int k = 1; k <= 9; k++) {
        double c[4];
        softset_counts(p, y, 6, k / 10.0, c);
        check_close("TP + FN = #positives", c[0] + c[1], 4.0, 1e-14);
        check_close("FP + TN = #negatives", c[2] + c[3], 2.0, 1e-14);
    }
    /* Hard probabilities give hard counts. */
    const double ph[4] = {0, 1, 1, 0}, yh[4] = {1, 1, 0, 0};
    double c[4];
    softset_counts(ph, yh, 4, 0.4, c);
    check_close("TP", c[0], 1, 0);
    check_close("FN", c[1], 1, 0);
    check_close("FP", c[2], 1, 0);
    check_close("TN", c[3], 1, 0);
}

static void test_softset_values(void **state)
{
    (void)state;
    double z[7], y[7] = {1, 0, 0, 1, 1, 0, 0};
    for (int i = 0; i < 7; i++)
        z[i] = 2.5 * sin(0.9 * i + 0.3);
    check_close("soft_f1", loss_value(LS_LOSS_SOFT_F1, z, y, 7, 1, 7, NULL),
                ref_softset(z, y, 7, 1), 1e-14);
    check_close("soft_accuracy", loss_value(LS_LOSS_SOFT_ACCURACY, z, y, 7, 1, 7, NULL),
                ref_softset(z, y, 7, 0), 1e-14);
    /* Perfect, confident predictions: soft F₁ = 2P²/(2P + ε) with P = 1/(1 + ε); accuracy 1. */
    const double zp[2] = {60, -60}, yp[2] = {1, 0};
    double P = 1 / (1 + 1e-7);
    check_close("perfect f1", loss_value(LS_LOSS_SOFT_F1, zp, yp, 2, 1, 2, NULL),
                1 - 2 * P * P / (2 * P + 1e-7), 1e-15);
    check_close("perfect acc", loss_value(LS_LOSS_SOFT_ACCURACY, zp, yp, 2, 1, 2, NULL), 0, 1e-15);
    /* Not decomposable: a part of a batch is refused. */
    assert_true(isnan(loss_value(LS_LOSS_SOFT_F1, z, y, 3, 1, 7, NULL)));
    assert_false(loss_decomposable(LS_LOSS_SOFT_ACCURACY));
    assert_true(loss_decomposable(LS_LOSS_BCE));
}

/* Distance of p = σ(z) from the nearest kink of any H_τ: central differences are only
 * meaningful where no kink lies within the step. */
static double kink_distance(double z)
{
    double p = 1 / (1 + exp(-z)), best = INFINITY;
    for (int k = 1; k <= 9; k++) {
        double tau = k / 10.0, tm = fmin(tau, 1 - tau);
        const double x[3] = {tau - tm / 2, tau, tau + tm / 2};
        for (int j = 0; j < 3; j++)
            best = fmin(best, fabs(p - x[j]));
    }
    return best;
}

/* Central differences of every loss with respect to each output. The step h = 1e-5 gives a
 * truncation error ~h²·ℓ‴ ≈ 1e-10 and a rounding error ~1e-16/h ≈ 1e-11 on values of order 1;
 * 1e-8 absolute is a margin of 100. The soft-set losses are piecewise smooth: the outputs are
 * placed at least 1e-3 (in p) from every kink, far more than the step moves p (h/4). */
static void test_output_gradients_fd(void **state)
{
    (void)state;
    const enum ls_loss kinds[] = {LS_LOSS_MSE, LS_LOSS_BCE, LS_LOSS_CROSS_ENTROPY, LS_LOSS_SOFT_F1,
                                  LS_LOSS_SOFT_ACCURACY};
    const size_t Cs[] = {1, 1, 4, 1, 1};
    const double h = 1e-5;
    for (int k = 0; k < 5; k++) {
        size_t n = 9, C = Cs[k];
        double z[36], y[9], dz[36];
        for (size_t i = 0; i < n * C; i++) {
            z[i] = 2.0 * sin(1.3 * (double)i + 0.4);
            while (C == 1 && kink_distance(z[i]) < 1e-3)
                z[i] += 0.01;
        }
        for (size_t i = 0; i < n; i++)
            y[i] = kinds[k] == LS_LOSS_CROSS_ENTROPY ? (double)(i % C) : (double)(i % 3 == 0);
        loss_value(kinds[k], z, y, n, C, n, dz);
        for (size_t i = 0; i < n * C; i++) {
            double zi = z[i];
            z[i] = zi + h;
            double lp = loss_value(kinds[k], z, y, n, C, n, NULL);
            z[i] = zi - h;
            double lm = loss_value(kinds[k], z, y, n, C, n, NULL);
            z[i] = zi;
            check_close("dL/dz vs central difference", dz[i], (lp - lm) / (2 * h), 1e-8);
        }
    }
}

static void test_task_fit(void **state)
{
    (void)state;
    char msg[256];
    enum ls_loss l;
    assert_int_equal(loss_find("soft_f1", &l), LS_OK);
    assert_int_equal(l, LS_LOSS_SOFT_F1);
    assert_int_equal(loss_find("hinge", &l), LS_ENOTFOUND);
    assert_int_equal(loss_check_task(LS_LOSS_MSE, LS_TASK_CLASSES, msg, sizeof msg), LS_OK);
    assert_int_equal(loss_check_task(LS_LOSS_BCE, LS_TASK_BINARY, msg, sizeof msg), LS_OK);
    assert_int_equal(loss_check_task(LS_LOSS_BCE, LS_TASK_REGRESSION, msg, sizeof msg), LS_EJOB);
    assert_non_null(strstr(msg, "binary"));
    assert_int_equal(loss_check_task(LS_LOSS_CROSS_ENTROPY, LS_TASK_BINARY, msg, sizeof msg),
                     LS_EJOB);
    assert_int_equal(loss_check_task(LS_LOSS_SOFT_F1, LS_TASK_CLASSES, msg, sizeof msg), LS_EJOB);
}

static void test_hard_counts(void **state)
{
    (void)state;
    /* Logit rule: positive iff z >= 0. Labels 1 1 0 0 1; predictions + − + − +. */
    const double z[5] = {0.0, -0.1, 3.0, -2.0, 1e-9}, y[5] = {1, 1, 0, 0, 1};
    double c[4];
    loss_confusion(LS_LOSS_BCE, z, y, 5, c);
    check_close("TP", c[0], 2, 0);
    check_close("FN", c[1], 1, 0);
    check_close("FP", c[2], 1, 0);
    check_close("TN", c[3], 1, 0);
    assert_int_equal(loss_correct(LS_LOSS_BCE, LS_TASK_BINARY, z, y, 5, 1), 3);
    /* Under mse the output is compared with 0.5. */
    const double zm[3] = {0.49, 0.5, 0.9}, ym[3] = {0, 1, 0};
    assert_int_equal(loss_correct(LS_LOSS_MSE, LS_TASK_BINARY, zm, ym, 3, 1), 2);
    /* Classes by argmax, the first maximum on ties. */
    const double zc[6] = {1, 3, 2, 5, 5, 0}, yc[2] = {1, 1};
    assert_int_equal(loss_correct(LS_LOSS_CROSS_ENTROPY, LS_TASK_CLASSES, zc, yc, 2, 3), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mse_closed_form),
        cmocka_unit_test(test_bce_closed_form),
        cmocka_unit_test(test_cross_entropy_closed_form),
        cmocka_unit_test(test_chunks_add_up),
        cmocka_unit_test(test_heaviside_values),
        cmocka_unit_test(test_softset_counts),
        cmocka_unit_test(test_softset_values),
        cmocka_unit_test(test_output_gradients_fd),
        cmocka_unit_test(test_task_fit),
        cmocka_unit_test(test_hard_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
