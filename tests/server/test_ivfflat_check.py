"""pgvision_index_check on ivfflat indexes: sound indexes (vector, halfvec,
bit; exact and 8-bit lists; one-item records and records in pieces; after inserts, deletes and
VACUUM) pass with and without heapallindexed; damage written into a stopped
cluster's index file (meta page, centres, directory, list pages, chain
links, record items, a record's vector) is an ERROR with SQLSTATE XX002
naming the block, never a crash; scans and inserts on the damaged index
fail the same way or not at all. Between cases the index is rebuilt."""
import os
import struct

import numpy as np
import pytest
from conftest import STATE
from datasets import clustered
from harness import PG_BIN, Cluster, run_as_pg
from pgvector.psycopg import register_vector
from test_corruption import attempt, lp, lp_value, put, server_is_whole, zero_page

BLCKSZ = 8192
STREAM = BLCKSZ - 24 - 8
OK_STATES = {"XX001", "XX002"}

# table: (dims, rows, opclass, lists)
TABLES = {
    "n16": (16, 3000, "vector_l2_ops", 10),  # many records a page
    "w3k": (3000, 120, "vector_l2_ops", 3),  # a record in two pieces, a page each
}


@pytest.fixture(scope="module")
def ivf():
    """A cluster (autovacuum and data checksums off) with one ivfflat index a table."""
    c = Cluster(STATE / "ivfcheck", int(os.environ.get("PGV_TEST_PORT", "54360")) + 7)
    c.init("autovacuum = off\n")
    run_as_pg(PG_BIN / "pg_checksums", "--disable", "-D", c.data, check=False)
    c.start()
    data = {}
    with c.connect() as conn:
        conn.execute("CREATE EXTENSION pgvision")
        register_vector(conn)
        for t, (dims, rows, ops, lists) in TABLES.items():
            data[t] = clustered(rows + 20, dims, 8, seed=dims)
            conn.execute(f"CREATE TABLE {t} (id int PRIMARY KEY, v vector({dims}))")
            with conn.cursor().copy(f"COPY {t} (id, v) FROM STDIN WITH (FORMAT BINARY)") as copy:
                copy.set_types(["int4", "vector"])
                for i in range(rows):
                    copy.write_row((i, data[t][i]))
            # exact lists: the damage cases below write float4 records
            conn.execute(f"CREATE INDEX {t}_idx ON {t} USING ivfflat (v {ops}) WITH (lists = {lists}, storage = 'exact')")
    yield c, data
    c.stop()


def check(conn, index):
    """(plain, heapallindexed) outcomes of pgvision_index_check."""
    return (attempt(conn, "SELECT pgvision_index_check(%s)", (index,)),
            attempt(conn, "SELECT pgvision_index_check(%s, true)", (index,)))


def test_sound_indexes_pass(ivf):
    """Every key type and layout, after a build, inserts, deletes and VACUUM."""
    cluster, data = ivf
    x = clustered(600, 24, 6, seed=5)
    with cluster.connect() as conn:
        register_vector(conn)
        for t in TABLES:
            assert check(conn, f"{t}_idx") == (None, None), t
        conn.execute("CREATE TABLE s (id int PRIMARY KEY, v vector(24), h halfvec(24), b bit(24))")
        for i, row in enumerate(x[:400]):
            bits = "".join("1" if e > 0 else "0" for e in row)
            conn.execute("INSERT INTO s VALUES (%s, %s, %s::vector::halfvec, %s::bit(24))", (i, row, row, bits))
        conn.execute("INSERT INTO s VALUES (1000, NULL, NULL, NULL), (1001, %s, %s::vector::halfvec, %s)",
                     (np.zeros(24, dtype=np.float32), np.zeros(24, dtype=np.float32), "0" * 24))
        indexes = {
            "s_l2": "v vector_l2_ops", "s_cos": "v vector_cosine_ops", "s_hip": "h halfvec_ip_ops",
            "s_hcos": "h halfvec_cosine_ops", "s_bit": "b bit_hamming_ops",
            # lists of 8-bit copies (storage = 'i8')
            "s_l2_i8": "v vector_l2_ops", "s_hip_i8": "h halfvec_ip_ops",
        }
        for name, col in indexes.items():
            storage = ", storage = 'i8'" if name.endswith("_i8") else ", storage = 'exact'"
            conn.execute(f"CREATE INDEX {name} ON s USING ivfflat ({col}) WITH (lists = 8{storage})")
        for i, row in enumerate(x[400:], start=400):
            bits = "".join("1" if e > 0 else "0" for e in row)
            conn.execute("INSERT INTO s VALUES (%s, %s, %s::vector::halfvec, %s::bit(24))", (i, row, row, bits))
        for name in indexes:
            assert check(conn, name) == (None, None), name
        conn.execute("DELETE FROM s WHERE id % 3 = 0")
        conn.execute("VACUUM s")
        for name in indexes:
            assert check(conn, name) == (None, None), name
        # a row whose record vacuum removed is not in the index: only the
        # committed, visible rows are looked for
        conn.execute("INSERT INTO w3k SELECT id + 10000, v FROM w3k WHERE id < 10")
        conn.execute("DELETE FROM w3k WHERE id >= 10000")
        conn.execute("VACUUM w3k")
        assert check(conn, "w3k_idx") == (None, None)
        # not an ivfflat or hnsw index
        conn.execute("CREATE INDEX s_id ON s (id)")
        r = attempt(conn, "SELECT pgvision_index_check('s_id')")
        assert r[0] == "42809" and "not an hnsw or ivfflat index" in r[1], r
        conn.execute("DROP TABLE s")


