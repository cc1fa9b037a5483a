#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Drives every control-plane operation of a running core with boto3
# (Debian's python3-boto3), including the AWS error of each rule. The
# environment comes from `thingcore env`. Certificates are made here with
# python3-cryptography. Exits non-zero on the first mismatch.
import datetime
import hashlib
import json
import os
import sys

import boto3
import botocore.exceptions
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

URL = os.environ["THINGCORE_ENDPOINT_URL"]
iot = boto3.client("iot", endpoint_url=URL)
checks = 0


def ok(cond, what):
    global checks
    checks += 1
    if not cond:
        print("FAIL:", what)
        sys.exit(1)


def expect_error(code, fn, **kw):
    """Call fn and require the AWS error code; return the response."""
    try:
        fn(**kw)
    except botocore.exceptions.ClientError as e:
        got = e.response["Error"]["Code"]
        ok(got == code, "%s: expected %s, got %s (%s)" % (
            fn.__name__, code, got, e.response["Error"].get("Message")))
        ok(e.response["Error"].get("Message"), "error carries a message")
        return e.response
    ok(False, "%s: expected %s, call succeeded" % (fn.__name__, code))


def make_cert(cn, issuer_key=None, issuer_name=None, is_ca=False):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.datetime.utcnow()
    b = (x509.CertificateBuilder()
         .subject_name(name)
         .issuer_name(issuer_name or name)
         .public_key(key.public_key())
         .serial_number(x509.random_serial_number())
         .not_valid_before(now - datetime.timedelta(hours=1))
         .not_valid_after(now + datetime.timedelta(days=30))
         .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None),
                        critical=True))
    cert = b.sign(issuer_key or key, hashes.SHA256())
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    der = cert.public_bytes(serialization.Encoding.DER)
    return key, cert, pem, hashlib.sha256(der).hexdigest()


def all_pages(method, key, token_in, token_out, **kw):
    items = []
    pages = 0
    while True:
        r = method(**kw)
        items += r[key]
        pages += 1
        if not r.get(token_out):
            return items, pages
        kw[token_in] = r[token_out]


# ---- thing types -------------------------------------------------------
r = iot.create_thing_type(
    thingTypeName="sensor",
    thingTypeProperties={"thingTypeDescription": "a sensor",
                         "searchableAttributes": ["model"]})
ok(r["thingTypeArn"].endswith(":thingtype/sensor"), "thing type arn")
r = iot.describe_thing_type(thingTypeName="sensor")
ok(r["thingTypeProperties"]["thingTypeDescription"] == "a sensor",
   "thing type description")
ok(r["thingTypeMetadata"]["deprecated"] is False, "not deprecated")
ok(any(t["thingTypeName"] == "sensor"
       for t in iot.list_thing_types()["thingTypes"]), "list thing types")
expect_error("ResourceNotFoundException", iot.describe_thing_type,
             thingTypeName="nosuchtype")

# ---- things ------------------------------------------------------------
r = iot.create_thing(thingName="dev-1",
                     attributePayload={"attributes": {"model": "a"}})
ok(r["thingName"] == "dev-1" and len(r["thingId"]) == 36, "create thing")
r2 = iot.create_thing(thingName="dev-1",
                      attributePayload={"attributes": {"model": "a"}})
ok(r2["thingId"] == r["thingId"], "create thing is idempotent")
resp = expect_error("ResourceAlreadyExistsException", iot.create_thing,
                    thingName="dev-1",
                    attributePayload={"attributes": {"model": "b"}})
ok(resp.get("resourceId") == "dev-1" or
   "dev-1" in json.dumps(resp), "conflict names the thing")
d = iot.describe_thing(thingName="dev-1")
ok(d["attributes"] == {"model": "a"} and d["version"] == 1, "describe")
iot.update_thing(thingName="dev-1", thingTypeName="sensor",
                 attributePayload={"attributes": {"fw": "1"},
                                   "merge": True})
d = iot.describe_thing(thingName="dev-1")
ok(d["attributes"] == {"model": "a", "fw": "1"}, "merge attributes")
ok(d["version"] == 2 and d["thingTypeName"] == "sensor", "update")
expect_error("VersionConflictException", iot.update_thing,
             thingName="dev-1", expectedVersion=1,
             attributePayload={"attributes": {"fw": "2"}})
