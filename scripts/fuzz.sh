#!/usr/bin/env bash
# Builds the libFuzzer harnesses of tests/fuzz/ with clang, AddressSanitizer
# and UndefinedBehaviorSanitizer in their own build folder, then runs each for
# a bounded time from its seed corpus. Exits non-zero when a harness finds a
# crash, a sanitizer report or a broken invariant; the input that did it is
# left in the work folder (the last line of the harness's log names it).
#
#   scripts/fuzz.sh [BUILD_DIR]      default BUILD_DIR: build-fuzz
#   FUZZ_SECONDS=60                  time per harness
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$root/build-fuzz}
seconds=${FUZZ_SECONDS:-60}

if [[ ! -f $build/build.ninja ]]; then
  CC=clang CXX=clang++ meson setup "$build" "$root" -Dfuzz=true -Dtests=false -Dbench=false \
    -Db_sanitize=address,undefined -Db_lundef=false -Dwerror=true >/dev/null
fi
nice ninja -C "$build" -j2 tests/fuzz/http_parser_fuzz tests/fuzz/tls_session_fuzz \
  tests/fuzz/record_layer_fuzz >/dev/null

# The TLS harness uses the ECDSA certificates of a test PKI.
if [[ ! -f $build/pki/ec-client.key ]]; then
  "$root/scripts/make-pki.sh" "$build/pki"
fi

work=$build/fuzz-work
status=0
for harness in http_parser tls_session record_layer; do
  seeds=$root/tests/fuzz/corpus/${harness%%_*}
  corpus=$work/$harness/corpus
  mkdir -p "$corpus"
  log=$work/$harness/log.txt
  start=$(date +%s)
  # New inputs go to the work corpus, never into the seeds in the repository.
  if (cd "$work/$harness" &&
      WIF_TEST_PKI=$build/pki UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        nice "$build/tests/fuzz/${harness}_fuzz" -max_total_time="$seconds" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 "$corpus" "$seeds" >"$log" 2>&1); then
    result=ok
  else
    result=FAILED
    status=1
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  echo "fuzz: $harness: $result after $(($(date +%s) - start)) s, $runs runs (log: $log)"
  if [[ $result != ok ]]; then
    tail -n 40 "$log"
  fi
done
exit $status
