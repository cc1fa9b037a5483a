#!/bin/sh
# Runs every test: unit tests, fuzz corpus replays and integration tests,
# first on the plain build, then on the sanitizer build. Ends with one line
# "total: N passed, N failed".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2

passed=0
failed=0
failures=""

# Run one test command; its status decides pass (0), skip (77) or fail.
run() {
    label=$1
    shift
    log="$top/build/test-logs/$(echo "$label" | tr '/ ' '__').log"
    mkdir -p "$top/build/test-logs"
    start=$(date +%s)
    "$@" >"$log" 2>&1
    rc=$?
    took=$(($(date +%s) - start))
    if [ $rc -eq 0 ]; then
        passed=$((passed + 1))
        printf 'ok    %-50s %3ss\n' "$label" "$took"
    elif [ $rc -eq 77 ]; then
        printf 'skip  %-50s (%s)\n' "$label" "$(tail -n 1 "$log")"
    else
        failed=$((failed + 1))
        failures="$failures $label"
        printf 'FAIL  %-50s %3ss (log: %s)\n' "$label" "$took" "$log"
        tail -n 30 "$log" | sed 's/^/      /'
    fi
}

builds=${TC_TEST_BUILDS:-"build build-asan"}
for b in $builds; do
    if [ ! -x "$b/unit-tests" ]; then
        echo "missing $b/unit-tests: run make first" >&2
        exit 2
    fi
    export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
    run "$b/unit" "$b/unit-tests"
    for f in "$b"/fuzz/*; do
        [ -x "$f" ] || continue
        name=$(basename "$f")
        if [ -d "fuzz/corpus/$name" ]; then
            run "$b/fuzz-replay/$name" "$f" "fuzz/corpus/$name"
        else
            failed=$((failed + 1))
            echo "FAIL  $b/fuzz-replay/$name: no corpus fuzz/corpus/$name"
        fi
    done
    for t in tests/integration/t_*.sh; do
        [ -f "$t" ] || continue
        run "$b/$(basename "$t" .sh)" env TC_BUILD="$top/$b" sh "$t"
    done
done

[ -n "$failures" ] && echo "failed:$failures"
echo "total: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
