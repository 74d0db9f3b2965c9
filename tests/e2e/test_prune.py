"""Pruning at initialization through the real binary, checked against numpy.

- Every score of the unpruned net (sparsity 0, `store: [scores]`) against an independent numpy
  computation from the stored params_init and the data written by `lazysweep data`, with the
  samples replayed from their documented stream (ls_rng.py): random (the Philox normals), magnitude,
  SNIP (mlp_numpy's backprop), GraSP (H·g by central differences of numpy gradients, and the full
  Hessian by differences too), SynFlow (the linear path network).
- The masks at s > 0 against numpy's top-k of those scores (one-shot methods) and against a numpy
  replay of 100 rounds of SynFlow; exact counts; the pruned params_init is the drawn one times the
  mask; pruned entries are exactly 0 in params_final, for every optimizer.
- An all-ones mask (s so small that every entry is kept) changes no bit of training.
- Layer collapse: on a deep narrow net, iterative SynFlow keeps every layer up to ρ_max = N/L,
  where one-shot magnitude collapses (the compression at which each first collapses is printed).
"""
import math

import h5py
import numpy as np
import pytest

from conftest import lazysweep, run, write_job
from ls_rng import Stream, rng_key
from mlp_numpy import Net, loss

METHODS = ["random", "magnitude", "snip", "grasp", "synflow"]
MASTER = 3

JOB = """\
name: prune
seed: 3
model: {{family: mlp, depth: 2, width: 6, activation: {act}, bias: true, antisymmetric: {anti}}}
data: {{kind: teacher_student, n_train: 40, dim: 5, n_classes: 3}}
prune: {{samples: 24}}
train: {{loss: cross_entropy, optimizer: adam, lr: 0.01, max_steps: 20, log: {{points: 3}}}}
metrics: [train_loss, density, layer_collapse, min_layer_density, effective_density, synflow_r]
store: [params_init, params_final, scores, masks, layer_density]
grid:
  prune.method: [random, magnitude, snip, grasp, synflow]
  sparsity: [0, 0.8]
"""

CFG = dict(depth=2, width=6, bias="true", param="standard", mode="weights", alpha=1.0)


def read(path):
    with h5py.File(path, "r") as f:
        g = {a: f["grid"][a][()] for a in f["grid"]}
        if "prune.method" in f["grid"]:
            g["prune.method"] = f["grid"]["prune.method"].asstr()[()]
        vec = {v: f["vectors"][v][()] for v in f["vectors"]}
        met = {m: f["metrics"][m][()] for m in f["metrics"]}
        assert (f["status"][()] == 1).all()
    return g, vec, met


def samples(n, k):
    """prune.c's draw: partial Fisher–Yates from the front, stream prune.samples keyed (n, k)."""
    r = Stream(rng_key(MASTER, 0, "prune.samples", [n, k]))
    p = list(range(n))
    for i in range(k):
        j = i + r.below(n - i)
        p[i], p[j] = p[j], p[i]
    return p[:k]


def normals(key, n):
    """rng_normal: Box–Muller on one whole Philox block per draw, the cosine kept."""
    r, out = Stream(key), []
    for _ in range(n):
        r.used = 4  # a fresh block for every draw
        w = [r.u32() for _ in range(4)]
        u1 = ((((w[0] << 32) | w[1]) >> 11) + 0.5) * 2.0**-53
        u2 = (((w[2] << 32) | w[3]) >> 11) * 2.0**-53
        out.append(math.sqrt(-2 * math.log(u1)) * math.cos(2 * math.pi * u2))
    return np.array(out)


def weight_slices(net):
    """Slices of tower 0's weights in the arena, layer by layer."""
    out, k = [], 0
    for i, o in zip(net.sizes[:-1], net.sizes[1:]):
        out.append(slice(k, k + i * o))
        k += i * o + (o if net.bias else 0)
    return out


def synflow(net, theta):
    """|θ ⊙ ∂R/∂θ| of tower 0's weights and biases, and R, on |θ| with an all-ones input."""
    layers = net.unpack(np.abs(theta))[0]
    vs = [np.ones(net.sizes[0])]
    for W, b in layers:
        vs.append(W @ vs[-1] + b)
    u, s = np.ones(net.sizes[-1]), np.zeros_like(theta)
    k = [0]
    for i, o in zip(net.sizes[:-1], net.sizes[1:]):
        k.append(k[-1] + i * o + o)
    for l in range(len(layers) - 1, -1, -1):
        W, b = layers[l]
        s[k[l]:k[l] + W.size] = (u[:, None] * W * vs[l][None, :]).ravel()
        s[k[l] + W.size:k[l + 1]] = u * b
        u = W.T @ u
    return s, vs[-1].sum()


