"""attest attest and attest exec against a real attestd with a simulated platform.

Each test starts attestd on a free loopback port with a fresh database, a
simulated platform whose root the service trusts, and the platform's
collateral as PCS-style files. The client runs as the attest binary.
"""

import base64
import hashlib
import http.server
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from attestd_harness import Server, free_port

ATTEST = os.environ.get("ATTEST", "")


def run(*args):
    result = subprocess.run([ATTEST] + list(args), capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise RuntimeError("attest %s failed: %s" % (" ".join(args), result.stderr))
    return result.stdout


def jwt_payload(token):
    """Decodes the JWT payload without checking the signature."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


class Platform:
    """A simulated platform in a temporary folder, with its SGX collateral files."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="attest-client-sim-")
        self.platform = os.path.join(self.dir, "platform")
        run("sim", "init", "--dir", self.platform)
        self.root = os.path.join(self.platform, "root-ca.der")
        self.collateral = os.path.join(self.dir, "pcs-sgx")
        run("sim", "collateral", "--dir", self.platform, "--tee", "sgx", "--pcs-dir",
            self.collateral, "--at", str(int(time.time())))


def self_signed_certificate(folder):
    """Write a self-signed P-256 certificate for IP 127.0.0.1 and return (cert, key) paths."""
    cert = os.path.join(folder, "cert.pem")
    key = os.path.join(folder, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    return cert, key


class FakeService:
    """A loopback HTTP server that returns a fixed status and body for each path.

    It replaces a broken attestd, to check how the client names a bad
    response. responses maps a path to (status, body bytes).
    """

    def __init__(self, responses):
        replies = responses

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                self.rfile.read(length)
                status, body = replies.get(self.path, (404, b'{"error": {"code": "not_found"}}'))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def sgx_policy(mrenclave):
    return {"evidence_types": ["sgx"], "sgx": {"mrenclave": [mrenclave]},
            "simulated_allowed": True}


class ClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sim = Platform()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.sim.dir, ignore_errors=True)

    def setUp(self):
        self.work = tempfile.mkdtemp(prefix="attest-client-test-")
        self.addCleanup(shutil.rmtree, self.work, True)

    def start(self, config=None):
        settings = {"trust_root": self.sim.root, "collateral_path": self.sim.collateral,
                    "issuer": "https://attestd.test"}
        settings.update(config or {})
        server = Server(config=settings)
        server.start()
        self.addCleanup(self.stop, server)
        return server

    def stop(self, server):
        status = server.stop()
        problem = server.problem_report(status)
        self.assertEqual(problem, "", problem)

    def application(self, server, name, policy):
        key = server.admin_key
        self.assertEqual(server.request("POST", "/v1/applications", {"name": name}, key=key).status,
                         201)
        put = server.request("PUT", "/v1/applications/%s/policies" % name, policy, key=key)
        self.assertIn(put.status, (200, 201), put.body)
        activate = server.request("POST", "/v1/applications/%s/policies/%d/activate"
                                  % (name, put.json()["version"]), key=key)
        self.assertEqual(activate.status, 200, activate.body)

    def url(self, server):
        return "http://127.0.0.1:%d" % server.port

    def client(self, command, url, app, *extra, program=()):
        args = [ATTEST, command, "--service", url, "--app", app, "--backend", "sim",
                "--sim-dir", self.sim.platform] + list(extra)
        if program:
            args += ["--"] + list(program)
        return subprocess.run(args, capture_output=True, text=True, timeout=60)

    def default_mrenclave(self):
        """Returns the MRENCLAVE that the sim backend quotes without a measurement."""
        quote_path = os.path.join(self.work, "default.bin")
        run("evidence", "--backend", "sim", "--sim-dir", self.sim.platform,
            "--report-data", "00" * 64, "--out", quote_path)
        with open(quote_path, "rb") as quote:
            data = quote.read()
        # SGX quote: 48-byte header, then the report body with MRENCLAVE at offset 64.
        return data[48 + 64:48 + 96].hex()

    def program(self, name, extra_line=""):
        """Writes a shell script that copies the token file to OUT; returns its path."""
        path = os.path.join(self.work, name)
        with open(path, "w", encoding="utf-8") as script:
            script.write('#!/bin/sh\ncat "$ATTEST_TOKEN_FILE" > "$1"\n' + extra_line)
        os.chmod(path, 0o755)
        return path

    def test_attest_accepted_writes_token(self):
        server = self.start()
        self.application(server, "trainer", sgx_policy(self.default_mrenclave()))
        token_file = os.path.join(self.work, "token.jwt")
        result = self.client("attest", self.url(server), "trainer", "--token-file", token_file)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("accepted", result.stdout)
        self.assertEqual(stat.S_IMODE(os.stat(token_file).st_mode), 0o600)
        with open(token_file, encoding="ascii") as token:
            text = token.read()
        self.assertEqual(jwt_payload(text)["sub"], "trainer")
        self.assertNotIn(text, result.stdout + result.stderr)

    def test_attest_replaces_token_file(self):
        server = self.start()
        self.application(server, "trainer", sgx_policy(self.default_mrenclave()))
        token_file = os.path.join(self.work, "token.jwt")
        with open(token_file, "w", encoding="ascii") as old:
            old.write("old")
        os.chmod(token_file, 0o644)
        result = self.client("attest", self.url(server), "trainer", "--token-file", token_file)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(stat.S_IMODE(os.stat(token_file).st_mode), 0o600)
        with open(token_file, encoding="ascii") as token:
            self.assertEqual(jwt_payload(token.read())["sub"], "trainer")
        self.assertEqual(sorted(os.listdir(self.work)), ["default.bin", "token.jwt"])

    def test_attest_json_prints_report(self):
        server = self.start()
        self.application(server, "trainer", sgx_policy(self.default_mrenclave()))
        result = self.client("attest", self.url(server), "trainer", "--json")
        self.assertEqual(result.returncode, 0, result.stderr)
        report = json.loads(result.stdout)
        self.assertEqual(report["verdict"], "accepted")
        self.assertEqual(jwt_payload(report["token"])["sub"], "trainer")

    def test_attest_rejected_names_check(self):
        server = self.start()
        self.application(server, "trainer", sgx_policy("11" * 32))
        token_file = os.path.join(self.work, "token.jwt")
        result = self.client("attest", self.url(server), "trainer", "--token-file", token_file)
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn("appraisal_measurement_not_allowed", result.stderr)
        self.assertFalse(os.path.exists(token_file))

    def test_attest_unknown_application_exits_2(self):
        server = self.start()
        result = self.client("attest", self.url(server), "missing")
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("service_http_status", result.stderr)
        self.assertIn("404", result.stderr)
        self.assertIn("not_found", result.stderr)

    def test_attest_insecure_tls_warns(self):
        server = self.start()
        self.application(server, "trainer", sgx_policy(self.default_mrenclave()))
        result = self.client("attest", self.url(server), "trainer", "--insecure-tls")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("insecure", result.stderr)

    def test_attest_missing_app_is_usage_error(self):
        result = subprocess.run([ATTEST, "attest", "--service", "http://127.0.0.1:1"],
                                capture_output=True, text=True, timeout=30)
        self.assertEqual(result.returncode, 2)
        self.assertIn("--app", result.stderr)

    def test_exec_accepted_runs_program(self):
        program = self.program("worker.sh")
        with open(program, "rb") as binary:
            mrenclave = hashlib.sha256(binary.read()).hexdigest()
        server = self.start()
        self.application(server, "worker", sgx_policy(mrenclave))
        out = os.path.join(self.work, "out.jwt")
        result = self.client("exec", self.url(server), "worker", "--program-measure",
                             program=[program, out])
        self.assertEqual(result.returncode, 0, result.stderr)
        with open(out, encoding="ascii") as token:
            self.assertEqual(jwt_payload(token.read())["sub"], "worker")

    def test_exec_program_found_on_path(self):
        program = self.program("worker-on-path")
        with open(program, "rb") as binary:
            mrenclave = hashlib.sha256(binary.read()).hexdigest()
        server = self.start()
        self.application(server, "worker", sgx_policy(mrenclave))
        out = os.path.join(self.work, "out.jwt")
        env = dict(os.environ, PATH=self.work + ":" + os.environ.get("PATH", "/usr/bin:/bin"))
        args = [ATTEST, "exec", "--service", self.url(server), "--app", "worker", "--backend",
                "sim", "--sim-dir", self.sim.platform, "--program-measure", "--",
                "worker-on-path", out]
        result = subprocess.run(args, capture_output=True, text=True, timeout=60, env=env)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertTrue(os.path.exists(out))

    def test_exec_token_file_mode_0600(self):
        program = self.program("mode.sh", 'stat -c %a "$ATTEST_TOKEN_FILE" > "$1.mode"\n')
        with open(program, "rb") as binary:
            mrenclave = hashlib.sha256(binary.read()).hexdigest()
        server = self.start()
        self.application(server, "worker", sgx_policy(mrenclave))
        out = os.path.join(self.work, "out.jwt")
        env = dict(os.environ, XDG_RUNTIME_DIR=self.work)
        args = [ATTEST, "exec", "--service", self.url(server), "--app", "worker", "--backend",
                "sim", "--sim-dir", self.sim.platform, "--program-measure", "--", program, out]
        result = subprocess.run(args, capture_output=True, text=True, timeout=60, env=env)
        self.assertEqual(result.returncode, 0, result.stderr)
        with open(out + ".mode", encoding="ascii") as mode:
            self.assertEqual(mode.read().strip(), "600")
        tokens = [name for name in os.listdir(self.work) if name.startswith("attest-token-")]
        self.assertEqual(len(tokens), 1)

    def test_exec_modified_program_refused(self):
        program = self.program("worker.sh")
        with open(program, "rb") as binary:
            mrenclave = hashlib.sha256(binary.read()).hexdigest()
        modified = self.program("worker-modified.sh", "# one more line\n")
        server = self.start()
        self.application(server, "worker", sgx_policy(mrenclave))
        out = os.path.join(self.work, "out.jwt")
        result = self.client("exec", self.url(server), "worker", "--program-measure",
                             program=[modified, out])
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn("appraisal_measurement_not_allowed", result.stderr)
        self.assertFalse(os.path.exists(out))

    def test_exec_sim_measures_program_by_default(self):
        program = self.program("worker.sh")
        with open(program, "rb") as binary:
            mrenclave = hashlib.sha256(binary.read()).hexdigest()
        modified = self.program("worker-modified.sh", "# one more line\n")
        server = self.start()
        self.application(server, "worker", sgx_policy(mrenclave))
        out = os.path.join(self.work, "out.jwt")
        result = self.client("exec", self.url(server), "worker", program=[program, out])
        self.assertEqual(result.returncode, 0, result.stderr)
        with open(out, encoding="ascii") as token:
            self.assertEqual(jwt_payload(token.read())["sgx_mrenclave"], mrenclave)
        os.unlink(out)
        result = self.client("exec", self.url(server), "worker", program=[modified, out])
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn("appraisal_measurement_not_allowed", result.stderr)
        self.assertFalse(os.path.exists(out))

    def test_exec_auto_backend_measures_with_sim(self):
        if os.path.exists("/sys/kernel/config/tsm/report") or os.path.exists("/dev/attestation/quote"):
            self.skipTest("auto selects a real TEE interface on this machine")
        program = self.program("worker.sh")
        with open(program, "rb") as binary:
            mrenclave = hashlib.sha256(binary.read()).hexdigest()
        server = self.start()
        self.application(server, "worker", sgx_policy(mrenclave))
        out = os.path.join(self.work, "out.jwt")
        args = [ATTEST, "exec", "--service", self.url(server), "--app", "worker",
                "--sim-dir", self.sim.platform, "--", program, out]
        result = subprocess.run(args, capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertTrue(os.path.exists(out))

    def test_exec_program_measure_other_backend_rejected(self):
        program = self.program("worker.sh")
        out = os.path.join(self.work, "out.jwt")
        args = [ATTEST, "exec", "--service", "http://127.0.0.1:%d" % free_port(), "--app",
                "worker", "--backend", "configfs-tsm", "--program-measure", "--", program, out]
        result = subprocess.run(args, capture_output=True, text=True, timeout=30)
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("--program-measure applies to the sim backend only", result.stderr)
        self.assertFalse(os.path.exists(out))

    def test_exec_unreachable_exits_2_after_retries(self):
        program = self.program("worker.sh")
        out = os.path.join(self.work, "out.jwt")
        started = time.monotonic()
        result = self.client("exec", "http://127.0.0.1:%d" % free_port(), "worker",
                             program=[program, out])
        elapsed = time.monotonic() - started
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("5 attempt", result.stderr)
        self.assertIn("service_unreachable", result.stderr)
        # Waits of 0.2 + 0.4 + 0.8 + 1.6 s between the 5 attempts.
        self.assertGreaterEqual(elapsed, 2.9)
        self.assertLess(elapsed, 15)
        self.assertFalse(os.path.exists(out))

    def test_attest_unreachable_names_service(self):
        result = self.client("attest", "http://127.0.0.1:%d" % free_port(), "worker")
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("1 attempt", result.stderr)
        self.assertIn("service_unreachable", result.stderr)
        self.assertNotIn("source_", result.stderr)

    def test_attest_json_errors_are_json(self):
        unreachable = self.client("attest", "http://127.0.0.1:%d" % free_port(), "worker",
                                  "--json")
        self.assertEqual(unreachable.returncode, 2, unreachable.stderr)
        printed = json.loads(unreachable.stdout)
        self.assertEqual(printed["verdict"], "error")
        self.assertEqual(printed["error"]["code"], "service_unreachable")
        self.assertEqual(printed["attempts"], 1)

        no_scheme = self.client("attest", "127.0.0.1:%d" % free_port(), "worker", "--json")
        self.assertEqual(no_scheme.returncode, 2, no_scheme.stderr)
        self.assertEqual(json.loads(no_scheme.stdout)["error"]["code"], "invalid_argument")
        self.assertIn("before any request", no_scheme.stderr)

    def test_exec_unwritable_token_folder_fails_first(self):
        server = self.start()
        mrenclave = self.default_mrenclave()
        self.application(server, "worker", sgx_policy(mrenclave))
        missing = os.path.join(self.work, "no-such-folder", "token.jwt")
        result = self.client("exec", self.url(server), "worker", "--token-file", missing,
                             program=["/bin/true"])
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("no-such-folder", result.stderr)
        audit = server.request("GET", "/v1/audit?application=worker", key=server.admin_key)
        self.assertEqual(audit.json()["records"], [])

    def test_attest_malformed_responses_named(self):
        nonce = json.dumps({"nonce": "AQAA", "value": "ab" * 32}).encode()
        cases = [
            ("nonce not JSON", {"/v1/nonce": (200, b"<html>ok</html>")},
             "service_response_invalid", "not a JSON object"),
            ("nonce without value", {"/v1/nonce": (200, b'{"nonce": "AQAA"}')},
             "service_response_invalid", '"value"'),
            ("verdict unknown", {"/v1/nonce": (200, nonce),
                                 "/v1/attest": (200, b'{"verdict": "maybe"}')},
             "service_response_invalid", '"verdict"'),
            ("accepted without token", {"/v1/nonce": (200, nonce),
                                        "/v1/attest": (200, b'{"verdict": "accepted"}')},
             "service_response_invalid", '"token"'),
            ("service unavailable", {"/v1/nonce": (503, b'{"error": {"code": "store_busy", '
                                                         b'"message": "database locked"}}')},
             "service_http_status", "503 store_busy"),
        ]
        for name, responses, code, detail in cases:
            with self.subTest(name):
                fake = FakeService(responses)
                try:
                    result = self.client("attest", fake.url, "worker")
                finally:
                    fake.stop()
                self.assertEqual(result.returncode, 2, result.stderr)
                self.assertIn(code, result.stderr)
                self.assertIn(detail, result.stderr)

    def test_https_needs_trusted_certificate(self):
        cert, key = self_signed_certificate(self.work)
        server = self.start({"insecure_http": False, "tls_cert_file": cert, "tls_key_file": key})
        self.application(server, "trainer", sgx_policy(self.default_mrenclave()))
        url = "https://127.0.0.1:%d" % server.port
        token_file = os.path.join(self.work, "token.jwt")

        untrusted = self.client("attest", url, "trainer", "--token-file", token_file)
        self.assertEqual(untrusted.returncode, 2, untrusted.stderr)
        self.assertIn("service_tls_failed", untrusted.stderr)
        self.assertIn("certificate", untrusted.stderr)
        self.assertFalse(os.path.exists(token_file))

        # The right CA, but a host name that the certificate does not name.
        wrong_name = self.client("attest", "https://localhost:%d" % server.port, "trainer",
                                 "--cacert", cert)
        self.assertEqual(wrong_name.returncode, 2, wrong_name.stderr)
        self.assertIn("service_tls_failed", wrong_name.stderr)

        trusted = self.client("attest", url, "trainer", "--cacert", cert, "--token-file",
                              token_file)
        self.assertEqual(trusted.returncode, 0, trusted.stderr)
        self.assertNotIn("insecure", trusted.stderr)
        with open(token_file, encoding="ascii") as token:
            self.assertEqual(jwt_payload(token.read())["sub"], "trainer")

        insecure = self.client("attest", url, "trainer", "--insecure-tls")
        self.assertEqual(insecure.returncode, 0, insecure.stderr)
        self.assertIn("--insecure-tls is insecure", insecure.stderr)

    def test_https_jwks_needs_trusted_certificate(self):
        cert, key = self_signed_certificate(self.work)
        server = self.start({"insecure_http": False, "tls_cert_file": cert, "tls_key_file": key})
        self.application(server, "trainer", sgx_policy(self.default_mrenclave()))
        token_file = os.path.join(self.work, "token.jwt")
        attested = self.client("attest", "https://127.0.0.1:%d" % server.port, "trainer",
                               "--cacert", cert, "--token-file", token_file)
        self.assertEqual(attested.returncode, 0, attested.stderr)
        jwks_url = "https://127.0.0.1:%d/.well-known/jwks.json" % server.port

        def verify(*extra):
            return subprocess.run([ATTEST, "token", "verify", "--token", token_file, "--jwks",
                                   jwks_url, "--issuer", "https://attestd.test", "--app",
                                   "trainer", "--json"] + list(extra),
                                  capture_output=True, text=True, timeout=30)

        untrusted = verify()
        self.assertEqual(untrusted.returncode, 2, untrusted.stdout + untrusted.stderr)
        outcome = json.loads(untrusted.stdout)
        self.assertFalse(outcome["valid"])
        self.assertEqual(outcome["error"]["code"], "service_tls_failed")
        self.assertIn(jwks_url, outcome["error"]["detail"])

        trusted = verify("--cacert", cert)
        self.assertEqual(trusted.returncode, 0, trusted.stdout + trusted.stderr)
        self.assertEqual(json.loads(trusted.stdout)["claims"]["sub"], "trainer")
        self.assertNotIn("insecure", trusted.stderr)

        insecure = verify("--insecure-tls")
        self.assertEqual(insecure.returncode, 0, insecure.stdout + insecure.stderr)
        self.assertTrue(json.loads(insecure.stdout)["valid"])
        self.assertIn("insecure", insecure.stderr)


def main():
    if "--tap" not in sys.argv:
        unittest.main(verbosity=2)
        return
    from test_attestd import TapResult
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__])
    runner = unittest.TextTestRunner(stream=sys.stderr, resultclass=TapResult, verbosity=0)
    result = runner.run(suite)
    failed = len(result.failures) + len(result.errors)
    print("%d passed, %d failed" % (result.testsRun - failed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
