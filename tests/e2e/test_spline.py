"""The spline limit of wide shallow ReLU networks (docs/spline.md): ζ, the references and the
trained networks, each against something computed independently here with numpy/scipy."""
import math
import re
import subprocess

import h5py
import numpy as np
import pytest
from scipy import integrate, sparse
from scipy.interpolate import CubicSpline
from scipy.sparse.linalg import spsolve

from conftest import JOBS, ROOT, lazysweep, run, write_job

DUMP = ROOT / "build" / "tools" / "spline_dump"
S3 = math.sqrt(3.0)
UNIFORM = f"uniform:uniform:{1 / S3!r}:{2 / S3!r}:0"  # w ~ U(−1, 1), b ~ U(−2, 2)
X5 = [-2.0, -1.0, 0.0, 1.0, 2.0]
Y5 = [1.5, 0.5, 1.5, 0.5, 1.5]
GRID = np.arange(400) * 0.01 - 2.0


def dump(*args):
    out = subprocess.run([str(DUMP), *map(str, args)], capture_output=True, text=True,
                         check=True).stdout
    return out.splitlines()


def csv(v):
    return ",".join(repr(float(t)) for t in v)


def reference(mode, init, x, y, at):
    """(energy, quad_error, flat, g at `at`) from the tool."""
    lines = dump(mode, init, csv(x), csv(y), csv(at))
    head = dict(kv.split("=") for kv in lines[0].split())
    return (float(head["energy"]), float(head["quad_error"]), int(head["flat"]),
            np.array([float(v) for v in lines[1:]]))


# ---- densities, as the job's distributions define them ----

def density(kind, s, n, t):
    t = abs(t)
    if kind == "uniform":
        return 1 / (2 * S3 * s) if t <= S3 * s else 0.0
    if kind == "gaussian":
        return math.exp(-0.5 * (t / s) ** 2) / (s * math.sqrt(2 * math.pi))
    r = s * math.sqrt(n)  # one coordinate of s·√n·(a uniform unit vector of R^n)
    if t >= r:
        return 0.0
    c = math.lgamma(n / 2) - math.lgamma((n - 1) / 2) - 0.5 * math.log(math.pi)
    return math.exp(c + 0.5 * (n - 3) * math.log1p(-(t / r) ** 2)) / r


def zeta_scipy(w, b, sw, sb, n, x):
    """ζ(x) = ∫|w|³ p_w(w) p_b(−wx) dw by scipy's adaptive quadrature, split where a density
    has a corner."""
    f = lambda t: abs(t) ** 3 * density(w, sw, n, t) * density(b, sb, n, -t * x)
    top = {"uniform": S3 * sw, "gaussian": 14 * sw, "sphere": sw * math.sqrt(n)}[w]
    cuts = sorted({0.0, top} | ({S3 * sb / abs(x)} if b == "uniform" and x != 0 else set()))
    cuts = [c for c in cuts if c <= top]
    return 2 * sum(integrate.quad(f, a, c, epsabs=0, epsrel=1e-13, limit=200)[0]
                   for a, c in zip(cuts, cuts[1:]))


@pytest.mark.parametrize("w,b,sw,sb,n", [
    ("uniform", "uniform", 1 / S3, 2 / S3, 0),
    ("uniform", "uniform", 0.7, 0.3, 0),
    ("gaussian", "gaussian", 1.0, 1.0, 0),
    ("gaussian", "gaussian", 0.8, math.sqrt(0.1), 0),
    ("uniform", "gaussian", 1.0, 0.5, 0),
    ("gaussian", "uniform", 1.0, 1.2, 0),
    ("sphere", "gaussian", 1.0, 1.0, 50),
    ("sphere", "uniform", 0.5, 1.0, 7),
])
def test_zeta_closed_forms_and_quadrature_match_scipy(w, b, sw, sb, n):
    xs = [0.0, 0.3, -1.0, 1.7, 2.0, -2.6, 4.0]
    lines = dump("zeta", f"{w}:{b}:{sw!r}:{sb!r}:{n}", *xs)
    for x, line in zip(xs, lines):
        closed, quad = map(float, line.split())
        want = zeta_scipy(w, b, sw, sb, n, x)
        assert closed == pytest.approx(want, rel=1e-10, abs=1e-300), (w, b, x, closed, want)
        assert quad == pytest.approx(want, rel=1e-10, abs=1e-300), (w, b, x, quad, want)
    if (w, b) == ("gaussian", "gaussian"):  # the reference page's closed form, at x = 1
        want = 2 / math.pi * (sw * sb) ** 3 / (sb ** 2 + sw ** 2) ** 2
        assert float(lines[2].split()[0]) == pytest.approx(want, rel=1e-14)


