#!/bin/sh
# Appends one line per run to RUN_LOG, then prints TOKEN in an IAM response
# that expired long ago.   usage: expired.sh RUN_LOG TOKEN
printf '%s\n' "$(date +%s.%N)" >> "$1"
printf '{"accessToken":"%s","expireTime":"2001-01-01T00:00:00Z"}\n' "$2"
