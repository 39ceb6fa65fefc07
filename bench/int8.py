"""Float against int8 models: images/s of image_embed on ONE backend, alternating passes.

    bash bench/int8.sh [--images 200] [--repeat 3] [--pairs efficientnet_lite0,resnet50]

(int8.sh makes the venv .pgvision/benchenv and starts the project's cluster; this
script expects PGHOST/PGPORT.) For each model and its `<model>_int8`, over
bench/embed.py's JPEG photos, intra-op threads 1, spinning off:

  single   SELECT count(image_embed(data, m)) FROM images         one row at a time
  batch    SELECT image_embed(array_agg(data), m) FROM images      embed_batch_size 8

Passes alternate float, int8, float, int8, ... so drift of the host's speed hits
both; the median of `--repeat` passes is printed with the int8/float ratio. The
host's CPU flags that ONNX Runtime's int8 kernels use are printed first
(avx512_vnni, avx_vnni: VNNI dot products; without them int8 convolutions use
slower AVX2 / AVX-512BW sequences).
"""
import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from embed import make_images, setup_db, sql_rate  # noqa: E402

FLAGS = ["avx2", "avx512f", "avx512bw", "avx512_vnni", "avx_vnni", "amx_int8"]


def cpu_flags():
    """Which of FLAGS /proc/cpuinfo lists, and the CPU's model name."""
    with open("/proc/cpuinfo") as f:
        text = f.read()
    have = set()
    model = "?"
    for line in text.splitlines():
        if line.startswith("flags"):
            have |= set(line.split(":", 1)[1].split())
        elif line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
    return model, {flag: flag in have for flag in FLAGS}


def main():
    """Measures and prints the table."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--pairs", default="efficientnet_lite0,resnet50", help="float models; each with <name>_int8")
    ap.add_argument("--batch", type=int, default=8)
    args = ap.parse_args()
    model, flags = cpu_flags()
    print(f"CPU: {model}, {os.cpu_count()} CPUs; " + ", ".join(f"{k} {'yes' if v else 'no'}" for k, v in flags.items()))
    images = make_images(args.images)
    print(f"{len(images)} JPEG images, {sum(map(len, images)) / len(images) / 1024:.0f} KiB average; "
          f"1 backend, intra-op threads 1, spinning off; median of {args.repeat} alternating passes", flush=True)
    setup_db(images)
    for fp32 in args.pairs.split(","):
        int8 = fp32 + "_int8"
        for form in ("single", "batch"):
            rates = {fp32: [], int8: []}
            for _ in range(args.repeat):
                for m in (fp32, int8):
                    rates[m].append(sql_rate(m, 1, form, args.batch))
            f, q = statistics.median(rates[fp32]), statistics.median(rates[int8])
            print(f"  {fp32:20s} {form:6s} float {f:6.1f}  int8 {q:6.1f} images/s  ratio {q / f:4.2f}"
                  f"   (passes: {' '.join(f'{r:.1f}' for r in rates[fp32])} | {' '.join(f'{r:.1f}' for r in rates[int8])})",
                  flush=True)


if __name__ == "__main__":
    sys.exit(main())
