"""Access rules per token (issue #4), against the real binary with real
clients: for every kind of rule, a listed identity gets the token and an
unlisted one gets 403 {"error":"forbidden"} with nothing else."""

import json
import os
import subprocess

import requests

from harness import DaemonTest, default_config, pki


def fingerprint(cert):
    """The certificate's SHA-256 as `openssl x509 -fingerprint` prints it."""
    out = subprocess.run(["openssl", "x509", "-in", pki(cert), "-noout", "-fingerprint",
                          "-sha256"], capture_output=True, text=True, check=True).stdout
    return out.strip().split("=", 1)[1]


def spki_pin(cert):
    """Lowercase hex SHA-256 of the DER SubjectPublicKeyInfo."""
    pub = subprocess.run(["openssl", "x509", "-in", pki(cert), "-noout", "-pubkey"],
                         capture_output=True, check=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub,
                         capture_output=True, check=True).stdout
    digest = subprocess.run(["openssl", "dgst", "-sha256", "-r"], input=der,
                            capture_output=True, check=True).stdout
    return digest.split()[0].decode()


# Each token is allowed to team-client (CN=ci-runner, O=Internal, OU=CI) by a
# rule of one kind, which partner-client (CN=web-frontend, O=Partner, OU=Web)
# never matches.
RULES = {
    "by-cn": "{cn: ci-runner}",
    "by-o": "{o: Internal}",
    "by-ou": "{ou: CI}",
    "by-dns": "{dns: \"*.ci.corp.example\"}",
    "by-uri": "{uri: \"spiffe://corp/ns/*/sa/**\"}",
    "by-email": "{email: ci-bot@CORP.example}",
    "by-ip": "{ip: 10.20.0.0/16}",
    "by-sha256": "{sha256: \"%s\"}" % fingerprint("team-client.crt"),
    "by-spki": "{spki: %s}" % spki_pin("team-client.crt"),
}


def tokens_block(token_path, rules):
    text = ""
    for name, allow in rules.items():
        text += f"  {name}:\n    source: {{type: file, path: {token_path}}}\n"
        text += f"    allow:\n" + "".join(f"      - {rule}\n" for rule in allow)
    return text


