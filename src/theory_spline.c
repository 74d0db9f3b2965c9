/* theory_spline.c — ζ of a first-layer initialization and the ζ-weighted interpolating spline
 * (theory_spline.h; Jin & Montúfar's limit of wide shallow ReLU networks).
 *
 * ζ(x) = ∫ |w|³ p_w(w) p_b(−wx) dw. Closed forms (both derived for this module):
 *  - w ~ U(−a_w, a_w), b ~ U(−a_b, a_b): the integrand is |w|³/(4a_w·a_b) on |w| <= c,
 *    c = min(a_w, a_b/|x|), so ζ = c⁴/(8a_w·a_b): a_w³/(8a_b) for |x| <= a_b/a_w and
 *    a_b³/(8a_w·x⁴) beyond (continuous at the corner);
 *  - w ~ N(0, σ_w²), b ~ N(0, σ_b²): ∫|w|³e^(−λw²/2)dw = 4/λ², λ = 1/σ_w² + x²/σ_b², so
 *    ζ = (2/π)σ_w³σ_b³/(σ_b² + σ_w²x²)².
 *
 * The solve: on a gap [xⱼ, xⱼ₊₁] of length h write g = Lⱼ + u, Lⱼ the chord, u(xⱼ) = u(xⱼ₊₁) = 0
 * and u″ = ζ·(kⱼφ₀ + kⱼ₊₁φ₁) (φ₀ = 1 − τ/h, φ₁ = τ/h). The Green's function of u″ on the gap
 * gives u′(xⱼ⁺) = −(kⱼA + kⱼ₊₁B) and u′(xⱼ₊₁⁻) = kⱼB + kⱼ₊₁C with A, B, C the ζ-weighted products
 * of the hats, and continuity of g′ at each interior point is one row of a tridiagonal system
 * (ζ ≡ 1: the textbook (h/6, (h+h′)/3, h′/6) natural-spline rows). */
#include "lazysweep/theory_spline.h"

#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lazysweep/error.h"

#define GL_N 16        /* Gauss–Legendre nodes per panel */
#define ZETA_PANELS 48 /* panels of the ζ quadrature over w */
#define GAP_PANELS 32  /* panels per gap for A, B, C (and twice as many for the error check) */
#define EVAL_PANELS 8  /* panels per side of x when evaluating g inside a gap */
#define TAIL 12.0      /* Gaussian tails are cut at 12 standard deviations (e^−72) */

/* ---- Gauss–Legendre nodes on [−1, 1], computed once by Newton's method ---- */

static double gl_x[GL_N], gl_w[GL_N];
static int gl_ready;

static void gl_init(void)
{
    if (gl_ready)
        return;
    const double pi = acos(-1.0);
    for (int i = 0; i < GL_N; i++) {
        double z = cos(pi * (i + 0.75) / (GL_N + 0.5)), dp = 1.0;
        for (int it = 0; it < 100; it++) {
            double p0 = 1.0, p1 = z;
            for (int k = 2; k <= GL_N; k++) {
                double p2 = ((2.0 * k - 1.0) * z * p1 - (k - 1.0) * p0) / k;
                p0 = p1;
                p1 = p2;
            }
            dp = GL_N * (z * p1 - p0) / (z * z - 1.0);
            double dz = p1 / dp;
            z -= dz;
            if (fabs(dz) < 1e-16)
                break;
        }
        gl_x[i] = z;
        gl_w[i] = 2.0 / ((1.0 - z * z) * dp * dp);
    }
    gl_ready = 1;
}

/* ∫_lo^hi f by `panels` equal Gauss–Legendre panels. */
typedef double (*integrand)(double t, const void *arg);

static double gl_integrate(integrand f, const void *arg, double lo, double hi, int panels)
{
    gl_init();
    double sum = 0.0, len = (hi - lo) / panels;
    for (int k = 0; k < panels; k++) {
        double mid = lo + (k + 0.5) * len, half = 0.5 * len, part = 0.0;
        for (int i = 0; i < GL_N; i++)
            part += gl_w[i] * f(mid + half * gl_x[i], arg);
        sum += part * half;
    }
    return sum;
}

