/* theory_spline.h — the function-space limit of wide shallow ReLU networks on 1-D regression
 * (Jin & Montúfar): the curvature weight ζ of a first-layer initialization, and the reference
 * interpolant g = argmin ∫_S g″(x)²/ζ(x) dx subject to g(xⱼ) = yⱼ, S = [min xⱼ, max xⱼ].
 *
 * Two layers:
 *  - ζ(x) = ∫ |w|³ p(w, −wx) dw for a first layer whose weight w and bias b are independent and
 *    symmetric (uniform, Gaussian, or a coordinate of a scaled random unit vector, which is what
 *    an orthogonal n × 1 layer draws): closed forms where they exist, Gauss–Legendre quadrature
 *    otherwise and for checking them;
 *  - one interpolation problem: g″/ζ is piecewise linear between the sorted data points and 0 at
 *    both ends (the Euler–Lagrange equation (g″/ζ)″ = 0 with the natural boundary condition), its
 *    knot values solve a symmetric positive definite tridiagonal system whose entries are
 *    ζ-weighted integrals of hat functions; with constant ζ this is the textbook natural cubic
 *    spline, evaluated in closed form. Beyond the data g continues affinely (g″ = 0).
 * Pure numerics: knows nothing of models, job files, MPI or HDF5. */
#ifndef LAZYSWEEP_THEORY_SPLINE_H
#define LAZYSWEEP_THEORY_SPLINE_H

#include <stddef.h>

/* Distributions of one first-layer parameter, all symmetric about 0. */
enum spline_dist {
    SPLINE_UNIFORM,  /* U(−√3·s, √3·s) */
    SPLINE_GAUSSIAN, /* N(0, s²) */
    SPLINE_SPHERE /* s·√n·u₁, u uniform on the unit sphere of ℝⁿ (n >= 3): one entry of an
                     orthogonal n × 1 layer; tends to N(0, s²) as n grows (weights only) */
};

/* The first layer's (w, b), independent. */
struct spline_init {
    enum spline_dist w, b;
    double sw, sb; /* standard deviations, > 0 */
    size_t n;      /* SPHERE: the dimension n (the layer's width) */
};

/* ζ(x): the closed form for uniform × uniform and Gaussian × Gaussian, else spline_zeta_quad. */
double spline_zeta(const struct spline_init *p, double x);
/* ζ(x) by composite Gauss–Legendre quadrature over w (relative accuracy ~1e-13), any pair. */
double spline_zeta_quad(const struct spline_init *p, double x);
/* Is ζ constant on [lo, hi]? (uniform × uniform on |x| <= a_b/a_w: a_w³/(8a_b) there.) */
int spline_zeta_flat(const struct spline_init *p, double lo, double hi);

/* One solved interpolation problem. */
struct spline_ref {
    size_t m;      /* data points, >= 2, sorted by x, distinct */
    double *x, *y; /* [m] */
    double *k;     /* [m] knot values of g″/ζ (k[0] = k[m−1] = 0) */
    double *A, *B, *C; /* [m−1] ∫φ₀²ζ, ∫φ₀φ₁ζ, ∫φ₁²ζ over each gap (φ the two hats) */
    int full;          /* the full-line problem (spline_solve_full): k holds K⁻¹y */
    int flat;          /* ζ constant on the span: closed-form natural cubic spline */
    double zeta0;      /* that constant (flat only) */
    double quad_error; /* largest relative change of A, B, C from 32 to 64 panels per gap */
    struct spline_init init;
};

/* Solve for the data (x, y) [m] (any order, x distinct). LS_EINVAL for m < 2, repeated or
 * non-finite x, or ζ <= 0 somewhere on the span; LS_ENOMEM. */
int spline_solve(const struct spline_init *p, const double *x, const double *y, size_t m,
                 struct spline_ref **out);
void spline_free(struct spline_ref **r);

/* The full-line problem, the exact infinite-width limit with the affine part penalized:
 * argmin ∫_ℝ g″²/ζ + 4β²/E[w²] + 4α²/E[b²] subject to g(xⱼ) = yⱼ, where α + βx is the average
 * of g's two asymptotes (g = ½∫g″(t)|x − t|dt + α + βx). It is the minimum-norm interpolant of
 * the kernel K(x, x′) = E[relu(wx + b)·relu(wx′ + b)], which is how it is solved (K by
 * quadrature, then a Cholesky solve); m >= 1. docs/spline.md derives it. */
int spline_solve_full(const struct spline_init *p, const double *x, const double *y, size_t m,
                      struct spline_ref **out);
/* That kernel, by Gauss–Legendre quadrature over w of closed-form bias integrals. */
double spline_kernel(const struct spline_init *p, double x, double y);

/* g at the points xs [n] (any order) into g [n]. */
void spline_eval(const struct spline_ref *r, const double *xs, size_t n, double *g);

/* The minimized energy: ∫_S g″²/ζ = Σ over gaps of kᵀ[[A, B], [B, C]]k, or yᵀK⁻¹y (full). */
double spline_energy(const struct spline_ref *r);

#endif
