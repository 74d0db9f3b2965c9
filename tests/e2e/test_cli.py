"""The command line as a newcomer meets it: a usage mistake is one line naming it (with a
did-you-mean when a word is close), `lazysweep help COMMAND` prints that command's help, and a
results file given where a job file belongs (or the reverse) is named as what it is."""
import shutil

import pytest

from conftest import JOBS, lazysweep, run


def one_line_error(r, *needles):
    """A usage error: exit 2, the message on one line, then only the pointer to --help."""
    assert r.returncode == 2, (r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 2, r.stderr
    assert lines[1].startswith("see 'lazysweep") and lines[1].endswith("--help'"), r.stderr
    for n in needles:
        assert n in lines[0], (n, lines[0])
    assert r.stdout == ""
    return lines[0]


@pytest.mark.parametrize("args, needles", [
    (["rnu", "job.yaml"], ["unknown command 'rnu'", "did you mean 'run'"]),
    (["stauts", "x.h5"], ["did you mean 'status'"]),
    (["run", "job.yaml", "--fersh"], ["unknown option '--fersh'", "did you mean '--fresh'"]),
    (["run", "job.yaml", "--qiuet"], ["did you mean '--quiet'"]),
    (["run", "job.yaml", "-o"], ["'-o' needs a value"]),
    (["run", "job.yaml", "--progress"], ["'--progress' needs a value"]),
    (["report", "x.h5", "--metrc", "a"], ["did you mean '--metric'"]),
    (["report", "x.h5", "--plot"], ["'--plot' needs a value"]),
    (["export", "x.h5", "--csv"], ["'--csv' needs a value"]),
    (["submit", "job.yaml", "--dry"], ["did you mean '--dry-run'"]),
    (["submit", "job.yaml", "--time"], ["'--time' needs a value"]),
    (["data", "job.yaml", "--sed", "1"], ["did you mean '--seed'"]),
    (["plan", "--halp"], ["did you mean '--help'"]),
])
def test_usage_error_is_one_line_with_a_suggestion(args, needles):
    one_line_error(lazysweep(*args), *needles)


def test_unrelated_word_gets_no_suggestion():
    line = one_line_error(lazysweep("run", "job.yaml", "--zzzzzzzz"), "unknown option")
    assert "did you mean" not in line


@pytest.mark.parametrize("name", ["run", "plan", "status", "submit", "report", "export", "data",
                                  "verify"])
def test_help_command_prints_that_commands_help(name):
    r = lazysweep("help", name)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"usage: lazysweep {name}"), r.stdout[:200]
    assert r.stdout == lazysweep(name, "--help").stdout


def test_help_of_unknown_command():
    one_line_error(lazysweep("help", "rnu"), "did you mean 'run'")


@pytest.mark.parametrize("cmd", [["status"], ["report"], ["export", "--csv", "out.csv"],
                                 ["verify"]])
def test_job_file_given_as_results_file(cmd, tmp_path):
    job = tmp_path / "quickstart.yaml"
    shutil.copy(JOBS / "quickstart.yaml", job)
    args = [cmd[0], job, *cmd[1:]]
    r = lazysweep(*args)
    line = one_line_error(r, f"{job} is not an HDF5 results file", f"lazysweep run {job}")
    assert "signature" not in r.stderr and "corrupt" not in r.stderr, line
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize("cmd", ["plan", "run", "submit"])
def test_results_file_given_as_job_file(cmd, tmp_path):
    out = tmp_path / "q.h5"
    r = run(JOBS / "quickstart.yaml", out)
    assert r.returncode == 0, r.stderr
    before = out.read_bytes()
    extra = ["--dry-run"] if cmd == "submit" else []
    r = lazysweep(cmd, out, *extra)
    assert r.returncode == 2
    assert f"{out}:1:1: this is an HDF5 results file, not a YAML job file" in r.stderr, r.stderr
    assert "UTF-8" not in r.stderr
    assert out.read_bytes() == before


def test_numbers_print_shortest_and_read_back(tmp_path):
    """CSV, tables and plan print 0.1, not 0.10000000000000001, and every CSV number still reads
    back as the very double in the file."""
    import csv

    import h5py
    out = tmp_path / "q.h5"
    assert run(JOBS / "quickstart.yaml", out).returncode == 0
    r = lazysweep("export", out, "--csv", tmp_path / "p.csv")
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(open(tmp_path / "p.csv")))
    assert {row["init_scale"] for row in rows} >= {"0.01", "0.1", "1"}
    with h5py.File(out, "r") as f:
        loss = f["metrics/train_loss"][()]
    for row, v in zip(rows, loss):
        assert float(row["train_loss"]) == v
        assert len(row["train_loss"]) <= len(f"{v:.17g}")
    plan = lazysweep("plan", JOBS / "quickstart.yaml").stdout
    assert " 0.01 " in plan and "0.10000000000000001" not in plan
    table = lazysweep("report", out, "--metric", "train_loss").stdout
    assert "0.10000000000000001" not in table and "0.1" in table


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("quick") / "q.h5"
    r = run(JOBS / "quickstart.yaml", out)
    assert r.returncode == 0, r.stderr
    return out


def csv_rows(path):
    import csv
    return list(csv.DictReader(open(path)))


