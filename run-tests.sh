#!/usr/bin/env bash
# The whole test suite: unit and integration tests in the Release build (gcc), then every unit test again under
# ASan+UBSan in the clang build that also holds the libFuzzer targets, then bounded fuzz runs. One sanitizer
# build serves both, so the libraries are compiled twice, not three times. Needs root for the network-namespace
# tests. Usage: ./run-tests.sh [--quick]
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

build() {  # preset
  echo "== $1: configure and build"
  cmake --preset "$1" >/dev/null
  cmake --build --preset "$1" -j "$jobs"
}

run_tests() {  # preset, ctest label regex (empty = all)
  echo "== $1: tests${2:+ labelled $2}"
  local args=(--test-dir "build/$1" --output-on-failure -j "$jobs" --timeout 300)
  [ -n "$2" ] && args+=(-L "$2")
  ctest "${args[@]}" || status=1
}

build release
run_tests release ""
if [ "$quick" = 0 ]; then
  build sanitize
  run_tests sanitize unit
  run_tests sanitize fuzz  # after the unit tests, so no fuzzer competes with their timers for a core
fi
exit $status
