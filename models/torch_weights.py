"""Read a PyTorch state_dict file with numpy only (no torch installed).

Both on-disk formats of torch.save are handled:
  * legacy (torch < 1.6): magic number, protocol, sys info, pickled object,
    storage keys, then each storage as <int64 numel><raw little-endian data>;
  * zip (torch >= 1.6): `<archive>/data.pkl` plus one `<archive>/data/<key>`
    member per storage.
Only plain tensors are rebuilt (what a state_dict holds). The unpickler
resolves a short allow-list of globals and refuses everything else, so an
untrusted file cannot run code through pickle.
"""
import collections
import pickle
import struct
import zipfile

import numpy as np

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C

_STORAGE_DTYPES = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
    "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16,
    "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_,
}


class _Storage:
    """A storage referenced by the pickle; its bytes are attached after unpickling."""

    def __init__(self, dtype, key):
        self.dtype, self.key, self.data = dtype, key, None


def _rebuild_tensor(storage, offset, size, stride, *_rest):
    """Stand-in for torch._utils._rebuild_tensor_v2: remember the view, build it later."""
    return ("tensor", storage, offset, tuple(size), tuple(stride))


def _rebuild_parameter(data, *_rest):
    """Stand-in for torch._utils._rebuild_parameter: a Parameter is its tensor."""
    return data


class _Unpickler(pickle.Unpickler):
    """Unpickler that knows the few torch globals a state_dict uses and nothing else."""

    def __init__(self, f, storages):
        super().__init__(f)
        self.storages = storages

    def find_class(self, module, name):
        if module == "torch._utils" and name in ("_rebuild_tensor_v2", "_rebuild_tensor"):
            return _rebuild_tensor
        if module == "torch._utils" and name == "_rebuild_parameter":
            return _rebuild_parameter
        if module == "torch" and name in _STORAGE_DTYPES:
            return name
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        raise pickle.UnpicklingError(f"refusing to load global {module}.{name}")

    def persistent_load(self, pid):
        kind, storage_type, key = pid[0], pid[1], pid[2]
        if kind != "storage":
            raise pickle.UnpicklingError(f"unexpected persistent id {kind!r}")
        if key not in self.storages:
            self.storages[key] = _Storage(_STORAGE_DTYPES[storage_type], key)
        return self.storages[key]


def _materialise(obj):
    """Turn the remembered tensor views into numpy arrays (copies)."""
    def conv(v):
        if isinstance(v, tuple) and v and v[0] == "tensor":
            _, st, offset, size, stride = v
            item = np.dtype(st.dtype).itemsize
            return np.lib.stride_tricks.as_strided(
                st.data[offset:], shape=size, strides=[s * item for s in stride]).copy()
        return v
    return collections.OrderedDict((k, conv(v)) for k, v in obj.items())


def _load_legacy(path):
    """Read the pre-1.6 sequential format."""
    storages = {}
    with open(path, "rb") as f:
        magic = pickle.load(f)
        if magic != LEGACY_MAGIC:
            raise ValueError(f"{path}: not a torch legacy file (magic {magic!r})")
        pickle.load(f)  # protocol version
        pickle.load(f)  # sys info
        obj = _Unpickler(f, storages).load()
        for key in pickle.load(f):
            st = storages[key]
            (numel,) = struct.unpack("<q", f.read(8))
            st.data = np.frombuffer(f.read(numel * np.dtype(st.dtype).itemsize), dtype=st.dtype)
    return _materialise(obj)


def _load_zip(path):
    """Read the zip format written by torch >= 1.6."""
    storages = {}
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        pkl = next(n for n in names if n.endswith("/data.pkl") or n == "data.pkl")
        prefix = pkl[: -len("data.pkl")]
        with z.open(pkl) as f:
            obj = _Unpickler(f, storages).load()
        for key, st in storages.items():
            raw = z.read(f"{prefix}data/{key}")
            st.data = np.frombuffer(raw, dtype=np.dtype(st.dtype).newbyteorder("<"))
    return _materialise(obj)


def load_state_dict(path):
    """Load a torch.save()'d state_dict (legacy or zip format) as {name: ndarray}."""
    sd = _load_zip(path) if zipfile.is_zipfile(path) else _load_legacy(path)
    if "state_dict" in sd and isinstance(sd["state_dict"], dict):
        sd = sd["state_dict"]
    return collections.OrderedDict(
        (k[len("module."):] if k.startswith("module.") else k, v) for k, v in sd.items())
