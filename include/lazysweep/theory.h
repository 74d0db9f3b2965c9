/* theory.h — reference solutions for depth-D diagonal linear networks (Woodworth et al. 2020,
 * "Kernel and rich regimes"; docs/theory.md §1).
 *
 * Two layers:
 *  - scalar potentials: q (D = 2), h_D, h_D⁻¹, q_D (D > 2), the sum Q_α^D and its mirror map
 *    φ = ∇Q_α^D and inverse; pure functions, no allocation;
 *  - one interpolation problem (X, y), n < d, X of full row rank, in a `struct ls_theory` whose
 *    workspaces are allocated once by theory_create: the minimum-ℓ2 interpolant, the minimum-ℓ1
 *    interpolant (an LP, GLPK), argmin Q_α^D(β) subject to Xβ = y (the limit of gradient flow
 *    from β(0) = 0), and the mirror residual of any β (0 exactly on the gradient-flow path).
 * Pure numerics: knows nothing of MPI, HDF5, job files or sweeps.
 *
 * Costs for n samples, d dimensions (flops): create 2dn² (QR of Xᵀ); min_l2 4dn; mirror_residual
 * 4dn + d transcendentals; q_alpha per Newton iteration 2dn² (QR of diag(w)^½Xᵀ) + 4dn per
 * line-search trial, typically 10–60 iterations; min_l1 one simplex solve of an n × 2d LP
 * (GLPK, allocates its own memory) plus an n × n polish. */
#ifndef LAZYSWEEP_THEORY_H
#define LAZYSWEEP_THEORY_H

#include <stddef.h>

/* ---- scalar potentials (D >= 2; D = 2 is the closed form, D > 2 uses h_D) ---- */

/* q(z) = 2 − √(4+z²) + z·asinh(z/2), the D = 2 potential; q′(z) = asinh(z/2). */
double theory_q(double z);

/* h_D(s) = (1−s)^(−p) − (1+s)^(−p), p = D/(D−2), for D > 2 and |s| < 1 (±inf at s = ±1). */
double theory_h(int D, double s);
/* h_D′(s) = p·((1−s)^(−p−1) + (1+s)^(−p−1)). */
double theory_dh(int D, double s);
/* s = h_D⁻¹(z) ∈ (−1, 1), D > 2, to full double precision for every finite z (±1 for ±inf).
 * If one_minus is not NULL it receives 1 − |s| computed directly (not by subtraction), which
 * keeps its relative precision when s rounds to ±1. */
double theory_h_inv(int D, double z, double *one_minus);
/* q_D(z) = ∫₀^z h_D⁻¹(t) dt for D > 2; theory_q(z) for D = 2. Even, convex, ≈ (D−2)/(4D)·z²
 * near 0 (z²/4 for D = 2). */
double theory_qD(int D, double z);
/* Its convex conjugate q_D*(θ) = sup_z (zθ − q_D(z)) = ∫₀^θ (q_D′)⁻¹, the dual potential:
 * 2(cosh θ − 1) for D = 2, ∫₀^θ h_D (closed form) for D > 2, +inf for |θ| >= 1 there. */
double theory_qD_conj(int D, double theta);

/* Q_α^D(β) = α^D·Σᵢ q_D(βᵢ/α^D) (D = 2: α²·Σ q(βᵢ/α²)). */
double theory_Q(int D, double alpha, const double *beta /* [d] */, size_t d);
/* Mirror map θ = ∇Q_α^D(β): θᵢ = asinh(βᵢ/(2α²)) (D = 2), h_D⁻¹(βᵢ/α^D) (D > 2). */
void theory_mirror(int D, double alpha, const double *beta /* [d] */, double *theta /* [d] */,
                   size_t d);
/* Its inverse: βᵢ = 2α²·sinh θᵢ (D = 2), α^D·h_D(θᵢ) (D > 2, |θᵢ| < 1). */
void theory_mirror_inv(int D, double alpha, const double *theta /* [d] */,
                       double *beta /* [d] */, size_t d);

/* ---- one interpolation problem ---- */

struct ls_theory {
    size_t n, d;      /* samples, dimensions; 1 <= n < d, both <= INT_MAX */
    double *X;        /* [n][d] row-major copy of the inputs */
    double *y;        /* [n] copy of the targets */
    double y_norm;    /* ‖y‖₂ */
    double *qr;       /* [n][d] = column-major d×n: Householder QR of Xᵀ (dgeqrf), fixed */
    double *qr_tau;   /* [n] its reflector scalars */
    double *aq;       /* [n][d] QR of diag(w)^½·Xᵀ, rebuilt every Newton iteration */
    double *aq_tau;   /* [n] */
    double *work;     /* [lwork] LAPACK workspace (size from workspace queries) */
    size_t lwork;
    double *vd[7];    /* [7][d] scratch vectors of length d */
    double *vn[5];    /* [5][n] scratch vectors of length n */
};

