"""sparsevec through pgvector-python's SparseVector over every driver it
adapts: psycopg 3 (text, binary, COPY BINARY), psycopg2, asyncpg and
SQLAlchemy; each value must come back exactly, and ORDER BY a distance
must match numpy's exact order."""
import asyncio

import asyncpg
import numpy as np
import psycopg
import psycopg2
import pytest
from psycopg.conninfo import conninfo_to_dict
from pgvector import SparseVector
from pgvector.asyncpg import register_vector as register_asyncpg
from pgvector.psycopg import register_vector
from pgvector.psycopg2 import register_vector as register_psycopg2
from pgvector.sqlalchemy import SPARSEVEC
from sqlalchemy import Integer, create_engine, insert, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

DIM = 40
RNG = np.random.default_rng(20261206)
DENSE = np.where(RNG.random((120, DIM)) < 0.2, RNG.standard_normal((120, DIM)), 0).astype(np.float32)
DENSE[0] = 0  # an all-zero row: {}/40
QUERY = np.where(RNG.random(DIM) < 0.3, RNG.standard_normal(DIM), 0).astype(np.float32)
ROWS = [SparseVector(d) for d in DENSE]


def same(got, i):
    """Asserts that a SparseVector equals row i exactly."""
    assert isinstance(got, SparseVector), type(got)
    assert got.dimensions() == DIM
    np.testing.assert_array_equal(got.to_numpy(), DENSE[i])


def exact_order(op):
    """Row ids sorted by exact distance to QUERY, computed in numpy (ties by id)."""
    if op == "<->":
        d = np.linalg.norm(DENSE - QUERY, axis=1)
    elif op == "<#>":
        d = -(DENSE @ QUERY)
    else:
        d = np.abs(DENSE - QUERY).sum(axis=1)
    return sorted(range(len(DENSE)), key=lambda i: (float(d[i]), i))


@pytest.fixture(scope="module")
def conn(dsn):
    """A psycopg connection with pgvector's adapters and a filled table."""
    with psycopg.connect(dsn, autocommit=True) as c:
        register_vector(c)
        c.execute("DROP TABLE IF EXISTS sparse_items")
        c.execute(f"CREATE TABLE sparse_items (id int PRIMARY KEY, embedding sparsevec({DIM}))")
        with c.cursor() as cur:
            cur.executemany("INSERT INTO sparse_items VALUES (%s, %s)", list(enumerate(ROWS)))
        yield c


@pytest.mark.parametrize("binary", [False, True])
def test_psycopg_round_trip(conn, binary):
    with conn.cursor(binary=binary) as cur:
        cur.execute("SELECT id, embedding FROM sparse_items ORDER BY id")
        rows = cur.fetchall()
    assert len(rows) == len(ROWS)
    for i, emb in rows:
        same(emb, i)
    with conn.cursor(binary=binary) as cur:
        cur.execute("SELECT %s::sparsevec::text", (SparseVector({0: 1.5, 7: -2.0}, 9),))
        assert cur.fetchone()[0] == "{1:1.5,8:-2}/9"


@pytest.mark.parametrize("op", ["<->", "<#>", "<+>"])
@pytest.mark.parametrize("binary", [False, True])
def test_psycopg_order_by_distance(conn, op, binary):
    with conn.cursor(binary=binary) as cur:
        cur.execute(f"SELECT id FROM sparse_items ORDER BY embedding {op} %s, id LIMIT 10", (SparseVector(QUERY),))
        got = [r[0] for r in cur.fetchall()]
    assert got == exact_order(op)[:10]


def test_psycopg_hnsw_index(conn):
    conn.execute("CREATE INDEX IF NOT EXISTS sparse_items_l2 ON sparse_items USING hnsw (embedding sparsevec_l2_ops)")
    with conn.transaction():
        conn.execute("SET LOCAL enable_seqscan = off")
        conn.execute("SET LOCAL hnsw.ef_search = 200")
        q = "SELECT id FROM sparse_items ORDER BY embedding <-> %s LIMIT 10"
        plan = "\n".join(r[0] for r in conn.execute("EXPLAIN " + q, (SparseVector(QUERY),)))
        assert "sparse_items_l2" in plan, plan
        got = [r[0] for r in conn.execute(q, (SparseVector(QUERY),))]
    assert got == exact_order("<->")[:10]


