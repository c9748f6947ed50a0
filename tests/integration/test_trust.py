"""Trust, revocation, key formats and TLS settings at start-up (issue #4),
against the real binary with curl, python3 requests and openssl s_client."""

import json
import os
import pty
import select
import signal
import subprocess
import time

import requests

from harness import BINARY, DaemonTest, default_config, pki, run_curl, run_s_client, wait_for


def tls_lines(**settings):
    return "".join(f"  {k}: {v}\n" for k, v in settings.items())


class Chains(DaemonTest):
    def start_with(self, client_ca, **settings):
        text = default_config(self.tmp, extra_tls=tls_lines(**settings)).replace(
            f"client_ca: {pki('ca-chain.crt')}", f"client_ca: {pki(client_ca)}")
        return self.start_daemon(text)

    def token_with(self, d, cert, key):
        r = run_curl(d, cert=cert, key=key, cacert="root-ca.crt")
        return json.loads(r.stdout)["access_token"] if r.returncode == 0 else r.stderr

    def test_a_client_sending_its_intermediate_verifies_against_the_root_alone(self):
        d = self.start_with("root-ca.crt")
        self.assertEqual(self.token_with(d, "client-chain.crt", "client.key"), self.token)
        self.assertIn("alert unknown ca", run_s_client(d, "client.crt", "client.key"))

    def test_a_client_sending_only_its_leaf_verifies_through_client_intermediates(self):
        d = self.start_with("root-ca.crt", client_intermediates=pki("intermediate.crt"))
        os.chdir(os.environ["WIF_TEST_PKI"])
        # Trusting only the root, requests has no intermediate to add: it
        # sends the leaf alone.
        r = requests.get(d.url(), cert=("client.crt", "client.key"), verify="root-ca.crt",
                         timeout=10)
        self.assertEqual(r.json()["access_token"], self.token)
        self.assertEqual(self.token_with(d, "client-chain.crt", "client.key"), self.token)
        self.assertIn("HTTP/1.0 200", run_s_client(d, "client.crt", "client.key"))

    def test_an_intermediate_alone_is_no_anchor_without_partial_chain(self):
        d = self.start_with("intermediate.crt")
        self.assertIn("alert unknown ca", run_s_client(d, "client.crt", "client.key"))
        self.assertNotIn("partial_chain_trusted", d.log_text())

    def test_partial_chain_trusts_an_intermediate_alone_and_says_so(self):
        d = self.start_with("intermediate.crt", partial_chain="true")
        self.assertEqual(self.token_with(d, "client.crt", "client.key"), self.token)
        self.assertIn("alert unknown ca", run_s_client(d, "other-client.crt", "other-client.key"))
        line = d.wait_log("event=partial_chain_trusted")
        self.assertIn("level=warn", line)

    def test_verify_depth_counts_the_intermediates_between_leaf_and_root(self):
        # deep-client -> Demo Sub CA -> Demo Intermediate CA -> Demo Root CA
        shallow = self.start_with("ca-chain.crt", verify_depth=1)
        r = run_curl(shallow, cert="deep-client-chain.crt", key="deep-client.key",
                     cacert="root-ca.crt")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("unknown ca", r.stderr)
        shallow.wait_log("certificate chain too long")
        shallow.stop()
        deep = self.start_with("ca-chain.crt", verify_depth=2)
        self.assertEqual(self.token_with(deep, "deep-client-chain.crt", "deep-client.key"),
                         self.token)

    def test_a_client_without_extended_key_usage_is_refused_when_clientauth_is_required(self):
        d = self.start_with("ca-chain.crt", require_client_auth_eku="true")
        self.assertIn("alert unsupported certificate",
                      run_s_client(d, "noeku-client.crt", "noeku-client.key"))
        self.assertEqual(self.token_with(d, "client.crt", "client.key"), self.token)

    def test_the_acceptable_ca_names_are_the_configured_anchors(self):
        d = self.start_with("root-ca.crt", client_intermediates=pki("intermediate.crt"))
        out = run_s_client(d, "client.crt", "client.key")
        names = out.split("Acceptable client certificate CA names")[1].split("---")[0]
        self.assertIn("CN = Demo Root CA", names)
        self.assertNotIn("Intermediate", names)


