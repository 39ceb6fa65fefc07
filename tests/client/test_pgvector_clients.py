"""pgvision seen through real pgvector clients: psycopg 3 (text and binary) and SQLAlchemy."""
import numpy as np
import psycopg
import pytest
from pgvector import Vector
from pgvector.psycopg import register_vector
from pgvector.sqlalchemy import VECTOR
from sqlalchemy import Integer, create_engine, insert, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

RNG = np.random.default_rng(20261124)
DATA = RNG.standard_normal((200, 16)).astype(np.float32)
QUERY = RNG.standard_normal(16).astype(np.float32)


def exact_order(metric):
    """Row ids sorted by exact distance to QUERY, computed in numpy."""
    if metric == "<->":
        d = np.linalg.norm(DATA - QUERY, axis=1)
    elif metric == "<#>":
        d = -(DATA @ QUERY)
    else:
        d = 1 - (DATA @ QUERY) / (np.linalg.norm(DATA, axis=1) * np.linalg.norm(QUERY))
    return list(np.argsort(d, kind="stable"))


@pytest.fixture(scope="module")
def conn(dsn):
    """A psycopg connection with pgvector's adapters and a filled table."""
    with psycopg.connect(dsn, autocommit=True) as c:
        register_vector(c)
        c.execute("DROP TABLE IF EXISTS items")
        c.execute("CREATE TABLE items (id int PRIMARY KEY, embedding vector(16))")
        with c.cursor() as cur:
            cur.executemany(
                "INSERT INTO items (id, embedding) VALUES (%s, %s)",
                [(i, DATA[i]) for i in range(len(DATA))],
            )
        yield c


@pytest.mark.parametrize("binary", [False, True])
def test_round_trip_text_and_binary(conn, binary):
    with conn.cursor(binary=binary) as cur:
        cur.execute("SELECT id, embedding FROM items ORDER BY id")
        rows = cur.fetchall()
    assert len(rows) == len(DATA)
    for i, emb in rows:
        assert isinstance(emb, Vector)
        np.testing.assert_array_equal(emb.to_numpy(), DATA[i])


def test_binary_parameters(conn):
    with conn.cursor(binary=True) as cur:
        cur.execute("SELECT %b::vector(16) = embedding FROM items WHERE id = 7", (DATA[7],))
        assert cur.fetchone()[0] is True
        cur.execute("SELECT %b::vector <-> %b::vector", (Vector([0, 0]), Vector([3, 4])))
        assert cur.fetchone()[0] == 5.0


@pytest.mark.parametrize("op", ["<->", "<#>", "<=>"])
@pytest.mark.parametrize("binary", [False, True])
def test_order_by_distance(conn, op, binary):
    with conn.cursor(binary=binary) as cur:
        cur.execute(f"SELECT id FROM items ORDER BY embedding {op} %s LIMIT 10", (QUERY,))
        got = [r[0] for r in cur.fetchall()]
    assert got == exact_order(op)[:10]


def test_copy_binary_with_psycopg(conn):
    conn.execute("CREATE TEMP TABLE copied (id int, embedding vector(16))")
    with conn.cursor() as cur:
        with cur.copy("COPY copied (id, embedding) FROM STDIN WITH (FORMAT BINARY)") as copy:
            copy.set_types(["int4", "vector"])
            for i in range(20):
                copy.write_row((i, DATA[i]))
        cur.execute("SELECT count(*) FROM copied c JOIN items i USING (id) WHERE c.embedding = i.embedding")
        assert cur.fetchone()[0] == 20


def test_dimension_error_reaches_client(conn):
    with pytest.raises(psycopg.errors.DataException, match="expected 16 dimensions, not 3"):
        conn.execute("INSERT INTO items VALUES (9999, %s)", (np.array([1, 2, 3], dtype=np.float32),))


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "sa_items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    embedding = mapped_column(VECTOR(16))


def test_sqlalchemy_orm(dsn):
    engine = create_engine("postgresql+psycopg://", creator=lambda: psycopg.connect(dsn))
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        s.execute(insert(Item), [{"id": i, "embedding": DATA[i]} for i in range(len(DATA))])
        s.commit()
        got = s.scalars(select(Item.id).order_by(Item.embedding.l2_distance(QUERY)).limit(5)).all()
        assert list(got) == exact_order("<->")[:5]
        got = s.scalars(select(Item.id).order_by(Item.embedding.cosine_distance(QUERY)).limit(5)).all()
        assert list(got) == exact_order("<=>")[:5]
        item = s.get(Item, 3)
        np.testing.assert_array_equal(np.asarray(item.embedding, dtype=np.float32), DATA[3])
        dist = s.scalar(select(Item.embedding.l2_distance(QUERY)).where(Item.id == 3))
        assert dist == pytest.approx(float(np.linalg.norm(DATA[3] - QUERY)), rel=1e-5)
    engine.dispose()
