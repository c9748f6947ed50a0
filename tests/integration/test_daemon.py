"""The drop-in contract of the original Flask app, against the real binary,
with the real clients: curl, python3 requests, openssl s_client."""

import json
import os
import socket
import subprocess
import threading
import unittest

import requests

from harness import Daemon, DaemonTest, default_config, pki, read_response, tls_connect, wait_for


def curl(daemon, path="/get_wif_token", cert="client.crt", key="client.key", extra=(),
         ca="ca-chain.crt"):
    cmd = ["curl", "-sS", "--max-time", "10", "--cacert", pki(ca)]
    if cert:
        cmd += ["--cert", pki(cert), "--key", pki(key)]
    cmd += list(extra) + [daemon.url(path)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=20)


class OriginalClients(DaemonTest):
    def test_curl_with_the_original_options_gets_the_token(self):
        d = self.start_daemon()
        r = curl(d)
        self.assertEqual(r.returncode, 0, r.stderr)
        body = json.loads(r.stdout)
        self.assertEqual(body["access_token"], self.token)
        self.assertEqual(body["token_type"], "Bearer")
        self.assertNotIn("expires_in", body)  # a plain file has no known expiry

    def test_python_requests_client_as_the_original_calls_it(self):
        d = self.start_daemon()
        os.chdir(os.environ["WIF_TEST_PKI"])
        response = requests.get(d.url(), cert=("client.crt", "client.key"), verify="ca-chain.crt")
        response.raise_for_status()
        self.assertEqual(response.json().get("access_token", None), self.token)
        self.assertEqual(response.headers["Content-Type"], "application/json")
        self.assertEqual(response.headers["Cache-Control"], "no-store")

    def test_root_answers_status_ok(self):
        d = self.start_daemon()
        r = curl(d, "/")
        self.assertEqual(json.loads(r.stdout), {"status": "OK"})

    def test_ec_client_certificates_work(self):
        d = self.start_daemon()
        r = curl(d, cert="ec-client.crt", key="ec-client.key")
        self.assertEqual(json.loads(r.stdout)["access_token"], self.token)

    def test_client_certificate_without_extended_key_usage_is_accepted(self):
        d = self.start_daemon()
        r = curl(d, cert="noeku-client.crt", key="noeku-client.key")
        self.assertEqual(json.loads(r.stdout)["access_token"], self.token)


class Refusals(DaemonTest):
    """Each refused client sees the real reason as a TLS alert and never HTTP."""

    def s_client(self, d, cert=None, key=None, version="-tls1_3"):
        cmd = ["openssl", "s_client", "-connect", f"127.0.0.1:{d.port}", "-servername",
               "localhost", "-CAfile", pki("ca-chain.crt"), version, "-ign_eof"]
        if cert:
            cmd += ["-cert", pki(cert), "-key", pki(key)]
        r = subprocess.run(cmd, input="GET /get_wif_token HTTP/1.0\r\n\r\n",
                           capture_output=True, text=True, timeout=20)
        out = r.stdout + r.stderr
        self.assertNotIn(self.token, out)
        self.assertNotIn("HTTP/1", out)
        return out

    def test_no_client_certificate_gets_certificate_required(self):
        d = self.start_daemon()
        self.assertIn("alert certificate required", self.s_client(d))

    def test_no_client_certificate_over_tls12_gets_handshake_failure(self):
        d = self.start_daemon()
        self.assertIn("alert handshake failure", self.s_client(d, version="-tls1_2"))

    def test_certificate_from_another_ca_gets_unknown_ca(self):
        d = self.start_daemon()
        self.assertIn("alert unknown ca", self.s_client(d, "other-client.crt", "other-client.key"))

    def test_expired_certificate_gets_certificate_expired(self):
        d = self.start_daemon()
        self.assertIn("alert certificate expired",
                      self.s_client(d, "expired-client.crt", "expired-client.key"))

    def test_not_yet_valid_certificate_is_refused(self):
        d = self.start_daemon()
        self.assertIn("alert bad certificate",
                      self.s_client(d, "future-client.crt", "future-client.key"))

    def test_server_only_certificate_is_refused(self):
        d = self.start_daemon()
        self.assertIn("alert unsupported certificate",
                      self.s_client(d, "serveronly-client.crt", "serveronly-client.key"))

    def test_tls11_is_refused(self):
        d = self.start_daemon()
        out = self.s_client(d, "client.crt", "client.key", version="-tls1_1")
        self.assertRegex(out, r"alert protocol version|no protocols available|unsupported protocol")

    def test_a_client_that_refuses_the_servers_certificate_is_told_apart(self):
        # A client trusting another CA: the server's certificate is what an
        # operator must look at, and the reason says so.
        d = self.start_daemon()
        r = curl(d, ca="other-ca.crt")
        self.assertEqual(r.returncode, 60, r.stderr)  # curl: the peer's certificate is not trusted
        line = d.wait_log("event=handshake_failed")
        self.assertIn("level=debug", line)  # the peer's doing: counted, logged at debug
        self.assertIn("reason=server_certificate_refused", line)
        self.assertIn("peer=127.0.0.1:", line)

    def test_curl_without_certificate_fails(self):
        d = self.start_daemon()
        r = curl(d, cert=None)
        self.assertNotEqual(r.returncode, 0)
        self.assertNotIn(self.token, r.stdout)


