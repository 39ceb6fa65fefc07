"""sparsevec hnsw against pgvector: index size, build time and recall@10 on
SPLADE-like data (sparsevec(30522), 50-200 non-zero elements a row, Zipf
indices, positive weights), both engines in one cluster, each in its own
database, build passes alternating (the host is shared: compare ratios).

Usage: python bench/sparse_bench.py --conninfo 'host=... port=...' [--rows 20000]
       [--passes 3] [--ops sparsevec_ip_ops]
The cluster must have pgvision and pgvector's `vector` installed; databases
`sparse_pgv` and `sparse_pgvector` are (re)created."""
import argparse
import time

import numpy as np
import psycopg

DIMS = 30522
OPS = {"sparsevec_l2_ops": "<->", "sparsevec_ip_ops": "<#>", "sparsevec_cosine_ops": "<=>"}


def splade_like(rng, n):
    """`n` rows as sparsevec text (see the module note)."""
    out = []
    for _ in range(n):
        nnz = int(rng.integers(50, 201))
        idx = np.unique(np.minimum(rng.zipf(1.3, nnz * 2) - 1, DIMS - 1))[:nnz]
        vals = rng.gamma(2.0, 0.5, len(idx)) + 0.01
        out.append("{" + ",".join(f"{i + 1}:{v:.5g}" for i, v in zip(idx, vals)) + f"}}/{DIMS}")
    return out


def load(conninfo, db, ext, rows):
    """(Re)creates database `db` with extension `ext` and table `sp`."""
    with psycopg.connect(conninfo, dbname="postgres", autocommit=True) as c:
        c.execute(f"DROP DATABASE IF EXISTS {db}")
        c.execute(f"CREATE DATABASE {db}")
    with psycopg.connect(conninfo, dbname=db, autocommit=True) as c:
        c.execute(f"CREATE EXTENSION {ext}")
        c.execute(f"CREATE TABLE sp (id int PRIMARY KEY, v sparsevec({DIMS}))")
        with c.cursor().copy("COPY sp (id, v) FROM STDIN") as copy:
            for i, r in enumerate(rows):
                copy.write_row((i, r))
        c.execute("VACUUM ANALYZE sp")


def build(conninfo, db, ops):
    """Seconds of one CREATE INDEX (one maintenance worker) and the index's bytes."""
    with psycopg.connect(conninfo, dbname=db, autocommit=True) as c:
        c.execute("DROP INDEX IF EXISTS sp_idx")
        c.execute("SET max_parallel_maintenance_workers = 0; SET maintenance_work_mem = '1GB'")
        t = time.perf_counter()
        c.execute(f"CREATE INDEX sp_idx ON sp USING hnsw (v {ops})")
        secs = time.perf_counter() - t
        size = c.execute("SELECT pg_relation_size('sp_idx')").fetchone()[0]
    return secs, size


def recall(conninfo, db, op, queries, ef):
    """Mean recall@10 (ties by distance) at hnsw.ef_search = ef, and queries/s."""
    hits, spent = 0, 0.0
    with psycopg.connect(conninfo, dbname=db, autocommit=True) as c:
        sql = f"SELECT v {op} %s::sparsevec FROM sp ORDER BY v {op} %s::sparsevec LIMIT 10"
        for q in queries:
            c.execute(f"SET hnsw.ef_search = {ef}; SET enable_seqscan = off")
            t = time.perf_counter()
            got = [r[0] for r in c.execute(sql, (q, q)).fetchall()]
            spent += time.perf_counter() - t
            c.execute("SET enable_seqscan = on; SET enable_indexscan = off")
            truth = [r[0] for r in c.execute(sql, (q, q)).fetchall()]
            c.execute("RESET enable_indexscan")
            worst = truth[-1]
            hits += sum(1 for d in got if d <= worst + 1e-6 * max(1.0, abs(worst)))
    return hits / (10 * len(queries)), len(queries) / spent


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--conninfo", required=True)
    ap.add_argument("--rows", type=int, default=20000)
    ap.add_argument("--passes", type=int, default=3)
    ap.add_argument("--ops", default="sparsevec_ip_ops", choices=list(OPS))
    ap.add_argument("--queries", type=int, default=50)
    a = ap.parse_args()
    rng = np.random.default_rng(30522)
    rows = splade_like(rng, a.rows)
    queries = splade_like(rng, a.queries)
    engines = {"pgvision": ("sparse_pgv", "pgvision"), "pgvector": ("sparse_pgvector", "vector")}
    for db, ext in engines.values():
        load(a.conninfo, db, ext, rows)
    times = {e: [] for e in engines}
    sizes = {}
    for p in range(a.passes):
        order = list(engines) if p % 2 == 0 else list(reversed(engines))
        for e in order:
            secs, size = build(a.conninfo, engines[e][0], a.ops)
            times[e].append(secs)
            sizes[e] = size
            print(f"pass {p + 1} {e}: build {secs:.2f} s, index {size / 2**20:.1f} MiB", flush=True)
    ratios = [v / g for v, g in zip(times["pgvision"], times["pgvector"])]
    print(f"build time ratio pgvision/pgvector per pass: {', '.join(f'{r:.2f}' for r in ratios)};"
          f" median {sorted(ratios)[len(ratios) // 2]:.2f}")
    print(f"index size: pgvision {sizes['pgvision'] / 2**20:.1f} MiB, pgvector {sizes['pgvector'] / 2**20:.1f} MiB,"
          f" ratio {sizes['pgvision'] / sizes['pgvector']:.2f}")
    for ef in (40, 100):
        for e, (db, _) in engines.items():
            r, qps = recall(a.conninfo, db, OPS[a.ops], queries, ef)
            print(f"ef_search {ef} {e}: recall@10 {r:.3f}, {qps:.0f} queries/s (with the exact check between)")


if __name__ == "__main__":
    main()
