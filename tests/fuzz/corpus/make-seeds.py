#!/usr/bin/python3
"""Writes the seed corpora of tests/fuzz/ (issue #7): run from this folder
with Debian's python3 to remake them. Each seed starts with the control
bytes its harness reads first (see the harness), then the data.

  http/  3 bytes (header limit, body limit, split count) + requests
  tls/   1 byte (mode), for modes 1 and 2 a version byte, for modes 0 and
         1 the split choices, then data; mode 0 seeds hold real ClientHello
         messages made by Python's ssl module (OpenSSL) for TLS 1.2 and 1.3
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


if __name__ == "__main__":
    main()
