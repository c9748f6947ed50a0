#!/usr/bin/env bash
# Builds the container image from docker/Dockerfile with podman and tests it
# for real: the daemon in its container on loopback, with a throwaway PKI and
# token mounted at /opt/wif-token-api, asked by curl with a client
# certificate; then the compose demo, until Prometheus scrapes the daemon.
# Prints the image size and one closing "N passed, N failed" line.
#
#   scripts/container-test.sh [BUILD_DIR]       default BUILD_DIR: build
#
# Runs as root (rootful podman, apt-get) and installs what it lacks from
# Debian. Nothing it does touches /etc or podman's default storage: podman
# runs on a configuration of its own (CONTAINERS_CONF, CONTAINERS_STORAGE_CONF)
# whose storage, run state and networks live in one temporary folder under
# BUILD_DIR, removed at the end with every container and image in it. Only
# the bookworm base tarball is kept, in BUILD_DIR/container-cache, and made
# again once it is a week old.
#
# Runs on this machine's terms: runc (crun refuses the hybrid cgroup set-up),
# explicit nofile/nproc limits (root cannot raise its own), no systemd (so
# podman runs health checks only when asked: `podman healthcheck run`).
# Bounded: WIF_CONTAINER_TEST_TIMEOUT seconds in all (default 1800).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$(mkdir -p "${1:-$root/build}" && cd "${1:-$root/build}" && pwd)

# The whole run under one time limit; timeout signals the process group, so
# a hanging podman stops too and the EXIT trap below still cleans up.
if [[ -z ${WIF_CONTAINER_TEST_BOUNDED:-} ]]; then
  export WIF_CONTAINER_TEST_BOUNDED=1
  exec timeout --kill-after=120 "${WIF_CONTAINER_TEST_TIMEOUT:-1800}" "$0" "$@"
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "container-test: needs root (rootful podman and apt-get)" >&2
  exit 2
fi

passed=0
failed=0
started=$SECONDS
pass() { passed=$((passed + 1)); echo "   ok: $*"; }
fail() {
  failed=$((failed + 1))
  echo "   FAILED: $*" >&2
  exit 1
}
step() { echo "== $*"; }
# has GREP_ARGS...: whether standard input matches. It reads all of it, unlike
# grep -q, whose early exit fails the writer of a pipe under pipefail.
has() { grep "$@" >/dev/null; }

# wait_until SECONDS COMMAND...: polls COMMAND until it succeeds, false at the
# deadline.
wait_until() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    if ((SECONDS >= deadline)); then return 1; fi
    sleep 0.2
  done
}

# One run at a time per machine: the runs would share podman's bridge
# addresses and the machine's two cores.
lock=/run/lock/wif-tokend-container-test.lock
if [[ ! -d /run/lock ]]; then lock=/tmp/wif-tokend-container-test.lock; fi
exec 9>"$lock"
if ! flock -w 1500 9; then
  echo "container-test: another run held $lock for 25 minutes" >&2
  exit 1
fi

step "installing what is missing (podman, runc, netavark, mmdebstrap, podman-compose)"
# netavark sets up container networks with the iptables command, which it
# only recommends: without it every `podman run -p` fails.
packages=(podman runc netavark aardvark-dns iptables mmdebstrap podman-compose curl openssl)
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | has "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- podman on a configuration of its own -----------------------------------

# A few things podman 4.3 puts in fixed places whatever its configuration
# says: netavark's address leases in /run/containers/networks, the blob
# cache in /var/lib/containers/cache, and netavark's iptables chains. What
# this run makes there, it removes; what was there before, it leaves alone.
fixed_dirs=(/run/containers/networks /var/lib/containers/cache)
fresh_dirs=()
for d in "${fixed_dirs[@]}"; do
  if [[ ! -e $d ]]; then fresh_dirs+=("$d"); fi
done
netavark_firewall_existed=0
if iptables-save 2>/dev/null | has '^:NETAVARK'; then netavark_firewall_existed=1; fi

# Deletes every NETAVARK chain and every jump to one; called only when none
# existed before this run and its containers and networks are gone.
remove_netavark_firewall() {
  local table rule chain
  for table in nat filter; do
    while read -r rule; do
      eval "iptables -t $table -D ${rule#-A }"
    done < <(iptables -t "$table" -S | grep -E '^-A [A-Z]+ .*-j NETAVARK' | grep -vE '^-A NETAVARK')
    for chain in $(iptables -t "$table" -S | awk '/^-N NETAVARK/ {print $2}'); do
      iptables -t "$table" -F "$chain"
    done
    for chain in $(iptables -t "$table" -S | awk '/^-N NETAVARK/ {print $2}'); do
      iptables -t "$table" -X "$chain"
    done
  done
}

