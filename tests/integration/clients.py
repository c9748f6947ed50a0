"""Clients for the hostile-input, limit and shutdown tests (issue #7): a
well-behaved bystander, raw TLS and TCP senders, the daemon side of a
connection as the kernel reports it, and a bounded load that classifies
every request's fate. Nothing here sleeps to synchronise."""

import json
import socket
import ssl
import struct
import subprocess
import threading

from harness import client_context, pki, read_response, wait_for
from test_metrics import scrape

TOKEN_REQUEST = b"GET /get_wif_token HTTP/1.1\r\nHost: localhost\r\n\r\n"


def strict_tls_connect(port, timeout=10):
    """A TLS connection whose recv() raises on an EOF without close_notify,
    so a reset or a cut connection is never mistaken for a clean close."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    return client_context().wrap_socket(raw, server_hostname="localhost",
                                        suppress_ragged_eofs=False)


def read_until_close(sock):
    """Everything the peer sends until it closes cleanly. Raises on a reset
    or on an EOF without close_notify (TLS)."""
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk


def raw_exchange(port, payload, timeout=10):
    """Sends bytes on a plain TCP connection to the TLS port and returns
    what came back before the daemon closed."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(payload)
        data = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                return data
            if not chunk:
                return data
            data += chunk


def tls_exchange(port, payload):
    """Sends bytes over a verified mTLS connection and returns every byte
    of plaintext until the daemon's close_notify."""
    with strict_tls_connect(port) as s:
        s.sendall(payload)
        return read_until_close(s)


def responses(data):
    """Splits a byte stream of HTTP/1.1 responses with Content-Length into
    (status, headers, body) tuples; fails on a truncated one."""
    out = []
    while data:
        head, sep, rest = data.partition(b"\r\n\r\n")
        if not sep:
            raise AssertionError(f"truncated response head: {data[:80]!r}")
        lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
        length = int(headers.get("content-length", "0"))
        if len(rest) < length:
            raise AssertionError(f"truncated body: {len(rest)} of {length} bytes")
        out.append((int(lines[0].split()[1]), headers, rest[:length]))
        data = rest[length:]
    return out


def client_hello(version):
    """A ClientHello for a protocol version before TLS 1.2 (0x0300 SSLv3,
    0x0301 TLS 1.0, 0x0302 TLS 1.1), built by hand because OpenSSL 3 will
    not offer them at Debian's security level (RFC 5246 section 7.4.1.2)."""
    suites = [0xC013, 0xC014, 0x002F, 0x0035, 0x000A]
    body = struct.pack(">H", version) + bytes(range(32)) + b"\x00"
    body += struct.pack(">H", 2 * len(suites)) + b"".join(struct.pack(">H", s) for s in suites)
    body += b"\x01\x00"  # one compression method: null
    handshake = b"\x01" + struct.pack(">I", len(body))[1:] + body
    return b"\x16" + struct.pack(">H", version) + struct.pack(">H", len(handshake)) + handshake


def alert_of(data):
    """(level, description) of the first TLS alert record in data, or None."""
    if len(data) >= 7 and data[0] == 0x15:
        return data[5], data[6]
    return None


class Bystander:
    """A well-behaved client on its own keep-alive connection: each check
    asks for the token on it and on a fresh connection."""

    def __init__(self, port, token):
        self.port = port
        self.token = token
        self.sock = strict_tls_connect(port)
        self.leftover = b""

    def check(self):
        self.sock.sendall(TOKEN_REQUEST)
        status, _, body, self.leftover = read_response(self.sock, self.leftover)
        assert status == 200, f"the bystander got {status}"
        assert json.loads(body)["access_token"] == self.token
        with strict_tls_connect(self.port) as fresh:
            fresh.sendall(TOKEN_REQUEST)
            status, _, body, _ = read_response(fresh)
        assert status == 200, f"a new connection got {status}"
        assert json.loads(body)["access_token"] == self.token

    def close(self):
        self.sock.close()


# /proc/net/tcp states (include/net/tcp_states.h).
TCP_ESTABLISHED = "01"


def daemon_side_state(daemon_port, client_sock):
    """The TCP state of the daemon's end of client_sock's connection as the
    kernel lists it in /proc/net/tcp, or None once the kernel has dropped
    it (after a reset, for instance)."""
    client_port = client_sock.getsockname()[1]
    want_local = f"0100007F:{daemon_port:04X}"
    want_remote = f"0100007F:{client_port:04X}"
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[1] == want_local and fields[2] == want_remote:
                return fields[3]
    return None


