"""The theory module's reference solutions against independent Python: the minimum-ℓ1 interpolant
against scipy's HiGHS LP, the minimum-ℓ2 one against numpy's lstsq and pinv, argmin Q_α^D against
a separate dual solve with scipy.optimize plus a KKT check done entirely in numpy, and q_D against
quadrature of h_D⁻¹. The C side is reached through the test driver build/tools/theory_dump
(tests/tools/theory_dump.c), found next to the binary under test."""
import subprocess

import numpy as np
import pytest
from scipy import integrate, optimize

from conftest import BIN

DUMP = BIN.parent / "tools" / "theory_dump"


def dump(*args):
    assert DUMP.exists(), f"{DUMP} missing: run make (it builds tests/tools/*.c)"
    out = subprocess.run([str(DUMP), *map(str, args)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.splitlines()


def solve(tmp_path, mode, X, y, *extra):
    """Run one solver of the driver on (X, y); returns (info dict, β)."""
    path = tmp_path / "problem.bin"
    with open(path, "wb") as f:
        np.array(X.shape, dtype=np.int64).tofile(f)
        np.ascontiguousarray(X, dtype=np.float64).tofile(f)
        np.asarray(y, dtype=np.float64).tofile(f)
    lines = dump(mode, path, *extra)
    info = {k: float(v) for k, v in (kv.split("=") for kv in lines[0].split())}
    beta = np.array([float(v) for v in lines[1:]])
    assert beta.shape == (X.shape[1],)
    return info, beta


def instance(n, d, seed, sparse=True):
    """The study's kind of data: x ~ N(0, I), y = ⟨β*, x⟩ + 0.1·ε with 5 entries 1/√5 (or pure
    noise y when not sparse)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    if not sparse:
        return X, rng.standard_normal(n)
    beta = np.zeros(d)
    beta[rng.choice(d, 5, replace=False)] = 1 / np.sqrt(5)
    return X, X @ beta + 0.1 * rng.standard_normal(n)


def rel(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


# ---- minimum-ℓ2: lstsq returns the minimum-norm solution of an underdetermined system; both it and
# pinv go through the SVD, the C code through a QR of Xᵀ. cond(X) ≈ 2 here, so 1e-10 is loose.

@pytest.mark.parametrize("n,d,seed", [(20, 50, 1), (100, 1000, 2)])
def test_l2_matches_numpy(tmp_path, n, d, seed):
    X, y = instance(n, d, seed, sparse=False)
    info, beta = solve(tmp_path, "l2", X, y)
    assert rel(beta, np.linalg.lstsq(X, y, rcond=None)[0]) < 1e-10
    assert rel(beta, np.linalg.pinv(X) @ y) < 1e-10
    assert np.linalg.norm(X @ beta - y) / np.linalg.norm(y) < 1e-13
    assert info["feasibility"] < 1e-13


# ---- minimum-ℓ1: HiGHS works to its default feasibility/optimality tolerances of 1e-7, so its β
# is good to about that; the C result (simplex + double-precision polish) is held to 1e-7 relative
# against it, and to much tighter feasibility and objective bounds on its own.

@pytest.mark.parametrize("n,d,seed,sparse", [(20, 60, 3, False), (50, 200, 4, True),
                                             (100, 1000, 5, True)])
def test_l1_matches_highs(tmp_path, n, d, seed, sparse):
    X, y = instance(n, d, seed, sparse)
    info, beta = solve(tmp_path, "l1", X, y)
    lp = optimize.linprog(np.ones(2 * d), A_eq=np.hstack([X, -X]), b_eq=y, bounds=(0, None),
                          method="highs")
    assert lp.status == 0, lp.message
    ref = lp.x[:d] - lp.x[d:]
    assert rel(beta, ref) < 1e-7
    assert np.linalg.norm(X @ beta - y) / np.linalg.norm(y) < 1e-12
    # no feasible point beats the LP optimum: ‖β‖₁ is at most HiGHS's value up to its tolerance
    assert np.abs(beta).sum() <= lp.fun * (1 + 1e-9)
    assert abs(np.abs(beta).sum() - lp.fun) <= 1e-8 * lp.fun
    assert 0 <= info["gap"] < 1e-9 and info["converged"] == 1
    assert info["support"] <= n


# ---- argmin Q_α^D subject to Xβ = y.
# Independent potentials, written from the docs/theory.md: β = c·b(θ), c = α^D (α² for D = 2),
# b = 2 sinh (D = 2) or h_D; the dual g(λ) = c·Σ B(Xᵀλ) − yᵀλ with B' = b.

def h(D, s):
    """h_D(s) = (1−s)^−p − (1+s)^−p as expm1(−p·log1p(−s)) − expm1(−p·log1p(s)): the two terms
    have opposite signs near 0, so unlike the textbook form this does not cancel for tiny s."""
    p = D / (D - 2)
    return np.expm1(-p * np.log1p(-s)) - np.expm1(-p * np.log1p(s))


def link(D, th):
    """b, b′ and B = ∫₀b for the dual (B only feeds the objective, where its cancellation near 0
    is harmless)."""
    if D == 2:
        return 2 * np.sinh(th), 2 * np.cosh(th), 2 * (np.cosh(th) - 1)
    p = D / (D - 2)
    db = p * ((1 - th) ** (-p - 1) + (1 + th) ** (-p - 1))
    B = ((1 - th) ** (1 - p) + (1 + th) ** (1 - p) - 2) / (p - 1)
    return h(D, th), db, B


def scale(D, alpha):
    return alpha ** 2 if D == 2 else alpha ** D


def scipy_q_alpha(X, y, D, alpha):
    """argmin Q_α^D through the dual: scipy's trust-region Newton (exact Hessian), then a root
    finder on its gradient."""
    c = scale(D, alpha)

    def parts(lam):
        th = X.T @ lam
        if D > 2 and np.max(np.abs(th)) >= 1:
            return None
        return th, link(D, th)

    def fun(lam):
        p = parts(lam)
        return np.inf if p is None else c * p[1][2].sum() - y @ lam

    def jac(lam):
        p = parts(lam)
        return np.full_like(lam, np.nan) if p is None else X @ (c * p[1][0]) - y

    def hess(lam):
        p = parts(lam)
        return (X * (c * p[1][1])) @ X.T

    res = optimize.minimize(fun, np.zeros(len(y)), jac=jac, hess=hess, method="trust-exact",
                            options={"gtol": 1e-13, "maxiter": 500})
    # trust-exact stops once g (which rounds at ~1e-16·|g|) stops resolving progress, at a
    # gradient of ~1e-9; MINPACK's hybrid root finder on ∇g = 0 then takes it to rounding.
    root = optimize.root(jac, res.x, jac=hess, method="hybr", tol=1e-15)
    th = X.T @ root.x
    return c * link(D, th)[0], root


def hinv(D, z):
    """h_D⁻¹ by bracketing root finding, elementwise (no Newton, no shared code)."""
    p = D / (D - 2)

    def one(v):
        if v == 0:
            return 0.0
        a = abs(v)
        # h(s) >= (1−s)^−p − 1, so s <= 1 − (1+a)^(−1/p) brackets the root from above
        hi = 1 - (1 + a) ** (-1 / p)
        s = optimize.brentq(lambda s: h(D, s) - a, 0.0, hi, xtol=1e-300,
                            rtol=4 * np.finfo(float).eps, maxiter=500)
        return np.copysign(s, v)

    return np.array([one(v) for v in np.atleast_1d(z)])


def mirror(D, alpha, beta):
    c = scale(D, alpha)
    return np.arcsinh(beta / (2 * c)) if D == 2 else hinv(D, beta / c)


def kkt(X, y, D, alpha, beta):
    """(‖Xβ − y‖/‖y‖, ‖(I − P)φ(β)‖/‖φ(β)‖) computed with numpy only."""
    phi = mirror(D, alpha, beta)
    lam = np.linalg.lstsq(X.T, phi, rcond=None)[0]
    return (np.linalg.norm(X @ beta - y) / np.linalg.norm(y),
            np.linalg.norm(phi - X.T @ lam) / np.linalg.norm(phi))


# The scipy solve is trusted where it converges reliably (α >= 0.1; at small α the dual is too
# steep for trust-exact from λ = 0) and must itself interpolate to 1e-10; the β's then agree to
# 1e-8 relative (measured: below 1e-15; the bound leaves room for the scipy side).
@pytest.mark.parametrize("D,alpha", [(2, 1.0), (2, 0.1), (3, 1.0), (3, 0.3), (4, 0.5)])
def test_q_alpha_matches_scipy(tmp_path, D, alpha):
    X, y = instance(30, 120, 10 + D)
    info, beta = solve(tmp_path, "qalpha", X, y, D, alpha)
    ref, res = scipy_q_alpha(X, y, D, alpha)
    assert np.linalg.norm(X @ ref - y) / np.linalg.norm(y) < 1e-10, res.message
    assert rel(beta, ref) < 1e-8
    feas, stat = kkt(X, y, D, alpha, beta)
    assert feas < 1e-12 and stat < 1e-10
    assert info["converged"] == 1


# Where scipy's dual solve is unreliable (tiny α), the C solution is still certified by the KKT
# conditions computed here independently: feasibility and φ(β) ∈ rowspace(X) determine the unique
# minimizer of the strictly convex Q_α^D.
@pytest.mark.parametrize("D,alpha", [(2, 1e-4), (2, 1e-2), (3, 1e-3), (4, 1e-2), (3, 100.0)])
def test_q_alpha_kkt_independent(tmp_path, D, alpha):
    X, y = instance(50, 200, 20 + D)
    info, beta = solve(tmp_path, "qalpha", X, y, D, alpha)
    feas, stat = kkt(X, y, D, alpha, beta)
    assert feas < 1e-12, feas
    assert stat < 1e-10, stat
    assert abs(stat - info["mirror_residual"]) < 1e-10
    # Q_α^D at the solution is below Q_α^D at the other interpolants (ℓ2 and ℓ1 solutions)
    _, b2 = solve(tmp_path, "l2", X, y)
    _, b1 = solve(tmp_path, "l1", X, y)
    q = lambda b: sum(float(v) for v in dump("q", D, *(b / scale(D, alpha))))
    assert q(beta) <= q(b2) * (1 + 1e-12) and q(beta) <= q(b1) * (1 + 1e-12)


# ---- q_D(z) = ∫₀^z h_D⁻¹(t) dt by adaptive quadrature over the bracketing inverse above; quad's
# own error estimate is below 1e-12 here, so 1e-10 relative is loose. D = 2 against ∫ asinh(t/2).

@pytest.mark.parametrize("D", [2, 3, 4, 5])
def test_q_matches_quadrature(D):
    zs = [0.1, 1.0, 2.0, 10.0, 100.0, -3.0]
    got = [float(v) for v in dump("q", D, *zs)]
    for z, q in zip(zs, got):
        a = abs(z)
        if D == 2:
            ref, err = integrate.quad(lambda t: np.arcsinh(t / 2), 0, a, epsabs=0, epsrel=1e-13)
        else:
            ref, err = integrate.quad(lambda t: hinv(D, t)[0], 0, a, epsabs=0, epsrel=1e-13,
                                      limit=200)
        assert err < 1e-11 * ref
        assert abs(q - ref) <= 1e-10 * ref, (D, z, q, ref)


def test_hinv_matches_root_finding():
    zs = np.array([1e-8, 0.01, 0.5, 3.0, 1e3, 1e8, -7.0])
    for D in (3, 4, 6):
        got = np.array([float(v) for v in dump("hinv", D, *zs)])
        assert np.allclose(got, hinv(D, zs), rtol=1e-13, atol=0)
