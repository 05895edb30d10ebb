#!/usr/bin/env bash
# Trains the shipped default model (Data/default) from scratch, reproducibly:
#   1. the evaluation ensemble: simulator seed 1, 40 members, 32x64, 1850-2005;
#   2. the VAE (channels 16,32,64, 2 latent channels: compression 8) on members 0-29,
#      validated on 30-39 (the same run as compression 8 of Scripts/vae-compression-sweep.sh);
#   3. the latent diffusion model with both generators on pairs (c, k), k != c, of conditioning
#      members c in 0-29 and training members k in 0-29, and the VAE's unresolved variability
#      on the training members;
#   4. the spread calibration of both generators with the default sampler, DPM-Solver++(2M) in
#      12 steps (calibrate-spread on training members 0-29; AR_CALIBRATE=0 or TR_CALIBRATE=0
#      skips one);
#   5. evaluation against held-out members 30-39 and the statistical baseline;
#   6. Data/default/training.json with seeds, members, settings, data digest, durations and figures.
# Every step resumes (--resume) when its training state exists, so the script can be
# re-run after an interruption. Usage: Scripts/train-default.sh [work-dir] (default out/train-default)
# Environment: VAE=path reuses a VAE trained with step 2's settings; BIN=path uses that
# ensemblegen binary instead of building; the generators' settings (listed in Scripts/lib/train-generators.sh, which trains them),
# TR_CALIBRATE (1) and AR_CALIBRATE (1): run calibrate-spread for that generator,
# THREADS (all cores), PARTS (1: --batch-parts of the VAE; it was
# trained with whole mini-batches, before data-parallel steps existed, and 1 reproduces it;
# 2 is about 1.4x faster on 2 cores but gives other weights).
# The shipped generators were trained by this script with VAE=Data/default/vae.safetensors,
# the shipped VAE. That VAE was trained by step 2 with an earlier binary whose convolutions
# used im2col and sgemm; the engine's direct loops reproduce it up to rounding (one epoch of
# 20 steps on 2 members: 3e-6 relative in the weights). The shipped spread calibrations were
# fitted by step 4 on the shipped model when DPM-Solver++(2M) 12 became the default sampler
# (calibrate-spread --model Data/default --generator G --data ens40.nc --members 0-29, with the
# ens40.nc of step 1). The model card's other figures:
# Scripts/analysis/ (README there); the generalisation tables: Scripts/analysis/generalisation.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-out/train-default}
threads=${THREADS:-$(nproc)}
parts=${PARTS:-1}
mkdir -p "$work" Data/default
if [ -z "${BIN:-}" ]; then swift build -c release --product ensemblegen >/dev/null; fi
bin=${BIN:-.build/release/ensemblegen}
seconds() { date +%s; }
t0=$(seconds)
[ -f "$work/ens40.nc" ] || "$bin" simulate --members 40 --start 1850 --end 2005 --grid 32x64 --seed 1 -q --output "$work/ens40.nc"

vae=${VAE:-$work/vae.safetensors}
t1=$(seconds)
if [ ! -f "$vae" ] || [ -f "$vae.training-state" ]; then
    resume=(); [ -f "$vae.training-state" ] && resume=(--resume)
    "$bin" train-vae --data "$work/ens40.nc" --members 0-29 --validation-members 30-39 --epochs 8 \
        --samples-per-epoch 3072 --channels 16,32,64 --latent-channels 2 --threads "$threads" \
        --batch-parts "$parts" --output "$vae" "${resume[@]}"
fi
t2=$(seconds)

source Scripts/lib/train-generators.sh
train_generators "$work/ens40.nc" "$vae" "$work/model" 0-29 30-39
t4=$(seconds)

