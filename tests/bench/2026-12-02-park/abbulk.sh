#!/bin/bash
# A/B: proxy task-clock over a whole bulk1 test (1 GiB), perf stat attached from start to exit
set -uo pipefail
rounds=$1; shift
bench=/work/shared/bench
. /work/main/tests/bench/px-processes.sh
for r in $(seq 1 $rounds); do
for bin in "$@"; do
  run=/tmp/s13/ab; rm -rf $run; mkdir -p $run
  (cd "$bench" && RUN=$run OUT=$run/out REPS=1 TESTS="${TESTS:-bulk1}" PEERS="sixgate" PROXY_NAME=sixgate PROXY_EXPECT_SRC=64:ff9b:1::c000:202 \
    PROXY_CMD="$bin -listen tcp:{LISTEN} -mode nat46 -nat46-prefix {NAT46_PREFIX} -backend-cidr 2001:db8:1::/64 --resolver {DNS} --workers 1" \
    ./run-peers.sh >/tmp/s13/ab.log 2>&1) &
  h=$!
  pids=""
  for _ in $(seq 1 1200); do pids=$(px_pids "$(basename $bin)"); [ -n "$pids" ] && break; sleep 0.05; done
  perf stat -x, -e task-clock,context-switches,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_splice -p "$pids" -o /tmp/s13/ab.stat 2>/dev/null
  wait $h
  g=$(grep -o "bulk1: [0-9.]* Gbit/s" /tmp/s13/ab.log | head -1)
  awk -F, -v b="$(basename $bin)" -v g="$g" '$1 ~ /^[0-9.]+$/ {v[$3]=$1} END {printf "%s %s cpu_ms=%.0f s_per_gib=%.3f cs=%d epoll_wait=%d splice=%d\n", b, g, v["task-clock"], v["task-clock"]/1000, v["context-switches"], v["syscalls:sys_enter_epoll_wait"], v["syscalls:sys_enter_splice"]}' /tmp/s13/ab.stat
done
done
