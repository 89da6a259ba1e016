#!/usr/bin/env bash
# The project's test command (README, "Run it"); CI runs exactly this through .ci/run.
# Needs the Rust toolchain; installs what the tests talk to (Prosody, Cyrus SASL tools) from Debian's packages
# and cargo-fuzz on first use.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== test dependencies"
bash scripts/install-test-deps.sh

echo "== fmt"
cargo fmt --all -- --check
echo "== clippy"
cargo clippy --workspace --all-targets -- -D warnings
echo "== docs (broken or ambiguous links fail)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet
echo "== tests (unit, integration, trybuild UI, doctests)"
cargo test --workspace
echo "== examples"
cargo run -q --example replay > /dev/null
cargo run -q --example demo
echo "== fuzz (bounded)"
bash scripts/fuzz.sh