def grad(net, theta, X, y, C):
    F, _ = net.f(theta, X)
    _, dF = loss("cross_entropy", F, y, C)
    return net.grad(theta, X, dF)


def numpy_scores(method, net, theta, X, y, N):
    if method == "random":
        return None  # replayed separately (weights only)
    if method == "magnitude":
        return np.abs(theta)
    g = grad(net, theta, X, y, 3)
    if method == "snip":
        return np.abs(g * theta)
    if method == "grasp":
        h = 1e-5 / max(np.abs(g).max(), 1e-300)
        hg = (grad(net, theta + h * g, X, y, 3) - grad(net, theta - h * g, X, y, 3)) / (2 * h)
        return theta * hg
    return synflow(net, theta)[0]


def topk(scores, k):
    """numpy's top-k with prune.c's ties: descending score, then ascending position."""
    order = np.lexsort((np.arange(scores.size), -scores))
    keep = np.zeros(scores.size, bool)
    keep[order[:k]] = True
    return keep


def assert_same_topk(kept, scores, k, tol, what):
    """The kept set equals numpy's top-k but where numpy's own scores tie within tol."""
    want = topk(scores, k)
    assert kept.sum() == k, (what, kept.sum(), k)
    diff = np.flatnonzero(kept != want)
    thr = np.sort(scores)[::-1][k - 1]
    near = np.abs(scores[diff] - thr) <= tol
    assert near.all(), (what, diff[~near], scores[diff[~near]], thr)


@pytest.fixture(scope="module")
def relu_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("prune")
    job = write_job(tmp, JOB.format(act="relu", anti="false"))
    r = run(job, tmp / "p.h5")
    assert r.returncode == 0, r.stderr
    d = lazysweep("data", job, "--seed", 0, "-o", tmp / "d.h5")
    assert d.returncode == 0, d.stderr
    with h5py.File(tmp / "d.h5", "r") as f:
        X, y = f["X"][()], f["y"][()]
    return read(tmp / "p.h5"), X, y


def test_scores_match_numpy(relu_run):
    (g, vec, met), X, y = relu_run
    idx = samples(40, 24)
    Xs, ys = X[idx], y[idx]
    net = Net(dict(CFG, act="relu", anti="false"), 5, 3, vec["params_init"][0])
    ws = weight_slices(net)
    N = sum(s.stop - s.start for s in ws)
    wmask = np.zeros(vec["params_init"].shape[1], bool)
    for s in ws:
        wmask[s] = True
    for p in np.flatnonzero(g["sparsity"] == 0):
        method, theta = g["prune.method"][p], vec["params_init"][p]
        got = vec["scores"][p]
        if method == "random":
            want = np.zeros_like(theta)
            want[wmask] = normals(rng_key(MASTER, 0, "prune.random", [N]), N)
        else:
            want = numpy_scores(method, net, theta, Xs, ys, N) * wmask
        tol = 1e-6 if method == "grasp" else 1e-12
        err = np.abs(got - want).max() / np.abs(want).max()
        print(f"{method}: max |C − numpy| / max |score| = {err:.2e} (bound {tol})")
        assert err <= tol, method
        assert (got[~wmask] == 0).all()
        assert met["density"][p] == 1 and met["layer_collapse"][p] == 0
    r = synflow(net, vec["params_init"][0])[1]
    assert abs(met["synflow_r"][0] - r) <= 1e-12 * r, (met["synflow_r"][0], r)


def test_grasp_hessian_by_differences(relu_run):
    """H·g from the full Hessian (columns by central differences of numpy gradients) against
    the tool's θ ⊙ Hg: a second, independent route to the same product."""
    (g, vec, _), X, y = relu_run
    idx = samples(40, 24)
    Xs, ys = X[idx], y[idx]
    p = np.flatnonzero((g["sparsity"] == 0) & (g["prune.method"] == "grasp"))[0]
    theta = vec["params_init"][p]
    net = Net(dict(CFG, act="relu", anti="false"), 5, 3, theta)
    n, h = theta.size, 1e-5
    H = np.empty((n, n))
    for i in range(n):
        e = np.zeros(n)
        e[i] = h
        H[:, i] = (grad(net, theta + e, Xs, ys, 3) - grad(net, theta - e, Xs, ys, 3)) / (2 * h)
    assert np.abs(H - H.T).max() <= 1e-6 * np.abs(H).max()
    gg = grad(net, theta, Xs, ys, 3)
    ws = weight_slices(net)
    want = np.zeros(n)
    for s in ws:
        want[s] = (theta * (H @ gg))[s]
    err = np.abs(vec["scores"][p] - want).max() / np.abs(want).max()
    print(f"grasp vs full-Hessian differences: {err:.2e}")
    assert err <= 1e-6


