"""Limits and overload against the real daemon (issue #7): max_connections,
clients too slow to finish a handshake, a request or a read, and the memory
a client that never reads can make the daemon hold."""

import json
import os
import select
import socket
import ssl
import struct
import threading
import unittest

from clients import (TOKEN_REQUEST, Bystander, client_hello, metric, read_until_close,
                     strict_tls_connect, wait_metric)
from harness import DaemonTest, default_config, read_response, wait_for


def timeouts_series(phase):
    return f'wif_tokend_connection_timeouts_total{{listener="mtls",phase="{phase}"}}'


def get_token(sock, leftover=b""):
    sock.sendall(TOKEN_REQUEST)
    status, _, body, leftover = read_response(sock, leftover)
    return status, json.loads(body), leftover


def closed_by_daemon(sock):
    """Blocks until the daemon closes sock (a clean EOF or a reset) and
    returns what it sent first."""
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, ssl.SSLEOFError):
            return data
        if not chunk:
            return data
        data += chunk


def resident_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS line")


class MaxConnections(DaemonTest):
    def test_past_the_limit_new_connections_close_at_once_and_open_ones_keep_being_served(self):
        d = self.start_daemon(default_config(self.tmp, http="http: {max_connections: 3}\n"))
        open_ones = [strict_tls_connect(d.port) for _ in range(3)]
        leftovers = [b""] * 3
        for i, s in enumerate(open_ones):
            status, body, leftovers[i] = get_token(s)
            self.assertEqual((status, body["access_token"]), (200, self.token))

        for attempt in range(1, 4):
            with self.assertRaises(OSError):  # closed during the handshake
                strict_tls_connect(d.port).close()
            wait_metric(d, 'wif_tokend_connections_refused_total{listener="mtls"}', attempt)

        for i, s in enumerate(open_ones):
            status, body, leftovers[i] = get_token(s, leftovers[i])
            self.assertEqual((status, body["access_token"]), (200, self.token))

        open_ones.pop().close()
        wait_metric(d, 'wif_tokend_connections_active{listener="mtls"}', 2)
        with strict_tls_connect(d.port) as again:
            self.assertEqual(get_token(again)[0], 200)
        for s in open_ones:
            s.close()


