#!/usr/bin/env python3
"""Short summary of a results file: mean ± std over seeds of the final population error (or the
first metric) per value of the swept axes. Used by `make run`; `lazysweep report` goes further."""
import sys

import h5py
import numpy as np


def main(path):
    with h5py.File(path, "r", libver="latest", swmr=True) as f:
        axes = [a for a in f["grid"] if f["grid"][a].attrs.get("swept", 0) and a != "seed"]
        metric = "population_error" if "population_error" in f["metrics"] else list(f["metrics"])[0]
        values = f["metrics"][metric][:]
        status = f["status"][:]
        cols = [f["grid"][a][:] for a in axes]
    done = status == 1
    keys = sorted(set(zip(*cols))) if axes else [()]
    print(f"{metric} of finished points (mean ± std over seeds):")
    print("  " + "  ".join(f"{a:>12}" for a in axes) + f"  {'mean':>10}  {'std':>10}  n")
    for key in keys:
        sel = done.copy()
        for col, v in zip(cols, key):
            sel &= col == v
        if sel.any():
            v = values[sel]
            print("  " + "  ".join(f"{x:>12.4g}" for x in key)
                  + f"  {v.mean():>10.4g}  {v.std():>10.4g}  {sel.sum()}")
    print(f"results: {path}  (open with h5py; see README 'Results file')")


if __name__ == "__main__":
    main(sys.argv[1])
