"""A small ONNX graph builder used by the model scripts (numpy + onnx only).

Node and tensor names are derived from a counter and from the weight names,
never from ids or time, so building the same graph twice gives the same bytes.
"""
import numpy as np
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
IR_VERSION = 8  # loadable by every ONNX Runtime >= 1.14


class GraphBuilder:
    """Collects nodes and initializers; `finish` wraps them in a ModelProto."""

    def __init__(self):
        self.nodes, self.initializers, self.count = [], [], 0

    def fresh(self, prefix):
        """Return a new unique tensor name starting with `prefix`."""
        self.count += 1
        return f"{prefix}_{self.count}"

    def constant(self, name, array):
        """Add an initializer (float arrays stay in their own dtype) and return its name."""
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def op(self, op_type, inputs, output=None, **attrs):
        """Append one node and return the name of its (single) output."""
        out = output or self.fresh(op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=out, **attrs))
        return out

    def conv(self, x, weight, bias, name, stride=1, pads=None, auto_pad=None, group=1):
        """Conv with float32 weight (and optional bias) initializers named `name.weight/.bias`."""
        inputs = [x, self.constant(name + ".weight", weight.astype(np.float32))]
        if bias is not None:
            inputs.append(self.constant(name + ".bias", bias.astype(np.float32)))
        attrs = dict(strides=[stride, stride], group=group, kernel_shape=list(weight.shape[2:]))
        if auto_pad:
            attrs["auto_pad"] = auto_pad
        else:
            attrs["pads"] = pads or [0, 0, 0, 0]
        return self.op("Conv", inputs, **attrs)

    def finish(self, input_name, input_hw, outputs, doc):
        """Build the model: input float32 [N,3,H,W], outputs [(name, dims)] as float32 [N,dims]."""
        h, w = input_hw
        x = helper.make_tensor_value_info(input_name, TensorProto.FLOAT, ["N", 3, h, w])
        ys = [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["N", d]) for n, d in outputs]
        graph = helper.make_graph(self.nodes, "pgvision", [x], ys, initializer=self.initializers)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                                  producer_name="pgvision-models", producer_version="1",
                                  doc_string=doc)
        model.ir_version = IR_VERSION
        return model


def fold_batchnorm(weight, bias, gamma, beta, mean, var, eps):
    """Fold an inference-mode BatchNorm into the preceding conv's weight and bias."""
    scale = gamma / np.sqrt(var + eps)
    weight = weight * scale.reshape(-1, *([1] * (weight.ndim - 1)))
    bias = (bias if bias is not None else 0.0) * scale + beta - mean * scale
    return weight.astype(np.float32), bias.astype(np.float32)


def save(model, path):
    """Check the model and write it with deterministic serialisation."""
    import onnx
    onnx.checker.check_model(model)
    data = model.SerializeToString(deterministic=True)
    with open(path, "wb") as f:
        f.write(data)
    return len(data)