class SlowClients(DaemonTest):
    """Four kinds of slow client at once, each closed at its own limit,
    while a normal client is answered before any of them times out."""

    http = "http: {handshake_timeout: 4s, header_timeout: 4s, idle_timeout: 5s}\n"

    def test_each_slow_client_is_closed_at_its_limit_while_others_are_served(self):
        d = self.start_daemon(default_config(self.tmp, http=self.http))

        silent = socket.create_connection(("127.0.0.1", d.port), timeout=20)
        stalled = socket.create_connection(("127.0.0.1", d.port), timeout=20)
        hello = client_hello(0x0303)
        stalled.sendall(hello[:len(hello) // 2])
        trickler = strict_tls_connect(d.port, timeout=20)
        reader = strict_tls_connect(d.port, timeout=20)
        reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)

        # The trickler sends a byte every 100 ms: 30 s for the whole request
        # unless the header deadline, armed at its first byte, ends it.
        trickle = b"GET /get_wif_token HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + b"s" * 260
        sent = []
        stop = threading.Event()

        def trickle_bytes():
            for i in range(len(trickle)):
                if stop.wait(0.1):
                    return
                try:
                    trickler.sendall(trickle[i:i + 1])
                except OSError:
                    return
                sent.append(i)

        trickling = threading.Thread(target=trickle_bytes, daemon=True)
        trickling.start()

        # The non-reader pipelines until its socket will take no more.
        reader.setblocking(False)
        pushed = 0
        while pushed < 4 * 1024 * 1024:
            try:
                pushed += reader.send(TOKEN_REQUEST * 200)
            except ssl.SSLWantWriteError:
                break
        reader.setblocking(True)

        # A normal client meanwhile: answered while every slow one is open.
        bystander = Bystander(d.port, self.token)
        bystander.check()
        for phase in ("handshake", "header", "idle", "write"):
            self.assertEqual(metric(d, timeouts_series(phase)), 0, phase)

        self.assertEqual(closed_by_daemon(silent), b"")
        self.assertEqual(closed_by_daemon(stalled), b"")
        wait_metric(d, timeouts_series("handshake"), 2)
        wait_metric(d, 'wif_tokend_tls_handshakes_total{result="failed",reason="timeout"}', 2)

        answer = closed_by_daemon(trickler)
        self.assertTrue(answer.startswith(b"HTTP/1.1 408 "), answer[:40])
        self.assertLess(len(sent), len(trickle), "the deadline was pushed back by each byte")
        wait_metric(d, timeouts_series("header"), 1)
        stop.set()

        wait_metric(d, timeouts_series("write"), 1, timeout=20)
        bystander.close()  # idle past its own limit by now
        late = Bystander(d.port, self.token)
        late.check()
        late.close()
        for s in (silent, stalled, trickler, reader):
            s.close()

    def test_an_idle_keep_alive_connection_gets_close_notify_at_its_limit(self):
        d = self.start_daemon(default_config(self.tmp, http="http: {idle_timeout: 1s}\n"))
        with strict_tls_connect(d.port, timeout=20) as s:
            self.assertEqual(get_token(s)[0], 200)
            self.assertEqual(read_until_close(s), b"")  # close_notify, or it raises
        wait_metric(d, timeouts_series("idle"), 1)


def one_answer(d):
    """One answer to TOKEN_REQUEST, as the daemon renders it."""
    with strict_tls_connect(d.port) as s:
        s.sendall(TOKEN_REQUEST)
        data = b""
        while b"}" not in data:
            data += s.recv(65536)
    return data


def tcp_queues(local_port, remote_port):
    """(send queue, receive queue) in bytes of the loopback TCP socket from
    local_port to remote_port, as /proc/net/tcp shows them."""
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            fields = line.split()
            local, remote, queues = fields[1], fields[2], fields[4]
            if (int(local.split(":")[1], 16), int(remote.split(":")[1], 16)) == (local_port,
                                                                                  remote_port):
                tx, rx = queues.split(":")
                return int(tx, 16), int(rx, 16)
    raise AssertionError(f"no socket {local_port} -> {remote_port} in /proc/net/tcp")


class PartialWrites(DaemonTest):
    def test_answers_a_full_socket_takes_in_part_arrive_whole_and_in_order(self):
        """A client pipelines requests and reads nothing until the daemon
        holds answers the kernel would not take: its
        writes went to the socket in part (uv_try_write) and the rest waits
        in the daemon (uv_write). Every answer must then arrive whole and in
        order: a wrong offset into what is left would break a TLS record."""
        d = self.start_daemon(default_config(self.tmp, http="http: {idle_timeout: 60s}\n"))
        answer_bytes = len(one_answer(d))
        served = 'wif_tokend_token_requests_total{token="wif",result="served"}'
        served_before = metric(d, served)
        with strict_tls_connect(d.port, timeout=30) as s:
            client_port = s.getsockname()[1]

            # Answered, but more than both ends' kernel buffers hold: the
            # rest is in the daemon, waiting for the socket. A worker counts
            # each answer as it renders a batch and writes the batch after,
            # so only a state that lasts over several scrapes counts.
            def held_now():
                answered = (metric(d, served) - served_before) * answer_bytes
                in_kernel = tcp_queues(d.port, client_port)[0] + tcp_queues(client_port,
                                                                            d.port)[1]
                return answered > in_kernel + 64 * 1024

            def held_by_daemon():
                return all(held_now() for _ in range(5))

            # How much the kernel takes depends on its send buffer tuning, so
            # requests go in small batches, each while the socket has room,
            # until the daemon holds some answers.
            sent = 0
            while not held_by_daemon():
                self.assertLess(sent, 40000, "the kernel took every answer")
                _, writable, _ = select.select([], [s], [], 10)
                self.assertTrue(writable, "the daemon stopped reading without holding answers")
                s.sendall(TOKEN_REQUEST * 50)
                sent += 50
            print(f"\n{sent} requests pipelined before the daemon held answers")

            leftover = b""
            for i in range(sent):
                status, _, body, leftover = read_response(s, leftover)
                self.assertEqual((i, status, json.loads(body)["access_token"]),
                                 (i, 200, self.token))
            self.assertEqual(leftover, b"")
        self.assertEqual(metric(d, served) - served_before, sent)


class WriteErrors(DaemonTest):
    def test_an_answer_to_a_client_that_reset_closes_the_connection_at_once(self):
        """A request held for a token that is not there yet, whose client
        then resets the connection (a held connection reads nothing, so the
        daemon does not see it): when the token comes, the answer's write and
        the reading that resumes with it meet the reset, and the connection
        must close then, not at its idle timeout. (Either alone closes it, so
        this does not pin which one does.)"""
        os.unlink(self.token_path)
        tokens = ("  wif:\n"
                  f"    source: {{type: file, path: {self.token_path}}}\n"
                  "    request_wait: 30s\n")
        d = self.start_daemon(default_config(self.tmp, tokens=tokens,
                                             http="http: {idle_timeout: 300s}\n"))
        active = 'wif_tokend_connections_active{listener="mtls"}'
        s = strict_tls_connect(d.port)
        s.sendall(TOKEN_REQUEST)
        client_port = s.getsockname()[1]
        # Read by the daemon (its receive queue is empty) and not answered.
        wait_for(lambda: tcp_queues(d.port, client_port)[1] == 0 and metric(d, active) == 1,
                 what="the request read and held")
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()  # a reset, not a FIN

        self.write_token(self.token)
        wait_metric(d, active, 0)
        with strict_tls_connect(d.port) as other:
            status, body, _ = get_token(other)
            self.assertEqual((status, body["access_token"]), (200, self.token))


class SlowReaders(DaemonTest):
    def answer(self, d):
        return one_answer(d)

    # ThreadSanitizer's shadow memory grows with every byte the daemon
    # touches, several times over: the figure would measure TSan.
    @unittest.skipIf(os.environ.get("WIF_SANITIZE") == "thread",
                     "resident memory under ThreadSanitizer is TSan's")
    def test_answers_waiting_for_clients_that_never_read_are_bounded_per_connection(self):
        """Each client pipelines as many requests as its socket takes and
        reads nothing. The daemon stops reading a connection once 256 KiB of
        answers wait for it, so what it holds stays near that per connection
        however much the clients send."""
        # Under AddressSanitizer (scripts/sanitize.sh) freed memory waits in
        # a quarantine first, which would count here as held: not for this
        # daemon. Other builds ignore the variable.
        asan = os.environ.get("ASAN_OPTIONS", "")
        d = self.start_daemon(default_config(self.tmp, http="http: {idle_timeout: 60s}\n"),
                              env={"ASAN_OPTIONS": asan + ":quarantine_size_mb=0"
                                                          ":thread_local_quarantine_size_kb=0"})
        clients = 16
        before = resident_bytes(d.proc.pid)
        answered_before = metric(d, 'wif_tokend_token_requests_total{token="wif",result="served"}')

        sockets = []
        pushed = 0
        for _ in range(clients):
            s = strict_tls_connect(d.port)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.setblocking(False)
            mine = 0
            while mine < 2 * 1024 * 1024:
                try:
                    mine += s.send(TOKEN_REQUEST * 300)
                except ssl.SSLWantWriteError:
                    break
            pushed += mine
            sockets.append(s)

        # Wait until the daemon has stopped answering: the count holds still.
        def settled():
            first = metric(d, 'wif_tokend_token_requests_total{token="wif",result="served"}')
            return first if wait_stable(d, first) else None

        answered = wait_for(settled, timeout=30, what="the answers to stop") - answered_before
        grown = resident_bytes(d.proc.pid) - before
        requests_sent = pushed // len(TOKEN_REQUEST)
        print(f"\n{clients} clients sent {pushed} bytes ({requests_sent} requests); "
              f"{int(answered)} answered; resident memory grew by {grown} bytes "
              f"({grown // clients} per connection)")

        # Far more was asked than answered: the daemon stopped reading. What
        # it holds per connection is the 256 KiB cap on answers not yet taken
        # by the socket, the memory BIO that staged them, a read's worth of
        # input and the TLS state: under 2 MiB, where holding every answer
        # owed would take several times that.
        owed = requests_sent * len(self.answer(d))
        self.assertGreater(requests_sent, 2 * answered)
        self.assertLess(grown, clients * 2 * 1024 * 1024)
        self.assertLess(grown, owed / 4)
        for s in sockets:
            s.close()


def wait_stable(d, value, rounds=10):
    """True when the served count stays at value over a few scrapes that
    are each a full round trip apart (no timer: the scrapes pace it)."""
    for _ in range(rounds):
        if metric(d, 'wif_tokend_token_requests_total{token="wif",result="served"}') != value:
            return False
    return True


if __name__ == "__main__":
    unittest.main()
