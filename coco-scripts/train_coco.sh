#!/usr/bin/env bash
# Extracts features for MS-COCO 2014 and trains a decoder on the Karpathy split (train + restval,
# selection on val), with the recommended settings.
#
#   coco-scripts/train_coco.sh COCO_DIR MODEL_DIR [lstm|attention|rnn]
#
# Expects COCO_DIR from download_coco.sh (train2014/, val2014/, dataset_coco.json).
# Disk: features of 123,287 images ~ 21 GB (float16 grids) + 0.25 GB vectors.
# Time on a 2-core CPU: features ~35 min per 100k images (SqueezeNet, ~60 images/s); training the lstm
# decoder ~ 7.4 M target tokens per epoch, about 2-2.5 h per epoch at 900-1,000 tokens/s.
# Both steps resume when rerun (features skip done images; training uses --resume when a checkpoint exists).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
coco="${1:?usage: train_coco.sh COCO_DIR MODEL_DIR [decoder]}"
model="${2:?usage: train_coco.sh COCO_DIR MODEL_DIR [decoder]}"
decoder="${3:-lstm}"
features="${FEATURES_DIR:-$coco/features-squeezenet}"
"$here/captioner" features --encoder squeezenet --recursive --out "$features" "$coco/train2014" "$coco/val2014" || [[ $? == 1 ]]
resume=()
[[ -f "$model/checkpoint/state.json" ]] && resume=(--resume)
"$here/captioner" train --data karpathy --captions "$coco/dataset_coco.json" --dev-split val \
  --features "$features" --decoder "$decoder" --out "$model" --epochs "${EPOCHS:-15}" --batch 64 --lr 4e-4 \
  --checkpoint-every 1000 --limit-dev "${DEV_IMAGES:-5000}" "${resume[@]}"
"$here/captioner" evaluate --refs "$coco/dataset_coco.json" --split test --results "$model/test-captions.jsonl" 2>/dev/null \
  || echo "to score the test split: ./captioner caption ... then ./captioner evaluate --refs $coco/dataset_coco.json --split test --results FILE"
