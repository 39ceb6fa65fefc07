"""ivfflat build time of pgvision against pgvector's, in alternating builds
on one server, with pgvision's DEBUG1 phase times.

Both extensions live in the same PostgreSQL cluster, each in its own
database (`ivfb_pgvision`, `ivfb_pgvector`: the two cannot share one), with
the same table (`hnsw_bench.py`'s datasets, COPY BINARY), the same
session settings (maintenance_work_mem 2GB, max_parallel_maintenance_workers
2) and lists = rows / 1000; 2048-d rows are indexed as
`embedding::halfvec(2048)` by both (pgvector's only way). Builds alternate
(pgvision, pgvector, pgvector, pgvision, ...), each after a CHECKPOINT, so
both meet the same load on a shared host; the ratio is the median of the
per-round ratios. pgvision's build prints its phases at DEBUG1
(`src/ivfflat/build.rs`), shown per build.

    PGHOST=<socket dir> PGPORT=<port> python bench/ivf_build_pair.py \
        --dataset clustered-128-100k --rounds 3 [--only pgvision]
"""
import argparse
import re
import statistics
import time

import numpy as np
import psycopg
from pgvector.psycopg import register_vector

import hnsw_bench as hb

ENGINES = {"pgvision": ("ivfb_pgvision", "pgvision"), "pgvector": ("ivfb_pgvector", "vector")}


def connect(db):
    """An autocommit connection to database `db` (PGHOST/PGPORT/PGUSER)."""
    return psycopg.connect(dbname=db, user="postgres", autocommit=True)


def prepare(engine, data):
    """Creates the engine's database and loads `data` into items(id, embedding)."""
    db, ext = ENGINES[engine]
    with connect("postgres") as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db,)).fetchone():
            admin.execute(f"CREATE DATABASE {db}")
    with connect(db) as conn:
        conn.execute(f"CREATE EXTENSION IF NOT EXISTS {ext}")
        register_vector(conn)
        dim = data.shape[1]
        have = conn.execute("SELECT to_regclass('items') IS NOT NULL").fetchone()[0]
        if have and conn.execute("SELECT count(*) FROM items").fetchone()[0] == len(data) and \
                conn.execute("SELECT vector_dims(embedding) FROM items LIMIT 1").fetchone()[0] == dim:
            return
        conn.execute("DROP TABLE IF EXISTS items")
        conn.execute(f"CREATE TABLE items (id int, embedding vector({dim}))")
        with conn.cursor().copy("COPY items (id, embedding) FROM STDIN WITH (FORMAT BINARY)") as copy:
            copy.set_types(["int4", "vector"])
            for i, row in enumerate(data):
                copy.write_row((i, row))
        conn.execute("VACUUM ANALYZE items")


def rows(name):
    """The dataset's rows, generated once and cached as hnsw_bench.py does
    (no exact answers needed here)."""
    path = hb.DATA_DIR / f"{name}.v{hb.GEN_VERSION}.data.npy"
    if path.exists():
        return np.load(path)
    hb.DATA_DIR.mkdir(parents=True, exist_ok=True)
    data, queries = hb.DATASETS[name]()
    np.save(path, data)
    np.save(hb.DATA_DIR / f"{name}.v{hb.GEN_VERSION}.queries.npy", queries)
    return data


def truth(data, queries, k=10):
    """Exact top-k ids of `queries` by L2 (halfvec-rounded rows past 2,000
    dimensions, as both engines' indexes hold them)."""
    if data.shape[1] > 2000:
        data, queries = (a.astype(np.float16).astype(np.float32) for a in (data, queries))
    norms = (data * data).sum(1)
    out = []
    for q in queries:
        d = norms - 2 * data @ q
        out.append(set(np.argpartition(d, k)[:k].tolist()))
    return out


def recall(engine, dim, queries, want, k=10):
    """recall@k at probes 1 through the index."""
    db, _ = ENGINES[engine]
    key = f"embedding::halfvec({dim})" if dim > 2000 else "embedding"
    cast = f"::halfvec({dim})" if dim > 2000 else "::vector"
    hit = 0
    with connect(db) as conn:
        register_vector(conn)
        conn.execute("SET ivfflat.probes = 1")
        conn.execute("SET enable_seqscan = off")
        for q, w in zip(queries, want):
            ids = conn.execute(f"SELECT id FROM items ORDER BY {key} <-> %s{cast} LIMIT {k}", (q,)).fetchall()
            hit += len({i for (i,) in ids} & w)
    return hit / (k * len(queries))


def build(engine, dim, lists, storage=None):
    """(wall seconds, DEBUG1 lines) of one CREATE INDEX after a CHECKPOINT."""
    db, _ = ENGINES[engine]
    key = f"(embedding::halfvec({dim})) halfvec_l2_ops" if dim > 2000 else "embedding vector_l2_ops"
    notes = []
    with connect(db) as conn:
        conn.add_notice_handler(lambda d: notes.append(d.message_primary))
        conn.execute("DROP INDEX IF EXISTS items_idx")
        conn.execute("SET maintenance_work_mem = '2GB'")
        conn.execute("SET max_parallel_maintenance_workers = 2")
        conn.execute("CHECKPOINT")
        if engine == "pgvision":
            conn.execute("SET client_min_messages = debug1")
        t = time.perf_counter()
        with_ = f", storage = '{storage}'" if storage and engine == "pgvision" else ""
        conn.execute(f"CREATE INDEX items_idx ON items USING ivfflat ({key}) WITH (lists = {lists}{with_})")
        took = time.perf_counter() - t
        conn.execute("RESET client_min_messages")
    return took, [n for n in notes if n.startswith("ivfflat build")]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", default="clustered-128-100k")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", choices=list(ENGINES))
    ap.add_argument("--recall", type=int, default=0, metavar="N",
                    help="after each build, recall@10 at probes 1 over N of the dataset's queries")
    ap.add_argument("--storage", choices=["exact", "i8"], help="pgvision's ivfflat storage option")
    a = ap.parse_args()
    data = np.ascontiguousarray(rows(a.dataset), dtype=np.float32)
    lists = max(1, len(data) // 1000)
    engines = [a.only] if a.only else ["pgvision", "pgvector"]
    for e in engines:
        prepare(e, data)
    if a.recall:
        queries = np.load(hb.DATA_DIR / f"{a.dataset}.v{hb.GEN_VERSION}.queries.npy")[:a.recall]
        want = truth(data, queries)
    times = {e: [] for e in engines}
    for r in range(a.rounds):
        order = engines if r % 2 == 0 else engines[::-1]
        for e in order:
            took, notes = build(e, data.shape[1], lists, a.storage)
            times[e].append(took)
            got = f", recall@10 at probes 1: {recall(e, data.shape[1], queries, want):.3f}" if a.recall else ""
            print(f"round {r + 1} {e}: {took:.2f} s{got}", flush=True)
            for n in notes:
                print("    " + re.sub(r"\s+", " ", n), flush=True)
    for e in engines:
        print(f"{e}: median {statistics.median(times[e]):.2f} s over {a.rounds} builds")
    if len(engines) == 2:
        ratios = [v / p for v, p in zip(times["pgvision"], times["pgvector"])]
        print(f"pgvision / pgvector, per round: {', '.join(f'{x:.2f}' for x in ratios)}; "
              f"median {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
