#!/bin/sh
# thingcore import against running cores: a manifest with a tampered
# signature, a chain to another root and a duplicated uniqueId gives a
# table with reasons; a re-run finds everything already present; entries
# the core refuses (thing of another type, REVOKED certificate) are
# rejected alone; BulkRegister refuses malformed and unsigned requests; an
# import killed with -9, or stopped with SIGINT, part-way and run again
# ends with exactly the registry of one clean import, and never with a
# device half registered; a chip registered by import is "already
# registered" for `thingcore register`.
set -u
. "$(dirname "$0")/lib.sh"
sanitizer_env "${TC_BUILD:?TC_BUILD not set}"
T="${TC_BUILD:?TC_BUILD not set}/thingcore"
GEN="$TC_BUILD/bench/import"
PY=/usr/bin/python3
AWS=/usr/bin/aws
TOP=$(cd "$(dirname "$0")/../.." && pwd)
[ -x "$T" ] && [ -x "$GEN" ] || { echo "no $T or $GEN"; exit 77; }
[ -x "$PY" ] || { echo "no /usr/bin/python3"; exit 77; }
command -v sqlite3 >/dev/null || { echo "no sqlite3"; exit 77; }
D=$(mktemp -d /tmp/tc-import.XXXXXX)
export XDG_DATA_HOME="$D/xdg" XDG_CONFIG_HOME="$D/cfg"
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
export AWS_PAGER= AWS_MAX_ATTEMPTS=1
unset THINGCORE_DATA AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY \
    THINGCORE_ENDPOINT_URL AWS_CA_BUNDLE AWS_PROFILE AWS_SESSION_TOKEN
UP=""
SERVE=""
cleanup() {
    [ -n "$SERVE" ] && kill "$SERVE" 2>/dev/null
    [ -n "$UP" ] && kill "$UP" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$D"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*"
    exit 1
}

# start_core NAME: a fresh core in $D/NAME; its variables exported.
start_core() {
    stop_core
    api=$(free_port)
    mqtt=$(free_port)
    "$T" up --data "$D/$1" --api-port "$api" --mqtt-port "$mqtt" \
        >"$D/$1.log" 2>&1 &
    UP=$!
    wait_for "grep -q 'listening on' '$D/$1.log' 2>/dev/null"
    eval "$("$T" env --data "$D/$1")" || fail "thingcore env"
    DB="$D/$1/registry.db"
    CORE=$1
}
# stop_core: the core must stop cleanly, with no sanitizer report.
stop_core() {
    if [ -n "$UP" ]; then
        kill "$UP" 2>/dev/null
        wait "$UP" 2>/dev/null
        UP=""
        grep -q "Sanitizer" "$D/$CORE.log" &&
            { tail -n 30 "$D/$CORE.log"; fail "sanitizer report in $CORE"; }
    fi
    return 0
}
import() {
    "$T" import "$@" --signer "$M/manifest-signer.pem" --trust "$M/root.pem"
}
q() {
    sqlite3 "$DB" "$1"
}

cd "$D" || exit 1
"$GEN" make "$D/m1" 40 --bad >/dev/null || fail "test manifest"
M="$D/m1"

# Usage and credentials are checked before any work.
"$T" import --help | grep -q "usage: thingcore import" || fail "--help"
"$T" import "$M/manifest.json" --signer "$M/manifest-signer.pem" \
    >out 2>err
[ $? -eq 2 ] || fail "no --trust must be a usage error"
grep -q -- "--trust" err || fail "no --trust not explained"
import "$M/manifest.json" --batch 0 >out 2>err
[ $? -eq 2 ] || fail "--batch 0 accepted"
import "$M/manifest.json" >out 2>err
[ $? -eq 1 ] || fail "no credentials must fail"
grep -q "thingcore env" err || { cat err; fail "credentials fix not named"; }
"$T" import "$M/manifest.json" --signer "$D/nothing.pem" \
    --trust "$M/root.pem" >out 2>err
[ $? -eq 1 ] || fail "missing signer file"
grep -q "nothing.pem" err || { cat err; fail "missing file not named"; }