/* ---- ζ ---- */

/* Density of one symmetric parameter at t >= 0. */
static double density(enum spline_dist d, double s, size_t n, double t)
{
    const double pi = acos(-1.0);
    if (d == SPLINE_UNIFORM)
        return t <= sqrt(3.0) * s ? 1.0 / (2.0 * sqrt(3.0) * s) : 0.0;
    if (d == SPLINE_GAUSSIAN)
        return exp(-0.5 * (t / s) * (t / s)) / (s * sqrt(2.0 * pi));
    /* s√n·u₁: u₁ has density Γ(n/2)/(√π·Γ((n−1)/2))·(1 − u²)^((n−3)/2) on (−1, 1) */
    double r = s * sqrt((double)n), u = t / r;
    if (u >= 1.0)
        return 0.0;
    double c = lgamma(0.5 * (double)n) - lgamma(0.5 * ((double)n - 1.0)) - 0.5 * log(pi);
    return exp(c + 0.5 * ((double)n - 3.0) * log1p(-u * u)) / r;
}

/* Where a parameter's density ends (or is negligible). */
static double support(enum spline_dist d, double s, size_t n)
{
    if (d == SPLINE_UNIFORM)
        return sqrt(3.0) * s;
    if (d == SPLINE_SPHERE) /* compact, with tails lighter than the Gaussian it tends to */
        return fmin(s * sqrt((double)n), TAIL * s);
    return TAIL * s;
}

struct zeta_arg {
    const struct spline_init *p;
    double ax; /* |x| */
};

static double zeta_integrand(double w, const void *arg)
{
    const struct zeta_arg *a = arg;
    const struct spline_init *p = a->p;
    return w * w * w * density(p->w, p->sw, p->n, w) * density(p->b, p->sb, 0, w * a->ax);
}

/* ζ = 2∫_0^W w³p_w(w)p_b(w|x|)dw, W where either density ends; a uniform bias ends at a_b/|x| and
 * a Gaussian one is negligible past TAIL·σ_b/|x|, which also keeps the panels on the mass. */
double spline_zeta_quad(const struct spline_init *p, double x)
{
    struct zeta_arg a = {p, fabs(x)};
    double W = support(p->w, p->sw, p->n);
    if (a.ax > 0)
        W = fmin(W, support(p->b, p->sb, 0) / a.ax);
    return 2.0 * gl_integrate(zeta_integrand, &a, 0.0, W, ZETA_PANELS);
}

double spline_zeta(const struct spline_init *p, double x)
{
    const double pi = acos(-1.0);
    if (p->w == SPLINE_UNIFORM && p->b == SPLINE_UNIFORM) {
        double aw = sqrt(3.0) * p->sw, ab = sqrt(3.0) * p->sb;
        double c = fabs(x) * aw <= ab ? aw : ab / fabs(x);
        return c * c * c * c / (8.0 * aw * ab);
    }
    if (p->w == SPLINE_GAUSSIAN && p->b == SPLINE_GAUSSIAN) {
        double sw = p->sw, sb = p->sb, den = sb * sb + sw * sw * x * x;
        return 2.0 / pi * pow(sw * sb, 3) / (den * den);
    }
    return spline_zeta_quad(p, x);
}

int spline_zeta_flat(const struct spline_init *p, double lo, double hi)
{
    if (p->w != SPLINE_UNIFORM || p->b != SPLINE_UNIFORM)
        return 0;
    /* a_b/a_w, widened by a few ulps: sb/sw of 2/√3 and 1/√3 written as decimals is 2 ± ε */
    double corner = p->sb / p->sw * (1.0 + 1e-12);
    return fabs(lo) <= corner && fabs(hi) <= corner;
}

/* The points where ζ is not smooth (uniform × uniform: ±a_b/a_w), for panel breaks. */
static size_t zeta_kinks(const struct spline_init *p, double *out /* [2] */)
{
    if (p->w != SPLINE_UNIFORM || p->b != SPLINE_UNIFORM)
        return 0;
    out[0] = -p->sb / p->sw;
    out[1] = p->sb / p->sw;
    return 2;
}

