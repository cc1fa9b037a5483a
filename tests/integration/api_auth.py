#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Crafts requests the way botocore signs them, then breaks one thing at a
# time (no signature, wrong secret, old date, tampered body, oversized
# body, bad JSON, wrong scope, UNSIGNED-PAYLOAD) and requires the AWS
# error the core must answer with, and that nothing changed.
import datetime
import http.client
import json
import os
import socket
import ssl
import sys
import urllib.parse

import botocore.auth
import botocore.credentials
from botocore.awsrequest import AWSRequest

URL = urllib.parse.urlsplit(os.environ["THINGCORE_ENDPOINT_URL"])
KEY = os.environ["AWS_ACCESS_KEY_ID"]
SECRET = os.environ["AWS_SECRET_ACCESS_KEY"]
REGION = os.environ["AWS_DEFAULT_REGION"]
ctx = ssl.create_default_context(cafile=os.environ["AWS_CA_BUNDLE"])
checks = 0
real_datetime = datetime.datetime


def ok(cond, what):
    global checks
    checks += 1
    if not cond:
        print("FAIL:", what)
        sys.exit(1)


class Shifted(real_datetime):
    shift = datetime.timedelta(0)

    @classmethod
    def utcnow(cls):
        return real_datetime.utcnow() + cls.shift


botocore.auth.datetime.datetime = Shifted


def send(method, target, body=b"", sign=True, secret=SECRET, key=KEY,
         region=REGION, service="iot", shift=0, send_body=None,
         extra=None):
    """Sign (method, target, body) with botocore, send send_body (or
    body), return (status, error type, parsed body)."""
    headers = {"Content-Type": "application/json"}
    headers.update(extra or {})
    url = "%s://%s%s" % (URL.scheme, URL.netloc, target)
    req = AWSRequest(method=method, url=url, data=body, headers=headers)
    if sign:
        Shifted.shift = datetime.timedelta(seconds=shift)
        creds = botocore.credentials.Credentials(key, secret)
        botocore.auth.SigV4Auth(creds, service, region).add_auth(req)
        Shifted.shift = datetime.timedelta(0)
    payload = body if send_body is None else send_body
    conn = http.client.HTTPSConnection(URL.hostname, URL.port, context=ctx)
    hdrs = dict(req.headers.items())
    try:
        conn.request(method, target, body=payload, headers=hdrs)
        r = conn.getresponse()
        data = r.read()
        status = r.status
        etype = r.getheader("x-amzn-ErrorType") or ""
    except (ConnectionResetError, BrokenPipeError):
        return 413, "closed", {}
    finally:
        conn.close()
    try:
        parsed = json.loads(data) if data else {}
    except ValueError:
        parsed = {"raw": data}
    return status, etype, parsed


def refused(status, etype, resp, want_status, want_type, what):
    ok(status == want_status, "%s: status %d, want %d (%s)" % (
        what, status, want_status, resp))
    ok(etype == want_type, "%s: type %r, want %r" % (what, etype, want_type))
    ok(isinstance(resp.get("message"), str) and resp["message"],
       "%s: message present" % what)
    ok(SECRET not in json.dumps(resp), "%s: secret not echoed" % what)


def things():
    s, t, r = send("GET", "/things")
    ok(s == 200, "list things: %d %s" % (s, r))
    return sorted(x["thingName"] for x in r["things"])


body = json.dumps({"attributePayload": {"attributes": {"k": "v"}}}).encode()

# A correct request works with both accepted service names.
s, t, r = send("POST", "/things/good1", body)
ok(s == 200 and r["thingName"] == "good1", "signed with iot: %s" % r)
s, t, r = send("POST", "/things/good2", body, service="execute-api")
ok(s == 200, "signed with execute-api: %s" % r)
base = things()

U = "UnauthorizedException"
refused(*send("POST", "/things/evil1", body, sign=False), 401, U,
        "no signature")
refused(*send("POST", "/things/evil2", body, secret="y" * 40), 401, U,
        "wrong secret")
refused(*send("POST", "/things/evil3", body, key="AKIAUNKNOWNUNKNOWN00"),
        401, U, "unknown access key")
