#!/bin/sh
# MLP training speed: lazysweep's steps per second and GFLOP/s on the four shapes of the speed
# issue, the single-core dgemm peak of the same run, and (where python3-torch is installed) the
# same training in PyTorch with one thread, float64; then the ratios against their targets.
# Usage: bench/mlp_bench.sh [path/to/mlp_speed] [seconds per timed run]
set -eu
bin=${1:-build/bench/mlp_speed}
secs=${2:-0.5}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
"$bin" "$secs" >"$dir/c.txt"
if /usr/bin/python3 -c "import torch" 2>/dev/null; then
    /usr/bin/python3 bench/torch_mlp.py "$secs" >"$dir/torch.txt"
else
    echo "bench: python3-torch is not installed (scripts/deps.sh bench): no PyTorch column"
    : >"$dir/torch.txt"
fi
/usr/bin/python3 - "$dir/c.txt" "$dir/torch.txt" <<'EOF'
import sys

c, torch, peak = {}, {}, None
for line in open(sys.argv[1]):
    w = line.split()
    if w[0] == "dgemm":
        peak = float(w[3])
    elif w[0] == "mlp":
        c[w[1]] = dict(batch=int(w[3]), sps=float(w[5]), gflops=float(w[7]))
for line in open(sys.argv[2]):
    w = line.split()
    torch[w[1]] = float(w[3])
# Targets of the speed issue: steps/s relative to PyTorch, and a fraction of the dgemm peak.
targets = {"784-256-256-10": (1.2, None), "784-1024x3-10": (0.9, 0.8),
           "20-100x5-1": (3.0, None), "1-1000-1": (3.0, None)}
print(f"bench: mlp training, float64, 1 thread; dgemm {peak:.2f} GFLOP/s (single core, n=1024)")
print(f"{'shape':16} {'batch':>5} {'steps/s':>10} {'GFLOP/s':>8} {'% peak':>7} "
      f"{'torch st/s':>10} {'ratio':>6}  target")
for name, r in c.items():
    tr, tp = targets.get(name, (None, None))
    t = torch.get(name)
    ratio = r["sps"] / t if t else None
    frac = r["gflops"] / peak if peak else None
    notes = []
    if tr is not None and ratio is not None:
        notes.append(f"{'ok' if ratio >= tr else 'MISSED'} ≥{tr}× torch")
    if tp is not None and frac is not None:
        notes.append(f"{'ok' if frac >= tp else 'MISSED'} ≥{tp:.0%} peak")
    print(f"{name:16} {r['batch']:5d} {r['sps']:10.1f} {r['gflops']:8.2f} "
          f"{100 * frac:6.1f}% {t or float('nan'):10.1f} "
          f"{ratio if ratio else float('nan'):6.2f}  {'; '.join(notes)}")
EOF
