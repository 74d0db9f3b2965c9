#!/bin/sh
# MLP training speed: lazysweep's steps per second and GFLOP/s on the four shapes of the speed
# issue, the single-core dgemm peak measured in the same run, and (where python3-torch is
# installed) the same training in PyTorch with one thread, float64; then the ratios against
# their targets.
#
# The two sides run alternately, shape by shape, for `rounds` rounds. The figures shown are the
# best over the rounds, and the ratio is the median over rounds of each round's ratio: a machine
# shared with other work slows a round, which then slows both sides alike.
#
# OpenBLAS 0.3.21 (Debian 12) does not know recent Intel cores and falls back to its "Prescott"
# kernels (SSE3, a fifth of the speed of its AVX-512 ones here). Unless OPENBLAS_CORETYPE is set,
# this script sets it for both sides when that happens on a CPU with AVX-512 (SkylakeX) or AVX2
# (Haswell), and says so: both sides load the same libopenblas, so the comparison stays fair.
#
# Usage: bench/mlp_bench.sh [path/to/mlp_speed] [seconds per timed run] [rounds]
set -eu
bin=${1:-build/bench/mlp_speed}
secs=${2:-1}
rounds=${3:-5}
shapes="784-256-256-10 784-1024x3-10 20-100x5-1 1-1000-1"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1

detected=$("$bin" 0.01 none | sed -n 's/^openblas //p')
if [ -z "${OPENBLAS_CORETYPE:-}" ] && [ "$detected" = Prescott ]; then
    if grep -qw avx512f /proc/cpuinfo; then export OPENBLAS_CORETYPE=SkylakeX
    elif grep -qw avx2 /proc/cpuinfo; then export OPENBLAS_CORETYPE=Haswell; fi
    [ -n "${OPENBLAS_CORETYPE:-}" ] && echo "bench: OpenBLAS detected this CPU as '$detected';" \
        "running both sides with OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE"
fi

torch=0
if /usr/bin/python3 -c "import torch" 2>/dev/null; then
    torch=1
else
    echo "bench: python3-torch is not installed (sh scripts/deps.sh bench): no PyTorch column"
fi
: >"$dir/c.txt"
: >"$dir/torch.txt"
r=0
while [ "$r" -lt "$rounds" ]; do
    for s in $shapes; do
        "$bin" "$secs" "$s" | sed "s/^/$r /" >>"$dir/c.txt"
        if [ "$torch" = 1 ]; then
            /usr/bin/python3 bench/torch_mlp.py "$secs" "$s" | sed "s/^/$r /" >>"$dir/torch.txt"
        fi
    done
    r=$((r + 1))
done

/usr/bin/python3 - "$dir/c.txt" "$dir/torch.txt" <<'EOF'
import sys

import statistics

c, torch, peak, core, gemm_n = {}, {}, 0.0, "?", "?"
rounds_c, rounds_t = {}, {}  # (round, shape) → steps/s
for line in open(sys.argv[1]):
    rnd, w = line.split()[0], line.split()[1:]
    if w[0] == "openblas":
        core = w[1]
    elif w[0] == "dgemm":
        peak, gemm_n = max(peak, float(w[3])), w[1]
    elif w[0] == "mlp":
        rounds_c[rnd, w[1]] = float(w[5])
        if float(w[5]) > c.get(w[1], {}).get("sps", 0):
            c[w[1]] = dict(batch=int(w[3]), sps=float(w[5]), gflops=float(w[7]))
for line in open(sys.argv[2]):
    rnd, w = line.split()[0], line.split()[1:]
    rounds_t[rnd, w[1]] = float(w[3])
    torch[w[1]] = max(torch.get(w[1], 0.0), float(w[3]))
# Targets of the speed issue: steps/s relative to PyTorch, and a fraction of the dgemm peak.
targets = {"784-256-256-10": (1.2, None), "784-1024x3-10": (0.9, 0.8),
           "20-100x5-1": (3.0, None), "1-1000-1": (3.0, None)}
print(f"bench: mlp training, float64, 1 thread, OpenBLAS core {core}; "
      f"dgemm peak {peak:.2f} GFLOP/s (n={gemm_n})")
print("(steps/s: the best round; ratio: the median over rounds of lazysweep/torch in a round)")
print(f"{'shape':16} {'batch':>5} {'steps/s':>10} {'GFLOP/s':>8} {'% peak':>7} "
      f"{'torch st/s':>10} {'ratio':>6}  target")
for name, r in c.items():
    tr, tp = targets.get(name, (None, None))
    t = torch.get(name)
    per_round = [rounds_c[k] / rounds_t[k] for k in rounds_c if k[1] == name and k in rounds_t]
    ratio = statistics.median(per_round) if per_round else float("nan")
    frac = r["gflops"] / peak if peak else float("nan")
    notes = []
    if tr is not None and t:
        notes.append(f"{'ok' if ratio >= tr else 'MISSED'} >= {tr}x torch")
    if tp is not None:
        notes.append(f"{'ok' if frac >= tp else 'MISSED'} >= {tp:.0%} of peak")
    print(f"{name:16} {r['batch']:5d} {r['sps']:10.1f} {r['gflops']:8.2f} {100 * frac:6.1f}% "
          f"{t or float('nan'):10.1f} {ratio:6.2f}  {'; '.join(notes)}")
EOF
