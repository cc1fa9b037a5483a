#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Makes the SigV4 vectors in vectors.txt with botocore (Debian's
# python3-botocore): real boto3 IoT calls are serialized and signed at a
# fixed time, captured before they would be sent, and written out with the
# canonical request botocore computed.
# Run: /usr/bin/python3 make_vectors.py > vectors.txt
import base64
import datetime
import hashlib

import boto3
import botocore.auth
from botocore.awsrequest import AWSResponse

FIXED = datetime.datetime(2024, 3, 5, 12, 34, 56)
KEY_ID = "AKIAEXAMPLE000000001"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
REGION = "eu-west-1"


class FixedDatetime(datetime.datetime):
    @classmethod
    def utcnow(cls):
        return FIXED


botocore.auth.datetime.datetime = FixedDatetime
captured = []


class Raw:
    def stream(self, **kw):
        yield b"{}"


def capture(request, **kw):
    captured.append(request)
    return AWSResponse(request.url, 200, {}, Raw())


def client(service_override=None):
    c = boto3.client(
        "iot", region_name=REGION, aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
        endpoint_url="https://127.0.0.1:8443")
    c.meta.events.register("before-send", capture)
    return c


def emit(name, req, service):
    from urllib.parse import urlsplit
    parts = urlsplit(req.url)
    body = req.body or b""
    if isinstance(body, str):
        body = body.encode()
    auth = req.headers["Authorization"]
    if isinstance(auth, bytes):
        auth = auth.decode()
    # Recompute botocore's canonical request for the same request object.
    creds = botocore.credentials.Credentials(KEY_ID, SECRET)
    signer = botocore.auth.SigV4Auth(creds, service, REGION)

    class R:
        pass
    r = R()
    r.method = req.method
    r.url = req.url
    r.headers = req.headers
    r.body = body
    r.params = {}
    r.context = {"timestamp": FIXED.strftime("%Y%m%dT%H%M%SZ")}
    signed = auth.split("SignedHeaders=")[1].split(",")[0].split(";")
    hdrs = botocore.awsrequest.HTTPHeaders()
    for k, v in req.headers.items():
        if k.lower() in signed:
            hdrs[k] = v.decode() if isinstance(v, bytes) else v
    r.headers = hdrs
    canon = signer.canonical_request(r)
    print("name:", name)
    print("method:", req.method)
    print("path:", parts.path)
    print("query:", parts.query)
    if "host" not in [k.lower() for k in req.headers.keys()]:
        print("header: host:", parts.netloc)
    for k, v in req.headers.items():
        if isinstance(v, bytes):
            v = v.decode()
        if k.lower() in ("authorization", "user-agent", "expect",
                         "amz-sdk-invocation-id", "amz-sdk-request"):
            continue
        print("header: %s: %s" % (k, v))
    print("payload_hash:", hashlib.sha256(body).hexdigest())
    print("body:", base64.b64encode(body).decode())
    print("key_id:", KEY_ID)
    print("secret:", SECRET)
    print("region:", REGION)
    print("service:", service)
    print("now:", int(FIXED.replace(tzinfo=datetime.timezone.utc).timestamp()))
    print("authorization:", auth)
    print("canonical:", base64.b64encode(canon.encode()).decode())
    print()


calls = [
    ("create-thing", lambda c: c.create_thing(
        thingName="0123ABCD4567EF0101",
        attributePayload={"attributes": {"model": "atecc608"}})),
    ("describe-thing-colon", lambda c: c.describe_thing(thingName="a:b_c-d")),
    ("list-things-query", lambda c: c.list_things(
        maxResults=2, nextToken="abc/def+==", attributeName="model",
        attributeValue="x y")),
    ("attach-thing-principal", lambda c: c.attach_thing_principal(
        thingName="dev1",
        principal="arn:aws:iot:eu-west-1:123456789012:cert/" + "ab" * 32)),
    ("create-policy-special-name", lambda c: c.create_policy(
        policyName="Kit_Policy+=,.@-1",
        policyDocument='{"Version":"2012-10-17","Statement":[]}')),
    ("update-certificate", lambda c: c.update_certificate(
        certificateId="cd" * 32, newStatus="INACTIVE")),
    ("list-attached-policies", lambda c: c.list_attached_policies(
        target="arn:aws:iot:eu-west-1:123456789012:cert/" + "ef" * 32,
        pageSize=5)),
    ("describe-endpoint", lambda c: c.describe_endpoint(
        endpointType="iot:Data-ATS")),
]

for service in ("execute-api", "iot"):
    for name, call in calls:
        captured.clear()
        c = client()
        if service != "execute-api":
            c.meta.config.signature_version = "v4"
            c._request_signer._signing_name = service
        call(c)
        emit(name + "/" + service, captured[0], service)
