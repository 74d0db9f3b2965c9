"""`lazysweep report` and `lazysweep export`, and the README's pandas and xarray snippets, checked
against numpy / h5py reading the same results file independently."""
import csv
import math
import os
import re
import signal
import time
import xml.etree.ElementTree as ET

import h5py
import numpy as np
import pytest

from conftest import JOBS, ROOT, SLOW_JOB, lazysweep, run, start, write_job

# 4 α × 2 inits (a string axis) × 2 depths × 3 seeds = 48 points. α = 4 with this learning rate
# diverges at depth 3, so some groups have diverged points that must be counted, not averaged.
JOB = """\
name: reported
seed: 5
model: {family: diagonal, depth: 2, init_scale: 1.0}
data: {kind: sparse_regression, n_train: 20, dim: 60, support: 3, noise_std: 0.05}
train: {optimizer: gd, lr: 0.002, max_steps: 1500, stop_loss: 1.0e-4, log: {points: 16}}
metrics: [train_loss, population_error, l1_norm, steps]
store: [beta]
grid:
  init_scale: [0.01, 0.1, 1.0, 4.0]
  model.init: [constant, random]
  depth: [2, 3]
  seed: {range: [0, 3]}
"""
STATUS = {0: "pending", 1: "done", 2: "diverged", 3: "timeout", 4: "failed"}


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("report")
    out = tmp / "r.h5"
    r = run(write_job(tmp, JOB), out)
    assert r.returncode == 0, r.stderr
    return out


def read_file(path):
    """Every per-point column of a results file, read with h5py alone."""
    with h5py.File(path, "r", libver="latest", swmr=True) as f:
        cols = {}
        for a, ds in f["grid"].items():
            cols[a] = ds.asstr()[()] if ds.dtype.kind == "S" else ds[()]
        cols["status"] = f["status"][()]
        metrics = {m: f["metrics"][m][()] for m in f["metrics"]}
        timing = {t: (ds.asstr()[()] if ds.dtype.kind == "S" else ds[()])
                  for t, ds in f["timing"].items()}
        traj = {t: f["trajectories"][t][()] for t in f["trajectories"] if t != "step"}
        step = f["trajectories/step"][()]
    return cols, metrics, timing, traj, step


def numpy_groups(cols, metrics, by, metric, keep=None):
    """Per group of `by` values: status counts and statistics of done, finite values."""
    n = len(cols["status"])
    keep = np.ones(n, bool) if keep is None else keep
    out = {}
    for key in sorted({tuple(cols[a][i] for a in by) for i in range(n) if keep[i]}):
        sel = keep.copy()
        for a, v in zip(by, key):
            sel &= cols[a] == v
        st = cols["status"][sel]
        v = metrics[metric][sel & (cols["status"] == 1) & np.isfinite(metrics[metric])]
        out[key] = dict(points=sel.sum(), **{STATUS[k]: (st == k).sum() for k in STATUS},
                        count=len(v), mean=v.mean() if len(v) else math.nan,
                        std=v.std(ddof=1) if len(v) > 1 else math.nan,
                        min=v.min() if len(v) else math.nan,
                        median=np.median(v) if len(v) else math.nan,
                        max=v.max() if len(v) else math.nan)
    return out


def csv_key(row, by, cols):
    """A CSV row's group key, typed like the h5py columns."""
    kind = {"f": float, "i": int}
    return tuple(kind.get(cols[a].dtype.kind, str)(row[a]) for a in by)


def num(cell):
    return math.nan if cell == "" else float(cell)


def close(a, b):
    """Equal within 1e-12 relative (both sum in a different order), NaN equal to NaN."""
    return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-300)


