"""Token sources against the real binary: exec hooks (the tiny real scripts
in tests/data/hooks), several named tokens with their own routes, holding a
request for the refresh in flight, expiry in answers, the Kubernetes `..data`
rotations and a writer that truncates then writes while clients read, and
logs that never hold a token."""

import json
import os
import re
import shutil
import threading
import time
import unittest

from harness import (SOURCE_ROOT, Daemon, DaemonTest, default_config, read_response, tls_connect,
                     wait_for)

HOOKS = os.path.join(SOURCE_ROOT, "tests", "data", "hooks")


def hook(name):
    return os.path.join(HOOKS, name)


def token_block(name, source, extra=""):
    """One entry of `tokens:`; `source` is a dict written as a YAML flow map
    (JSON strings are YAML scalars)."""
    fields = ", ".join(f"{k}: {json.dumps(v)}" for k, v in source.items())
    return f"  {name}:\n    source: {{{fields}}}\n{extra}"


def exec_token(name, command, extra="", **fields):
    return token_block(name, {"type": "exec", "command": command, **fields}, extra)


def rfc3339(epoch_seconds):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch_seconds))


def get(daemon, path):
    """One GET over mTLS: (status, headers, body as text)."""
    with tls_connect(daemon.port) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: wif\r\nConnection: close\r\n\r\n".encode())
        status, headers, body, _ = read_response(s)
        return status, headers, body.decode()


def get_json(daemon, path):
    status, _, body = get(daemon, path)
    return status, json.loads(body)


