#!/usr/bin/env bash
# Installs what wif-tokend needs from Debian 12 packages (only what is
# missing, quietly when everything is there), then configures and builds.
#
#   scripts/setup.sh [--no-tests] [BUILD_DIR [MESON_OPTION...]]
#
#   BUILD_DIR     default: build
#   --no-tests    only what building the daemon needs, configured without
#                 tests and benchmarks: the container image's build stage
#   MESON_OPTION  passed to `meson setup` when BUILD_DIR is configured first,
#                 such as --prefix=/usr or --buildtype=release
#
# The build runs at low priority on at most WIF_BUILD_JOBS (default 2) jobs:
# the machines it runs on have two cores shared with other work.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
with_tests=1
if [[ ${1:-} == --no-tests ]]; then
  with_tests=0
  shift
fi
build=${1:-$root/build}
if (($#)); then shift; fi
meson_options=("$@")

build_packages=(
  # toolchain
  g++ meson ninja-build pkg-config
  # libraries, all found through pkg-config (llhttp: C sources in node-llhttp)
  libuv1-dev libssl-dev libyaml-cpp-dev prometheus-cpp-dev nlohmann-json3-dev node-llhttp
)
test_packages=(
  libgtest-dev libgmock-dev libbenchmark-dev
  # the real clients and servers the demo and the tests use
  openssl curl ca-certificates python3 python3-requests python3-yaml prometheus
  # systemd-analyze and systemd-sysusers check the installed unit; systemd.pc
  # names the folders it is installed to
  systemd
  # setpriv (util-linux), for the test that starts the daemon as another user
  util-linux
  # clang and its runtimes (libFuzzer, sanitizers) for scripts/fuzz.sh and sanitize.sh
  clang libclang-rt-14-dev
)
packages=("${build_packages[@]}")
if ((with_tests)); then
  packages+=("${test_packages[@]}")
else
  meson_options+=(-Dtests=false -Dbench=false)
fi

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
  meson setup -Dwerror=true "${meson_options[@]}" "$build" "$root" >/dev/null
fi
jobs=${WIF_BUILD_JOBS:-2}
nice ninja -C "$build" -j "$jobs" >/dev/null || nice ninja -C "$build" -j "$jobs"
