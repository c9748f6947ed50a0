"""Observability against the real binary: the Prometheus exposition (checked
by promtool and scraped by a real Prometheus server), the handshake failure
counters, the probes of the metrics listener, and logs that never hold a
token."""

import json
import os
import socket
import struct
import subprocess
import tempfile
import unittest
import urllib.error
import urllib.parse
import urllib.request

from harness import DaemonTest, default_config, pki, run_curl, tls_connect, wait_for
from test_daemon import curl


def fetch(port, path):
    """GET on the plain metrics listener: (status, body)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def samples(text):
    """Parses an exposition into {'name{labels}': value}."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            series, value = line.rsplit(" ", 1)
            out[series] = float(value)
    return out


def scrape(daemon):
    status, text = fetch(daemon.metrics_port, "/metrics")
    if status != 200:
        raise AssertionError(f"/metrics answered {status}")
    return samples(text)


def handshake_series(reason):
    result = "ok" if reason == "none" else "failed"
    return f'wif_tokend_tls_handshakes_total{{result="{result}",reason="{reason}"}}'


class Exposition(DaemonTest):
    def test_promtool_finds_no_problem_in_the_exposition(self):
        d = self.start_daemon()
        curl(d)
        curl(d, "/nope")
        status, text = fetch(d.metrics_port, "/metrics")
        self.assertEqual(status, 200)
        r = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(r.stdout + r.stderr, "")

    def test_counts_requests_by_route_method_and_status(self):
        d = self.start_daemon()
        curl(d)
        curl(d, extra=["-I"])
        curl(d, "/nope")
        curl(d, extra=["-X", "POST"])
        s = scrape(d)
        base = 'wif_tokend_requests_total{listener="mtls",route="token",'
        self.assertEqual(s[base + 'method="GET",code="200"}'], 1)
        self.assertEqual(s[base + 'method="HEAD",code="200"}'], 1)
        self.assertEqual(s[base + 'method="POST",code="405"}'], 1)
        self.assertEqual(
            s['wif_tokend_requests_total{listener="mtls",route="not_found",method="GET",code="404"}'],
            1)
        self.assertEqual(s['wif_tokend_token_requests_total{token="wif",result="served"}'], 2)
        self.assertEqual(
            s['wif_tokend_request_duration_seconds_count{listener="mtls",route="token"}'], 3)

    def test_a_missing_token_is_unavailable_in_metrics_and_readyz(self):
        os.unlink(self.token_path)
        d = self.start_daemon()
        curl(d)
        s = scrape(d)
        self.assertEqual(s['wif_tokend_token_available{token="wif"}'], 0)
        self.assertEqual(s['wif_tokend_token_requests_total{token="wif",result="unavailable"}'], 1)
        self.assertGreaterEqual(s['wif_tokend_token_refreshes_total{result="failed",token="wif"}'], 1)
        status, body = fetch(d.metrics_port, "/readyz")
        self.assertEqual(status, 503)
        self.assertEqual(json.loads(body)["tokens_not_ready"], ["wif"])
        self.assertNotIn(self.tmp, body)  # never a path

        self.write_token(self.token)
        wait_for(lambda: fetch(d.metrics_port, "/readyz")[0] == 200, what="readyz 200")
        s = scrape(d)
        self.assertEqual(s['wif_tokend_token_available{token="wif"}'], 1)
        self.assertEqual(s['wif_tokend_token_refreshes_total{result="ok",token="wif"}'], 1)
        self.assertIn('wif_tokend_token_age_seconds{token="wif"}', s)

    def test_healthz_on_the_metrics_listener_needs_no_certificate(self):
        d = self.start_daemon()
        status, body = fetch(d.metrics_port, "/healthz")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body), {"status": "serving"})

    def test_exposes_certificate_expiry_and_build_info(self):
        d = self.start_daemon()
        s = scrape(d)
        server = [k for k in s if k.startswith("wif_tokend_certificate_expiry_timestamp_seconds"
                                               '{role="server"')]
        self.assertEqual(len(server), 1, server)
        self.assertIn('subject="O=Internal,CN=localhost"', server[0])
        self.assertGreater(s[server[0]], 1.7e9)
        anchors = [k for k in s if 'role="client_ca"' in k]
        self.assertEqual(len(anchors), 2, anchors)
        build = [k for k in s if k.startswith("wif_tokend_build_info{")]
        self.assertEqual(len(build), 1)
        self.assertIn('version="', build[0])

    def test_refused_connections_and_reloads_are_counted(self):
        d = self.start_daemon(default_config(self.tmp, http="http: {max_connections: 1}\n"))
        with tls_connect(d.port):
            wait_for(lambda: scrape(d)['wif_tokend_connections_active{listener="mtls"}'] == 1,
                     what="one active connection")
            r = curl(d)
            self.assertNotEqual(r.returncode, 0)
            wait_for(lambda: scrape(d)['wif_tokend_connections_refused_total{listener="mtls"}'] == 1,
                     what="a refused connection counted")
        d.signal(1)  # SIGHUP
        wait_for(lambda: scrape(d).get('wif_tokend_reloads_total{kind="tls",result="applied"}') == 1,
                 what="the reload counted")


