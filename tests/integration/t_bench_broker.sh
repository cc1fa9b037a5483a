#!/bin/sh
# The broker benchmark end to end on a small fleet: the four brokers
# start, every connection and message of the trials goes through, the
# figures are printed, and so is which brokers refuse a device under
# another device's client ID ((b) and (c) refuse, (a) and (d) admit it).
# No figure is judged here; bad arguments are refused.
set -u
. "$(dirname "$0")/lib.sh"
B="${TC_BUILD:?TC_BUILD not set}/bench/broker"
[ -x "$B" ] || { echo "no $B"; exit 77; }
[ -x /usr/sbin/mosquitto ] || { echo "no /usr/sbin/mosquitto"; exit 77; }
if ldd "$TC_BUILD/thingcore-plugin.so" 2>/dev/null | grep -q libasan; then
    # the bench starts mosquitto itself, without the sanitizer preload
    echo "sanitizer build: the bench runs on the plain build"
    exit 77
fi
fail() {
    echo "FAIL: $*"
    exit 1
}
D=$(mktemp -d /tmp/tc-bench-smoke.XXXXXX)
trap 'rm -rf "$D"' EXIT

"$B" --devices 8 --rounds 4 --seconds 0.1 --messages 640 \
    >"$D/out" 2>"$D/err"
rc=$?
[ $rc -eq 0 ] || { cat "$D/out" "$D/err"; fail "bench exited $rc"; }
[ ! -s "$D/err" ] || { cat "$D/err"; fail "bench reported failures"; }
grep -Fxq "a device under another device's client ID: (a) ADMITTED (b) refused (c) refused (d) ADMITTED" \
    "$D/out" || { cat "$D/out"; fail "client ID line"; }
for m in "(a) plain mosquitto" "(b) dynamic-security" \
    "(c) thingcore plugin" "(d) dynsec, CN only"; do
    grep -Fq "  $m " "$D/out" || fail "no figures for $m"
    grep -F "  $m " "$D/out" | grep -Eq ' [1-9][0-9.]* connections/s .* [1-9][0-9]* msg/s' ||
        { cat "$D/out"; fail "no rates for $m"; }
done
for r in "(b)/(a)" "(c)/(a)" "(c)/(b)" "(d)/(a)" "(c)/(d)"; do
    [ "$(grep -Fc "    $r " "$D/out")" -eq 2 ] ||
        fail "ratio $r not printed for connections and messages"
done
grep -Eq 'plugin memory per connected device: [1-9][0-9]* bytes' "$D/out" ||
    { cat "$D/out"; fail "plugin memory"; }

# Refused: too few devices, unknown option.
"$B" --devices 1 >"$D/out" 2>&1
[ $? -eq 2 ] && grep -q "bad arguments" "$D/out" || fail "--devices 1"
"$B" --bogus 1 >"$D/out" 2>&1
[ $? -eq 2 ] && grep -q "usage:" "$D/out" || fail "--bogus"
echo ok
