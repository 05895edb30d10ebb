#!/usr/bin/env bash
# The main job on a fresh machine: install what is missing, build in release mode, generate
# 20 members for 1850–2005 with the shipped default model (Data/default), diagnose them and
# print a short summary. Outputs go to out/.
# Environment: MEMBERS (20), GENERATOR (autoregressive), STEPS (DDIM steps, 25).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
Scripts/setup.sh --system-only
echo "demo: building (release)…"
swift build -c release --product ensemblegen 2>&1 | tail -1
exe=.build/release/ensemblegen
mkdir -p out
$exe generate --model Data/default --generator "${GENERATOR:-autoregressive}" --members "${MEMBERS:-20}" \
     --start 1850 --end 2005 --sampler ddim --steps "${STEPS:-25}" --seed 1 --output out/ensemble.nc
$exe info out/ensemble.nc
$exe diagnose out/ensemble.nc --output out/diagnostics
echo "demo: figures in out/diagnostics/*.png, tables in out/diagnostics/report.md ($(( $(date +%s) - start )) s in all)"
