#!/bin/sh
# `make run`: the quickstart sweep on local MPI ranks (1 coordinator + 2 workers), then where the
# results went and a short summary (`lazysweep report`: population error per α and depth, over
# seeds). Rerunning resumes (nothing to do once complete).
set -eu
NP=${NP:-3}
OUT=${OUT:-results/quickstart.h5}
mkdir -p "$(dirname "$OUT")"
if [ "$(id -u)" = 0 ]; then
    # Open MPI refuses to start as root unless told to; `make run` is often run as root on a
    # fresh machine, so allow it here (and only here and in the tests).
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
mpirun --oversubscribe -np "$NP" build/lazysweep run jobs/quickstart.yaml -o "$OUT" --progress 2
echo
build/lazysweep status "$OUT"
echo
build/lazysweep report "$OUT" --metric population_error
echo
echo "Figures: build/lazysweep report $OUT --plot alpha.png --x init_scale --logx --logy"
echo "(more in README.md, 'Analysing results')"
