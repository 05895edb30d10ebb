# Sourced by Scripts/train-default.sh and Scripts/analysis/generalisation.sh: trains both
# generators of a model directory with the shipped model's settings.
#   train_generators DATA VAE MODEL_DIR TRAINING_MEMBERS VALIDATION_MEMBERS
# Needs $bin (the ensemblegen binary) and $threads. Settings from the environment:
# CONDITIONING (0-29: the conditioning members), GENERATORS_IN_PARALLEL (1: both at once,
# each on one thread; their weights do not depend on the thread count), STEPS_PER_EPOCH
# (500), AR_EPOCHS (60), AR_BATCH (64), AR_PARTS and TR_PARTS (2: --batch-parts),
# AR_INNOVATIONS and TR_INNOVATIONS (24: the AR order of the innovations learnt), AR_FLOOR
# and TR_FLOOR (1: whitening floor), TR_EPOCHS (12), TR_BATCH (32), TR_WIDTH (256),
# TR_LAYERS (2), TR_BLOCK (40 new months per window), TR_NEIGHBOURS (1), TR_THREADS (1).
# Each generator's training seconds go to MODEL_DIR/../seconds-<generator>-<model dir name>.
# A run resumes (--resume) when its training state exists and is skipped when its model exists.

train_generator() {  # data vae model training validation kind epochs batch threads parts [extra options]
    local data=$1 vae=$2 model=$3 training=$4 validation=$5 kind=$6
    local state="$model/diffusion-$kind.safetensors.training-state" resume=() begin
    [ -f "$state" ] && resume=(--resume)
    begin=$(date +%s)
    if [ ! -f "$model/diffusion-$kind.safetensors" ] || [ -f "$state" ]; then
        "$bin" train-diffusion --vae "$vae" --data "$data" --members "$training" --validation-members "$validation" \
            --conditioning-members "${CONDITIONING:-0-29}" --generator "$kind" --epochs "$7" --batch-size "$8" \
            --steps-per-epoch "${STEPS_PER_EPOCH:-500}" --threads "$9" --batch-parts "${10}" --output "$model" \
            "${@:11}" "${resume[@]}"
        echo $(( $(date +%s) - begin )) >"$(dirname "$model")/seconds-$kind-$(basename "$model")"
    fi
}

# The two runs write the same latent cache and unresolved variability (the same values); in
# parallel the transformer starts once the autoregressive run has written them.
train_generators() {  # data vae model training validation
    local ar_threads=$threads
    [ "${GENERATORS_IN_PARALLEL:-1}" = 1 ] && ar_threads=1
    set -- "$1" "$2" "$3" "$4" "$5"
    local autoregressive=(autoregressive "${AR_EPOCHS:-60}" "${AR_BATCH:-64}" "$ar_threads" "${AR_PARTS:-2}"
        --seasonal-scaling --innovation-order "${AR_INNOVATIONS:-24}" --whiten-residuals
        --whitening-floor "${AR_FLOOR:-1}" --conditioning-form both)
    local transformer=(transformer "${TR_EPOCHS:-12}" "${TR_BATCH:-32}" "${TR_THREADS:-1}" "${TR_PARTS:-2}"
        --seasonal-scaling --width "${TR_WIDTH:-256}" --layers "${TR_LAYERS:-2}" --block-months "${TR_BLOCK:-40}"
        --neighbour-months "${TR_NEIGHBOURS:-1}" --innovation-order "${TR_INNOVATIONS:-24}" --whiten-residuals
        --whitening-floor "${TR_FLOOR:-1}" --conditioning-form both)
    if [ "${GENERATORS_IN_PARALLEL:-1}" = 1 ]; then
        train_generator "$@" "${autoregressive[@]}" &
        local ar=$!
        while [ ! -f "$3/unresolved-variability.safetensors" ] && kill -0 $ar 2>/dev/null; do sleep 5; done
        train_generator "$@" "${transformer[@]}"
        wait $ar
    else
        train_generator "$@" "${autoregressive[@]}"
        train_generator "$@" "${transformer[@]}"
    fi
}

# The settings above as JSON, for a model's training record.
generator_settings_json() {
    cat <<JSON
{"conditioning_members": "${CONDITIONING:-0-29}", "generators_in_parallel": $([ "${GENERATORS_IN_PARALLEL:-1}" = 1 ] && echo true || echo false),
 "autoregressive": {"epochs": ${AR_EPOCHS:-60}, "batch_size": ${AR_BATCH:-64}, "batch_parts": ${AR_PARTS:-2},
  "steps_per_epoch": ${STEPS_PER_EPOCH:-500}, "seasonal_scaling": true, "innovation_order": ${AR_INNOVATIONS:-24},
  "whiten_residuals": true, "whitening_floor": ${AR_FLOOR:-1}, "conditioning_form": "both",
  "spread_calibration": $([ "${AR_CALIBRATE:-1}" = 1 ] && echo true || echo false)},
 "transformer": {"epochs": ${TR_EPOCHS:-12}, "batch_size": ${TR_BATCH:-32}, "batch_parts": ${TR_PARTS:-2},
  "steps_per_epoch": ${STEPS_PER_EPOCH:-500}, "threads": ${TR_THREADS:-1}, "width": ${TR_WIDTH:-256}, "layers": ${TR_LAYERS:-2},
  "block_months": ${TR_BLOCK:-40}, "neighbour_months": ${TR_NEIGHBOURS:-1}, "seasonal_scaling": true,
  "innovation_order": ${TR_INNOVATIONS:-24}, "whiten_residuals": true, "whitening_floor": ${TR_FLOOR:-1},
  "conditioning_form": "both", "spread_calibration": $([ "${TR_CALIBRATE:-1}" = 1 ] && echo true || echo false)}}
JSON
}
