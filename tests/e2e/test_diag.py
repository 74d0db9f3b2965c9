"""The mlp family's diagnostics end to end (docs/diagnostics.md): a job gives bit-identical
losses and parameters with and without them, and every diagnostic stored at the final logged
step equals an independent numpy computation (mlp_numpy.Net: per-sample gradients formed
explicitly, the kernel as JJᵀ, the linearization from the explicit Jacobian at θ₀, the
mini-batch gradients of the stored batches) from the stored parameters.

Why 1e-9 relative: both sides compute in double and differ only in summation order (BLAS vs
numpy), a few ulps per operation; a wrong factor (a missing bias term, mult, α, a sign, the wrong
θ₀) moves these values at the 1e-2 level or more."""
import h5py
import numpy as np
import pytest

from conftest import assert_same_bytes, datasets, run, write_job
from mlp_numpy import Net, loss

DIAG = ("weight_change, weight_change_layer_0, weight_change_layer_1, weight_change_layer_2, "
        "activation_change, ntk_change, kernel_alignment, linearization_gap, sample_confusion, "
        "sample_cos_min, grad_cos_min, grad_cos_mean, grad_cos_p05, grad_cos_negative")

JOB = """\
name: diag
seed: 4
model: {{family: mlp, depth: {depth}, width: {width}, activation: {act}, bias: {bias},
         scale_mode: {mode}, antisymmetric: {anti}, init_scale: {alpha}, parametrization: {param}}}
data: {{kind: hdf5, file: {file}, x_dataset: X, y_dataset: y, task: {task}, test_fraction: 0}}
train: {{optimizer: {opt}, lr: {lr}, max_steps: {steps}, loss: {loss}{batch},
         log: {{points: 5, spacing: linear}}}}
probe: {{size: 24}}
confusion: {{pairs: 12, batch: 10}}
metrics: [train_loss, {metrics}]
store: [params_init, params_final{store}]
"""

BASE = dict(depth=2, width=9, act="relu", bias="true", mode="weights", anti="false", alpha=1.0,
            param="standard", task="regression", loss="mse", opt="gd", lr=0.05, steps=30,
            batch_size=0, n=60, d=5, classes=3)

CASES = {
    "gd_mse_relu": {},
    "momentum_ce_output": dict(task="classes", loss="cross_entropy", opt="momentum",
                               batch_size=8, mode="output", alpha=2.0, lr=0.05, act="tanh"),
    "adam_bce_antisymmetric_ntk": dict(task="binary", loss="bce", opt="adam", batch_size=16,
                                       anti="true", param="ntk", lr=0.01, act="leaky_relu"),
}


def make_data(c, path):
    g = np.random.default_rng(3)
    X = g.standard_normal((c["n"], c["d"]))
    if c["task"] == "regression":
        y = np.sin(X @ np.linspace(1, -1, c["d"]))
    elif c["task"] == "binary":
        y = (X[:, 0] - 0.5 * X[:, 1] > 0.2).astype(float)
    else:
        y = np.argmax(X[:, :c["classes"]], axis=1).astype(float)
    with h5py.File(path, "w") as f:
        f["X"], f["y"] = X, y
    return X, y


def sweep(tmp_path, c, name, metrics, store):
    batch = f", batch_size: {c['batch_size']}" if c["batch_size"] else ""
    job = write_job(tmp_path, JOB.format(file=tmp_path / "data.h5", metrics=metrics, store=store,
                                         batch=batch, **c), name=f"{name}.yaml")
    out = tmp_path / f"{name}.h5"
    r = run(job, out)
    assert r.returncode == 0, r.stderr
    return h5py.File(out, "r")


