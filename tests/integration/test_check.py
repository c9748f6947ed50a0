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

    def test_missing_certificate_file_is_named(self):
        text = default_config(self.tmp).replace(pki("server.crt"), os.path.join(self.tmp, "nope.crt"))
        r, path = self.run_binary(text, "check")
        self.assertEqual(r.returncode, 2)
        self.assertIn("tls.cert", r.stderr)
        self.assertIn("nope.crt", r.stderr)

    def test_version_prints_the_version(self):
        r = subprocess.run([BINARY, "--version"], capture_output=True, text=True, timeout=10)
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^wif-tokend \d+\.\d+\.\d+\n$")


if __name__ == "__main__":
    unittest.main()
