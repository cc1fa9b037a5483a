#!/bin/sh
# The emulator daemon as a real process: two chips served at once, two
# clients signing on them at the same time, malformed kit lines from raw
# sockets that leave other clients unaffected, a bad chip image skipped,
# SIGHUP picking up a new chip, the pty path through kit:/dev/pts/N, keys
# surviving a restart, and SIGTERM removing sockets and tty links.
set -u
T="${TC_BUILD:?TC_BUILD not set}/thingcore"
PY=/usr/bin/python3
[ -x "$PY" ] || { echo "no /usr/bin/python3"; exit 77; }
command -v openssl >/dev/null || { echo "no openssl"; exit 77; }

D=$(mktemp -d /tmp/tc-serve.XXXXXX)
PID=""
cleanup() {
    [ -n "$PID" ] && kill "$PID" 2>/dev/null
    rm -rf "$D"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*"
    [ -f "$D/err" ] && sed 's/^/  daemon: /' "$D/err" | tail -n 20
    exit 1
}

A=0123000000000001EE
B=0123000000000002EE
C=0123000000000003EE
SA="unix:$D/$A.sock"
SB="unix:$D/$B.sock"

start() {
    rm -f "$D/ready"
    "$T" se serve --dir "$D" --pty --ready-file "$D/ready" >"$D/out" \
        2>"$D/err" &
    PID=$!
    i=0
    while [ ! -f "$D/ready" ]; do
        i=$((i + 1))
        [ $i -gt 100 ] && fail "daemon not ready after 10 s"
        kill -0 "$PID" 2>/dev/null || fail "daemon exited at start"
        sleep 0.1
    done
}

stop() {
    kill -TERM "$PID"
    wait "$PID"
    rc=$?
    PID=""
    [ $rc -eq 0 ] || fail "daemon exit status $rc after SIGTERM"
}

# Two blank chips and one file that only looks like a chip image.
"$T" se create --dir "$D" --serial $A >/dev/null || fail "create $A"
"$T" se create --dir "$D" --serial $B >/dev/null || fail "create $B"
head -c 700 /dev/urandom >"$D/$C.chip"

start
grep -q "^serving $A on $D/$A.sock pty /dev/pts/" "$D/out" ||
    fail "no serving line for $A"
grep -q "^serving $B on $D/$B.sock" "$D/out" || fail "no serving line for $B"
grep -q "^ready: 2 chips" "$D/out" || fail "no ready line"
grep -q "$C.chip not served" "$D/err" || fail "bad image not reported"
[ -S "$D/$C.sock" ] && fail "bad image served"
[ -L "$D/$A.tty" ] || fail "no tty link for $A"

# Provision both: Trust&GO configuration, locks, a key in slot 2.
for s in "$SA" "$SB"; do
    "$T" se configure --se "$s" >/dev/null || fail "configure $s"
    "$T" se lock --se "$s" --zone config >/dev/null || fail "lock config $s"
    "$T" se lock --se "$s" --zone data >/dev/null || fail "lock data $s"
    "$T" se genkey --se "$s" --slot 2 >/dev/null || fail "genkey $s"
done
"$T" se pubkey --se "$SA" --slot 2 >"$D/a.pem" || fail "pubkey A"
"$T" se pubkey --se "$SB" --slot 2 >"$D/b.pem" || fail "pubkey B"
cmp -s "$D/a.pem" "$D/b.pem" && fail "two chips, one key"

# Two clients on two chips at once; every signature must verify.
echo "message for the chips" >"$D/msg"
sign_loop() {
    i=0
    while [ $i -lt 15 ]; do
        "$T" se sign --se "$1" --slot 2 -o "$D/$2.$i.sig" "$D/msg" ||
            echo "sign $1 $i failed" >>"$D/sign-errors"
        i=$((i + 1))
    done
}
sign_loop "$SA" a &
P1=$!
sign_loop "$SB" b &
P2=$!
wait $P1
wait $P2
[ -s "$D/sign-errors" ] && fail "$(cat "$D/sign-errors")"
for i in 0 7 14; do
    openssl dgst -sha256 -verify "$D/a.pem" -signature "$D/a.$i.sig" \
        "$D/msg" >/dev/null || fail "signature a.$i does not verify"
    openssl dgst -sha256 -verify "$D/b.pem" -signature "$D/b.$i.sig" \
        "$D/msg" >/dev/null || fail "signature b.$i does not verify"
done
openssl dgst -sha256 -verify "$D/b.pem" -signature "$D/a.0.sig" \
    "$D/msg" >/dev/null 2>&1 && fail "a's signature verifies under b's key"

