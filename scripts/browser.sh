#!/usr/bin/env bash
# Browser tests: sockjs-client 1.6.1 in Debian's headless Chromium against
# `sockway serve`, directly and through nginx (four proxy setups), from the
# server's own origin and from another one, over every transport a browser
# has; then the demo page, typed into and screenshot. See tests/browser/.
#
#   scripts/browser.sh                  sockway's own HTTP stack
#   scripts/browser.sh --stack axum     the same endpoints mounted in an axum
#                                       Router (`sockway serve --stack axum`)
#   scripts/browser.sh --stack hyper    served by plain hyper (`--stack hyper`)
#
# Installs what it needs on a fresh Debian machine (Debian's chromium and
# nginx with apt-get, when missing; the pinned npm packages with `npm ci`,
# when node_modules is missing or stale), builds sockway, and runs
# tests/browser/browser.test.js, which starts and stops sockway, nginx, a
# static server and Chromium itself. Every process it started is also
# stopped by PID here on exit. Writes target/browser/matrix.txt (printed at
# the end), target/browser/demo.png, target/browser/run.log and nginx's
# config and logs in target/browser/nginx/; with `--stack axum` or `--stack
# hyper`, the same in target/browser-axum/ or target/browser-hyper/ (so that
# runs one after the other keep each other's files), sockway being started
# with that `--stack` (SOCKWAY_STACK for browser.test.js). Every run must
# count the same 103 tests, all passing.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

usage="usage: scripts/browser.sh [--stack own|axum|hyper]"
stack=own
while [ $# -gt 0 ]; do
  case "$1" in
    --stack)
      [ $# -ge 2 ] || { echo "$usage" >&2; exit 2; }
      stack="$2"
      shift 2
      ;;
    --stack=*)
      stack="${1#--stack=}"
      shift
      ;;
    *)
      echo "$usage" >&2
      exit 2
      ;;
  esac
done
case "$stack" in
  own) suffix="" ;;
  axum | hyper) suffix="-$stack" ;;
  *)
    echo "$usage" >&2
    exit 2
    ;;
esac

# The tests that browser.test.js holds: 5 setups × 2 origins × 10
# transports, the README check, the X-Forwarded-For check and the demo
# page. A run that counts any
# other number fails, so that a renamed or lost test cannot pass unseen.
expected_tests=103
started=$SECONDS

# shellcheck source=scripts/browser-setup.sh
. "$root/scripts/browser-setup.sh"
# Debian's Chromium and nginx; the pinned npm packages.
browser_install_packages browser.sh chromium nginx
browser_install_npm browser.sh

# shellcheck source=scripts/test-profile.sh
. "$root/scripts/test-profile.sh"
timeout 20m cargo build --profile "$test_profile" -q -p sockway-cli

out="$root/target/browser$suffix"
mkdir -p "$out"
rm -f "$out/matrix.txt" "$out/demo.png"
pid_file="$out/pids"
: >"$pid_file"
log="$out/run.log"
: >"$log"
node_pid=""
cleanup() {
  if [ -n "$node_pid" ]; then
    kill "$node_pid" 2>/dev/null || true
    wait "$node_pid" 2>/dev/null || true
  fi
  browser_stop_recorded "$pid_file"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

status=0
# SOCKWAY_STACK empty (own): sockway serve without --stack, as before.
SOCKWAY_STACK="${suffix:+$stack}" \
  SOCKWAY_BIN="$test_bin_dir/sockway" \
  NGINX=/usr/sbin/nginx \
  CHROMIUM=/usr/bin/chromium \
  BROWSER_OUT="$out" \
  BROWSER_PID_FILE="$pid_file" \
  timeout 15m node --test-reporter=spec tests/browser/browser.test.js >"$log" 2>&1 &
node_pid=$!
tail -n +1 -f --pid="$node_pid" "$log" &
tail_pid=$!
wait "$node_pid" || status=$?
node_pid=""
wait "$tail_pid" 2>/dev/null || true

echo
cat "$out/matrix.txt" 2>/dev/null || echo "browser.sh: no matrix written" >&2

# node's spec reporter closes with "ℹ tests N", "ℹ pass N", "ℹ fail N".
count() { sed -n "s/^ℹ $1 \\([0-9]*\\)\$/\\1/p" "$log" | tail -n 1; }
tests="$(count tests)"
passed="$(count pass)"
failed="$(count fail)"
echo "browser.sh: ${tests:-?} tests, ${passed:-?} passed, ${failed:-?} failed in $((SECONDS - started)) s${suffix:+ (--stack $stack)}"
echo "browser.sh: demo page screenshot: $out/demo.png"
if [ "${tests:-0}" != "$expected_tests" ] || [ "${passed:-0}" != "$expected_tests" ]; then
  echo "browser.sh: expected $expected_tests tests to run and pass" >&2
  status=1
fi
[ "$status" -eq 0 ] && [ "${failed:-1}" = 0 ] || exit 1
