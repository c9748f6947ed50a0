#!/bin/sh
# Prints TOKEN on standard output and a line on standard error, then exits
# with STATUS: output that must never be served nor logged.
#   usage: fail.sh TOKEN STATUS
printf '%s\n' "$1"
echo "fail.sh: giving up with status $2" >&2
exit "$2"
