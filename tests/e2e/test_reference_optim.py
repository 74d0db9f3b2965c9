"""Optimizers and learning-rate rules against an independent numpy implementation, on the mlp
family: the same network, initial weights (the point's stored params_init) and data (an HDF5
file) trained for 60 steps by momentum, Nesterov, Adam (L2 decay), AdamW (decoupled decay), SGD
with a step decay and a coupled weight decay, and full-batch GD under halve_on_rise with a rate
large enough that updates are undone. The numpy side writes each rule from its textbook form
(optim.h's table; Adam as m̂/(√v̂ + ε), not the tool's PyTorch order) and replays mini-batches
from the sampler's documented stream (ls_rng.py). The network and the losses are the numpy
ones of test_mlp_reference.py (which covers gd and sgd); the same tolerances hold for the same
reasons: the logged train_loss at every step to 1e-9 relative, the final parameters to 1e-9
relative in norm, while a wrong factor (β-correction, μ, decay placement, a halving) moves the
trajectory by 1e-4 or more. Last, a mini-batch sweep gives the same bits on 1 and 3
ranks."""
import h5py
import numpy as np
import pytest

from conftest import assert_same_bytes, datasets, run, write_job
from ls_rng import batches
from test_mlp_reference import Net, loss, make_data

JOB = """\
name: opt
seed: {seed}
model: {{family: mlp, depth: 2, width: {width}, activation: tanh, init: gaussian, variance: he}}
data: {{kind: hdf5, file: {file}, task: {task}, test_fraction: 0}}
train: {{loss: {loss}, optimizer: {opt}, lr: {lr}, max_steps: {steps}{extra},
         log: {{points: {points}, spacing: linear}}}}
metrics: [train_loss, steps]
store: [params_init, params_final]
"""

BASE = dict(width=12, task="regression", loss="mse", n=40, d=5, classes=3, opt="gd", lr=0.05,
            batch=0, mu=0.9, b1=0.9, b2=0.999, eps=1e-8, wd=0.0, wd_yaml=None, decay=None,
            halve=False)

CASES = {
    "momentum_full": dict(opt="momentum", mu=0.8),
    "nesterov_sgd_decay": dict(opt="nesterov", batch=8, wd=0.01),
    "adam_l2_batches": dict(opt="adam", batch=8, lr=0.01, wd=0.001, b2=0.99),
    "adamw_full_ce": dict(opt="adamw", lr=0.01, wd=0.1, task="classes", loss="cross_entropy"),
    "sgd_step_decay_coupled": dict(opt="sgd", batch=7, lr=0.1, decay=([20, 40], 0.5),
                                   wd=0.02 / 12, wd_yaml="{base: 0.02, scale: {width: -1}}"),
    "gd_halve_on_rise": dict(opt="gd", lr=3.0, halve=True),
}

SEED, STEPS = 5, 60


def extra_keys(c):
    e = ""
    if c["batch"]:
        e += f", batch_size: {c['batch']}"
    if c["opt"] in ("momentum", "nesterov"):
        e += f", momentum: {c['mu']}"
    if c["opt"] in ("adam", "adamw"):
        e += f", beta1: {c['b1']}, beta2: {c['b2']}, eps: {c['eps']}"
    if c["wd"]:
        e += f", weight_decay: {c['wd_yaml'] or c['wd']}"
    if c["decay"]:
        e += f", lr_schedule: step, lr_decay: {{at: {c['decay'][0]}, factor: {c['decay'][1]}}}"
    if c["halve"]:
        e += ", lr_schedule: halve_on_rise"
    return e


class Optimizer:
    """optim.h's update rules, from their textbook forms."""

    def __init__(self, c, n):
        self.c, self.v, self.m, self.t = c, np.zeros(n), np.zeros(n), 0

    def state(self):
        return self.v.copy(), self.m.copy(), self.t

    def restore(self, s):
        self.v, self.m, self.t = s[0].copy(), s[1].copy(), s[2]

    def step(self, theta, g, lr):
        c, wd = self.c, self.c["wd"]
        if c["opt"] == "adamw":
            theta = theta - lr * wd * theta
        else:
            g = g + wd * theta
        if c["opt"] in ("gd", "sgd"):
            return theta - lr * g
        if c["opt"] in ("momentum", "nesterov"):
            self.v = c["mu"] * self.v + g
            return theta - lr * (g + c["mu"] * self.v if c["opt"] == "nesterov" else self.v)
        self.t += 1
        self.m = c["b1"] * self.m + (1 - c["b1"]) * g
        self.v = c["b2"] * self.v + (1 - c["b2"]) * g * g
        mh, vh = self.m / (1 - c["b1"] ** self.t), self.v / (1 - c["b2"] ** self.t)
        return theta - lr * mh / (np.sqrt(vh) + c["eps"])


