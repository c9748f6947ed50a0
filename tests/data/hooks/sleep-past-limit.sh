#!/bin/sh
# Ignores SIGTERM, starts a helper that ignores it too, writes "PID
# HELPER_PID" to PID_FILE, prints TOKEN (when given) and sleeps far past any
# time limit: only SIGKILL to the whole process group ends both.
#   usage: sleep-past-limit.sh PID_FILE [TOKEN]
trap '' TERM
sleep 300 &
printf '%s %s\n' "$$" "$!" > "$1.tmp"
mv "$1.tmp" "$1"
if [ -n "$2" ]; then
  printf '%s\n' "$2"
fi
wait
