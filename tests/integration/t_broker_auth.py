#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Authentication and authorization by mosquitto with thingcore's plugin,
# with real clients on loopback: refusals (unknown issuer, INACTIVE,
# REVOKED, client ID not allowed), Kit_Policy on a device's own topics and
# another device's, the operator client, reserved topics and limits,
# duplicate client IDs, survival of a reload (SIGHUP) and revocation of a
# live connection through the event log.
import json
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, __import__("os").path.dirname(__file__))
from broker_lib import (core, ok, issue, register_ca, device_files, pub,
                        sub_start, sub_output, wait_for, lines, wait_subscribed,
                        pem, tls_args)

core.start()
iot = core.iot
kit = core.kit_policy()

# The operator watches every event.
events = sub_start(core.operator, "operator-watch", "$aws/events/#")
ok(wait_subscribed(events), "operator subscribes to $aws/events/#")

# A CA registered through the API, without auto-registration.
ca = issue("Broker Test CA", ca=True, org="thingcore-tests")
ca_id = register_ca(ca, auto=False)


def device(name, status="ACTIVE", attach=True):
    dev = issue("sn" + name, issuer=ca)
    files = device_files(name, dev)
    r = iot.register_certificate(certificatePem=pem(dev[0]),
                                 caCertificatePem=pem(ca[0]),
                                 status=status)
    cid = r["certificateId"]
    if attach:
        iot.create_thing(thingName=name)
        iot.attach_thing_principal(thingName=name, principal=r[
            "certificateArn"])
        iot.attach_policy(policyName=kit, target=r["certificateArn"])
    return files, cid, r["certificateArn"]


# Unknown issuer: refused (the TLS layer does not even trust it).
stranger_ca = issue("Stranger CA", ca=True)
stranger = device_files("stranger", issue("snFFFF", issuer=stranger_ca))
rc, out = pub(stranger, "FFFF", "FFFF/x")
ok(rc != 0, "certificate of an unknown issuer is refused")

# A registered, ACTIVE device with Kit_Policy: own topics only.
a_files, a_id, a_arn = device("0123AA")
rc, out = pub(a_files, "0123AA", "0123AA/blink")
ok(rc == 0, "ACTIVE device publishes to its own topic: " + out[-200:])
ok("action=connect topic=- decision=allow" in core.log(),
   "connect decision logged")

# The same certificate with a client ID Kit_Policy does not allow.
rc, out = pub(a_files, "0123BB", "0123BB/blink")
ok(rc != 0 and "not authorised" in out, "client ID not allowed by "
   "iot:Connect is refused: " + out[-200:])
ok(wait_for(lambda: "client=0123BB" in core.log() and
            "iot:Connect" in core.log()), "refusal names iot:Connect")

# INACTIVE and REVOKED certificates are refused.
i_files, i_id, _ = device("0123CC", status="INACTIVE")
rc, out = pub(i_files, "0123CC", "0123CC/x")
ok(rc != 0, "INACTIVE certificate refused")
ok(wait_for(lambda: "certificate is INACTIVE" in core.log()),
   "INACTIVE refusal logged")
iot.update_certificate(certificateId=i_id, newStatus="REVOKED")
rc, out = pub(i_files, "0123CC", "0123CC/x")
ok(rc != 0, "REVOKED certificate refused")
ok(wait_for(lambda: "certificate is REVOKED" in core.log()),
   "REVOKED refusal logged")

# Another device's topic: denied and disconnected.
b_files, b_id, _ = device("0123DD")
s = sub_start(b_files, "0123DD", "0123DD/#")
ok(wait_subscribed(s), "device B subscribes to its own topics")
rc, out = pub(a_files, "0123AA", "0123DD/blink", msg="intrusion")
ok(wait_for(lambda: "topic=0123DD/blink decision=deny" in core.log()),
   "publish to another device's topic denied: " + out[-300:])
