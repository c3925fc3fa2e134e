#!/usr/bin/env bash
# Sets everything up (packages, Release build) and runs the demo on the embedded default configuration
# (deploy/demo/): an IPv4-only client reaches an IPv6-only home service through sixgate-proxy and a WireGuard
# tunnel, the agent keeps a (emulated) RouterOS router's policy routing in step with the home prefix, and both
# sides show their status. Network namespaces only; everything is removed afterwards; about 20 s after the build.
# Usage: sudo ./demo.sh [--no-setup]   (--no-setup: skip ./setup.sh, use the existing build/release)
set -euo pipefail
cd "$(dirname "$0")"

setup=1
for arg in "$@"; do
  case "$arg" in
    --no-setup) setup=0 ;;
    *) echo "demo.sh: unknown argument '$arg' (want --no-setup)" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "demo.sh: needs root (packages, network namespaces); run: sudo ./demo.sh" >&2; exit 1; }

if [ "$setup" = 1 ]; then
  ./setup.sh || { echo "demo.sh: ./setup.sh failed; see above" >&2; exit 1; }
fi
exec deploy/demo/story.sh "$PWD/build/release"
