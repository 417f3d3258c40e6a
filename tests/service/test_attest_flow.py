"""The attestation flow of a real attestd with simulated SGX and TDX evidence.

Each test starts attestd on a free loopback port with a fresh database, a
simulated platform whose root the service trusts, and the platform's
collateral as PCS-style files. Tokens are checked with PyJWT against the
service's JWKS endpoint only.
"""

import base64
import hashlib
import signal
import socket
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import unittest

# Show whole attestd logs when a run fails, not a truncated diff.
unittest.TestCase.maxDiff = None

import jwt

from attestd_harness import Server

ATTEST = os.environ.get("ATTEST", "")


def run(*args):
    result = subprocess.run([ATTEST] + list(args), capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise RuntimeError("attest %s failed: %s" % (" ".join(args), result.stderr))
    return result.stdout


class Platform:
    """A simulated platform in a temporary folder, with its collateral files."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="attest-sim-")
        self.platform = os.path.join(self.dir, "platform")
        run("sim", "init", "--dir", self.platform)
        self.root = os.path.join(self.platform, "root-ca.der")
        now = str(int(time.time()))
        self.collateral = {}
        for tee in ("sgx", "tdx"):
            path = os.path.join(self.dir, "pcs-" + tee)
            run("sim", "collateral", "--dir", self.platform, "--tee", tee, "--pcs-dir", path,
                "--at", now)
            self.collateral[tee] = path

    def evidence(self, tee, nonce_value, runtime_data=b"", extra=()):
        """Returns a quote of a simulated enclave or TD bound to the nonce.

        The report data is computed here, independently of attest, as
        SHA-512(nonce || runtime data).
        """
        report_data = hashlib.sha512(bytes.fromhex(nonce_value) + runtime_data).hexdigest()
        return self.quote(tee, ["--report-data", report_data] + list(extra))

    def quote(self, tee, extra=()):
        """Returns a quote made with the given attest sim quote options."""
        quote_path = os.path.join(self.dir, "quote-%s.bin" % tee)
        run("sim", "quote", "--dir", self.platform, "--tee", tee, "--out", quote_path, *extra)
        with open(quote_path, "rb") as quote:
            return quote.read()


MRENCLAVE = "11" * 32
# The FMSPC of the simulated platform (docs/sim.md).
SIM_FMSPC = "53494D000000"
MRTD = "22" * 48


def sgx_policy(**changes):
    policy = {"evidence_types": ["sgx"], "sgx": {"mrenclave": [MRENCLAVE]},
              "simulated_allowed": True}
    policy.update(changes)
    return policy


def tdx_policy(**changes):
    policy = {"evidence_types": ["tdx"], "tdx": {"mrtd": [MRTD]}, "simulated_allowed": True}
    policy.update(changes)
    return policy


class AttestFlowTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sim = Platform()

    def start(self, tee="sgx", config=None):
        settings = {"trust_root": self.sim.root, "collateral_path": self.sim.collateral[tee],
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
        version = put.json()["version"]
        activate = server.request("POST", "/v1/applications/%s/policies/%d/activate"
                                  % (name, version), key=key)
        self.assertEqual(activate.status, 200, activate.body)

    def nonce(self, server):
        reply = server.request("POST", "/v1/nonce", {})
        self.assertEqual(reply.status, 200, reply.body)
        return reply.json()

    def attest(self, server, application, quote, nonce=None, runtime_data=b"", **fields):
        body = {"application": application, "evidence": base64.b64encode(quote).decode()}
        if nonce is not None:
            body["nonce"] = nonce
        if runtime_data:
            body["runtime_data"] = base64.b64encode(runtime_data).decode()
        body.update(fields)
        return server.request("POST", "/v1/attest", body)

    def jwks(self, server):
        reply = server.request("GET", "/.well-known/jwks.json")
        self.assertEqual(reply.status, 200, reply.body)
        return reply.json()

    def decode_token(self, server, token, audience=None):
        """Verifies token with PyJWT and only the keys of the JWKS endpoint."""
        header = jwt.get_unverified_header(token)
        keys = jwt.PyJWKSet.from_dict(self.jwks(server))
        key = next(k for k in keys.keys if k.key_id == header["kid"])
        return jwt.decode(token, key.key, algorithms=["ES256"], issuer="https://attestd.test",
                          audience=audience, options={"require": ["exp", "iat", "iss", "sub"]})

    def test_sgx_accepted_with_token(self):
        server = self.start("sgx")
        self.application(server, "trainer", sgx_policy())
        nonce = self.nonce(server)
        runtime = b'{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}'
        quote = self.sim.evidence("sgx", nonce["value"], runtime, ["--mrenclave", MRENCLAVE])
        reply = self.attest(server, "trainer", quote, nonce["nonce"], runtime, audience="worker")
        self.assertEqual(reply.status, 200, reply.body)
        result = reply.json()
        self.assertEqual(result["verdict"], "accepted", result.get("failure"))
        self.assertIsNone(result["failure"])
        self.assertTrue(result["verification"]["valid"])
        self.assertTrue(result["appraisal"]["pass"])

        claims = self.decode_token(server, result["token"], audience="worker")
        self.assertEqual(claims["sub"], "trainer")
        self.assertEqual(claims["attester_type"], "sgx")
        self.assertEqual(claims["sgx_mrenclave"], MRENCLAVE)
        self.assertEqual(claims["nonce"], nonce["nonce"])
        self.assertTrue(claims["simulated"])
        self.assertEqual(claims["policy_version"], 1)
        self.assertEqual(claims["cnf"]["jwk"]["kty"], "OKP")
        # Simulated evidence is degraded: the EAR status is warning, not affirming.
        self.assertEqual(claims["submods"]["sgx"]["ear.status"], "warning")
        self.assertLessEqual(claims["exp"] - claims["iat"], 300)

        audit = server.request("GET", "/v1/audit?application=trainer", key=server.admin_key)
        self.assertEqual(audit.status, 200, audit.body)
        records = audit.json()["records"]
        self.assertEqual(len(records), 1)
        self.assertEqual(records[0]["verdict"], "accepted")
        self.assertEqual(records[0]["token_id"], claims["jti"])

    def test_report_levels(self):
        server = self.start("sgx")
        self.application(server, "trainer", sgx_policy())
        replies = {}
        for report in (None, "checks", "details", "full"):
            nonce = self.nonce(server)
            quote = self.sim.evidence("sgx", nonce["value"], b"", ["--mrenclave", MRENCLAVE])
            fields = {} if report is None else {"report": report}
            reply = self.attest(server, "trainer", quote, nonce["nonce"], **fields)
            self.assertEqual(reply.status, 200, reply.body)
            replies[report] = reply.json()
        for report, result in replies.items():
            self.assertEqual(result["verdict"], "accepted", report)
            self.assertGreater(len(result["verification"]["checks"]), 10, report)
            names = [check["check"] for check in result["verification"]["checks"]]
            self.assertEqual(names, [check["check"] for check in
                                     replies[None]["verification"]["checks"]], report)
            for check in result["verification"]["checks"] + result["appraisal"]["checks"]:
                self.assertIn(check["outcome"], ("pass", "fail", "skip"), check)
                # Every check that did not pass says why, at every level.
                if check["outcome"] != "pass" or report in ("details", "full"):
                    self.assertTrue(check["detail"], (report, check))
                else:
                    self.assertNotIn("detail", check, (report, check))
        skipped = [check for check in replies[None]["appraisal"]["checks"]
                   if check["outcome"] == "skip"]
        self.assertTrue(skipped, "the policy leaves some checks unset")
        self.assertNotIn("claims", replies[None]["verification"])
        self.assertNotIn("claims", replies["checks"]["verification"])
        self.assertNotIn("claims", replies["details"]["verification"])
        self.assertEqual(replies["full"]["verification"]["claims"]["body"]["mr_enclave"],
                         MRENCLAVE)

        nonce = self.nonce(server)
        quote = self.sim.evidence("sgx", nonce["value"], b"", ["--mrenclave", MRENCLAVE])
        for report in ("everything", "FULL", "", 1, ["full"]):
            reply = self.attest(server, "trainer", quote, nonce["nonce"], report=report)
            self.assertEqual(reply.status, 400, reply.body)
            self.assertEqual(reply.json()["error"]["code"], "request_invalid", report)
            self.assertIn("report must be", reply.json()["error"]["message"])

    def test_relying_party_verifies_with_jwks_url(self):
        server = self.start("sgx")
        self.application(server, "trainer", sgx_policy())
        nonce = self.nonce(server)
        quote = self.sim.evidence("sgx", nonce["value"], b"", ["--mrenclave", MRENCLAVE])
        token = self.attest(server, "trainer", quote, nonce["nonce"]).json()["token"]
        jwks_url = "http://127.0.0.1:%d/.well-known/jwks.json" % server.port

        def verify(*extra, token_text=token):
            return subprocess.run([ATTEST, "token", "verify", token_text, "--jwks", jwks_url,
                                   "--issuer", "https://attestd.test", "--json"] + list(extra),
                                  capture_output=True, text=True, timeout=30)

        good = verify("--app", "trainer", "--nonce", nonce["nonce"])
        self.assertEqual(good.returncode, 0, good.stdout + good.stderr)
        self.assertEqual(json.loads(good.stdout)["claims"]["sub"], "trainer")
        wrong_app = verify("--app", "worker")
        self.assertEqual(wrong_app.returncode, 1, wrong_app.stdout)
        self.assertIn("claim sub", json.loads(wrong_app.stdout)["error"]["detail"])
        self.assertEqual(json.loads(wrong_app.stdout)["error"]["code"], "token_claim_mismatch")
        wrong_nonce = verify("--nonce", "another")
        self.assertEqual(wrong_nonce.returncode, 1, wrong_nonce.stdout)
        self.assertIn("claim nonce", json.loads(wrong_nonce.stdout)["error"]["detail"])

        # A header naming its own key URL is rejected before any signature check.
        header, payload, signature = token.split(".")
        forged_header = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
        forged_header["jku"] = "https://keys.example/jwks.json"
        encoded = base64.urlsafe_b64encode(json.dumps(forged_header).encode()).decode().rstrip("=")
        forged = verify(token_text=".".join([encoded, payload, signature]))
        self.assertEqual(forged.returncode, 1, forged.stdout)
        self.assertIn("jku", json.loads(forged.stdout)["error"]["detail"])

        # The same token with another payload fails its signature.
        other = base64.urlsafe_b64encode(b'{"sub":"admin"}').decode().rstrip("=")
        tampered = verify(token_text=".".join([header, other, signature]))
        self.assertEqual(tampered.returncode, 1, tampered.stdout)
        self.assertEqual(json.loads(tampered.stdout)["error"]["code"], "token_signature_invalid")

        # Past exp plus the 60 s clock skew; the token is otherwise genuine.
        exp = jwt.decode(token, options={"verify_signature": False})["exp"]
        expired = verify("--at", str(exp + 61))
        self.assertEqual(expired.returncode, 1, expired.stdout)
        self.assertEqual(json.loads(expired.stdout)["error"]["code"], "token_expired")
        within_skew = verify("--at", str(exp + 59))
        self.assertEqual(within_skew.returncode, 0, within_skew.stdout)

        # Errors before the token is checked are JSON objects too, with exit status 2.
        unreachable = subprocess.run([ATTEST, "token", "verify", token, "--jwks",
                                      "http://127.0.0.1:1/.well-known/jwks.json", "--json"],
                                     capture_output=True, text=True, timeout=30)
        self.assertEqual(unreachable.returncode, 2, unreachable.stderr)
        self.assertEqual(json.loads(unreachable.stdout)["error"]["code"], "service_unreachable")
        missing = subprocess.run([ATTEST, "token", "verify", "--token", "/nonexistent/token.jwt",
                                  "--jwks", jwks_url, "--json"],
                                 capture_output=True, text=True, timeout=30)
        self.assertEqual(missing.returncode, 2, missing.stderr)
        self.assertEqual(json.loads(missing.stdout)["error"]["code"], "io_error")
        not_found = subprocess.run([ATTEST, "token", "verify", token, "--jwks",
                                    jwks_url.replace("jwks.json", "missing.json"), "--json"],
                                   capture_output=True, text=True, timeout=30)
        self.assertEqual(not_found.returncode, 2, not_found.stderr)
        self.assertEqual(json.loads(not_found.stdout)["error"]["code"], "service_http_status")
        self.assertIn("404", json.loads(not_found.stdout)["error"]["detail"])

    def test_relying_party_ignores_keys_named_in_token(self):
        """Tokens signed by another key that their header names are rejected unfetched."""
        from cryptography.hazmat.primitives.asymmetric import ec
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        import threading

        server = self.start("sgx")
        self.application(server, "trainer", sgx_policy())
        nonce = self.nonce(server)
        quote = self.sim.evidence("sgx", nonce["value"], b"", ["--mrenclave", MRENCLAVE])
        token = self.attest(server, "trainer", quote, nonce["nonce"]).json()["token"]
        claims = jwt.decode(token, options={"verify_signature": False})

        # Another party's key, published on another loopback server that counts requests.
        other_key = ec.generate_private_key(ec.SECP256R1())
        other_jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(other_key.public_key()))
        other_jwk["kid"] = "other-key"
        requests = []

        class KeyServer(BaseHTTPRequestHandler):
            def do_GET(self):
                requests.append(self.path)
                body = json.dumps({"keys": [other_jwk]}).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        key_server = ThreadingHTTPServer(("127.0.0.1", 0), KeyServer)
        thread = threading.Thread(target=key_server.serve_forever, daemon=True)
        thread.start()
        self.addCleanup(thread.join)
        self.addCleanup(key_server.server_close)
        self.addCleanup(key_server.shutdown)
        other_url = "http://127.0.0.1:%d/jwks.json" % key_server.server_address[1]
        certificate = self.jwks(server)["keys"][0]["x5c"]
        jwks_url = "http://127.0.0.1:%d/.well-known/jwks.json" % server.port

        headers = {"jku": {"jku": other_url}, "x5u": {"x5u": other_url},
                   "jwk": {"jwk": other_jwk}, "x5c": {"x5c": certificate}}
        for name, extra in headers.items():
            with self.subTest(name):
                forged = jwt.encode(claims, other_key, algorithm="ES256",
                                    headers=dict(extra, kid="other-key"))
                result = subprocess.run([ATTEST, "token", "verify", forged, "--jwks", jwks_url,
                                         "--issuer", "https://attestd.test", "--json"],
                                        capture_output=True, text=True, timeout=30)
                self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
                error = json.loads(result.stdout)["error"]
                self.assertEqual(error["code"], "token_malformed")
                self.assertIn(name, error["detail"])
        self.assertEqual(requests, [])

        # Without such a header, the other key's token is rejected by kid.
        plain = jwt.encode(claims, other_key, algorithm="ES256", headers={"kid": "other-key"})
        result = subprocess.run([ATTEST, "token", "verify", plain, "--jwks", jwks_url, "--json"],
                                capture_output=True, text=True, timeout=30)
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertEqual(json.loads(result.stdout)["error"]["code"], "token_kid_unknown")

    def test_tdx_accepted(self):
        server = self.start("tdx")
        self.application(server, "worker", tdx_policy())
        nonce = self.nonce(server)
        quote = self.sim.evidence("tdx", nonce["value"], b"", ["--mrtd", MRTD])
        result = self.attest(server, "worker", quote, nonce["nonce"]).json()
        self.assertEqual(result["verdict"], "accepted", result.get("failure"))
        claims = self.decode_token(server, result["token"])
        self.assertEqual(claims["tdx_mrtd"], MRTD)
        self.assertEqual(claims["attester_type"], "tdx")

    def test_nonce_replay_rejected(self):
        server = self.start("sgx")
        self.application(server, "trainer", sgx_policy())
        nonce = self.nonce(server)
        quote = self.sim.evidence("sgx", nonce["value"], b"", ["--mrenclave", MRENCLAVE])
        first = self.attest(server, "trainer", quote, nonce["nonce"]).json()
        self.assertEqual(first["verdict"], "accepted", first.get("failure"))
        second = self.attest(server, "trainer", quote, nonce["nonce"]).json()
        self.assertEqual(second["verdict"], "rejected")
        self.assertEqual(second["failure"]["stage"], "nonce")
        self.assertEqual(second["failure"]["code"], "nonce_replayed")
        self.assertIsNone(second["token"])
        audit = server.request("GET", "/v1/audit?application=trainer", key=server.admin_key)
        records = {record["id"]: record for record in audit.json()["records"]}
        self.assertEqual(records[first["audit_id"]]["verdict"], "accepted")
        replay = records[second["audit_id"]]
        self.assertEqual(replay["verdict"], "rejected")
        self.assertEqual(replay["failing_check"], "nonce: nonce_replayed")
        self.assertFalse(replay["token_id"])

        # A nonce whose first use was rejected by the policy is used up too.
        nonce = self.nonce(server)
        other = self.sim.evidence("sgx", nonce["value"], b"", ["--mrenclave", "ab" * 32])
        rejected = self.attest(server, "trainer", other, nonce["nonce"]).json()
        self.assertEqual(rejected["failure"]["stage"], "appraisal")
        quote = self.sim.evidence("sgx", nonce["value"], b"", ["--mrenclave", MRENCLAVE])
        again = self.attest(server, "trainer", quote, nonce["nonce"]).json()
        self.assertEqual(again["failure"]["code"], "nonce_replayed")
        self.assertIsNone(again["token"])

        # Each rejection counts once, at the stage its response names.
        metrics = server.request("GET", "/metrics").body.decode()
        self.assertIn('attestd_attestations_total{evidence_type="sgx",verdict="accepted"} 1',
                      metrics)
        self.assertIn('attestd_attestations_total{evidence_type="sgx",verdict="rejected"} 3',
                      metrics)
        self.assertIn('attestd_attestation_failures_total{stage="nonce"} 2', metrics)
        self.assertIn('attestd_attestation_failures_total{stage="appraisal"} 1', metrics)

    def test_nonce_concurrent_replays_accept_one(self):
        server = self.start("sgx")
        self.application(server, "trainer", sgx_policy())
        nonce = self.nonce(server)
        quote = self.sim.evidence("sgx", nonce["value"], b"", ["--mrenclave", MRENCLAVE])
        results = []
        lock = threading.Lock()

        def send():
            reply = self.attest(server, "trainer", quote, nonce["nonce"]).json()
            with lock:
                results.append(reply)

        threads = [threading.Thread(target=send) for _ in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        accepted = [result for result in results if result["verdict"] == "accepted"]
        self.assertEqual(len(results), 16)
        self.assertEqual(len(accepted), 1, [result["failure"] for result in results])
        self.assertTrue(accepted[0]["token"])
        for result in results:
            if result is not accepted[0]:
                self.assertEqual(result["failure"]["code"], "nonce_replayed")
                self.assertIsNone(result["token"])
        audit = server.request("GET", "/v1/audit?application=trainer", key=server.admin_key)
        verdicts = [record["verdict"] for record in audit.json()["records"]]
        self.assertEqual(sorted(verdicts), ["accepted"] + ["rejected"] * 15)

    def test_nonce_expired_rejected(self):
        server = self.start("sgx", {"nonce_lifetime_seconds": 1})
        self.application(server, "trainer", sgx_policy())
        nonce = self.nonce(server)
        quote = self.sim.evidence("sgx", nonce["value"], b"", ["--mrenclave", MRENCLAVE])
        time.sleep(2.2)
        result = self.attest(server, "trainer", quote, nonce["nonce"]).json()
        self.assertEqual(result["verdict"], "rejected")
        self.assertEqual(result["failure"]["code"], "nonce_expired")

    def test_forged_nonce_rejected(self):
        server = self.start("sgx")
        self.application(server, "trainer", sgx_policy())
        nonce = self.nonce(server)
        forged = nonce["nonce"][:-2] + ("AA" if nonce["nonce"][-2:] != "AA" else "BB")
        quote = self.sim.evidence("sgx", nonce["value"], b"", ["--mrenclave", MRENCLAVE])
        result = self.attest(server, "trainer", quote, forged).json()
        self.assertEqual(result["verdict"], "rejected")
        self.assertIn(result["failure"]["code"], ("nonce_mac_invalid", "nonce_malformed"))

    def test_policy_failures(self):
        server = self.start("sgx")
        self.application(server, "trainer", sgx_policy())
        cases = [
            # (how the evidence differs, sim options, expected failing check code)
            ("another MRENCLAVE", ["--mrenclave", "33" * 32], "appraisal_measurement_not_allowed"),
            ("a debug enclave", ["--mrenclave", MRENCLAVE, "--debug"],
             "appraisal_debug_not_allowed"),
        ]
        for name, options, code in cases:
            with self.subTest(name):
                nonce = self.nonce(server)
                quote = self.sim.evidence("sgx", nonce["value"], b"", options)
                result = self.attest(server, "trainer", quote, nonce["nonce"]).json()
                self.assertEqual(result["verdict"], "rejected")
                self.assertEqual(result["failure"]["stage"], "appraisal")
                self.assertEqual(result["failure"]["code"], code)
                self.assertIsNone(result["token"])

    def test_report_data_not_bound_rejected(self):
        server = self.start("sgx")
        self.application(server, "trainer", sgx_policy())
        nonce = self.nonce(server)
        other = self.nonce(server)
        quote = self.sim.evidence("sgx", other["value"], b"", ["--mrenclave", MRENCLAVE])
        result = self.attest(server, "trainer", quote, nonce["nonce"]).json()
        self.assertEqual(result["verdict"], "rejected")
        self.assertEqual(result["failure"]["code"], "report_data_mismatch")

    def test_simulated_not_allowed_by_default(self):
        server = self.start("sgx")
        policy = sgx_policy()
        del policy["simulated_allowed"]
        self.application(server, "trainer", policy)
        nonce = self.nonce(server)
        quote = self.sim.evidence("sgx", nonce["value"], b"", ["--mrenclave", MRENCLAVE])
        result = self.attest(server, "trainer", quote, nonce["nonce"]).json()
        self.assertEqual(result["verdict"], "rejected")
        self.assertEqual(result["failure"]["code"], "appraisal_simulated_not_allowed")

    def test_tampered_quote_rejected_in_verification(self):
        server = self.start("sgx")
        self.application(server, "trainer", sgx_policy())
        nonce = self.nonce(server)
        quote = bytearray(self.sim.evidence("sgx", nonce["value"], b"", ["--mrenclave", MRENCLAVE]))
        quote[48 + 64] ^= 1
        result = self.attest(server, "trainer", bytes(quote), nonce["nonce"]).json()
        self.assertEqual(result["verdict"], "rejected")
        self.assertEqual(result["failure"]["stage"], "quote_signature")
        self.assertEqual(result["verification"]["error"]["code"], "quote_signature_invalid")

    def test_unknown_application_and_bad_requests(self):
        server = self.start("sgx")
        quote = self.sim.quote("sgx")
        self.assertEqual(self.attest(server, "nobody", quote).status, 404)
        bad = server.request("POST", "/v1/attest", {"application": "x", "evidence": "***"})
        self.assertEqual(bad.status, 400)
        self.assertEqual(bad.json()["error"]["code"], "evidence_invalid")
        missing = server.request("POST", "/v1/attest", {"evidence": "AAAA"})
        self.assertEqual(missing.status, 400)

    def test_hostile_requests_rejected(self):
        server = self.start("sgx")
        self.application(server, "trainer", sgx_policy(nonce_required=False))
        quote = self.sim.quote("sgx", ["--mrenclave", MRENCLAVE])
        evidence = base64.b64encode(quote).decode()
        cases = [
            # (how the request is broken, body, expected status, expected code)
            ("misspelt audience", {"application": "trainer", "evidence": evidence,
                                   "audiance": "worker"}, 400, "field_unknown"),
            ("dry-run field on attest", {"application": "trainer", "evidence": evidence,
                                         "policy": {}}, 400, "field_unknown"),
            ("padding inside base64", {"application": "trainer",
                                       "evidence": "AA==" + evidence}, 400, "evidence_invalid"),
            ("whitespace in base64", {"application": "trainer",
                                      "evidence": " " + evidence[1:]}, 400, "evidence_invalid"),
            ("empty evidence", {"application": "trainer", "evidence": ""}, 400,
             "evidence_invalid"),
        ]
        for name, body, status, code in cases:
            with self.subTest(name):
                reply = server.request("POST", "/v1/attest", body)
                self.assertEqual(reply.status, status, reply.body)
                self.assertEqual(reply.json()["error"]["code"], code)

    def test_ambiguous_framing_closes_connection(self):
        server = self.start("sgx")
        request = (b"POST /v1/attest HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   b"Content-Type: application/json\r\nContent-Length: 4\r\n"
                   b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"
                   b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as client:
            client.sendall(request)
            reply = b""
            while True:
                chunk = client.recv(4096)
                if not chunk:
                    break
                reply += chunk
        self.assertTrue(reply.startswith(b"HTTP/1.1 400"), reply[:200])
        self.assertIn(b"request_ambiguous", reply)
        # The server closes the connection, so the pipelined request gets no response.
        self.assertEqual(reply.count(b"HTTP/1.1 "), 1)

    def test_policy_lifetime_above_maximum_rejected(self):
        server = self.start("sgx")
        key = server.admin_key
        server.request("POST", "/v1/applications", {"name": "trainer"}, key=key)
        put = server.request("PUT", "/v1/applications/trainer/policies",
                             sgx_policy(token_lifetime_seconds=7200), key=key)
        self.assertEqual(put.status, 400, put.body)
        self.assertEqual(put.json()["error"]["code"], "policy_invalid")
        self.assertIn("max_token_lifetime_seconds", put.json()["error"]["message"])

    def test_dry_run_issues_no_token(self):
        server = self.start("sgx")
        self.application(server, "trainer", sgx_policy())
        quote = self.sim.quote("sgx", ["--mrenclave", MRENCLAVE])
        draft = sgx_policy(nonce_required=False)
        reply = server.request("POST", "/v1/applications/trainer/dry-run",
                               {"evidence": base64.b64encode(quote).decode(), "policy": draft},
                               key=server.admin_key)
        self.assertEqual(reply.status, 200, reply.body)
        result = reply.json()
        self.assertEqual(result["verdict"], "accepted", result.get("failure"))
        self.assertTrue(result["dry_run"])
        self.assertIsNone(result["token"])
        audit = server.request("GET", "/v1/audit?application=trainer", key=server.admin_key)
        self.assertEqual(audit.json()["records"], [])

        evidence = base64.b64encode(quote).decode()
        for field, value in (("nonce", "AQAA"), ("application", "trainer"), ("audience", "x")):
            with self.subTest(field=field):
                reply = server.request("POST", "/v1/applications/trainer/dry-run",
                                       {"evidence": evidence, field: value}, key=server.admin_key)
                self.assertEqual(reply.status, 400, reply.body)
                self.assertEqual(reply.json()["error"]["code"], "field_unknown")
        for draft in ("x", 5, []):
            with self.subTest(draft=draft):
                reply = server.request("POST", "/v1/applications/trainer/dry-run",
                                       {"evidence": evidence, "policy": draft},
                                       key=server.admin_key)
                self.assertEqual(reply.status, 400, reply.body)
                self.assertEqual(reply.json()["error"]["code"], "policy_invalid")

    def test_key_rotation_keeps_old_key_published(self):
        server = self.start("sgx")
        self.application(server, "trainer", sgx_policy())
        nonce = self.nonce(server)
        quote = self.sim.evidence("sgx", nonce["value"], b"", ["--mrenclave", MRENCLAVE])
        token = self.attest(server, "trainer", quote, nonce["nonce"]).json()["token"]
        rotated = server.request("POST", "/v1/signing-keys/rotate", {}, key=server.admin_key)
        self.assertEqual(rotated.status, 200, rotated.body)
        kids = [key["kid"] for key in self.jwks(server)["keys"]]
        self.assertEqual(len(kids), 2)
        self.assertEqual(kids[0], rotated.json()["kid"])
        # A token signed before the rotation still verifies with the published keys.
        self.assertEqual(self.decode_token(server, token)["sub"], "trainer")

    def test_discovery_document(self):
        server = self.start("sgx")
        reply = server.request("GET", "/.well-known/openid-configuration")
        self.assertEqual(reply.status, 200)
        document = reply.json()
        self.assertEqual(document["issuer"], "https://attestd.test")
        self.assertEqual(document["jwks_uri"], "https://attestd.test/.well-known/jwks.json")

    def test_read_only_database_issues_no_token(self):
        server = self.start("sgx")
        self.application(server, "trainer", sgx_policy(nonce_required=False))
        server.stop()
        reopened = Server(config=dict(server.config, read_only=True), data_dir=server.data_dir)
        reopened.config["listen_port"] = reopened.port
        reopened.admin_key = server.admin_key
        reopened.start()
        self.addCleanup(self.stop, reopened)
        quote = self.sim.quote("sgx", ["--mrenclave", MRENCLAVE])
        reply = self.attest(reopened, "trainer", quote)
        self.assertEqual(reply.status, 503, reply.body)
        self.assertEqual(reply.json()["error"]["code"], "store_read_only")
        self.assertNotIn(b"eyJ", reply.body)
        # No token left, so the metrics count a rejection at stage audit.
        metrics = reopened.request("GET", "/metrics").body.decode()
        self.assertIn('attestd_attestations_total{evidence_type="sgx",verdict="accepted"} 0',
                      metrics)
        self.assertIn('attestd_attestations_total{evidence_type="sgx",verdict="rejected"} 1',
                      metrics)
        self.assertIn('attestd_attestation_failures_total{stage="audit"} 1', metrics)

    def test_sighup_reloads_signing_keys(self):
        first = self.start("sgx")
        kid = self.jwks(first)["keys"][0]["kid"]
        # A second replica on the same database rotates the key.
        second = Server(config=dict(first.config), data_dir=first.data_dir)
        second.config["listen_port"] = second.port
        second.admin_key = first.admin_key
        second.start()
        self.addCleanup(self.stop, second)
        rotated = second.request("POST", "/v1/signing-keys/rotate", {}, key=first.admin_key)
        self.assertEqual(rotated.status, 200, rotated.body)
        new_kid = rotated.json()["kid"]
        self.assertEqual(self.jwks(first)["keys"][0]["kid"], kid)
        first.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while self.jwks(first)["keys"][0]["kid"] != new_kid and time.monotonic() < deadline:
            time.sleep(0.1)
        kids = [key["kid"] for key in self.jwks(first)["keys"]]
        self.assertEqual(kids, [new_kid, kid])

    def test_collateral_missing_fails_closed(self):
        server = self.start("sgx", {"collateral_path": ""})
        self.application(server, "trainer", sgx_policy())
        nonce = self.nonce(server)
        quote = self.sim.evidence("sgx", nonce["value"], b"", ["--mrenclave", MRENCLAVE])
        result = self.attest(server, "trainer", quote, nonce["nonce"]).json()
        self.assertEqual(result["verdict"], "rejected")
        self.assertEqual(result["failure"]["code"], "collateral_missing")


class CollateralSourceTest(unittest.TestCase):
    """attestd fetching collateral from the simulated PCCS over HTTP, with its cache."""

    @classmethod
    def setUpClass(cls):
        cls.sim = Platform()

    def pccs(self, at, fail_after):
        port_file = os.path.join(self.sim.dir, "pccs-port-%d" % fail_after)
        if os.path.exists(port_file):
            os.unlink(port_file)
        process = subprocess.Popen(
            [ATTEST, "sim", "pccs", "--dir", self.sim.platform, "--listen", "127.0.0.1:0",
             "--at", str(at), "--port-file", port_file, "--fail-after", str(fail_after)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(self.stop_pccs, process)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if os.path.exists(port_file) and open(port_file).read().strip():
                return "http://127.0.0.1:%s" % open(port_file).read().strip()
            time.sleep(0.05)
        raise RuntimeError("attest sim pccs did not start")

    @staticmethod
    def stop_pccs(process):
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def start(self, url):
        server = Server(config={"trust_root": self.sim.root, "pccs_url": url,
                                "issuer": "https://attestd.test"})
        server.start()
        self.addCleanup(server.stop)
        key = server.admin_key
        server.request("POST", "/v1/applications", {"name": "trainer"}, key=key)
        put = server.request("PUT", "/v1/applications/trainer/policies",
                             sgx_policy(nonce_required=False), key=key)
        server.request("POST", "/v1/applications/trainer/policies/%d/activate"
                       % put.json()["version"], key=key)
        return server

    def attest(self, server, quote):
        body = {"application": "trainer", "evidence": base64.b64encode(quote).decode()}
        return server.request("POST", "/v1/attest", body).json()

    def test_collateral_refresh_on_demand(self):
        server = self.start(self.pccs(int(time.time()), 1000))
        key = server.admin_key
        for tee in ("sgx", "tdx"):
            with self.subTest(tee=tee):
                reply = server.request("POST", "/v1/collateral/refresh",
                                       {"tee": tee, "fmspc": SIM_FMSPC, "ca": "platform"},
                                       key=key)
                self.assertEqual(reply.status, 200, reply.body)
                self.assertTrue(reply.json()["refreshed"])
        bad = server.request("POST", "/v1/collateral/refresh",
                             {"tee": "sgx", "fmspc": "53494D"}, key=key)
        self.assertEqual(bad.status, 400, bad.body)
        self.assertEqual(bad.json()["error"]["code"], "request_invalid")

        # Collateral read from files cannot be refreshed from a source.
        files = Server(config={"trust_root": self.sim.root,
                               "collateral_path": self.sim.collateral["sgx"]})
        files.start()
        self.addCleanup(files.stop)
        reply = files.request("POST", "/v1/collateral/refresh",
                              {"tee": "sgx", "fmspc": SIM_FMSPC}, key=files.admin_key)
        self.assertEqual(reply.status, 409, reply.body)
        self.assertEqual(reply.json()["error"]["code"], "collateral_not_refreshable")

    def test_pccs_down_cache_then_fail_closed(self):
        # Collateral whose earliest nextUpdate is a few seconds away; the PCCS
        # answers the first fetch (four routes) and then only 503.
        at = int(time.time()) - 29 * 24 * 3600 + 4
        server = self.start(self.pccs(at, 4))
        quote = self.sim.quote("sgx", ["--mrenclave", MRENCLAVE])

        first = self.attest(server, quote)
        self.assertEqual(first["verdict"], "accepted", first.get("failure"))
        # The source is down now, but the cached collateral is still before its nextUpdate.
        second = self.attest(server, quote)
        self.assertEqual(second["verdict"], "accepted", second.get("failure"))

        time.sleep(5)
        third = self.attest(server, quote)
        self.assertEqual(third["verdict"], "rejected")
        self.assertEqual(third["failure"]["stage"], "collateral")
        self.assertEqual(third["failure"]["code"], "source_cache_expired")
        self.assertIsNone(third["token"])

        metrics = server.request("GET", "/metrics").body.decode()
        self.assertIn('attestd_collateral_total{result="miss"}', metrics)
        self.assertIn('attestd_collateral_total{result="hit"}', metrics)
        self.assertIn('attestd_attestation_failures_total{stage="collateral"} 1', metrics)


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
