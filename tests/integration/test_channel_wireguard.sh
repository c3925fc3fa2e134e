#!/usr/bin/env bash
# The agent<->proxy channel inside a real WireGuard tunnel (wireguard-go + wg) between two namespaces:
#   sgch-vps  (proxy side)  sgchwg0a  fe80::1/64           veth sgchv0a 198.51.100.1/24, UDP 51820
#   sgch-home (agent side)  sgchwg0b  fe80::2/64, the site's 2001:db8:0:0:1::1/80 on lo
#                                                          veth sgchv0b 198.51.100.2/24, UDP 51821
# AllowedIPs: the VPS's peer for home allows the site /80 plus fe80::2/128 (the agent's channel source
# address, see docs/channel-protocol.md); the home side allows ::/0.
# The channel itself runs in the hidden Catch2 case "[.wireguard]" of channel_tests (server and client
# classes, each on a thread inside its namespace), so the protocol is tested without the daemons around it;
# test_channel_binaries.py runs the real sixgate-proxy and sixgate-agent through the same kind of tunnel.
# Needs root. Everything is torn down on exit, also on failure.
set -euo pipefail

BUILD_DIR=${SIXGATE_BUILD_DIR:-$(cd "$(dirname "$0")/../.." && pwd)/build/release}
DRIVER="$BUILD_DIR/tests/channel_tests"
NS_VPS=sgch-vps
NS_HOME=sgch-home
WG_VPS=sgchwg0a
WG_HOME=sgchwg0b
ROUTED=2001:db8:0:0:1::/80
TMP=$(mktemp -d /tmp/sgch-wg-XXXXXX)
PIDS=()

fail() { echo "FAIL: $*" >&2; exit 1; }

cleanup() {
  set +e
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
  done
  ip netns del "$NS_VPS" 2>/dev/null
  ip netns del "$NS_HOME" 2>/dev/null
  rm -f "/var/run/wireguard/$WG_VPS.sock" "/var/run/wireguard/$WG_HOME.sock"
  rm -rf "$TMP"
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || fail "needs root (network namespaces)"
for tool in ip wg wireguard-go openssl; do command -v "$tool" >/dev/null || fail "$tool not installed"; done
[ -x "$DRIVER" ] || fail "$DRIVER not built"

# Leftovers of an interrupted run.
ip netns del "$NS_VPS" 2>/dev/null || true
ip netns del "$NS_HOME" 2>/dev/null || true

ip netns add "$NS_VPS"
ip netns add "$NS_HOME"
ip -n "$NS_VPS" link set lo up
ip -n "$NS_HOME" link set lo up
ip link add sgchv0a netns "$NS_VPS" type veth peer name sgchv0b netns "$NS_HOME"
ip -n "$NS_VPS" addr add 198.51.100.1/24 dev sgchv0a
ip -n "$NS_HOME" addr add 198.51.100.2/24 dev sgchv0b
ip -n "$NS_VPS" link set sgchv0a up
ip -n "$NS_HOME" link set sgchv0b up

start_wg() {  # namespace interface
  ip netns exec "$1" env WG_PROCESS_FOREGROUND=1 LOG_LEVEL=error wireguard-go "$2" >"$TMP/$2.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 50); do
    ip -n "$1" link show "$2" >/dev/null 2>&1 && [ -S "/var/run/wireguard/$2.sock" ] && return 0
    sleep 0.1
  done
  cat "$TMP/$2.log" >&2
  fail "wireguard-go did not create $2"
}
start_wg "$NS_VPS" "$WG_VPS"
start_wg "$NS_HOME" "$WG_HOME"

umask 077
wg genkey >"$TMP/vps.priv"
wg genkey >"$TMP/home.priv"
VPS_PUB=$(wg pubkey <"$TMP/vps.priv")
HOME_PUB=$(wg pubkey <"$TMP/home.priv")
ip netns exec "$NS_VPS" wg set "$WG_VPS" private-key "$TMP/vps.priv" listen-port 51820 \
  peer "$HOME_PUB" allowed-ips "$ROUTED,fe80::2/128" endpoint 198.51.100.2:51821
ip netns exec "$NS_HOME" wg set "$WG_HOME" private-key "$TMP/home.priv" listen-port 51821 \
  peer "$VPS_PUB" allowed-ips ::/0 endpoint 198.51.100.1:51820 persistent-keepalive 1
# wireguard-go's TUN device would get an extra kernel-generated link-local address, which source address
# selection may pick for the channel and which the VPS's AllowedIPs do not cover: only the configured ones.
ip -n "$NS_VPS" link set dev "$WG_VPS" addrgenmode none
ip -n "$NS_HOME" link set dev "$WG_HOME" addrgenmode none
ip -n "$NS_VPS" -6 addr add fe80::1/64 dev "$WG_VPS" nodad
ip -n "$NS_HOME" -6 addr add fe80::2/64 dev "$WG_HOME" nodad
ip -n "$NS_HOME" -6 addr add 2001:db8:0:0:1::1/80 dev lo
ip -n "$NS_VPS" link set "$WG_VPS" up
ip -n "$NS_HOME" link set "$WG_HOME" up
ip -n "$NS_VPS" -6 route add "$ROUTED" dev "$WG_VPS"

# The tunnel carries traffic before the channel starts (first handshake).
ok=0
for _ in $(seq 1 50); do
  if ip netns exec "$NS_HOME" ping -6 -c1 -W1 "fe80::1%$WG_HOME" >/dev/null 2>&1; then ok=1; break; fi
  sleep 0.2
done
[ "$ok" = 1 ] || fail "no traffic through the WireGuard tunnel"

openssl rand -hex 32 >"$TMP/home.key"
openssl rand -hex 32 >"$TMP/friend.key"
chmod 600 "$TMP/home.key" "$TMP/friend.key"

SGCH_NETNS_VPS=/run/netns/$NS_VPS SGCH_NETNS_HOME=/run/netns/$NS_HOME SGCH_WG_VPS=$WG_VPS SGCH_WG_HOME=$WG_HOME \
SGCH_HOME_PUBKEY=$HOME_PUB SGCH_ROUTED_PREFIX=$ROUTED SGCH_KEY_HOME=$TMP/home.key SGCH_KEY_FRIEND=$TMP/friend.key \
  timeout 120 "$DRIVER" "[.wireguard]" --success --reporter compact 2>&1 | grep -v "^\[.*\] \[info\]" | tail -n 60
status=${PIPESTATUS[0]}
[ "$status" = 0 ] || fail "channel driver failed (exit $status)"
echo "PASS: channel over WireGuard"
