"""Stopping and restarting the real daemon (issue #7): a drain that finishes
what is in flight and closes the rest cleanly, the shutdown timeout, a
second signal, a load running through the stop, and a restart on the same
port (SO_REUSEPORT) under load."""

import json
import signal
import socket
import unittest

from clients import (TOKEN_REQUEST, Load, metric, read_until_close, responses,
                     strict_tls_connect)
from harness import Daemon, DaemonTest, default_config, read_response, wait_for


def refused(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    except ConnectionRefusedError:
        return True
    return False


def served(daemon):
    return metric(daemon, 'wif_tokend_token_requests_total{token="wif",result="served"}')


class Drain(DaemonTest):
    def test_a_second_signal_exits_at_once(self):
        d = self.start_daemon(default_config(self.tmp, http="http: {header_timeout: 60s}\n")
                              .replace("shutdown_timeout: 5s", "shutdown_timeout: 60s"))
        with strict_tls_connect(d.port, timeout=30) as stuck:
            stuck.sendall(b"GET /get_wif_token HTTP/1.1\r\n")
            d.signal(signal.SIGTERM)
            d.wait_log("event=shutting_down")
            d.signal(signal.SIGINT)
            # Long before the 60 s shutdown_timeout.
            self.assertEqual(d.proc.wait(timeout=20), 1)
        self.assertIn("event=forced_exit", d.log_text())
        self.daemons.remove(d)  # its exit status 1 is the point here


if __name__ == "__main__":
    unittest.main()
