#!/usr/bin/env bash
# Trains the VAE at compression ratios 4, 8, 16 and 32 on the evaluation ensemble
# (simulator seed 1, 40 members, 32x64, 1850-2005; train 0-29, validate and evaluate 30-39)
# and prints the reconstruction error of each: the table in Docs/models.md.
#
# Usage: Scripts/vae-compression-sweep.sh [work-dir] (default: out/vae-sweep)
# Environment: EPOCHS (8), SAMPLES_PER_EPOCH (3072), CHANNELS (16,32,64), THREADS (all cores).
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-out/vae-sweep}
epochs=${EPOCHS:-8}
samples=${SAMPLES_PER_EPOCH:-3072}
channels=${CHANNELS:-16,32,64}
threads=${THREADS:-$(nproc)}
mkdir -p "$work"
if [ -z "${BIN:-}" ]; then swift build -c release --product ensemblegen >/dev/null; fi
bin=${BIN:-.build/release/ensemblegen}
[ -f "$work/ens40.nc" ] || "$bin" simulate --members 40 --start 1850 --end 2005 --grid 32x64 --seed 1 -q --output "$work/ens40.nc"

# ratio: extra level (×8 downsampling) or not, latent channels
for setting in "4 ${channels} 4" "8 ${channels} 2" "16 ${channels} 1" "32 ${channels},${channels##*,} 2"; do
    read -r ratio widths latent <<<"$setting"
    model="$work/vae-c${ratio}.safetensors"
    if [ ! -f "$model" ] || [ -f "$model.training-state" ]; then
        resume=()
        [ -f "$model.training-state" ] && resume=(--resume)
        start=$(date +%s)
        "$bin" train-vae --data "$work/ens40.nc" --members 0-29 --validation-members 30-39 \
            --epochs "$epochs" --samples-per-epoch "$samples" --channels "$widths" --latent-channels "$latent" \
            --threads "$threads" --output "$model" "${resume[@]}" 2>"$work/train-c${ratio}.log" >/dev/null
        echo "ratio $ratio: trained in $(( $(date +%s) - start )) s" >"$work/time-c${ratio}.txt"
    fi
    "$bin" reconstruct --model "$model" --data "$work/ens40.nc" --members 30-39 --threads "$threads" -q >"$work/reconstruct-c${ratio}.txt"
    echo "== compression $ratio (channels $widths, latent $latent) =="
    cat "$work/time-c${ratio}.txt" "$work/reconstruct-c${ratio}.txt"
    grep "^epoch [0-9]*  loss" "$work/train-c${ratio}.log" | tail -1
done
