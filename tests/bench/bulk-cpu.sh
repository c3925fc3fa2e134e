#!/bin/bash
# Proxy CPU per GiB of one bulk download, counted precisely: runs the shared harness's bulk1 test (one 1 GiB
# download through the peer) for each peer in turn, ROUNDS times, and counts the peer's CPU time with
# `perf stat -e task-clock` over the whole peer block. The harness's own figure samples the kernel's tick
# accounting (250 Hz here, one 4 ms tick charged to whoever runs when it fires, reported in 10 ms units): at
# ~0.15 s/GiB that is ~37 samples, so one figure has a sampling error of about ±16 %. task-clock adds up the
# nanoseconds the peer's threads ran (softirq work done on their time included, as in the tick count); the
# system calls the peer made are counted beside it (raw_syscalls:sys_enter). The
# block also holds the peer's start and the harness's one small check request, so the figure is an upper bound
# by that much.
# Usage (as root):  tests/bench/bulk-cpu.sh ROUNDS PEER=PROCESS-PATTERN...
#   e.g. sixgate=sixgate-proxy haproxy-splice-forced=haproxy 'nginx-nat46=nginx: '; PEER sixgate needs
#   PROXY_CMD and PROXY_EXPECT_SRC set as for run-peers.sh.
set -euo pipefail
rounds=$1; shift
here=$(cd "$(dirname "$0")" && pwd)
bench=${BENCH_DIR:-$(cd "$here/../../../shared/bench" && pwd)}
run=${RUN:-/tmp/sixgate-bulk-cpu}
. "$here/px-processes.sh"
mkdir -p "$run"
for _ in $(seq 1 "$rounds"); do
  for spec in "$@"; do
    peer=${spec%%=*} pattern=${spec#*=}
    rm -rf "$run/out"
    (cd "$bench" && RUN=$run OUT=$run/out REPS=1 TESTS=bulk1 PEERS="direct $peer" PROXY_NAME=sixgate \
      ./run-peers.sh >"$run/block.log" 2>&1) &
    harness=$!
    pids=$(await_px_pids "$pattern") || { wait $harness; exit 1; }
    perf stat -x, -e task-clock,raw_syscalls:sys_enter -p "$pids" -o "$run/perf.txt" &  # ends when the peer's processes do
    counter=$!
    wait $harness || { echo "$peer: harness failed, see $run/block.log" >&2; exit 1; }
    wait $counter || true
    awk -F, -v peer="$peer" -v raw="$run/out/raw.csv" '
      $3 == "task-clock" { ms = $1 }
      $3 == "raw_syscalls:sys_enter" { calls = $1 }
      END {
        while ((getline line < raw) > 0) {
          split(line, f, ",")
          if (f[1] == peer && f[3] == "bulk1_cpu_s_per_gib") ticks = f[4]
          if (f[1] == peer && f[3] == "bulk1_vs_direct") ratio = f[4]
        }
        printf "%s task_clock_s_per_gib=%.3f syscalls_per_gib=%d harness_s_per_gib=%s bulk1_vs_direct=%s\n", peer,
               ms / 1000, calls, ticks, ratio
      }' "$run/perf.txt"
  done
done
