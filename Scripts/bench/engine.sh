#!/usr/bin/env bash
# Tensor engine vs PyTorch on the CPU, same models, same sizes, same thread count, one run.
#  1. each convolution of the reference VAE (forward + dX + dW): our GFLOP/s, raw sgemm at
#     the same GEMM shapes (ours and sgemm timed in two rounds, A B A B, best median of each),
#     the fraction, and PyTorch's GFLOP/s;
#  2. one VAE training step (data-parallel as train-vae runs it, and whole) and forward-only transformer-denoiser steps at two shapes,
#     ours and PyTorch alternately (A B A B), best median of each side; our sampling steps
#     both on the whole batch and split over the cores as `generate` runs them.
# Ends with train_step_speedup_vs_torch=… and sample_step_speedup_vs_torch=… (PyTorch time / ours).
# Usage: Scripts/bench/engine.sh   (THREADS=2, PYTHON=.venv-bench/bin/python with torch installed)
set -euo pipefail
cd "$(dirname "$0")/../.."
threads=${THREADS:-2}
python=${PYTHON:-.venv-bench/bin/python}
if ! "$python" -c "import torch" 2>/dev/null; then
    echo "engine.sh: PyTorch is not importable by $python; create it with:" >&2
    echo "  python3 -m venv .venv-bench && .venv-bench/bin/pip install torch" >&2
    exit 1
fi
swift build -c release --product TensorBench >/dev/null
ours=(.build/release/TensorBench)
torch=("$python" Scripts/bench/torch_reference.py)
field() { "$python" -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }

echo "== convolution layers of the reference VAE, batch 32, forward + backward, $threads threads =="
# Each layer alone: OpenBLAS and the engine's own loops (the direct convolutions) on $threads threads.
"${ours[@]}" layers --threads "$threads" --loop-workers "$threads" >"${TMPDIR:-/tmp}/ours-layers.json"
"${torch[@]}" vae_layers --threads "$threads" >"${TMPDIR:-/tmp}/torch-layers.json"
"$python" - "${TMPDIR:-/tmp}/ours-layers.json" "${TMPDIR:-/tmp}/torch-layers.json" <<'PY'
import json, sys
ours = [json.loads(l) for l in open(sys.argv[1])]
torch = {j["layer"]: j for j in map(json.loads, open(sys.argv[2]))}
print(f"{'layer':8} {'ours GF/s':>10} {'sgemm GF/s':>11} {'fraction':>9} {'torch GF/s':>11}")
for o in ours:
    print(f"{o['layer']:8} {o['gflops']:10.1f} {o['gemm_gflops']:11.1f} {o['fraction_of_gemm']:9.2f} {torch[o['layer']]['gflops']:11.1f}")
PY

best() { sort -g | head -1; }
compare() {  # label, our command..., --, torch command...
    local label=$1; shift
    local split; for ((split = 1; split <= $#; split++)); do [ "${!split}" = "--" ] && break; done
    local a=("${@:1:split-1}") b=("${@:split+1}") oa=() tb=()
    for _ in 1 2; do
        oa+=("$(field "$("${a[@]}")" median_ms)")
        tb+=("$(field "$("${b[@]}")" median_ms)")
    done
    local o t
    o=$(printf '%s\n' "${oa[@]}" | best); t=$(printf '%s\n' "${tb[@]}" | best)
    printf '%-28s ours %9.2f ms   torch %9.2f ms   speedup %.2f\n' "$label" "$o" "$t" "$(awk -v t="$t" -v o="$o" 'BEGIN{print t/o}')" >&2
    awk -v t="$t" -v o="$o" 'BEGIN{print t/o}'
}
echo "== steps (A B A B, best median) =="
# The training step as `train-vae` runs it (the batch in 2 data-parallel parts, the summary
# line), and on the whole batch as `train-vae --batch-parts 1` runs it (single-threaded
# OpenBLAS, the engine's loops on every core), beside it with multi-threaded OpenBLAS and the
# loops on one core, as the whole batch ran before.
train=$(compare "VAE train step, 2 parts" "${ours[@]}" vae-train --parts 2 --threads "$threads" --repeats 5 -- \
        "${torch[@]}" vae_train --threads "$threads" --repeats 5)
trainw=$(compare "VAE train step, whole batch" "${ours[@]}" vae-train --threads "$threads" --repeats 5 -- \
         "${torch[@]}" vae_train --threads "$threads" --repeats 5)
compare "VAE train step, whole, BLAS-mt" "${ours[@]}" vae-train --multi-threaded-blas --threads "$threads" --repeats 5 -- \
        "${torch[@]}" vae_train --threads "$threads" --repeats 5 >/dev/null
# Sampling steps two ways: the whole batch with OpenBLAS on all threads (the summary
# line), and --split, the sequences split into one part per core with single-threaded
# OpenBLAS in each, as `generate` runs its member groups (printed beside it).
s1w=$(compare "transformer 32x64x128 whole" "${ours[@]}" transformer 32,64,128 --threads "$threads" --repeats 20 -- \
      "${torch[@]}" transformer --shape 32,64,128 --threads "$threads" --repeats 20)
s1=$(compare "transformer 32x64x128 split" "${ours[@]}" transformer 32,64,128 --split --threads "$threads" --repeats 20 -- \
     "${torch[@]}" transformer --shape 32,64,128 --threads "$threads" --repeats 20)
s2w=$(compare "transformer 30x1x256 whole" "${ours[@]}" transformer 30,1,256 --threads "$threads" --repeats 50 -- \
      "${torch[@]}" transformer --shape 30,1,256 --threads "$threads" --repeats 50)
s2=$(compare "transformer 30x1x256 split" "${ours[@]}" transformer 30,1,256 --split --threads "$threads" --repeats 50 -- \
     "${torch[@]}" transformer --shape 30,1,256 --threads "$threads" --repeats 50)
geomean() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.3f\n", sqrt(a*b)}'; }
echo "sample_step_speedup_32x64x128=$s1w"
echo "sample_step_speedup_30x1x256=$s2w"
echo "sample_step_speedup_split_vs_torch=$(geomean "$s1" "$s2")"
echo "train_step_speedup_whole_batch_vs_torch=$trainw"
echo "train_step_speedup_vs_torch=$train"
echo "sample_step_speedup_vs_torch=$(geomean "$s1w" "$s2w")"
