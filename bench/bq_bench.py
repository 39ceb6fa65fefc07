"""Binary-quantised re-rank against the plain vector index, through SQL.

The same rows twice indexed: `hnsw (v vector_l2_ops)` searched at
ef_search 40, and `hnsw ((binary_quantize(v)::bit(DIM)) bit_hamming_ops)`
searched for the Hamming-nearest CANDIDATES (ef_search EF) re-ranked by
exact L2 (README, "bit"). Prints recall@10 against numpy's exact top 10,
queries/s of each from alternating passes and their ratio per pass, index
sizes and build times, and the load average (the host is shared).

`--compare-storage` also measures the re-rank through a bit index of the
layout bit indexes had before packed bits (`WITH (storage = 'half')`, an
f16 a bit) on a copy of the table, in the same alternating passes, and
prints the packed/f16 q/s ratio per pass. `--data resnetlike` takes the
hnsw benchmark's resnetlike generator (`bench/hnsw_bench.py`).

Run against the project's cluster (any with pgvision):
    eval "$(bash scripts/cluster.sh env)"
    .pgvision/testenv/bin/python bench/bq_bench.py [--rows N] [--dim D] [--passes P]
        [--data resnetlike] [--compare-storage]
"""
import argparse
import os
import time

import numpy as np
import psycopg
from pgvector.psycopg import register_vector


