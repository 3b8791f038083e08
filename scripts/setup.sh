#!/usr/bin/env bash
# Idempotent setup of a fresh Debian machine for tenglong.
#   scripts/setup.sh          the venv only (enough to run tenglong)
#   scripts/setup.sh --test   also the Debian packages the tests need (CJK fonts,
#                             harfbuzz subsetting, poppler, chromium, PostgreSQL)
# Re-running is cheap: apt is skipped when every package is installed, and the
# venv is rebuilt only when requirements.lock or pyproject.toml change.
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

if [ "$want_test" = 1 ]; then
  pkgs=(fonts-noto-cjk fonts-wqy-microhei libharfbuzz-subset0 poppler-utils chromium chromium-driver postgresql)
  missing=()
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi

PY=${PYTHON:-python3}
stamp=".venv/.tenglong-stamp"
hash=$(cat requirements.lock pyproject.toml | sha256sum | cut -d' ' -f1)
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$hash" ]; then
  echo "setup: building .venv from requirements.lock"
  "$PY" -m venv .venv
  .venv/bin/python -m pip install -qq --disable-pip-version-check --upgrade pip 2>&1 | grep -v "is ignored" || true
  .venv/bin/python -m pip install -qq --disable-pip-version-check -r requirements.lock 2>&1 | grep -v "is ignored" || true
  .venv/bin/python -m pip install -qq --disable-pip-version-check --no-deps -e . 2>&1 | grep -v "is ignored" || true
  .venv/bin/python -c "import tenglong, numpy, polars, fastapi, sqlalchemy" || { echo "setup: the venv is incomplete" >&2; exit 1; }
  echo "$hash" > "$stamp"
fi
