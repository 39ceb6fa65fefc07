"""int8 (static, QDQ) variants of pgvision's float models, with onnxruntime.quantization.

    python quantize.py calibrate FP32.onnx MANIFEST.toml PHOTOS_DIR RANGES.json
    python quantize.py build FP32.onnx RANGES.json OUT.onnx

`calibrate` (a maintainer's step, models/calibrate.sh) runs the float model on
seeded augmentations of the photos in PHOTOS_DIR, preprocessed as the manifest
says, and writes the activation ranges (min/max per tensor) to RANGES.json,
which is committed. `build` (scripts/fetch-runtime.sh) quantizes from those
ranges alone, running no model: its output depends only on the float model,
the ranges and the package versions, so its sha256 can be pinned in a manifest
although calibration's float sums differ in their last bits between CPUs.

Weights int8 per output channel, activations uint8 per tensor (U8S8, which
ONNX Runtime runs with VNNI/AVX-512 where the CPU has them), QDQ format;
input and output stay float32, and so do the layers in FLOAT_NODES.
"""
import json
import os
import random
import sys
import tomllib
from pathlib import Path

import logging

import numpy as np
from PIL import Image, ImageEnhance

# Augmentations of each calibration photo (plus the photo itself).
AUGMENTATIONS = 24
SEED = 20261206


# Nodes kept in float, by float model. The layers at the input's full and half
# resolution cost the most accuracy when quantized: on the augmented-photo
# retrieval set (tests/client/test_model_variants.py) EfficientNet-Lite0 int8 kept
# 0.90 of the float model's 10 nearest neighbours quantized whole, 0.95 with its
# first convolution in float, 0.96 with the 112 x 112 layers (stem, block 1,
# the first block of stage 2: ~12% of its multiply-adds) in float.
FLOAT_NODES = {
    "efficientnet_lite0": ["conv_1", "clip_2", "conv_3", "clip_4", "conv_5",
                           "conv_6", "clip_7", "conv_8", "clip_9", "conv_10"],
    "resnet50": ["conv_1", "relu_2"],
}


def float_nodes(fp32):
    """FLOAT_NODES of the model `fp32` (by file stem), checked against its graph."""
    import onnx

    stem = Path(fp32).name.split(".")[0]  # resnet50_imagenet.onnx (converted weights) -> resnet50
    keep = next((v for k, v in sorted(FLOAT_NODES.items(), reverse=True) if stem.startswith(k)), [])
    names = {n.name for n in onnx.load(str(fp32)).graph.node}
    missing = [n for n in keep if n not in names]
    if missing:
        sys.exit(f"{fp32}: no nodes {missing}: FLOAT_NODES in models/quantize.py is out of date")
    return keep


def quantize(fp32, out, reader=None, ranges=None):
    """quantize_static with pgvision's settings; ranges are read from (or written to) `ranges`."""
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    logging.getLogger().setLevel(logging.ERROR)  # its advice to pre-process: the graphs are already folded
    quantize_static(
        str(fp32), str(out), calibration_data_reader=reader,
        quant_format=QuantFormat.QDQ, per_channel=True, reduce_range=False,
        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
        calibrate_method=CalibrationMethod.MinMax, calibration_cache_path=str(ranges),
        nodes_to_exclude=float_nodes(fp32),
    )


def preprocess(img, m):
    """The manifest's preprocessing: shorter side to `resize`, centre crop, (x/255 - mean)/std, CHW."""
    img = img.convert("RGB")
    w, h = img.size
    s = m["resize"]
    size = (s, max(1, round(s * h / w))) if w < h else (max(1, round(s * w / h)), s)
    img = img.resize(size, Image.Resampling.BILINEAR)
    c = m["crop"]
    left, top = (size[0] - c) // 2, (size[1] - c) // 2
    img = img.crop((left, top, left + c, top + c))
    a = (np.asarray(img, np.float32) / 255.0 - np.array(m["mean"], np.float32)) / np.array(m["std"], np.float32)
    return a.transpose(2, 0, 1)


def augment(img, rng):
    """A random crop (40-100% of the area), maybe a flip, and a brightness/contrast/colour jitter."""
    img = img.convert("RGB")
    w, h = img.size
    f = rng.uniform(0.63, 1.0)
    cw, ch = int(w * f), int(h * f)
    x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
    img = img.crop((x, y, x + cw, y + ch))
    if rng.random() < 0.5:
        img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    for enhance in (ImageEnhance.Brightness, ImageEnhance.Contrast, ImageEnhance.Color):
        img = enhance(img).enhance(rng.uniform(0.75, 1.25))
    return img


class PhotoReader:
    """CalibrationDataReader over the photos and their augmentations, one image per run."""

    def __init__(self, photos_dir, manifest):
        rng = random.Random(SEED)
        self.inputs = []
        for path in sorted(Path(photos_dir).iterdir()):
            img = Image.open(path)
            img.load()
            for i in range(AUGMENTATIONS + 1):
                view = img if i == 0 else augment(img, rng)
                self.inputs.append(preprocess(view, manifest)[None])
        self.name = manifest["input"]
        self.i = 0

    def get_next(self):
        """The next input feed, or None at the end."""
        if self.i == len(self.inputs):
            return None
        self.i += 1
        return {self.name: self.inputs[self.i - 1]}

    def rewind(self):
        """Start again from the first input."""
        self.i = 0


def main(argv):
    """Dispatches `calibrate` and `build`."""
    if len(argv) == 5 and argv[0] == "calibrate":
        fp32, manifest, photos, ranges = argv[1:]
        Path(ranges).unlink(missing_ok=True)
        with open(manifest, "rb") as f:
            m = tomllib.load(f)
        reader = PhotoReader(photos, m)
        print(f"calibrating {fp32} on {len(reader.inputs)} images", file=sys.stderr)
        tmp = Path(ranges).with_suffix(".calibrated.onnx")
        quantize(fp32, tmp, reader=reader, ranges=ranges)
        tmp.unlink()
        # one tensor a line, sorted: a readable diff when the ranges change
        with open(ranges) as f:
            data = json.load(f)
        with open(ranges, "w") as f:
            json.dump(data, f, indent=1, sort_keys=True)
            f.write("\n")
        os.chmod(ranges, 0o644)
    elif len(argv) == 4 and argv[0] == "build":
        fp32, ranges, out = argv[1:]
        if not Path(ranges).is_file():
            sys.exit(f"no calibration ranges at {ranges} (models/calibrate.sh makes them)")
        quantize(fp32, out, ranges=ranges)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
