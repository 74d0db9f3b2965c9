"""The sweep engine end to end: real ranks, real files, read back with h5py."""
import os
import signal
import time

import h5py
import numpy as np

from conftest import (JOBS, children, SLOW_JOB, assert_same_bytes, datasets, journal_records, lazysweep, run, start,
                      write_job)

SMALL = """\
name: small
seed: 3
model: {{family: diagonal, depth: 2, init_scale: 1.0}}
data: {{kind: sparse_regression, n_train: 20, dim: 60, support: 3, noise_std: 0.05}}
train: {{optimizer: gd, lr: 0.002, max_steps: {steps}, log: {{points: 16}}}}
metrics: [train_loss, population_error, l1_norm, l2_norm, steps]
grid:
  init_scale: {alphas}
  depth: [2, 3]
  seed: {{range: [0, {seeds}]}}
"""


def small_job(tmp_path, steps=2000, alphas="[0.01, 0.1, 1.0]", seeds=3, name="job.yaml"):
    return write_job(tmp_path, SMALL.format(steps=steps, alphas=alphas, seeds=seeds), name)


def test_quickstart_identical_at_1_2_4_ranks(tmp_path):
    results = {}
    for ranks in (1, 2, 4):
        out = tmp_path / f"q{ranks}.h5"
        r = run(JOBS / "quickstart.yaml", out, ranks)
        assert r.returncode == 0, r.stderr
        results[ranks] = datasets(out)
    assert (results[1]["status"] == 1).all()
    assert_same_bytes(results[1], results[2])
    assert_same_bytes(results[1], results[4])


def test_quickstart_shows_the_effect_of_alpha(tmp_path):
    out = tmp_path / "q.h5"
    assert run(JOBS / "quickstart.yaml", out, 3).returncode == 0
    with h5py.File(out, "r") as f:
        alpha = f["grid/init_scale"][:]
        depth = f["grid/depth"][:]
        pop = f["metrics/population_error"][:]
    for d in (2, 3):
        small = pop[(alpha == alpha.min()) & (depth == d)].mean()
        large = pop[(alpha == alpha.max()) & (depth == d)].mean()
        print(f"depth {d}: population error {small:.4f} at α={alpha.min()}, {large:.4f} at α={alpha.max()}")
        assert small < large / 3


def test_file_layout(tmp_path):
    job = small_job(tmp_path)
    out = tmp_path / "o.h5"
    assert run(job, out).returncode == 0
    with h5py.File(out, "r") as f:
        n = 3 * 2 * 3
        assert f["job"][()] == job.read_bytes()
        for a in ("init_scale", "width", "depth", "seed", "sparsity"):
            assert f["grid"][a].shape == (n,)
        assert f["grid/depth"].dtype == np.int64
        assert h5py.check_enum_dtype(f["status"].dtype) == {
            "pending": 0, "done": 1, "diverged": 2, "timeout": 3, "failed": 4}
        steps = f["trajectories/step"][:]
        assert steps[0] == 0 and steps[-1] == 2000 and (np.diff(steps) > 0).all()
        assert f["trajectories/train_loss"].shape == (n, len(steps))
        for k in ("format", "tool_version", "job_name", "job_hash", "openblas_version",
                  "hdf5_version", "mpi_version"):
            assert k in f.attrs, k
        assert f["timing/seconds"].shape == (n,) and (f["timing/rank"][:] == 0).all()
        # Every α sees the same data for one seed: the trajectories differ but the row order is
        # the row-major product of the axes, last axis fastest.
        assert list(f["grid/seed"][:6]) == [0, 1, 2, 0, 1, 2]
        # The last column of a trajectory is the final state.
        np.testing.assert_array_equal(f["trajectories/train_loss"][:, -1],
                                      f["metrics/train_loss"][:])


