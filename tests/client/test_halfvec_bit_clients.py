"""halfvec and bit through real pgvector clients: pgvector-python's
HalfVector and Bit over psycopg 3 (text, binary, COPY BINARY), psycopg2,
asyncpg and SQLAlchemy, each value round-tripping exactly."""
import asyncio

import asyncpg
import numpy as np
import psycopg
import psycopg2
import pytest
from pgvector import Bit, HalfVector
from pgvector.asyncpg import register_vector as register_asyncpg
from pgvector.psycopg import register_vector
from pgvector.psycopg2 import register_vector as register_psycopg2
from pgvector.sqlalchemy import BIT, HALFVEC
from sqlalchemy import Integer, create_engine, insert, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

RNG = np.random.default_rng(20261206)
DIM, NBITS, ROWS = 12, 20, 60
HALVES = RNG.standard_normal((ROWS, DIM)).astype(np.float16)
# f16 extremes: the largest finite, the smallest subnormal, negative zero
HALVES[0, :4] = [65504, -65504, 2.0**-24, -0.0]
BITS = RNG.integers(0, 2, (ROWS, NBITS)).astype(bool)
QUERY = RNG.standard_normal(DIM).astype(np.float16)
QBITS = RNG.integers(0, 2, NBITS).astype(bool)


def l2_order():
    """Row ids by exact L2 distance to QUERY, on the f16 values."""
    d = np.linalg.norm(HALVES.astype(np.float64) - QUERY.astype(np.float64), axis=1)
    return list(np.argsort(d, kind="stable"))


def hamming_order():
    """Row ids by Hamming distance to QBITS, then id."""
    d = (BITS != QBITS).sum(axis=1)
    return sorted(range(ROWS), key=lambda i: (d[i], i))


def same_halves(got, i):
    """Whether a fetched halfvec equals row i bit for bit (-0 included)."""
    a = np.asarray(got.to_numpy() if isinstance(got, HalfVector) else got, dtype=np.float16)
    return a.tobytes() == HALVES[i].tobytes()


