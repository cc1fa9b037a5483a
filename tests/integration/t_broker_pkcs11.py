#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# A device whose key never leaves its (virtual) ATECC608 connects to the
# broker: a chip from the simulated Trust&GO factory served by
# `thingcore se serve`, its signer CA registered with a JITP template and
# the factory root as an explicit trust anchor, then mosquitto_pub with
# OpenSSL's pkcs11 engine and thingcore-pkcs11.so signs the handshake in
# the chip. A paho (python3-paho-mqtt) subscriber with file keys receives
# the message; the same chip is refused another device's topic.
import glob
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import broker_lib
from broker_lib import core, ok, register_ca, wait_for, TC, BUILD

import paho.mqtt.client as mqtt
from cryptography import x509
from cryptography.hazmat.primitives import serialization

MODULE = os.path.join(BUILD, "thingcore-pkcs11.so")
ENGINE = "/usr/lib/x86_64-linux-gnu/engines-3/pkcs11.so"
if not os.path.exists(MODULE) or not os.path.exists(ENGINE):
    print("needs thingcore-pkcs11.so and libengine-pkcs11-openssl")
    sys.exit(77)

core.start()
kit = core.kit_policy()
serial = "0123C0FFEE00000101"
chips = os.path.join(core.dir, "chips")
factory = os.path.join(core.dir, "factory")
r = subprocess.run([TC, "se", "manufacture", "--out", chips, "--factory",
                    factory, "--serial", serial], capture_output=True,
                   text=True)
ok(r.returncode == 0, "simulated factory makes a chip: " + r.stderr[-200:])
ready = os.path.join(core.dir, "ready")
serve = subprocess.Popen([TC, "se", "serve", "--dir", chips,
                          "--ready-file", ready],
                         stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
core.procs.append(serve)
ok(wait_for(lambda: os.path.exists(ready), 10), "chip served")
se = "unix:%s/%s.sock" % (chips, serial)
certs = os.path.join(core.dir, "certs")
os.makedirs(certs)
r = subprocess.run([TC, "se", "certs", "--se", se, "--factory", factory,
                    "--trust", os.path.join(factory, "root.pem"),
                    "--out", certs], capture_output=True, text=True)
ok(r.returncode == 0, "device and signer certificates read from the chip: "
   + r.stderr[-200:])


def load(path, key=False):
    data = open(path, "rb").read()
    if key:
        return serialization.load_pem_private_key(data, None)
    return x509.load_pem_x509_certificate(data)


# The factory's root is trusted explicitly; its signer CA is registered
# (proof of possession with the signer key) with a JITP template.
os.makedirs(core.path("trust"), exist_ok=True)
with open(core.path("trust", "factory-root.pem"), "wb") as f:
    f.write(open(os.path.join(factory, "root.pem"), "rb").read())
signer_pem = glob.glob(os.path.join(factory, "signer-*.pem"))[0]
signer = (load(signer_pem), load(signer_pem[:-4] + ".key", key=True))
template = ('{"Resources":{"thing":{"Type":"AWS::IoT::Thing","Properties":'
            '{"ThingName":{"Fn::Select":[1,{"Fn::Split":["sn",{"Ref":'
            '"AWS::IoT::Certificate::CommonName"}]}]}}},"policy":{"Type":'
            '"AWS::IoT::Policy","Properties":{"PolicyName":"%s"}}}}' % kit)
register_ca(signer, auto=True, template=template)

# A paho subscriber with the operator's file keys.
got = []
sub = mqtt.Client(client_id="paho-watch", protocol=mqtt.MQTTv311)
sub.tls_set(ca_certs=core.ca_file, certfile=core.operator[0],
            keyfile=core.operator[1])
sub.on_message = lambda c, u, m: got.append((m.topic, m.payload))
sub.connect("127.0.0.1", core.mqtt_port, 30)
sub.loop_start()
sub.subscribe(serial + "/#", qos=1)
ok(wait_for(lambda: "client=paho-watch cert=" in core.log() and
            "action=connect topic=- decision=allow" in core.log()),
   "paho client connected with file keys")

# mosquitto_pub with the key in the chip. libmosquitto opens the --key
# argument as a file, so an empty file of that name sits in the working
# directory.
uri = "pkcs11:token=%s;type=private" % serial
work = tempfile.mkdtemp(dir=core.dir)
open(os.path.join(work, uri), "w").close()
env = dict(os.environ)
env["PKCS11_MODULE_PATH"] = MODULE
env["THINGCORE_SE"] = se
env["THINGCORE_FACTORY"] = factory
ldd = subprocess.run(["ldd", MODULE], capture_output=True, text=True).stdout
if "asan" in ldd:
    libs = [subprocess.run(["gcc", "-print-file-name=" + n],
                           capture_output=True, text=True).stdout.strip()
            for n in ("libasan.so", "libubsan.so")]
    env["LD_PRELOAD"] = ":".join(l for l in libs if os.path.isabs(l))
    env["ASAN_OPTIONS"] = "detect_leaks=0"


def chip_pub(topic, msg):
    return subprocess.run(
        ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(core.mqtt_port),
         "--cafile", core.ca_file, "--cert",
         os.path.join(certs, "device.pem"), "--tls-engine", "pkcs11",
         "--keyform", "engine", "--key", uri, "-i", serial, "-t", topic,
         "-m", msg, "-q", "1", "-d"], cwd=work, env=env,
        capture_output=True, text=True, timeout=30)


r = chip_pub(serial + "/blink", "from the chip")
ok(r.returncode == 0, "mosquitto_pub signs with the chip's key and is "
   "provisioned on first connection: " + (r.stdout + r.stderr)[-300:])
ok(wait_for(lambda: (serial + "/blink", b"from the chip") in got),
   "paho subscriber receives the chip's message")
ok("just-in-time provisioned" in core.log(), "JITP on the chip's first "
   "connection")

r = chip_pub("0123AA/blink", "intrusion")
ok(wait_for(lambda: "topic=0123AA/blink decision=deny" in core.log()),
   "the chip's device is denied another device's topic")
sub.loop_stop()
sub.disconnect()
core.finish()
