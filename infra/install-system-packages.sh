#!/usr/bin/env bash
# Install the OS packages the local stack needs (Debian/Ubuntu), only those missing:
# PostgreSQL server, Redis, Chromium (UI tests), Maven (Kafka jars), a JRE if java is absent,
# Prometheus (its promtool checks the rules and the compose scrape configuration).
# Idempotent and fast when everything is present (no apt-get update then).
set -euo pipefail

missing=()

have() { command -v "$1" >/dev/null 2>&1; }

compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || missing+=(postgresql)
have redis-server || missing+=(redis-server)
have chromium || have chromium-browser || missing+=(chromium fonts-liberation)
have mvn || missing+=(maven)
have java || missing+=(default-jre-headless)
have promtool || missing+=(prometheus)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-system-packages: installing ${missing[*]}"

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if have sudo; then
    sudo=(sudo)
  else
    echo "install-system-packages: need root (or sudo) to install ${missing[*]}" >&2
    exit 1
  fi
fi

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! { "${sudo[@]}" apt-get update -qq &&
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends -o Dpkg::Use-Pty=0 "${missing[@]}"; } >"$log" 2>&1; then
  cat "$log" >&2
  echo "install-system-packages: apt-get failed" >&2
  exit 1
fi
echo "install-system-packages: done"
