#!/bin/sh
# Sleeps SECONDS (fractions allowed), then prints TOKEN as plain text.
#   usage: slow.sh SECONDS TOKEN
sleep "$1"
printf '%s\n' "$2"
