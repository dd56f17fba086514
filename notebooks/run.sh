#!/usr/bin/env bash
# Executes the notebooks headless with the captioner-java kernel (see setup.sh), in place so the committed
# files carry their outputs, or into --out DIR. Shared data is read from CAPTIONER_SHARED (default ../shared).
# Usage: notebooks/run.sh [--out DIR] [notebook.ipynb ...]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out=""
if [[ "${1:-}" == "--out" ]]; then out="$2"; shift 2; fi
books=("$@")
[[ ${#books[@]} -gt 0 ]] || books=("$here"/0*.ipynb)
"$here/setup.sh"
export JUPYTER_PATH="$here/target"
export CAPTIONER_SHARED="${CAPTIONER_SHARED:-$(cd "$here/../.." && pwd)/shared}"
export CAPTIONER_WEIGHTS_DIR="${CAPTIONER_WEIGHTS_DIR:-$CAPTIONER_SHARED/weights}"
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"   # as ./captioner: no OpenMP spinning between ND4J ops
args=(--to notebook --execute --ExecutePreprocessor.kernel_name=captioner-java --ExecutePreprocessor.timeout=900 --ExecutePreprocessor.startup_timeout=90)
if [[ -n "$out" ]]; then args+=(--output-dir "$out"); else args+=(--inplace); fi
cd "$here"   # notebooks run with notebooks/ as the working directory
# The kernel (rapaio 3.0.1) sometimes loses the race between Jupyter's first kernel_info_request and its own
# start-up (an NPE in its shell thread), and then never answers: such a start is retried.
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
for b in "${books[@]}"; do
  for attempt in 1 2 3 4; do
    echo "notebooks: executing $b (attempt $attempt)" >&2
    if /usr/bin/python3 -m nbconvert "${args[@]}" "$b" >"$log" 2>&1; then
      grep -v "^Add \|^Parsing classpath" "$log" | tail -n 3 >&2
      break
    fi
    if ! grep -q "Kernel didn't respond" "$log" || [[ $attempt == 4 ]]; then
      cat "$log" >&2
      exit 1
    fi
  done
done