class AccessRules(DaemonTest):
    def start_with_rules(self, rules):
        return self.start_daemon(default_config(self.tmp, tokens=tokens_block(self.token_path,
                                                                               rules)))

    def get(self, d, path, cert):
        return requests.get(d.url(path), cert=(pki(f"{cert}.crt"), pki(f"{cert}.key")),
                            verify=pki("ca-chain.crt"), timeout=10)

    def curl(self, d, path, cert):
        r = subprocess.run(["curl", "-sS", "--max-time", "10", "--cacert", pki("ca-chain.crt"),
                            "--cert", pki(f"{cert}.crt"), "--key", pki(f"{cert}.key"),
                            "-w", "\n%{http_code}", d.url(path)],
                           capture_output=True, text=True, timeout=20)
        self.assertEqual(r.returncode, 0, r.stderr)
        body, status = r.stdout.rsplit("\n", 1)
        return int(status), body

    def test_each_rule_kind_serves_a_listed_identity_and_refuses_an_unlisted_one(self):
        d = self.start_with_rules({name: [rule] for name, rule in RULES.items()})
        for name in RULES:
            with self.subTest(rule=name):
                allowed = self.get(d, f"/v1/tokens/{name}", "team-client")
                self.assertEqual(allowed.status_code, 200, allowed.text)
                self.assertEqual(allowed.json()["access_token"], self.token)

                refused = self.get(d, f"/v1/tokens/{name}", "partner-client")
                self.assertEqual(refused.status_code, 403)
                self.assertEqual(refused.text, '{"error":"forbidden"}')
                self.assertEqual(refused.headers["Content-Type"], "application/json")

    def test_curl_sees_the_same_answers(self):
        d = self.start_with_rules({"by-uri": [RULES["by-uri"]]})
        self.assertEqual(self.curl(d, "/v1/tokens/by-uri", "team-client")[0], 200)
        status, body = self.curl(d, "/v1/tokens/by-uri", "partner-client")
        self.assertEqual((status, body), (403, '{"error":"forbidden"}'))

    def test_every_field_of_a_rule_must_match(self):
        d = self.start_with_rules({"both": ["{cn: ci-runner, o: Partner}"]})
        self.assertEqual(self.get(d, "/v1/tokens/both", "team-client").status_code, 403)
        self.assertEqual(self.get(d, "/v1/tokens/both", "partner-client").status_code, 403)

    def test_any_one_rule_is_enough(self):
        d = self.start_with_rules({"either": ["{cn: web-frontend}", RULES["by-uri"]]})
        self.assertEqual(self.get(d, "/v1/tokens/either", "team-client").status_code, 200)
        self.assertEqual(self.get(d, "/v1/tokens/either", "partner-client").status_code, 200)
        self.assertEqual(self.get(d, "/v1/tokens/either", "client").status_code, 403)

    def test_a_token_without_rules_serves_any_verified_client(self):
        rules = {"by-cn": [RULES["by-cn"]]}
        tokens = tokens_block(self.token_path, rules) + (
            f"  wif:\n    source: {{type: file, path: {self.token_path}}}\n")
        d = self.start_daemon(default_config(self.tmp, tokens=tokens))
        self.assertEqual(self.get(d, "/get_wif_token", "partner-client").status_code, 200)
        self.assertEqual(self.get(d, "/v1/tokens/by-cn", "partner-client").status_code, 403)

    def test_root_and_health_paths_need_only_a_verified_certificate(self):
        d = self.start_with_rules({"wif": [RULES["by-cn"]]})
        self.assertEqual(self.get(d, "/get_wif_token", "partner-client").status_code, 403)
        root = self.get(d, "/", "partner-client")
        self.assertEqual((root.status_code, root.json()), (200, {"status": "OK"}))
        self.assertEqual(self.get(d, "/healthz", "partner-client").status_code, 200)
        self.assertEqual(self.get(d, "/readyz", "partner-client").status_code, 200)

    def test_the_log_names_the_refused_identity_and_token_but_the_answer_does_not(self):
        d = self.start_with_rules({"by-cn": [RULES["by-cn"]]})
        refused = self.get(d, "/v1/tokens/by-cn", "partner-client")
        self.assertNotIn("ci-runner", refused.text)
        self.assertNotIn("web-frontend", refused.text)
        denied = d.wait_log("event=access_denied")
        self.assertIn("token=by-cn", denied)
        self.assertIn("subject=\"OU=Web,O=Partner,CN=web-frontend\"", denied)
        self.assertIn("sha256=" + fingerprint("partner-client.crt").replace(":", "").lower(),
                      denied)
        self.assertNotIn(self.token, d.log_text())


class AccessRuleErrors(DaemonTest):
    def check(self, allow_line):
        tokens = (f"  wif:\n    source: {{type: file, path: {self.token_path}}}\n"
                  f"    allow:\n      - {allow_line}\n")
        path = os.path.join(self.tmp, "wif-tokend.yaml")
        with open(path, "w") as f:
            f.write(default_config(self.tmp, tokens=tokens))
        r = subprocess.run([os.environ["WIF_TOKEND_BIN"], "check", "--config", path],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2, r.stdout)
        return path, r.stderr

    def line_of_allow(self, path):
        with open(path) as f:
            return next(i for i, l in enumerate(f, 1) if l.strip().startswith("- {"))

    def test_a_bad_address_names_file_line_and_field(self):
        path, err = self.check("{cn: ci-runner, ip: 10.0.0.300}")
        line = self.line_of_allow(path)
        self.assertIn(f"{path}:{line}:29: tokens.wif.allow[0].ip: got \"10.0.0.300\" "
                      "(expected an IPv4 or IPv6 address", err)

    def test_a_fingerprint_of_the_wrong_length_is_refused(self):
        path, err = self.check("{sha256: \"AB:CD\"}")
        self.assertIn("tokens.wif.allow[0].sha256: got \"AB:CD\" (expected the certificate's "
                      "SHA-256 fingerprint: 64 hex digits", err)

    def test_a_bad_glob_is_refused(self):
        path, err = self.check("{uri: \"spiffe://corp/**/runner\"}")
        self.assertIn("tokens.wif.allow[0].uri: got \"spiffe://corp/**/runner\" (expected ** only "
                      "as the last segment)", err)


if __name__ == "__main__":
    import unittest
    unittest.main()
