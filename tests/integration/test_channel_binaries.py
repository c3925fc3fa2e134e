#!/usr/bin/env python3
"""The channel between the real daemons, inside a real WireGuard tunnel (wireguard-go) between two namespaces:
sixgate-proxy in sgchb-vps listens on [fe80::1%sgchwg1a]:7443, sixgate-agent in sgchb-home follows the
prefixes of a LAN interface (netlink source) and reports through the tunnel. Checked through the `status`
commands, as an operator would:
  - a prefix change on the home side shows in `sixgate-proxy status` within 2 s;
  - the agent's router sync error (no router here) travels too, and both status commands exit 1 (unhealthy);
  - forged, wrong-site and replayed datagrams sent through the tunnel are dropped and counted;
  - tunnel down -> the proxy shows the agent stale; proxy stopped -> `sixgate-proxy status` exits 3;
  - `sixgate-proxy status --site NAME` shows only that site; an unknown site is a usage error (exit 2).
StartupRefusals (no namespaces): a daemon whose channel cannot work refuses to start (exit 1, the message
names the config key): agent key file missing / mode 0644 / too short, proxy listening on a wildcard.
Needs root. Every wait is bounded; namespaces, wireguard-go and the daemons are removed also on failure."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

SOURCE = os.environ.get("SIXGATE_SOURCE_DIR") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
BUILD = os.environ.get("SIXGATE_BUILD_DIR") or os.path.join(SOURCE, "build", "release")
PROXY = os.path.join(BUILD, "proxy", "sixgate-proxy")
AGENT = os.path.join(BUILD, "agent", "sixgate-agent")

NS_VPS, NS_HOME = "sgchb-vps", "sgchb-home"
WG_VPS, WG_HOME = "sgchwg1a", "sgchwg1b"
LAN = "sgchlan1"
ROUTED = "2001:db8:0:0:1::/80"
PORT = 7443
EXIT_UNHEALTHY, EXIT_USAGE, EXIT_UNREACHABLE = 1, 2, 3


def sh(*args, check=True, timeout=20):
    return subprocess.run(list(args), check=check, capture_output=True, text=True, timeout=timeout)


def in_ns(ns, *args, **kw):
    return sh("ip", "netns", "exec", ns, *args, **kw)


class ChannelBetweenDaemons(unittest.TestCase):
    def setUp(self):
        for binary in (PROXY, AGENT):
            self.assertTrue(os.path.exists(binary), "build it first: " + binary)
        for tool in ("ip", "wg", "wireguard-go", "openssl"):
            self.assertIsNotNone(shutil.which(tool), tool + " not installed")
        self.assertEqual(os.geteuid(), 0, "needs root (network namespaces)")
        self.dir = tempfile.mkdtemp(prefix="sgchb-")
        os.chmod(self.dir, 0o700)
        self.procs = []
        self.addCleanup(self.teardown_all)
        self.build_tunnel()
        self.home_key_hex = sh("openssl", "rand", "-hex", "32").stdout.strip()
        self.friend_key_hex = sh("openssl", "rand", "-hex", "32").stdout.strip()
        self.home_key = self.write_secret("home.key", self.home_key_hex + "\n")
        self.friend_key = self.write_secret("friend.key", self.friend_key_hex + "\n")
        self.proxy_sock = os.path.join(self.dir, "proxy.sock")
        self.agent_sock = os.path.join(self.dir, "agent.sock")

    # -- environment -------------------------------------------------------------------------------------------
    def teardown_all(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(timeout=5)
        for ns in (NS_VPS, NS_HOME):
            sh("ip", "netns", "del", ns, check=False)
        for wg in (WG_VPS, WG_HOME):
            try:
                os.unlink("/var/run/wireguard/%s.sock" % wg)
            except FileNotFoundError:
                pass
        shutil.rmtree(self.dir, True)

    def write_secret(self, name, text):
        path = os.path.join(self.dir, name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        return path

    def spawn(self, ns, args, log_name, env=None):
        log = open(os.path.join(self.dir, log_name), "w")
        self.addCleanup(log.close)
        p = subprocess.Popen(["ip", "netns", "exec", ns] + args, stdout=log, stderr=subprocess.STDOUT, env=env)
        self.procs.append(p)
        return p

    def log_of(self, name):
        with open(os.path.join(self.dir, name)) as f:
            return f.read()[-4000:]

    def build_tunnel(self):
        for ns in (NS_VPS, NS_HOME):
            sh("ip", "netns", "del", ns, check=False)
            sh("ip", "netns", "add", ns)
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "link", "add", "sgchv1a", "netns", NS_VPS, "type", "veth", "peer", "name", "sgchv1b", "netns", NS_HOME)
        sh("ip", "-n", NS_VPS, "addr", "add", "198.51.100.1/24", "dev", "sgchv1a")
        sh("ip", "-n", NS_HOME, "addr", "add", "198.51.100.2/24", "dev", "sgchv1b")
        sh("ip", "-n", NS_VPS, "link", "set", "sgchv1a", "up")
        sh("ip", "-n", NS_HOME, "link", "set", "sgchv1b", "up")
        env = dict(os.environ, WG_PROCESS_FOREGROUND="1", LOG_LEVEL="error")
        for ns, wg in ((NS_VPS, WG_VPS), (NS_HOME, WG_HOME)):
            self.spawn(ns, ["wireguard-go", wg], wg + ".log", env=env)
            self.wait_for("wireguard-go creates " + wg,
                          lambda: os.path.exists("/var/run/wireguard/%s.sock" % wg)
                          and sh("ip", "-n", ns, "link", "show", wg, check=False).returncode == 0, timeout=10)
        vps_priv = self.write_secret("vps.priv", sh("wg", "genkey").stdout)
        home_priv = self.write_secret("home.priv", sh("wg", "genkey").stdout)
        vps_pub = pubkey(vps_priv)
        home_pub = pubkey(home_priv)
        in_ns(NS_VPS, "wg", "set", WG_VPS, "private-key", vps_priv, "listen-port", "51830", "peer", home_pub,
              "allowed-ips", ROUTED + ",fe80::2/128", "endpoint", "198.51.100.2:51831")
        in_ns(NS_HOME, "wg", "set", WG_HOME, "private-key", home_priv, "listen-port", "51831", "peer", vps_pub,
              "allowed-ips", "::/0", "endpoint", "198.51.100.1:51830", "persistent-keepalive", "1")
        for ns, wg, addr in ((NS_VPS, WG_VPS, "fe80::1/64"), (NS_HOME, WG_HOME, "fe80::2/64")):
            sh("ip", "-n", ns, "link", "set", "dev", wg, "addrgenmode", "none")
            sh("ip", "-n", ns, "-6", "addr", "add", addr, "dev", wg, "nodad")
            sh("ip", "-n", ns, "link", "set", wg, "up")
        # The home LAN whose addresses the agent's netlink source follows (a veth pair: no dummy module here).
        sh("ip", "-n", NS_HOME, "link", "add", LAN, "type", "veth", "peer", "name", LAN + "p")
        for dev in (LAN, LAN + "p"):
            sh("ip", "-n", NS_HOME, "link", "set", "dev", dev, "addrgenmode", "none")
            sh("ip", "-n", NS_HOME, "link", "set", dev, "up")
        sh("ip", "-n", NS_HOME, "-6", "addr", "add", "2001:db8:aaaa:1::1/64", "dev", LAN, "nodad")
        self.wait_for("traffic through the tunnel", lambda: in_ns(
            NS_HOME, "ping", "-6", "-c1", "-W1", "fe80::1%" + WG_HOME, check=False).returncode == 0, timeout=15)

    # -- daemons -----------------------------------------------------------------------------------------------
    def start_proxy(self):
        config = self.write_secret("proxy.toml", """
