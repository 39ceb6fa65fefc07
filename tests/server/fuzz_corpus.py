"""Edge arguments for the SQL fuzzer (test_fuzz.py), one list of SQL
expressions per argument type.

Every entry is an SQL expression of the named type: literals, catalog-made
values (array_fill), and real table rows (out-of-line TOASTed, compressed
and short-header vectors) read by subquery from the tables `setup_sql`
creates. Images are hostile on purpose: bombs at and past the pixel cap in
every accepted format, headers announcing huge sizes with no data,
truncated files and random bytes."""
import io
import random
import struct
import zlib

import numpy as np
from PIL import Image

# Rows of fuzz_rows: (id, vector text, storage note). Read back by subquery
# so that the functions see the on-disk forms, not a fresh literal.
ROWS_SQL = """
CREATE TABLE fuzz_rows (id int PRIMARY KEY, v vector);
ALTER TABLE fuzz_rows ALTER COLUMN v SET STORAGE extended;
CREATE TABLE fuzz_ext (id int PRIMARY KEY, v vector);  -- STORAGE external: out of line, uncompressed
INSERT INTO fuzz_rows VALUES
  (1, '[1]'),                                                    -- short (1-byte) header on disk
  (2, '[1,2,3]'),
  (3, array_fill(0::real, ARRAY[4000])::vector),                 -- compressible: compressed
  (4, array_fill(1.5::real, ARRAY[16000])::vector),              -- compressed, out of line
  (5, (SELECT array_agg(random()::real) FROM generate_series(1, 3000))::vector);
INSERT INTO fuzz_ext VALUES
  (1, (SELECT array_agg(i::real) FROM generate_series(1, 2000) i)::vector),
  (2, array_fill(2::real, ARRAY[16000])::vector);
CREATE TABLE fuzz_images (id int PRIMARY KEY, data bytea);
CREATE TABLE fuzz_hrows (id int PRIMARY KEY, v halfvec);
ALTER TABLE fuzz_hrows ALTER COLUMN v SET STORAGE extended;
INSERT INTO fuzz_hrows VALUES
  (1, '[1]'),                                                    -- short (1-byte) header on disk
  (2, '[1,2,3]'),
  (3, array_fill(0::real, ARRAY[4000])::halfvec),                -- compressed
  (4, array_fill(1.5::real, ARRAY[16000])::halfvec),             -- compressed, out of line
  (5, (SELECT array_agg(random()::real) FROM generate_series(1, 3000))::halfvec);
CREATE TABLE fuzz_sparse (id int PRIMARY KEY, v sparsevec);  -- STORAGE external: big ones out of line
INSERT INTO fuzz_sparse VALUES
  (1, '{1:1}/1'),                                                -- short (1-byte) header on disk
  (2, (SELECT array_agg(i::real) FROM generate_series(1, 16000) i)::vector::sparsevec),  -- 16,000 non-zeros, out of line
  (3, ('{' || (SELECT string_agg(i * 1000 || ':' || i, ',') FROM generate_series(1, 900) i) || '}/1000000000')::sparsevec);
"""

VECTORS = [
    "NULL::vector", "'[1]'::vector", "'[1,2,3]'::vector", "'[0,0,0]'::vector", "'[-0,1e-45,-1e-45]'::vector",
    "'[3.4e38,-3.4e38,1]'::vector", "'[1e-38,2,3]'::vector", "'[1,2]'::vector",
    "array_fill(1::real, ARRAY[16000])::vector", "array_fill(3e38::real, ARRAY[16000])::vector",
    "(SELECT v FROM fuzz_rows WHERE id = 1)", "(SELECT v FROM fuzz_rows WHERE id = 2)",
    "(SELECT v FROM fuzz_rows WHERE id = 3)", "(SELECT v FROM fuzz_rows WHERE id = 4)",
    "(SELECT v FROM fuzz_rows WHERE id = 5)", "(SELECT v FROM fuzz_ext WHERE id = 1)",
    "(SELECT v FROM fuzz_ext WHERE id = 2)",
]

