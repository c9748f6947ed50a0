"""Hardening of the real daemon (issue #7): key file permissions, warnings
about files others may write, and giving up root after binding."""

import grp
import json
import os
import pwd
import shutil
import signal
import subprocess
import unittest

from clients import TOKEN_REQUEST, strict_tls_connect, wait_metric
from harness import BINARY, Daemon, DaemonTest, default_config, pki, read_response


def proc_status(pid):
    """The Uid, Gid and Groups lines of /proc/PID/status as lists of ints."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("Uid", "Gid", "Groups"):
                out[key] = [int(v) for v in value.split()]
    return out


def get_token(port):
    with strict_tls_connect(port) as s:
        s.sendall(TOKEN_REQUEST)
        status, _, body, _ = read_response(s)
    return status, json.loads(body)


class KeyPermissions(DaemonTest):
    def copy_key(self, mode):
        path = os.path.join(self.tmp, "server.key")
        shutil.copyfile(pki("server.key"), path)
        os.chmod(path, mode)
        return path

    def config_with_key(self, key, extra_tls=""):
        return default_config(self.tmp, extra_tls=extra_tls).replace(
            f"  key: {pki('server.key')}\n", f"  key: {key}\n")

    def run_check(self, config_text):
        path = os.path.join(self.tmp, "wif-tokend.yaml")
        with open(path, "w") as f:
            f.write(config_text)
        return subprocess.run([BINARY, "check", "--config", path], capture_output=True, text=True,
                              timeout=30)

    def test_a_key_readable_by_its_group_stops_start_up_and_check(self):
        key = self.copy_key(0o640)
        expected = (f"wif-tokend: tls: key {key} is readable by group (mode 0640): make it "
                    "readable by its owner only (chmod 600), or allow it with "
                    "tls.key_readable_by: group")
        r = self.run_check(self.config_with_key(key))
        self.assertEqual(r.returncode, 2)
        self.assertIn(expected, r.stderr)

        d = Daemon(self.tmp)
        d.start(expect_listening=False)
        self.assertEqual(d.proc.wait(timeout=20), 2)
        d._reader.join(timeout=5)
        self.assertIn(expected, d.log_text())

    def test_key_readable_by_group_lets_such_a_key_serve(self):
        key = self.copy_key(0o640)
        d = self.start_daemon(self.config_with_key(key, extra_tls="  key_readable_by: group\n"))
        self.assertEqual(get_token(d.port), (200, {"access_token": self.token,
                                                   "token_type": "Bearer"}))

    def test_a_key_readable_by_anyone_serves_only_when_the_environment_says_anyone(self):
        key = self.copy_key(0o644)
        config = self.config_with_key(key)
        for env, served in (({}, False), ({"WIF_TOKEND_KEY_READABLE_BY": "group"}, False),
                            ({"WIF_TOKEND_KEY_READABLE_BY": "anyone"}, True)):
            with self.subTest(env=env):
                d = Daemon(self.tmp, config, env=env)
                if served:
                    self.daemons.append(d)
                    d.start()
                    self.assertEqual(get_token(d.port)[0], 200)
                    continue
                d.start(expect_listening=False)
                self.assertEqual(d.proc.wait(timeout=20), 2)
                d._reader.join(timeout=5)
                self.assertIn(f"key {key} is readable by group and others (mode 0644)",
                              d.log_text())
                self.assertIn("tls.key_readable_by: anyone", d.log_text())

    def test_a_reload_to_a_readable_key_is_refused_and_the_served_one_stays(self):
        key = self.copy_key(0o600)
        d = self.start_daemon(self.config_with_key(key, extra_tls="  reload_on_change: false\n"))
        self.assertEqual(get_token(d.port)[0], 200)

        replacement = key + ".new"
        shutil.copyfile(pki("server.key"), replacement)
        os.chmod(replacement, 0o640)
        os.rename(replacement, key)
        d.signal(signal.SIGHUP)
        wait_metric(d, 'wif_tokend_reloads_total{kind="tls",result="rejected"}', 1)
        self.assertIn(f"key {key} is readable by group (mode 0640)",
                      d.wait_log("event=reload_rejected"))
        self.assertEqual(get_token(d.port)[0], 200)  # the context from start-up serves on

        os.chmod(key, 0o600)
        d.signal(signal.SIGHUP)
        wait_metric(d, 'wif_tokend_reloads_total{kind="tls",result="applied"}', 1)
        self.assertEqual(get_token(d.port)[0], 200)


class WritableFiles(DaemonTest):
    def test_a_config_file_others_may_write_is_warned_about(self):
        d = Daemon(self.tmp, default_config(self.tmp))
        os.chmod(d.config_path, 0o666)
        self.daemons.append(d)
        d.start()
        d.wait_log("event=config_warning")
        self.assertIn(f"config file {d.config_path} is writable by others (mode 0666)",
                      d.log_text())
        self.assertEqual(get_token(d.port)[0], 200)  # a warning, not a refusal

        r = subprocess.run([BINARY, "check", "--config", d.config_path], capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(f"warning: config file {d.config_path} is writable by others", r.stdout)

    def test_a_token_file_others_may_write_is_warned_about(self):
        os.chmod(self.token_path, 0o646)
        d = self.start_daemon()
        d.wait_log("event=token_file_writable")
        self.assertEqual(get_token(d.port)[0], 200)


NOBODY = pwd.getpwnam("nobody")
NOGROUP = grp.getgrgid(NOBODY.pw_gid)


class RunAs(DaemonTest):
    def readable_by_nobody(self):
        """The token and its folder readable by nobody (mkdtemp makes 0700)."""
        os.chmod(self.tmp, 0o755)
        os.chmod(self.token_path, 0o644)

    @unittest.skipUnless(os.geteuid() == 0, "switching users needs root")
    def test_started_as_root_it_gives_root_up_after_binding(self):
        self.readable_by_nobody()
        d = self.start_daemon(default_config(
            self.tmp, extra_top=f"user: {NOBODY.pw_name}\ngroup: {NOGROUP.gr_name}\n"))
        ids = proc_status(d.proc.pid)
        self.assertEqual(ids["Uid"], [NOBODY.pw_uid] * 4)  # real, effective, saved, fs
        self.assertEqual(ids["Gid"], [NOGROUP.gr_gid] * 4)
        self.assertEqual(ids["Groups"], [NOGROUP.gr_gid])
        d.wait_log("event=running_as")
        # The sockets were bound and the token file is read as nobody.
        self.assertEqual(get_token(d.port)[0], 200)

        # The key is root's (0600): a reload as nobody cannot read it, is
        # refused, and the daemon goes on with what it has.
        d.signal(signal.SIGHUP)
        wait_metric(d, 'wif_tokend_reloads_total{kind="tls",result="rejected"}', 1)
        self.assertEqual(get_token(d.port)[0], 200)

    def test_not_started_as_root_it_refuses_to_become_another_user(self):
        config = default_config(self.tmp, extra_top="user: root\n")
        prefix = []
        if os.geteuid() == 0:
            # Run it as nobody, with copies of the files nobody may read.
            self.readable_by_nobody()
            for name in ("server.crt", "server.key", "ca-chain.crt"):
                copy = os.path.join(self.tmp, name)
                shutil.copyfile(pki(name), copy)
                os.chmod(copy, 0o600)
                os.chown(copy, NOBODY.pw_uid, NOBODY.pw_gid)
            config = config.replace(pki(""), self.tmp + "/")
            prefix = ["setpriv", f"--reuid={NOBODY.pw_uid}", f"--regid={NOBODY.pw_gid}",
                      "--clear-groups"]
        path = os.path.join(self.tmp, "wif-tokend.yaml")
        with open(path, "w") as f:
            f.write(config)
        os.chmod(path, 0o644)
        r = subprocess.run(prefix + [BINARY, "--config", path], capture_output=True, text=True,
                           timeout=30, stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("event=cannot_switch_user", r.stderr)
        self.assertIn("only root can switch users", r.stderr)


if __name__ == "__main__":
    unittest.main()
