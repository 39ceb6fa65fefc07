"""Damaged index pages: bytes of a stopped cluster's index files are
overwritten (line pointers, element headers, neighbour ids, heap TIDs, chunk
addresses, the meta page) or flipped at random (seeded, the seed printed),
and then scans, inserts, VACUUM and pgvision_index_check run on it. Every
failure must be an ERROR with SQLSTATE XX001 or XX002, without panic text or
a backtrace; the server must never restart; a read must never grow the index
file. Targeted damage must be found by pgvision_index_check, naming the
block. Between cases the index is rebuilt with REINDEX.

Damage to an element's payload (heap TIDs, scale, error bound, norm, f16
codes) is caught by its seals (on-disk format 4, pageformat::seal) before
a scan hands its rows to the executor, so the executor's own recheck never
gets to stop a scan with 'index returned tuples in wrong order' (XX000):
that is a failure here like any other."""
import os
import re
import struct

import numpy as np
import psycopg
import pytest
from conftest import STATE
from datasets import clustered
from harness import PG_BIN, Cluster, run_as_pg
from pgvector.psycopg import register_vector

SEED = int(os.environ.get("PGV_CORRUPTION_SEED", "190505"))
RANDOM_ROUNDS = int(os.environ.get("PGV_CORRUPTION_ROUNDS", "12"))
BLCKSZ = 8192
OK_STATES = {"XX001", "XX002"}

# table: (dims, rows, opclass, index options); the cases below damage the
# f16 layout (format 4), so every index asks for it.
INDEXES = {
    "s64": (64, 1500, "vector_l2_ops", "m = 16, storage = 'half'"),
    "o300": (300, 500, "vector_l2_ops", "m = 8, storage = 'half'"),  # a dimension order on the meta page
    "w4k": (4096, 40, "vector_l2_ops", "m = 16, storage = 'half'"),  # 13 elements share a block of chunks
    "w6k": (6000, 16, "vector_cosine_ops", "m = 16, storage = 'half'"),  # an element and its chunk block
}
OP = {"vector_l2_ops": "<->", "vector_cosine_ops": "<=>"}


@pytest.fixture(scope="module")
def damaged():
    """A cluster with one indexed table per layout (autovacuum off: the
    damage is met only by the statements below)."""
    c = Cluster(STATE / "corrupt", 54365).init("autovacuum = off\n")
    # Data checksums (on by default from PostgreSQL 18) would find most of
    # the damage before the index code reads it: off, so that it is the
    # index code that meets it on every version.
    run_as_pg(PG_BIN / "pg_checksums", "--disable", "-D", c.data, check=False)
    c.start()
    data = {}
    with c.connect() as conn:
        conn.execute("CREATE EXTENSION pgvision")
        register_vector(conn)
        for t, (dims, rows, ops, options) in INDEXES.items():
            data[t] = clustered(rows + 64, dims, 8, seed=dims)
            conn.execute(f"CREATE TABLE {t} (id int PRIMARY KEY, v vector({dims}))")
            with conn.cursor().copy(f"COPY {t} (id, v) FROM STDIN WITH (FORMAT BINARY)") as copy:
                copy.set_types(["int4", "vector"])
                for i in range(rows):
                    copy.write_row((i, data[t][i]))
            conn.execute(f"CREATE INDEX {t}_idx ON {t} USING hnsw (v {ops}) WITH ({options})")
    print(f"\ncorruption seed {SEED} (PGV_CORRUPTION_SEED), {RANDOM_ROUNDS} random rounds")
    yield c, data
    c.stop()


# --- the on-disk format, as far as the test needs it ------------------------


def u16(b, at):
    return struct.unpack_from("<H", b, at)[0]


def u32(b, at):
    return struct.unpack_from("<I", b, at)[0]