/* ---- the ζ-weighted hat integrals of one gap ---- */

struct gap_arg {
    const struct spline_init *p;
    double x0, h;
    int which; /* 0: φ₀², 1: φ₀φ₁, 2: φ₁² */
};

static double gap_integrand(double t, const void *arg)
{
    const struct gap_arg *a = arg;
    double s = (t - a->x0) / a->h, f0 = 1.0 - s, f1 = s;
    double hat = a->which == 0 ? f0 * f0 : a->which == 1 ? f0 * f1 : f1 * f1;
    return hat * spline_zeta(a->p, t);
}

/* ∫ over [lo, hi] split at ζ's kinks, `panels` panels in all (at least one per piece). */
static double split_integrate(integrand f, const void *arg, const struct spline_init *p, double lo,
                              double hi, int panels)
{
    double kink[2], cut[4] = {lo};
    size_t nk = zeta_kinks(p, kink), nc = 1;
    for (size_t i = 0; i < nk; i++)
        if (kink[i] > lo && kink[i] < hi)
            cut[nc++] = kink[i];
    cut[nc] = hi;
    double sum = 0.0;
    for (size_t i = 0; i < nc; i++) {
        int np = (int)ceil(panels * (cut[i + 1] - cut[i]) / (hi - lo));
        sum += gl_integrate(f, arg, cut[i], cut[i + 1], np < 1 ? 1 : np);
    }
    return sum;
}

static void gap_moments(const struct spline_init *p, double x0, double h, int panels, double out[3])
{
    for (int w = 0; w < 3; w++) {
        struct gap_arg a = {p, x0, h, w};
        out[w] = split_integrate(gap_integrand, &a, p, x0, x0 + h, panels);
    }
}

/* ---- the solve ---- */

static int cmp_pair(const void *a, const void *b)
{
    double u = ((const double *)a)[0], v = ((const double *)b)[0];
    return (u > v) - (u < v);
}

void spline_free(struct spline_ref **r)
{
    if (!r || !*r)
        return;
    free((*r)->x);
    free(*r);
    *r = NULL;
}

/* One allocation holds x, y, k, A, B, C. */
static int ref_alloc(size_t m, struct spline_ref **out)
{
    struct spline_ref *r = calloc(1, sizeof *r);
    double *buf = calloc(6 * m, sizeof *buf);
    if (!r || !buf) {
        free(r);
        free(buf);
        return LS_ENOMEM;
    }
    r->m = m;
    r->x = buf;
    r->y = buf + m;
    r->k = buf + 2 * m;
    r->A = buf + 3 * m;
    r->B = buf + 4 * m;
    r->C = buf + 5 * m;
    *out = r;
    return LS_OK;
}

/* Sort (x, y) into r; LS_EINVAL for repeated or non-finite values. */
static int load_points(struct spline_ref *r, const double *x, const double *y)
{
    size_t m = r->m;
    double *pair = malloc(2 * m * sizeof *pair);
    if (!pair)
        return LS_ENOMEM;
    for (size_t i = 0; i < m; i++) {
        pair[2 * i] = x[i];
        pair[2 * i + 1] = y[i];
    }
    qsort(pair, m, 2 * sizeof *pair, cmp_pair);
    int rc = LS_OK;
    for (size_t i = 0; i < m; i++) {
        r->x[i] = pair[2 * i];
        r->y[i] = pair[2 * i + 1];
        if (!isfinite(r->x[i]) || !isfinite(r->y[i]) || (i > 0 && r->x[i] <= r->x[i - 1]))
            rc = LS_EINVAL;
    }
    free(pair);
    return rc;
}

/* A, B, C of every gap: closed form when ζ is flat on the span, else quadrature with an error
 * estimate from doubling the panels. LS_EINVAL if ζ is not positive on the span. */
