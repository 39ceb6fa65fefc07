"""Build ResNet-50 (torchvision v1.5 layout, classifier removed) as ONNX.

    python resnet50.py OUT.onnx [--seed 0]

Input `input` float32 [N,3,224,224] (RGB, ImageNet mean/std); output
`features` float32 [N,2048] (global average pool after layer4).

THE WEIGHTS MADE HERE ARE SEEDED RANDOM NUMBERS (He initialisation, BatchNorm
as identity), NOT A TRAINED NETWORK. The features are meaningless for
similarity search; the model exists because it costs exactly what a real
ResNet-50 costs, for speed tests and for testing 2048-d pipelines. No real
ImageNet ResNet-50 weights are obtainable from the package registries; to
use real weights, bring them and run resnet50_convert.py (see README.md).

`build(weights)` is shared with resnet50_convert.py: `weights` maps the
torchvision state_dict keys (conv1.weight, bn1.running_mean, layer1.0.conv1.weight,
..., layer4.2.bn3.bias) to numpy arrays.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from onnx_graph import GraphBuilder, fold_batchnorm, save  # noqa: E402

BN_EPS = 1e-5
STAGES = [(3, 64, 1), (4, 128, 2), (6, 256, 2), (3, 512, 2)]  # (blocks, width, stride)


def layer_shapes():
    """Yield (conv name, bn name, (cout, cin, k, k), stride) for every conv of the backbone."""
    yield "conv1", "bn1", (64, 3, 7, 7), 2
    cin = 64
    for li, (blocks, width, stride) in enumerate(STAGES, 1):
        for bi in range(blocks):
            p, s = f"layer{li}.{bi}.", (stride if bi == 0 else 1)
            yield p + "conv1", p + "bn1", (width, cin, 1, 1), 1
            yield p + "conv2", p + "bn2", (width, width, 3, 3), s  # v1.5: stride on the 3x3
            yield p + "conv3", p + "bn3", (width * 4, width, 1, 1), 1
            if bi == 0:
                yield p + "downsample.0", p + "downsample.1", (width * 4, cin, 1, 1), s
            cin = width * 4


def seeded_weights(seed):
    """Torchvision-named weights: He-normal convs from RandomState(seed), identity BatchNorm."""
    rng = np.random.RandomState(seed)
    sd = {}
    for conv, bn, shape, _stride in layer_shapes():
        fan_in = int(np.prod(shape[1:]))
        sd[conv + ".weight"] = (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)
        c = shape[0]
        sd[bn + ".weight"] = np.ones(c, np.float32)
        sd[bn + ".bias"] = np.zeros(c, np.float32)
        sd[bn + ".running_mean"] = np.zeros(c, np.float32)
        sd[bn + ".running_var"] = np.ones(c, np.float32)
    return sd


def build(sd, doc):
    """Return the ONNX backbone for torchvision-named weights `sd`, output `features` [N,2048]."""
    g = GraphBuilder()
    convs = {conv: (bn, shape, stride) for conv, bn, shape, stride in layer_shapes()}

    def conv_bn(x, conv, act=True):
        bn, shape, stride = convs[conv]
        w = np.asarray(sd[conv + ".weight"], np.float32)
        if w.shape != shape:
            raise ValueError(f"{conv}.weight has shape {w.shape}, expected {shape}")
        w, b = fold_batchnorm(w, None, *(np.asarray(sd[f"{bn}.{n}"], np.float32)
                                         for n in ("weight", "bias", "running_mean", "running_var")),
                              BN_EPS)
        y = g.conv(x, w, b, conv, stride=stride, pads=[shape[2] // 2] * 4)
        return g.op("Relu", [y]) if act else y

    x = conv_bn("input", "conv1")
    x = g.op("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    for li, (blocks, _width, _stride) in enumerate(STAGES, 1):
        for bi in range(blocks):
            p = f"layer{li}.{bi}."
            h = conv_bn(x, p + "conv1")
            h = conv_bn(h, p + "conv2")
            h = conv_bn(h, p + "conv3", act=False)
            shortcut = conv_bn(x, p + "downsample.0", act=False) if bi == 0 else x
            x = g.op("Relu", [g.op("Add", [h, shortcut])])
    g.op("Flatten", [g.op("GlobalAveragePool", [x])], output="features", axis=1)
    return g.finish("input", (224, 224), [("features", 2048)], doc)


def main():
    """Command line entry point: write the seeded model."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out", help="output .onnx path")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    doc = (f"ResNet-50 backbone (torchvision layout, fc removed) with SEEDED RANDOM weights "
           f"(seed={a.seed}): for speed tests only, features are meaningless")
    n = save(build(seeded_weights(a.seed), doc), a.out)
    print(f"wrote {a.out} ({n} bytes)")


if __name__ == "__main__":
    main()
