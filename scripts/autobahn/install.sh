#!/usr/bin/env bash
# Install Autobahn|Testsuite (wstest) into <repo>/.autobahn/ (git-ignored).
#
# autobahntestsuite is Python 2 code and Debian 12 has no python2.7, so we use
# CPython 2.7.18 from pyenv. Layout:
#   .autobahn/py3  Python 3 venv holding virtualenv==20.21.1 (the last release
#                  able to create 2.7 environments; it bundles pip 20.3.4)
#   .autobahn/py2  Python 2.7 env holding autobahntestsuite, pinned by
#                  constraints.txt (wsaccel is compiled with gcc: ~1-2 min)
#
# Idempotent: does nothing if wstest already works and the pins are unchanged.
# Prints the wstest path as its last line of output.
# Overrides: AUTOBAHN_PYTHON2 (a python2.7 binary), AUTOBAHN_PYTHON3.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
dest="$root/.autobahn"
constraints="$here/constraints.txt"
wstest="$dest/py2/bin/wstest"
stamp="$dest/py2/.constraints.sha256"

die() { echo "install.sh: error: $*" >&2; exit 1; }
log() { echo "install.sh: $*" >&2; }

# pip reads these from the environment; make sure nothing can prompt or nag.
export PIP_NO_INPUT=1 PIP_DISABLE_PIP_VERSION_CHECK=1

want_sum="$(sha256sum "$constraints" | cut -d' ' -f1)"

# Fast path: already installed with the current pins.
if [[ -x "$wstest" && -f "$stamp" && "$(cat "$stamp")" == "$want_sum" ]] \
    && "$wstest" --help >/dev/null 2>&1; then
  log "already installed"
  echo "$wstest"
  exit 0
fi

# --- Find (or build) CPython 2.7.18 ------------------------------------------
find_py2() {
  if [[ -n "${AUTOBAHN_PYTHON2:-}" ]]; then echo "$AUTOBAHN_PYTHON2"; return; fi
  local proot
  proot="$(pyenv root 2>/dev/null || true)"
  [[ -n "$proot" ]] || proot="${PYENV_ROOT:-$HOME/.pyenv}"
  local cand="$proot/versions/2.7.18/bin/python2.7"
  if [[ -x "$cand" ]]; then echo "$cand"; return; fi
  command -v python2.7 || true
}

py2="$(find_py2)"
if [[ -z "$py2" ]]; then
  if command -v pyenv >/dev/null 2>&1; then
    log "python2.7 not found; trying 'pyenv install 2.7.18' (slow: compiles CPython)"
    pyenv install -s 2.7.18 </dev/null \
      || die "'pyenv install 2.7.18' failed (needs build deps such as gcc, make, libssl-dev, zlib1g-dev)"
    py2="$(find_py2)"
  fi
fi
[[ -n "$py2" && -x "$py2" ]] \
  || die "no usable python2.7 (looked at AUTOBAHN_PYTHON2, \$(pyenv root)/versions/2.7.18, PATH; got '$py2')"
"$py2" -c 'import sys; assert sys.version_info[:2] == (2, 7)' 2>/dev/null \
  || die "$py2 is not Python 2.7"
command -v gcc >/dev/null 2>&1 || die "gcc is required to build wsaccel (apt-get install gcc)"
log "using $py2"

# --- Python 3 venv with virtualenv 20.21.1 -----------------------------------
py3="${AUTOBAHN_PYTHON3:-python3}"
mkdir -p "$dest"
if ! "$dest/py3/bin/python" -m virtualenv --version 2>/dev/null | grep -q '^virtualenv 20\.21\.1 '; then
  rm -rf "$dest/py3"
  "$py3" -m venv "$dest/py3" \
    || die "'$py3 -m venv' failed (on Debian: apt-get install python3-venv)"
  "$dest/py3/bin/python" -m pip install -q 'virtualenv==20.21.1'
fi

# --- Python 2.7 env with autobahntestsuite -----------------------------------
# Always rebuilt from scratch here: we only get this far if it is broken or stale.
rm -rf "$dest/py2"
"$dest/py3/bin/python" -m virtualenv -q --no-download -p "$py2" "$dest/py2"
log "installing autobahntestsuite (compiles wsaccel; takes a minute or two)"
"$dest/py2/bin/python" -m pip install -q -c "$constraints" 'autobahntestsuite==25.10.1'

"$wstest" --help >/dev/null 2>&1 || die "wstest was installed but '$wstest --help' fails"
echo "$want_sum" >"$stamp"
log "installed"
echo "$wstest"