@pytest.mark.parametrize("seed", range(4))
def test_natural_cubic_spline_matches_scipy(seed):
    rng = np.random.default_rng(seed)
    m = [2, 3, 5, 12][seed]
    x = np.sort(rng.uniform(-2, 2, m))
    x[0], x[-1] = -2.0, 2.0 if m > 2 else x[-1]
    y = rng.normal(size=m)
    at = np.concatenate([x, rng.uniform(x[0], x[-1], 300)])
    energy, _, flat, g = reference("span", UNIFORM, x, y, at)
    assert flat == 1
    want = CubicSpline(x, y, bc_type="natural")(at) if m > 2 else np.interp(at, x, y)
    err = np.max(np.abs(g - want))
    assert err < 1e-12, (err, g[:4], want[:4])
    if m > 2:  # ∫ g″² / ζ with ζ = 1/16, by scipy on each piece of the cubic
        cs = CubicSpline(x, y, bc_type="natural")
        e = sum(integrate.quad(lambda t: cs(t, 2) ** 2, a, b)[0] for a, b in zip(x, x[1:]))
        assert energy == pytest.approx(16 * e, rel=1e-10)


def discrete_weighted_spline(x, y, zeta, h):
    """An independent solution of the discretised problem: g on the nodes of step h over the
    data's span, minimizing Σ (second difference / h²)² · h / ζ(node) subject to g = y at the
    data (which lie on nodes), by the KKT system of the equality-constrained least squares."""
    n = int(round((x[-1] - x[0]) / h)) + 1
    t = x[0] + h * np.arange(n)
    D = sparse.diags([1.0, -2.0, 1.0], [0, 1, 2], shape=(n - 2, n)) / h ** 2
    Wt = sparse.diags(h / zeta(t[1:-1]))
    idx = np.rint((np.asarray(x) - x[0]) / h).astype(int)
    C = sparse.csr_matrix((np.ones(len(x)), (np.arange(len(x)), idx)), shape=(len(x), n))
    K = sparse.bmat([[2 * D.T @ Wt @ D, C.T], [C, None]]).tocsc()
    sol = spsolve(K, np.concatenate([np.zeros(n), y]))
    return t, sol[:n]


def test_weighted_spline_matches_refined_discretisation():
    """Gaussian init (ζ not constant): the discretised problem converges to the tool's solution
    at second order as the grid is refined."""
    init, zeta = "gaussian:gaussian:1:0.5:0", lambda t: 2 / math.pi * 0.125 / (0.25 + t * t) ** 2
    x = np.array([-2.0, -1.2, -0.4, 0.0, 0.8, 1.4, 2.0])
    y = np.array([1.0, -0.5, 0.3, 1.2, -0.2, 0.4, 0.9])
    errs = []
    for h in (0.04, 0.02, 0.01, 0.005):
        t, g_disc = discrete_weighted_spline(x, y, zeta, h)
        _, qerr, flat, g = reference("span", init, x, y, t)
        assert flat == 0 and qerr < 1e-10
        errs.append(np.max(np.abs(g - g_disc)))
    print("max |tool − discrete| per h:", errs)
    for coarse, fine in zip(errs, errs[1:]):
        assert 3.0 < coarse / fine < 5.0, errs  # O(h²)
    assert errs[-1] < 2e-4, errs


