"""Turn real ResNet-50 ImageNet weights that you bring into pgvision's 2048-d feature model.

No real ResNet-50 weights can be fetched from the package registries this
project uses, so the default `resnet50` model is seeded (meaningless
features). Bring one of these files from a machine that has them:

  * a torchvision state_dict, e.g. resnet50-0676ba61.pth (IMAGENET1K_V1) or
    resnet50-11ad3fa6.pth (IMAGENET1K_V2), either torch.save format
    (legacy or zip), read with numpy only; or a .npz of the same keys
    (`np.savez(f, **{k: v.numpy() for k, v in model.state_dict().items()})`);
  * an ONNX model zoo ResNet-50 classifier, e.g. resnet50-v1-7.onnx or
    resnet50-v2-7.onnx: the final fully connected layer is cut off and the
    pooled 2048-d vector becomes the output `features`.

    python resnet50_convert.py INPUT OUT_DIR [--name resnet50_imagenet] [--sha256 HEX]

Writes OUT_DIR/<name>.onnx and OUT_DIR/<name>.toml (a manifest with the
sha256 of the produced model and of the input). Input checksum: with
--sha256 the input must match it exactly. Without it, a torchvision file
whose name carries torch.hub's hash prefix (`resnet50-<8 hex>.pth`, the first
8 hex digits of the file's sha256) is checked against that prefix, and the
known ImageNet releases are recognised; any other input is accepted with a
warning and its sha256 is printed and recorded so you can pin it.

Preprocessing for both sources (torchvision and the MXNet-trained zoo
models): shorter side to 256 (bilinear), centre crop 224, RGB scaled to
[0,1], ImageNet mean/std, NCHW.
"""
import argparse
import hashlib
import os
import re
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from onnx_graph import save  # noqa: E402
from resnet50 import build  # noqa: E402
from torch_weights import load_state_dict  # noqa: E402

# torchvision releases: sha256 prefix (in the file name, checked by torch.hub) -> description.
TORCHVISION_RELEASES = {
    "0676ba61": "torchvision ResNet50_Weights.IMAGENET1K_V1 (BSD-3-Clause code; ImageNet-trained)",
    "11ad3fa6": "torchvision ResNet50_Weights.IMAGENET1K_V2 (BSD-3-Clause code; ImageNet-trained)",
    "19c8e357": "torchvision resnet50 (pre-0.13 release of IMAGENET1K_V1)",
}
FEATURES = "features"
DIMS = 2048


def sha256_file(path):
    """Return the hex sha256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check_input(path, digest, expected):
    """Verify the input's checksum where one is known; return a provenance string."""
    name = os.path.basename(path)
    if expected:
        if digest != expected.lower():
            sys.exit(f"error: {name}: sha256 {digest} does not match --sha256 {expected}")
        return f"{name} (sha256 checked against --sha256)"
    m = re.fullmatch(r"resnet50-([0-9a-f]{8})\.pth", name)
    if m:
        if not digest.startswith(m.group(1)):
            sys.exit(f"error: {name}: sha256 {digest} does not start with {m.group(1)} "
                     f"(torch.hub hash prefix in the file name): corrupt or renamed download")
        return f"{name}: {TORCHVISION_RELEASES.get(m.group(1), 'torchvision-style file')} " \
               f"(hash prefix checked)"
    print(f"warning: no known checksum for {name}; sha256 {digest} recorded in the manifest. "
          f"Pass --sha256 to pin it.", file=sys.stderr)
    return f"{name} (checksum not verified, recorded)"


def from_state_dict(path, source):
    """Build the backbone from a torchvision state_dict (.pth or .npz)."""
    sd = dict(np.load(path)) if path.endswith(".npz") else load_state_dict(path)
    missing = [k for k in ("conv1.weight", "layer4.2.bn3.running_var") if k not in sd]
    if missing:
        sys.exit(f"error: {path} is not a torchvision ResNet-50 state_dict (missing {missing})")
    return build(sd, f"ResNet-50 backbone (torchvision layout, fc removed), weights: {source}")


