#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Seeds fuzz/corpus/cert_compressed and fuzz/cert_template from a simulated
# factory run and the real templates. Run from the repository root after a
# build:  sh tests/vectors/cert/gen-corpus.sh build
set -eu
build=${1:-build}
data=${2:-$(dirname "$0")/../../../shared/data/microchip}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc=fuzz/corpus/cert_compressed
tp=fuzz/corpus/cert_template
mkdir -p "$cc" "$tp"

for t in device-template-3 device-template-2 device-template-4; do
    "$build/thingcore" cert factory --out "$tmp/$t" --devices 3 \
        --template "$t" >/dev/null
done
f="$tmp/device-template-3"

# Compressed forms: device and signer, alone and with their keys.
cp "$f/device-0.comp" "$cc/device3.bin"
cp "$f/signer.comp" "$cc/signer.bin"
cat "$f/device-1.comp" "$f/device-1.pub" "$f/signer.pub" \
    >"$cc/device3-keys.bin"
cat "$f/signer.comp" "$f/signer.pub" "$f/root.pub" >"$cc/signer-keys.bin"
f2="$tmp/device-template-2"
f4="$tmp/device-template-4"
cat "$f2/device-0.comp" "$f2/device-0.pub" "$f2/signer.pub" \
    >"$cc/device2-keys.bin"
# The reference date vector (2020-11-10 18h, 28 y, F620), zero signature.
{ head -c 64 /dev/zero; printf '\245\252\134\366\040\060\240\000'; } \
    >"$cc/reference-dates.bin"
# Format version 1 (rejected).
{ head -c 64 /dev/zero; printf '\245\252\134\366\040\060\241\000'; } \
    >"$cc/format1.bin"

# Templates: selector byte (0 signer 1, 1 device 3, 2 device 2, 3 TFLX 4).
sel() {
    { printf "$1"; cat "$2"; } >"$tp/$3"
}
d="$data/templates"
sel '\000' "$d/tngtls-signer-template-1.der" t1.bin
sel '\001' "$d/tngtls-device-template-3.der" t3.bin
sel '\002' "$d/tngtls-device-template-2.der" t2.bin
sel '\003' "$d/tflxtls-device-template-4.der" t4.bin
sel '\000' "$f/signer.der" issued-signer.bin
sel '\001' "$f/device-0.der" issued-device3.bin
sel '\002' "$f2/device-0.der" issued-device2.bin
sel '\003' "$f4/device-0.der" issued-tflx4.bin
# A device 3 certificate offered as device 2 (rejected).
{ printf '\002'; cat "$f/device-1.der"; } >"$tp/wrong-template.bin"
