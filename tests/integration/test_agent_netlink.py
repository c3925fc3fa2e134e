#!/usr/bin/env python3
"""End to end: radvd (real) advertises a prefix on a veth, `sixgate-agent run` watches the other end with its
netlink source, and the RouterOS emulator's address-list converges; then radvd renumbers and the list follows
(new prefix added first, old prefix removed once its valid lifetime has ended).

Topology: namespace sgns-ar<pid> (radvd) --veth-- sgns-ah<pid> (agent + emulator on that namespace's loopback).
This test process enters the agent's namespace itself (setns), so the emulator harness, the agent and the
control-API calls all share it. Needs root, iproute2, radvd, openssl; env SIXGATE_BUILD_DIR (set by ctest).
The pieces are also used by tests/bench/agent_reaction/bench.py.
"""

import ctypes
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

SOURCE_DIR = os.environ.get("SIXGATE_SOURCE_DIR",
                            os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "routeros_emulator"))
from harness import RunningEmulator  # noqa: E402

CLONE_NEWNET = 0x40000000
LIST = "sixgate-home"
OLD, NEW = "2001:db8:1200:1::/64", "2001:db8:1200:2::/64"


def sh(*args, check=True):
    return subprocess.run(list(args), check=check, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=30)


def setns(path):
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns " + path)
    finally:
        os.close(fd)