@pytest.mark.parametrize("case", sorted(CASES))
def test_diagnostics_leave_training_unchanged(tmp_path, case):
    c = {**BASE, **CASES[case]}
    make_data(c, tmp_path / "data.h5")
    with sweep(tmp_path, c, "plain", "steps", "") as a, \
            sweep(tmp_path, c, "diag", DIAG + ", steps", ", grad_cosines") as b:
        assert a["status"][0] == b["status"][0] == 1
        la, lb = a["trajectories/train_loss"][0], b["trajectories/train_loss"][0]
        pa, pb = a["vectors/params_final"][0], b["vectors/params_final"][0]
        assert la.tobytes() == lb.tobytes(), (la, lb)
        assert pa.tobytes() == pb.tobytes()
        assert np.all(np.isfinite(b["trajectories/ntk_change"][0]))
        assert b["trajectories/weight_change"][0][0] == 0.0  # step 0 is θ₀
        assert b["trajectories/activation_change"][0][0] == 0.0
        assert b["trajectories/weight_change"][0][-1] > 0


# ---- the numpy reference -----------------------------------------------------------------------

def per_sample(net, theta, X, dF):
    """Rows of explicit per-sample gradients: row i is ∇_θ of Σ_c dF[i, c]·f_c(x_i)."""
    return np.stack([net.grad(theta, X[i:i + 1], dF[i:i + 1]) for i in range(len(X))])


def jacobians(net, theta, X, C):
    """[C][n][params]: ∇f_c(x_i)."""
    return [per_sample(net, theta, X, np.tile(np.eye(C)[c], (len(X), 1))) for c in range(C)]


def reference(c, X, y, theta0, theta, idx, rows, C):
    net = Net({**c, "slope": 0.01}, X.shape[1], C, theta0)
    P = X[idx]
    out = {}
    # weight change, whole and per layer (every tower's W_l and b_l)
    out["weight_change"] = np.linalg.norm(theta - theta0) / np.linalg.norm(theta0)
    T0, T1 = net.unpack(theta0), net.unpack(theta)
    for l in range(net.L + 1):
        num = sum(np.sum((T1[t][l][0] - T0[t][l][0]) ** 2) + np.sum((T1[t][l][1] - T0[t][l][1]) ** 2)
                  for t in range(net.T))
        den = sum(np.sum(T0[t][l][0] ** 2) + np.sum(T0[t][l][1] ** 2) for t in range(net.T))
        out[f"weight_change_layer_{l}"] = np.sqrt(num / den)
    # activation change: the sign of every hidden pre-activation on the probe set
    if c["act"] == "linear":
        out["activation_change"] = 0.0
    else:
        def signs(th):
            on = []
            for layers in net.unpack(th):
                A = P
                for l in range(net.L):
                    W, b = layers[l]
                    z = net.mult[l] * A @ W.T + b
                    on.append((z > 0).ravel())
                    A = net.phi(z)[0]
            return np.concatenate(on)
        out["activation_change"] = np.mean(signs(theta) != signs(theta0))
    # tangent kernel K = Σ_c J_c J_cᵀ
    K0 = sum(J @ J.T for J in jacobians(net, theta0, P, C))
    K = sum(J @ J.T for J in jacobians(net, theta, P, C))
    out["ntk_change"] = np.linalg.norm(K - K0) / np.linalg.norm(K0)
    yp = y[idx]
    Y = (np.eye(C)[yp.astype(int)] if c["task"] == "classes" else
         (2 * yp - 1)[:, None] if c["task"] == "binary" else yp[:, None])
    YY = Y @ Y.T
    out["kernel_alignment"] = np.sum(K * YY) / (np.linalg.norm(K) * np.linalg.norm(YY))
    # linearization gap from the explicit Jacobian at θ₀
    J0 = jacobians(net, theta0, P, C)
    flin = net.f(theta0, P)[0] + np.stack([J @ (theta - theta0) for J in J0], axis=1)
    ft, f0 = net.f(theta, P)[0], net.f(theta0, P)[0]
    out["linearization_gap"] = np.linalg.norm(ft - flin) / np.linalg.norm(ft - f0)
    # per-sample loss gradients on the probe set
    dl = np.concatenate([loss(c["loss"], ft[i:i + 1], yp[i:i + 1], C)[1] for i in range(len(P))])
    G = per_sample(net, theta, P, dl)
    gram = G @ G.T
    off = ~np.eye(len(P), dtype=bool)
    nrm = np.sqrt(np.diag(gram))
    out["sample_confusion"] = max(0.0, -gram[off].min())
    out["sample_cos_min"] = (gram / np.outer(nrm, nrm))[off].min()
    # mini-batch gradient cosines of the stored batches
    cos = []
    for pair in rows:
        g = []
        for b in pair:
            dF = loss(c["loss"], net.f(theta, X[b])[0], y[b], C)[1]
            g.append(net.grad(theta, X[b], dF))
        cos.append(g[0] @ g[1] / (np.linalg.norm(g[0]) * np.linalg.norm(g[1])))
    cos = np.array(cos)
    out.update(grad_cos_min=cos.min(), grad_cos_mean=cos.mean(),
               grad_cos_p05=np.percentile(cos, 5), grad_cos_negative=np.mean(cos < 0))
    return out, cos