def from_onnx_classifier(path, source):
    """Cut the classifier off an ONNX ResNet-50: the fc's input becomes `features` [N,2048]."""
    m = onnx.load(path)
    g = m.graph
    if len(g.output) != 1:
        sys.exit(f"error: {path}: expected one output (a classifier), found {len(g.output)}")
    producers = {o: n for n in g.node for o in n.output}
    # Walk back from the output through Softmax/Add/Flatten to the fully connected layer.
    node = producers[g.output[0].name]
    while node.op_type not in ("Gemm", "MatMul"):
        if node.op_type not in ("Softmax", "Add", "Flatten", "Reshape", "Identity"):
            sys.exit(f"error: {path}: cannot find the fully connected layer (met {node.op_type})")
        node = producers[node.input[0]]
    pooled = node.input[0]
    # Keep only the nodes the pooled tensor depends on.
    keep, stack = set(), [pooled]
    while stack:
        t = stack.pop()
        n = producers.get(t)
        if n is not None and id(n) not in keep:
            keep.add(id(n))
            stack.extend(n.input)
    nodes = [n for n in g.node if id(n) in keep]
    if any(FEATURES in n.output for n in nodes):  # free the name for the new output
        for n in nodes:
            n.input[:] = [t + "_pooled" if t == FEATURES else t for t in n.input]
            n.output[:] = [t + "_pooled" if t == FEATURES else t for t in n.output]
        pooled = pooled + "_pooled" if pooled == FEATURES else pooled
    node_names = {n.name for n in nodes}
    flatten_name = next(f"pgvision_flatten_{i}" for i in range(len(nodes) + 1)
                        if f"pgvision_flatten_{i}" not in node_names)
    nodes.append(helper.make_node("Flatten", [pooled], [FEATURES], name=flatten_name, axis=1))
    used = {i for n in nodes for i in n.input}
    inits = [t for t in g.initializer if t.name in used]
    inputs = [i for i in g.input if i.name in used and i.name not in {t.name for t in inits}]
    if len(inputs) != 1 or inputs[0].type.tensor_type.elem_type != TensorProto.FLOAT:
        sys.exit(f"error: {path}: expected one float32 image input")
    inputs[0].type.tensor_type.shape.dim[0].dim_param = "N"  # allow any batch size
    out = helper.make_tensor_value_info(FEATURES, TensorProto.FLOAT, ["N", DIMS])
    graph = helper.make_graph(nodes, "pgvision", inputs, [out], initializer=inits)
    model = helper.make_model(graph, opset_imports=m.opset_import, producer_name="pgvision-models",
                              doc_string=f"ResNet-50 backbone cut from an ONNX classifier: {source}")
    model.ir_version = m.ir_version
    inferred = onnx.shape_inference.infer_shapes(model)
    dims = [d.dim_value for d in inferred.graph.output[0].type.tensor_type.shape.dim]
    if dims[1:] not in ([DIMS], [0]):
        sys.exit(f"error: {path}: pooled features have shape {dims}, expected [N,{DIMS}]")
    return model, inputs[0].name


def manifest(name, file, digest, input_name, source, source_sha):
    """Return the TOML manifest text for the converted model."""
    return f'''# Generated by models/resnet50_convert.py: real ResNet-50 weights you brought.
name = "{name}"
file = "{file}"
sha256 = "{digest}"
input = "{input_name}"
output = "{FEATURES}"
layout = "NCHW"
input_size = 224
resize = 256
crop = 224
interpolation = "bilinear"
mean = [0.485, 0.456, 0.406]
std = [0.229, 0.224, 0.225]
dims = {DIMS}
weights = "pretrained"
licence = "that of the weights you brought (torchvision: BSD-3-Clause; ONNX model zoo: Apache-2.0)"
source = "{source}"
source_sha256 = "{source_sha}"
'''


def main():
    """Command line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input", help="torchvision .pth/.npz state_dict or ONNX classifier .onnx")
    ap.add_argument("out_dir")
    ap.add_argument("--name", default="resnet50_imagenet")
    ap.add_argument("--sha256", help="expected sha256 of INPUT")
    a = ap.parse_args()
    digest = sha256_file(a.input)
    source = check_input(a.input, digest, a.sha256)
    if a.input.endswith(".onnx"):
        model, input_name = from_onnx_classifier(a.input, source)
    else:
        model, input_name = from_state_dict(a.input, source), "input"
    os.makedirs(a.out_dir, exist_ok=True)
    file = f"{a.name}.onnx"
    out = os.path.join(a.out_dir, file)
    size = save(model, out)
    out_sha = sha256_file(out)
    with open(os.path.join(a.out_dir, f"{a.name}.toml"), "w") as f:
        f.write(manifest(a.name, file, out_sha, input_name, source.replace('"', "'"), digest))
    print(f"wrote {out} ({size} bytes, sha256 {out_sha}) and {a.name}.toml")


if __name__ == "__main__":
    main()
