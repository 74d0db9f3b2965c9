"""The file-based and explicit data kinds, read back through `lazysweep data` and compared with
what numpy computes from the same files and the documented rules (data.h, data_fmnist.c,
data_hdf5.c): the IDX files parsed here with gzip + numpy, the hdf5 split replayed from the
stream with ls_rng.py, standardization recomputed, points1d's values as written. Every
comparison is exact (the tool promises the same doubles) except standardization (1e-12: two
summation orders of the same mean and variance)."""
import gzip
from pathlib import Path

import h5py
import numpy as np
import pytest

from conftest import lazysweep, write_job
from ls_rng import Stream, rng_key

FM = Path("/usr/share/datasets/fashion-mnist")


def data_of(tmp_path, text, name="job.yaml"):
    job = write_job(tmp_path, text, name)
    out = tmp_path / (name + ".h5")
    r = lazysweep("data", job, "-o", out)
    assert r.returncode == 0, r.stderr
    with h5py.File(out, "r") as f:
        return {k: f[k][()] for k in f}


def idx(path):
    """An IDX file of unsigned bytes, from its definition: magic 00 00 08 ndims, big-endian
    sizes, the bytes."""
    raw = gzip.open(path, "rb").read()
    assert raw[:3] == b"\0\0\x08"
    nd = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(nd)]
    return np.frombuffer(raw[4 + 4 * nd:], dtype=np.uint8).reshape(dims)


@pytest.mark.skipif(not FM.is_dir(), reason="dataset-fashion-mnist is not installed")
def test_fashion_mnist_selection(tmp_path):
    """classes [7, 3]: the first 500 training and 100 test images of those classes in file
    order, labels 7 → 0 and 3 → 1, pixels / 255; one_vs_rest 3 gives 1 for class 3."""
    X = idx(FM / "train-images-idx3-ubyte.gz").reshape(60000, -1)
    y = idx(FM / "train-labels-idx1-ubyte.gz")
    Xt = idx(FM / "t10k-images-idx3-ubyte.gz").reshape(10000, -1)
    yt = idx(FM / "t10k-labels-idx1-ubyte.gz")
    keep, keep_t = np.flatnonzero(np.isin(y, [7, 3]))[:500], np.flatnonzero(np.isin(yt, [7, 3]))[:100]
    job = """name: fm
model: {{family: mlp, depth: 1, width: 4}}
data: {{kind: fashion_mnist, classes: [7, 3], n_train: 500, n_test: 100{extra}}}
train: {{lr: 0.1, loss: {loss}}}
"""
    d = data_of(tmp_path, job.format(extra="", loss="cross_entropy"))
    assert np.array_equal(d["X"], X[keep] / 255.0)
    assert np.array_equal(d["X_test"], Xt[keep_t] / 255.0)
    assert np.array_equal(d["y"], np.where(y[keep] == 7, 0.0, 1.0))
    assert np.array_equal(d["y_test"], np.where(yt[keep_t] == 7, 0.0, 1.0))
    d = data_of(tmp_path, job.format(extra=", one_vs_rest: 3, scaling: standardize", loss="bce"),
                "ovr.yaml")
    assert np.array_equal(d["y"], (y[keep] == 3).astype(float))
    Z = X[keep] / 255.0
    mu, sd = Z.mean(axis=0), Z.std(axis=0)
    want = (Z - mu) / np.where(sd > 0, sd, 1.0)
    assert np.max(np.abs(d["X"] - want)) < 1e-12
    want_t = (Xt[keep_t] / 255.0 - mu) / np.where(sd > 0, sd, 1.0)
    assert np.max(np.abs(d["X_test"] - want_t)) < 1e-12


def split(master, seed, N):
    """data_hdf5.c's shuffle: Fisher–Yates from the top over 0 … N−1, stream data.split [N]."""
    r, perm = Stream(rng_key(master, seed, "data.split", [N])), list(range(N))
    for i in range(N - 1, 0, -1):
        j = r.below(i + 1)
        perm[i], perm[j] = perm[j], perm[i]
    return np.array(perm)


