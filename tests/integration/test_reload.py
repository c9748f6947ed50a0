"""Reloading TLS material without a restart (issue #4), against the real
binary: SIGHUP and file changes (atomic renames, the Kubernetes ..data
swap), a bad set refused while the old one serves, revocation taking effect
on resumed sessions and kept-alive connections, and a two-step certificate
rotation under continuous requests."""

import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time
import urllib.request

import requests

from harness import (DaemonTest, default_config, pki, read_response, run_curl, run_s_client,
                     wait_for)


def der_of(name):
    """The DER of the first certificate in a PEM file (the leaf of a chain)."""
    end = "-----END CERTIFICATE-----"
    with open(pki(name)) as f:
        first = f.read().split(end)[0] + end + "\n"
    return ssl.PEM_cert_to_DER_cert(first)


class ReloadTest(DaemonTest):
    """The daemon's TLS files live in the test folder, so a test can replace
    them; each replacement is atomic (write aside, rename over)."""

    def setUp(self):
        super().setUp()
        self.tls_dir = os.path.join(self.tmp, "tls")
        os.mkdir(self.tls_dir)
        for name in ("server.crt", "server.key", "ca-chain.crt"):
            shutil.copy(pki(name), self.path(name))

    def path(self, name):
        return os.path.join(self.tls_dir, name)

    def replace(self, name, source):
        """Puts the PKI's `source` in place of `name`, by rename."""
        shutil.copy(pki(source), self.path(name + ".tmp"))
        os.rename(self.path(name + ".tmp"), self.path(name))

    def start_reloading(self, extra_tls="", delay="100ms"):
        text = default_config(self.tmp, extra_tls=f"  reload_delay: {delay}\n" + extra_tls)
        text = text.replace(pki("server.crt"), self.path("server.crt"))
        text = text.replace(pki("server.key"), self.path("server.key"))
        text = text.replace(pki("ca-chain.crt"), self.path("ca-chain.crt"))
        return self.start_daemon(text)

    def count(self, d, needle):
        return d.log_text().count(needle)

    def wait_count(self, d, needle, n):
        wait_for(lambda: self.count(d, needle) >= n, what=f"{n} x {needle}")

    def served_certificate(self, d):
        ctx = ssl.create_default_context(cafile=pki("ca-chain.crt"))
        ctx.load_cert_chain(pki("client.crt"), pki("client.key"))
        with socket.create_connection(("127.0.0.1", d.port), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                return s.getpeercert(binary_form=True)

    def token_for(self, d, cert="client.crt", key="client.key"):
        r = run_curl(d, cert=cert, key=key)
        return json.loads(r.stdout)["access_token"] if r.returncode == 0 else None


class Triggers(ReloadTest):
    def test_sighup_builds_a_new_context_from_the_files_as_they_are(self):
        d = self.start_reloading()
        d.signal(signal.SIGHUP)
        d.wait_log("event=reload_applied trigger=signal")
        self.assertEqual(self.token_for(d), self.token)

    def test_a_renamed_certificate_and_key_are_served_without_a_restart(self):
        d = self.start_reloading()
        self.assertEqual(self.served_certificate(d), der_of("server.crt"))
        self.replace("server.key", "ec-server.key")
        self.replace("server.crt", "ec-server.crt")
        d.wait_log("event=reload_applied trigger=file_change")
        self.assertEqual(self.served_certificate(d), der_of("ec-server.crt"))
        self.assertEqual(self.token_for(d), self.token)

    def active_connections(self, d):
        body = requests.get(f"http://127.0.0.1:{d.metrics_port}/metrics", timeout=10).text
        prefix = 'wif_tokend_connections_active{listener="mtls"} '
        return float(next(l for l in body.splitlines() if l.startswith(prefix))[len(prefix):])

    def test_a_connection_accepted_before_a_reload_finishes_with_the_old_context(self):
        d = self.start_reloading()
        ctx = ssl.create_default_context(cafile=pki("ca-chain.crt"))
        ctx.load_cert_chain(pki("client.crt"), pki("client.key"))
        with socket.create_connection(("127.0.0.1", d.port), timeout=10) as raw:
            # Accepted (and given its context) before anything changes.
            wait_for(lambda: self.active_connections(d) == 1, what="the connection accepted")
            self.replace("server.key", "ec-server.key")
            self.replace("server.crt", "ec-server.crt")
            d.wait_log("event=reload_applied trigger=file_change")
            with ctx.wrap_socket(raw, server_hostname="localhost") as old:
                self.assertEqual(old.getpeercert(binary_form=True), der_of("server.crt"))
                old.sendall(b"GET / HTTP/1.0\r\n\r\n")
                self.assertEqual(read_response(old)[0], 200)
        self.assertEqual(self.served_certificate(d), der_of("ec-server.crt"))

    def test_the_kubernetes_data_swap_is_followed(self):
        # tls.crt -> ..data/tls.crt, ..data -> ..2026_1, as a mounted Secret.
        mount = os.path.join(self.tmp, "secret")
        os.makedirs(os.path.join(mount, "..2026_1"))
        for name, source in (("tls.crt", "server.crt"), ("tls.key", "server.key")):
            shutil.copy(pki(source), os.path.join(mount, "..2026_1", name))
            os.symlink(f"..data/{name}", os.path.join(mount, name))
        os.symlink("..2026_1", os.path.join(mount, "..data"))
        text = default_config(self.tmp, extra_tls="  reload_delay: 100ms\n")
        text = text.replace(pki("server.crt"), os.path.join(mount, "tls.crt"))
        text = text.replace(pki("server.key"), os.path.join(mount, "tls.key"))
        d = self.start_daemon(text)

        os.makedirs(os.path.join(mount, "..2026_2"))
        shutil.copy(pki("ec-server.crt"), os.path.join(mount, "..2026_2", "tls.crt"))
        shutil.copy(pki("ec-server.key"), os.path.join(mount, "..2026_2", "tls.key"))
        os.symlink("..2026_2", os.path.join(mount, "..data_tmp"))
        os.rename(os.path.join(mount, "..data_tmp"), os.path.join(mount, "..data"))
        shutil.rmtree(os.path.join(mount, "..2026_1"))
        d.wait_log("event=reload_applied trigger=file_change")
        self.assertEqual(self.served_certificate(d), der_of("ec-server.crt"))

    def test_a_bad_set_is_refused_once_and_the_old_one_keeps_serving(self):
        d = self.start_reloading()
        with open(self.path("server.key.tmp"), "w") as f:
            f.write("-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n")
        os.rename(self.path("server.key.tmp"), self.path("server.key"))
        line = d.wait_log("event=reload_rejected")
        self.assertIn("level=error", line)
        self.assertIn(self.path("server.key"), line)
        self.assertEqual(self.token_for(d), self.token)

        # The bad key touched again: the same bad set is not refused again.
        unchanged = self.count(d, "event=reload_unchanged")
        os.utime(self.path("server.key"))
        self.wait_count(d, "event=reload_unchanged", unchanged + 1)
        self.assertEqual(self.count(d, "event=reload_rejected"), 1)

    def test_without_reload_on_change_only_sighup_reloads(self):
        d = self.start_reloading("  reload_on_change: false\n")
        self.assertNotIn("event=tls_watch", d.log_text())
        self.replace("server.key", "ec-server.key")
        self.replace("server.crt", "ec-server.crt")
        self.assertEqual(self.served_certificate(d), der_of("server.crt"))
        d.signal(signal.SIGHUP)
        d.wait_log("event=reload_applied trigger=signal")
        self.assertEqual(self.served_certificate(d), der_of("ec-server.crt"))


class Revocation(ReloadTest):
    def start_with_crl(self, crl):
        shutil.copy(pki(crl), self.path("intermediate.crl"))
        return self.start_reloading(f"  crl: [{self.path('intermediate.crl')}]\n")

    def crl_gauge(self, d):
        body = requests.get(f"http://127.0.0.1:{d.metrics_port}/metrics", timeout=10).text
        prefix = 'wif_tokend_crl_next_update_timestamp_seconds{issuer="O=Internal,CN=Demo Intermediate CA"} '
        return float(next(l for l in body.splitlines() if l.startswith(prefix))[len(prefix):])

    def test_each_crls_next_update_is_published_and_follows_a_reload(self):
        d = self.start_with_crl("intermediate-expired.crl")
        self.assertEqual(self.crl_gauge(d), 1580515200)  # 2020-02-01T00:00:00Z
        self.replace("intermediate.crl", "intermediate-empty.crl")
        d.wait_log("event=reload_applied trigger=file_change")
        self.assertGreater(self.crl_gauge(d), time.time())

    def test_an_expired_crl_refuses_clients_until_a_current_one_is_renamed_in(self):
        d = self.start_with_crl("intermediate-expired.crl")
        self.assertIsNone(self.token_for(d))
        d.wait_log("reason=revocation_unknown")
        self.replace("intermediate.crl", "intermediate-empty.crl")
        d.wait_log("event=reload_applied trigger=file_change")
        self.assertEqual(self.token_for(d), self.token)

    def test_a_saved_session_no_longer_resumes_once_its_client_is_revoked(self):
        d = self.start_with_crl("intermediate-empty.crl")
        session = os.path.join(self.tmp, "session.pem")
        first = run_s_client(d, "revoked-client.crt", "revoked-client.key",
                             ["-sess_out", session])
        self.assertIn("HTTP/1.0 200", first)
        again = run_s_client(d, "revoked-client.crt", "revoked-client.key", ["-sess_in", session])
        self.assertIn("Reused, TLSv1.3", again)  # resumption works before the change

        self.replace("intermediate.crl", "intermediate.crl")
        d.wait_log("event=reload_applied trigger=file_change")
        after = run_s_client(d, "revoked-client.crt", "revoked-client.key", ["-sess_in", session])
        self.assertNotIn("Reused", after)
        self.assertIn("alert certificate revoked", after)
        self.assertNotIn("HTTP/1.0 200", after)

    def test_a_remembered_client_chain_is_verified_again_once_revoked(self):
        # A context remembers the chains it verified, so the second full
        # handshake skips the chain checks (issue #6); the reload's context
        # remembers nothing and refuses the revoked client.
        d = self.start_with_crl("intermediate-empty.crl")
        for _ in range(2):
            self.assertIn("HTTP/1.0 200",
                          run_s_client(d, "revoked-client.crt", "revoked-client.key"))

        self.replace("intermediate.crl", "intermediate.crl")
        d.wait_log("event=reload_applied trigger=file_change")
        after = run_s_client(d, "revoked-client.crt", "revoked-client.key")
        self.assertIn("alert certificate revoked", after)
        self.assertNotIn("HTTP/1.0 200", after)

    def test_no_session_from_before_a_reload_resumes_even_for_a_good_client(self):
        d = self.start_with_crl("intermediate-empty.crl")
        session = os.path.join(self.tmp, "session.pem")
        run_s_client(d, "client.crt", "client.key", ["-sess_out", session])
        self.replace("intermediate.crl", "intermediate.crl")
        d.wait_log("event=reload_applied trigger=file_change")
        after = run_s_client(d, "client.crt", "client.key", ["-sess_in", session])
        self.assertIn("New, TLSv1.3", after)
        self.assertIn("HTTP/1.0 200", after)

    def test_a_kept_alive_connection_is_closed_at_its_next_request_once_revoked(self):
        d = self.start_with_crl("intermediate-empty.crl")
        ctx = ssl.create_default_context(cafile=pki("ca-chain.crt"))
        ctx.load_cert_chain(pki("revoked-client.crt"), pki("revoked-client.key"))
        good_ctx = ssl.create_default_context(cafile=pki("ca-chain.crt"))
        good_ctx.load_cert_chain(pki("client.crt"), pki("client.key"))
        request = b"GET /get_wif_token HTTP/1.1\r\nHost: a\r\n\r\n"
        with socket.create_connection(("127.0.0.1", d.port), timeout=10) as raw, \
                socket.create_connection(("127.0.0.1", d.port), timeout=10) as good_raw:
            revoked = ctx.wrap_socket(raw, server_hostname="localhost")
            good = good_ctx.wrap_socket(good_raw, server_hostname="localhost")
            for s in (revoked, good):
                s.sendall(request)
                self.assertEqual(read_response(s)[0], 200)

            self.replace("intermediate.crl", "intermediate.crl")
            d.wait_log("event=reload_applied trigger=file_change")
            revoked.sendall(request)
            try:
                data = revoked.recv(65536)
            except (ssl.SSLError, ConnectionError):
                data = b""
            self.assertEqual(data, b"")  # closed, with no answer
            good.sendall(request)
            status, _, body, _ = read_response(good)
            self.assertEqual(status, 200)  # still trusted: served on the same connection
            self.assertEqual(json.loads(body)["access_token"], self.token)
        withdrawn = d.wait_log("event=trust_withdrawn")
        self.assertIn("reason=revoked", withdrawn)
        self.assertIn("CN=revoked-client", withdrawn)

    def short_lived_client(self, seconds):
        """A client certificate of the test intermediate that ends `seconds`
        from now, signed with `openssl ca` (x509 -days counts whole days)."""
        ca = os.path.join(self.tmp, "short-ca")
        os.makedirs(ca)
        open(os.path.join(ca, "index.txt"), "w").close()
        with open(os.path.join(ca, "ca.cnf"), "w") as f:
            f.write(f"[ca]\ndefault_ca = short\n[short]\ndatabase = {ca}/index.txt\n"
                    f"new_certs_dir = {ca}\nserial = {ca}/serial\ndefault_md = sha256\n"
                    "policy = any\nunique_subject = no\n[any]\ncommonName = supplied\n"
                    "[client]\nbasicConstraints = CA:FALSE\nextendedKeyUsage = clientAuth\n")
        with open(os.path.join(ca, "serial"), "w") as f:
            f.write("1000\n")
        key, csr, crt = (os.path.join(ca, n) for n in ("short.key", "short.csr", "short.crt"))
        subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", csr,
                        "-subj", "/CN=app-team-client/O=Internal"], check=True,
                       capture_output=True)
        fmt = "%Y%m%d%H%M%SZ"
        ends = time.time() + seconds
        subprocess.run(["openssl", "ca", "-batch", "-config", os.path.join(ca, "ca.cnf"),
                        "-cert", pki("intermediate.crt"), "-keyfile", pki("intermediate.key"),
                        "-extensions", "client", "-notext", "-in", csr, "-out", crt,
                        "-startdate", time.strftime(fmt, time.gmtime(time.time() - 300)),
                        "-enddate", time.strftime(fmt, time.gmtime(ends))],
                       check=True, capture_output=True)
        return crt, key, int(ends)

    def test_a_kept_alive_connection_ends_once_its_client_certificate_expires(self):
        d = self.start_reloading()
        crt, key, ends = self.short_lived_client(4)
        ctx = ssl.create_default_context(cafile=pki("ca-chain.crt"))
        ctx.load_cert_chain(crt, key)
        request = b"GET /get_wif_token HTTP/1.1\r\nHost: a\r\n\r\n"
        with socket.create_connection(("127.0.0.1", d.port), timeout=10) as raw:
            s = ctx.wrap_socket(raw, server_hostname="localhost")
            s.sendall(request)
            self.assertEqual(read_response(s)[0], 200)
            # The condition is the clock itself: past the certificate's end.
            wait_for(lambda: time.time() >= ends + 1, timeout=15, interval=0.1,
                     what="the client certificate to expire")
            s.sendall(request)
            try:
                data = s.recv(65536)
            except (ssl.SSLError, ConnectionError):
                data = b""
            self.assertEqual(data, b"")  # closed, with no answer
        withdrawn = d.wait_log("event=trust_withdrawn")
        self.assertIn("reason=expired", withdrawn)

    def test_a_resumed_connection_outlives_a_renewal_of_the_server_certificate(self):
        # The client sends its intermediate, the daemon trusts only the root:
        # a resumed session has no chain to check again, so a reload that
        # changes no trust must not check it at all.
        shutil.copy(pki("root-ca.crt"), self.path("ca-chain.crt"))
        d = self.start_reloading()
        ctx = ssl.create_default_context(cafile=pki("ca-chain.crt"))
        ctx.load_cert_chain(pki("client-chain.crt"), pki("client.key"))
        request = b"GET /get_wif_token HTTP/1.1\r\nHost: a\r\n\r\n"
        with socket.create_connection(("127.0.0.1", d.port), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as first:
                first.sendall(request)
                self.assertEqual(read_response(first)[0], 200)
                session = first.session
        with socket.create_connection(("127.0.0.1", d.port), timeout=10) as raw:
            resumed = ctx.wrap_socket(raw, server_hostname="localhost", session=session)
            self.assertTrue(resumed.session_reused)
            resumed.sendall(request)
            self.assertEqual(read_response(resumed)[0], 200)

            self.replace("server.key", "ec-server.key")
            self.replace("server.crt", "ec-server.crt")
            wait_for(lambda: self.served_certificate(d) == der_of("ec-server.crt"),
                     what="the renewed server certificate served")
            resumed.sendall(request)
            status, _, body, _ = read_response(resumed)
            self.assertEqual(status, 200)
            self.assertEqual(json.loads(body)["access_token"], self.token)
        self.assertNotIn("event=trust_withdrawn", d.log_text())

    def test_swapped_anchors_refuse_the_old_clients_and_accept_the_new(self):
        d = self.start_reloading()
        self.assertEqual(self.token_for(d), self.token)
        self.replace("ca-chain.crt", "other-ca.crt")
        d.wait_log("event=reload_applied trigger=file_change")
        self.assertIn("alert unknown ca", run_s_client(d, "client.crt", "client.key"))
        self.assertEqual(self.token_for(d, "other-client.crt", "other-client.key"), self.token)


class Rotation(ReloadTest):
    """A certificate and key replaced one after the other while clients keep
    asking: not one request may fail."""

    def rotate_under_load(self, between_steps):
        d = self.start_reloading()
        seen = {"rsa": 0, "ec": 0}
        failures = []
        stop = threading.Event()
        rsa, ec = der_of("server.crt"), der_of("ec-server.crt")

        def ask_on_new_connections():
            ctx = ssl.create_default_context(cafile=pki("root-ca.crt"))
            ctx.load_cert_chain(pki("client.crt"), pki("client.key"))
            while not stop.is_set():
                try:
                    with socket.create_connection(("127.0.0.1", d.port), timeout=10) as raw:
                        with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                            served = s.getpeercert(binary_form=True)
                            kind = "rsa" if served == rsa else "ec" if served == ec else "other"
                            seen[kind] = seen.get(kind, 0) + 1
                            s.sendall(b"GET /get_wif_token HTTP/1.0\r\n\r\n")
                            status, _, body, _ = read_response(s)
                            if status != 200 or json.loads(body)["access_token"] != self.token:
                                failures.append(status)
                except Exception as e:  # any failure of any kind counts
                    failures.append(repr(e))

        def ask_on_one_connection():
            ctx = ssl.create_default_context(cafile=pki("root-ca.crt"))
            ctx.load_cert_chain(pki("client.crt"), pki("client.key"))
            try:
                with socket.create_connection(("127.0.0.1", d.port), timeout=10) as raw:
                    with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                        leftover = b""
                        while not stop.is_set():
                            s.sendall(b"GET /get_wif_token HTTP/1.1\r\nHost: a\r\n\r\n")
                            status, _, _, leftover = read_response(s, leftover)
                            if status != 200:
                                failures.append(status)
            except Exception as e:
                failures.append(repr(e))

        threads = [threading.Thread(target=ask_on_new_connections),
                   threading.Thread(target=ask_on_one_connection)]
        for t in threads:
            t.start()
        try:
            wait_for(lambda: seen["rsa"] >= 5, what="requests before the rotation")
            self.replace("server.key", "ec-server.key")
            between_steps(d, seen)
            self.replace("server.crt", "ec-server.crt")
            d.wait_log("event=reload_applied trigger=file_change")
            wait_for(lambda: seen["ec"] >= 5, what="requests after the rotation")
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=20)
        self.assertEqual(failures, [])
        self.assertNotIn("other", seen)
        return d

    def test_key_first_then_certificate_after_a_pause_never_breaks_a_request(self):
        def pause(d, seen):
            # The daemon has seen the new key alone and waits for its
            # certificate; meanwhile the old pair keeps serving.
            d.wait_log("event=reload_waiting")
            before = seen["rsa"]
            wait_for(lambda: seen["rsa"] >= before + 5, what="requests while waiting")

        d = self.rotate_under_load(pause)
        self.assertNotIn("event=reload_rejected", d.log_text())

    def test_key_then_certificate_at_once_apply_together(self):
        d = self.rotate_under_load(lambda d, seen: None)
        self.assertNotIn("event=reload_rejected", d.log_text())


