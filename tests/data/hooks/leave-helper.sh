#!/bin/sh
# Starts a helper in its own group that keeps standard output open, or one in
# this group that does not (MODE "escape" or "stay"), writes the helper's PID
# to PID_FILE, prints TOKEN and exits 0 at once.
#   usage: leave-helper.sh MODE PID_FILE TOKEN
if [ "$1" = escape ]; then
  setsid sleep 300 &
  # Exit only once the helper has left this group, or the group's SIGKILL
  # at exit could still reach it.
  while [ "$(cut -d' ' -f5 "/proc/$!/stat")" = "$$" ]; do :; done
else
  sleep 300 > /dev/null 2>&1 &
fi
printf '%s\n' "$!" > "$2.tmp"
mv "$2.tmp" "$2"
printf '%s\n' "$3"
