"""Service tests of attestd: a real process on 127.0.0.1, real HTTP.

Run with ATTESTD set to the attestd binary and ATTEST_POLICY_EXAMPLE to a
valid policy document (docs/examples/policy-sgx.json).
"""

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import unittest

# Show whole attestd logs when a run fails, not a truncated diff.
unittest.TestCase.maxDiff = None

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from attestd_harness import ATTESTD, Server  # noqa: E402

POLICY_PATH = os.environ.get("ATTEST_POLICY_EXAMPLE", "")
METRIC_LINE = re.compile(
    r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"]*"'
    r'(,[a-zA-Z_][a-zA-Z0-9_]*="[^"]*")*\})? [0-9.eE+-]+$')


def read_policy():
    with open(POLICY_PATH, "rb") as policy:
        return policy.read()


def nested(depth):
    return {"name": json.loads("[" * depth + "]" * depth)}


class SharedServer(unittest.TestCase):
    """Tests that share one server with default limits."""

    @classmethod
    def setUpClass(cls):
        cls.server = Server({"max_unauthenticated_body_size": 4096,
                             "max_body_size": 200000, "max_json_depth": 16,
                             "rate_limit_per_second": 1000, "rate_limit_burst": 1000})
        cls.server.start()
        cls.key = cls.server.admin_key

    @classmethod
    def tearDownClass(cls):
        status = cls.server.stop()
        report = cls.server.problem_report(status)
        if report:
            raise AssertionError(report)

    def call(self, method, path, body=None, key="admin", **kwargs):
        if key == "admin":
            key = self.key
        return self.server.request(method, path, body, key=key, **kwargs)

    def assert_error(self, response, status, code):
        self.assertEqual(response.status, status, response.body)
        self.assertEqual(response.json()["error"]["code"], code)
        self.assertTrue(response.json()["error"]["message"])
        self.assertRegex(response.headers["X-Request-Id"], r"^[0-9a-f]{32}$")

    def test_healthz_and_readyz(self):
        health = self.call("GET", "/healthz", key=None)
        self.assertEqual(health.status, 200)
        self.assertEqual(health.json(), {"status": "alive"})
        self.assertRegex(health.headers["X-Request-Id"], r"^[0-9a-f]{32}$")
        ready = self.call("GET", "/readyz", key=None)
        self.assertEqual(ready.status, 200)
        self.assertEqual(ready.json(), {"status": "ready"})

    def test_metrics_exposition_format(self):
        self.call("GET", "/healthz", key=None)
        metrics = self.call("GET", "/metrics", key=None)
        self.assertEqual(metrics.status, 200)
        self.assertTrue(metrics.headers["Content-Type"].startswith("text/plain; version=0.0.4"))
        text = metrics.body.decode()
        for line in text.splitlines():
            if line.startswith("#"):
                self.assertRegex(line, r"^# (HELP|TYPE) [a-z_]+ .+$")
            else:
                self.assertRegex(line, METRIC_LINE)
        self.assertRegex(text, r'attestd_http_requests_total\{route="/healthz",status="200"\} [1-9]')
        self.assertIn('attestd_http_request_duration_seconds_bucket{route="/healthz",le="+Inf"}',
                      text)
        self.assertIn('attestd_attestations_total{evidence_type="sgx",verdict="accepted"} 0', text)
        self.assertIn('attestd_attestation_failures_total{stage="tcb"} 0', text)
        self.assertIn('attestd_collateral_total{result="hit"} 0', text)
        self.assertIn('attestd_collateral_total{result="fetch_error"} 0', text)

    def test_application_lifecycle(self):
        created = self.call("POST", "/v1/applications", {"name": "billing"})
        self.assertEqual(created.status, 201, created.body)
        self.assertEqual(created.json()["name"], "billing")
        self.assert_error(self.call("POST", "/v1/applications", {"name": "billing"}), 409,
                          "already_exists")

        listed = self.call("GET", "/v1/applications")
        self.assertEqual(listed.status, 200)
        self.assertIn("billing", [item["name"] for item in listed.json()["applications"]])
        fetched = self.call("GET", "/v1/applications/billing")
        self.assertEqual(fetched.status, 200)
        self.assertIsNone(fetched.json()["active_policy_version"])

        deleted = self.call("DELETE", "/v1/applications/billing")
        self.assertEqual(deleted.status, 200)
        self.assert_error(self.call("GET", "/v1/applications/billing"), 404, "not_found")
        self.assert_error(self.call("DELETE", "/v1/applications/billing"), 404, "not_found")

    def test_application_invalid_names(self):
        self.assert_error(self.call("POST", "/v1/applications", {"name": "Upper Case"}), 400,
                          "invalid_argument")
        self.assert_error(self.call("POST", "/v1/applications", {"name": 5}), 400,
                          "field_invalid")
        self.assert_error(self.call("POST", "/v1/applications", {"name": "a", "extra": 1}), 400,
                          "field_unknown")

    def test_policy_versions(self):
        self.assertEqual(self.call("POST", "/v1/applications", {"name": "payments"}).status, 201)
        document = read_policy()
        first = self.call("PUT", "/v1/applications/payments/policies", document)
        self.assertEqual(first.status, 201, first.body)
        self.assertEqual(first.json()["version"], 1)
        self.assertFalse(first.json()["active"])
        second = self.call("PUT", "/v1/applications/payments/policies", document)
        self.assertEqual(second.json()["version"], 2)

        versions = self.call("GET", "/v1/applications/payments/policies")
        self.assertEqual([item["version"] for item in versions.json()["policies"]], [1, 2])

        stored = self.call("GET", "/v1/applications/payments/policies/1")
        self.assertEqual(stored.status, 200)
        self.assertEqual(stored.body, document)
        self.assertEqual(stored.headers["X-Policy-Active"], "false")

        activated = self.call("POST", "/v1/applications/payments/policies/2/activate")
        self.assertEqual(activated.status, 200, activated.body)
        app = self.call("GET", "/v1/applications/payments")
        self.assertEqual(app.json()["active_policy_version"], 2)

        self.assert_error(self.call("GET", "/v1/applications/payments/policies/9"), 404,
                          "not_found")
        self.assert_error(self.call("POST", "/v1/applications/payments/policies/9/activate"),
                          404, "not_found")
        self.assert_error(self.call("GET", "/v1/applications/payments/policies/x1"), 400,
                          "version_invalid")
        self.assert_error(self.call("PUT", "/v1/applications/nobody/policies", document), 404,
                          "not_found")

    def test_policy_too_large(self):
        self.assertEqual(self.call("POST", "/v1/applications", {"name": "bigpolicy"}).status,
                         201)
        document = b'{"evidence_types": ["sgx"], "padding": "' + b"x" * 70000 + b'"}'
        self.assert_error(self.call("PUT", "/v1/applications/bigpolicy/policies", document),
                          413, "body_too_large")

    def test_policy_rejected_by_parser(self):
        self.assertEqual(self.call("POST", "/v1/applications", {"name": "badpolicy"}).status, 201)
        response = self.call("PUT", "/v1/applications/badpolicy/policies",
                             {"evidence_types": ["sgx"], "no_such_key": 1})
        self.assert_error(response, 400, "policy_unknown_key")

    def test_keys_and_auditor_role(self):
        created = self.call("POST", "/v1/keys", {"name": "reader", "role": "auditor"})
        self.assertEqual(created.status, 201, created.body)
        auditor = created.json()["key"]
        self.assertRegex(auditor, r"^[A-Za-z0-9_-]{43}$")

        keys = self.call("GET", "/v1/keys")
        self.assertEqual(keys.status, 200)
        names = {item["name"]: item for item in keys.json()["keys"]}
        self.assertEqual(names["reader"]["role"], "auditor")
        self.assertNotIn(auditor, keys.body.decode())
        self.assertNotIn(self.key, keys.body.decode())
        for item in keys.json()["keys"]:
            self.assertEqual(set(item), {"name", "role", "created_at", "revoked_at"})

        self.assertEqual(self.call("GET", "/v1/applications", key=auditor).status, 200)
        self.assertEqual(self.call("GET", "/v1/keys", key=auditor).status, 200)
        self.assertEqual(self.call("GET", "/v1/audit", key=auditor).status, 200)
        self.assert_error(self.call("POST", "/v1/applications", {"name": "x"}, key=auditor),
                          403, "role_not_allowed")
        self.assert_error(self.call("POST", "/v1/keys", {"name": "y", "role": "auditor"},
                                    key=auditor), 403, "role_not_allowed")
        self.assert_error(self.call("DELETE", "/v1/keys/admin", key=auditor), 403,
                          "role_not_allowed")

        self.assert_error(self.call("POST", "/v1/keys", {"name": "reader", "role": "auditor"}),
                          409, "already_exists")
        self.assert_error(self.call("POST", "/v1/keys", {"name": "z", "role": "root"}), 400,
                          "field_invalid")

        revoked = self.call("DELETE", "/v1/keys/reader")
        self.assertEqual(revoked.status, 200, revoked.body)
        self.assert_error(self.call("GET", "/v1/applications", key=auditor), 401,
                          "api_key_unknown")
        self.assert_error(self.call("DELETE", "/v1/keys/nobody"), 404, "not_found")

    def test_missing_and_wrong_key(self):
        self.assert_error(self.call("GET", "/v1/applications", key=None), 401, "api_key_missing")
        self.assert_error(self.call("GET", "/v1/applications", key="A" * 43), 401,
                          "api_key_unknown")
        self.assert_error(self.call("GET", "/v1/applications", key="x" * 5000), 401,
                          "api_key_unknown")
        basic = self.call("GET", "/v1/applications", key=None,
                          headers={"Authorization": "Basic " + self.key})
        self.assert_error(basic, 401, "api_key_missing")

    def test_audit_query(self):
        listed = self.call("GET", "/v1/audit?application=billing&verdict=rejected&since=0"
                                  "&until=4000000000&limit=10")
        self.assertEqual(listed.status, 200, listed.body)
        self.assertEqual(listed.json(), {"records": []})
        self.assert_error(self.call("GET", "/v1/audit?verdict=maybe"), 400, "query_invalid")
        self.assert_error(self.call("GET", "/v1/audit?limit=0"), 400, "query_invalid")
        self.assert_error(self.call("GET", "/v1/audit?since=-1"), 400, "query_invalid")
        self.assert_error(self.call("GET", "/v1/audit?aplication=trainer"), 400, "query_invalid")

    def test_malformed_json(self):
        self.assert_error(self.call("POST", "/v1/applications", b'{"name": '), 400,
                          "json_malformed")
        self.assert_error(self.call("POST", "/v1/applications", b'["name"]'), 400,
                          "json_malformed")
        self.assert_error(self.call("POST", "/v1/applications", b'{"name":"a","name":"b"}'),
                          400, "json_malformed")
        self.assert_error(self.call("POST", "/v1/applications", b""), 400, "body_missing")

    def test_too_deep_json(self):
        self.assert_error(self.call("POST", "/v1/applications", nested(16)), 400,
                          "json_too_deep")
        # Brackets inside strings do not count towards the depth.
        within = self.call("POST", "/v1/applications", {"name": "[" * 40})
        self.assert_error(within, 400, "invalid_argument")

    def test_oversized_body(self):
        big = {"name": "a" * 300000}
        self.assert_error(self.call("POST", "/v1/applications", big), 413, "body_too_large")
        # 10000 bytes: over the unauthenticated limit (4096), under the authenticated one.
        medium = json.dumps({"name": "b" * 10000}).encode()
        self.assert_error(self.call("POST", "/v1/applications", medium, key=None), 413,
                          "body_too_large")
        # A presented key is checked before the body is read.
        self.assert_error(self.call("POST", "/v1/applications", medium, key="A" * 43), 401,
                          "api_key_unknown")
        self.assert_error(self.call("POST", "/v1/applications", medium), 400,
                          "limit_exceeded")

    def test_wrong_content_type(self):
        self.assert_error(self.call("POST", "/v1/applications", b'{"name":"c"}',
                                    content_type="text/plain"), 415, "unsupported_media_type")
        self.assert_error(self.call("POST", "/v1/applications", b'{"name":"c"}',
                                    content_type=None), 415, "unsupported_media_type")

    def test_unknown_route_and_method(self):
        self.assert_error(self.call("GET", "/v2/applications"), 404, "route_not_found")
        self.assert_error(self.call("GET", "/v1/applications/a/b"), 404, "route_not_found")
        self.assert_error(self.call("GET", "/v1/applications/"), 404, "route_not_found")
        wrong = self.call("PATCH", "/v1/applications")
        self.assert_error(wrong, 405, "method_not_allowed")
        self.assertEqual(wrong.headers["Allow"], "POST, GET")

    def test_zz_logs_are_json_without_secrets(self):
        self.call("GET", "/v1/nothing")
        for event in self.server.log_events():
            self.assertIn("time", event)
            self.assertIn("event", event)
        text = self.server.log_text()
        self.assertNotIn(self.key, text)
        failures = [e for e in self.server.log_events() if e["event"] == "request_failed"]
        self.assertTrue(failures)
        for failure in failures:
            self.assertRegex(failure["request_id"], r"^[0-9a-f]{32}$")
            self.assertEqual(failure["client_address"], "127.0.0.1")
            self.assertIn("error", failure)