# halfvec: the f16 extremes (65504, the smallest subnormal), sums and
# products that overflow, and the on-disk forms of fuzz_hrows.
HALFVECS = [
    "NULL::halfvec", "'[1]'::halfvec", "'[1,2,3]'::halfvec", "'[0,0,0]'::halfvec", "'[-0,6e-8,-6e-8]'::halfvec",
    "'[65504,-65504,1]'::halfvec", "'[0.0001,300,3]'::halfvec", "'[1,2]'::halfvec",
    "array_fill(1::real, ARRAY[16000])::halfvec", "array_fill(65504::real, ARRAY[16000])::halfvec",
    "(SELECT v FROM fuzz_hrows WHERE id = 1)", "(SELECT v FROM fuzz_hrows WHERE id = 2)",
    "(SELECT v FROM fuzz_hrows WHERE id = 3)", "(SELECT v FROM fuzz_hrows WHERE id = 4)",
    "(SELECT v FROM fuzz_hrows WHERE id = 5)",
]

# bit strings: empty, odd lengths, past a machine word, different lengths.
BITS = [
    "NULL::bit", "B''", "B'1'", "B'0'", "B'101'", "B'1111'", "B'0000'", "repeat('1', 77)::varbit::bit(77)",
    "repeat('10', 100)::varbit::bit(200)", "repeat('1', 64000)::varbit::bit(64000)",
    "binary_quantize(array_fill(1::real, ARRAY[16000])::vector)",
]


SPARSEVECS = [
    "NULL::sparsevec", "'{}/1'::sparsevec", "'{1:1}/1'::sparsevec", "'{1:1,3:2}/3'::sparsevec", "'{}/3'::sparsevec",
    "'{1:3e38,2:-3e38,3:1}/3'::sparsevec", "'{2:1e-45}/3'::sparsevec", "'{1:1}/2'::sparsevec",
    "'{1:1}/16000'::sparsevec", "'{16001:1}/16001'::sparsevec", "'{1:1,1000000000:2}/1000000000'::sparsevec",
    "'{}/1000000000'::sparsevec",
    "(SELECT v FROM fuzz_sparse WHERE id = 1)", "(SELECT v FROM fuzz_sparse WHERE id = 2)",
    "(SELECT v FROM fuzz_sparse WHERE id = 3)",
]


def _array_values(elem: str, cast: str):
    """Array edge cases for one element type, as SQL expressions."""
    return [
        f"NULL::{cast}", f"'{{}}'::{cast}", f"'{{1}}'::{cast}", f"'{{1,2,3}}'::{cast}",
        f"'{{1,NULL}}'::{cast}", f"'{{NULL}}'::{cast}", f"'{{{{1,2}},{{3,4}}}}'::{cast}",
        f"'[0:2]={{1,2,3}}'::{cast}", f"'[-5:-5]={{7}}'::{cast}",
        f"array_fill(1::{elem}, ARRAY[16000])", f"array_fill(1::{elem}, ARRAY[16001])",
        f"array_fill(1::{elem}, ARRAY[40000])", f"array_fill(1::{elem}, ARRAY[70000])",
        f"array_fill(1::{elem}, ARRAY[2, 3])", f"array_fill(1::{elem}, ARRAY[1, 1, 1])",
        f"array_fill(0::{elem}, ARRAY[1])",
    ]


def _float_specials(cast: str):
    """Float arrays with NaN, infinities, -0, denormals and float4 overflow."""
    return [
        f"'{{NaN}}'::{cast}", f"'{{Infinity,1}}'::{cast}", f"'{{-Infinity}}'::{cast}", f"'{{-0,0}}'::{cast}",
        f"'{{1e-45,1e-40}}'::{cast}", f"'{{3.5e38}}'::{cast}" if cast != "real[]" else f"'{{3.4e38}}'::{cast}",
        f"'{{1e308,1e308}}'::{cast}" if cast == "double precision[]" else f"'{{-3.4e38}}'::{cast}",
        f"'{{0,1e300}}'::{cast}" if cast == "double precision[]" else f"'{{1,2}}'::{cast}",
    ]


