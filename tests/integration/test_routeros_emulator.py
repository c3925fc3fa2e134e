#!/usr/bin/env python3
"""The RouterOS emulator itself behaves as the shared notes say (it is the yardstick for the agent's tests)."""

import base64
import http.client
import os
import ssl
import sys
import time
import unittest
import urllib.error

SOURCE = os.environ.get("SIXGATE_SOURCE_DIR") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
sys.path.insert(0, os.path.join(SOURCE, "tests", "routeros_emulator"))

from harness import RunningEmulator  # noqa: E402
import ros_model  # noqa: E402

MANGLE = "/rest/ipv6/firewall/mangle"
ALIST = "/rest/ipv6/firewall/address-list"


class ModelTest(unittest.TestCase):
    def test_durations(self):
        self.assertEqual(ros_model.parse_duration("6d16h56m8s"), 6 * 86400 + 16 * 3600 + 56 * 60 + 8)
        self.assertEqual(ros_model.parse_duration("1d 00:00:10"), 86410)
        self.assertEqual(ros_model.parse_duration("300ms"), 0.3)
        self.assertIsNone(ros_model.parse_duration("soon"))
        self.assertEqual(ros_model.format_duration(8 * 86400 + 5), "1w1d5s")

    def test_query_stack(self):
        o = {"list": "home6", "dynamic": "true"}
        self.assertTrue(ros_model.eval_query(o, ["list=home6", "dynamic=true"]))
        self.assertTrue(ros_model.eval_query(o, ["list=x", "list=home6", "#|"]))
        self.assertFalse(ros_model.eval_query(o, ["list=home6", "#!"]))
        self.assertTrue(ros_model.eval_query(o, ["-comment", "list"]))

    def test_move_keeps_other_order(self):
        s = ros_model.Store()
        ids = [s.add("ipv6/firewall/mangle", {"chain": "c%d" % i})[".id"] for i in range(4)]
        s.move("ipv6/firewall/mangle", {"numbers": ids[3] + "," + ids[2], "destination": ids[0]})
        self.assertEqual([o[".id"] for o in s.list("ipv6/firewall/mangle")], [ids[3], ids[2], ids[0], ids[1]])
        s.move("ipv6/firewall/mangle", {"numbers": ids[3]})
        self.assertEqual([o[".id"] for o in s.list("ipv6/firewall/mangle")], [ids[2], ids[0], ids[1], ids[3]])


class EmulatorTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.emu = RunningEmulator(seed={"ipv6/dhcp-client": [{"interface": "ether1", "pool-name": "isp6"}]})
        cls.emu.__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.emu.__exit__(None, None, None)

    def setUp(self):
        self.emu.control("POST", "/_emu/faults/clear")

    def put(self, path, body):
        return self.emu.rest("PUT", path, body)

    def test_body_needs_json_content_type(self):
        ctx = ssl.create_default_context(cafile=self.emu.cert_file)
        conn = http.client.HTTPSConnection("127.0.0.1", self.emu.rest_port, context=ctx, timeout=10)
        token = base64.b64encode(("%s:%s" % (self.emu.user, self.emu.password)).encode()).decode()
        conn.request("PUT", "/rest/routing/table", body=b'{"name":"emu-ct"}',
                     headers={"Authorization": "Basic " + token, "Content-Type": "text/plain"})
        r = conn.getresponse()
        self.assertEqual(r.status, 400)
        self.assertIn(b"Content-Type", r.read())
        conn.close()

    def test_auth(self):
        status, body = self.emu.rest("GET", "/rest/system/resource", password="wrong")
        self.assertEqual((status, body), (401, {"error": 401, "message": "Unauthorized"}))

    def test_routing_table_builtin_and_mark_check(self):
        tables = self.emu.rest_get("/rest/routing/table")
        self.assertIn({".id": "*0", "dynamic": "true", "fib": "", "name": "main", "disabled": "false",
                       "invalid": "false"}, tables)
        status, body = self.put(MANGLE, {"chain": "prerouting", "action": "mark-routing",
                                         "new-routing-mark": "no-such-table"})
        self.assertEqual(status, 400)
        self.assertEqual(body["detail"], "input does not match any value of new-routing-mark")
        status, t = self.put("/rest/routing/table", {"name": "emu-t1", "fib": ""})
        self.assertEqual(status, 201)
        self.assertEqual(t["fib"], "")
        self.assertEqual(self.emu.rest_get("/rest/routing/table/emu-t1")[".id"], t[".id"])
        status, r = self.put(MANGLE, {"chain": "prerouting", "action": "mark-routing", "new-routing-mark": "emu-t1",
                                      "passthrough": "no", "src-address": "2001:db8:1:1::/80",
                                      "dst-address": "!2001:db8::1/128", "comment": "emu-rule"})
        self.assertEqual(status, 201)
        self.assertTrue(r[".id"].startswith("*"))
        self.assertEqual(r["passthrough"], "false")
        self.assertEqual(r["dst-address"], "!2001:db8::1")
        self.assertEqual(r["disabled"], "false")
        self.assertNotIn("place-before", r)

    def test_unknown_parameters_and_values(self):
        status, body = self.put(MANGLE, {"chain": "prerouting", "colour": "blue"})
        self.assertEqual((status, body["detail"]), (400, "unknown parameter colour"))
        status, body = self.put(MANGLE, {"chain": "prerouting", "bytes": "5"})
        self.assertEqual((status, body["detail"]), (400, "unknown parameter bytes"))
        status, body = self.put(MANGLE, {"chain": "prerouting", "disabled": "maybe"})
        self.assertEqual((status, body["detail"]), (400, "input does not match any value of disabled"))
        status, body = self.put(MANGLE, {"chain": "prerouting", "disabled": True})
        self.assertEqual(status, 400)
        status, r = self.put(MANGLE, {"chain": "prerouting", "comment": "emu-patch"})
        status, body = self.emu.rest("PATCH", MANGLE + "/" + r[".id"], {"place-before": "*1"})
        self.assertEqual((status, body["detail"]), (400, "unknown parameter place-before"))
        status, body = self.emu.rest("PATCH", MANGLE + "/" + r[".id"], {"disabled": "yes", "!comment": ""})
        self.assertEqual(status, 200)
        self.assertEqual(body["disabled"], "true")
        self.assertNotIn("comment", body)
        self.assertEqual(self.emu.rest("PATCH", MANGLE + "/*FFFF", {"disabled": "no"})[0], 404)
        self.assertEqual(self.emu.rest("DELETE", MANGLE + "/" + r[".id"]), (204, None))
        self.assertEqual(self.emu.rest("DELETE", MANGLE + "/" + r[".id"]),
                         (404, {"error": 404, "message": "Not Found"}))
        self.assertEqual(self.emu.rest_get(MANGLE + "?.id=" + r[".id"]), [])

    def test_address_list_normalisation_duplicates_reboot(self):
        status, e = self.put(ALIST, {"list": "emu-home", "address": "2001:db8:77::1"})
        self.assertEqual((status, e["address"]), (201, "2001:db8:77::1/128"))
        status, body = self.put(ALIST, {"list": "emu-home", "address": "2001:db8:77::1/128"})
        self.assertEqual((status, body["detail"]), (400, "failure: already have such entry"))
        status, t = self.put(ALIST, {"list": "emu-home", "address": "2001:db8:78::/48", "timeout": "1h"})
        self.assertEqual(status, 201)
        self.assertEqual(t["dynamic"], "true")
        listed = self.emu.rest_get(ALIST + "?list=emu-home")
        self.assertEqual(len(listed), 2)
        self.emu.control("POST", "/_emu/reboot")
        after = self.emu.rest_get(ALIST + "?list=emu-home")
        self.assertEqual([x[".id"] for x in after], [e[".id"]])

    def test_place_before_print_and_move(self):
        ids = [self.put(MANGLE, {"chain": "emu-order", "comment": "o%d" % i})[1][".id"] for i in range(3)]
        status, first = self.put(MANGLE, {"chain": "emu-order", "comment": "o-first", "place-before": ids[0]})
        self.assertEqual(status, 201)
        status, rows = self.emu.rest("POST", MANGLE + "/print",
                                     {".proplist": [".id", "comment"], ".query": ["chain=emu-order"]})
        self.assertEqual([r["comment"] for r in rows], ["o-first", "o0", "o1", "o2"])
        self.assertEqual(set(rows[0]), {".id", "comment"})
        status, _ = self.emu.rest("POST", MANGLE + "/move", {"numbers": ids[2], "destination": first[".id"]})
        self.assertEqual(status, 200)
        rows = self.emu.rest_get(MANGLE + "?chain=emu-order&.proplist=comment")
        self.assertEqual([r["comment"] for r in rows], ["o2", "o-first", "o0", "o1"])

    def test_dhcp_prefix_and_pool(self):
        self.emu.control("POST", "/_emu/dhcp-prefix", {"prefix": "2001:db8:1200::/56", "valid": "6d16h56m8s"})
        client = self.emu.rest_get("/rest/ipv6/dhcp-client/ether1")
        self.assertEqual(client["status"], "bound")
        prefix, lifetime = client["prefix"].split(", ")
        self.assertEqual(prefix, "2001:db8:1200::/56")
        self.assertTrue(lifetime.startswith("6d16h56m"))
        pool = self.emu.rest_get("/rest/ipv6/pool/isp6")
        self.assertEqual((pool["prefix"], pool["dynamic"]), ("2001:db8:1200::/56", "true"))
        self.emu.control("POST", "/_emu/dhcp-prefix", {"prefix": None})
        self.assertNotIn("prefix", self.emu.rest_get("/rest/ipv6/dhcp-client/ether1"))

    def test_table_in_use_cannot_be_removed(self):
        _, t = self.put("/rest/routing/table", {"name": "emu-used", "fib": ""})
        _, route = self.put("/rest/ipv6/route", {"gateway": "fe80::1%wg0", "routing-table": "emu-used"})
        _, rule = self.put(MANGLE, {"chain": "prerouting", "action": "mark-routing", "new-routing-mark": "emu-used"})
        status, body = self.emu.rest("DELETE", "/rest/routing/table/" + t[".id"])
        self.assertEqual(status, 400)
        self.assertTrue(body["detail"].startswith("failure: table is in use"), body)
        self.assertEqual(self.emu.rest("DELETE", "/rest/ipv6/route/" + route[".id"])[0], 204)
        status, body = self.emu.rest("POST", "/rest/routing/table/remove", {"numbers": t[".id"]})
        self.assertEqual(status, 400)
        self.assertIn(MANGLE.replace("/rest/", ""), body["detail"])
        self.assertEqual(self.emu.rest("DELETE", MANGLE + "/" + rule[".id"])[0], 204)
        self.assertEqual(self.emu.rest("DELETE", "/rest/routing/table/" + t[".id"]), (204, None))
        # routing-mark (a match, not a mark action) counts as a reference too.
        _, t2 = self.put("/rest/routing/table", {"name": "emu-match", "fib": ""})
        _, rule2 = self.put(MANGLE, {"chain": "prerouting", "routing-mark": "emu-match"})
        self.assertEqual(self.emu.rest("DELETE", "/rest/routing/table/emu-match")[0], 400)
        self.emu.rest("DELETE", MANGLE + "/" + rule2[".id"])
        self.assertEqual(self.emu.rest("DELETE", "/rest/routing/table/emu-match")[0], 204)

    def test_remove_command_numbers(self):
        ids = [self.put(ALIST, {"list": "emu-rm", "address": "2001:db8:90:%d::/64" % i})[1][".id"] for i in range(4)]
        status, _ = self.emu.rest("POST", ALIST + "/remove", {"numbers": [ids[0], ids[1]]})
        self.assertEqual(status, 200)
        status, _ = self.emu.rest("POST", ALIST + "/remove", {"numbers": ids[2]})
        self.assertEqual(status, 200)
        self.assertEqual([o[".id"] for o in self.emu.rest_get(ALIST + "?list=emu-rm")], [ids[3]])
        # An unknown id removes nothing; a malformed list is a 400, not a crashed handler.
        status, body = self.emu.rest("POST", ALIST + "/remove", {"numbers": [ids[3], "*FFFFF"]})
        self.assertEqual((status, body["detail"]), (400, "no such item"))
        self.assertEqual(len(self.emu.rest_get(ALIST + "?list=emu-rm")), 1)
        for numbers in ([1, 2], [], {"a": 1}, 7):
            status, body = self.emu.rest("POST", ALIST + "/remove", {"numbers": numbers})
            self.assertEqual((status, body["detail"]), (400, "input does not match any value of numbers"), numbers)
        status, body = self.emu.rest("POST", ALIST + "/remove", {"numbers": ids[3], "colour": "x"})
        self.assertEqual((status, body["detail"]), (400, "unknown parameter colour"))
        self.assertEqual(self.emu.rest("POST", ALIST + "/remove", {"numbers": ids[3]})[0], 200)

    def test_late_session_closed_and_drop_after_apply(self):
        self.emu.control("POST", "/_emu/fault", {"kind": "session_closed", "delay_ms": 600})
        started = time.monotonic()
        status, body = self.emu.rest("GET", MANGLE)
        self.assertGreaterEqual(time.monotonic() - started, 0.6)
        self.assertEqual((status, body["detail"]), (400, "Session closed"))

        self.emu.control("POST", "/_emu/fault", {"kind": "drop_after_apply", "methods": ["PUT"]})
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError, ssl.SSLError, urllib.error.URLError)):
            self.put(ALIST, {"list": "emu-dropped", "address": "2001:db8:91::/48"})
        self.assertEqual(len(self.emu.rest_get(ALIST + "?list=emu-dropped")), 1)

    def test_singleton_quirk(self):
        self.assertIsInstance(self.emu.rest_get("/rest/system/resource"), dict)
        self.emu.control("POST", "/_emu/quirks", {"singleton_as_array": True})
        try:
            self.assertEqual(len(self.emu.rest_get("/rest/system/resource")), 1)
        finally:
            self.emu.control("POST", "/_emu/quirks", {"singleton_as_array": False})

    def test_faults_and_counters(self):
        self.emu.control("POST", "/_emu/counters/reset")
        self.emu.control("POST", "/_emu/fault", {"kind": "status500", "count": 1, "methods": ["PUT"]})
        status, body = self.put(MANGLE, {"chain": "emu-fault"})
        self.assertEqual((status, body), (500, {"error": 500, "message": "Internal Server Error"}))
        self.assertEqual(self.emu.rest_get(MANGLE + "?chain=emu-fault"), [])
        self.emu.control("POST", "/_emu/fault", {"kind": "session_closed"})
        self.assertEqual(self.emu.rest("GET", MANGLE), (400, {"error": 400, "message": "Bad Request",
                                                               "detail": "Session closed"}))
        counters = self.emu.control("GET", "/_emu/counters")
        self.assertEqual(counters["requests"], {"PUT": 1, "GET": 2})
        self.assertEqual(counters["writes"], 0)
        self.assertEqual(counters["faults_applied"], 2)

        # Raw control characters: the body is not valid JSON as sent.
        self.emu.control("POST", "/_emu/fault", {"kind": "control_char"})
        ctx = ssl.create_default_context(cafile=self.emu.cert_file)
        conn = http.client.HTTPSConnection("127.0.0.1", self.emu.rest_port, context=ctx, timeout=10)
        token = base64.b64encode(("%s:%s" % (self.emu.user, self.emu.password)).encode()).decode()
        conn.request("GET", "/rest/system/resource", headers={"Authorization": "Basic " + token})
        raw = conn.getresponse().read()
        conn.close()
        self.assertIn(b"\x01", raw)

        # A dropped connection gives no reply at all.
        self.emu.control("POST", "/_emu/fault", {"kind": "drop"})
        conn = http.client.HTTPSConnection("127.0.0.1", self.emu.rest_port, context=ctx, timeout=10)
        conn.request("GET", "/rest/system/resource", headers={"Authorization": "Basic " + token})
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError, ssl.SSLError)):
            conn.getresponse()
        conn.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
