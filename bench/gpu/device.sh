#!/usr/bin/env bash
# The GPU benchmark's one command on the GPU machine (bench/gpu/README.md has the exact `run` call): unpacks the
# carry folder .gpu/ (made here by `node bench/gpu/pack.mjs`), brings the Vulkan loader if the machine has none,
# finds the NVIDIA Vulkan driver, then measures, one after the other on the same GPU:
#   1. PyTorch + PEFT (bench/gpu/torch_peft.py) on the weights Tailor's side generated;
#   2. Tailor on WebGPU (bench/gpu/tailor-gpu.mjs);
# and writes into $OUT: result.json (both sides, ratios, goals), table.txt, log.txt, tailor.json, torch.json,
# nvidia-smi.txt, gpu-samples.csv (GPU memory and utilisation every 0.5 s, per side). Installs nothing from a network.
#
#   OUT=/some/dir bash bench/gpu/device.sh [--shape qwen2.5-0.5b|wide1|tiny] [--budget SECONDS] [--no-torch]
#       [--tailor-device webgpu|cpu] [--tailor-args "…"] [--torch-args "…"]
# --budget: seconds the whole script may take (default 480, well inside the 540 s timeout of the documented call).
# Here (no GPU): `OUT=/tmp/gpuout bash bench/gpu/device.sh --shape tiny` runs the same steps on whatever Vulkan
# device there is (lavapipe), the PyTorch side failing to import if torch/transformers/peft are missing.
set -u
ARGS=$(printf "%q " "$@"); ARGS=${ARGS% }
REPO=$(cd "$(dirname "$0")/../.." && pwd)
cd "$REPO"
SHAPE=qwen2.5-0.5b
BUDGET=480
NO_TORCH=0
TAILOR_DEVICE=webgpu
TAILOR_ARGS=""
TORCH_ARGS=""
while [ $# -gt 0 ]; do
  case "$1" in
    --shape) SHAPE=$2; shift 2 ;;
    --budget) BUDGET=$2; shift 2 ;;
    --no-torch) NO_TORCH=1; shift ;;
    --tailor-device) TAILOR_DEVICE=$2; shift 2 ;;
    --tailor-args) TAILOR_ARGS=$2; shift 2 ;;
    --torch-args) TORCH_ARGS=$2; shift 2 ;;
    *) echo "device.sh: unknown argument $1" >&2; exit 64 ;;
  esac
done
OUT=${OUT:-/tmp/tailor-gpu-out}
W=${TAILOR_GPU_DIR:-/tmp/tailor-gpu}
WORK=${TAILOR_GPU_WORK:-/tmp/tailor-gpu-work}
mkdir -p "$OUT" "$W" "$WORK"
T0=$(date +%s)
DEADLINE=$((T0 + BUDGET))
now() { date +%s; }
left() { echo $((DEADLINE - $(now))); }
exec > >(tee -a "$OUT/log.txt") 2>&1
TEE=$!
export PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
echo "== Tailor GPU benchmark: shape $SHAPE, budget ${BUDGET}s, $(date -u +%FT%TZ), $(uname -srm), $(nproc) CPUs"
echo "   command: OUT=\$OUT bash bench/gpu/device.sh $ARGS"
[ -f .gpu/MANIFEST.json ] || { echo "device.sh: .gpu/MANIFEST.json is missing: run node bench/gpu/pack.mjs here and name .gpu in carry"; exit 66; }

# --- 1. unpack ----------------------------------------------------------------------------------------------------
echo "== unpack"
if ! python3 bench/gpu/unpack.py .gpu "$W"; then
  echo "device.sh: Python could not unpack; trying tar"
  for a in runtime app; do tar -xJf ".gpu/$a.tar.xz" -C "$W" || exit 65; done
fi
NODE="$W/bin/node"
"$NODE" -e 'console.log(`node ${process.version} ${process.platform}-${process.arch}`)' || { echo "device.sh: the carried Node does not run here"; exit 65; }

# --- 2. Vulkan loader and driver ------------------------------------------------------------------------------------
echo "== Vulkan"
if ! ldconfig -p | grep -q 'libvulkan\.so\.1'; then
  echo "no Vulkan loader: unpacking .gpu/gl/*.deb into / (device README)"
  for f in .gpu/gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
