#!/bin/bash
# Syscalls per proxied connection: runs the shared harness's conn/s test (wrk, one TLS connection per request)
# for one peer and counts the proxy's system calls with `strace -c` for 5 s in the middle of it.
# Usage (as root):  tests/bench/count-syscalls.sh OUT.txt PEER [PROCESS-PATTERN]
#   PEER sixgate needs PROXY_CMD and PROXY_EXPECT_SRC set as for run-peers.sh; PROCESS-PATTERN (pgrep -f) picks the proxy's
#   processes inside namespace px, e.g. 'nginx: worker process' for PEER nginx. Prints each call's count per
#   accepted connection (accept/accept4 calls minus their errors).
set -euo pipefail
out=$1 peer=$2 pattern=${3:-sixgate-proxy}
bench=${BENCH_DIR:-$(cd "$(dirname "$0")/../../../shared/bench" && pwd)}
run=${RUN:-/tmp/sixgate-syscalls}
(cd "$bench" && RUN=$run OUT=$run/out REPS=1 TESTS=cps CPS_SECS=12 PEERS="direct $peer" PROXY_NAME=sixgate \
  ./run-peers.sh >"$run.log" 2>&1) &
harness=$!
pids=""
for _ in $(seq 1 240); do  # bounded: 2 minutes for the paired direct sample and the peer to start
  pids=""
  for p in $(pgrep -f "$pattern" || true); do
    [ "$(ip netns identify "$p" 2>/dev/null)" = px ] && pids="$pids -p $p"
  done
  [ -n "$pids" ] && pgrep -x wrk >/dev/null && break
  sleep 0.5
done
[ -n "$pids" ] || { echo "no process matching '$pattern' in namespace px" >&2; wait $harness; exit 1; }
sleep 2
# shellcheck disable=SC2086
timeout -s INT 5 strace -c -f $pids -o "$out" || true
wait $harness
grep -E "^\| (direct|$peer) " "$run.log" | tail -2
awk '$1 ~ /^[0-9.]+$/ && $4 ~ /^[0-9]+$/ {
       name = $NF; calls[name] = $4; errs[name] = (NF == 6 ? $5 : 0)
       if (name == "accept" || name == "accept4") conns += $4 - errs[name]
     }
     END {
       if (conns == 0) { print "no accepted connections counted"; exit 1 }
       printf "per accepted connection (%d): total %.1f", conns, calls["total"] / conns
       for (n in calls) if (n != "total") printf ", %s %.1f", n, calls[n] / conns
       print ""
     }' "$out"
