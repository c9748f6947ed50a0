#!/usr/bin/python3
"""Runs the same mTLS loads against wif-tokend, nginx, HAProxy and the
original Flask app, on this machine's loopback, and prints the table of
ratios that issue #6 sets goals for.

    bench/compare.py [--build DIR] [--run-dir DIR] [--duration S] [--quick]
                     [--servers wif-tokend,nginx,haproxy,flask] [--plot]

Every server gets its own folder, config and port under the run directory
and is started fresh (by PID) for each load, then stopped by that PID. The
load generator is build/bench/loadgen/wif-loadgen; it reads each server's
CPU time and memory from /proc around the measured window. Client and
servers share this machine's cores, so only ratios within one run mean
anything.

Not part of the test run: nginx, haproxy, python3-flask (and
python3-matplotlib for --plot) are installed with apt-get here if missing.
"""

import argparse
import json
import os
import platform
import resource
import secrets
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ANCHORS = ("nginx", "haproxy")
ALL_SERVERS = ("wif-tokend",) + ANCHORS + ("flask",)


class Load:
    def __init__(self, key, certs, title, args, flask=True, warmup="1s", timeout=None):
        self.key = key
        self.certs = certs  # "rsa" or "ec"
        self.title = title
        self.args = args
        self.flask = flask  # whether the Flask app takes part
        self.warmup = warmup
        self.timeout = timeout


def loads(fixed_rate):
    ten_k = ["--connections", "10000", "--ramp", "128"]
    return [
        Load("ka50_rsa", "rsa", "keep-alive, 50 connections", ["--connections", "50"]),
        Load("new_rsa", "rsa", "new connection per request, 16 at a time",
             ["--mode", "close", "--connections", "16"]),
        Load("resumed_rsa", "rsa", "new connection per request, resumed from a ticket",
             ["--mode", "close", "--resume", "--connections", "16"]),
        Load("rate_rsa", "rsa", f"keep-alive at {fixed_rate} requests/s, 50 connections",
             ["--connections", "50", "--rate", str(fixed_rate)]),
        Load("new_ec", "ec", "new connection per request, 16 at a time",
             ["--mode", "close", "--connections", "16"]),
        Load("resumed_ec", "ec", "new connection per request, resumed from a ticket",
             ["--mode", "close", "--resume", "--connections", "16"]),
        Load("ka50_ec", "ec", "keep-alive, 50 connections", ["--connections", "50"]),
        # The Flask app runs a thread per connection and closes each one, so
        # it takes no part in the 10,000-connection loads.
        Load("ka10k_ec", "ec", "keep-alive, 10,000 connections", ten_k, flask=False,
             warmup="15s", timeout="30s"),
        Load("idle10k_ec", "ec", "10,000 idle connections", ten_k + ["--idle", "--hold", "7s"],
             flask=False, warmup="0s", timeout="30s"),
    ]


def ensure_packages(need_plot):
    wanted = {"nginx": shutil.which("nginx") is not None,
              "haproxy": shutil.which("haproxy") is not None,
              "python3-flask": subprocess.run(["/usr/bin/python3", "-c", "import flask"],
                                              capture_output=True).returncode == 0}
    if need_plot:
        wanted["python3-matplotlib"] = subprocess.run(
            ["/usr/bin/python3", "-c", "import matplotlib"], capture_output=True).returncode == 0
    missing = [p for p, present in wanted.items() if not present]
    if not missing:
        return
    print(f"compare: installing {' '.join(missing)} with apt-get", flush=True)
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(sudo + ["apt-get", "update", "-qq"], check=True, env=env)
    # The packages' own services are never used: this machine may not even
    # run an init system. Our servers run from the run directory.
    subprocess.run(sudo + ["apt-get", "install", "-y", "-qq", "--no-install-recommends"] + missing,
                   check=True, env=env, stdout=subprocess.DEVNULL)


