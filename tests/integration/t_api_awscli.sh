#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The real aws command (Debian's awscli) drives every control-plane
# operation of a running `thingcore up` over HTTPS with SigV4, with the
# CA bundle and keys from `thingcore env`, error cases included.
# Certificates come from the openssl command.
set -u
. "$(dirname "$0")/api_lib.sh"
[ -x "$AWS" ] || { echo "no /usr/bin/aws"; exit 77; }
command -v openssl >/dev/null 2>&1 || { echo "no openssl"; exit 77; }
start_core

a() {
    "$AWS" iot --endpoint-url "$THINGCORE_ENDPOINT_URL" --output text "$@"
}
# q QUERY ARGS...: one value by JMESPath.
q() {
    query=$1
    shift
    a --query "$query" "$@"
}
# err CODE ARGS...: the call must fail with that AWS error code.
err() {
    code=$1
    shift
    if a "$@" >"$dir/out" 2>"$dir/errout"; then
        fail "aws iot $*: expected $code, succeeded"
    fi
    grep -q "($code)" "$dir/errout" ||
        fail "aws iot $*: expected $code, got: $(cat "$dir/errout")"
}
eq() {
    [ "$1" = "$2" ] || fail "$3: '$1' != '$2'"
}

# Thing types.
a create-thing-type --thing-type-name sensor \
    --thing-type-properties thingTypeDescription=probe >/dev/null ||
    fail create-thing-type
eq "$(q thingTypeProperties.thingTypeDescription describe-thing-type \
    --thing-type-name sensor)" probe describe-thing-type
eq "$(q 'thingTypes[].thingTypeName' list-thing-types)" sensor \
    list-thing-types
err ResourceNotFoundException describe-thing-type --thing-type-name none

# Things, with pagination done by the aws command itself.
eq "$(q thingName create-thing --thing-name d1 \
    --attribute-payload 'attributes={model=a}')" d1 create-thing
err ResourceAlreadyExistsException create-thing --thing-name d1 \
    --attribute-payload 'attributes={model=b}'
err InvalidRequestException create-thing --thing-name 'bad/name'
a update-thing --thing-name d1 --thing-type-name sensor ||
    fail update-thing
eq "$(q version describe-thing --thing-name d1)" 2 describe-thing
eq "$(q thingTypeName describe-thing --thing-name d1)" sensor \
    describe-thing type
err VersionConflictException update-thing --thing-name d1 \
    --expected-version 1 --remove-thing-type
for i in 2 3 4 5; do
    a create-thing --thing-name "d$i" >/dev/null || fail "create d$i"
done
before=$(grep -c "ListThings 200" "$dir/core.err")
eq "$(q 'things[].thingName' list-things --page-size 2 | wc -w)" 5 \
    list-things
after=$(grep -c "ListThings 200" "$dir/core.err")
eq $((after - before)) 3 "list-things in pages of 2"
err ResourceNotFoundException describe-thing --thing-name none
a delete-thing --thing-name d5 || fail delete-thing

# Certificates and CA certificates.
openssl ecparam -name prime256v1 -genkey -noout -out "$dir/ss.key" 2>/dev/null
openssl req -new -x509 -key "$dir/ss.key" -subj /CN=selfsigned -days 30 \
    -out "$dir/ss.pem" 2>/dev/null || fail "openssl self-signed"
ss_id=$(openssl x509 -in "$dir/ss.pem" -outform DER | sha256sum | cut -c1-64)
eq "$(q certificateId register-certificate-without-ca \
    --certificate-pem "file://$dir/ss.pem" --status ACTIVE)" "$ss_id" \
    register-certificate-without-ca
err ResourceAlreadyExistsException register-certificate-without-ca \
    --certificate-pem "file://$dir/ss.pem"
eq "$(q certificateDescription.status describe-certificate \
    --certificate-id "$ss_id")" ACTIVE describe-certificate
err CertificateStateException delete-certificate --certificate-id "$ss_id"

