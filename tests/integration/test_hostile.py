"""Hostile and broken input sent to the real daemon (issue #7).

Each test sends one kind of bad input, checks the answer (a status or a
close), checks the counter that records it on the metrics listener, and
checks that a well-behaved client on another connection, and one on a new
connection, still get their token. docs/hostile-input.md lists what each
input gets and why."""

import json
import socket
import ssl
import unittest

from clients import (Bystander, alert_of, client_hello, daemon_side_state,
                     raw_exchange, read_until_close, responses, s_client,
                     strict_tls_connect, tls_exchange, wait_metric, TCP_ESTABLISHED)
from harness import DaemonTest, client_context, default_config, wait_for
from test_metrics import handshake_series

# TLS alert descriptions (RFC 8446 section 6).
HANDSHAKE_FAILURE = 40
PROTOCOL_VERSION = 70


def requests_series(route, method, code):
    return (f'wif_tokend_requests_total{{listener="mtls",route="{route}",method="{method}",'
            f'code="{code}"}}')


class HostileTest(DaemonTest):
    """A daemon and a bystander per test; every test ends by checking that
    the bystander is still served."""

    def setUp(self):
        super().setUp()
        self.d = self.start_daemon(default_config(self.tmp))
        self.bystander = Bystander(self.d.port, self.token)
        self.bystander.check()

    def tearDown(self):
        try:
            self.bystander.check()
            self.bystander.close()
        finally:
            super().tearDown()

    def assert_handshake_failures(self, reason, count):
        wait_metric(self.d, handshake_series(reason), count)

    def assert_requests(self, route, method, code, count):
        wait_metric(self.d, requests_series(route, method, code), count)

    def exchange(self, payload):
        """The answers to payload over mTLS, which must end in a clean close."""
        return responses(tls_exchange(self.d.port, payload))


class NotTls(HostileTest):
    def test_plain_http_on_the_tls_port_is_closed_as_a_protocol_failure(self):
        data = raw_exchange(self.d.port, b"GET /get_wif_token HTTP/1.1\r\nHost: localhost\r\n\r\n")
        self.assertNotIn(b"HTTP/1", data)
        self.assertNotIn(self.token.encode(), data)
        self.assert_handshake_failures("protocol", 1)

    def test_random_bytes_are_closed_as_a_protocol_failure(self):
        # A fixed pseudo-random block that is not a TLS record.
        payload = bytes((i * 151 + 7) % 256 for i in range(4096))
        data = raw_exchange(self.d.port, payload)
        self.assertNotIn(self.token.encode(), data)
        self.assert_handshake_failures("protocol", 1)


class OldProtocols(HostileTest):
    def refused_with(self, version, alert):
        data = raw_exchange(self.d.port, client_hello(version))
        self.assertEqual(alert_of(data), (2, alert), data.hex())
        self.assertEqual(len(data), 7, "nothing but the alert")

    def test_an_sslv3_hello_gets_a_handshake_failure_alert(self):
        self.refused_with(0x0300, HANDSHAKE_FAILURE)
        self.assert_handshake_failures("protocol", 1)

    def test_a_tls10_hello_gets_a_protocol_version_alert(self):
        self.refused_with(0x0301, PROTOCOL_VERSION)
        self.assert_handshake_failures("protocol", 1)

    def test_a_tls11_hello_gets_a_protocol_version_alert(self):
        self.refused_with(0x0302, PROTOCOL_VERSION)
        self.assert_handshake_failures("protocol", 1)


class Renegotiation(HostileTest):
    def test_a_tls12_renegotiation_is_refused_and_ends_the_connection(self):
        # "R" on a line of its own makes s_client renegotiate.
        r = s_client(self.d.port, "-tls1_2", stdin="R\n")
        self.assertIn("RENEGOTIATING", r.stdout + r.stderr)
        self.assertIn("no renegotiation", r.stderr)
        wait_metric(self.d, "wif_tokend_tls_renegotiations_refused_total", 1)
        self.assert_handshake_failures("none", 3)  # the bystander's two, and this one


class TamperedRecords(HostileTest):
    def test_a_record_that_fails_authentication_gets_bad_record_mac_and_a_close(self):
        # A real TLS 1.3 client (Python's ssl over memory BIOs) whose request
        # record has one byte changed on the way to the daemon.
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        client = client_context().wrap_bio(incoming, outgoing, server_hostname="localhost")
        with socket.create_connection(("127.0.0.1", self.d.port), timeout=10) as sock:
            while True:
                try:
                    client.do_handshake()
                    break
                except ssl.SSLWantReadError:
                    sock.sendall(outgoing.read())
                    data = sock.recv(65536)
                    self.assertTrue(data, "the daemon closed during the handshake")
                    incoming.write(data)
            self.assertEqual(client.version(), "TLSv1.3")
            client.write(b"GET /get_wif_token HTTP/1.1\r\nHost: localhost\r\n\r\n")
            record = bytearray(outgoing.read())
            record[-1] ^= 0x01
            sock.sendall(outgoing.read() + bytes(record))
            answer = b""
            while chunk := sock.recv(65536):  # the daemon closes cleanly, no reset
                answer += chunk
        self.assertNotIn(self.token.encode(), answer)
        incoming.write(answer)
        with self.assertRaises(ssl.SSLError) as raised:
            client.read()
        self.assertIn("BAD_RECORD_MAC", str(raised.exception).upper())
        wait_metric(self.d, "wif_tokend_tls_record_failures_total", 1)