ldconfig -p | grep libvulkan || echo "device.sh: still no libvulkan.so.1"
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp/xdg-runtime}
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
ls /usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/nvidia/share/vulkan/icd.d 2>/dev/null
PROBE=$("$NODE" bench/gpu/tailor-gpu.mjs --probe-only --root "$W"); PROBE_RC=$?
echo "probe: $PROBE"
NV_ICD=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ "$PROBE_RC" != 0 ] && [ -f "$NV_ICD" ]; then
  echo "no hardware adapter: pointing the loader at $NV_ICD (device README)"
  export VK_DRIVER_FILES=$NV_ICD VK_ICD_FILENAMES=$NV_ICD __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
  PROBE=$("$NODE" bench/gpu/tailor-gpu.mjs --probe-only --root "$W"); PROBE_RC=$?
  echo "probe: $PROBE"
fi
[ "$PROBE_RC" = 0 ] || echo "device.sh: WARNING: Dawn finds no hardware adapter; Tailor's WebGPU figures below are not a GPU's"

# --- 3. the GPU -----------------------------------------------------------------------------------------------------
echo "== GPU"
if command -v nvidia-smi >/dev/null; then
  nvidia-smi | tee "$OUT/nvidia-smi.txt"
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv | tee -a "$OUT/nvidia-smi.txt"
else
  echo "no nvidia-smi here" | tee "$OUT/nvidia-smi.txt"
fi
SAMPLER=""
sample() { # $1: side; GPU memory and utilisation every 0.5 s until stop_sample
  SAMPLER=""
  command -v nvidia-smi >/dev/null || return 0
  nvidia-smi --query-gpu=timestamp,memory.used,utilization.gpu --format=csv,noheader,nounits -lms 500 | sed -u "s/^/$1, /" >> "$OUT/gpu-samples.csv" &
  SAMPLER=$!
}
stop_sample() { [ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null; wait "$SAMPLER" 2>/dev/null; SAMPLER=""; }
echo "side, timestamp, memory.used MiB, utilization.gpu %" > "$OUT/gpu-samples.csv"

# --- 4. the model (Tailor's generator; PyTorch loads the same weights) ---------------------------------------------
echo "== model ($SHAPE), $(left)s left"
timeout 240 "$NODE" bench/gpu/tailor-gpu.mjs --shape "$SHAPE" --root "$W" --work "$WORK" --prepare-only || echo "device.sh: generating the model failed: PyTorch starts from its own random weights"

# --- 5. PyTorch + PEFT ----------------------------------------------------------------------------------------------
if [ "$NO_TORCH" = 0 ]; then
  T_TORCH=$(( $(left) * 45 / 100 )); [ "$T_TORCH" -gt 170 ] && T_TORCH=170
  echo "== PyTorch + PEFT, budget ${T_TORCH}s, $(left)s left"
  if [ "$T_TORCH" -gt 30 ]; then
    sample torch
    # shellcheck disable=SC2086
    timeout $((T_TORCH + 30)) python3 bench/gpu/torch_peft.py --shape "$SHAPE" --model-dir "$WORK/model-$SHAPE" --out "$OUT/torch.json" --budget-seconds "$T_TORCH" $TORCH_ARGS
    echo "torch_peft.py exited with $?"
    stop_sample
  else
    echo "device.sh: too little time left for PyTorch"
  fi
fi

# --- 6. Tailor --------------------------------------------------------------------------------------------------------
T_TAILOR=$(( $(left) - 15 ))
echo "== Tailor ($TAILOR_DEVICE), budget ${T_TAILOR}s"
sample tailor
# shellcheck disable=SC2086
timeout $((T_TAILOR + 20)) "$NODE" bench/gpu/tailor-gpu.mjs --shape "$SHAPE" --device "$TAILOR_DEVICE" --root "$W" --work "$WORK" --out "$OUT/tailor.json" --budget-seconds "$T_TAILOR" $TAILOR_ARGS
echo "tailor-gpu.mjs exited with $?"
stop_sample

# --- 7. summary -------------------------------------------------------------------------------------------------------
echo "== summary, $(( $(now) - T0 ))s after the start"
python3 bench/gpu/summarize.py --out "$OUT" --command "bash bench/gpu/device.sh $ARGS" --probe "$PROBE" --elapsed $(( $(now) - T0 )) || echo "device.sh: the summary failed"
exec >&- 2>&-
wait "$TEE" 2>/dev/null
exit 0
