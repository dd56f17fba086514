#!/usr/bin/env bash
# Reproduces the bundled default's recipe on MS-COCO: features with the default's encoder (MobileNetV2) ->
# cross-entropy training of the sparsemax attention decoder -> self-critical training -> length-alpha tuning on val
# -> captions of the test split -> OUT_DIR/test-scores.json. The model is OUT_DIR/model
# (./captioner caption --model OUT_DIR/model ...).
#
#   coco-scripts/train_coco.sh COCO_DIR OUT_DIR
#
# COCO_DIR, either layout:
#   2014 (download_coco.sh): train2014/, val2014/, dataset_coco.json (Karpathy's split: train + restval for training,
#        val for selection, test for the final score);
#   2017: train2017/, val2017/ and a split file (SPLIT_FILE, default COCO_DIR/dataset_coco.json: Karpathy's, whose
#        images are matched to the 2017 files by their COCO id); without one, annotations/captions_train2017.json
#        for training and annotations/captions_val2017.json for selection and the final score (no held-out test set).
# Environment: EPOCHS (cross-entropy epochs, default 6), SCST_EPOCHS (2), DEV_IMAGES (val images for selection, 5000),
#   BATCH (64), ALPHAS (length alphas to try), FEATURES_DIR (default OUT_DIR/features), CAPTIONER (the launcher).
# Every step resumes when the script is rerun: features skip the images done, training continues from its last
# checkpoint, finished steps are skipped (OUT_DIR/.done-STEP). A failing step stops the script with its reason.
# Disk and time: docs/training.md ("MS-COCO").
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
usage="usage: train_coco.sh COCO_DIR OUT_DIR"
coco="$(cd "${1:?$usage}" && pwd)"
out="${2:?$usage}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
captioner="${CAPTIONER:-$here/captioner}"
epochs="${EPOCHS:-6}" scst_epochs="${SCST_EPOCHS:-2}" dev_images="${DEV_IMAGES:-5000}" batch="${BATCH:-64}"
alphas="${ALPHAS:-0,0.25,0.5,0.75,1,1.25,1.5}"
features="${FEATURES_DIR:-$out/features}"
log() { echo "train_coco.sh: $*" >&2; }

# step NAME COMMAND...: runs COMMAND unless NAME is done; exit 1 of features (some images failed) is not a failure
step() {
  local name="$1"; shift
  if [[ -f "$out/.done-$name" ]]; then log "$name: done before, skipped"; return; fi
  log "$name: $*"
  local rc=0
  "$@" || rc=$?
  if [[ $rc -ne 0 && ! ( $name == features && $rc -eq 1 ) ]]; then
    log "$name failed (exit $rc); fix the cause and rerun the same command to resume"
    exit "$rc"
  fi
  touch "$out/.done-$name"
}

# the layout: image folders and the captions every step reads
if [[ -d "$coco/train2014" ]]; then
  images=("$coco/train2014" "$coco/val2014")
  split_file="${SPLIT_FILE:-$coco/dataset_coco.json}"
elif [[ -d "$coco/train2017" ]]; then
  images=("$coco/train2017" "$coco/val2017")
  split_file="${SPLIT_FILE:-$coco/dataset_coco.json}"
else
  log "$coco has neither train2014/ nor train2017/ (see coco-scripts/README.md)"; exit 3
fi
if [[ -f "$split_file" ]]; then
  data=(--data karpathy --captions "$split_file" --dev-split val)
  sel=(--captions "$split_file" --split val)
  test=(--captions "$split_file" --split test)
elif [[ -f "$coco/annotations/captions_train2017.json" ]]; then
  data=(--data coco --captions "$coco/annotations/captions_train2017.json" --dev-captions "$coco/annotations/captions_val2017.json")
  sel=(--captions "$coco/annotations/captions_val2017.json")
  test=("${sel[@]}")
  log "no split file ($split_file): training on train2017, selection and final score on val2017"
else
  log "no split file: $split_file (download_coco.sh fetches Karpathy's; or set SPLIT_FILE)"; exit 3
fi
resume() { [[ -f "$1/checkpoint/state.json" ]] && echo --resume || true; }

step features "$captioner" features --encoder mobilenetv2 --no-progress --out "$features" "${images[@]}"
# shellcheck disable=SC2046
step train "$captioner" train "${data[@]}" --features "$features" --out "$out/xe" --epochs "$epochs" --batch "$batch" \
  --limit-dev "$dev_images" --checkpoint-every 1000 --no-progress $(resume "$out/xe")
# shellcheck disable=SC2046
step scst "$captioner" train --scst --init "$out/xe" "${data[@]}" --features "$features" --out "$out/model" \
  --epochs "$scst_epochs" --batch "$batch" --limit-dev "$dev_images" --checkpoint-every 200 --no-progress $(resume "$out/model")
step length-alpha "$captioner" decode --model "$out/model" --features "$features" "${sel[@]}" --out "$out/val-captions.jsonl" \
  --tune-length-alpha "$alphas"
step decode-test "$captioner" decode --model "$out/model" --features "$features" "${test[@]}" --out "$out/test-captions.jsonl"
evaluate_test() {
  "$captioner" evaluate "${test[@]}" --results "$out/test-captions.jsonl" --json > "$out/test-scores.json.tmp"
  mv "$out/test-scores.json.tmp" "$out/test-scores.json"
}
step evaluate evaluate_test
log "done: model $out/model, test scores $out/test-scores.json"
cat "$out/test-scores.json"