def synflow_rounds(net, theta, wmask, s, rounds=100):
    """prune.c's iterative SynFlow in numpy: round k keeps round((1 − s)^(k/n)·N) of the alive."""
    alive, N, th = wmask.copy(), wmask.sum(), theta.copy()
    for k in range(1, rounds + 1):
        d = 1 - s if k == rounds else (1 - s) ** (k / rounds)
        target = int(math.floor(N * d + 0.5))
        if target >= alive.sum():
            continue
        sc = synflow(net, th)[0]
        sc = np.where(alive, sc, -np.inf)
        alive = topk(sc, target) & alive
        th = np.where(wmask & ~alive, 0.0, th)
    return alive


def test_masks_counts_and_zeros(relu_run):
    (g, vec, met), X, y = relu_run
    idx = samples(40, 24)
    Xs, ys = X[idx], y[idx]
    theta0 = vec["params_init"][np.flatnonzero(g["sparsity"] == 0)[0]]
    net = Net(dict(CFG, act="relu", anti="false"), 5, 3, theta0)
    ws = weight_slices(net)
    wmask = np.zeros(theta0.size, bool)
    for s in ws:
        wmask[s] = True
    N = int(wmask.sum())
    for p in np.flatnonzero(g["sparsity"] > 0):
        method, s = g["prune.method"][p], g["sparsity"][p]
        mask = vec["masks"][p]
        k = int(math.floor(N * (1 - s) + 0.5))
        kept = mask[wmask] == 1
        assert set(np.unique(mask)) <= {0.0, 1.0} and (mask[~wmask] == 1).all()
        assert kept.sum() == k and met["density"][p] == k / N
        if method == "synflow":
            want = synflow_rounds(net, theta0, wmask, s)[wmask]
            assert (kept == want).all(), np.flatnonzero(kept != want)
        else:
            if method == "random":
                sc = normals(rng_key(MASTER, 0, "prune.random", [N]), N)
            else:
                sc = numpy_scores(method, net, theta0, Xs, ys, N)[wmask]
            tol = 1e-6 * np.abs(sc).max() if method == "grasp" else 1e-12 * np.abs(sc).max()
            assert_same_topk(kept, sc, k, tol, method)
        assert (vec["params_init"][p] == theta0 * mask).all()
        final = vec["params_final"][p]
        assert (final[mask == 0] == 0).all() and not np.signbit(final[mask == 0]).any()
        assert (final[mask == 1] != vec["params_init"][p][mask == 1]).any()  # it trained
        per = [(mask[s] == 1).mean() for s in ws]
        assert (vec["layer_density"][p] == per).all(), (vec["layer_density"][p], per)
        assert met["min_layer_density"][p] == min(per)
        assert met["layer_collapse"][p] == float(min(per) == 0)
        assert met["effective_density"][p] <= met["density"][p]


OPT_JOB = """\
name: opt
seed: 5
model: {{family: mlp, depth: 2, width: 8, activation: tanh, antisymmetric: {anti}}}
data: {{kind: teacher_student, n_train: 30, dim: 4, n_classes: 0}}
prune: {{method: {method}}}
train: {{optimizer: {opt}, lr: 0.02, max_steps: 40, weight_decay: {wd}{batch}, log: {{points: 3}}}}
metrics: [train_loss, density]
store: [masks, params_final]
grid:
  sparsity: [0, 1.0e-9, 0.9]
"""


@pytest.mark.parametrize("opt", ["gd", "sgd", "momentum", "nesterov", "adam", "adamw"])
def test_every_optimizer_keeps_zeros(tmp_path, opt):
    """s = 0.9: pruned entries exactly 0 in params_final; s = 1e-9 keeps every entry, and its
    all-ones mask (held every step) gives the same bits as s = 0."""
    batch = ", batch_size: 8" if opt != "gd" else ""
    wd = 0 if opt == "sgd" else 0.01  # sgd without decay: the descend path
    job = write_job(tmp_path, OPT_JOB.format(opt=opt, wd=wd, batch=batch, method="snip",
                                             anti="true" if opt == "adam" else "false"))
    r = run(job, tmp_path / "o.h5")
    assert r.returncode == 0, r.stderr
    g, vec, met = read(tmp_path / "o.h5")
    fin, mask = vec["params_final"], vec["masks"]
    assert (mask[1] == 1).all() and met["density"][1] == 1
    assert fin[0].tobytes() == fin[1].tobytes(), opt
    pruned = mask[2] == 0
    assert pruned.sum() > 0 and (fin[2][pruned] == 0).all()
    assert not np.signbit(fin[2][pruned]).any()