class HttpContract(DaemonTest):
    def test_keep_alive_serves_several_requests_on_one_connection(self):
        d = self.start_daemon()
        with tls_connect(d.port) as s:
            leftover = b""
            for _ in range(3):
                s.sendall(b"GET /get_wif_token HTTP/1.1\r\nHost: localhost\r\n\r\n")
                status, headers, body, leftover = read_response(s, leftover)
                self.assertEqual(status, 200)
                self.assertEqual(json.loads(body)["access_token"], self.token)

    def test_pipelined_requests_are_answered_in_order(self):
        d = self.start_daemon()
        with tls_connect(d.port) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"
                      b"GET /get_wif_token HTTP/1.1\r\nHost: a\r\n\r\n"
                      b"GET /nope HTTP/1.1\r\nHost: a\r\n\r\n")
            st1, _, b1, rest = read_response(s)
            st2, _, b2, rest = read_response(s, rest)
            st3, _, _, rest = read_response(s, rest)
        self.assertEqual((st1, st2, st3), (200, 200, 404))
        self.assertEqual(json.loads(b1), {"status": "OK"})
        self.assertEqual(json.loads(b2)["access_token"], self.token)

    def test_http10_is_closed_after_the_answer(self):
        d = self.start_daemon()
        with tls_connect(d.port) as s:
            s.sendall(b"GET / HTTP/1.0\r\n\r\n")
            status, headers, _, _ = read_response(s)
            self.assertEqual(status, 200)
            self.assertEqual(headers["connection"], "close")
            self.assertEqual(s.recv(100), b"")  # close_notify, then EOF

    def test_http10_keep_alive_stays_open(self):
        d = self.start_daemon()
        with tls_connect(d.port) as s:
            for _ in range(2):
                s.sendall(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
                status, headers, _, _ = read_response(s)
                self.assertEqual(status, 200)
                self.assertEqual(headers["connection"], "keep-alive")

    def test_head_answers_headers_without_body(self):
        d = self.start_daemon()
        with tls_connect(d.port) as s:
            s.sendall(b"HEAD /get_wif_token HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")
            data = b""
            while data.count(b"\r\n\r\n") < 2 or not data.endswith(b"}"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        first, second = data.split(b"HTTP/1.1 200", 2)[1:]
        self.assertTrue(first.endswith(b"\r\n\r\n"), first)  # no body after HEAD headers
        self.assertNotIn(self.token.encode(), first)
        self.assertIn(b'{"status":"OK"}', second)

    def test_unknown_path_is_404_and_wrong_method_is_405_with_allow(self):
        d = self.start_daemon()
        r = curl(d, "/get_wif_token/", extra=["-i"])
        self.assertIn("HTTP/1.1 404", r.stdout)
        r = curl(d, "/get_wif_token", extra=["-i", "-X", "POST"])
        self.assertIn("HTTP/1.1 405", r.stdout)
        self.assertIn("Allow: GET, HEAD", r.stdout)

    def test_malformed_request_gets_400_and_a_close(self):
        d = self.start_daemon()
        with tls_connect(d.port) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost a\r\n\r\n")
            status, headers, _, _ = read_response(s)
            self.assertEqual(status, 400)
            self.assertEqual(s.recv(100), b"")

    def test_oversized_header_block_gets_431(self):
        d = self.start_daemon()
        with tls_connect(d.port) as s:
            s.sendall(b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n")
            status, _, _, _ = read_response(s)
            self.assertEqual(status, 431)


class TokenFile(DaemonTest):
    def test_missing_token_file_answers_503_with_retry_after(self):
        os.unlink(self.token_path)
        d = self.start_daemon()
        r = curl(d, extra=["-i"])
        self.assertIn("HTTP/1.1 503", r.stdout)
        self.assertIn("Retry-After:", r.stdout)
        self.assertIn('"error":"temporarily_unavailable"', r.stdout)
        self.assertNotIn(self.tmp, r.stdout)  # never a path

    def test_empty_token_file_is_never_served(self):
        with open(self.token_path, "w"):
            pass
        d = self.start_daemon()
        r = curl(d, extra=["-i"])
        self.assertIn("HTTP/1.1 503", r.stdout)

    def test_token_file_appearing_later_is_served_without_restart(self):
        os.unlink(self.token_path)
        d = self.start_daemon()
        self.write_token("late-token")
        wait_for(lambda: '"late-token"' in curl(d).stdout, what="the late token")

    def test_atomic_rename_while_clients_ask_never_breaks_an_answer(self):
        d = self.start_daemon()
        seen = []
        errors = []
        stop = threading.Event()

        def ask():
            with tls_connect(d.port) as s:
                leftover = b""
                while not stop.is_set():
                    s.sendall(b"GET /get_wif_token HTTP/1.1\r\nHost: a\r\n\r\n")
                    status, _, body, leftover = read_response(s, leftover)
                    if status != 200:
                        errors.append(status)
                    seen.append(json.loads(body)["access_token"])

        client = threading.Thread(target=ask)
        client.start()
        try:
            for i in range(20):
                self.write_token(f"rotated-{i}")
                wait_for(lambda: seen and seen[-1] == f"rotated-{i}", what=f"rotated-{i}")
        finally:
            stop.set()
            client.join(timeout=10)
        self.assertEqual(errors, [])
        allowed = {self.token} | {f"rotated-{i}" for i in range(20)}
        self.assertTrue(set(seen) <= allowed, set(seen) - allowed)


class Shutdown(DaemonTest):
    def test_sigterm_stops_with_exit_code_zero(self):
        d = self.start_daemon()
        self.assertEqual(curl(d, "/").returncode, 0)
        self.assertEqual(d.stop(), 0)
        self.assertIn("event=stopped", d.log_text())


class StartUp(DaemonTest):
    def test_a_busy_port_stops_start_up_with_a_message_naming_it(self):
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))  # no SO_REUSEPORT: the daemon cannot join it
            busy.listen()
            port = busy.getsockname()[1]
            d = Daemon(self.tmp, default_config(self.tmp).replace(
                'listen: "127.0.0.1:0"', f'listen: "127.0.0.1:{port}"'))
            d.start(expect_listening=False)
            self.addCleanup(lambda: d.proc.poll() is None and d.proc.kill())
            self.assertEqual(d.proc.wait(timeout=15), 1)  # its own exit, not an abort
            d.wait_log("event=cannot_listen")
            self.assertIn(f"127.0.0.1:{port}: Address already in use", d.log_text())

    def test_a_second_daemon_on_the_same_port_says_it_shares_it(self):
        first = self.start_daemon()
        self.assertNotIn("event=port_shared", first.log_text())
        config = default_config(self.tmp).replace(
            'listen: "127.0.0.1:0"', f'listen: "127.0.0.1:{first.port}"')
        second = self.start_daemon(config)
        self.assertEqual(second.port, first.port)
        second.wait_log("event=port_shared")
        self.assertIn(f"addr=127.0.0.1:{first.port}", second.log_text())


if __name__ == "__main__":
    unittest.main()