class ConfigReload(DaemonTest):
    """SIGHUP reads the config file again: access rules, responses and log
    settings change at once; anything else waits for a restart."""

    def rewrite(self, d, text):
        with open(d.config_path + ".tmp", "w") as f:
            f.write(text)
        os.rename(d.config_path + ".tmp", d.config_path)
        d.signal(signal.SIGHUP)

    def config_with(self, allow):
        return default_config(self.tmp, tokens=(
            "  wif:\n"
            f"    source: {{type: file, path: {self.token_path}}}\n"
            f"    allow: {allow}\n"))

    def reloads(self, d, result):
        with urllib.request.urlopen(f"http://127.0.0.1:{d.metrics_port}/metrics", timeout=10) as r:
            text = r.read().decode()
        series = f'wif_tokend_reloads_total{{kind="config",result="{result}"}} '
        return int(float(next(l for l in text.splitlines() if l.startswith(series)).split()[-1]))

    def test_a_rule_removed_by_sighup_refuses_the_client_at_its_next_request(self):
        d = self.start_daemon(self.config_with("[{cn: app-team-client}]"))
        ctx = ssl.create_default_context(cafile=pki("ca-chain.crt"))
        ctx.load_cert_chain(pki("client.crt"), pki("client.key"))
        request = b"GET /get_wif_token HTTP/1.1\r\nHost: a\r\n\r\n"
        with socket.create_connection(("127.0.0.1", d.port), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as kept:
                kept.sendall(request)
                self.assertEqual(read_response(kept)[0], 200)

                self.rewrite(d, self.config_with("[{cn: ci-runner}]"))
                d.wait_log("event=config_reloaded")
                kept.sendall(request)
                self.assertEqual(read_response(kept)[0], 403)  # same connection, new rules
        self.assertEqual(run_curl(d, extra=("-o", "/dev/null", "-w", "%{http_code}")).stdout,
                         "403")
        self.assertEqual(json.loads(run_curl(d, cert="team-client.crt",
                                             key="team-client.key").stdout)["access_token"],
                         self.token)
        self.assertEqual(self.reloads(d, "applied"), 1)

    def test_a_change_that_needs_a_restart_applies_nothing_and_says_so(self):
        d = self.start_daemon(self.config_with("[]"))
        changed = self.config_with("[{cn: ci-runner}]").replace("workers: 2", "workers: 1")
        self.rewrite(d, changed)
        d.wait_log("event=config_reload_needs_restart")
        self.assertIn(self.token, run_curl(d).stdout)  # the new rule was not applied either
        self.assertEqual(self.reloads(d, "rejected"), 1)

    def test_a_broken_file_is_refused_with_its_place_and_the_old_one_serves(self):
        d = self.start_daemon(self.config_with("[]"))
        self.rewrite(d, self.config_with("[{cn: ci-runner}]").replace("workers: 2",
                                                                       "workers: many"))
        line = d.wait_log("event=config_reload_rejected")
        self.assertIn(f"{d.config_path}:2:", line)
        self.assertIn("workers", line)
        self.assertIn(self.token, run_curl(d).stdout)
        self.assertEqual(self.reloads(d, "rejected"), 1)


if __name__ == "__main__":
    import unittest
    unittest.main()
