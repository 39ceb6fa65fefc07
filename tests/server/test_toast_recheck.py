"""Out-of-line (TOAST) vectors re-checked by the executor through the
distance functions' cache of recent detoasts (src/pg/toast_cache.rs): through
both index access methods, at 2,048 dimensions (every row out of line), the
answers and their distances must be numpy's exact ones after updates,
deletes with VACUUM, a rollback, for compressed and inline values, two
TOAST tables in one query and a temporary table; an ERROR in the middle of
a scan must leave nothing behind. Values read again in later transactions
come back by their chunks' remembered tuple ids (src/pg/toast_locations.rs):
the answers must stay exact when those chunks move or go (VACUUM FULL,
CLUSTER, TRUNCATE, a rewriting ALTER TABLE, DELETE + VACUUM with line
pointers reused), in a session and inside one transaction."""
import numpy as np
import psycopg
import pytest
from pgvector.psycopg import register_vector

DIM = 2048
ROWS = 240
K = 10


def exact(data, ids, q, k=K):
    """numpy's k nearest (id, L2 distance) of q among `data` rows `ids`."""
    d = np.sqrt(((data - q) ** 2).sum(axis=1))
    order = np.argsort(d, kind="stable")[:k]
    return [int(ids[i]) for i in order], d[order]


class Table:
    """A table of 2,048-d rows of `typ` with its rows mirrored in numpy."""

    def __init__(self, conn, name, typ, rng, temp=False):
        self.conn, self.name, self.typ = conn, name, typ
        self.rows = {}
        conn.execute(f"DROP TABLE IF EXISTS {name}")
        conn.execute(f"CREATE {'TEMP ' if temp else ''}TABLE {name} (id int PRIMARY KEY, v {typ}({DIM}))")
        self.put(range(ROWS), rng.standard_normal((ROWS, DIM)).astype(np.float32))

    def stored(self, v):
        """What the column holds of float32 vector v."""
        return v.astype(np.float16).astype(np.float64) if self.typ == "halfvec" else v.astype(np.float64)

    def put(self, ids, values, update=False):
        """Inserts (or updates) rows `ids` with `values`."""
        for i, v in zip(ids, values):
            if update:
                self.conn.execute(f"UPDATE {self.name} SET v = %s::{self.typ} WHERE id = %s", (v, int(i)))
            else:
                self.conn.execute(f"INSERT INTO {self.name} VALUES (%s, %s::{self.typ})", (int(i), v))
            self.rows[int(i)] = self.stored(v)

    def delete(self, ids):
        """Deletes rows `ids`."""
        self.conn.execute(f"DELETE FROM {self.name} WHERE id = ANY(%s)", ([int(i) for i in ids],))
        for i in ids:
            self.rows.pop(int(i))

    def matrix(self):
        """(ids, rows) of the live rows."""
        ids = sorted(self.rows)
        return np.array(ids), np.stack([self.rows[i] for i in ids])

    def check(self, queries, index=True):
        """Index answers (ids and distances) equal numpy's exact ones."""
        ids, data = self.matrix()
        cur = self.conn.cursor()
        cur.execute(f"SET enable_seqscan = {'off' if index else 'on'}")
        cur.execute(f"SET enable_indexscan = {'on' if index else 'off'}")
        for q in queries:
            cur.execute(f"SELECT id, v <-> %s::{self.typ} FROM {self.name} ORDER BY v <-> %s::{self.typ} "
                        f"LIMIT {K}", (q, q), prepare=False)
            got = cur.fetchall()
            want_ids, want_d = exact(data, ids, self.stored(q))
            assert [r[0] for r in got] == want_ids
            np.testing.assert_allclose([r[1] for r in got], want_d, rtol=2e-3)
        cur.execute("RESET enable_seqscan")
        cur.execute("RESET enable_indexscan")


INDEXES = {
    "hnsw": ("USING hnsw (v {ops}) WITH (m = 8, ef_construction = 40)", "hnsw.ef_search", 400),
    "ivfflat": ("USING ivfflat (v {ops}) WITH (lists = 4)", "ivfflat.probes", 4),
}


@pytest.fixture
def conn(cluster):
    """A connection that collects the server's notices and warnings."""
    with cluster.connect() as c:
        register_vector(c)
        c.notices = []
        c.add_notice_handler(lambda d: c.notices.append(d.message_primary))
        yield c
        assert not [m for m in c.notices if "leak" in m or "not closed" in m], c.notices