time.sleep(0.3)
ok("intrusion" not in sub_output(s), "denied message not delivered")
rc, out = pub(a_files, "0123AA", "0123AA/ok", msg="mine")
ok(rc == 0, "device A still publishes to its own topic")
# Subscribing to another device's topics closes the connection.
s2 = sub_start(a_files, "0123AA", "0123DD/#")
ok(wait_for(lambda: s2.poll() is not None or "0123DD/# decision=deny" in
            core.log()), "subscribe to another device's topics denied")
# mosquitto_sub reconnects after a lost connection: each new attempt is
# denied again, which shows the previous connection was closed.
ok(wait_for(lambda: core.log().count("topic=0123DD/# decision=deny") >= 2,
            4.0), "denied subscriber disconnected (and denied again)")
s2.terminate()

# Reserved topics and limits.
rc, out = pub(a_files, "0123AA", "$aws/events/presence/connected/x")
ok(wait_for(lambda: "reserved topic" in core.log()),
   "publish to $aws/events refused as reserved")
long_topic = "0123AA/" + "x" * 260
rc, out = pub(a_files, "0123AA", long_topic)
ok(wait_for(lambda: "topic longer than 256 bytes" in core.log()),
   "topic over 256 bytes refused")
rc, out = pub(a_files, "0123AA", "0123AA/1/2/3/4/5/6/7/8")
ok(wait_for(lambda: "more than 8 levels" in core.log()),
   "topic with too many levels refused")
big = core.file("big.bin", b"x" * (128 * 1024 + 1))
r = subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p",
                    str(core.mqtt_port), "--cafile", core.ca_file,
                    "--cert", a_files[0], "--key", a_files[1], "-i",
                    "0123AA", "-t", "0123AA/big", "-f", big],
                   capture_output=True, timeout=10)
ok(wait_for(lambda: "payload larger than 128 KB" in core.log()),
   "payload over 128 KB refused")

# Client ID rules.
rc, out = pub(a_files, "$0123AA", "0123AA/x")
ok(rc != 0, "client ID beginning with $ refused")

# Lifecycle events reached the operator, with AWS's fields.
ok(wait_for(lambda: lines(events, "$aws/events/presence/connected/0123AA")),
   "connected event published")
line = lines(events, "$aws/events/presence/connected/0123AA")[0]
ev = json.loads(line.split(" ", 1)[1])
ok(ev["clientId"] == "0123AA" and ev["eventType"] == "connected" and
   ev["principalIdentifier"] == a_id and "sessionIdentifier" in ev and
   "versionNumber" in ev and ev["ipAddress"] == "127.0.0.1",
   "connected event fields")
ok(wait_for(lambda: "$aws/events/presence/disconnected/0123AA" in
            sub_output(events)), "disconnected event published")
ok(wait_for(lambda: "$aws/events/subscriptions/subscribed/0123DD" in
            sub_output(events)), "subscribed event published")
uuid4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
                   r"[0-9a-f]{12}$")
gone = json.loads(lines(events, "$aws/events/presence/disconnected/0123AA")
                  [0].split(" ", 1)[1])
ok(uuid4.match(ev["sessionIdentifier"]) and
   gone["sessionIdentifier"] == ev["sessionIdentifier"] and
   gone["clientInitiatedDisconnect"] is False and
   gone["disconnectReason"] == "CONNECTION_LOST" and
   gone["versionNumber"] == ev["versionNumber"],
   "disconnected event fields, same session as its connected event")
subd = json.loads(lines(events, "$aws/events/subscriptions/subscribed/0123DD")
                  [0].split(" ", 1)[1])
ok(subd["topics"] == ["0123DD/#"] and subd["clientId"] == "0123DD" and
   subd["principalIdentifier"] == b_id, "subscribed event fields")

