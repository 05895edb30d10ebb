#!/usr/bin/env bash
# Output layout for analysis: what --chunking and --deflate-level cost and buy (release build).
# Writes the same simulated ensemble with each setting, then times, in one run, side by side:
# writing it (simulate), its size, and reading with xarray one grid cell's series (all
# members and months) and one month's field (all members); plus `cdo fldmean` over the file.
# Usage: [LEVELS="0 1 4 9"] Scripts/bench/read-layout.sh [GRID] [MEMBERS]   (default 32x64 40; 1850-2005)
set -euo pipefail
cd "$(dirname "$0")/../.."
source Scripts/bench/common.sh
grid=${1:-32x64}; members=${2:-40}
swift build -c release --product ensemblegen >/dev/null
exe=$PWD/.build/release/ensemblegen
python=.venv/bin/python; [ -x "$python" ] || { echo "run Scripts/setup.sh first (.venv with xarray)" >&2; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
echo "grid=$grid members=$members years=1850-2005"
printf '%-12s %-7s %9s %9s %12s %12s %10s\n' chunking deflate write_s size_MB cell_series_s month_field_s cdo_fldmean_s
for chunking in fields time-series; do
  for level in ${LEVELS:-0 1 4 9}; do
    f="$tmp/$chunking-$level.nc"
    read -r ws _ < <(peak_rss "$exe" simulate --members "$members" --start 1850 --end 2005 --grid "$grid" --seed 1 --quiet \
                       --chunking "$chunking" --deflate-level "$level" --output "$f")
    read -r cell month < <("$python" Scripts/bench/read_layout.py "$f")
    start=$(date +%s.%N)
    if command -v cdo >/dev/null; then cdo -s -O fldmean "$f" "$tmp/fld.nc" 2>/dev/null; cdo_s=$(printf '%.2f' "$(echo "$(date +%s.%N) - $start" | bc)"); else cdo_s=n/a; fi
    size=$(du -m --apparent-size "$f" | cut -f1)
    printf '%-12s %-7s %9s %9s %12s %12s %10s\n' "$chunking" "$level" "$ws" "$size" "$cell" "$month" "$cdo_s"
    rm -f "$f" "$tmp/fld.nc"
  done
done
