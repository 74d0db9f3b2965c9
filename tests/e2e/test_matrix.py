"""The matrix family end to end: jobs/matrix_factorization_small.yaml on 3 MPI ranks, its data
written back out with `lazysweep data`, and checked with numpy: the exported observations are the
entries of the exported W* (symmetric, PSD, rank 2, unit Frobenius norm) that the sweep trained
on (its train_loss recomputed from the stored W and the exported data), the metrics equal numpy's
SVD of the stored W, and small α gives a lower test error and effective rank than large α."""
import h5py
import numpy as np
import pytest

from conftest import JOBS, columns, lazysweep, run

JOB = JOBS / "matrix_factorization_small.yaml"
DIM = 16


def effective_rank(M):
    """exp of the entropy of the normalized singular values (Roy & Vetterli 2007)."""
    sv = np.linalg.svd(M, compute_uv=False)
    p = sv[sv > 0] / sv.sum()
    return np.exp(-(p * np.log(p)).sum())


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("matrix")
    out = tmp / "mf.h5"
    r = run(JOB, out, ranks=3, timeout=240)
    assert r.returncode == 0, r.stderr
    cols = columns(out)
    with h5py.File(out, "r") as f:
        cols["W"] = f["vectors/W"][()].reshape(-1, DIM, DIM)
    data = {}
    for s in (0, 1):
        path = tmp / f"data{s}.h5"
        r = lazysweep("data", JOB, "--seed", s, "-o", path)
        assert r.returncode == 0, r.stderr
        with h5py.File(path, "r") as f:
            assert f.attrs["data_kind"] == "matrix_completion" and "X" not in f
            data[s] = {k: f[k][()] for k in ("X_index", "y", "beta_star")}
    return cols, data


def test_exported_data(sweep):
    """W* = VVᵀ/‖VVᵀ‖_F: symmetric, PSD of rank 2, norm 1; every observation is an entry of W*
    (noiseless by default), seen in both orders, 80 distinct upper-triangle entries."""
    _, data = sweep
    for D in data.values():
        W = D["beta_star"].reshape(DIM, DIM)
        assert np.array_equal(W, W.T) and np.linalg.norm(W) == pytest.approx(1, abs=1e-14)
        ev = np.linalg.eigvalsh(W)
        assert (ev[:-2] > -1e-14).all() and (np.abs(ev[:-2]) < 1e-14).all() and (ev[-2:] > 1e-3).all()
        a, b = np.divmod(D["X_index"], DIM)
        assert np.array_equal(D["y"], W[a, b])
        pairs = set(zip(a.tolist(), b.tolist()))
        assert len(pairs) == len(a) and all((q, p) in pairs for p, q in pairs)
        assert sum(p <= q for p, q in pairs) == 80


def test_sweep_used_the_exported_data(sweep):
    """The final train_loss of every point, recomputed from its stored W and the exported
    observations; test_error, nuclear_norm and effective_rank from numpy's SVD of that W."""
    cols, data = sweep
    assert (cols["status"] == 1).all()
    for i in range(len(cols["seed"])):
        D, W = data[int(cols["seed"][i])], cols["W"][i]
        a, b = np.divmod(D["X_index"], DIM)
        loss = np.mean((W[a, b] - D["y"]) ** 2)
        assert loss == pytest.approx(cols["train_loss"][i], rel=1e-9, abs=1e-22)
        Ws = D["beta_star"].reshape(DIM, DIM)
        assert np.sum((W - Ws) ** 2) == pytest.approx(cols["test_error"][i], rel=1e-12)
        sv = np.linalg.svd(W, compute_uv=False)
        assert sv.sum() == pytest.approx(cols["nuclear_norm"][i], rel=1e-12)
        assert effective_rank(W) == pytest.approx(cols["effective_rank"][i], rel=1e-9)
        assert cols["asymmetry"][i] <= 1e-10


def test_small_alpha_is_better_and_lower_rank(sweep):
    """Mean over seeds, per depth: the smallest α's test error is below a hundredth of the
    largest α's, and its effective rank is lower (and within 0.3 of W*'s own)."""
    cols, data = sweep
    er_star = np.mean([effective_rank(D["beta_star"].reshape(DIM, DIM)) for D in data.values()])
    lo, hi = cols["init_scale"].min(), cols["init_scale"].max()
    for depth in (2, 3):
        sel = cols["depth"] == depth
        small, large = sel & (cols["init_scale"] == lo), sel & (cols["init_scale"] == hi)
        assert cols["test_error"][small].mean() < cols["test_error"][large].mean() / 100
        assert cols["effective_rank"][small].mean() < cols["effective_rank"][large].mean()
        assert abs(cols["effective_rank"][small].mean() - er_star) < 0.3
