"""`meson install` into a DESTDIR: the binary, the example config, the systemd
unit and its sysusers entry land where they belong, and each one works.

Where things belong is worked out here independently of meson.build: the
prefix, bindir and sysconfdir from `meson introspect`, the systemd folders
from pkg-config, as a packager would.
"""

import json
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import BINARY, SOURCE_ROOT, pki

MESON = os.environ.get("WIF_MESON", "meson")
BUILD_ROOT = os.environ.get("WIF_BUILD_ROOT", "")


def build_options():
    out = subprocess.run([MESON, "introspect", "--buildoptions", BUILD_ROOT], check=True,
                         capture_output=True, text=True, timeout=60).stdout
    return {o["name"]: o["value"] for o in json.loads(out)}


def systemd_dir(variable, fallback):
    """The folder systemd.pc names, else FALLBACK under the prefix."""
    r = subprocess.run(["pkg-config", f"--variable={variable}", "systemd"], capture_output=True,
                       text=True, timeout=30)
    return r.stdout.strip() if r.returncode == 0 and r.stdout.strip() else fallback


def under(prefix, path):
    return os.path.join(prefix, path)


class MesonInstall(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.destdir = tempfile.mkdtemp(prefix="wif-install-")
        r = subprocess.run([MESON, "install", "-C", BUILD_ROOT, "--no-rebuild", "--destdir",
                            cls.destdir], capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            shutil.rmtree(cls.destdir, ignore_errors=True)
            raise AssertionError(f"meson install failed:\n{r.stdout}\n{r.stderr}")

        options = build_options()
        prefix = options["prefix"]
        cls.bin_path = under(under(prefix, options["bindir"]), "wif-tokend")
        cls.config_path = under(under(prefix, options["sysconfdir"]), "wif-tokend/wif-tokend.yaml")
        cls.unit_path = under(
            systemd_dir("systemdsystemunitdir", under(prefix, "lib/systemd/system")),
            "wif-tokend.service")
        cls.sysusers_path = under(systemd_dir("sysusersdir", under(prefix, "lib/sysusers.d")),
                                  "wif-tokend.conf")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.destdir, ignore_errors=True)

    def staged(self, path):
        return self.destdir + path

    def read_staged(self, path):
        with open(self.staged(path)) as f:
            return f.read()

    def test_installs_the_binary_in_bindir_and_it_runs(self):
        path = self.staged(self.bin_path)
        self.assertTrue(os.access(path, os.X_OK), f"{path} is not an executable file")
        r = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        expected = subprocess.run([BINARY, "--version"], capture_output=True, text=True,
                                  timeout=30).stdout
        self.assertEqual(r.stdout, expected)
        self.assertRegex(r.stdout, r"^wif-tokend \d+\.\d+\.\d+\n$")

    def test_installs_the_annotated_example_as_the_config_in_sysconfdir(self):
        with open(os.path.join(SOURCE_ROOT, "config/wif-tokend.yaml")) as f:
            self.assertEqual(self.read_staged(self.config_path), f.read())

    def test_the_installed_config_passes_check_with_the_original_layout(self):
        home = tempfile.mkdtemp(prefix="wif-install-home-")
        self.addCleanup(shutil.rmtree, home, True)
        for name in ("server.crt", "server.key", "ca-chain.crt"):
            shutil.copy(pki(name), home)
        with open(os.path.join(home, "wif_token.txt"), "w") as f:
            f.write("t0ken\n")

        r = subprocess.run([self.staged(self.bin_path), "check", "--config",
                            self.staged(self.config_path)], capture_output=True, text=True,
                           timeout=30, env={**os.environ, "WIF_HOME": home}, cwd="/")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(f"token wif: file {home}/wif_token.txt", r.stdout)
        self.assertIn("check passed", r.stdout)

    def test_the_unit_runs_the_installed_binary_with_the_installed_config(self):
        unit = self.read_staged(self.unit_path)
        self.assertIn(f"\nExecStart={self.bin_path} serve\n", unit)
        self.assertIn(f"\nEnvironment=WIF_TOKEND_CONFIG={self.config_path}\n", unit)
        self.assertIn("\nEnvironment=WIF_HOME=/opt/wif-token-api\n", unit)

    def test_the_unit_reloads_with_sighup_after_a_passing_check(self):
        unit = self.read_staged(self.unit_path)
        reloads = [line for line in unit.splitlines() if line.startswith("ExecReload=")]
        self.assertEqual(reloads, [f"ExecReload={self.bin_path} check",
                                   "ExecReload=/bin/kill -HUP $MAINPID"])

    def test_the_unit_runs_as_the_user_that_sysusers_makes(self):
        unit = self.read_staged(self.unit_path)
        self.assertIn("\nUser=wif-tokend\n", unit)
        self.assertIn("\nGroup=wif-tokend\n", unit)

        # systemd-sysusers applies the staged entry to an empty root of its own.
        root = tempfile.mkdtemp(prefix="wif-install-root-")
        self.addCleanup(shutil.rmtree, root, True)
        os.mkdir(os.path.join(root, "etc"))
        r = subprocess.run(["systemd-sysusers", f"--root={root}",
                            self.staged(self.sysusers_path)], capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(root, "etc/passwd")) as f:
            users = [line.split(":") for line in f.read().splitlines()]
        self.assertEqual([(u[0], u[5], u[6]) for u in users],
                         [("wif-tokend", "/", "/usr/sbin/nologin")])
        self.assertNotEqual(users[0][2], "0")

    def test_the_unit_is_sandboxed(self):
        unit = self.read_staged(self.unit_path).splitlines()
        for setting in ("NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes",
                        "PrivateTmp=yes", "PrivateDevices=yes", "CapabilityBoundingSet=",
                        "RestrictNamespaces=yes", "SystemCallFilter=@system-service"):
            self.assertIn(setting, unit)

    def test_systemd_accepts_the_unit_without_a_complaint(self):
        # verify checks that every command exists, so a copy of the unit names
        # the staged binary instead of the one a real install would have.
        tmp = tempfile.mkdtemp(prefix="wif-install-unit-")
        self.addCleanup(shutil.rmtree, tmp, True)
        copy = os.path.join(tmp, "wif-tokend.service")
        with open(copy, "w") as f:
            f.write(self.read_staged(self.unit_path).replace(self.bin_path,
                                                              self.staged(self.bin_path)))
        r = subprocess.run(["systemd-analyze", "verify", "--man=no", copy], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout + r.stderr, "")

    def test_systemd_rates_the_sandbox_ok(self):
        # `systemd-analyze security` scores exposure from 0 (locked down) to
        # 10; up to 1.9 it calls a service "OK", the best of its bands.
        r = subprocess.run(["systemd-analyze", "security", "--offline=yes", "--threshold=19",
                            "--no-pager", self.staged(self.unit_path)], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"Overall exposure level for wif-tokend.service: \d\.\d OK")


if __name__ == "__main__":
    unittest.main()
