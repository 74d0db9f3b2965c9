/* theory.c — the scalar potentials of depth-D diagonal networks (Woodworth et al. 2020): q, h_D,
 * h_D⁻¹, q_D, its conjugate, Q_α^D and the mirror map. The problem-level solvers are in
 * theory_solve.c (ℓ2, Q_α) and theory_lp.c (ℓ1).
 *
 * Everything here is written to keep full double precision over the whole real line:
 *  - near 0 the textbook forms cancel (2 − √(4+z²), (1−s)^−p − (1+s)^−p, (1−s)^(1−p) + … − 2),
 *    so each has an algebraically equal form without the cancellation;
 *  - near s = ±1, s itself carries too few digits, so h_D⁻¹ solves for t = 1 − |s| directly and
 *    q_D works from t. */
#include "lazysweep/theory.h"

#include <float.h>
#include <math.h>

/* The exponent p = D/(D−2) > 1 of h_D, D > 2. */
static double h_power(int D)
{
    return (double)D / (double)(D - 2);
}

/* h_D for |s| < 1/2 as 2·(1−s²)^(−p/2)·sinh(p·atanh s): with A = −p·log(1−s), B = −p·log(1+s),
 * e^A − e^B = 2e^((A+B)/2)·sinh((A−B)/2), which is accurate to a few ulps even for tiny s. */
static double h_small(double p, double s)
{
    return 2.0 * pow((1.0 - s) * (1.0 + s), -0.5 * p) * sinh(p * atanh(s));
}

/* h_D at |s| = 1 − t from t ∈ (0, 1/2]: t^−p >= 2^p dominates (2−t)^−p <= (2/3)^p, so the
 * difference does not cancel, and t keeps the digits that 1 − t would lose. */
static double h_of_t(double p, double t)
{
    return pow(t, -p) - pow(2.0 - t, -p);
}

/* h_D′ at |s| = 1 − t (even in s): a sum of positive terms. */
static double dh_of_t(double p, double t)
{
    return p * (pow(t, -p - 1.0) + pow(2.0 - t, -p - 1.0));
}

double theory_h(int D, double s)
{
    double p = h_power(D), a = fabs(s);
    if (a < 0.5)
        return h_small(p, s);
    if (a >= 1.0)
        return a == 1.0 ? copysign(INFINITY, s) : NAN;
    return copysign(h_of_t(p, 1.0 - a), s);
}

double theory_dh(int D, double s)
{
    double a = fabs(s);
    if (a >= 1.0)
        return a == 1.0 ? INFINITY : NAN;
    return dh_of_t(h_power(D), 1.0 - a);
}

/* f(x) = h(x) − z over s ∈ [0, 1/2], increasing. */
static double resid_s(double x, double p, double z, double *df)
{
    *df = p * (pow(1.0 - x, -p - 1.0) + pow(1.0 + x, -p - 1.0));
    return h_small(p, x) - z;
}

/* f(x) = 1 − h(1 − x)/z over t = x ∈ (0, 1/2], increasing in t. Relative to z because the
 * absolute derivative p·t^(−p−1) overflows long before h itself does (z = 1e300, p = 3). */
static double resid_t(double x, double p, double z, double *df)
{
    double a = pow(x, -p) / z, b = pow(2.0 - x, -p) / z;
    *df = p * (a / x + b / (2.0 - x));
    return 1.0 - (a - b);
}

/* Root of an increasing f in [lo, hi] from x: Newton steps, replaced by bisection whenever one
 * would leave the shrinking bracket. Stops when the step is below two ulps of x, which is full
 * precision since f is evaluated to a few ulps. */
static double solve_increasing(double (*f)(double, double, double, double *), double p, double z,
                               double lo, double hi, double x)
{
    for (int it = 0; it < 200; it++) {
        double df, fx = f(x, p, z, &df);
        if (fx == 0.0)
            return x;
        if (fx < 0.0)
            lo = x;
        else
            hi = x;
        double next = x - fx / df;
        if (!(next > lo && next < hi))
            next = 0.5 * (lo + hi);
        if (fabs(next - x) <= 2.0 * DBL_EPSILON * fabs(next))
            return next;
        x = next;
    }
    return x;
}

/* Brackets from the shape of h on [0, 1): convexity gives 2p·s <= h(s) <= 2·h(1/2)·s on
 * [0, 1/2], and t^−p − 1 <= h(1 − t) <= t^−p gives (1+z)^(−1/p) <= t <= z^(−1/p). */