def raise_descriptor_limit():
    """10,000 connections need more descriptors than the usual 1024; root
    may raise the hard limit too, anyone the soft one up to the hard one.
    Children (the servers, the load generator) inherit it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 65536
    if hard < want and os.geteuid() == 0:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
            return want
        except (ValueError, OSError):
            pass
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def make_material(run_dir):
    pki = os.path.join(run_dir, "pki")
    subprocess.run([os.path.join(ROOT, "scripts", "make-pki.sh"), pki], check=True)
    # A token the size of a Google access token.
    token = "ya29." + secrets.token_urlsafe(180)
    token_path = os.path.join(run_dir, "wif_token.txt")
    with open(token_path, "w") as f:
        f.write(token + "\n")
    # What wif-tokend answers for a token file without expiry; nginx and
    # HAProxy serve exactly these bytes.
    body_path = os.path.join(run_dir, "body.json")
    with open(body_path, "w") as f:
        f.write(json.dumps({"access_token": token, "token_type": "Bearer"},
                           separators=(",", ":")))
    sets = {
        "rsa": {"server_cert": "server.crt", "server_key": "server.key",
                "client_cert": "client.crt", "client_key": "client.key"},
        "ec": {"server_cert": "ec-server.crt", "server_key": "ec-server.key",
               "client_cert": "ec-client.crt", "client_key": "ec-client.key"},
    }
    for s in sets.values():
        for k in list(s):
            s[k] = os.path.join(pki, s[k])
        s["ca_chain"] = os.path.join(pki, "ca-chain.crt")
        s["root"] = os.path.join(pki, "root-ca.crt")
    return sets, token_path, body_path


def make_server(name, build, run_dir, certs, token_path, body_path, tag):
    folder = os.path.join(run_dir, name, tag)
    args = (folder, certs, token_path, body_path)
    if name == "wif-tokend":
        return servers.WifTokend(os.path.join(build, "src", "wif-tokend"), *args)
    return {"nginx": servers.Nginx, "haproxy": servers.Haproxy, "flask": servers.Flask}[name](*args)


def load_connections(load):
    return int(load.args[load.args.index("--connections") + 1])


def run_load(loadgen, server, load, certs, token_path, duration, connections=None):
    args = list(load.args)
    if connections is not None:
        i = args.index("--connections")
        args[i + 1] = str(connections)
    cmd = [loadgen, "--port", str(server.port), "--cert", certs["client_cert"],
           "--key", certs["client_key"], "--ca", certs["root"], "--token-file", token_path,
           "--server-pid", str(server.pid), "--threads", "2", "--warmup", load.warmup] + args
    if "--idle" in args:
        cmd += ["--duration", "60s"]  # the bound on setting up every connection
    else:
        cmd += ["--duration", f"{int(duration * 1000)}ms"]
    if load.timeout:
        cmd += ["--timeout", load.timeout]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    if r.returncode == 2 or not r.stdout.strip():
        raise RuntimeError(f"wif-loadgen failed: {r.stderr.strip()}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def signature_costs():
    """Milliseconds per signature, RSA-2048 and ECDSA P-256, from openssl speed."""
    r = subprocess.run(["openssl", "speed", "-seconds", "1", "rsa2048", "ecdsap256"],
                       capture_output=True, text=True)
    costs = {}
    for line in r.stdout.splitlines():
        parts = line.split()
        # The last two columns are signatures and verifications per second.
        if line.startswith("rsa 2048 bits"):
            costs["rsa"] = 1000.0 / float(parts[-2])
        elif "ecdsa (nistp256)" in line:
            costs["ec"] = 1000.0 / float(parts[-2])
    return costs


def machine():
    model = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    ssl = subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout.strip()
    return {"cpu": model, "cores": os.cpu_count(), "kernel": platform.release(), "openssl": ssl}


def field(result, path):
    value = result
    for part in path.split("."):
        if value is None:
            return None
        value = value.get(part)
    return value


# (label, load, field, better, goal ratio against the best anchor)
ROWS = [
    ("keep-alive requests/s (RSA, 50 conns)", "ka50_rsa", "rps", "higher", 1.2),
    ("  server CPU us per request", "ka50_rsa", "server.cpu_us_per_request", "lower", 0.66),
    ("new connection per request, req/s (RSA-2048)", "new_rsa", "rps", "higher", 1.3),
    ("  server CPU us per handshake", "new_rsa", "server.cpu_us_per_handshake", "lower", 0.5),
    ("new connection per request, req/s (ECDSA P-256)", "new_ec", "rps", "higher", 1.3),
    ("  server CPU us per handshake", "new_ec", "server.cpu_us_per_handshake", "lower", 0.5),
    ("resumed (TLS 1.3 ticket), req/s (RSA-2048)", "resumed_rsa", "rps", "higher", 1.5),
    ("  server CPU us per handshake", "resumed_rsa", "server.cpu_us_per_handshake", "lower", None),
    ("resumed (TLS 1.3 ticket), req/s (ECDSA P-256)", "resumed_ec", "rps", "higher", 1.5),
    ("  server CPU us per handshake", "resumed_ec", "server.cpu_us_per_handshake", "lower", None),
    ("p99 us at a fixed rate (keep-alive, RSA)", "rate_rsa", "latency_us.p99", "lower", 1.0),
    ("keep-alive requests/s (ECDSA, 50 conns)", "ka50_ec", "rps", "higher", None),
    ("keep-alive requests/s (ECDSA, 10,000 conns)", "ka10k_ec", "rps", "higher", None),
    ("KiB per idle mTLS connection (10,000 held)", "idle10k_ec",
     "server.kib_per_idle_connection", "lower", 0.5),
]


def fmt(value):
    if value is None:
        return "n/a"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def table(results, present):
    cols = [s for s in ALL_SERVERS if s in present]
    lines = ["| measure | " + " | ".join(cols) + " | wif-tokend / best anchor | goal | met |",
             "| --- |" + " ---: |" * len(cols) + " ---: | ---: | :---: |"]
    verdicts = []
    for label, key, path, better, goal in ROWS:
        values = {s: field(results.get(s, {}).get(key), path) for s in cols}
        for s in cols:
            r = results.get(s, {}).get(key)
            if r is not None and r.get("errors_total", 0) > 0:
                values[s] = None  # a load with errors is no figure
        anchors = [values[a] for a in ANCHORS if values.get(a)]
        best = (max(anchors) if better == "higher" else min(anchors)) if anchors else None
        mine = values.get("wif-tokend")
        ratio = mine / best if mine and best else None
        met = ""
        goal_text = ""
        if goal is not None:
            goal_text = (">= " if better == "higher" else "<= ") + f"{goal:g} x"
            if ratio is not None:
                met = "yes" if (ratio >= goal if better == "higher" else ratio <= goal) else "no"
                verdicts.append((label.strip(), met, ratio, goal))
        lines.append(f"| {label} | " + " | ".join(fmt(values[s]) for s in cols) +
                     f" | {fmt(ratio)} | {goal_text} | {met} |")

    # Goals that are not a ratio to the best anchor.
    extra = []
    ka = results.get("wif-tokend", {})
    if ka.get("ka50_ec") and ka.get("ka10k_ec") and ka["ka50_ec"]["rps"]:
        r = ka["ka10k_ec"]["rps"] / ka["ka50_ec"]["rps"]
        extra.append(f"- wif-tokend keep-alive throughput with 10,000 connections is "
                     f"{r:.2f} x that with 50 (goal >= 0.8: {'yes' if r >= 0.8 else 'no'}).")
    flask = results.get("flask", {}).get("ka50_rsa")
    if ka.get("ka50_rsa") and flask and flask["rps"]:
        r = ka["ka50_rsa"]["rps"] / flask["rps"]
        extra.append(f"- wif-tokend keep-alive requests/s are {r:,.0f} x the Flask app's "
                     f"(goal >= 100: {'yes' if r >= 100 else 'no'}).")
    extra += pacer_report(results, cols)
    return "\n".join(lines), extra, verdicts


def pacer_report(results, cols):
    """How late the load generator itself sent the fixed-rate requests. Its
    lateness is in every latency, so where it is a good part of a server's p99
    that p99 says little about the server."""
    out = []
    for s in cols:
        r = results.get(s, {}).get("rate_rsa")
        lag = r and r.get("pacer_lag_us")
        if not lag or not lag["count"]:
            continue
        p99 = r["latency_us"]["p99"]
        line = (f"- {s} rate_rsa: the load generator sent requests late by p50 "
                f"{lag['p50']:,.0f} us, p99 {lag['p99']:,.0f} us, against a p99 latency of "
                f"{p99:,.0f} us")
        if p99 and lag["p99"] > 0.25 * p99:
            line += ", so much of that p99 is the generator's own, not the server's"
        out.append(line + ".")
    return out


def errors_report(results):
    out = []
    for server, by_load in results.items():
        for key, r in by_load.items():
            if r.get("errors_total", 0) > 0:
                errs = {k: v for k, v in r["errors"].items() if v}
                out.append(f"- {server} {key}: {r['errors_total']} errors {errs} "
                           f"statuses {r.get('statuses')}")
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    p.add_argument("--run-dir", default=None, help="default: BUILD/bench-run")
    p.add_argument("--duration", type=float, default=5.0, help="measured seconds per load")
    p.add_argument("--quick", action="store_true", help="2 s per load")
    p.add_argument("--servers", default=",".join(ALL_SERVERS))
    p.add_argument("--loads", default="", help="only these load keys, comma-separated")
    p.add_argument("--rate", type=int, default=1000, help="the fixed rate for the p99 load")
    p.add_argument("--plot", action="store_true",
                   help="also sweep connection counts for wif-tokend and nginx and draw the PNG")
    p.add_argument("--sweep", default="10,100,1000,3000,10000")
    p.add_argument("--results", default=None, help="also write the results JSON here")
    args = p.parse_args()

    duration = 2.0 if args.quick else args.duration
    chosen = [s.strip() for s in args.servers.split(",") if s.strip()]
    run_dir = os.path.abspath(args.run_dir or os.path.join(args.build, "bench-run"))
    loadgen = os.path.join(args.build, "bench", "loadgen", "wif-loadgen")
    for binary in (loadgen, os.path.join(args.build, "src", "wif-tokend")):
        if not os.access(binary, os.X_OK):
            sys.exit(f"compare: {binary} is missing: build first (scripts/setup.sh)")

    ensure_packages(args.plot)
    nofile = raise_descriptor_limit()
    shutil.rmtree(run_dir, ignore_errors=True)
    os.makedirs(run_dir)
    sets, token_path, body_path = make_material(run_dir)
    info = machine()
    started = time.time()
    print(f"compare: {info['cpu']}, {info['cores']} cores, Linux {info['kernel']}, "
          f"{info['openssl']}; descriptors {nofile}", flush=True)
    print("compare: the load generator (2 threads) and each server share these cores;"
          " only ratios within this run mean anything", flush=True)

    chosen_loads = [l for l in loads(args.rate)
                    if not args.loads or l.key in args.loads.split(",")]
    results = {}
    notes = []
    for load in chosen_loads:
        for name in chosen:
            if name == "flask" and not load.flask:
                continue
            server = make_server(name, args.build, run_dir, sets[load.certs], token_path,
                                 body_path, load.key)
            connections = None
            if name == "haproxy" and load_connections(load) > servers.HAPROXY_MAX_CONNECTIONS:
                connections = servers.HAPROXY_MAX_CONNECTIONS
                notes.append(f"- HAProxy ran {load.key} with {connections:,} connections: it "
                             "reserves two descriptors per connection and the hard limit here "
                             "is 20,000.")
            try:
                server.start()
                r = run_load(loadgen, server, load, sets[load.certs], token_path, duration,
                             connections)
            finally:
                server.stop()
            results.setdefault(name, {})[load.key] = r
            srv = r.get("server", {})
            lag = r.get("pacer_lag_us")
            lag_text = f"pacer-lag-p99={lag['p99']:.0f}us " if lag else ""
            print(f"  {load.key:12} {name:10} ok={r['ok']:<8} rps={r['rps']:<10.0f} "
                  f"p99={r['latency_us']['p99']:<9.0f}us {lag_text}"
                  f"cpu/req={srv.get('cpu_us_per_request', 0):<8.1f}us "
                  f"cpu/hs={srv.get('cpu_us_per_handshake', 0):<8.0f}us "
                  f"errors={r['errors_total']}", flush=True)

    sweep = {}
    if args.plot:
        counts = [int(c) for c in args.sweep.split(",")]
        base = Load("sweep", "ec", "keep-alive sweep", ["--connections", "0", "--ramp", "128"],
                    warmup="15s", timeout="30s")
        for name in ("wif-tokend", "nginx"):
            for n in counts:
                base.warmup = "2s" if n <= 1000 else "15s"
                server = make_server(name, args.build, run_dir, sets["ec"], token_path,
                                     body_path, f"sweep-{n}")
                try:
                    server.start()
                    r = run_load(loadgen, server, base, sets["ec"], token_path, duration,
                                 connections=n)
                finally:
                    server.stop()
                sweep.setdefault(name, []).append(
                    {"connections": n, "rps": r["rps"], "p99_us": r["latency_us"]["p99"],
                     "errors": r["errors_total"]})
                print(f"  sweep {name:10} {n:6} conns rps={r['rps']:.0f} "
                      f"p99={r['latency_us']['p99']:.0f}us errors={r['errors_total']}",
                      flush=True)

    sign = signature_costs()
    text, extra, verdicts = table(results, set(chosen))
    print()
    print(f"Machine: {info['cpu']}, {info['cores']} cores shared by client and servers, "
          f"Linux {info['kernel']}, {info['openssl']}. "
          f"{duration:g} s per load; each server started fresh for each load.")
    print()
    print(text)
    print()
    extra += sorted(set(notes))
    for line in extra:
        print(line)
    mine = results.get("wif-tokend", {})
    for kind, key in (("rsa", "new_rsa"), ("ec", "new_ec")):
        hs = field(mine.get(key), "server.cpu_us_per_handshake")
        if hs and kind in sign:
            print(f"- wif-tokend server CPU per full {kind.upper()} handshake {hs / 1000:.2f} ms"
                  f" against {sign[kind]:.3f} ms for one signature (openssl speed).")
    for line in errors_report(results):
        print(line)
    print(f"\ncompare: done in {time.time() - started:.0f} s; raw results in {run_dir}/results.json")

    out = {"machine": info, "duration_s": duration, "signature_ms": sign, "results": results,
           "sweep": sweep, "table": text, "notes": extra, "verdicts": verdicts}
    with open(os.path.join(run_dir, "results.json"), "w") as f:
        json.dump(out, f, indent=1)
    if args.results:
        with open(args.results, "w") as f:
            json.dump(out, f, indent=1)
    if args.plot:
        png = os.path.join(os.path.dirname(os.path.abspath(__file__)), "throughput.png")
        subprocess.run(["/usr/bin/python3", os.path.join(os.path.dirname(__file__), "plot.py"),
                        os.path.join(run_dir, "results.json"), png], check=True)
        print(f"compare: plot written to {png}")


if __name__ == "__main__":
    main()
