#!/usr/bin/env bash
# Bounded fuzzing run of the receive path: fuzz/fuzz_targets/stream.rs (StreamParser → Xec::dispatch, round trip
# judged by strict parsers) and fuzz/fuzz_targets/chunking.rs (whole feed == byte at a time == random chunkings).
# FUZZ_SECONDS (default 60) bounds the whole run: two thirds for `stream`, one third for `chunking`. Exits non-zero
# if the fuzzer finds a crash; the input is left in fuzz/artifacts/<target>/ (reproduce:
# cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run <target> <file>). A longer campaign: see fuzz/README.md.
# Stable toolchain: RUSTC_BOOTSTRAP=1 lets it accept the -Z flags cargo-fuzz passes.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

if ! cargo fuzz --help > /dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

total="${FUZZ_SECONDS:-60}"
# Inputs up to 16 KiB; `$*k` repetitions in them reach the parser's real limits (64 KiB tags, 1 MiB stanzas).
max_len="${FUZZ_MAX_LEN:-16384}"

# The committed seeds stay pristine: the fuzzer writes new inputs into a scratch copy.
scratch="$(mktemp -d "${TMPDIR:-/tmp}/moxl-fuzz.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT

export RUSTC_BOOTSTRAP=1
echo "fuzz: building"
cargo fuzz build stream
cargo fuzz build chunking

# run TARGET SECONDS SEEDS_DIR
run() {
    local target="$1" seconds="$2" corpus="$scratch/corpus-$1" log="$scratch/log-$1"
    mkdir -p "$corpus"
    cp "$3"/* "$corpus"/
    echo "fuzz: running $target for ${seconds}s"
    set +e
    cargo fuzz run "$target" "$corpus" -- \
        -max_total_time="$seconds" -max_len="$max_len" -rss_limit_mb=2048 -dict=xmpp.dict -print_final_stats=1 \
        2>&1 | tee "$log"
    local status="${PIPESTATUS[0]}"
    set -e
    local runs speed
    runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
    speed="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)"
    if [ "$status" -ne 0 ]; then
        echo "fuzz: $target CRASH (exit $status) after ${runs:-?} runs; see fuzz/artifacts/$target/" >&2
        exit "$status"
    fi
    echo "fuzz: $target ${runs:-?} runs (${speed:-?} exec/s), no crash"
}

run stream $((total * 2 / 3)) seeds
run chunking $((total - total * 2 / 3)) seeds-chunking