@pytest.mark.parametrize("typ", ["vector", "halfvec"])
@pytest.mark.parametrize("am", ["hnsw", "ivfflat"])
def test_toasted_answers_are_exact(conn, typ, am):
    rng = np.random.default_rng(11)
    t = Table(conn, "tf", typ, rng)
    assert conn.execute("SELECT pg_column_compression(v) IS NULL AND pg_column_size(v) > 4000 "
                        "FROM tf WHERE id = 0").fetchone()[0]
    using, setting, value = INDEXES[am]
    conn.execute(f"CREATE INDEX tf_idx ON tf {using.format(ops=typ + '_l2_ops')}")
    conn.execute(f"SET {setting} = {value}")
    queries = rng.standard_normal((6, DIM)).astype(np.float32)
    t.check(queries)

    # UPDATEs: new out-of-line values for old rows, near the queries.
    near = queries[:3] + 0.01 * rng.standard_normal((3, DIM)).astype(np.float32)
    t.put([5, 6, 7], near, update=True)
    t.check(queries)

    # DELETE + VACUUM frees the deleted values' chunks; new rows take their place.
    t.delete(range(20, 60))
    conn.execute("VACUUM tf")
    t.put(range(1000, 1040), rng.standard_normal((40, DIM)).astype(np.float32))
    t.check(queries)

    # A rolled-back transaction: its own values inside, the old ones after.
    saved = dict(t.rows)
    conn.execute("BEGIN")
    t.put([0, 1], queries[3:5], update=True)
    t.check(queries)
    conn.execute("ROLLBACK")
    t.rows = saved
    t.check(queries)

    # Compressed out of line (a third of the bytes random, at the end), compressed inline
    # (zeros) next to the plain out-of-line rows: the types' storage is
    # external (never compressed), the column's made extended.
    conn.execute("ALTER TABLE tf ALTER COLUMN v SET STORAGE EXTENDED")
    random_elems = 640 if typ == "vector" else 1280
    packed = np.zeros((2, DIM), dtype=np.float32)
    packed[0, -random_elems:] = rng.standard_normal(random_elems)  # pglz gives up on
    # a value whose first kilobyte does not compress
    t.put([2000, 2001], packed)
    compressed, size = conn.execute("SELECT pg_column_compression(v), pg_column_size(v) FROM tf "
                                    "WHERE id = 2000").fetchone()
    assert compressed is not None and size > 2100, (compressed, size)
    assert conn.execute("SELECT pg_column_size(v) < 200 FROM tf WHERE id = 2001").fetchone()[0]
    t.check(np.concatenate([packed, packed + 0.01, queries[:2]]))
    conn.execute("DROP TABLE tf")


