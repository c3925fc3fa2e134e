#!/usr/bin/env bash
# sixgate-proxy end to end in three network namespaces:
#   client (192.0.2.2, IPv4 only) -> proxy (192.0.2.1 | 2001:db8:1::1, dnsmasq on 127.0.0.1, NAT46 /96 on lo)
#   -> backend (2001:db8:1::7, IPv6 only: TLS :443 and PostgreSQL-style SSLRequest :5432 and HTTP :80, each
#   answering with the peer address it saw; and OpenSSL's s_server on TLS :7443).
# Asserts the backend saw 64:ff9b:1::c000:202 for TLS (curl and python; s_server, verified certificate, source
# read from the backend's socket table), PostgreSQL SSLRequest and plain HTTP;
# refusals (TLS alert unrecognized_name) for a name outside -backend-cidr, an IP-literal SNI, no SNI and
# NXDOMAIN; a malformed hello (close) and a closed backend port (internal_error); a black-holed first AAAA
# (2001:db8:1::66, routed to the backend namespace, which drops it) that leaves the second its share of the
# connect timeout; a slow-loris client closed after the 2 s hello timeout; SIGHUP reloads (applied, refused,
# restart-only keys named); TCP keepalive ending the connection of a client that vanished; a per-client
# connection limit; a clean exit 0 on SIGTERM, with a connection left at the drain deadline logged as
# stopped.
set -euo pipefail

BUILD=${SIXGATE_BUILD_DIR:-$(cd "$(dirname "$0")/../.." && pwd)/build/release}
PROXY=$BUILD/proxy/sixgate-proxy
[ -x "$PROXY" ] || { echo "FAIL: $PROXY not built"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "FAIL: needs root (network namespaces)"; exit 1; }

ID=$$
CL=sgpx-cl-$ID PX=sgpx-px-$ID BE=sgpx-be-$ID
TMP=$(mktemp -d /var/tmp/sixgate-proxy-test.XXXXXX)
PIDS=()
FAILS=0

cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for ns in "$CL" "$PX" "$BE"; do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
  done
  [ -n "${SGPX_KEEP_LOG:-}" ] && cp "$TMP/proxy.log" "$SGPX_KEEP_LOG"
  rm -rf "$TMP"
}
trap cleanup EXIT

pass() { echo "ok: $*"; }
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
# Access-log lines are written in batches (--access-log-flush, default 1s): wait up to 3 s for one.
log_wait() {  # log_wait <file> <grep pattern>
  for _ in $(seq 1 30); do grep -q -- "$2" "$1" && return 0; sleep 0.1; done
  grep -q -- "$2" "$1"
}
in_cl() { timeout 20 ip netns exec "$CL" "$@"; }

# --- network -------------------------------------------------------------------------------------------
for ns in "$CL" "$PX" "$BE"; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
ip link add sgpxc$ID type veth peer name sgpxp$ID
ip link set sgpxc$ID netns "$CL"; ip link set sgpxp$ID netns "$PX"
ip link add sgpxb$ID type veth peer name sgpxq$ID
ip link set sgpxb$ID netns "$BE"; ip link set sgpxq$ID netns "$PX"

ip -n "$CL" addr add 192.0.2.2/24 dev sgpxc$ID; ip -n "$CL" link set sgpxc$ID up
ip netns exec "$CL" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
ip -n "$PX" addr add 192.0.2.1/24 dev sgpxp$ID; ip -n "$PX" link set sgpxp$ID up
ip -n "$PX" addr add 2001:db8:1::1/64 dev sgpxq$ID nodad; ip -n "$PX" link set sgpxq$ID up
ip -n "$PX" -6 route add local 64:ff9b:1::/96 dev lo
ip netns exec "$BE" sysctl -qw net.ipv4.conf.all.disable_policy=0
ip -n "$BE" addr add 2001:db8:1::7/64 dev sgpxb$ID nodad; ip -n "$BE" link set sgpxb$ID up
ip -n "$BE" -6 route add 64:ff9b:1::/96 via 2001:db8:1::1
# A black hole inside -backend-cidr: the backend namespace does not forward, so it drops these packets silently.
ip -n "$PX" -6 route add 2001:db8:1::66/128 via 2001:db8:1::7

# --- DNS in the proxy namespace ------------------------------------------------------------------------
ip netns exec "$PX" dnsmasq --no-daemon --no-resolv --no-hosts --bind-interfaces --listen-address=127.0.0.1 \
  --port=53 --local=/test/ --host-record=app.test,2001:db8:1::7 --host-record=evil.test,2001:db8:99::7 \
  --host-record=v4only.test,192.0.2.99 --host-record=multi.test,2001:db8:1::66 \
  --host-record=multi.test,2001:db8:1::7 --log-facility=$TMP/dnsmasq.log --pid-file=$TMP/dnsmasq.pid 2>"$TMP/dnsmasq.err" &
PIDS+=($!)

# --- backend ---------------------------------------------------------------------------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=app.test -days 1 \
  -keyout "$TMP/key.pem" -out "$TMP/cert.pem" 2>/dev/null
cat >"$TMP/backend.py" <<'PY'
import socket, ssl, sys, threading, time
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1] + "/cert.pem", sys.argv[1] + "/key.pem")

def reply(conn, peer, tls):
    try:
        conn.settimeout(5)
        if tls:
            conn = ctx.wrap_socket(conn, server_side=True)
        conn.recv(4096)
        conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\npeer=" + peer[0].encode() + b"\n")
        conn.close()
    except Exception as e:
        print("backend:", e, file=sys.stderr)