def test_psycopg_copy_binary(conn):
    conn.execute(f"CREATE TEMP TABLE sparse_copied (id int, embedding sparsevec({DIM}))")
    with conn.cursor() as cur:
        with cur.copy("COPY sparse_copied (id, embedding) FROM STDIN WITH (FORMAT BINARY)") as copy:
            copy.set_types(["int4", "sparsevec"])
            for i in range(30):
                copy.write_row((i, ROWS[i]))
        cur.execute("SELECT count(*) FROM sparse_copied c JOIN sparse_items i USING (id) WHERE c.embedding = i.embedding")
        assert cur.fetchone()[0] == 30
        out = []
        with cur.copy("COPY (SELECT id, embedding FROM sparse_items ORDER BY id) TO STDOUT WITH (FORMAT BINARY)") as copy:
            copy.set_types(["int4", "sparsevec"])
            out = list(copy.rows())
    assert len(out) == len(ROWS)
    for i, emb in out:
        same(emb, i)


def test_psycopg_errors(conn):
    with pytest.raises(psycopg.errors.DataException, match="expected 40 dimensions, not 3"):
        conn.execute("INSERT INTO sparse_items VALUES (9999, %s)", (SparseVector({0: 1.0}, 3),))
    with pytest.raises(psycopg.errors.DataException, match="different sparsevec dimensions 40 and 3"):
        conn.execute("SELECT embedding <-> %s FROM sparse_items", (SparseVector({0: 1.0}, 3),))
    with pytest.raises(psycopg.errors.DataException, match="sparsevec indices must not contain duplicates"):
        conn.execute("SELECT '{1:1,1:2}/3'::sparsevec")
    assert not conn.broken


def test_psycopg2(dsn, conn):
    c = psycopg2.connect(dsn)
    try:
        register_psycopg2(c)
        cur = c.cursor()
        cur.execute("SELECT id, embedding FROM sparse_items ORDER BY id")
        for i, emb in cur.fetchall():
            same(emb, i)
        cur.execute("SELECT %s::sparsevec = embedding FROM sparse_items WHERE id = 5", (ROWS[5],))
        assert cur.fetchone()[0] is True
        cur.execute("SELECT id FROM sparse_items ORDER BY embedding <+> %s, id LIMIT 10", (SparseVector(QUERY),))
        assert [r[0] for r in cur.fetchall()] == exact_order("<+>")[:10]
    finally:
        c.close()


def test_asyncpg(dsn, conn):
    async def run():
        params = conninfo_to_dict(dsn)  # asyncpg takes URLs or keywords, not libpq's key=value
        c = await asyncpg.connect(host=params.get("host"), port=int(params.get("port", 5432)),
                                  user=params.get("user"), database=params.get("dbname"))
        try:
            await register_asyncpg(c)
            rows = await c.fetch("SELECT id, embedding FROM sparse_items ORDER BY id")
            for r in rows:
                same(r["embedding"], r["id"])
            assert await c.fetchval("SELECT $1::sparsevec = embedding FROM sparse_items WHERE id = 9", ROWS[9])
            got = await c.fetch("SELECT id FROM sparse_items ORDER BY embedding <-> $1, id LIMIT 10", SparseVector(QUERY))
            assert [r["id"] for r in got] == exact_order("<->")[:10]
        finally:
            await c.close()

    asyncio.run(run())


class Base(DeclarativeBase):
    pass


class SparseItem(Base):
    __tablename__ = "sa_sparse_items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    embedding = mapped_column(SPARSEVEC(DIM))


def test_sqlalchemy_orm(dsn):
    engine = create_engine("postgresql+psycopg://", creator=lambda: psycopg.connect(dsn))
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        s.execute(insert(SparseItem), [{"id": i, "embedding": ROWS[i]} for i in range(len(ROWS))])
        s.commit()
        got = s.scalars(select(SparseItem.id).order_by(SparseItem.embedding.l2_distance(SparseVector(QUERY)), SparseItem.id).limit(5)).all()
        assert list(got) == exact_order("<->")[:5]
        got = s.scalars(select(SparseItem.id).order_by(SparseItem.embedding.l1_distance(SparseVector(QUERY)), SparseItem.id).limit(5)).all()
        assert list(got) == exact_order("<+>")[:5]
        same(s.get(SparseItem, 3).embedding, 3)
    engine.dispose()
