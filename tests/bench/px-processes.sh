# Sourced by the bench scripts here. px_pids PATTERN prints the ids of the processes whose command line matches
# PATTERN (pgrep -f) and that run in the harness's namespace px, comma-separated; nothing if there are none.
px_pids() {
  local p pids=""
  for p in $(pgrep -f "$1" || true); do
    [ "$(ip netns identify "$p" 2>/dev/null)" = px ] && pids="${pids:+$pids,}$p"
  done
  echo "$pids"
}

# await_px_pids PATTERN: px_pids PATTERN, polled every 50 ms for at most 60 s (the paired direct sample runs
# first, then the peer starts); prints the ids, or fails saying what it waited for.
await_px_pids() {
  local pids="" _
  for _ in $(seq 1 1200); do
    pids=$(px_pids "$1")
    [ -n "$pids" ] && { echo "$pids"; return 0; }
    sleep 0.05
  done
  echo "no process matching '$1' in namespace px" >&2
  return 1
}