def postgres(conn, peer):
    try:
        conn.settimeout(5)
        req = conn.recv(8)
        if req != bytes([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]):
            conn.close(); return
        conn.sendall(b"S")
        reply(conn, peer, True)
    except Exception as e:
        print("backend pg:", e, file=sys.stderr)

def serve(port, handler):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("::", port)); s.listen(64)
    while True:
        c, peer = s.accept()
        threading.Thread(target=handler, args=(c, peer), daemon=True).start()

threading.Thread(target=serve, args=(443, lambda c, p: reply(c, p, True)), daemon=True).start()
threading.Thread(target=serve, args=(80, lambda c, p: reply(c, p, False)), daemon=True).start()
threading.Thread(target=serve, args=(5432, postgres), daemon=True).start()

def stream(c, peer):  # writes without end (20 s at most), for a client that stops reading
    c.settimeout(1)
    end = time.monotonic() + 20
    try:
        while time.monotonic() < end:
            try:
                c.send(b"x" * 65536)
            except socket.timeout:
                pass
    except OSError:
        pass
    c.close()
threading.Thread(target=serve, args=(7450, stream), daemon=True).start()
print("ready", flush=True)
threading.Event().wait()
PY
ip netns exec "$BE" python3 "$TMP/backend.py" "$TMP" >"$TMP/backend.out" 2>"$TMP/backend.err" &
PIDS+=($!)
# A stock TLS server too: OpenSSL's own s_server, answering each request with its status page.
ip netns exec "$BE" openssl s_server -6 -accept 7443 -cert "$TMP/cert.pem" -key "$TMP/key.pem" -www -quiet \
  >"$TMP/s_server.out" 2>&1 </dev/null &
PIDS+=($!)

# --- proxy -----------------------------------------------------------------------------------------------
# backend-cidr comes from the file so that SIGHUP can change it (flags would win over the file).
# It runs as an unprivileged user with CAP_NET_BIND_SERVICE only, as the systemd unit does: ports 443/80 need
# that capability, and the NAT46 source bind (IPV6_FREEBIND) must work without CAP_NET_ADMIN.
printf 'backend-cidr = ["2001:db8:1::/64"]\n' >"$TMP/proxy.toml"
chmod 711 "$TMP"; chmod 644 "$TMP/proxy.toml"
install -d -o nobody -m 0700 "$TMP/run"
ip netns exec "$PX" setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all,+net_bind_service \
  --ambient-caps=-all,+net_bind_service --bounding-set=-all,+net_bind_service -- "$PROXY" -listen tcp:443 -listen tcp:80 -listen tcp:5432 -listen tcp:7443 -mode nat46 \
  -nat46-prefix 64:ff9b:1:: --config "$TMP/proxy.toml" --resolver 127.0.0.1 --hello-timeout 2s \
  --connect-timeout 3s --workers 2 --drain-timeout 3s --control-socket "$TMP/run/control1.sock" >"$TMP/proxy.log" 2>&1 &
PROXY_PID=$!
PIDS+=($PROXY_PID)

ready=0
for _ in $(seq 1 50); do
  if grep -q ready "$TMP/backend.out" 2>/dev/null && grep -q '"\?listening' "$TMP/proxy.log" 2>/dev/null &&
    ip netns exec "$PX" bash -c 'exec 3<>/dev/tcp/127.0.0.1/53' 2>/dev/null &&
    ip netns exec "$BE" ss -Hltn 'sport = :7443' | grep -q LISTEN; then
    ready=1
    break
  fi
  sleep 0.1
done
[ $ready = 1 ] || { echo "FAIL: setup did not become ready"; cat "$TMP/proxy.log" "$TMP/backend.err"; exit 1; }
proxy_user=$(ps -o user= -p "$PROXY_PID" | tr -d ' ')
proxy_caps=$(grep CapEff "/proc/$PROXY_PID/status" | awk '{print $2}')
if [ "$proxy_user" = nobody ] && [ "$((16#$proxy_caps))" = $((1 << 10)) ]; then
  pass "proxy runs as nobody with CAP_NET_BIND_SERVICE only (CapEff=$proxy_caps)"
else
  fail "proxy runs as '$proxy_user' with CapEff=$proxy_caps"
fi

# --- the client's side -------------------------------------------------------------------------------------
cat >"$TMP/client.py" <<'PY'
import socket, ssl, sys, time
what = sys.argv[1]
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE

def tls_get(sock, name):
    s = ctx.wrap_socket(sock, server_hostname=name)
    s.sendall(b"GET / HTTP/1.0\r\nHost: app.test\r\n\r\n")
    out = b""
    while True:
        d = s.recv(4096)
        if not d: break
        out += d
    return out.decode(errors="replace")

