#!/usr/bin/env bash
# Downloads MS-COCO 2014 (train/val images, caption annotations) and Karpathy's split file, verifying
# each against coco-scripts/checksums.md5, resuming interrupted downloads, then unpacks them.
#
#   coco-scripts/download_coco.sh DEST_DIR
#
# Disk: ~19 GB of zips (train2014 13 GB, val2014 6.2 GB, annotations 0.25 GB, Karpathy splits 0.04 GB) plus
# the same again unpacked; the zips may be deleted afterwards (KEEP_ZIPS=0).
# Mirrors: COCO_IMAGES_URL, COCO_ANNOTATIONS_URL, KARPATHY_URL override the sources (file:// works);
# COCO_CHECKSUMS points at another checksum list; COCO_FILES limits which files are fetched.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dest="${1:?usage: download_coco.sh DEST_DIR}"
images_url="${COCO_IMAGES_URL:-http://images.cocodataset.org/zips}"
annotations_url="${COCO_ANNOTATIONS_URL:-http://images.cocodataset.org/annotations}"
karpathy_url="${KARPATHY_URL:-https://cs.stanford.edu/people/karpathy/deepimagesent}"
checksums="${COCO_CHECKSUMS:-$here/checksums.md5}"
files="${COCO_FILES:-annotations_trainval2014.zip caption_datasets.zip val2014.zip train2014.zip}"
mkdir -p "$dest"

url_for() {
  case "$1" in
    annotations_*) echo "$annotations_url/$1" ;;
    caption_datasets.zip) echo "$karpathy_url/$1" ;;
    *) echo "$images_url/$1" ;;
  esac
}

local_sums="$dest/checksums.local.md5"
touch "$local_sums"

expected_md5() {
  local sum
  sum="$(awk -v f="$1" '$2 == f && $1 !~ /^#/ { print $1 }' "$checksums")"
  [[ -n "$sum" ]] || { echo "error: no checksum entry for $1 in $checksums" >&2; exit 3; }
  if [[ "$sum" == "-" ]]; then
    sum="$(awk -v f="$1" '$2 == f { print $1 }' "$local_sums")"
    [[ -n "$sum" ]] || sum="-"
  fi
  echo "$sum"
}

for f in $files; do
  out="$dest/$f"
  want="$(expected_md5 "$f")"
  if [[ -f "$out" ]] && [[ "$want" == "-" || "$(md5sum "$out" | cut -d' ' -f1)" == "$want" ]]; then
    echo "ok: $f already downloaded and verified"
  else
    url="$(url_for "$f")"
    echo "downloading $url"
    # -C - resumes a partial .part file left by an interrupted run.
    curl -fL --retry 3 -C - -o "$out.part" "$url"
    got="$(md5sum "$out.part" | cut -d' ' -f1)"
    if [[ "$want" == "-" ]]; then
      echo "warning: no published checksum for $f; recorded MD5 $got in $local_sums (later downloads must match it)" >&2
      echo "$got  $f" >> "$local_sums"
      want="$got"
    fi
    if [[ "$got" != "$want" ]]; then
      rm -f "$out.part"
      echo "error: $f has MD5 $got, expected $want; the download was deleted, run again to retry" >&2
      exit 1
    fi
    mv "$out.part" "$out"
    echo "ok: $f verified"
  fi
  marker="$dest/.unpacked-$f"
  if [[ ! -f "$marker" ]]; then
    echo "unpacking $f"
    unzip -q -o "$out" -d "$dest"
    touch "$marker"
  fi
  if [[ "${KEEP_ZIPS:-1}" == 0 ]]; then rm -f "$out"; fi
done
echo "MS-COCO is in $dest"
