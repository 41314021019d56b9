#!/usr/bin/env bash
# A short libFuzzer campaign per fuzz target, AddressSanitizer on (the
# cargo-fuzz default): `fuzz/campaign.sh [seconds-per-target]` (default 60).
# Prints `SKIP: fuzz campaign (reason)` and exits 0 when nightly or cargo-fuzz
# is missing; exits non-zero when a target crashes, leaks, hangs or fails to
# build. New corpus entries go to fuzz/corpus/<target> (not committed); the
# committed seeds and regressions are read as extra corpora.
set -euo pipefail

seconds="${1:-60}"
case "$seconds" in
'' | *[!0-9]*)
	echo "usage: $0 [seconds-per-target]" >&2
	exit 2
	;;
esac
cd "$(dirname "$0")"

skip() {
	echo "SKIP: fuzz campaign ($1)"
	exit 0
}

command -v cargo >/dev/null 2>&1 || skip "cargo not found"
cargo +nightly --version >/dev/null 2>&1 || skip "no nightly toolchain: rustup toolchain install nightly"
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
	echo "cargo-fuzz not found: cargo install cargo-fuzz --locked"
	cargo install cargo-fuzz --locked >/dev/null 2>&1 ||
		skip "cargo-fuzz missing and cargo install cargo-fuzz --locked failed"
	cargo +nightly fuzz --version >/dev/null 2>&1 || skip "cargo-fuzz installed but not runnable"
fi

cargo +nightly fuzz build
for target in $(cargo +nightly fuzz list); do
	mkdir -p "corpus/$target"
	corpora=("corpus/$target")
	for extra in "seeds/$target" "regressions/$target"; do
		if [ -d "$extra" ]; then corpora+=("$extra"); fi
	done
	echo "== fuzz $target for ${seconds}s"
	# -timeout: every wait a target makes ends, so an input running for 30 s
	# is a hang, reported as a crash.
	if ! cargo +nightly fuzz run "$target" "${corpora[@]}" -- \
		-max_total_time="$seconds" -timeout=30 -print_final_stats=1; then
		echo "FAIL: fuzz target $target crashed; the input is under fuzz/artifacts/$target/" >&2
		echo "      (fuzz/README.md says how to minimise it into fuzz/regressions/$target/)" >&2
		exit 1
	fi
done
echo "fuzz campaign: ${seconds}s per target, no crash"
