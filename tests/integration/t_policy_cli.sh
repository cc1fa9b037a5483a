#!/bin/sh
# thingcore policy from the command line, with the build's own binary:
# Allow and Deny with their exit statuses and the deciding statement,
# malformed and oversized documents with their messages, usage errors.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
tc="${TC_BUILD:?TC_BUILD must name the build folder}/thingcore"
vec="$top/tests/vectors/policy"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
sn=0123ABCDEF01234567

# expect STATUS PATTERN COMMAND...: the status and a line of the output.
expect() {
    want=$1
    pattern=$2
    shift 2
    "$@" >"$tmp/out" 2>&1
    got=$?
    if [ "$got" -ne "$want" ]; then
        echo "FAIL: exit $got, want $want: $*"
        sed 's/^/    /' "$tmp/out"
        fails=$((fails + 1))
    elif ! grep -q -- "$pattern" "$tmp/out"; then
        echo "FAIL: no '$pattern' in the output of: $*"
        sed 's/^/    /' "$tmp/out"
        fails=$((fails + 1))
    fi
}

kit="$vec/kit_policy.json"
dev="--client-id $sn --thing $sn"

# Kit_Policy: the thing's own topics, another thing's, shadow topics.
expect 0 "^Allow" "$tc" policy check --policy "$kit" $dev \
    --action iot:Publish --topic "$sn/hello"
expect 0 "kit_policy.json statement 1: Allow iot:Publish" "$tc" policy check \
    --policy "$kit" $dev --action iot:Publish --topic "$sn/hello"
expect 3 "^Deny" "$tc" policy check --policy "$kit" $dev \
    --action iot:Publish --topic "0123ABCDEF01234568/hello"
expect 3 "(default deny)" "$tc" policy check --policy "$kit" $dev \
    --action publish --topic "0123ABCDEF01234568/hello"
expect 0 "^Allow" "$tc" policy check --policy "$kit" $dev \
    --action subscribe --topic "\$aws/things/$sn/shadow/#"
expect 0 "^Allow" "$tc" policy check --policy "$kit" $dev --action connect
expect 3 "^Deny" "$tc" policy check --policy "$kit" $dev --not-attached \
    --action connect
expect 3 "^Deny" "$tc" policy check --policy "$kit" $dev \
    --action iot:RetainPublish --topic "$sn/x"

# An explicit Deny names its policy, statement and Sid.
expect 3 "statement 1 (Sid \"NoSecrets\"): explicit Deny" "$tc" policy check \
    --policy "$kit" --policy "$vec/deny_secret.json" --client-id c1 \
    --action iot:Publish --topic secret/k
expect 0 "deny_secret.json statement 0 (Sid \"Everything\")" "$tc" policy \
    check --policy "$vec/deny_secret.json" --client-id c1 \
    --action iot:Publish --topic open/k

# Client ID "+" is not substituted into topicfilter/my/${iot:ClientId}.
expect 3 "^Deny" "$tc" policy check --policy "$vec/clientid_filter.json" \
    --client-id + --action iot:Subscribe --topic "my/+"
expect 0 "^Allow" "$tc" policy check --policy "$vec/clientid_filter.json" \
    --client-id dev1 --action iot:Subscribe --topic "my/dev1"

# Conditions evaluated on the connection context.
cond="$vec/conditions.json"
expect 0 "^Allow" "$tc" policy check --policy "$cond" $dev \
    --subject OrganizationalUnit=sensors \
    --issuer "Organization=Microchip Technology Inc" \
    --source-ip 10.2.3.4 --action connect
expect 3 "^Deny" "$tc" policy check --policy "$cond" $dev \
    --subject OrganizationalUnit=sensors \
    --issuer "Organization=Microchip Technology Inc" \
    --source-ip 192.0.2.1 --action connect
expect 0 "^Allow" "$tc" policy check --policy "$cond" $dev \
    --attr room=kitchen --action receive --topic rooms/kitchen/t
expect 3 "^Deny" "$tc" policy check --policy "$cond" $dev \
    --action receive --topic rooms/kitchen/t

# Validation: good, malformed, invalid JSON, oversized, unreadable.
expect 0 "kit_policy.json: ok" "$tc" policy validate "$kit" \
    "$vec/deny_secret.json"
expect 1 "Effect must be \"Allow\" or \"Deny\" (line 5, column 17)" \
    "$tc" policy validate "$vec/malformed_effect.json"
expect 1 "Statement\[0\].Effect:" "$tc" policy validate \
    "$vec/malformed_effect.json"
expect 1 "not valid JSON at line 5, column 3" "$tc" policy validate \
    "$vec/malformed_json.json"
expect 1 "malformed_effect.json: Policy document is malformed" "$tc" policy \
    check --policy "$vec/malformed_effect.json" --client-id c1 \
    --action connect
{
    printf '{"Version":"2012-10-17","Statement":{"Effect":"Allow",'
    printf '"Action":"iot:Connect","Resource":"arn:aws:iot:r:a:client/'
    head -c 2100 /dev/zero | tr '\0' x
    printf '"}}\n'
} >"$tmp/long.json"
expect 1 "characters excluding white space; the limit of 2048" "$tc" policy \
    validate "$tmp/long.json"
expect 1 "cannot open" "$tc" policy validate "$tmp/missing.json"

# Usage errors and help.
expect 2 "usage: thingcore policy check" "$tc" policy check --policy "$kit"
expect 2 "unknown action 'iot:Fly'" "$tc" policy check --policy "$kit" \
    --client-id c1 --action iot:Fly --topic t
expect 2 "needs --topic" "$tc" policy check --policy "$kit" --client-id c1 \
    --action publish
expect 2 "--attr needs NAME=VALUE" "$tc" policy check --policy "$kit" \
    --client-id c1 --attr novalue --action connect
expect 2 "usage: thingcore policy validate" "$tc" policy validate
expect 0 "Exit status: 0 Allow, 3 Deny" "$tc" policy check --help
expect 0 "check " "$tc" policy --help
expect 0 "Kit_Policy" "$tc" policy kit --help
expect 2 "region and account" "$tc" policy kit --region "a:b"

if [ "$fails" -ne 0 ]; then
    echo "$fails policy CLI checks failed"
    exit 1
fi
echo "policy CLI: all checks passed"