double theory_h_inv(int D, double z, double *one_minus)
{
    double p = h_power(D), a = fabs(z), s, t;
    double z_half = h_of_t(p, 0.5);
    if (isnan(z)) {
        s = t = NAN;
    } else if (a == 0.0) {
        s = 0.0, t = 1.0;
    } else if (isinf(a)) {
        s = 1.0, t = 0.0;
    } else if (a <= z_half) {
        double hi = fmin(0.5, a / (2.0 * p));
        s = solve_increasing(resid_s, p, a, 0.5 * a / z_half, hi, hi);
        t = 1.0 - s;
    } else {
        /* pow with the rounded exponent −1/p errs by up to |ln z|·ε relative: widen by 1e-12. */
        double hi = fmin(0.5, pow(a, -1.0 / p) * (1.0 + 1e-12));
        t = solve_increasing(resid_t, p, a, pow(1.0 + a, -1.0 / p) * (1.0 - 1e-12), hi, hi);
        s = 1.0 - t;
    }
    if (one_minus)
        *one_minus = t;
    return copysign(s, z);
}

/* ∫₀^s h_D for s >= 0 given t = 1 − s. The closed form ((1−s)^(1−p) + (1+s)^(1−p) − 2)/(p−1)
 * cancels like s² near 0, so below 1/4 use its even series (2/(p−1))·Σ_{k>=1} C(1−p, 2k)·s^(2k),
 * whose terms are all positive (1 − p < 0) and shrink at least like s². */
static double h_integral(double p, double s, double t)
{
    if (s >= 0.25)
        return (pow(t, 1.0 - p) + pow(1.0 + s, 1.0 - p) - 2.0) / (p - 1.0);
    double a = 1.0 - p, c = 1.0, s2 = s * s, pw = 1.0, sum = 0.0;
    for (int m = 0; m < 400; m += 2) {
        c *= (a - m) / (m + 1) * (a - m - 1) / (m + 2);
        pw *= s2;
        double term = c * pw;
        sum += term;
        if (term <= DBL_EPSILON * 0.25 * sum)
            break;
    }
    return 2.0 * sum / (p - 1.0);
}

/* 2 − √(4+z²) = −z²/(2 + √(4+z²)), written as z·(z/(…)) so that huge z do not overflow. */
double theory_q(double z)
{
    double a = fabs(z);
    if (isinf(a))
        return INFINITY;
    return a * asinh(0.5 * a) - a * (a / (2.0 + hypot(2.0, a)));
}

/* q_D(z) = z·s − ∫₀^s h_D with s = h_D⁻¹(z) (substituting t = h_D(s) in ∫₀^z h_D⁻¹). This is the
 * Legendre identity q_D(z) = max_s (zs − q_D*(s)), so an error δ in s moves q_D only by O(δ²). */
double theory_qD(int D, double z)
{
    if (D == 2)
        return theory_q(z);
    double a = fabs(z), t;
    if (isinf(a))
        return INFINITY;
    if (a == 0.0)
        return 0.0;
    double s = theory_h_inv(D, a, &t);
    return a * s - h_integral(h_power(D), s, t);
}

double theory_qD_conj(int D, double theta)
{
    double a = fabs(theta);
    if (D == 2) {
        double sh = sinh(0.5 * a); /* 2(cosh θ − 1) = 4 sinh²(θ/2), without cancellation */
        return 4.0 * sh * sh;
    }
    if (a >= 1.0)
        return a == 1.0 ? INFINITY : NAN;
    return h_integral(h_power(D), a, 1.0 - a);
}

/* α^D, the scale of β in the potential (α² for D = 2). */
static double alpha_scale(int D, double alpha)
{
    return D == 2 ? alpha * alpha : pow(alpha, D);
}

double theory_Q(int D, double alpha, const double *beta, size_t d)
{
    double c = alpha_scale(D, alpha), sum = 0.0;
    for (size_t i = 0; i < d; i++)
        sum += theory_qD(D, beta[i] / c);
    return c * sum;
}

void theory_mirror(int D, double alpha, const double *beta, double *theta, size_t d)
{
    double c = alpha_scale(D, alpha);
    for (size_t i = 0; i < d; i++)
        theta[i] = D == 2 ? asinh(beta[i] / (2.0 * c)) : theory_h_inv(D, beta[i] / c, NULL);
}

void theory_mirror_inv(int D, double alpha, const double *theta, double *beta, size_t d)
{
    double c = alpha_scale(D, alpha);
    for (size_t i = 0; i < d; i++)
        beta[i] = c * (D == 2 ? 2.0 * sinh(theta[i]) : theory_h(D, theta[i]));
}
