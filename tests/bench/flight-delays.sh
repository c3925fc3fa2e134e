#!/bin/bash
# Where a new connection's latency goes inside the proxy host: runs the shared harness's lat test (200
# sequential TLS connections) for one peer, timestamps every port-443 segment in namespace px
# (packet-times.py) and prints the delays flight-delays.py finds.
# Usage (as root):  tests/bench/flight-delays.sh OUT.txt PEER PROCESS-PATTERN
#   PEER sixgate needs PROXY_CMD and PROXY_EXPECT_SRC set as for run-peers.sh; PROCESS-PATTERN (pgrep -f) finds
#   the peer's process, e.g. 'nginx: worker' for PEER nginx-nat46 (capture starts once it runs in px).
set -euo pipefail
out=$1 peer=$2 pattern=$3
here=$(cd "$(dirname "$0")" && pwd)
bench=${BENCH_DIR:-$(cd "$here/../../../shared/bench" && pwd)}
run=${RUN:-/tmp/sixgate-flight-delays}
. "$here/px-processes.sh"
(cd "$bench" && RUN=$run OUT=$run/out REPS=1 TESTS=lat PEERS="direct $peer" PROXY_NAME=sixgate \
  ./run-peers.sh >"$run.log" 2>&1) &
harness=$!
await_px_pids "$pattern" >/dev/null || { wait $harness; exit 1; }
ip netns exec px python3 "$here/packet-times.py" "$out" &
sniffer=$!
wait $harness
kill -TERM $sniffer; wait $sniffer || true
grep -E "^$peer,.*added_p50" "$run/out/raw.csv" || true
python3 "$here/flight-delays.py" "$out"
