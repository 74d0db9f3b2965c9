"""Fault injection, the hard way: kill -9 of the coordinator and of a worker at many random
instants and in the middle of journal and HDF5 writes, torn and bit-flipped journals, damaged
results files, a SWMR reader polling through kills and restarts, and training that diverges.

Every check compares against something the faults could not touch: an uninterrupted run of the
same job (byte for byte, dataset by dataset), and the journal as parsed by conftest's own reader
of the documented frame format. Figures (kills survived, points lost, points trained twice) are
printed with -s and feed the README's durability section."""
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from conftest import (ENV, FAST_TEARDOWN, MAX_FILES, ROOT, Ledger, assert_same_bytes, children,
                      command, coordinator_pid, finish, journal_records, kill_coordinator_cycles,
                      kill_window, run, start, start_env, wait_for_coordinator, write_job)

# 240 cheap points (~10 ms each): a run is a second or two, so many kills fit in a few seconds.
KILL_JOB = """\
name: kills
seed: 5
model: {family: diagonal, depth: 2, init_scale: 0.1}
data: {kind: sparse_regression, n_train: 30, dim: 80, support: 3, noise_std: 0.05}
train: {optimizer: gd, lr: 0.002, max_steps: 4000, log: {points: 10}}
grid:
  init_scale: {logspace: [-2, 0, 4]}
  depth: [2, 3]
  seed: {range: [0, 30]}
"""
N_KILL = 240

SMALL_JOB = KILL_JOB.replace("range: [0, 30]", "range: [0, 8]").replace("4000", "600")
N_SMALL = 64


def everything(path):
    """Every dataset of a results file but /timing (wall times, ranks and hosts differ by run),
    as arrays: the grid, status, metrics, trajectories and any stored vectors."""
    out = {}

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset) and not name.startswith("timing"):
            out[name] = obj[()]
    with h5py.File(path, "r") as f:
        f.visititems(visit)
    return out


@pytest.fixture(scope="module")
def kill_ref(tmp_path_factory):
    d = tmp_path_factory.mktemp("ref")
    job = write_job(d, KILL_JOB)
    ref = d / "ref.h5"
    t0 = time.time()
    r = run(job, ref, 3)
    assert r.returncode == 0, r.stderr
    return job, everything(ref), time.time() - t0


def complete_and_compare(job, out, ref, ledger):
    r = run(job, out, 3)
    assert r.returncode == 0, r.stderr
    assert ledger.check() == N_KILL
    assert ledger.lost == 0 and ledger.twice == 0
    assert_same_bytes(ref, everything(out))


def test_kill9_coordinator_30_random_instants(tmp_path, kill_ref):
    job, ref, ref_seconds = kill_ref
    rng = random.Random(20240611)
    total = k = 0
    while total < 30 and k < MAX_FILES:  # several sweeps, so that kills keep landing mid-run
        out = tmp_path / f"c{k}.h5"
        ledger = Ledger(str(out) + ".journal")
        total += kill_coordinator_cycles(job, out, ledger, rng, 11, kill_window(ref_seconds))
        complete_and_compare(job, out, ref, ledger)
        k += 1
    print(f"\ncoordinator kill -9 survived: {total}/{total}, points lost 0, trained twice 0")
    assert total >= 30


@pytest.fixture(scope="module")
def shim(tmp_path_factory):
    so = tmp_path_factory.mktemp("shim") / "crashwrite.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-O2", "-o", str(so),
                    str(ROOT / "tests" / "e2e" / "crashwrite.c"), "-ldl"], check=True)
    return so


