#!/bin/sh
# Installs what Gradus needs to build and test on Debian 12, skipping what is
# already installed. Run as root (or with sudo); as another user it only
# reports what is missing.
set -eu

PACKAGES="
  meson ninja-build pkg-config gcc clang
  libglib2.0-dev libjson-glib-dev libopenblas-dev
  libgtk-4-dev libadwaita-1-dev
  xvfb xauth dbus-x11 at-spi2-core
  libxtst6
  libvulkan-dev mesa-vulkan-drivers glslang-dev glslang-tools spirv-tools
  vulkan-validationlayers
  python3 python3-numpy
  libprotobuf-c-dev protobuf-c-compiler python3-onnx python3-torch nodejs
"

# ONNX Runtime for the interchange tests, from npm into tests/interchange/
# (gitignored): its package holds the Linux x64 library; --ignore-scripts
# skips the install script, which only fetches GPU parts from outside.
install_onnxruntime () {
  dir="$(dirname "$0")/../tests/interchange"
  [ -d "$dir/node_modules/onnxruntime-node" ] && return 0
  if ! command -v npm >/dev/null 2>&1; then
    [ "$(id -u)" -eq 0 ] || { echo "install-deps: npm is missing" >&2; return 1; }
    apt-get install -y -q npm || return 1
  fi
  echo "install-deps: npm install onnxruntime-node (tests/interchange)"
  (cd "$dir" \
     && npm install --ignore-scripts --no-audit --no-fund --loglevel=error)
}

missing=""
for p in $PACKAGES; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done

if [ -z "$missing" ]; then
  echo "install-deps: everything is installed"
  install_onnxruntime
  exit $?
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
install_onnxruntime
