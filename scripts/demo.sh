#!/bin/sh
# make demo: the thingcore flow on this machine, step by step, on loopback.
# Everything lives in a temporary folder that is removed at the end.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
tc="$top/build/thingcore"
work=$(mktemp -d /tmp/thingcore-demo.XXXXXX)
export XDG_DATA_HOME="$work/data"
export XDG_CONFIG_HOME="$work/config"
serve_pid=""

cleanup() {
    if [ -n "$serve_pid" ]; then
        kill "$serve_pid" 2>/dev/null || true
        wait "$serve_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

step() {
    printf '\n\033[1m== %s\033[0m\n' "$*"
}

run() {
    printf '$ %s\n' "$*"
    "$@"
}

# Wait until the daemon says it is ready (at most 10 s).
wait_ready() {
    i=0
    while ! grep -q '^ready' "$1" 2>/dev/null; do
        i=$((i + 1))
        if [ $i -gt 100 ]; then
            echo "the emulator did not start:" >&2
            cat "$1" >&2
            exit 1
        fi
        sleep 0.1
    done
}

step "1. A blank ATECC608, as it leaves the wafer"
run "$tc" se create --dir "$work/blank" --serial 0123000000000000EE
"$tc" se serve --dir "$work/blank" >"$work/blank.log" 2>&1 &
serve_pid=$!
wait_ready "$work/blank.log"
cat "$work/blank.log"
export THINGCORE_SE="unix:$work/blank/0123000000000000EE.sock"
run "$tc" se info

step "2. Configure it as a Trust&GO part and lock the config zone"
run "$tc" se configure
run "$tc" se lock --zone config
run "$tc" se random

step "3. A private key is generated inside the chip; only its public half leaves"
run "$tc" se genkey --slot 0 -o "$work/slot0.pem"
cat "$work/slot0.pem"
run "$tc" se lock --zone data
run "$tc" se info

step "4. The chip signs; OpenSSL verifies"
echo "hello from a secure element" >"$work/message.txt"
run "$tc" se sign --slot 0 -o "$work/message.sig" "$work/message.txt"
run openssl dgst -sha256 -verify "$work/slot0.pem" \
    -signature "$work/message.sig" "$work/message.txt"

step "5. The private key can be used, never read: the chip refuses"
printf '$ %s\n' "$tc se read --zone data --slot 0"
if "$tc" se read --zone data --slot 0 >/dev/null 2>"$work/refused.txt"; then
    echo "unexpected: the chip answered" >&2
    exit 1
fi
sed 's/^/  /' "$work/refused.txt"
kill "$serve_pid"
wait "$serve_pid" 2>/dev/null || true
serve_pid=""

step "6. A simulated Trust&GO factory: keys inside, certificates from template 3"
run "$tc" se manufacture --out "$work/chips" --count 3
"$tc" se serve --dir "$work/chips" >"$work/chips.log" 2>&1 &
serve_pid=$!
wait_ready "$work/chips.log"
chip=$(ls "$work/chips"/*.sock | head -n 1)
export THINGCORE_SE="unix:$chip"
run "$tc" se info

step "7. Certificates rebuilt from the chip's compressed form, chain checked"
root="$XDG_DATA_HOME/thingcore/factory/root.pem"
run "$tc" se certs --trust "$root" --out "$work"
run openssl verify -CAfile "$root" -untrusted "$work/signer.pem" \
    "$work/device.pem"
printf '\nWithout trusting the simulated root explicitly, the chain is refused:\n'
"$tc" se certs --out "$work" || true

step "Done"
echo "Everything ran on this machine; the temporary folder is removed now."
