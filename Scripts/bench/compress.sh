#!/usr/bin/env bash
# Error-bounded compression side by side (Docs/compression.md): ensemblegen compress /
# decompress against SZ3, ZFP fixed-accuracy, netCDF-4 BitRound + deflate and lossless
# deflate + shuffle, at max errors 0.01, 0.05, 0.1 and 0.5 K, on
#   1. a 40-member 32×64 simulation of 1850–2005 (seed 2026),
#   2. a 96×192 simulation of 1850–2005 (MEMBERS_T63 members, default 20: the comparison
#      holds the original, a decompressed copy and temporaries in memory, ~4 copies),
#   3. real CMIP6 monthly tas (IPSL-CM6A-LR ssp126 r1, ../shared/data) on its native 20×20
#      grid and bilinearly regridded by CDO to 32×64;
# then writes the table (OUT/compress.md) and the ratio-against-bound plot (OUT/compress.png);
# "diagnostics" evaluates the decompressed 32×64 simulation at 0.05 and 0.5 K against the
# original (OUT/diagnostics.md).
# Usage: Scripts/bench/compress.sh [OUT] (default out/bench-compress)
# Environment: PYTHON (.venv-bench/bin/python with pysz, zfpy, netCDF4, matplotlib),
#              DATASETS ("sim32 sim96 cmip diagnostics"), BOUNDS ("0.01 0.05 0.1 0.5"), MEMBERS_T63 (20).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-out/bench-compress}
python=${PYTHON:-.venv-bench/bin/python}
if ! "$python" -c "import pysz, zfpy, netCDF4, matplotlib" 2>/dev/null; then
    echo "compress.sh needs $python with pysz, zfpy, netCDF4 and matplotlib:" >&2
    echo "  python3 -m venv .venv-bench && .venv-bench/bin/pip install pysz zfpy netCDF4 matplotlib" >&2
    exit 1
fi
read -r -a bounds <<<"${BOUNDS:-0.01 0.05 0.1 0.5}"
mkdir -p "$out"
swift build -c release --product ensemblegen >/dev/null
bin=.build/release/ensemblegen
echo "$(nproc) cores; $(git rev-parse --short HEAD)"
for data in ${DATASETS:-sim32 sim96 cmip diagnostics}; do
    case $data in
    sim32)
        [ -f "$out/sim32.nc" ] || "$bin" simulate --members 40 --start 1850 --end 2005 --grid 32x64 --seed 2026 -q --output "$out/sim32.nc" >/dev/null
        "$python" Scripts/bench/compress_bench.py "$bin" "$out/sim32.nc" "sim 32x64" "$out/sim32.json" "${bounds[@]}" ;;
    sim96)
        [ -f "$out/sim96.nc" ] || "$bin" simulate --members "${MEMBERS_T63:-20}" --start 1850 --end 2005 --grid 96x192 \
            --seed 2026 -q --output "$out/sim96.nc" >/dev/null
        "$python" Scripts/bench/compress_bench.py "$bin" "$out/sim96.nc" "sim 96x192" "$out/sim96.json" "${bounds[@]}" ;;
    cmip)
        source=../shared/data/cmip6-ng/tas_mon_IPSL-CM6A-LR_ssp126_r1i1p1f1_g025.nc
        [ -f "$source" ] || { echo "no $source: skipping the CMIP6 runs"; continue; }
        # The simulator's 32×64 grid (cell-centred, longitudes from 2.8125°), as CDO's target.
        [ -f "$out/grid32.nc" ] || "$bin" simulate --members 1 --start 1850 --end 1850 --grid 32x64 -q --output "$out/grid32.nc" >/dev/null
        [ -f "$out/cmip32.nc" ] || cdo -s -O remapbil,"$out/grid32.nc" "$source" "$out/cmip32.nc"
        "$python" Scripts/bench/compress_bench.py "$bin" "$out/cmip32.nc" "CMIP6 32x64" "$out/cmip32.json" "${bounds[@]}"
        "$python" Scripts/bench/compress_bench.py "$bin" "$source" "CMIP6 20x20" "$out/cmip20.json" "${bounds[@]}" ;;
    esac
done
"$python" Scripts/bench/compress_report.py "$out" "$out"/*.json

# Diagnostics survive: evaluate the decompressed 32×64 simulation against the original.
if [[ " ${DATASETS:-sim32 sim96 cmip diagnostics} " == *" diagnostics "* ]]; then
    {
    echo "| bound (K) | spread ratio | Niño3.4 std ratio | Niño3.4 peak (yr) / original | volcanic composites max abs diff (K) | EOF-1 pattern corr | ensemble-mean RMSE (K) |"
    echo "| --- | --- | --- | --- | --- | --- | --- |"
    for bound in 0.05 0.5; do
        rm -rf "$out/diag-$bound" "$out/diag.egc.nc" "$out/diag.nc"
        "$bin" compress "$out/sim32.nc" --max-error "$bound" -q --output "$out/diag.egc.nc" >/dev/null
        "$bin" decompress "$out/diag.egc.nc" -q --output "$out/diag.nc" >/dev/null
        "$bin" evaluate --generated "$out/diag.nc" --reference "$out/sim32.nc" -q --output "$out/diag-$bound" >/dev/null
        "$python" Scripts/bench/compress_diagnostics.py "$bound" "$out/diag-$bound/report.json"
    done
    } | tee "$out/diagnostics.md"
    rm -f "$out/diag.egc.nc" "$out/diag.nc"
fi
