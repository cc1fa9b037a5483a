#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# boto3 (Debian's python3-boto3) drives every control-plane operation of
# a running `thingcore up` over HTTPS with SigV4, error cases included
# (api_boto3.py holds the calls and the expected results).
set -u
. "$(dirname "$0")/api_lib.sh"
"$PY" -c 'import boto3, cryptography' 2>/dev/null ||
    { echo "no boto3 or cryptography for /usr/bin/python3"; exit 77; }
start_core
THINGCORE_DATA_DIR="$dir/data" "$PY" "$top/tests/integration/api_boto3.py" ||
    fail "api_boto3.py"
finish
