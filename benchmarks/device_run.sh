#!/usr/bin/env bash
# The accelerator run of issue 19 point 5: install the CUDA build of JAX (the version this
# project is tested with), then write one JSON of figures (benchmarks/device_figures.py: RDME B1
# in both forms, pure diffusion against the bandwidth roofline, GRN at 1e5 and 1e6 cells,
# tissue at 1e5 cells). Bounded to 8 minutes in all; a failing case is recorded, not fatal.
#
#   bash benchmarks/device_run.sh [OUTPUT_JSON]   # default: $OUT/device_figures.json, else ./
set -uo pipefail
cd "$(dirname "$0")/.."
JAX_VERSION=0.10.2          # python -c "import jax; print(jax.__version__)" where the tests run
TOTAL_S=470                 # under 8 minutes, with room for start-up and the JSON
START=$(date +%s)
OUTPUT=${1:-${OUT:-.}/device_figures.json}
PYTHON=${PYTHON:-python}

if ! command -v nvidia-smi >/dev/null; then
    echo "device_run.sh: no nvidia-smi on PATH; the cases will run on whatever JAX finds" >&2
fi
# the install may fail (no network on the machine): then the JAX already installed is used,
# and the JSON says which platform it ran on (cases.copy_bandwidth.platform)
if ! timeout 150 "$PYTHON" -m pip install -q -U "jax[cuda12]==${JAX_VERSION}"; then
    echo "device_run.sh: pip install jax[cuda12]==${JAX_VERSION} failed; going on" >&2
fi
"$PYTHON" -c "import jax; print('jax', jax.__version__, jax.devices())" || true

LEFT=$(( TOTAL_S - ($(date +%s) - START) ))
timeout $(( LEFT + 20 )) "$PYTHON" benchmarks/device_figures.py --scale gpu \
    --budget-s "$LEFT" --out "$OUTPUT"
echo "device_run.sh: $(( $(date +%s) - START )) s in all; figures in $OUTPUT"