def check_csv(rows, expected, by, metric, cols):
    got = {csv_key(r, by, cols): r for r in rows if r["metric"] == metric}
    assert sorted(got) == sorted(expected), (sorted(got), sorted(expected))
    for key, e in expected.items():
        r = got[key]
        for k in ("points", "done", "diverged", "timeout", "failed", "pending", "count"):
            assert int(r[k]) == e[k], (key, k, r[k], e[k])
        for k in ("mean", "std", "min", "median", "max"):
            assert close(num(r[k]), float(e[k])), (key, metric, k, r[k], e[k])


def test_report_matches_numpy(results, tmp_path):
    cols, metrics, *_ = read_file(results)
    assert (cols["status"] == 2).any() and (cols["status"] == 1).any(), "need diverged and done"
    out = tmp_path / "t.csv"
    r = lazysweep("report", results, "--csv", out)
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(out.open()))
    by = ["init_scale", "model.init", "depth"]  # the swept axes but seed, in the job's order
    assert list(rows[0])[:4] == by + ["metric"]
    for m in metrics:
        check_csv(rows, numpy_groups(cols, metrics, by, m), by, m, cols)
    # The printed table says the same: a diverged count shows in the header and in the rows.
    n_div = int((cols["status"] == 2).sum())
    assert f"48 points: {48 - n_div} done, {n_div} diverged" in r.stdout
    assert re.search(r"^\s*4\s+constant\s+3\s+3\s+0\s+3\s+0\s+0\s+0\s+0\s", r.stdout, re.M), r.stdout


def test_report_by_where_and_metric(results, tmp_path):
    cols, metrics, *_ = read_file(results)
    out = tmp_path / "t.csv"
    r = lazysweep("report", results, "--by", "depth", "--where", "init_scale=0.1",
                  "--where", "init_scale=4", "--metric", "population_error", "--csv", out)
    assert r.returncode == 0, r.stderr
    assert "population_error over init_scale, model.init, seed" in r.stdout
    rows = list(csv.DictReader(out.open()))
    assert {row["metric"] for row in rows} == {"population_error"}
    keep = np.isin(cols["init_scale"], [0.1, 4.0])
    check_csv(rows, numpy_groups(cols, metrics, ["depth"], "population_error", keep), ["depth"],
              "population_error", cols)


def test_report_bad_usage(results, tmp_path):
    for args in (["--metric", "nope"], ["--by", "nope"], ["--where", "depth=7"],
                 ["--plot", tmp_path / "p.png"], ["--plot", tmp_path / "p.pdf", "--x", "depth"],
                 ["--band", "wide"], ["--trajectories", tmp_path / "t.png", "--point", "999"]):
        r = lazysweep("report", results, *args)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
    r = lazysweep("report", tmp_path / "missing.h5")
    assert r.returncode == 2 and "cannot read" in r.stderr


def test_export_round_trip(results, tmp_path):
    import pandas as pd
    cols, metrics, timing, traj, step = read_file(results)
    out = tmp_path / "points.csv"
    r = lazysweep("export", results, "--csv", out, "--trajectories", tmp_path / "traj.csv")
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 48
    assert list(rows[0])[:1] == ["point"] and "status" in rows[0] and "host" in rows[0]
    for i, row in enumerate(rows):
        assert int(row["point"]) == i
        assert row["status"] == STATUS[cols["status"][i]]
        assert row["model.init"] == cols["model.init"][i]
        for a in ("init_scale", "depth", "seed", "width", "sparsity"):
            assert float(row[a]) == cols[a][i], (i, a)
        for m, v in metrics.items():  # %.17g: exactly the same doubles
            assert num(row[m]) == v[i] or (math.isnan(v[i]) and row[m] == ""), (i, m)
        assert float(row["seconds"]) == timing["seconds"][i]
        assert float(row["finished"]) == timing["finished"][i]
        assert int(row["rank"]) == timing["rank"][i] and row["host"] == timing["host"][i]
    df = pd.read_csv(out, float_precision="round_trip")  # pandas' default parser rounds
    assert np.array_equal(df.population_error.to_numpy(), metrics["population_error"],
                          equal_nan=True)
    long = pd.read_csv(tmp_path / "traj.csv", float_precision="round_trip")
    for name, v in traj.items():
        pts, ts = np.nonzero(~np.isnan(v))
        sub = long.dropna(subset=[name])
        assert len(sub) == len(pts), name
        assert np.array_equal(sub.point.to_numpy(), pts)
        assert np.array_equal(sub.step.to_numpy(), step[ts])
        assert np.array_equal(sub[name].to_numpy(), v[pts, ts])


