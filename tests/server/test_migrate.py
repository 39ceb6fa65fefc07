"""Moving from pgvector: a database made with pgvector (0.8.5, which the
PostgreSQL 16 and 18 of scripts/setup.sh --pg 16|18 carry) is copied into
pgvision by scripts/from-pgvector.sh and answers the same queries with the
same rows; what pgvision lacks is refused before anything is written.
Skipped where the server has no pgvector (Debian's 15)."""
import os
import subprocess
from pathlib import Path

import pytest
import sample_db
from harness import PG_BIN

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def has_pgvector(cluster):
    """Skips unless this server can create pgvector's extension."""
    with cluster.connect() as conn:
        if not conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'").fetchone():
            pytest.skip(f"no pgvector in {PG_BIN}")


def new_db(cluster, name):
    """(Re)creates an empty database."""
    with cluster.connect() as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name}")


def from_pgvector(cluster, source, target):
    """Runs scripts/from-pgvector.sh with this cluster's tools."""
    # The script's tools are this cluster's (PGVISION_PG_BIN with the default --pg).
    env = {k: v for k, v in os.environ.items() if k != "PGVISION_PGVER"}
    env.update(PGVISION_PG_BIN=str(PG_BIN), PGHOST=str(cluster.sock), PGPORT=str(cluster.port), PGUSER="postgres")
    cmd = ["bash", str(ROOT / "scripts" / "from-pgvector.sh"), source, target]
    return subprocess.run(cmd, capture_output=True, text=True, env=env)


def rows_only(answers):
    """The answers with distances as floats (pgvector and pgvision may round
    a distance's last bit differently)."""
    out = {}
    for key, value in answers.items():
        if key == "items":
            out[key] = (value[0], [float(x) for x in value[1].strip("[]").split(",")],
                        [float(x) for x in value[2].strip("[]").split(",")])
        else:
            out[key] = [[(i, float(d)) for i, d in per_query] for per_query in value]
    return out


def assert_same(got, want):
    """Same ids in the same order; distances and aggregates within float32 rounding."""
    got, want = rows_only(got), rows_only(want)
    assert got.keys() == want.keys()
    for key in want:
        if key == "items":
            assert got[key][0] == want[key][0]
            for g, w in zip(got[key][1:], want[key][1:]):
                assert g == pytest.approx(w, rel=1e-5, abs=1e-5)
            continue
        for g, w in zip(got[key], want[key]):
            assert [i for i, _ in g] == [i for i, _ in w], key
            assert [d for _, d in g] == pytest.approx([d for _, d in w], rel=1e-5, abs=1e-6), key