work=$(mktemp -d "$build/container-test.XXXXXX")
logs=$work/logs
kept_logs=$build/meson-logs/container-test
mkdir -p "$logs" "$work/storage" "$work/run" "$work/tmp" "$work/networks"
containers=()
compose_project=
cleanup() {
  local status=$?
  set +e
  # A run stopped by its time limit or a signal counts as a failure too.
  if ((status != 0 && failed == 0)); then failed=1; fi
  if [[ -n $compose_project ]]; then
    podman-compose -p "$compose_project" -f "$root/docker/compose.yaml" down -v \
      >>"$logs/compose.log" 2>&1
    podman network rm -f "${compose_project}_default" >/dev/null 2>&1
  fi
  for c in "${containers[@]}"; do
    podman rm -f -t 0 "$c" >/dev/null 2>&1
  done
  # Every image in this private storage is one this run imported or built.
  for image in $(podman images --all --quiet 2>/dev/null | sort -u); do
    podman rmi -f "$image" >/dev/null 2>&1
  done
  while read -r mount; do
    umount "$mount" 2>/dev/null
  done < <(findmnt -rn -o TARGET | grep -F "$work/" | sort -r)
  # A failed run keeps its logs (build, podman, compose) for whoever reads CI.
  if ((status != 0)); then
    rm -rf "$kept_logs"
    mkdir -p "$(dirname "$kept_logs")"
    mv "$logs" "$kept_logs" && echo "container-test: logs kept in $kept_logs"
  fi
  rm -rf "$work"
  for d in "${fresh_dirs[@]}"; do
    rm -rf "$d"
    rmdir "$(dirname "$d")" 2>/dev/null
  done
  if ((!netavark_firewall_existed)); then remove_netavark_firewall 2>/dev/null; fi
  echo "container-test: $((SECONDS - started)) s in all"
  echo "container-test: $passed passed, $failed failed"
  exit "$status"
}
trap cleanup EXIT
trap 'echo "   FAILED: stopped by a signal (the time limit is ${WIF_CONTAINER_TEST_TIMEOUT:-1800} s)" >&2
  exit 124' TERM INT

# Limits runc can set here: no higher than root's own hard limits, and nproc
# far below pid_max (32768 on these machines; runc fails above it).
limit() {  # limit HARD CAP: the smaller of the two
  if [[ $1 == unlimited ]] || (($1 > $2)); then echo "$2"; else echo "$1"; fi
}
nofile=$(limit "$(ulimit -Hn)" 65536)
nproc=$(limit "$(ulimit -Hu)" 4096)
cat >"$work/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
[network]
network_backend = "netavark"
network_config_dir = "$work/networks"
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
tmp_dir = "$work/tmp"
CONF
cat >"$work/storage.conf" <<CONF
[storage]
driver = "overlay"
graphroot = "$work/storage"
runroot = "$work/run"
CONF
export CONTAINERS_CONF=$work/containers.conf
export CONTAINERS_STORAGE_CONF=$work/storage.conf
# Docker's image format keeps HEALTHCHECK (OCI's has no field for it).
export BUILDAH_FORMAT=docker
ulimits=(--ulimit "nofile=$nofile:$nofile" --ulimit "nproc=$nproc:$nproc")

# --- the base image: Debian's own bookworm, made here -----------------------

step "making the debian:bookworm-slim base with mmdebstrap"
cache=$build/container-cache
base_tar=$cache/debian-bookworm-slim.tar
mkdir -p "$cache"
if [[ -z $(find "$base_tar" -mtime -7 2>/dev/null) ]]; then
  # Slim as Docker's bookworm-slim: no manuals, documentation or translations;
  # merged /usr without the usrmerge package (which would bring perl).
  mmdebstrap --variant=minbase --format=tar --quiet \
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-include=/usr/share/locale/locale.alias' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    bookworm "$base_tar.new" \
    "deb http://deb.debian.org/debian bookworm main" \
    "deb http://deb.debian.org/debian bookworm-updates main" \
    "deb http://deb.debian.org/debian-security bookworm-security main" \
    </dev/null >"$logs/mmdebstrap.log" 2>&1 || {
    tail -20 "$logs/mmdebstrap.log" >&2
    rm -f "$base_tar.new"
    fail "mmdebstrap could not make the base"
  }
  mv "$base_tar.new" "$base_tar"
fi
podman import --quiet "$base_tar" debian:bookworm-slim >/dev/null
pass "base imported as debian:bookworm-slim ($((SECONDS - started)) s so far)"

