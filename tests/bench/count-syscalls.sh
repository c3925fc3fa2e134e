#!/bin/bash
# Syscalls per proxied connection: runs the shared harness's conn/s test (wrk, one TLS connection per request)
# for one peer and counts the proxy's system calls, context switches and CPU time with `perf stat` (syscall
# tracepoints) for 5 s in the middle of it. Not strace: it slows the proxy enough that more events arrive per
# wake-up, which hid about a third of the calls (sixgate: 35.8 per connection counted with strace, 50.8 here).
# Usage (as root):  tests/bench/count-syscalls.sh OUT.txt PEER [PROCESS-PATTERN]
#   PEER sixgate needs PROXY_CMD and PROXY_EXPECT_SRC set as for run-peers.sh; PROCESS-PATTERN (pgrep -f) picks the proxy's
#   processes inside namespace px, e.g. 'nginx: worker process' for PEER nginx. Prints each call's count per
#   accepted connection (accept/accept4 calls that returned a socket), and the TCP segments namespace px sent.
set -euo pipefail
out=$1 peer=$2 pattern=${3:-sixgate-proxy}
bench=${BENCH_DIR:-$(cd "$(dirname "$0")/../../../shared/bench" && pwd)}
run=${RUN:-/tmp/sixgate-syscalls}
. "$(dirname "$0")/px-processes.sh"
(cd "$bench" && RUN=$run OUT=$run/out REPS=1 TESTS=cps CPS_SECS=12 PEERS="direct $peer" PROXY_NAME=sixgate \
  ./run-peers.sh >"$run.log" 2>&1) &
harness=$!
pids=""
for _ in $(seq 1 240); do  # bounded: 2 minutes for the paired direct sample and the peer to start
  pids=$(px_pids "$pattern")
  [ -n "$pids" ] && pgrep -x wrk >/dev/null && break
  sleep 0.5
done
[ -n "$pids" ] || { echo "no process matching '$pattern' in namespace px" >&2; wait $harness; exit 1; }
sleep 2
# TCP segments the proxy host sends per connection it accepts (every socket in px is the proxy's), from its
# namespace's TCP MIB over the same stretch: perf takes a while to start, so not per accept counted above.
tcp_mib() {
  ip netns exec px awk '$1 == "Tcp:" && !n++ { for (i = 2; i <= NF; i++) col[$i] = i; next }
                        $1 == "Tcp:" { print $col["PassiveOpens"], $col["OutSegs"] }' /proc/net/snmp
}
read -r opens_before segs_before < <(tcp_mib)
perf stat -x, -e 'raw_syscalls:sys_enter,context-switches,task-clock,syscalls:sys_enter_*' \
  -e syscalls:sys_exit_accept --filter 'ret >= 0' -e syscalls:sys_exit_accept4 --filter 'ret >= 0' \
  -p "$pids" -o "$out" -- sleep 5
read -r opens_after segs_after < <(tcp_mib)
segs_per_conn=$(awk -v s=$((segs_after - segs_before)) -v o=$((opens_after - opens_before)) \
  'BEGIN { printf "%.2f", o ? s / o : 0 }')
wait $harness
grep -E "^\| (direct|$peer) " "$run.log" | tail -2
awk -F, -v segs_per_conn="$segs_per_conn" '$1 ~ /^[0-9.]+$/ { v[$3] = $1 }
     END {
       conns = v["syscalls:sys_exit_accept"] + v["syscalls:sys_exit_accept4"]
       if (conns == 0) { print "no accepted connections counted"; exit 1 }
       printf "per accepted connection (%d): syscalls %.1f, context switches %.2f, CPU %.0f us, TCP segments out %s;",
         conns, v["raw_syscalls:sys_enter"] / conns, v["context-switches"] / conns, v["task-clock"] * 1000 / conns,
         segs_per_conn
       for (n in v) if (n ~ /^syscalls:sys_enter_/ && v[n] > 0) {
         name = n; sub(/^syscalls:sys_enter_/, "", name); printf " %s %.1f", name, v[n] / conns
       }
       print ""
     }' "$out"