def wait_for_records(out, n=1, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if len(journal_records(str(out) + ".journal")) >= n:
                return
        except FileNotFoundError:
            pass
        time.sleep(0.05)
    raise AssertionError("the sweep made no progress")


def test_sigterm_exits_3_and_rerun_completes(tmp_path):
    job = write_job(tmp_path, SLOW_JOB)
    ref = tmp_path / "ref.h5"
    assert run(job, ref, 3).returncode == 0
    out = tmp_path / "o.h5"
    # SIGTERM to every rank, as Slurm delivers it (mpirun itself answers SIGTERM by killing the
    # job and exiting 1, whatever the ranks return; it forwards SIGUSR1, tested below).
    p = start(job, out, 3)
    wait_for_records(out, 4)
    st = lazysweep("status", out)
    assert st.returncode == 0 and "state: running" in st.stdout and "ETA" in st.stdout, st.stdout
    for pid in children(p.pid):
        os.kill(pid, signal.SIGTERM)
    t0 = time.time()
    _, err = p.communicate(timeout=30)
    assert p.returncode == 3, err
    assert time.time() - t0 < 10
    p = start(job, out, 3)
    wait_for_records(out, len(journal_records(str(out) + ".journal")) + 4)
    p.send_signal(signal.SIGUSR1)
    _, err = p.communicate(timeout=30)
    assert p.returncode == 3, err
    p = start(job, out, 1)
    wait_for_records(out, len(journal_records(str(out) + ".journal")) + 2)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=30)
    assert p.returncode == 3, err
    st = lazysweep("status", out)
    assert "pending" in st.stdout and "stopped" in st.stdout, st.stdout
    r = run(job, out, 3)
    assert r.returncode == 0, r.stderr
    assert "resuming" in r.stderr
    assert_same_bytes(datasets(ref), datasets(out))


def test_changed_job_is_refused(tmp_path):
    job = small_job(tmp_path)
    out = tmp_path / "o.h5"
    assert run(job, out).returncode == 0
    before = out.read_bytes()
    job.write_text(job.read_text().replace("lr: 0.002", "lr: 0.001"))
    r = run(job, out)
    assert r.returncode == 2
    assert "train.lr" in r.stderr
    assert out.read_bytes() == before
    r = run(job, out, extra=("--fresh",))
    assert r.returncode == 0, r.stderr
    assert len(journal_records(str(out) + ".journal")) == 18
    with h5py.File(out, "r") as f:
        assert "lr: 0.001" in f["job"][()].decode()


def test_extended_grid_keeps_finished_points(tmp_path):
    job = small_job(tmp_path, alphas="[0.01, 1.0]")
    out = tmp_path / "o.h5"
    assert run(job, out).returncode == 0
    old = datasets(out)
    with h5py.File(out, "r") as f:
        old_alpha = f["grid/init_scale"][:]
    n_old = len(journal_records(str(out) + ".journal"))
    small_job(tmp_path, alphas="[0.01, 0.1, 1.0]")
    r = run(job, out)
    assert r.returncode == 0, r.stderr
    recs = journal_records(str(out) + ".journal")
    assert len(recs) == 18 and n_old == 12, "only the new points may run"
    with h5py.File(out, "r") as f:
        alpha = f["grid/init_scale"][:]
        for a in (0.01, 1.0):
            for name in ("metrics/population_error", "trajectories/train_loss"):
                np.testing.assert_array_equal(f[name][alpha == a], old[name][old_alpha == a])


def test_second_run_on_same_output_is_refused(tmp_path):
    job = write_job(tmp_path, SLOW_JOB)
    out = tmp_path / "o.h5"
    p = start(job, out, 1)
    wait_for_records(out, 1)
    r = run(job, out)
    p.send_signal(signal.SIGINT)
    p.communicate(timeout=30)
    assert r.returncode == 2
    assert "in use" in r.stderr