refused(*send("POST", "/things/evil4", body, shift=-600), 401, U,
        "date 10 minutes old")
refused(*send("POST", "/things/evil5", body, shift=600), 401, U,
        "date 10 minutes ahead")
tampered = body.replace(b'"v"', b'"w"')
ok(len(tampered) == len(body) and tampered != body, "tampered body")
refused(*send("POST", "/things/evil6", body, send_body=tampered), 401, U,
        "tampered body")
refused(*send("POST", "/things/evil7", body, region="eu-central-1"), 401,
        U, "other region")
refused(*send("POST", "/things/evil8", body, service="s3"), 401, U,
        "other service")
refused(*send("POST", "/things/evil9", body,
              extra={"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"}), 401, U,
        "unsigned payload")
# A signature made for one path does not carry over to another.
s, t, r = send("GET", "/things/good1")
ok(s == 200, "describe good1")

# Size of a signed body. Announced by Content-Length, the request is
# answered right after its headers, before any of the body is read; sent
# chunked, it is read, dropped past the limit and answered the same way.
big = json.dumps({"attributePayload": {"attributes": {
    "k": "v" * (200 * 1024)}}}).encode()


def raw(target, body, chunked):
    url = "%s://%s%s" % (URL.scheme, URL.netloc, target)
    req = AWSRequest(method="POST", url=url, data=body,
                     headers={"Content-Type": "application/json"})
    creds = botocore.credentials.Credentials(KEY, SECRET)
    botocore.auth.SigV4Auth(creds, "iot", REGION).add_auth(req)
    head = "POST %s HTTP/1.1\r\nHost: %s\r\n" % (target, URL.netloc)
    for k, v in req.headers.items():
        if k.lower() not in ("host", "content-length"):
            head += "%s: %s\r\n" % (k, v)
    if chunked:
        head += "Transfer-Encoding: chunked\r\n\r\n"
    else:
        head += "Content-Length: %d\r\n\r\n" % len(body)
    sock = socket.create_connection((URL.hostname, URL.port))
    tls = ctx.wrap_socket(sock, server_hostname=URL.hostname)
    tls.sendall(head.encode())
    if chunked:
        for i in range(0, len(body), 16384):
            part = body[i:i + 16384]
            tls.sendall(b"%x\r\n%s\r\n" % (len(part), part))
        tls.sendall(b"0\r\n\r\n")
    answer = b""
    while b"\r\n\r\n" not in answer:
        got = tls.recv(4096)
        if not got:
            break
        answer += got
    tls.close()
    lines = answer.decode(errors="replace").split("\r\n")
    status = int(lines[0].split()[1]) if lines[0] else 0
    etype = ""
    for line in lines[1:]:
        if line.lower().startswith("x-amzn-errortype:"):
            etype = line.split(":", 1)[1].strip()
    return status, etype


for chunked in (False, True):
    st, et = raw("/things/evil10", big, chunked)
    ok(st == 413 and et == "RequestEntityTooLargeException",
       "oversized body (chunked=%s): %d %s" % (chunked, st, et))

# Syntax of a signed body.
refused(*send("POST", "/things/evil11", b'{"attributePayload": '), 400,
        "InvalidRequestException", "truncated JSON")
refused(*send("POST", "/things/evil12", b'[1, 2]'), 400,
        "InvalidRequestException", "JSON not an object")
refused(*send("POST", "/things/evil13", b'{"a":' * 100 + b'1' + b'}' * 100),
        400, "InvalidRequestException", "JSON nested too deeply")
refused(*send("POST", "/things/evil14",
              b'{"thingTypeName": 5}'), 400, "InvalidRequestException",
        "member of the wrong type")
refused(*send("GET", "/things?maxResults=0"), 400,
        "InvalidRequestException", "maxResults out of range")
refused(*send("GET", "/things?maxResults=abc"), 400,
        "InvalidRequestException", "maxResults not a number")
refused(*send("GET", "/no-such-operation"), 404,
        "UnknownOperationException", "unknown path")
refused(*send("PUT", "/things"), 404, "UnknownOperationException",
        "wrong method")

ok(things() == base, "refused requests changed nothing: %s" % things())
print("auth: %d checks passed" % checks)
