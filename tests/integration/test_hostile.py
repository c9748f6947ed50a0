"""Hostile and broken input sent to the real daemon (issue #7).

Each test sends one kind of bad input, checks the answer (a status or a
close), checks the counter that records it on the metrics listener, and
checks that a well-behaved client on another connection, and one on a new
connection, still get their token. docs/hostile-input.md lists what each
input gets and why."""

import json
import os
import socket
import unittest

from clients import (Bystander, alert_of, client_hello, daemon_side_state, metric,
                     raw_exchange, read_until_close, responses, s_client,
                     strict_tls_connect, tls_exchange, wait_metric, TCP_ESTABLISHED)
from harness import DaemonTest, default_config, wait_for
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
