#!/usr/bin/env bash
# Cost against grid size (release build): at 32x64, 64x128 and 96x192, on simulator data
# (10 members, 1850-2005, seed 1; training members 0-7, validation 8-9):
#   - train-vae: seconds per 1000 fields (the slope between epochs of 256 and 768 fields, so
#     start-up and validation cancel) and seconds per epoch of 3072 fields; peak RSS;
#   - train-diffusion, autoregressive generator with the shipped settings (Scripts/lib/
#     train-generators.sh): seconds per training step of 64 sequences and per epoch of 500
#     steps (slope between 10 and 40 steps), the fixed part (encoding the training and
#     conditioning members' latents, fitting the unresolved variability); peak RSS;
#   - generate with that model (the default sampler): 10 and 100 members x 156 years and
#     1000 members x 10 years (1996-2005); seconds, seconds per member-year, peak RSS.
# The networks are trained for a few steps only: cost does not depend on the weights.
# Usage: Scripts/bench/cost.sh [work-dir] (default: a temporary directory, removed after)
# Environment: GRIDS ("32x64 64x128 96x192"), LATENT_CHANNELS ("32x64:2 64x128:1 96x192:1",
# the VAE's latent channels per grid; channels 16,32,64), THREADS (all cores), MEMBERS
# ("10 100 1000"), BIN (an ensemblegen binary instead of building).
set -euo pipefail
cd "$(dirname "$0")/../.."
source Scripts/bench/common.sh
threads=${THREADS:-$(nproc)}
if [ -z "${BIN:-}" ]; then swift build -c release --product ensemblegen >/dev/null; fi
bin=${BIN:-.build/release/ensemblegen}
if [ -n "${1:-}" ]; then work=$1; mkdir -p "$work"; else work=$(mktemp -d); trap 'rm -rf "$work"' EXIT; fi
latent_channels() { for entry in ${LATENT_CHANNELS:-32x64:2 64x128:1 96x192:1}; do [ "${entry%%:*}" = "$1" ] && echo "${entry#*:}"; done; }
# slope x1 y1 x2 y2: (y2 - y1) / (x2 - x1)
slope() { awk -v a="$1" -v b="$2" -v c="$3" -v d="$4" 'BEGIN { printf "%.4f", (d - b) / (c - a) }'; }

printf '%-8s %-34s %12s %12s %10s\n' grid measurement seconds per_unit peak_MiB
for grid in ${GRIDS:-32x64 64x128 96x192}; do
    dir="$work/$grid"
    mkdir -p "$dir"
    [ -f "$dir/ens.nc" ] || "$bin" simulate --members 10 --start 1850 --end 2005 --grid "$grid" --seed 1 -q --output "$dir/ens.nc" >/dev/null
    channels=$(latent_channels "$grid")
    vae=(train-vae --data "$dir/ens.nc" --members 0-7 --validation-members 8-9 --validation-samples 64 --epochs 1
         --channels 16,32,64 --latent-channels "${channels:-1}" --threads "$threads" -q)
    rm -f "$dir"/vae-*.safetensors*
    read -r s1 r1 < <(peak_rss "$bin" "${vae[@]}" --samples-per-epoch 256 --output "$dir/vae-256.safetensors")
    read -r s2 r2 < <(peak_rss "$bin" "${vae[@]}" --samples-per-epoch 768 --output "$dir/vae.safetensors")
    per=$(slope 256 "$s1" 768 "$s2")
    printf '%-8s %-34s %12s %12s %10d\n' "$grid" "train-vae, 1000 fields" "$(awk -v p="$per" 'BEGIN { printf "%.1f", p * 1000 }')" \
        "s/1000" $((r2 / 1024))
    printf '%-8s %-34s %12s %12s %10s\n' "$grid" "train-vae, epoch of 3072 fields" "$(awk -v p="$per" 'BEGIN { printf "%.0f", p * 3072 }')" "s/epoch" ""
    diffusion=(train-diffusion --vae "$dir/vae.safetensors" --data "$dir/ens.nc" --members 0-7 --validation-members 8-9
               --conditioning-members 0-7 --generator autoregressive --epochs 1 --batch-size 64 --threads "$threads"
               --batch-parts 2 --seasonal-scaling --innovation-order 24 --whiten-residuals --whitening-floor 1
               --conditioning-form both -q)
    rm -rf "$dir/model-10" "$dir/model"
    read -r d1 q1 < <(peak_rss "$bin" "${diffusion[@]}" --steps-per-epoch 10 --output "$dir/model-10")
    read -r d2 q2 < <(peak_rss "$bin" "${diffusion[@]}" --steps-per-epoch 40 --output "$dir/model")
    step=$(slope 10 "$d1" 40 "$d2")
    printf '%-8s %-34s %12s %12s %10d\n' "$grid" "train-diffusion AR, step of 64" "$step" "s/step" $((q2 / 1024))
    printf '%-8s %-34s %12s %12s %10s\n' "$grid" "train-diffusion AR, epoch of 500" "$(awk -v p="$step" 'BEGIN { printf "%.0f", p * 500 }')" "s/epoch" ""
    printf '%-8s %-34s %12s %12s %10s\n' "$grid" "train-diffusion AR, fixed part" "$(awk -v a="$d1" -v p="$step" 'BEGIN { printf "%.0f", a - 10 * p }')" "s" ""
    for n in ${MEMBERS:-10 100 1000}; do
        period=(); years=156
        if [ "$n" -ge 1000 ]; then period=(--start 1996 --end 2005); years=10; fi
        rm -f "$dir/gen.nc"
        read -r g r < <(peak_rss "$bin" generate --model "$dir/model" --generator autoregressive --members "$n" "${period[@]}" \
            --seed 1 --threads "$threads" -q --output "$dir/gen.nc")
        printf '%-8s %-34s %12s %12s %10d\n' "$grid" "generate $n members x $years years" "$g" \
            "$(awk -v s="$g" -v n="$n" -v y="$years" 'BEGIN { printf "%.4f", s / (n * y) }')" $((r / 1024))
        rm -f "$dir/gen.nc"
    done
done
echo "per_unit of generate: seconds per member-year"