start_core core
import "$D/nothing.json" >out 2>err
[ $? -eq 1 ] || fail "missing manifest"
grep -q "nothing.json" err || { cat err; fail "missing manifest not named"; }
printf '[{"header": 1}' >"$D/broken.json"
import "$D/broken.json" >out 2>err
[ $? -eq 1 ] || fail "broken manifest"

# The first import: 37 registered, the three bad entries with reasons.
import "$M/manifest.json" >out 2>err
[ $? -eq 1 ] || { cat out err; fail "rejections must give exit 1"; }
grep -Eq '^  registered +37$' out || { cat out; fail "registered count"; }
grep -Eq '^  rejected +3$' out || { cat out; fail "rejected count"; }
grep -Eq '^  3 .*signature' out || { cat out; fail "tampered entry"; }
grep -Eq '^  5 .*(x5c|chain)' out || { cat out; fail "foreign chain entry"; }
grep -Eq '^  7 .*uniqueId' out || { cat out; fail "duplicate entry"; }
[ "$(q 'SELECT COUNT(*) FROM things')" -eq 37 ] || fail "37 things"

# Again: nothing new, the same three refusals.
import "$M/manifest.json" --json >out.json 2>err
[ $? -eq 1 ] || fail "re-run exit"
"$PY" - out.json <<'EOF' || fail "re-run counts"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["registered"] == 0 and r["alreadyPresent"] == 37, r
assert r["rejected"] == 3 and len(r["rejectedEntries"]) == 3, r
assert [e["index"] for e in r["rejectedEntries"]] == [3, 5, 7], r
EOF

# What the aws command sees is what `thingcore register` would make.
SN=$(q "SELECT name FROM things ORDER BY name LIMIT 1")
if [ -x "$AWS" ]; then
    "$AWS" iot describe-thing --thing-name "$SN" \
        --endpoint-url "$THINGCORE_ENDPOINT_URL" >thing.json ||
        fail "aws describe-thing"
    grep -q '"thingTypeName": "microchip-tng"' thing.json || fail "type"
    ARN=$("$AWS" iot list-thing-principals --thing-name "$SN" \
        --endpoint-url "$THINGCORE_ENDPOINT_URL" --query 'principals[0]' \
        --output text) || fail "aws list-thing-principals"
    "$AWS" iot list-attached-policies --target "$ARN" \
        --endpoint-url "$THINGCORE_ENDPOINT_URL" | grep -q Kit_Policy ||
        fail "policy not attached"
    "$AWS" iot describe-certificate --certificate-id "${ARN##*/}" \
        --endpoint-url "$THINGCORE_ENDPOINT_URL" >cert.json ||
        fail "aws describe-certificate"
    grep -q '"status": "ACTIVE"' cert.json || fail "certificate not ACTIVE"
    grep -c "BEGIN CERTIFICATE" cert.json | grep -q 1 || true
fi
[ "$(q "SELECT COUNT(*) FROM certs WHERE id IN
    (SELECT cert_id FROM thing_principals) AND
    (chain_pem IS NULL OR mode <> 'SNI_ONLY')")" -eq 0 ] ||
    fail "imported certificates without chain or not SNI_ONLY"

# Refusals by the core: a thing of another type, a REVOKED certificate.
"$GEN" make "$D/m2" 6 >/dev/null || fail "second manifest"
M="$D/m2"
SN0=$(grep -m1 -o '"uniqueId": "[0-9a-f]*"' "$M/manifest.json" |
    cut -d'"' -f4 | tr a-f A-F)
"$AWS" iot create-thing --thing-name "$SN0" \
    --endpoint-url "$THINGCORE_ENDPOINT_URL" >/dev/null || fail "create-thing"
import "$M/manifest.json" >out 2>err
[ $? -eq 1 ] || fail "thing of another type must be rejected"
grep -Eq "^  0 .*thing type" out || { cat out; fail "type reason"; }
grep -Eq '^  registered +5$' out || { cat out; fail "the rest registered"; }
[ "$(q "SELECT COUNT(*) FROM certs c JOIN thing_principals p ON p.cert_id = c.id WHERE p.thing = '$SN0'")" -eq 0 ] ||
    fail "rejected entry left something"
