#!/bin/sh
# Run every unit-test binary in a directory; fail if any fails. Tests find their data relative
# to the repository root, so run from there.
set -u
dir=$1
fail=0; n=0
for t in "$dir"/test_*; do
    [ -x "$t" ] || continue
    n=$((n + 1))
    if ! "$t"; then echo "FAILED: $t"; fail=$((fail + 1)); fi
done
echo "unit: $((n - fail)) passed, $fail failed"
[ "$fail" = 0 ] && [ "$n" -gt 0 ]
