"""pgbench: several clients inserting and querying for 30 seconds; no errors,
and recall holds afterwards."""
import re
import subprocess
import tempfile
from pathlib import Path

import numpy as np
from datasets import recall
from util import knn

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
    with tempfile.TemporaryDirectory() as d:
        ins, qry = Path(d, "insert.sql"), Path(d, "query.sql")
        ins.write_text(f"INSERT INTO bench (v) SELECT {vec};\n")
        qry.write_text(f"SELECT id FROM bench ORDER BY v <-> {vec} LIMIT 10;\n")
        Path(d).chmod(0o755)
        out = subprocess.run(
            ["/usr/lib/postgresql/15/bin/pgbench", "-n", "-h", str(cluster.sock), "-p", str(cluster.port),
             "-U", "postgres", "-c", "6", "-j", "2", "-T", str(SECONDS),
             "-f", f"{ins}@1", "-f", f"{qry}@2", "postgres"],
            capture_output=True, text=True,
        )
    print(out.stdout[-1500:])
    assert out.returncode == 0, out.stderr[-3000:]
    processed = int(re.search(r"number of transactions actually processed: (\d+)", out.stdout).group(1))
    failed = re.search(r"number of failed transactions: (\d+)", out.stdout)
    assert processed > 100
    assert failed is None or int(failed.group(1)) == 0
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
        conn.execute("DROP TABLE bench")
