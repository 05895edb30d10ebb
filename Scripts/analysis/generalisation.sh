#!/usr/bin/env bash
# The generalisation evaluation of a model (Docs/evaluation.md, "Generalisation"): the same
# `ensemblegen evaluate` metrics around the training simulation and around simulations the
# model never saw, then Scripts/analysis/generalisation_tables.py prints the tables of
# Docs/model-card.md. Stages (each skipped when its output exists, so the script resumes):
#   1. training simulation (seed 1): 50 more members (40-89, never trained on): 30 are the
#      reference, 20 the "true members" candidate; generated members conditioned on the
#      model's own conditioning series (member 0 of seed 1);
#   2. unseen simulations (SEEDS, default 101 102 103; 51 members each): conditioned on member
#      0, compared with members 1-30, true-members candidate 31-50;
#   3. another scenario (SCENARIOS, default ssp585 ssp126; seed 201, 202; 1850-2100, 51 members
#      each): as 2, plus the VAE's reconstruction of members 1-3 for its error by period;
#   4. held-out period: a model trained with the shipped settings (Scripts/lib/train-generators.sh)
#      on 1850-1960 of the training ensemble (members 0-29, the shipped VAE), and the model under
#      test, both conditioned on member 0 of seed 1 and evaluated on 1961-2005 (Agung, El
#      Chichon, Pinatubo: eruptions the first never saw) against the stage-1 members.
# Usage: Scripts/analysis/generalisation.sh [work-dir]   (default out/generalisation)
# Environment: MODEL (Data/default), BIN (ensemblegen binary; built when unset), MEMBERS (30
# generated members), THREADS, STAGES (default "training unseen scenario held-out"), GENERATORS
# (default "autoregressive transformer"),
# TRAINING_ENSEMBLE (out/train-default/ens40.nc: the model's 40-member training ensemble,
# simulated when missing), and the generator settings of Scripts/lib/train-generators.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=${1:-out/generalisation}
model=${MODEL:-Data/default}
threads=${THREADS:-$(nproc)}
members=${MEMBERS:-30}
stages=${STAGES:-training unseen scenario held-out}
read -r -a generators <<<"${GENERATORS:-autoregressive transformer}"
mkdir -p "$work"
if [ -z "${BIN:-}" ]; then swift build -c release --product ensemblegen >/dev/null; fi
bin=${BIN:-.build/release/ensemblegen}
python=.venv/bin/python; [ -x "$python" ] || Scripts/setup.sh >/dev/null
source Scripts/lib/train-generators.sh
has() { [[ " $stages " == *" $1 "* ]]; }
simulate() {  # output [simulate options]
    [ -f "$1" ] || "$bin" simulate --grid 32x64 --start 1850 -q --output "$@"
}
generate() {  # model kind output [generate options]
    [ -f "$3" ] || "$bin" generate --model "$1" --generator "$2" --members "$members" --seed 2 --threads "$threads" \
        -q --output "$3" "${@:4}"
}
evaluate() {  # generated reference output [evaluate options]
    [ -f "$3/report.json" ] || "$bin" evaluate --generated "$1" --reference "$2" --output "$3" -q "${@:4}" >/dev/null
}
years() {  # input output first last: the years first-last of a file
    [ -f "$2" ] || ncks -O -d time,"$3-01-01","$4-12-31" "$1" "$2"
}

if has training || has held-out; then
    simulate "$work/seed1-more.nc" --members 50 --first-member 40 --end 2005 --seed 1
fi
if has training; then
    for kind in "${generators[@]}"; do
        generate "$model" "$kind" "$work/gen-seed1-$kind.nc"
        evaluate "$work/gen-seed1-$kind.nc" "$work/seed1-more.nc" "$work/eval-seed1-$kind" --reference-members 0-29 \
            --training "$work/seed1-more.nc" --training-members 30-49
    done
fi

if has unseen; then
    for seed in ${SEEDS:-101 102 103}; do
        simulate "$work/seed$seed.nc" --members 51 --end 2005 --seed "$seed"
        for kind in "${generators[@]}"; do
            generate "$model" "$kind" "$work/gen-seed$seed-$kind.nc" --conditioning "$work/seed$seed.nc" --conditioning-member 0
            evaluate "$work/gen-seed$seed-$kind.nc" "$work/seed$seed.nc" "$work/eval-seed$seed-$kind" --reference-members 1-30 \
                --training "$work/seed$seed.nc" --training-members 31-50 --conditioning-member 0
        done
    done
fi

if has scenario; then
    seed=201
    for scenario in ${SCENARIOS:-ssp585 ssp126}; do
        simulate "$work/$scenario.nc" --members 51 --end 2100 --seed "$seed" --scenario "$scenario"
        [ -f "$work/reconstruct-$scenario.nc" ] || "$bin" reconstruct --model "$model" --data "$work/$scenario.nc" --members 1-3 \
            --threads "$threads" -q --output "$work/reconstruct-$scenario.nc" >"$work/reconstruct-$scenario.txt"
        for kind in "${generators[@]}"; do
            generate "$model" "$kind" "$work/gen-$scenario-$kind.nc" --conditioning "$work/$scenario.nc" --conditioning-member 0
            evaluate "$work/gen-$scenario-$kind.nc" "$work/$scenario.nc" "$work/eval-$scenario-$kind" --reference-members 1-30 \
                --training "$work/$scenario.nc" --training-members 31-50 --conditioning-member 0
        done
        seed=$((seed + 1))
    done
fi

if has held-out; then
    ensemble=${TRAINING_ENSEMBLE:-out/train-default/ens40.nc}
    simulate "$ensemble" --members 40 --end 2005 --seed 1
    years "$ensemble" "$work/ens40-1850-1960.nc" 1850 1960
    years "$work/seed1-more.nc" "$work/seed1-more-1961-2005.nc" 1961 2005
    mkdir -p "$work/model-1850-1960"
    train_generators "$work/ens40-1850-1960.nc" "$model/vae.safetensors" "$work/model-1850-1960" 0-29 30-39
    for kind in "${generators[@]}"; do
        for trained in 1850-1960 1850-2005; do
            directory=$work/model-1850-1960; [ "$trained" = 1850-2005 ] && directory=$model
            generate "$directory" "$kind" "$work/gen-period-$trained-$kind.nc" --conditioning "$ensemble" --conditioning-member 0 \
                --start 1961 --end 2005
            evaluate "$work/gen-period-$trained-$kind.nc" "$work/seed1-more-1961-2005.nc" "$work/eval-period-$trained-$kind" \
                --reference-members 0-29 --training "$work/seed1-more-1961-2005.nc" --training-members 30-49
        done
    done
fi

"$python" Scripts/analysis/generalisation_tables.py "$work"
