#!/usr/bin/env bash
# Few-step samplers against DDIM 50 on the shipped model (Data/default, or MODEL=dir): for each
# generator, 30 members (1850-2005) with DDIM 50 at seeds 2, 4 and 6 (their spread measures the
# sampling noise of every metric) and with DPM-Solver++(2M) at 8, 12, 16 and 25 steps (seed 2),
# each timed and scored by `ensemblegen evaluate` against held-out members 30-39 of the
# evaluation ensemble; then sampler_table.py prints the comparison.
# With CALIBRATE=1 every sampler setting gets its own spread calibration first (both generators
# of a copy of the model, calibrate-spread on training members 0-29 with that sampler, as the
# shipped calibration is fitted), so that settings are compared as each would be shipped.
# Steps whose output exists are skipped, so the script can be re-run.
# Usage: Scripts/analysis/sampler-sweep.sh [work-dir] (default out/sampler-sweep)
# Environment: MODEL (Data/default), BIN (an ensemblegen binary instead of building), GENERATORS,
# SETTINGS (sampler:steps:seed …), CALIBRATE (0).
set -euo pipefail
cd "$(dirname "$0")/../.."
work=${1:-out/sampler-sweep}
model=${MODEL:-Data/default}
generators=${GENERATORS:-autoregressive transformer}
mkdir -p "$work"
if [ -z "${BIN:-}" ]; then swift build -c release --product ensemblegen >/dev/null; fi
bin=${BIN:-.build/release/ensemblegen}
python=.venv/bin/python; [ -x "$python" ] || Scripts/setup.sh >/dev/null

[ -f "$work/ens40.nc" ] || "$bin" simulate --members 40 --start 1850 --end 2005 --grid 32x64 --seed 1 -q --output "$work/ens40.nc"
settings=${SETTINGS:-ddim:50:2 ddim:50:4 ddim:50:6 dpm-solver:8:2 dpm-solver:12:2 dpm-solver:16:2 dpm-solver:25:2}
# The model a setting is generated with: the shipped one, or a copy calibrated for that sampler.
model_for() {
  local sampler=$1 steps=$2 dir="$work/model-$1-$2"
  if [ "${CALIBRATE:-0}" != 1 ]; then echo "$model"; return; fi
  if [ ! -f "$dir/calibrated" ]; then
    rm -rf "$dir" && cp -r "$model" "$dir"
    for kind in autoregressive transformer; do
      [ -f "$dir/diffusion-$kind.safetensors" ] || continue
      "$bin" calibrate-spread --model "$dir" --generator "$kind" --data "$work/ens40.nc" --members 0-29 \
          --sampler "$sampler" --steps "$steps" -q >> "$dir/calibration.log"
    done
    touch "$dir/calibrated"
  fi
  echo "$dir"
}
for kind in $generators; do
  for setting in $settings; do
    IFS=: read -r sampler steps seed <<<"$setting"
    name="$kind-$sampler-$steps-seed$seed"
    if [ ! -f "$work/$name.nc" ]; then
      setting_model=$(model_for "$sampler" "$steps")
      start=$(date +%s.%N)
      "$bin" generate --model "$setting_model" --generator "$kind" --members 30 --seed "$seed" --sampler "$sampler" --steps "$steps" \
          -q --output "$work/$name.nc" > "$work/$name.log" 2>&1
      echo "$(date +%s.%N) - $start" | bc > "$work/$name.seconds"
    fi
    [ -f "$work/eval-$name/report.json" ] || "$bin" evaluate --generated "$work/$name.nc" --reference "$work/ens40.nc" \
        --reference-members 30-39 --conditioning-member 0 -q --output "$work/eval-$name" > /dev/null
  done
done
"$python" Scripts/analysis/sampler_table.py "$work"
