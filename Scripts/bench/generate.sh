#!/usr/bin/env bash
# Generation speed and memory (release build): N members × the whole conditioning period
# (156 years at 32x64 for the default model) for both generators with the default sampler,
# seconds, members per minute and peak RSS, then the time of the smallest member count
# relative to 16 members (a small ensemble should not cost a full one).
# Usage: Scripts/bench/generate.sh [model-dir] (default Data/default)
# Environment: MEMBERS ("2 16 100"), THREADS (all cores), GENERATORS ("autoregressive transformer"),
# SAMPLER (extra generate options, e.g. "--sampler ddim --steps 50"), BIN (a binary instead of building).
set -euo pipefail
cd "$(dirname "$0")/../.."
source Scripts/bench/common.sh
model=${1:-Data/default}
threads=${THREADS:-$(nproc)}
if [ -z "${BIN:-}" ]; then swift build -c release --product ensemblegen >/dev/null; fi
bin=${BIN:-.build/release/ensemblegen}
read -r -a sampler <<<"${SAMPLER:-}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '%-15s %8s %10s %14s %12s\n' generator members seconds members/min peak_RSS_MiB
for kind in ${GENERATORS:-autoregressive transformer}; do
    [ -f "$model/diffusion-$kind.safetensors" ] || { echo "no $model/diffusion-$kind.safetensors; skipping $kind"; continue; }
    declare -A took=()
    for n in ${MEMBERS:-2 16 100}; do
        rm -f "$work/gen.nc"
        read -r secs rss < <(peak_rss "$bin" generate --model "$model" --generator "$kind" --members "$n" "${sampler[@]}" \
            --seed 1 --threads "$threads" -q --output "$work/gen.nc")
        took[$n]=$secs
        awk -v k="$kind" -v n="$n" -v s="$secs" -v r="$rss" 'BEGIN { printf "%-15s %8d %10.1f %14.2f %12.0f\n", k, n, s, n * 60 / s, r / 1024 }'
    done
    smallest=$(printf '%s\n' "${!took[@]}" | sort -n | head -1)
    if [ -n "${took[16]:-}" ] && [ "$smallest" != 16 ]; then
        awk -v k="$kind" -v n="$smallest" -v a="${took[$smallest]}" -v b="${took[16]}" \
            'BEGIN { printf "%s: %d members take %.2f of the time of 16\n", k, n, a / b }'
    fi
    unset took
done