@pytest.mark.parametrize("suffix,most", [(".journal", 12), (".h5", 40)])
def test_kill9_inside_journal_and_hdf5_writes(tmp_path, kill_ref, shim, suffix, most):
    """SIGKILL with half of a journal record, or half of an HDF5 write (rows, metadata, the
    superblock's SWMR flags), on disk: 10 times, each on the N-th such write of a run, N random.
    A run that ends before its N-th write completes its sweep, which is checked, and the next
    runs start another."""
    job, ref, _ = kill_ref
    rng = random.Random(len(suffix))
    crashes = tries = k = 0
    out = tmp_path / "o0.h5"
    ledger = Ledger(str(out) + ".journal")
    while crashes < 10 and tries < 30:
        tries += 1
        env = dict(ENV, LD_PRELOAD=str(shim), CRASH_SUFFIX=suffix,
                   CRASH_AFTER=str(rng.randint(1, most)))
        r = subprocess.run(command(job, out), env=env, capture_output=True, text=True,
                           timeout=120)
        assert r.returncode in (-signal.SIGKILL, 0), r.stderr
        ledger.check()
        assert ledger.lost == 0 and ledger.twice == 0
        if r.returncode == -signal.SIGKILL:
            crashes += 1
            continue
        complete_and_compare(job, out, ref, ledger)
        k += 1
        out = tmp_path / f"o{k}.h5"
        ledger = Ledger(str(out) + ".journal")
    print(f"\nkill -9 inside a write to *{suffix}: {crashes} survived")
    assert crashes >= 10
    complete_and_compare(job, out, ref, ledger)


def test_kill9_worker_30_random_instants(tmp_path, kill_ref):
    """A worker dies: mpirun tears the job down (SIGTERM to the coordinator, which begins a clean
    stop, then SIGKILL); the rerun resumes. Every third kill keeps mpirun's 1 s grace between
    the two, the others skip it (FAST_TEARDOWN)."""
    job, ref, ref_seconds = kill_ref
    rng = random.Random(777)
    total = k = 0
    while total < 30 and k < MAX_FILES:
        out = tmp_path / f"w{k}.h5"
        k += 1
        ledger = Ledger(str(out) + ".journal")
        dead = set()
        done = tried = 0
        while done < 11 and tried < 30:
            tried += 1
            env = ENV if tried % 3 == 0 else dict(ENV, **FAST_TEARDOWN)
            p = start_env(job, out, 3, env)
            coord = wait_for_coordinator(out, p, dead)
            if coord is None:
                err = finish(p)
                assert p.returncode == 0, err
                break
            dead.add(coord)
            time.sleep(rng.uniform(0.0, kill_window(ref_seconds)))
            workers = [c for c in children(p.pid) if c != coord]
            if not workers:
                finish(p)
                continue
            try:
                os.kill(rng.choice(workers), signal.SIGKILL)
            except ProcessLookupError:  # the sweep ended just now
                finish(p)
                continue
            finish(p)
            done += 1
            ledger.check()
            assert ledger.lost == 0 and ledger.twice == 0
        total += done
        complete_and_compare(job, out, ref, ledger)
    print(f"\nworker kill -9 survived: {total}/{total}, points lost 0, trained twice 0")
    assert total >= 30


# ---- damaged journals ------------------------------------------------------------------------

def record_spans(path):
    """(offset, length) of every well-formed record frame, the header's two copies first."""
    data = Path(path).read_bytes()
    spans, off = [], 0
    while off + 12 <= len(data):
        assert data[off:off + 4] == b"LSJR"
        n = int.from_bytes(data[off + 4:off + 8], "little")
        spans.append((off, 12 + n))
        off += 12 + n
    return spans


def test_torn_and_bitflipped_journal_records_rerun_only_their_points(tmp_path):
    job = write_job(tmp_path, SMALL_JOB)
    out = tmp_path / "o.h5"
    assert run(job, out).returncode == 0
    ref = everything(out)
    jpath = str(out) + ".journal"
    recs = journal_records(jpath)
    assert len(recs) == N_SMALL
    spans = record_spans(jpath)[2:]  # point records
    data = bytearray(Path(jpath).read_bytes())
    damaged = []
    for i, where in ((5, "payload"), (17, "length"), (30, "magic"), (41, "crc")):
        off, n = spans[i]
        pos = {"payload": off + 12 + n // 2, "length": off + 5, "magic": off + 1,
               "crc": off + 9}[where]
        data[pos] ^= 0x10
        damaged.append(recs[i][0])
    off, n = spans[-1]
    del data[off + n // 2:]  # torn tail: half of the last record
    damaged.append(recs[-1][0])
    Path(jpath).write_bytes(bytes(data))
    left = {k for k, _, _ in journal_records(jpath)}
    assert len(left) == N_SMALL - 5 and not left & set(damaged)

    r = run(job, out)
    assert r.returncode == 0, r.stderr
    assert "dropped 5 damaged record(s)" in r.stderr, r.stderr
    assert "5 reset to pending" in r.stderr, r.stderr
    after = journal_records(jpath)
    new = [k for k, _, _ in after if k not in left]
    assert sorted(new) == sorted(damaged), "only the damaged points run again, once each"
    assert len({k for k, _, _ in after}) == N_SMALL
    assert_same_bytes(ref, everything(out))


# ---- damaged results files -------------------------------------------------------------------

def flip(path, offset, bit=0x04):
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)[0]
        f.seek(offset)
        f.write(bytes([b ^ bit]))