/* How a solve went, for the caller's metrics and the tests. Fields a solver does not compute
 * are NaN (or 0 for counts). */
struct theory_info {
    double feasibility;     /* ‖Xβ − y‖₂ / ‖y‖₂ of the returned β */
    double mirror_residual; /* q_alpha: theory_mirror_residual of the returned β */
    double objective;       /* q_alpha: Q_α^D(β); min_l1: ‖β‖₁; min_l2: ‖β‖₂ */
    double dual_objective;  /* min_l1: yᵀν for the dual point ν scaled to ‖Xᵀν‖∞ <= 1 */
    double gap;             /* min_l1: (objective − dual_objective) / objective, >= 0 */
    int iterations;         /* q_alpha: Newton iterations; min_l1: simplex iterations */
    int converged;          /* 1 if the solver met its own tolerance; q_alpha: feasibility
                               <= 1e-12 and mirror_residual <= 1e-10 */
    size_t support;         /* min_l1: number of basic (support) columns */
};

/* Copy (X, y), factor Xᵀ and size every workspace. LS_EINVAL unless 1 <= n < d <= INT_MAX and X
 * has full row rank (|R_ii| > 1e-12·max|R_jj| in the QR of Xᵀ); LS_ENOMEM. */
int theory_create(const double *X /* [n][d] */, const double *y /* [n] */, size_t n, size_t d,
                  struct ls_theory **out);
void theory_destroy(struct ls_theory **t);

/* β = Xᵀ(XXᵀ)⁻¹y = Q·R⁻ᵀy from the QR of Xᵀ (the kernel-regime limit α → ∞). info may be NULL. */
int theory_min_l2(struct ls_theory *t, double *beta /* [d] */, struct theory_info *info);

/* argmin ‖β‖₁ subject to Xβ = y (the rich-regime limit α → 0), by GLPK's simplex on
 * β = p − m, p, m >= 0, then polished in double precision: the basic columns' equality system is
 * re-solved by least squares and the dual point from the basis equations; info reports the
 * feasibility and the relative duality gap. LS_EINVAL if GLPK finds no optimum. */
int theory_min_l1(struct ls_theory *t, double *beta /* [d] */, struct theory_info *info);

/* argmin Q_α^D(β) subject to Xβ = y, for D >= 2 and α > 0 with α^D a normal double, by damped
 * Newton on the convex dual g(λ) = Σᵢ α^D·q_D*((Xᵀλ)ᵢ) − yᵀλ (∇g = Xβ(λ) − y), then one
 * minimum-change correction of β onto Xβ = y. Stationarity holds by construction up to that
 * correction; info->feasibility and info->mirror_residual measure both. LS_ERANGE for α or D out
 * of range; a solve that stalls still returns its best β, with info->converged = 0.
 * Range: for D > 2 the mirror coordinate θ = h_D⁻¹(β/α^D) is a double in (−1, 1), so it can
 * resolve |β| only up to about α^D·ε^(−p), p = D/(D−2) (D = 4, α = 1e-4: 1e14; D = 6, α = 1e-4:
 * 0.3; D = 10, α = 1e-3: 4e-11). Beyond that θ rounds to ±1 on the support, the mirror residual
 * cannot certify the result (converged = 0), and β is the feasible point at the rounded θ — in
 * practice the minimum-ℓ1 interpolant, which β_α then equals to far below double precision. */
int theory_q_alpha(struct ls_theory *t, int D, double alpha, double *beta /* [d] */,
                   struct theory_info *info);

/* ‖Xβ − y‖₂ / ‖y‖₂ (‖Xβ‖₂ when y = 0): how far β is from interpolating. */
double theory_feasibility(struct ls_theory *t, const double *beta /* [d] */);

/* ‖(I − P)φ(β)‖₂ / ‖φ(β)‖₂, φ = theory_mirror, P the orthogonal projector onto the row space of
 * X (0 when φ(β) = 0). Exact gradient flow keeps this at 0; GD leaves O(step size). */
int theory_mirror_residual(struct ls_theory *t, int D, double alpha, const double *beta /* [d] */,
                           double *out);

#endif