class Revocation(DaemonTest):
    def start_with_crls(self, crls, mode="leaf", **settings):
        extra = f"  crl: [{', '.join(pki(c) for c in crls)}]\n  crl_check: {mode}\n"
        extra += tls_lines(**settings)
        return self.start_daemon(default_config(self.tmp, extra_tls=extra))

    def test_a_revoked_leaf_is_refused_in_leaf_mode(self):
        d = self.start_with_crls(["intermediate.crl"])
        self.assertIn("alert certificate revoked",
                      run_s_client(d, "revoked-client.crt", "revoked-client.key"))
        self.assertEqual(json.loads(run_curl(d).stdout)["access_token"], self.token)
        # The CA above the sub CA revoked it, which leaf mode does not look at.
        r = run_curl(d, cert="deep-client-chain.crt", key="deep-client.key")
        self.assertIn("unknown ca", r.stderr)  # no CRL from the sub CA: status unknown
        d.wait_log("reason=revocation_unknown")

    def test_leaf_mode_does_not_check_the_cas_above_the_leaf(self):
        d = self.start_with_crls(["intermediate.crl", "sub.crl"])
        r = run_curl(d, cert="deep-client-chain.crt", key="deep-client.key")
        self.assertEqual(json.loads(r.stdout)["access_token"], self.token, r.stderr)

    def test_chain_mode_refuses_a_client_under_a_revoked_ca(self):
        d = self.start_with_crls(["intermediate.crl", "root.crl", "sub.crl"], "chain",
                                 client_intermediates=pki("sub-intermediate.crt"))
        self.assertIn("alert certificate revoked",
                      run_s_client(d, "deep-client.crt", "deep-client.key",
                                   ["-cert_chain", pki("sub-intermediate.crt")]))
        self.assertIn("alert certificate revoked",
                      run_s_client(d, "revoked-client.crt", "revoked-client.key"))
        self.assertEqual(json.loads(run_curl(d).stdout)["access_token"], self.token)

    def test_chain_mode_without_a_crl_for_a_ca_stops_start_up_naming_it(self):
        path = os.path.join(self.tmp, "wif-tokend.yaml")
        with open(path, "w") as f:
            f.write(default_config(self.tmp, extra_tls=f"  crl: [{pki('intermediate.crl')}]\n"
                                                        "  crl_check: chain\n"))
        r = subprocess.run([BINARY, "--config", path], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2)
        self.assertIn('crl_check chain: no CRL from CA "O=Internal,CN=Demo Root CA" (from '
                      f"client_ca {pki('ca-chain.crt')})", r.stderr)

    def test_an_expired_crl_refuses_clients_with_a_logged_reason(self):
        d = self.start_with_crls(["intermediate-expired.crl"])
        warning = d.wait_log("event=crl_expired")
        self.assertIn("next_update=2020-02-01T00:00:00Z", warning)
        r = run_curl(d)
        self.assertNotEqual(r.returncode, 0)
        self.assertNotIn(self.token, r.stdout)
        failure = d.wait_log("CRL has expired")
        self.assertIn("event=handshake_failed", failure)
        self.assertIn("reason=revocation_unknown", failure)


class KeyFormats(DaemonTest):
    def start_with_key(self, cert, key, extra_tls=""):
        text = default_config(self.tmp, extra_tls=extra_tls).replace(
            f"cert: {pki('server.crt')}", f"cert: {pki(cert)}").replace(
            f"key: {pki('server.key')}", f"key: {pki(key)}")
        return self.start_daemon(text)

    def test_every_private_key_form_serves(self):
        for cert, key, first_line in [
                ("server.crt", "server.key", "BEGIN PRIVATE KEY"),
                ("server.crt", "server-pkcs1.key", "BEGIN RSA PRIVATE KEY"),
                ("ec-server.crt", "ec-server.key", "BEGIN PRIVATE KEY"),
                ("ec-server.crt", "ec-server-sec1.key", "BEGIN EC PRIVATE KEY"),
                ("ed25519-server.crt", "ed25519-server.key", "BEGIN PRIVATE KEY")]:
            with self.subTest(key=key):
                with open(pki(key)) as f:
                    self.assertIn(first_line, f.readline())
                d = self.start_with_key(cert, key)
                r = run_curl(d)
                self.assertEqual(json.loads(r.stdout)["access_token"], self.token, r.stderr)
                d.stop()

    def test_the_served_key_type_is_the_one_configured(self):
        d = self.start_with_key("ed25519-server.crt", "ed25519-server.key")
        out = run_s_client(d, "client.crt", "client.key")
        self.assertRegex(out, r"Peer signature type: Ed25519|Server public key is 256 bit")

    def test_an_encrypted_key_serves_with_its_passphrase_file(self):
        d = self.start_with_key("server.crt", "server-encrypted.key",
                                f"  key_passphrase_file: {pki('server-key.pass')}\n")
        self.assertEqual(json.loads(run_curl(d).stdout)["access_token"], self.token)

    def check_refused(self, extra_tls):
        text = default_config(self.tmp, extra_tls=extra_tls).replace(
            f"key: {pki('server.key')}", f"key: {pki('server-encrypted.key')}")
        path = os.path.join(self.tmp, "wif-tokend.yaml")
        with open(path, "w") as f:
            f.write(text)
        r = subprocess.run([BINARY, "--config", path], capture_output=True, text=True,
                           timeout=30, stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 2)
        return r.stderr

    def test_an_encrypted_key_never_prompts_on_a_terminal(self):
        # Started on a terminal of its own (pty.fork makes it the controlling
        # one), a daemon that prompted would wait for input until killed.
        text = default_config(self.tmp).replace(
            f"key: {pki('server.key')}", f"key: {pki('server-encrypted.key')}")
        path = os.path.join(self.tmp, "wif-tokend.yaml")
        with open(path, "w") as f:
            f.write(text)
        pid, fd = pty.fork()
        if pid == 0:
            os.execv(BINARY, [BINARY, "--config", path])
        output = b""
        deadline = time.monotonic() + 20
        try:
            while time.monotonic() < deadline:
                ready, _, _ = select.select([fd], [], [], deadline - time.monotonic())
                if not ready:
                    break
                try:
                    chunk = os.read(fd, 4096)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                output += chunk
            exited = []

            def reaped():
                finished, status = os.waitpid(pid, os.WNOHANG)
                if finished != 0:
                    exited.append(status)
                return bool(exited)

            try:
                wait_for(reaped, timeout=max(1.0, deadline - time.monotonic()),
                         what="wif-tokend to exit instead of prompting")
            except AssertionError:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                raise
        finally:
            os.close(fd)
        self.assertEqual(os.waitstatus_to_exitcode(exited[0]), 2, output)
        self.assertIn(b"is encrypted and no key_passphrase_file is set", output)
        self.assertNotIn(b"pass phrase", output.lower())

    def test_an_encrypted_key_without_its_passphrase_stops_start_up(self):
        err = self.check_refused("")
        self.assertIn(f"key {pki('server-encrypted.key')} is encrypted and no "
                      "key_passphrase_file is set", err)

    def test_a_wrong_passphrase_stops_start_up_without_showing_it(self):
        wrong = os.path.join(self.tmp, "wrong.pass")
        with open(wrong, "w") as f:
            f.write("not-the-passphrase-4711\n")
        os.chmod(wrong, 0o600)  # or the daemon refuses it for being readable
        err = self.check_refused(f"  key_passphrase_file: {wrong}\n")
        self.assertIn(f"cannot decrypt key {pki('server-encrypted.key')} with the passphrase "
                      f"from {wrong}", err)
        self.assertNotIn("not-the-passphrase-4711", err)
        with open(pki("server-key.pass")) as f:
            self.assertNotIn(f.read().strip(), err)

    def test_ec_and_ed25519_client_certificates_work(self):
        d = self.start_daemon()
        for name in ("ec-client", "ed25519-client"):
            with self.subTest(client=name):
                r = run_curl(d, cert=f"{name}.crt", key=f"{name}.key")
                self.assertEqual(json.loads(r.stdout)["access_token"], self.token, r.stderr)


