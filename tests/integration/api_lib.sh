# SPDX-License-Identifier: Apache-2.0
# Sourced by the t_api_*.sh tests: start `thingcore up` on a free loopback
# port with a fresh data directory, wait until it serves, load its shell
# exports, and stop it (and remove the folder) whenever the test exits.
: "${TC_BUILD:?set TC_BUILD to the build folder}"
tc="$TC_BUILD/thingcore"
PY=/usr/bin/python3
AWS=/usr/bin/aws
[ -x "$tc" ] || { echo "no $tc"; exit 77; }
[ -x "$PY" ] || { echo "no /usr/bin/python3"; exit 77; }
top=$(cd "$(dirname "$0")/../.." && pwd)

dir=$(mktemp -d /tmp/tc-api.XXXXXX)
core_pid=
stop_core() {
    if [ -n "$core_pid" ]; then
        kill "$core_pid" 2>/dev/null
        i=0
        while kill -0 "$core_pid" 2>/dev/null && [ $i -lt 50 ]; do
            sleep 0.1
            i=$((i + 1))
        done
        kill -9 "$core_pid" 2>/dev/null
        wait "$core_pid" 2>/dev/null
        core_status=$?
        core_pid=
    fi
}

# finish: stop the core; it must exit 0 on SIGTERM, with no sanitizer
# report and no secret in its log.
finish() {
    stop_core
    [ "${core_status:-1}" -eq 0 ] || fail "thingcore up exited $core_status"
    grep -q "Sanitizer" "$dir/core.err" && fail "sanitizer report"
    grep -q "$AWS_SECRET_ACCESS_KEY" "$dir/core.err" && fail "secret in the log"
    # `up` shows a new secret once, on standard output, by design.
    grep -q "$AWS_SECRET_ACCESS_KEY" "$dir/core.out" ||
        fail "up did not show the new secret"
    echo ok
}
trap 'stop_core; rm -rf "$dir"' EXIT
trap 'exit 1' INT TERM

fail() {
    echo "FAIL: $*"
    [ -f "$dir/core.err" ] && tail -n 20 "$dir/core.err"
    exit 1
}

free_port() {
    "$PY" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# start_core [extra up options]: starts the core and sets the AWS_*
# variables and THINGCORE_ENDPOINT_URL.
start_core() {
    port=$(free_port)
    mqtt_port=$(free_port)
    THINGCORE_LOG=info "$tc" up --data "$dir/data" --api-port "$port" \
        --mqtt-port "$mqtt_port" "$@" \
        >"$dir/core.out" 2>"$dir/core.err" &
    core_pid=$!
    i=0
    while [ ! -s "$dir/data/api.url" ] && [ $i -lt 100 ]; do
        kill -0 "$core_pid" 2>/dev/null || fail "thingcore up exited"
        sleep 0.1
        i=$((i + 1))
    done
    [ -s "$dir/data/api.url" ] || fail "thingcore up did not start"
    eval "$("$tc" env --data "$dir/data")" || fail "thingcore env"
    # The aws command must not pick up anything from the user's setup.
    export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
    export AWS_PAGER= AWS_MAX_ATTEMPTS=1
    unset AWS_PROFILE AWS_SESSION_TOKEN
}