def as_bit(value):
    """A fetched bit as pgvector's Bit: psycopg 3 has dumpers for Bit but
    loads bit as text (str) or its binary form (bytes)."""
    if isinstance(value, str):
        return Bit.from_text(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return Bit.from_binary(bytes(value))
    return value


@pytest.fixture(scope="module")
def conn(dsn):
    """A psycopg 3 connection with pgvector's adapters and a filled table."""
    with psycopg.connect(dsn, autocommit=True) as c:
        register_vector(c)
        c.execute("DROP TABLE IF EXISTS hb_items")
        c.execute(f"CREATE TABLE hb_items (id int PRIMARY KEY, h halfvec({DIM}), b bit({NBITS}))")
        with c.cursor() as cur:
            cur.executemany("INSERT INTO hb_items VALUES (%s, %s, %s)",
                            [(i, HalfVector(HALVES[i]), Bit(BITS[i])) for i in range(ROWS)])
        yield c


@pytest.mark.parametrize("binary", [False, True])
def test_psycopg_round_trip(conn, binary):
    with conn.cursor(binary=binary) as cur:
        cur.execute("SELECT id, h, b FROM hb_items ORDER BY id")
        rows = cur.fetchall()
    assert len(rows) == ROWS
    for i, h, b in rows:
        assert isinstance(h, HalfVector) and same_halves(h, i), (i, h)
        assert as_bit(b) == Bit(BITS[i]), (i, b)


@pytest.mark.parametrize("binary", [False, True])
def test_psycopg_order_by_distances(conn, binary):
    with conn.cursor(binary=binary) as cur:
        cur.execute("SELECT id FROM hb_items ORDER BY h <-> %s LIMIT 10", (HalfVector(QUERY),))
        assert [r[0] for r in cur.fetchall()] == l2_order()[:10]
        cur.execute("SELECT id FROM hb_items ORDER BY b <~> %s, id LIMIT 10", (Bit(QBITS),))
        assert [r[0] for r in cur.fetchall()] == hamming_order()[:10]
        cur.execute("SELECT binary_quantize(%s::halfvec)", (HalfVector(QUERY),))
        assert as_bit(cur.fetchone()[0]) == Bit(QUERY > 0)


def test_psycopg_copy_binary(conn):
    conn.execute(f"CREATE TEMP TABLE hb_copied (id int, h halfvec({DIM}), b bit({NBITS}))")
    with conn.cursor() as cur:
        with cur.copy("COPY hb_copied (id, h, b) FROM STDIN WITH (FORMAT BINARY)") as copy:
            copy.set_types(["int4", "halfvec", "bit"])
            for i in range(ROWS):
                copy.write_row((i, HalfVector(HALVES[i]), Bit(BITS[i])))
        cur.execute("SELECT count(*) FROM hb_copied c JOIN hb_items i USING (id) "
                    "WHERE c.h = i.h AND c.b = i.b AND halfvec_send(c.h) = halfvec_send(i.h)")
        assert cur.fetchone()[0] == ROWS
        with cur.copy("COPY hb_copied (id, h, b) TO STDOUT WITH (FORMAT BINARY)") as copy:
            copy.set_types(["int4", "halfvec", "bit"])
            back = {i: (h, b) for i, h, b in copy.rows()}
    assert all(same_halves(back[i][0], i) and as_bit(back[i][1]) == Bit(BITS[i]) for i in range(ROWS))


def test_overflow_error_reaches_client(conn):
    with pytest.raises(psycopg.errors.NumericValueOutOfRange, match="value out of range: overflow"):
        conn.execute("SELECT %s::halfvec + %s::halfvec", (HalfVector([60000]), HalfVector([10000])))
    with pytest.raises(psycopg.errors.DataException, match="different bit lengths 20 and 3"):
        conn.execute("SELECT %s <~> B'101'", (Bit(QBITS),))


def test_psycopg2(dsn):
    c = psycopg2.connect(dsn)
    try:
        register_psycopg2(c)
        cur = c.cursor()
        cur.execute("SELECT id, h, b FROM hb_items ORDER BY id")
        rows = cur.fetchall()
        assert len(rows) == ROWS
        for i, h, b in rows:
            assert same_halves(h, i), (i, h)
            assert Bit.from_text(b) == Bit(BITS[i])
        cur.execute("CREATE TEMP TABLE hb_p2 (id int, h halfvec, b bit varying)")
        cur.executemany("INSERT INTO hb_p2 VALUES (%s, %s, %s::varbit)",
                        [(i, HalfVector(HALVES[i]), Bit(BITS[i]).to_text()) for i in range(ROWS)])
        cur.execute("SELECT count(*) FROM hb_p2 p JOIN hb_items i USING (id) WHERE p.h = i.h AND p.b = i.b")
        assert cur.fetchone()[0] == ROWS
        cur.execute("SELECT id FROM hb_items ORDER BY h <-> %s LIMIT 10", (HalfVector(QUERY),))
        assert [r[0] for r in cur.fetchall()] == l2_order()[:10]
    finally:
        c.close()


def test_asyncpg(dsn):
    async def run():
        params = dict(p.split("=", 1) for p in dsn.split())
        c = await asyncpg.connect(host=params["host"], port=int(params["port"]),
                                  user=params["user"], database=params["dbname"])
        try:
            await register_asyncpg(c)
            rows = await c.fetch("SELECT id, h, b FROM hb_items ORDER BY id")
            assert len(rows) == ROWS
            for i, h, b in rows:
                assert same_halves(h, i), (i, h)
                assert b.as_string().replace(" ", "") == Bit(BITS[i]).to_text()
            await c.execute("CREATE TEMP TABLE hb_apg (id int, h halfvec, b bit varying)")
            await c.executemany("INSERT INTO hb_apg VALUES ($1, $2, $3)",
                                [(i, HalfVector(HALVES[i]), asyncpg.BitString(Bit(BITS[i]).to_text()))
                                 for i in range(ROWS)])
            n = await c.fetchval("SELECT count(*) FROM hb_apg a JOIN hb_items i USING (id) "
                                 "WHERE a.h = i.h AND a.b = i.b")
            assert n == ROWS
            got = await c.fetch("SELECT id FROM hb_items ORDER BY h <-> $1 LIMIT 10", HalfVector(QUERY))
            assert [r[0] for r in got] == l2_order()[:10]
        finally:
            await c.close()

    asyncio.run(run())


class Base(DeclarativeBase):
    pass


class HbItem(Base):
    __tablename__ = "sa_hb_items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    h = mapped_column(HALFVEC(DIM))
    b = mapped_column(BIT(NBITS))


def test_sqlalchemy_orm(dsn):
    engine = create_engine("postgresql+psycopg://", creator=lambda: psycopg.connect(dsn))
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    try:
        with Session(engine) as s:
            s.execute(insert(HbItem), [{"id": i, "h": HALVES[i], "b": Bit(BITS[i]).to_text()}
                                       for i in range(ROWS)])
            s.commit()
            got = s.scalars(select(HbItem.id).order_by(HbItem.h.l2_distance(QUERY)).limit(5)).all()
            assert list(got) == l2_order()[:5]
            got = s.scalars(select(HbItem.id).order_by(HbItem.b.hamming_distance(Bit(QBITS).to_text()),
                                                       HbItem.id).limit(5)).all()
            assert list(got) == hamming_order()[:5]
            item = s.get(HbItem, 0)
            assert same_halves(item.h, 0)
            assert Bit.from_text(item.b) == Bit(BITS[0])
    finally:
        Base.metadata.drop_all(engine)
        engine.dispose()