def test_divergence_is_a_result(tmp_path):
    text = small_job(tmp_path).read_text().replace(
        "init_scale: [0.01, 0.1, 1.0]", "train.lr: [0.002, 50.0]")
    job = write_job(tmp_path, text, "div.yaml")
    out = tmp_path / "o.h5"
    r = run(job, out, 2)
    assert r.returncode == 0, r.stderr
    with h5py.File(out, "r") as f:
        lr = f["grid/train.lr"][:]
        status = f["status"][:]
        steps = f["metrics/steps"][:]
        traj = f["trajectories/train_loss"][:]
    assert (status[lr == 50.0] == 2).all() and (status[lr == 0.002] == 1).all()
    assert (steps[lr == 50.0] < 2000).all()
    assert np.isfinite(traj[lr == 50.0][:, 0]).all()


def test_swmr_reader_sees_progress(tmp_path):
    job = write_job(tmp_path, SLOW_JOB)
    out = tmp_path / "o.h5"
    p = start(job, out, 3)
    counts, errors = [], []
    deadline = time.time() + 120
    while p.poll() is None and time.time() < deadline:
        try:
            with h5py.File(out, "r", libver="latest", swmr=True) as f:
                counts.append(int((f["status"][:] != 0).sum()))
        except (OSError, KeyError) as e:
            if counts:  # before the first successful read the file may not exist yet
                errors.append(repr(e))
        time.sleep(0.05)
    p.communicate(timeout=30)
    assert p.returncode == 0
    assert not errors, errors[:3]
    assert len(counts) > 5 and counts == sorted(counts) and counts[-1] > 0


def test_help_and_usage():
    for cmd in ((), ("run",), ("plan",), ("status",)):
        r = lazysweep(*cmd, "--help")
        assert r.returncode == 0 and "usage" in r.stdout
    assert lazysweep("frobnicate").returncode == 2
    assert lazysweep("run").returncode == 2


def test_plan_prints_axes_and_points():
    r = lazysweep("plan", JOBS / "quickstart.yaml")
    assert r.returncode == 0, r.stderr
    assert "points: 40" in r.stdout and "init_scale" in r.stdout and "estimated cost" in r.stdout


def test_plan_counts_the_steps_it_will_log(tmp_path):
    """A step budget smaller than log.points logs every step: plan says how many, as the file
    will hold them (trajectories/step)."""
    text = (JOBS / "quickstart.yaml").read_text().replace("max_steps: 30000", "max_steps: 10")
    job = write_job(tmp_path, text, "short.yaml")
    r = lazysweep("plan", job)
    assert r.returncode == 0, r.stderr
    assert "up to 10 per point, 11 logged" in r.stdout, r.stdout
    out = tmp_path / "o.h5"
    assert run(job, out).returncode == 0
    with h5py.File(out, "r") as f:
        assert f["trajectories/step"].shape == (11,)


def test_stored_vectors(tmp_path):
    text = small_job(tmp_path).read_text().replace(
        "metrics: [", "store: [beta, params_init, params_final]\nmetrics: [")
    job = write_job(tmp_path, text, "vec.yaml")
    out = tmp_path / "o.h5"
    r = run(job, out, 2)
    assert r.returncode == 0, r.stderr
    with h5py.File(out, "r") as f:
        beta = f["vectors/beta"][:]
        p0, p1 = f["vectors/params_init"][:], f["vectors/params_final"][:]
        alpha, depth = f["grid/init_scale"][:], f["grid/depth"][:]
        l1 = f["metrics/l1_norm"][:]
    n, d = beta.shape
    assert d == 60 and p0.shape == (n, 120)
    # constant init: every u = α; β = u₊^D − u₋^D from the final parameters; ‖β‖₁ as reported.
    np.testing.assert_array_equal(p0, np.repeat(alpha[:, None], 120, axis=1))
    rebuilt = p1[:, :60] ** depth[:, None] - p1[:, 60:] ** depth[:, None]
    np.testing.assert_allclose(rebuilt, beta, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(np.abs(beta).sum(axis=1), l1, rtol=1e-12)
