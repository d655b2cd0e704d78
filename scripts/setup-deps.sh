#!/usr/bin/env bash
# scripts/setup-deps.sh: installs what roadlog needs to build and test on
# Debian 12 (bookworm), and nothing when it is all there already. Runs apt
# through sudo unless already root. python3 is used only by the tests.
set -euo pipefail

PACKAGES=(
    build-essential cmake ninja-build pkg-config clang
    libzstd-dev liblz4-dev libpcap-dev libcmocka-dev
    libsdl2-dev libsdl2-ttf-dev fonts-dejavu-core
    zstd python3 iproute2 util-linux tshark
)

missing=()
for p in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "setup-deps: all ${#PACKAGES[@]} packages present"
    exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || {
        echo "setup-deps: need root or sudo to install: ${missing[*]}" >&2
        exit 2
    }
    sudo=(sudo)
fi
echo "setup-deps: installing ${missing[*]}"
"${sudo[@]}" apt-get update
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${missing[@]}"
