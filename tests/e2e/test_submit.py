"""`lazysweep submit` without a cluster: the rendered batch script (--dry-run), refusals, and the
hand-off to sbatch through a stand-in (LAZYSWEEP_SBATCH) that records what it was given. The
real cluster is exercised by tests/slurm."""
import re
import stat
import subprocess
from pathlib import Path

from conftest import BIN, ENV, JOBS, ROOT

TEMPLATE = ROOT / "slurm" / "lazysweep.sbatch"


def submit(*args, cwd, env=None):
    e = dict(ENV, LAZYSWEEP_SLURM_TEMPLATE=str(TEMPLATE), **(env or {}))
    return subprocess.run([str(BIN), "submit", *map(str, args)], env=e, cwd=cwd,
                          capture_output=True, text=True, timeout=60)


def directives(script):
    return dict(re.findall(r"^#SBATCH --([a-z-]+)=?(\S*)$", script, re.M))


def test_dry_run_renders_every_placeholder(tmp_path):
    out = tmp_path / "q.h5"
    r = submit(JOBS / "quickstart.yaml", "-o", out, "--nodes", "1", "--ntasks", "3", "--time",
               "1:30:00", "--partition", "debug", "--dry-run", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    s = r.stdout
    assert "{{" not in s and "}}" not in s
    d = directives(s)
    assert d["job-name"] == "quickstart" and d["nodes"] == "1" and d["ntasks"] == "3"
    assert d["time"] == "1:30:00" and d["partition"] == "debug"
    assert d["requeue"] == "" and d["open-mode"] == "append"
    assert d["signal"] == "B:USR1@120"          # at most 120 s of warning
    assert d["output"] == f"{out}.slurm-%j.log" and d["chdir"] == str(tmp_path)
    assert f"OUT='{out}'" in s and f"JOB='{(JOBS / 'quickstart.yaml').resolve()}'" in s
    assert f"LAZYSWEEP='{BIN.resolve()}'" in s
    assert list(tmp_path.iterdir()) == [], "a dry run writes nothing"
    subprocess.run(["bash", "-n"], input=s, text=True, check=True)


def test_dry_run_defaults(tmp_path):
    r = submit(JOBS / "quickstart.yaml", "--time", "2", "--dry-run", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    d = directives(r.stdout)
    assert "partition" not in d, "a line whose value is empty is dropped"
    assert d["ntasks"] == "2" and d["nodes"] == "1"
    assert d["signal"] == "B:USR1@60"           # half of a 2-minute limit
    assert f"OUT='{tmp_path}/results/quickstart.h5'" in r.stdout
    r = submit(JOBS / "quickstart.yaml", "--dry-run", cwd=tmp_path)
    assert "time" not in directives(r.stdout) and "B:USR1@120" in r.stdout


def test_refusals_write_nothing(tmp_path):
    bad = ROOT / "tests" / "bad_jobs" / "nan.yaml"
    cases = [
        ((bad,), "nan.yaml:"),
        ((JOBS / "quickstart.yaml", "--time", "soon"), "--time"),
        ((JOBS / "quickstart.yaml", "--time", "0"), "--time"),
        ((JOBS / "quickstart.yaml", "--ntasks", "0"), "--ntasks"),
        ((JOBS / "quickstart.yaml", "--nodes", "3", "--ntasks", "2"), "--nodes"),
        ((JOBS / "quickstart.yaml", "--partition", "a b"), "a b"),
        ((JOBS / "quickstart.yaml", "-o", tmp_path / "nowhere" / "o.h5"), "directory"),
        ((JOBS / "quickstart.yaml", "--frobnicate"), "unknown option"),
        ((), "needs a job file"),
    ]
    for args, msg in cases:
        r = submit(*args, cwd=tmp_path, env={"LAZYSWEEP_SBATCH": "/bin/false"})
        assert r.returncode == 2, (args, r.stderr)
        assert msg in r.stderr, (args, r.stderr)
    assert list(tmp_path.iterdir()) == []


def fake_sbatch(tmp_path, answer="4242"):
    """A stand-in sbatch: records its arguments and prints a job id as --parsable does."""
    sb = tmp_path / "sbatch"
    sb.write_text(f"#!/bin/sh\necho \"$@\" > {tmp_path}/sbatch.args\necho '{answer}'\n")
    sb.chmod(sb.stat().st_mode | stat.S_IXUSR)
    return sb


def test_submit_writes_script_beside_output_and_prints_job_id(tmp_path):
    out = tmp_path / "q.h5"
    sb = fake_sbatch(tmp_path, "4242;cluster")
    r = submit(JOBS / "quickstart.yaml", "-o", out, "--time", "10", cwd=tmp_path,
               env={"LAZYSWEEP_SBATCH": str(sb)})
    assert r.returncode == 0, r.stderr
    assert r.stdout == "4242\n"
    script = Path(str(out) + ".sbatch")
    assert (tmp_path / "sbatch.args").read_text().split() == ["--parsable", str(script)]
    assert directives(script.read_text())["time"] == "10"
    r = submit(JOBS / "quickstart.yaml", "-o", out, cwd=tmp_path,
               env={"LAZYSWEEP_SBATCH": "/bin/false"})
    assert r.returncode == 1 and "sbatch" in r.stderr


def test_template_found_beside_the_binary(tmp_path):
    """Without LAZYSWEEP_SLURM_TEMPLATE the template is looked up from the binary's location
    (build/ -> slurm/); a copy of the binary elsewhere finds it through share/lazysweep."""
    prefix = tmp_path / "prefix"
    (prefix / "bin").mkdir(parents=True)
    (prefix / "share" / "lazysweep").mkdir(parents=True)
    exe = prefix / "bin" / "lazysweep"
    exe.write_bytes(BIN.read_bytes())
    exe.chmod(0o755)
    env = {k: v for k, v in ENV.items() if k != "LAZYSWEEP_SLURM_TEMPLATE"}
    args = [str(exe), "submit", str(JOBS / "quickstart.yaml"), "--dry-run"]
    r = subprocess.run(args, env=env, cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 2 and "template" in r.stderr
    (prefix / "share" / "lazysweep" / "lazysweep.sbatch").write_text(TEMPLATE.read_text())
    r = subprocess.run(args, env=env, cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert f"LAZYSWEEP='{exe}'" in r.stdout


def test_help():
    r = subprocess.run([str(BIN), "submit", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "usage: lazysweep submit" in r.stdout
    r = subprocess.run([str(BIN), "--help"], capture_output=True, text=True)
    assert "submit" in r.stdout
