#!/usr/bin/env bash
# Soak run (issue #7), not part of the tests: SOAK_SECONDS (600) of mixed
# keep-alive and new-connection load on loopback against the daemon of
# BUILD_DIR, while the token file is replaced every 100 ms and the
# certificate and key are swapped (RSA and ECDSA in turn) and reloaded with
# SIGHUP every 5 s. Reports every request's
# fate and the daemon's resident memory over time; exits non-zero if any
# request failed. Everything runs in a temporary folder and is stopped by
# PID at the end.
#
#   bench/soak.sh [BUILD_DIR]     default BUILD_DIR: build
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$root/build}
seconds=${SOAK_SECONDS:-600}
binary=$build/src/wif-tokend
[[ -x $binary ]] || { echo "soak: build first ($binary is missing)" >&2; exit 2; }

work=$(mktemp -d /tmp/wif-soak.XXXXXX)
daemon=""
cleanup() {
  if [[ -n $daemon ]] && kill -0 "$daemon" 2>/dev/null; then
    kill -TERM "$daemon"
    wait "$daemon" || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

"$root/scripts/make-pki.sh" "$work/pki"
echo "soak-0" >"$work/wif_token.txt"
# The served pair, which soak.py swaps between the RSA and the ECDSA one.
cp -p "$work/pki/server.crt" "$work/pki/server.key" "$work/"
cat >"$work/wif-tokend.yaml" <<YAML
listen: "127.0.0.1:0"
workers: 2
tls:
  cert: $work/server.crt
  key: $work/server.key
  client_ca: $work/pki/ca-chain.crt
  # Reloads come from soak.py's SIGHUPs only, one per swap of the pair.
  reload_on_change: false
tokens:
  wif:
    source: {type: file, path: $work/wif_token.txt}
metrics: {listen: "127.0.0.1:0"}
log: {level: info}
YAML

"$binary" --config "$work/wif-tokend.yaml" 2>"$work/daemon.log" &
daemon=$!
port=""
for _ in $(seq 100); do
  port=$(sed -n 's/.*event=listening listener=mtls addr=[^ ]*:\([0-9]*\).*/\1/p' "$work/daemon.log")
  [[ -n $port ]] && break
  kill -0 "$daemon" || { cat "$work/daemon.log"; exit 1; }
  sleep 0.1  # polling the log for the port, bounded above
done
[[ -n $port ]] || { echo "soak: the daemon did not start listening" >&2; exit 1; }

echo "soak: daemon $daemon on 127.0.0.1:$port for $seconds s"
status=0
set -o pipefail
WIF_TEST_PKI=$work/pki /usr/bin/python3 "$root/bench/soak.py" "$daemon" "$port" \
  "$work/wif_token.txt" "$seconds" "$work" | tee "$work/soak.out" || status=$?
applied=$(grep -c 'event=reload_applied' "$work/daemon.log" || true)
rejected=$(grep -c 'event=reload_rejected' "$work/daemon.log" || true)
echo "soak: reloads applied: $applied, rejected: $rejected"
# Every SIGHUP swapped the pair, so every one must have been applied.
sent=$(sed -n 's/.*certificate reloads: \([0-9]*\).*/\1/p' "$work/soak.out")
if [[ $applied != "$sent" || $rejected != 0 ]]; then
  echo "soak: expected $sent reloads applied and none rejected"
  status=1
fi
kill -TERM "$daemon"
wait "$daemon" && echo "soak: the daemon exited 0" || { echo "soak: the daemon exited $?"; status=1; }
daemon=""
exit $status
