#!/usr/bin/env python3
"""sixgate-agent against the RouterOS REST emulator over HTTPS (certificate fingerprint pinned):
plan / apply --once, idempotence (zero writes in sync), prefix change, hand edits, reboot, foreign objects, and the
daemon (`run`) converging after changes. Loopback only; every wait is bounded; the emulator and the daemon are
stopped also when a test fails."""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

SOURCE = os.environ.get("SIXGATE_SOURCE_DIR") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
BUILD = os.environ.get("SIXGATE_BUILD_DIR") or os.path.join(SOURCE, "build", "release")
AGENT = os.path.join(BUILD, "agent", "sixgate-agent")
sys.path.insert(0, os.path.join(SOURCE, "tests", "routeros_emulator"))

from harness import RunningEmulator  # noqa: E402

TAG = "sixgate:sgag:home:"
MANGLE, ALIST, ROUTE, TABLE = "ipv6/firewall/mangle", "ipv6/firewall/address-list", "ipv6/route", "routing/table"

FOREIGN_RULE = {"chain": "prerouting", "action": "accept", "src-address": "2001:db8:77::/48", "comment": "operator rule"}
FOREIGN_ENTRY = {"list": "blocklist", "address": "2001:db8:bad::/48", "comment": "operator entry"}
OTHER_AGENT_ENTRY = {"list": "sixgate-home", "address": "2001:db8:99::/56", "comment": "sixgate:other:home:home-prefix"}
SEED = {
    "ipv6/dhcp-client": [{"interface": "ether1", "pool-name": "isp6"}],
    MANGLE: [FOREIGN_RULE],
    ALIST: [FOREIGN_ENTRY, OTHER_AGENT_ENTRY],
}


def config_text(emu, extra_policy="", sources="", poll=30, state_dir=""):
    return """
[agent]
name = "sgag"
control_socket = "{sock}"
state_dir = "{state_dir}"
[router]
url = "{url}"
fingerprint_sha256 = "{fp}"
credentials_file = "{cred}"
timeout_ms = 3000
retries = 1
poll_interval_s = {poll}
[site]
name = "home"
routed_prefix = "2001:db8:1:2:1::/80"
[policy]
gateway = "fe80::1%wg-vps"
{extra_policy}
[sources]
debounce_ms = 200
static = ["fd00::/8"]
[sources.dhcp_client]
interface = "ether1"
poll_interval_s = 1
{sources}
""".format(state_dir=state_dir, sock=emu.agent_socket, url=emu.base_url, fp=emu.fingerprint, cred=emu.agent_credentials, poll=poll, extra_policy=extra_policy,
           sources=sources)