try:
    if what == "tls":
        port = int(sys.argv[3]) if len(sys.argv) > 3 else 443
        print(tls_get(socket.create_connection(("192.0.2.1", port), timeout=5), sys.argv[2]))
    elif what == "timed_tls":  # prints how long the whole exchange took
        t0 = time.monotonic()
        out = tls_get(socket.create_connection(("192.0.2.1", 443), timeout=8), sys.argv[2])
        print(out)
        print("took=%.2f" % (time.monotonic() - t0))
    elif what == "raw":  # sends the hex bytes sys.argv[3] to port sys.argv[2], prints what comes back until close
        s = socket.create_connection(("192.0.2.1", int(sys.argv[2])), timeout=5)
        s.sendall(bytes.fromhex(sys.argv[3]))
        out = b""
        while True:
            d = s.recv(4096)
            if not d: break
            out += d
        print("closed got=%r" % out)
    elif what == "postgres":
        s = socket.create_connection(("192.0.2.1", 5432), timeout=5)
        s.sendall(bytes([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]))
        answer = s.recv(1)
        print("answer=" + answer.decode(errors="replace"))
        print(tls_get(s, "app.test"))
    elif what == "http":
        s = socket.create_connection(("192.0.2.1", 80), timeout=5)
        s.sendall(b"GET / HTTP/1.1\r\nHost: App.Test\r\nConnection: close\r\n\r\n")
        out = b""
        while True:
            d = s.recv(4096)
            if not d: break
            out += d
        print(out.decode(errors="replace"))
    elif what == "hold":  # handshake now, request only once the file sys.argv[2] exists (after a reload)
        s = ctx.wrap_socket(socket.create_connection(("192.0.2.1", 443), timeout=20), server_hostname="app.test")
        print("handshake_done", flush=True)
        for _ in range(200):
            try:
                open(sys.argv[2]).close(); break
            except OSError:
                time.sleep(0.05)
        s.sendall(b"GET / HTTP/1.0\r\nHost: app.test\r\n\r\n")
        out = b""
        while True:
            d = s.recv(4096)
            if not d: break
            out += d
        print(out.decode(errors="replace"))
    elif what == "idle":  # handshake through the proxy on sys.argv[2], then stay silent
        s = ctx.wrap_socket(socket.create_connection(("192.0.2.1", int(sys.argv[2])), timeout=10),
                            server_hostname="app.test")
        t0 = time.monotonic()
        try:
            d = s.recv(100)
            print("closed_after=%.2f" % (time.monotonic() - t0))
        except (socket.timeout, ssl.SSLError) as e:
            print("closed_after=%.2f (%s)" % (time.monotonic() - t0, e))
    elif what == "vanish":  # handshake through the proxy on sys.argv[2] from 192.0.2.3, then wait for a reply
        s = ctx.wrap_socket(socket.create_connection(("192.0.2.1", int(sys.argv[2])), timeout=15,
                                                     source_address=("192.0.2.3", 0)), server_hostname="app.test")
        time.sleep(0.3)  # the server's session tickets follow the handshake: they must be in and acknowledged
        print("handshake_done", flush=True)
        try:
            print("got=%r" % s.recv(100))
        except (socket.timeout, ssl.SSLError, OSError) as e:
            print("no_reply (%s)" % e)
    elif what == "flood":  # hold int(sys.argv[3]) connections to port sys.argv[2] open for 3 s
        held = []
        for _ in range(int(sys.argv[3])):
            try:
                held.append(socket.create_connection(("192.0.2.1", int(sys.argv[2])), timeout=2))
                held[-1].sendall(b"\x16")
            except OSError:
                break
        print("held=%d" % len(held), flush=True)
        time.sleep(3)
    elif what == "stall":  # a real ClientHello for app.test to port sys.argv[2], then never read (tiny window)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect(("192.0.2.1", int(sys.argv[2])))
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        try:
            ctx.wrap_bio(incoming, outgoing, server_hostname="app.test").do_handshake()
        except ssl.SSLWantReadError:
            pass
        s.sendall(outgoing.read())
        print("hello_sent", flush=True)
        time.sleep(15)
    elif what == "slowloris":
        s = socket.create_connection(("192.0.2.1", 443), timeout=10)
        s.sendall(b"\x16")
        t0 = time.monotonic()
        try:
            d = s.recv(100)
            print("closed_after=%.2f data=%r" % (time.monotonic() - t0, d))
        except socket.timeout:
            print("still_open_after=%.2f" % (time.monotonic() - t0))
except ssl.SSLError as e:
    print("ssl_error=" + str(e))
except Exception as e:
    print("error=%s: %s" % (type(e).__name__, e))
PY
client() { in_cl python3 "$TMP/client.py" "$@" 2>&1 || true; }
expect() {  # expect <label> <needle> <output>
  if grep -q -- "$2" <<<"$3"; then pass "$1"; else fail "$1: wanted '$2', got: $3"; fi
}

