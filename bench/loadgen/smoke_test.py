"""Runs wif-loadgen for about a second against the real daemon, so the load
generator cannot rot: it must count successes, no errors, and refuse to count
answers that are not the expected token."""

import json
import os
import resource
import subprocess
import time

from harness import DaemonTest, default_config, pki

LOADGEN = os.environ.get("WIF_LOADGEN_BIN", "")


class LoadgenSmoke(DaemonTest):
    def setUp(self):
        super().setUp()
        self.daemon = self.start_daemon(default_config(self.tmp).replace(
            "log: {level: debug}", "log: {level: info}"))

    def loadgen(self, *args, cert="client", expect_clean=True):
        cmd = [LOADGEN, "--port", str(self.daemon.port),
               "--cert", pki(cert + ".crt"), "--key", pki(cert + ".key"),
               "--ca", pki("root-ca.crt"), "--token-file", self.token_path,
               "--server-pid", str(self.daemon.proc.pid),
               "--warmup", "200ms", "--duration", "1s", "--timeout", "5s"] + list(args)
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        self.assertIn(r.returncode, (0, 1), r.stderr)
        self.assertEqual(r.returncode == 0, expect_clean, r.stdout + r.stderr)
        lines = r.stdout.strip().splitlines()
        self.assertEqual(len(lines), 1, r.stdout)
        return json.loads(lines[0])

    def test_keepalive_load_counts_successes_and_no_errors(self):
        s = self.loadgen("--connections", "4", "--threads", "2")
        self.assertGreater(s["ok"], 0)
        self.assertEqual(s["errors_total"], 0, s["errors"])
        self.assertEqual(s["connections_opened"], 4)
        self.assertGreater(s["latency_us"]["p99"], 0)
        self.assertTrue(s["server"]["sampled"])
        self.assertGreater(s["server"]["cpu_us_per_request"], 0)

    def test_a_connection_per_request_resumes_from_tickets(self):
        s = self.loadgen("--mode", "close", "--resume", "--connections", "2", cert="ec-client")
        self.assertGreater(s["ok"], 0)
        self.assertEqual(s["errors_total"], 0, s["errors"])
        self.assertGreater(s["handshakes"], 0)
        self.assertGreater(s["resumed"], 0)
        self.assertGreater(s["server"]["cpu_us_per_handshake"], 0)

    def test_a_fixed_rate_is_kept(self):
        s = self.loadgen("--rate", "200", "--connections", "2")
        self.assertEqual(s["errors_total"], 0, s["errors"])
        # 200 per second over the one measured second, give or take the edges.
        self.assertGreater(s["ok"], 150)
        self.assertLess(s["ok"], 250)
        # Sent on time: a millisecond tick would be late by half of one or so.
        self.assertGreater(s["pacer_lag_us"]["count"], 0)
        self.assertLess(s["pacer_lag_us"]["p50"], 1000, s["pacer_lag_us"])

    def test_a_fixed_rate_sends_each_request_at_its_own_time(self):
        # One request every 50 ms: issued a period late, every latency would
        # count those 50 ms; the daemon answers in well under a millisecond.
        s = self.loadgen("--rate", "20", "--connections", "2")
        self.assertEqual(s["errors_total"], 0, s["errors"])
        self.assertGreater(s["ok"], 0)
        self.assertLess(s["latency_us"]["p50"], 25_000, s["latency_us"])

    def test_a_slow_rate_sleeps_between_requests(self):
        # Two requests a second leave the load thread idle nearly all the
        # time; a pacer that woke with nothing due would burn a core instead.
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        s = self.loadgen("--rate", "2", "--connections", "2")
        elapsed = time.monotonic() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        self.assertEqual(s["errors_total"], 0, s["errors"])
        self.assertGreater(s["ok"], 0)
        self.assertLess(cpu, 0.25 * elapsed, f"{cpu:.2f} s of CPU in {elapsed:.2f} s")

    def test_a_rate_beyond_the_server_backs_up_and_still_ends(self):
        # A million requests a second over two connections: the requests wait
        # for a slot, and each counts its wait, so the latency is the backlog's.
        s = self.loadgen("--rate", "1000000", "--connections", "2")
        self.assertEqual(s["errors_total"], 0, s["errors"])
        self.assertGreater(s["ok"], 0)
        self.assertGreater(s["latency_us"]["p50"], 10_000, s["latency_us"])

    def test_idle_connections_are_held_and_measured(self):
        s = self.loadgen("--idle", "--connections", "20", "--hold", "200ms", cert="ec-client")
        self.assertEqual(s["idle"]["established"], 20)
        self.assertEqual(s["idle"]["held"], 20)
        self.assertEqual(s["errors_total"], 0, s["errors"])
        self.assertGreater(s["server"]["kib_per_idle_connection"], 0)

    def test_a_refused_certificate_is_an_error_not_a_success(self):
        s = self.loadgen("--connections", "1", cert="other-client", expect_clean=False)
        self.assertEqual(s["ok"], 0)
        self.assertGreater(s["errors"]["tls_handshake"], 0)

    def test_an_answer_without_the_expected_token_is_not_a_success(self):
        expected = os.path.join(self.tmp, "another_token.txt")
        with open(expected, "w") as f:
            f.write("ya29.not-the-token-the-daemon-serves\n")
        s = self.loadgen("--connections", "1", "--token-file", expected, expect_clean=False)
        self.assertEqual(s["ok"], 0)
        self.assertGreater(s["errors"]["unexpected_body"], 0)
