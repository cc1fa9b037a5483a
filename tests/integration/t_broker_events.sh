#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# mosquitto with thingcore's plugin, real clients on loopback: see
# t_broker_events.py for what is checked.
: "${TC_BUILD:?set TC_BUILD to the build folder}"
[ -x /usr/sbin/mosquitto ] || { echo "no /usr/sbin/mosquitto"; exit 77; }
command -v mosquitto_pub >/dev/null 2>&1 || { echo "no mosquitto_pub"; exit 77; }
[ -f "$TC_BUILD/thingcore-plugin.so" ] || { echo "no plugin built"; exit 77; }
exec /usr/bin/python3 "$(dirname "$0")/t_broker_events.py"
