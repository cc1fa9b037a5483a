# Shared by the integration tests (sourced, not run): loopback ports and
# waiting with a bound. Each test defines its own fail().

# A free TCP port on 127.0.0.1.
free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_for CONDITION [TENTHS]: evaluate CONDITION every 0.1 s until it
# holds, failing after TENTHS tries (default 300).
wait_for() {
    i=0
    while ! eval "$1"; do
        i=$((i + 1))
        [ $i -gt "${2:-300}" ] && fail "timed out waiting for: $1"
        sleep 0.1
    done
}

# A sanitizer-built plugin inside Debian's mosquitto needs the sanitizer
# runtimes preloaded; thingcore passes THINGCORE_MOSQUITTO_PRELOAD on.
sanitizer_env() {
    if ldd "$1/thingcore-plugin.so" 2>/dev/null | grep -q libasan; then
        THINGCORE_MOSQUITTO_PRELOAD="$(gcc -print-file-name=libasan.so)"
        if ldd "$1/thingcore-plugin.so" | grep -q libubsan; then
            THINGCORE_MOSQUITTO_PRELOAD="$THINGCORE_MOSQUITTO_PRELOAD $(gcc -print-file-name=libubsan.so)"
        fi
        export THINGCORE_MOSQUITTO_PRELOAD ASAN_OPTIONS=detect_leaks=0
    fi
}
