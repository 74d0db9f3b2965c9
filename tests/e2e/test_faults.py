"""kill -9 of the coordinator at random instants, stale locks, bad job files at the CLI."""
import random
import re
import time
from pathlib import Path

import pytest

from conftest import (ROOT, SLOW_JOB as JOB, Ledger, assert_same_bytes, datasets,
                      kill_coordinator_cycles, kill_window, lazysweep, run, write_job)


def test_kill9_coordinator_loses_nothing(tmp_path):
    job = write_job(tmp_path, JOB)
    ref = tmp_path / "ref.h5"
    t0 = time.time()
    assert run(job, ref, 3).returncode == 0
    window = kill_window(time.time() - t0)
    rng = random.Random(1234)
    kills = files = 0
    while kills < 12 and files < 6:  # a fast machine may finish a sweep before 12 kills
        out = tmp_path / f"o{files}.h5"
        files += 1
        ledger = Ledger(str(out) + ".journal")
        kills += kill_coordinator_cycles(job, out, ledger, rng, 12 - kills, window)
        r = run(job, out, 3)
        assert r.returncode == 0, r.stderr
        assert ledger.check() == 64 and ledger.lost == 0 and ledger.twice == 0, \
            "every point exactly once, none lost or changed by a later kill"
        assert_same_bytes(datasets(ref), datasets(out))
    assert kills >= 10


def test_stale_lock_is_taken_over(tmp_path):
    job = write_job(tmp_path, JOB.replace("max_steps: 20000", "max_steps: 50"))
    out = tmp_path / "o.h5"
    Path(str(out) + ".lock").write_text("pid 999999 on nowhere\n")
    r = run(job, out)
    assert r.returncode == 0, r.stderr
    assert "taking over" in r.stderr


def test_damaged_file_is_rebuilt_from_journal(tmp_path):
    job = write_job(tmp_path, JOB.replace("max_steps: 20000", "max_steps: 50"))
    out = tmp_path / "o.h5"
    assert run(job, out).returncode == 0
    good = datasets(out)
    data = bytearray(out.read_bytes())
    out.write_bytes(data[: len(data) // 2])
    r = run(job, out)
    assert r.returncode == 0, r.stderr
    assert "rebuild" in r.stderr
    assert_same_bytes(good, datasets(out))


BAD = sorted((ROOT / "tests" / "bad_jobs").glob("*.yaml"))


@pytest.mark.parametrize("bad", BAD, ids=[b.name for b in BAD])
def test_bad_job_file_exits_2_and_writes_nothing(tmp_path, bad):
    expect = bad.read_text(errors="replace").splitlines()[0]
    m = re.match(r"# expect: (\d+):(\d+): (.*)", expect)
    assert m, f"{bad.name}: first line must be '# expect: LINE:COL: message'"
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    for cmd in (("run", bad, "-o", out_dir / "o.h5"), ("plan", bad)):
        r = lazysweep(*cmd)
        assert r.returncode == 2, (cmd, r.stderr)
        assert f"{bad}:{m.group(1)}:{m.group(2)}: " in r.stderr, r.stderr
        assert m.group(3) in r.stderr, r.stderr
    assert list(out_dir.iterdir()) == []


def test_unwritable_or_foreign_output(tmp_path):
    job = write_job(tmp_path, JOB.replace("max_steps: 20000", "max_steps: 50"))
    r = lazysweep("run", job, "-o", tmp_path / "missing" / "o.h5")
    assert r.returncode == 2 and "missing" in r.stderr
    foreign = tmp_path / "foreign.h5"
    foreign.write_bytes(b"not mine")
    r = lazysweep("run", job, "-o", foreign)
    assert r.returncode == 2 and "refusing to overwrite" in r.stderr
    assert foreign.read_bytes() == b"not mine"


def test_unreadable_job_and_unwritable_output_exit_2_and_write_nothing(tmp_path):
    """The input cases that are not a file's content: a job path that is missing or a
    directory, an output where nothing can be created (/proc, or under a regular file), and an
    output that holds another experiment's results. Each: exit 2, the path in the message, and
    no file created or changed."""
    job = write_job(tmp_path, JOB.replace("max_steps: 20000", "max_steps: 50"))
    plain = tmp_path / "plain"
    plain.write_text("x")
    cases = [
        (("run", tmp_path / "missing.yaml", "-o", tmp_path / "o.h5"), "missing.yaml: cannot open"),
        (("run", tmp_path, "-o", tmp_path / "o.h5"), f"{tmp_path}: cannot read"),
        (("plan", tmp_path / "missing.yaml"), "missing.yaml"),
        (("run", job, "-o", "/proc/lazysweep-o.h5"), "/proc/lazysweep-o.h5"),
        (("run", job, "-o", plain / "o.h5"), f"{plain}/o.h5"),
    ]
    before = sorted(tmp_path.iterdir())
    for args, msg in cases:
        r = lazysweep(*args)
        assert r.returncode == 2, (args, r.stderr)
        assert msg in r.stderr, (args, r.stderr)
    assert sorted(tmp_path.iterdir()) == before
    # Another experiment's results: refused with what changed; not a byte touched.
    out = tmp_path / "theirs.h5"
    assert run(job, out).returncode == 0
    files = {p: p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("theirs")}
    other = write_job(tmp_path, job.read_text().replace("lr: 0.002", "lr: 0.003"), "other.yaml")
    r = lazysweep("run", other, "-o", out)
    assert r.returncode == 2 and "different experiment" in r.stderr and "train.lr" in r.stderr
    assert {p: p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("theirs")} == files
