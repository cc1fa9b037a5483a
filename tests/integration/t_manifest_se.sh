#!/bin/sh
# manifest create --se with real virtual chips: a simulated factory makes
# two locked Trust&GO chips, the emulator daemon serves them, create reads
# each through the secure element client (serial number, certificates
# rebuilt from compressed form, keys of slots 0-4), and verify and extract
# accept the result against the factory root. A chip that is not locked is
# refused with its name; a duplicated chip fails as a duplicate uniqueId.
set -u
T=${TC_BUILD:?TC_BUILD must name the build folder}/thingcore
W=$(mktemp -d)
P1=
P2=
cleanup() {
    [ -n "$P1" ] && kill "$P1" 2>/dev/null
    [ -n "$P2" ] && kill "$P2" 2>/dev/null
    rm -rf "$W"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
cd "$W" || exit 1
export XDG_DATA_HOME="$W/data" XDG_CONFIG_HOME="$W/config"
F="$W/data/thingcore/factory"

"$T" se manufacture --out chips --count 2 >made 2>/dev/null ||
    fail "se manufacture"
"$T" se create --dir blank --serial 0123000000000000EE >/dev/null 2>&1 ||
    fail "se create"
"$T" se serve --dir chips --ready-file ready1 >serve1.log 2>&1 &
P1=$!
"$T" se serve --dir blank --ready-file ready2 >serve2.log 2>&1 &
P2=$!
i=0
while [ ! -f ready1 ] || [ ! -f ready2 ]; do
    i=$((i + 1))
    [ $i -le 100 ] || fail "emulator did not start"
    sleep 0.1
done
SN1=$(sed -n 1p made | cut -d' ' -f1)
SN2=$(sed -n 2p made | cut -d' ' -f1)
[ ${#SN1} = 18 ] && [ ${#SN2} = 18 ] || fail "serial numbers from manufacture"
U1=$(echo "$SN1" | tr 'A-F' 'a-f')
U2=$(echo "$SN2" | tr 'A-F' 'a-f')

"$T" manifest signer new >/dev/null || fail "signer new"
S=config/thingcore/manifest-signer/signer_cert.pem
"$T" manifest create --se "unix:chips/$SN1.sock" --se "unix:chips/$SN2.sock" \
    -o m.json || fail "create --se"
grep -q "\"uniqueId\": \"$U1\"" m.json && grep -q "\"uniqueId\": \"$U2\"" m.json ||
    fail "uniqueIds of the chips"

# Five keys (kids 0-4), x5c on kid 0 only, kid 0 the certificate's key.
python3 - "$SN1" <<'P' || fail "payload keys"
import base64, json, sys
m = json.load(open("m.json"))
def d(s): return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
for e in m:
    keys = json.loads(d(e["payload"]))["publicKeySet"]["keys"]
    if [k["kid"] for k in keys] != ["0", "1", "2", "3", "4"]:
        sys.exit("kids %r" % [k["kid"] for k in keys])
    if "x5c" not in keys[0] or any("x5c" in k for k in keys[1:]):
        sys.exit("x5c must be on kid 0 only")
    if len({k["x"] for k in keys}) != 5:
        sys.exit("slot keys are not distinct")
P

"$T" manifest verify m.json --signer $S --trust "$F/root.pem" ||
    fail "verify against the factory root"
"$T" manifest verify m.json --signer $S >o 2>&1
[ $? = 1 ] && grep -q chain o || fail "verify without the root must fail"
"$T" manifest extract m.json --signer $S --trust "$F/root.pem" --out x ||
    fail "extract"
[ -f "x/$U1.pem" ] && [ -f "x/$U2.pem" ] || fail "extracted files"
openssl x509 -in "x/$U1.pem" -noout -subject | grep -q "$SN1" ||
    fail "extracted certificate is not the chip's"

# The same chip twice: the second entry is a duplicate.
"$T" manifest create --se "unix:chips/$SN1.sock" --se "unix:chips/$SN1.sock" \
    -o dup.json || fail "create with a repeated chip"
"$T" manifest verify dup.json --signer $S --trust "$F/root.pem" >o 2>&1
[ $? = 1 ] && grep -q "entry 1 (uniqueId $U1" o &&
    grep -q "already appears in entry 0" o || fail "duplicate uniqueId"

# A chip that is not locked: a clear error naming it, no manifest.
"$T" manifest create --se "unix:chips/$SN1.sock" \
    --se unix:blank/0123000000000000EE.sock -o bad.json 2>o
[ $? = 1 ] || fail "unlocked chip accepted"
grep -q "0123000000000000EE" o && grep -q "not locked" o ||
    fail "unlocked chip: $(cat o)"
[ ! -f bad.json ] || fail "manifest written despite the failure"
echo "manifest --se ok"
