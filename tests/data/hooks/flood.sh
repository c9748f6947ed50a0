#!/bin/sh
# Prints TOKEN, then BYTES more bytes on the stream STREAM (1: standard
# output, 2: standard error).   usage: flood.sh TOKEN BYTES STREAM
printf '%s\n' "$1"
if [ "$3" = 2 ]; then
  head -c "$2" /dev/zero | tr '\0' e >&2
else
  head -c "$2" /dev/zero | tr '\0' o
fi
