#!/usr/bin/env bash
# The whole test suite: unit and integration tests (Release), unit tests under ASan+UBSan, and bounded
# libFuzzer runs. Needs root for the network-namespace tests. Usage: ./run-tests.sh [--quick]
#   --quick  Release tests only (no sanitizer or fuzz build)
set -euo pipefail
cd "$(dirname "$0")"
quick=0
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    *) echo "run-tests.sh: unknown argument '$arg' (want --quick)" >&2; exit 2 ;;
  esac
done

./setup.sh --no-build
jobs=$(nproc)
status=0

run_suite() {  # preset, ctest label regex (empty = all)
  local preset=$1 labels=$2
  echo "== $preset: configure and build"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$jobs"
  echo "== $preset: tests"
  local args=(--test-dir "build/$preset" --output-on-failure -j "$jobs" --timeout 300)
  [ -n "$labels" ] && args+=(-L "$labels")
  ctest "${args[@]}" || status=1
}

run_suite release ""
if [ "$quick" = 0 ]; then
  run_suite asan "unit"
  echo "== fuzz: build and bounded runs"
  cmake --preset fuzz >/dev/null
  cmake --build --preset fuzz -j "$jobs" --target fuzz_targets
  ctest --test-dir build/fuzz --output-on-failure -j "$jobs" -L fuzz || status=1
fi
exit $status
