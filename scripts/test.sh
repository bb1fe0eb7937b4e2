#!/usr/bin/env bash
# The project's whole test run: what CI runs, and what to run before a commit.
#
#   scripts/test.sh            everything
#   scripts/test.sh --quick    skip the Autobahn conformance runs
#
# It installs what it needs on a fresh Debian machine (rustfmt and clippy
# components, Autobahn|Testsuite in .autobahn/, Chromium and nginx from
# Debian, npm packages), so a clean clone passes with
# nothing installed by hand.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

quick=false
[[ "${1:-}" == "--quick" ]] && quick=true

# The disk a run takes: a fresh run builds the workspace for tests, for
# several feature sets and in release. Incremental state (which a one-time
# build never reuses) and full debug info in the test builds took about
# 4.4 GB and 4 GB of the 14 GB that target/ reached; line tables still give
# a failing test's backtrace its files and lines.
export CARGO_INCREMENTAL=0
export CARGO_PROFILE_DEV_DEBUG=line-tables-only
export CARGO_PROFILE_TEST_DEBUG=line-tables-only

# Each step says how much disk is left, so that a step that fails for want
# of it (a link, say) shows it, and when it started (seconds into the run),
# so that the slow ones show.
step() { printf '\n==> %s (at %ds; disk free: %s)\n' "$*" "$SECONDS" "$(df -h --output=avail . | tail -1 | tr -d ' ')"; }

step "toolchain components"
rustup component add rustfmt clippy >/dev/null 2>&1 || true

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy (warnings denied)"
cargo clippy --workspace --all-targets -- -D warnings

step "cargo clippy: the facade with axum (the axum example and its test)"
cargo clippy -p sockway --features axum --all-targets -- -D warnings

step "cargo clippy: the facade with tls; adapter-core and the adapters without it (the workspace builds them with it)"
cargo clippy -p sockway --features tls --all-targets -- -D warnings
cargo clippy -p adapter-core --all-targets -- -D warnings
# adapter-core's tls on (through their dev-dependencies), theirs off.
cargo clippy -p adapter-tokio -p adapter-async-std --all-targets -- -D warnings

step "cargo test"
cargo test --workspace

step "cargo test: the axum example application (feature axum)"
cargo test -p sockway --features axum --test axum_app

step "cargo test: the facade's examples on every runtime (features async-std, smol: their graceful_shutdown examples)"
# Unfiltered, so that the examples are built next to the tests that run them.
cargo test -p sockway --features async-std,smol

step "cargo test: without tls (wss:// refused, TLS unsupported by an adapter without it, naming the feature)"
cargo test -q -p adapter-core --lib
cargo test -q -p adapter-tokio -p adapter-async-std --lib

step "SIMD kernels: which ran (on a CPU with AVX2, the AVX2 ones must have)"
# The two tests print the kernel that ran; each also fails by itself if it
# is not the AVX2 one on a CPU that has AVX2. Checked here against
# /proc/cpuinfo too, so that a detection that is off cannot pass unseen.
kernel_tests=(mask::tests::avx2_kernel_runs_where_the_cpu_has_it
  utf8::tests::avx2_kernel_runs_where_the_cpu_has_it)
kernels="$(cargo test -q -p ws-proto --lib -- --nocapture --exact "${kernel_tests[@]}" 2>&1)" ||
  { echo "$kernels"; exit 1; }
# (The harness's progress dots may come before a line: not anchored.)
grep -o "ws-proto kernels: .*" <<<"$kernels" | sed 's/^/  /'
grep -q "^test result: ok\. ${#kernel_tests[@]} passed; 0 failed" <<<"$kernels" ||
  { echo "$kernels"; echo "test.sh: expected ${#kernel_tests[@]} kernel tests to run" >&2; exit 1; }
if grep -qw avx2 /proc/cpuinfo; then
  for kernel in mask utf8; do
    grep -q "ws-proto kernels: $kernel=avx2\$" <<<"$kernels" || {
      echo "test.sh: this CPU has AVX2 but the $kernel AVX2 kernel did not run" >&2
      exit 1
    }
  done
fi

step "the fuzz targets build (fuzz/ is a workspace of its own)"
cargo check -q --locked --manifest-path fuzz/Cargo.toml --all-targets

step "the benchmark tools build (bench/ is a workspace of its own)"
cargo check -q --locked --manifest-path bench/Cargo.toml --all-targets

step "Autobahn report checker: its own tests"
python3 scripts/autobahn/check_test.py

step "cargo doc (warnings denied)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps

step "the facade's docs alone show its whole API (links placed, re-exports documented, aliases with their methods)"
bash scripts/check-facade-docs.sh

step "every feature combination of the sockway facade builds"
for features in "" tokio async-std smol tokio,async-std tokio,smol async-std,smol tokio,async-std,smol hyper axum \
  tls tokio,tls async-std,smol,tls axum,tls; do
  echo "  --features \"$features\""
  cargo check -q -p sockway --no-default-features --features "$features" --all-targets
done

step "the facade's examples compile for each runtime feature"
for features in async-std smol; do
  cargo test -q -p sockway --doc --no-default-features --features "$features"
done
cargo test -q -p sockway --doc --features axum,tls

step "interop: sockjs-client and ws against sockway serve (tokio, async-std, smol; mounted in axum, on plain hyper)"
bash scripts/interop.sh

step "interop: sockway's SockJS client (every runtime) and sockway load against sockjs-node"
bash scripts/interop-client.sh

step "interop: sockjs-client against the examples (std threads, a mio loop, an io_uring loop, the axum application)"
bash scripts/interop-examples.sh

step "browser: sockjs-client in headless Chromium, directly and through nginx; the demo page"
bash scripts/browser.sh

step "browser: the same, with the endpoints mounted in axum (sockway serve --stack axum)"
bash scripts/browser.sh --stack axum

step "browser: the axum example application's chat, two people over every transport"
bash scripts/browser-axum-app.sh

if ! $quick; then
  step "Autobahn|Testsuite: fuzzingclient against the server"
  bash scripts/autobahn/run-server.sh
  for runtime in tokio async-std smol axum; do
    step "Autobahn|Testsuite: fuzzingclient against sockway serve $runtime (/ws; axum: mounted in an axum Router)"
    bash scripts/autobahn/run-server.sh serve "$runtime"
  done
  step "Autobahn|Testsuite: fuzzingserver against the client"
  bash scripts/autobahn/run-client.sh
fi

step "all checks passed"