class HugeHeaders(HostileTest):
    def test_a_70_kb_header_gets_431_and_a_close(self):
        answers = self.exchange(b"GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + b"a" * 70000 +
                                b"\r\n\r\n")
        self.assertEqual([a[0] for a in answers], [431])
        self.assertEqual(answers[0][1]["connection"], "close")
        self.assert_requests("invalid", "other", "431", 1)

    def test_5000_small_headers_get_431_and_a_close(self):
        headers = b"".join(b"X-%d: v\r\n" % i for i in range(5000))
        answers = self.exchange(b"GET / HTTP/1.1\r\nHost: a\r\n" + headers + b"\r\n")
        self.assertEqual([a[0] for a in answers], [431])
        self.assert_requests("invalid", "other", "431", 1)

    def test_a_header_split_across_many_tls_records_is_answered(self):
        request = (b"GET /get_wif_token HTTP/1.1\r\nHost: localhost\r\nX-Padding: " +
                   b"p" * 2000 + b"\r\nConnection: close\r\n\r\n")
        with strict_tls_connect(self.d.port) as s:
            for i in range(len(request)):
                s.sendall(request[i:i + 1])  # one TLS record per byte
            answers = responses(read_until_close(s))
        self.assertEqual([a[0] for a in answers], [200])
        self.assertEqual(json.loads(answers[0][2])["access_token"], self.token)
        self.assert_requests("token", "GET", "200", 3)  # with the bystander's two


