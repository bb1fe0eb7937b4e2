#!/usr/bin/env bash
# The sockway facade's docs, built alone (`cargo doc -p sockway --no-deps`),
# must show the whole API it exposes: every item it re-exports on a page of
# its own docs, every alias with its methods, every link placed (broken
# intra-doc links denied, and none left as literal text where the docs are
# inlined). Checked for the default features, for `axum,tls`, and for every
# runtime at once (the runtime modules, and the top level that then names
# none); see scripts/check_facade_docs.py for the rules.
#
#   scripts/check-facade-docs.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
doc="${CARGO_TARGET_DIR:-target}/doc"

cores=(adapter_core ws_proto sockjs_proto http_proto server_proto)

# check "LABEL" "EXPECTED MODULES" CARGO-DOC-ARGS...
check() {
  local label="$1" expect="$2"
  shift 2
  echo "  sockway docs: $label"
  # A page left from another feature set must not count.
  rm -rf "$doc/sockway" "$doc/type.impl/sockway" "$doc/trait.impl/sockway"
  RUSTDOCFLAGS="-D warnings -D rustdoc::broken_intra_doc_links" \
    cargo doc -q -p sockway --no-deps "$@"
  # shellcheck disable=SC2086
  python3 scripts/check_facade_docs.py "$doc" --expect $expect "${cores[@]}"
}

check "default features" "server sockjs tokio"
check "--features axum,tls" "server sockjs tokio service" --features axum,tls
check "--no-default-features --features async-std,smol,tls" \
  "async_std smol several_runtimes several_runtimes/server several_runtimes/sockjs" --no-default-features --features async-std,smol,tls
