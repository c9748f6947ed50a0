#!/usr/bin/python3
"""Writes the seed corpora of tests/fuzz/ (issue #7): run from this folder
with Debian's python3 to remake them. Each seed starts with the control
bytes its harness reads first (see the harness), then the data.

  http/  3 bytes (header limit, body limit, split count) + requests
  tls/   1 byte (mode), for modes 1 and 2 a version byte, for modes 0 and
         1 the split choices, then data; mode 0 seeds hold real ClientHello
         messages made by Python's ssl module (OpenSSL) for TLS 1.2 and 1.3
  record/  2 bytes (suite, records per key and tickets), then a script of
         operations, one byte each and their arguments (see Op in
         record_layer_fuzz.cc)
"""

import os
import ssl

HTTP = {
    "get": b"GET /get_wif_token HTTP/1.1\r\nHost: localhost\r\n\r\n",
    "pipelined": b"GET / HTTP/1.1\r\nHost: a\r\n\r\nHEAD /get_wif_token HTTP/1.1\r\nHost: a\r\n\r\n"
                 b"GET /v1/tokens/wif?x=1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    "http10": b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET / HTTP/1.0\r\n\r\n",
    "chunked": b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"5\r\nhello\r\n0\r\nTrailer: x\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
    "content-length": b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.1\r\n\r\n",
    "cl-and-te": b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "two-cl": b"GET / HTTP/1.1\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n",
    "obs-fold": b"GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n",
    "bare-lf": b"GET / HTTP/1.1\nHost: a\n\n",
    "nul": b"GET / HTTP/1.1\r\nHost: a\x00\r\n\r\n",
    "space-colon": b"GET / HTTP/1.1\r\nHost : a\r\n\r\n",
    "connect": b"CONNECT localhost:443 HTTP/1.1\r\nHost: localhost:443\r\n\r\n",
    "absolute": b"GET https://localhost/get_wif_token HTTP/1.1\r\nHost: a\r\n\r\n",
    "upgrade": b"GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nGET / HTTP/1.1\r\n\r\n",
    "h2-preface": b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    "big-header": b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 5000 + b"\r\n\r\n",
    "leading-crlf": b"\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
}


def client_hello(version):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = version
    ctx.maximum_version = version
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(incoming, outgoing, server_hostname="localhost")
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


class Script:
    """Writes record_layer_fuzz inputs: each method is one Op, in its order."""

    SEAL_RECORD, SEAL_DATA, SEAL_KEY_UPDATE, SEAL_ALERT, RAW, TAMPER, REPLAY, FEED_ALL, \
        FEED_SOME, SERVER_WRITE, SERVER_CLOSE, RELEASE, TAKE, READ = range(14)

    def __init__(self, suite=0, records_per_key=2, tickets=1):
        # suite: 0 or 1 AES-128-GCM, 2 AES-256-GCM, 3 ChaCha20-Poly1305.
        assert 1 <= records_per_key <= 8 and tickets <= records_per_key
        keys = next(b for b in range(256)
                    if 1 + b % 8 == records_per_key and (b >> 3) % (records_per_key + 1) == tickets)
        self.out = bytes([suite, keys])

    @staticmethod
    def length(n, most):
        """The bytes FuzzInput::length(most) reads as n."""
        if 1 <= n <= 16:
            return bytes([n - 1])
        for raw in range(200, 256):
            for low in range(256):
                if 1 + (raw << 8 | low) % most == n:
                    return bytes([raw, low])
        raise ValueError(f"no encoding of {n} under {most}")

    @staticmethod
    def size(n, most):
        """The bytes the harness's size(most) reads as n."""
        if n <= 16:
            return bytes([n])
        value = 128 << 8 | n  # (raw - 128) << 8 | low == n
        return bytes([value >> 8, value & 255])

    def op(self, code, *parts):
        self.out += bytes([code]) + b"".join(parts)
        return self

    def seal(self, content_type, content, padding_byte=0):
        return self.op(self.SEAL_RECORD, bytes([content_type]),
                       self.size(len(content), 16384 + 600), content, bytes([padding_byte]))

    def data(self, content):
        return self.op(self.SEAL_DATA, self.size(len(content), 16384 + 16), content)

    def key_update(self, request):
        return self.op(self.SEAL_KEY_UPDATE, bytes([request]))

    def alert(self, choice):
        # < 64 close_notify, < 128 user_canceled, else that description.
        return self.op(self.SEAL_ALERT, bytes([choice]))

    def raw(self, data):
        return self.op(self.RAW, self.length(len(data), 64), data)

    def tamper(self, at, mask):
        return self.op(self.TAMPER, bytes([at >> 8, at & 255, mask]))

    def replay(self, index):
        return self.op(self.REPLAY, bytes([index]))

    def feed_all(self, piece=4096):
        return self.op(self.FEED_ALL, self.length(piece, 4096))

    def feed_some(self, n, piece):
        return self.op(self.FEED_SOME, self.length(n, 64), self.length(piece, 64))

    def write(self, n):
        return self.op(self.SERVER_WRITE, self.size(n, 32767))

    def close(self):
        return self.op(self.SERVER_CLOSE)

    def release(self):
        return self.op(self.RELEASE)

    def take(self, cap=20000):
        return self.op(self.TAKE, self.size(cap, 20000))

    def read(self):
        return self.op(self.READ)


