#!/usr/bin/env bash
# Runs the tests under the sanitizers, each in its own build folder:
#   build-asan  AddressSanitizer + UndefinedBehaviorSanitizer (leaks too):
#               the whole suite, unit and integration, the daemon included
#   build-tsan  ThreadSanitizer: the tests that run threads, which are the
#               integration tests (the daemon's worker threads, the control
#               loop and the scrapes that read the workers' counters) and
#               the metrics and token unit tests
# Any report fails the run: the sanitizers halt on the first error and the
# test sees the daemon die. Exits non-zero when any suite fails.
#
#   scripts/sanitize.sh [asan|tsan]...   default: both
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
kinds=("$@")
if ((${#kinds[@]} == 0)); then
  kinds=(asan tsan)
fi

export ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=$root/scripts/tsan.supp

status=0
for kind in "${kinds[@]}"; do
  case $kind in
    asan) sanitize=address,undefined; selections=("") ;;
    tsan) sanitize=thread; selections=("--suite integration" "metrics token token_wipe") ;;
    *) echo "sanitize: unknown kind $kind (expected asan or tsan)" >&2; exit 2 ;;
  esac
  build=$root/build-$kind
  export WIF_SANITIZE=$sanitize  # for tests whose figures a sanitizer changes
  if [[ ! -f $build/build.ninja ]]; then
    meson setup "$build" "$root" -Db_sanitize="$sanitize" -Db_lundef=false -Dbench=false \
      -Dwerror=true >/dev/null
  fi
  nice ninja -C "$build" -j2 >/dev/null || nice ninja -C "$build" -j1
  start=$(date +%s)
  result=ok
  : >"$build/sanitize.log"
  for selection in "${selections[@]}"; do
    # shellcheck disable=SC2086 # a selection is several words on purpose
    if ! nice meson test -C "$build" --no-rebuild --print-errorlogs --num-processes 2 \
        --timeout-multiplier 4 $selection >>"$build/sanitize.log" 2>&1; then
      result=FAILED
      status=1
    fi
  done
  if [[ $result != ok ]]; then
    grep -E "^ *[0-9]+/[0-9]+ .*(FAIL|TIMEOUT)" "$build/sanitize.log" || true
  fi
  echo "sanitize: $kind: $result in $(($(date +%s) - start)) s (log: $build/sanitize.log)"
done
exit $status
