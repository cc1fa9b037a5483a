# SPDX-License-Identifier: Apache-2.0
# Shared by the t_broker_*.py tests: a fresh data directory with
# `thingcore broker` (mosquitto + plugin) and `thingcore api` on free
# loopback ports, boto3 for the control plane, certificates made with
# python3-cryptography, and MQTT through the real mosquitto_pub/sub
# commands and paho. Everything stops when the test ends.
import atexit
import datetime
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import boto3
import botocore.config
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

BUILD = os.environ["TC_BUILD"]
TC = os.path.join(BUILD, "thingcore")
checks = 0


def ok(cond, what):
    global checks
    checks += 1
    if not cond:
        print("FAIL:", what)
        core.dump()
        sys.exit(1)
    print("ok:", what)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def sanitizer_env():
    """LD_PRELOAD for mosquitto when the plugin is built with ASan."""
    env = dict(os.environ)
    plugin = os.path.join(BUILD, "thingcore-plugin.so")
    ldd = subprocess.run(["ldd", plugin], capture_output=True, text=True)
    if "asan" in ldd.stdout:
        libs = []
        for lib in ("libasan.so", "libubsan.so"):
            p = subprocess.run(["gcc", "-print-file-name=" + lib],
                               capture_output=True, text=True).stdout.strip()
            if os.path.isabs(p):
                libs.append(os.path.realpath(p))
        env["THINGCORE_MOSQUITTO_PRELOAD"] = " ".join(libs)
        env["ASAN_OPTIONS"] = "detect_leaks=0"
    return env


class Core:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="tc-broker.")
        self.data = os.path.join(self.dir, "data")
        self.procs = []
        self.broker = None
        self.mqtt_port = free_port()
        self.api_port = free_port()
        atexit.register(self.stop)

    def path(self, *p):
        return os.path.join(self.data, *p)

    def start(self):
        env = sanitizer_env()
        self.broker_log = open(os.path.join(self.dir, "broker.log"), "w")
        self.broker = subprocess.Popen(
            [TC, "broker", "--data", self.data, "--mqtt-port",
             str(self.mqtt_port), "--bind", "127.0.0.1", "--log-level",
             "info"], stdout=self.broker_log, stderr=subprocess.STDOUT,
            env=env)
        self.wait_port(self.mqtt_port, "broker")
        self.api_log = open(os.path.join(self.dir, "api.log"), "w")
        self.api = subprocess.Popen(
            [TC, "api", "--data", self.data, "--port", str(self.api_port),
             "--bind", "127.0.0.1"], stdout=self.api_log,
            stderr=subprocess.STDOUT)
        self.procs.append(self.api)
        self.wait_port(self.api_port, "api")
        out = subprocess.run([TC, "env", "--data", self.data],
                             capture_output=True, text=True, check=True)
        self.env = {}
        for line in out.stdout.splitlines():
            if line.startswith("export "):
                k, v = line[7:].split("=", 1)
                self.env[k] = v.strip("'")
        cfg = json.load(open(self.path("config.json")))
        self.region = cfg["region"]
        self.account = cfg["account"]
        self.iot = boto3.client(
            "iot", endpoint_url=self.env["THINGCORE_ENDPOINT_URL"],
            region_name=self.region,
            aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=self.env["AWS_SECRET_ACCESS_KEY"],
            verify=self.env["AWS_CA_BUNDLE"],
            config=botocore.config.Config(retries={"max_attempts": 1}))
        self.ca_file = self.path("ca", "ca.pem")
        self.operator = (self.path("operator", "operator.pem"),
                         self.path("operator", "operator.key"))

    def wait_port(self, port, what):
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        self.dump()
        raise SystemExit("FAIL: %s did not listen on %d" % (what, port))

    def log(self):
        self.broker_log.flush()
        return open(os.path.join(self.dir, "broker.log")).read()

    def dump(self):
        try:
            print("---- broker log (tail) ----")
            print("\n".join(self.log().splitlines()[-40:]))
        except Exception:
            pass

    def finish(self):
        """Stop everything; fail if a sanitizer spoke in the broker."""
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        if self.broker is not None and self.broker.poll() is None:
            self.broker.send_signal(signal.SIGTERM)
            self.broker.wait(10)
            ok(self.broker.returncode == 0, "broker stopped cleanly on "
               "SIGTERM")
        log = self.log()
        ok("AddressSanitizer" not in log and "runtime error" not in log,
           "no sanitizer report from the broker")
        print("%d checks passed" % checks)
        self.stop()

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
        self.procs = []
        if self.broker is not None and self.broker.poll() is None:
            self.broker.send_signal(signal.SIGTERM)
            try:
                self.broker.wait(10)
            except subprocess.TimeoutExpired:
                self.broker.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    def arn(self, kind, name):
        return "arn:aws:iot:%s:%s:%s/%s" % (self.region, self.account, kind,
                                            name)

    def kit_policy(self, name="Kit_Policy"):
        doc = subprocess.run([TC, "policy", "kit", "--region", self.region,
                              "--account", self.account],
                             capture_output=True, text=True,
                             check=True).stdout
        try:
            self.iot.create_policy(policyName=name, policyDocument=doc)
        except self.iot.exceptions.ResourceAlreadyExistsException:
            pass
        return name

    def file(self, name, data):
        p = os.path.join(self.dir, name)
        with open(p, "wb") as f:
            f.write(data)
        return p


