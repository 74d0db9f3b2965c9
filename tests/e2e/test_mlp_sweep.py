"""mlp sweeps end to end: a grid over the loss (bce, soft_f1), the parametrization and seeds on a
binary task, and one over the width on a task with classes, each run on 1 and 3 MPI ranks with
bitwise-identical results; then every final metric recomputed in numpy (mlp_numpy.py) from the
stored params_final and the points' data written out by `lazysweep data`: train_loss and
test_loss to 1e-12 relative, accuracy, precision, recall and F1 exactly (they are ratios of
counts)."""
import h5py
import numpy as np
import pytest

from conftest import assert_same_bytes, datasets, lazysweep, run, write_job
from mlp_numpy import Net, loss

BINARY = """\
name: mlp_binary
seed: 5
model: {family: mlp, depth: 2, width: 16, activation: tanh, antisymmetric: true}
data: {kind: teacher_student, n_train: 60, n_test: 40, dim: 4, n_classes: 2}
train: {optimizer: gd, lr: 0.3, max_steps: 150, log: {points: 8}}
metrics: [train_loss, test_loss, train_accuracy, test_accuracy, test_precision, test_recall,
          test_f1, steps]
store: [params_final]
grid:
  train.loss: [bce, soft_f1]
  model.parametrization: [standard, ntk]
  seed: {range: [0, 2]}
"""

CLASSES = """\
name: mlp_classes
seed: 9
model: {family: mlp, depth: 1, activation: relu, scale_mode: output, init_scale: 2.0}
data: {kind: teacher_student, n_train: 80, n_test: 50, dim: 6, n_classes: 4}
train: {optimizer: sgd, batch_size: 16, lr: 0.1, max_steps: 200, loss: cross_entropy,
        log: {points: 8}}
metrics: [train_loss, test_loss, train_accuracy, test_accuracy, steps]
store: [params_init, params_final]
grid:
  width: [8, 32]
  seed: {range: [0, 2]}
"""


def settings(job, point):
    """The numpy model's settings for one point: the canonical axes (always in /grid), the swept
    parametrization, the job's other keys."""
    return dict(depth=int(point["depth"]), width=int(point["width"]), act=job["act"],
                bias="true", param=point.get("model.parametrization", "standard"),
                mode=job.get("mode", "weights"), anti=job.get("anti", "false"),
                alpha=float(point["init_scale"]))


def recompute(tmp_path, jobfile, out, job, metric_names):
    with h5py.File(out, "r") as f:
        grid = {a: f["grid"][a][()] for a in f["grid"]}
        metrics = {m: f["metrics"][m][()] for m in f["metrics"]}
        final = f["vectors/params_final"][()]
        init = f["vectors/params_init"][()] if "params_init" in f["vectors"] else None
        status = f["status"][()]
    assert (status == 1).all()
    for i in range(len(status)):
        point = {a: (v[i].decode() if isinstance(v[i], bytes) else v[i]) for a, v in grid.items()}
        data = tmp_path / f"data{i}.h5"
        r = lazysweep("data", jobfile, "--point", i, "-o", data)
        assert r.returncode == 0, r.stderr
        with h5py.File(data, "r") as f:
            X, y, Xt, yt = (f[k][()] for k in ("X", "y", "X_test", "y_test"))
        c = settings(job, point)
        C = job["classes"] if job["classes"] > 2 else 1
        n_params = _count(c, X.shape[1], C)
        theta = final[i][:n_params]
        theta0 = init[i][:n_params] if init is not None else theta
        net = Net(c, X.shape[1], C, theta0)
        name = point.get("train.loss", job.get("loss"))
        F, Ft = net.f(theta, X)[0], net.f(theta, Xt)[0]
        want = {"train_loss": loss(name, F, y, C)[0], "test_loss": loss(name, Ft, yt, C)[0]}
        pred = np.argmax(F, axis=1) if C > 1 else (F[:, 0] >= 0).astype(float)
        pred_t = np.argmax(Ft, axis=1) if C > 1 else (Ft[:, 0] >= 0).astype(float)
        want["train_accuracy"] = np.mean(pred == y)
        want["test_accuracy"] = np.mean(pred_t == yt)
        if C == 1:
            tp = np.sum((pred_t == 1) & (yt == 1))
            fp, fn = np.sum((pred_t == 1) & (yt == 0)), np.sum((pred_t == 0) & (yt == 1))
            want["test_precision"] = tp / (tp + fp) if tp + fp else 0.0
            want["test_recall"] = tp / (tp + fn) if tp + fn else 0.0
            want["test_f1"] = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
        for m in metric_names:
            got = metrics[m][i]
            if m.endswith("loss"):
                assert abs(got - want[m]) <= 1e-12 * abs(want[m]), (i, m, got, want[m])
            else:
                assert got == pytest.approx(want[m], abs=1e-15), (i, m, got, want[m])
    return metrics


def _count(c, d, C):
    sizes = [d] + [c["width"]] * c["depth"] + [C]
    per = sum(i * o + o for i, o in zip(sizes[:-1], sizes[1:]))
    return per * (2 if c["anti"] == "true" else 1)


@pytest.mark.parametrize("text,job,names", [
    (BINARY, dict(act="tanh", anti="true", classes=2),
     ["train_loss", "test_loss", "train_accuracy", "test_accuracy", "test_precision",
      "test_recall", "test_f1"]),
    (CLASSES, dict(act="relu", mode="output", classes=4, loss="cross_entropy"),
     ["train_loss", "test_loss", "train_accuracy", "test_accuracy"]),
], ids=["binary", "classes"])
def test_ranks_and_metrics(tmp_path, text, job, names):
    jobfile = write_job(tmp_path, text)
    results = {}
    for ranks in (1, 3):
        out = tmp_path / f"r{ranks}.h5"
        r = run(jobfile, out, ranks)
        assert r.returncode == 0, r.stderr
        results[ranks] = datasets(out, groups=("metrics", "trajectories", "vectors"))
    assert_same_bytes(results[1], results[3])
    metrics = recompute(tmp_path, jobfile, tmp_path / "r1.h5", job, names)
    # The runs learned something: better than chance on the test set on average.
    assert np.mean(metrics["test_accuracy"]) > (0.6 if job["classes"] == 2 else 0.35)
