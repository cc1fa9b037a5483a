#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Requests with no signature, a wrong secret, an unknown key, an old or
# future date, a tampered body, another region or service, an oversized
# body and bad JSON are refused with the AWS error and change nothing
# (api_auth.py). Plain HTTP is refused off loopback.
set -u
. "$(dirname "$0")/api_lib.sh"
"$PY" -c 'import botocore' 2>/dev/null || { echo "no botocore"; exit 77; }
start_core
"$PY" "$top/tests/integration/api_auth.py" || fail "api_auth.py"
grep -q "UnauthorizedException" "$dir/core.err" ||
    fail "refusals are not logged"

# Plain HTTP only on loopback; the refusal names the reason.
if "$tc" api --data "$dir/data" --http --bind 0.0.0.0 --port "$(free_port)" \
    >"$dir/http.out" 2>&1; then
    fail "plain HTTP on 0.0.0.0 was accepted"
fi
grep -q "loopback" "$dir/http.out" || fail "no reason: $(cat "$dir/http.out")"

# A data directory that does not exist is reported, not created, by api.
"$tc" api --data "$dir/none" >"$dir/none.out" 2>&1 &&
    fail "api started without a data directory"
[ -e "$dir/none" ] && fail "api created a data directory"
finish