# Spread calibration: per latent location, factors that give the generated members the
# training members' grid-point spread (Docs/models.md); a marker file records that it ran.
calibrate=(); [ "${AR_CALIBRATE:-1}" = 1 ] && calibrate+=(autoregressive); [ "${TR_CALIBRATE:-1}" = 1 ] && calibrate+=(transformer)
for kind in "${calibrate[@]}"; do
    [ -f "$work/calibrated-$kind" ] || { "$bin" calibrate-spread --model "$work/model" --generator "$kind" \
        --data "$work/ens40.nc" --members 0-29 --threads "$threads" && touch "$work/calibrated-$kind"; }
done
t4c=$(seconds)

for kind in autoregressive transformer; do
    [ -f "$work/gen-$kind.nc" ] || "$bin" generate --model "$work/model" --generator "$kind" --members 30 --seed 2 \
        --threads "$threads" --output "$work/gen-$kind.nc"
done
[ -f "$work/baseline.nc" ] || "$bin" baseline --training "$work/ens40.nc" --training-members 0-29 \
    --conditioning-member 0 --members 30 --seed 3 --output "$work/baseline.nc" -q
for kind in autoregressive transformer; do
    "$bin" evaluate --generated "$work/gen-$kind.nc" --reference "$work/ens40.nc" --reference-members 30-39 \
        --training "$work/ens40.nc" --training-members 0-29 --baseline "$work/baseline.nc" \
        --conditioning-member 0 --output "$work/evaluation-$kind" >"$work/evaluation-$kind.txt"
done
t5=$(seconds)

# The data digest is of the tas values (the file itself carries a dated history line).
python=.venv/bin/python; [ -x "$python" ] || Scripts/setup.sh >/dev/null
cp "$work/model/vae.safetensors" "$work/model/conditioning.safetensors" \
   "$work/model/diffusion-autoregressive.safetensors" "$work/model/diffusion-transformer.safetensors" \
   "$work/model/unresolved-variability.safetensors" Data/default/
settings=$(generator_settings_json)
"$python" - "$work" "$t0" "$t1" "$t2" "$t4" "$t4c" "$t5" "$settings" <<'PY'
import hashlib, json, sys
import netCDF4, numpy
work, t0, t1, t2, t4, t4c, t5 = sys.argv[1], *map(int, sys.argv[2:8])
settings = json.loads(sys.argv[8])
def trained(kind):
    """Seconds the generator's training took (recorded per generator: they may run at once)."""
    try:
        return int(open(f"{work}/seconds-{kind}-model").read())
    except OSError:
        return None
def digest(path):
    """SHA-256 of the tas values as little-endian float32 in file order."""
    with netCDF4.Dataset(path) as ds:
        return hashlib.sha256(numpy.asarray(ds["tas"][:], dtype="<f4").tobytes()).hexdigest()
record = {
    "simulator": {"seed": 1, "members": 40, "grid": "32x64", "period": [1850, 2005], "command":
                  "ensemblegen simulate --members 40 --start 1850 --end 2005 --grid 32x64 --seed 1"},
    "data_tas_sha256": digest(f"{work}/ens40.nc"),
    "training_members": "0-29", "validation_members": "30-39", "conditioning_members": settings["conditioning_members"],
    "generator_settings": settings,
    "durations_seconds": {"simulate": t1 - t0, "vae": t2 - t1, "autoregressive": trained("autoregressive"),
                          "transformer": trained("transformer"), "generators_wall_clock": t4 - t2,
                          "spread_calibration": t4c - t4, "generate_and_evaluate": t5 - t4c},
    "evaluation": {kind: json.load(open(f"{work}/evaluation-{kind}/report.json")) for kind in
                   ("autoregressive", "transformer")},
}
json.dump(record, open("Data/default/training.json", "w"), indent=1, sort_keys=True)
print("wrote Data/default/training.json")
PY
du -sh Data/default
# The fidelity table of Docs/model-card.md from the reports just written.
"$python" Scripts/analysis/model_card_table.py "$work/evaluation-autoregressive" "$work/evaluation-transformer"