class SeparateServers(unittest.TestCase):
    """Tests that need their own server: limits, signals, database state."""

    def setUp(self):
        self.servers = []

    def tearDown(self):
        reports = [server.problem_report(server.stop()) for server in self.servers]
        for report in reports:
            self.assertEqual(report, "")

    def start(self, config=None, **kwargs):
        server = Server(config, **kwargs)
        self.servers.append(server)
        return server.start()

    def test_init_twice_rejected(self):
        server = Server()
        first = server.init()
        self.assertRegex(first.stdout.strip(), r"^[A-Za-z0-9_-]{43}$")
        second = subprocess.run([ATTESTD, "init", "--data-dir", server.data_dir],
                                capture_output=True, text=True, timeout=30)
        self.assertEqual(second.returncode, 1)
        self.assertEqual(second.stdout, "")
        self.assertIn("already initialized", second.stderr)

    def test_invalid_config_rejected(self):
        server = Server({"max_json_depth": "deep"})
        server.init()
        server.write_config()
        result = subprocess.run([ATTESTD, "serve", "--config", server.config_path],
                                capture_output=True, text=True, timeout=30)
        self.assertEqual(result.returncode, 2)
        self.assertIn("max_json_depth is not an integer", result.stderr)
        server.write_config(max_json_depth=8, colour="blue")
        result = subprocess.run([ATTESTD, "serve", "--config", server.config_path],
                                capture_output=True, text=True, timeout=30)
        self.assertIn("unknown key 'colour'", result.stderr)

    def consume_nonce(self, server):
        """Creates an application and consumes one nonce with any evidence."""
        key = server.admin_key
        self.assertEqual(server.request("POST", "/v1/applications", {"name": "payments"},
                                        key=key).status, 201)
        self.assertEqual(server.request("PUT", "/v1/applications/payments/policies",
                                        read_policy(), key=key).status, 201)
        self.assertEqual(server.request("POST", "/v1/applications/payments/policies/1/activate",
                                        key=key).status, 200)
        # The nonce is consumed before the evidence is looked at, so any base64 will do.
        nonce = server.request("POST", "/v1/nonce").json()["nonce"]
        reply = server.request("POST", "/v1/attest", {"application": "payments",
                                                      "evidence": "AAAA", "nonce": nonce})
        self.assertEqual(reply.status, 200, reply.body)

    def nonce_rows(self, server):
        database = sqlite3.connect(os.path.join(server.data_dir, "attestd.db"))
        try:
            return database.execute("SELECT count(*) FROM nonces").fetchone()[0]
        finally:
            database.close()

    def test_expired_nonce_kept_for_the_purge_delay(self):
        server = self.start({"nonce_lifetime_seconds": 1, "purge_interval_seconds": 1,
                             "nonce_purge_delay_seconds": 60})
        self.consume_nonce(server)
        time.sleep(3.5)
        self.assertEqual(self.nonce_rows(server), 1)

    def test_expired_nonces_purged(self):
        server = self.start({"nonce_lifetime_seconds": 1, "purge_interval_seconds": 1,
                             "nonce_purge_delay_seconds": 1})
        self.consume_nonce(server)
        self.assertEqual(self.nonce_rows(server), 1)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.nonce_rows(server) != 0:
            time.sleep(0.2)
        self.assertEqual(self.nonce_rows(server), 0)
        purged = [event for event in server.log_events() if event.get("event") == "purged"]
        self.assertEqual(purged[0]["nonces"], 1)

    def responding_connections(self, server, count):
        """Opens count connections that have each received a response to one request.

        libmicrohttpd counts a closed connection until a worker thread cleans it
        up, so the harness's own start-up requests can still fill the limit for
        a moment. The connections are opened again until all get a response.
        """
        deadline = time.monotonic() + 10
        while True:
            connections = [socket.create_connection(("127.0.0.1", server.port), timeout=5)
                           for _ in range(count)]
            responded = 0
            for connection in connections:
                connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                reply = b""
                try:
                    while not reply.endswith(b"}"):
                        chunk = connection.recv(1024)
                        if not chunk:
                            break
                        reply += chunk
                except ConnectionResetError:
                    pass
                responded += reply.startswith(b"HTTP/1.1 200")
            if responded == count:
                return connections
            for connection in connections:
                connection.close()
            self.assertLess(time.monotonic(), deadline, "the connections never all got a response")
            time.sleep(0.1)

    def test_connections_per_client_limited(self):
        server = self.start({"max_connections_per_client": 2})
        idle = self.responding_connections(server, 2)
        try:
            third = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            with third:
                third.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                try:
                    answer = third.recv(1024)
                except ConnectionResetError:
                    answer = b""
            self.assertEqual(answer, b"", "a third connection from one address got a response")
        finally:
            for connection in idle:
                connection.close()
        deadline = time.monotonic() + 5
        status = None
        while time.monotonic() < deadline and status != 200:
            try:
                status = server.request("GET", "/healthz").status
            except OSError:
                time.sleep(0.1)
        self.assertEqual(status, 200)

    def test_rate_limit(self):
        server = self.start({"rate_limit_per_second": 0.5, "rate_limit_burst": 3})
        statuses = [server.request("GET", "/healthz").status for _ in range(5)]
        self.assertEqual(statuses[:3], [200, 200, 200])
        self.assertEqual(statuses[3:], [429, 429])
        limited = server.request("GET", "/healthz")
        self.assertEqual(limited.json()["error"]["code"], "rate_limited")
        self.assertGreaterEqual(int(limited.headers["Retry-After"]), 1)

    def test_repeated_failures_logged_as_count(self):
        server = self.start()
        for _ in range(20):
            server.request("GET", "/v1/flood")
        self.assertEqual(server.stop(), 0)
        events = server.log_events()
        failed = [e for e in events if e["event"] == "request_failed"]
        self.assertEqual(len(failed), 5)
        suppressed = [e for e in events if e["event"] == "request_failures_suppressed"]
        self.assertEqual(len(suppressed), 1)
        self.assertEqual(suppressed[0]["count"], 15)

    def test_invented_methods_logged_as_one_kind(self):
        server = self.start()
        for number in range(20):
            server.request("M%04d" % number + "X" * 200, "/healthz", key=None)
        self.assertEqual(server.stop(), 0)
        failed = [e for e in server.log_events() if e["event"] == "request_failed"]
        self.assertEqual(len(failed), 5)
        self.assertEqual({e["method"] for e in failed}, {"other"})

    def test_too_many_connections(self):
        server = self.start({"max_connections": 2, "threads": 1})
        idle = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(2)]
        try:
            time.sleep(0.3)
            response = server.request("GET", "/healthz")
            self.assertEqual(response.status, 503)
            self.assertEqual(response.json()["error"]["code"], "too_many_connections")
        finally:
            for connection in idle:
                connection.close()
        time.sleep(0.3)
        self.assertEqual(server.request("GET", "/healthz").status, 200)

    def test_sighup_reloads_limits(self):
        server = self.start({"max_json_depth": 4})
        key = server.admin_key
        body = nested(6)
        first = server.request("POST", "/v1/applications", body, key=key)
        self.assertEqual(first.json()["error"]["code"], "json_too_deep")

        server.write_config(max_json_depth=32)
        server.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if any(e["event"] == "config_reload" for e in server.log_events()):
                break
            time.sleep(0.05)
        reload_events = [e for e in server.log_events() if e["event"] == "config_reload"]
        self.assertEqual(len(reload_events), 1)
        self.assertEqual(reload_events[0]["limits"]["max_json_depth"], 32)
        second = server.request("POST", "/v1/applications", body, key=key)
        self.assertEqual(second.json()["error"]["code"], "field_invalid")

    def test_sighup_with_invalid_config_keeps_running(self):
        server = self.start()
        with open(server.config_path, "w", encoding="utf-8") as out:
            out.write("{not json")
        server.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if any(e["event"] == "config_reload_failed" for e in server.log_events()):
                break
            time.sleep(0.05)
        self.assertIsNone(server.process.poll())
        self.assertEqual(server.request("GET", "/healthz").status, 200)
        events = [e["event"] for e in server.log_events()]
        self.assertIn("config_reload_failed", events)

    def test_sigterm_completes_request_in_flight(self):
        server = self.start()
        body = json.dumps({"name": "inflight"}).encode()
        head = ("POST /v1/applications HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
                "Content-Length: %d\r\nConnection: close\r\n\r\n"
                % (server.admin_key, len(body))).encode()
        client = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        try:
            client.sendall(head + body[:5])
            time.sleep(0.3)
            server.process.send_signal(signal.SIGTERM)
            time.sleep(0.3)
            self.assertIsNone(server.process.poll())
            # A new request while draining is turned away, not served.
            late = server.request("GET", "/healthz")
            self.assertEqual(late.status, 503)
            self.assertEqual(late.json()["error"]["code"], "shutting_down")
            client.sendall(body[5:])
            reply = b""
            while True:
                chunk = client.recv(4096)
                if not chunk:
                    break
                reply += chunk
        finally:
            client.close()
        self.assertTrue(reply.startswith(b"HTTP/1.1 201"), reply)
        self.assertEqual(server.process.wait(timeout=10), 0)
        events = [e["event"] for e in server.log_events()]
        # The 503 of the request turned away is logged between the two.
        self.assertIn("stopping", events)
        self.assertEqual(events[-1], "stop")
        self.assertLess(events.index("stopping"), len(events) - 1)

    def test_read_only_database(self):
        # The store's read-only open mode (--read-only): root ignores file
        # permissions, so chmod cannot make the database unwritable here.
        server = Server(extra_args=["--read-only"])
        self.servers.append(server)
        server.init()
        server.start()
        key = server.admin_key
        self.assertEqual(server.request("GET", "/v1/applications", key=key).status, 200)
        failed = server.request("POST", "/v1/applications", {"name": "denied"}, key=key)
        self.assertEqual(failed.status, 503, failed.body)
        self.assertEqual(failed.json()["error"]["code"], "store_read_only")
        self.assertIsNone(server.process.poll())
        self.assertEqual(server.request("GET", "/readyz").status, 200)
        errors = [e for e in server.log_events() if e["event"] == "request_failed"]
        self.assertEqual(errors[-1]["status"], 503)
        self.assertEqual(errors[-1]["level"], "error")

        # A rotation that cannot be stored leaves the current key as it was.
        before = [k["kid"] for k in server.request("GET", "/.well-known/jwks.json").json()["keys"]]
        rotated = server.request("POST", "/v1/signing-keys/rotate", {}, key=key)
        self.assertEqual(rotated.status, 503, rotated.body)
        after = [k["kid"] for k in server.request("GET", "/.well-known/jwks.json").json()["keys"]]
        self.assertEqual(after, before)

    def test_key_rotation_limit_keeps_service_startable(self):
        server = self.start()
        key = server.admin_key
        for number in range(15):
            rotated = server.request("POST", "/v1/signing-keys/rotate", {}, key=key)
            self.assertEqual(rotated.status, 200, "rotation %d: %s" % (number, rotated.body))
        kids = [k["kid"] for k in server.request("GET", "/.well-known/jwks.json").json()["keys"]]
        self.assertEqual(len(kids), 16)
        full = server.request("POST", "/v1/signing-keys/rotate", {}, key=key)
        self.assertEqual(full.status, 409, full.body)
        self.assertEqual(full.json()["error"]["code"], "signing_keys_full")
        self.assertIn("max_token_lifetime_seconds", full.json()["error"]["message"])
        database = sqlite3.connect(os.path.join(server.data_dir, "attestd.db"))
        try:
            stored = database.execute("SELECT count(*) FROM signing_keys").fetchone()[0]
        finally:
            database.close()
        self.assertEqual(stored, 16)

        self.assertEqual(server.stop(), 0)
        server.start()
        restarted = [k["kid"] for k in
                     server.request("GET", "/.well-known/jwks.json").json()["keys"]]
        # The current key comes first; keys retired in the same second have no set order.
        self.assertEqual(restarted[0], kids[0])
        self.assertEqual(sorted(restarted), sorted(kids))

    def test_https_with_tls12_or_later(self):
        import ssl
        server = Server()
        self.servers.append(server)
        cert = os.path.join(server.workdir, "cert.pem")
        key = os.path.join(server.workdir, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj",
                        "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", key, "-out", cert], check=True, capture_output=True)
        server.config.update({"insecure_http": False, "tls_cert_file": cert,
                              "tls_key_file": key})
        server.start()

        context = ssl.create_default_context(cafile=cert)
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as raw:
            with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                self.assertIn(tls.version(), ("TLSv1.2", "TLSv1.3"))
                tls.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                reply = b""
                while True:
                    chunk = tls.recv(4096)
                    if not chunk:
                        break
                    reply += chunk
        self.assertTrue(reply.startswith(b"HTTP/1.1 200"), reply)

        old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        old.load_verify_locations(cert)
        old.minimum_version = ssl.TLSVersion.TLSv1
        old.maximum_version = ssl.TLSVersion.TLSv1_1
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as raw:
            with self.assertRaises(ssl.SSLError):
                old.wrap_socket(raw, server_hostname="127.0.0.1")
        start = [e for e in server.log_events() if e["event"] == "start"][0]
        self.assertEqual(start["transport"], "https")


class TapResult(unittest.TextTestResult):
    """Prints one `ok - name` or `not ok - name` line per test."""

    def addSuccess(self, test):
        super().addSuccess(test)
        print("ok - %s" % test.id(), flush=True)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        print("not ok - %s" % test.id(), flush=True)

    def addError(self, test, err):
        super().addError(test, err)
        print("not ok - %s" % getattr(test, "id", lambda: str(test))(), flush=True)


def main():
    if "--tap" not in sys.argv:
        unittest.main(verbosity=2)
        return
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__])
    runner = unittest.TextTestRunner(stream=sys.stderr, resultclass=TapResult, verbosity=0)
    result = runner.run(suite)
    failed = len(result.failures) + len(result.errors)
    print("%d passed, %d failed" % (result.testsRun - failed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
