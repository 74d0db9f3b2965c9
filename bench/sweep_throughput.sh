#!/bin/sh
# Sweep throughput with trivial points at 1 coordinator + 2 workers, journal and HDF5 writes
# included. The figure is the tool's own final rate (points finished / seconds since the
# coordinator started, set-up included).
set -eu
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
[ "$(id -u)" = 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
for np in 3 1; do
    mpirun --oversubscribe -np $np build/lazysweep run bench/trivial.yaml -o "$dir/b$np.h5" \
        --progress 1000 2>"$dir/log$np"
    rate=$(grep -o '[0-9.]* points/s' "$dir/log$np" | tail -1)
    cpu=$(grep -o 'coordinator CPU.*' "$dir/log$np" || echo "(serial: no workers)")
    echo "bench: sweep throughput, $np rank(s), 20000 trivial points: $rate; $cpu"
done
# Resume of a complete sweep: every row of the file is read back and checked against its journal
# record (CRC-32 per row) before the tool finds nothing left to do. The rate is the tool's own.
build/lazysweep run bench/trivial.yaml -o "$dir/b1.h5" 2>"$dir/resume"
check=$(grep -o 'checked [0-9]* rows.*rows/s)' "$dir/resume")
echo "bench: resume of 20000 finished points: $check; that is $(grep -o '([0-9]* rows/s' \
    "$dir/resume" | tr -d '(' | cut -d' ' -f1) rows/s checked vs $rate written by 1 rank"
