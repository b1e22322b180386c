#!/usr/bin/env bash
# Install the named Debian packages that are not installed yet.
#
#   scripts/apt-ensure.sh PKG [PKG...]
#
# Does nothing (and needs no privileges) when every package is already
# installed. Otherwise runs `apt-get update` once and `apt-get install` for the
# missing ones, as root directly or through sudo, non-interactively, waiting for
# the dpkg lock when another apt is running.
set -euo pipefail

installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q ' ok installed$'
}

missing=()
for pkg in "$@"; do
    installed "$pkg" || missing+=("$pkg")
done
[ "${#missing[@]}" -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
    echo "apt-ensure: apt-get not found; install these packages by hand: ${missing[*]}" >&2
    exit 1
fi

SUDO=()
if [ "$(id -u)" != 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
        echo "apt-ensure: need root or sudo to install: ${missing[*]}" >&2
        exit 1
    fi
    SUDO=(sudo)
fi

# Wait up to 15 minutes for a running apt/dpkg (e.g. unattended upgrades).
APT=("${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900)

echo "apt-ensure: installing ${missing[*]}"
# `apt-get update` does not always honour DPkg::Lock::Timeout for the lists
# lock, so retry it a few times.
for attempt in 1 2 3 4 5 6; do
    if "${APT[@]}" update -q; then
        break
    fi
    if [ "$attempt" -eq 6 ]; then
        echo "apt-ensure: apt-get update failed" >&2
        exit 1
    fi
    echo "apt-ensure: apt-get update failed (attempt $attempt), retrying in 10s" >&2
    sleep 10
done

"${APT[@]}" install -y -q "${missing[@]}"

still=()
for pkg in "${missing[@]}"; do
    installed "$pkg" || still+=("$pkg")
done
if [ "${#still[@]}" -ne 0 ]; then
    echo "apt-ensure: still not installed: ${still[*]}" >&2
    exit 1
fi
