#!/bin/sh
# The se commands as a person uses them: manufacture, info, certs with and
# without the simulated root trusted, OpenSSL agreeing on the chain and on a
# signature, and every refusal answered with a message and exit status.
set -u
T="${TC_BUILD:?TC_BUILD not set}/thingcore"
command -v openssl >/dev/null || { echo "no openssl"; exit 77; }

D=$(mktemp -d /tmp/tc-secli.XXXXXX)
export XDG_DATA_HOME="$D/data"
PID=""
cleanup() {
    [ -n "$PID" ] && kill "$PID" 2>/dev/null
    rm -rf "$D"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*"
    exit 1
}

# expect STATUS PATTERN CMD...: run, check exit status and a stderr pattern.
expect() {
    want=$1
    pattern=$2
    shift 2
    "$@" >"$D/out" 2>"$D/err"
    got=$?
    [ "$got" -eq "$want" ] || {
        cat "$D/err"
        fail "'$*' exited $got, expected $want"
    }
    grep -q -- "$pattern" "$D/err" || {
        cat "$D/err"
        fail "'$*': stderr lacks '$pattern'"
    }
}

# Usage errors: exit 2 with a message naming what is wrong.
expect 2 "unknown command 'bogus'" "$T" se bogus
expect 2 "no chip named" env -u THINGCORE_SE "$T" se info
expect 2 "slot 0-15" "$T" se pubkey --se unix:/x --slot 16
expect 2 "--slot N is required" "$T" se genkey --se unix:/x
expect 2 "use config, data or slot" "$T" se lock --se unix:/x --zone all
expect 2 "18 hex digits" "$T" se create --dir "$D/x" --serial 0999
expect 2 "18 hex digits" "$T" se manufacture --out "$D/x" --serial zz
expect 2 "needs --out" "$T" se certs --se unix:/x --format der
expect 2 "use 1-100000" "$T" se create --dir "$D/x" --count 0
expect 2 "use 1-1000000" "$T" se manufacture --out "$D/x" --count 0
expect 2 "4 hex" "$T" se lock --se unix:/x --zone data --crc xyz
expect 2 "use config, otp or data" "$T" se read --se unix:/x --zone eeprom
expect 2 "not a count" "$T" se read --se unix:/x --zone config --offset -4

# Bad transports: exit 1 naming the transport problem.
expect 1 "unknown transport 'tcp'" "$T" se info --se tcp:localhost
expect 1 "names no transport" "$T" se info --se /dev/ttyACM0
expect 1 "nothing after" "$T" se info --se unix:
expect 1 "$D/none.sock" "$T" se info --se "unix:$D/none.sock"

# A factory run, then the daemon.
"$T" se manufacture --out "$D/chips" --count 4 >"$D/made" 2>"$D/err" ||
    fail "manufacture: $(cat "$D/err")"
[ "$(wc -l <"$D/made")" -eq 4 ] || fail "manufacture printed no 4 chips"
grep -q "trust root: $XDG_DATA_HOME/thingcore/factory/root.pem" "$D/err" ||
    fail "manufacture does not name the root to trust"
ROOT="$XDG_DATA_HOME/thingcore/factory/root.pem"
"$T" se serve --dir "$D/chips" --ready-file "$D/ready" >/dev/null \
    2>"$D/serve.err" &
PID=$!
i=0
while [ ! -f "$D/ready" ]; do
    i=$((i + 1))
    [ $i -gt 100 ] && fail "daemon not ready"
    sleep 0.1
done
SN=$(head -n 1 "$D/made" | cut -d' ' -f1)
export THINGCORE_SE="unix:$D/chips/$SN.sock"

"$T" se info >"$D/info" || fail "se info"
grep -q "serial number: $SN" "$D/info" || fail "info: serial"
grep -q "template:      tngtls-device-template-3" "$D/info" ||
    fail "info: template"
grep -q "CN=sn$SN" "$D/info" || fail "info: subject"
grep -q "simulated:     yes" "$D/info" || fail "info: simulated"

# Certificates: refused without the simulated root, verified with it, and
# OpenSSL agrees on the chain.
expect 1 "trust its root explicitly with --trust" \
    "$T" se certs --out "$D"
expect 0 "chain: verified (simulated factory root)" \
    "$T" se certs --trust "$ROOT" --out "$D"
openssl verify -CAfile "$ROOT" -untrusted "$D/signer.pem" "$D/device.pem" \
    >/dev/null || fail "openssl does not verify the rebuilt chain"
expect 0 "verified" "$T" se certs --trust "$ROOT" --format der --out "$D"
openssl x509 -inform der -in "$D/device.der" -noout -subject |
    grep -q "sn$SN" || fail "DER device certificate"

# A root that is not a root at all, and a chip of another factory.
expect 1 "" "$T" se certs --trust "$D/device.pem" --out "$D"
XDG_DATA_HOME="$D/other" "$T" se manufacture --out "$D/other-chips" \
    >/dev/null 2>&1 || fail "second factory"
expect 1 "verify" "$T" se certs --trust "$D/other/thingcore/factory/root.pem" \
    --factory "$D/other/thingcore/factory" --out "$D"

# The chip signs with its slot 0 key; the device certificate verifies it.
echo "signed in the chip" >"$D/msg"
"$T" se sign --slot 0 -o "$D/msg.sig" "$D/msg" || fail "se sign"
openssl x509 -in "$D/device.pem" -noout -pubkey >"$D/pub.pem"
openssl dgst -sha256 -verify "$D/pub.pem" -signature "$D/msg.sig" "$D/msg" \
    >/dev/null || fail "signature does not verify against the certificate"

# Refusals by the chip itself: exit 1, the command and status named.
expect 1 "execution error" "$T" se read --zone data --slot 0
expect 1 "execution error" "$T" se read --zone data --slot 6
expect 1 "execution error" "$T" se genkey --slot 0
expect 1 "execution error" "$T" se sign --slot 1 -o "$D/x.sig" "$D/msg"
expect 1 "execution error" "$T" se lock --zone config
expect 1 "execution error" "$T" se configure
expect 2 "outside the" "$T" se read --zone data --slot 10 --offset 70 \
    --length 4
expect 1 "cannot read" "$T" se sign --slot 0 -o "$D/x.sig" "$D/missing"

# What may be read reads: slot 10 is the compressed device certificate.
"$T" se read --zone data --slot 10 --length 72 >"$D/slot10" ||
    fail "read slot 10"
[ "$(wc -l <"$D/slot10")" -eq 3 ] || fail "read printed $(cat "$D/slot10")"
echo "se cli: ok"
