#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# A simulated factory issues a root, a signer and device certificates;
# the host side rebuilds each certificate from only what a chip stores
# (compressed form, public keys, serial number, EUI-48). The rebuilt
# certificates must equal the issued ones byte for byte and verify with
# `openssl verify` against the simulated root, and must not verify against
# the real Crypto Authentication Root CA 002.
set -u
: "${TC_BUILD:?set TC_BUILD to the build folder}"
tc="$TC_BUILD/thingcore"
command -v openssl >/dev/null 2>&1 || { echo "no openssl"; exit 77; }
[ -x "$tc" ] || { echo "no $tc"; exit 77; }
top=$(cd "$(dirname "$0")/../.." && pwd)

dir=$(mktemp -d /tmp/tc-cert.XXXXXX)
trap 'rm -rf "$dir"' EXIT INT TERM
fail() {
    echo "FAIL: $*"
    exit 1
}

for tmpl in device-template-3 device-template-2 device-template-4; do
    out="$dir/$tmpl"
    "$tc" cert factory --out "$out" --devices 12 --template "$tmpl" \
        --signer-id 2A00 >/dev/null || fail "factory $tmpl"

    # The signer certificate, from slot 12 + slot 11 + the root's key.
    "$tc" cert rebuild --template signer-template-1 --comp "$out/signer.comp" \
        --pubkey "$out/signer.pub" --ca-pubkey "$out/root.pub" \
        --out "$out/signer.rebuilt.der" || fail "rebuild signer"
    cmp -s "$out/signer.der" "$out/signer.rebuilt.der" ||
        fail "$tmpl: rebuilt signer differs"
    openssl x509 -inform DER -in "$out/signer.rebuilt.der" \
        -out "$out/signer.pem" || fail "signer does not parse"

    i=0
    while [ $i -lt 12 ]; do
        d="$out/device-$i"
        "$tc" cert rebuild --template "$tmpl" --comp "$d.comp" \
            --pubkey "$d.pub" --ca-pubkey "$out/signer.pub" \
            --sn "$(cat "$d.sn")" --eui48 "$(cat "$d.eui48")" \
            --out "$d.rebuilt.der" || fail "rebuild $d"
        cmp -s "$d.der" "$d.rebuilt.der" || fail "$d: rebuilt differs"
        openssl x509 -inform DER -in "$d.rebuilt.der" -out "$d.pem" ||
            fail "$d does not parse"
        openssl verify -CAfile "$out/simulated-root.pem" \
            -untrusted "$out/signer.pem" "$d.pem" >/dev/null ||
            fail "openssl verify $d"
        "$tc" cert verify --root "$out/simulated-root.pem" \
            --signer "$out/signer.rebuilt.der" --device "$d.rebuilt.der" \
            >/dev/null 2>&1 || fail "thingcore verify $d"
        i=$((i + 1))
    done

    # The OTP code picks the same template as its name.
    case $tmpl in
    device-template-3) otp=KQp2ZkD8 ;;
    device-template-2) otp=Rsuy5YJh ;;
    device-template-4) otp=MKMwyhP1 ;;
    esac
    "$tc" cert rebuild --otp "$otp" --comp "$out/device-0.comp" \
        --pubkey "$out/device-0.pub" --ca-pubkey "$out/signer.pub" \
        --sn "$(cat "$out/device-0.sn")" \
        --eui48 "$(cat "$out/device-0.eui48")" --out "$out/otp.der" ||
        fail "rebuild by OTP code"
    cmp -s "$out/device-0.der" "$out/otp.der" || fail "OTP rebuild differs"
done

out="$dir/device-template-3"
d="$out/device-0"

# The real root shares the simulated root's name but not its key.
real="$top/tests/vectors/cert/crypto-authentication-root-ca-002.pem"
if openssl verify -CAfile "$real" -untrusted "$out/signer.pem" "$d.pem" \
    >/dev/null 2>&1; then
    fail "simulated chain verified against the real root"
fi
if "$tc" cert verify --microchip-root --signer "$out/signer.der" \
    --device "$d.der" 2>"$dir/err"; then
    fail "thingcore verified a simulated chain against the real root"
fi
grep -q "signer certificate" "$dir/err" || fail "no failing link named"

# The signer alone is not a trust anchor for openssl either.
if openssl verify -CAfile "$out/signer.pem" "$d.pem" >/dev/null 2>&1; then
    fail "signer accepted as trust anchor"
fi

# Corrupt compressed forms and an unknown OTP code give clear errors.
cp "$d.comp" "$dir/bad.comp"
printf '\241' | dd of="$dir/bad.comp" bs=1 seek=70 conv=notrunc 2>/dev/null
"$tc" cert decode "$dir/bad.comp" 2>"$dir/err" && fail "format accepted"
grep -q "format version 1" "$dir/err" || fail "format error unclear"
printf '\020' | dd of="$dir/bad.comp" bs=1 seek=69 conv=notrunc 2>/dev/null
printf '\240' | dd of="$dir/bad.comp" bs=1 seek=70 conv=notrunc 2>/dev/null
"$tc" cert rebuild --template device-template-3 --comp "$dir/bad.comp" \
    --pubkey "$d.pub" --ca-pubkey "$out/signer.pub" --sn "$(cat "$d.sn")" \
    --eui48 "$(cat "$d.eui48")" --out "$dir/x.der" 2>"$dir/err" &&
    fail "template id accepted"
grep -q "template 1" "$dir/err" || fail "template id error unclear"
"$tc" cert rebuild --otp ZZZZZZZZ --comp "$d.comp" --pubkey "$d.pub" \
    --ca-pubkey "$out/signer.pub" --out "$dir/x.der" 2>"$dir/err" &&
    fail "unknown OTP code accepted"
grep -q '"ZZZZZZZZ"' "$dir/err" || fail "OTP error does not name the code"
"$tc" cert decode "$d.comp" | grep -q "template_id:    3" ||
    fail "decode output"
echo "ok"
