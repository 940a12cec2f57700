#!/bin/sh
# Installs the dependencies, builds Gradus in build/ and runs every test, then
# prints one line "N passed, N failed" that counts every TAP subtest of every
# test (a test that does not speak TAP counts as one). Exit status 1 on any
# failure. Run from anywhere, as root or as a user with sudo (install-deps.sh
# installs what is missing either way).
set -u

cd "$(dirname "$0")/.." || exit 1

if [ "$(id -u)" -eq 0 ]; then
  sh tools/install-deps.sh || exit 1
else
  sh tools/install-deps.sh || echo "test.sh: going on without installing" >&2
fi

if [ -d build ] && [ -f build/build.ninja ]; then
  meson setup --reconfigure build || exit 1
else
  meson setup build || exit 1
fi
ninja -C build || { echo "0 passed, 1 failed"; exit 1; }

meson test -C build --print-errorlogs --num-processes 2
status=$?

python3 tools/count-tests.py build/meson-logs/testlog.json || status=1
exit $status