def clustered(n, dim, clusters, seed):
    """Gaussian mixture: centres N(0,1), per-cluster spread 0.2-0.4."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, dim)).astype(np.float32)
    spread = rng.uniform(0.2, 0.4, clusters).astype(np.float32)
    labels = rng.integers(0, clusters, n)
    noise = rng.standard_normal((n, dim)).astype(np.float32)
    return (centres[labels] + spread[labels, None] * noise).astype(np.float32)


def exact_top10(data, queries):
    """Exact L2 top 10 ids for each query."""
    sq = (data**2).sum(1)[None, :] - 2 * queries @ data.T
    return np.argsort(sq, axis=1, kind="stable")[:, :10]


def recall(got, want):
    """Mean fraction of the exact top 10 found."""
    return float(np.mean([len(set(g) & set(w.tolist())) / 10 for g, w in zip(got, want)]))


def load_table(conn, table, data):
    """Creates `table (id, v vector(D))` holding `data`."""
    conn.execute(f"DROP TABLE IF EXISTS {table}")
    conn.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, v vector({data.shape[1]}))")
    with conn.cursor().copy(f"COPY {table} (id, v) FROM STDIN WITH (FORMAT BINARY)") as copy:
        copy.set_types(["int4", "vector"])
        for i, row in enumerate(data):
            copy.write_row((i, row))


def run_queries(conn, sql, queries, ef, nargs):
    """Runs `sql` for every query at `ef`; (ids per query, queries/s)."""
    out = []
    with conn.transaction():
        conn.execute(f"SET LOCAL hnsw.ef_search = {ef}")
        conn.execute("SET LOCAL enable_seqscan = off")
        cur = conn.cursor()
        t0 = time.perf_counter()
        for q in queries:
            cur.execute(sql, (q,) * nargs)
            out.append([r[0] for r in cur.fetchall()])
        dt = time.perf_counter() - t0
    return out, len(queries) / dt


def main():
    """Loads, builds both indexes, measures alternating passes, prints."""
    p = argparse.ArgumentParser()
    p.add_argument("--rows", type=int, default=20000)
    p.add_argument("--dim", type=int, default=256)
    p.add_argument("--clusters", type=int, default=100)
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--candidates", type=int, default=100)
    p.add_argument("--ef", type=int, default=200, help="ef_search of the bit index's first pass")
    p.add_argument("--passes", type=int, default=3)
    p.add_argument("--data", choices=["clustered", "resnetlike"], default="clustered")
    p.add_argument("--compare-storage", action="store_true",
                   help="also a bit index WITH (storage = 'half') on a copy of the table")
    a = p.parse_args()
    if a.data == "resnetlike":
        from hnsw_bench import gen_resnetlike

        # hnsw_bench's resnetlike-D-Nk sets: 50 classes, seed D_N (2048_20)
        a.clusters = 50
        data, queries = gen_resnetlike(a.rows, a.dim, 50, seed=int(f"{a.dim}{a.rows // 1000}"))
        queries = queries[: a.queries]
    else:
        x = clustered(a.rows + a.queries, a.dim, a.clusters, seed=11)
        data, queries = x[: a.rows], x[a.rows :]
    want = exact_top10(data, queries)
    plain = "SELECT id FROM bq_items ORDER BY v <-> %s LIMIT 10"
    rerank_of = (
        "SELECT id FROM (SELECT id, v FROM {t} ORDER BY binary_quantize(v)::bit({d}) "
        "<~> binary_quantize(%s) LIMIT {c}) c ORDER BY v <-> %s LIMIT 10"
    )
    rerank = rerank_of.format(t="bq_items", d=a.dim, c=a.candidates)
    rerank_half = rerank_of.format(t="bq_half", d=a.dim, c=a.candidates)
    print(f"{a.data}-{a.dim}-{a.rows}: {a.clusters} clusters, {a.queries} queries, load {os.getloadavg()}")
    with psycopg.connect(autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pgvision")
        register_vector(conn)
        load_table(conn, "bq_items", data)
        indexes = [
            ("plain", "bq_plain", "CREATE INDEX bq_plain ON bq_items USING hnsw (v vector_l2_ops)"),
            ("bit", "bq_bit", f"CREATE INDEX bq_bit ON bq_items USING hnsw ((binary_quantize(v)::bit({a.dim})) bit_hamming_ops)"),
        ]
        if a.compare_storage:
            load_table(conn, "bq_half", data)
            indexes.append(("bit f16", "bq_bit_half",
                            f"CREATE INDEX bq_bit_half ON bq_half USING hnsw "
                            f"((binary_quantize(v)::bit({a.dim})) bit_hamming_ops) WITH (storage = 'half')"))
        for name, idx, ddl in indexes:
            t0 = time.perf_counter()
            conn.execute(ddl)
            size = conn.execute(f"SELECT pg_relation_size('{idx}')").fetchone()[0]
            print(f"  {name} index: build {time.perf_counter() - t0:.1f} s, {size / 2**20:.1f} MiB")
        conn.execute("ANALYZE bq_items")
        runs = [("plain", plain, "bq_plain", 40, 1), ("bq", rerank, "bq_bit", a.ef, 2)]
        if a.compare_storage:
            conn.execute("ANALYZE bq_half")
            runs.append(("bq f16", rerank_half, "bq_bit_half", a.ef, 2))
        qs = [np.asarray(q, dtype=np.float32) for q in queries]
        for _, sql, idx, ef, n in runs:
            with conn.transaction():
                conn.execute(f"SET LOCAL hnsw.ef_search = {ef}")
                conn.execute("SET LOCAL enable_seqscan = off")
                plan = "\n".join(r[0] for r in conn.execute("EXPLAIN " + sql, (qs[0],) * n))
            assert idx in plan, plan
        ratios, packed_ratios = [], []
        for p_ in range(a.passes):
            order = list(runs)
            if p_ % 2:
                order.reverse()
            res = {}
            for name, sql, _, ef, n in order:
                ids, qps = run_queries(conn, sql, qs, ef, n)
                res[name] = (recall(ids, want), qps)
            ratios.append(res["bq"][1] / res["plain"][1])
            line = (
                f"  pass {p_ + 1}: plain ef 40 recall {res['plain'][0]:.3f} {res['plain'][1]:.0f} q/s; "
                f"bq ef {a.ef} LIMIT {a.candidates} recall {res['bq'][0]:.3f} {res['bq'][1]:.0f} q/s; "
                f"ratio {ratios[-1]:.2f}"
            )
            if a.compare_storage:
                packed_ratios.append(res["bq"][1] / res["bq f16"][1])
                line += (f"; bq f16 recall {res['bq f16'][0]:.3f} {res['bq f16'][1]:.0f} q/s, "
                         f"packed/f16 {packed_ratios[-1]:.2f}")
            print(line + f"; load {os.getloadavg()[0]:.1f}")
        print(f"  median qps ratio bq/plain {float(np.median(ratios)):.2f}")
        if a.compare_storage:
            print(f"  median qps ratio packed/f16 bit index {float(np.median(packed_ratios)):.2f}")
            conn.execute("DROP TABLE bq_half")
        conn.execute("DROP TABLE bq_items")


if __name__ == "__main__":
    main()