class ProtocolSettings(DaemonTest):
    def start_with(self, **settings):
        return self.start_daemon(default_config(self.tmp, extra_tls=tls_lines(**settings)))

    def test_the_configured_tls13_suite_is_negotiated(self):
        d = self.start_with(tls13_ciphersuites="TLS_CHACHA20_POLY1305_SHA256")
        out = run_s_client(d, "client.crt", "client.key", ["-tls1_3"])
        self.assertIn("Cipher is TLS_CHACHA20_POLY1305_SHA256", out)

    def test_the_configured_tls12_cipher_is_negotiated_and_others_refused(self):
        d = self.start_with(tls12_ciphers="ECDHE-RSA-AES256-GCM-SHA384")
        out = run_s_client(d, "client.crt", "client.key", ["-tls1_2"])
        self.assertIn("Cipher is ECDHE-RSA-AES256-GCM-SHA384", out)
        out = run_s_client(d, "client.crt", "client.key",
                           ["-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"])
        self.assertIn("alert handshake failure", out)

    def test_the_configured_groups_are_the_only_ones(self):
        d = self.start_with(groups="P-384")
        out = run_s_client(d, "client.crt", "client.key", ["-tls1_3"])
        self.assertRegex(out, r"Server Temp Key: ECDH, (P-384|secp384r1)")
        out = run_s_client(d, "client.crt", "client.key", ["-tls1_3", "-groups", "X25519"])
        self.assertIn("alert handshake failure", out)

    def test_minimum_tls13_refuses_tls12(self):
        d = self.start_with(min_version='"1.3"')
        self.assertIn("alert protocol version",
                      run_s_client(d, "client.crt", "client.key", ["-tls1_2"]))

    def test_an_unknown_group_names_file_line_and_field(self):
        path = os.path.join(self.tmp, "wif-tokend.yaml")
        with open(path, "w") as f:
            f.write(default_config(self.tmp, extra_tls="  groups: X25519:P-257\n"))
        r = subprocess.run([BINARY, "check", "--config", path], capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(r.returncode, 2)
        with open(path) as f:
            line = next(i for i, l in enumerate(f, 1) if "groups:" in l)
        self.assertIn(f'{path}:{line}:11: tls.groups: got "X25519:P-257" (expected key exchange '
                      'groups such as X25519, P-256 or P-384; "P-257" is not one)', r.stderr)


if __name__ == "__main__":
    import unittest
    unittest.main()