def test_hdf5_split_task_and_scaling(tmp_path):
    """test_fraction 0.25 of 41 rows: round(10.25) = 10 test rows at the shuffle's last
    positions, the first n_train = 25 of the other 31 for training; integer y as classes;
    standardize with the training rows' statistics; a different seed, a different split."""
    g = np.random.default_rng(3)
    X = g.standard_normal((41, 4)) * [1, 10, 0.1, 3] + [0, 5, -2, 1]
    y = g.integers(0, 3, 41)
    with h5py.File(tmp_path / "mine.h5", "w") as f:
        f["inputs/X"] = X.astype(np.float32)
        f["labels"] = y.astype(np.int16)
    X = X.astype(np.float32).astype(float)
    job = f"""name: h
seed: 5
model: {{family: mlp, depth: 1, width: 4}}
data: {{kind: hdf5, file: {tmp_path / 'mine.h5'}, x_dataset: /inputs/X, y_dataset: labels,
        task: classes, test_fraction: 0.25, n_train: 25, scaling: standardize}}
train: {{lr: 0.1, loss: cross_entropy}}
grid: {{seed: [2, 3]}}
"""
    job_path = write_job(tmp_path, job, "h.yaml")
    for seed in (2, 3):
        out = tmp_path / f"h{seed}.h5"
        r = lazysweep("data", job_path, "--seed", seed, "-o", out)
        assert r.returncode == 0, r.stderr
        with h5py.File(out, "r") as f:
            d = {k: f[k][()] for k in f}
        p = split(5, seed, 41)
        tr, te = p[:25], p[31:]
        mu, sd = X[tr].mean(axis=0), X[tr].std(axis=0)
        assert np.array_equal(d["y"], y[tr].astype(float))
        assert np.array_equal(d["y_test"], y[te].astype(float))
        assert np.max(np.abs(d["X"] - (X[tr] - mu) / sd)) < 1e-12
        assert np.max(np.abs(d["X_test"] - (X[te] - mu) / sd)) < 1e-12


def test_hdf5_in_file_order_and_bad_labels(tmp_path):
    """test_fraction 0: the rows in file order, no test set; binary labels must be 0 or 1,
    refused at load time with the file and the row named."""
    X, y = np.arange(12.0).reshape(6, 2), np.array([0, 1, 1, 0, 1, 0])
    with h5py.File(tmp_path / "d.h5", "w") as f:
        f["X"], f["y"] = X, y
    job = f"""name: h
model: {{family: mlp, depth: 1, width: 4}}
data: {{kind: hdf5, file: {tmp_path / 'd.h5'}, task: binary, test_fraction: 0}}
train: {{lr: 0.1, loss: bce}}
"""
    d = data_of(tmp_path, job)
    assert np.array_equal(d["X"], X) and np.array_equal(d["y"], y)
    assert "X_test" not in d
    with h5py.File(tmp_path / "d.h5", "a") as f:
        f["y"][3] = 2
    r = lazysweep("plan", write_job(tmp_path, job, "bad.yaml"))
    assert r.returncode == 2
    assert f"{tmp_path / 'd.h5'}: y[3] = 2 is not 0 or 1" in r.stderr


def test_points1d_exact(tmp_path):
    """Reference README §3's second set, with the values exactly as written."""
    xs = [(v + 2) / 5.6 * 4 - 2 for v in (-2, -1.5, -0.5, 0, 0.3, 1.3, 1.8, 2.3, 3.3, 3.6)]
    ys = [3, 1.2, 2.2, 1.0, 1.3, 3.1, 1.3, 2.5, 1.1, 0.3]
    job = f"""name: p
model: {{family: mlp, depth: 1, width: 8}}
data: {{kind: points1d, x: [{', '.join(repr(v) for v in xs)}], y: {ys}}}
train: {{lr: 0.03}}
"""
    d = data_of(tmp_path, job)
    assert d["X"].shape == (10, 1)
    assert np.array_equal(d["X"][:, 0], np.array(xs)) and np.array_equal(d["y"], np.array(ys))
