#!/usr/bin/python3
"""The soak run of issue #7, driven by bench/soak.sh: a mixed keep-alive and
new-connection load against a running daemon while its token is replaced
every 100 ms and its certificate and key swapped (RSA, ECDSA) and reloaded
with SIGHUP every 5 s. Prints the
resident memory of the daemon as it goes, then the count of every request's
fate (see clients.Load) and exits non-zero if any request failed.

  soak.py PID PORT TOKEN_FILE SECONDS WORK_DIR
"""

import os
import re
import shutil
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
from clients import Load  # noqa: E402

TOKEN = re.compile(r"^soak-[0-9]+$")


def resident_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def write_token(path, n):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"soak-{n}\n")
    os.rename(tmp, path)


def rotate(path, stop, counts):
    n = 0
    while not stop.wait(0.1):  # a pace, not a synchronisation
        n += 1
        write_token(path, n)
    counts["rotations"] = n


def swap_pair(work, n):
    """Puts the RSA or the ECDSA server pair in place, each file by rename."""
    source = "server" if n % 2 == 0 else "ec-server"
    for ext in ("key", "crt"):
        tmp = os.path.join(work, f"server.{ext}.tmp")
        shutil.copyfile(os.path.join(work, "pki", f"{source}.{ext}"), tmp)
        os.chmod(tmp, 0o600)
        os.rename(tmp, os.path.join(work, f"server.{ext}"))


def reload(pid, work, stop, counts):
    n = 0
    while not stop.wait(5.0):
        n += 1
        swap_pair(work, n)
        os.kill(pid, signal.SIGHUP)
    counts["reloads"] = n


def main():
    pid, port, token_path, seconds = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], float(
        sys.argv[4])
    work = sys.argv[5]
    stop = threading.Event()
    counts = {}
    helpers = [threading.Thread(target=rotate, args=(token_path, stop, counts)),
               threading.Thread(target=reload, args=(pid, work, stop, counts))]
    load = Load(port, lambda value: bool(value and TOKEN.match(value)), new_connections=2,
                keep_alive=3, max_requests=10**9).start()
    for t in helpers:
        t.start()

    started = time.monotonic()
    samples = []
    print("elapsed_s  rss_kib  requests_so_far", flush=True)
    while True:
        elapsed = time.monotonic() - started
        rss = resident_kib(pid)
        samples.append((elapsed, rss))
        print(f"{elapsed:9.0f}  {rss:7d}  {load.total():15d}", flush=True)
        if elapsed >= seconds:
            break
        time.sleep(min(30.0, seconds - elapsed))  # sampling period of the report

    result = load.stop()
    stop.set()
    for t in helpers:
        t.join()
    first_minute = [rss for t, rss in samples if t >= 60] or [samples[0][1]]
    print(f"requests: {result}")
    print(f"token rotations: {counts.get('rotations')}, certificate reloads: {counts.get('reloads')}")
    print(f"resident memory: {samples[0][1]} KiB at start, {first_minute[0]} KiB after a minute, "
          f"{max(rss for _, rss in samples)} KiB at most, {samples[-1][1]} KiB at the end")
    if load.failures:
        print("first failures:", *load.failures, sep="\n  ")
    # Flat: after the first minute (buffers, caches and the allocator's
    # arenas settle in it) the end is within 10 % or 2 MiB of that level.
    settled = first_minute[0]
    flat = samples[-1][1] <= max(settled * 1.1, settled + 2048)
    print(f"resident memory after the first minute: {'flat' if flat else 'GREW'} "
          f"({samples[-1][1] - settled:+d} KiB)")
    return 1 if result["failed"] or not flat else 0


if __name__ == "__main__":
    sys.exit(main())