expect_error("InvalidRequestException", iot.create_thing,
             thingName="bad name!")
expect_error("ResourceNotFoundException", iot.describe_thing,
             thingName="nobody")
for i in range(2, 8):
    iot.create_thing(thingName="dev-%d" % i)
things, pages = all_pages(iot.list_things, "things", "nextToken",
                          "nextToken", maxResults=2)
ok(sorted(t["thingName"] for t in things) ==
   ["dev-%d" % i for i in range(1, 8)], "paged list has every thing once")
ok(pages == 4, "7 things in pages of 2 take 4 pages, got %d" % pages)
pag = iot.get_paginator("list_things")
ok(sum(len(p["things"]) for p in pag.paginate(PaginationConfig={
    "PageSize": 3})) == 7, "boto3 paginator")
ok([t["thingName"] for t in iot.list_things(
    thingTypeName="sensor")["things"]] == ["dev-1"], "filter by type")
iot.delete_thing(thingName="dev-7")
iot.delete_thing(thingName="dev-7")
expect_error("InvalidRequestException", iot.delete_thing_type,
             thingTypeName="sensor")

# ---- certificates ------------------------------------------------------
ss_key, ss_cert, ss_pem, ss_id = make_cert("self-signed device")
r = iot.register_certificate_without_ca(certificatePem=ss_pem,
                                        status="ACTIVE")
ok(r["certificateId"] == ss_id, "certificate id is the DER's SHA-256")
ss_arn = r["certificateArn"]
resp = expect_error("ResourceAlreadyExistsException",
                    iot.register_certificate_without_ca,
                    certificatePem=ss_pem)
ok(resp.get("resourceId") == ss_id, "conflict carries resourceId: %r" %
   {k: v for k, v in resp.items() if k != "ResponseMetadata"})
expect_error("CertificateValidationException",
             iot.register_certificate_without_ca,
             certificatePem="-----BEGIN CERTIFICATE-----\nAAAA\n"
             "-----END CERTIFICATE-----\n")
d = iot.describe_certificate(certificateId=ss_id)["certificateDescription"]
ok(d["status"] == "ACTIVE" and d["certificateMode"] == "SNI_ONLY",
   "describe certificate")
ok(d["certificatePem"].strip() == ss_pem.strip(), "certificate pem")
ok(isinstance(d["creationDate"], datetime.datetime), "dates parse")
expect_error("CertificateStateException", iot.delete_certificate,
             certificateId=ss_id)
expect_error("ResourceNotFoundException", iot.describe_certificate,
             certificateId="ab" * 32)

code = iot.get_registration_code()["registrationCode"]
ok(len(code) == 64 and code == iot.get_registration_code()[
    "registrationCode"], "registration code is stable")
ca_key, ca_cert, ca_pem, ca_id = make_cert("Test CA", is_ca=True)
_, _, bad_ver_pem, _ = make_cert("not the code", ca_key, ca_cert.subject)
expect_error("RegistrationCodeValidationException",
             iot.register_ca_certificate, caCertificate=ca_pem,
             verificationCertificate=bad_ver_pem)
_, _, ver_pem, _ = make_cert(code, ca_key, ca_cert.subject)
r = iot.register_ca_certificate(caCertificate=ca_pem,
                                verificationCertificate=ver_pem,
                                setAsActive=True, allowAutoRegistration=True)
ok(r["certificateId"] == ca_id, "CA id")
d = iot.describe_ca_certificate(certificateId=ca_id)
ok(d["certificateDescription"]["status"] == "ACTIVE", "CA active")
ok(d["certificateDescription"]["autoRegistrationStatus"] == "ENABLE",
   "CA auto-registration")
iot.update_ca_certificate(certificateId=ca_id,
                          newAutoRegistrationStatus="DISABLE")
d = iot.describe_ca_certificate(certificateId=ca_id)
ok(d["certificateDescription"]["autoRegistrationStatus"] == "DISABLE",
   "update CA")
ok(any(c["certificateId"] == ca_id
       for c in iot.list_ca_certificates()["certificates"]), "list CAs")
