#!/usr/bin/env bash
# Sets everything up (packages, Release build) and runs the demo on the embedded default configuration.
set -euo pipefail
cd "$(dirname "$0")"
./setup.sh
exec build/release/proxy/sixgate-proxy --help
