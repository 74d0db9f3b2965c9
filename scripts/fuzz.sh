#!/bin/sh
# make fuzz: build the libFuzzer harness of the job-file loader (tests/fuzz/fuzz_cfg.c) with clang,
# ASan and UBSan against the library sources, and run it for FUZZ_SECONDS (default 60) on a corpus
# seeded from jobs/ and tests/bad_jobs/. Not part of `make test` (CI): run it by hand.
# Usage: scripts/fuzz.sh BUILD_DIR "CFLAGS (pkg-config)" "LDLIBS" LIB_SOURCES...
set -eu
build=$1 cflags=$2 ldlibs=$3
shift 3
seconds=${FUZZ_SECONDS:-60}
if ! command -v clang >/dev/null || ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
    [ "$(id -u)" = 0 ] || { echo "fuzz: needs clang and libclang-rt-14-dev (apt-get install them as root)" >&2; exit 1; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends clang libclang-rt-14-dev >/dev/null
fi
mkdir -p "$build/fuzz/corpus" "$build/fuzz/seeds" "$build/fuzz/crashes"
cp jobs/*.yaml tests/bad_jobs/*.yaml "$build/fuzz/seeds/"
# shellcheck disable=SC2086
clang -g -O1 -std=c11 -D_POSIX_C_SOURCE=200809L -Iinclude $cflags \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
    tests/fuzz/fuzz_cfg.c "$@" $ldlibs -o "$build/fuzz/fuzz_cfg"
echo "fuzz: running $build/fuzz/fuzz_cfg for ${seconds} s"
# Leak checking stays on: cfg_parse must free everything on every path. A unit slower than 120 s
# counts as a failure (a hang): validation is linear in the grid's points, and a legal grid of
# millions of points takes seconds natively, tens of seconds under ASan + UBSan + coverage.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    "$build/fuzz/fuzz_cfg" -max_total_time="$seconds" -timeout=120 -rss_limit_mb=4096 \
    -max_len=8192 -print_final_stats=1 -artifact_prefix="$build/fuzz/crashes/" \
    "$build/fuzz/corpus" "$build/fuzz/seeds"
