"""images/s of image_embed, next to bare ONNX Runtime and a Python PIL + onnxruntime pipeline.

    bash bench/embed.sh [--images 300] [--models efficientnet_lite0,resnet50]

(embed.sh makes the venv .pgvision/benchenv from bench/requirements.txt, builds
the bare_infer example and starts the project's cluster; this script expects
PGHOST/PGPORT.) For each model it prints, over the same JPEG photos
(scikit-image's samples, seeded crops and resizes, 300-640 px, quality 90):

  sql single   SELECT image_embed(data, m) FROM t          one row at a time
  sql batch    SELECT image_embed(array_agg(data), m)      parallel decode, batched inference
  bare ort     crates/embedder/examples/bare_infer         inference only, same batch, no decoding
  python       PIL decode/resize/crop + numpy + onnxruntime 1.31.1 (batch 8)

each with one and two backends / processes, intra-op threads 1, spinning off.

With --cpu-rounds N it measures instead CPU time per image (what sets the
images/s of two backends once both cores are busy, and what a loaded host
still measures fairly): N alternating rounds of `sql single` on one backend
(the backend's CPU, all its threads, from /proc) and the Python pipeline in
this process (its CPU), then the median per-round ratio Python / SQL.
"""
import argparse
import io
import os
import random
import re
import subprocess
import sys
import threading
import time
from multiprocessing import Pool

import numpy as np
import psycopg
import skimage.data
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STATE = os.path.join(ROOT, ".pgvision")
PHOTOS = ["astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry",
          "retina", "colorwheel", "camera", "moon"]
MEAN = np.array([0.485, 0.456, 0.406], np.float32).reshape(1, 1, 3)
STD = np.array([0.229, 0.224, 0.225], np.float32).reshape(1, 1, 3)


def make_images(n, seed=7):
    """n JPEG photos of 300-640 px: seeded crops and resizes of scikit-image's samples."""
    rng = random.Random(seed)
    sources = [Image.fromarray(getattr(skimage.data, p)()).convert("RGB") for p in PHOTOS]
    out = []
    for i in range(n):
        img = sources[i % len(sources)]
        w, h = img.size
        f = rng.uniform(0.6, 1.0)
        cw, ch = int(w * f), int(h * f)
        x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
        img = img.crop((x, y, x + cw, y + ch))
        side = rng.randint(300, 640)
        scale = side / max(img.size)
        img = img.resize((max(1, int(img.width * scale)), max(1, int(img.height * scale))), Image.Resampling.BICUBIC)
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=90)
        out.append(buf.getvalue())
    return out


def conninfo():
    """Connection string from the environment (scripts/cluster.sh env)."""
    return f"host={os.environ['PGHOST']} port={os.environ['PGPORT']} user=postgres dbname=pgvision_bench"


def setup_db(images):
    """A database with the extension and a table of the images."""
    admin = f"host={os.environ['PGHOST']} port={os.environ['PGPORT']} user=postgres dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as c:
        c.execute("DROP DATABASE IF EXISTS pgvision_bench")
        c.execute("CREATE DATABASE pgvision_bench")
    with psycopg.connect(conninfo(), autocommit=True) as c:
        c.execute("CREATE EXTENSION pgvision")
        c.execute("CREATE TABLE images (id int PRIMARY KEY, data bytea)")
        with c.cursor() as cur:
            cur.executemany("INSERT INTO images VALUES (%s, %s)", list(enumerate(images)))
        c.execute("VACUUM ANALYZE images")


