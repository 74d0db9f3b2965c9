#!/bin/sh
# The share of a job's training time spent in its diagnostics (docs/diagnostics.md): the job as
# shipped against the same job with every diagnostic metric and vector removed from `metrics:`
# and `store:`, both run serially (one process, one OpenBLAS thread) on the same machine, one
# after the other, `rounds` times alternating. The time of a run is its CPU time (user + system,
# from getrusage of the finished child): on a machine shared with other work the wall clock
# measures the neighbours as much as the job. The share is 1 − plain/with, the median over the
# rounds.
#
# Usage: bench/diag_overhead.sh [lazysweep binary] [job ...] (default: the CI-sized twins of the
# shipped diagnostic jobs). Needs h5py (python3-h5py).
set -eu
bin=${1:-build/lazysweep}
[ $# -gt 0 ] && shift
jobs=${*:-"jobs/lazy_rich_mlp_small.yaml jobs/gradient_confusion_small.yaml"}
rounds=${ROUNDS:-1}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1

cpu() { # CPU seconds of one serial run of "$@"
    /usr/bin/python3 -c "
import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f'{u.ru_utime + u.ru_stime:.3f}')" "$@"
}

for job in $jobs; do
    base=$(basename "$job" .yaml)
    # The diagnostic names (DIAG_METRICS and DIAG_VECTORS in diag.h) out of the flow lists.
    /usr/bin/python3 - "$job" "$dir/$base.plain.yaml" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
diag = re.compile(r"\s*\b(weight_change\w*|activation_change|ntk_change|kernel_alignment|"
                  r"linearization_gap|sample_confusion|sample_cos_min|grad_cos_\w+|"
                  r"grad_cosines|confusion_batches|probe_index)\b\s*,?")
def strip(m):
    body = diag.sub(" ", m.group(2)).strip().rstrip(",")
    return f"{m.group(1)}[{body}]"
text = re.sub(r"^(metrics:\s*|store:\s*)\[([^\]]*)\]", strip, text, flags=re.M | re.S)
text = re.sub(r"^store:\s*\[\s*\]\s*$", "", text, flags=re.M)
open(sys.argv[2], "w").write(text)
PY
    shares=""
    r=0
    while [ $r -lt "$rounds" ]; do
        w=$(cpu "$bin" run "$job" -o "$dir/with.h5" --fresh --progress 0)
        p=$(cpu "$bin" run "$dir/$base.plain.yaml" -o "$dir/plain.h5" --fresh --progress 0)
        s=$(/usr/bin/python3 -c "print(f'{1 - $p / $w:.3f}')")
        echo "diag_overhead $base round $r with_s $w plain_s $p share $s"
        shares="$shares $s"
        r=$((r + 1))
    done
    /usr/bin/python3 -c "import statistics,sys; print(f'diag_overhead $base median_share {statistics.median(map(float, sys.argv[1:])):.3f} (target <= 0.15)')" $shares
done