@pytest.mark.parametrize("filters, keep", [
    (["depth=2,3"], lambda a, d, s: True),
    (["init_scale<0.1"], lambda a, d, s: a < 0.1),
    (["init_scale<=0.1"], lambda a, d, s: a <= 0.1 * (1 + 1e-12)),
    (["init_scale>0.1", "seed!=0,1"], lambda a, d, s: a > 0.1 * (1 + 1e-12) and s >= 2),
    (["init_scale>=0.03", "init_scale<0.5"], lambda a, d, s: 0.03 <= a < 0.5),
    (["status=done", "depth!=2"], lambda a, d, s: d != 2),
])
def test_where_lists_and_ranges(quick, tmp_path, filters, keep):
    """--where takes lists and comparisons; the kept points, counted from the file with h5py,
    are exactly those the table counts, grouped by --over lists as asked."""
    import h5py
    with h5py.File(quick, "r") as f:
        g = f["grid"]
        want = sum(keep(a, d, s) for a, d, s in zip(g["init_scale"][()], g["depth"][()],
                                                      g["seed"][()]))
    args = []
    for w in filters:
        args += ["--where", w]
    r = lazysweep("report", quick, "--metric", "steps", "--over", "seed,depth", *args,
                  "--csv", tmp_path / "t.csv", "--quiet")
    assert r.returncode == 0, r.stderr
    rows = csv_rows(tmp_path / "t.csv")
    assert sum(int(row["points"]) for row in rows) == want, (filters, rows)
    assert all("depth" not in row and "seed" not in row for row in rows)


@pytest.mark.parametrize("bad, why", [
    ("depth<x", "not a number"), ("depth>99", "no value of depth"), ("depth", "takes AXIS=V"),
    ("nope=1", "no axis 'nope'"), ("status=running", "no value of status"),
])
def test_where_refuses_what_selects_nothing(quick, bad, why):
    r = lazysweep("report", quick, "--where", bad)
    assert r.returncode == 2 and why in r.stderr, r.stderr


def script_of(tmp_path, quick, *args):
    """Draw a figure with --keep-script and return the gnuplot script's text."""
    r = lazysweep("report", quick, "--quiet", "--keep-script", *args)
    assert r.returncode == 0, r.stderr
    return r


def test_log_axes_span_the_data(quick, tmp_path):
    """A log axis covers what is drawn (plus a 3 % margin), not whole decades around it."""
    import h5py
    import numpy as np
    script_of(tmp_path, quick, "--metric", "population_error", "--plot", tmp_path / "a.png",
              "--x", "init_scale", "--logx", "--logy")
    gp = (tmp_path / "a.gp").read_text()
    xr = [l for l in gp.splitlines() if l.startswith("set xrange")]
    assert len(xr) == 1, gp
    lo, hi = (float(v) for v in xr[0].split("[")[1].rstrip("]").split(":"))
    with h5py.File(quick, "r") as f:
        a = f["grid/init_scale"][()]
    span = np.log(a.max() / a.min())
    assert np.isclose(np.log(a.min() / lo), 0.03 * span) and np.isclose(np.log(hi / a.max()), 0.03 * span)


def test_several_metrics_one_file_each_and_no_silent_choice(quick, tmp_path):
    r = script_of(tmp_path, quick, "--metric", "l1_norm,l2_norm", "--plot", tmp_path / "b.png",
                  "--x", "init_scale")
    for m in ("l1_norm", "l2_norm"):
        gp = (tmp_path / f"b_{m}.gp").read_text()
        assert f"{m} vs init_scale" in gp and (tmp_path / f"b_{m}.png").stat().st_size > 0
        assert f"b_{m}.png" in r.stderr
    assert not (tmp_path / "b.png").exists()


def test_group_trajectories_mark_where_runs_stopped(quick, tmp_path):
    """Quickstart runs stop at stop_loss at different steps: the group lines get × marks (column
    5 of their data) and a legend entry saying the flat part is a carried final value."""
    script_of(tmp_path, quick, "--trajectories", tmp_path / "t.png", "--where", "depth=3",
              "--logx", "--logy")
    gp = (tmp_path / "t.gp").read_text()
    assert "using 1:5 with points" in gp and "final value is carried on" in gp


def test_all_diverged_line_says_so(tmp_path):
    from conftest import write_job
    job = write_job(tmp_path, (JOBS / "quickstart.yaml").read_text()
                    .replace("lr: 0.002", "lr: 5.0").replace("max_steps: 30000", "max_steps: 200"))
    out = tmp_path / "d.h5"
    assert run(job, out).returncode == 0
    script_of(tmp_path, out, "--metric", "l2_norm", "--plot", tmp_path / "d.png", "--x",
              "init_scale", "--where", "init_scale=1")
    gp = (tmp_path / "d.gp").read_text()
    assert "(all 4 diverged)" in gp, gp


def test_plot_without_metric_choice_is_refused_with_the_list(tmp_path):
    from conftest import write_job
    text = (JOBS / "quickstart.yaml").read_text().replace(
        "metrics: [train_loss, population_error, l1_norm, l2_norm, steps]",
        "metrics: [train_loss, l1_norm]")
    out = tmp_path / "m.h5"
    assert run(write_job(tmp_path, text), out).returncode == 0
    r = lazysweep("report", out, "--quiet", "--plot", tmp_path / "m.png", "--x", "init_scale")
    assert r.returncode == 2 and "choose with --metric" in r.stderr and "l1_norm" in r.stderr
    assert not (tmp_path / "m.png").exists()