[channel]
listen = ["[fe80::1%{wg}]:{port}"]
[[channel.site]]
name = "home"
key_file = "{home}"
routed_prefix = "{routed}"
gateway = "fe80::1"
[[channel.site]]
name = "friend"
key_file = "{friend}"
routed_prefix = "2001:db8:0:0:2::/80"
""".format(wg=WG_VPS, port=PORT, home=self.home_key, friend=self.friend_key, routed=ROUTED))
        return self.spawn(NS_VPS, [PROXY, "-listen", "tcp:[::1]:18443", "-mode", "nat46", "-nat46-prefix", "64:ff9b:1::",
                                   "-backend-cidr", ROUTED, "--config", config, "--control-socket", self.proxy_sock,
                                   "--workers", "1"], "proxy.log")

    def start_agent(self):
        config = self.write_secret("agent.toml", """
[agent]
name = "sgchb"
control_socket = "{sock}"
[router]
url = "https://127.0.0.1:1"
insecure = true
timeout_ms = 500
retries = 0
[site]
name = "home"
routed_prefix = "{routed}"
[sources]
debounce_ms = 200
[sources.netlink]
interface = "{lan}"
delegated_length = 56
[channel]
heartbeat_s = 1
[[channel.proxy]]
name = "vps1"
address = "[fe80::1%{wg}]:{port}"
key_file = "{home}"
""".format(sock=self.agent_sock, routed=ROUTED, lan=LAN, wg=WG_HOME, port=PORT, home=self.home_key))
        env = dict(os.environ, SIXGATE_ROUTER_USER="sixgate", SIXGATE_ROUTER_PASSWORD="unused")
        return self.spawn(NS_HOME, [AGENT, "--config", config, "run"], "agent.log", env=env)

    def status(self, binary, sock, json_output=True):
        args = [binary, "status", "--control-socket", sock] + (["--json"] if json_output else [])
        r = sh(*args, check=False, timeout=10)
        return r.returncode, (json.loads(r.stdout) if json_output and r.stdout.strip() else r.stdout)

    def home_peer(self):
        code, st = self.status(PROXY, self.proxy_sock)
        if code == EXIT_UNREACHABLE or not st or not st.get("channel"):
            return None
        for site in st["channel"]["sites"]:
            agents = [p for p in site["peers"] if p["sender"] != "probe"] if site["name"] == "home" else []
            if agents:
                return min(agents, key=lambda p: p["last_seen_ago_ms"])
        return None

    def prefixes_on_proxy(self):
        peer = self.home_peer()
        return [p["prefix"] for p in peer["prefixes"]] if peer else []

    def counters(self, site=None):
        _, st = self.status(PROXY, self.proxy_sock)
        if site is None:
            return st["channel"]["counters"]["dropped"]
        return next(s for s in st["channel"]["sites"] if s["name"] == site)["counters"]["dropped"]

    def wait_for(self, what, predicate, timeout=20.0, interval=0.1):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(interval)
        if predicate():
            return
        logs = "".join("\n--- %s\n%s" % (n, self.log_of(n)) for n in ("proxy.log", "agent.log")
                       if os.path.exists(os.path.join(self.dir, n)))
        self.fail("timed out after %.0f s waiting for %s%s" % (timeout, what, logs))

    # -- the test ----------------------------------------------------------------------------------------------
    def test_channel_between_daemons(self):
        code, _ = self.status(PROXY, self.proxy_sock)
        self.assertEqual(code, EXIT_UNREACHABLE, "sixgate-proxy status without a daemon must exit 3 "
                         "(is `status` routed in proxy/main.cpp?)")
        proxy = self.start_proxy()
        self.wait_for("the proxy's control socket", lambda: os.path.exists(self.proxy_sock) or proxy.poll() is not None)
        self.assertIsNone(proxy.poll(), "sixgate-proxy exited:\n" + self.log_of("proxy.log"))
        self.assertEqual(os.stat(self.proxy_sock).st_mode & 0o777, 0o600)
        self.start_agent()

        self.wait_for("the agent's prefix on the proxy", lambda: "2001:db8:aaaa::/56" in self.prefixes_on_proxy(),
                      timeout=30)

        # A prefix change on the home side is visible in `sixgate-proxy status` within 2 s.
        started = time.monotonic()
        sh("ip", "-n", NS_HOME, "-6", "addr", "add", "2001:db8:bbbb:1::1/64", "dev", LAN, "nodad")
        sh("ip", "-n", NS_HOME, "-6", "addr", "del", "2001:db8:aaaa:1::1/64", "dev", LAN)
        self.wait_for("the new prefix on the proxy", lambda: "2001:db8:bbbb::/56" in self.prefixes_on_proxy(),
                      timeout=10, interval=0.05)
        took = time.monotonic() - started
        print("prefix change visible in `sixgate-proxy status` after %.0f ms" % (took * 1000))
        self.assertLess(took, 2.0)

        # The table names the site, the new prefix and the sync error; no router here, so both are unhealthy.
        self.wait_for("the router sync error on the proxy",
                      lambda: (self.home_peer() or {}).get("sync", {}).get("state") == "error", timeout=30)
        code, table = self.status(PROXY, self.proxy_sock, json_output=False)
        print(table)
        self.assertEqual(code, EXIT_UNHEALTHY)
        for text in ("home", "2001:db8:bbbb::/56", "error", "friend", "never_seen"):
            self.assertIn(text, table)
        code, agent_table = self.status(AGENT, self.agent_sock, json_output=False)
        print(agent_table)
        self.assertEqual(code, EXIT_UNHEALTHY)
        self.assertIn("2001:db8:bbbb::/56", agent_table)
        _, agent_json = self.status(AGENT, self.agent_sock)
        vps1 = agent_json["channel"]["peers"][0]
        self.assertEqual(vps1["state"], "ok")
        self.assertEqual(vps1["proxy"]["routed_prefix"], ROUTED)
        self.assertEqual(vps1["mismatches"], [])

        # Forged, wrong-site and replayed datagrams through the tunnel: dropped and counted.
        home_before, friend_before, all_before = self.counters("home"), self.counters("friend"), self.counters()
        probe = r"""