def kernel_numpy(x, xp, wlim, blim, nodes=1500):
    """E[relu(wx+b)·relu(wx'+b)] for w ~ U(−wlim, wlim), b ~ U(−blim, blim): a tensor
    Gauss–Legendre rule on the (w, b) box, split at w = 0 and b = 0 (a cross-check of the tool's
    closed-form bias integrals, converging at second order in the node spacing)."""
    gx, gw = np.polynomial.legendre.leggauss(nodes)
    w = np.concatenate([(gx - 1) / 2, (gx + 1) / 2]) * wlim
    ww = np.concatenate([gw, gw]) / 2 * wlim / (2 * wlim)
    b = np.concatenate([(gx - 1) / 2, (gx + 1) / 2]) * blim
    bw = np.concatenate([gw, gw]) / 2 * blim / (2 * blim)
    out = np.empty((len(x), len(xp)))
    for i, u in enumerate(x):
        fu = np.maximum(np.add.outer(w * u, b), 0)
        for j, v in enumerate(xp):
            out[i, j] = ww @ (fu * np.maximum(np.add.outer(w * v, b), 0)) @ bw
    return out


def test_full_reference_is_the_kernel_interpolant():
    at = np.array([-2.5, -1.5, -0.3, 0.5, 1.9, 3.0])
    _, _, _, g = reference("full", UNIFORM, X5, Y5, at)
    K = kernel_numpy(np.array(X5), np.array(X5), 1.0, 2.0)
    k = kernel_numpy(at, np.array(X5), 1.0, 2.0)
    want = k @ np.linalg.solve(K, Y5)
    assert np.max(np.abs(g - want)) < 1e-4, (g, want)
    assert float(dump("kernel", UNIFORM, 0.7, -1.3)[0]) == pytest.approx(
        kernel_numpy(np.array([0.7]), np.array([-1.3]), 1.0, 2.0)[0, 0], rel=1e-6)


def random_feature_fit(n, seed, at):
    """The width-n random-feature interpolant (the lazy limit of training at width n)."""
    rng = np.random.default_rng(seed)
    w, b = rng.uniform(-1, 1, n), rng.uniform(-2, 2, n)
    F = np.maximum(np.outer(X5, w) + b, 0)
    v = F.T @ np.linalg.solve(F @ F.T, Y5)
    return np.concatenate([np.maximum(np.outer(c, w) + b, 0) @ v for c in np.split(at, 4)])


def test_full_reference_is_the_infinite_width_limit_span_is_not():
    """Random-feature interpolants converge to the full reference like n^(−1/2); the span one
    (natural cubic spline, affine part free) stays about 0.005 away."""
    _, _, _, full = reference("full", UNIFORM, X5, Y5, GRID)
    span = CubicSpline(X5, Y5, bc_type="natural")(GRID)
    d = {n: [np.sqrt(np.mean((random_feature_fit(n, s, GRID) - ref) ** 2))
             for s in range(3) for ref in (full, span)] for n in (1000, 30000)}
    full_d = {n: np.mean(v[0::2]) for n, v in d.items()}
    span_d = {n: np.mean(v[1::2]) for n, v in d.items()}
    print("rms distance, full:", full_d, "span:", span_d)
    assert full_d[30000] < 0.5 * full_d[1000]  # √30 = 5.5 expected
    assert full_d[30000] < 0.006 and span_d[30000] > 0.004


JOB = """name: spl
seed: 3
model:
  family: mlp
  depth: 1
  width: 20
  init: uniform
  variance: explicit
  weight_scale: [0.5773502691896258, 0.0005773502691896258]
  bias_scale: [1.1547005383792515, 0.0005773502691896258]
  antisymmetric: true
data: {kind: points1d, x: [-2, -1, 0, 1, 2], y: [1.5, 0.5, 1.5, 0.5, 1.5]}
train: {optimizer: gd, lr: 0.03, lr_schedule: halve_on_rise, stop_change: 1.0e-9,
        max_steps: 200000, log: {points: 8}}
metrics: [train_loss, spline_distance, spline_distance_max, steps]
store: [function, reference, params_final]
grid:
  width: [20, 2000]
"""


