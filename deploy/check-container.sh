#!/usr/bin/env bash
# Builds deploy/Dockerfile with podman (no Docker engine needed) and runs the image's entrypoint as its own
# non-root user. Not part of ./run-tests.sh (it takes minutes: a debootstrap'ed base and a full agent build).
# Usage (root, Debian 12): deploy/check-container.sh
set -euo pipefail
cd "$(dirname "$0")/.."
apt-get install -y -q podman debootstrap >/dev/null
rootfs=/var/tmp/sixgate-rootfs-bookworm
if [ ! -x "$rootfs/bin/sh" ]; then
  rm -rf "$rootfs"
  debootstrap --variant=minbase bookworm "$rootfs" >/dev/null
fi
# The debootstrap'ed tree stands in for the base image, so the Dockerfile builds unchanged.
tar -C "$rootfs" -c . | podman import - docker.io/library/debian:bookworm-slim >/dev/null
podman build --pull=never --isolation=chroot -t localhost/sixgate-agent -f deploy/Dockerfile .
mnt=$(podman image mount localhost/sixgate-agent)
trap 'podman image unmount localhost/sixgate-agent >/dev/null' EXIT
version=$(chroot --userspec=10001:10001 "$mnt" /usr/local/bin/sixgate-agent --version)
echo "image runs as uid 10001: $version"
[ "$(stat -c %u "$mnt/var/lib/sixgate")" = 10001 ] || { echo "state dir not owned by the agent user" >&2; exit 1; }
echo "container check passed"
