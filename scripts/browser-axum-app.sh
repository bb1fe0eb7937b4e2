#!/usr/bin/env bash
# The axum example application (sockway/examples/axum_app.rs) in Debian's
# headless Chromium: its chat page as two people use it, over every
# transport sockjs-client has in a browser, and the chat's refusal without
# a session cookie. See tests/browser/axum-app.test.js.
#
#   scripts/browser-axum-app.sh
#
# Installs what it needs on a fresh Debian machine (Debian's chromium with
# apt-get, when missing; the pinned npm packages with `npm ci`, when
# node_modules is missing or stale), builds the example, and runs the test,
# which starts and stops the example and Chromium; every process it started
# is also stopped by PID here on exit. The number of tests that ran and
# passed is checked.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# 9 transports and the refusal.
expected_tests=10

# shellcheck source=scripts/browser-setup.sh
. "$root/scripts/browser-setup.sh"
browser_install_packages browser-axum-app.sh chromium
browser_install_npm browser-axum-app.sh

# shellcheck source=scripts/test-profile.sh
. "$root/scripts/test-profile.sh"
timeout 20m cargo build --profile "$test_profile" -q -p sockway --features axum --example axum_app

out="$test_target_dir/browser-axum-app"
mkdir -p "$out"
pid_file="$out/pids"
: >"$pid_file"
log="$out/run.log"
cleanup() {
  browser_stop_recorded "$pid_file"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

status=0
AXUM_APP_BIN="$test_bin_dir/examples/axum_app" \
  CHROMIUM=/usr/bin/chromium \
  BROWSER_PID_FILE="$pid_file" \
  timeout 10m node --test-reporter=spec tests/browser/axum-app.test.js >"$log" 2>&1 || status=$?
cat "$log"
count() { sed -n "s/^ℹ $1 \\([0-9]*\\)\$/\\1/p" "$log" | tail -n 1; }
tests="$(count tests)"
passed="$(count pass)"
echo "browser-axum-app.sh: ${tests:-?} tests, ${passed:-?} passed"
if [ "${tests:-0}" != "$expected_tests" ] || [ "${passed:-0}" != "$expected_tests" ]; then
  echo "browser-axum-app.sh: expected $expected_tests tests to run and pass" >&2
  status=1
fi
exit "$status"