code=$(q registrationCode get-registration-code)
[ ${#code} -eq 64 ] || fail "registration code '$code'"
openssl ecparam -name prime256v1 -genkey -noout -out "$dir/ca.key" 2>/dev/null
openssl req -new -x509 -key "$dir/ca.key" -subj /CN=TestCA -days 30 \
    -addext basicConstraints=critical,CA:TRUE -out "$dir/ca.pem" \
    2>/dev/null || fail "openssl CA"
ca_id=$(openssl x509 -in "$dir/ca.pem" -outform DER | sha256sum | cut -c1-64)
sign() { # sign CN OUT: a certificate for a new key, issued by the CA
    openssl ecparam -name prime256v1 -genkey -noout -out "$2.key" 2>/dev/null
    openssl req -new -key "$2.key" -subj "/CN=$1" -out "$2.csr" 2>/dev/null
    openssl x509 -req -in "$2.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
        -CAcreateserial -days 30 -out "$2" 2>/dev/null || fail "sign $1"
}
sign wrongcode "$dir/bad-ver.pem"
sign "$code" "$dir/ver.pem"
err RegistrationCodeValidationException register-ca-certificate \
    --ca-certificate "file://$dir/ca.pem" \
    --verification-certificate "file://$dir/bad-ver.pem"
eq "$(q certificateId register-ca-certificate \
    --ca-certificate "file://$dir/ca.pem" \
    --verification-certificate "file://$dir/ver.pem" --set-as-active \
    --allow-auto-registration)" "$ca_id" register-ca-certificate
eq "$(q certificateDescription.autoRegistrationStatus \
    describe-ca-certificate --certificate-id "$ca_id")" ENABLE \
    describe-ca-certificate
a update-ca-certificate --certificate-id "$ca_id" \
    --new-auto-registration-status DISABLE || fail update-ca-certificate
eq "$(q 'certificates[].certificateId' list-ca-certificates)" "$ca_id" \
    list-ca-certificates
sign DEVICE01 "$dir/dev.pem"
dev_id=$(openssl x509 -in "$dir/dev.pem" -outform DER | sha256sum |
    cut -c1-64)
dev_arn=$(q certificateArn register-certificate \
    --certificate-pem "file://$dir/dev.pem" \
    --ca-certificate-pem "file://$dir/ca.pem" --status ACTIVE)
case $dev_arn in
*":cert/$dev_id") ;;
*) fail "register-certificate arn '$dev_arn'" ;;
esac
eq "$(q 'certificates[].certificateId' list-certificates-by-ca \
    --ca-certificate-id "$ca_id")" "$dev_id" list-certificates-by-ca
# --page-size is the model's own pageSize here, so the aws command does
# not follow markers itself: follow nextMarker by hand. The broker of
# `thingcore up` registered its operator certificate: three in all.
op_id=$(openssl x509 -in "$dir/data/operator/operator.pem" -outform DER |
    sha256sum | cut -c1-64)
first=$(q 'certificates[0].certificateId' list-certificates --page-size 1)
marker=$(q nextMarker list-certificates --page-size 1)
[ -n "$marker" ] && [ "$marker" != None ] || fail "no nextMarker"
second=$(q 'certificates[0].certificateId' list-certificates --page-size 1 \
    --marker "$marker")
marker=$(q nextMarker list-certificates --page-size 1 --marker "$marker")
third=$(q 'certificates[0].certificateId' list-certificates --page-size 1 \
    --marker "$marker")
[ "$(printf '%s\n%s\n%s\n' "$first" "$second" "$third" | sort)" = \
    "$(printf '%s\n%s\n%s\n' "$ss_id" "$dev_id" "$op_id" | sort)" ] ||
    fail "list-certificates pages: $first $second $third"
eq "$(q nextMarker list-certificates --page-size 1 --marker "$marker")" \
    None "last page has no marker"
a update-certificate --certificate-id "$ss_id" --new-status INACTIVE ||
    fail update-certificate

# Policies and versions.
cat >"$dir/policy.json" <<'JSON'
{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
 "Action": "iot:Connect", "Resource": "arn:aws:iot:*:*:client/*"}]}
JSON
eq "$(q policyVersionId create-policy --policy-name P1 \
    --policy-document "file://$dir/policy.json")" 1 create-policy
err ResourceAlreadyExistsException create-policy --policy-name P1 \
    --policy-document "file://$dir/policy.json"
err MalformedPolicyException create-policy --policy-name P2 \
    --policy-document '{"Statement": 5}'
for v in 2 3 4 5; do
    a create-policy-version --policy-name P1 \
        --policy-document "file://$dir/policy.json" >/dev/null ||
        fail "create-policy-version $v"
