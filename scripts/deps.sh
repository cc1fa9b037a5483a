#!/bin/sh
# Installs the Debian packages thingcore builds and tests with, but only
# those that are missing, so a second run does nothing and needs no network.
set -eu

PACKAGES="make gcc pkg-config openssl libssl-dev libjansson-dev
libsqlite3-dev sqlite3 libmicrohttpd-dev libp11-kit-dev mosquitto
mosquitto-clients libmosquitto-dev mosquitto-dev awscli python3
python3-boto3 python3-paho-mqtt python3-cryptography opensc libengine-pkcs11-openssl clang
libclang-rt-14-dev curl procps"

missing=""
for p in $PACKAGES; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
    *"install ok installed"*) ;;
    *) missing="$missing $p" ;;
    esac
done

if [ -z "$missing" ]; then
    echo "deps: every package is installed"
    exit 0
fi

echo "deps: installing:$missing"
if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "deps: not root and no sudo; install these by hand:$missing" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing

# The broker package starts a system mosquitto on 1883; thingcore runs its
# own, so stop the system one where it was started by the install.
if command -v systemctl >/dev/null 2>&1; then
    $SUDO systemctl disable --now mosquitto >/dev/null 2>&1 || true
fi
