#!/usr/bin/env bash
# Sets up, builds and runs every test (unit and integration, then the
# container image test), then prints one summary line. Benchmarks are not
# tests and do not run here.
#
#   scripts/test.sh [BUILD_DIR]
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$root/build}

"$root/scripts/setup.sh" "$build"

status=0
meson test -C "$build" --no-rebuild --print-errorlogs --num-processes 2 || status=$?

# The container image, built and run with podman, and the compose demo
# (about five minutes), counted check by check from its own closing line.
container_log=$build/meson-logs/container-test.log
"$root/scripts/container-test.sh" "$build" 2>&1 | tee "$container_log" || status=1

# One closing line that any reader (or CI) can count.
python3 - "$build/meson-logs/testlog.json" "$container_log" <<'PY'
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
with open(sys.argv[2]) as f:
    counts = re.findall(r"^container-test: (\d+) passed, (\d+) failed$", f.read(), re.M)
if counts:
    passed += int(counts[-1][0])
    failed += int(counts[-1][1])
else:
    failed += 1  # it stopped before counting
print(f"tests: {passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
PY
exit $status
