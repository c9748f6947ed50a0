#!/bin/sh
# Prints TOKEN, then kills itself with SIGKILL.   usage: kill-self.sh TOKEN
printf '%s\n' "$1"
kill -KILL $$