out=$(in_cl curl -sk --max-time 10 --resolve app.test:443:192.0.2.1 https://app.test/ 2>&1 || true)
expect "curl https://app.test via the proxy reaches the backend from the NAT46 source" "peer=64:ff9b:1::c000:202" "$out"

# openssl s_server: the certificate verifies end to end (the proxy never terminates TLS), and while a verified
# s_client session stays open, the backend's own socket table shows it coming from the NAT46 source.
out=$(in_cl curl -s --max-time 10 --cacert "$TMP/cert.pem" --resolve app.test:7443:192.0.2.1 https://app.test:7443/ 2>&1 || true)
expect "curl with certificate verification reaches openssl s_server through the proxy" "Ciphers supported" "$out"
sleep 3 | in_cl openssl s_client -connect 192.0.2.1:7443 -servername app.test -CAfile "$TMP/cert.pem" \
  -verify_return_error -brief >/dev/null 2>&1 &
held=$!
seen=""
for _ in $(seq 1 25); do
  seen=$(ip netns exec "$BE" ss -Htn state established 'sport = :7443' || true)
  grep -q '64:ff9b:1::c000:202' <<<"$seen" && break
  sleep 0.1
done
expect "openssl s_server's socket table shows the NAT46 source" "\[64:ff9b:1::c000:202\]" "$seen"
wait "$held" 2>/dev/null || true

out=$(client tls APP.Test.)
expect "upper-case, trailing-dot SNI is canonicalised" "peer=64:ff9b:1::c000:202" "$out"

out=$(client postgres)
expect "PostgreSQL SSLRequest gets 'S' from the proxy" "answer=S" "$out"
expect "PostgreSQL SSLRequest flow reaches the backend from the NAT46 source" "peer=64:ff9b:1::c000:202" "$out"

out=$(client http)
expect "plain HTTP is routed by Host" "peer=64:ff9b:1::c000:202" "$out"

out=$(client tls evil.test)
expect "a name resolving outside -backend-cidr is refused with unrecognized_name" "UNRECOGNIZED_NAME" "$out"

out=$(client tls nothing.test)
expect "NXDOMAIN is refused with unrecognized_name" "UNRECOGNIZED_NAME" "$out"

out=$(client tls v4only.test)
expect "a name without AAAA is refused with unrecognized_name" "UNRECOGNIZED_NAME" "$out"

out=$(in_cl openssl s_client -connect 192.0.2.1:443 -servername 192.0.2.7 </dev/null 2>&1 || true)
expect "an IP-literal SNI is refused with unrecognized_name" "alert number 112\|unrecognized name" "$out"

out=$(in_cl openssl s_client -connect 192.0.2.1:443 -noservername </dev/null 2>&1 || true)
expect "a hello without SNI (no -default-hostname) is refused with unrecognized_name" \
  "alert number 112\|unrecognized name" "$out"

out=$(client slowloris)
secs=$(sed -n 's/^closed_after=\([0-9.]*\).*/\1/p' <<<"$out")
if [ -n "$secs" ] && awk -v s="$secs" 'BEGIN { exit !(s >= 1.0 && s < 6.0) }'; then
  pass "slow-loris client closed after the hello timeout (${secs}s, timeout 2s)"
else
  fail "slow-loris client: $out"
fi

# multi.test has two AAAA records; dnsmasq rotates their order from one answer to the next, and the proxy
# caches an answer for 1 s. Each fresh answer that lists the black-holed 2001:db8:1::66 first must still reach
# 2001:db8:1::7 within the 3 s connect timeout, after ::66 has had its half (1.5 s).
slow_ok=0 multi_bad=""
for _ in 1 2 3 4 5 6; do
  out=$(client timed_tls multi.test)
  took=$(sed -n 's/^took=\([0-9.]*\)/\1/p' <<<"$out")
  if ! grep -q "peer=64:ff9b:1::c000:202" <<<"$out" || [ -z "$took" ]; then
    multi_bad="$out"
    break
  fi
  if awk -v s="$took" 'BEGIN { exit !(s >= 1.2 && s < 2.9) }'; then
    slow_ok=1
    break
  fi
  sleep 1.2 # let the cached answer expire: the next one comes in the other order
done
if [ $slow_ok = 1 ]; then
  pass "black-holed first AAAA: the second address connected after the first's share (${took}s of 3s)"
else
  fail "black-holed first AAAA: ${multi_bad:-no exchange took the black-holed address first}"
fi

# The access log: one line per connection, with the reasons.
log_has() {
  if log_wait "$TMP/proxy.log" "$2"; then pass "access log: $1"; else fail "access log lacks $1 ($2)"; fi
}
log_has "a relayed connection with its NAT46 source and backend" 'outcome=relayed.*\|src=64:ff9b:1::c000:202'
grep 'outcome=relayed' "$TMP/proxy.log" | grep -q 'backend=\[2001:db8:1::7\]:443' &&
  grep 'outcome=relayed' "$TMP/proxy.log" | grep -q 'src=64:ff9b:1::c000:202' &&
  pass "access log: relayed line names backend and NAT46 source" || fail "access log: relayed line lacks backend/src"
log_has "the refusal outside the CIDR" 'reason=refused_address:outside_backend_cidr'
log_has "NXDOMAIN" 'reason=nxdomain'
log_has "no SNI" 'reason=no_sni'
log_has "bad name" 'reason=bad_name'
log_has "hello timeout" 'reason=hello_timeout'

# SIGHUP: a new backend-cidr applies to new connections; an established one keeps going.
in_cl python3 "$TMP/client.py" hold "$TMP/go" >"$TMP/hold.out" 2>&1 &
HOLD_PID=$!
for _ in $(seq 1 50); do grep -q handshake_done "$TMP/hold.out" && break; sleep 0.1; done
printf 'backend-cidr = ["2001:db8:99::/64"]\nlog-level = "debug"\n' >"$TMP/proxy.toml"
kill -HUP "$PROXY_PID"
for _ in $(seq 1 50); do grep -q 'reloaded' "$TMP/proxy.log" && break; sleep 0.1; done
out=$(client tls app.test)
expect "after SIGHUP, app.test (now outside the reloaded -backend-cidr) is refused" "UNRECOGNIZED_NAME" "$out"
log_has "SIGHUP names a changed key that needs a restart" 'reload_needs_restart changed=log-level'
log_has "SIGHUP names the key it applied, once in effect" 'info reloaded config=[^ ]* changed=backend-cidr '
touch "$TMP/go"
wait "$HOLD_PID" || true
expect "a connection established before SIGHUP still completes" "peer=64:ff9b:1::c000:202" "$(cat "$TMP/hold.out")"
printf 'backend-cidr = [\n' >"$TMP/proxy.toml"
kill -HUP "$PROXY_PID"
for _ in $(seq 1 50); do grep -q 'reload_failed' "$TMP/proxy.log" && break; sleep 0.1; done
log_has "a broken config on SIGHUP is reported" 'reload_failed'
printf 'backend-cidr = ["2001:db8:1::/64"]\n' >"$TMP/proxy.toml"
kill -HUP "$PROXY_PID"
for _ in $(seq 1 50); do [ "$(grep -c 'info reloaded' "$TMP/proxy.log")" -ge 2 ] && break; sleep 0.1; done
out=$(client tls app.test)
expect "after a failed reload the proxy still runs, and a good one restores app.test" "peer=64:ff9b:1::c000:202" "$out"

# A second instance on an inherited listening socket (fd:3, as systemd passes it), shared by 2 workers, with
# -backend-port, an idle timeout, and so few descriptors that accept() hits EMFILE.
cat >"$TMP/inherit.py" <<'PY'
import os, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("192.0.2.1", 8443)); s.listen(128)
os.dup2(s.fileno(), 3)
os.set_inheritable(3, True)
os.execv(sys.argv[1], sys.argv[1:])
PY
ip netns exec "$PX" bash -c 'ulimit -n 64; exec python3 "$@"' _ "$TMP/inherit.py" "$PROXY" -listen fd:3 \
  -nat46-prefix 64:ff9b:1::/96 -backend-cidr 2001:db8:1::/64 -backend-port 443 --resolver 127.0.0.1 \
  --idle-timeout 1s --workers 2 --control-socket "$TMP/control2.sock" >"$TMP/proxy2.log" 2>&1 &
PROXY2_PID=$!
PIDS+=($PROXY2_PID)
for _ in $(seq 1 50); do grep -q listening "$TMP/proxy2.log" && break; sleep 0.1; done
out=$(in_cl curl -sk --max-time 10 --resolve app.test:8443:192.0.2.1 https://app.test:8443/ 2>&1 || true)
expect "fd:3 listener with -backend-port 443 reaches the backend from the NAT46 source" "peer=64:ff9b:1::c000:202" "$out"
out=$(client idle 8443)
secs=$(sed -n 's/^closed_after=\([0-9.]*\).*/\1/p' <<<"$out")
if [ -n "$secs" ] && awk -v s="$secs" 'BEGIN { exit !(s >= 0.5 && s < 5.0) }'; then
  pass "an idle relayed connection is closed after --idle-timeout (${secs}s, timeout 1s)"
else
  fail "idle timeout: $out"
fi
log_wait "$TMP/proxy2.log" 'reason=idle_timeout' && pass "access log: idle_timeout" || fail "access log lacks idle_timeout"
# 64 descriptors: the flood runs accept() into EMFILE. It must back off (one log line per episode, little CPU),
# and accept again once descriptors are free.
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
t0=$(ticks "$PROXY2_PID")
client flood 8443 150 >/dev/null
t1=$(ticks "$PROXY2_PID")
n_err=$(grep -c 'accept_failed' "$TMP/proxy2.log" || true)
if [ "$n_err" -ge 1 ] && [ "$n_err" -le 3 ] && [ $((t1 - t0)) -lt 100 ]; then
  pass "EMFILE on accept: logged $n_err time(s), $((t1 - t0)) CPU ticks over 3 s (no spinning)"
else
  fail "EMFILE on accept: $n_err log lines, $((t1 - t0)) CPU ticks"
fi
ok2=0
for _ in $(seq 1 30); do
  out=$(in_cl curl -sk --max-time 5 --resolve app.test:8443:192.0.2.1 https://app.test:8443/ 2>&1 || true)
  grep -q "peer=64:ff9b:1::c000:202" <<<"$out" && { ok2=1; break; }
  sleep 0.3
done
[ $ok2 = 1 ] && pass "accepting again after EMFILE" || fail "no recovery after EMFILE: $out"
kill -TERM "$PROXY2_PID" 2>/dev/null || true

# TCP keepalive and a per-client limit, switched on by a reload: a client that vanishes mid-connection (its address gone, so nothing
# answers and nothing resets) ends the relay after keepalive + interval x count (1 + 1 x 2 s), and the backend
# leg is closed with it. The instance starts with keepalive off; the reload must reach the listener, which the
# accepted client socket inherits it from, and the backend socket, which carries its own.
printf 'keepalive = "off"\n' >"$TMP/proxy6.toml"
ip netns exec "$PX" "$PROXY" -listen tcp:192.0.2.1:9446 -nat46-prefix 64:ff9b:1:: -backend-cidr 2001:db8:1::/64 \
  -backend-port 7443 --resolver 127.0.0.1 --config "$TMP/proxy6.toml" --control-socket "$TMP/control6.sock" \
  >"$TMP/proxy6.log" 2>&1 &
PROXY6_PID=$!
PIDS+=($PROXY6_PID)
for _ in $(seq 1 50); do grep -q listening "$TMP/proxy6.log" && break; sleep 0.1; done
printf 'keepalive = "1s"\nkeepalive-interval = "1s"\nkeepalive-count = 2\nmax-connections-per-client = 3\n' \
  >"$TMP/proxy6.toml"
kill -HUP "$PROXY6_PID"
for _ in $(seq 1 50); do grep -q 'info reloaded' "$TMP/proxy6.log" && break; sleep 0.1; done
grep -q 'info reloaded config=[^ ]* changed=keepalive,max-connections-per-client ' "$TMP/proxy6.log" &&
  pass "a reload names what it applied: keepalive,max-connections-per-client" ||
  fail "reload of proxy6: $(grep -i reload "$TMP/proxy6.log" | tail -1)"
# The same reload set --max-connections-per-client 3: of five connections held from 192.0.2.2, two are
# refused, while another client (192.0.2.3, below) still gets through.
in_cl python3 "$TMP/client.py" flood 9446 5 >"$TMP/flood6.out" 2>&1 &
FLOOD6_PID=$!
for _ in $(seq 1 30); do
  [ "$(grep -c 'client=192.0.2.2:.*reason=max_connections_per_client' "$TMP/proxy6.log")" -ge 2 ] && break
  sleep 0.1
done
n_refused=$(grep -c 'client=192.0.2.2:.*outcome=refused reason=max_connections_per_client' "$TMP/proxy6.log" || true)
if grep -q 'held=5' "$TMP/flood6.out" && [ "$n_refused" = 2 ]; then
  pass "--max-connections-per-client 3 (from a reload): 2 of 5 connections from one client refused and logged"
else
  fail "--max-connections-per-client: $(cat "$TMP/flood6.out"), $n_refused refusals logged"
fi
st=$(ip netns exec "$PX" "$PROXY" status --control-socket "$TMP/control6.sock" --json 2>&1 || true)
if python3 -c 'import json,sys; e=json.loads(sys.argv[1])["ended"]; sys.exit(0 if e["refused"] == 2 and e["reasons"] == {"max_connections_per_client": 2} else 1)' "$st" 2>/dev/null &&
  ip netns exec "$PX" "$PROXY" status --control-socket "$TMP/control6.sock" 2>&1 |
  grep -q '^  reasons: max_connections_per_client 2$'; then
  pass "status: the two refusals show under ended since start, with their reason"
else
  fail "status after the per-client refusals: $st"
fi
ip -n "$CL" addr add 192.0.2.3/24 dev sgpxc$ID
in_cl python3 "$TMP/client.py" vanish 9446 >"$TMP/vanish.out" 2>&1 &
VANISH_PID=$!
for _ in $(seq 1 50); do grep -q handshake_done "$TMP/vanish.out" && break; sleep 0.1; done
backend_leg() { ip netns exec "$PX" ss -Htno state established | grep -F "64:ff9b:1::c000:203" || true; }
leg=$(backend_leg)
if grep -q handshake_done "$TMP/vanish.out" && grep -q 'timer:(keepalive,' <<<"$leg"; then
  pass "keepalive (from a reload): the relayed connection's backend leg has its keepalive timer running"
else
  fail "keepalive: no handshake ($(cat "$TMP/vanish.out")) or no keepalive timer on the backend leg: '$leg'"
fi
# Keepalive probes only a connection with nothing unacknowledged (else the retransmission limit, minutes,
# applies): wait until the client leg's send queue is empty before the client vanishes.
for _ in $(seq 1 30); do
  [ "$(ip netns exec "$PX" ss -Htn state established | awk '$4 ~ /^192\.0\.2\.3:/ { print $2 }')" = 0 ] && break
  sleep 0.1
done
ip -n "$CL" addr del 192.0.2.3/24 dev sgpxc$ID
t0=$(date +%s%N)
ended=0
for _ in $(seq 1 100); do  # 10 s at most; the access line is flushed within 1 s of the end
  grep -q 'src=64:ff9b:1::c000:203.*outcome=relayed reason="client_error:Connection timed out"' "$TMP/proxy6.log" &&
    { ended=1; break; }
  sleep 0.1
done
secs=$(awk -v t0="$t0" -v t1="$(date +%s%N)" 'BEGIN { printf "%.1f", (t1 - t0) / 1e9 }')
if [ $ended = 1 ] && awk -v s="$secs" 'BEGIN { exit !(s >= 2.0 && s <= 6.0) }' && [ -z "$(backend_leg)" ]; then
  pass "keepalive: a vanished client ends its connection after ${secs}s (1s + 2 x 1s, then the log flush), backend leg closed"
else
  fail "keepalive: vanished client: ended=$ended after ${secs}s, backend leg: '$(backend_leg)'; $(grep 'c000:203' "$TMP/proxy6.log" | tail -1)"
fi
kill "$VANISH_PID" 2>/dev/null || true
wait "$VANISH_PID" "$FLOOD6_PID" 2>/dev/null || true
kill -TERM "$PROXY6_PID" 2>/dev/null || true

# --tcp-user-timeout: a client that stops reading while the backend keeps sending holds the proxy's client
# leg at a zero window, with bytes unsent. Keepalive never probes such a leg and the peer answers every
# window probe, so without the user timeout the connection (and the backend's) would stay for ever.
ip netns exec "$PX" "$PROXY" -listen tcp:192.0.2.1:9447 -nat46-prefix 64:ff9b:1:: -backend-cidr 2001:db8:1::/64 \
  -backend-port 7450 --resolver 127.0.0.1 --keepalive off --tcp-user-timeout 2s \
  --control-socket "$TMP/control7.sock" >"$TMP/proxy7.log" 2>&1 &
PROXY7_PID=$!
PIDS+=($PROXY7_PID)
for _ in $(seq 1 50); do grep -q listening "$TMP/proxy7.log" && break; sleep 0.1; done
in_cl python3 "$TMP/client.py" stall 9447 >"$TMP/stall.out" 2>&1 &
STALL_PID=$!
t0=$(date +%s%N)
ended=0
for _ in $(seq 1 150); do  # 15 s at most: window probes back off from 0.2 s, the limit is checked at each
  grep -q 'outcome=relayed reason="client_error:Connection timed out"' "$TMP/proxy7.log" && { ended=1; break; }
  sleep 0.1
done
secs=$(awk -v t0="$t0" -v t1="$(date +%s%N)" 'BEGIN { printf "%.1f", (t1 - t0) / 1e9 }')
line=$(grep 'outcome=' "$TMP/proxy7.log" | tail -1 || true)
if [ $ended = 1 ] && grep -q hello_sent "$TMP/stall.out" && grep -q 'sni=app.test' <<<"$line"; then
  pass "--tcp-user-timeout 2s: a client holding a zero window is dropped after ${secs}s (keepalive off)"
else
  fail "--tcp-user-timeout: ended=$ended after ${secs}s; client: $(cat "$TMP/stall.out"); proxy: ${line:-no access line}"
fi
kill "$STALL_PID" 2>/dev/null || true
wait "$STALL_PID" 2>/dev/null || true
kill -TERM "$PROXY7_PID" 2>/dev/null || true

# -mode tcp: the backend sees the proxy's own address. -mode unix -proxy-proto: a socket file named after the
# host (or the wildcard "*.test"), and a PROXY v2 header carrying the client's address before the hello.
# The tcp-mode instance takes its mode from a file, so that a reload can try to change it.
printf 'mode = "tcp"\nbackend-cidr = ["2001:db8:1::/64"]\n' >"$TMP/proxy3.toml"
ip netns exec "$PX" "$PROXY" -listen tcp:192.0.2.1:9443 --config "$TMP/proxy3.toml" -backend-port 443 \
  --resolver 127.0.0.1 --max-connections 2 --control-socket "$TMP/control3.sock" >"$TMP/proxy3.log" 2>&1 &
PROXY3_PID=$!
PIDS+=($PROXY3_PID)
# A closed backend port (nothing listens on 444 in the backend namespace).
ip netns exec "$PX" "$PROXY" -listen tcp:192.0.2.1:9445 -nat46-prefix 64:ff9b:1:: -backend-cidr 2001:db8:1::/64 \
  -backend-port 444 --resolver 127.0.0.1 --control-socket "$TMP/control5.sock" >"$TMP/proxy5.log" 2>&1 &
PIDS+=($!)
mkdir -p "$TMP/sockets"
cat >"$TMP/unix_backend.py" <<'PY'
import os, socket, ssl, struct, sys, threading
d = sys.argv[1]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[2] + "/cert.pem", sys.argv[2] + "/key.pem")
def handle(c, label):
    try:
        c.settimeout(5)
        head = b""
        while len(head) < 16: head += c.recv(16 - len(head))
        assert head[:12] == b"\r\n\r\n\x00\r\nQUIT\n", head
        n = struct.unpack("!H", head[14:16])[0]
        body = b""
        while len(body) < n: body += c.recv(n - len(body))
        src = socket.inet_ntop(socket.AF_INET, body[0:4]) if head[13] == 0x11 else "family-%x" % head[13]
        t = ctx.wrap_socket(c, server_side=True)
        t.recv(4096)
        t.sendall(("HTTP/1.0 200 OK\r\n\r\nproxy_v2_src=%s socket=%s\n" % (src, label)).encode())
        t.close()
    except Exception as e:
        print("unix backend:", e, file=sys.stderr)
def serve(name):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(os.path.join(d, name)); s.listen(16)
    while True:
        c, _ = s.accept()
        threading.Thread(target=handle, args=(c, name), daemon=True).start()
for name in ("app.test", "*.test"):
    threading.Thread(target=serve, args=(name,), daemon=True).start()
print("ready", flush=True)
threading.Event().wait()
PY
ip netns exec "$PX" python3 "$TMP/unix_backend.py" "$TMP/sockets" "$TMP" >"$TMP/unix_backend.out" 2>&1 &
PIDS+=($!)
ip netns exec "$PX" "$PROXY" -listen tcp:192.0.2.1:9444 -mode unix -unix-directory "$TMP/sockets" -proxy-proto \
  --control-socket "$TMP/control4.sock" >"$TMP/proxy4.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 50); do
  grep -q listening "$TMP/proxy3.log" && grep -q listening "$TMP/proxy4.log" && grep -q listening "$TMP/proxy5.log" &&
    grep -q ready "$TMP/unix_backend.out" && break
  sleep 0.1
done
out=$(in_cl curl -sk --max-time 10 --resolve app.test:9443:192.0.2.1 https://app.test:9443/ 2>&1 || true)
expect "-mode tcp: the backend sees the proxy's address" "peer=2001:db8:1::1" "$out"
in_cl python3 "$TMP/client.py" flood 9443 2 >/dev/null 2>&1 &
FLOOD_PID=$!
sleep 1
# Both held connections count in `status` (JSON and table) while they wait in their hello.
st=$(ip netns exec "$PX" "$PROXY" status --control-socket "$TMP/control3.sock" --json 2>&1 || true)
if python3 -c 'import json,sys; c=json.loads(sys.argv[1])["connections"]; sys.exit(0 if c == {"active": 2, "max": 2} else 1)' "$st" 2>/dev/null &&
  ip netns exec "$PX" "$PROXY" status --control-socket "$TMP/control3.sock" 2>&1 | grep -q '^connections: 2 open (max 2), '; then
  pass "status: the two held connections show as open, with the maximum"
else
  fail "status while two connections are held: $st"
fi
out=$(in_cl curl -sk --max-time 5 --resolve app.test:9443:192.0.2.1 https://app.test:9443/ 2>&1 || true)
if ! grep -q "peer=" <<<"$out" && log_wait "$TMP/proxy3.log" 'reason=max_connections'; then
  pass "--max-connections 2: a third connection is closed and logged"
else
  fail "--max-connections: $out"
fi
wait "$FLOOD_PID" || true
if grep 'reason=max_connections' "$TMP/proxy3.log" | grep -q 'client=192.0.2.2:.*listener=192.0.2.1:9443.*ms=.*outcome=refused'; then
  pass "access log: a max_connections refusal has the fields of every connection line"
else
  fail "access log: max_connections line: $(grep 'reason=max_connections' "$TMP/proxy3.log" | head -1)"
fi
# A reload that would switch the tcp-mode instance to nat46 mode is refused as a whole: tcp mode keeps working.
printf 'mode = "nat46"\nnat46-prefix = "64:ff9b:1::"\nbackend-cidr = ["2001:db8:1::/64"]\n' >"$TMP/proxy3.toml"
kill -HUP "$PROXY3_PID"
for _ in $(seq 1 50); do grep -q 'reload_refused' "$TMP/proxy3.log" && break; sleep 0.1; done
if grep -q 'reload_refused changed=mode,nat46-prefix' "$TMP/proxy3.log" && ! grep -q 'info reloaded' "$TMP/proxy3.log"; then
  pass "SIGHUP: a mode change is refused with a clear error"
else
  fail "SIGHUP mode change: $(grep -i reload "$TMP/proxy3.log" | tail -2)"
fi
out=$(in_cl curl -sk --max-time 10 --resolve app.test:9443:192.0.2.1 https://app.test:9443/ 2>&1 || true)
expect "after a refused reload, the whole old configuration (tcp mode) still runs" "peer=2001:db8:1::1" "$out"

out=$(client tls app.test 9445)
expect "a closed backend port: the client gets internal_error" "INTERNAL_ERROR" "$out"
log_wait "$TMP/proxy5.log" 'reason="connect_failed:Connection refused"' && pass "access log: connect_failed:Connection refused" ||
  fail "access log lacks connect_failed ($(grep 'event\|connection' "$TMP/proxy5.log" | tail -1))"
# A handshake record of length zero: a malformed hello gets a plain close, nothing sent.
out=$(client raw 9445 1603010000)
expect "a malformed hello over the wire is closed without a reply" "closed got=b''" "$out"
log_wait "$TMP/proxy5.log" 'reason=bad_hello:bad_record' && pass "access log: bad_hello:bad_record" ||
  fail "access log lacks bad_hello:bad_record"
out=$(in_cl curl -sk --max-time 10 --resolve app.test:9444:192.0.2.1 https://app.test:9444/ 2>&1 || true)
expect "-mode unix -proxy-proto: socket app.test, PROXY v2 header with the client address" \
  "proxy_v2_src=192.0.2.2 socket=app.test" "$out"
out=$(in_cl curl -sk --max-time 10 --resolve other.test:9444:192.0.2.1 https://other.test:9444/ 2>&1 || true)
expect "-mode unix: wildcard socket *.test for other.test" "socket=\*.test" "$out"

# SIGTERM: stop accepting at once, let the established connection finish, then exit 0; a connection still open
# at the 3 s drain deadline is stopped and logged.
in_cl python3 "$TMP/client.py" hold "$TMP/go2" >"$TMP/hold2.out" 2>&1 &
HOLD_PID=$!
in_cl python3 "$TMP/client.py" hold "$TMP/go3" >"$TMP/hold3.out" 2>&1 &
HOLD3_PID=$!
for _ in $(seq 1 50); do grep -q handshake_done "$TMP/hold2.out" && grep -q handshake_done "$TMP/hold3.out" && break; sleep 0.1; done
kill -TERM "$PROXY_PID"
for _ in $(seq 1 50); do grep -q 'draining' "$TMP/proxy.log" && break; sleep 0.1; done
out=$(in_cl curl -sk --max-time 3 --resolve app.test:443:192.0.2.1 https://app.test/ 2>&1 || true)
if ! grep -q "peer=" <<<"$out" && kill -0 "$PROXY_PID" 2>/dev/null; then
  pass "SIGTERM: no new connections, still running for the established one"
else
  fail "SIGTERM: new connection got '$out' or the proxy already exited"
fi
touch "$TMP/go2"
wait "$HOLD_PID" || true
expect "SIGTERM: the established connection completes during the drain" "peer=64:ff9b:1::c000:202" "$(cat "$TMP/hold2.out")"
rc=124
for _ in $(seq 1 60); do
  if ! kill -0 "$PROXY_PID" 2>/dev/null; then
    wait "$PROXY_PID" && rc=0 || rc=$?
    break
  fi
  sleep 0.1
done
[ "$rc" = 0 ] && pass "SIGTERM: drained and exited 0" || fail "SIGTERM: exit code $rc"
touch "$TMP/go3"
wait "$HOLD3_PID" || true
if grep -q 'outcome=stopped reason=drain_timeout' "$TMP/proxy.log" && grep -q 'drain_deadline stopped=1' "$TMP/proxy.log"; then
  pass "SIGTERM: the connection left at the drain deadline has its access-log line (outcome=stopped)"
else
  fail "SIGTERM: no stopped line: $(grep -E 'drain|stopped' "$TMP/proxy.log" | tail -3)"
fi

if [ $FAILS -gt 0 ]; then
  for f in proxy.log proxy2.log proxy3.log proxy4.log proxy5.log proxy6.log proxy7.log stall.out vanish.out backend.err unix_backend.out; do
    echo "--- $f"; tail -n 30 "$TMP/$f" 2>/dev/null || true
  done
  echo "$FAILS check(s) failed"
  exit 1
fi
echo "all checks passed"
