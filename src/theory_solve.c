/* theory_solve.c — one interpolation problem (X, y), n < d: its workspaces, the minimum-ℓ2
 * interpolant, the mirror residual, and argmin Q_α^D(β) subject to Xβ = y.
 *
 * The Q_α solve works on the dual. With β = c·b(θ) (c = α^D, b = 2 sinh for D = 2, h_D for
 * D > 2) and θ = Xᵀλ, stationarity ∇Q_α^D(β) = θ ∈ rowspace(X) holds for every λ, and λ
 * minimizes the convex g(λ) = c·Σᵢ q_D*(θᵢ) − yᵀλ, whose gradient is Xβ(λ) − y and Hessian
 * X·diag(c·b′(θ))·Xᵀ. Small α makes b extremely steep (θ ≈ log(1/α²) for D = 2, θ within 1e-8
 * of ±1 for D = 4 at α = 1e-4), so:
 *  - the Newton system is solved through a QR of diag(w)^½·Xᵀ rather than a Cholesky of
 *    X·diag(w)·Xᵀ, whose condition number (the square) reaches 1e23 at D = 4, α = 1e-4;
 *  - every step is damped: kept inside the domain of q_D* and backtracked on g (Armijo);
 *  - the last correction is taken in β rather than θ, since β(θ) amplifies the rounding of θ by
 *    p/(1 − |θ|) near ±1. */
#include "lazysweep/theory.h"

#include <cblas.h>
#include <float.h>
#include <lapacke.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lazysweep/error.h"

enum {
    NEWTON_MAX_IT = 300, /* far above the 10–60 iterations seen from 1e-4 to 1e2 */
    BACKTRACK_MAX = 60,  /* halvings before a line search gives up */
};
static const double NEWTON_TOL = 1e-13; /* stop at ‖Xβ − y‖ <= NEWTON_TOL·‖y‖ */
static const double ARMIJO = 1e-4;      /* fraction of the predicted decrease required */

/* 64-byte aligned, zeroed doubles (the alignment model_alloc gives, for the same BLAS paths). */
static double *theory_alloc(size_t n)
{
    if (n > (SIZE_MAX - 63) / sizeof(double))
        return NULL;
    size_t bytes = (n * sizeof(double) + 63) / 64 * 64;
    double *p = aligned_alloc(64, bytes ? bytes : 64);
    if (p)
        memset(p, 0, bytes ? bytes : 64);
    return p;
}

void theory_destroy(struct ls_theory **tp)
{
    if (!tp || !*tp)
        return;
    struct ls_theory *t = *tp;
    free(t->X);
    free(t->y);
    free(t->qr);
    free(t->qr_tau);
    free(t->aq);
    free(t->aq_tau);
    free(t->work);
    for (size_t i = 0; i < sizeof t->vd / sizeof t->vd[0]; i++)
        free(t->vd[i]);
    for (size_t i = 0; i < sizeof t->vn / sizeof t->vn[0]; i++)
        free(t->vn[i]);
    free(t);
    *tp = NULL;
}

/* One LAPACK workspace, large enough for dgeqrf on d×n and dormqr of one vector (by query). */
static int size_work(struct ls_theory *t)
{
    int rc = LS_OK;
    lapack_int m = (lapack_int)t->d, k = (lapack_int)t->n;
    double q1 = 0, q2 = 0;
    if (LAPACKE_dgeqrf_work(LAPACK_COL_MAJOR, m, k, t->qr, m, t->qr_tau, &q1, -1) != 0 ||
        LAPACKE_dormqr_work(LAPACK_COL_MAJOR, 'L', 'T', m, 1, k, t->qr, m, t->qr_tau, t->vd[0],
                            m, &q2, -1) != 0) {
        ls_report(__FILE__, __LINE__, "LAPACKE workspace query", ls_strerror(LS_EINVAL));
        return LS_EINVAL;
    }
    t->lwork = (size_t)fmax(fmax(q1, q2), (double)t->n);
    t->work = theory_alloc(t->lwork);
    LS_CHECK_ALLOC(t->work);
cleanup:
    return rc;
}

/* Householder QR of the column-major d×n matrix a (the memory of a row-major [n][d] matrix, so
 * for a = X this factors Xᵀ). LS_EINVAL unless min|Rᵢᵢ| > rmin·max|Rᵢᵢ|. For X, rmin = 1e-12:
 * below that X is rank deficient to working precision and the problems are ill-posed. For the
 * Newton system diag(w)^½·Xᵀ the weights alone legitimately spread R over 1e12 and more (D = 4,
 * α = 1e-4), and any nonsingular R gives a usable step, so there rmin = 0. */