core = Core()


# ---- certificates -------------------------------------------------------

def _name(cn, org=None):
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if org:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    return x509.Name(attrs)


def pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def issue(cn, issuer=None, ca=False, org=None):
    """(cert, key): issued by issuer=(cert, key), or self-signed."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.utcnow()
    b = (x509.CertificateBuilder()
         .subject_name(_name(cn, org))
         .issuer_name(issuer[0].subject if issuer else _name(cn, org))
         .public_key(key.public_key())
         .serial_number(x509.random_serial_number())
         .not_valid_before(now - datetime.timedelta(hours=1))
         .not_valid_after(now + datetime.timedelta(days=30))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None),
                        critical=True))
    if ca:
        b = b.add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False,
            key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
    cert = b.sign(issuer[1] if issuer else key, hashes.SHA256())
    return cert, key


def register_ca(ca, auto=True, template=None):
    """Register ca=(cert, key) ACTIVE; returns the CA certificate id."""
    code = core.iot.get_registration_code()["registrationCode"]
    ver, _ = issue(code, issuer=ca)
    kw = dict(caCertificate=pem(ca[0]), verificationCertificate=pem(ver),
              setAsActive=True, allowAutoRegistration=auto)
    if template is not None:
        kw["registrationConfig"] = {"templateBody": template}
    n = core.log().count("added to the trust directory")
    t0 = time.monotonic()
    ca_id = core.iot.register_ca_certificate(**kw)["certificateId"]
    # The running broker trusts it within a second, without a restart.
    trusted = wait_for(lambda: core.log().count(
        "added to the trust directory") > n, 2.0, 0.02)
    ok(trusted, "CA %s trusted by the running broker after %.3f s" % (
        ca_id[:12], time.monotonic() - t0))
    return ca_id


def device_files(name, dev):
    """Write a device's cert and key; returns (cert_path, key_path)."""
    return (core.file(name + ".pem", pem(dev[0]).encode()),
            core.file(name + ".key", key_pem(dev[1])))


# ---- MQTT ---------------------------------------------------------------

def tls_args(files, port=None):
    return ["-h", "127.0.0.1", "-p", str(port or core.mqtt_port), "--cafile",
            core.ca_file, "--cert", files[0], "--key", files[1]]


def pub(files, client_id, topic, msg="hello", extra=(), timeout=10,
        port=None):
    """mosquitto_pub once (to the core's broker unless port says);
    returns (exit code, output)."""
    r = subprocess.run(["mosquitto_pub"] + tls_args(files, port) +
                       ["-i", client_id, "-t", topic, "-m", msg, "-q", "1",
                        "-d"] + list(extra), capture_output=True, text=True,
                       timeout=timeout)
    return r.returncode, r.stdout + r.stderr


def sub_start(files, client_id, topic, count=None, extra=(), port=None):
    """A mosquitto_sub in the background, output to a file."""
    out = os.path.join(core.dir, "sub-%s-%d.out" % (client_id,
                                                    time.monotonic_ns()))
    args = ["stdbuf", "-oL", "mosquitto_sub"] + tls_args(files, port) + [
        "-i", client_id, "-t", topic, "-v", "-d"]
    if count:
        args += ["-C", str(count)]
    f = open(out, "w")
    p = subprocess.Popen(args + list(extra), stdout=f,
                         stderr=subprocess.STDOUT)
    p.out_path = out
    core.procs.append(p)
    return p


def sub_output(p):
    return open(p.out_path).read()


def lines(p, prefix):
    """The message lines (topic, space, payload) of a -v subscriber."""
    return [l for l in sub_output(p).splitlines()
            if l.startswith(prefix + " ")]


def wait_for(pred, timeout=5.0, step=0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(step)
    return pred()


def wait_subscribed(p, timeout=5.0):
    return wait_for(lambda: "SUBACK" in sub_output(p), timeout)
