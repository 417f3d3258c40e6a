"""attest attest and attest exec against a real attestd with a simulated platform.

Each test starts attestd on a free loopback port with a fresh database, a
simulated platform whose root the service trusts, and the platform's
collateral as PCS-style files. The client runs as the attest binary.
"""

import base64
import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
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

    def start(self):
        settings = {"trust_root": self.sim.root, "collateral_path": self.sim.collateral,
                    "issuer": "https://attestd.test"}
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
        self.assertIn("404", result.stderr)

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
        self.assertIn("source_unreachable", result.stderr)
        # Waits of 0.2 + 0.4 + 0.8 + 1.6 s between the 5 attempts.
        self.assertGreaterEqual(elapsed, 2.9)
        self.assertLess(elapsed, 15)
        self.assertFalse(os.path.exists(out))


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
