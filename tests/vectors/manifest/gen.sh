#!/bin/sh
# Makes the manifest vectors: a test root, a signer CA named like
# Microchip's, two device certificates, a manifest signer and a manifest
# signed by it (valid for 50 years from the day this ran). The fuzz corpus
# under fuzz/corpus/manifest_verify/ is cut from manifest.json; the fuzz
# target embeds root.pem and manifest-signer.pem.
# usage: sh tests/vectors/manifest/gen.sh BUILD_DIR
set -eu
T=$(cd "$1" && pwd)/thingcore
cd "$(dirname "$0")"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
cat >"$W/ext" <<'X'
[signer]
basicConstraints=critical,CA:TRUE,pathlen:0
keyUsage=critical,digitalSignature,keyCertSign,cRLSign
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
[device]
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyAgreement
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
X
key() { openssl ecparam -name prime256v1 -genkey -noout -out "$W/$1.key"; }
key root
openssl req -new -x509 -key "$W/root.key" -days 18250 \
    -subj "/O=Test Factory/CN=Test Root CA 002" \
    -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign -out root.pem
issue() { # name subject issuer section
    key "$1"
    openssl req -new -key "$W/$1.key" -subj "$2" -out "$W/$1.csr"
    openssl x509 -req -in "$W/$1.csr" -CA "$3" -CAkey "$W/$4.key" \
        -CAserial "$W/$4.srl" -CAcreateserial -days 18000 -extfile "$W/ext" -extensions "$5" \
        -out "$1.pem"
}
issue signer-ca "/O=Test Factory/CN=Crypto Authentication Signer F620" \
    root.pem root signer
issue device-1 "/O=Test Factory/CN=sn0123F2408EA1FCF201" signer-ca.pem \
    signer-ca device
issue device-2 "/O=Test Factory/CN=0123AABBCCDDEEFF01 ATECC" signer-ca.pem \
    signer-ca device
"$T" manifest signer new --out "$W/ms" --cn "vector manifest signer" \
    --days 18000
cp "$W/ms/signer_cert.pem" manifest-signer.pem
cp "$W/ms/signer_key.pem" manifest-signer-key.pem
"$T" manifest create --signer-key manifest-signer-key.pem \
    --signer-cert manifest-signer.pem --from-certs device-1.pem signer-ca.pem \
    --from-certs device-2.pem signer-ca.pem -o manifest.json
"$T" manifest create --signer-key manifest-signer-key.pem \
    --signer-cert manifest-signer.pem --version 2 --group-id ABCDEFGH12345678 \
    --model ATECC608C --part-number ATECC608C-SSH8Q \
    --from-certs device-1.pem signer-ca.pem -o manifest-v2.json