# --- the image --------------------------------------------------------------

step "building docker/Dockerfile"
image=localhost/wif-tokend:latest
build_started=$SECONDS
# The build reaches Debian's archive through the host's network: no bridge.
if ! nice podman build --pull=never --network=host "${ulimits[@]}" -f "$root/docker/Dockerfile" \
  -t "$image" "$root" >"$logs/build.log" 2>&1; then
  tail -30 "$logs/build.log" >&2
  fail "podman build"
fi
pass "image built in $((SECONDS - build_started)) s"

size_bytes=$(podman image inspect --format '{{.Size}}' "$image")
size_mb=$((size_bytes / 1000000))
echo "   image size: $size_mb MB ($size_bytes bytes)"
# The runtime stage holds the base, four libraries and the binary: far more
# means the build stage leaked into it.
((size_mb < 150)) || fail "the image is $size_mb MB, expected under 150 MB"
pass "image under 150 MB"

user=$(podman image inspect --format '{{.Config.User}}' "$image")
[[ $user =~ ^[1-9][0-9]*:[1-9][0-9]*$ ]] || fail "image user is \"$user\", expected a numeric non-root uid:gid"
pass "image runs as $user"
healthcheck=$(podman image inspect --format '{{.HealthCheck.Test}}' "$image")
[[ $healthcheck == *"/healthz"* ]] || fail "image health check is \"$healthcheck\""
pass "image carries a HEALTHCHECK on /healthz"

# --- the container, with the original layout mounted ------------------------

step "running the image on loopback with a throwaway PKI at /opt/wif-token-api"
home=$work/home
"$root/scripts/make-pki.sh" "$home" >/dev/null
token="ctest.$(openssl rand -hex 24)"
printf '%s\n' "$token" >"$home/wif_token.txt"
chown -R "$user" "$home"

