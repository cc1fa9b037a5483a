#!/bin/sh
# The lesson end to end on one machine: chips from the simulated factory,
# `thingcore up` (API + mosquitto with the plugin), `thingcore register`,
# the device connecting with its key in the chip, hello messages, a blink
# command from the operator with mosquitto_pub, revocation and the device
# refused; then JITR (first connection registers the certificate
# PENDING_ACTIVATION, the operator activates it through the API) and JITP
# (first connection provisions the thing).
set -u
. "$(dirname "$0")/lib.sh"
sanitizer_env "${TC_BUILD:?TC_BUILD not set}"
B="${TC_BUILD:?TC_BUILD not set}"
T="$B/thingcore"
TOP=$(cd "$(dirname "$0")/../.." && pwd)
AWS=/usr/bin/aws
for tool in mosquitto mosquitto_pub mosquitto_sub; do
    command -v $tool >/dev/null || { echo "no $tool"; exit 77; }
done
[ -x "$AWS" ] || { echo "no Debian awscli"; exit 77; }

D=$(mktemp -d /tmp/tc-flow.XXXXXX)
export XDG_DATA_HOME="$D/xdg" XDG_CONFIG_HOME="$D/cfg"
unset THINGCORE_DATA AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY \
    THINGCORE_ENDPOINT_URL AWS_CA_BUNDLE
if ldd "$B/thingcore-pkcs11.so" | grep -q libasan; then
    export ASAN_OPTIONS="detect_leaks=0"
fi
PIDS=""
cleanup() {
    for p in $PIDS; do
        kill "$p" 2>/dev/null
    done
    wait 2>/dev/null
    rm -rf "$D"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*"
    [ -f "$D/up.log" ] && tail -n 15 "$D/up.log"
    exit 1
}
aws_iot() {
    "$AWS" iot "$@" --endpoint-url "$THINGCORE_ENDPOINT_URL" --output json
}

cd "$D" || exit 1
"$T" se manufacture --out chips --count 3 >made 2>/dev/null || fail "factory"
"$T" se serve --dir chips --ready-file ready >/dev/null 2>serve.log &
PIDS="$PIDS $!"
ROOT="$XDG_DATA_HOME/thingcore/factory/root.pem"
A=$(sed -n 1p made | cut -c1-18)
B2=$(sed -n 2p made | cut -c1-18)
C=$(sed -n 3p made | cut -c1-18)

API=$(free_port)
MQTT=$(free_port)
"$T" up --data "$D/core" --api-port "$API" --mqtt-port "$MQTT" \
    >up.log 2>&1 &
PIDS="$PIDS $!"
wait_for "grep -q 'listening on' up.log"
wait_for '[ -f ready ]'
eval "$("$T" env --data "$D/core")"
wait_for "/usr/bin/python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", $MQTT), 1)' 2>/dev/null"

op_pub() {
    mosquitto_pub -h "$THINGCORE_MQTT_HOST" -p "$THINGCORE_MQTT_PORT" \
        --cafile "$THINGCORE_MQTT_CA" --cert "$THINGCORE_OPERATOR_CERT" \
        --key "$THINGCORE_OPERATOR_KEY" -i operator-pub "$@"
}

# ---- MAR ----
cp -r "$TOP/examples/blinky-hello-world" projA
"$T" register --se "unix:$D/chips/$A.sock" --project projA \
    --trust "$ROOT" >reg.log 2>&1 || { cat reg.log; fail "register A"; }
"$T" device run --se "unix:$D/chips/$A.sock" --project projA --cycles 3 \
    >devA.log 2>&1 &
DEV=$!
wait_for "grep -q 'subscribed to $A/#' devA.log" 300 ||
    { cat devA.log; fail "device A"; }
op_pub -t "$A/blink" -m '{"blink":true}' || fail "operator publish"
wait $DEV || { cat devA.log; fail "device A run"; }
grep -q "message on $A/: Hello from AWS IoT Kit (QOS1) : 1 " devA.log ||
    { cat devA.log; fail "hello did not come back through the broker"; }
grep -q "blink task started" devA.log || { cat devA.log; fail "blink"; }

# Revoke: the device is refused from now on.
CERT=$(grep -o '[0-9a-f]\{64\}' reg.log | head -n 1)
aws_iot update-certificate --certificate-id "$CERT" \
    --new-status REVOKED >/dev/null || fail "revoke"
"$T" device run --se "unix:$D/chips/$A.sock" --project projA --duration 4 \
    >revoked.log 2>&1
[ $? -eq 1 ] || { cat revoked.log; fail "a revoked device must not connect"; }
grep -q "retrying in" revoked.log || { cat revoked.log; fail "no retry"; }
grep -q "connected to" revoked.log && fail "revoked device connected"

# ---- JITR ----
cp -r "$TOP/examples/blinky-hello-world" projB
"$T" register --se "unix:$D/chips/$B2.sock" --project projB --mode jitr \
    --trust "$ROOT" >regB.log 2>&1 || { cat regB.log; fail "register jitr"; }
CA=$(grep "signer CA" regB.log | grep -o '[0-9a-f]\{64\}' | head -n 1)
[ -n "$CA" ] || { cat regB.log; fail "no signer CA id"; }
mosquitto_sub -h "$THINGCORE_MQTT_HOST" -p "$THINGCORE_MQTT_PORT" \
    --cafile "$THINGCORE_MQTT_CA" --cert "$THINGCORE_OPERATOR_CERT" \
    --key "$THINGCORE_OPERATOR_KEY" -i operator-sub \
    -t "\$aws/events/certificates/registered/$CA" -C 1 -W 20 >event.json &
SUB=$!
sleep 1
"$T" device run --se "unix:$D/chips/$B2.sock" --project projB --duration 3 \
    >devB1.log 2>&1
[ $? -eq 1 ] || { cat devB1.log; fail "pending certificate connected"; }
wait $SUB || fail "no JITR event"
grep -q '"certificateStatus":"PENDING_ACTIVATION"' event.json ||
    { cat event.json; fail "event content"; }
BCERT=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["certificateId"])' event.json)
BARN=$(aws_iot describe-certificate --certificate-id "$BCERT" |
    /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["certificateDescription"]["certificateArn"])')
aws_iot update-certificate --certificate-id "$BCERT" \
    --new-status ACTIVE >/dev/null || fail "activate"
aws_iot attach-policy --policy-name Kit_Policy --target "$BARN" ||
    fail "attach policy"
aws_iot create-thing --thing-name "$B2" \
    --thing-type-name microchip-tng >/dev/null || fail "create thing"
aws_iot attach-thing-principal --thing-name "$B2" --principal "$BARN" ||
    fail "attach principal"
"$T" device run --se "unix:$D/chips/$B2.sock" --project projB --cycles 1 \
    >devB2.log 2>&1 || { cat devB2.log; fail "activated device"; }

# ---- JITP ----
cp -r "$TOP/examples/blinky-hello-world" projC
"$T" register --se "unix:$D/chips/$C.sock" --project projC --mode jitp \
    --trust "$ROOT" >regC.log 2>&1 || { cat regC.log; fail "register jitp"; }
"$T" device run --se "unix:$D/chips/$C.sock" --project projC --cycles 1 \
    >devC.log 2>&1 || { cat devC.log; fail "JITP first connection"; }
aws_iot describe-thing --thing-name "$C" | grep -q microchip-tng ||
    fail "JITP thing"
echo "flow: ok"