def metric(daemon, series):
    return scrape(daemon).get(series, 0)


def wait_metric(daemon, series, value, timeout=10):
    wait_for(lambda: metric(daemon, series) == value, timeout,
             what=f"{series} == {value} (now {metric(daemon, series)})")


def s_client(port, *args, stdin="", cert="client.crt", key="client.key"):
    cmd = ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername", "localhost",
           "-CAfile", pki("ca-chain.crt"), *args]
    if cert:
        cmd += ["-cert", pki(cert), "-key", pki(key)]
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=30)


class Load:
    """Clients that ask for the token in a loop until stopped, on new
    connections or on keep-alive ones, and sort every attempt:

      ok        a complete 200 with the token
      refused   the connection was refused (ECONNREFUSED), or closed before
                its TLS handshake completed: the daemon never took it
      retried   a keep-alive connection closed cleanly (close_notify) before
                any byte of an answer; RFC 9112 section 9.3.1 lets a client
                retry then, and it does, on a new connection
      failed    anything else: a reset or a cut after the handshake, a
                truncated or wrong answer, a status other than 200

    Each client stops at `stop()` or after max_requests, whichever is first.
    `token` is the value every answer must carry, or a function that says
    whether a value is acceptable (for a token that rotates).
    """

    def __init__(self, port, token, new_connections=2, keep_alive=2, max_requests=20000):
        self.port = port
        self.token = token
        self.max_requests = max_requests
        self.counts = {"ok": 0, "refused": 0, "retried": 0, "failed": 0}
        self.failures = []
        self._context = client_context()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._new_connections, daemon=True)
                         for _ in range(new_connections)]
        self._threads += [threading.Thread(target=self._keep_alive, daemon=True)
                          for _ in range(keep_alive)]

    def start(self):
        for t in self._threads:
            t.start()
        return self

    def stop(self):
        self._stop.set()
        for t in self._threads:
            t.join(timeout=30)
        assert not any(t.is_alive() for t in self._threads), "a load client hangs"
        return dict(self.counts)

    def total(self):
        with self._lock:
            return sum(self.counts.values())

    def _count(self, what, detail=None):
        with self._lock:
            self.counts[what] += 1
            if detail is not None and len(self.failures) < 20:
                self.failures.append(detail)

    def _acceptable(self, value):
        return self.token(value) if callable(self.token) else value == self.token

    def _running(self, done):
        return not self._stop.is_set() and done < self.max_requests

    def _connect(self):
        """A verified connection, or None after counting it as refused."""
        try:
            raw = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        except ConnectionRefusedError:
            self._count("refused")
            return None
        try:
            return self._context.wrap_socket(raw, server_hostname="localhost",
                                             suppress_ragged_eofs=False)
        except (ConnectionResetError, ssl.SSLEOFError, ssl.SSLZeroReturnError,
                BrokenPipeError):
            raw.close()
            self._count("refused")
        except OSError as e:  # an alert, a timeout: the daemon took it and failed
            raw.close()
            self._count("failed", f"handshake: {e!r}")
        return None

    def _check(self, status, body):
        if status != 200:
            self._count("failed", f"status {status}")
        elif not self._acceptable(json.loads(body).get("access_token")):
            self._count("failed", f"wrong body {body[:60]!r}")
        else:
            self._count("ok")

    def _new_connections(self):
        done = 0
        while self._running(done):
            done += 1
            s = self._connect()
            if s is None:
                continue
            try:
                with s:
                    s.sendall(TOKEN_REQUEST)
                    status, _, body, _ = read_response(s)
                self._check(status, body)
            except (OSError, AssertionError, ValueError) as e:
                self._count("failed", repr(e))

    def _keep_alive(self):
        done = 0
        s = None
        leftover = b""
        while self._running(done):
            done += 1
            if s is None:
                s = self._connect()
                leftover = b""
                if s is None:
                    continue
            try:
                s.sendall(TOKEN_REQUEST)
                first = leftover or s.recv(65536)
                if not first:
                    # Clean close_notify before any answer byte: retry.
                    self._count("retried")
                    s.close()
                    s = None
                    continue
                status, headers, body, leftover = read_response(s, first)
                self._check(status, body)
                if headers.get("connection") == "close":
                    s.close()
                    s = None
            except (OSError, AssertionError, ValueError) as e:
                self._count("failed", repr(e))
                s.close()
                s = None
        if s is not None:
            s.close()