name=wif-tokend-test-${work##*.}
containers+=("$name")
podman run -d --name "$name" -p 127.0.0.1::7001 -p 127.0.0.1::9464 \
  -v "$home:/opt/wif-token-api:ro" "$image" >/dev/null 2>"$logs/run.log" ||
  fail "podman run: $(grep -v systemd "$logs/run.log")"
port=$(podman port "$name" 7001/tcp | sed 's/.*://')
metrics_port=$(podman port "$name" 9464/tcp | sed 's/.*://')
[[ -n $port && -n $metrics_port ]] || fail "no published ports"

daemon_log() { podman logs "$name" 2>&1 | grep -v systemd; }
ready() { curl -fsS --max-time 2 "http://127.0.0.1:$metrics_port/readyz" >/dev/null 2>&1; }
wait_until 30 ready || {
  daemon_log >&2
  fail "/readyz did not answer 200 within 30 s"
}
pass "ready on 127.0.0.1:$port (mTLS) and 127.0.0.1:$metrics_port (metrics)"

# get_token PORT: the answer of /get_wif_token to the client certificate.
get_token() {
  curl -sS --max-time 5 --resolve "localhost:$1:127.0.0.1" \
    --cert "$home/client.crt" --key "$home/client.key" --cacert "$home/ca-chain.crt" \
    "https://localhost:$1/get_wif_token"
}
# serves PORT TOKEN: whether the daemon on PORT answers with TOKEN.
serves() { [[ $(get_token "$1" 2>/dev/null) == *"\"access_token\":\"$2\""* ]]; }
body=$(get_token "$port") || fail "curl with the client certificate failed"
[[ $body == "{\"access_token\":\"$token\",\"token_type\":\"Bearer\"}" ]] || fail "answer: $body"
pass "curl with the client certificate gets the token"

if out=$(curl -sS --max-time 5 --resolve "localhost:$port:127.0.0.1" \
  --cacert "$home/ca-chain.crt" "https://localhost:$port/get_wif_token" 2>&1); then
  fail "served without a client certificate: $out"
fi
pass "refused without a client certificate"

token2="ctest.$(openssl rand -hex 24)"
printf '%s\n' "$token2" >"$home/.wif_token.txt.new"
chown "$user" "$home/.wif_token.txt.new"
mv "$home/.wif_token.txt.new" "$home/wif_token.txt"
wait_until 10 serves "$port" "$token2" || fail "the replaced token file was not served within 10 s"
pass "a token file replaced on the host is served from the bind mount"

metrics=$(curl -sS --max-time 5 -D "$work/metrics.head" "http://127.0.0.1:$metrics_port/metrics") ||
  fail "curl /metrics failed"
grep -q '^HTTP/1.1 200' "$work/metrics.head" || fail "/metrics: $(head -1 "$work/metrics.head")"
grep -qi '^content-type: text/plain' "$work/metrics.head" || fail "/metrics is not text/plain"
grep -q '^wif_tokend_build_info{' <<<"$metrics" || fail "/metrics has no wif_tokend_build_info"
pass "/metrics answers on the metrics port with wif_tokend_build_info"

pid=$(podman inspect --format '{{.State.Pid}}' "$name")
uids=$(awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/$pid/status")
gids=$(awk '/^Gid:/ {print $2, $3, $4, $5}' "/proc/$pid/status")
[[ $uids == "${user%%:*} ${user%%:*} ${user%%:*} ${user%%:*}" ]] ||
  fail "the daemon (host PID $pid) runs with uids $uids"
[[ $gids == "${user##*:} ${user##*:} ${user##*:} ${user##*:}" ]] ||
  fail "the daemon (host PID $pid) runs with gids $gids"
pass "the daemon process runs as uid/gid $user, not root"

podman healthcheck run "$name" >"$logs/health.log" 2>&1 || fail "podman healthcheck run: $(cat "$logs/health.log")"
status=$(podman inspect --format '{{.State.Health.Status}}' "$name")
[[ $status == healthy ]] || fail "health status after a passing check: $status"
pass "podman healthcheck run: healthy"

# A second daemon with a config file named by WIF_TOKEND_CONFIG, which moves
# the metrics listener to 9465; the image's WIF_TOKEND_METRICS_LISTEN, set
# empty, leaves that to the file. The health check, which asks 9464, must
# then fail, or it proves nothing.
printf 'metrics: {listen: "0.0.0.0:9465"}\n' >"$home/wif-tokend.yaml"
chown "$user" "$home/wif-tokend.yaml"
blind=wif-tokend-test-blind-${work##*.}
containers+=("$blind")
podman run -d --name "$blind" --health-start-period 0s \
  -e WIF_TOKEND_CONFIG=/opt/wif-token-api/wif-tokend.yaml -e WIF_TOKEND_METRICS_LISTEN= \
  -v "$home:/opt/wif-token-api:ro" "$image" >/dev/null 2>>"$logs/run.log" || fail "podman run (blind)"
blind_listening() { podman logs "$blind" 2>&1 | has 'event=listening listener=metrics addr=0.0.0.0:9465'; }
wait_until 30 blind_listening || {
  podman logs "$blind" 2>&1 | grep -v systemd >&2
  fail "the daemon with a config file did not open metrics on 9465"
}
podman logs "$blind" 2>&1 | has 'event=starting .*config=/opt/wif-token-api/wif-tokend.yaml' ||
  fail "the daemon did not name the config file it loaded"
pass "WIF_TOKEND_CONFIG names a config file; an empty WIF_TOKEND_METRICS_LISTEN defers to it"
if podman healthcheck run "$blind" >>"$logs/health.log" 2>&1; then
  fail "the health check passed with nothing on 9464"
fi
pass "the health check fails when /healthz does not answer"
podman rm -f -t 0 "$blind" >/dev/null 2>&1

podman kill --signal HUP "$name" >/dev/null
reloaded() { daemon_log | has 'event=reload_applied'; }
wait_until 10 reloaded || fail "no reload_applied after SIGHUP"
pass "SIGHUP reloads the certificates"

podman stop -t 20 "$name" >/dev/null 2>&1 || fail "podman stop"
exit_code=$(podman inspect --format '{{.State.ExitCode}}' "$name")
[[ $exit_code == 0 ]] || fail "exit code after SIGTERM: $exit_code"
log=$(daemon_log)
has 'event=stopped' <<<"$log" || fail "no stopped event after SIGTERM"
pass "SIGTERM drains and stops with exit code 0"
if has -F -e "$token" -e "$token2" <<<"$log"; then
  fail "a token value reached the log"
fi
pass "no token value in the container's log"

# --- the Kubernetes layout: a projected volume and its ..data swap ---------

step "running the image as the Kubernetes example does, on a projected volume"
# The kubelet writes each generation of a projected volume into a folder of
# its own, links every file through ..data, and publishes a new generation by
# renaming a new ..data link over the old one, then removes the old folder.
# Files are readable through the pod's fsGroup only, as defaultMode 0440 does.
kube=$work/kube
gid=${user##*:}
# project GENERATION TOKEN: writes a generation and swaps ..data to it.
project() {
  mkdir "$kube/$1"
  cp "$home/server.crt" "$home/server.key" "$home/ca-chain.crt" "$kube/$1/"
  printf '%s\n' "$2" >"$kube/$1/wif_token.txt"
  chown "0:$gid" "$kube/$1"/*
  chmod 0440 "$kube/$1"/*
  ln -s "$1" "$kube/..data_tmp"
  mv -T "$kube/..data_tmp" "$kube/..data"
}
mkdir -m 0755 "$kube"
token3="ctest.$(openssl rand -hex 24)"
project ..2026_01_01_00_00_00.000000001 "$token3"
for f in server.crt server.key ca-chain.crt wif_token.txt; do
  ln -s "..data/$f" "$kube/$f"
done

# The pod's securityContext: read-only root, no capabilities, no new
# privileges.
kname=wif-tokend-test-kube-${work##*.}
containers+=("$kname")
podman run -d --name "$kname" --read-only --cap-drop=ALL --security-opt=no-new-privileges \
  -e WIF_TOKEND_KEY_READABLE_BY=group \
  -p 127.0.0.1::7001 -v "$kube:/opt/wif-token-api:ro" "$image" >/dev/null 2>>"$logs/run.log" ||
  fail "podman run (projected volume)"
kport=$(podman port "$kname" 7001/tcp | sed 's/.*://')
wait_until 30 serves "$kport" "$token3" || {
  podman logs "$kname" 2>&1 | grep -v systemd >&2
  fail "the token of the projected volume was not served within 30 s"
}
pass "serves the projected token with a read-only root and no capabilities"

token4="ctest.$(openssl rand -hex 24)"
project ..2026_01_01_00_50_00.000000002 "$token4"
rm -rf "$kube/..2026_01_01_00_00_00.000000001"
wait_until 10 serves "$kport" "$token4" || fail "the token after the ..data swap was not served within 10 s"
pass "serves the new token after the kubelet's ..data swap"
podman rm -f -t 0 "$kname" >/dev/null 2>&1

# --- the compose demo -------------------------------------------------------

step "bringing up docker/compose.yaml with podman-compose"
demo_image=localhost/wif-tokend-demo:latest
if ! nice podman build --pull=never --network=host "${ulimits[@]}" \
  -f "$root/docker/demo/Dockerfile" -t "$demo_image" "$root/docker/demo" \
  >"$logs/demo-build.log" 2>&1; then
  tail -30 "$logs/demo-build.log" >&2
  fail "podman build (demo helpers)"
fi
pass "demo helper image built"

compose_project=wif-tokend-test-${work##*.}
compose() { podman-compose -p "$compose_project" -f "$root/docker/compose.yaml" "$@"; }
# Empty ports: podman picks free ones, read back below.
WIF_TOKEND_PORT='' PROMETHEUS_PORT='' compose up -d --no-build >"$logs/compose.log" 2>&1 || {
  tail -30 "$logs/compose.log" >&2
  fail "podman-compose up"
}
prometheus_port=$(podman port "${compose_project}_prometheus_1" 9090/tcp | sed 's/.*://')
[[ -n $prometheus_port ]] || fail "Prometheus has no published port"

# query PROMQL: the first value of an instant query, empty when none.
query() {
  curl -sS --max-time 5 -G "http://127.0.0.1:$prometheus_port/api/v1/query" \
    --data-urlencode "query=$1" 2>/dev/null |
    /usr/bin/python3 -c 'import json, sys
r = json.load(sys.stdin)["data"]["result"]
print(r[0]["value"][1] if r else "")' 2>/dev/null
}
target_up() { [[ $(query 'up{job="wif-tokend"}') == 1 ]]; }
wait_until 120 target_up || {
  compose logs >>"$logs/compose.log" 2>&1
  fail "Prometheus did not see the wif-tokend target up within 120 s"
}
pass "Prometheus scrapes wif-tokend: up{job=\"wif-tokend\"} == 1"

rotated() {
  local n
  n=$(query 'max(wif_tokend_token_refreshes_total{token="wif",result="ok"})')
  [[ -n $n ]] && ((${n%.*} >= 3))
}
wait_until 60 rotated || fail "Prometheus did not see three token refreshes within 60 s"
pass "Prometheus sees the writer's rotations as token refreshes"

client_fetched() { podman logs "${compose_project}_client_1" 2>/dev/null | has '"access_token":"demo\.'; }
wait_until 30 client_fetched || fail "the client service got no token"
pass "the client service fetches tokens over mTLS"

compose down -v >>"$logs/compose.log" 2>&1 || fail "podman-compose down"
podman network rm -f "${compose_project}_default" >/dev/null 2>&1
left=$(podman ps -a --quiet --filter "label=io.podman.compose.project=$compose_project")
[[ -z $left ]] || fail "containers left after down: $left"
compose_project=
pass "podman-compose down removes the demo"

echo "container-test: image $size_mb MB"
