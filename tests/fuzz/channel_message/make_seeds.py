# Writes the seed corpus: python3 make_seeds.py ../corpus/channel_message (key = 32 bytes of 0x01 for "home", 0x02 for "friend", as in the harness).
import hmac, hashlib, json, struct, sys, os
out = sys.argv[1]
NOW = 1764070000000000
def dg(site, sender, counter, payload, key=bytes([1])*32, typ=1, version=1):
    s, n, p = site.encode(), sender.encode(), payload.encode()
    body = b"SGCH" + bytes([version, typ, len(s), len(n)]) + struct.pack(">QHH", counter, len(p), 0) + s + n + p
    return body + hmac.new(key, body, hashlib.sha256).digest()
report = {"agent_version": "0.1.0", "heartbeat_ms": 10000,
          "prefixes": [{"prefix": "2001:db8:1::/56", "valid_s": 3600, "preferred_s": 1800},
                       {"prefix": "2001:db8:2::/48", "valid_s": None, "preferred_s": None}],
          "sync": {"state": "error", "reason": "router unreachable"}, "last_change_ms": 1764069990000,
          "routed_prefix": "2001:db8:0:0:1::/80"}
info = {"proxy_version": "0.1.0", "routed_prefix": "2001:db8:0:0:1::/80", "nat46_prefix": "64:ff9b:1::/96",
        "gateway": "fe80::1", "ack_counter": NOW}
seeds = {
  "report_home_valid": b"\x00" + dg("home", "router-1", NOW, json.dumps(report)),
  "report_friend_valid": b"\x00" + dg("friend", "pi", NOW + 5, json.dumps(report), key=bytes([2])*32),
  "report_fixup_mac": b"\x01" + dg("home", "router-1", NOW + 7, json.dumps(report), key=bytes(32)),
  "report_wrong_site_key": b"\x00" + dg("friend", "router-1", NOW, json.dumps(report)),
  "proxy_info_type": b"\x01" + dg("home", "vps", NOW, json.dumps(info), typ=2),
  "stale": b"\x01" + dg("home", "router-1", NOW - 31000000, json.dumps(report)),
  "bad_version": b"\x00" + dg("home", "router-1", NOW, "{}", version=2),
  "payload_report": b"\x02" + json.dumps(report).encode(),
  "payload_info": b"\x02" + json.dumps(info).encode(),
  "payload_nested": b"\x02" + b"[" * 12 + b"]" * 12,
}
os.makedirs(out, exist_ok=True)
for name, data in seeds.items():
    open(os.path.join(out, name + ".bin"), "wb").write(data)