done
err VersionsLimitExceededException create-policy-version --policy-name P1 \
    --policy-document "file://$dir/policy.json"
eq "$(q 'length(policyVersions)' list-policy-versions --policy-name P1)" 5 \
    list-policy-versions
a set-default-policy-version --policy-name P1 --policy-version-id 4 ||
    fail set-default-policy-version
eq "$(q defaultVersionId get-policy --policy-name P1)" 4 get-policy
eq "$(q isDefaultVersion get-policy-version --policy-name P1 \
    --policy-version-id 4)" True get-policy-version
err DeleteConflictException delete-policy-version --policy-name P1 \
    --policy-version-id 4
a delete-policy-version --policy-name P1 --policy-version-id 1 ||
    fail delete-policy-version
# with the operator policy of the broker
eq "$(q 'policies[].policyName' list-policies | tr '\t' ' ')" \
    "P1 thingcore-operator" list-policies
a attach-policy --policy-name P1 --target "$dev_arn" || fail attach-policy
eq "$(q 'policies[].policyName' list-attached-policies --target "$dev_arn")" \
    P1 list-attached-policies
eq "$(q 'targets[0]' list-targets-for-policy --policy-name P1)" "$dev_arn" \
    list-targets-for-policy
err DeleteConflictException delete-policy --policy-name P1

# Thing principals.
a attach-thing-principal --thing-name d1 --principal "$dev_arn" ||
    fail attach-thing-principal
eq "$(q 'principals[0]' list-thing-principals --thing-name d1)" "$dev_arn" \
    list-thing-principals
eq "$(q 'things[0]' list-principal-things --principal "$dev_arn")" d1 \
    list-principal-things
a update-certificate --certificate-id "$dev_id" --new-status INACTIVE ||
    fail "deactivate device"
err DeleteConflictException delete-certificate --certificate-id "$dev_id"
a detach-thing-principal --thing-name d1 --principal "$dev_arn" ||
    fail detach-thing-principal
a detach-policy --policy-name P1 --target "$dev_arn" || fail detach-policy

# Endpoint and provisioning templates.
eq "$(q endpointAddress describe-endpoint --endpoint-type iot:Data-ATS)" \
    localhost describe-endpoint
cat >"$dir/tmpl.json" <<'JSON'
{"Parameters": {"AWS::IoT::Certificate::CommonName": {"Type": "String"}},
 "Resources": {"thing": {"Type": "AWS::IoT::Thing", "Properties":
 {"ThingName": {"Ref": "AWS::IoT::Certificate::CommonName"}}}}}
JSON
eq "$(q templateName create-provisioning-template --template-name jitp \
    --template-body "file://$dir/tmpl.json" --type JITP --enabled \
    --provisioning-role-arn arn:aws:iam::123456789012:role/Prov)" jitp \
    create-provisioning-template
eq "$(q type describe-provisioning-template --template-name jitp)" JITP \
    describe-provisioning-template
eq "$(q 'templates[].templateName' list-provisioning-templates)" jitp \
    list-provisioning-templates
a delete-provisioning-template --template-name jitp ||
    fail delete-provisioning-template
err ResourceNotFoundException describe-provisioning-template \
    --template-name jitp

# Deletions.
a delete-certificate --certificate-id "$dev_id" || fail delete-certificate
a delete-certificate --certificate-id "$ss_id" || fail "delete self-signed"
a update-ca-certificate --certificate-id "$ca_id" --new-status INACTIVE ||
    fail "deactivate CA"
a delete-ca-certificate --certificate-id "$ca_id" || fail delete-ca-certificate
for v in 2 3 5; do
    a delete-policy-version --policy-name P1 --policy-version-id $v ||
        fail "delete-policy-version $v"
done
a delete-policy --policy-name P1 || fail delete-policy
for i in 1 2 3 4; do
    a delete-thing --thing-name "d$i" || fail "delete d$i"
done
a deprecate-thing-type --thing-type-name sensor || fail deprecate-thing-type
a delete-thing-type --thing-type-name sensor || fail delete-thing-type
eq "$(q 'length(things)' list-things)" 0 "everything deleted"

# A wrong secret is refused.
AWS_SECRET_ACCESS_KEY=wrongwrongwrongwrongwrongwrongwrongwrong \
    err UnauthorizedException list-things
finish