def test_pgvector_database_moves_to_pgvision(cluster, has_pgvector):
    new_db(cluster, "pgv_source")
    with cluster.connect("pgv_source") as conn:
        conn.execute("CREATE EXTENSION vector")
        sample_db.create(conn, photos=False)
        want = sample_db.answers(conn, photos=False)
    new_db(cluster, "pgv_target")
    out = from_pgvector(cluster, "pgv_source", "pgv_target")
    assert out.returncode == 0, out.stderr[-3000:]
    with cluster.connect("pgv_target") as conn:
        assert conn.execute("SELECT array_agg(extname ORDER BY extname) FROM pg_extension").fetchone()[0] == [
            "pgvision", "plpgsql"]
        got = sample_db.answers(conn, photos=False)
        indexes = {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes WHERE indexdef LIKE '%USING hnsw%'")}
    assert indexes == {"items_l2", "items_ip", "items_cosine", "items_l1"}
    assert_same(got, want)
    # The source is untouched and still pgvector's.
    with cluster.connect("pgv_source") as conn:
        assert conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()[0] == "0.8.5"


def test_what_pgvision_lacks_is_refused_before_writing(cluster, has_pgvector):
    new_db(cluster, "pgv_source2")
    with cluster.connect("pgv_source2") as conn:
        conn.execute("CREATE EXTENSION vector")
        conn.execute("CREATE TABLE f (id int, v vector(4), b bit(4))")
        # hnsw and ivfflat on bit move (both up to 64,000 bits, as pgvector)
        conn.execute("CREATE INDEX f_bits ON f USING hnsw (b bit_hamming_ops)")
        conn.execute("CREATE INDEX f_wide_hnsw ON f USING hnsw ((b::bit(20000)) bit_jaccard_ops)")
        conn.execute("CREATE INDEX f_ivf_bits ON f USING ivfflat (b bit_hamming_ops) WITH (lists = 1)")
        conn.execute("CREATE INDEX f_ivf ON f USING ivfflat (v vector_l2_ops) WITH (lists = 1)")
        conn.execute("CREATE INDEX f_wide ON f USING ivfflat ((b::bit(20000)) bit_hamming_ops) WITH (lists = 1)")
        # an operator class of a later pgvector, which pgvision does not have
        conn.execute("CREATE OPERATOR CLASS vector_future_ops FOR TYPE vector USING btree AS "
                     "OPERATOR 1 <, OPERATOR 2 <=, OPERATOR 3 =, OPERATOR 4 >=, OPERATOR 5 >, "
                     "FUNCTION 1 vector_cmp(vector, vector)")
        conn.execute("ALTER EXTENSION vector ADD OPERATOR CLASS vector_future_ops USING btree")
        conn.execute("CREATE INDEX f_future ON f USING btree (v vector_future_ops)")
    new_db(cluster, "pgv_target2")
    out = from_pgvector(cluster, "pgv_source2", "pgv_target2")
    assert out.returncode != 0
    assert "index f_future uses operator class vector_future_ops" in out.stderr, out.stderr
    for moves in ("f_bits", "f_wide_hnsw", "f_ivf_bits", "f_ivf", "f_wide"):
        assert f"index {moves} " not in out.stderr, out.stderr
    with cluster.connect("pgv_target2") as conn:
        assert conn.execute("SELECT count(*) FROM pg_extension WHERE extname <> 'plpgsql'").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace").fetchone()[0] == 0


def test_halfvec_and_bit_move(cluster, has_pgvector):
    """halfvec columns with their hnsw and btree indexes, and bit columns,
    move and answer as in pgvector."""
    new_db(cluster, "pgv_source3")
    queries = [
        "SELECT id FROM h ORDER BY e <-> '[1,0.5,-1,2]' LIMIT 10",
        "SELECT id FROM h ORDER BY e <=> '[1,0.5,-1,2]' LIMIT 10",
        "SELECT id FROM h WHERE e = (SELECT e FROM h WHERE id = 7) ORDER BY id",
        "SELECT id FROM h ORDER BY b <~> binary_quantize('[1,0.5,-1,2]'::halfvec)::bit(4), id LIMIT 10",
        "SELECT avg(e)::text, sum(e)::text, count(*) FROM h",
        "SELECT e::text, b::text FROM h WHERE id IN (1, 2, 3) ORDER BY id",
    ]
    with cluster.connect("pgv_source3") as conn:
        conn.execute("CREATE EXTENSION vector")
        conn.execute("CREATE TABLE h (id int PRIMARY KEY, e halfvec(4), b bit(4))")
        conn.execute("INSERT INTO h SELECT i, ARRAY[sin(i), cos(i), sin(i * 0.3) * 2, (i % 5) - 2]::real[]::halfvec, "
                     "binary_quantize(ARRAY[sin(i), cos(i), sin(i * 0.3) * 2, (i % 5) - 2]::real[]::halfvec)::bit(4) "
                     "FROM generate_series(1, 300) i")
        conn.execute("CREATE INDEX h_l2 ON h USING hnsw (e halfvec_l2_ops)")
        conn.execute("CREATE INDEX h_cos ON h USING hnsw (e halfvec_cosine_ops)")
        conn.execute("CREATE INDEX h_btree ON h (e)")
        conn.execute("SET enable_seqscan = off")
        want = [conn.execute(q).fetchall() for q in queries]
        # after the answers: ties in 4 bits make approximate orders differ
        conn.execute("CREATE INDEX h_ham ON h USING hnsw (b bit_hamming_ops)")
        conn.execute("CREATE INDEX h_jac ON h USING hnsw (b bit_jaccard_ops)")
    new_db(cluster, "pgv_target3")
    out = from_pgvector(cluster, "pgv_source3", "pgv_target3")
    assert out.returncode == 0, out.stderr[-3000:]
    with cluster.connect("pgv_target3") as conn:
        indexes = {r[0] for r in conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'h' AND indexname <> 'h_pkey'")}
        assert any("hnsw (e halfvec_l2_ops)" in d for d in indexes), indexes
        assert any("btree (e)" in d for d in indexes), indexes
        assert any("hnsw (b bit_hamming_ops)" in d for d in indexes), indexes
        assert any("hnsw (b bit_jaccard_ops)" in d for d in indexes), indexes
        conn.execute("SELECT pgvision_index_check('h_ham', true), pgvision_index_check('h_jac', true)")
        conn.execute("DROP INDEX h_ham, h_jac")
        conn.execute("SET enable_seqscan = off")
        got = [conn.execute(q).fetchall() for q in queries]
    assert got == want


def test_sparsevec_columns_and_indexes_move(cluster, has_pgvector):
    new_db(cluster, "pgv_source4")
    rows = ["{1:1.5,3:-2}/5", "{}/5", "{2:0.25,5:7}/5", "{1:-1,2:1,3:1,4:1,5:1}/5", None]
    query = "SELECT id, e::text, e <-> '{1:1,5:5}/5' FROM s ORDER BY e <-> '{1:1,5:5}/5', id LIMIT 3"
    with cluster.connect("pgv_source4") as conn:
        conn.execute("CREATE EXTENSION vector")
        conn.execute("CREATE TABLE s (id int PRIMARY KEY, e sparsevec(5))")
        for i, r in enumerate(rows):
            conn.execute("INSERT INTO s VALUES (%s, %s::sparsevec)", (i, r))
        conn.execute("CREATE INDEX s_l2 ON s USING hnsw (e sparsevec_l2_ops)")
        conn.execute("CREATE INDEX s_cos ON s USING hnsw (e sparsevec_cosine_ops)")
        want_rows = conn.execute("SELECT id, e::text FROM s ORDER BY id").fetchall()
        want_near = conn.execute(query).fetchall()
    new_db(cluster, "pgv_target4")
    out = from_pgvector(cluster, "pgv_source4", "pgv_target4")
    assert out.returncode == 0, out.stderr[-3000:]
    with cluster.connect("pgv_target4") as conn:
        assert conn.execute("SELECT id, e::text FROM s ORDER BY id").fetchall() == want_rows
        assert conn.execute(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 's'::regclass AND attname = 'e'"
        ).fetchone()[0] == "sparsevec(5)"
        indexes = {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes WHERE indexdef LIKE '%USING hnsw%'")}
        assert indexes == {"s_l2", "s_cos"}
        conn.execute("SET enable_seqscan = off")
        plan = "\n".join(r[0] for r in conn.execute("EXPLAIN SELECT id FROM s ORDER BY e <-> '{1:1,5:5}/5' LIMIT 3"))
        assert "s_l2" in plan, plan
        got_near = conn.execute(query).fetchall()
    assert [r[:2] for r in got_near] == [r[:2] for r in want_near]
    assert [r[2] for r in got_near] == pytest.approx([r[2] for r in want_near])


def test_ivfflat_indexes_move_to_pgvision(cluster, has_pgvector):
    """pgvector's ivfflat indexes keep their names, classes and lists; with
    every list probed they answer as a seq scan."""
    new_db(cluster, "pgv_source5")
    with cluster.connect("pgv_source5") as conn:
        conn.execute("CREATE EXTENSION vector")
        conn.execute("CREATE TABLE f (id int PRIMARY KEY, v vector(3))")
        conn.execute("INSERT INTO f SELECT i, ARRAY[sin(i), cos(i * 0.7), i % 5]::real[] FROM generate_series(1, 500) i")
        for ops in ("l2", "ip", "cosine"):
            conn.execute(f"CREATE INDEX f_{ops} ON f USING ivfflat (v vector_{ops}_ops) WITH (lists = 5)")
    new_db(cluster, "pgv_target5")
    out = from_pgvector(cluster, "pgv_source5", "pgv_target5")
    assert out.returncode == 0, out.stderr[-3000:]
    with cluster.connect("pgv_target5") as conn:
        got = {r[0]: tuple(r[1:]) for r in conn.execute(
            "SELECT c.relname, a.amname, o.opcname, c.reloptions FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam "
            "JOIN pg_opclass o ON o.oid = i.indclass[0] WHERE i.indrelid = 'f'::regclass AND a.amname <> 'btree'")}
        assert got == {f"f_{ops}": ("ivfflat", f"vector_{ops}_ops", ["lists=5"]) for ops in ("l2", "ip", "cosine")}
        conn.execute("SET ivfflat.probes = 5")
        for op in ("<->", "<#>", "<=>"):
            q = f"SELECT array_agg(id) FROM (SELECT id FROM f ORDER BY v {op} '[0.5,0.5,2]' LIMIT 10) s"
            conn.execute("SET enable_seqscan = off")
            by_index = conn.execute(q).fetchone()[0]
            conn.execute("SET enable_seqscan = on; SET enable_indexscan = off")
            assert by_index == conn.execute(q).fetchone()[0], op
            conn.execute("RESET enable_indexscan")
