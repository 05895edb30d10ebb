#!/usr/bin/env bash
# Generation speed and memory (release build): members per minute for N members × the
# whole conditioning period (156 years at 32x64 for the default model) with DDIM 50 steps,
# for both generators, and peak RSS for a small and a large member count.
# Usage: Scripts/bench/generate.sh [model-dir] (default Data/default)
# Environment: SMALL (10), LARGE (100), THREADS (all cores), GENERATORS ("autoregressive transformer").
set -euo pipefail
cd "$(dirname "$0")/../.."
source Scripts/bench/common.sh
model=${1:-Data/default}
small=${SMALL:-10}
large=${LARGE:-100}
threads=${THREADS:-$(nproc)}
swift build -c release --product ensemblegen >/dev/null
bin=.build/release/ensemblegen
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '%-15s %8s %10s %14s %12s\n' generator members seconds members/min peak_RSS_MiB
for kind in ${GENERATORS:-autoregressive transformer}; do
    [ -f "$model/diffusion-$kind.safetensors" ] || { echo "no $model/diffusion-$kind.safetensors; skipping $kind"; continue; }
    for n in "$small" "$large"; do
        read -r secs rss < <(peak_rss "$bin" generate --model "$model" --generator "$kind" --members "$n" \
            --sampler ddim --steps 50 --seed 1 --threads "$threads" -q --output "$work/gen.nc")
        awk -v k="$kind" -v n="$n" -v s="$secs" -v r="$rss" 'BEGIN { printf "%-15s %8d %10.1f %14.2f %12.0f\n", k, n, s, n * 60 / s, r / 1024 }'
    done
done
