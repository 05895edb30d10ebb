#!/usr/bin/env bash
# Checks that NetCDF files are CF-compliant and open cleanly in the usual tools:
#   1. cfchecks (CF checker, from .venv) with the offline tables in ../shared/cf-tables:
#      0 errors and 0 warnings required;
#   2. xarray opens and loads the file with every Python warning turned into an error;
#   3. `cdo -s sinfon`, then `cdo fldmean` and `cdo yearmean`, and 4. `ncks -m` succeed
#      without printing warnings or errors.
# Usage: Scripts/check-cf.sh FILE.nc [FILE.nc ...]
# Exit status: 0 all checks passed; 1 a check failed; 2 usage error;
#              77 skipped (Python/cfchecks/xarray, the CF tables, cdo or ncks missing).
# Environment: CF_TABLES_DIR overrides the table folder (default <repo>/../shared/cf-tables).
set -uo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"

if [ $# -lt 1 ]; then
  echo "usage: $0 FILE.nc [FILE.nc ...]" >&2
  exit 2
fi

skip() { echo "check-cf: skipped: $*" >&2; exit 77; }

tables="${CF_TABLES_DIR:-$repo/../shared/cf-tables}"
standard_names="$tables/cf-standard-name-table.xml"
area_types="$tables/area-type-table.xml"
regions="$tables/standardized-region-list.xml"
for t in "$standard_names" "$area_types" "$regions"; do
  [ -f "$t" ] || skip "CF table $t not found (download the tables from cfconventions.org or set CF_TABLES_DIR)"
done

python="$repo/.venv/bin/python"
cfchecks="$repo/.venv/bin/cfchecks"
[ -x "$python" ] || skip "no Python validator environment ($repo/.venv); run Scripts/setup.sh"
[ -x "$cfchecks" ] || skip "cfchecks not installed in .venv; run Scripts/setup.sh"
"$python" -c "import xarray, netCDF4" 2>/dev/null || skip "xarray/netCDF4 not importable in .venv; run Scripts/setup.sh"
command -v cdo >/dev/null 2>&1 || skip "cdo not installed (Debian package cdo)"
command -v ncks >/dev/null 2>&1 || skip "ncks not installed (Debian package nco)"

status=0
fail() { echo "check-cf: FAIL: $*" >&2; status=1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

for file in "$@"; do
  if [ ! -f "$file" ]; then fail "$file: no such file"; continue; fi
  echo "== $file"

  # 1. cfchecks: read the summary counts; any error or warning fails.
  "$cfchecks" -s "$standard_names" -a "$area_types" -r "$regions" "$file" >"$work/cf.out" 2>&1
  errors=$(sed -n 's/^ERRORS detected: *\([0-9]*\).*/\1/p' "$work/cf.out" | tail -1)
  warnings=$(sed -n 's/^WARNINGS given: *\([0-9]*\).*/\1/p' "$work/cf.out" | tail -1)
  if [ -z "$errors" ] || [ -z "$warnings" ]; then
    cat "$work/cf.out" >&2
    fail "$file: cfchecks did not complete"
  elif [ "$errors" != 0 ] || [ "$warnings" != 0 ]; then
    grep -E '^(ERROR|WARN)' "$work/cf.out" >&2
    fail "$file: cfchecks: $errors errors, $warnings warnings"
  else
    echo "cfchecks: 0 errors, 0 warnings"
  fi

  # 2. xarray, warnings as errors (decoding times and masking included).
  if "$python" -W error - "$file" >"$work/xr.out" 2>&1 <<'PY'
import sys
import xarray as xr
with xr.open_dataset(sys.argv[1]) as ds:
    ds.load()
    print("xarray: " + ", ".join(f"{k}{tuple(v.dims)}" for k, v in ds.data_vars.items()))
PY
  then cat "$work/xr.out"
  else cat "$work/xr.out" >&2; fail "$file: xarray could not open the file cleanly"
  fi

  # 3. cdo sinfon: non-zero exit or any message on stderr fails.
  if cdo -s sinfon "$file" >"$work/cdo.out" 2>"$work/cdo.err" && [ ! -s "$work/cdo.err" ] \
     && ! grep -qiE 'warning|error' "$work/cdo.out"; then
    echo "cdo sinfon: ok"
    # 3b. What analyses run first: the global mean and annual means, under the same rule.
    for operator in fldmean yearmean; do
      if cdo -s "$operator" "$file" "$work/$operator.nc" >"$work/cdo.out" 2>"$work/cdo.err" && [ ! -s "$work/cdo.err" ] \
         && ! grep -qiE 'warning|error' "$work/cdo.out"; then
        echo "cdo $operator: ok"
      else
        cat "$work/cdo.out" "$work/cdo.err" >&2; fail "$file: cdo $operator reported a problem"
      fi
      rm -f "$work/$operator.nc"
    done
  else
    cat "$work/cdo.out" "$work/cdo.err" >&2; fail "$file: cdo sinfon reported a problem"
  fi

  # 4. ncks -m: the same rule.
  if ncks -m "$file" >"$work/ncks.out" 2>"$work/ncks.err" && [ ! -s "$work/ncks.err" ]; then
    echo "ncks -m: ok"
  else
    cat "$work/ncks.err" >&2; fail "$file: ncks -m reported a problem"
  fi
done
exit $status
