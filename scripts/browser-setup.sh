# Sourced by the browser test scripts (browser.sh, browser-axum-app.sh):
# what they install and how they clean up.

# Installs the Debian packages named (e.g. chromium nginx) that are
# missing: Debian's Chromium, never a browser download. $1 names the
# caller in messages.
browser_install_packages() {
  local who="$1" missing=() sudo=""
  shift
  for package in "$@"; do
    case "$package" in
      chromium) [ -x /usr/bin/chromium ] || missing+=(chromium) ;;
      nginx) [ -x /usr/sbin/nginx ] || missing+=(nginx) ;;
      *) missing+=("$package") ;;
    esac
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "$who: apt-get install ${missing[*]}" >&2
  timeout 5m $sudo apt-get update -qq >/dev/null
  timeout 15m $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# The pinned npm packages of tests/browser, when missing or stale.
browser_install_npm() {
  local who="$1"
  (
    cd tests/browser
    stamp=node_modules/.package-lock.json
    if [ ! -d node_modules ] || [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] ||
      [ package.json -nt "$stamp" ]; then
      echo "$who: npm ci" >&2
      timeout 5m npm ci --no-audit --no-fund >&2
    fi
  )
}

# Stops what a test process started and left behind if it was killed: the
# "PID START" lines of file $1, each PID stopped only if it still has the
# start time recorded with it (field 22 of /proc/PID/stat). Removes $1.
browser_stop_recorded() {
  local pid_file="$1" pid start stat fields
  while read -r pid start; do
    stat="$(cat "/proc/$pid/stat" 2>/dev/null)" || continue
    fields="${stat##*) }"
    read -r -a fields <<<"$fields"
    if [ "${fields[19]:-}" = "$start" ]; then
      kill "$pid" 2>/dev/null || true
    fi
  done <"$pid_file"
  rm -f "$pid_file"
}