def relu_net(params, n, at):
    """f = (√2/2)(g₁ − g₂) from the stored parameters (per tower: W₁ [n], b₁ [n], W₂ [n], c)."""
    half = len(params) // 2
    out = 0.0
    for t, sign in ((params[:half], 1.0), (params[half:], -1.0)):
        w, b, a, c = t[:n], t[n:2 * n], t[2 * n:3 * n], t[3 * n]
        out = out + sign * (np.maximum(np.outer(at, w) + b, 0) @ a + c)
    return out * math.sqrt(0.5)


def test_wide_net_lands_on_the_reference_narrow_does_not(tmp_path):
    out = tmp_path / "spl.h5"
    r = run(write_job(tmp_path, JOB), out)
    assert r.returncode == 0, r.stderr
    with h5py.File(out, "r") as f:
        dist = f["metrics/spline_distance"][()]
        dmax = f["metrics/spline_distance_max"][()]
        fun, ref = f["vectors/function"][()], f["vectors/reference"][()]
        params = f["vectors/params_final"][()]
        steps = f["metrics/steps"][()]
    print("spline_distance at widths 20, 2000:", dist, "steps:", steps)
    assert np.all(steps < 200000)  # stopped by stop_change
    # the stored function is the network of the stored parameters on the grid
    for i, n in enumerate((20, 2000)):
        f_np = relu_net(params[i][: 2 * (3 * n + 1)], n, GRID)
        assert np.max(np.abs(fun[i] - f_np)) < 1e-12
        assert dist[i] == pytest.approx(np.sqrt(np.mean((fun[i] - ref[i]) ** 2)), rel=1e-12)
        assert dmax[i] == pytest.approx(np.max(np.abs(fun[i] - ref[i])), rel=1e-12)
    # the stored reference is the kernel interpolant (computed here independently)
    K = kernel_numpy(np.array(X5), np.array(X5), 1.0, 2.0, nodes=600)
    k = kernel_numpy(GRID[::20], np.array(X5), 1.0, 2.0, nodes=600)
    want = k @ np.linalg.solve(K, Y5)
    assert np.max(np.abs(ref[1][::20] - want)) < 1e-3
    # measured: 0.0084 at n = 2000 and 0.14 at n = 20 (n^(−1/2) predicts 0.14/10)
    assert dist[1] < 0.03, dist
    assert dist[0] > 0.07, dist


def test_stop_change_stops_at_the_first_small_change(tmp_path):
    """Every step logged: the run stops at the first step whose |Δ loss| is below the
    tolerance, and not before."""
    job = JOB.replace("lr_schedule: halve_on_rise, stop_change: 1.0e-9",
                      "stop_change: 3.0e-6").replace("lr: 0.03", "lr: 0.01")
    job = job.replace("max_steps: 200000, log: {points: 8}",
                      "max_steps: 3000, log: {points: 3001, spacing: linear}")
    job = job.replace("width: [20, 2000]", "width: [50]")
    out = tmp_path / "stop.h5"
    r = run(write_job(tmp_path, job), out)
    assert r.returncode == 0, r.stderr
    with h5py.File(out, "r") as f:
        L = f["trajectories/train_loss"][0]
        s = int(f["metrics/steps"][0])
    change = np.abs(np.diff(L[: s + 1]))
    assert 0 < s < 3000
    assert change[-1] < 3e-6 and np.all(change[:-1] >= 3e-6), (s, change[-3:])


