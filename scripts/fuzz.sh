#!/usr/bin/env bash
# Bounded fuzzing run of the receive path (StreamParser → Xec::dispatch): fuzz/fuzz_targets/stream.rs.
# FUZZ_SECONDS (default 60) bounds the run. Exits non-zero if the fuzzer finds a crash; the input is left in
# fuzz/artifacts/stream/ (reproduce: cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run stream <file>).
# Stable toolchain: RUSTC_BOOTSTRAP=1 lets it accept the -Z flags cargo-fuzz passes.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

if ! cargo fuzz --help > /dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

# The committed seeds stay pristine: the fuzzer writes new inputs into a scratch copy.
corpus="$(mktemp -d "${TMPDIR:-/tmp}/moxl-fuzz-corpus.XXXXXX")"
log="$(mktemp "${TMPDIR:-/tmp}/moxl-fuzz-log.XXXXXX")"
trap 'rm -rf "$corpus" "$log"' EXIT
cp seeds/* "$corpus"/

export RUSTC_BOOTSTRAP=1
echo "fuzz: building"
cargo fuzz build stream
echo "fuzz: running stream for ${FUZZ_SECONDS:-60}s"
set +e
cargo fuzz run stream "$corpus" -- \
    -max_total_time="${FUZZ_SECONDS:-60}" -rss_limit_mb=2048 -dict=xmpp.dict -print_final_stats=1 \
    2>&1 | tee "$log"
status="${PIPESTATUS[0]}"
set -e

runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
speed="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)"
if [ "$status" -ne 0 ]; then
    echo "fuzz: CRASH (exit $status) after ${runs:-?} runs; see fuzz/artifacts/stream/" >&2
    exit "$status"
fi
echo "fuzz: ${runs:-?} runs (${speed:-?} exec/s), no crash"
