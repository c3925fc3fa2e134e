#!/usr/bin/env bash
# Installs every Debian package sixgate needs (build, tests, benchmarks) and builds both binaries in Release.
# Idempotent; run as root on Debian 12. Usage: ./setup.sh [--no-build] [--bench]
set -euo pipefail
cd "$(dirname "$0")"

build=1
bench=0
for arg in "$@"; do
  case "$arg" in
    --no-build) build=0 ;;
    --bench) bench=1 ;;
    *) echo "setup.sh: unknown argument '$arg' (want --no-build or --bench)" >&2; exit 2 ;;
  esac
done

packages=(
  # build
  build-essential cmake ninja-build pkg-config clang clang-format libclang-rt-14-dev
  # libraries
  libboost-dev libc-ares-dev libcurl4-openssl-dev nlohmann-json3-dev libnl-3-dev libnl-route-3-dev
  libspdlog-dev catch2 libssl-dev libtomlplusplus-dev libcli11-dev
  # test peers and tools
  iproute2 iputils-ping wireguard-go wireguard-tools dnsmasq-base radvd openssl python3 curl procps psmisc
)
if [ "$bench" = 1 ]; then
  packages+=(nginx libnginx-mod-stream haproxy sniproxy wrk linux-perf)  # perf: count-syscalls.sh, bulk-cpu.sh
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup.sh: packages missing (${missing[*]}); run as root to install them" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if [ "$build" = 1 ]; then
  cmake --preset release >/dev/null
  cmake --build --preset release --target sixgate-proxy sixgate-agent
  echo "setup.sh: built build/release/proxy/sixgate-proxy and build/release/agent/sixgate-agent"
fi