import hashlib, hmac, socket, struct, sys, time
key_home, key_friend = bytes.fromhex(sys.argv[1]), bytes.fromhex(sys.argv[2])
def dg(site, counter, key):
    s, n, p = site.encode(), b"probe", b'{"agent_version":"probe","heartbeat_ms":1000,"prefixes":[],"sync":{"state":"in_sync"}}'
    body = b"SGCH" + bytes([1, 1, len(s), len(n)]) + struct.pack(">QHH", counter, len(p), 0) + s + n + p
    return body + hmac.new(key, body, hashlib.sha256).digest()
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
to = ("fe80::1", %d, 0, socket.if_nametoindex("%s"))
now = int(time.time() * 1e6)
s.sendto(dg("home", now + 1, b"\x42" * 32), to)   # forged key
s.sendto(dg("home", now + 2, key_friend), to)     # friend's key claiming home
s.sendto(dg("friend", now + 3, key_home), to)     # home's key claiming friend
genuine = dg("home", now + 4, key_home)
s.sendto(genuine, to)
time.sleep(0.2)
s.sendto(genuine, to)                             # replay
""" % (PORT, WG_HOME)
        in_ns(NS_HOME, sys.executable, "-c", probe, self.home_key_hex, self.friend_key_hex)
        self.wait_for("the replay to be counted",
                      lambda: self.counters("home")["replay"] == home_before["replay"] + 1, timeout=10)
        self.assertEqual(self.counters("home")["bad_mac"], home_before["bad_mac"] + 2)
        self.assertEqual(self.counters("friend")["bad_mac"], friend_before["bad_mac"] + 1)
        self.assertEqual(self.counters()["bad_mac"], all_before["bad_mac"] + 3)

        # --site narrows the table and the exit code to one site (the exit codes per site: status_cli_test).
        r = sh(PROXY, "status", "--control-socket", self.proxy_sock, "--site", "home", check=False, timeout=10)
        self.assertIn("2001:db8:bbbb::/56", r.stdout)
        self.assertNotIn("friend", r.stdout)
        r = sh(PROXY, "status", "--control-socket", self.proxy_sock, "--site", "friend", check=False, timeout=10)
        self.assertEqual(r.returncode, EXIT_UNHEALTHY, r.stdout + r.stderr)  # friend: never seen
        self.assertNotIn("2001:db8:bbbb::/56", r.stdout)
        r = sh(PROXY, "status", "--control-socket", self.proxy_sock, "--site", "nosuch", check=False, timeout=10)
        self.assertEqual(r.returncode, EXIT_USAGE, r.stdout + r.stderr)
        self.assertIn("home", r.stderr)

        # Tunnel down: the proxy shows the agent stale (3 x 1 s heartbeat).
        sh("ip", "-n", NS_HOME, "link", "set", WG_HOME, "down")
        self.wait_for("the agent shown stale", lambda: all(
            p["stale"] for s in self.status(PROXY, self.proxy_sock)[1]["channel"]["sites"] if s["name"] == "home"
            for p in s["peers"]), timeout=10)
        code, table = self.status(PROXY, self.proxy_sock, json_output=False)
        self.assertEqual(code, EXIT_UNHEALTHY)
        self.assertIn("stale", table)

        # Proxy gone: exit code 3.
        proxy.terminate()
        proxy.wait(timeout=20)
        code, _ = self.status(PROXY, self.proxy_sock)
        self.assertEqual(code, EXIT_UNREACHABLE)


class StartupRefusals(unittest.TestCase):
    """A channel that cannot work stops the daemon at start-up instead of a daemon that says it is healthy."""

    def setUp(self):
        for binary in (PROXY, AGENT):
            self.assertTrue(os.path.exists(binary), "build it first: " + binary)
        self.dir = tempfile.mkdtemp(prefix="sgchs-")
        os.chmod(self.dir, 0o700)
        self.addCleanup(shutil.rmtree, self.dir, True)

    def write(self, name, text, mode=0o600):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def run_agent(self, key_file):
        config = self.write("agent.toml", """
