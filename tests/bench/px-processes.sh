# Sourced by the bench scripts here. px_pids PATTERN prints the ids of the processes whose command line matches
# PATTERN (pgrep -f) and that run in the harness's namespace px, comma-separated; nothing if there are none.
px_pids() {
  local p pids=""
  for p in $(pgrep -f "$1" || true); do
    [ "$(ip netns identify "$p" 2>/dev/null)" = px ] && pids="${pids:+$pids,}$p"
  done
  echo "$pids"
}
