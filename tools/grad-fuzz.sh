#!/bin/sh
# The long run of the random-graph gradient checker (tests/randgraph):
#   tools/grad-fuzz.sh [BUILD_DIR] [--count N] [--seed S] [--vulkan] [--save DIR] [--verbose]
# Prints the graphs checked and the mismatches of each kind; exits 1 on any
# mismatch. Shrunk failures go to --save DIR (tests/data/regress/ to keep them).
set -eu
build=build
case "${1:-}" in
  -*|"") ;;
  *) build=$1; shift ;;
esac
exe="$build/tests/randgraph/grad-fuzz"
if [ ! -x "$exe" ]; then
  echo "grad-fuzz.sh: $exe not found (meson setup $build && ninja -C $build)" >&2
  exit 2
fi
# compiled Vulkan kernels cached beside the build, not in the user's cache
export XDG_CACHE_HOME="${XDG_CACHE_HOME:-$build/tests/randgraph/cache}"
exec "$exe" "$@"
