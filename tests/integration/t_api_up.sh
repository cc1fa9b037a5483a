#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# `thingcore up` creates the data directory once (secret shown once, keys
# 0600), `thingcore env` prints exports the aws command accepts, SIGINT
# and SIGTERM stop it with status 0, and a restart keeps every object.
set -u
. "$(dirname "$0")/api_lib.sh"
[ -x "$AWS" ] || { echo "no /usr/bin/aws"; exit 77; }
start_core --region eu-west-3
grep -q "secret key" "$dir/core.out" || fail "first run does not show the secret"
for f in credentials ca/ca.key api/server.key; do
    [ "$(stat -c %a "$dir/data/$f")" = 600 ] || fail "$f is not 0600"
done
[ "$(stat -c %a "$dir/data")" = 700 ] || fail "data directory not 0700"
eq() { [ "$1" = "$2" ] || fail "$3: '$1' != '$2'"; }
eq "$AWS_DEFAULT_REGION" eu-west-3 "region from --region"
eq "$AWS_CA_BUNDLE" "$dir/data/ca/ca.pem" "CA bundle"
case $THINGCORE_ENDPOINT_URL in
"https://127.0.0.1:$port") ;;
*) fail "endpoint URL $THINGCORE_ENDPOINT_URL" ;;
esac
"$tc" env --data "$dir/data" | grep -q "^export AWS_SECRET_ACCESS_KEY='" ||
    fail "env does not quote values"
arn=$("$AWS" iot create-thing --thing-name keep1 --output text \
    --query thingArn --endpoint-url "$THINGCORE_ENDPOINT_URL") ||
    fail "create-thing"
case $arn in
arn:aws:iot:eu-west-3:*:thing/keep1) ;;
*) fail "ARN $arn does not carry the region" ;;
esac

# SIGINT stops it cleanly, like Ctrl-C.
kill -INT "$core_pid"
wait "$core_pid"
status=$?
core_pid=
eq "$status" 0 "exit status after SIGINT"
[ -e "$dir/data/api.url" ] && fail "api.url left behind"

# The second run keeps the key and the objects and shows no secret.
key=$AWS_ACCESS_KEY_ID
start_core
grep -q "secret key" "$dir/core.out" && fail "second run shows the secret"
eq "$AWS_ACCESS_KEY_ID" "$key" "access key kept"
eq "$("$AWS" iot describe-thing --thing-name keep1 --output text \
    --query thingArn --endpoint-url "$THINGCORE_ENDPOINT_URL")" "$arn" \
    "thing kept across restarts"

# A port in use is reported, not ignored.
if "$tc" api --data "$dir/data" --port "$port" >"$dir/busy.out" 2>&1; then
    fail "second server on the same port started"
fi
grep -q "cannot listen" "$dir/busy.out" || fail "$(cat "$dir/busy.out")"
stop_core
[ "$core_status" -eq 0 ] || fail "exit status after SIGTERM: $core_status"
grep -q "Sanitizer" "$dir/core.err" && fail "sanitizer report"
grep -q "$AWS_SECRET_ACCESS_KEY" "$dir/core.err" && fail "secret in the log"
echo ok
