#!/usr/bin/env bash
# leak-check.sh — LeakSanitizer over frost's command line: every command run once on small inputs by
# a frost built with SANITIZE=address,undefined (make leaks). A leak (outside libtorch's own process-lifetime
# allocations, tests/sanitizers/lsan.supp) or any other sanitizer report fails it.
#
#   scripts/leak-check.sh FROST_BINARY
set -euo pipefail
FROST=${1:?usage: scripts/leak-check.sh FROST_BINARY}
export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:exitcode=86
export LSAN_OPTIONS=suppressions=$(pwd)/tests/sanitizers/lsan.supp:print_suppressions=0
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail=0
run() {
    local out=$TMP/out
    if "$FROST" "$@" >"$out" 2>&1; then
        echo "ok    frost $*"
    else
        local rc=$?
        if [[ $rc -eq 86 ]] || grep -q "Sanitizer" "$out"; then
            echo "LEAK  frost $* (exit $rc)"
            grep -A12 "Sanitizer" "$out" | head -40
            fail=1
        else
            echo "ok    frost $* (exit $rc, as expected for bad input)"
        fi
    fi
}
run help
run print resnet18
run summary resnet18 --classes 3 --size 64
run doctor sample_data
run bench-data sample_data --size 64
run bench-forward resnet18 --images 8 --size 32 --batch 4
run train sample_data --arch resnet18 --epochs 1 --size 32 --save "$TMP/ck.safetensors"
run predict "$TMP/ck.safetensors" sample_data/valid --top 2
run weights list
run weights check "$TMP/ck.safetensors"
run train sample_data --arch resnet18 --epochs 2 --size 32 --resume "$TMP/ck.safetensors"
run print resnet18 --weights /nonexistent.safetensors
run doctor /nonexistent
exit $fail
