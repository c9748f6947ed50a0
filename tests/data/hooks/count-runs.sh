#!/bin/sh
# Appends one line per run to RUN_LOG ("SECONDS.NANOS REASON"), then prints
# an OAuth 2 response whose token is PREFIX-N for the N-th run, expiring in
# EXPIRES_IN seconds.   usage: count-runs.sh RUN_LOG PREFIX EXPIRES_IN
printf '%s %s\n' "$(date +%s.%N)" "$WIF_TOKEND_REASON" >> "$1"
runs=$(wc -l < "$1")
printf '{"access_token":"%s-%s","expires_in":%s}\n' "$2" "$runs" "$3"