def record_scripts():
    get = b"GET /get_wif_token HTTP/1.1\r\nHost: a\r\n\r\n"
    yield "data-key-update", (
        Script().data(get).feed_all(7).write(300).take().key_update(1).data(b"after")
        .feed_all().write(30000).take(1000).take().close().take())
    yield "split-key-update", (
        Script(records_per_key=3, tickets=0).seal(22, b"\x18\x00").seal(22, b"\x00\x01\x01", 3)
        .data(get).feed_some(30, 1).read().feed_all(1).write(20).release().take(9).release()
        .take().release().write(20).take())
    yield "alerts", (
        Script(records_per_key=1).alert(100).data(b"before").alert(0).data(b"ignored")
        .feed_all(16).write(17).close().take().write(1).take())
    yield "fatal-alert", Script().data(get).alert(200).feed_all().write(3).close().take()
    yield "garbage", (
        Script().raw(b"\x16\x03\x01\x00\x05hello").feed_all().write(5).take())
    yield "short-record", Script().raw(b"\x17\x03\x03\x00\x04abcd").feed_all().take()
    yield "replay", Script().data(b"once").data(b"twice").replay(0).feed_all().take()
    yield "tamper", Script().data(get).tamper(9, 1).feed_all(3).take()
    yield "padding", (
        Script().seal(23, b"padded", 210).seal(23, b"big", 255).feed_all(4096).take())
    yield "content-types", (
        Script(records_per_key=8, tickets=8).seal(0, b"typed\x17").seal(20, b"\x01")
        .feed_all().take())
    yield "bad-key-update", Script().key_update(2).feed_all().take()
    yield "data-between-parts", Script().seal(22, b"\x18").data(b"x").feed_all().take()
    yield "aes256", (
        Script(suite=2).data(get).key_update(1).data(get).feed_all(5).write(100).take())
    yield "chacha20", (
        Script(suite=3, records_per_key=1, tickets=0).data(get).key_update(0).data(get)
        .feed_all(5).write(100).take())


def write(folder, name, data):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def main():
    for name, request in HTTP.items():
        # 16 KiB headers, no body; and 1 KiB headers with a 2 KiB body; each
        # with a few split choices.
        write("http", name, bytes([255, 0, 8]) + bytes([3, 1, 200, 0, 2, 5, 9, 1]) + request)
        write("http", name + "-small", bytes([15, 255, 0]) + request)
    # Raw modes: the mode, [version,] a count of split choices, the choices,
    # then the bytes.
    whole = bytes([2, 200, 255])  # two choices making one large piece
    write("tls", "hello-tls13", b"\x00" + whole + client_hello(ssl.TLSVersion.TLSv1_3))
    write("tls", "hello-tls12", b"\x00" + whole + client_hello(ssl.TLSVersion.TLSv1_2))
    write("tls", "hello-tls13-bytewise", b"\x00\x00" + client_hello(ssl.TLSVersion.TLSv1_3))
    write("tls", "after-tls13-garbage", b"\x01\x00\x00" + bytes(range(64)))
    write("tls", "after-tls12-record", b"\x01\x01" + whole + b"\x17\x03\x03\x00\x20" + bytes(32))
    # Mode 2: write, key update, write, close_notify (TLS 1.3); renegotiate,
    # write, server answer and close (TLS 1.2).
    write("tls", "client-tls13", b"\x02\x00" + b"\x00\x05hello" + b"\x02" + b"\x01\x03abc" + b"\x04")
    write("tls", "client-tls12", b"\x02\x01" + b"\x00\x04ping" + b"\x03" + b"\x05\x04pong\x01")
    for name, script in record_scripts():
        write("record", name, script.out)


if __name__ == "__main__":
    main()
