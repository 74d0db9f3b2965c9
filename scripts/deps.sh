#!/bin/sh
# Install the Debian packages lazysweep needs to build, run and test, when any is missing.
# Runs as root, or through sudo. Set LAZYSWEEP_NO_DEPS=1 to skip (e.g. on a cluster login node).
# `deps.sh bench` also installs the optional benchmark packages (make bench; make test needs none).
set -eu
[ "${LAZYSWEEP_NO_DEPS:-0}" = 1 ] && exit 0
PKGS="build-essential pkg-config libopenmpi-dev openmpi-bin libopenblas-dev liblapacke-dev
libhdf5-dev hdf5-tools libyaml-dev zlib1g-dev libcmocka-dev libglpk-dev
python3 python3-pytest python3-h5py python3-numpy python3-scipy
gnuplot-nox python3-pandas python3-xarray python3-h5netcdf
dataset-fashion-mnist"
BENCH_PKGS="python3-torch"
[ "${1:-}" = bench ] && PKGS="$PKGS $BENCH_PKGS"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q $missing