[agent]
control_socket = "{dir}/agent.sock"
[router]
url = "https://127.0.0.1:1"
insecure = true
timeout_ms = 300
retries = 0
[site]
name = "home"
routed_prefix = "{routed}"
[sources]
static = ["2001:db8:aaaa::/56"]
[[channel.proxy]]
name = "vps1"
address = "[2001:db8:ffff::1]:7443"
key_file = "{key}"
""".format(dir=self.dir, routed=ROUTED, key=key_file))
        env = dict(os.environ, SIXGATE_ROUTER_USER="sixgate", SIXGATE_ROUTER_PASSWORD="unused")
        return subprocess.run([AGENT, "--config", config, "run"], capture_output=True, text=True, timeout=20, env=env)

    def test_agent_refuses_an_unusable_key_file(self):
        good = "ab" * 32 + "\n"
        cases = {
            "missing": os.path.join(self.dir, "absent.key"),
            "mode 0644": self.write("open.key", good, 0o644),
            "too short": self.write("short.key", "ab" * 8 + "\n"),
        }
        for what, key in cases.items():
            with self.subTest(what):
                r = self.run_agent(key)
                self.assertEqual(r.returncode, 1, what + ": " + r.stdout + r.stderr)
                self.assertIn("channel.proxy", r.stderr)
                self.assertIn(key, r.stderr)
                self.assertFalse(os.path.exists(os.path.join(self.dir, "agent.sock")))

    def test_proxy_refuses_a_wildcard_listen_address(self):
        key = self.write("home.key", "cd" * 32 + "\n")
        for wildcard in ("[::]:17443", "0.0.0.0:17443"):
            with self.subTest(wildcard):
                config = self.write("proxy.toml", """
[channel]
listen = ["{listen}"]
[[channel.site]]
name = "home"
key_file = "{key}"
routed_prefix = "{routed}"
""".format(listen=wildcard, key=key, routed=ROUTED))
                r = subprocess.run([PROXY, "-listen", "tcp:[::1]:18444", "-mode", "nat46", "-nat46-prefix", "64:ff9b:1::",
                                    "-backend-cidr", ROUTED, "--config", config, "--control-socket",
                                    os.path.join(self.dir, "proxy.sock"), "--workers", "1"],
                                   capture_output=True, text=True, timeout=20)
                self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
                self.assertIn("channel.listen", r.stdout + r.stderr)
                self.assertIn("wildcard", r.stdout + r.stderr)


def pubkey(private_key_file):
    with open(private_key_file) as f:
        return subprocess.run(["wg", "pubkey"], input=f.read(), capture_output=True, text=True, check=True,
                              timeout=10).stdout.strip()


if __name__ == "__main__":
    unittest.main(verbosity=2)
