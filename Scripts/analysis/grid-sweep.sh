#!/usr/bin/env bash
# Every command of the pipeline, unchanged, on CMIP-style grids (release build): for each grid,
# simulate 6 members 1991-2005 with that grid's latitudes, split two members into one-member
# files and merge them, then info, train-vae, reconstruct, train-diffusion, fit-unresolved,
# calibrate-spread, generate, diagnose, baseline and evaluate (smoke-run sizes: seconds of
# training, not a usable model), and Scripts/check-cf.sh on every NetCDF file written.
# Usage: Scripts/analysis/grid-sweep.sh OUTDIR [GRID:LATITUDES ...]
#   default grids: 73x144:pole-points 145x192:pole-points 143x144:pole-points
#                  45x90:cell-centred 96x192:gaussian
set -euo pipefail
out=${1:?usage: $0 OUTDIR [GRID:LATITUDES ...]}; shift
grids=("$@"); [ ${#grids[@]} -gt 0 ] || grids=(73x144:pole-points 145x192:pole-points 143x144:pole-points 45x90:cell-centred 96x192:gaussian)
repo="$(cd "$(dirname "$0")/../.." && pwd)"
(cd "$repo" && swift build -c release --product ensemblegen >/dev/null)
B="$repo/.build/release/ensemblegen"
mkdir -p "$out"; cd "$out"
for spec in "${grids[@]}"; do
  g=${spec%%:*}; lat=${spec#*:}; d="$g-$lat"; rm -rf "$d"; mkdir "$d"; cd "$d"
  start=$(date +%s)
  run() { echo "+ ensemblegen $*" >> log.txt; "$B" "$@" --quiet >> log.txt 2>&1 || { echo "$d: FAILED: ensemblegen $*" >&2; tail -3 log.txt >&2; exit 1; }; }
  run simulate --members 6 --start 1991 --end 2005 --grid "$g" --latitudes "$lat" --seed 3 --output ens.nc
  for m in 0 1; do cdo -s -L sellevidx,$((m + 1)) ens.nc "one$m.nc" 2>/dev/null || ncks -O -d realization,$m,$m ens.nc "one$m.nc"; done
  run merge one0.nc one1.nc --output merged.nc
  "$B" info ens.nc >> log.txt
  mkdir -p model
  run train-vae --data ens.nc --members 0-3 --validation-members 4-5 --epochs 1 --samples-per-epoch 256 --output model/vae.safetensors
  run reconstruct --model model/vae.safetensors --data ens.nc --members 5 --output rec.nc
  run train-diffusion --vae model/vae.safetensors --data ens.nc --members 0-3 --conditioning-members 0-3 \
      --validation-members 4 --width 64 --layers 1 --epochs 1 --steps-per-epoch 20 --output model
  run fit-unresolved --model model --data ens.nc --members 0-3
  run calibrate-spread --model model --data ens.nc --members 0-3 --generated-members 4 --steps 5
  run generate --model model --members 4 --steps 5 --output gen.nc
  run diagnose gen.nc --output diag
  run baseline --training ens.nc --training-members 0-3 --members 4 --modes 5 --output base.nc
  run evaluate --generated gen.nc --reference ens.nc --reference-members 4-5 --baseline base.nc \
      --training ens.nc --training-members 0-3 --conditioning-member 0 --output eval
  checks=ok
  for f in ens.nc merged.nc rec.nc gen.nc base.nc; do "$repo/Scripts/check-cf.sh" "$f" >> log.txt 2>&1 || checks="FAILED ($f)"; done
  echo "$d: all commands ran in $(( $(date +%s) - start )) s; check-cf: $checks; $(grep -m1 'area-weighted RMSE' log.txt)"
  cd ..
done
