#!/bin/sh
# Installs what Gradus needs to build and test on Debian 12, skipping what is
# already installed. Run as root (or with sudo); as another user it only
# reports what is missing.
set -eu

PACKAGES="
  meson ninja-build pkg-config gcc clang libclang-rt-14-dev
  libglib2.0-dev libjson-glib-dev libopenblas-dev
  libgtk-4-dev libadwaita-1-dev
  xvfb xauth dbus-x11 at-spi2-core
  libxtst6
  libvulkan-dev mesa-vulkan-drivers glslang-dev glslang-tools spirv-tools
  vulkan-validationlayers
  python3 python3-numpy
"

missing=""
for p in $PACKAGES; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done

if [ -z "$missing" ]; then
  echo "install-deps: everything is installed"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing:$missing" >&2
  echo "install-deps: run as root (sudo $0) to install them" >&2
  exit 1
fi

echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q $missing