class Smuggling(HostileTest):
    """Each shape gets one 400 and a close: the request behind it, which a
    proxy might have framed differently, is never answered."""

    follow_up = b"GET /get_wif_token HTTP/1.1\r\nHost: a\r\n\r\n"

    def refused(self, head):
        answers = self.exchange(head + self.follow_up)
        self.assertEqual([a[0] for a in answers], [400])
        self.assertEqual(answers[0][1]["connection"], "close")
        self.assertNotIn(self.token.encode(), answers[0][2])
        self.assert_requests("invalid", "other", "400", 1)

    def test_content_length_with_transfer_encoding(self):
        self.refused(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")

    def test_two_content_lengths(self):
        self.refused(b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n")

    def test_obsolete_line_folding(self):
        self.refused(b"GET / HTTP/1.1\r\nHost: a\r\nX-Folded: a\r\n b\r\n\r\n")

    def test_a_bare_lf(self):
        self.refused(b"GET / HTTP/1.1\nHost: a\n\n")

    def test_whitespace_before_a_colon(self):
        self.refused(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n"
                     b"0\r\n\r\n")

    def test_a_nul_byte(self):
        self.refused(b"GET / HTTP/1.1\r\nHost: a\x00b\r\n\r\n")


class Bodies(HostileTest):
    def test_a_get_with_a_content_length_body_gets_413_and_a_close(self):
        answers = self.exchange(b"GET /get_wif_token HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
                                b"\r\nhello")
        self.assertEqual([a[0] for a in answers], [413])
        self.assertNotIn(self.token.encode(), answers[0][2])
        self.assert_requests("invalid", "other", "413", 1)

    def test_a_get_with_a_chunked_body_gets_413_and_a_close(self):
        answers = self.exchange(b"GET /get_wif_token HTTP/1.1\r\nHost: a\r\n"
                                b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
        self.assertEqual([a[0] for a in answers], [413])
        self.assert_requests("invalid", "other", "413", 1)

    def test_a_get_with_an_empty_body_is_answered(self):
        answers = self.exchange(b"GET /get_wif_token HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n"
                                b"Connection: close\r\n\r\n")
        self.assertEqual([a[0] for a in answers], [200])


class PathSpellings(HostileTest):
    """One spelling reaches a token; every other one is 404, never a
    redirect and never the token (docs/hostile-input.md)."""

    def status_of(self, target):
        answers = self.exchange(b"GET " + target + b" HTTP/1.1\r\nHost: localhost\r\n"
                                b"Connection: close\r\n\r\n")
        self.assertEqual(len(answers), 1)
        return answers[0]

    def test_other_spellings_of_the_token_path_are_404(self):
        spellings = [b"//get_wif_token", b"/get_wif_token/", b"/./get_wif_token",
                     b"/x/../get_wif_token", b"/get%5Fwif%5Ftoken", b"/%67et_wif_token",
                     b"/GET_WIF_TOKEN", b"/get_wif_token;x", b"/get_wif_token#x",
                     b"https://localhost/get_wif_token", b"http://localhost/get_wif_token",
                     b"/v1/tokens/wif/", b"/v1/tokens//wif", b"/v1/tokens/WIF"]
        for target in spellings:
            with self.subTest(target=target):
                status, _, body = self.status_of(target)
                self.assertEqual(status, 404)
                self.assertEqual(json.loads(body), {"error": "not_found"})
        self.assert_requests("not_found", "GET", "404", len(spellings))

    def test_a_query_string_is_ignored_on_the_token_path(self):
        for target in [b"/get_wif_token?x=1", b"/get_wif_token?", b"/v1/tokens/wif?a=b&c"]:
            with self.subTest(target=target):
                status, _, body = self.status_of(target)
                self.assertEqual(status, 200)
                self.assertEqual(json.loads(body)["access_token"], self.token)
        self.assert_requests("token", "GET", "200", 2 + 3)  # the bystander's two


class Methods(HostileTest):
    def one_answer(self, request):
        answers = self.exchange(request)
        self.assertEqual(len(answers), 1)
        return answers[0]

    def test_connect_to_an_authority_is_404_and_the_connection_ends(self):
        status, headers, _ = self.one_answer(
            b"CONNECT localhost:443 HTTP/1.1\r\nHost: localhost:443\r\n\r\n"
            b"GET /get_wif_token HTTP/1.1\r\nHost: a\r\n\r\n")
        self.assertEqual(status, 404)
        self.assertEqual(headers["connection"], "close")
        self.assert_requests("not_found", "CONNECT", "404", 1)

    def test_connect_to_the_token_path_is_405_and_the_connection_ends(self):
        status, headers, _ = self.one_answer(
            b"CONNECT /get_wif_token HTTP/1.1\r\nHost: a\r\n\r\n"
            b"GET /get_wif_token HTTP/1.1\r\nHost: a\r\n\r\n")
        self.assertEqual(status, 405)
        self.assertEqual(headers["allow"], "GET, HEAD")
        self.assert_requests("token", "CONNECT", "405", 1)

    def test_trace_is_405_and_echoes_nothing(self):
        status, headers, body = self.one_answer(
            b"TRACE /get_wif_token HTTP/1.1\r\nHost: a\r\nX-Echo: secret-cookie\r\n"
            b"Connection: close\r\n\r\n")
        self.assertEqual(status, 405)
        self.assertEqual(headers["allow"], "GET, HEAD")
        self.assertNotIn(b"secret-cookie", body)
        self.assert_requests("token", "TRACE", "405", 1)

    def test_options_on_a_path_is_405_with_allow(self):
        status, headers, _ = self.one_answer(
            b"OPTIONS /get_wif_token HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        self.assertEqual(status, 405)
        self.assertEqual(headers["allow"], "GET, HEAD")
        self.assert_requests("token", "OPTIONS", "405", 1)

    def test_options_asterisk_is_404(self):
        status, _, _ = self.one_answer(b"OPTIONS * HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        self.assertEqual(status, 404)
        self.assert_requests("not_found", "OPTIONS", "404", 1)

    def test_an_upgrade_request_is_answered_as_http11_and_the_connection_ends(self):
        status, headers, body = self.one_answer(
            b"GET /get_wif_token HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")
        self.assertEqual(status, 200)
        self.assertEqual(headers["connection"], "close")
        self.assertEqual(json.loads(body)["access_token"], self.token)

    def test_an_unknown_method_is_400(self):
        status, _, _ = self.one_answer(b"BREW /get_wif_token HTTP/1.1\r\nHost: a\r\n\r\n")
        self.assertEqual(status, 400)
        self.assert_requests("invalid", "other", "400", 1)


class Closing(HostileTest):
    def test_answers_followed_by_unread_input_are_not_cut_by_a_reset(self):
        """Regression: the daemon closed with input still unread, the kernel
        answered with a reset, and the reset discarded answers the client had
        not read yet. The client here reads nothing until the daemon has ended
        its side, and must still get every answer."""
        count = 1000
        with strict_tls_connect(self.d.port) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.sendall(b"GET /get_wif_token HTTP/1.1\r\nHost: a\r\n\r\n" * (count - 1) +
                      b"GET /get_wif_token HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n" +
                      b"unread trailing input " * 5000)
            wait_for(lambda: daemon_side_state(self.d.port, s) != TCP_ESTABLISHED,
                     what="the daemon to end its side")
            answers = responses(read_until_close(s))
        self.assertEqual(len(answers), count)
        self.assertTrue(all(a[0] == 200 for a in answers))
        self.assertEqual(answers[-1][1]["connection"], "close")


if __name__ == "__main__":
    unittest.main()
