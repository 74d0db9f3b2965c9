"""The mlp family against an independent numpy implementation. For each case the same network,
initial weights (the point's stored params_init) and data (an HDF5 file written here) are
trained for 100 steps of full-batch GD and of mini-batch SGD (the batches replayed from the
sampler's documented stream, ls_rng.py); the logged train_loss trajectory (every step) must
agree to 1e-9 relative and the final parameters (params_final) to 1e-9 relative in norm.

Why 1e-9: both sides compute in double; they differ only in summation order (BLAS blocking vs
numpy), a few ulps per operation. Over 100 steps at these learning rates the measured largest
deviation is around 1e-13 (printed with -s), so the bound leaves a margin of about 10⁴ while a
wrong factor anywhere (a missing 2, 1/√fan_in, α, a sign) changes the trajectory at the 1e-3
level or more."""
import h5py
import numpy as np
import pytest

from conftest import run, write_job
from ls_rng import batches
from mlp_numpy import Net, loss

JOB = """\
name: ref
seed: {seed}
model: {{family: mlp, depth: {depth}, width: {width}, activation: {act}, bias: {bias},
         parametrization: {param}, scale_mode: {mode}, antisymmetric: {anti},
         init: {init}, variance: {var}, init_scale: {alpha}, leaky_slope: 0.1}}
data: {{kind: hdf5, file: {file}, x_dataset: X, y_dataset: y, task: {task}, test_fraction: 0}}
train: {{optimizer: {opt}, lr: {lr}, max_steps: {steps}, loss: {loss}{batch},
         log: {{points: {points}, spacing: linear}}}}
metrics: [{metrics}]
store: [params_init, params_final]
"""

BASE = dict(depth=2, width=12, act="tanh", bias="true", param="standard", mode="weights",
            anti="false", init="gaussian", var="he", alpha=1.0, lr=0.1, loss="mse",
            task="regression", n=40, d=5, classes=3, opt="gd", batch_size=0)

CASES = {
    "mse_tanh": {},
    "mse_relu_ntk_nobias": dict(act="relu", param="ntk", bias="false", lr=0.5),
    "mse_classes_onehot": dict(task="classes", act="leaky_relu", var="lecun"),
    "bce_relu_output_scale": dict(task="binary", loss="bce", act="relu", mode="output",
                                  alpha=2.0, lr=0.05),
    "ce_leaky_antisymmetric": dict(task="classes", loss="cross_entropy", act="leaky_relu",
                                   anti="true", init="uniform", var="pytorch", lr=0.5),
    "soft_f1_tanh_ntk": dict(task="binary", loss="soft_f1", param="ntk", lr=0.5),
    "soft_accuracy_linear": dict(task="binary", loss="soft_accuracy", act="linear",
                                 init="orthogonal", var="xavier", lr=0.5),
    "wide_1d_antisymmetric": dict(depth=1, width=50, act="relu", anti="true", d=1, n=5,
                                  alpha=0.5, lr=0.03),
    "sgd_mse_relu": dict(act="relu", opt="sgd", batch_size=8, lr=0.05),
    "sgd_ce_weights_alpha": dict(task="classes", loss="cross_entropy", opt="sgd", batch_size=7,
                                 alpha=0.5, lr=0.5),
    "sgd_soft_f1_output": dict(task="binary", loss="soft_f1", opt="sgd", batch_size=16,
                               mode="output", alpha=1.5, lr=0.5),
}

SEED, STEPS = 11, 100


# ---- the runs ----------------------------------------------------------------------------------

def make_data(c, path):
    g = np.random.default_rng(7)
    X = g.standard_normal((c["n"], c["d"]))
    if c["task"] == "regression":
        y = np.sin(X @ np.linspace(1, -1, c["d"])) + 0.1 * g.standard_normal(c["n"])
    elif c["task"] == "binary":
        y = (X[:, 0] + 0.5 * X[:, -1] > 0.3).astype(float)
    else:
        y = np.argmax(X[:, :c["classes"]] + 0.3 * g.standard_normal((c["n"], c["classes"])),
                      axis=1).astype(float)
    with h5py.File(path, "w") as f:
        f["X"], f["y"] = X, y
    return X, y


def reference(c, X, y, theta0):
    C = c["classes"] if c["task"] == "classes" else 1
    net, theta = Net(c, X.shape[1], C, theta0), theta0.copy()
    steps = batches(SEED, 0, len(y), c["batch_size"], STEPS) if c["opt"] == "sgd" else None
    traj = []
    for s in range(STEPS + 1):
        L, dF = loss(c["loss"], net.f(theta, X)[0], y, C)
        traj.append(L)
        if s == STEPS:
            break
        if steps is not None:
            idx = steps[s]
            dF = loss(c["loss"], net.f(theta, X[idx])[0], y[idx], C)[1]
            theta = theta - c["lr"] * net.grad(theta, X[idx], dF)
        else:
            theta = theta - c["lr"] * net.grad(theta, X, dF)
    F = net.f(theta, X)[0]
    acc = np.mean((np.argmax(F, axis=1) if C > 1 else
                   (F[:, 0] >= (0.5 if c["loss"] == "mse" else 0.0))) == y)
    return np.array(traj), theta, acc


@pytest.mark.parametrize("case", sorted(CASES))
def test_matches_numpy(tmp_path, case):
    c = {**BASE, **CASES[case]}
    X, y = make_data(c, tmp_path / "data.h5")
    metrics = "train_loss, steps" if c["task"] == "regression" else \
        "train_loss, train_accuracy, steps"
    batch = f", batch_size: {c['batch_size']}" if c["opt"] == "sgd" else ""
    job = write_job(tmp_path, JOB.format(seed=SEED, file=tmp_path / "data.h5", steps=STEPS,
                                         points=STEPS + 1, metrics=metrics, batch=batch, **c))
    out = tmp_path / "out.h5"
    r = run(job, out)
    assert r.returncode == 0, r.stderr
    with h5py.File(out, "r") as f:
        assert f["status"][0] == 1
        assert list(f["trajectories/step"][()]) == list(range(STEPS + 1))
        traj = f["trajectories/train_loss"][0]
        theta0, theta1 = f["vectors/params_init"][0], f["vectors/params_final"][0]
        acc = f["metrics/train_accuracy"][0] if "train_accuracy" in metrics else None
    ref, ref_theta, ref_acc = reference(c, X, y, theta0)
    rel = np.max(np.abs(traj - ref) / np.abs(ref))
    prel = np.linalg.norm(theta1 - ref_theta) / np.linalg.norm(ref_theta)
    print(f"{case}: loss {ref[0]:.4g} → {ref[-1]:.4g}; max rel diff of the trajectory {rel:.2e},"
          f" of the final parameters {prel:.2e}")
    assert ref[-1] < 0.98 * ref[0], "the case must actually train"
    assert rel < 1e-9
    assert prel < 1e-9
    if acc is not None:
        assert acc == ref_acc
