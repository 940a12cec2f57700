#!/bin/sh
# Installs what Gradus needs to build and test on Debian 12, skipping what is
# already installed. As root it runs apt-get itself (Debian's container images
# have no sudo); as another user it goes through sudo; with neither it says
# what to install and fails.
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
  libprotobuf-c-dev protobuf-c-compiler python3-onnx python3-torch nodejs
  desktop-file-utils appstream libglib2.0-bin shared-mime-info xdg-utils
  gobject-introspection libgirepository1.0-dev python3-gi gir1.2-json-1.0
  gettext man-db
"

# ONNX Runtime for the interchange tests, from npm into tests/interchange/
# (gitignored): its package holds the Linux x64 library; --ignore-scripts
# skips the install script, which only fetches GPU parts from outside.
install_onnxruntime () {
  dir="$(dirname "$0")/../tests/interchange"
  [ -d "$dir" ] || return 0   # a copy of the scripts without the tests
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

if [ "$(id -u)" -eq 0 ]; then
  as_root=""
elif command -v sudo >/dev/null 2>&1; then
  as_root="sudo"
else
  echo "install-deps: missing:$missing" >&2
  echo "install-deps: not root and no sudo; as root, run:" >&2
  echo "  apt-get update && apt-get install -y$missing" >&2
  exit 1
fi

echo "install-deps: installing$missing"
# shellcheck disable=SC2086
$as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
# shellcheck disable=SC2086
$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing
install_onnxruntime
