"""A real single-node Slurm cluster for the Slurm tests (cluster.sh), started once per session.

As root the session starts munged, slurmctld and slurmd (installing slurm-wlm and munge when
missing) and stops them at the end. Not root: every Slurm test is skipped with the reason. As
root in CI a cluster that does not come up is a failure, not a skip."""
import importlib.util
import os
import re
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The e2e helpers (the binary under test, the MPI-as-root environment, the independent journal
# parser, dataset comparison), loaded under their own name: both files are called conftest.
_spec = importlib.util.spec_from_file_location("e2e_helpers", ROOT / "tests" / "e2e" / "conftest.py")
e2e = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(e2e)
BIN, ENV = e2e.BIN, e2e.ENV

CLUSTER = ROOT / "tests" / "slurm" / "cluster.sh"


@pytest.fixture(scope="session")
def slurm():
    """The environment for Slurm commands (SLURM_CONF, and the template of this checkout)."""
    if os.geteuid() != 0:
        pytest.skip("Slurm tests need root to start a cluster (tests/slurm/cluster.sh)")
    r = subprocess.run(["sh", str(CLUSTER), "start"], capture_output=True, text=True,
                       timeout=600)
    if r.returncode != 0:
        msg = f"cannot start a Slurm cluster: {r.stderr.strip()[-800:]}"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    conf = subprocess.run(["sh", str(CLUSTER), "env"], capture_output=True, text=True,
                          check=True).stdout.strip()
    env = dict(ENV, **dict([conf.split("=", 1)]))
    env.setdefault("LAZYSWEEP_SLURM_TEMPLATE", str(ROOT / "slurm" / "lazysweep.sbatch"))
    print(f"\nSlurm cluster up ({conf})")
    yield env
    subprocess.run(["sh", str(CLUSTER), "stop"], capture_output=True, text=True, timeout=120)


def scontrol_job(env, jobid):
    """`scontrol show job` as a dict (empty once Slurm has forgotten the job)."""
    r = subprocess.run(["scontrol", "show", "job", "-o", str(jobid)], env=env,
                       capture_output=True, text=True)
    return dict(re.findall(r"(\w+)=(\S*)", r.stdout)) if r.returncode == 0 else {}


def submit(env, job, out, *args, cwd):
    r = subprocess.run([str(BIN), "submit", str(job), "-o", str(out), *map(str, args)], env=env,
                       cwd=cwd, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def wait_job(env, jobid, timeout, on_running=None):
    """Wait until the job has ended; returns its last state and restart count. on_running() is
    called while the job runs until it returns true.

    Slurm holds a requeued job for the credential lifetime before it may start again (120 s by
    default; cluster.sh sets 10 s)."""
    deadline = time.time() + timeout
    info = {}
    while time.time() < deadline:
        info = scontrol_job(env, jobid) or info
        state = info.get("JobState", "")
        if state == "RUNNING" and on_running is not None and on_running():
            on_running = None
        if state in ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY",
                     "BOOT_FAIL", "DEADLINE"):
            return state, int(info.get("Restarts", 0))
        time.sleep(0.5)
    raise AssertionError(f"job {jobid} did not end within {timeout} s: {info}")
