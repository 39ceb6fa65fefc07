"""Tiny seeded test models: they load in milliseconds and run in microseconds.

    python tiny.py OUT.onnx --dims 16 [--size 32] [--channels 8] [--seed 42]

Input `input` float32 [N,3,size,size]; Conv(3->C, 8x8, stride 8) -> ReLU ->
GlobalAveragePool -> Flatten -> MatMul(C x dims) -> output `features`
float32 [N,dims]. Weights are seeded random numbers: useful only to test the
plumbing (shapes, batching, determinism), never the quality of results.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from onnx_graph import GraphBuilder, save  # noqa: E402


def build(dims, size, channels, seed):
    """Return the tiny model for the given output dimensions, input size and seed."""
    rng = np.random.RandomState(seed)
    g = GraphBuilder()
    w = (rng.standard_normal((channels, 3, 8, 8)) * 0.05).astype(np.float32)
    b = (rng.standard_normal(channels) * 0.1).astype(np.float32)
    x = g.conv("input", w, b, "conv", stride=8)
    x = g.op("Flatten", [g.op("GlobalAveragePool", [g.op("Relu", [x])])], axis=1)
    proj = g.constant("proj", rng.standard_normal((channels, dims)).astype(np.float32))
    g.op("MatMul", [x, proj], output="features")
    doc = (f"tiny SEEDED test model (seed={seed}, channels={channels}, dims={dims}): "
           f"for tests only, features are meaningless")
    return g.finish("input", (size, size), [("features", dims)], doc)


def main():
    """Command line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out", help="output .onnx path")
    ap.add_argument("--dims", type=int, required=True)
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--channels", type=int, default=8)
    ap.add_argument("--seed", type=int, default=42)
    a = ap.parse_args()
    n = save(build(a.dims, a.size, a.channels, a.seed), a.out)
    print(f"wrote {a.out} ({n} bytes)")


if __name__ == "__main__":
    main()
