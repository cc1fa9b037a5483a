#!/bin/sh
# The device program against a real mosquitto over mutual TLS, the key in
# a virtual chip used through the PKCS#11 module and OpenSSL's pkcs11
# engine: hello messages at QoS 0 and 1 come back on <SN>/#, a /blink
# message starts the blink task, a wrong root CA is refused and retried
# with backoff, a project without endpoint is refused, and the fleet runner
# drives two chips at once. The broker here is plain mosquitto (no
# thingcore plugin), trusting the simulated factory root.
set -u
B="${TC_BUILD:?TC_BUILD not set}"
TOP=$(cd "$(dirname "$0")/../.." && pwd)
T="$B/thingcore"
command -v mosquitto >/dev/null || { echo "no mosquitto"; exit 77; }
command -v mosquitto_pub >/dev/null || { echo "no mosquitto_pub"; exit 77; }
[ -f /usr/lib/x86_64-linux-gnu/engines-3/pkcs11.so ] ||
    { echo "no pkcs11 engine"; exit 77; }
[ -f "$B/thingcore-pkcs11.so" ] || { echo "no pkcs11 module"; exit 1; }

D=$(mktemp -d /tmp/tc-device.XXXXXX)
export XDG_DATA_HOME="$D/data"
SERVE=""
BROKER=""
cleanup() {
    [ -n "$SERVE" ] && kill "$SERVE" 2>/dev/null
    [ -n "$BROKER" ] && kill "$BROKER" 2>/dev/null
    rm -rf "$D"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*"
    [ -f "$D/mosq.log" ] && tail -n 5 "$D/mosq.log"
    exit 1
}

# A sanitizer-built PKCS#11 module inside a plain OpenSSL needs its runtime.
if ldd "$B/thingcore-pkcs11.so" | grep -q libasan; then
    export ASAN_OPTIONS="detect_leaks=0"
fi

port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

# Chips from the simulated factory, served.
"$T" se manufacture --out "$D/chips" --count 2 >/dev/null 2>&1 ||
    fail "manufacture"
"$T" se serve --dir "$D/chips" --ready-file "$D/ready" >/dev/null \
    2>"$D/serve.log" &
SERVE=$!
FACTORY="$XDG_DATA_HOME/thingcore/factory"

# A server CA and certificate for the broker; mosquitto trusts the
# simulated root for client certificates.
cd "$D" || exit 1
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout ca.key -out ca.pem -subj /CN=test-endpoint-ca -days 2 \
    2>/dev/null || fail "server CA"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout srv.key -out srv.csr -subj /CN=localhost 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >ext
openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
    -out srv.pem -days 2 -extfile ext 2>/dev/null || fail "server cert"
cat >m.conf <<CONF
listener $port 127.0.0.1
cafile $FACTORY/root.pem
certfile $D/srv.pem
keyfile $D/srv.key
require_certificate true
use_identity_as_username true
allow_anonymous false
user root
CONF
mosquitto -c m.conf >mosq.log 2>&1 &
BROKER=$!

# A project folder pointing at the broker.
cp -r "$TOP/examples/blinky-hello-world" proj || fail "example"
i=0
while [ ! -f "$D/ready" ]; do
    i=$((i + 1))
    [ $i -gt 100 ] && fail "emulator not ready"
    sleep 0.1
done
SN=$(ls chips/*.sock | head -n 1 | xargs basename | cut -c1-18)
export THINGCORE_SE="unix:$D/chips/$SN.sock"

"$T" device run --project proj --cycles 1 >out 2>&1
[ $? -eq 1 ] || fail "a project without endpoint must be refused"
grep -q "has no MQTT endpoint yet" out || fail "no endpoint message"

sed -i "s|^CONFIG_AWS_IOT_MQTT_HOST=.*|CONFIG_AWS_IOT_MQTT_HOST=\"localhost\"|; s|^CONFIG_AWS_IOT_MQTT_PORT=.*|CONFIG_AWS_IOT_MQTT_PORT=$port|" proj/sdkconfig.defaults
cp ca.pem proj/main/certs/aws-root-ca.pem

# A client certificate for the test's own publisher, from the signer CA.
SIGNER_KEY=$(ls "$FACTORY"/signer-*.key)
SIGNER_PEM=$(ls "$FACTORY"/signer-*.pem)
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout op.key -out op.csr -subj /CN=operator 2>/dev/null
openssl x509 -req -in op.csr -CA "$SIGNER_PEM" -CAkey "$SIGNER_KEY" \
    -CAcreateserial -out op.pem -days 2 2>/dev/null || fail "operator cert"
cat op.pem "$SIGNER_PEM" >op-chain.pem

# The device: two rounds, a blink in between.
"$T" device run --project proj --cycles 3 >dev.log 2>&1 &
DEV=$!
i=0
while ! grep -q "subscribed to $SN/#" dev.log; do
    i=$((i + 1))
    [ $i -gt 100 ] && { cat dev.log; fail "device did not subscribe"; }
    sleep 0.1
done
mosquitto_pub -h localhost -p "$port" --cafile ca.pem --cert op-chain.pem \
    --key op.key -t "$SN/blink" -m "blink" || fail "mosquitto_pub"
wait $DEV
rc=$?
[ $rc -eq 0 ] || { cat dev.log; fail "device run exited $rc"; }
grep -q "connected to localhost:$port as $SN" dev.log || fail "connect line"
grep -q "published to $SN/: Hello from AWS IoT Kit (QOS0) : 0 " dev.log ||
    fail "QoS 0 hello"
grep -q "message on $SN/: Hello from AWS IoT Kit (QOS1) : 1 " dev.log ||
    fail "QoS 1 hello did not come back"
grep -q "message on $SN/blink: blink" dev.log || fail "blink message"
grep -q "blink task started" dev.log || fail "blink task"
grep -q "LED bars" dev.log || fail "LED bars"
grep -q "u'sn$SN'" mosq.log || fail "broker did not see the chip's certificate"

# A root CA that is not the endpoint's: TLS fails, the device backs off.
cp "$FACTORY/root.pem" proj/main/certs/aws-root-ca.pem
"$T" device run --project proj --duration 4 >bad.log 2>&1
[ $? -eq 1 ] || fail "a wrong root CA must end in failure"
grep -q "retrying in 1 s" bad.log || { cat bad.log; fail "no backoff 1 s"; }
grep -q "retrying in 2 s" bad.log || { cat bad.log; fail "no backoff 2 s"; }
cp ca.pem proj/main/certs/aws-root-ca.pem

# A PKCS#11 module that is not there: refused before any connection.
"$T" device run --project proj --cycles 1 \
    --pkcs11-module "$D/missing-pkcs11.so" >nomod.log 2>&1
[ $? -eq 1 ] || fail "a missing PKCS#11 module must be refused"
grep -q "missing-pkcs11.so is not readable" nomod.log ||
    { cat nomod.log; fail "missing module message"; }

# Two devices in one process.
"$T" fleet run --chips chips --count 2 --project proj --cycles 1 \
    >fleet.log 2>&1 || { cat fleet.log; fail "fleet run"; }
grep -q "fleet: 2 connections, 4 published, 4 received, 0 errors" fleet.log ||
    { cat fleet.log; fail "fleet summary"; }
"$T" fleet run --chips chips --count 3 --project proj --cycles 1 \
    >fleet.log 2>&1
[ $? -eq 1 ] || fail "fleet with too few chips must fail"
echo "device: ok"