expect_error("ResourceAlreadyExistsException", iot.register_ca_certificate,
             caCertificate=ca_pem, verificationCertificate=ver_pem)

_, _, dev_pem, dev_id = make_cert("DEVICE01", ca_key, ca_cert.subject)
r = iot.register_certificate(certificatePem=dev_pem, caCertificatePem=ca_pem,
                             status="ACTIVE")
dev_arn = r["certificateArn"]
ok(r["certificateId"] == dev_id, "register with CA")
by_ca = iot.list_certificates_by_ca(caCertificateId=ca_id)["certificates"]
ok([c["certificateId"] for c in by_ca] == [dev_id], "list by CA")
certs, pages = all_pages(iot.list_certificates, "certificates", "marker",
                         "nextMarker", pageSize=1)
# The broker of `thingcore up` registered its operator certificate too.
op_der = x509.load_pem_x509_certificate(
    open(os.path.join(os.environ["THINGCORE_DATA_DIR"], "operator",
                      "operator.pem"), "rb").read()).public_bytes(
    serialization.Encoding.DER)
op_id = hashlib.sha256(op_der).hexdigest()
ok(sorted(c["certificateId"] for c in certs) ==
   sorted([ss_id, dev_id, op_id]), "paged certificate list")
ok(pages == 3, "three certificates in pages of 1")
iot.update_certificate(certificateId=ss_id, newStatus="INACTIVE")
ok(iot.describe_certificate(certificateId=ss_id)["certificateDescription"][
    "status"] == "INACTIVE", "update certificate")
iot.update_certificate(certificateId=ss_id, newStatus="REVOKED")
expect_error("CertificateStateException", iot.update_certificate,
             certificateId=ss_id, newStatus="ACTIVE")
expect_error("InvalidRequestException", iot.update_certificate,
             certificateId=ss_id, newStatus="SOMETHING")

# ---- policies ----------------------------------------------------------
doc = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Action": "iot:Connect",
    "Resource": "arn:aws:iot:*:*:client/${iot:Connection.Thing.ThingName}"}]})
r = iot.create_policy(policyName="Kit_Policy", policyDocument=doc)
ok(r["policyVersionId"] == "1", "policy version 1")
pol_arn = r["policyArn"]
expect_error("ResourceAlreadyExistsException", iot.create_policy,
             policyName="Kit_Policy", policyDocument=doc)
expect_error("MalformedPolicyException", iot.create_policy,
             policyName="Broken", policyDocument="{not json")
ok(iot.get_policy(policyName="Kit_Policy")["defaultVersionId"] == "1",
   "get policy")
for v in range(2, 6):
    r = iot.create_policy_version(policyName="Kit_Policy",
                                  policyDocument=doc,
                                  setAsDefault=(v == 3))
    ok(r["policyVersionId"] == str(v), "version %d" % v)
expect_error("VersionsLimitExceededException", iot.create_policy_version,
             policyName="Kit_Policy", policyDocument=doc)
vs = iot.list_policy_versions(policyName="Kit_Policy")["policyVersions"]
ok(len(vs) == 5 and [v["versionId"] for v in vs if v["isDefaultVersion"]]
   == ["3"], "list versions, default 3")
ok(iot.get_policy_version(policyName="Kit_Policy", policyVersionId="2")[
    "isDefaultVersion"] is False, "get version")
iot.set_default_policy_version(policyName="Kit_Policy", policyVersionId="5")
expect_error("DeleteConflictException", iot.delete_policy_version,
             policyName="Kit_Policy", policyVersionId="5")
for v in ("1", "2", "3", "4"):
    iot.delete_policy_version(policyName="Kit_Policy", policyVersionId=v)
expect_error("ResourceNotFoundException", iot.get_policy_version,
             policyName="Kit_Policy", policyVersionId="1")
ok(sorted(p["policyName"] for p in iot.list_policies()["policies"]) ==
   ["Kit_Policy", "thingcore-operator"], "list policies")

iot.attach_policy(policyName="Kit_Policy", target=dev_arn)
ok([p["policyName"] for p in iot.list_attached_policies(
    target=dev_arn)["policies"]] == ["Kit_Policy"], "attached policies")