def proc_stat(pid):
    """(state, pgid) from /proc/PID/stat, or None when there is no such
    process. proc(5): "pid (comm) state ppid pgrp ...", comm may hold anything."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    return fields[0], int(fields[2])


def process_alive(pid):
    stat = proc_stat(pid)
    return stat is not None and stat[0] not in ("Z", "X")  # a zombie is dead


def live_processes_in_group(pgid):
    """PIDs of live processes in process group `pgid`."""
    return [int(e) for e in os.listdir("/proc")
            if e.isdigit() and process_alive(int(e)) and (proc_stat(int(e)) or ("", 0))[1] == pgid]


class SourcesTest(DaemonTest):
    """Starts the daemon with --allow-exec and the given tokens."""

    def start_tokens(self, tokens, allow_exec=True, env=None):
        return self.start_daemon(default_config(self.tmp, tokens=tokens),
                                 args=["--allow-exec"] if allow_exec else [], env=env)

    def path(self, name):
        return os.path.join(self.tmp, name)


class AllowingExec(SourcesTest):
    def refused(self, env=None, command="serve"):
        config = default_config(self.tmp, tokens=exec_token("build", [hook("text.sh"), "t"]))
        d = Daemon(self.tmp, config, env=env, args=[command] if command != "serve" else [])
        d.start(expect_listening=False)
        try:
            code = d.proc.wait(timeout=20)
        finally:
            if d.proc.poll() is None:
                d.proc.kill()  # ours, by its PID: it should have refused to start
                d.proc.wait()
        d._reader.join(timeout=5)
        d.proc.stderr.close()
        return code, d.log_text()

    def test_an_exec_source_is_refused_without_the_switch(self):
        code, log = self.refused()
        self.assertEqual(code, 2)
        self.assertRegex(
            log, r"wif-tokend\.yaml:\d+:\d+: tokens\.build\.source\.type: got \"exec\", which "
                 r"runs commands and is refused unless allowed \(expected wif-tokend to be "
                 r"started with --allow-exec or WIF_TOKEND_ALLOW_EXEC=1\)")

    def test_check_refuses_it_the_same_way(self):
        code, log = self.refused(command="check")
        self.assertEqual(code, 2)
        self.assertIn("tokens.build.source.type: got \"exec\"", log)

    def test_only_the_value_1_of_the_variable_allows_exec(self):
        code, _ = self.refused(env={"WIF_TOKEND_ALLOW_EXEC": "yes"})
        self.assertEqual(code, 2)

    def test_the_environment_variable_allows_exec(self):
        d = self.start_tokens(exec_token("build", [hook("text.sh"), "allowed-by-env"]),
                              allow_exec=False, env={"WIF_TOKEND_ALLOW_EXEC": "1"})
        self.assertEqual(get_json(d, "/v1/tokens/build")[1]["access_token"], "allowed-by-env")


class ManyTokens(SourcesTest):
    def test_each_payload_format_is_served_on_its_own_route(self):
        with open(self.token_path, "w") as f:
            f.write("file-token\n")
        in_an_hour = int(time.time()) + 3600
        tokens = (
            token_block("wif", {"type": "file", "path": self.token_path})
            + exec_token("text", [hook("text.sh"), "text-token"])
            + exec_token("google", [hook("google-executable.sh"), "google.id.token",
                                    str(in_an_hour)])
            + exec_token("k8s", [hook("exec-credential.sh"), "k8s-token", rfc3339(in_an_hour)])
            + exec_token("oauth", [hook("oauth2.sh"), "ya29.oauth", "3600"])
            + exec_token("iam", [hook("iam-access-token.sh"), "ya29.iam", rfc3339(in_an_hour)])
            + exec_token("field", [hook("json-field.sh"), "field-token", "3600"],
                         json_field="result.secret", json_expiry_field="result.ttl_seconds"))
        d = self.start_tokens(tokens)

        expected = {"text": "text-token", "google": "google.id.token", "k8s": "k8s-token",
                    "oauth": "ya29.oauth", "iam": "ya29.iam", "field": "field-token",
                    "wif": "file-token"}
        for name, value in expected.items():
            status, body = get_json(d, f"/v1/tokens/{name}")
            self.assertEqual(status, 200, name)
            self.assertEqual(body["access_token"], value, name)
            self.assertEqual(body["token_type"], "Bearer", name)
            if name in ("text", "wif"):
                self.assertNotIn("expires_in", body, name)  # never invented
            else:
                self.assertGreater(body["expires_in"], 3500, name)
                self.assertLessEqual(body["expires_in"], 3600, name)
        self.assertEqual(get_json(d, "/get_wif_token")[1]["access_token"], "file-token")
        self.assertEqual(get(d, "/v1/tokens/nope")[0], 404)
        self.assertEqual(get(d, "/get_text_token")[0], 404)  # only wif has the old path

    def test_readyz_reports_each_token_until_all_are_ready(self):
        os.unlink(self.token_path)
        tokens = (token_block("wif", {"type": "file", "path": self.token_path},
                              "    request_wait: 0s\n")
                  + exec_token("build", [hook("text.sh"), "build-token"]))
        d = self.start_tokens(tokens)
        wait_for(lambda: get_json(d, "/v1/tokens/build")[0] == 200, what="the build token")

        status, body = get_json(d, "/readyz")
        self.assertEqual(status, 503)
        self.assertEqual(body["tokens"], {"wif": "failing", "build": "ready"})
        self.assertEqual(body["tokens_not_ready"], ["wif"])
        status, body = get_json(d, "/get_wif_token")
        self.assertEqual(status, 503)
        self.assertIn("token wif", body["error_description"])

        self.write_token("late-file-token")
        wait_for(lambda: get_json(d, "/readyz")[0] == 200, what="readyz 200")
        self.assertEqual(get_json(d, "/readyz")[1]["tokens"], {"wif": "ready", "build": "ready"})
        self.assertEqual(get_json(d, "/get_wif_token")[1]["access_token"], "late-file-token")


class Responses(SourcesTest):
    def test_expires_in_falls_and_the_token_is_refreshed_before_it_expires(self):
        # Six-second tokens served until two seconds before their end: the
        # refresh comes after three seconds, a little earlier at random.
        runs = self.path("runs")
        d = self.start_tokens(exec_token("short", [hook("count-runs.sh"), runs, "short", "6"],
                                         min_remaining="2s"))
        seen = []  # (token, expires_in) in the order answered
        deadline = time.monotonic() + 30
        while len({t for t, _ in seen}) < 3 and time.monotonic() < deadline:
            status, body = get_json(d, "/v1/tokens/short")
            self.assertEqual(status, 200, body)
            seen.append((body["access_token"], body["expires_in"]))
            time.sleep(0.1)  # spaces the polls out; no synchronisation rests on it
        tokens = list(dict.fromkeys(t for t, _ in seen))
        self.assertEqual(tokens[:3], ["short-1", "short-2", "short-3"])
        for token in tokens:
            lefts = [left for t, left in seen if t == token]
            self.assertEqual(lefts, sorted(lefts, reverse=True), token)
            # Never served within min_remaining of its end, so never expired.
            self.assertGreaterEqual(min(lefts), 2, token)
        first = [left for t, left in seen if t == "short-1"]
        self.assertLess(first[-1], first[0])  # it fell while it was served
        with open(runs) as f:
            reasons = [line.split()[1] for line in f]
        self.assertEqual(reasons[:3], ["start-up", "refresh", "refresh"])

    def test_minimal_response_carries_only_the_token(self):
        d = self.start_tokens(exec_token("strict", [hook("oauth2.sh"), "ya29.minimal", "3600"],
                                         extra="    response: minimal\n"))
        self.assertEqual(get_json(d, "/v1/tokens/strict"), (200, {"access_token": "ya29.minimal"}))

    def test_an_expired_token_gets_503_and_is_retried_with_backoff_not_in_a_loop(self):
        runs = self.path("runs")
        d = self.start_tokens(exec_token("stale", [hook("expired.sh"), runs, "ya29.stale"],
                                         extra="    request_wait: 0s\n"))
        wait_for(lambda: os.path.exists(runs), what="the first run")
        status, headers, body = get(d, "/v1/tokens/stale")
        self.assertEqual(status, 503)
        self.assertTrue(1 <= int(headers["retry-after"]) <= 60, headers)
        self.assertEqual(json.loads(body), {
            "error": "temporarily_unavailable",
            "error_description": "token stale has no valid value yet"})
        self.assertNotIn("ya29.stale", body)

        def run_times():
            with open(runs) as f:
                return [float(line) for line in f]
        times = wait_for(lambda: len(run_times()) >= 3 and run_times(), timeout=20,
                         what="three runs")
        # 1 s and then 2 s, each ± 25 %: later runs only wait longer.
        self.assertGreaterEqual(times[1] - times[0], 0.7)
        self.assertGreaterEqual(times[2] - times[1], 1.4)
        d.wait_log("event=token_refresh_failed")


class TimeLimit(SourcesTest):
    def test_a_hook_past_its_time_limit_is_killed_with_its_whole_group(self):
        pids_file = self.path("pids")
        d = self.start_tokens(exec_token("slow", [hook("sleep-past-limit.sh"), pids_file],
                                         timeout="1s", extra="    request_wait: 0s\n"))
        wait_for(lambda: os.path.exists(pids_file), what="the hook's PIDs")
        with open(pids_file) as f:
            leader, helper = (int(p) for p in f.read().split())
        self.assertEqual(get(d, "/v1/tokens/slow")[0], 503)

        # SIGTERM at 1 s is ignored; SIGKILL to the group follows 2 s later.
        d.wait_log("ran past its time limit of 1s and was stopped", timeout=20)
        wait_for(lambda: not live_processes_in_group(leader), timeout=10,
                 what="the hook's process group to be gone")
        self.assertFalse(process_alive(leader))
        self.assertFalse(process_alive(helper))


class RequestWait(SourcesTest):
    slow = [hook("slow.sh"), "1.5", "slow-token"]

    def test_a_request_waits_for_the_first_run_and_gets_the_token(self):
        d = self.start_tokens(exec_token("slow", self.slow))
        self.assertNotIn("event=token_updated", d.log_text())  # the hook still sleeps
        status, body = get_json(d, "/v1/tokens/slow")
        self.assertEqual((status, body["access_token"]), (200, "slow-token"))

    def test_request_wait_zero_answers_503_at_once(self):
        d = self.start_tokens(exec_token("slow", self.slow, extra="    request_wait: 0s\n"))
        status, _, _ = get(d, "/v1/tokens/slow")
        self.assertNotIn("event=token_updated", d.log_text())
        self.assertEqual(status, 503)

    def test_requests_pipelined_behind_a_held_one_keep_their_order(self):
        d = self.start_tokens(exec_token("slow", self.slow))
        with tls_connect(d.port) as s:
            s.sendall(b"GET /v1/tokens/slow HTTP/1.1\r\nHost: a\r\n\r\n"
                      b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            status, _, body, rest = read_response(s)
            self.assertEqual((status, json.loads(body)["access_token"]), (200, "slow-token"))
            status, _, body, _ = read_response(s, rest)
            self.assertEqual((status, json.loads(body)), (200, {"status": "OK"}))

    def test_a_held_request_gets_503_when_its_wait_ends(self):
        # Retries 1 s, 2 s, 4 s apart: the request waits through the first
        # ones, and is answered once the next comes after its wait.
        d = self.start_tokens(exec_token("broken", [hook("fail.sh"), "never", "1"],
                                         extra="    request_wait: 5s\n"))
        d.wait_log("event=token_refresh_failed")
        started = time.monotonic()
        status, headers, _ = get(d, "/v1/tokens/broken")
        self.assertEqual(status, 503)
        self.assertIn("retry-after", headers)
        self.assertGreaterEqual(time.monotonic() - started, 0.8)


class NeverLogged(SourcesTest):
    """A known token through every path of both sources, success and
    failure; the text log at debug level holds none of them."""

    def test_no_token_reaches_the_log(self):
        secret = "ya29.never-logged-"
        self.write_token(secret + "file-ok")
        with open(self.path("bad_file"), "w") as f:
            f.write(f"{secret}file-bad\n{secret}file-bad\n")  # two lines: refused
        tokens = (
            token_block("wif", {"type": "file", "path": self.token_path})
            + token_block("badfile", {"type": "file", "path": self.path("bad_file")},
                          "    request_wait: 0s\n")
            + exec_token("ok", [hook("text.sh"), secret + "exec-ok"])
            + exec_token("failing", [hook("fail.sh"), secret + "exec-failed", "3"],
                         extra="    request_wait: 0s\n")
            + exec_token("timeout", [hook("sleep-past-limit.sh"), self.path("pids"),
                                     secret + "exec-timeout"], timeout="1s",
                         extra="    request_wait: 0s\n")
            + exec_token("flood", [hook("flood.sh"), secret + "exec-flood", "70000", "1"],
                         extra="    request_wait: 0s\n")
            + exec_token("stale", [hook("expired.sh"), self.path("runs"), secret + "exec-stale"],
                         extra="    request_wait: 0s\n"))
        d = self.start_tokens(tokens)

        self.assertEqual(get_json(d, "/get_wif_token")[1]["access_token"], secret + "file-ok")
        self.assertEqual(get_json(d, "/v1/tokens/ok")[1]["access_token"], secret + "exec-ok")
        for name in ("badfile", "failing", "flood", "stale"):
            status, _, body = get(d, f"/v1/tokens/{name}")
            self.assertEqual(status, 503, name)
            self.assertNotIn(secret, body)
        d.wait_log("ran past its time limit", timeout=20)
        for reason in ("text payload has more than one line", "exited with status 3",
                       "more than 64KiB", "token expired"):
            d.wait_log(reason)
        d.wait_log("event=exec_stderr")  # standard error does reach the log

        self.write_token(secret + "file-new")
        wait_for(lambda: get_json(d, "/get_wif_token")[1]["access_token"] == secret + "file-new",
                 what="the new file token")
        self.assertEqual(d.stop(), 0)
        log = d.log_text()
        self.assertIn("event=token_updated", log)
        self.assertNotIn("never-logged", log)


class FileRotation(SourcesTest):
    """Clients read without pause while the file is replaced; every answer
    is a whole token that was written, never an empty or partial one."""

    def hammer(self, daemon, stop, seen, errors):
        def ask():
            with tls_connect(daemon.port) as s:
                leftover = b""
                while not stop.is_set():
                    s.sendall(b"GET /get_wif_token HTTP/1.1\r\nHost: a\r\n\r\n")
                    status, _, body, leftover = read_response(s, leftover)
                    if status != 200:
                        errors.append(status)
                    else:
                        seen.append(json.loads(body)["access_token"])
        threads = [threading.Thread(target=ask) for _ in range(3)]
        for t in threads:
            t.start()
        return threads

    def served_now(self, daemon):
        return get_json(daemon, "/get_wif_token")[1].get("access_token")

    def test_three_kubernetes_data_rotations_in_a_row(self):
        volume = self.path("volume")
        os.mkdir(volume)

        def generation(n, token):
            folder = os.path.join(volume, f"..2026_{n:02d}")
            os.mkdir(folder)
            with open(os.path.join(folder, "wif_token.txt"), "w") as f:
                f.write(token + "\n")
            return os.path.basename(folder)

        first = generation(0, "k8s-token-0")
        os.symlink(first, os.path.join(volume, "..data"))
        os.symlink("..data/wif_token.txt", os.path.join(volume, "wif_token.txt"))
        d = self.start_tokens(token_block(
            "wif", {"type": "file", "path": os.path.join(volume, "wif_token.txt")}))
        self.assertEqual(self.served_now(d), "k8s-token-0")

        stop, seen, errors = threading.Event(), [], []
        threads = self.hammer(d, stop, seen, errors)
        try:
            old = first
            for n in range(1, 4):
                # What kubelet's atomic writer does: a new folder, a new
                # symlink renamed over ..data, the old folder removed.
                new = generation(n, f"k8s-token-{n}")
                tmp_link = os.path.join(volume, "..data_tmp")
                os.symlink(new, tmp_link)
                os.rename(tmp_link, os.path.join(volume, "..data"))
                shutil.rmtree(os.path.join(volume, old))
                old = new
                wait_for(lambda: self.served_now(d) == f"k8s-token-{n}",
                         what=f"rotation {n} served")
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=10)
        self.assertEqual(errors, [])
        self.assertTrue(seen)
        self.assertLessEqual(set(seen), {f"k8s-token-{n}" for n in range(4)})

    def test_a_writer_that_truncates_then_writes_never_shows_a_partial_token(self):
        written = [f"truncated-then-written-{n:03d}-" + "x" * 40 for n in range(20)]
        self.write_token("first-token-of-the-file-" + "x" * 40)
        d = self.start_tokens(token_block("wif", {"type": "file", "path": self.token_path}))
        stop, seen, errors = threading.Event(), [], []
        threads = self.hammer(d, stop, seen, errors)
        try:
            for token in written:
                with open(self.token_path, "w") as f:  # O_TRUNC, then the write
                    f.write(token)
                    f.flush()
                    f.write("\n")
                wait_for(lambda: self.served_now(d) == token, what=f"{token} served")
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=10)
        self.assertEqual(errors, [])
        self.assertTrue(seen)
        self.assertLessEqual(set(seen), set(written) | {"first-token-of-the-file-" + "x" * 40})


if __name__ == "__main__":
    unittest.main()