def reference(c, X, y, theta0):
    C = c["classes"] if c["task"] == "classes" else 1
    net = Net(dict(depth=2, width=c["width"], bias="true", anti="false", param="standard",
                   mode="weights", alpha=1.0, act="tanh"), X.shape[1], C, theta0)
    opt, theta = Optimizer(c, theta0.size), theta0.copy()
    sched = batches(SEED, 0, len(y), c["batch"], STEPS) if c["batch"] else None
    traj, halving, undone, snap = [], 1.0, 0, None
    for s in range(STEPS + 1):
        L, dF = loss(c["loss"], net.f(theta, X)[0], y, C)
        g = net.grad(theta, X, dF) if sched is None else None
        if c["halve"] and s > 0 and not L <= snap[0]:
            L, theta, g = snap[0], snap[1].copy(), snap[2].copy()
            opt.restore(snap[3])
            halving, undone = halving / 2, undone + 1
        traj.append(L)
        if s == STEPS:
            break
        if sched is not None:
            idx = sched[s]
            g = net.grad(theta, X[idx], loss(c["loss"], net.f(theta, X[idx])[0], y[idx], C)[1])
        if c["halve"]:
            snap = (L, theta.copy(), g.copy(), opt.state())
        lr = c["lr"] * halving
        if c["decay"]:
            lr *= c["decay"][1] ** sum(a <= s for a in c["decay"][0])
        theta = opt.step(theta, g, lr)
    return np.array(traj), theta, undone


@pytest.mark.parametrize("case", sorted(CASES))
def test_optimizer_matches_numpy(tmp_path, case):
    c = {**BASE, **CASES[case]}
    X, y = make_data(c, tmp_path / "data.h5")
    job = write_job(tmp_path, JOB.format(seed=SEED, file=tmp_path / "data.h5", steps=STEPS,
                                         points=STEPS + 1, extra=extra_keys(c), **c))
    out = tmp_path / "out.h5"
    r = run(job, out)
    assert r.returncode == 0, r.stderr
    with h5py.File(out, "r") as f:
        assert f["status"][0] == 1
        traj = f["trajectories/train_loss"][0]
        theta0, theta1 = f["vectors/params_init"][0], f["vectors/params_final"][0]
    ref, ref_theta, undone = reference(c, X, y, theta0)
    rel = np.max(np.abs(traj - ref) / np.abs(ref))
    prel = np.linalg.norm(theta1 - ref_theta) / np.linalg.norm(ref_theta)
    print(f"{case}: loss {ref[0]:.4g} → {ref[-1]:.4g}, {undone} updates undone; max rel diff "
          f"of the trajectory {rel:.2e}, of the final parameters {prel:.2e}")
    assert ref[-1] < 0.9 * ref[0], "the case must actually train"
    if c["halve"]:
        assert undone >= 2, "the case must exercise halve_on_rise"
        assert np.all(np.diff(ref) <= 0), "under halve_on_rise the loss never rises"
    assert rel < 1e-9
    assert prel < 1e-9


MINIBATCH_SWEEP = """\
name: mb
model: {family: diagonal}
data: {kind: sparse_regression, n_train: 20, dim: 50}
train: {optimizer: nesterov, momentum: 0.5, batch_size: 5, lr: 0.01, max_steps: 200,
        lr_schedule: step, lr_decay: {at: [100], factor: 0.5},
        weight_decay: {base: 0.001, scale: {init_scale: -1}}}
grid: {init_scale: [0.5, 1], seed: [0, 1, 2]}
"""


def test_minibatch_sweep_same_bits_on_1_and_3_ranks(tmp_path):
    """Batches come from each point's own stream, so who ran a point does not matter."""
    job = write_job(tmp_path, MINIBATCH_SWEEP)
    files = []
    for ranks in (1, 3):
        out = tmp_path / f"r{ranks}.h5"
        r = run(job, out, ranks=ranks)
        assert r.returncode == 0, r.stderr
        files.append(datasets(out))
    assert_same_bytes(*files)
    assert np.all(files[0]["status"] == 1)