def test_plots(results, tmp_path):
    png, svg, heat, traj = (tmp_path / n for n in ("p.png", "p.svg", "h.svg", "t.png"))
    r = lazysweep("report", results, "--quiet", "--metric", "population_error", "--plot", png,
                  "--x", "init_scale", "--logx", "--logy", "--keep-script")
    assert r.returncode == 0, r.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    script = (tmp_path / "p.gp").read_text()
    assert 'set title "population_error vs init_scale — job reported' in script
    assert 'set xlabel "init_scale  (initialization scale α)  [log scale]"' in script
    assert "set logscale x" in script and "set logscale y" in script
    # One line per (model.init, depth), each with its band; the diverged points are named.
    assert script.count("with linespoints") == 4 and script.count("filledcurves") == 4
    assert re.search(r'title "model.init=\w+, depth=3  \(\d+ of \d+ diverged/failed\)"', script)

    r = lazysweep("report", results, "--quiet", "--plot", svg, "--x", "init_scale", "--logx",
                  "--band", "std", "--heatmap", heat, "--y", "depth", "--logz")
    assert r.returncode == 0, r.stderr
    for path, needles in ((svg, ["population_error vs init_scale", "init_scale  (initialization",
                                 "band: ±1 std", "depth=2"]),
                          (heat, ["population_error over init_scale × depth", "diverged"])):
        text = "".join(ET.parse(path).getroot().itertext())  # parses as XML
        for s in needles:
            assert s in text, (path, s)

    r = lazysweep("report", results, "--quiet", "--trajectories", traj, "--where", "depth=2",
                  "--where", "model.init=constant", "--logx", "--logy", "--keep-script")
    assert r.returncode == 0, r.stderr
    assert traj.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    script = (tmp_path / "t.gp").read_text()
    assert 'set title "train_loss during training' in script and 'set xlabel "step' in script
    assert script.count("with lines ") == 4  # one per α; depth and init are in the title
    assert "model.init=constant, depth=2" in script


def test_trajectory_of_points_puts_final_state_at_its_step(results, tmp_path):
    cols, metrics, _, traj, step = read_file(results)
    stopped = np.nonzero((cols["status"] == 1) & (metrics["steps"] < step[-1]))[0]
    assert len(stopped), "the job should have points that reached stop_loss"
    p = int(stopped[0])
    r = lazysweep("report", results, "--quiet", "--trajectories", tmp_path / "pt.svg", "--point",
                  f"{p},0", "--keep-script")
    assert r.returncode == 0, r.stderr
    block = re.search(r"\$L0 << EOD\n(.*?)EOD", (tmp_path / "pt.gp").read_text(), re.S).group(1)
    xy = np.array([[float(v) for v in line.split()] for line in block.strip().splitlines()])
    y = traj["train_loss"][p]
    finite = ~np.isnan(y)
    assert np.array_equal(xy[:-1, 0], step[finite][:-1]) and xy[-1, 0] == metrics["steps"][p]
    assert np.array_equal(xy[:, 1], y[finite])


