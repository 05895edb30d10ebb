#!/usr/bin/env bash
# Installs what EnsembleGen needs to build and test. Idempotent: a second run does nothing.
#  - Debian packages (apt-get) for the C libraries and the NetCDF command-line tools;
#  - a git-ignored Python virtual environment (.venv) with the validators used by tests
#    (cfchecker, xarray, netCDF4, safetensors, properscoring). Python is never needed by
#    the tool itself; if the venv cannot be created, tests that need it skip with a message,
#    except in CI (ENSEMBLEGEN_CI=1, set by .ci/run), where this script then fails.
# Usage: Scripts/setup.sh [--system-only]   (--system-only: the Debian packages, no .venv;
# what running the tool needs, used by Scripts/demo.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

debian_packages=(
  pkg-config libnetcdf-dev netcdf-bin libopenblas-dev liblapacke-dev libproj-dev proj-bin
  libcairo2-dev cdo nco libudunits2-dev python3-venv
)

missing=()
for p in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  if [ "$(id -u)" -eq 0 ]; then SUDO=""
  elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"
  else
    echo "setup: error: packages missing (${missing[*]}) and not running as root." >&2
    echo "setup: run 'apt-get install ${missing[*]}' as root, then run this script again." >&2
    exit 1
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ "${1:-}" = "--system-only" ]; then
  echo "setup: ok (system packages)"
  exit 0
fi

# Python validators in .venv, reinstalled only when the requirements change.
req=Scripts/requirements-validators.txt
stamp=".venv/.installed-$(sha256sum "$req" | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "setup: creating the validator environment in .venv (cfchecker, xarray, netCDF4, ...)"
  if python3 -m venv .venv && .venv/bin/pip install -q --disable-pip-version-check -r "$req"; then
    touch "$stamp"
  elif [ "${ENSEMBLEGEN_CI:-}" = "1" ]; then
    echo "setup: error: could not build .venv (ENSEMBLEGEN_CI=1: the validators are required)." >&2
    exit 1
  else
    echo "setup: warning: could not build .venv; tests that need Python validators will skip." >&2
  fi
fi
echo "setup: ok"
