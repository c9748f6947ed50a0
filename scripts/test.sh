#!/usr/bin/env bash
# Sets up, builds and runs every test (unit and integration, then the
# container image test), then the same suites under the sanitizers
# (scripts/sanitize.sh) and each fuzzer for a bounded time (scripts/fuzz.sh,
# FUZZ_SECONDS each, 60 by default), and prints one summary line. Benchmarks
# are not tests and do not run here.
#
#   scripts/test.sh [--quick] [BUILD_DIR]
#   --quick   only the suite in BUILD_DIR (for a change in progress; CI
#             runs everything)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
quick=0
if [[ ${1:-} == --quick ]]; then
  quick=1
  shift
fi
build=${1:-$root/build}

"$root/scripts/setup.sh" "$build"

status=0
meson test -C "$build" --no-rebuild --print-errorlogs --num-processes 2 || status=$?

# The container image, built and run with podman, and the compose demo
# (about five minutes), counted check by check from its own closing line.
container_log=$build/meson-logs/container-test.log
if ((quick == 0)); then
  "$root/scripts/container-test.sh" "$build" 2>&1 | tee "$container_log" || status=1
fi

tests=$(python3 - "$build/meson-logs/testlog.json" "$container_log" "$quick" <<'PY'
import json, re, sys
passed = failed = skipped = 0
with open(sys.argv[1]) as f:
    for line in f:
        r = json.loads(line).get("result")
        if r in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif r == "SKIP":
            skipped += 1
        else:
            failed += 1
if sys.argv[3] == "0":
    with open(sys.argv[2]) as f:
        counts = re.findall(r"^container-test: (\d+) passed, (\d+) failed$", f.read(), re.M)
    if counts:
        passed += int(counts[-1][0])
        failed += int(counts[-1][1])
    else:
        failed += 1  # it stopped before counting
print(f"tests: {passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
PY
)

extra=""
if ((quick == 0)); then
  sanitizers=ok
  "$root/scripts/sanitize.sh" || { sanitizers=FAILED; status=1; }
  fuzz=ok
  "$root/scripts/fuzz.sh" || { fuzz=FAILED; status=1; }
  extra="; sanitizers: $sanitizers; fuzz: $fuzz"
fi

# One closing line that any reader (or CI) can count.
echo "$tests$extra"
exit $status
