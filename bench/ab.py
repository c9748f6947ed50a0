#!/usr/bin/python3
"""Before/after comparison of two wif-tokend binaries under the same loads,
in one run, for the commit message of a speed change.

    bench/ab.py --before OLD_BINARY --after NEW_BINARY [--rounds 3]
                [--duration 3] [--loads ka_rsa,new_rsa,new_ec,resumed_ec,...]

Each round runs every load against a fresh daemon of each binary, the two
binaries alternating, so a change in the machine's load hits both alike.
Prints the median of each figure per binary and the ratio after / before.
The binaries share this machine's cores with the load generator.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare  # noqa: E402
import servers  # noqa: E402

LOADS = {
    "ka_rsa": ("rsa", ["--connections", "50"], "server.cpu_us_per_request"),
    "ka_ec": ("ec", ["--connections", "50"], "server.cpu_us_per_request"),
    "new_rsa": ("rsa", ["--mode", "close", "--connections", "16"], "server.cpu_us_per_handshake"),
    "new_ec": ("ec", ["--mode", "close", "--connections", "16"], "server.cpu_us_per_handshake"),
    "resumed_rsa": ("rsa", ["--mode", "close", "--resume", "--connections", "16"],
                    "server.cpu_us_per_handshake"),
    "resumed_ec": ("ec", ["--mode", "close", "--resume", "--connections", "16"],
                   "server.cpu_us_per_handshake"),
    "ka10k_ec": ("ec", ["--connections", "10000", "--ramp", "128"], "server.cpu_us_per_request"),
    "idle_ec": ("ec", ["--idle", "--connections", "2000", "--hold", "7s"],
                "server.kib_per_idle_connection"),
}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--before", required=True)
    p.add_argument("--after", required=True)
    p.add_argument("--build", default=os.path.join(compare.ROOT, "build"))
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--duration", type=float, default=3.0)
    p.add_argument("--loads", default="ka_rsa,new_rsa,new_ec,resumed_ec")
    args = p.parse_args()

    compare.raise_descriptor_limit()
    loadgen = os.path.join(args.build, "bench", "loadgen", "wif-loadgen")
    run_dir = tempfile.mkdtemp(prefix="wif-ab-")
    sets, token_path, body_path = compare.make_material(run_dir)
    # Each daemon starts in its own folder, so relative paths would not resolve.
    binaries = {"before": os.path.abspath(args.before), "after": os.path.abspath(args.after)}
    figures = {}  # (load, binary) -> {"rps": [...], "cpu": [...]}
    for round_ in range(args.rounds):
        for key in args.loads.split(","):
            certs, load_args, cpu_field = LOADS[key]
            load = compare.Load(key, certs, key, load_args, warmup="1s", timeout="30s")
            # Alternate which binary goes first, so neither always follows the other.
            order = ["before", "after"] if round_ % 2 == 0 else ["after", "before"]
            for which in order:
                folder = os.path.join(run_dir, which, f"{key}-{round_}")
                server = servers.WifTokend(binaries[which], folder, sets[certs], token_path,
                                           body_path)
                try:
                    server.start()
                    r = compare.run_load(loadgen, server, load, sets[certs], token_path,
                                         args.duration)
                finally:
                    server.stop()
                if r["errors_total"]:
                    sys.exit(f"ab: {which} {key} had errors: {r['errors']}")
                f = figures.setdefault((key, which), {"rps": [], "cpu": []})
                f["rps"].append(r["rps"])
                f["cpu"].append(compare.field(r, cpu_field))
                print(f"  round {round_} {key:12} {which:6} rps={r['rps']:.0f} "
                      f"{cpu_field.split('.')[-1]}={f['cpu'][-1]:.1f}", flush=True)

    print(f"\nmedians of {args.rounds} rounds, {args.duration:g} s each "
          "(client and server share the machine's cores):")
    print(f"| load | figure | before | after | after / before |")
    print(f"| --- | --- | ---: | ---: | ---: |")
    for key in args.loads.split(","):
        cpu_name = LOADS[key][2].split(".")[-1]
        for name, label in (("rps", "requests/s"), ("cpu", cpu_name)):
            b = statistics.median(figures[(key, "before")][name])
            a = statistics.median(figures[(key, "after")][name])
            ratio = a / b if b else float("nan")
            print(f"| {key} | {label} | {b:.1f} | {a:.1f} | {ratio:.2f} |")
    subprocess.run(["rm", "-rf", run_dir])


if __name__ == "__main__":
    main()
