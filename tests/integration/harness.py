"""Runs the real wif-tokend binary for integration tests.

Each test gets a temporary folder with a config (listening on 127.0.0.1
port 0), starts the daemon, learns the ports from its `listening` log lines,
and stops it by PID with SIGTERM at the end. Nothing here sleeps to
synchronise: every wait polls a condition until a deadline.
"""

import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest

BINARY = os.environ.get("WIF_TOKEND_BIN", "")
PKI = os.environ.get("WIF_TEST_PKI", "")
SOURCE_ROOT = os.environ.get("WIF_SOURCE_ROOT", "")


def pki(name):
    return os.path.join(PKI, name)


def wait_for(condition, timeout=10.0, interval=0.02, what="condition"):
    """Polls condition() until it returns a true value or the deadline passes."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def default_config(tmp, extra_tls="", extra_top="", tokens=None, http=""):
    tokens = tokens or (
        "  wif:\n"
        "    source: {type: file, path: %s}\n" % os.path.join(tmp, "wif_token.txt")
    )
    return (
        'listen: "127.0.0.1:0"\n'
        "workers: 2\n"
        "shutdown_timeout: 5s\n"
        f"{extra_top}"
        "tls:\n"
        f"  cert: {pki('server.crt')}\n"
        f"  key: {pki('server.key')}\n"
        f"  client_ca: {pki('ca-chain.crt')}\n"
        f"{extra_tls}"
        f"{http}"
        "tokens:\n"
        f"{tokens}"
        'metrics: {listen: "127.0.0.1:0"}\n'
        "log: {level: debug}\n"
    )


class Daemon:
    """One running wif-tokend process."""

    def __init__(self, workdir, config_text=None, env=None, args=()):
        self.workdir = workdir
        self.config_path = os.path.join(workdir, "wif-tokend.yaml")
        if config_text is not None:
            with open(self.config_path, "w") as f:
                f.write(config_text)
        self.env = dict(os.environ)
        self.env.update(env or {})
        self.args = list(args)
        self.lines = []
        self._lock = threading.Lock()
        self.proc = None
        self.port = None
        self.metrics_port = None

    def start(self, expect_listening=True):
        cmd = [BINARY, "--config", self.config_path] + self.args
        self.proc = subprocess.Popen(
            cmd, cwd=self.workdir, env=self.env, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self._reader = threading.Thread(target=self._read_log, daemon=True)
        self._reader.start()
        if expect_listening:
            self.port = int(wait_for(lambda: self._listening("mtls"), what="mTLS listener"))
            # The metrics listener starts after the mTLS one, so its line may
            # come later; it is on unless the config turns it off.
            if not re.search(r'metrics:\s*\{?\s*listen:\s*""', self._config_text()):
                self.metrics_port = int(
                    wait_for(lambda: self._listening("metrics"), what="metrics listener"))
        return self

    def _config_text(self):
        try:
            with open(self.config_path) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def _read_log(self):
        for line in self.proc.stderr:
            with self._lock:
                self.lines.append(line.rstrip("\n"))

    def log_text(self):
        with self._lock:
            return "\n".join(self.lines)

    def _listening(self, listener):
        if self.proc.poll() is not None:
            raise AssertionError(f"wif-tokend exited with {self.proc.returncode}:\n{self.log_text()}")
        for line in self.log_text().splitlines():
            if line.startswith("{"):  # log.format: json
                event = json.loads(line)
                if event.get("event") == "listening" and event.get("listener") == listener:
                    return event["addr"].rsplit(":", 1)[1]
            elif "event=listening" in line and f"listener={listener}" in line:
                return line.split("addr=")[1].split()[0].rsplit(":", 1)[1]
        return None

    def wait_log(self, needle, timeout=10.0):
        """The first log line holding `needle`, waited for: the daemon writes
        a line before it acts (closes a connection, counts a metric), but this
        process reads its log on another thread, which may not have it yet."""
        def first():
            return next((l for l in self.log_text().splitlines() if needle in l), None)
        return wait_for(first, timeout, what=f"log line {needle!r}")

    def signal(self, signum):
        self.proc.send_signal(signum)

    def stop(self, timeout=15.0):
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("wif-tokend did not stop within %s s after SIGTERM" % timeout)
        self._reader.join(timeout=5)
        return code

    def url(self, path="/get_wif_token"):
        return f"https://localhost:{self.port}{path}"


def client_context(cert="client.crt", key="client.key"):
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=pki("ca-chain.crt"))
    if cert:
        ctx.load_cert_chain(pki(cert), pki(key))
    return ctx


def tls_connect(port, cert="client.crt", key="client.key"):
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    return client_context(cert, key).wrap_socket(raw, server_hostname="localhost")


def read_response(sock, buffer=b""):
    """Reads one HTTP/1.x response with Content-Length. Returns
    (status, headers, body, leftover)."""
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError("connection closed before a full header: %r" % buffer)
        buffer += chunk
    head, rest = buffer.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, v = line.split(":", 1)
        headers[k.strip().lower()] = v.strip()
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError("connection closed inside a body")
        rest += chunk
    return status, headers, rest[:length], rest[length:]


class DaemonTest(unittest.TestCase):
    """A fresh folder and token file per test; the daemon is stopped at the end
    and must exit 0."""

    token = "ya29.integration-test-token_0123456789"

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="wif-it-")
        self.token_path = os.path.join(self.tmp, "wif_token.txt")
        with open(self.token_path, "w") as f:
            f.write(self.token + "\n")
        self.daemons = []

    def tearDown(self):
        try:
            for d in self.daemons:
                code = d.stop()
                if code not in (0, None):
                    self.fail(f"wif-tokend exited with {code}:\n{d.log_text()}")
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def start_daemon(self, config_text=None, **kwargs):
        if config_text is None:
            config_text = default_config(self.tmp)
        d = Daemon(self.tmp, config_text, **kwargs)
        self.daemons.append(d)
        return d.start()

    def write_token(self, value):
        """Replaces the token file atomically (write a temporary file, rename)."""
        tmp = self.token_path + ".tmp"
        with open(tmp, "w") as f:
            f.write(value + "\n")
        os.rename(tmp, self.token_path)


def run_curl(daemon, path="/get_wif_token", cert="client.crt", key="client.key", extra=(),
             cacert="ca-chain.crt"):
    """curl as the original document runs it; returns the CompletedProcess.
    With cacert="root-ca.crt" curl sends exactly the certificate file's chain
    (see run_s_client)."""
    cmd = ["curl", "-sS", "--max-time", "10", "--cacert", pki(cacert)]
    if cert:
        cmd += ["--cert", pki(cert), "--key", pki(key)]
    cmd += list(extra) + [daemon.url(path)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=20)


def run_s_client(daemon, cert=None, key=None, extra=(), request="GET / HTTP/1.0\r\n\r\n",
                 cafile="root-ca.crt"):
    """openssl s_client with one request; returns stdout and stderr together.

    The client trusts only the root by default: OpenSSL completes a client's
    chain from its trust store, so with ca-chain.crt there s_client would send
    the intermediate even when the certificate file holds the leaf alone."""
    cmd = ["openssl", "s_client", "-connect", f"127.0.0.1:{daemon.port}", "-servername",
           "localhost", "-CAfile", pki(cafile), "-ign_eof"] + list(extra)
    if cert:
        cmd += ["-cert", pki(cert), "-key", pki(key)]
    r = subprocess.run(cmd, input=request, capture_output=True, text=True, timeout=20)
    return r.stdout + r.stderr
