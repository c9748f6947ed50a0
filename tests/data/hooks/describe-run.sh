#!/bin/sh
# Writes what the command was started with to OUT_FILE: its environment as
# execve(2) gave it, umask, working folder, standard input, process group and
# session, and whether descriptor FD was inherited; then prints TOKEN.
#   usage: describe-run.sh OUT_FILE FD TOKEN
out=$1
fd=$2
token=$3
stat=$(cat /proc/$$/stat)
# Fields after "(comm) ": state ppid pgrp session ...
set -- ${stat##*) }
{
  echo "umask $(umask)"
  echo "cwd $(pwd)"
  echo "stdin $(readlink /proc/$$/fd/0)"
  echo "pid $$"
  echo "pgid $3"
  echo "sid $4"
  if [ -e "/proc/$$/fd/$fd" ]; then echo "fd_inherited yes"; else echo "fd_inherited no"; fi
  echo "environment:"
  tr '\0' '\n' < /proc/$$/environ
} > "$out.tmp"
mv "$out.tmp" "$out"
printf '%s\n' "$token"
