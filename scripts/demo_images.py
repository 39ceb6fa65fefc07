"""The demo's bundled photos: scikit-image's sample photos (shipped inside the
scikit-image wheel from PyPI, no download at run time) plus seeded
augmentations of each, the way tests/client/test_image_embed.py makes its
queries (crop, flip, colour jitter, resize, JPEG recompression).

    python scripts/demo_images.py OUT [--per-source N] [--query FILE] [--sources-only]

OUT gets <photo>.jpg and <photo>_augNN.jpg (20 photos x (1 + N) files,
300 with the default N = 14); --query writes one more augmentation of
`chelsea` (the cat), made with another seed and not in OUT, to query with.
Idempotent: a stamp in OUT records what was made; a second run with the same
arguments writes nothing.
"""
import argparse
import hashlib
import io
import json
import os
import random
import sys

SEED = 20261124
QUERY_SEED = 7
QUERY_SOURCE = "chelsea"
# Bundled with scikit-image; `cat` is left out: it is `chelsea`.
PHOTOS = [
    "astronaut", "brick", "camera", "cell", "chelsea", "clock", "coffee", "coins",
    "colorwheel", "grass", "gravel", "hubble_deep_field", "immunohistochemistry",
    "logo", "microaneurysms", "moon", "page", "retina", "rocket", "text",
]
VERSION = 1


def encode(img, fmt="JPEG", **kw):
    """Image bytes in `fmt`."""
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def augment(img, rng):
    """Two or three random edits of `img` (RGB), then JPEG at a random quality."""
    from PIL import Image, ImageEnhance

    img = img.convert("RGB")
    ops = rng.sample(["crop", "flip", "jitter", "resize"], rng.randint(2, 3))
    for op in ops:
        w, h = img.size
        if op == "crop":
            f = rng.uniform(0.7, 0.9)
            cw, ch = int(w * f), int(h * f)
            x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
            img = img.crop((x, y, x + cw, y + ch))
        elif op == "flip":
            img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        elif op == "jitter":
            for enhance in (ImageEnhance.Brightness, ImageEnhance.Contrast, ImageEnhance.Color):
                img = enhance(img).enhance(rng.uniform(0.8, 1.2))
        else:
            f = rng.uniform(0.5, 0.8)
            img = img.resize((max(32, int(w * f)), max(32, int(h * f))), Image.Resampling.BICUBIC)
    return encode(img, "JPEG", quality=rng.randint(40, 75))


def photo(name):
    """scikit-image's sample photo `name` as an RGB PIL image."""
    import skimage.data
    from PIL import Image

    return Image.fromarray(getattr(skimage.data, name)()).convert("RGB")


def write(path, data):
    """Writes `data` to `path` atomically."""
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def make(out, per_source, sources_only=False):
    """Writes the photos and their augmentations into `out`; returns the file count."""
    os.makedirs(out, exist_ok=True)
    want = json.dumps({"v": VERSION, "seed": SEED, "per": 0 if sources_only else per_source})
    stamp = os.path.join(out, ".complete")
    if os.path.exists(stamp) and open(stamp).read() == want:
        return len([f for f in os.listdir(out) if not f.startswith(".")])
    rng = random.Random(SEED)
    count = 0
    for name in PHOTOS:
        img = photo(name)
        write(os.path.join(out, f"{name}.jpg"), encode(img, "JPEG", quality=90))
        count += 1
        if sources_only:
            continue
        for i in range(per_source):
            write(os.path.join(out, f"{name}_aug{i + 1:02d}.jpg"), augment(img, rng))
            count += 1
    with open(stamp, "w") as f:
        f.write(want)
    return count


def make_query(path):
    """Writes the query photo: an augmentation of QUERY_SOURCE with its own seed."""
    data = augment(photo(QUERY_SOURCE), random.Random(QUERY_SEED))
    old = open(path, "rb").read() if os.path.exists(path) else None
    if old is None or hashlib.sha256(old).digest() != hashlib.sha256(data).digest():
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        write(path, data)


def main(argv):
    """Command line entry point."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out")
    p.add_argument("--per-source", type=int, default=14)
    p.add_argument("--query")
    p.add_argument("--sources-only", action="store_true")
    a = p.parse_args(argv)
    n = make(a.out, a.per_source, a.sources_only)
    if a.query:
        make_query(a.query)
    print(f"{n} photos in {a.out}" + (f", query {a.query}" if a.query else ""))


if __name__ == "__main__":
    main(sys.argv[1:])
