"""The BigDL PPML attestation API of a real attestd, replaying BigDL's client.

BigDL's Python client (bigdl/ppml/attestation/attestation_service.py in
intel-analytics/BigDL, later ipex-llm) posts json.dumps of an OrderedDict
with appID, apiKey, the quote in standard base64 and, when not empty,
policyID, to BASE/verifyQuote with only "Content-Type: application/json",
and reads "result" from the reply. bigdl_request() sends exactly that.
Each test starts attestd on a free loopback port with a simulated platform
whose root the service trusts.
"""

import base64
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import unittest
from collections import OrderedDict

from attestd_harness import Server

unittest.TestCase.maxDiff = None

ATTEST = os.environ.get("ATTEST", "")

MRENCLAVE = "11" * 32
MRSIGNER = "33" * 32
MRTD = "22" * 48
RTMRS = ["a0" * 48, "a1" * 48, "a2" * 48, "a3" * 48]
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def run(*args):
    result = subprocess.run([ATTEST] + list(args), capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise RuntimeError("attest %s failed: %s" % (" ".join(args), result.stderr))
    return result.stdout


class Platform:
    """A simulated platform with collateral folders per TEE and TCB status."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="attest-sim-")
        self.platform = os.path.join(self.dir, "platform")
        run("sim", "init", "--dir", self.platform)
        self.root = os.path.join(self.platform, "root-ca.der")
        self.collateral = {}

    def collateral_path(self, tee, tcb_status="UpToDate"):
        key = (tee, tcb_status)
        if key not in self.collateral:
            path = os.path.join(self.dir, "pcs-%s-%s" % (tee, tcb_status))
            run("sim", "collateral", "--dir", self.platform, "--tee", tee, "--pcs-dir", path,
                "--at", str(int(time.time())), "--tcb-status", tcb_status)
            self.collateral[key] = path
        return self.collateral[key]

    def quote(self, tee, *options):
        path = os.path.join(self.dir, "quote-%s.bin" % tee)
        run("sim", "quote", "--dir", self.platform, "--tee", tee, "--out", path, *options)
        with open(path, "rb") as quote:
            return quote.read()


def bigdl_request(server, path, payload):
    """Posts payload the way BigDL's Python client does."""
    return server.request("POST", path, json.dumps(payload).encode(),
                          content_type="application/json")


def verify_payload(app_id, api_key, quote, policy_id=""):
    payload = OrderedDict()
    payload["appID"] = app_id
    payload["apiKey"] = api_key
    payload["quote"] = base64.b64encode(quote).decode()
    if len(policy_id) > 0:
        payload["policyID"] = policy_id
    return payload


class BigDLTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sim = Platform()

    def start(self, tee="sgx", tcb_status="UpToDate", config=None):
        settings = {"trust_root": self.sim.root,
                    "collateral_path": self.sim.collateral_path(tee, tcb_status)}
        settings.update(config or {})
        server = Server(config=settings)
        server.start()
        self.addCleanup(self.stop, server)
        return server

    def stop(self, server):
        status = server.stop()
        problem = server.problem_report(status)
        self.assertEqual(problem, "", problem)

    def enroll(self, server):
        reply = server.request("GET", "/enroll", key=server.admin_key)
        self.assertEqual(reply.status, 200, reply.body)
        body = reply.json()
        self.assertEqual(sorted(body), ["apiKey", "appID"])
        return body["appID"], body["apiKey"]

    def register(self, server, app_id, api_key, policy_type, status=200, **fields):
        payload = OrderedDict([("appID", app_id), ("apiKey", api_key),
                               ("policyType", policy_type)])
        payload.update(fields)
        reply = bigdl_request(server, "/registerPolicy", payload)
        self.assertEqual(reply.status, status, reply.body)
        return reply.json()

    def verify(self, server, app_id, api_key, quote, policy_id="", status=200):
        reply = bigdl_request(server, "/verifyQuote",
                              verify_payload(app_id, api_key, quote, policy_id))
        self.assertEqual(reply.status, status, reply.body)
        return reply.json()

    def audit(self, server, app_id):
        reply = server.request("GET", "/v1/audit?application=" + app_id, key=server.admin_key)
        self.assertEqual(reply.status, 200, reply.body)
        return reply.json()["records"]

    def stored_policy(self, server, app_id, version):
        """Returns the stored document and whether it is the active version."""
        reply = server.request("GET", "/v1/applications/%s/policies/%d" % (app_id, version),
                               key=server.admin_key)
        self.assertEqual(reply.status, 200, reply.body)
        return reply.json(), reply.headers["X-Policy-Active"] == "true"

    # /enroll

    def test_enroll_requires_admin_key(self):
        server = self.start()
        missing = server.request("GET", "/enroll")
        self.assertEqual(missing.status, 401, missing.body)
        self.assertEqual(missing.json()["error"]["code"], "api_key_missing")
        wrong = server.request("GET", "/enroll", key="not-a-key")
        self.assertEqual(wrong.status, 401, wrong.body)

        app_id, api_key = self.enroll(server)
        self.assertRegex(app_id, UUID)
        self.assertEqual(len(api_key), 43)
        other_id, other_key = self.enroll(server)
        self.assertNotEqual(app_id, other_id)
        self.assertNotEqual(api_key, other_key)

        application = server.request("GET", "/v1/applications/" + app_id, key=server.admin_key)
        self.assertEqual(application.status, 200, application.body)
        # The scoped apiKey is no /v1 key, and it is never logged.
        scoped = server.request("GET", "/v1/applications", key=api_key)
        self.assertEqual(scoped.status, 401, scoped.body)
        self.assertNotIn(api_key, server.log_text())

    def test_enroll_rejects_post(self):
        server = self.start()
        reply = server.request("POST", "/enroll", {}, key=server.admin_key)
        self.assertEqual(reply.status, 405, reply.body)
        # HEAD must not create an application whose apiKey is never shown.
        head = server.request("HEAD", "/enroll", key=server.admin_key)
        self.assertEqual(head.status, 405)
        listed = server.request("GET", "/v1/applications", key=server.admin_key)
        self.assertEqual(listed.json()["applications"], [])

    # /registerPolicy

    def test_register_each_policy_type(self):
        server = self.start()
        app_id, api_key = self.enroll(server)
        cases = [
            ("SGXMREnclavePolicy", {"mrEnclave": MRENCLAVE.upper()},
             {"evidence_types": ["sgx"], "sgx": {"mrenclave": [MRENCLAVE]}}),
            ("SGXMRSignerPolicy", {"mrSigner": MRSIGNER, "isvProdID": "a"},
             {"evidence_types": ["sgx"],
              "sgx": {"mrsigner": [MRSIGNER], "isvprodid": 10, "min_isvsvn": 0}}),
            ("TDXMRTDPolicy", {"mrTD": MRTD},
             {"evidence_types": ["tdx"], "tdx": {"mrtd": [MRTD]}}),
            ("TDXMRTDRTMRPolicy", {"mrTD": MRTD, "rtmr0": RTMRS[0], "rtmr1": RTMRS[1],
                                   "rtmr2": RTMRS[2], "rtmr3": RTMRS[3]},
             {"evidence_types": ["tdx"],
              "tdx": {"mrtd": [MRTD], "rtmr0": [RTMRS[0]], "rtmr1": [RTMRS[1]],
                      "rtmr2": [RTMRS[2]], "rtmr3": [RTMRS[3]]}}),
        ]
        policy_ids = set()
        for number, (policy_type, fields, expected) in enumerate(cases, start=1):
            with self.subTest(policy_type=policy_type):
                reply = self.register(server, app_id, api_key, policy_type, **fields)
                self.assertRegex(reply["policyID"], UUID)
                self.assertEqual(reply["policyVersion"], number)
                policy_ids.add(reply["policyID"])
                document, active = self.stored_policy(server, app_id, number)
                # Only the first policy is activated: a later one never replaces the active one.
                self.assertEqual(active, number == 1)
                for key, value in expected.items():
                    self.assertEqual(document[key], value)
                self.assertEqual(document["accepted_tcb_statuses"],
                                 ["UpToDate", "SWHardeningNeeded", "ConfigurationNeeded",
                                  "ConfigurationAndSWHardeningNeeded", "OutOfDate",
                                  "OutOfDateConfigurationNeeded"])
                self.assertEqual(document["accepted_advisory_ids"], "*")
                self.assertFalse(document["simulated_allowed"])
                self.assertNotIn("nonce_required", document)
        self.assertEqual(len(policy_ids), 4)

    def test_register_rejects_bad_input(self):
        server = self.start()
        app_id, api_key = self.enroll(server)
        cases = [
            ("SGXQuotePolicy", {"mrEnclave": MRENCLAVE}, 400, "policy_type_unsupported",
             "SGXQuotePolicy"),
            ("SGXMREnclavePolicy", {"mrEnclave": MRENCLAVE[:-1]}, 400, "field_invalid",
             "mrEnclave: expected 64 hex digits"),
            ("SGXMREnclavePolicy", {"mrEnclave": "zz" * 32}, 400, "field_invalid", "mrEnclave"),
            ("SGXMREnclavePolicy", {}, 400, "field_missing", "mrEnclave is missing"),
            ("SGXMREnclavePolicy", {"mrEnclave": MRENCLAVE, "mrSigner": MRSIGNER}, 400,
             "field_unknown", "mrSigner\" does not belong to policyType SGXMREnclavePolicy"),
            ("SGXMRSignerPolicy", {"mrSigner": MRSIGNER, "isvProdID": "12345"}, 400,
             "field_invalid", "isvProdID \"12345\""),
            ("SGXMRSignerPolicy", {"mrSigner": MRSIGNER, "isvProdID": 70000}, 400,
             "field_invalid", "isvProdID 70000"),
            ("TDXMRTDRTMRPolicy", {"mrTD": MRTD, "rtmr0": RTMRS[0]}, 400, "field_missing",
             "rtmr1 is missing"),
            ("SGXMREnclavePolicy", {"mrEnclave": MRENCLAVE, "simulatedAllowed": "yes"}, 400,
             "field_invalid", "simulatedAllowed"),
            ("SGXMREnclavePolicy", {"mrEnclave": MRENCLAVE, "mr_enclave": MRENCLAVE}, 400,
             "field_unknown", "mr_enclave"),
        ]
        for policy_type, fields, status, code, message in cases:
            with self.subTest(policy_type=policy_type, fields=fields):
                reply = self.register(server, app_id, api_key, policy_type, status, **fields)
                self.assertEqual(reply["error"]["code"], code)
                self.assertIn(message, reply["error"]["message"])
        versions = server.request("GET", "/v1/applications/%s/policies" % app_id,
                                  key=server.admin_key)
        self.assertEqual(versions.json()["policies"], [])

    def test_register_rejects_wrong_api_key(self):
        server = self.start()
        app_id, api_key = self.enroll(server)
        other_id, other_key = self.enroll(server)
        for presented_id, presented_key in ((app_id, other_key), ("unknown-app", api_key),
                                            (app_id, "")):
            with self.subTest(app_id=presented_id):
                reply = self.register(server, presented_id, presented_key, "SGXMREnclavePolicy",
                                      401, mrEnclave=MRENCLAVE)
                self.assertEqual(reply["error"]["code"], "api_key_unknown")
        missing = bigdl_request(server, "/registerPolicy",
                                {"appID": app_id, "policyType": "SGXMREnclavePolicy"})
        self.assertEqual(missing.status, 400, missing.body)
        self.assertIn("apiKey is missing", missing.json()["error"]["message"])

    # /verifyQuote

    def sgx_app(self, server, **fields):
        app_id, api_key = self.enroll(server)
        fields.setdefault("simulatedAllowed", True)
        policy = self.register(server, app_id, api_key, "SGXMREnclavePolicy",
                               mrEnclave=MRENCLAVE, **fields)
        return app_id, api_key, policy["policyID"]

    def test_verify_sgx_passes(self):
        server = self.start()
        app_id, api_key, policy_id = self.sgx_app(server)
        quote = self.sim.quote("sgx", "--mrenclave", MRENCLAVE)
        for named in (policy_id, ""):
            with self.subTest(policy_id=named):
                result = self.verify(server, app_id, api_key, quote, named)
                self.assertEqual(result["result"], 0, result)
                self.assertEqual(result["tcbStatus"], "UpToDate")
                self.assertEqual(result["reportDataBinding"], "none")
                self.assertTrue(result["simulated"])
                self.assertEqual(result["policyVersion"], 1)
                self.assertEqual(result["policyID"], named or None)
                checks = {c["check"]: c for c in result["appraisal"]["checks"]}
                self.assertEqual(checks["report_data"]["outcome"], "skip")
                self.assertIn("none", checks["report_data"]["detail"])
        records = self.audit(server, app_id)
        self.assertEqual(len(records), 2)
        for record in records:
            self.assertEqual(record["verdict"], "accepted")
            self.assertEqual(record["policy_version"], 1)
            self.assertEqual(record["evidence_type"], "sgx")

    def test_verify_signer_policy(self):
        server = self.start()
        app_id, api_key = self.enroll(server)
        policy_id = self.register(server, app_id, api_key, "SGXMRSignerPolicy",
                                  mrSigner=MRSIGNER, isvProdID="2",
                                  simulatedAllowed=True)["policyID"]
        good = self.sim.quote("sgx", "--mrsigner", MRSIGNER, "--isv-prod-id", "2")
        self.assertEqual(self.verify(server, app_id, api_key, good, policy_id)["result"], 0)
        other = self.sim.quote("sgx", "--mrsigner", MRSIGNER, "--isv-prod-id", "3")
        failed = self.verify(server, app_id, api_key, other, policy_id, status=400)
        self.assertEqual(failed["result"], -1)
        self.assertEqual(failed["error"]["code"], "appraisal_isvprodid_mismatch")

    def test_verify_tcb_warning_passes_with_one(self):
        for status in ("OutOfDate", "SWHardeningNeeded"):
            with self.subTest(tcb_status=status):
                server = self.start(tcb_status=status)
                app_id, api_key, policy_id = self.sgx_app(server)
                quote = self.sim.quote("sgx", "--mrenclave", MRENCLAVE)
                result = self.verify(server, app_id, api_key, quote, policy_id)
                self.assertEqual(result["result"], 1, result)
                self.assertEqual(result["tcbStatus"], status)
                self.assertEqual(self.audit(server, app_id)[0]["verdict"], "accepted")

    def test_verify_revoked_tcb_fails(self):
        server = self.start(tcb_status="Revoked")
        app_id, api_key, policy_id = self.sgx_app(server)
        quote = self.sim.quote("sgx", "--mrenclave", MRENCLAVE)
        result = self.verify(server, app_id, api_key, quote, policy_id, status=400)
        self.assertEqual(result["result"], -1)
        self.assertEqual(result["tcbStatus"], "Revoked")
        self.assertEqual(result["error"]["code"], "appraisal_tcb_status_not_accepted")

    def test_verify_wrong_mrenclave_fails(self):
        server = self.start()
        app_id, api_key, policy_id = self.sgx_app(server)
        quote = self.sim.quote("sgx", "--mrenclave", "44" * 32)
        result = self.verify(server, app_id, api_key, quote, policy_id, status=400)
        self.assertEqual(result["result"], -1)
        self.assertEqual(result["error"]["code"], "appraisal_measurement_not_allowed")
        self.assertEqual(result["error"]["stage"], "appraisal")
        self.assertIn("44" * 32, result["error"]["message"])
        records = self.audit(server, app_id)
        self.assertEqual(len(records), 1)
        self.assertEqual(records[0]["verdict"], "rejected")
        self.assertEqual(records[0]["failing_check"], "appraisal: appraisal_measurement_not_allowed")

    def test_verify_simulated_needs_policy_field(self):
        server = self.start()
        app_id, api_key, policy_id = self.sgx_app(server, simulatedAllowed=False)
        quote = self.sim.quote("sgx", "--mrenclave", MRENCLAVE)
        result = self.verify(server, app_id, api_key, quote, policy_id, status=400)
        self.assertEqual(result["result"], -1)
        self.assertEqual(result["error"]["code"], "appraisal_simulated_not_allowed")

    def test_verify_wrong_api_key_fails(self):
        server = self.start()
        app_id, api_key, policy_id = self.sgx_app(server)
        other_id, other_key = self.enroll(server)
        quote = self.sim.quote("sgx", "--mrenclave", MRENCLAVE)
        for presented_id, presented_key in ((app_id, other_key), (app_id, api_key + "x"),
                                            ("Not An App", api_key)):
            with self.subTest(app_id=presented_id):
                result = self.verify(server, presented_id, presented_key, quote, policy_id,
                                     status=401)
                self.assertEqual(result["result"], -1)
                self.assertEqual(result["error"]["code"], "api_key_unknown")
        self.assertEqual(self.audit(server, app_id), [])

    def test_verify_other_apps_policy_fails(self):
        server = self.start()
        app_id, api_key, policy_id = self.sgx_app(server)
        other_id, other_key, other_policy = self.sgx_app(server)
        quote = self.sim.quote("sgx", "--mrenclave", MRENCLAVE)
        for named in (other_policy, "0b6f4a8e-0000-4000-8000-000000000000", "../x"):
            with self.subTest(policy_id=named):
                result = self.verify(server, app_id, api_key, quote, named, status=404)
                self.assertEqual(result["result"], -1)
                self.assertEqual(result["error"]["code"], "policy_not_found")
        self.assertEqual(self.verify(server, other_id, other_key, quote, other_policy)["result"],
                         0)

    def test_verify_without_policy_fails(self):
        server = self.start()
        app_id, api_key = self.enroll(server)
        quote = self.sim.quote("sgx", "--mrenclave", MRENCLAVE)
        result = self.verify(server, app_id, api_key, quote, status=404)
        self.assertEqual(result["result"], -1)
        self.assertEqual(result["error"]["code"], "policy_not_found")
        self.assertIn("no active policy", result["error"]["message"])

    def test_verify_malformed_quote_fails(self):
        server = self.start()
        app_id, api_key, policy_id = self.sgx_app(server)
        payload = verify_payload(app_id, api_key, b"", policy_id)
        for text in ("not base64!", "", "QUJD="):
            with self.subTest(quote=text):
                payload["quote"] = text
                reply = bigdl_request(server, "/verifyQuote", payload)
                self.assertEqual(reply.status, 400, reply.body)
                self.assertEqual(reply.json()["result"], -1)
                self.assertEqual(reply.json()["error"]["code"], "evidence_invalid")
        self.assertEqual(self.audit(server, app_id), [])

        # Valid base64 of bytes that are no quote is verified, fails and is audited.
        garbage = self.verify(server, app_id, api_key, b"\x03\x00" + b"\x00" * 100, policy_id,
                              status=400)
        self.assertEqual(garbage["result"], -1)
        self.assertEqual(garbage["error"]["stage"], "parse")
        records = self.audit(server, app_id)
        self.assertEqual(len(records), 1)
        self.assertEqual(records[0]["verdict"], "rejected")

        truncated = self.sim.quote("sgx", "--mrenclave", MRENCLAVE)[:-10]
        self.assertEqual(self.verify(server, app_id, api_key, truncated, policy_id,
                                     status=400)["result"], -1)

    def test_verify_rejects_unknown_and_missing_fields(self):
        server = self.start()
        app_id, api_key, policy_id = self.sgx_app(server)
        quote = self.sim.quote("sgx", "--mrenclave", MRENCLAVE)
        # An older BigDL client sent snake_case names, which BigDL's service never read either.
        snake = {"app_id": app_id, "api_key": api_key, "quote": base64.b64encode(quote).decode()}
        reply = bigdl_request(server, "/verifyQuote", snake)
        self.assertEqual(reply.status, 400, reply.body)
        self.assertEqual(reply.json()["result"], -1)
        self.assertIn("appID is missing", reply.json()["error"]["message"])

        extra = verify_payload(app_id, api_key, quote, policy_id)
        extra["nonce"] = "abc"
        reply = bigdl_request(server, "/verifyQuote", extra)
        self.assertEqual(reply.status, 400, reply.body)
        self.assertEqual(reply.json()["error"]["code"], "field_unknown")

        no_quote = verify_payload(app_id, api_key, quote, policy_id)
        del no_quote["quote"]
        reply = bigdl_request(server, "/verifyQuote", no_quote)
        self.assertEqual(reply.status, 400, reply.body)
        self.assertIn("quote is missing", reply.json()["error"]["message"])

    def test_verify_oversized_body_rejected(self):
        server = self.start(config={"max_unauthenticated_body_size": 4096})
        app_id, api_key, policy_id = self.sgx_app(server)
        quote = self.sim.quote("sgx", "--mrenclave", MRENCLAVE) + b"\x00" * 8192
        reply = bigdl_request(server, "/verifyQuote",
                              verify_payload(app_id, api_key, quote, policy_id))
        self.assertEqual(reply.status, 413, reply.body)
        self.assertEqual(reply.json()["error"]["code"], "body_too_large")
        self.assertEqual(self.audit(server, app_id), [])

    def test_verify_tdx_policies(self):
        server = self.start("tdx")
        app_id, api_key = self.enroll(server)
        mrtd_policy = self.register(server, app_id, api_key, "TDXMRTDPolicy", mrTD=MRTD,
                                    simulatedAllowed=True)["policyID"]
        rtmr_fields = {"rtmr%d" % i: RTMRS[i] for i in range(4)}
        rtmr_policy = self.register(server, app_id, api_key, "TDXMRTDRTMRPolicy", mrTD=MRTD,
                                    simulatedAllowed=True, **rtmr_fields)["policyID"]
        rtmr_options = []
        for i in range(4):
            rtmr_options += ["--rtmr%d" % i, RTMRS[i]]
        quote = self.sim.quote("tdx", "--mrtd", MRTD, *rtmr_options)
        for policy_id in (mrtd_policy, rtmr_policy):
            with self.subTest(policy_id=policy_id):
                result = self.verify(server, app_id, api_key, quote, policy_id)
                self.assertEqual(result["result"], 0, result)

        changed = list(rtmr_options)
        changed[-1] = "b3" * 48
        other = self.sim.quote("tdx", "--mrtd", MRTD, *changed)
        self.assertEqual(self.verify(server, app_id, api_key, other, mrtd_policy)["result"], 0)
        failed = self.verify(server, app_id, api_key, other, rtmr_policy, status=400)
        self.assertEqual(failed["result"], -1)
        self.assertEqual(failed["error"]["code"], "appraisal_measurement_not_allowed")
        self.assertIn("rtmr3", json.dumps(failed["appraisal"]))

        # An SGX policy does not pass a TD's quote.
        sgx_policy = self.register(server, app_id, api_key, "SGXMREnclavePolicy",
                                   mrEnclave=MRENCLAVE, simulatedAllowed=True)["policyID"]
        wrong_tee = self.verify(server, app_id, api_key, quote, sgx_policy, status=400)
        self.assertEqual(wrong_tee["error"]["code"], "appraisal_evidence_type_not_allowed")
        self.assertEqual(len(self.audit(server, app_id)), 5)


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
