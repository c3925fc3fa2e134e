#!/usr/bin/env python3
"""Reaction time of sixgate-agent: from a netlink change (a new IPv6 address, hence a new /64, on a watched
interface) to the RouterOS emulator's address-list holding that prefix; and the steady-state request count.

Runs `sixgate-agent run` (netlink source, delegated_length 64) in a throw-away network namespace with a dummy
interface and the emulator on that namespace's loopback (the topology code is shared with
tests/integration/test_agent_netlink.py). Needs root. See README.md for the command and the results.
"""

import argparse
import datetime
import json
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "integration"))
import test_agent_netlink as t  # noqa: E402


def percentile(values, p):
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, int(-(-p * len(ordered) // 100)))  # ceil
    return ordered[rank - 1]


def steady_state(emu, agent, topo, poll_s, polls):
    """One permanent prefix, converged; then count requests over `polls` poll intervals."""
    t.sh("ip", "-6", "addr", "add", "2001:db8:7700::1/64", "dev", topo.host_if)
    if not t.wait_until(lambda: t.listed(emu) == ["2001:db8:7700::/64"], 30):
        raise RuntimeError("no convergence on the first prefix; agent log:\n" + agent.tail())
    time.sleep(poll_s + 1)  # let any verification round finish
    emu.control("POST", "/_emu/counters/reset")
    time.sleep(polls * poll_s)
    c = emu.control("GET", "/_emu/counters")
    tables = ("ipv6/firewall/mangle", "ipv6/firewall/address-list", "ipv6/route", "routing/table")
    per_table = {m: c["by_path"].get("GET " + m, 0) / polls for m in tables}
    return {"window_s": polls * poll_s, "polls": polls, "requests": c["total"], "writes": c["writes"],
            "gets_per_poll_per_table": per_table, "by_path": c["by_path"]}


def source_latencies(log_path, starts):
    """Per change: ms from just before `ip addr add` to the agent's first netlink_prefixes line naming the prefix
    (the netlink source's share of the reaction time; log timestamps are wall-clock, microsecond resolution)."""
    first_seen = {}
    with open(log_path, errors="replace") as f:
        for line in f:
            if " netlink_prefixes " not in line:
                continue
            stamp = datetime.datetime.strptime(line.split()[0], "%Y-%m-%dT%H:%M:%S.%fZ")
            stamp = stamp.replace(tzinfo=datetime.timezone.utc).timestamp()
            for prefix in starts:
                if prefix not in first_seen and prefix in line:
                    first_seen[prefix] = stamp
    return [round((first_seen[p] - wall) * 1000.0, 2) for p, wall in starts.items() if p in first_seen]


def reaction(emu, topo, changes, lifetime_s, pause_s, starts):
    """Adds one address per change (new /64, finite lifetime so old ones age out) and times until it is listed."""
    samples = []
    for i in range(1, changes + 1):
        prefix = "2001:db8:77:%x::/64" % i
        address = "2001:db8:77:%x::1/64" % i
        starts[prefix] = time.time()
        start = time.monotonic()  # before spawning `ip`: the measurement includes its start-up (a few ms)
        t.sh("ip", "-6", "addr", "add", address, "dev", topo.host_if, "valid_lft", str(lifetime_s),
             "preferred_lft", str(lifetime_s))
        seen = t.wait_until(lambda: prefix in t.listed(emu), 20, interval=0.005)
        elapsed = time.monotonic() - start
        if not seen:
            raise RuntimeError("change %d (%s) not listed within 20 s" % (i, prefix))
        samples.append(elapsed * 1000.0)
        print("change %2d %s: %.1f ms" % (i, prefix, samples[-1]), flush=True)
        time.sleep(pause_s)
    return samples


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--changes", type=int, default=20)
    ap.add_argument("--debounce-ms", type=int, default=0)
    ap.add_argument("--poll-interval-s", type=int, default=5)
    ap.add_argument("--steady-polls", type=int, default=4)
    ap.add_argument("--lifetime-s", type=int, default=30, help="valid/preferred lifetime of each added address")
    ap.add_argument("--pause-s", type=float, default=0.5, help="quiet time after each change is listed")
    ap.add_argument("--output", help="write the result as JSON here")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("needs root", file=sys.stderr)
        return 1

    with tempfile.TemporaryDirectory(prefix="sgns-bench-") as directory, t.Topology("b", with_router=False) as topo:
        with t.RunningEmulator() as emu:
            agent = t.Agent(emu, directory, topo.host_if, delegated_length=64, debounce_ms=args.debounce_ms,
                            poll_interval_s=args.poll_interval_s)
            try:
                steady = steady_state(emu, agent, topo, args.poll_interval_s, args.steady_polls)
                starts = {}
                samples = reaction(emu, topo, args.changes, args.lifetime_s, args.pause_s, starts)
                alive = agent.alive()
            finally:
                agent.stop()
            source_ms = source_latencies(agent.log_path, starts)
    result = {
        "what": "netlink change (ip -6 addr add, new /64) -> emulator address-list lists it",
        "config": {"debounce_ms": args.debounce_ms, "poll_interval_s": args.poll_interval_s,
                   "changes": args.changes, "lifetime_s": args.lifetime_s, "pause_s": args.pause_s},
        "reaction_ms": {"p50": round(percentile(samples, 50), 1), "p99": round(percentile(samples, 99), 1),
                        "min": round(min(samples), 1), "max": round(max(samples), 1),
                        "mean": round(statistics.mean(samples), 1), "samples": [round(s, 1) for s in samples]},
        "netlink_source_ms": {"p50": percentile(source_ms, 50), "p99": percentile(source_ms, 99),
                              "samples": source_ms} if source_ms else None,
        "steady_state": steady,
        "agent_alive_at_end": alive,
    }
    print(json.dumps(result, indent=2))
    if args.output:
        with open(args.output, "w") as f:
            json.dump(result, f, indent=2)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