def leave_stale_swmr_flags(path):
    """A writer that dies in SWMR mode without closing, as a kill -9 leaves it."""
    code = (f"import h5py, os\nf = h5py.File({str(path)!r}, 'r+', libver='latest')\n"
            "f.swmr_mode = True\nf.flush()\nos._exit(0)\n")
    subprocess.run([sys.executable, "-c", code], check=True)
    with pytest.raises(OSError):
        h5py.File(path, "r")


def damage(kind, out):
    with h5py.File(out, "r") as f:
        header = h5py.h5o.get_info(f["status"].id).addr
        metric = f["metrics/train_loss"]
        traj = f["trajectories/train_loss"]
        T = traj.shape[1]
        m_off, t_off = metric.id.get_offset(), traj.id.get_offset()
    if kind == "truncated":
        data = out.read_bytes()
        out.write_bytes(data[: len(data) * 2 // 3])
    elif kind == "superblock":
        flip(out, 28)  # the end-of-file address, under the superblock's checksum
    elif kind == "object_header":
        flip(out, header + 8)
    elif kind == "stale_swmr_flags":
        leave_stale_swmr_flags(out)
    elif kind == "values":
        flip(out, m_off + 8 * 7 + 6, 0x01)           # a metric of row 7, low mantissa bit
        flip(out, t_off + 8 * (T * 20 + 3) + 2, 0x80)  # a logged value of row 20
        flip(out, t_off + 8 * (T * 21 + 1) + 7, 0x40)  # the exponent of one of row 21


@pytest.mark.parametrize("kind", ["truncated", "superblock", "object_header", "stale_swmr_flags",
                                  "values"])
def test_damaged_results_file_is_repaired_from_journal(tmp_path, kind):
    job = write_job(tmp_path, SMALL_JOB)
    out = tmp_path / "o.h5"
    assert run(job, out).returncode == 0
    ref = everything(out)
    n_records = len(journal_records(str(out) + ".journal"))
    damage(kind, out)
    if kind == "values":  # HDF5 itself sees nothing wrong: the values simply differ
        got = everything(out)
        assert got["metrics/train_loss"].tobytes() != ref["metrics/train_loss"].tobytes()
        assert got["trajectories/train_loss"].tobytes() != ref["trajectories/train_loss"].tobytes()
    r = run(job, out)
    assert r.returncode == 0, r.stderr
    if kind == "values":
        assert "3 rewritten" in r.stderr, r.stderr
    else:
        assert "rebuilding" in r.stderr, r.stderr
    assert len(journal_records(str(out) + ".journal")) == n_records, "nothing ran again"
    assert_same_bytes(ref, everything(out))


# ---- a SWMR reader through starts, stops, kills and rebuilds ----------------------------------

READER = r"""
import h5py, json, os, sys, time
path, stop = sys.argv[1], sys.argv[2]
log = []
while not os.path.exists(stop):
    if os.path.exists(path):
        try:
            with h5py.File(path, "r", libver="latest", swmr=True) as f:
                log.append(["ok", int((f["status"][:] != 0).sum())])
        except Exception as e:  # any failure at all is what the test looks for
            log.append(["error", repr(e)])
    time.sleep(0.01)
print(json.dumps(log))
"""


def test_swmr_reader_never_fails_through_stops_kills_and_rebuilds(tmp_path):
    job = write_job(tmp_path, KILL_JOB)
    out = tmp_path / "o.h5"
    stop = tmp_path / "stop"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(out), str(stop)],
                              stdout=subprocess.PIPE, text=True)
    time.sleep(0.3)  # polling before the file exists
    jpath = str(out) + ".journal"

    def records():
        return len(journal_records(jpath)) if Path(jpath).exists() else 0

    def until(n):
        deadline = time.time() + 60
        while records() < n and time.time() < deadline:
            time.sleep(0.02)

    p = start(job, out, 3)                 # a new file, stopped cleanly (SIGUSR1)
    until(40)
    p.send_signal(signal.SIGUSR1)
    assert finish(p) is not None and p.returncode == 3
    p = start(job, out, 3)                 # a resume (rows checked, SWMR from the open on)
    until(records() + 40)
    os.kill(coordinator_pid(out), signal.SIGKILL)
    finish(p)
    p = start(job, out, 1)                 # stale SWMR flags: rebuilt aside, renamed over
    err = finish(p, timeout=120)
    assert p.returncode == 0, err
    assert "rebuilding" in err
    time.sleep(0.2)
    stop.write_text("")
    log = json.loads(reader.communicate(timeout=30)[0])
    errors = [e for s, e in log if s == "error"]
    counts = [c for s, c in log if s == "ok"]
    print(f"\nSWMR reader: {len(counts)} reads, {len(errors)} errors, counts up to {counts[-1]}")
    assert not errors, errors[:3]
    assert len(counts) > 20
    assert counts == sorted(counts), "the done count never goes down"
    assert counts[-1] == N_KILL


