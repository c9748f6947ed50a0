#!/usr/bin/env bash
# Sets up, builds and runs every test (unit and integration), then prints
# one summary line. Benchmarks are not tests and do not run here.
#
#   scripts/test.sh [BUILD_DIR]
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$root/build}

"$root/scripts/setup.sh" "$build"

status=0
meson test -C "$build" --no-rebuild --print-errorlogs --num-processes 2 || status=$?

# One closing line that any reader (or CI) can count.
python3 - "$build/meson-logs/testlog.json" <<'PY'
import json, sys
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
print(f"tests: {passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
PY
exit $status
