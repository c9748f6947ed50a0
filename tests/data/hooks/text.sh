#!/bin/sh
# Prints TOKEN as a plain-text payload.   usage: text.sh TOKEN
printf '%s\n' "$1"