def test_small_width_job_rate_fit_and_function_figure(tmp_path):
    """jobs/spline_width_small.yaml on 1 coordinator + 1 worker: the distance falls with the
    width at a rate near n^(−1/2), report --fit prints numpy's least-squares fit of the means,
    and report --functions draws the stored functions."""
    out = tmp_path / "small.h5"
    r = run(JOBS / "spline_width_small.yaml", out, ranks=2, timeout=600)
    assert r.returncode == 0, r.stderr
    with h5py.File(out, "r") as f:
        width = f["grid/width"][()]
        dist = f["metrics/spline_distance"][()]
        assert np.all(f["status"][()] == 1)
        fun, ref = f["vectors/function"][()], f["vectors/reference"][()]
    widths = np.unique(width)
    means = np.array([dist[width == w].mean() for w in widths])
    print("mean spline_distance per width:", dict(zip(widths.tolist(), means.round(5))))
    keep = widths >= 80
    k, logA = np.polyfit(np.log(widths[keep]), np.log(means[keep]), 1)
    rep = lazysweep("report", out, "--metric", "spline_distance", "--by", "width", "--quiet",
                    "--fit", "powerlaw", "--x", "width", "--fit-from", "80",
                    "--plot", tmp_path / "fit.png", "--logx", "--logy")
    assert rep.returncode == 0, rep.stderr
    m = re.search(r"k = (\S+) \+- (\S+), A = (\S+) .* in \[80, 5120\], 4 groups", rep.stdout)
    assert m, rep.stdout
    assert float(m.group(1)) == pytest.approx(k, abs=1e-4)
    assert float(m.group(3)) == pytest.approx(math.exp(logA), rel=1e-3)
    assert -0.8 < k < -0.3, (k, means)
    assert (tmp_path / "fit.png").stat().st_size > 0
    fig = tmp_path / "functions.png"
    rep = lazysweep("report", out, "--quiet", "--functions", fig, "--point", "0,9",
                    "--keep-script")
    assert rep.returncode == 0, rep.stderr
    assert fig.stat().st_size > 0
    script = (tmp_path / "functions.gp").read_text()
    block = script.split("$F1 << EOD\n")[1].split("EOD")[0].split("\n")[:400]
    drawn = np.array([[float(v) for v in line.split()] for line in block])
    assert np.array_equal(drawn[:, 0], GRID) or np.allclose(drawn[:, 0], GRID, atol=1e-12)
    assert np.array_equal(drawn[:, 1], fun[9]) and np.array_equal(drawn[:, 2], ref[9])


def test_without_antisymmetric_init_the_reference_adds_the_initial_network(tmp_path):
    """One tower: f₀ ≠ 0, and g = f₀ + (the interpolant of y − f₀(xⱼ)) still passes through the
    data, differs from the antisymmetric reference by f₀'s share, and the wide net lands on it."""
    job = JOB.replace("  antisymmetric: true\n", "").replace(
        "weight_scale: [0.5773502691896258, 0.0005773502691896258]",
        "weight_scale: [0.5773502691896258, 0.003]").replace("width: [20, 2000]", "width: [2000]")
    job = job.replace("store: [function, reference, params_final]",
                      "store: [function, reference, params_init]")
    out = tmp_path / "one.h5"
    r = run(write_job(tmp_path, job), out)
    assert r.returncode == 0, r.stderr
    with h5py.File(out, "r") as f:
        ref = f["vectors/reference"][0]
        p0 = f["vectors/params_init"][0]
        dist = f["metrics/spline_distance"][0]
    n = 2000
    w, b, a, c = p0[:n], p0[n:2 * n], p0[2 * n:3 * n], p0[3 * n]
    f0 = np.maximum(np.outer(GRID, w) + b, 0) @ a + c
    at_data = [0, 100, 200, 300]  # x = −2, −1, 0, 1 on the grid
    assert np.max(np.abs(ref[at_data] - np.array(Y5[:4]))) < 1e-9
    _, _, _, g_asi = reference("full", UNIFORM, X5, Y5, GRID)
    assert np.max(np.abs(f0)) > 0.05  # f₀ matters ...
    assert np.max(np.abs((ref - f0) - g_asi)) > 0.01  # ... and the reference accounts for it
    assert dist < 0.03, dist