SN1=$(grep -o '"uniqueId": "[0-9a-f]*"' "$M/manifest.json" | sed -n 2p |
    cut -d'"' -f4 | tr a-f A-F)
C1=$(q "SELECT cert_id FROM thing_principals WHERE thing = '$SN1'")
"$AWS" iot update-certificate --certificate-id "$C1" --new-status REVOKED \
    --endpoint-url "$THINGCORE_ENDPOINT_URL" || fail "revoke"
import "$M/manifest.json" >out 2>err
grep -Eq "^  1 .*REVOKED" out || { cat out; fail "revoked reason"; }
grep -Eq '^  already present +4$' out || { cat out; fail "already 4"; }

# BulkRegister itself: signed like any AWS call, refusing bad bodies.
"$PY" - "$THINGCORE_ENDPOINT_URL" <<'EOF' || fail "BulkRegister requests"
import json, os, sys, urllib.request, ssl
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
url = sys.argv[1] + "/thingcore/bulk-register"
ctx = ssl.create_default_context(cafile=os.environ["AWS_CA_BUNDLE"])
creds = Credentials(os.environ["AWS_ACCESS_KEY_ID"],
                    os.environ["AWS_SECRET_ACCESS_KEY"])
def post(body, sign=True):
    data = json.dumps(body).encode()
    req = AWSRequest(method="POST", url=url, data=data,
                     headers={"Content-Type": "application/json"})
    if sign:
        SigV4Auth(creds, "iot", os.environ.get("AWS_DEFAULT_REGION",
                                               "us-east-1")).add_auth(req)
    r = urllib.request.Request(url, data=data, method="POST",
                               headers=dict(req.headers))
    try:
        with urllib.request.urlopen(r, context=ctx) as a:
            return a.status, json.loads(a.read()), ""
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read()), e.headers.get("x-amzn-ErrorType")
ok = {"thingTypeName": "microchip-tng", "policyName": "Kit_Policy"}
s, b, t = post(dict(ok, devices=[]), sign=False)
assert s in (401, 403) and t, (s, b, t)
for bad, word in [(dict(ok), "devices"),
                  (dict(ok, devices=[{"thingName": "A"}]), "certificatePem"),
                  (dict(ok, devices=[{"thingName": "A", "certificatePem": "x",
                                      "chain": 2}]), "chain"),
                  (dict(ok, devices=["x"]), "devices[0]"),
                  (dict(ok, chains=[1], devices=[{}]), "chains"),
                  ({"devices": [{}]}, "thingTypeName")]:
    s, b, t = post(bad)
    assert s == 400 and word in b["message"], (bad, s, b)
s, b, t = post(dict(ok, policyName="NoSuchPolicy",
                    devices=[{"thingName": "A", "certificatePem": "x"}]))
assert s == 404 and t.startswith("ResourceNotFoundException"), (s, b, t)
s, b, t = post(dict(ok, devices=[{"thingName": "B!",
                                  "certificatePem": "junk"}]))
assert s == 200 and b["rejected"] == 1, b
r = b["results"][0]
assert r["status"] == "REJECTED" and r["errorCode"], r
s, b, t = post(dict(ok, devices=[{"thingName": "C",
                                  "certificatePem": "junk"}] * 501))
assert s == 400 or s == 413, (s, b)
EOF

