"""The Azure Attestation-compatible API of a real attestd, over HTTP on 127.0.0.1.

Each test starts attestd with a fresh database and a simulated platform whose
root it trusts. Tokens are verified with PyJWT and with `attest token verify`,
each given only the application's /compat/azure/APP/certs endpoint.
"""

import base64
import hashlib
import json
import os
import subprocess
import sys
import unittest

import jwt

from attestd_harness import Server
from test_attest_flow import MRENCLAVE, MRTD, Platform, sgx_policy, tdx_policy

ATTEST = os.environ.get("ATTEST", "")
ISSUER = "https://attestd.test"
SGX_VERSIONS = ("2020-10-01", "2022-08-01", "2025-06-01")
TDX_VERSIONS = ("2023-04-01-preview", "2025-06-01")


def b64url(data):
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def bound_report_data(runtime_data):
    """Azure's rule: the first 32 bytes of report data are SHA-256 of the runtime data."""
    return hashlib.sha256(runtime_data).hexdigest()


class AzureApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sim = Platform()

    def start(self, tee="sgx", config=None):
        settings = {"trust_root": self.sim.root, "collateral_path": self.sim.collateral[tee],
                    "issuer": ISSUER}
        settings.update(config or {})
        server = Server(config=settings)
        server.start()
        self.addCleanup(self.stop, server)
        return server

    def stop(self, server):
        status = server.stop()
        problem = server.problem_report(status)
        self.assertEqual(problem, "", problem)

    def application(self, server, name, policy=None):
        key = server.admin_key
        created = server.request("POST", "/v1/applications", {"name": name}, key=key)
        self.assertEqual(created.status, 201, created.body)
        if policy is None:
            return
        put = server.request("PUT", "/v1/applications/%s/policies" % name, policy, key=key)
        self.assertEqual(put.status, 201, put.body)
        activate = server.request("POST", "/v1/applications/%s/policies/1/activate" % name,
                                  key=key)
        self.assertEqual(activate.status, 200, activate.body)

    def attest(self, server, app, body, operation="SgxEnclave", version="2022-08-01"):
        path = "/compat/azure/%s/attest/%s" % (app, operation)
        if version is not None:
            path += "?api-version=" + version
        return server.request("POST", path, body)

    def sgx_request(self, runtime=b"runtime data", extra=()):
        quote = self.sim.quote("sgx", ["--mrenclave", MRENCLAVE, "--report-data",
                                       bound_report_data(runtime)] + list(extra))
        return {"quote": b64url(quote), "runtimeData": {"data": b64url(runtime),
                                                        "dataType": "Binary"}}

    def certs_url(self, server, app):
        return "http://127.0.0.1:%d/compat/azure/%s/certs" % (server.port, app)

    def decode(self, server, app, token):
        """Verifies token with PyJWT and only the keys of /compat/azure/APP/certs."""
        client = jwt.PyJWKClient(self.certs_url(server, app))
        key = client.get_signing_key_from_jwt(token)
        return jwt.decode(token, key.key, algorithms=["ES256"],
                          issuer="%s/compat/azure/%s" % (ISSUER, app),
                          options={"require": ["exp", "iat", "nbf", "iss", "jti"]})

    def assert_error(self, reply, status, code):
        self.assertEqual(reply.status, status, reply.body)
        error = reply.json()["error"]
        self.assertEqual(error["code"], code, error)
        self.assertEqual(reply.headers.get("x-ms-error-code"), code)
        return error["message"]

    def audit_records(self, server, app):
        reply = server.request("GET", "/v1/audit?application=" + app, key=server.admin_key)
        self.assertEqual(reply.status, 200, reply.body)
        return reply.json()["records"]

    def test_sgx_token_verified_by_pyjwt(self):
        server = self.start()
        self.application(server, "enclave", sgx_policy())
        runtime = b"public key of the enclave"
        body = self.sgx_request(runtime)
        body["nonce"] = "relying-party-nonce"
        reply = self.attest(server, "enclave", body)
        self.assertEqual(reply.status, 200, reply.body)
        self.assertEqual(list(reply.json()), ["token"])

        claims = self.decode(server, "enclave", reply.json()["token"])
        self.assertEqual(claims["x-ms-attestation-type"], "sgx")
        self.assertEqual(claims["x-ms-ver"], "1.0")
        self.assertEqual(claims["x-ms-sgx-mrenclave"], MRENCLAVE)
        self.assertRegex(claims["x-ms-sgx-mrsigner"], "^[0-9a-f]{64}$")
        self.assertIs(claims["x-ms-sgx-is-debuggable"], False)
        self.assertIsInstance(claims["x-ms-sgx-product-id"], int)
        self.assertIsInstance(claims["x-ms-sgx-svn"], int)
        self.assertEqual(claims["x-ms-sgx-ehd"], b64url(runtime))
        self.assertEqual(claims["x-ms-sgx-report-data"][:64], bound_report_data(runtime))
        self.assertEqual(claims["nonce"], "relying-party-nonce")
        self.assertEqual(claims["sub"], "enclave")
        self.assertEqual(claims["attestd_binding"],
                         {"rule": "azure-runtime-data-sha256", "checked": True})
        self.assertIs(claims["attestd_simulated"], True)
        self.assertNotIn("x-ms-runtime", claims)
        self.assertNotIn("x-ms-sgx-config-id", claims)
        self.assertLessEqual(claims["exp"] - claims["iat"], 300)

        # x-ms-policy-hash is BASE64URL(SHA256(BASE64URL(policy text))) of the stored policy.
        # The harness stores the policy as json.dumps writes it.
        document = json.dumps(sgx_policy()).encode()
        expected_hash = b64url(hashlib.sha256(b64url(document).encode()).digest())
        self.assertEqual(claims["x-ms-policy-hash"], expected_hash)

        records = self.audit_records(server, "enclave")
        self.assertEqual(len(records), 1)
        self.assertEqual(records[0]["verdict"], "accepted")
        self.assertEqual(records[0]["token_id"], claims["jti"])

    def test_token_verified_by_attest_cli(self):
        server = self.start()
        self.application(server, "enclave", sgx_policy())
        body = self.sgx_request()
        body["nonce"] = "n-1"
        token = self.attest(server, "enclave", body).json()["token"]

        def verify(*extra):
            return subprocess.run([ATTEST, "token", "verify", token, "--jwks",
                                   self.certs_url(server, "enclave"), "--json"] + list(extra),
                                  capture_output=True, text=True, timeout=30)

        good = verify("--issuer", ISSUER + "/compat/azure/enclave", "--app", "enclave")
        self.assertEqual(good.returncode, 0, good.stdout + good.stderr)
        self.assertEqual(json.loads(good.stdout)["claims"]["x-ms-sgx-mrenclave"], MRENCLAVE)
        self.assertEqual(json.loads(good.stdout)["claims"]["nonce"], "n-1")
        # The echoed nonce proves no freshness, so --nonce needs the native eat_nonce.
        echoed = verify("--app", "enclave", "--nonce", "n-1")
        self.assertEqual(echoed.returncode, 1, echoed.stdout)
        self.assertEqual(json.loads(echoed.stdout)["error"]["code"], "token_claim_mismatch")
        self.assertIn("eat_nonce", json.loads(echoed.stdout)["error"]["detail"])
        wrong_issuer = verify("--issuer", ISSUER)
        self.assertEqual(wrong_issuer.returncode, 1, wrong_issuer.stdout)
        self.assertEqual(json.loads(wrong_issuer.stdout)["error"]["code"],
                         "token_issuer_mismatch")

    def test_openid_configuration_matches_tokens(self):
        server = self.start()
        self.application(server, "enclave", sgx_policy())
        reply = server.request("GET", "/compat/azure/enclave/.well-known/openid-configuration")
        self.assertEqual(reply.status, 200, reply.body)
        metadata = reply.json()
        self.assertEqual(metadata["issuer"], ISSUER + "/compat/azure/enclave")
        self.assertEqual(metadata["jwks_uri"], ISSUER + "/compat/azure/enclave/certs")
        token = self.attest(server, "enclave", self.sgx_request()).json()["token"]
        self.assertEqual(jwt.decode(token, options={"verify_signature": False})["iss"],
                         metadata["issuer"])

        certs = server.request("GET", "/compat/azure/enclave/certs")
        self.assertEqual(certs.status, 200, certs.body)
        keys = certs.json()["keys"]
        self.assertGreaterEqual(len(keys), 1)
        for key in keys:
            self.assertGreaterEqual(len(key["x5c"]), 1, key)
            self.assertNotIn("d", key)

        self.assert_error(server.request("GET", "/compat/azure/nobody/certs"), 404,
                          "application_not_found")
        self.assert_error(server.request(
            "GET", "/compat/azure/nobody/.well-known/openid-configuration"), 404,
            "application_not_found")

    def test_api_versions(self):
        server = self.start()
        self.application(server, "enclave", sgx_policy())
        for version in SGX_VERSIONS:
            with self.subTest(version=version):
                reply = self.attest(server, "enclave", self.sgx_request(), version=version)
                self.assertEqual(reply.status, 200, reply.body)

        for version in ("2023-04-01-preview", "2021-01-01", "2022-08-01 "):
            with self.subTest(version=version):
                reply = self.attest(server, "enclave", self.sgx_request(),
                                    version=version.replace(" ", "%20"))
                message = self.assert_error(reply, 400, "api_version_unsupported")
                self.assertIn(version, message)
                self.assertIn("2020-10-01, 2022-08-01, 2025-06-01", message)
        missing = self.attest(server, "enclave", self.sgx_request(), version=None)
        self.assert_error(missing, 400, "api_version_missing")
        for version in ("2020-10-01", "2022-08-01"):
            with self.subTest(tdx_version=version):
                reply = self.attest(server, "enclave", self.sgx_request(), "TdxVm", version)
                self.assert_error(reply, 400, "api_version_unsupported")

    def test_tdx_vm_token(self):
        server = self.start("tdx")
        self.application(server, "vm", tdx_policy())
        runtime = json.dumps({"vm": "worker-1", "keys": []}).encode()
        quote = self.sim.quote("tdx", ["--mrtd", MRTD, "--report-data",
                                       bound_report_data(runtime)])
        body = {"quote": b64url(quote),
                "runtimeData": {"data": b64url(runtime), "dataType": "JSON"}}
        for version in TDX_VERSIONS:
            with self.subTest(version=version):
                reply = self.attest(server, "vm", body, "TdxVm", version)
                self.assertEqual(reply.status, 200, reply.body)
                claims = self.decode(server, "vm", reply.json()["token"])
                self.assertEqual(claims["x-ms-attestation-type"], "tdxvm")
                self.assertEqual(claims["tdx_mrtd"], MRTD)
                for name in ("tdx_rtmr0", "tdx_rtmr1", "tdx_rtmr2", "tdx_rtmr3",
                             "tdx_mrconfigid", "tdx_mrowner", "tdx_mrownerconfig", "tdx_mrseam",
                             "tdx_mrsignerseam"):
                    self.assertRegex(claims[name], "^[0-9a-f]{96}$", name)
                self.assertRegex(claims["tdx_td_attributes"], "^[0-9a-f]{16}$")
                self.assertRegex(claims["tdx_xfam"], "^[0-9a-f]{16}$")
                self.assertRegex(claims["tdx_seam_attributes"], "^[0-9a-f]{16}$")
                self.assertRegex(claims["tdx_tee_tcb_svn"], "^[0-9a-f]{32}$")
                svn = bytes.fromhex(claims["tdx_tee_tcb_svn"])
                self.assertEqual(claims["tdx_seamsvn"], svn[1] << 8 | svn[0])
                self.assertIs(claims["tdx_td_attributes_debug"], False)
                self.assertEqual(claims["dbgstat"], "disabled")
                self.assertEqual(claims["attester_tcb_status"], claims["attestd_tcb_status"])
                self.assertEqual(claims["tdx_report_data"][:64], bound_report_data(runtime))
                self.assertEqual(claims["x-ms-runtime"], {"vm": "worker-1", "keys": []})
                self.assertNotIn("x-ms-sgx-mrenclave", claims)

        # Each TD attribute claim reads its own bit of the little-endian TD_ATTRIBUTES.
        bits = {"tdx_td_attributes_septve_disable": 28,
                "tdx_td_attributes_protection_keys": 30,
                "tdx_td_attributes_key_locker": 31, "tdx_td_attributes_perfmon": 63}
        for name, bit in bits.items():
            with self.subTest(bit=bit):
                attributes = (1 << bit).to_bytes(8, "little")
                quote = self.sim.quote("tdx", ["--mrtd", MRTD, "--td-attributes",
                                               attributes.hex(), "--report-data",
                                               bound_report_data(runtime)])
                body["quote"] = b64url(quote)
                reply = self.attest(server, "vm", body, "TdxVm", "2025-06-01")
                self.assertEqual(reply.status, 200, reply.body)
                claims = self.decode(server, "vm", reply.json()["token"])
                self.assertEqual(claims["tdx_td_attributes"], attributes.hex())
                for other in bits:
                    self.assertIs(claims[other], other == name, other)
                self.assertIs(claims["tdx_td_attributes_debug"], False)

        # An SGX quote at TdxVm fails the evidence type check, and draft policies are SGX only.
        sgx = self.attest(server, "vm", self.sgx_request(), "TdxVm", "2025-06-01")
        self.assertEqual(sgx.status, 400, sgx.body)
        draft = dict(body, draftPolicyForAttestation="version=1.0;")
        self.assert_error(self.attest(server, "vm", draft, "TdxVm", "2025-06-01"), 400,
                          "field_unknown")

    def test_malformed_requests(self):
        server = self.start()
        self.application(server, "enclave", sgx_policy())
        good = self.sgx_request()
        cases = [
            ("quote missing", {"runtimeData": good["runtimeData"]}, "quote_missing"),
            ("quote not a string", {"quote": 5}, "quote_missing"),
            ("quote standard base64", {"quote": good["quote"][:40] + "+/+/"}, "quote_invalid"),
            ("quote of 4n+1 characters", {"quote": "AAAAA"}, "quote_invalid"),
            ("quote padding inside", {"quote": "AA=A"}, "quote_invalid"),
            ("quote empty", {"quote": ""}, "quote_invalid"),
            ("runtime data not base64url",
             dict(good, runtimeData={"data": "a*b", "dataType": "Binary"}),
             "runtime_data_invalid"),
            ("runtime data type unknown",
             dict(good, runtimeData={"data": "YQ", "dataType": "Text"}), "runtime_data_invalid"),
            ("runtime data JSON not an object",
             dict(good, runtimeData={"data": b64url(b"[1]"), "dataType": "JSON"}),
             "runtime_data_invalid"),
            ("runtime data field unknown",
             dict(good, runtimeData={"data": "YQ", "datatype": "JSON"}), "field_unknown"),
            ("field misspelt", dict(good, runtimedata=good["runtimeData"]), "field_unknown"),
            ("nonce not a string", dict(good, nonce=7), "nonce_invalid"),
            ("nonce too long", dict(good, nonce="n" * 1025), "nonce_invalid"),
            ("init time data", dict(good, initTimeData={"data": "YQ", "dataType": "Binary"}),
             "init_time_data_unsupported"),
            ("draft policy", dict(good, draftPolicyForAttestation="version=1.0;"),
             "draft_policy_unsupported"),
        ]
        for name, body, code in cases:
            with self.subTest(name):
                self.assert_error(self.attest(server, "enclave", body), 400, code)
        self.assertEqual(self.audit_records(server, "enclave"), [])

        # Bodies are bounded by the unauthenticated limit (16 KiB by default).
        oversized = dict(good, nonce="n" * (17 * 1024))
        reply = self.attest(server, "enclave", oversized)
        self.assertEqual(reply.status, 413, reply.body)
        self.assertEqual(reply.json()["error"]["code"], "body_too_large")

    def test_binding_mismatch_rejected_and_audited(self):
        server = self.start()
        self.application(server, "enclave", sgx_policy())
        body = self.sgx_request(b"the bound data")
        body["runtimeData"]["data"] = b64url(b"other data")
        message = self.assert_error(self.attest(server, "enclave", body), 400,
                                    "report_data_mismatch")
        self.assertIn("azure-runtime-data-sha256", message)
        self.assertIn("stage appraisal", message)

        records = self.audit_records(server, "enclave")
        self.assertEqual(len(records), 1)
        self.assertEqual(records[0]["verdict"], "rejected")
        self.assertEqual(records[0]["token_id"], "")
        self.assertIn("report_data_mismatch", records[0]["failing_check"])
        metrics = server.request("GET", "/metrics").body.decode()
        self.assertIn('attestd_attestations_total{evidence_type="sgx",verdict="rejected"} 1',
                      metrics)
        self.assertIn('attestd_attestation_failures_total{stage="appraisal"} 1', metrics)

    def test_without_runtime_data_binding_skipped(self):
        server = self.start()
        # The policy requires a nonce, but Azure's binding rule replaces that rule.
        self.application(server, "enclave", sgx_policy(nonce_required=True))
        quote = self.sim.quote("sgx", ["--mrenclave", MRENCLAVE])
        reply = self.attest(server, "enclave", {"quote": b64url(quote)})
        self.assertEqual(reply.status, 200, reply.body)
        claims = self.decode(server, "enclave", reply.json()["token"])
        self.assertEqual(claims["attestd_binding"],
                         {"rule": "azure-runtime-data-sha256", "checked": False})
        self.assertNotIn("x-ms-sgx-ehd", claims)
        self.assertNotIn("nonce", claims)

    def test_application_or_policy_missing(self):
        server = self.start()
        self.application(server, "empty")
        self.assert_error(self.attest(server, "empty", self.sgx_request()), 404,
                          "policy_not_found")
        self.assert_error(self.attest(server, "nobody", self.sgx_request()), 404,
                          "policy_not_found")
        self.assert_error(self.attest(server, "Bad!Name", self.sgx_request()), 400,
                          "application_name_invalid")
        wrong_method = server.request("GET", "/compat/azure/empty/attest/SgxEnclave")
        self.assertEqual(wrong_method.status, 405, wrong_method.body)
        for path in ("/compat/azure/empty/attest/OpenEnclave", "/compat/azure/empty",
                     "/compat/other/empty/certs", "/compat/azure/empty/certs/extra"):
            with self.subTest(path=path):
                self.assertEqual(server.request("GET", path).status, 404)

    def test_policy_failure_rejected(self):
        server = self.start()
        self.application(server, "enclave", sgx_policy(sgx={"mrenclave": ["44" * 32]}))
        message = self.assert_error(self.attest(server, "enclave", self.sgx_request()), 400,
                                    "appraisal_measurement_not_allowed")
        self.assertIn(MRENCLAVE[:16], message)
        records = self.audit_records(server, "enclave")
        self.assertEqual([record["verdict"] for record in records], ["rejected"])

    def test_debug_quote_rejected(self):
        server = self.start()
        self.application(server, "enclave", sgx_policy())
        body = self.sgx_request(extra=["--debug"])
        self.assert_error(self.attest(server, "enclave", body), 400,
                          "appraisal_debug_not_allowed")

        self.application(server, "debugging", sgx_policy(debug_allowed=True))
        reply = self.attest(server, "debugging", body)
        self.assertEqual(reply.status, 200, reply.body)
        claims = self.decode(server, "debugging", reply.json()["token"])
        self.assertIs(claims["x-ms-sgx-is-debuggable"], True)


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
