"""The cuda build (`setup.sh --gpu`, and the GPU Debian package
`scripts/package.sh --gpu-lib`, whose files the cluster runs) on a machine
without an NVIDIA GPU.

The package stands in for the CPU one; the build loads the GPU build of ONNX Runtime installed next to it; with
pgvision.device = cuda it runs on the CPU after ONE notice that names the
missing driver, with device = cpu it never maps a CUDA library into the
backend, and its embeddings equal the normal build's.
"""
import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import psycopg
import pytest
import skimage.data
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import demo_images  # noqa: E402
from demo_images import PHOTOS, encode  # noqa: E402

MODEL = "efficientnet_lite0"
GPU_LIB = "/extension/pgvision/gpu/lib/libonnxruntime.so.1.31.1"
CPU_LIB = "/extension/pgvision/lib/libonnxruntime.so.1.31.1"
# Any of these in a backend's memory map means CUDA was touched.
CUDA_LIBS = ("libonnxruntime_providers_cuda", "libcudart", "libcudnn", "libcublas", "libcufft",
             "libcurand", "libnvrtc", "libcuda.so")


@pytest.fixture(scope="module")
def images():
    """PNG bytes of 8 bundled photos and 8 seeded augmentations of them."""
    rng = random.Random(5)
    out = []
    for name in PHOTOS[:8]:
        img = Image.fromarray(getattr(skimage.data, name)())
        out.append(encode(img, "PNG"))
        out.append(demo_images.augment(img, rng))
    return out


def mapped_files(conn):
    """The files mapped into this connection's backend (/proc/self/maps, read by the backend)."""
    maps = conn.execute("SELECT pg_read_file('/proc/self/maps')").fetchone()[0]
    return {line.split()[-1] for line in maps.splitlines() if len(line.split()) >= 6}


def cuda_mapped(files):
    """The CUDA libraries among `files`."""
    return sorted(f for f in files if any(lib in f.rsplit("/", 1)[-1] for lib in CUDA_LIBS))


def connect(dsn, device):
    """A new connection (a new backend) with pgvision.device set and its notices collected."""
    conn = psycopg.connect(dsn, autocommit=True)
    conn.notices = []
    conn.add_notice_handler(lambda d: conn.notices.append(d.message_primary))
    conn.execute(f"SET pgvision.device = {device}")
    return conn


def embed_all(conn, images, model=MODEL):
    """image_embed of every image, one call per image, as float32 arrays."""
    return np.array([
        np.array(conn.execute("SELECT image_embed(%s, %s)::real[]", (data, model)).fetchone()[0],
                 dtype=np.float32)
        for data in images
    ])


def test_gpu_package_replaces_the_cpu_package_and_ships_the_gpu_runtime():
    deb = os.environ["PGV_CUDA_DEB"]
    fields = subprocess.run(["dpkg-deb", "-f", deb, "Package", "Provides", "Conflicts", "Replaces"],
                            check=True, capture_output=True, text=True).stdout
    info = dict(line.split(": ", 1) for line in fields.splitlines())
    base = info["Package"].removesuffix("-gpu")
    assert info["Package"].endswith("-pgvision-gpu"), info
    assert info["Provides"] == info["Conflicts"] == info["Replaces"] == base, info
    files = subprocess.run(["dpkg-deb", "-c", deb], check=True, capture_output=True, text=True).stdout
    assert GPU_LIB in files, files
    assert "/extension/pgvision/models/efficientnet_lite0.onnx" in files and "/lib/pgvision.so" in files


def test_runtime_reports_the_gpu_library(cuda_dsn):
    with connect(cuda_dsn, "cpu") as conn:
        lib, device, provider, reason = conn.execute(
            "SELECT library, device, provider, cpu_reason FROM pgvision_runtime('tiny16')").fetchone()
    assert lib.endswith(GPU_LIB), lib
    assert (device, provider, reason) == ("cpu", "cpu", None)


def test_device_cpu_never_loads_cuda(cuda_dsn, images):
    with connect(cuda_dsn, "cpu") as conn:
        vectors = embed_all(conn, images)
        conn.execute("SELECT image_embed(ARRAY[%s, %s]::bytea[], 'tiny16')", (images[0], images[1]))
        files = mapped_files(conn)
        assert conn.notices == []
    assert vectors.shape == (len(images), 1280)
    assert any(f.endswith(GPU_LIB) for f in files), "the GPU build of ONNX Runtime is what runs"
    assert cuda_mapped(files) == []


def test_device_cuda_falls_back_with_one_notice_naming_the_driver(cuda_dsn, images):
    with connect(cuda_dsn, "cuda") as conn:
        embed_all(conn, images[:3])
        embed_all(conn, images[:2], model="tiny16")
        conn.execute("SELECT image_embed(ARRAY[%s, %s]::bytea[])", (images[0], images[1]))
        provider, reason = conn.execute(
            f"SELECT provider, cpu_reason FROM pgvision_runtime('{MODEL}')").fetchone()
        files = mapped_files(conn)
        notices = conn.notices
    assert len(notices) == 1, notices
    assert "NVIDIA driver is not installed" in notices[0] and "libcuda.so.1" in notices[0], notices[0]
    assert "cudnn" not in notices[0].lower(), notices[0]
    assert provider == "cpu" and "NVIDIA driver" in reason, reason
    # the driver is checked before the CUDA provider is loaded at all
    assert cuda_mapped(files) == []
    # each backend says it once
    with connect(cuda_dsn, "cuda") as conn:
        embed_all(conn, images[:1])
        assert len(conn.notices) == 1 and "NVIDIA driver" in conn.notices[0], conn.notices


def test_embeddings_equal_the_cpu_builds(cpu_dsn, cuda_dsn, images):
    with connect(cpu_dsn, "cpu") as conn:
        lib = conn.execute(f"SELECT library FROM pgvision_runtime('{MODEL}')").fetchone()[0]
        assert lib.endswith(CPU_LIB), f"{lib}: the reference must be the normal build"
        reference = embed_all(conn, images)
    for device in ("cpu", "cuda"):
        with connect(cuda_dsn, device) as conn:
            got = embed_all(conn, images)
        assert got.shape == reference.shape
        np.testing.assert_allclose(got, reference, rtol=0, atol=1e-4, err_msg=device)
        cos = np.sum(got * reference, axis=1) / (
            np.linalg.norm(got, axis=1) * np.linalg.norm(reference, axis=1))
        assert cos.min() > 0.99999, (device, cos.min())
    assert not np.allclose(reference[0], reference[2]), "different photos, different embeddings"