def test_xarray_dimensions(results):
    import xarray as xr
    ds = xr.open_dataset(results, group="trajectories", engine="h5netcdf")
    assert ds.train_loss.dims == ("point", "step") and ds.step.dims == ("step",)
    for g in ("grid", "metrics", "timing"):
        ds = xr.open_dataset(results, group=g, engine="h5netcdf")
        assert all(v.dims == ("point",) for v in ds.data_vars.values()), g
    with h5py.File(results, "r") as f:  # the point scale is the row index
        assert np.array_equal(f["point"][()], np.arange(48))
        beta = f["vectors/beta"][()]
    # The README's recipe for the group without scales.
    v = xr.open_dataset(results, group="vectors", engine="h5netcdf", phony_dims="access")
    v = v.rename_dims(phony_dim_0="point")
    assert v.beta.dims[0] == "point" and np.array_equal(v.beta.to_numpy(), beta, equal_nan=True)


def test_report_while_sweep_runs(tmp_path):
    out = tmp_path / "slow.h5"
    p = start(write_job(tmp_path, SLOW_JOB), out, ranks=2)
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            s = lazysweep("status", out)
            done = re.search(r"done\s+(\d+)", s.stdout)
            if s.returncode == 0 and done and int(done.group(1)) >= 4:
                break
            time.sleep(0.2)
        r = lazysweep("report", out, "--metric", "population_error", "--csv", tmp_path / "r.csv",
                      "--plot", tmp_path / "r.svg", "--x", "init_scale", "--logx")
        assert r.returncode == 0, r.stderr
    finally:
        os.killpg(p.pid, signal.SIGTERM)
        p.wait(timeout=60)
    # Points were pending, so the sweep had not ended: its lock says it is running.
    head = re.search(r"64 points: (\d+) done, \d+ diverged, \d+ timeout, \d+ failed, (\d+) pending"
                     r" \(sweep running", r.stdout)
    assert head, r.stdout
    assert int(head.group(1)) >= 4 and int(head.group(2)) > 0
    rows = list(csv.DictReader((tmp_path / "r.csv").open()))
    assert sum(int(x["pending"]) for x in rows) == int(head.group(2))
    assert sum(int(x["done"]) for x in rows) == int(head.group(1))
    assert "points pending" in "".join(ET.parse(tmp_path / "r.svg").getroot().itertext())


def readme_snippets():
    """The python blocks of the README's "Analysing results" section, exactly as printed."""
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Analysing results\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    pandas = [b for b in blocks if "import pandas" in b]
    xarray = [b for b in blocks if "import xarray" in b]
    assert len(pandas) == 1 and len(xarray) == 1
    return pandas[0], xarray[0]


def test_readme_snippets(tmp_path, monkeypatch):
    (tmp_path / "results").mkdir()
    path = tmp_path / "results" / "quickstart.h5"
    assert run(JOBS / "quickstart.yaml", path, ranks=2).returncode == 0
    cols, metrics, timing, traj, step = read_file(path)
    pandas_code, xarray_code = readme_snippets()
    monkeypatch.chdir(tmp_path)
    ns = {}
    exec(compile(pandas_code, "README pandas snippet", "exec"), ns)
    df = ns["df"]
    assert len(df) == 40 and (df.status == "done").all()
    for k, v in {**cols, **metrics, **timing}.items():
        if k != "status":
            assert np.array_equal(df[k].to_numpy(), v), k
    ns = {}
    exec(compile(xarray_code, "README xarray snippet", "exec"), ns)
    cube = ns["by_axis"](ns["final"]).population_error.mean("seed")
    for d in (2, 3):
        for a in np.unique(cols["init_scale"]):
            sel = (cols["depth"] == d) & (cols["init_scale"] == a)
            want = metrics["population_error"][sel].mean()
            assert math.isclose(float(cube.sel(depth=d, init_scale=a)), want, rel_tol=1e-12)
    curves = ns["by_axis"](ns["traj"]).train_loss
    assert curves.dims[0] == "step" and np.array_equal(curves.step, step)
    first = (cols["depth"] == 2) & (cols["init_scale"] == 0.01) & (cols["seed"] == 0)
    assert np.array_equal(curves.sel(depth=2, init_scale=0.01, seed=0).to_numpy(),
                          traj["train_loss"][first][0], equal_nan=True)
