#!/bin/sh
# Manifest round trip through the CLI with chains made here by OpenSSL:
# signer new (and its refusal to overwrite), create --from-certs, verify,
# extract, the --json report, and refusals (wrong signer, untrusted root,
# tampered payload) with exit status 1.
set -u
T=${TC_BUILD:?TC_BUILD must name the build folder}/thingcore
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
cd "$W" || exit 1
export XDG_CONFIG_HOME="$W/config"

# A root, a signer CA named like Microchip's, two devices (CN sn<hex>).
ca() { # name subject issuer-name|self extfile-section
    openssl ecparam -name prime256v1 -genkey -noout -out "$1.key" 2>/dev/null
    if [ "$3" = self ]; then
        openssl req -new -x509 -key "$1.key" -subj "$2" -days 3650 \
            -addext basicConstraints=critical,CA:TRUE \
            -addext keyUsage=critical,keyCertSign,cRLSign \
            -out "$1.pem" 2>/dev/null
    else
        openssl req -new -key "$1.key" -subj "$2" -out "$1.csr" 2>/dev/null
        openssl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3.key" \
            -CAcreateserial -days 3650 -extfile "$W/ext" -extensions "$4" \
            -out "$1.pem" 2>/dev/null
    fi
}
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
ca root "/O=Test Factory/CN=Test Root CA 002" self
ca signer "/O=Test Factory/CN=Crypto Authentication Signer F620" root signer
ca dev1 "/O=Test Factory/CN=sn0123F2408EA1FCF201" signer device
ca dev2 "/O=Test Factory/CN=0123AABBCCDDEEFF01 ATECC" signer device
ca other "/O=Other/CN=Other Root" self

# The local signer: made once, never silently replaced.
"$T" manifest signer new --cn "test registration code" || fail "signer new"
[ "$(stat -c %a config/thingcore/manifest-signer/signer_key.pem)" = 600 ] ||
    fail "key is not 0600"
"$T" manifest signer new 2>err && fail "signer new overwrote the signer"
grep -q "already exists" err || fail "no reason given for the refusal"
"$T" manifest signer show | grep -q '^kid:' || fail "signer show"
S=config/thingcore/manifest-signer/signer_cert.pem

"$T" manifest create --from-certs dev1.pem signer.pem \
    --from-certs dev2.pem signer.pem -o m.json || fail "create"
head -c 2 m.json | grep -q '^\[' || fail "not an array"
grep -q '"uniqueId": "0123f2408ea1fcf201"' m.json || fail "uniqueId"

# The protected header and payload are what json.dumps writes, and an
# independent ES256 implementation accepts the signature when present.
python3 - <<'P' || fail "format or signature differs from Python's"
import base64, json, sys
m = json.load(open("m.json"))
def d(s): return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
for e in m:
    for k in ("protected", "payload"):
        raw = d(e[k]).decode()
        if json.dumps(json.loads(raw)) != raw:
            sys.exit("%s is not json.dumps output" % k)
    if list(json.loads(d(e["protected"]))) != ["typ", "alg", "kid", "x5t#S256"]:
        sys.exit("protected key order")
try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, utils
except ImportError:
    sys.exit(0)
c = x509.load_pem_x509_certificate(
    open("config/thingcore/manifest-signer/signer_cert.pem", "rb").read())
for e in m:
    s = d(e["signature"])
    sig = utils.encode_dss_signature(int.from_bytes(s[:32], "big"),
                                     int.from_bytes(s[32:], "big"))
    c.public_key().verify(sig, (e["protected"] + "." + e["payload"]).encode(),
                          ec.ECDSA(hashes.SHA256()))
P

# A second run reuses the signer: the first manifest still verifies.
"$T" manifest create --from-certs dev2.pem signer.pem -o m2.json ||
    fail "second create"
"$T" manifest verify m.json --signer $S --trust root.pem || fail "verify"
"$T" manifest verify m2.json --signer $S --trust root.pem || fail "verify 2"

"$T" manifest verify m.json --signer $S --trust root.pem --json >r.json ||
    fail "verify --json"
python3 -c 'import json,sys; d=json.load(open("r.json")); \
sys.exit(0 if d["passed"]==2 and d["failed"]==0 else 1)' ||
    fail "json report"

"$T" manifest extract m.json --signer $S --trust root.pem --out x ||
    fail "extract"
[ -f x/0123f2408ea1fcf201.pem ] && [ -f x/0123aabbccddeeff01.pem ] ||
    fail "extracted files"
[ "$(grep -c 'BEGIN CERTIFICATE' x/0123f2408ea1fcf201.pem)" = 2 ] ||
    fail "chain PEM must hold device then signer"
openssl x509 -in x/0123f2408ea1fcf201.pem -noout -subject |
    grep -q sn0123F2408EA1FCF201 || fail "device certificate first"
python3 -c 'import json; json.load(open("x/summary.json"))' ||
    fail "summary is not JSON"

# Refusals, each with status 1 and its reason.
"$T" manifest verify m.json --signer other.pem --trust root.pem >o 2>&1
[ $? = 1 ] && grep -q "match no signer" o || fail "wrong signer accepted"
"$T" manifest verify m.json --signer $S --trust other.pem >o 2>&1
[ $? = 1 ] && grep -q "chain" o || fail "untrusted root accepted"
"$T" manifest verify m.json --signer $S >o 2>&1
[ $? = 1 ] || fail "no trust anchor accepted"
python3 - <<'P'
import json
m = json.load(open("m.json"))
p = m[1]["payload"]
m[1]["payload"] = p[:40] + ("A" if p[40] != "A" else "B") + p[41:]
json.dump(m, open("bad.json", "w"), indent=2)
P
"$T" manifest verify bad.json --signer $S --trust root.pem >o 2>&1
[ $? = 1 ] && grep -q "entry 1 (uniqueId 0123aabbccddeeff01" o &&
    grep -q "signature does not verify" o || fail "tampered payload"
"$T" manifest extract bad.json --signer $S --trust root.pem --out y >o 2>&1
[ $? = 1 ] && [ -f y/0123f2408ea1fcf201.pem ] &&
    [ ! -f y/0123aabbccddeeff01.pem ] || fail "extract must skip bad entry"
"$T" manifest create --se unix:/nonexistent -o z.json 2>o
[ $? = 1 ] && grep -q "unix:/nonexistent" o || fail "--se must name the chip"
[ ! -f z.json ] || fail "a failed --se must write no manifest"
echo "manifest round trip ok"
