#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Just-in-time registration and provisioning through mosquitto with
# thingcore's plugin. JITR: the first connection of an unknown device of
# an auto-registering CA registers it PENDING_ACTIVATION, publishes AWS's
# event (again on each retry) and is refused; an activation process
# subscribed to the event activates it through the API and the device
# gets in. JITP: a Trust&GO-shaped chain (root, signer CA, device with
# CN "sn<serial>") whose signer CA carries a template: the first
# connection succeeds, the thing is named by the serial, Kit_Policy
# applies (own topics allowed, another device's denied).
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import broker_lib
from broker_lib import (core, ok, issue, register_ca, device_files, pub,
                        sub_start, sub_output, wait_for, lines, wait_subscribed,
                        pem)

core.start()
iot = core.iot
kit = core.kit_policy()

# ---- JITR ----------------------------------------------------------------
ca = issue("JITR Test CA", ca=True, org="thingcore-tests")
ca_id = register_ca(ca, auto=True)
topic = "$aws/events/certificates/registered/" + ca_id
watch = sub_start(core.operator, "activation-fn", topic)
ok(wait_subscribed(watch), "activation process subscribes to " + topic)

dev = issue("sn01ABCDEF", issuer=ca)
files = device_files("jitr", dev)
rc, out = pub(files, "01ABCDEF", "01ABCDEF/hello")
ok(rc != 0, "first connection of a JITR device is refused")
ok(wait_for(lambda: lines(watch, topic)), "registration event sent")
line = lines(watch, topic)[0]
ev = json.loads(line.split(" ", 1)[1])
ok(ev["caCertificateId"] == ca_id and
   ev["certificateStatus"] == "PENDING_ACTIVATION" and
   ev["awsAccountId"] == core.account and
   isinstance(ev["timestamp"], int) and
   "certificateRegistrationTimestamp" in ev,
   "registration event has AWS's fields")
cert_id = ev["certificateId"]
desc = iot.describe_certificate(certificateId=cert_id)
ok(desc["certificateDescription"]["status"] == "PENDING_ACTIVATION",
   "certificate registered PENDING_ACTIVATION")

rc, out = pub(files, "01ABCDEF", "01ABCDEF/hello")
ok(rc != 0, "retry while pending is refused")
ok(wait_for(lambda: len(lines(watch, topic)) >= 2),
   "registration event re-sent on retry")

# The activation process: thing, policy, attachments, ACTIVE.
arn = desc["certificateDescription"]["certificateArn"]
iot.create_thing(thingName="01ABCDEF")
iot.attach_thing_principal(thingName="01ABCDEF", principal=arn)
iot.attach_policy(policyName=kit, target=arn)
iot.update_certificate(certificateId=cert_id, newStatus="ACTIVE")
rc, out = pub(files, "01ABCDEF", "01ABCDEF/hello")
ok(rc == 0, "activated device connects and publishes: " + out[-200:])

# A CA without auto-registration refuses unknown devices quietly.
ca_off = issue("No Auto CA", ca=True)
register_ca(ca_off, auto=False)
rc, out = pub(device_files("noauto", issue("sn02", issuer=ca_off)), "02",
              "02/x")
ok(rc != 0, "unknown device of a CA without auto-registration refused")
ok(wait_for(lambda: "auto-registration disabled" in core.log()),
   "refusal names auto-registration")

# ---- JITP, Trust&GO shaped -------------------------------------------------
root = issue("Simulated Root CA", ca=True, org="thingcore simulated factory")
signer = issue("Simulated Signer FFFF", issuer=root, ca=True,
               org="thingcore simulated factory")
# The root is an explicit trust anchor, beside the data directory.
os.makedirs(core.path("trust"), exist_ok=True)
with open(core.path("trust", "root.pem"), "w") as f:
    f.write(pem(root[0]))
template = json.dumps({
    "Parameters": {
        "AWS::IoT::Certificate::CommonName": {"Type": "String"},
        "AWS::IoT::Certificate::Id": {"Type": "String"},
    },
    "Resources": {
        "thing": {
            "Type": "AWS::IoT::Thing",
            "Properties": {
                "ThingName": {"Fn::Select": [1, {"Fn::Split": [
                    "sn", {"Ref": "AWS::IoT::Certificate::CommonName"}]}]},
                "AttributePayload": {"model": "ATECC608-TNGTLS",
                                     "cn": {"Fn::Join": ["", [
                                         "cn-", {"Ref":
                                         "AWS::IoT::Certificate::CommonName"}
                                     ]]}},
            },
        },
        "certificate": {
            "Type": "AWS::IoT::Certificate",
            "Properties": {"CertificateId": {"Ref":
                                             "AWS::IoT::Certificate::Id"},
                           "Status": "ACTIVE"},
        },
        "policy": {"Type": "AWS::IoT::Policy",
                   "Properties": {"PolicyName": kit}},
    },
})
signer_id = register_ca(signer, auto=True, template=template)
serial = "0123456789ABCDEF01"
tdev = issue("sn" + serial, issuer=signer)
tfiles = device_files("tng", tdev)
t0 = time.monotonic()
rc, out = pub(tfiles, serial, serial + "/hello")
ok(rc == 0, "JITP device's first connection succeeds (%.3f s): %s" % (
    time.monotonic() - t0, out[-300:]))
thing = iot.describe_thing(thingName=serial)
ok(thing["attributes"].get("model") == "ATECC608-TNGTLS" and
   thing["attributes"].get("cn") == "cn-sn" + serial,
   "thing named by the serial, attributes from the template")
principals = iot.list_thing_principals(thingName=serial)["principals"]
ok(len(principals) == 1, "certificate attached to the thing")
pols = iot.list_attached_policies(target=principals[0])["policies"]
ok([p["policyName"] for p in pols] == [kit], "Kit_Policy attached")
ok("just-in-time provisioned" in core.log(), "provisioning logged")

# Kit_Policy: own topics, not another device's.
rc, out = pub(tfiles, serial, "01ABCDEF/hello", msg="intrusion")
ok(wait_for(lambda: "topic=01ABCDEF/hello decision=deny" in core.log()),
   "JITP device denied another device's topic")

# A template that cannot be evaluated refuses the device, and says why.
bad = issue("Bad Template CA", ca=True)
register_ca(bad, auto=True, template=json.dumps({
    "Resources": {"thing": {"Type": "AWS::IoT::Thing", "Properties": {
        "ThingName": {"Ref": "AWS::IoT::Certificate::Country"}}}}}))
rc, out = pub(device_files("badt", issue("sn03", issuer=bad)), "03", "03/x")
ok(rc != 0, "device refused when its CA's template has no value")
ok(wait_for(lambda: "AWS::IoT::Certificate::Country has no value" in
            core.log()), "template error logged")
core.finish()