def wait_until(predicate, timeout, interval=0.05):
    """Polls `predicate` until it returns a truthy value or `timeout` seconds pass; returns the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


class Topology:
    """Two namespaces and a veth; with `enter`, this process moves into the agent's namespace until close()."""

    def __init__(self, tag, with_router=True):
        pid = os.getpid()
        self.router_ns, self.host_ns = "sgns-%sr%d" % (tag, pid), "sgns-%sh%d" % (tag, pid)
        self.router_if, self.host_if = "sg%sr%d" % (tag, pid % 100000), "sg%sh%d" % (tag, pid % 100000)
        self.with_router = with_router
        self.original_ns = None
        self.created = []

    def __enter__(self):
        try:
            self._create()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def _create(self):
        self.original_ns = os.open("/proc/self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        namespaces = [self.router_ns, self.host_ns] if self.with_router else [self.host_ns]
        for ns in namespaces:
            sh("ip", "netns", "add", ns)
            self.created.append(ns)
        h = ["ip", "netns", "exec", self.host_ns]
        if self.with_router:
            sh("ip", "link", "add", self.router_if, "netns", self.router_ns, "type", "veth", "peer", "name",
               self.host_if, "netns", self.host_ns)
            r = ["ip", "netns", "exec", self.router_ns]
            sh(*r, "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1")
            sh(*r, "sysctl", "-qw", "net.ipv6.conf.%s.accept_dad=0" % self.router_if)
            sh("ip", "-n", self.router_ns, "link", "set", self.router_if, "up")
        else:
            # No dummy driver everywhere: a veth whose peer stays in the same namespace.
            peer = self.host_if + "p"
            sh("ip", "-n", self.host_ns, "link", "add", self.host_if, "type", "veth", "peer", "name", peer)
            sh("ip", "-n", self.host_ns, "link", "set", peer, "up")
        sh(*h, "sysctl", "-qw", "net.ipv6.conf.all.forwarding=0")
        for key, value in (("forwarding", 0), ("accept_ra", 1), ("autoconf", 1), ("accept_dad", 0)):
            sh(*h, "sysctl", "-qw", "net.ipv6.conf.%s.%s=%d" % (self.host_if, key, value))
        sh("ip", "-n", self.host_ns, "link", "set", "lo", "up")
        sh("ip", "-n", self.host_ns, "link", "set", self.host_if, "up")
        setns("/var/run/netns/" + self.host_ns)

    def close(self):
        if self.original_ns is not None:
            setns("/proc/self/fd/%d" % self.original_ns)
            os.close(self.original_ns)
            self.original_ns = None
        for ns in reversed(self.created):
            sh("ip", "netns", "del", ns, check=False)
        self.created = []


def radvd_config(interface, prefixes):
    """prefixes: [(prefix, valid, preferred)]"""
    body = "".join("  prefix %s { AdvOnLink on; AdvAutonomous on; AdvValidLifetime %d; AdvPreferredLifetime %d; };\n"
                   % p for p in prefixes)
    return ("interface %s {\n  AdvSendAdvert on;\n  MinRtrAdvInterval 3;\n  MaxRtrAdvInterval 4;\n%s};\n"
            % (interface, body))


class Radvd:
    def __init__(self, topology, directory, prefixes):
        self.topology, self.conf = topology, os.path.join(directory, "radvd.conf")
        self.write(prefixes)
        self.log = open(os.path.join(directory, "radvd.log"), "w")
        self.proc = subprocess.Popen(["ip", "netns", "exec", topology.router_ns, "radvd", "-n", "-C", self.conf,
                                      "-p", os.path.join(directory, "radvd.pid"), "-m", "stderr"],
                                     stdout=self.log, stderr=subprocess.STDOUT)

    def write(self, prefixes):
        with open(self.conf, "w") as f:
            f.write(radvd_config(self.topology.router_if, prefixes))

    def renumber(self, prefixes):
        self.write(prefixes)
        self.proc.send_signal(signal.SIGHUP)

    def stop(self):
        stop_process(self.proc)
        self.log.close()


def stop_process(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


class Agent:
    """`sixgate-agent run` against the emulator, with a netlink source on `interface`."""

    def __init__(self, emu, directory, interface, delegated_length=64, debounce_ms=500, poll_interval_s=5,
                 extra_args=()):
        build = os.environ.get("SIXGATE_BUILD_DIR", os.path.join(SOURCE_DIR, "build", "release"))
        self.binary = os.path.join(build, "agent", "sixgate-agent")
        credentials = os.path.join(directory, "router.credentials")
        with open(os.open(credentials, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write("%s:%s\n" % (emu.user, emu.password))
        self.config = os.path.join(directory, "agent.toml")
        with open(self.config, "w") as f:
            f.write("""[agent]
name = "sixgate"
control_socket = "%(dir)s/agent.sock"

[router]
url = "%(url)s"
ca_file = "%(ca)s"
credentials_file = "%(cred)s"
timeout_ms = 5000
retries = 2
poll_interval_s = %(poll)d

[site]
name = "home"
routed_prefix = "2001:db8:1:2:1::/80"

[policy]
address_list = "%(list)s"

[sources]
debounce_ms = %(debounce)d
static = []

[sources.netlink]
interface = "%(ifname)s"
delegated_length = %(len)d
""" % {"dir": directory, "url": emu.base_url, "ca": emu.cert_file, "cred": credentials, "poll": poll_interval_s,
       "list": LIST, "debounce": debounce_ms, "ifname": interface, "len": delegated_length})
        self.log_path = os.path.join(directory, "agent.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([self.binary, "--config", self.config, "--log-level", "info", "run",
                                      *extra_args], stdout=self.log, stderr=subprocess.STDOUT)

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        stop_process(self.proc)
        self.log.close()

    def tail(self, lines=40):
        with open(self.log_path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])


def table(emu, menu):
    return emu.control("GET", "/_emu/state")[menu]


def listed(emu, name=LIST):
    return sorted(e["address"] for e in table(emu, "ipv6/firewall/address-list") if e.get("list") == name)


class Check:
    def __init__(self):
        self.failures = []

    def __call__(self, ok, what):
        print(("ok   " if ok else "FAIL ") + what, flush=True)
        if not ok:
            self.failures.append(what)
        return ok


def main():
    if os.geteuid() != 0:
        print("needs root")
        return 1
    check = Check()
    with tempfile.TemporaryDirectory(prefix="sgns-agent-") as directory, Topology("a") as topo:
        radvd = Radvd(topo, directory, [(OLD, 25, 20)])
        agent = None
        try:
            with RunningEmulator() as emu:
                agent = Agent(emu, directory, topo.host_if)

                got = wait_until(lambda: listed(emu) == [OLD], 30)
                check(got, "address-list converges to the advertised prefix %s (have %s)" % (OLD, listed(emu)))
                def excluding_rules():
                    return [r for r in table(emu, "ipv6/firewall/mangle") if r.get("dst-address-list") == "!" + LIST]
                rules = wait_until(lambda: len(excluding_rules()) == 1 and excluding_rules(), 10)
                check(rules and rules[0].get("src-address") == "2001:db8:1:2:1::/80",
                      "one mangle rule marks the routed prefix and excludes the list (have %s)" % excluding_rules())

                # Renumber: the new prefix joins the list while the old one is still valid (never a moment
                # without a home prefix), then the old one leaves when its valid lifetime has ended.
                radvd.renumber([(NEW, 300, 200), (OLD, 0, 0)])
                seen_both = wait_until(lambda: listed(emu) == [OLD, NEW], 20)
                check(seen_both, "after renumbering both prefixes are listed (have %s)" % listed(emu))
                only_new = wait_until(lambda: listed(emu) == [NEW], 45, interval=0.2)
                check(only_new, "after the old valid lifetime only %s is listed (have %s)" % (NEW, listed(emu)))
                check(agent.alive(), "agent still running")

                # Steady state: no writes while nothing changes.
                emu.control("POST", "/_emu/counters/reset")
                time.sleep(6)
                counters = emu.control("GET", "/_emu/counters")
                check(counters["writes"] == 0, "no writes in steady state (counters %s)" % json.dumps(counters))
        finally:
            if agent is not None:
                agent.stop()
                if check.failures:
                    print("--- agent log (tail)\n" + agent.tail(), flush=True)
            radvd.stop()
    print("%d failure(s)" % len(check.failures))
    return 1 if check.failures else 0


if __name__ == "__main__":
    sys.exit(main())