static int fill_moments(struct spline_ref *r)
{
    const struct spline_init *p = &r->init;
    r->flat = spline_zeta_flat(p, r->x[0], r->x[r->m - 1]);
    r->zeta0 = r->flat ? spline_zeta(p, 0.0) : NAN;
    for (size_t j = 0; j + 1 < r->m; j++) {
        double h = r->x[j + 1] - r->x[j], mo[3], fine[3];
        if (!(spline_zeta(p, r->x[j]) > 0) || !(spline_zeta(p, r->x[j + 1]) > 0))
            return LS_EINVAL;
        if (r->flat) {
            mo[0] = mo[2] = r->zeta0 * h / 3.0;
            mo[1] = r->zeta0 * h / 6.0;
        } else {
            gap_moments(p, r->x[j], h, GAP_PANELS, mo);
            gap_moments(p, r->x[j], h, 2 * GAP_PANELS, fine);
            for (int w = 0; w < 3; w++)
                r->quad_error = fmax(r->quad_error, fabs(fine[w] - mo[w]) / fabs(fine[w]));
            memcpy(mo, fine, sizeof mo);
        }
        r->A[j] = mo[0];
        r->B[j] = mo[1];
        r->C[j] = mo[2];
    }
    return LS_OK;
}

/* The interior knot values: row i (point i, 1 <= i <= m−2) reads
 * B[i−1]k[i−1] + (C[i−1] + A[i])k[i] + B[i]k[i+1] = d[i] − d[i−1], d the chord slopes. */
static int solve_knots(struct spline_ref *r)
{
    size_t m = r->m, n = m - 2;
    r->k[0] = r->k[m - 1] = 0.0;
    if (n == 0)
        return LS_OK;
    double *diag = malloc(3 * n * sizeof *diag), *off = diag + n, *rhs = diag + 2 * n;
    if (!diag)
        return LS_ENOMEM;
    for (size_t i = 1; i <= n; i++) {
        double dl = (r->y[i] - r->y[i - 1]) / (r->x[i] - r->x[i - 1]);
        double dr = (r->y[i + 1] - r->y[i]) / (r->x[i + 1] - r->x[i]);
        diag[i - 1] = r->C[i - 1] + r->A[i];
        off[i - 1] = r->B[i];
        rhs[i - 1] = dr - dl;
    }
    int info = LAPACKE_dptsv(LAPACK_COL_MAJOR, (int)n, 1, diag, off, rhs, (int)n);
    for (size_t i = 1; info == 0 && i <= n; i++)
        r->k[i] = rhs[i - 1];
    free(diag);
    return info == 0 ? LS_OK : LS_EINVAL;
}

int spline_solve(const struct spline_init *p, const double *x, const double *y, size_t m,
                 struct spline_ref **out)
{
    int rc = LS_OK;
    struct spline_ref *r = NULL;
    *out = NULL;
    if (m < 2 || !(p->sw > 0) || !(p->sb > 0) || (p->w == SPLINE_SPHERE && p->n < 3) ||
        p->b == SPLINE_SPHERE)
        return LS_EINVAL;
    LS_CALL(ref_alloc(m, &r));
    r->init = *p;
    LS_CALL(load_points(r, x, y));
    LS_CALL(fill_moments(r));
    LS_CALL(solve_knots(r));
    *out = r;
    r = NULL;
cleanup:
    spline_free(&r);
    return rc;
}

double spline_kernel(const struct spline_init *p, double x, double y);

/* ---- evaluation ---- */

/* u″ on gap j at t: ζ(t)·(k_j φ₀ + k_j₊₁ φ₁), times a Green's-function factor. */
struct eval_arg {
    const struct spline_ref *r;
    size_t j;
    int right; /* 0: τ·r(τ) (left of x), 1: (h − τ)·r(τ) (right of x) */
};

static double eval_integrand(double t, const void *arg)
{
    const struct eval_arg *a = arg;
    const struct spline_ref *r = a->r;
    double x0 = r->x[a->j], h = r->x[a->j + 1] - x0, s = (t - x0) / h;
    double curv = spline_zeta(&r->init, t) * (r->k[a->j] * (1.0 - s) + r->k[a->j + 1] * s);
    return (a->right ? h - (t - x0) : t - x0) * curv;
}