# --- the on-disk format, as far as the test needs it ------------------------


class IvfFile:
    """An ivfflat index file read after a CHECKPOINT."""

    def __init__(self, cluster, conn, table):
        rel = conn.execute("SELECT pg_relation_filepath(%s)", (f"{table}_idx",)).fetchone()[0]
        self.path = cluster.data / rel
        self.bytes = bytearray(self.path.read_bytes())
        self.nblocks = len(self.bytes) // BLCKSZ
        (self.magic, _, self.dims, self.lists, _, self.centre_start, self.dir_start,
         _) = struct.unpack_from("<8I", self.bytes, 24)
        self.first_list = self.dir_start + max(1, -(-self.lists * 8 // STREAM))

    def head(self, list_):
        """List `list_`'s head block."""
        return struct.unpack_from("<I", self.bytes, self.head_at(list_))[0]

    def head_at(self, list_):
        """File offset of list `list_`'s head in the directory (its insert page 4 bytes on)."""
        return self.dir_start * BLCKSZ + 24 + 8 * list_

    def next_at(self, block):
        """File offset of a list page's chain link."""
        return block * BLCKSZ + BLCKSZ - 8 + 4

    def chain(self, list_):
        """Blocks of list `list_`, head first."""
        out, b = [], self.head(list_)
        while b:
            out.append(b)
            b = struct.unpack_from("<I", self.bytes, self.next_at(b))[0]
        return out

    def items(self, block):
        """(offset, file offset, length) of the items of a list page."""
        page = self.bytes[block * BLCKSZ:(block + 1) * BLCKSZ]
        lower = struct.unpack_from("<H", page, 12)[0]
        out = []
        for i in range((lower - 24) // 4):
            raw = struct.unpack_from("<I", page, 24 + 4 * i)[0]
            out.append((i + 1, block * BLCKSZ + (raw & 0x7FFF), raw >> 17))
        return out

    def busy_list(self):
        """A list with at least two pages, and its chain."""
        chains = [(self.chain(i), i) for i in range(self.lists)]
        chain, list_ = max(chains, key=lambda c: len(c[0]))
        assert len(chain) >= 2
        return list_, chain


def record_case(table, edit, where=None, plain_finds=True, page=1, names_block=True):
    """Damage to the first record of page `page` (0 the head) of the longest
    list: `edit(f, block, off, start, length)` gives the changed bytes;
    the error names that block if `names_block`."""

    def damage(f, conn):
        _, chain = f.busy_list()
        block = chain[page]
        off, start, length = f.items(block)[0]
        return block if names_block else None, edit(f, block, off, start, length)

    return table, damage, where, plain_finds


def fixed_case(table, edit, where=None, plain_finds=True):
    """Damage `edit(f)` that gives (block named, changed bytes)."""
    return table, edit, where, plain_finds


def link_to_other_list(f, conn):
    """A list's tail links to another list's head: its pages are on two chains."""
    tail, a = max((f.chain(i)[-1], i) for i in range(f.lists) if f.head(i))
    head, b = min((f.head(i), i) for i in range(f.lists) if f.head(i) and i != a)
    assert head < tail
    return None, put(f, f.next_at(tail), "<I", head)


def insert_page_of_other_list(f, conn):
    """List 0's insert page on list 1's chain."""
    return f.dir_start, put(f, f.head_at(0) + 4, "<I", f.chain(1)[-1])


CASES = {
    "insert_page_other_list": fixed_case("n16", insert_page_of_other_list, "insert page"),
    "insert_page_past_end": fixed_case("w3k", lambda f, c: (f.dir_start, put(f, f.head_at(2) + 4, "<I", f.nblocks + 9)),
                                       "insert page"),
    "meta_magic": fixed_case("n16", lambda f, c: (0, put(f, 24, "<I", 0x12345678)), "meta page"),
    "meta_dims": fixed_case("n16", lambda f, c: (0, put(f, 24 + 8, "<I", 17)), "meta page"),
    "meta_lists": fixed_case("n16", lambda f, c: (0, put(f, 24 + 12, "<I", 40_000)), "meta page"),
    "meta_element": fixed_case("w3k", lambda f, c: (0, put(f, 24 + 28, "<I", 1)), "meta page"),
    "centre_nan": fixed_case("n16", lambda f, c: (1, put(f, BLCKSZ + 24 + 4 * 20, "<f", float("nan"))), "centre"),
    "directory_huge": fixed_case("n16", lambda f, c: (f.dir_start, put(f, f.head_at(3), "<I", 0xFFFFFFF0)), "list 3"),
    "directory_centre_page": fixed_case("w3k", lambda f, c: (f.dir_start, put(f, f.head_at(1), "<I", 1)), "list 1"),
    "lp_past_page": record_case("n16", lambda f, b, o, s, n: put(f, lp(b, o), "<I", lp_value(s % BLCKSZ, 1, 0x7FFF))),
    "lp_unused": record_case("n16", lambda f, b, o, s, n: put(f, lp(b, o), "<I", lp_value(s % BLCKSZ, 0, n))),
    "item_short": record_case("n16", lambda f, b, o, s, n: put(f, lp(b, o), "<I", lp_value(s % BLCKSZ, 1, n - 4)), "bytes"),
    "page_id": record_case("n16", lambda f, b, o, s, n: put(f, b * BLCKSZ + BLCKSZ - 8, "<H", 0xF16A), "page id"),
    "page_zeroed": record_case("w3k", lambda f, b, o, s, n: zero_page(f, b), "uninitialised"),
    "link_to_self": record_case("n16", lambda f, b, o, s, n: put(f, f.next_at(b), "<I", b), "links to block"),
    "link_past_end": record_case("w3k", lambda f, b, o, s, n: put(f, f.next_at(b), "<I", f.nblocks + 5), "past"),
    "link_to_other_list": fixed_case("n16", link_to_other_list, "chains of lists"),
    "tid_past_table": record_case("n16", lambda f, b, o, s, n: put(f, s, "<I", 0x00FFFFFF), "past the end of the table"),
    "tid_offset_zero": record_case("w3k", lambda f, b, o, s, n: put(f, s + 4, "<H", 0), "offset"),
    "piece_number": record_case("w3k", lambda f, b, o, s, n: put(f, s + 6, "<H", 5), "piece 5"),
    "value_infinite": record_case("n16", lambda f, b, o, s, n: put(f, s + 8 + 12, "<f", float("inf")), "not finite"),
    # only heapallindexed tells these from sound records
    "value_changed": record_case("n16", lambda f, b, o, s, n: put(f, s + 8 + 4, "<f", 0.25 + struct.unpack_from("<f", f.bytes, s + 12)[0]),
                                 "does not hold the row's vector", plain_finds=False),
    "piece_value_changed": record_case("w3k", lambda f, b, o, s, n: put(f, s + n - 4, "<f", 1.5), "does not hold", plain_finds=False,
                                       page=0),
    "tid_other_row": record_case("n16", lambda f, b, o, s, n: put(f, s + 4, "<H", struct.unpack_from("<H", f.bytes, s + 4)[0] + 1),
                                 "is not in the index", plain_finds=False, names_block=False),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_damage_is_an_error_naming_the_block(ivf, name):
    cluster, data = ivf
    table, damage, where, plain_finds = CASES[name]
    dims, rows, ops, lists = TABLES[table]
    index = f"{table}_idx"
    with cluster.connect() as conn:
        conn.execute("CHECKPOINT")
        f = IvfFile(cluster, conn, table)
        block, changed = damage(f, conn)
    assert changed, f"{name}: the damage changes nothing"
    cluster.stop()
    raw = bytearray(f.path.read_bytes())
    for at, value in changed.items():
        raw[at] = value
    f.path.write_bytes(bytes(raw))
    cluster.start()
    log_from = len(cluster.log.read_text(errors="replace"))
    with cluster.connect() as conn:
        register_vector(conn)
        started = conn.execute("SELECT pg_postmaster_start_time()").fetchone()[0]
        plain, heap = check(conn, index)
        # what else meets the damage fails soundly or not at all
        conn.execute(f"SET ivfflat.probes = {lists}")
        conn.execute("SET enable_seqscan = off")
        others = [attempt(conn, f"SELECT id FROM {table} ORDER BY v <-> %s LIMIT 5", (data[table][i],))
                  for i in (0, rows // 2)]
        others.append(attempt(conn, f"INSERT INTO {table} VALUES (%s, %s)", (rows + 1, data[table][rows + 1])))
        conn.execute(f"DELETE FROM {table} WHERE id = %s", (rows + 1,))
    print(f"{name}: plain {plain}; heapallindexed {heap}; others {others}")
    server_is_whole(cluster, started, log_from)
    for r in [plain, heap] + others:
        if r is not None:
            text = f"{name}: {r}"
            assert r[0] in OK_STATES and "panicked" not in r[1] and "backtrace" not in r[1].lower(), text
    assert heap is not None, f"{name}: pgvision_index_check(heapallindexed) found nothing"
    assert heap[0] == "XX002", (name, heap)
    if plain_finds:
        assert plain is not None and plain[0] == "XX002", (name, plain)
        assert plain[1] == heap[1], (name, plain, heap)
    else:
        assert plain is None, (name, plain)
    if block is not None:
        assert f"block {block}" in heap[1], (name, heap)
    if where:
        assert where in heap[1], (name, heap)
    with cluster.connect() as conn:
        conn.execute(f"REINDEX INDEX {index}")
        conn.execute(f"VACUUM {table}")
        assert check(conn, index) == (None, None), name
