"""Start and stop a real attestd on 127.0.0.1 for the service tests.

Only the Python standard library is used. Every server listens on a free
loopback port with a fresh temporary data folder, and stop() always kills
the process, so a failed test leaves nothing running.
"""

import json
import os
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

ATTESTD = os.environ.get("ATTESTD", "")


def free_port():
    """Return a TCP port that was free on 127.0.0.1 a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)


class Server:
    """One attestd process with its own data folder, config file and log file."""

    def __init__(self, config=None, extra_args=(), data_dir=None):
        self.workdir = tempfile.mkdtemp(prefix="attestd-test-")
        self.data_dir = data_dir or os.path.join(self.workdir, "data")
        self.config_path = os.path.join(self.workdir, "attestd.json")
        self.log_path = os.path.join(self.workdir, "attestd.log")
        self.port = free_port()
        self.config = {"insecure_http": True, "listen_address": "127.0.0.1",
                       "listen_port": self.port, "data_dir": self.data_dir}
        self.config.update(config or {})
        self.extra_args = list(extra_args)
        self.process = None
        self.admin_key = None

    def init(self):
        result = subprocess.run([ATTESTD, "init", "--data-dir", self.data_dir],
                                capture_output=True, text=True, timeout=30)
        if result.returncode != 0:
            raise RuntimeError("attestd init failed: " + result.stderr)
        self.admin_key = result.stdout.strip()
        return result

    def write_config(self, **changes):
        self.config.update(changes)
        with open(self.config_path, "w", encoding="utf-8") as out:
            json.dump(self.config, out)

    def start(self):
        if self.admin_key is None and not os.path.exists(
                os.path.join(self.data_dir, "attestd.db")):
            self.init()
        self.write_config()
        self.log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [ATTESTD, "serve", "--config", self.config_path] + self.extra_args,
            stdout=subprocess.DEVNULL, stderr=self.log)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("attestd exited with %d: %s"
                                   % (self.process.returncode, self.log_text()))
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("attestd did not start listening: " + self.log_text())

    def stop(self, timeout=15):
        """Send SIGTERM, wait, kill if needed; return the exit status."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        return self.process.returncode

    def problem_report(self, status):
        """Return "" after a clean exit, else the exit status and the log."""
        text = self.log_text() if os.path.exists(self.log_path) else ""
        if status not in (None, 0) or "Sanitizer" in text or "runtime error" in text:
            return "attestd exited with %s:\n%s" % (status, text)
        return ""

    def log_text(self):
        with open(self.log_path, "rb") as log:
            return log.read().decode("utf-8", "replace")

    def log_events(self):
        return [json.loads(line) for line in self.log_text().splitlines() if line.strip()]

    def request(self, method, path, body=None, key=None, content_type="application/json",
                headers=None):
        context = None
        if self.config.get("insecure_http"):
            url = "http://127.0.0.1:%d%s" % (self.port, path)
        else:
            # A server with TLS is trusted through its own (self-signed) certificate.
            url = "https://127.0.0.1:%d%s" % (self.port, path)
            context = ssl.create_default_context(cafile=self.config["tls_cert_file"])
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
        all_headers = dict(headers or {})
        if data is not None and content_type is not None:
            all_headers["Content-Type"] = content_type
        if key is not None:
            all_headers["Authorization"] = "Bearer " + key
        req = urllib.request.Request(url, data=data, method=method, headers=all_headers)
        try:
            with urllib.request.urlopen(req, timeout=15, context=context) as reply:
                return Response(reply.status, reply.headers, reply.read())
        except urllib.error.HTTPError as error:
            return Response(error.code, error.headers, error.read())