SCALARS = {
    "integer": ["NULL::integer", "0", "1", "-1", "2", "3", "16000", "16001", "65536", "2147483647", "-2147483648"],
    "smallint": ["NULL::smallint", "0::smallint", "-1::smallint", "32767::smallint"],
    "bigint": ["NULL::bigint", "0::bigint", "-1::bigint", "9223372036854775807"],
    "double precision": ["NULL::float8", "0::float8", "-0::float8", "'NaN'::float8", "'Infinity'::float8",
                         "1e-320::float8", "1e308::float8", "1.5::float8"],
    "real": ["NULL::real", "0::real", "'NaN'::real", "'-Infinity'::real", "1e-45::real", "3.4e38::real"],
    "boolean": ["NULL::boolean", "true", "false"],
    "oid": ["NULL::oid", "0::oid", "701::oid", "4294967295::oid"],
    "text": ["NULL::text", "''", "'tiny16'", "'efficientnet_lite0'", "'nonexistent'", "'../../../etc/passwd'",
             "'TINY16'", "repeat('a', 64)", "repeat('x', 100000)", "'tiny16 '", "E'tiny\\n16'", "'[1,2,3]'"],
    "cstring": ["NULL::cstring", "''::cstring", "'[1,2,3]'::cstring", "'[1,2'::cstring", "'[]'::cstring",
                "'[NaN]'::cstring", "'[1e39]'::cstring", "' [ 1 , 2 ] '::cstring", "'{1:2}/3'::cstring",
                "'[1,,2]'::cstring", "repeat('9', 100000)::cstring", "('[' || repeat('1,', 16000) || '1]')::cstring",
                "'[1]x'::cstring", "'abc'::cstring", "'{}/3'::cstring", "'{0:1}/3'::cstring", "'{1:1,1:2}/3'::cstring",
                "'{1:1}/1000000001'::cstring", "'{1:nan}/1'::cstring", "'{1:1e-50}/1'::cstring",
                "'{2147483648:1}/1'::cstring", "'{}/-2147483649'::cstring", "'{1:1'::cstring",
                "('{' || repeat('1:1,', 16000) || '1:1}/3')::cstring",
                "('{' || (SELECT string_agg(i || ':1', ',') FROM generate_series(1, 16000) i) || '}/16000')::cstring"],
    "cstring[]": ["NULL::cstring[]", "'{}'::cstring[]", "'{3}'::cstring[]", "'{0}'::cstring[]",
                  "'{16000}'::cstring[]", "'{16001}'::cstring[]", "'{-1}'::cstring[]", "'{1,2}'::cstring[]",
                  "'{abc}'::cstring[]", "'{99999999999}'::cstring[]", "'{NULL}'::cstring[]",
                  "'{1000000000}'::cstring[]", "'{1000000001}'::cstring[]"],
    "regclass": ["NULL::regclass", "0::regclass", "'fuzz_rows'::regclass", "'fuzz_rows_pkey'::regclass",
                 "'fuzz_hnsw'::regclass", "'fuzz_hnsw_big'::regclass", "'pg_class'::regclass"],
}

ARRAYS = {
    "real[]": _array_values("real", "real[]") + _float_specials("real[]"),
    "double precision[]": _array_values("float8", "double precision[]") + _float_specials("double precision[]")
    + ["'{0}'::float8[]", "'{1,1}'::float8[]", "'{-1,2}'::float8[]", "'{0,5,5}'::float8[]",
       "array_fill(1::float8, ARRAY[16002])", "'{1e308,1e308}'::float8[]"],
    "integer[]": _array_values("int", "integer[]") + ["'{2147483647,-2147483648}'::int[]"],
    "numeric[]": _array_values("numeric", "numeric[]")
    + ["'{NaN}'::numeric[]", "'{1e39}'::numeric[]", "'{1e-50}'::numeric[]", "'{Infinity}'::numeric[]",
       "ARRAY[repeat('9', 1000)::numeric]"],
    "halfvec[]": ["NULL::halfvec[]", "'{}'::halfvec[]", "ARRAY['[1,2]'::halfvec, NULL]"],
    "vector[]": ["NULL::vector[]", "'{}'::vector[]", "ARRAY['[1,2]'::vector, NULL]", "ARRAY['[1]'::vector]"],
}