# The interruption tests: 2000 entries, three fresh cores compared.
"$GEN" make "$D/m3" 2000 >/dev/null || fail "2000-entry manifest"
M="$D/m3"
# The core's own certificates (DEFAULT mode) differ from core to core.
dump() {
    sqlite3 "$DB" "SELECT 'thing', name, type_name FROM things ORDER BY 2;
        SELECT 'cert', id, status, mode, chain_pem FROM certs
            WHERE mode = 'SNI_ONLY' ORDER BY 2;
        SELECT 'policy', policy, cert_id FROM policy_targets WHERE cert_id IN
            (SELECT id FROM certs WHERE mode = 'SNI_ONLY') ORDER BY 3;
        SELECT 'principal', thing, cert_id, exclusive FROM thing_principals
            ORDER BY 2, 3;
        SELECT 'events', kind, COUNT(*) FROM events GROUP BY kind ORDER BY 2;"
    "$AWS" iot list-things --endpoint-url "$THINGCORE_ENDPOINT_URL" \
        --query 'things[].thingName' --output text | tr '\t' '\n' | sort
}
# No device half registered: every certificate has its policy and thing,
# every thing its certificate.
whole() {
    [ "$(q "SELECT COUNT(*) FROM certs WHERE mode = 'SNI_ONLY' AND
        (status <> 'ACTIVE' OR id NOT IN (SELECT cert_id FROM policy_targets)
        OR id NOT IN (SELECT cert_id FROM thing_principals))")" -eq 0 ] &&
        [ "$(q "SELECT COUNT(*) FROM things
        WHERE name NOT IN (SELECT thing FROM thing_principals)")" -eq 0 ]
}
# interrupt SIGNAL: import in small batches, stopped once some are in.
interrupt() {
    # Not through the shell function: the signal must reach thingcore.
    "$T" import "$M/manifest.json" --batch 20 --signer \
        "$M/manifest-signer.pem" --trust "$M/root.pem" >int.out 2>int.err &
    pid=$!
    wait_for "[ \"\$(q 'SELECT COUNT(*) FROM things' 2>/dev/null)\" -gt 0 ] 2>/dev/null"
    kill "-$1" "$pid"
    wait "$pid" 2>/dev/null
    st=$?
    [ $st -ne 0 ] || echo "note: import finished before SIG$1"
    whole || fail "a device half registered after SIG$1"
}

start_core clean
import "$M/manifest.json" >out 2>err || { cat out err; fail "clean import"; }
grep -Eq '^  registered +2000$' out || { cat out; fail "clean count"; }
whole || fail "clean import not whole"
dump >clean.dump

start_core killed
interrupt KILL
import "$M/manifest.json" >out 2>err || { cat out err; fail "re-run after kill"; }
grep -Eq '^  already present +[1-9]' out || { cat out; fail "nothing was done before kill -9"; }
dump >killed.dump
cmp -s clean.dump killed.dump ||
    { diff clean.dump killed.dump | head; fail "kill -9 + re-run differs"; }

start_core stopped
interrupt INT
grep -q "interrupted" int.out int.err || { cat int.out int.err; fail "SIGINT not reported"; }
import "$M/manifest.json" >out 2>err || { cat out err; fail "re-run after SIGINT"; }
dump >stopped.dump
cmp -s clean.dump stopped.dump ||
    { diff clean.dump stopped.dump | head; fail "SIGINT + re-run differs"; }

# A served chip: imported, then `thingcore register` finds it all done.
"$T" se manufacture --out chips --count 1 >made 2>/dev/null || fail "factory"
"$T" se serve --dir chips --ready-file ready >/dev/null 2>serve.log &
SERVE=$!
wait_for '[ -f ready ]'
CSN=$(head -n 1 made | cut -c1-18)
ROOT="$XDG_DATA_HOME/thingcore/factory/root.pem"
"$T" manifest create --se "unix:$D/chips/$CSN.sock" --trust "$ROOT" \
    --signer-key "$D/m1/ms/signer_key.pem" \
    --signer-cert "$D/m1/ms/signer_cert.pem" -o chip.json >/dev/null 2>&1 ||
    fail "chip manifest"
"$T" import chip.json --signer "$D/m1/manifest-signer.pem" --trust "$ROOT" \
    >out 2>err || { cat out err; fail "chip import"; }
grep -Eq '^  registered +1$' out || { cat out; fail "chip registered"; }
cp -r "$TOP/examples/blinky-hello-world" proj
"$T" register --se "unix:$D/chips/$CSN.sock" --project proj --trust "$ROOT" \
    >out 2>err || { cat out err; fail "register after import"; }
for step in "certificate" "attach policy" "activate certificate" "thing" \
    "attach thing principal"; do
    grep -Eq "^\[ ?[0-9]+\] $step +[^ ]+ +already registered" out ||
        { cat out; fail "register: $step not already registered"; }
done
stop_core
echo ok