static int qr_factor(struct ls_theory *t, double *a, double *tau, double rmin)
{
    lapack_int m = (lapack_int)t->d, k = (lapack_int)t->n;
    if (LAPACKE_dgeqrf_work(LAPACK_COL_MAJOR, m, k, a, m, tau, t->work, (lapack_int)t->lwork) !=
        0)
        return LS_EINVAL;
    double lo = INFINITY, hi = 0;
    for (size_t i = 0; i < t->n; i++) {
        lo = fmin(lo, fabs(a[i * t->d + i]));
        hi = fmax(hi, fabs(a[i * t->d + i]));
    }
    return lo > rmin * hi && isfinite(hi) ? LS_OK : LS_EINVAL;
}

/* v ← Q·v (trans = 'N') or Qᵀ·v ('T') for the Q of a QR stored by qr_factor. */
static void qr_apply(struct ls_theory *t, const double *a, const double *tau, char trans,
                     double *v /* [d] */)
{
    lapack_int m = (lapack_int)t->d, k = (lapack_int)t->n;
    LAPACKE_dormqr_work(LAPACK_COL_MAJOR, 'L', trans, m, 1, k, a, m, tau, v, m, t->work,
                        (lapack_int)t->lwork);
}

/* v[0..n) ← R⁻ᵀv (trans) or R⁻¹v for the n×n upper triangle R of a QR stored by qr_factor. */
static void r_solve(const struct ls_theory *t, const double *a, int trans, double *v /* [n] */)
{
    cblas_dtrsv(CblasColMajor, CblasUpper, trans ? CblasTrans : CblasNoTrans, CblasNonUnit,
                (int)t->n, a, (int)t->d, v, 1);
}

/* r = Xβ − y; returns ‖r‖/‖y‖ (‖r‖ when y = 0). */
static double residual(const struct ls_theory *t, const double *beta /* [d] */,
                       double *r /* [n] */)
{
    memcpy(r, t->y, t->n * sizeof *r);
    cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)t->n, (int)t->d, 1.0, t->X, (int)t->d, beta, 1,
                -1.0, r, 1);
    double nr = cblas_dnrm2((int)t->n, r, 1);
    return t->y_norm > 0 ? nr / t->y_norm : nr;
}

double theory_feasibility(struct ls_theory *t, const double *beta)
{
    return residual(t, beta, t->vn[0]);
}

static int create_arrays(struct ls_theory *t)
{
    int rc = LS_OK;
    size_t nd = t->n * t->d;
    t->X = theory_alloc(nd);
    t->qr = theory_alloc(nd);
    t->aq = theory_alloc(nd);
    t->y = theory_alloc(t->n);
    t->qr_tau = theory_alloc(t->n);
    t->aq_tau = theory_alloc(t->n);
    LS_CHECK_ALLOC(t->X);
    LS_CHECK_ALLOC(t->qr);
    LS_CHECK_ALLOC(t->aq);
    LS_CHECK_ALLOC(t->y);
    LS_CHECK_ALLOC(t->qr_tau);
    LS_CHECK_ALLOC(t->aq_tau);
    for (size_t i = 0; i < sizeof t->vd / sizeof t->vd[0]; i++)
        LS_CHECK_ALLOC(t->vd[i] = theory_alloc(t->d));
    for (size_t i = 0; i < sizeof t->vn / sizeof t->vn[0]; i++)
        LS_CHECK_ALLOC(t->vn[i] = theory_alloc(t->n));
cleanup:
    return rc;
}

int theory_create(const double *X, const double *y, size_t n, size_t d, struct ls_theory **out)
{
    int rc = LS_OK;
    struct ls_theory *t = NULL;
    *out = NULL;
    if (n < 1 || n >= d || d > INT_MAX || n > SIZE_MAX / sizeof(double) / d)
        return LS_EINVAL;
    t = calloc(1, sizeof *t);
    LS_CHECK_ALLOC(t);
    t->n = n;
    t->d = d;
    LS_CALL(create_arrays(t));
    memcpy(t->X, X, n * d * sizeof *X);
    memcpy(t->qr, X, n * d * sizeof *X);
    memcpy(t->y, y, n * sizeof *y);
    t->y_norm = cblas_dnrm2((int)n, y, 1);
    LS_CALL(size_work(t));
    LS_CALL(qr_factor(t, t->qr, t->qr_tau, 1e-12));
    *out = t;
    t = NULL;
cleanup:
    theory_destroy(&t);
    return rc;
}