class HandshakeFailures(DaemonTest):
    """Each failure reason, provoked once by a real client, shows in its counter."""

    def start(self):
        return self.start_daemon(default_config(self.tmp, http="http: {handshake_timeout: 300ms}\n"))

    def assert_counted(self, d, reason):
        wait_for(lambda: scrape(d)[handshake_series(reason)] == 1, what=f"{reason} counted once")

    def s_client(self, d, cert, key):
        subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{d.port}", "-servername",
                        "localhost", "-CAfile", pki("ca-chain.crt"), "-cert", pki(cert), "-key",
                        pki(key)], input="", capture_output=True, timeout=20)

    def test_no_certificate(self):
        d = self.start()
        curl(d, cert=None)
        self.assert_counted(d, "no_certificate")

    def test_unknown_ca(self):
        d = self.start()
        curl(d, cert="other-client.crt", key="other-client.key")
        self.assert_counted(d, "unknown_ca")

    def test_server_certificate_refused(self):
        d = self.start()
        # A client that trusts another CA hangs up with an alert about ours.
        curl(d, ca="other-ca.crt")
        self.assert_counted(d, "server_certificate_refused")

    def test_expired(self):
        d = self.start()
        self.s_client(d, "expired-client.crt", "expired-client.key")
        self.assert_counted(d, "expired")

    def test_not_yet_valid(self):
        d = self.start()
        self.s_client(d, "future-client.crt", "future-client.key")
        self.assert_counted(d, "not_yet_valid")

    def test_wrong_usage(self):
        d = self.start()
        self.s_client(d, "serveronly-client.crt", "serveronly-client.key")
        self.assert_counted(d, "bad_usage")

    def test_protocol_error(self):
        d = self.start()
        with socket.create_connection(("127.0.0.1", d.port), timeout=10) as s:
            s.sendall(b"GET /get_wif_token HTTP/1.1\r\nHost: x\r\n\r\n")
            while s.recv(4096):
                pass
        self.assert_counted(d, "protocol")

    def test_a_peer_that_resets_at_once_is_logged_with_its_address(self):
        d = self.start()
        with socket.create_connection(("127.0.0.1", d.port), timeout=10) as s:
            port = s.getsockname()[1]
            wait_for(lambda: scrape(d)['wif_tokend_connections_active{listener="mtls"}'] == 1,
                     what="the connection accepted")
            # Plain HTTP fails the handshake; the reset that follows at close
            # (linger 0) takes the peer's address off the daemon's socket.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        self.assert_counted(d, "protocol")
        self.assertIn(f"peer=127.0.0.1:{port} ", d.wait_log("event=handshake_failed"))

    def test_timeout(self):
        d = self.start()
        with socket.create_connection(("127.0.0.1", d.port), timeout=10) as s:
            self.assertEqual(s.recv(4096), b"")  # closed by the daemon, not by us
        self.assert_counted(d, "timeout")
        s = scrape(d)
        self.assertEqual(s['wif_tokend_connection_timeouts_total{listener="mtls",phase="handshake"}'],
                         1)

    def test_revoked(self):
        d = self.start_daemon(default_config(
            self.tmp, extra_tls=f"  crl: [{pki('intermediate.crl')}]\n",
            http="http: {handshake_timeout: 300ms}\n"))
        self.s_client(d, "revoked-client.crt", "revoked-client.key")
        self.assert_counted(d, "revoked")

    def test_a_good_handshake_is_counted_as_ok(self):
        d = self.start()
        curl(d)
        self.assert_counted(d, "none")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Prometheus:
    """A real Prometheus server on loopback with its own data folder."""

    def __init__(self, workdir, scrape_configs):
        self.dir = tempfile.mkdtemp(prefix="prom-", dir=workdir)
        self.port = free_port()
        config = os.path.join(self.dir, "prometheus.yml")
        with open(config, "w") as f:
            f.write("global: {scrape_interval: 1s, scrape_timeout: 1s}\n"
                    "scrape_configs:\n" + scrape_configs)
        self.log_file = open(os.path.join(self.dir, "prometheus.log"), "w")
        self.proc = subprocess.Popen(
            ["prometheus", f"--config.file={config}",
             f"--storage.tsdb.path={os.path.join(self.dir, 'data')}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=self.log_file)

    def api(self, path):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as r:
            return json.loads(r.read())

    def targets_up(self):
        try:
            active = self.api("/api/v1/targets")["data"]["activeTargets"]
        except (OSError, ValueError):
            return None
        return {t["labels"]["job"]: t["health"] for t in active}

    def query(self, expr):
        q = urllib.parse.urlencode({"query": expr})
        result = self.api(f"/api/v1/query?{q}")["data"]["result"]
        return [float(r["value"][1]) for r in result]

    def log(self):
        with open(os.path.join(self.dir, "prometheus.log")) as f:
            return f.read()

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log_file.close()


class ScrapedByPrometheus(DaemonTest):
    """One real Prometheus scrapes both ways: the plain metrics listener, and
    /metrics on the mTLS listener with a client certificate that
    metrics.allow names."""

    def test_a_real_prometheus_scrapes_over_plain_http_and_over_mtls(self):
        d = self.start_daemon(default_config(
            self.tmp, extra_top="").replace(
                'metrics: {listen: "127.0.0.1:0"}\n',
                'metrics:\n  listen: "127.0.0.1:0"\n  allow: [{cn: ci-runner, ou: CI}]\n'))
        curl(d)
        curl(d, cert="other-client.crt", key="other-client.key")
        prom = Prometheus(self.tmp,
                          "  - job_name: plain\n"
                          f"    static_configs: [{{targets: ['127.0.0.1:{d.metrics_port}']}}]\n"
                          "  - job_name: mtls\n"
                          "    scheme: https\n"
                          "    tls_config:\n"
                          f"      ca_file: {pki('ca-chain.crt')}\n"
                          f"      cert_file: {pki('team-client.crt')}\n"
                          f"      key_file: {pki('team-client.key')}\n"
                          "      server_name: localhost\n"
                          f"    static_configs: [{{targets: ['127.0.0.1:{d.port}']}}]\n")
        try:
            wait_for(lambda: (prom.targets_up() or {}) == {"plain": "up", "mtls": "up"},
                     timeout=60, interval=0.2, what="Prometheus to see both targets up")
            token_ok = 'wif_tokend_requests_total{route="token",code="200",job="%s"}'
            for job in ("plain", "mtls"):
                wait_for(lambda: prom.query(token_ok % job), timeout=30, interval=0.2,
                         what=f"the request counter in Prometheus ({job})")
                self.assertEqual(prom.query(token_ok % job), [1.0])
                self.assertEqual(prom.query(
                    'wif_tokend_tls_handshakes_total{reason="unknown_ca",job="%s"}' % job), [1.0])
        except AssertionError as e:
            raise AssertionError(f"{e}\n{prom.log()}")
        finally:
            prom.stop()

    def test_metrics_over_mtls_are_refused_to_a_client_metrics_allow_does_not_name(self):
        d = self.start_daemon(default_config(self.tmp).replace(
            'metrics: {listen: "127.0.0.1:0"}\n',
            'metrics:\n  listen: "127.0.0.1:0"\n  allow: [{cn: ci-runner}]\n'))
        refused = run_curl(d, "/metrics", extra=("-w", "%{http_code}"))
        self.assertEqual(refused.stdout, '{"error":"forbidden"}403')
        allowed = run_curl(d, "/metrics", cert="team-client.crt", key="team-client.key")
        self.assertIn("wif_tokend_build_info", allowed.stdout)
        d.wait_log("event=access_denied")
        self.assertIn("route=metrics", [l for l in d.log_text().splitlines()
                                        if "event=access_denied" in l][0])

    def test_without_metrics_allow_the_mtls_listener_has_no_metrics(self):
        d = self.start_daemon()
        r = run_curl(d, "/metrics", cert="team-client.crt", key="team-client.key",
                     extra=("-o", "/dev/null", "-w", "%{http_code}"))
        self.assertEqual(r.stdout, "404")


class Logs(DaemonTest):
    """A known token goes through every path the daemon logs, in both formats,
    and never shows up."""

    secret = "ya29.never-in-a-log-0123456789abcdef"

    def run_paths(self, fmt):
        self.write_token(self.secret)
        config = default_config(self.tmp).replace("log: {level: debug}",
                                                  f"log: {{level: debug, format: {fmt}}}")
        d = self.start_daemon(config)
        self.assertEqual(json.loads(curl(d).stdout)["access_token"], self.secret)
        curl(d, extra=["-I"])
        curl(d, cert=None)
        curl(d, f"/get_wif_token?{self.secret}")
        # A file the parser refuses (two lines) and one it serves again.
        with open(self.token_path, "w") as f:
            f.write(self.secret + "\n" + self.secret + "\n")
        d.wait_log("token_refresh_failed")
        self.write_token(self.secret + "2")
        wait_for(lambda: d.log_text().count("token_updated") == 2, what="the second token_updated")
        wait_for(lambda: self.secret + "2" in curl(d).stdout, what="the new token served")
        os.unlink(self.token_path)
        d.stop()
        return d.log_text()

    def test_one_access_line_per_request_at_info_unless_turned_off(self):
        d = self.start_daemon(default_config(self.tmp).replace("log: {level: debug}",
                                                               "log: {level: info}"))
        curl(d)
        curl(d, "/nope")
        wait_for(lambda: d.log_text().count("event=access ") == 2, what="two access lines")
        first, second = [l for l in d.log_text().splitlines() if "event=access " in l]
        for field in ("level=info", "conn=", "peer=127.0.0.1:", 'subject="O=Internal,CN=app-team-client"',
                      "serial=", "fingerprint=", "route=token", "status=200", "bytes=",
                      "duration_us="):
            self.assertIn(field, first)
        self.assertIn("status=404", second)
        # Connections are numbered from 1 across both workers: short, never
        # twice. Six, so that both workers are all but sure to take some.
        for _ in range(4):
            curl(d)
        wait_for(lambda: d.log_text().count("event=access ") == 6, what="six access lines")
        conns = {l.split(" conn=")[1].split()[0] for l in d.log_text().splitlines()
                 if "event=access " in l}
        self.assertEqual(conns, {"1", "2", "3", "4", "5", "6"})
        self.assertEqual(d.stop(), 0)

        quiet = self.start_daemon(default_config(self.tmp).replace(
            "log: {level: debug}", "log: {level: info, access: false}"))
        curl(quiet)
        self.assertEqual(quiet.stop(), 0)  # every line it wrote has been read
        self.assertIn("event=stopped", quiet.log_text())
        self.assertNotIn("event=access ", quiet.log_text())

    def assert_clean(self, log):
        self.assertIn("access", log)  # the access lines were written
        self.assertNotIn(self.secret, log)
        # The query carrying the secret is logged by its length only.
        self.assertIn("query_bytes", log)

    def test_text_logs_never_hold_the_token(self):
        log = self.run_paths("text")
        self.assertIn("event=token_updated", log)
        self.assert_clean(log)

    def test_json_logs_never_hold_the_token(self):
        log = self.run_paths("json")
        for line in log.splitlines():
            json.loads(line)  # every line is one JSON object
        self.assertIn('"event":"token_updated"', log)
        self.assert_clean(log)


if __name__ == "__main__":
    unittest.main()