def sql_rate(model, backends, form, batch):
    """images/s of image_embed over the table, split across `backends` connections."""
    queries = {
        "single": "SELECT count(image_embed(data, %s)) FROM images WHERE id %% {b} = %s",
        "batch": "SELECT cardinality(image_embed(array_agg(data), %s)) FROM images WHERE id %% {b} = %s",
    }
    sql = queries[form].format(b=backends)
    conns = [psycopg.connect(conninfo(), autocommit=True) for _ in range(backends)]
    for c in conns:  # load the session and warm up outside the timing
        c.execute("SET pgvision.intra_op_threads = 1")
        c.execute(f"SET pgvision.embed_batch_size = {batch}")
        c.execute("SELECT model FROM pgvision_runtime(%s)", (model,))
        c.execute("SELECT count(image_embed(data, %s)) FROM images WHERE id < 2", (model,))
    counts = [0] * backends

    def run(i):
        counts[i] = conns[i].execute(sql, (model, i)).fetchone()[0]

    threads = [threading.Thread(target=run, args=(i,)) for i in range(backends)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    elapsed = time.perf_counter() - t
    for c in conns:
        c.close()
    return sum(counts) / elapsed


def bare_rate(model, batch, processes):
    """images/s of the bare_infer example (inference only), `processes` at once."""
    exe = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release/examples/bare_infer")
    env = dict(os.environ, PGVISION_ORT_LIB=os.path.join(STATE, "lib/libonnxruntime.so.1.31.1"),
               PGVISION_MODELS_DIR=os.path.join(STATE, "models"))
    args = [exe, "--model", model, "--batch", str(batch), "--threads", "1", "--seconds", "8"]
    procs = [subprocess.Popen(args, env=env, stdout=subprocess.PIPE, text=True) for _ in range(processes)]
    total = 0.0
    for p in procs:
        out, _ = p.communicate()
        total += float(re.search(r"([\d.]+) images/s", out).group(1))
    return total


_session = None


def _py_init(model):
    """One onnxruntime session per process: one intra-op thread, spinning off."""
    import onnxruntime as ort
    global _session
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    so.add_session_config_entry("session.inter_op.allow_spinning", "0")
    _session = ort.InferenceSession(os.path.join(STATE, "models", model + ".onnx"), so,
                                    providers=["CPUExecutionProvider"])


def _py_preprocess(data):
    """torchvision's Resize(256) + CenterCrop(224) + ToTensor + Normalize with PIL."""
    img = Image.open(io.BytesIO(data)).convert("RGB")
    w, h = img.size
    if w < h:
        size = (256, int(256 * h / w))
    else:
        size = (int(256 * w / h), 256)
    img = img.resize(size, Image.Resampling.BILINEAR)
    left, top = int(round((size[0] - 224) / 2.0)), int(round((size[1] - 224) / 2.0))
    img = img.crop((left, top, left + 224, top + 224))
    a = (np.asarray(img, np.float32) / 255.0 - MEAN) / STD
    return a.transpose(2, 0, 1)


def _py_run(images):
    """Embeds `images` in batches of 8; returns how many."""
    n = 0
    for i in range(0, len(images), 8):
        batch = np.stack([_py_preprocess(d) for d in images[i:i + 8]])
        out = _session.run(["features"], {"input": batch})[0]
        n += out.shape[0]
    return n


def python_rate(model, images, processes):
    """images/s of the Python pipeline, the images split over `processes` processes."""
    parts = [images[i::processes] for i in range(processes)]
    with Pool(processes, initializer=_py_init, initargs=(model,)) as pool:
        pool.map(_py_run, [images[:8]] * processes)  # warm up every worker
        t = time.perf_counter()
        n = sum(pool.map(_py_run, parts))
        return n / (time.perf_counter() - t)


def backend_cpu(pid):
    """CPU seconds (user + system, all threads) of process `pid` from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_rounds(model, images, batch, rounds):
    """Per-round ratios of CPU time an image, Python pipeline / SQL (both forms), and their medians."""
    conn = psycopg.connect(conninfo(), autocommit=True)
    conn.execute("SET pgvision.intra_op_threads = 1")
    conn.execute(f"SET pgvision.embed_batch_size = {batch}")
    conn.execute("SELECT count(image_embed(data, %s)) FROM images WHERE id < 2", (model,))
    pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    _py_init(model)
    _py_run(images[:8])
    forms = {
        "single": "SELECT count(image_embed(data, %s)) FROM images",
        f"batch {batch}": "SELECT cardinality(image_embed(array_agg(data), %s)) FROM images",
    }
    ratios = {form: [] for form in forms}
    for r in range(rounds):
        ms = {}
        for form, sql in forms.items():
            cpu = backend_cpu(pid)
            n = conn.execute(sql, (model,)).fetchone()[0]
            ms[form] = 1000 * (backend_cpu(pid) - cpu) / n
        t = time.process_time()
        n = _py_run(images)
        py_ms = 1000 * (time.process_time() - t) / n
        for form in forms:
            ratios[form].append(py_ms / ms[form])
        sqls = ", ".join(f"sql {form} {v:.2f}" for form, v in ms.items())
        print(f"  round {r + 1}: {sqls}, python b8 {py_ms:.2f} ms CPU an image "
              f"(load {os.getloadavg()[0]:.1f})", flush=True)
    conn.close()
    for form, rs in ratios.items():
        rs.sort()
        print(f"  median ratio python / sql {form}: {rs[len(rs) // 2]:.3f} "
              f"(rounds {rs[0]:.3f}-{rs[-1]:.3f})", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=300)
    ap.add_argument("--models", default="efficientnet_lite0,resnet50")
    ap.add_argument("--batch", type=int, default=4, help="pgvision.embed_batch_size and the bare batch")
    ap.add_argument("--cpu-rounds", type=int, default=0,
                    help="measure CPU time per image in this many alternating rounds instead")
    args = ap.parse_args()
    images = make_images(args.images)
    print(f"{len(images)} JPEG images, {sum(map(len, images)) / len(images) / 1024:.0f} KiB average; "
          f"{os.cpu_count()} CPUs; intra-op threads 1, spinning off", flush=True)
    setup_db(images)
    for model in args.models.split(","):
        print(f"\n{model}:", flush=True)
        if args.cpu_rounds:
            cpu_rounds(model, images, args.batch, args.cpu_rounds)
            continue
        for name, rate in [
            ("sql single, 1 backend ", lambda: sql_rate(model, 1, "single", args.batch)),
            ("sql single, 2 backends", lambda: sql_rate(model, 2, "single", args.batch)),
            (f"sql batch {args.batch}, 1 backend ", lambda: sql_rate(model, 1, "batch", args.batch)),
            (f"sql batch {args.batch}, 2 backends", lambda: sql_rate(model, 2, "batch", args.batch)),
            (f"bare ort batch 1, 1 process ", lambda: bare_rate(model, 1, 1)),
            (f"bare ort batch {args.batch}, 1 process ", lambda: bare_rate(model, args.batch, 1)),
            (f"bare ort batch {args.batch}, 2 processes", lambda: bare_rate(model, args.batch, 2)),
            ("python PIL+ort b8, 1 process ", lambda: python_rate(model, images, 1)),
            ("python PIL+ort b8, 2 processes", lambda: python_rate(model, images, 2)),
        ]:
            print(f"  {name:34s} {rate():7.1f} images/s", flush=True)


if __name__ == "__main__":
    sys.exit(main())
