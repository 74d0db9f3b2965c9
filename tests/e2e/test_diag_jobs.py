"""The CI-sized twins of the diagnostic studies (jobs/lazy_rich_mlp_small.yaml,
jobs/gradient_confusion_small.yaml) run end to end, and what their comments promise holds:
weight change falls like 1/α in the lazy regime, the rich regime moves the kernel and learns a
better function; the confusion statistics are consistent with the stored cosines, and wider
networks train faster."""
import h5py
import numpy as np

from conftest import JOBS, run


def load(path):
    f = h5py.File(path, "r")
    g = {a: f["grid"][a][()] for a in f["grid"]}
    return f, g


def test_lazy_rich_small(tmp_path):
    out = tmp_path / "lr.h5"
    r = run(JOBS / "lazy_rich_mlp_small.yaml", out, ranks=2)
    assert r.returncode == 0, r.stderr
    f, g = load(out)
    with f:
        assert np.all(f["status"][()] == 1)
        wc, ntk, test = (f["metrics"][m][()] for m in ("weight_change", "ntk_change", "test_loss"))
        a = g["init_scale"]
        for w in sorted(set(g["width"])):
            for s in sorted(set(g["seed"])):
                sel = (g["width"] == w) & (g["seed"] == s) & (a >= 0.999)
                slope = np.polyfit(np.log(a[sel]), np.log(wc[sel]), 1)[0]
                print(f"width {w} seed {s}: weight_change slope {slope:.4f}")
                assert abs(slope + 1) < 0.05  # lazy: ‖θ − θ₀‖ ∝ 1/α
            rich, lazy = (g["width"] == w) & (a < 0.2), (g["width"] == w) & (a > 999)
            print(f"width {w}: test loss rich {test[rich].mean():.4g} lazy {test[lazy].mean():.4g}, "
                  f"ntk_change rich {ntk[rich].mean():.3g} lazy {ntk[lazy].mean():.3g}")
            assert test[rich].mean() < 0.7 * test[lazy].mean()  # measured 0.14–0.50
            assert ntk[lazy].mean() < 0.01 * ntk[rich].mean()


def test_gradient_confusion_small(tmp_path):
    out = tmp_path / "gc.h5"
    r = run(JOBS / "gradient_confusion_small.yaml", out, ranks=2)
    assert r.returncode == 0, r.stderr
    f, g = load(out)
    with f:
        assert np.all(f["status"][()] == 1)
        m = {k: f["metrics"][k][()] for k in f["metrics"]}
        cos = f["vectors/grad_cosines"][()]
        assert cos.shape[1] == 6 and np.all(np.abs(cos) <= 1)
        assert np.array_equal(cos.min(axis=1), m["grad_cos_min"])
        assert np.allclose(cos.mean(axis=1), m["grad_cos_mean"], rtol=0, atol=1e-15)
        assert np.allclose(np.percentile(cos, 5, axis=1), m["grad_cos_p05"], rtol=0, atol=1e-15)
        assert np.array_equal((cos < 0).mean(axis=1), m["grad_cos_negative"])
        # at initialization the mini-batch gradients are strongly aligned (cos > 0.3 throughout)
        assert np.all(f["trajectories/grad_cos_min"][()][:, 0] > 0.3)
        for d in sorted(set(g["depth"])):
            loss = [m["train_loss"][(g["depth"] == d) & (g["width"] == w)].mean()
                    for w in sorted(set(g["width"]))]
            print(f"depth {d}: train loss by width {np.round(loss, 4)}")
            assert loss[-1] < loss[0]  # wider trains faster
