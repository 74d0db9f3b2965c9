"""Shared helpers for the end-to-end tests: run the real binary (serially or under a real
mpirun), read results back with h5py, and parse the journal independently of the C code."""
import os
import re
import signal
import struct
import subprocess
import time
import zlib
from pathlib import Path

import h5py
import pytest

ROOT = Path(__file__).resolve().parents[2]
# LAZYSWEEP_BIN lets a sanitizer or private build be tested with the same tests.
BIN = Path(os.environ.get("LAZYSWEEP_BIN", ROOT / "build" / "lazysweep"))
JOBS = ROOT / "jobs"

ENV = dict(os.environ)
# Tests run as root in CI; Open MPI refuses that unless told (the README's advice for tests only).
ENV.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMPI_MCA_rmaps_base_oversubscribe="1")
# A serial run (no mpirun) is an MPI singleton; isolated, it starts no orted helper, which halves
# its start-up (0.7 s -> 0.4 s) over the hundreds of serial runs of the tests.
ENV.update(OMPI_MCA_ess_singleton_isolated="1")


def command(job, out, ranks=1, extra=()):
    """The argv that runs a sweep on `ranks` ranks (1 = the plain serial program)."""
    cmd = [str(BIN), "run", str(job), "-o", str(out), "--progress", "0.5", *extra]
    if ranks > 1:
        cmd = ["mpirun", "--oversubscribe", "-np", str(ranks), *cmd]
    return cmd


def run(job, out, ranks=1, extra=(), timeout=300):
    return subprocess.run(command(job, out, ranks, extra), env=ENV, capture_output=True,
                          text=True, timeout=timeout)


