# Sourced by the test scripts: the cargo profile they build and run
# sockway's servers, clients and examples with.
#
#   TEST_PROFILE=dev      (the default) debug assertions and overflow checks
#                         on, so that an arithmetic slip under Autobahn's
#                         fuzzing or a browser's traffic panics and fails
#                         the run; and most of it is already built by
#                         `cargo test`
#   TEST_PROFILE=release  the optimized build users ship
#
# Sets test_profile (for `cargo build --profile`), test_target_dir (the
# workspace's target directory) and test_bin_dir (where cargo puts that
# profile's binaries, examples in its examples/).
# shellcheck shell=bash
test_profile="${TEST_PROFILE:-dev}"
case "$test_profile" in
  dev | test) test_profile_subdir=debug ;;
  release | bench) test_profile_subdir=release ;;
  *) test_profile_subdir="$test_profile" ;;
esac
test_target_dir="$(timeout 2m cargo metadata --format-version 1 --no-deps |
  sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
test_bin_dir="$test_target_dir/$test_profile_subdir"