ok(iot.list_targets_for_policy(policyName="Kit_Policy")["targets"] ==
   [dev_arn], "targets for policy")
expect_error("DeleteConflictException", iot.delete_policy,
             policyName="Kit_Policy")

# ---- thing principals --------------------------------------------------
iot.attach_thing_principal(thingName="dev-1", principal=dev_arn)
ok(iot.list_thing_principals(thingName="dev-1")["principals"] == [dev_arn],
   "thing principals")
ok(iot.list_principal_things(principal=dev_arn)["things"] == ["dev-1"],
   "principal things")
expect_error("InvalidRequestException", iot.delete_thing, thingName="dev-1")
iot.update_certificate(certificateId=dev_id, newStatus="INACTIVE")
expect_error("DeleteConflictException", iot.delete_certificate,
             certificateId=dev_id)
iot.detach_thing_principal(thingName="dev-1", principal=dev_arn)
ok(iot.list_thing_principals(thingName="dev-1")["principals"] == [],
   "detached")
iot.detach_policy(policyName="Kit_Policy", target=dev_arn)
ok(iot.list_targets_for_policy(policyName="Kit_Policy")["targets"] == [],
   "policy detached")

# ---- endpoint and provisioning templates -------------------------------
ok(iot.describe_endpoint(endpointType="iot:Data-ATS")["endpointAddress"] ==
   "localhost", "endpoint is this core's MQTT host")
expect_error("InvalidRequestException", iot.describe_endpoint,
             endpointType="iot:CredentialProvider")
body = json.dumps({
    "Parameters": {"AWS::IoT::Certificate::CommonName": {"Type": "String"},
                   "AWS::IoT::Certificate::Id": {"Type": "String"}},
    "Resources": {
        "thing": {"Type": "AWS::IoT::Thing", "Properties": {
            "ThingName": {"Ref": "AWS::IoT::Certificate::CommonName"}}},
        "certificate": {"Type": "AWS::IoT::Certificate", "Properties": {
            "CertificateId": {"Ref": "AWS::IoT::Certificate::Id"},
            "Status": "ACTIVE"}}}})
role = "arn:aws:iam::123456789012:role/JITPRole"
r = iot.create_provisioning_template(templateName="jitp1",
                                     templateBody=body,
                                     provisioningRoleArn=role,
                                     enabled=True, type="JITP")
ok(r["templateName"] == "jitp1", "create template")
expect_error("ResourceAlreadyExistsException",
             iot.create_provisioning_template, templateName="jitp1",
             templateBody=body, provisioningRoleArn=role)
t = iot.describe_provisioning_template(templateName="jitp1")
ok(t["type"] == "JITP" and t["enabled"] is True and
   json.loads(t["templateBody"]) == json.loads(body), "describe template")
ok([x["templateName"] for x in iot.list_provisioning_templates()[
    "templates"]] == ["jitp1"], "list templates")
iot.delete_provisioning_template(templateName="jitp1")
expect_error("ResourceNotFoundException",
             iot.describe_provisioning_template, templateName="jitp1")

# ---- deletions ---------------------------------------------------------
iot.delete_certificate(certificateId=dev_id)
iot.delete_certificate(certificateId=ss_id)
expect_error("CertificateStateException", iot.delete_ca_certificate,
             certificateId=ca_id)
iot.update_ca_certificate(certificateId=ca_id, newStatus="INACTIVE")
iot.delete_ca_certificate(certificateId=ca_id)
expect_error("ResourceNotFoundException", iot.describe_ca_certificate,
             certificateId=ca_id)
iot.delete_policy(policyName="Kit_Policy")
iot.delete_thing(thingName="dev-1")
iot.deprecate_thing_type(thingTypeName="sensor")
iot.delete_thing_type(thingTypeName="sensor")

# ---- a wrong secret is refused -----------------------------------------
bad = boto3.client("iot", endpoint_url=URL,
                   aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
                   aws_secret_access_key="x" * 40)
expect_error("UnauthorizedException", bad.list_things)
ok(all(t["thingName"] != "evil" for t in iot.list_things()["things"]),
   "still consistent")
print("boto3: %d checks passed" % checks)
