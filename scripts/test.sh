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

step() { printf '\n==> %s\n' "$*"; }

step "toolchain components"
rustup component add rustfmt clippy >/dev/null 2>&1 || true

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy (warnings denied)"
cargo clippy --workspace --all-targets -- -D warnings

step "cargo test"
cargo test --workspace

step "cargo doc (warnings denied)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps

step "every feature combination of the sockway facade builds"
for features in "" tokio async-std smol tokio,async-std tokio,smol async-std,smol tokio,async-std,smol; do
  echo "  --features \"$features\""
  cargo check -q -p sockway --no-default-features --features "$features" --all-targets
done

step "the facade's examples compile for each runtime feature"
for features in async-std smol; do
  cargo test -q -p sockway --doc --no-default-features --features "$features"
done

step "interop: sockjs-client and ws against sockway serve (tokio, async-std, smol)"
bash scripts/interop.sh

step "interop: sockjs-client against the std-only blocking example (no async runtime)"
bash scripts/interop-blocking.sh

step "browser: sockjs-client in headless Chromium, directly and through nginx; the demo page"
bash scripts/browser.sh

if ! $quick; then
  step "Autobahn|Testsuite: fuzzingclient against the server"
  bash scripts/autobahn/run-server.sh
  for runtime in tokio async-std smol; do
    step "Autobahn|Testsuite: fuzzingclient against sockway serve --runtime $runtime (/ws)"
    bash scripts/autobahn/run-server.sh serve "$runtime"
  done
  step "Autobahn|Testsuite: fuzzingserver against the client"
  bash scripts/autobahn/run-client.sh
fi

step "all checks passed"