/* g at x inside gap j: chord minus ∫G(x, τ)u″(τ)dτ (G the gap's Dirichlet Green's function). */
static double eval_in_gap(const struct spline_ref *r, size_t j, double x)
{
    double x0 = r->x[j], x1 = r->x[j + 1], h = x1 - x0, t = x - x0;
    double chord = r->y[j] + (r->y[j + 1] - r->y[j]) * t / h;
    if (r->flat) { /* the cubic in closed form, with M = ζ₀k the second derivatives */
        double M0 = r->zeta0 * r->k[j], M1 = r->zeta0 * r->k[j + 1], a = x1 - x, b = t;
        return chord + (M0 * (a * a * a - h * h * a) + M1 * (b * b * b - h * h * b)) / (6.0 * h);
    }
    struct eval_arg left = {r, j, 0}, right = {r, j, 1};
    double L = t > 0 ? split_integrate(eval_integrand, &left, &r->init, x0, x, EVAL_PANELS) : 0;
    double R = t < h ? split_integrate(eval_integrand, &right, &r->init, x, x1, EVAL_PANELS) : 0;
    return chord - ((h - t) * L + t * R) / h;
}

static void eval_full(const struct spline_ref *r, const double *xs, size_t n, double *g)
{
    for (size_t i = 0; i < n; i++) {
        double sum = 0.0;
        for (size_t j = 0; j < r->m; j++)
            sum += r->k[j] * spline_kernel(&r->init, xs[i], r->x[j]);
        g[i] = sum;
    }
}

void spline_eval(const struct spline_ref *r, const double *xs, size_t n, double *g)
{
    size_t m = r->m;
    if (r->full) {
        eval_full(r, xs, n, g);
        return;
    }
    double h0 = r->x[1] - r->x[0], hl = r->x[m - 1] - r->x[m - 2];
    /* end slopes: g′(x₀) = d₀ − B₀k₁ and g′(x_{m−1}) = d_{m−2} + B_{m−2}k_{m−2} (k at ends 0) */
    double s0 = (r->y[1] - r->y[0]) / h0 - r->B[0] * r->k[1];
    double s1 = (r->y[m - 1] - r->y[m - 2]) / hl + r->B[m - 2] * r->k[m - 2];
    for (size_t i = 0; i < n; i++) {
        double x = xs[i];
        if (x <= r->x[0]) {
            g[i] = r->y[0] + s0 * (x - r->x[0]);
        } else if (x >= r->x[m - 1]) {
            g[i] = r->y[m - 1] + s1 * (x - r->x[m - 1]);
        } else {
            size_t lo = 0, hi = m - 1; /* x[lo] < x < x[hi] */
            while (hi - lo > 1) {
                size_t mid = (lo + hi) / 2;
                if (r->x[mid] <= x)
                    lo = mid;
                else
                    hi = mid;
            }
            g[i] = eval_in_gap(r, lo, x);
        }
    }
}

double spline_energy(const struct spline_ref *r)
{
    double e = 0.0;
    if (r->full) { /* cᵀKc = cᵀy */
        for (size_t j = 0; j < r->m; j++)
            e += r->k[j] * r->y[j];
        return e;
    }
    for (size_t j = 0; j + 1 < r->m; j++) {
        double a = r->k[j], b = r->k[j + 1];
        e += r->A[j] * a * a + 2.0 * r->B[j] * a * b + r->C[j] * b * b;
    }
    return e;
}

/* ---- the full-line problem: the kernel form ---- */

#define KERNEL_PANELS 64 /* panels of the w-integral of the kernel, per smooth piece */

/* M_k(c) = ∫_c^∞ b^k p_b(b) db, k = 0, 1, 2, for the bias distribution. */
static void bias_moments(const struct spline_init *p, double c, double M[3])
{
    if (p->b == SPLINE_UNIFORM) {
        double a = sqrt(3.0) * p->sb, lo = fmin(fmax(c, -a), a);
        for (int k = 0; k < 3; k++)
            M[k] = (pow(a, k + 1) - pow(lo, k + 1)) / ((k + 1) * 2.0 * a);
        return;
    }
    const double pi = acos(-1.0);
    double s = p->sb, t = c / s, q = 0.5 * erfc(t / sqrt(2.0)),
           phi = exp(-0.5 * t * t) / sqrt(2.0 * pi);
    M[0] = q;
    M[1] = s * phi;
    M[2] = s * s * (q + t * phi);
}