def _png_header(width, height, depth=8, colour=2):
    """A PNG signature and IHDR announcing `width` x `height`, then IEND: no pixels."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


def _png_bomb(width, height):
    """A real 16-bit RGBA PNG of one colour: tiny compressed, huge decoded."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    row = b"\x00" + b"\x12\x34" * 4 * width
    comp = zlib.compressobj(9)
    body = b"".join(comp.compress(row) for _ in range(height)) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 16, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def _jpeg_header(width, height):
    """A JPEG SOI + SOF0 announcing `width` x `height`, then EOI: no scan data."""
    sof = struct.pack(">BBHBHHB", 0xFF, 0xC0, 17, 8, height, width, 3)
    sof += b"".join(bytes([i, 0x11, 0]) for i in (1, 2, 3))
    return b"\xff\xd8" + sof + b"\xff\xd9"


def _gif_header(width, height):
    """A GIF logical screen and image descriptor of `width` x `height`, almost no data."""
    return (b"GIF89a" + struct.pack("<HHBBB", width, height, 0, 0, 0) + b"\x2c"
            + struct.pack("<HHHHB", 0, 0, width, height, 0) + b"\x02\x02\x44\x01\x00\x3b")


def _bmp_header(width, height):
    """A BMP file and info header of `width` x `height` x 24 bits, no pixels."""
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, 0, 2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", (54 + abs(width * height) * 3) & 0xFFFFFFFF, 0, 0, 54) + info


def _tiff_header(width, height):
    """A little-endian TIFF whose one IFD announces `width` x `height`, strips pointing past the end."""
    entries = [(256, 4, 1, width), (257, 4, 1, height), (258, 3, 1, 8), (259, 3, 1, 1),
               (262, 3, 1, 1), (273, 4, 1, 10_000_000), (277, 3, 1, 1), (278, 4, 1, height),
               (279, 4, 1, (width * height) & 0xFFFFFFFF)]
    ifd = struct.pack("<H", len(entries)) + b"".join(struct.pack("<HHII", *e) for e in entries) + b"\0\0\0\0"
    return b"II*\x00" + struct.pack("<I", 8) + ifd


def _webp_header(width, height):
    """A RIFF/WEBP VP8X chunk announcing a `width` x `height` canvas, no image data."""
    vp8x = b"\x00\x00\x00\x00" + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    body = b"WEBP" + b"VP8X" + struct.pack("<I", len(vp8x)) + vp8x
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _real_images(rng):
    """Small real images in every accepted format, and their truncations."""
    arr = (np.random.default_rng(rng.randrange(1 << 30)).random((48, 64, 3)) * 255).astype(np.uint8)
    img = Image.fromarray(arr)
    out = []
    for fmt, kw in [("JPEG", {"quality": 80}), ("PNG", {}), ("WEBP", {}), ("GIF", {}), ("BMP", {}), ("TIFF", {})]:
        buf = io.BytesIO()
        img.save(buf, fmt, **kw)
        data = buf.getvalue()
        out += [data, data[: len(data) // 2], data[:16]]
    buf = io.BytesIO()
    Image.fromarray((arr[..., 0].astype(np.uint16) * 257)).save(buf, "PNG")
    out.append(buf.getvalue())
    return out


def images(rng: random.Random):
    """Hostile and valid image bytes (a list of `bytes`)."""
    out = _real_images(rng)
    for w, h in [(8192, 8192), (8193, 8192), (16385, 1), (100000, 100000), (1, 1), (0, 0)]:
        out.append(_png_header(w, h, 16, 6))
        out.append(_gif_header(min(w, 65535), min(h, 65535)))
        out.append(_bmp_header(w, h))
        out.append(_tiff_header(w, h))
        if 0 < w <= 16384 and 0 < h <= 16384:
            out.append(_webp_header(w, h))
        if w <= 65535 and h <= 65535:
            out.append(_jpeg_header(w, h))
    out.append(_bmp_header(-30000, -30000))
    out.append(_png_bomb(8192, 8192))   # exactly at the default cap: 64 Mpx
    out.append(_png_bomb(8193, 8192))   # one column past it
    out.append(_png_bomb(4096, 4096))
    for n in (1, 7, 100, 5000):
        out.append(bytes(rng.randrange(256) for _ in range(n)))
    out.append(b"\x89PNG\r\n\x1a\n" + bytes(rng.randrange(256) for _ in range(200)))
    out.append(b"\xff\xd8\xff" + bytes(rng.randrange(256) for _ in range(200)))
    out.append(b"GIF89a" + bytes(rng.randrange(256) for _ in range(60)))
    return out
