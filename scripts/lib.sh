# Shared steps of scripts/serve and scripts/test (sourced, not run).

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# Install Debian packages that are not installed yet (one apt-get update, only when needed).
ensure_debian_packages() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

# The tests talk to PostgreSQL on 127.0.0.1:5432 ($MAPSERVER_TEST_PG to use another server).
ensure_postgres_running() {
  [ -n "${MAPSERVER_TEST_PG:-}" ] && return 0
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    echo "starting PostgreSQL 15"
    as_root pg_ctlcluster --skip-systemctl-redirect 15 main start
    for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  fi
}

ensure_venv() {
  if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv 2>/dev/null || {
      ensure_debian_packages python3-venv
      python3 -m venv .venv
    }
  fi
}
