#!/bin/sh
# Makes the pictures of docs/classroom.md: runs the classroom window tests
# (Xvfb, real input) with GRADUS_CLASSROOM_SHOTS set, which then keep their
# screenshots, and copies the ones the page shows into docs/images/.
# Usage: tools/classroom-shots.sh [BUILD_DIR]   (default: build)
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
GRADUS_CLASSROOM_SHOTS=$tmp meson test -C "$build" test-ui-stepthrough test-ui-presentation test-ui-listing3
for f in stepthrough-forward stepthrough-backward presentation-stepthrough cnn-presentation minimap \
         listing3-built listing3-step; do
  cp "$tmp/$f.png" "$src/docs/images/classroom-$f.png"
done
echo "docs/images/classroom-*.png written"
