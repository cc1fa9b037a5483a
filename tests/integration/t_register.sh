#!/bin/sh
# thingcore register against a running core: refused without trusting the
# simulated factory, MAR registration step by step, a re-run that changes
# nothing, a run stopped after each step then completed by a re-run, an
# old endpoint replaced in the project, JITR/JITP CA registration, and the
# clear failures: unlocked chip, no credentials, core unreachable, a chip
# from another factory.
set -u
. "$(dirname "$0")/lib.sh"
sanitizer_env "${TC_BUILD:?TC_BUILD not set}"
T="${TC_BUILD:?TC_BUILD not set}/thingcore"
TOP=$(cd "$(dirname "$0")/../.." && pwd)
D=$(mktemp -d /tmp/tc-register.XXXXXX)
export XDG_DATA_HOME="$D/xdg" XDG_CONFIG_HOME="$D/cfg"
unset THINGCORE_DATA AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY \
    THINGCORE_ENDPOINT_URL AWS_CA_BUNDLE
SERVE=""
UP=""
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

cd "$D" || exit 1
"$T" se manufacture --out chips --count 2 >made 2>/dev/null || fail "factory"
XDG_DATA_HOME="$D/otherfactory" "$T" se manufacture --out chips \
    >other.txt 2>/dev/null || fail "second factory"
"$T" se create --dir chips --serial 0123000000000000EE >/dev/null ||
    fail "blank chip"
"$T" se serve --dir chips --ready-file ready >/dev/null 2>serve.log &
SERVE=$!
wait_for '[ -f ready ]'
ROOT="$XDG_DATA_HOME/thingcore/factory/root.pem"
SN=$(head -n 1 made | cut -c1-18)
SN2=$(sed -n 2p made | cut -c1-18)
OTHER=$(head -n 1 other.txt | cut -c1-18)

cp -r "$TOP/examples/blinky-hello-world" proj
export THINGCORE_SE="unix:$D/chips/$SN.sock"

# Without credentials: the message says how to get them.
"$T" register --project proj --trust "$ROOT" >out 2>err
[ $? -eq 1 ] || fail "no credentials must fail"
grep -q 'thingcore env' err || { cat err; fail "no-credentials fix"; }

API=$(free_port)
MQTT=$(free_port)
"$T" up --data "$D/core" --api-port "$API" --mqtt-port "$MQTT" \
    >up.log 2>&1 &
UP=$!
wait_for "grep -q 'listening on' up.log"
eval "$("$T" env --data "$D/core")"

# A simulated chip is refused until its root is trusted explicitly.
"$T" register --project proj >out 2>err
[ $? -eq 1 ] || fail "untrusted simulated factory must be refused"
grep -q -- "--trust $ROOT" err || { cat err; fail "trust fix not named"; }
grep -q "thing" out && grep -q "done" out && fail "something registered"

# A project that pointed at another endpoint.
sed -i 's|^CONFIG_AWS_IOT_MQTT_HOST=.*|CONFIG_AWS_IOT_MQTT_HOST="old.example.com"|' \
    proj/sdkconfig.defaults
echo 'CONFIG_AWS_IOT_MQTT_HOST="old.example.com"' >proj/sdkconfig
mkdir proj/.pio

# MAR, stopped after each step in turn, then completed.
for step in "read chip" "manifest" "thing type" "policy" "certificate" \
    "attach policy" "thing"; do
    "$T" register --project proj --trust "$ROOT" --stop-after "$step" \
        >out 2>err
    [ $? -eq 1 ] || fail "--stop-after '$step' did not stop"
    grep -q "stopping after '$step'" out || { cat out err; fail "stop line"; }
done
"$T" register --project proj --trust "$ROOT" >out 2>err ||
    { cat out err; fail "register after interruptions"; }
grep -q "attach thing principal *$SN *done" out ||
    { cat out; fail "principal not attached by the completing run"; }
grep -q "read back.*ok" out || fail "read back"
grep -q "firmware configuration.*was old.example.com" out ||
    { cat out; fail "old endpoint not reported"; }
grep -q '^CONFIG_AWS_IOT_MQTT_HOST="localhost"$' proj/sdkconfig.defaults ||
    fail "endpoint not written"
grep -q "^CONFIG_AWS_IOT_MQTT_PORT=$MQTT$" proj/sdkconfig.defaults ||
    fail "port not written"
[ ! -e proj/sdkconfig ] && [ ! -e proj/.pio ] || fail "stale build kept"
cmp -s proj/main/certs/aws-root-ca.pem "$D/core/ca/ca.pem" ||
    fail "endpoint root CA not written"
[ -f "proj/output_files/${SN}_manifest.json" ] || fail "manifest file"

# A second run changes nothing.
"$T" register --project proj --trust "$ROOT" >out 2>err ||
    { cat out err; fail "re-run"; }
