#!/bin/sh
# Runs one libFuzzer target for a while: tools/fuzz.sh TARGET SECONDS
#   TARGET: document, run, npy, csv or feed (tests/fuzz/meson.build says what each reads)
#   FUZZ_TIMEOUT: seconds one input may take (default 10; raise it on a loaded machine)
# Builds build-fuzz/ with clang, AddressSanitizer and UBSan, the engine
# instrumented for coverage; fuzzes from the seed corpus in tests/fuzz/corpus
# (plus the examples and test data) with the target's dictionary. New inputs
# go to build-fuzz/fuzz-corpus/TARGET, crashes to build-fuzz/fuzz-findings/
# TARGET: copy a finding into tests/fuzz/reproducers/TARGET once fixed, and
# the test suite replays it from then on.
set -eu
cd "$(dirname "$0")/.."

target=${1:-}
seconds=${2:-60}
case "$target" in
  document|run|npy|csv|feed) ;;
  *) echo "usage: tools/fuzz.sh document|run|npy|csv|feed SECONDS" >&2; exit 2 ;;
esac

if [ ! -f build-fuzz/build.ninja ]; then
  CC=clang meson setup build-fuzz -Db_sanitize=address,undefined -Db_lundef=false \
    -Dc_args=-fsanitize=fuzzer-no-link -Dbuildtype=debugoptimized >/dev/null
fi
ninja -C build-fuzz "tests/fuzz/fuzz-$target" >/dev/null

corpus=build-fuzz/fuzz-corpus/$target
findings=build-fuzz/fuzz-findings/$target
mkdir -p "$corpus" "$findings"
seeds="tests/fuzz/corpus/$target tests/fuzz/reproducers/$target"
case "$target" in
  document) seeds="$seeds tests/data data/examples" ;;
  run) seeds="$seeds data/examples" ;;
  npy) seeds="$seeds tests/data" ;;
esac

# Undefined behaviour is a finding like a crash; leaks are reported at exit.
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export GRADUS_MEMORY_LIMIT=64M
# Data files named by fuzzed inputs are looked up from here (and below).
workdir=$(pwd)
cd "tests/fuzz/corpus/$target"
# shellcheck disable=SC2086
"$workdir/build-fuzz/tests/fuzz/fuzz-$target" \
  -max_total_time="$seconds" -timeout="${FUZZ_TIMEOUT:-10}" -rss_limit_mb=2048 -max_len=65536 \
  -dict="$workdir/tests/fuzz/dict/$target.dict" -artifact_prefix="$workdir/$findings/" \
  -print_final_stats=1 "$workdir/$corpus" $(for s in $seeds; do printf '%s ' "$workdir/$s"; done)