class AgentAgainstEmulator(unittest.TestCase):
    def setUp(self):
        self.assertTrue(os.path.exists(AGENT), "build sixgate-agent first: " + AGENT)
        self.dir = tempfile.mkdtemp(prefix="sgag-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.emu = RunningEmulator(seed=SEED)
        self.emu.__enter__()
        self.addCleanup(self.emu.__exit__, None, None, None)
        self.emu.agent_credentials = os.path.join(self.dir, "router.cred")
        self.emu.agent_socket = os.path.join(self.dir, "agent.sock")
        fd = os.open(self.emu.agent_credentials, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("%s\n%s\n" % (self.emu.user, self.emu.password))
        self.daemon = None
        self.addCleanup(self.stop_daemon)
        self.set_dhcp_prefix("2001:db8:1200::/56")

    # -- helpers -----------------------------------------------------------------------------------------------
    def write_config(self, **kw):
        path = os.path.join(self.dir, "agent.toml")
        with open(path, "w") as f:
            f.write(config_text(self.emu, **kw))
        return path

    def agent(self, *args, config=None, timeout=60):
        config = config or self.write_config()
        env = dict(os.environ, SIXGATE_LOG_FORMAT="json")
        env.pop("SIXGATE_ROUTER_USER", None)
        env.pop("SIXGATE_ROUTER_PASSWORD", None)
        return subprocess.run([AGENT, "--config", config, *args], capture_output=True, text=True, timeout=timeout,
                              env=env)

    def set_dhcp_prefix(self, prefix, valid="1d"):
        self.emu.control("POST", "/_emu/dhcp-prefix", {"prefix": prefix, "valid": valid, "interface": "ether1"})

    def table(self, menu):
        return self.emu.rest_get("/rest/" + menu)

    def ours(self, menu, role=None):
        return [o for o in self.table(menu)
                if o.get("comment", "").startswith(TAG) and (role is None or o["comment"] == TAG + role)]

    def home_entries(self):
        return sorted(o["address"] for o in self.ours(ALIST, "home-prefix"))

    def counters(self):
        return self.emu.control("GET", "/_emu/counters")

    def reset_counters(self):
        self.emu.control("POST", "/_emu/counters/reset")

    def foreign_snapshot(self):
        return ([o for o in self.table(MANGLE) if o.get("comment") == "operator rule"],
                [o for o in self.table(ALIST) if o.get("comment") in ("operator entry", OTHER_AGENT_ENTRY["comment"])])

    def writes_logged(self, stderr):
        out = []
        for line in stderr.splitlines():
            start = line.find("{")
            if start < 0:
                continue
            try:
                event = json.loads(line[start:])
            except ValueError:
                continue
            if event.get("event") == "router_write":
                out.append(event["op"])
        return out

    def wait_for(self, what, predicate, timeout=25.0):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = predicate()
            if last:
                return last
            time.sleep(0.2)
        self.fail("timed out waiting for " + what + (" (daemon log: %s)" % self.daemon_log() if self.daemon else ""))

    def start_daemon(self, config, *extra):
        log = open(os.path.join(self.dir, "daemon.log"), "w")
        env = dict(os.environ, SIXGATE_LOG_FORMAT="json", SIXGATE_LOG_LEVEL="debug")
        self.daemon = subprocess.Popen([AGENT, "--config", config, "run", *extra], stdout=log, stderr=log, env=env)
        log.close()

    def daemon_log(self):
        with open(os.path.join(self.dir, "daemon.log")) as f:
            return f.read()[-4000:]

    def stop_daemon(self):
        if self.daemon is None or self.daemon.poll() is not None:
            return self.daemon.returncode if self.daemon else None
        self.daemon.send_signal(signal.SIGTERM)
        try:
            return self.daemon.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.daemon.kill()
            self.daemon.wait(timeout=5)
            return None

    # -- one-shot commands --------------------------------------------------------------------------------------
    def test_plan_apply_idempotent_prefix_change_hand_edit_reboot(self):
        foreign_before = self.foreign_snapshot()

        # Fresh router: plan shows changes (exit 2) and writes nothing.
        self.reset_counters()
        r = self.agent("plan")
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("+ add", r.stdout)
        self.assertIn("2001:db8:1200::/56", r.stdout)
        self.assertEqual(self.counters()["writes"], 0)

        # apply --once creates table, route, entries, rule, in that order.
        r = self.agent("apply", "--once")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        writes = self.writes_logged(r.stderr)
        menus = [w.split()[1] for w in writes]
        self.assertEqual(menus, ["/routing/table", "/ipv6/route", "/ipv6/firewall/address-list",
                                 "/ipv6/firewall/address-list", "/ipv6/firewall/mangle"], writes)
        self.assertEqual(self.home_entries(), ["2001:db8:1200::/56", "fd00::/8"])
        rule, = self.ours(MANGLE, "rule")
        self.assertEqual(rule["dst-address-list"], "!sixgate-home")
        self.assertEqual(rule["src-address"], "2001:db8:1:2:1::/80")
        self.assertEqual(rule["passthrough"], "false")
        self.assertEqual(rule["new-routing-mark"], "extip1_rt")
        self.assertEqual(self.table(MANGLE)[0]["comment"], TAG + "rule", "position top: before the operator's rule")
        route, = self.ours(ROUTE, "route")
        self.assertEqual((route["dst-address"], route["gateway"], route["routing-table"], route["distance"]),
                         ("::/0", "fe80::1%wg-vps", "extip1_rt", "20"))
        table, = self.ours(TABLE, "table")
        self.assertEqual(table["name"], "extip1_rt")
        self.assertIn("fib", table)

        # In sync: plan exits 0 and the steady state is one GET per table (+ the dhcp-client read), no writes.
        self.reset_counters()
        r = self.agent("plan")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("No changes", r.stdout)
        c = self.counters()
        self.assertEqual(c["writes"], 0, c)
        self.assertEqual(c["requests"].get("GET", 0), 5, c)
        self.assertEqual(c["total"], 5, c)

        # The ISP renumbers: the new prefix's entry is added before the old one is removed.
        self.set_dhcp_prefix("2001:db8:3400::/56")
        r = self.agent("apply", "--once")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        writes = self.writes_logged(r.stderr)
        self.assertEqual([w.split()[0] for w in writes], ["add", "remove"], writes)
        self.assertEqual(self.home_entries(), ["2001:db8:3400::/56", "fd00::/8"])

        # Hand edits: the rule's passthrough and disabled changed, a matcher added, the route deleted.
        status, _ = self.emu.rest("PATCH", "/rest/%s/%s" % (MANGLE, rule[".id"]),
                                  {"passthrough": "yes", "disabled": "yes", "protocol": "tcp"})
        self.assertEqual(status, 200)
        status, _ = self.emu.rest("DELETE", "/rest/%s/%s" % (ROUTE, route[".id"]))
        self.assertEqual(status, 204)
        r = self.agent("plan")
        self.assertEqual(r.returncode, 2)
        self.assertIn("passthrough", r.stdout)
        self.reset_counters()
        r = self.agent("apply", "--once")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(self.counters()["writes"], 2)  # one PATCH for the rule, one PUT for the route
        rule_after, = self.ours(MANGLE, "rule")
        self.assertEqual(rule_after[".id"], rule[".id"])
        self.assertEqual((rule_after["passthrough"], rule_after["disabled"]), ("false", "false"))
        self.assertNotIn("protocol", rule_after)
        self.assertEqual(len(self.ours(ROUTE, "route")), 1)

        # Foreign objects (the operator's, another agent's) were never touched.
        self.assertEqual(self.foreign_snapshot(), foreign_before)
        self.assertEqual(self.agent("plan").returncode, 0)

    def test_reboot_loses_timed_entries_and_apply_restores_them(self):
        config = self.write_config(extra_policy='address_list_timeout = "1h"')
        r = self.agent("apply", "--once", config=config)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(self.home_entries(), ["2001:db8:1200::/56", "fd00::/8"])
        self.emu.control("POST", "/_emu/reboot")
        self.assertEqual(self.home_entries(), [])
        r = self.agent("plan", config=config)
        self.assertEqual(r.returncode, 2)
        r = self.agent("apply", "--once", config=config)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(self.home_entries(), ["2001:db8:1200::/56", "fd00::/8"])
        self.assertEqual(len(self.ours(MANGLE)), 1)

    def test_dst_address_compat_mode_changes_rule_in_one_patch(self):
        config = self.write_config(extra_policy='mode = "dst-address"')
        r = self.agent("apply", "--once", config=config)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        rule, = self.ours(MANGLE, "rule")
        self.assertEqual(rule["dst-address"], "!2001:db8:1200::/56")
        self.assertEqual(self.home_entries(), [])
        self.set_dhcp_prefix("2001:db8:3400::/56")
        self.reset_counters()
        r = self.agent("apply", "--once", config=config)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        c = self.counters()
        self.assertEqual(c["writes"], 1, c)
        self.assertEqual(c["by_path"].get("PATCH " + MANGLE), 1, c)
        self.assertEqual(self.ours(MANGLE, "rule")[0]["dst-address"], "!2001:db8:3400::/56")

    def test_adopt_takes_over_the_reference_setup(self):
        # The hand-made objects of the reference setup, untagged.
        for menu, obj in ((TABLE, {"name": "extip1_rt", "fib": ""}),
                          (ROUTE, {"dst-address": "::/0", "gateway": "fe80::1%wg-vps", "routing-table": "extip1_rt",
                                   "distance": "20"})):
            self.emu.control("POST", "/_emu/foreign", {"menu": menu, "object": obj})
        r = self.agent("apply", "--once", config=self.write_config(extra_policy="adopt = true"))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(len([t for t in self.table(TABLE) if t["name"] == "extip1_rt"]), 1)
        self.assertEqual(len(self.ours(TABLE, "table")), 1)
        self.assertEqual(len([x for x in self.table(ROUTE) if x.get("routing-table") == "extip1_rt"]), 1)
        self.assertEqual(len(self.ours(ROUTE, "route")), 1)

    def test_state_dir_keeps_a_renumbered_prefix_until_its_lifetime_ends(self):
        state = os.path.join(self.dir, "state")
        os.mkdir(state)
        config = self.write_config(state_dir=state)
        self.set_dhcp_prefix("2001:db8:1200::/56", valid=8)
        ends = time.monotonic() + 8
        self.assertEqual(self.agent("apply", "--once", config=config).returncode, 0)
        self.set_dhcp_prefix("2001:db8:3400::/56", valid="1d")
        r = self.agent("apply", "--once", config=config)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(self.home_entries(), ["2001:db8:1200::/56", "2001:db8:3400::/56", "fd00::/8"])
        # Without the state the old prefix is simply gone.
        r = self.agent("plan")
        self.assertEqual(r.returncode, 2, r.stdout)
        self.assertIn("- remove", r.stdout)
        self.assertIn("2001:db8:1200::/56", r.stdout)
        # Once its valid lifetime has ended, the next run removes it.
        time.sleep(max(0.0, ends - time.monotonic()) + 1)
        r = self.agent("apply", "--once", config=config)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(self.home_entries(), ["2001:db8:3400::/56", "fd00::/8"])

    def test_router_errors_exit_1_with_a_message(self):
        self.emu.control("POST", "/_emu/fault", {"kind": "status401", "count": 20})
        r = self.agent("plan")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("401", r.stderr)
        self.emu.control("POST", "/_emu/faults/clear")
        # A write that fails mid-plan: exit 1; the next apply re-reads and converges.
        self.emu.control("POST", "/_emu/fault", {"kind": "status500", "count": 1, "methods": ["PUT"],
                                                  "path": "/rest/ipv6/route"})
        r = self.agent("apply", "--once")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        r = self.agent("apply", "--once")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(self.agent("plan").returncode, 0)

    def test_a_write_applied_but_unanswered_is_not_duplicated(self):
        # The router applies the PUT, then the connection drops before the reply: the write fails for the agent
        # (PUT is never retried), and the next round finds the object by its tag instead of adding it again.
        self.emu.control("POST", "/_emu/fault", {"kind": "drop_after_apply", "methods": ["PUT"],
                                                  "path": "/rest/" + ROUTE})
        r = self.agent("apply", "--once")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertEqual(len(self.ours(ROUTE, "route")), 1)
        r = self.agent("apply", "--once")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(len(self.ours(ROUTE, "route")), 1)

        # The daemon: the rule's reply is lost; its retry round adopts nothing twice.
        self.emu.control("POST", "/_emu/fault", {"kind": "drop_after_apply", "methods": ["PATCH", "PUT"],
                                                  "path": "/rest/" + MANGLE})
        rule, = self.ours(MANGLE, "rule")
        self.emu.rest("DELETE", "/rest/%s/%s" % (MANGLE, rule[".id"]))
        self.start_daemon(self.write_config(poll=1))
        self.wait_for("the lost reply", lambda: "reconcile_failed" in self.daemon_log_full())
        self.wait_for("convergence after the lost reply", lambda: self.agent("plan").returncode == 0)
        self.assertEqual(len(self.ours(MANGLE, "rule")), 1)
        self.assertEqual(len(self.ours(ROUTE, "route")), 1)
        self.assertEqual(self.stop_daemon(), 0, self.daemon_log())

    # -- the daemon ---------------------------------------------------------------------------------------------
    def test_daemon_converges_keeps_old_prefix_and_repairs(self):
        config = self.write_config(poll=1, extra_policy='address_list_timeout = "1h"')
        self.start_daemon(config)
        self.wait_for("initial convergence",
                      lambda: self.home_entries() == ["2001:db8:1200::/56", "fd00::/8"] and self.ours(MANGLE, "rule"))

        # Renumbering: the new prefix is added; the old one stays (its valid lifetime has not ended).
        self.set_dhcp_prefix("2001:db8:3400::/56")
        self.wait_for("the new prefix",
                      lambda: self.home_entries() == ["2001:db8:1200::/56", "2001:db8:3400::/56", "fd00::/8"])

        # Hand edit of the rule: repaired at the next resync.
        rule, = self.ours(MANGLE, "rule")
        self.emu.rest("PATCH", "/rest/%s/%s" % (MANGLE, rule[".id"]), {"passthrough": "yes"})
        self.wait_for("the rule repaired", lambda: self.ours(MANGLE, "rule")[0]["passthrough"] == "false")

        # Reboot: timed entries gone, re-added.
        self.emu.control("POST", "/_emu/reboot")
        self.wait_for("entries after reboot", lambda: len(self.home_entries()) == 3)

        # `sixgate-agent status` asks the daemon over its control socket.
        r = subprocess.run([AGENT, "status", "--json", "--control-socket", self.emu.agent_socket],
                           capture_output=True, text=True, timeout=20)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        status = json.loads(r.stdout)
        self.assertEqual(status["sync"]["state"], "in_sync", status)
        prefixes = {p["prefix"]: p for p in status["prefixes"]}
        self.assertTrue(prefixes["2001:db8:1200::/56"]["retained"], status)
        self.assertEqual(prefixes["2001:db8:3400::/56"]["sources"], ["dhcp-client:ether1"], status)

        # Steady state: no writes over a few resyncs.
        time.sleep(1.5)
        self.reset_counters()
        time.sleep(3.5)
        c = self.counters()
        self.assertEqual(c["writes"], 0, c)
        self.assertGreater(c["requests"].get("GET", 0), 0, c)
        self.assertEqual(self.stop_daemon(), 0, self.daemon_log())
        with open(os.path.join(self.dir, "daemon.log")) as f:
            log = f.read()
        self.assertIn('"before":"2001:db8:1200::/56, fd00::/8"', log)
        self.assertIn('"after":"2001:db8:1200::/56, 2001:db8:3400::/56, fd00::/8"', log)

    def test_daemon_renews_entries_before_their_timeout(self):
        self.start_daemon(self.write_config(poll=1, extra_policy='address_list_timeout = "5s"'))
        self.wait_for("initial convergence", lambda: len(self.home_entries()) == 2)
        deadline = time.monotonic() + 12  # more than two timeouts
        while time.monotonic() < deadline:
            self.assertEqual(self.home_entries(), ["2001:db8:1200::/56", "fd00::/8"], self.daemon_log())
            time.sleep(0.25)
        self.assertIn("timeout (renewed)", self.daemon_log_full())
        self.assertEqual(self.stop_daemon(), 0)

    def daemon_log_full(self):
        with open(os.path.join(self.dir, "daemon.log")) as f:
            return f.read()

    def test_daemon_dry_run_writes_nothing(self):
        self.start_daemon(self.write_config(poll=1), "--dry-run")
        self.wait_for("a dry-run plan", lambda: "dry_run_plan" in self.daemon_log())
        time.sleep(1.5)
        self.assertEqual(self.counters()["writes"], 0)
        self.assertEqual(self.ours(MANGLE), [])
        self.assertEqual(self.stop_daemon(), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