static void info_clear(struct theory_info *info)
{
    *info = (struct theory_info){.feasibility = NAN, .mirror_residual = NAN, .objective = NAN,
                                 .dual_objective = NAN, .gap = NAN};
}

/* β = Xᵀ(XXᵀ)⁻¹y = Q·[R⁻ᵀy; 0] with Xᵀ = QR: backward stable, unlike forming XXᵀ. */
int theory_min_l2(struct ls_theory *t, double *beta, struct theory_info *info)
{
    memset(beta, 0, t->d * sizeof *beta);
    memcpy(beta, t->y, t->n * sizeof *beta);
    r_solve(t, t->qr, 1, beta);
    qr_apply(t, t->qr, t->qr_tau, 'N', beta);
    if (info) {
        info_clear(info);
        info->feasibility = residual(t, beta, t->vn[0]);
        info->objective = cblas_dnrm2((int)t->d, beta, 1);
        info->converged = 1;
    }
    return LS_OK;
}

/* α^D (α² for D = 2), or 0 when α, D are out of range or α^D is not a normal double. */
static double potential_scale(int D, double alpha)
{
    if (D < 2 || !(alpha > 0) || !isfinite(alpha))
        return 0;
    double c = D == 2 ? alpha * alpha : pow(alpha, D);
    return c >= DBL_MIN && isfinite(c) ? c : 0;
}

int theory_mirror_residual(struct ls_theory *t, int D, double alpha, const double *beta,
                           double *out)
{
    if (potential_scale(D, alpha) == 0)
        return LS_ERANGE;
    double *phi = t->vd[6];
    theory_mirror(D, alpha, beta, phi, t->d);
    double norm = cblas_dnrm2((int)t->d, phi, 1);
    qr_apply(t, t->qr, t->qr_tau, 'T', phi); /* the last d − n entries are (I − P)φ rotated */
    *out = norm > 0 ? cblas_dnrm2((int)(t->d - t->n), phi + t->n, 1) / norm : 0.0;
    return LS_OK;
}

/* ---- argmin Q_α^D subject to Xβ = y ---- */

/* A point of the dual iteration; its arrays are workspace views. */
struct dual_point {
    double *lam;   /* [n] λ */
    double *theta; /* [d] θ = Xᵀλ, accumulated with the same steps as λ */
    double *beta;  /* [d] β(θ) = c·b(θ) */
    double *r;     /* [n] Xβ − y = ∇g(λ) */
    double g;      /* g(λ), +inf outside the dual domain */
    double rnorm;  /* ‖r‖ */
};

struct dual {
    struct ls_theory *t;
    int D;
    double c;                /* α^D (α² for D = 2): β = c·b(θ) */
    struct dual_point pt[2]; /* current and trial, swapped on acceptance */
    double *dlam;            /* [n] Newton direction */
    double *dtheta;          /* [d] XᵀΔλ */
    double *sw;              /* [d] √(c·b′(θ)), the Hessian's weights */
};

/* b(θ) and b′(θ): 2 sinh θ, 2 cosh θ for D = 2; h_D, h_D′ for D > 2. */
static double link(int D, double th, double *db)
{
    if (D == 2) {
        *db = 2.0 * cosh(th);
        return 2.0 * sinh(th);
    }
    *db = theory_dh(D, th);
    return theory_h(D, th);
}

/* β, r and g at the point's λ and θ. */
static void evaluate(struct dual *s, struct dual_point *pt)
{
    struct ls_theory *t = s->t;
    double sum = 0, db;
    for (size_t j = 0; j < t->d; j++) {
        pt->beta[j] = s->c * link(s->D, pt->theta[j], &db);
        sum += theory_qD_conj(s->D, pt->theta[j]);
    }
    pt->g = s->c * sum - cblas_ddot((int)t->n, t->y, 1, pt->lam, 1);
    pt->rnorm = residual(t, pt->beta, pt->r) * (t->y_norm > 0 ? t->y_norm : 1.0);
    if (!isfinite(pt->g) || !isfinite(pt->rnorm))
        pt->g = INFINITY;
}

/* QR of diag(sw)·Xᵀ, sw = √(c·b′(θ)), into t->aq: the Hessian is RᵀR. */
static int factor_hessian(struct dual *s, const double *theta)
{
    struct ls_theory *t = s->t;
    double db;
    for (size_t j = 0; j < t->d; j++) {
        link(s->D, theta[j], &db);
        s->sw[j] = sqrt(s->c * db);
    }
    for (size_t i = 0; i < t->n; i++)
        for (size_t j = 0; j < t->d; j++)
            t->aq[i * t->d + j] = s->sw[j] * t->X[i * t->d + j];
    return qr_factor(t, t->aq, t->aq_tau, 0.0);
}

