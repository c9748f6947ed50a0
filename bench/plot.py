#!/usr/bin/python3
"""Draws throughput and p99 latency against the number of keep-alive mTLS
connections, for wif-tokend and nginx, from the results JSON that
`bench/compare.py --plot` writes.

    bench/plot.py RESULTS_JSON OUT_PNG

Needs python3-matplotlib (compare.py installs it for --plot).
"""

import json
import sys

import matplotlib

matplotlib.use("Agg")  # no display: write the file only
import matplotlib.pyplot as plt  # noqa: E402


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with open(sys.argv[1]) as f:
        data = json.load(f)
    sweep = data.get("sweep") or {}
    if not sweep:
        sys.exit("plot: the results hold no sweep; run bench/compare.py --plot")

    fig, (rate_ax, p99_ax) = plt.subplots(1, 2, figsize=(11, 4.2))
    styles = {"wif-tokend": ("tab:blue", "o"), "nginx": ("tab:green", "s")}
    for name, points in sweep.items():
        points = [p for p in points if p["errors"] == 0]
        xs = [p["connections"] for p in points]
        color, marker = styles.get(name, ("tab:gray", "x"))
        rate_ax.plot(xs, [p["rps"] for p in points], marker=marker, color=color, label=name)
        p99_ax.plot(xs, [p["p99_us"] / 1000.0 for p in points], marker=marker, color=color,
                    label=name)
    for ax in (rate_ax, p99_ax):
        ax.set_xscale("log")
        ax.set_xlabel("keep-alive mTLS connections (ECDSA P-256)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    rate_ax.set_ylabel("requests per second")
    rate_ax.set_ylim(bottom=0)
    p99_ax.set_ylabel("p99 latency (ms), closed loop")
    p99_ax.set_yscale("log")
    m = data.get("machine", {})
    fig.suptitle(f"GET /get_wif_token over mTLS, {m.get('cpu', '?')}, {m.get('cores', '?')} cores "
                 "shared by client and server", fontsize=10)
    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=100)


if __name__ == "__main__":
    main()
