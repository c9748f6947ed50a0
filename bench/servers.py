"""The servers bench/compare.py runs side by side, each in its own folder of
the run directory with its own config, on a loopback port of its own, never
as a system service: wif-tokend, nginx (ssl_verify_client on, serving the
token file), HAProxy (answering the token body with `http-request return`)
and the original Flask app. Every one is started by PID and stopped by that
PID."""

import os
import shutil
import signal
import socket
import subprocess
import time

# The original app.py of reference/original-flask-design.md, word for word,
# except that the address comes from BENCH_HOST and BENCH_PORT (defaulting to
# the original 0.0.0.0:7001) so that the benchmark can use a free loopback
# port.
FLASK_APP = '''import os
from flask import Flask, jsonify

app = Flask(__name__)
WIF_HOME = os.environ.get("WIF_HOME", "/opt/wif-token-api")
WIF_TOKEN_FILENAME = os.path.join(WIF_HOME, "wif_token.txt")

@app.route("/")
def health_check():
    return jsonify({"status": "OK"}), 200

@app.route("/get_wif_token")
def get_token():
    try:
        with open(WIF_TOKEN_FILENAME, 'r') as f:
            token = f.read().strip()
            return jsonify({"access_token": token})
    except Exception as e:
        return jsonify({"error": str(e)}), 500

if __name__ == "__main__":
    import ssl
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certfile="server.crt", keyfile="server.key")  # Or server-decrypted.key
    context.load_verify_locations(cafile="ca-chain.crt")
    context.verify_mode = ssl.CERT_REQUIRED
    app.run(host=os.environ.get("BENCH_HOST", "0.0.0.0"),
            port=int(os.environ.get("BENCH_PORT", "7001")), ssl_context=context)
'''