def line_pointers(page):
    """(offset, lp_off, lp_len) of every line pointer of an element page."""
    lower = u16(page, 12)
    out = []
    for i in range(max(0, (lower - 24) // 4)):
        raw = u32(page, 24 + 4 * i)
        out.append((i + 1, raw & 0x7FFF, raw >> 17))
    return out


class IndexFile:
    """An index's file read while the cluster is stopped (or after a checkpoint)."""

    def __init__(self, cluster, conn, table):
        self.table = table
        self.index = f"{table}_idx"
        rel = conn.execute("SELECT pg_relation_filepath(%s)", (self.index,)).fetchone()[0]
        self.path = cluster.data / rel
        self.bytes = bytearray(self.path.read_bytes())
        self.m = u32(self.bytes, 24 + 12)
        self.nblocks = len(self.bytes) // BLCKSZ

    def page(self, block):
        return self.bytes[block * BLCKSZ : (block + 1) * BLCKSZ]

    def items(self, kind):
        """(block, offset, start in file, length) of every item of `kind` (1 element, 2 chunk)."""
        out = []
        for block in range(1, self.nblocks):
            page = self.page(block)
            for off, start, length in line_pointers(page):
                if length and page[start] == kind:
                    out.append((block, off, block * BLCKSZ + start, length))
        return out

    def structure(self):
        """File offsets of everything but the payloads: page headers (not
        the LSN), line pointers, special spaces, the meta page's contents,
        elements' kind, level, flags, chunk block and neighbour slots,
        chunks' headers."""
        spans = [(24, 24 + 44 + 2 * u32(self.bytes, 24 + 40)), (BLCKSZ - 8, BLCKSZ)]
        for block in range(1, self.nblocks):
            base = block * BLCKSZ
            spans += [(base + 8, base + max(24, u16(self.bytes, base + 12))), (base + BLCKSZ - 8, base + BLCKSZ)]
        for _, _, start, length in self.items(1):
            level = self.bytes[start + 1]
            spans += [(start, start + 3), (start + 76, start + 80 + 6 * (2 * self.m + level * self.m))]
        for _, _, start, length in self.items(2):
            spans.append((start, start + 8))
        return spans


def heap_rows(conn, table, f, element_start):
    """Ids of the heap rows an element (at file offset `element_start`) stands for."""
    n = f.bytes[element_start + 3]
    ids = []
    for i in range(min(n, 10)):
        block, offset = struct.unpack_from("<IH", f.bytes, element_start + 4 + 6 * i)
        row = conn.execute(f"SELECT id FROM {table} WHERE ctid = %s::tid", (f"({block},{offset})",)).fetchone()
        if row:
            ids.append(row[0])
    return ids


# --- running statements against a damaged index ------------------------------


def attempt(conn, sql, params=None):
    """Runs one statement; None, or (sqlstate, message, detail) of its ERROR."""
    try:
        conn.execute(sql, params, prepare=False)
        return None
    except psycopg.errors.Error as e:
        assert e.diag.sqlstate is not None, f"{sql[:60]}: the connection broke: {e!r}"
        return e.diag.sqlstate, e.diag.message_primary or "", e.diag.message_detail or ""


def operations(cluster, data, table, ids, rng):
    """Scans (own vectors of `ids`, then others), pgvision_index_check with and
    without heapallindexed, inserts, a DELETE and VACUUM; the outcome of each
    and whether a read-only one grew the index."""
    dims, rows, ops, _ = INDEXES[table]
    index = f"{table}_idx"
    out = []
    with cluster.connect() as conn:
        register_vector(conn)
        conn.execute("SET statement_timeout = '60s'")
        conn.execute("SET enable_seqscan = off")
        conn.execute("SET hnsw.ef_search = 100")
        size = lambda: conn.execute("SELECT pg_relation_size(%s)", (index,)).fetchone()[0]
        before = size()
        # rows of the damaged elements first: their own vectors, read from
        # the table (an element may stand for a row an earlier case inserted)
        queries = [conn.execute(f"SELECT v FROM {table} WHERE id = %s", (i,)).fetchone()[0] for i in ids]
        queries += [data[table][int(i)] for i in rng.choice(rows, 3, replace=False)]
        for q in queries:
            out.append(("scan", attempt(conn, f"SELECT id FROM {table} ORDER BY v {OP[ops]} %s LIMIT 10", (q,))))
        conn.execute("SET hnsw.iterative_scan = relaxed_order")
        q = data[table][int(rng.integers(rows))]
        out.append(("iterative scan",
                    attempt(conn, f"SELECT id FROM {table} WHERE id %% 5 = 1 ORDER BY v {OP[ops]} %s LIMIT 20", (q,))))
        conn.execute("RESET hnsw.iterative_scan")
        out.append(("check", attempt(conn, "SELECT pgvision_index_check(%s)", (index,))))
        out.append(("check heapallindexed", attempt(conn, "SELECT pgvision_index_check(%s, true)", (index,))))
        grew = size() - before
        for k in range(2):
            new_id = 100_000 + int(rng.integers(1_000_000))
            v = data[table][rows + int(rng.integers(64))]
            out.append(("insert", attempt(conn, f"INSERT INTO {table} VALUES (%s, %s) ON CONFLICT DO NOTHING", (new_id, v))))
        victims = [int(i) for i in (list(ids)[:2] + [int(rng.integers(rows))])]
        out.append(("delete", attempt(conn, f"DELETE FROM {table} WHERE id = ANY(%s)", (victims,))))
        out.append(("vacuum", attempt(conn, f"VACUUM {table}")))
    return out, grew


def assert_sound_failures(name, outcomes):
    """Every failure is XX001/XX002, without panic text or backtrace."""
    for op, r in outcomes:
        if r is None:
            continue
        state, message, detail = r
        text = f"{name}: {op}: {state} {message} | {detail}"
        assert "panicked" not in message + detail and "backtrace" not in (message + detail).lower(), text
        assert state in OK_STATES, text


def server_is_whole(cluster, started, log_from):
    """The postmaster did not restart and no process died."""
    with cluster.connect() as conn:
        assert conn.execute("SELECT pg_postmaster_start_time()").fetchone()[0] == started
    log = cluster.log.read_text(errors="replace")[log_from:]
    for bad in ("terminated by signal", "was terminated", "PANIC", "terminating any other active"):
        assert bad not in log, f"server log: {log[log.find(bad) - 300 : log.find(bad) + 300]}"


def run_case(cluster, data, table, damage, rng):
    """Damages `table`'s index with `damage(file, conn)` (which returns the ids
    of rows whose element it hit and the block it damaged), runs the
    operations, checks the server and restores the index. Returns the
    outcomes and that block."""
    with cluster.connect() as conn:
        conn.execute("CHECKPOINT")
        f = IndexFile(cluster, conn, table)
        hit_ids, block, changed = damage(f, conn)
    size = f.path.stat().st_size
    cluster.stop()
    pristine = bytearray(f.path.read_bytes())
    assert len(pristine) == size
    for at, value in changed.items():
        pristine[at] = value
    f.path.write_bytes(bytes(pristine))
    cluster.start()
    log_from = len(cluster.log.read_text(errors="replace"))
    with cluster.connect() as conn:
        started = conn.execute("SELECT pg_postmaster_start_time()").fetchone()[0]
    outcomes, grew = operations(cluster, data, table, hit_ids, rng)
    server_is_whole(cluster, started, log_from)
    assert grew == 0, f"{table}: a read-only statement grew the index by {grew} bytes"
    with cluster.connect() as conn:
        conn.execute(f"REINDEX INDEX {table}_idx")
        assert attempt(conn, "SELECT pgvision_index_check(%s, true)", (f"{table}_idx",)) is None
    return outcomes, block


# --- targeted damage ----------------------------------------------------------


def put(f, at, fmt, *values):
    """The bytes `values` packed at file offset `at` would change: {offset: byte}."""
    b = struct.pack(fmt, *values)
    return {at + i: b[i] for i in range(len(b)) if f.bytes[at + i] != b[i]}


def element_case(table, edit, pick="middle"):
    """(table, damage) editing one element: `edit(f, block, offset, start,
    length)` returns the changed bytes. `pick`: the element in the middle
    of the file, the first, or one of the highest level."""

    def damage(f, conn):
        elements = f.items(1)
        if pick == "upper":
            block, off, start, length = max(elements, key=lambda e: f.bytes[e[2] + 1])
        else:
            block, off, start, length = elements[len(elements) // 2 if pick == "middle" else 0]
        return heap_rows(conn, table, f, start), block, edit(f, block, off, start, length)

    return table, damage


def meta_case(table, at, fmt, value):
    """(table, damage) writing `value` (or `value(file)`) at byte `at` of the meta page's contents."""

    def damage(f, conn):
        v = value(f) if callable(value) else value
        return [], 0, put(f, 24 + at, fmt, v)

    return table, damage


def page_case(table, edit):
    """(table, damage) editing the page of an element in the middle: `edit(f, block)`."""

    def damage(f, conn):
        elements = f.items(1)
        block, _, start, _ = elements[len(elements) // 2]
        return heap_rows(conn, table, f, start), block, edit(f, block)

    return table, damage


def chunk_owner_damage(f, conn):
    """Names another block as the owner of a chunk in the middle."""
    chunks = f.items(2)
    block, off, start, _ = chunks[len(chunks) // 2]
    owner = u32(f.bytes, start + 4)
    element = next(e for e in f.items(1) if e[0] == owner)
    return heap_rows(conn, "w4k", f, element[2]), block, put(f, start + 4, "<I", owner + 1)


def chunk_code_damage(f, conn):
    """Changes a code in a chunk in the middle: its element's seal no
    longer matches (the error names the element's block)."""
    chunks = f.items(2)
    _, _, start, _ = chunks[len(chunks) // 2]
    owner = u32(f.bytes, start + 4)
    element = next(e for e in f.items(1) if e[0] == owner)
    at = start + 8 + 2 * 17
    return heap_rows(conn, "w4k", f, element[2]), owner, put(f, at, "<H", u16(f.bytes, at) ^ 0x0100)


def lp(block, off):
    """File offset of line pointer `off` of `block`."""
    return block * BLCKSZ + 24 + 4 * (off - 1)


def lp_value(off, flags, length):
    """A raw line pointer."""
    return (off & 0x7FFF) | (flags & 3) << 15 | (length & 0x7FFF) << 17


def zero_page(f, block):
    """Every byte of `block` set to zero."""
    return {block * BLCKSZ + i: 0 for i in range(BLCKSZ) if f.bytes[block * BLCKSZ + i]}


CASES = {
    # line pointers: an item reaching past the page, past the items, into the header; not in use
    "lp_len_past_page": element_case("s64", lambda f, b, o, s, n: put(f, lp(b, o), "<I", lp_value(s % BLCKSZ, 1, 0x7FFF))),
    "lp_off_past_special": element_case("s64", lambda f, b, o, s, n: put(f, lp(b, o), "<I", lp_value(8184, 1, n))),
    "lp_off_into_header": element_case("o300", lambda f, b, o, s, n: put(f, lp(b, o), "<I", lp_value(8, 1, n))),
    "lp_unused": element_case("s64", lambda f, b, o, s, n: put(f, lp(b, o), "<I", lp_value(s % BLCKSZ, 0, n))),
    # element headers and heap TIDs
    "element_level": element_case("s64", lambda f, b, o, s, n: put(f, s + 1, "<B", f.bytes[s + 1] + 1)),
    "element_kind": element_case("o300", lambda f, b, o, s, n: put(f, s, "<B", 7)),
    "element_tid_count": element_case("s64", lambda f, b, o, s, n: put(f, s + 3, "<B", 200)),
    "element_flags": element_case("s64", lambda f, b, o, s, n: put(f, s + 2, "<B", 2)),
    "heap_tid_invalid_block": element_case("s64", lambda f, b, o, s, n: put(f, s + 4, "<I", 0xFFFFFFFF)),
    "heap_tid_past_table": element_case("o300", lambda f, b, o, s, n: put(f, s + 4, "<I", 0x00FFFFFF)),
    "heap_tid_offset_zero": element_case("s64", lambda f, b, o, s, n: put(f, s + 8, "<H", 0)),
    "error_bound_nan": element_case("s64", lambda f, b, o, s, n: put(f, s + 68, "<f", float("nan"))),
    "f16_code_infinite": element_case("s64", lambda f, b, o, s, n: put(f, s + n - 2, "<H", 0x7C00)),
    # the payload changed into other values a vector or table has: only the
    # seals tell them from true ones
    "f16_code_changed": element_case("s64", lambda f, b, o, s, n: put(f, s + n - 128, "<H", u16(f.bytes, s + n - 128) ^ 0x0200)),
    "scale_changed": element_case("s64", lambda f, b, o, s, n: put(f, s + 64, "<f", 0.5 * struct.unpack_from("<f", f.bytes, s + 64)[0])),
    "norm_changed": element_case("o300", lambda f, b, o, s, n: put(f, s + 72, "<f", 2.0 * struct.unpack_from("<f", f.bytes, s + 72)[0])),
    "heap_tid_other_row": element_case("s64", lambda f, b, o, s, n: put(f, s + 8, "<H", u16(f.bytes, s + 8) + 1)),
    "chunk_code_changed": ("w4k", chunk_code_damage),
    "seal_changed": element_case("s64", lambda f, b, o, s, n: put(f, s + 58, "<I", u32(f.bytes, s + 58) ^ 0x8000)),
    # neighbour ids: past the end, near InvalidBlockNumber, the meta page, no such item
    "neighbour_past_end": element_case("s64", lambda f, b, o, s, n: put(f, s + 80, "<IH", f.nblocks + 1000, 1)),
    "neighbour_huge_block": element_case("o300", lambda f, b, o, s, n: put(f, s + 86, "<IH", 0xFFFFFFFE, 1)),
    "neighbour_meta_page": element_case("s64", lambda f, b, o, s, n: put(f, s + 80, "<IH", 0, 1)),
    "neighbour_no_item": element_case("s64", lambda f, b, o, s, n: put(f, s + 80, "<IH", 1, 900)),
    "upper_neighbour_past_end": element_case(
        "s64", lambda f, b, o, s, n: put(f, s + 80 + 6 * 2 * f.m, "<IH", f.nblocks + 7, 2), pick="upper"),
    # chunk addresses of elements that span pages: wrapping, before the
    # element, past the end, onto the next element's block; a chunk's owner
    "chunk_block_wraps": element_case("w4k", lambda f, b, o, s, n: put(f, s + 76, "<I", 0xFFFFFFFF)),
    "chunk_block_before": element_case("w4k", lambda f, b, o, s, n: put(f, s + 76, "<I", b)),
    "chunk_block_past_end": element_case("w6k", lambda f, b, o, s, n: put(f, s + 76, "<I", 0xFFFFFFF0)),
    "chunk_block_next_element": element_case("w4k", lambda f, b, o, s, n: put(f, s + 76, "<I", b + 1), pick="first"),
    "chunk_owner": ("w4k", chunk_owner_damage),
    # the meta page
    "meta_magic": meta_case("s64", 0, "<I", 0x12345678),
    "meta_dims": meta_case("w4k", 8, "<I", 70_000),
    "meta_m": meta_case("s64", 12, "<I", 0xFFFFFFFF),
    "meta_entry_past_end": meta_case("s64", 24, "<I", lambda f: f.nblocks + 3),
    "meta_order": meta_case("o300", 44, "<H", 299),
    # page headers Postgres lets through (pd_lower below the header), a zeroed page
    "page_lower_below_header": page_case("s64", lambda f, b: put(f, b * BLCKSZ + 12, "<H", 16)),
    "page_zeroed": page_case("o300", zero_page),
    # a header Postgres itself refuses (pd_special not MAXALIGNed): its own
    # XX001, which must not come with a Rust backtrace either
    "page_special_refused": page_case("s64", lambda f, b: put(f, b * BLCKSZ + 16, "<H", 8180)),
}


# Damage that only the seals can find: the plain check (no heap) must, and
# a scan that meets the element must stop before returning its rows.
SEALED = {"f16_code_changed", "scale_changed", "norm_changed", "heap_tid_other_row", "chunk_code_changed",
          "seal_changed"}


@pytest.mark.parametrize("name", sorted(CASES))
def test_targeted_damage_is_an_error_naming_the_block(damaged, name):
    cluster, data = damaged
    table, damage = CASES[name]
    rng = np.random.default_rng(SEED + sum(map(ord, name)))
    outcomes, block = run_case(cluster, data, table, damage, rng)
    print(f"{name}: " + "; ".join(f"{op}: {'ok' if r is None else r[0] + ' ' + r[1][:150]}" for op, r in outcomes))
    assert_sound_failures(name, outcomes)
    # The checker finds it and names the block.
    found = [r for op, r in outcomes if op.startswith("check") and r is not None]
    assert found, f"{name}: pgvision_index_check found nothing"
    state, message, _ = found[-1]
    assert state in OK_STATES, (name, found)
    if state == "XX002":
        named = f"block {block}" in message or f"({block}," in message
        assert named or (block == 0 and "meta page" in message), (name, message)
    if name in SEALED:
        plain = dict(outcomes)["check"]
        assert plain is not None and "seal" in plain[1], (name, plain)
        if name not in {"scale_changed", "norm_changed"}:  # those can take the element out of reach
            scans = [r for op, r in outcomes if op == "scan"]
            assert scans[0] is not None and "seal" in scans[0][1], (name, scans[0])


def random_flips(rng, structure_only):
    """(table, damage) flipping 1 to 8 random bits of one index: anywhere
    but a page's LSN (a page LSN past the WAL's end is Postgres' own
    problem when the page is next written), or only in its structure
    (see `IndexFile.structure`: every other round, so that damage to the
    structure, the smaller part of an index, is met often)."""
    table = list(INDEXES)[int(rng.integers(len(INDEXES)))]

    def damage(f, conn):
        changed = {}
        spans = f.structure() if structure_only else [(0, len(f.bytes))]
        weights = np.array([hi - lo for lo, hi in spans], dtype=float)
        for _ in range(int(rng.integers(1, 9))):
            lo, hi = spans[int(rng.choice(len(spans), p=weights / weights.sum()))]
            at = int(rng.integers(lo, hi))
            if at % BLCKSZ < 8:
                continue
            old = changed.get(at, f.bytes[at])
            changed[at] = old ^ (1 << int(rng.integers(8)))
        blocks = sorted({at // BLCKSZ for at in changed})
        hit = []
        for block, _, start, length in f.items(1):
            if any(start <= at < start + length for at in changed):
                hit += heap_rows(conn, table, f, start)
        return hit[:4], blocks, changed

    return table, damage


def test_random_flips_are_errors_or_harmless(damaged):
    cluster, data = damaged
    rng = np.random.default_rng(SEED)
    detected = 0
    for round_ in range(RANDOM_ROUNDS):
        structure_only = round_ % 2 == 1
        table, damage = random_flips(rng, structure_only)
        outcomes, blocks = run_case(cluster, data, table, damage, rng)
        failures = [(op, r[0], r[1][:150]) for op, r in outcomes if r is not None]
        print(f"seed {SEED} round {round_}: {table} blocks {blocks} "
              f"{'structure' if structure_only else 'anywhere'}: {failures or 'no error'}")
        assert_sound_failures(f"seed {SEED} round {round_} ({table}, blocks {blocks})", outcomes)
        detected += bool(failures)
    print(f"{detected} of {RANDOM_ROUNDS} rounds ended in an ERROR")