/* Δλ = −(RᵀR)⁻¹r, Δθ = XᵀΔλ; returns the Newton decrement δ² = ‖R⁻ᵀr‖² = −∇gᵀΔλ. */
static double newton_direction(struct dual *s, const struct dual_point *pt)
{
    struct ls_theory *t = s->t;
    memcpy(s->dlam, pt->r, t->n * sizeof *s->dlam);
    r_solve(t, t->aq, 1, s->dlam);
    double dec = cblas_dnrm2((int)t->n, s->dlam, 1);
    r_solve(t, t->aq, 0, s->dlam);
    cblas_dscal((int)t->n, -1.0, s->dlam, 1);
    cblas_dgemv(CblasRowMajor, CblasTrans, (int)t->n, (int)t->d, 1.0, t->X, (int)t->d, s->dlam, 1,
                0.0, s->dtheta, 1);
    return dec * dec;
}

/* The largest step <= 1 along Δθ that stays inside the domain of q_D*: |θ| < 1 for D > 2 (go at
 * most 99% of the way to the boundary), |θ| <= 700 for D = 2 (where cosh still fits). */
static double domain_step(const struct dual *s, const double *theta)
{
    double bound = s->D == 2 ? 700.0 : 1.0, frac = s->D == 2 ? 1.0 : 0.99, step = 1.0;
    for (size_t j = 0; j < s->t->d; j++) {
        double dt = s->dtheta[j];
        if (dt != 0)
            step = fmin(step, frac * (bound - copysign(1.0, dt) * theta[j]) / fabs(dt));
    }
    return step;
}

/* Backtracking from domain_step: accept when g falls by ARMIJO·step·δ² (Armijo), or — for the
 * full Newton step only, where g may be flat to rounding — when ‖r‖ falls by ARMIJO. Returns the
 * accepted step (the trial point holds it), or 0. */
static double line_search(struct dual *s, double dec2)
{
    struct ls_theory *t = s->t;
    struct dual_point *cur = &s->pt[0], *trial = &s->pt[1];
    double step = domain_step(s, cur->theta);
    for (int k = 0; k < BACKTRACK_MAX; k++, step *= 0.5) {
        for (size_t i = 0; i < t->n; i++)
            trial->lam[i] = cur->lam[i] + step * s->dlam[i];
        for (size_t j = 0; j < t->d; j++)
            trial->theta[j] = cur->theta[j] + step * s->dtheta[j];
        evaluate(s, trial);
        if (trial->g <= cur->g - ARMIJO * step * dec2)
            return step;
        if (step == 1.0 && trial->g < INFINITY && trial->rnorm <= (1 - ARMIJO) * cur->rnorm)
            return step;
    }
    return 0;
}

/* λ₀ from θ₀ = φ(β_ℓ2), the mirror image of the α → ∞ solution, projected on rowspace(X):
 * λ₀ = R⁻¹·(Qᵀθ₀)[0..n) with Xᵀ = QR. For D > 2 it is shrunk to |θ| <= 1/2, inside the domain;
 * it is kept only if it beats λ = 0 (g = 0), so the start is never worse than the origin. */
static void dual_start(struct dual *s, double alpha)
{
    struct ls_theory *t = s->t;
    struct dual_point *pt = &s->pt[0];
    double *v = s->pt[1].beta;
    theory_min_l2(t, v, NULL);
    theory_mirror(s->D, alpha, v, v, t->d);
    qr_apply(t, t->qr, t->qr_tau, 'T', v);
    memcpy(pt->lam, v, t->n * sizeof *v);
    r_solve(t, t->qr, 0, pt->lam);
    cblas_dgemv(CblasRowMajor, CblasTrans, (int)t->n, (int)t->d, 1.0, t->X, (int)t->d, pt->lam, 1,
                0.0, pt->theta, 1);
    double m = fabs(pt->theta[cblas_idamax((int)t->d, pt->theta, 1)]);
    if (s->D > 2 && m > 0.5) {
        cblas_dscal((int)t->n, 0.5 / m, pt->lam, 1);
        cblas_dscal((int)t->d, 0.5 / m, pt->theta, 1);
    }
    evaluate(s, pt);
    if (!(pt->g < 0)) {
        memset(pt->lam, 0, t->n * sizeof *pt->lam);
        memset(pt->theta, 0, t->d * sizeof *pt->theta);
        evaluate(s, pt);
    }
}