@pytest.mark.parametrize("typ", ["vector", "halfvec"])
@pytest.mark.parametrize("am", ["hnsw", "ivfflat"])
def test_chunks_that_move_or_go(conn, typ, am):
    rng = np.random.default_rng(16)
    t = Table(conn, "tfm", typ, rng)
    using, setting, value = INDEXES[am]
    conn.execute(f"CREATE INDEX tfm_idx ON tfm {using.format(ops=typ + '_l2_ops')}")
    conn.execute(f"SET {setting} = {value}")
    queries = rng.standard_normal((4, DIM)).astype(np.float32)
    toast = conn.execute("SELECT reltoastrelid::regclass::text FROM pg_class WHERE relname = 'tfm'").fetchone()[0]

    def moved():
        """Every row's chunk tuple ids, by value."""
        return dict(conn.execute(f"SELECT chunk_id::int8, array_agg(ctid::text ORDER BY chunk_seq) "
                                 f"FROM {toast} GROUP BY 1").fetchall())

    def truncate_and_refill():
        """TRUNCATE (a new relation file), 40 new rows, exact answers."""
        conn.execute("TRUNCATE tfm")
        t.rows = {}
        t.put(range(40), rng.standard_normal((40, DIM)).astype(np.float32))
        t.check(queries)

    t.check(queries)
    t.check(queries)  # the second time by remembered locations
    # Rewrites keep the values' ids but not their places.
    before = moved()
    conn.execute("VACUUM FULL tfm")
    toast = conn.execute("SELECT reltoastrelid::regclass::text FROM pg_class WHERE relname = 'tfm'").fetchone()[0]
    assert moved().keys() == before.keys()
    t.check(queries)
    conn.execute("CLUSTER tfm USING tfm_pkey")
    t.check(queries)
    # DELETE + VACUUM, then new rows: old line pointers hold other values' chunks.
    t.delete(range(0, ROWS, 2))
    conn.execute("VACUUM tfm")
    t.put(range(5000, 5000 + ROWS // 2), rng.standard_normal((ROWS // 2, DIM)).astype(np.float32))
    t.check(queries)
    # All inside one transaction: rewrites, then a rollback to what was read before.
    conn.execute("BEGIN")
    t.check(queries)
    saved = dict(t.rows)
    conn.execute("CLUSTER tfm USING tfm_pkey")
    t.check(queries)
    conn.execute("ALTER TABLE tfm ADD COLUMN z float8 DEFAULT random()")  # rewrites the table
    t.check(queries)
    t.put([5000, 5002], queries[:2] + 0.01, update=True)
    t.check(queries)
    truncate_and_refill()
    conn.execute("ROLLBACK")
    t.rows = saved
    t.check(queries)
    t.check(queries)
    truncate_and_refill()
    conn.execute("DROP TABLE tfm")


@pytest.mark.parametrize("am", ["hnsw", "ivfflat"])
def test_two_toast_tables_in_one_query(conn, am):
    rng = np.random.default_rng(12)
    a = Table(conn, "tfa", "vector", rng)
    b = Table(conn, "tfb", "vector", rng)
    using, setting, value = INDEXES[am]
    conn.execute(f"CREATE INDEX tfa_idx ON tfa {using.format(ops='vector_l2_ops')}")
    conn.execute(f"SET {setting} = {value}")
    conn.execute("SET enable_seqscan = off")
    # Each row of tfb (read from its TOAST table) is the query of an index
    # scan of tfa (whose rows come from another TOAST table).
    rows = conn.execute("SELECT b.id, x.id, x.d FROM tfb b CROSS JOIN LATERAL "
                        f"(SELECT id, v <-> b.v d FROM tfa ORDER BY v <-> b.v LIMIT {K}) x "
                        "WHERE b.id < 5 ORDER BY b.id, x.d").fetchall()
    conn.execute("RESET enable_seqscan")
    ids, data = a.matrix()
    for qid in range(5):
        got = [r for r in rows if r[0] == qid]
        want_ids, want_d = exact(data, ids, b.rows[qid])
        assert [r[1] for r in got] == want_ids
        np.testing.assert_allclose([r[2] for r in got], want_d, rtol=1e-5)
    conn.execute("DROP TABLE tfa, tfb")


@pytest.mark.parametrize("am", ["hnsw", "ivfflat"])
def test_temp_table_then_truncate_in_the_same_transaction(conn, am):
    rng = np.random.default_rng(13)
    t = Table(conn, "tft", "halfvec", rng, temp=True)
    using, setting, value = INDEXES[am]
    conn.execute(f"CREATE INDEX tft_idx ON tft {using.format(ops='halfvec_l2_ops')}")
    conn.execute(f"SET {setting} = {value}")
    queries = rng.standard_normal((4, DIM)).astype(np.float32)
    t.check(queries)
    # The TOAST relation read above is not held open: TRUNCATE (which
    # rebuilds the TOAST index) works in the same transaction.
    conn.execute("BEGIN")
    t.check(queries)
    conn.execute("TRUNCATE tft")
    t.rows = {}
    t.put(range(30), rng.standard_normal((30, DIM)).astype(np.float32))
    t.check(queries)
    conn.execute("COMMIT")
    t.check(queries)
    conn.execute("DROP TABLE tft")


@pytest.mark.parametrize("am", ["hnsw", "ivfflat"])
def test_error_mid_scan_leaves_nothing_open(conn, am):
    rng = np.random.default_rng(14)
    t = Table(conn, "tfe", "vector", rng)
    using, setting, value = INDEXES[am]
    conn.execute(f"CREATE INDEX tfe_idx ON tfe {using.format(ops='vector_l2_ops')}")
    conn.execute(f"SET {setting} = {value}")
    queries = rng.standard_normal((3, DIM)).astype(np.float32)
    ids, data = t.matrix()
    for q in queries:
        conn.execute("SET enable_seqscan = off")
        # The 5th row's division by zero raises after 4 rows were rechecked.
        fifth = exact(data, ids, t.stored(q))[0][4]
        with pytest.raises(psycopg.errors.DivisionByZero):
            conn.execute(f"SELECT id, 1 / (id - {fifth}) FROM tfe ORDER BY v <-> %s LIMIT {K}", (q,))
        # ... and in a transaction, rolled back to a savepoint, then more queries.
        conn.execute("BEGIN")
        t.check(queries[:1])
        conn.execute("SAVEPOINT s")
        conn.execute("SET enable_seqscan = off")
        with pytest.raises(psycopg.errors.DivisionByZero):
            conn.execute(f"SELECT id, 1 / (id - {fifth}) FROM tfe ORDER BY v <-> %s LIMIT {K}", (q,))
        conn.execute("ROLLBACK TO SAVEPOINT s")
        t.check(queries)
        conn.execute("COMMIT")
    # A timeout cancels a query in the middle of its 57,600 toasted distances.
    conn.execute("SET statement_timeout = '5ms'")
    with pytest.raises(psycopg.errors.QueryCanceled):
        conn.execute("SELECT sum(b.v <-> a.v) FROM tfe b, tfe a")
    conn.execute("RESET statement_timeout")
    conn.execute("RESET enable_seqscan")
    t.check(queries)
    conn.execute("DROP TABLE tfe")


def test_subtransactions_cursors_and_functions(conn):
    """Cached detoasts (toast_cache.rs) across the ways a statement ends: a PL/pgSQL loop whose queries fail in a subtransaction,
    a cursor closed half-read, a cursor held over COMMIT."""
    rng = np.random.default_rng(15)
    t = Table(conn, "tfs", "vector", rng)
    conn.execute("CREATE INDEX tfs_idx ON tfs USING hnsw (v vector_l2_ops)")
    conn.execute("SET hnsw.ef_search = 400")
    ids, data = t.matrix()
    q = rng.standard_normal(DIM).astype(np.float32)
    conn.execute("""
        CREATE OR REPLACE FUNCTION tfs_loop(q vector) RETURNS TABLE (failed int, total float8)
        LANGUAGE plpgsql AS $$
        DECLARE x float8;
        BEGIN
          failed := 0; total := 0;
          FOR i IN 1..6 LOOP
            BEGIN
              -- distances of rows 0..39, then a division by zero at row 3i
              SELECT sum((v <-> q) / (id - 3 * i) * (id - 3 * i)) INTO x FROM tfs WHERE id < 40;
              total := total + x;
            EXCEPTION WHEN division_by_zero THEN
              failed := failed + 1;
            END;
          END LOOP;
          SELECT sum(v <-> q) INTO x FROM (SELECT v FROM tfs ORDER BY v <-> q LIMIT 10) s;
          total := total + x;
          RETURN NEXT;
        END $$""")
    failed, total = conn.execute("SELECT * FROM tfs_loop(%s)", (q,)).fetchone()
    d = np.sqrt(((data - t.stored(q)) ** 2).sum(axis=1))
    assert failed == 6
    np.testing.assert_allclose(total, np.sort(d)[:K].sum(), rtol=1e-5)
    t.check([q])

    # A cursor closed after two rows, in a transaction that goes on.
    conn.execute("BEGIN")
    conn.execute("DECLARE c CURSOR FOR SELECT id, v <-> %s FROM tfs ORDER BY v <-> %s", (q, q))
    first = conn.execute("FETCH 2 FROM c").fetchall()
    conn.execute("CLOSE c")
    t.check([q])
    conn.execute("COMMIT")
    want_ids, want_d = exact(data, ids, t.stored(q))
    assert [r[0] for r in first] == want_ids[:2]

    # A cursor WITH HOLD, read after its transaction committed.
    conn.execute("BEGIN")
    conn.execute("DECLARE h CURSOR WITH HOLD FOR SELECT id, v <-> %s FROM tfs ORDER BY v <-> %s "
                 f"LIMIT {K}", (q, q))
    conn.execute("COMMIT")
    held = conn.execute(f"FETCH {K} FROM h").fetchall()
    conn.execute("CLOSE h")
    assert [r[0] for r in held] == want_ids
    np.testing.assert_allclose([r[1] for r in held], want_d, rtol=1e-5)

    # A subtransaction that reads values, rolled back, then the outer goes on.
    conn.execute("BEGIN")
    t.check([q])
    conn.execute("SAVEPOINT s")
    t.check([q])
    conn.execute("DECLARE c2 CURSOR FOR SELECT id, v <-> %s FROM tfs ORDER BY v <-> %s", (q, q))
    conn.execute("FETCH 3 FROM c2")
    conn.execute("ROLLBACK TO SAVEPOINT s")
    t.check([q])
    conn.execute("COMMIT")
    conn.execute("DROP FUNCTION tfs_loop")
    conn.execute("DROP TABLE tfs")