def free_port():
    """A loopback port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, proc, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


class Server:
    """One started server: its name, port, main PID and log file."""

    stop_signal = signal.SIGTERM

    def __init__(self, name, folder, certs, token_path, body_path):
        self.name = name
        self.folder = folder
        self.certs = certs  # dict: server_cert, server_key, ca_chain
        self.token_path = token_path
        self.body_path = body_path
        self.port = free_port()
        self.proc = None
        os.makedirs(folder, exist_ok=True)
        self.log_path = os.path.join(folder, "server.log")

    def command(self):
        raise NotImplementedError

    def env(self):
        return dict(os.environ)

    def start(self):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.command(), cwd=self.folder, env=self.env(),
                                     stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                     start_new_session=True)
        log.close()
        if not wait_listening(self.port, self.proc):
            self.stop()
            raise RuntimeError(f"{self.name} did not start listening on {self.port}; "
                               f"see {self.log_path}")
        return self

    @property
    def pid(self):
        return self.proc.pid

    def stop(self, timeout=15.0):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(self.stop_signal)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()  # by PID, the process we started
            self.proc.wait()


class WifTokend(Server):
    def __init__(self, binary, *args):
        super().__init__("wif-tokend", *args)
        self.binary = binary
        self.config = os.path.join(self.folder, "wif-tokend.yaml")
        with open(self.config, "w") as f:
            f.write(f'''listen: "127.0.0.1:{self.port}"
workers: 2
shutdown_timeout: 2s
tls:
  cert: {self.certs["server_cert"]}
  key: {self.certs["server_key"]}
  client_ca: {self.certs["ca_chain"]}
http:
  idle_timeout: 300s
  max_connections: 20000
tokens:
  wif:
    source: {{type: file, path: {self.token_path}}}
metrics: {{listen: "127.0.0.1:0"}}
log: {{level: warn, access: false}}  # nginx and HAProxy log no requests either
''')

    def command(self):
        return [self.binary, "--config", self.config]


class Nginx(Server):
    # SIGQUIT is nginx's graceful stop of master and workers.
    stop_signal = signal.SIGQUIT

    def __init__(self, *args):
        super().__init__("nginx", *args)
        self.conf = os.path.join(self.folder, "nginx.conf")
        temp = os.path.join(self.folder, "temp")
        os.makedirs(temp, exist_ok=True)
        # The best configuration we know for this job: one worker per core,
        # no access log, the file's descriptor cached, keep-alive without a
        # request limit, tickets on (nginx's default).
        with open(self.conf, "w") as f:
            f.write(f'''user root;
worker_processes 2;
worker_rlimit_nofile 30000;
daemon off;
pid {self.folder}/nginx.pid;
error_log {self.folder}/error.log warn;
events {{ worker_connections 16384; }}
http {{
  access_log off;
  client_body_temp_path {temp}/body;
  proxy_temp_path {temp}/proxy;
  fastcgi_temp_path {temp}/fastcgi;
  uwsgi_temp_path {temp}/uwsgi;
  scgi_temp_path {temp}/scgi;
  keepalive_timeout 300s;
  keepalive_requests 1000000000;
  open_file_cache max=16;
  open_file_cache_valid 60s;
  server {{
    listen 127.0.0.1:{self.port} ssl reuseport backlog=4096;
    ssl_certificate {self.certs["server_cert"]};
    ssl_certificate_key {self.certs["server_key"]};
    ssl_client_certificate {self.certs["ca_chain"]};
    ssl_verify_client on;
    ssl_verify_depth 4;
    ssl_protocols TLSv1.2 TLSv1.3;
    location = /get_wif_token {{
      default_type application/json;
      add_header Cache-Control no-store;
      alias {self.body_path};
    }}
  }}
}}
''')

    def command(self):
        return ["nginx", "-p", self.folder, "-c", self.conf]


# See Haproxy: what it can hold under a 20,000-descriptor hard limit.
HAPROXY_MAX_CONNECTIONS = 9900


class Haproxy(Server):
    # SIGUSR1 is HAProxy's soft stop; SIGTERM stops at once, which is what a
    # benchmark wants once its load is over.
    def __init__(self, *args):
        super().__init__("haproxy", *args)
        self.cfg = os.path.join(self.folder, "haproxy.cfg")
        pem = os.path.join(self.folder, "server.pem")
        with open(pem, "w") as out:
            for part in (self.certs["server_cert"], self.certs["server_key"]):
                with open(part) as f:
                    out.write(f.read())
        with open(self.cfg, "w") as f:
            # HAProxy sizes its descriptors for a server-side connection per
            # client one (2 x maxconn + a few), so under a hard limit of
            # 20,000 descriptors it takes at most 9,900 clients.
            f.write(f'''global
  nbthread 2
  ulimit-n 20000
  maxconn {HAPROXY_MAX_CONNECTIONS}

defaults
  mode http
  timeout connect 5s
  timeout client 300s
  timeout server 5s
  timeout http-request 10s
  timeout http-keep-alive 300s

frontend wif
  bind 127.0.0.1:{self.port} ssl crt {pem} ca-file {self.certs["ca_chain"]} verify required alpn http/1.1
  maxconn {HAPROXY_MAX_CONNECTIONS}
  http-request return status 200 content-type application/json file {self.body_path} hdr Cache-Control no-store if {{ path /get_wif_token }}
  http-request return status 404 content-type application/json string "{{\\"error\\":\\"not_found\\"}}"
''')

    def command(self):
        return ["haproxy", "-db", "-f", self.cfg]


class Flask(Server):
    def __init__(self, *args):
        super().__init__("flask", *args)
        # The original layout: the app and its certificate files side by
        # side, the token in $WIF_HOME.
        with open(os.path.join(self.folder, "app.py"), "w") as f:
            f.write(FLASK_APP)
        for src, dst in ((self.certs["server_cert"], "server.crt"),
                         (self.certs["server_key"], "server.key"),
                         (self.certs["ca_chain"], "ca-chain.crt")):
            shutil.copyfile(src, os.path.join(self.folder, dst))
        shutil.copyfile(self.token_path, os.path.join(self.folder, "wif_token.txt"))

    def env(self):
        env = dict(os.environ)
        env.update(WIF_HOME=self.folder, BENCH_HOST="127.0.0.1", BENCH_PORT=str(self.port))
        return env

    def command(self):
        return ["/usr/bin/python3", "app.py"]
