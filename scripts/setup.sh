#!/usr/bin/env bash
# Installs what wif-tokend needs from Debian 12 packages (only what is
# missing, quietly when everything is there), then configures and builds.
#
#   scripts/setup.sh [BUILD_DIR]     default BUILD_DIR: build
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$root/build}

packages=(
  # toolchain
  g++ meson ninja-build pkg-config
  # libraries, all found through pkg-config (llhttp: C sources in node-llhttp)
  libuv1-dev libssl-dev libyaml-cpp-dev prometheus-cpp-dev nlohmann-json3-dev node-llhttp
  libgtest-dev libgmock-dev libbenchmark-dev
  # the real clients and servers the demo and the tests use
  openssl curl ca-certificates python3 python3-requests prometheus
  # systemd-analyze and systemd-sysusers check the installed unit; systemd.pc
  # names the folders it is installed to
  systemd
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [[ ! -f $build/build.ninja ]]; then
  # Warnings are errors: the code is kept warning-free on Debian 12's compilers.
  meson setup "$build" "$root" -Dwerror=true >/dev/null
fi
ninja -C "$build" >/dev/null || ninja -C "$build"
