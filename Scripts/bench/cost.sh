#!/usr/bin/env bash
# Cost against grid size (release build): at 32x64, 64x128 and 96x192, on simulator data
# (10 members, 1850-2005, seed 1; training members 0-7, validation 8-9):
#   - train-vae: seconds per 1000 training fields and per epoch of 3072 (from the epoch's
#     samples/s, which times the training steps only); peak RSS;
#   - train-diffusion, autoregressive generator with the shipped settings (Scripts/lib/
#     train-generators.sh): seconds per training step of 64 sequences and per epoch of 500
#     steps (from the epoch's steps/s), and the rest of the run (encoding the members'
#     latents, fitting the unresolved variability, validation); peak RSS;
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
latent_channels() { for entry in ${LATENT_CHANNELS:-32x64:2 64x128:1 96x192:1}; do [ "${entry%%:*}" = "$1" ] && echo "${entry#*:}"; done; return 0; }
# rate LOG UNIT: the rate the last epoch line of LOG reports before UNIT ("samples/s", "steps/s").
rate() { awk -v unit="$2" '{ for (i = 2; i <= NF; i++) if ($i == unit) r = $(i - 1) } END { if (r == "") exit 1; print r }' "$1"; }
calc() { awk "BEGIN { printf \"$1\", $2 }"; }

printf '%-8s %-34s %12s %12s %10s\n' grid measurement seconds per_unit peak_MiB
for grid in ${GRIDS:-32x64 64x128 96x192}; do
    dir="$work/$grid"
    mkdir -p "$dir"
    [ -f "$dir/ens.nc" ] || "$bin" simulate --members 10 --start 1850 --end 2005 --grid "$grid" --seed 1 -q --output "$dir/ens.nc" >/dev/null
    channels=$(latent_channels "$grid")
    rm -rf "$dir"/vae.safetensors* "$dir/model"
    read -r v r < <(peak_rss "$bin" train-vae --data "$dir/ens.nc" --members 0-7 --validation-members 8-9 --validation-samples 64 \
        --epochs 1 --samples-per-epoch 1024 --channels 16,32,64 --latent-channels "${channels:-1}" --threads "$threads" \
        --output "$dir/vae.safetensors" 2>"$dir/vae.log")
    fields=$(rate "$dir/vae.log" samples/s)
    printf '%-8s %-34s %12s %12s %10d\n' "$grid" "train-vae, 1000 fields" "$(calc %.1f "1000 / $fields")" "s/1000" $((r / 1024))
    printf '%-8s %-34s %12s %12s %10s\n' "$grid" "train-vae, epoch of 3072 fields" "$(calc %.0f "3072 / $fields")" "s/epoch" ""
    read -r d q < <(peak_rss "$bin" train-diffusion --vae "$dir/vae.safetensors" --data "$dir/ens.nc" --members 0-7 \
        --validation-members 8-9 --conditioning-members 0-7 --generator autoregressive --epochs 1 --steps-per-epoch 60 \
        --batch-size 64 --threads "$threads" --batch-parts 2 --seasonal-scaling --innovation-order 24 --whiten-residuals \
        --whitening-floor 1 --conditioning-form both --output "$dir/model" 2>"$dir/diffusion.log")
    steps=$(rate "$dir/diffusion.log" steps/s)
    printf '%-8s %-34s %12s %12s %10d\n' "$grid" "train-diffusion AR, step of 64" "$(calc %.4f "1 / $steps")" "s/step" $((q / 1024))
    printf '%-8s %-34s %12s %12s %10s\n' "$grid" "train-diffusion AR, epoch of 500" "$(calc %.0f "500 / $steps")" "s/epoch" ""
    printf '%-8s %-34s %12s %12s %10s\n' "$grid" "train-diffusion AR, rest of the run" "$(calc %.0f "$d - 60 / $steps")" "s" ""
    for n in ${MEMBERS:-10 100 1000}; do
        period=(); years=156
        if [ "$n" -ge 1000 ]; then period=(--start 1996 --end 2005); years=10; fi
        rm -f "$dir/gen.nc" "$dir/gen.nc.partial"
        read -r g r < <(peak_rss "$bin" generate --model "$dir/model" --generator autoregressive --members "$n" "${period[@]}" \
            --seed 1 --threads "$threads" -q --output "$dir/gen.nc")
        printf '%-8s %-34s %12s %12s %10d\n' "$grid" "generate $n members x $years years" "$g" \
            "$(awk -v s="$g" -v n="$n" -v y="$years" 'BEGIN { printf "%.4f", s / (n * y) }')" $((r / 1024))
        rm -f "$dir/gen.nc" "$dir/gen.nc.partial"
    done
done
echo "per_unit of generate: seconds per member-year"