COLLAPSE_JOB = """\
name: collapse
seed: 2
model: {{family: mlp, depth: 8, width: 10, activation: relu, bias: false}}
data: {{kind: teacher_student, n_train: 50, dim: 100, n_classes: 3}}
train: {{loss: cross_entropy, lr: 0.01, max_steps: 1, log: {{points: 2}}}}
metrics: [density, layer_collapse, min_layer_density, effective_density]
store: [layer_density]
grid:
  prune.method: [synflow, magnitude]
  sparsity: {{compression_exponent: {xs}}}
"""


def test_synflow_avoids_collapse(tmp_path):
    """784→… is too big for CI; a 100-10×8-3 net has N = 1730 weights in L = 9 layers, so
    ρ_max = N/L ≈ 192 (one weight per layer). Its first layer's weights are 3× smaller than the
    others (He init, fan-in 100 vs 10), so one-shot magnitude empties it early."""
    N, L = 100 * 10 + 7 * 10 * 10 + 10 * 3, 9
    xmax = math.log10(N / L)
    xs = [round(0.25 * i, 2) for i in range(int(xmax / 0.25) + 1)] + [xmax]
    job = write_job(tmp_path, COLLAPSE_JOB.format(xs="[" + ", ".join(map(repr, xs)) + "]"))
    r = run(job, tmp_path / "c.h5")
    assert r.returncode == 0, r.stderr
    g, vec, met = read(tmp_path / "c.h5")
    first = {}
    for method in ("synflow", "magnitude"):
        rows = np.flatnonzero(g["prune.method"] == method)
        rows = rows[np.argsort(g["sparsity"][rows])]
        x = -np.log10(1 - g["sparsity"][rows])
        col = met["layer_collapse"][rows]
        first[method] = x[col == 1][0] if (col == 1).any() else None
        print(f"{method}: first collapse at log10 ρ = {first[method]} (ρ_max = 10^{xmax:.3f}); "
              f"min layer density {met['min_layer_density'][rows]}")
    assert first["synflow"] is None
    assert first["magnitude"] is not None and first["magnitude"] < xmax
    rows = np.flatnonzero(g["prune.method"] == "synflow")
    top = rows[np.argmax(g["sparsity"][rows])]
    assert (vec["layer_density"][top] > 0).all()
    # report: log10 ρ as the x axis (in the CSV too) and the collapse figure
    rep = lazysweep("report", tmp_path / "c.h5", "--quiet", "--metric", "min_layer_density",
                    "--x", "compression_exponent", "--plot", tmp_path / "m.png",
                    "--layer-density", tmp_path / "ld.png", "--where", "prune.method=magnitude",
                    "--csv", tmp_path / "t.csv")
    assert rep.returncode == 0, rep.stderr
    assert (tmp_path / "m.png").stat().st_size > 0 and (tmp_path / "ld.png").stat().st_size > 0
    import csv
    with open(tmp_path / "t.csv") as f:
        got = sorted(float(row["compression_exponent"]) for row in csv.DictReader(f))
    want = sorted(-np.log10(1 - g["sparsity"][g["prune.method"] == "magnitude"]))
    assert np.allclose(got, want, rtol=1e-12, atol=1e-12), (got, want)


def test_small_study_job(tmp_path):
    """jobs/pruning_small.yaml as shipped: at x = 0 nothing is pruned, so every method trains
    the same dense net to the same bits; SynFlow never collapses and keeps (almost) no weight off
    the input→output paths; every point keeps exactly round(N·10^−x) weights."""
    from conftest import JOBS
    r = run(JOBS / "pruning_small.yaml", tmp_path / "s.h5")
    assert r.returncode == 0, r.stderr
    g, vec, met = read(tmp_path / "s.h5")
    N = 784 * 32 + 5 * 32 * 32 + 32 * 10
    x = -np.log10(1 - g["sparsity"])
    dense = np.flatnonzero(g["sparsity"] == 0)
    assert len({met["test_accuracy"][p] for p in dense}) == 1
    assert met["test_accuracy"][dense[0]] > 0.7
    for p in range(len(x)):
        k = math.floor(N * (1 - g["sparsity"][p]) + 0.5)
        assert met["density"][p] == k / N, (met["density"][p], k, N)
    sf = g["prune.method"] == "synflow"
    assert (met["layer_collapse"][sf] == 0).all()
    assert (met["effective_density"][sf] > 0.9 * met["density"][sf]).all()  # paths kept
    for m in METHODS:
        rows = np.flatnonzero(g["prune.method"] == m)
        print(m, "collapse at x =", x[rows][met["layer_collapse"][rows] == 1],
              "accuracy", met["test_accuracy"][rows])
