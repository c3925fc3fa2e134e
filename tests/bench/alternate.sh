#!/bin/bash
# Paired comparison of sixgate-proxy binaries: runs the shared harness for each binary in turn, ROUNDS times
# (A B A B …, so a slow host phase hits both), each block with its own paired direct sample, and prints
# sixgate's figures per block; conn/s blocks also get µs of proxy CPU per connection.
# Usage (as root):  tests/bench/alternate.sh ROUNDS BINARY|NAME=COMMAND...
#   TESTS (default "cps"), CPS_SECS (12), EXTRA (more proxy flags) as for run-peers.sh; every binary runs with
#   --workers 1 in NAT46 mode, like the full runs in README.md. NAME=COMMAND runs COMMAND (run-peers.sh's
#   placeholders allowed) in the binary's place, e.g. another proxy with its own configuration.
set -euo pipefail
rounds=$1; shift
bench=${BENCH_DIR:-$(cd "$(dirname "$0")/../../../shared/bench" && pwd)}
run=${RUN:-/tmp/sixgate-alternate}
mkdir -p "$run"
for _ in $(seq 1 "$rounds"); do
  for bin in "$@"; do
    rm -rf "$run/out"
    if [[ $bin == *=* ]]; then
      cmd=${bin#*=} bin=${bin%%=*}
    else
      cmd="$bin -listen tcp:{LISTEN} -mode nat46 -nat46-prefix {NAT46_PREFIX} -backend-cidr 2001:db8:1::/64 --resolver {DNS} --control-socket {RUN}/sixgate-control.sock --workers 1 ${EXTRA:-}"
    fi
    (cd "$bench" && RUN=$run OUT=$run/out REPS=1 TESTS="${TESTS:-cps}" CPS_SECS=${CPS_SECS:-12} \
      PEERS="direct sixgate" PROXY_NAME=sixgate PROXY_EXPECT_SRC=64:ff9b:1::c000:202 \
      PROXY_CMD="$cmd" \
      ./run-peers.sh >"$run/block.log" 2>&1) || { echo "$bin: harness failed, see $run/block.log" >&2; exit 1; }
    awk -F, -v bin="$bin" '$1 == "sixgate" && $3 !~ /^hello:/ && $3 != "backend_saw_src" { v[$3] = $4; line = line " " $3 "=" $4 }
      END { if ("conn_per_s" in v && v["conn_per_s"] > 0) line = line sprintf(" us_per_conn=%.0f", v["cps_proxy_cpu_pct"] * 10000 / v["conn_per_s"])
            print bin line }' "$run/out/raw.csv"
  done
done