/* J(u, v) = ∫ relu(u + b)·relu(v + b) p_b(b) db = uv·M₀ + (u + v)·M₁ + M₂ at c = −min(u, v). */
static double relu_pair(const struct spline_init *p, double u, double v)
{
    double M[3];
    bias_moments(p, -fmin(u, v), M);
    return u * v * M[0] + (u + v) * M[1] + M[2];
}

struct kernel_arg {
    const struct spline_init *p;
    double x, y;
};

/* p_w(w)·[J(wx, wy) + J(−wx, −wy)] for w > 0: the w < 0 half folded onto w > 0. */
static double kernel_integrand(double w, const void *arg)
{
    const struct kernel_arg *a = arg;
    return density(a->p->w, a->p->sw, a->p->n, w) *
           (relu_pair(a->p, w * a->x, w * a->y) + relu_pair(a->p, -w * a->x, -w * a->y));
}

static int cmp_double(const void *a, const void *b)
{
    double u = *(const double *)a, v = *(const double *)b;
    return (u > v) - (u < v);
}

/* K(x, y) = E[relu(wx + b)·relu(wy + b)], integrated over w > 0 in pieces split where a uniform
 * bias's support edge ±a_b is crossed (w = a_b/|x|, a_b/|y|): each piece is then a polynomial in
 * w times the weight density, which Gauss–Legendre integrates exactly for uniform weights. */
double spline_kernel(const struct spline_init *p, double x, double y)
{
    struct kernel_arg a = {p, x, y};
    double W = support(p->w, p->sw, p->n), cut[4] = {0.0, W};
    size_t nc = 2;
    if (p->b == SPLINE_UNIFORM) {
        double ab = sqrt(3.0) * p->sb;
        if (fabs(x) * W > ab)
            cut[nc++] = ab / fabs(x);
        if (fabs(y) * W > ab)
            cut[nc++] = ab / fabs(y);
    }
    qsort(cut, nc, sizeof *cut, cmp_double);
    double sum = 0.0;
    for (size_t i = 0; i + 1 < nc; i++)
        if (cut[i + 1] > cut[i])
            sum += gl_integrate(kernel_integrand, &a, cut[i], cut[i + 1], KERNEL_PANELS);
    return sum;
}

/* The minimum-norm interpolant in the kernel's space: K c = y (Cholesky), g = Σ cⱼ K(·, xⱼ).
 * c is kept in r->k; r->full marks the form for spline_eval and spline_energy. */
int spline_solve_full(const struct spline_init *p, const double *x, const double *y, size_t m,
                      struct spline_ref **out)
{
    int rc = LS_OK;
    struct spline_ref *r = NULL;
    double *K = NULL;
    *out = NULL;
    if (m < 1 || !(p->sw > 0) || !(p->sb > 0) || (p->w == SPLINE_SPHERE && p->n < 3) ||
        p->b == SPLINE_SPHERE)
        return LS_EINVAL;
    LS_CALL(ref_alloc(m, &r));
    r->init = *p;
    r->full = 1;
    LS_CALL(load_points(r, x, y));
    K = malloc(m * m * sizeof *K);
    LS_CHECK_ALLOC(K);
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j <= i; j++)
            K[i * m + j] = K[j * m + i] = spline_kernel(p, r->x[i], r->x[j]);
    memcpy(r->k, r->y, m * sizeof *r->k);
    if (LAPACKE_dposv(LAPACK_ROW_MAJOR, 'L', (int)m, 1, K, (int)m, r->k, 1) != 0) {
        rc = LS_EINVAL;
        goto cleanup;
    }
    *out = r;
    r = NULL;
cleanup:
    free(K);
    spline_free(&r);
    return rc;
}
