#!/usr/bin/env bash
# Evaluates the shipped model (Data/default, or MODEL=dir) as Docs/model-card.md reports it,
# without retraining: the evaluation ensemble (simulator seed 1, 40 members), 30 members of
# each generator (the default sampler, seed 2), the statistical baseline (seed 3), `ensemblegen evaluate`
# against held-out members 30-39, then every analysis of Scripts/analysis/ on those files.
# Steps whose output exists are skipped, so the script can be re-run.
# Usage: Scripts/analysis/evaluate-default.sh [work-dir] (default out/evaluate-default)
# Environment: MODEL (Data/default), BIN (an ensemblegen binary instead of building), THREADS (all cores).
set -euo pipefail
cd "$(dirname "$0")/../.."
work=${1:-out/evaluate-default}
model=${MODEL:-Data/default}
threads=${THREADS:-$(nproc)}
mkdir -p "$work"
if [ -z "${BIN:-}" ]; then swift build -c release --product ensemblegen >/dev/null; fi
bin=${BIN:-.build/release/ensemblegen}
python=.venv/bin/python; [ -x "$python" ] || Scripts/setup.sh >/dev/null

[ -f "$work/ens40.nc" ] || "$bin" simulate --members 40 --start 1850 --end 2005 --grid 32x64 --seed 1 -q --output "$work/ens40.nc"
for kind in autoregressive transformer; do
    [ -f "$work/gen-$kind.nc" ] || "$bin" generate --model "$model" --generator "$kind" --members 30 --seed 2 \
        --threads "$threads" -q --output "$work/gen-$kind.nc"
done
[ -f "$work/baseline.nc" ] || "$bin" baseline --training "$work/ens40.nc" --training-members 0-29 \
    --conditioning-member 0 --members 30 --seed 3 -q --output "$work/baseline.nc"
for kind in autoregressive transformer; do
    [ -f "$work/evaluation-$kind/report.json" ] || "$bin" evaluate --generated "$work/gen-$kind.nc" \
        --reference "$work/ens40.nc" --reference-members 30-39 --training "$work/ens40.nc" --training-members 0-29 \
        --baseline "$work/baseline.nc" --conditioning-member 0 --output "$work/evaluation-$kind" >"$work/evaluation-$kind.txt"
done

a=Scripts/analysis
echo "== fidelity table (Docs/model-card.md, Measured fidelity) =="
"$python" $a/model_card_table.py "$work/evaluation-autoregressive" "$work/evaluation-transformer"
for kind in autoregressive transformer; do
    echo "== $kind against the full 40-member ensemble =="
    "$python" $a/volcanic_check.py "$work/gen-$kind.nc" "$work/ens40.nc"
done
echo "== window seams of the transformer =="
"$python" $a/seam_check.py "$work/gen-transformer.nc" "$work/ens40.nc" 0 --stride 40
echo "== spread by time scale =="
"$python" $a/spread_by_timescale.py "$work/ens40.nc" "$work/gen-autoregressive.nc" "$work/gen-transformer.nc" "$work/baseline.nc"
echo "== spread by region =="
"$python" $a/spread_by_region.py "$work/ens40.nc" "$work/gen-autoregressive.nc" "$work/gen-transformer.nc" "$work/baseline.nc"
