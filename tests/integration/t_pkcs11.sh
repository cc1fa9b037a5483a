# SPDX-License-Identifier: Apache-2.0
# thingcore-pkcs11.so with real consumers: two virtual chips served by
# `thingcore se serve` (one from the simulated factory with certificates,
# one with a key only), then pkcs11-tool lists and signs, OpenSSL signs
# through Debian's pkcs11 engine (pkeyutl, dgst), a TLS handshake runs
# with the client key and then the server key in a chip, two processes
# sign on two tokens at once, and a long-lived server outlives a daemon
# restart with a clear error while new processes sign again.
set -u
: "${TC_BUILD:?set TC_BUILD to the build folder}"
tc="$TC_BUILD/thingcore"
mod="$TC_BUILD/thingcore-pkcs11.so"
engine=/usr/lib/x86_64-linux-gnu/engines-3/pkcs11.so
[ -x "$tc" ] || { echo "no $tc"; exit 77; }
[ -f "$mod" ] || { echo "no $mod"; exit 77; }
command -v pkcs11-tool >/dev/null ||
    { echo "no pkcs11-tool (opensc)"; exit 77; }
[ -f "$engine" ] || { echo "no $engine (libengine-pkcs11-openssl)"; exit 77; }

dir=$(mktemp -d /tmp/tc-pkcs11.XXXXXX)
serve_pid=
srv_pid=
stop_pid() {
    [ -n "$1" ] || return 0
    kill "$1" 2>/dev/null
    i=0
    while kill -0 "$1" 2>/dev/null && [ $i -lt 50 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    kill -9 "$1" 2>/dev/null
    wait "$1" 2>/dev/null
}
cleanup() {
    stop_pid "$srv_pid"
    stop_pid "$serve_pid"
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
    echo "FAIL: $*"
    for f in "$dir"/*.log; do
        [ -f "$f" ] && { echo "--- $f"; tail -n 15 "$f"; }
    done
    exit 1
}

# A sanitizer-built module needs its runtime preloaded into programs that
# are not built with it (pkcs11-tool, openssl); their own leaks are not
# ours to report. run_env prefixes every such command.
run_env=
if ldd "$mod" | grep -q libasan; then
    san_preload="$(gcc -print-file-name=libasan.so)"
    if ldd "$mod" | grep -q libubsan; then
        san_preload="$san_preload:$(gcc -print-file-name=libubsan.so)"
    fi
    run_env="env LD_PRELOAD=$san_preload ASAN_OPTIONS=detect_leaks=0"
fi
foreign() { $run_env "$@"; }

# A server reads its stdin from a fifo this shell holds open, so it runs
# until killed by its own pid.
mkfifo "$dir/fifo" || fail "mkfifo"
hold_fifo() { exec 9<>"$dir/fifo"; }
release_fifo() { exec 9>&-; }

# wait_for FILE TEXT: up to 5 s for TEXT to appear in FILE.
wait_for() {
    i=0
    while ! grep -q "$2" "$1" 2>/dev/null && [ $i -lt 50 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    grep -q "$2" "$1" 2>/dev/null
}

free_port() {
    /usr/bin/python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

start_serve() {
    rm -f "$dir/ready"
    "$tc" se serve --dir "$dir/chips" --ready-file "$dir/ready" \
        >>"$dir/serve.log" 2>&1 &
    serve_pid=$!
    i=0
    while [ ! -f "$dir/ready" ] && [ $i -lt 100 ]; do
        kill -0 "$serve_pid" 2>/dev/null || fail "se serve exited"
        sleep 0.1
        i=$((i + 1))
    done
    [ -f "$dir/ready" ] || fail "se serve not ready"
}

# ---- two chips ----
cert_sn=0123C0FFEE00000101
bare_sn=0123BA4E0000000201
mkdir -p "$dir/chips"
"$tc" se manufacture --out "$dir/chips" --factory "$dir/factory" \
    --serial $cert_sn >"$dir/make.log" 2>&1 || fail "se manufacture"
"$tc" se create --dir "$dir/chips" --serial $bare_sn >>"$dir/make.log" 2>&1 ||
    fail "se create"
start_serve
bare="unix:$dir/chips/$bare_sn.sock"
"$tc" se configure --se "$bare" >>"$dir/make.log" 2>&1 || fail "configure"
"$tc" se lock --se "$bare" --zone config >>"$dir/make.log" 2>&1 ||
    fail "lock config"
"$tc" se genkey --se "$bare" --slot 0 -o "$dir/bare.pub" \
    >>"$dir/make.log" 2>&1 || fail "genkey"
"$tc" se lock --se "$bare" --zone data >>"$dir/make.log" 2>&1 ||
    fail "lock data"
"$tc" se pubkey --se "unix:$dir/chips/$cert_sn.sock" --slot 0 \
    -o "$dir/cert.pub" >>"$dir/make.log" 2>&1 || fail "pubkey"

export THINGCORE_SE="unix:$dir/chips/$cert_sn.sock,$bare"
export THINGCORE_FACTORY="$dir/factory"
p11() { foreign pkcs11-tool --module "$mod" "$@"; }

# ---- pkcs11-tool: slots, objects, signatures ----
p11 -L >"$dir/list.log" 2>&1 || fail "pkcs11-tool -L"
grep -q "token label *: $cert_sn" "$dir/list.log" || fail "no token $cert_sn"
grep -q "token label *: $bare_sn" "$dir/list.log" || fail "no token $bare_sn"
grep -q "token model *: ATECC608" "$dir/list.log" || fail "model"
if grep -q "login required" "$dir/list.log"; then
    fail "tokens must not need a login"
fi

p11 --token-label $cert_sn -O >"$dir/objects.log" 2>&1 || fail "-O"
for want in "Private Key Object; EC" "Public Key Object; EC" \
    "never extractable" "label:      signer" \
    "CN=sn$cert_sn"; do
    grep -q "$want" "$dir/objects.log" || fail "objects: no '$want'"
done
[ "$(grep -c 'Certificate Object' "$dir/objects.log")" = 2 ] ||
    fail "expected two certificates on $cert_sn"
p11 --token-label $bare_sn -O >"$dir/objects-bare.log" 2>&1 || fail "-O bare"
if grep -q 'Certificate Object' "$dir/objects-bare.log"; then
    fail "a chip without certificates presents one"
fi

# The device certificate is the chip key's, and its SKI is CKA_ID.
p11 --token-label $cert_sn --read-object --type cert --label device \
    -o "$dir/device.der" >"$dir/read.log" 2>&1 || fail "read device cert"
openssl x509 -inform der -in "$dir/device.der" -noout -pubkey \
    >"$dir/device.pub" || fail "device cert does not parse"
cmp -s "$dir/device.pub" "$dir/cert.pub" ||
    fail "device certificate is not for the slot 0 key"
ski=$(openssl x509 -inform der -in "$dir/device.der" -noout \
    -ext subjectKeyIdentifier | tail -n 1 | tr -d ' :' | tr 'A-F' 'a-f')
grep -q "ID:.*$ski" "$dir/objects.log" || fail "CKA_ID is not the SKI $ski"

printf 'signed inside the chip\n' >"$dir/msg"
openssl dgst -sha256 -binary "$dir/msg" >"$dir/msg.sha256"
p11 --token-label $bare_sn --sign -m ECDSA --signature-format openssl \
    -i "$dir/msg.sha256" -o "$dir/t1.sig" >"$dir/sign1.log" 2>&1 ||
    fail "pkcs11-tool --sign -m ECDSA"
openssl pkeyutl -verify -pubin -inkey "$dir/bare.pub" -in "$dir/msg.sha256" \
    -sigfile "$dir/t1.sig" >/dev/null || fail "ECDSA signature does not verify"
p11 --token-label $cert_sn --sign -m ECDSA-SHA256 --signature-format openssl \
    -i "$dir/msg" -o "$dir/t2.sig" >"$dir/sign2.log" 2>&1 ||
    fail "pkcs11-tool --sign -m ECDSA-SHA256"
openssl dgst -sha256 -verify "$dir/device.pub" -signature "$dir/t2.sig" \
    "$dir/msg" >/dev/null || fail "ECDSA-SHA256 signature does not verify"

# The check can fail: the other chip's key does not verify it.
if openssl dgst -sha256 -verify "$dir/bare.pub" -signature "$dir/t2.sig" \
    "$dir/msg" >/dev/null 2>&1; then
    fail "a signature verified under the wrong key"
fi

# ---- OpenSSL through the pkcs11 engine ----
cat >"$dir/openssl.cnf" <<EOF
openssl_conf = openssl_init
[openssl_init]
engines = engine_section
[engine_section]
pkcs11 = pkcs11_section
[pkcs11_section]
engine_id = pkcs11
dynamic_path = $engine
MODULE_PATH = $mod
init = 0
EOF
ossl() { foreign env OPENSSL_CONF="$dir/openssl.cnf" openssl "$@"; }
uri_cert="pkcs11:token=$cert_sn;type=private"
uri_bare="pkcs11:token=$bare_sn;type=private"

ossl pkeyutl -engine pkcs11 -keyform engine -inkey "$uri_cert" -sign \
    -in "$dir/msg.sha256" -out "$dir/e1.sig" >"$dir/engine1.log" 2>&1 ||
    fail "openssl pkeyutl -engine pkcs11 -sign"
openssl pkeyutl -verify -certin -inkey "$dir/device.der" -keyform DER \
    -in "$dir/msg.sha256" -sigfile "$dir/e1.sig" >/dev/null 2>&1 ||
    openssl pkeyutl -verify -pubin -inkey "$dir/device.pub" \
        -in "$dir/msg.sha256" -sigfile "$dir/e1.sig" >/dev/null ||
    fail "engine signature does not verify against the device certificate"
ossl dgst -engine pkcs11 -keyform engine -sign "$uri_bare" -sha256 \
    -out "$dir/e2.sig" "$dir/msg" >"$dir/engine2.log" 2>&1 ||
    fail "openssl dgst -engine pkcs11 -sign"
openssl dgst -sha256 -verify "$dir/bare.pub" -signature "$dir/e2.sig" \
    "$dir/msg" >/dev/null || fail "dgst signature does not verify"
printf 'tampered\n' >>"$dir/msg"
if openssl dgst -sha256 -verify "$dir/bare.pub" -signature "$dir/e2.sig" \
    "$dir/msg" >/dev/null 2>&1; then
    fail "a tampered file verified"
fi

# ---- TLS: the client key in the chip ----
# A throwaway CA certifies the bare chip's key (-force_pubkey); the
# factory chip uses its own device certificate and signer chain.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$dir/ca.key" -out "$dir/ca.pem" -subj /CN=throwaway-ca \
    -days 1 >/dev/null 2>&1 || fail "throwaway CA"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$dir/srv.key" -out "$dir/srv.pem" -subj /CN=127.0.0.1 \
    -days 1 >/dev/null 2>&1 || fail "server certificate"
openssl req -new -key "$dir/ca.key" -subj "/CN=$bare_sn" \
    -out "$dir/bare.csr" >/dev/null 2>&1 || fail "csr"
openssl x509 -req -in "$dir/bare.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
    -force_pubkey "$dir/bare.pub" -set_serial 17 -days 1 \
    -out "$dir/bare.pem" >/dev/null 2>&1 || fail "client certificate"
p11 --token-label $cert_sn --read-object --type cert --label signer \
    -o "$dir/signer.der" >>"$dir/read.log" 2>&1 || fail "read signer cert"
openssl x509 -inform der -in "$dir/signer.der" -out "$dir/signer.pem" ||
    fail "signer cert"
openssl x509 -inform der -in "$dir/device.der" -out "$dir/device.pem" ||
    fail "device cert"
cat "$dir/ca.pem" "$dir/factory/root.pem" >"$dir/client-cas.pem"

# tls_client NAME URI CERT [s_client options]: one handshake, a line of
# data the server must receive.
tls_client() {
    name=$1 uri=$2 cert=$3
    shift 3
    port=$(free_port)
    hold_fifo
    openssl s_server -accept "127.0.0.1:$port" -cert "$dir/srv.pem" \
        -key "$dir/srv.key" -Verify 2 -CAfile "$dir/client-cas.pem" \
        -verify_return_error <"$dir/fifo" >"$dir/$name-server.log" 2>&1 &
    srv_pid=$!
    wait_for "$dir/$name-server.log" ACCEPT || fail "$name: no s_server"
    (printf 'hello from %s\n' "$name"; sleep 1; printf 'Q\n') |
        timeout 15 $run_env env OPENSSL_CONF="$dir/openssl.cnf" \
            openssl s_client -connect "127.0.0.1:$port" \
            -CAfile "$dir/srv.pem" -engine pkcs11 -keyform engine \
            -key "$uri" -cert "$cert" "$@" >"$dir/$name-client.log" 2>&1
    rc=$?
    wait_for "$dir/$name-server.log" "hello from $name"
    stop_pid "$srv_pid"
    srv_pid=
    release_fifo
    [ $rc -eq 0 ] || fail "$name: s_client exited $rc"
    grep -q "hello from $name" "$dir/$name-server.log" ||
        fail "$name: handshake did not complete"
    grep -q "subject=.*CN *= *" "$dir/$name-server.log" ||
        fail "$name: the server saw no client certificate"
}
tls_client tls-bare "$uri_bare" "$dir/bare.pem"
tls_client tls-device "$uri_cert" "$dir/device.pem" \
    -cert_chain "$dir/signer.pem"

# ---- two processes on two tokens at once ----
# Each process is configured with its own chip only: a chip shares its
# power state and TempKey among all its clients, as on a real bus, so two
# processes that both touch one chip can disturb each other's commands.
sign_loop() {
    n=0
    while [ $n -lt 5 ]; do
        $run_env env THINGCORE_SE="unix:$dir/chips/$1.sock" \
            pkcs11-tool --module "$mod" --token-label "$1" \
            --sign -m ECDSA-SHA256 \
            --signature-format openssl -i "$dir/msg" \
            -o "$dir/loop-$1-$n.sig" >>"$dir/loop-$1.log" 2>&1 || return 1
        openssl dgst -sha256 -verify "$2" -signature "$dir/loop-$1-$n.sig" \
            "$dir/msg" >/dev/null || return 1
        n=$((n + 1))
    done
}
sign_loop $cert_sn "$dir/cert.pub" &
p1=$!
sign_loop $bare_sn "$dir/bare.pub" &
p2=$!
wait $p1 || fail "signing loop on $cert_sn"
wait $p2 || fail "signing loop on $bare_sn"

# ---- a daemon restart under a long-lived process ----
# s_server keeps one PKCS#11 session for its chip key; after the restart
# its next signature fails with a logged "chip lost" line, and a new
# process (new session) signs at once.
openssl req -new -key "$dir/ca.key" -subj /CN=chip-server \
    -out "$dir/chipsrv.csr" >/dev/null 2>&1 || fail "csr"
openssl x509 -req -in "$dir/chipsrv.csr" -CA "$dir/ca.pem" \
    -CAkey "$dir/ca.key" -force_pubkey "$dir/bare.pub" -set_serial 18 \
    -days 1 -out "$dir/chipsrv.pem" >/dev/null 2>&1 || fail "server cert"
port=$(free_port)
hold_fifo
$run_env env OPENSSL_CONF="$dir/openssl.cnf" THINGCORE_PKCS11_LOG=error \
    openssl s_server -accept "127.0.0.1:$port" -engine pkcs11 \
    -keyform engine -key "$uri_bare" -cert "$dir/chipsrv.pem" \
    <"$dir/fifo" >"$dir/chipsrv.log" 2>&1 &
srv_pid=$!
wait_for "$dir/chipsrv.log" ACCEPT || fail "no s_server with the chip key"
handshake() {
    printf 'Q\n' | timeout 10 openssl s_client -connect "127.0.0.1:$port" \
        -CAfile "$dir/ca.pem" -verify_return_error >"$dir/hs-$1.log" 2>&1
}
handshake 1 || fail "handshake with the chip as server key"
stop_pid "$serve_pid"
start_serve
if handshake 2; then
    fail "a session from before the restart still signed"
fi
grep -q "chip lost" "$dir/chipsrv.log" ||
    fail "no log line for the lost chip"
p11 --token-label $bare_sn --sign -m ECDSA-SHA256 --signature-format openssl \
    -i "$dir/msg" -o "$dir/after.sig" >"$dir/after.log" 2>&1 ||
    fail "a new session after the restart did not sign"
openssl dgst -sha256 -verify "$dir/bare.pub" -signature "$dir/after.sig" \
    "$dir/msg" >/dev/null || fail "signature after the restart"
stop_pid "$srv_pid"
srv_pid=
release_fifo

# ---- silent by default ----
p11 --token-label $bare_sn -O >/dev/null 2>"$dir/quiet.log" || fail "-O"
if grep -q thingcore-pkcs11 "$dir/quiet.log"; then
    fail "the module wrote to stderr without THINGCORE_PKCS11_LOG"
fi

echo "ok: pkcs11-tool, openssl engine, TLS, concurrency, restart"
