#!/bin/sh
# Installs the dependencies, builds Gradus in build/ and runs every test, then
# prints one line "N passed, N failed" that counts every TAP subtest of every
# test (a test that does not speak TAP counts as one). Exit status 1 on any
# failure. Run from anywhere, as root or as a user with sudo (install-deps.sh
# installs what is missing either way).
#
# tools/test.sh --sanitize does the same in build-sanitize/, built with
# AddressSanitizer and UndefinedBehaviorSanitizer: any report fails the test
# (leaks in libraries outside Gradus are suppressed, tools/sanitize/lsan.supp).
set -u

cd "$(dirname "$0")/.." || exit 1

build=build
setup_args=""
timeout_multiplier=1
if [ "${1:-}" = "--sanitize" ]; then
  build=build-sanitize
  setup_args="-Db_sanitize=address,undefined -Db_lundef=false"
  timeout_multiplier=4
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1"
  export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
  export LSAN_OPTIONS="suppressions=$(pwd)/tools/sanitize/lsan.supp:print_suppressions=0"
fi

if [ "$(id -u)" -eq 0 ]; then
  sh tools/install-deps.sh || exit 1
else
  sh tools/install-deps.sh || echo "test.sh: going on without installing" >&2
fi

# shellcheck disable=SC2086
if [ -d "$build" ] && [ -f "$build/build.ninja" ]; then
  meson setup --reconfigure $setup_args "$build" || exit 1
else
  meson setup $setup_args "$build" || exit 1
fi
ninja -C "$build" || { echo "0 passed, 1 failed"; exit 1; }

meson test -C "$build" --print-errorlogs --num-processes 2 --timeout-multiplier "$timeout_multiplier"
status=$?

python3 tools/count-tests.py "$build/meson-logs/testlog.json" || status=1
exit $status