@pytest.mark.parametrize("case", sorted(CASES))
def test_diagnostics_match_numpy(tmp_path, case):
    c = {**BASE, **CASES[case]}
    X, y = make_data(c, tmp_path / "data.h5")
    C = c["classes"] if c["task"] == "classes" else 1
    with sweep(tmp_path, c, "diag", DIAG,
               ", grad_cosines, confusion_batches, probe_index") as f:
        assert f["status"][0] == 1
        theta0, theta = f["vectors/params_init"][0], f["vectors/params_final"][0]
        idx = f["vectors/probe_index"][0].astype(int)
        rows = f["vectors/confusion_batches"][0].astype(int).reshape(12, 2, 10)
        cos = f["vectors/grad_cosines"][0]
        got = {m: f["metrics"][m][0] for m in f["metrics"]}
        last = {m: f["trajectories"][m][0][-1] for m in f["trajectories"] if m != "step"}
    assert len(set(idx)) == len(idx) == 24
    for pair in rows:
        assert len(set(pair.ravel())) == 20  # two disjoint batches
    ref, ref_cos = reference(c, X, y, theta0, theta, idx, rows, C)
    assert np.max(np.abs(cos - ref_cos)) < 1e-9, (cos, ref_cos)
    for m, want in ref.items():
        if m not in got:
            continue
        print(f"{case} {m}: {got[m]:.12g} numpy {want:.12g}")
        assert got[m] == last[m] or (np.isnan(got[m]) and np.isnan(last[m]))
        assert abs(got[m] - want) <= 1e-9 * max(abs(want), 1e-3), (m, got[m], want)
    assert ref["weight_change"] > 1e-3 and ref["ntk_change"] > 1e-6  # the case moved


def test_diagnostics_do_not_depend_on_ranks(tmp_path):
    """A grid of points on 1 and on 3 ranks: every metric, trajectory and stored vector of the
    diagnostics (their draws included) is the same, byte for byte."""
    c = {**BASE, **CASES["momentum_ce_output"]}
    make_data(c, tmp_path / "data.h5")
    text = JOB.format(file=tmp_path / "data.h5", metrics=DIAG, batch=", batch_size: 8",
                      store=", grad_cosines, confusion_batches, probe_index", **c)
    job = write_job(tmp_path, text + "grid:\n  init_scale: [0.5, 2.0]\n  seed: [0, 1]\n")
    got = []
    for ranks in (1, 3):
        out = tmp_path / f"r{ranks}.h5"
        r = run(job, out, ranks=ranks)
        assert r.returncode == 0, r.stderr
        got.append(datasets(out, groups=("metrics", "trajectories", "vectors")))
    assert "vectors/confusion_batches" in got[0] and got[0]["status"].size == 4
    assert_same_bytes(*got)
