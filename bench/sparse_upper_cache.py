"""Queries/s of a SPLADE-like sparsevec(30522) hnsw index with the backend's
copy of the upper layers (pgvision.hnsw_upper_cache) on and off, passes
alternating (the host is shared: compare the ratio), answers compared.

Usage: python bench/sparse_upper_cache.py --conninfo 'host=... port=...'
       [--rows 20000] [--passes 6] [--queries 200] [--ops sparsevec_ip_ops]
Database `sparse_upper` is (re)created in the cluster, which must have pgvision."""
import argparse
import time

import numpy as np
import psycopg

from sparse_bench import OPS, splade_like


def run_pass(c, op, queries, cache):
    """Seconds for `queries` (LIMIT 10) with the copy on or off, and the answers."""
    c.execute(f"SET pgvision.hnsw_upper_cache = {'on' if cache else 'off'}")
    sql = f"SELECT id FROM sp ORDER BY v {op} %s::sparsevec LIMIT 10"
    answers = []
    t = time.perf_counter()
    for q in queries:
        answers.append([r[0] for r in c.execute(sql, (q,)).fetchall()])
    return time.perf_counter() - t, answers


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--conninfo", required=True)
    ap.add_argument("--rows", type=int, default=20000)
    ap.add_argument("--passes", type=int, default=6)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--ops", default="sparsevec_ip_ops", choices=list(OPS))
    a = ap.parse_args()
    rng = np.random.default_rng(1)
    rows, queries = splade_like(rng, a.rows), splade_like(rng, a.queries)
    with psycopg.connect(a.conninfo, dbname="postgres", autocommit=True) as c:
        c.execute("DROP DATABASE IF EXISTS sparse_upper")
        c.execute("CREATE DATABASE sparse_upper")
    with psycopg.connect(a.conninfo, dbname="sparse_upper", autocommit=True) as c:
        c.execute("CREATE EXTENSION pgvision")
        c.execute("CREATE TABLE sp (id int PRIMARY KEY, v sparsevec(30522))")
        with c.cursor().copy("COPY sp (id, v) FROM STDIN") as copy:
            for i, r in enumerate(rows):
                copy.write_row((i, r))
        c.execute("SET maintenance_work_mem = '1GB'")
        c.execute(f"CREATE INDEX ON sp USING hnsw (v {a.ops})")
        c.execute("VACUUM ANALYZE sp")
        c.execute("SET enable_seqscan = off")
        run_pass(c, OPS[a.ops], queries, True)  # warm: pages cached, copy made
        secs = {True: 0.0, False: 0.0}
        for p in range(a.passes):
            for cache in ((True, False) if p % 2 == 0 else (False, True)):
                s, answers = run_pass(c, OPS[a.ops], queries, cache)
                secs[cache] += s
                if cache:
                    on = answers
                else:
                    off = answers
            assert on == off, "the copy changed an answer"
        n = a.passes * len(queries)
        qps_on, qps_off = n / secs[True], n / secs[False]
        print(f"{a.rows} rows, {a.ops}, {n} queries each way: upper cache on {qps_on:.0f} q/s, "
              f"off {qps_off:.0f} q/s, ratio {qps_on / qps_off:.3f}")


if __name__ == "__main__":
    main()