# An event that cannot be written whole is not published, and says so:
# an unsubscribe from a 3,000-byte filter (unsubscribes have no topic
# limit; their event would not fit).
long_filter = "0123AA/" + "u" * 3000
subprocess.run(["mosquitto_sub"] + tls_args(a_files) +
               ["-i", "0123AA", "-t", "0123AA/#", "-U", long_filter, "-W",
                "1"], capture_output=True, timeout=10)
ok(wait_for(lambda: "event for $aws/events/subscriptions/unsubscribed/0123AA"
            " not published: too long" in core.log()),
   "an event too long to write is refused with a warning")
ok(not [l for l in sub_output(events).splitlines()
        if l.startswith("$aws/events/subscriptions/unsubscribed/0123AA ") and
        "uuuuuuuuuu" in l], "no truncated event published")

# A client ID with JSON's special characters comes out escaped, intact
# (mosquitto itself refuses control characters in client IDs).
odd = 'op"q\\x/1'
rc, out = pub(core.operator, odd, "0123AA/from-operator")
ok(rc == 0, "operator connects with a quote and a backslash in its ID: " +
   out[-300:])
ok(wait_for(lambda: lines(events, "$aws/events/presence/connected/" + odd)),
   "connected event for that client ID")
oev = json.loads(lines(events, "$aws/events/presence/connected/" + odd)[0]
                 .split(" ", 1)[1])
ok(oev["clientId"] == odd, "client ID escaped in the event JSON")
ok(uuid4.match(oev["sessionIdentifier"]) and
   oev["sessionIdentifier"] != ev["sessionIdentifier"],
   "each connection has its own sessionIdentifier")

# Duplicate client ID: the second connection takes over.
d1 = sub_start(b_files, "0123DD", "0123DD/a")
ok(wait_for(lambda: d1.poll() is not None or "DUPLICATE_CLIENTID" in
            sub_output(events), 5), "second connection takes over")
ok(wait_for(lambda: '"disconnectReason":"DUPLICATE_CLIENTID"' in
            sub_output(events)), "DUPLICATE_CLIENTID in lifecycle event")

# SIGHUP: certificate-only clients stay connected.
ok(wait_subscribed(d1), "takeover connection subscribed")
core.broker.send_signal(signal.SIGHUP)
time.sleep(1.5)
ok(d1.poll() is None, "client survives a broker reload")
rc, out = pub(a_files, "0123AA", "0123AA/after-reload")
ok(rc == 0, "publish after reload")

# Revocation: a live connection is closed within a second.
t0 = time.monotonic()
iot.update_certificate(certificateId=b_id, newStatus="INACTIVE")
gone = wait_for(lambda: d1.poll() is not None, 3.0, 0.01)
took = time.monotonic() - t0
ok(gone, "INACTIVE certificate's live connection closed")
print("revocation kick took %.3f s" % took)
ok(took < 2.0, "revocation took effect quickly (%.3f s)" % took)
ok("certificate now INACTIVE; disconnecting" in core.log(),
   "revocation logged")

# DetachPolicy on a live connection.
s3 = sub_start(a_files, "0123AA", "0123AA/#")
ok(wait_subscribed(s3), "device A connected again")
iot.detach_policy(policyName=kit, target=a_arn)
ok(wait_for(lambda: s3.poll() is not None, 3.0, 0.01),
   "DetachPolicy closes the live connection")

# A device decided from memory before is refused on its very next
# connection once its certificate changes, without waiting for the tick.
e_files, e_id, _ = device("0123EE")
for i in range(3):
    rc, out = pub(e_files, "0123EE", "0123EE/up")
    ok(rc == 0, "device E connects (%d)" % i)
    iot.update_certificate(certificateId=e_id, newStatus="INACTIVE")
    rc, out = pub(e_files, "0123EE", "0123EE/up")
    ok(rc != 0, "device E refused right after INACTIVE (%d)" % i)
    iot.update_certificate(certificateId=e_id, newStatus="ACTIVE")
core.finish()
