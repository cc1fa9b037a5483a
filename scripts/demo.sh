#!/bin/sh
# make demo: the whole thingcore flow on this machine, on loopback, step by
# step: a secure element from the (simulated) factory, the core, device
# registration, the device talking MQTT with its key in the chip, a blink
# command, revocation. Everything lives in a temporary folder removed at
# the end.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
tc="$top/build/thingcore"
work=$(mktemp -d /tmp/thingcore-demo.XXXXXX)
export XDG_DATA_HOME="$work/data"
export XDG_CONFIG_HOME="$work/config"
unset THINGCORE_SE THINGCORE_DATA AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY \
    THINGCORE_ENDPOINT_URL AWS_CA_BUNDLE
pids=""

cleanup() {
    for p in $pids; do
        kill "$p" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

step() {
    printf '\n\033[1m== %s\033[0m\n' "$*"
}

run() {
    printf '$ %s\n' "$*"
    "$@"
}

# Wait for a condition (at most 20 s).
wait_for() {
    i=0
    while ! eval "$1" 2>/dev/null; do
        i=$((i + 1))
        if [ $i -gt 200 ]; then
            echo "timed out waiting for: $2" >&2
            exit 1
        fi
        sleep 0.1
    done
}

free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

cd "$work"

step "1. A blank ATECC608: configure, lock, a key made inside, a signature"
run "$tc" se create --dir blank --serial 0123000000000000EE >/dev/null
"$tc" se serve --dir blank --ready-file blank.ready >blank.log 2>&1 &
pids="$pids $!"
wait_for '[ -f blank.ready ]' "the emulator"
export THINGCORE_SE="unix:$work/blank/0123000000000000EE.sock"
run "$tc" se configure
run "$tc" se lock --zone config
run "$tc" se genkey --slot 0 -o slot0.pem
run "$tc" se lock --zone data
echo "hello from a secure element" >message.txt
run "$tc" se sign --slot 0 -o message.sig message.txt
run openssl dgst -sha256 -verify slot0.pem -signature message.sig message.txt
printf '$ %s\n' "$tc se read --zone data --slot 0   # the key itself?"
"$tc" se read --zone data --slot 0 2>&1 | sed 's/^/  /' || true
unset THINGCORE_SE

step "2. A Trust&GO chip from the simulated factory, served by the emulator"
run "$tc" se manufacture --out chips --count 1
"$tc" se serve --dir chips --ready-file chips.ready >chips.log 2>&1 &
pids="$pids $!"
wait_for '[ -f chips.ready ]' "the emulator"
sn=$(ls chips/*.sock | head -n 1 | xargs basename | cut -c1-18)
export THINGCORE_SE="unix:$work/chips/$sn.sock"
root="$XDG_DATA_HOME/thingcore/factory/root.pem"
run "$tc" se info
run "$tc" se certs --trust "$root" --out . >/dev/null

step "3. The core: control-plane API and MQTT broker with the thingcore plugin"
api=$(free_port)
mqtt=$(free_port)
printf '$ %s\n' "$tc up --api-port $api --mqtt-port $mqtt &"
"$tc" up --data "$work/core" --api-port "$api" --mqtt-port "$mqtt" \
    >up.log 2>&1 &
pids="$pids $!"
wait_for "grep -q 'listening on' up.log" "thingcore up"
wait_for "/usr/bin/python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", $mqtt), 1)'" "the broker"
sed -n '/data directory/,/shell setup/p' up.log | grep -v 'secret key\|shown once'
printf '$ %s\n' 'eval "$(thingcore env)"'
eval "$("$tc" env --data "$work/core")"
run /usr/bin/aws iot describe-endpoint --endpoint-type iot:Data-ATS \
    --endpoint-url "$THINGCORE_ENDPOINT_URL"

step "4. Register the device from its secure element (the lesson's register_thing)"
cp -r "$top/examples/blinky-hello-world" blinky
run "$tc" register --project blinky --trust "$root"
run grep MQTT blinky/sdkconfig.defaults
printf '\nRun again: nothing changes.\n'
"$tc" register --project blinky --trust "$root" | tail -n 4

step "5. The device: TLS with the key in the chip, hello messages, a blink"
"$tc" device run --project blinky --cycles 3 >device.log 2>&1 &
dev=$!
wait_for "grep -q 'subscribed to' device.log" "the device"
sleep 1
run mosquitto_pub -h "$THINGCORE_MQTT_HOST" -p "$THINGCORE_MQTT_PORT" \
    --cafile "$THINGCORE_MQTT_CA" --cert "$THINGCORE_OPERATOR_CERT" \
    --key "$THINGCORE_OPERATOR_KEY" -i operator -t "$sn/blink" -m blink
wait "$dev" || true
cat device.log

step "6. Revoke the certificate: the device is refused"
cert=$(/usr/bin/aws iot list-thing-principals --thing-name "$sn" \
    --endpoint-url "$THINGCORE_ENDPOINT_URL" --output text |
    sed 's|.*cert/||' | head -n 1)
run /usr/bin/aws iot update-certificate --certificate-id "$cert" \
    --new-status REVOKED --endpoint-url "$THINGCORE_ENDPOINT_URL"
"$tc" device run --project blinky --duration 4 >refused.log 2>&1 || true
cat refused.log
printf '\nThe broker log says why:\n'
grep "$sn" up.log | grep -v 'notice: api' | tail -n 2 | sed 's/^/  /' || true

step "Done"
echo "Everything ran on this machine; the temporary folder is removed now."
