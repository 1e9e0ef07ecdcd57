#!/usr/bin/env bash
# Runs on the lent GPU machine, from the repo root, with dist-gpu/ carried (built by tools/gpu/prepare.sh):
# unpacks Node and the webgpu package under /tmp/difflens-gpu, brings the Vulkan loader only when the machine has
# none, points Vulkan at NVIDIA's driver when it is mounted where the device README says, then runs
#   selfcheck --backend webgpu   (the adapter: vendor, architecture, limits, features; kernels vs js; a timed GEMM)
#   bench:webgpu --peer torch    (GEMM, SAE step and Qwen1.5-0.5B-shaped forward vs PyTorch / transformers)
# Arguments go to the bench (e.g. --only gemm,forward). Logs land in $OUT (the device tool's folder) or /tmp.
# Also runs here (lavapipe) as a rehearsal: DIFFLENS_PYTHON picks the Python with torch (default python3).
set -uo pipefail
cd "$(dirname "$0")/../.."
D=dist-gpu
G=/tmp/difflens-gpu
LOGS=${OUT:-/tmp}
[ -s "$D/node.xz" ] || { echo "run-on-gpu: $D/node.xz missing — run tools/gpu/prepare.sh here and carry $D" >&2; exit 2; }

unxz_to() { # xz-compressed file → path (xz when the machine has it, else Python's lzma)
  if command -v xz >/dev/null 2>&1; then xz -dc "$1" >"$2"
  else python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$1" "$2"; fi
}
rm -rf "$G" && mkdir -p "$G/node_modules/webgpu/dist/linux-x64"
unxz_to "$D/node.xz" "$G/node" && chmod +x "$G/node"
cp "$D/webgpu/package.json" "$D/webgpu/index.js" "$G/node_modules/webgpu/"
unxz_to "$D/webgpu/dawn.node.xz" "$G/node_modules/webgpu/dist/linux-x64/dawn.node"
cp "$D"/*.mjs "$G/"

# The Vulkan loader (and the GL dispatch library NVIDIA's Vulkan driver links against) only when missing: unpacking
# into / can shadow the image's own libraries. grep reads the whole list (with pipefail, grep -q would make ldconfig
# die of SIGPIPE and look like a miss).
libs=$(ldconfig -p 2>/dev/null || true)
if ! grep 'libvulkan\.so\.1 ' <<<"$libs" >/dev/null || ! grep 'libGLdispatch\.so\.0 ' <<<"$libs" >/dev/null; then
  echo "run-on-gpu: no Vulkan loader / GL dispatch library here; unpacking $(ls "$D"/gl | tr '\n' ' ')"
  for f in "$D"/gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
nvidia_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -z "${VK_DRIVER_FILES:-}" ] && [ -f "$nvidia_icd" ]; then export VK_DRIVER_FILES=$nvidia_icd; fi
echo "run-on-gpu: VK_DRIVER_FILES=${VK_DRIVER_FILES:-(unset: the Vulkan loader searches its default places)}"
command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader

export DIFFLENS_PYTHON=${DIFFLENS_PYTHON:-python3}
export DIFFLENS_TORCH_PEERS=$PWD/tools/reference/webgpu/torch_peers.py
export DIFFLENS_BACKEND=webgpu
echo "run-on-gpu: $(date -u +%FT%TZ) node $("$G/node" --version), python $("$DIFFLENS_PYTHON" --version 2>&1)"
# Each under its own time limit, so a hang in one still leaves the other's log and the call's time for a rerun.
timeout 120 "$G/node" "$G/selfcheck.mjs" --backend webgpu 2>&1 | tee "$LOGS/selfcheck-webgpu.log"
timeout "${DIFFLENS_GPU_BENCH_TIMEOUT:-420}" "$G/node" "$G/bench-webgpu.mjs" --peer torch "$@" 2>&1 |
  tee "$LOGS/bench-webgpu.log"
status=${PIPESTATUS[0]}
echo "run-on-gpu: bench:webgpu exit status $status$([ "$status" = 124 ] && echo " (timed out)")"
exit "$status"
