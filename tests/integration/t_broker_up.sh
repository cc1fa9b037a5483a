#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# `thingcore up` runs the API and a supervised mosquitto with the plugin:
# `thingcore env` gives the operator certificate and the MQTT endpoint,
# the operator connects and sees lifecycle events, a killed mosquitto is
# restarted and logged, SIGTERM stops both.
set -u
: "${TC_BUILD:?set TC_BUILD to the build folder}"
tc="$TC_BUILD/thingcore"
[ -x /usr/sbin/mosquitto ] || { echo "no /usr/sbin/mosquitto"; exit 77; }
command -v mosquitto_sub >/dev/null 2>&1 || { echo "no mosquitto_sub"; exit 77; }
[ -f "$TC_BUILD/thingcore-plugin.so" ] || { echo "no plugin built"; exit 77; }

dir=$(mktemp -d /tmp/tc-broker-up.XXXXXX)
up_pid=
sub_pid=
cleanup() {
    [ -n "$sub_pid" ] && kill "$sub_pid" 2>/dev/null
    if [ -n "$up_pid" ] && kill -0 "$up_pid" 2>/dev/null; then
        kill "$up_pid"
        sleep 1
        kill -9 "$up_pid" 2>/dev/null
    fi
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
fail() {
    echo "FAIL: $*"
    tail -n 30 "$dir/up.log"
    exit 1
}
free_port() {
    /usr/bin/python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}
# wait_grep FILE TEXT [TENTHS]
wait_grep() {
    i=0
    while ! grep -q "$2" "$1" 2>/dev/null && [ $i -lt "${3:-100}" ]; do
        sleep 0.1
        i=$((i + 1))
    done
    grep -q "$2" "$1" 2>/dev/null
}

# The sanitizer runtime for mosquitto when the plugin is built with it.
if ldd "$TC_BUILD/thingcore-plugin.so" | grep -q asan; then
    THINGCORE_MOSQUITTO_PRELOAD="$(gcc -print-file-name=libasan.so)"
    if ldd "$TC_BUILD/thingcore-plugin.so" | grep -q ubsan; then
        THINGCORE_MOSQUITTO_PRELOAD="$THINGCORE_MOSQUITTO_PRELOAD $(gcc -print-file-name=libubsan.so)"
    fi
    export THINGCORE_MOSQUITTO_PRELOAD ASAN_OPTIONS=detect_leaks=0
fi

# Refusals of `thingcore broker`, each with a message naming the fault.
"$tc" broker --data "$dir/bad" --mqtt-port 0 >"$dir/bad.log" 2>&1
[ $? -eq 2 ] && grep -q "mqtt-port must be" "$dir/bad.log" ||
    fail "port 0 accepted"
"$tc" broker --data "$dir/bad" --log-level loud >"$dir/bad.log" 2>&1
[ $? -eq 2 ] && grep -q "log-level must be" "$dir/bad.log" ||
    fail "bad log level accepted"
"$tc" broker --data "$dir/bad" --mqtt-port "$(free_port)" \
    --plugin /nonexistent/plugin.so >"$dir/bad.log" 2>&1
[ $? -eq 1 ] && grep -q "/nonexistent/plugin.so" "$dir/bad.log" ||
    fail "missing plugin not reported: $(cat "$dir/bad.log")"
"$tc" broker --data "$dir/bad" --mqtt-port "$(free_port)" \
    --mosquitto /nonexistent/mosquitto >"$dir/bad.log" 2>&1
[ $? -eq 1 ] && grep -q "cannot start mosquitto" "$dir/bad.log" ||
    fail "missing mosquitto not reported: $(cat "$dir/bad.log")"

api_port=$(free_port)
mqtt_port=$(free_port)
"$tc" up --data "$dir/data" --api-port "$api_port" --mqtt-port "$mqtt_port" \
    --bind 127.0.0.1 >"$dir/up.log" 2>&1 &
up_pid=$!
wait_grep "$dir/up.log" "mosquitto version .* running" ||
    fail "mosquitto did not start under thingcore up"
eval "$("$tc" env --data "$dir/data")" || fail "thingcore env"
[ "$THINGCORE_MQTT_PORT" = "$mqtt_port" ] || fail "env MQTT port"
[ -f "$THINGCORE_OPERATOR_CERT" ] && [ -f "$THINGCORE_OPERATOR_KEY" ] &&
    [ -f "$THINGCORE_MQTT_CA" ] || fail "env operator files"
grep -q "listener $mqtt_port 127.0.0.1" "$dir/data/broker/mosquitto.conf" ||
    fail "listener in the generated configuration"

sub() {
    stdbuf -oL mosquitto_sub -h 127.0.0.1 -p "$THINGCORE_MQTT_PORT" \
        --cafile "$THINGCORE_MQTT_CA" --cert "$THINGCORE_OPERATOR_CERT" \
        --key "$THINGCORE_OPERATOR_KEY" "$@"
}
sub -i watcher -t '$aws/events/#' -v >"$dir/sub.out" 2>&1 &
sub_pid=$!
wait_grep "$dir/up.log" "New client connected from .* as watcher" ||
    fail "operator cannot connect"
# At the default level (notice) an allowed connection is mosquitto's line
# alone; the plugin's decision line for it is at info.
grep -q "client=watcher .*decision=allow" "$dir/up.log" &&
    fail "allowed connection logged by the plugin at notice"
mosquitto_pub -h 127.0.0.1 -p "$THINGCORE_MQTT_PORT" \
    --cafile "$THINGCORE_MQTT_CA" --cert "$THINGCORE_OPERATOR_CERT" \
    --key "$THINGCORE_OPERATOR_KEY" -i op-pub -t test/x -m hi ||
    fail "operator publishes"
wait_grep "$dir/sub.out" 'presence/connected/op-pub' ||
    fail "operator sees lifecycle events"

# A crashed mosquitto is restarted, and says so.
child=$(pgrep -P "$up_pid" -x mosquitto)
[ -n "$child" ] || fail "no mosquitto child"
kill -9 "$child"
# (The API's signal loop may reap it first; the status is then unknown.)
wait_grep "$dir/up.log" "mosquitto killed by signal 9\|mosquitto ended" ||
    fail "crash logged"
wait_grep "$dir/up.log" "mosquitto restarted" || fail "restart logged"
i=0
while [ $i -lt 50 ]; do
    new=$(pgrep -P "$up_pid" -x mosquitto)
    [ -n "$new" ] && [ "$new" != "$child" ] && break
    sleep 0.1
    i=$((i + 1))
done
[ -n "$new" ] && [ "$new" != "$child" ] || fail "no new mosquitto"

# SIGTERM stops the API and the broker.
kill "$up_pid"
i=0
while kill -0 "$up_pid" 2>/dev/null && [ $i -lt 100 ]; do
    sleep 0.1
    i=$((i + 1))
done
kill -0 "$up_pid" 2>/dev/null && fail "thingcore up still running"
wait "$up_pid"
rc=$?
up_pid=
[ $rc -eq 0 ] || fail "thingcore up exit status $rc"
kill -0 "$new" 2>/dev/null && fail "mosquitto outlived thingcore up"
grep -q "broker: stopped" "$dir/up.log" || fail "broker stop logged"
if grep -q "AddressSanitizer\|runtime error" "$dir/up.log"; then
    fail "sanitizer report"
fi
echo ok
