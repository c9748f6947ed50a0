#!/usr/bin/env bash
# The main job, end to end, on the built-in defaults (no config file):
# a throwaway PKI shaped like the original Flask set-up, a token file, the
# daemon on 127.0.0.1, the original document's curl line and Python client,
# and the two refusals (no client certificate, a certificate from another
# CA). Exits 0 only if everything behaved.
#
#   scripts/demo.sh [--foreground] [--port N] [--no-setup] [--build-dir DIR]
#
#   --foreground  keep the daemon running afterwards (Ctrl-C stops it)
#   --port N      port on 127.0.0.1 (default 7001, as the original; 0: any)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$root/build
port=7001
foreground=0
setup=1
while (($#)); do
  case $1 in
    --foreground) foreground=1 ;;
    --port) port=$2; shift ;;
    --no-setup) setup=0 ;;
    --build-dir) build=$2; shift ;;
    *) echo "demo: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

if ((setup)); then
  echo "== setting up and building (scripts/setup.sh)"
  "$root/scripts/setup.sh" "$build"
fi

# The daemon binds with SO_REUSEPORT, so a second one on a busy port starts
# and shares the connections with whatever listens there: the demo would then
# fail for no visible reason. A plain bind fails while anyone listens.
if [[ $port != 0 ]] &&
  ! python3 -c 'import socket, sys; socket.socket().bind(("127.0.0.1", int(sys.argv[1])))' \
    "$port" 2>/dev/null; then
  echo "demo: 127.0.0.1:$port is in use by another process (another wif-tokend?);" \
    "stop it, or run scripts/demo.sh --port 0 for a free port" >&2
  exit 1
fi

demo=$(mktemp -d "${TMPDIR:-/tmp}/wif-tokend-demo.XXXXXX")
pid=
cleanup() {
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    wait "$pid" || true
  fi
  rm -rf "$demo"
}
trap cleanup EXIT

fail() { echo "demo: FAILED: $*" >&2; echo "--- daemon log" >&2; cat "$demo/wif-tokend.log" >&2; exit 1; }

echo "== a throwaway PKI in $demo (root CA -> intermediate -> server + client)"
"$root/scripts/make-pki.sh" "$demo" >/dev/null
token="demo.$(openssl rand -hex 24)"
printf '%s\n' "$token" >"$demo/wif_token.txt"

echo "== starting wif-tokend with no config file (the original's defaults)"
(
  cd "$demo"
  WIF_HOME=$demo WIF_TOKEND_LISTEN=127.0.0.1:$port exec "$build/src/wif-tokend"
) 2>"$demo/wif-tokend.log" &
pid=$!

# The address a listener logged it listens on (the real port when --port 0).
listening_addr() {
  sed -n "s/.*event=listening listener=$1 addr=\([^ ]*\).*/\1/p" "$demo/wif-tokend.log"
}
# Wait for both listening lines; the metrics listener's follows the mTLS one.
addr= metrics_addr=
for _ in $(seq 1 100); do
  addr=$(listening_addr mtls)
  metrics_addr=$(listening_addr metrics)
  [[ -n $addr && -n $metrics_addr ]] && break
  kill -0 "$pid" 2>/dev/null || fail "the daemon exited"
  sleep 0.1
done
[[ -n $addr && -n $metrics_addr ]] || fail "the daemon did not start listening within 10 s"
port=${addr##*:}
sed 's/^/   | /' "$demo/wif-tokend.log"

cd "$demo"
url="https://localhost:$port/get_wif_token"

# Prints the daemon's count of failed handshakes for reason $1 once it is
# there, waiting up to 5 s: a refused client is the client's doing, so the
# daemon counts it (and logs it only at debug).
show_refusal_count() {
  local series="wif_tokend_tls_handshakes_total{result=\"failed\",reason=\"$1\"}" line=
  for _ in $(seq 1 50); do
    line=$(curl -s "http://$metrics_addr/metrics" | grep -F "$series" | grep -v ' 0$') && break
    sleep 0.1
  done
  [[ -n $line ]] || fail "the daemon did not count a handshake refused for $1"
  echo "   | $line"
}

echo
echo "== 1. the original curl line, with the client certificate"
echo "   \$ curl --cert client.crt --key client.key --cacert ca-chain.crt $url"
body=$(curl -sS --cert client.crt --key client.key --cacert ca-chain.crt "$url") || fail "curl with a client certificate failed"
echo "   $body"
[[ $body == *"\"access_token\":\"$token\""* ]] || fail "the answer does not carry the token"

echo
echo "== 2. curl without a client certificate: refused in the handshake"
if out=$(curl -sS --cacert ca-chain.crt "$url" 2>&1); then fail "served without a certificate: $out"; fi
echo "   $out"
show_refusal_count no_certificate

echo
echo "== 3. curl with a certificate from another CA: refused in the handshake"
if out=$(curl -sS --cert other-client.crt --key other-client.key --cacert ca-chain.crt "$url" 2>&1); then
  fail "served a certificate from another CA: $out"
fi
echo "   $out"
show_refusal_count unknown_ca

echo
echo "== 4. the original Python client (requests), changed only in host, port and paths"
mkdir -p "$demo/client-home"
WIF_HOME=$demo/client-home /usr/bin/python3 - "$url" <<'PY' || fail "the Python client did not get the token"
import os, sys
import requests

WIF_HOME = os.environ.get("WIF_HOME", "/tmp/wif")
WIF_TOKEN_FILENAME = os.path.join(WIF_HOME, "wif_token.txt")
endpoint_url = sys.argv[1]
client_cert = ("client.crt", "client.key")
ca_cert = "ca-chain.crt"

response = requests.get(endpoint_url, cert=client_cert, verify=ca_cert)
response.raise_for_status()
token = response.json().get("access_token", None)
with open(WIF_TOKEN_FILENAME, "w") as f:
    f.write(token)
print(f"   token written to {WIF_TOKEN_FILENAME} ({len(token)} characters)")
PY
[[ $(cat "$demo/client-home/wif_token.txt") == "$token" ]] || fail "the Python client wrote another token"

echo
echo "== 5. the token file is replaced: the next answer carries the new token"
token2="demo.$(openssl rand -hex 24)"
printf '%s\n' "$token2" >"$demo/wif_token.txt.new" && mv "$demo/wif_token.txt.new" "$demo/wif_token.txt"
for _ in $(seq 1 50); do
  body=$(curl -sS --cert client.crt --key client.key --cacert ca-chain.crt "$url")
  [[ $body == *"$token2"* ]] && break
  sleep 0.1
done
[[ $body == *"$token2"* ]] || fail "the new token was not served within 5 s"
echo "   $body"

echo
echo "demo: all checks passed"
if ((foreground)); then
  echo
  echo "The daemon keeps running (PID $pid, files in $demo). Try:"
  echo "  cd $demo && curl --cert client.crt --key client.key --cacert ca-chain.crt $url"
  echo "Press Ctrl-C to stop it."
  trap 'cleanup; exit 0' INT TERM
  wait "$pid"
fi
