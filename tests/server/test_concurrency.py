"""pgbench: several clients inserting, querying and checking the index for 30
seconds; no errors, and recall holds afterwards."""
import numpy as np
from datasets import recall
from util import knn, pgbench

DIM = 32
SECONDS = 30


def test_pgbench_inserts_and_queries(cluster):
    with cluster.connect() as conn:
        conn.execute("DROP TABLE IF EXISTS bench")
        conn.execute(f"CREATE TABLE bench (id bigserial PRIMARY KEY, v vector({DIM}))")
        conn.execute(
            f"INSERT INTO bench (v) SELECT (SELECT array_agg(random()) FROM generate_series(1, {DIM}) WHERE g > 0)::real[]::vector"
            " FROM generate_series(1, 3000) g"
        )
        conn.execute("CREATE INDEX ON bench USING hnsw (v)")
    vec = f"(SELECT array_agg(random())::real[]::vector FROM generate_series(1, {DIM}))"
    # The index checked (pages and rows) while the others insert and query.
    processed = pgbench(cluster, {
        f"INSERT INTO bench (v) SELECT {vec};\n": 10,
        f"SELECT id FROM bench ORDER BY v <-> {vec} LIMIT 10;\n": 20,
        "SELECT pgvision_index_check('bench_v_idx', true);\n": 1,
    }, clients=6, seconds=SECONDS)
    assert processed > 100
    with cluster.connect() as conn:
        n = conn.execute("SELECT count(*) FROM bench").fetchone()[0]
        assert n > 3000
        rng = np.random.default_rng(31)
        queries = rng.random((30, DIM)).astype(np.float32)
        got = knn(conn, "bench", queries, "l2", ef_search=100)
        want = knn(conn, "bench", queries, "l2", index=False)
        r = recall(got, want)
        print(f"rows {n}, recall after concurrent load {r:.4f}")
        assert r >= 0.95
        conn.execute("SELECT pgvision_index_check('bench_v_idx', true)")
        conn.execute("DROP TABLE bench")
