#!/bin/bash
# perf record the proxy during a conn/s run for 5 s
set -euo pipefail
bin=$1 out=$2
bench=/work/shared/bench
run=/tmp/s13/pr
mkdir -p $run
. /work/main/tests/bench/px-processes.sh
(cd "$bench" && RUN=$run OUT=$run/out REPS=1 TESTS=bulk1 PEERS="sixgate" PROXY_NAME=sixgate PROXY_EXPECT_SRC=64:ff9b:1::c000:202 \
  PROXY_CMD="$bin -listen tcp:{LISTEN} -mode nat46 -nat46-prefix {NAT46_PREFIX} -backend-cidr 2001:db8:1::/64 --resolver {DNS} --workers 1" \
  ./run-peers.sh >/tmp/s13/pr.log 2>&1) &
h=$!
pids=""
for _ in $(seq 1 1200); do pids=$(px_pids "$(basename $bin)"); [ -n "$pids" ] && pgrep -x curl >/dev/null && break; sleep 0.1; done
sleep 0.3
timeout 0.6 strace -f -tt -p "${pids%%,*}" -o "$out" || true
wait $h
