#!/bin/sh
# Appends WIF_TOKEND_REASON to RUN_LOG, then fails on the runs listed in
# FAILING_RUNS (such as "1 3"), and on the others prints an OAuth 2 response
# with PREFIX-N expiring in EXPIRES_IN seconds.
#   usage: fail-then-succeed.sh RUN_LOG FAILING_RUNS PREFIX EXPIRES_IN
printf '%s\n' "$WIF_TOKEND_REASON" >> "$1"
runs=$(wc -l < "$1")
for failing in $2; do
  if [ "$failing" = "$runs" ]; then
    echo "run $runs fails on purpose" >&2
    exit 1
  fi
done
printf '{"access_token":"%s-%s","expires_in":%s}\n' "$3" "$runs" "$4"
