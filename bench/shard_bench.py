"""Sharding benchmark: one pgvision server against the same rows spread
over three shards behind a postgres_fdw coordinator (scripts/shard.sh), on
this machine, same data and queries as bench/hnsw_bench.py. Prints
recall@10 and queries/s per hnsw.ef_search for both layouts.

Started by bench/shard.sh, which runs the four clusters; see bench/README.md."""
import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
from pgvector.psycopg import register_vector

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hnsw_bench import K, M, EF_CONSTRUCTION, load_dataset, recall_at_k  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / ".pgvision" / "shard-bench"
EFS = (10, 20, 40, 80)


def conninfo(name, db):
    """libpq conninfo of one benchmark cluster (unix socket; port from the env)."""
    return f"host={STATE / name / 'run'} port={os.environ['SHARD_PORT_' + name.upper()]} user=postgres dbname={db}"


def fresh_db(name, db):
    """Drops and creates database `db` on cluster `name`."""
    with psycopg.connect(conninfo(name, "postgres"), autocommit=True) as c:
        c.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        c.execute(f"CREATE DATABASE {db}")


def set_ef(names, db, ef):
    """hnsw.ef_search for new sessions of `db` on the clusters `names`."""
    for n in names:
        with psycopg.connect(conninfo(n, db), autocommit=True) as c:
            c.execute("SELECT '[1]'::vector")
            c.execute(f"ALTER DATABASE {db} SET hnsw.ef_search = {ef}")


def timed(conn_str, table, queries, tids):
    """Recall@10 and queries/s of prepared top-10 queries (one warm-up pass)."""
    with psycopg.connect(conn_str, autocommit=True) as conn:
        register_vector(conn)
        sql = f"SELECT id FROM {table} ORDER BY embedding <-> %s LIMIT {K}"
        with conn.cursor() as cur:
            for q in queries[:20]:
                cur.execute(sql, (q,), prepare=True)
                cur.fetchall()
            t = time.perf_counter()
            got = []
            for q in queries:
                cur.execute(sql, (q,), prepare=True)
                got.append([r[0] for r in cur.fetchall()])
            secs = time.perf_counter() - t
    return recall_at_k(got, tids), len(queries) / secs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", default="clustered-128-100k")
    ap.add_argument("--queries", type=int, default=200)
    a = ap.parse_args()
    data, queries, tids, _ = load_dataset(a.dataset, "l2")
    queries, tids = queries[:a.queries], tids[:a.queries]
    n, dim = data.shape
    print(f"=== {a.dataset}: {n} rows, {dim} dims, {len(queries)} queries, m={M}, ef_construction={EF_CONSTRUCTION}")

    # One server: the table and its index on shard0's cluster.
    fresh_db("shard0", "single")
    with psycopg.connect(conninfo("shard0", "single"), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION pgvision")
        register_vector(conn)
        conn.execute(f"CREATE TABLE items (id bigint NOT NULL, name text, embedding vector({dim}))")
        with conn.cursor().copy("COPY items (id, embedding) FROM STDIN WITH (FORMAT BINARY)") as cp:
            cp.set_types(["int8", "vector"])
            for i in range(n):
                cp.write_row((i, data[i]))
        t = time.perf_counter()
        conn.execute(f"CREATE INDEX ON items USING hnsw (embedding) WITH (m = {M}, ef_construction = {EF_CONSTRUCTION})")
        print(f"one server: index built in {time.perf_counter() - t:.1f} s")

    # Three shards: the same rows through the coordinator.
    shards = ["shard0", "shard1", "shard2"]
    for name in ["coord", *shards]:
        fresh_db(name, "sharded")
    subprocess.run(["bash", str(ROOT / "scripts/shard.sh"), "--coordinator", conninfo("coord", "sharded"),
                    *sum((["--shard", conninfo(s, "sharded")] for s in shards), []),
                    "--table", "items", "--dims", str(dim)], check=True)
    t = time.perf_counter()
    with psycopg.connect(conninfo("coord", "sharded"), autocommit=True) as conn:
        register_vector(conn)
        with conn.cursor() as cur:
            for s in range(0, n, 1000):
                cur.executemany("INSERT INTO items (id, embedding) VALUES (%s, %s)",
                                [(i, data[i]) for i in range(s, min(n, s + 1000))])
    print(f"three shards: {n} rows inserted through the coordinator (indexes built as they arrive) "
          f"in {time.perf_counter() - t:.1f} s")

    print(f"\n{'ef_search':>10} {'1 server':>22} {'3 shards + coordinator':>30}")
    for ef in EFS:
        set_ef(["shard0"], "single", ef)
        set_ef(shards, "sharded", ef)
        r1, q1 = timed(conninfo("shard0", "single"), "items", queries, tids)
        r3, q3 = timed(conninfo("coord", "sharded"), "items", queries, tids)
        print(f"{ef:>10} {r1:8.4f} @ {q1:7.0f} q/s {r3:14.4f} @ {q3:7.0f} q/s")
    print(f"\nload average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores: the shards share this machine's cores, "
          "so this measures the coordinator's overhead and the recall of merged shard answers, not scale-out")


if __name__ == "__main__":
    main()
