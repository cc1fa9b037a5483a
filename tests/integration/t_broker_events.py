#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Events only once someone can hear them, and returning devices decided by
# their certificate's fingerprint:
# - `thingcore broker` runs the plugin with plugin_opt_events subscribed
#   (persistence off); events start with the first subscription to a
#   $aws/events/ filter and reach it even for a session that began before;
# - a second certificate with the same subject, client ID and address as
#   a device decided from memory is judged on its own (INACTIVE, then
#   unregistered), while the device itself still connects;
# - events keep flowing across a reload (SIGHUP);
# - plugin_opt_events with an unknown value is named in a warning and
#   events are then always published.
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from broker_lib import (core, ok, issue, register_ca, device_files, pub,
                        sub_start, sub_output, wait_for, wait_subscribed,
                        pem, free_port, sanitizer_env)

HEARD = "events are published from now on"

core.start()
iot = core.iot
kit = core.kit_policy()

conf = open(core.path("broker", "mosquitto.conf")).read()
ok("\nplugin_opt_events subscribed\n" in conf and
   "\npersistence false\n" in conf,
   "generated configuration: events on subscription, no persistence")

ca = issue("Events Test CA", ca=True)
register_ca(ca, auto=False)


def register(cn, status="ACTIVE", thing=None):
    dev = issue(cn, issuer=ca)
    r = iot.register_certificate(certificatePem=pem(dev[0]),
                                 caCertificatePem=pem(ca[0]), status=status)
    if thing is not None:
        iot.create_thing(thingName=thing)
        iot.attach_thing_principal(thingName=thing,
                                   principal=r["certificateArn"])
    iot.attach_policy(policyName=kit, target=r["certificateArn"])
    return dev, r["certificateId"]


# A device connects and stays while nobody listens to events.
dev, dev_id = register("sn0123E1", thing="0123E1")
dev_files = device_files("e1", dev)
live = sub_start(dev_files, "0123E1", "0123E1/#")
ok(wait_subscribed(live), "device connected before any event subscriber")
ok(HEARD not in core.log(), "no event subscriber yet: none built")

# The operator subscribes: from now on events are built and delivered,
# including the disconnection of the session that began before.
watch = sub_start(core.operator, "events-watch", "$aws/events/presence/#")
ok(wait_subscribed(watch), "operator subscribes to presence events")
ok(wait_for(lambda: HEARD in core.log(), 3.0),
   "first $aws/events/ subscription logged")
ok(re.search(r"events-watch subscribed to \$aws/events/presence/#",
             core.log()) is not None, "the log names who and what")
live.terminate()
live.wait(5)


def event(kind, cid):
    for line in sub_output(watch).splitlines():
        if line.startswith("$aws/events/presence/%s/%s " % (kind, cid)):
            return line
    return None


ok(wait_for(lambda: event("disconnected", "0123E1") is not None),
   "disconnected event of the session begun before the subscription")
ok(dev_id in event("disconnected", "0123E1"), "it names the certificate")
rc, out = pub(dev_files, "0123E1", "0123E1/up")
ok(rc == 0, "device connects again: " + out[-200:])
ok(wait_for(lambda: event("connected", "0123E1") is not None),
   "connected event delivered")

# A reload (SIGHUP) does not re-initialize the plugin: the broker keeps
# the operator's subscription, and events keep flowing to it.
core.broker.send_signal(signal.SIGHUP)
time.sleep(1.0)
before = sub_output(watch).count("$aws/events/presence/disconnected/0123E1 ")
rc, out = pub(dev_files, "0123E1", "0123E1/up")
ok(rc == 0, "device connects after a reload")
ok(wait_for(lambda: sub_output(watch).count(
    "$aws/events/presence/disconnected/0123E1 ") > before),
   "events still published after a reload")

# The device is now decided from memory. A second certificate with the
# same subject, used with the same client ID from the same address, is
# judged by its own registration: INACTIVE is refused...
twin, twin_id = register("sn0123E1", status="INACTIVE")
twin_files = device_files("e1-twin", twin)
rc, out = pub(twin_files, "0123E1", "0123E1/up")
ok(rc != 0, "same subject, other certificate, INACTIVE: refused")
ok(re.search(r"client=0123E1 cert=%s action=connect topic=- decision=deny "
             r"reason=certificate is INACTIVE" % twin_id, core.log())
   is not None, "refusal names the second certificate")

# ...and one never registered is refused too.
stranger = device_files("e1-stranger", issue("sn0123E1", issuer=ca))
rc, out = pub(stranger, "0123E1", "0123E1/up")
ok(rc != 0, "same subject, unregistered certificate: refused")
ok(re.search(r"client=0123E1 cert=[0-9a-f]{64} action=connect topic=- "
             r"decision=deny reason=certificate not registered", core.log())
   is not None, "refusal says the certificate is not registered")

# The device itself is unaffected.
for i in range(2):
    rc, out = pub(dev_files, "0123E1", "0123E1/up")
    ok(rc == 0, "the device still connects (%d)" % i)

# An unknown plugin_opt_events value: warned about, events always on.
port = free_port()
bad_conf = os.path.join(core.dir, "bad-events.conf")
text = conf.replace("plugin_opt_events subscribed",
                    "plugin_opt_events sometimes")
text = re.sub(r"(?m)^listener \d+.*$", "listener %d 127.0.0.1" % port, text)
open(bad_conf, "w").write(text)
env = sanitizer_env()
if env.get("THINGCORE_MOSQUITTO_PRELOAD"):
    env["LD_PRELOAD"] = env["THINGCORE_MOSQUITTO_PRELOAD"]
bad_log = os.path.join(core.dir, "bad-events.log")
with open(bad_log, "w") as f:
    m = subprocess.Popen(["/usr/sbin/mosquitto", "-c", bad_conf], stdout=f,
                         stderr=subprocess.STDOUT, env=env)
try:
    core.wait_port(port, "second broker")
    ok(wait_for(lambda: "unknown events sometimes (always or subscribed), "
                "using always" in open(bad_log).read(), 3.0),
       "unknown plugin_opt_events value named in a warning")
    w = sub_start(core.operator, "events-watch-2",
                  "$aws/events/presence/connected/0123E1", count=1,
                  extra=("-W", "10"), port=port)
    ok(wait_subscribed(w), "operator subscribed on that broker")
    rc, out = pub(dev_files, "0123E1", "0123E1/up", port=port)
    ok(rc == 0, "that broker serves the device: " + out[-200:])
    w.wait(15)
    ok('"eventType":"connected"' in sub_output(w), "and publishes its event")
    ok(HEARD not in open(bad_log).read(),
       "events were on from the start: no first subscriber awaited")
finally:
    m.terminate()
    m.wait(10)
log = open(bad_log).read()
ok("AddressSanitizer" not in log and "runtime error" not in log,
   "no sanitizer report from the second broker")
core.finish()