# ---- divergence ------------------------------------------------------------------------------

DIVERGE_JOB = """\
name: diverge
seed: 3
model: {family: diagonal, depth: 2, init_scale: 1.0}
data: {kind: sparse_regression, n_train: 20, dim: 60, support: 3, noise_std: 0.05}
train: {optimizer: gd, lr: 0.002, max_steps: 2000, log: {points: 16}}
metrics: [train_loss, population_error, l1_norm, l2_norm, steps]
grid:
  train.lr: [0.002, 5.0, 1.0e+100, 1.0e+300]
  depth: [2, 3]
  seed: [0, 1]
"""


def test_divergence_nan_inf_and_blowup_are_results(tmp_path):
    job = write_job(tmp_path, DIVERGE_JOB)
    out = tmp_path / "o.h5"
    r = run(job, out, 3)
    assert r.returncode == 0, r.stderr
    with h5py.File(out, "r") as f:
        lr = f["grid/train.lr"][:]
        status = f["status"][:]
        steps = f["metrics/steps"][:]
        final = f["metrics/train_loss"][:]
        traj = f["trajectories/train_loss"][:]
        logged = f["trajectories/step"][:]
    assert (status[lr == 0.002] == 1).all() and (status[lr != 0.002] == 2).all()
    kinds = set()
    for i in np.flatnonzero(status == 2):
        L0 = traj[i, 0]
        assert np.isfinite(L0) and steps[i] < 2000
        before = traj[i, :-1][logged[:-1] < steps[i]]
        assert np.isfinite(before).all() and (before <= 1e6 * L0).all(), "partial trajectory"
        assert np.isnan(traj[i, :-1][logged[:-1] > steps[i]]).all()
        assert traj[i, -1] == final[i] or (np.isnan(final[i]) and np.isnan(traj[i, -1]))
        kinds.add("nan" if np.isnan(final[i]) else "inf" if np.isinf(final[i]) else
                  "blowup" if final[i] > 1e6 * L0 else "other")
    print(f"\ndiverged: {(status == 2).sum()} points, kinds {sorted(kinds)}")
    assert kinds == {"nan", "inf", "blowup"}


# ---- signals during start-up --------------------------------------------------------------------

@pytest.mark.parametrize("sig", [signal.SIGUSR1, signal.SIGTERM])
def test_signal_during_start_up_means_stop_early(tmp_path, sig):
    """Slurm's warning can come while the ranks are still in MPI_Init (0.4 s for a serial run):
    it must mean "stop early" (exit 3, resumable), not the default action, death."""
    job = write_job(tmp_path, SMALL_JOB)
    out = tmp_path / "o.h5"
    p = start(job, out, 1)
    time.sleep(0.15)
    p.send_signal(sig)
    err = finish(p)
    assert p.returncode == 3, (p.returncode, err)
    r = run(job, out)
    assert r.returncode == 0, r.stderr
    assert len({k for k, _, _ in journal_records(str(out) + ".journal")}) == N_SMALL