def start(job, out, ranks=1, extra=()):
    return subprocess.Popen(command(job, out, ranks, extra), env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def lazysweep(*args, timeout=60):
    return subprocess.run([str(BIN), *map(str, args)], env=ENV, capture_output=True, text=True,
                          timeout=timeout)


def datasets(path, groups=("metrics", "trajectories")):
    """Every dataset of the given groups, as arrays."""
    out = {}
    with h5py.File(path, "r") as f:
        for g in groups:
            for name, ds in f[g].items():
                out[f"{g}/{name}"] = ds[()]
        out["status"] = f["status"][()]
    return out


def columns(path, axes=("init_scale", "depth", "seed")):
    """One array per point column of a results file: the given grid axes, every metric, status."""
    with h5py.File(path, "r") as f:
        cols = {a: f["grid"][a][()] for a in axes}
        cols.update({m: f["metrics"][m][()] for m in f["metrics"]})
        cols["status"] = f["status"][()]
    return cols


def assert_same_bytes(a, b):
    """Dataset by dataset, byte for byte (NaN payloads included)."""
    assert sorted(a) == sorted(b)
    for k in a:
        assert a[k].shape == b[k].shape, k
        assert a[k].tobytes() == b[k].tobytes(), f"{k} differs"


def journal_records(path):
    """Point records of a journal as (key, status, payload) — parsed here, from the documented
    frame format, not with the tool's own reader. Bad frames are skipped like the tool does."""
    data = Path(path).read_bytes()
    records, off = [], 0
    while True:
        off = data.find(b"LSJR", off)
        if off < 0 or off + 12 > len(data):
            break
        n, crc = struct.unpack_from("<II", data, off + 4)
        payload = data[off + 12: off + 12 + n]
        if len(payload) != n or zlib.crc32(payload) != crc:
            off += 1
            continue
        off += 12 + n
        if payload[:4] == b"LSJH":
            continue
        kl, = struct.unpack_from("<H", payload, 36)
        status, = struct.unpack_from("<i", payload, 12)
        records.append((payload[56:56 + kl].decode(), status, payload))
    return records


# A sweep slow enough (64 points, ~10 s on 2 workers) to be interrupted at random instants.
SLOW_JOB = """\
name: killme
seed: 11
model: {family: diagonal, depth: 2, init_scale: 0.1}
data: {kind: sparse_regression, n_train: 40, dim: 150, support: 3, noise_std: 0.05}
train: {optimizer: gd, lr: 0.002, max_steps: 20000, log: {points: 12}}
grid:
  init_scale: {logspace: [-2, 0, 4]}
  depth: [2, 3]
  seed: {range: [0, 8]}
"""


def coordinator_pid(out):
    """The coordinator's pid, as its lock file names it (None before there is one)."""
    try:
        m = re.search(r"pid (\d+)", Path(str(out) + ".lock").read_text())
    except FileNotFoundError:
        return None
    return int(m.group(1)) if m else None


def wait_for_coordinator(out, p, dead, timeout=30):
    """The pid of this run's coordinator once it holds the lock (the lock file can still name a
    coordinator killed before, listed in `dead`)."""
    deadline = time.time() + timeout
    while time.time() < deadline and p.poll() is None:
        pid = coordinator_pid(out)
        if pid is not None and pid not in dead and Path(f"/proc/{pid}").exists():
            return pid
        time.sleep(0.005)
    return None


def children(pid):
    """Pids of the direct children of a process (the ranks mpirun started)."""
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            kids.append(int(stat.parent.name))
    return kids


# ---- kill -9 at random instants (test_faults.py, test_faults_more.py) ----------------------

def finish(p, timeout=30):
    """Wait for a run (and every process of its session) to end; returns its stderr."""
    try:
        _, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        _, err = p.communicate()
    return err


class Ledger:
    """What the journal held after each kill: a finished point may never vanish, change, or
    appear twice."""

    def __init__(self, journal):
        self.journal = journal
        self.before = {}
        self.lost = self.twice = 0

    def check(self):
        recs = journal_records(self.journal) if Path(self.journal).exists() else []
        keys = [k for k, _, _ in recs]
        self.twice += len(keys) - len(set(keys))
        now = {k: payload for k, _, payload in recs}
        self.lost += sum(1 for k, pl in self.before.items() if now.get(k) != pl)
        self.before = now
        return len(now)


# mpirun waits odls_base_sigkill_timeout (1 s) between SIGTERM and SIGKILL, twice, when it tears
# a job down after a rank died. Only the coordinator touches the files, so how fast the rest of
# the job goes does not matter to what is on disk; 0 keeps each kill cycle well under a second.
FAST_TEARDOWN = {"OMPI_MCA_odls_base_sigkill_timeout": "0"}


def start_env(job, out, ranks, env):
    return subprocess.Popen(command(job, out, ranks), env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def kill_window(ref_seconds):
    """How long after the coordinator appears a kill may land: a fraction of an uninterrupted
    run, so that on a fast machine kills still fall mid-sweep rather than after its end."""
    return min(0.4, 0.25 * ref_seconds)


# Files a kill test may start before it gives up reaching its count of kills; each file takes
# as many kills as land before its sweep completes (fewer on a fast machine).
MAX_FILES = 15


def kill_coordinator_cycles(job, out, ledger, rng, kills, window):
    """Start the sweep (serially, or on 3 ranks), kill -9 its coordinator at a random instant,
    repeat. The serial runs also check the message about the stale lock they take over."""
    done = tried = 0
    dead = set()
    stale = False  # the last kill left its lock file behind
    while done < kills and tried < 3 * kills:
        tried += 1
        ranks = 1 if tried % 2 == 0 else 3
        p = start_env(job, out, ranks, dict(ENV, **FAST_TEARDOWN))
        pid = wait_for_coordinator(out, p, dead)
        if pid is None:
            err = finish(p)
            assert p.returncode == 0, err
            break  # finished before it could be killed
        time.sleep(rng.uniform(0.0, window))
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:  # it finished on its own just now
            finish(p)
            break
        dead.add(pid)
        err = finish(p)
        if stale and ranks == 1 and "taking over the lock" not in err:
            raise AssertionError(f"no takeover message after a kill -9:\n{err}")
        stale = Path(str(out) + ".lock").exists()
        done += 1
        ledger.check()
        assert ledger.lost == 0 and ledger.twice == 0, "a kill lost or duplicated a point"
    return done


def write_job(tmp_path, text, name="job.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return p


@pytest.fixture(scope="session", autouse=True)
def built():
    assert BIN.exists(), "build the tool first (make)"