# Malformed input on raw sockets, while a well-behaved client keeps going.
"$PY" - "$D/$A.sock" "$D/$B.sock" <<'EOF' || fail "raw socket checks"
import socket, sys, time

def conn(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(path)
    return s, s.makefile("rb")

def ask(c, line):
    c[0].sendall(line)
    return c[1].readline()

good = conn(sys.argv[2])
assert ask(good, b"E:w()\n") == b"00(04113343)\n"

bad = conn(sys.argv[1])
rows = [
    (b"A" * 5000 + b"\n", b"E4()\n"),          # over-long
    (b"\x01\x02garbage\xff\n", b"E1()\n"),     # binary garbage
    (b"hello world\n", b"E1()\n"),
    (b"E:t(073)\n", b"E2()\n"),                # odd hex
    (b"E:t(07ZZ)\n", b"E2()\n"),               # bad hex
    (b"E:q()\n", b"F5()\n"),                   # unknown command
    (b"board:device(03)\n", b"F9()\n"),        # no such device
    (b"e:w()\r\n", b"00(04113343)\n"),         # lower case, CRLF
    (b"e:t(0730000000035d)\n", b"00(07000060028038)\n"),
    (b"E:s()\n", b"00()\n"),
    (b"E:t(0730000000035D)\n", b"E7()\n"),     # asleep: no response
]
for line, want in rows:
    got = ask(bad, line)
    if got != want:
        sys.exit("%r -> %r, want %r" % (line[:30], got, want))

# Half a line, then gone.
half = conn(sys.argv[1])
half[0].sendall(b"E:t(0730")
half[0].close()

# A client that floods without reading is bounded, not fatal.
flood = conn(sys.argv[1])
flood[0].sendall(b"E:i()\n" * 2000)
flood[0].close()

# The good client never noticed.
assert ask(good, b"E:t(0730000000035D)\n") == b"00(07000060028038)\n"
assert ask(good, b"E:i()\n") == b"00()\n"
assert ask(bad, b"E:w()\n") == b"00(04113343)\n"
EOF
kill -0 "$PID" 2>/dev/null || fail "daemon died on malformed input"
grep -q "line longer than 400 bytes" "$D/err" || fail "over-long not logged"
grep -q "left in the middle of a line" "$D/err" || fail "half line not logged"

# The pty: a kit host on /dev/pts/N (and through the DIR/<SERIAL>.tty link).
PTS=$(readlink "$D/$A.tty")
case "$PTS" in /dev/pts/*) ;; *) fail "tty link points to '$PTS'" ;; esac
"$T" se info --se "kit:$PTS" >"$D/info-pty" || fail "info over kit:$PTS"
grep -q "$A" "$D/info-pty" || fail "kit:$PTS did not report $A"
"$T" se pubkey --se "kit:$D/$A.tty" --slot 2 >"$D/a-pty.pem" ||
    fail "pubkey over the tty link"
cmp -s "$D/a.pem" "$D/a-pty.pem" || fail "pty and socket disagree on key"

# A host that leaves half a line on the pty does not spoil the next one.
"$PY" - "$PTS" <<'EOF' || fail "half line on the pty"
import os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY)
os.write(fd, b"E:t(0730")
os.close(fd)
EOF
sleep 2.5
grep -q "half a line" "$D/err" || fail "stale pty half line not logged"
"$T" se info --se "kit:$PTS" >/dev/null || fail "kit:$PTS after half a line"

# SIGHUP: a chip added while the daemon runs is served too.
N=0123000000000004EE
"$T" se create --dir "$D" --serial $N >/dev/null || fail "create $N"
kill -HUP "$PID"
i=0
while [ ! -S "$D/$N.sock" ]; do
    i=$((i + 1))
    [ $i -gt 50 ] && fail "SIGHUP did not serve $N"
    sleep 0.1
done
"$T" se info --se "unix:$D/$N.sock" | grep -q $N || fail "info on $N"

# Restart: keys were saved before they were answered.
stop
[ -e "$D/$A.sock" ] && fail "socket left after SIGTERM"
[ -e "$D/$A.tty" ] || [ -L "$D/$A.tty" ] && fail "tty link left"
start
"$T" se pubkey --se "$SA" --slot 2 >"$D/a2.pem" || fail "pubkey after restart"
cmp -s "$D/a.pem" "$D/a2.pem" || fail "key of $A changed across restart"
"$T" se sign --se "$SA" --slot 2 -o "$D/after.sig" "$D/msg" ||
    fail "sign after restart"
openssl dgst -sha256 -verify "$D/a.pem" -signature "$D/after.sig" \
    "$D/msg" >/dev/null || fail "signature after restart"
stop
ls "$D"/*.sock >/dev/null 2>&1 && fail "sockets left after SIGTERM"
echo "ok"
exit 0
