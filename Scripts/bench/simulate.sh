#!/usr/bin/env bash
# Simulator speed and memory (release build):
#  1. 40 members x 156 years monthly at 32x64 (target: under 60 s on 2 cores);
#  2. peak RSS at 96x192 for 2 and 6 members (must not grow with the member count).
set -euo pipefail
cd "$(dirname "$0")/../.."
source Scripts/bench/common.sh
swift build -c release --product ensemblegen >/dev/null
exe=.build/release/ensemblegen
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
read -r s rss < <(peak_rss $exe simulate --members 40 --start 1850 --end 2005 --grid 32x64 --seed 1 --quiet --output "$tmp/a.nc")
echo "simulate_32x64_40members_seconds=$s peak_rss_mib=$((rss / 1024))"
for n in 2 6; do
  read -r s rss < <(peak_rss $exe simulate --members $n --start 1850 --end 2005 --grid 96x192 --seed 1 --quiet --output "$tmp/b$n.nc")
  echo "simulate_96x192_${n}members_seconds=$s peak_rss_mib=$((rss / 1024))"
done
