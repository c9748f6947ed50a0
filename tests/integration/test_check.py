"""`wif-tokend check` and start-up validation, against the real binary."""

import os
import shutil
import subprocess
import tempfile
import unittest

from harness import BINARY, default_config, pki


class Check(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="wif-check-")
        with open(os.path.join(self.tmp, "wif_token.txt"), "w") as f:
            f.write("t0ken\n")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def run_binary(self, config_text, *args, env=None):
        path = os.path.join(self.tmp, "wif-tokend.yaml")
        with open(path, "w") as f:
            f.write(config_text)
        return subprocess.run([BINARY, *args, "--config", path], capture_output=True, text=True,
                              timeout=30, env={**os.environ, **(env or {})}), path

    def test_check_passes_on_a_good_config_and_describes_it(self):
        r, _ = self.run_binary(default_config(self.tmp), "check")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("server certificate: O=Internal,CN=localhost", r.stdout)
        self.assertIn("key matches", r.stdout)
        self.assertIn("check passed", r.stdout)

    def test_check_describes_every_certificate_with_its_usages_and_expiry(self):
        extra = (f"  client_intermediates: {pki('sub-intermediate.crt')}\n"
                 f"  crl: [{pki('intermediate.crl')}]\n")
        r, _ = self.run_binary(default_config(self.tmp, extra_tls=extra), "check")
        self.assertEqual(r.returncode, 0, r.stderr)
        out = r.stdout
        self.assertRegex(out, r"served certificate 1 \(leaf\): O=Internal,CN=localhost; issuer "
                              r"O=Internal,CN=Demo Intermediate CA; valid \S+ to \S+; key usage "
                              r"digitalSignature, keyEncipherment; extended key usage serverAuth")
        self.assertRegex(out, r"served certificate 2: O=Internal,CN=Demo Intermediate CA; issuer "
                              r"O=Internal,CN=Demo Root CA; valid \S+ to \S+; CA; key usage "
                              r"keyCertSign, cRLSign")
        self.assertIn("served chain: verifies", out)
        self.assertIn("client trust anchor: O=Internal,CN=Demo Root CA; issuer", out)
        self.assertIn("client intermediate: O=Internal,CN=Demo Sub CA; issuer "
                      "O=Internal,CN=Demo Intermediate CA", out)
        self.assertIn(f"crl {pki('intermediate.crl')}: issuer O=Internal,CN=Demo Intermediate "
                      "CA; last update", out)
        self.assertIn("2 revoked", out)
        self.assertIn("check passed\n", out)
        self.assertNotIn("warning", out)

    def test_check_warns_about_a_certificate_expiring_within_30_days(self):
        key, cert = os.path.join(self.tmp, "soon.key"), os.path.join(self.tmp, "soon.crt")
        ext = os.path.join(self.tmp, "ext.cnf")
        with open(ext, "w") as f:
            f.write("extendedKeyUsage = serverAuth\nsubjectAltName = DNS:localhost\n")
        subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-subj",
                        "/CN=localhost/O=Soon", "-out", cert + ".csr"],
                       check=True, capture_output=True)
        subprocess.run(["openssl", "x509", "-req", "-in", cert + ".csr", "-CA",
                        pki("intermediate.crt"), "-CAkey", pki("intermediate.key"),
                        "-CAcreateserial", "-days", "10", "-extfile", ext, "-out", cert],
                       check=True, capture_output=True)
        with open(cert, "a") as f, open(pki("intermediate.crt")) as chain:
            f.write(chain.read())
        text = default_config(self.tmp).replace(pki("server.crt"), cert).replace(
            pki("server.key"), key)
        r, _ = self.run_binary(text, "check")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"warning: served certificate 1 \(leaf\) O=Soon,CN=localhost "
                                   r"expires within 30 days, on \S+Z")
        self.assertIn("check passed with warnings", r.stdout)

    def test_check_warns_when_the_served_chain_does_not_verify(self):
        text = default_config(self.tmp).replace(pki("ca-chain.crt"), pki("other-ca.crt"))
        r, _ = self.run_binary(text, "check")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("warning: the served chain does not verify against client_ca or the system "
                      "trust store (unable to get local issuer certificate)", r.stdout)

    def test_check_warns_about_a_crl_past_its_next_update(self):
        text = default_config(self.tmp, extra_tls=f"  crl: {pki('intermediate-expired.crl')}\n")
        r, _ = self.run_binary(text, "check")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(f"warning: crl {pki('intermediate-expired.crl')} is past its next update "
                      "(2020-02-01T00:00:00Z)", r.stdout)

    def test_check_refuses_a_key_that_does_not_match_the_certificate(self):
        text = default_config(self.tmp).replace(pki("server.key"), pki("client.key"))
        r, _ = self.run_binary(text, "check")
        self.assertEqual(r.returncode, 2)
        self.assertIn("does not match", r.stderr)

    def test_unknown_key_stops_start_up_naming_file_line_and_field(self):
        text = default_config(self.tmp).replace("workers: 2\n", "workers: 2\nworkerz: 3\n")
        r, path = self.run_binary(text)
        self.assertEqual(r.returncode, 2)
        self.assertIn(f"{path}:3:1: workerz: unknown key", r.stderr)

    def test_wrong_type_names_the_field_and_what_was_expected(self):
        text = default_config(self.tmp).replace("workers: 2", "workers: many")
        r, path = self.run_binary(text, "check")
        self.assertEqual(r.returncode, 2)
        self.assertIn(f"{path}:2:10: workers:", r.stderr)
        self.assertIn('"many"', r.stderr)

    def test_a_token_sources_problem_is_named_with_the_configs_own(self):
        # The source reads its own fields once the config is read; a typo
        # there must come out in the same run as the config's problems.
        tokens = ("  wif:\n"
                  "    source: {type: file, path: %s, poll_intervall: 30s}\n"
                  % os.path.join(self.tmp, "wif_token.txt"))
        text = default_config(self.tmp, tokens=tokens).replace("workers: 2", "workers: many")
        r, path = self.run_binary(text, "check")
        self.assertEqual(r.returncode, 2)
        self.assertIn(f"{path}:2:10: workers:", r.stderr)
        line = text.splitlines().index(tokens.splitlines()[1]) + 1
        self.assertIn(f"{path}:{line}:", r.stderr)
        self.assertIn("tokens.wif.source.poll_intervall: unknown field", r.stderr)

    def test_missing_certificate_file_is_named(self):
        text = default_config(self.tmp).replace(pki("server.crt"), os.path.join(self.tmp, "nope.crt"))
        r, path = self.run_binary(text, "check")
        self.assertEqual(r.returncode, 2)
        self.assertIn("tls.cert", r.stderr)
        self.assertIn("nope.crt", r.stderr)

    def test_a_fifo_in_place_of_a_tls_file_is_refused_without_blocking(self):
        fifo = os.path.join(self.tmp, "crl.pem")
        os.mkfifo(fifo)  # opening it for reading would wait for a writer forever
        text = default_config(self.tmp, extra_tls=f"  crl: [{fifo}]\n")
        r, _ = self.run_binary(text, "check")
        self.assertEqual(r.returncode, 2)
        self.assertIn(f"{fifo}: not a regular file", r.stderr)

    def test_check_warns_that_a_missing_token_file_means_503s(self):
        os.unlink(os.path.join(self.tmp, "wif_token.txt"))
        r, _ = self.run_binary(default_config(self.tmp), "check")
        self.assertEqual(r.returncode, 0, r.stderr)  # serving would start, and wait for it
        self.assertIn("warning: cannot read " + os.path.join(self.tmp, "wif_token.txt"), r.stdout)
        self.assertIn("requests get 503 until it can be read", r.stdout)
        self.assertIn("check passed with warnings", r.stdout)

    def test_version_prints_the_version(self):
        r = subprocess.run([BINARY, "--version"], capture_output=True, text=True, timeout=10)
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^wif-tokend \d+\.\d+\.\d+\n$")


if __name__ == "__main__":
    unittest.main()