/* Did an accepted step make no progress that rounding could not explain: g not lower by more
 * than 16 ulps and ‖r‖ not halved? Near ±1 (D > 2, tiny α) ‖r‖ floors well above NEWTON_TOL,
 * since evaluating β(θ) there loses digits; polish() then finishes in β. */
static int no_progress(const struct dual_point *old, const struct dual_point *now)
{
    return now->g >= old->g - 16 * DBL_EPSILON * fabs(old->g) && now->rnorm > 0.5 * old->rnorm;
}

/* Damped Newton on g until ‖r‖ <= NEWTON_TOL·‖y‖, three steps in a row without progress, or no
 * acceptable step. The current point ends in s->pt[0]; returns the iterations taken. */
static int dual_newton(struct dual *s, int *rc)
{
    struct ls_theory *t = s->t;
    int it, stalled = 0;
    *rc = LS_OK;
    for (it = 0; it < NEWTON_MAX_IT && stalled < 3; it++) {
        if (s->pt[0].rnorm <= NEWTON_TOL * t->y_norm)
            break;
        *rc = factor_hessian(s, s->pt[0].theta);
        if (*rc != LS_OK)
            break;
        double step = line_search(s, newton_direction(s, &s->pt[0]));
        if (step == 0)
            break;
        stalled = no_progress(&s->pt[0], &s->pt[1]) ? stalled + 1 : 0;
        struct dual_point tmp = s->pt[0];
        s->pt[0] = s->pt[1];
        s->pt[1] = tmp;
    }
    return it;
}

/* The last Newton correction taken in β: β ← β − W·Xᵀ(XWXᵀ)⁻¹(Xβ − y), W = diag(c·b′(θ)) at the
 * final θ, computed as diag(sw)·Q·[R⁻ᵀr; 0] and repeated once (iterative refinement). It moves
 * θ = φ(β) only by O(step²), and makes Xβ = y hold to rounding even where β(θ) cannot be
 * evaluated that accurately. Kept only if it lowers the residual. */
static int polish(struct dual *s, double *beta /* [d] */)
{
    struct ls_theory *t = s->t;
    double *r = s->pt[1].r, *v = s->pt[1].theta, *keep = s->pt[1].beta;
    int rc = factor_hessian(s, s->pt[0].theta);
    if (rc != LS_OK)
        return rc;
    memcpy(keep, beta, t->d * sizeof *beta);
    double before = residual(t, beta, r);
    for (int k = 0; k < 2; k++) {
        memset(v, 0, t->d * sizeof *v);
        memcpy(v, r, t->n * sizeof *r);
        r_solve(t, t->aq, 1, v);
        qr_apply(t, t->aq, t->aq_tau, 'N', v);
        for (size_t j = 0; j < t->d; j++)
            beta[j] -= s->sw[j] * v[j];
        residual(t, beta, r);
    }
    if (!(residual(t, beta, r) <= before))
        memcpy(beta, keep, t->d * sizeof *beta);
    return LS_OK;
}

int theory_q_alpha(struct ls_theory *t, int D, double alpha, double *beta,
                   struct theory_info *info)
{
    int rc = LS_OK, iters = 0;
    double c = potential_scale(D, alpha);
    if (c == 0)
        return LS_ERANGE;
    struct dual s = {.t = t, .D = D, .c = c, .dlam = t->vn[4], .dtheta = t->vd[4], .sw = t->vd[5]};
    for (int k = 0; k < 2; k++)
        s.pt[k] = (struct dual_point){
            .lam = t->vn[k], .r = t->vn[2 + k], .theta = t->vd[k], .beta = t->vd[2 + k]};
    memset(beta, 0, t->d * sizeof *beta);
    if (t->y_norm > 0) {
        dual_start(&s, alpha);
        iters = dual_newton(&s, &rc);
        LS_CALL(rc);
        memcpy(beta, s.pt[0].beta, t->d * sizeof *beta);
        LS_CALL(polish(&s, beta));
    }
    if (info) {
        info_clear(info);
        info->iterations = iters;
        info->feasibility = residual(t, beta, t->vn[0]);
        info->objective = theory_Q(D, alpha, beta, t->d);
        LS_CALL(theory_mirror_residual(t, D, alpha, beta, &info->mirror_residual));
        info->converged = info->feasibility <= 1e-12 && info->mirror_residual <= 1e-10;
    }
cleanup:
    return rc;
}