grep -E '  done' out && fail "re-run changed something"
[ "$(grep -c 'already registered' out)" -ge 10 ] || { cat out; fail "already"; }

# The aws command sees what register made.
AWS=/usr/bin/aws
if [ -x "$AWS" ]; then
    "$AWS" iot describe-thing --thing-name "$SN" \
        --endpoint-url "$THINGCORE_ENDPOINT_URL" >thing.json ||
        fail "aws describe-thing"
    grep -q '"thingTypeName": "microchip-tng"' thing.json || fail "type"
    "$AWS" iot list-thing-principals --thing-name "$SN" \
        --endpoint-url "$THINGCORE_ENDPOINT_URL" | grep -q "cert/" ||
        fail "principal"
fi

# A thing of another type stands in the way: the step and the fix named.
if [ -x "$AWS" ]; then
    "$AWS" iot create-thing-type --thing-type-name other-type \
        --endpoint-url "$THINGCORE_ENDPOINT_URL" >/dev/null ||
        fail "create other type"
    "$AWS" iot create-thing --thing-name "$SN2" --thing-type-name other-type \
        --endpoint-url "$THINGCORE_ENDPOINT_URL" >/dev/null ||
        fail "create conflicting thing"
    "$T" register --se "unix:$D/chips/$SN2.sock" --project proj \
        --trust "$ROOT" >out 2>err
    [ $? -eq 1 ] || fail "a thing of another type must stop register"
    grep -q "thing $SN2.*other-type.*update-thing" err ||
        { cat out err; fail "conflicting thing message"; }
    "$AWS" iot delete-thing --thing-name "$SN2" \
        --endpoint-url "$THINGCORE_ENDPOINT_URL" || fail "delete thing"
fi

# The second chip, same machine: the first manifest still verifies.
"$T" register --se "unix:$D/chips/$SN2.sock" --project proj --trust "$ROOT" \
    >out 2>err || { cat out err; fail "second chip"; }
grep -q "manifest signer.*reused" out || fail "signer not reused"
"$T" manifest verify "proj/output_files/${SN}_manifest.json" \
    --signer "$XDG_CONFIG_HOME/thingcore/manifest-signer/signer_cert.pem" \
    --trust "$ROOT" >/dev/null 2>&1 || fail "first manifest invalidated"

# JITR and JITP: the CAs registered with auto-registration.
"$T" register --mode jitr --project proj --trust "$ROOT" >out 2>err ||
    { cat out err; fail "jitr"; }
grep -q "signer CA.*done: ACTIVE, auto-registration on" out ||
    { cat out; fail "jitr signer CA"; }
"$T" register --mode jitp --project proj --trust "$ROOT" >out 2>err ||
    { cat out err; fail "jitp"; }
grep -q "signer CA" out || fail "jitp signer CA"
"$T" register --mode jitp --project proj --trust "$ROOT" >out 2>err ||
    { cat out err; fail "jitp re-run"; }
grep -q "signer CA.*already registered" out || { cat out; fail "jitp again"; }

# Failures that name the step and the fix.
"$T" register --se "unix:$D/chips/0123000000000000EE.sock" --project proj \
    >out 2>err
[ $? -eq 1 ] || fail "unlocked chip must fail"
grep -q "not locked" err || { cat err; fail "unlocked message"; }
"$T" register --se "unix:$D/chips/$OTHER.sock" --project proj \
    --trust "$ROOT" >out 2>err
[ $? -eq 1 ] || fail "chip of another factory must fail"
grep -q "verify chain.*FAILED\|no known root" out err ||
    { cat out err; fail "other factory message"; }
"$T" register --project proj --trust "$ROOT" \
    --endpoint-url "https://127.0.0.1:1" >out 2>err
[ $? -eq 1 ] || fail "unreachable core must fail"
grep -q "describe endpoint" err || { cat out err; fail "unreachable step"; }
if [ -x "$AWS" ]; then
    CERT=$("$AWS" iot list-thing-principals --thing-name "$SN" \
        --endpoint-url "$THINGCORE_ENDPOINT_URL" --output text |
        sed 's|.*cert/||' | head -n 1)
    "$AWS" iot update-certificate --certificate-id "$CERT" \
        --new-status REVOKED --endpoint-url "$THINGCORE_ENDPOINT_URL" ||
        fail "revoke"
    "$T" register --project proj --trust "$ROOT" >out 2>err
    [ $? -eq 1 ] || fail "a revoked certificate must stop register"
    grep -q "can never be activated again" err ||
        { cat out err; fail "revoked message"; }
fi
"$T" register --project "$D/nowhere" --trust "$ROOT" >out 2>err
[ $? -eq 1 ] || fail "missing project must fail"
grep -q "not a firmware project" err || { cat err; fail "project message"; }
echo "register: ok"
