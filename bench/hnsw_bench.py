#!/usr/bin/env python3
"""SQL-level benchmark of pgvision's hnsw index (issue 3), next to pgvector 0.8.6.

For each dataset: generate it deterministically (cached under
.pgvision/bench-data/), load it with COPY BINARY into items(id int,
embedding vector(D)), time CREATE INDEX ... USING hnsw (m=16,
ef_construction=64), then measure recall@10 and queries/s for ef_search in
10..320 (single client, query vector as a bind parameter, one warm-up pass,
then the timed queries) and exact-search queries/s (enable_indexscan off),
checking the exact SQL answer against numpy's brute force.

Run it through bench/run.sh, which starts a dedicated cluster and sets
PGHOST/PGPORT; see bench/README.md. With --against-pgvector it also runs
every step on a second cluster with pgvector (bench/pgvector.sh, reached
through PGVECTOR_HOST/PGVECTOR_PORT) and compares with those measurements;
a last step then times both indexes again in alternating passes (see
paired()), the fair comparison on a host whose speed varies.
"""
import argparse
import os
import sys
import threading
import time
from pathlib import Path

import numpy as np
import psycopg
from pgvector import HalfVector
from pgvector.psycopg import register_vector

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / ".pgvision" / "bench-data"
K = 10
EF_SEARCH = (10, 20, 40, 80, 160, 320)
# The large sets reach recall 0.95 only further up (pgvector: 0.925 at 320 on
# clustered-128-1m), so they go on to pgvector's maximum ef_search.
LARGE_DATASETS = ("clustered-128-1m", "resnetlike-2048-200k")


def ef_points(dataset):
    """The ef_search values measured on `dataset`."""
    return EF_SEARCH + ((640, 1000) if dataset in LARGE_DATASETS else ())

M, EF_CONSTRUCTION = 16, 64
N_QUERIES_MAX = 200       # generated and cached; --queries takes a prefix
EXACT_QUERIES = 20
GEN_VERSION = 1           # bump when a generator changes, so caches are redone

OPCLASSES = {
    # opclass: (SQL operator, numpy metric name)
    "vector_l2_ops": ("<->", "l2"),
    "vector_ip_ops": ("<#>", "ip"),
    "vector_cosine_ops": ("<=>", "cosine"),
    "vector_l1_ops": ("<+>", "l1"),
    # a halfvec(D) column instead (see COLUMN)
    "halfvec_l2_ops": ("<->", "l2"),
    "halfvec_ip_ops": ("<#>", "ip"),
    "halfvec_cosine_ops": ("<=>", "cosine"),
    "halfvec_l1_ops": ("<+>", "l1"),
}
# The column type, from --opclass: vector(D), or halfvec(D) for the halfvec_
# classes (both engines then store and index halfvec; the data and queries
# are rounded to f16 first, so the exact answers are those of what is stored).
COLUMN = "vector"
STORAGE = None  # --storage: the hnsw storage option of pgvision's index (None: its default)

# pgvector 0.8.6 on this machine, m=16, ef_construction=64, from issue 3
# (resnetlike: a halfvec expression index, since vector(2048) cannot be indexed).
REFERENCE = {
    "clustered-128-100k": {
        "build_s": 17.3, "size_mib": 79, "exact_qps": 34,
        "points": {40: (0.93, "1520-1650"), 80: (0.975, "1220-1245")},
    },
    "resnetlike-2048-20k": {
        "build_s": 9.3, "size_mib": 156, "exact_qps": 10,
        "points": {40: (0.99, "830-950")},
    },
}


# ---------------------------------------------------------------- datasets

def gen_clustered(n, dim, n_clusters, seed):
    """Gaussian mixture: centres N(0, 1)^dim, each cluster its own spread in
    [0.2, 0.4] (isotropic). Returns (data, queries); queries are fresh draws
    from the same mixture (same centres), so none of them is a data point."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((n_clusters, dim), dtype=np.float32)
    spread = rng.uniform(0.2, 0.4, n_clusters).astype(np.float32)

    def draw(count, rng):
        c = rng.integers(0, n_clusters, count)
        noise = rng.standard_normal((count, dim), dtype=np.float32)
        return (centres[c] + spread[c, None] * noise).astype(np.float32)

    data = draw(n, np.random.default_rng(seed + 1))
    queries = draw(N_QUERIES_MAX, np.random.default_rng(seed + 2))
    return data, queries


def gen_resnetlike(n, dim, n_clusters, seed, rank=64):
    """Non-negative sparse vectors shaped like ReLU-pooled CNN features:
    x = scale * relu(bias + mu_c + W h + 0.3 eps), with a per-class mean
    mu_c, correlated dimensions through a rank-64 loading W with latent
    h ~ N(0, I), per-dimension scales (some channels louder than others) and
    a negative bias that leaves ~60% zeros. Returns (data, queries)."""
    rng = np.random.default_rng(seed)
    mu = (0.6 * rng.standard_normal((n_clusters, dim))).astype(np.float32)
    loading = (rng.standard_normal((rank, dim)) / np.sqrt(rank)).astype(np.float32)
    # Each class moves mostly along its own few latent directions.
    class_latent = (rng.standard_normal((n_clusters, rank)) * 0.8).astype(np.float32)
    scale = np.exp(0.5 * rng.standard_normal(dim)).astype(np.float32)
    bias = np.float32(-0.35)

    def draw(count, rng):
        c = rng.integers(0, n_clusters, count)
        h = class_latent[c] + rng.standard_normal((count, rank), dtype=np.float32)
        pre = bias + mu[c] + h @ loading
        pre += 0.3 * rng.standard_normal((count, dim), dtype=np.float32)
        np.maximum(pre, 0, out=pre)
        pre *= scale
        return pre.astype(np.float32)

    data = np.empty((n, dim), np.float32)
    drng = np.random.default_rng(seed + 1)
    for s in range(0, n, 2000):      # in chunks: the gaussian temporaries are big
        data[s:s + 2000] = draw(min(2000, n - s), drng)
    queries = draw(N_QUERIES_MAX, np.random.default_rng(seed + 2))
    return data, queries


DATASETS = {
    "clustered-128-100k": lambda: gen_clustered(100_000, 128, 100, seed=128_100),
    "resnetlike-2048-20k": lambda: gen_resnetlike(20_000, 2048, 50, seed=2048_20),
    # The width of GIST descriptors (960), where pgvector's vector index is
    # largest next to ours: dense, non-negative, correlated, 50 classes.
    "resnetlike-960-50k": lambda: gen_resnetlike(50_000, 960, 50, seed=960_50),
    # Not in the reference (pgvector indexes neither vector(4096) nor
    # halfvec(4096)): LLM-embedding width, where pgvision's elements span pages.
    "resnetlike-4096-10k": lambda: gen_resnetlike(10_000, 4096, 50, seed=4096_10),
    # Issue 23's scale points: ten times the rows of the 128-d and 2048-d sets
    # (the clusters and classes grow with them); run with --shared-buffers
    # above and below the index size (bench/run.sh).
    "clustered-128-1m": lambda: gen_clustered(1_000_000, 128, 1000, seed=128_1000),
    "resnetlike-2048-200k": lambda: gen_resnetlike(200_000, 2048, 200, seed=2048_200),
}


# What `--dataset all` runs: 128, 960 and 2048 dimensions.
ALL_DATASETS = ["clustered-128-100k", "resnetlike-960-50k", "resnetlike-2048-20k"]


def exact_topk(data, queries, metric, k=K):
    """Exact top-k ids and distances by brute force in float64, in chunks."""
    x = data.astype(np.float64)
    if metric == "cosine":
        xn = np.linalg.norm(x, axis=1)
        xn[xn == 0] = np.inf     # a zero vector has NaN cosine distance: never near
    sq = (x * x).sum(axis=1)
    ids = np.empty((len(queries), k), np.int64)
    dists = np.empty((len(queries), k), np.float64)
    for s in range(0, len(queries), 50):
        q = queries[s:s + 50].astype(np.float64)
        dot = q @ x.T
        if metric == "l2":
            d = np.sqrt(np.maximum((q * q).sum(axis=1)[:, None] - 2 * dot + sq[None, :], 0))
        elif metric == "ip":
            d = -dot
        elif metric == "l1":
            d = np.stack([np.abs(x - qi).sum(axis=1) for qi in q])
        else:
            d = 1 - dot / (np.linalg.norm(q, axis=1)[:, None] * xn[None, :])
        part = np.argpartition(d, k, axis=1)[:, :k]
        pd = np.take_along_axis(d, part, axis=1)
        order = np.argsort(pd, axis=1, kind="stable")
        ids[s:s + 50] = np.take_along_axis(part, order, axis=1)
        dists[s:s + 50] = np.take_along_axis(pd, order, axis=1)
    return ids, dists


def pair_distance(x, q, metric):
    x, q = x.astype(np.float64), q.astype(np.float64)
    if metric == "l2":
        return float(np.linalg.norm(x - q))
    if metric == "ip":
        return float(-x @ q)
    if metric == "l1":
        return float(np.abs(x - q).sum())
    return float(1 - x @ q / (np.linalg.norm(x) * np.linalg.norm(q)))


def load_dataset(name, metric):
    """(data, queries, truth_ids, truth_dists), generated once and cached."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    base = DATA_DIR / f"{name}.v{GEN_VERSION}"
    files = {p: Path(f"{base}.{p}.npy") for p in ("data", "queries")}
    rounded = ".f16" if COLUMN == "halfvec" else ""
    if all(f.exists() for f in files.values()):
        data, queries = (np.load(files[p]) for p in ("data", "queries"))
    else:
        t = time.perf_counter()
        data, queries = DATASETS[name]()
        for p, arr in (("data", data), ("queries", queries)):
            np.save(files[p], arr)
        print(f"  generated {name} in {time.perf_counter() - t:.1f} s -> {DATA_DIR}")
    if rounded:
        data, queries = (a.astype(np.float16).astype(np.float32) for a in (data, queries))
    tfile = Path(f"{base}.truth-{metric}{rounded}.npz")
    if tfile.exists():
        z = np.load(tfile)
        tids, tdists = z["ids"], z["dists"]
    else:
        t = time.perf_counter()
        tids, tdists = exact_topk(data, queries, metric)
        np.savez(tfile, ids=tids, dists=tdists)
        print(f"  exact top-{K} ({metric}) by brute force in {time.perf_counter() - t:.1f} s")
    ids_file = Path(f"{base}.truth-{metric}{rounded}.ids.npy")
    if not ids_file.exists():    # for crates/graph/examples/bare_build.rs
        np.save(ids_file, tids.astype(np.int64))
    return data, queries, tids, tdists


# ---------------------------------------------------------------- database

# The servers this program can drive: the extension each database gets and
# where its cluster listens (bench/run.sh and bench/pgvector.sh set these).
ENGINES = {
    "pgvision": dict(extension="pgvision", host=("PGHOST", ROOT / ".pgvision" / "bench-run"),
                     port=("PGPORT", "54350")),
    "pgvector": dict(extension="vector", host=("PGVECTOR_HOST", ROOT / ".pgvision" / "pgvector-run"),
                     port=("PGVECTOR_PORT", "54351")),
}
PGVECTOR_HNSW_MAX_DIM = 2000    # wider vector columns need pgvector's halfvec workaround


def conninfo(dbname, engine="pgvision"):
    e = ENGINES[engine]
    return (f"host={os.environ.get(e['host'][0], e['host'][1])} "
            f"port={os.environ.get(e['port'][0], e['port'][1])} user=postgres dbname={dbname}")


def pgvector_identity():
    """Which pgvector was measured: its version, the server's, and how it
    was built (bench/pgvector.sh says: from source, or the portable wheel)."""
    with psycopg.connect(conninfo("postgres", "pgvector")) as conn:
        server = conn.execute("SHOW server_version").fetchone()[0]
        version = conn.execute(
            "SELECT default_version FROM pg_available_extensions WHERE name = 'vector'").fetchone()
    return (f"{os.environ.get('PGVECTOR_LABEL', 'pgvector (origin not given)')}; "
            f"extension version {version[0] if version else '?'}, server {server}")


def halfvec_workaround(engine, dim):
    """True where pgvector cannot index the vector column and, as issue 3's
    reference did, indexes a halfvec expression instead."""
    return engine == "pgvector" and dim > PGVECTOR_HNSW_MAX_DIM and COLUMN == "vector"


def index_opclass(engine, opclass, dim):
    """The operator class the index is built with."""
    return opclass.replace("vector_", "halfvec_", 1) if halfvec_workaround(engine, dim) else opclass


def index_description(engine, opclass, dim):
    """The operator class and, for pgvector's workaround, the expression indexed."""
    return index_opclass(engine, opclass, dim) + (
        f" on embedding::halfvec({dim})" if halfvec_workaround(engine, dim) else "")


def index_key(engine, dim):
    """The indexed column or expression, as written in CREATE INDEX and ORDER BY."""
    return f"(embedding::halfvec({dim}))" if halfvec_workaround(engine, dim) else "embedding"


def search_sql(engine, op, dim):
    """The timed query: k nearest by the index's key, the query vector a bind parameter."""
    if halfvec_workaround(engine, dim):
        return f"SELECT id FROM items ORDER BY {index_key(engine, dim)} {op} %b::halfvec({dim}) LIMIT {K}"
    if COLUMN == "halfvec":
        return f"SELECT id FROM items ORDER BY embedding {op} %b::halfvec({dim}) LIMIT {K}"
    return f"SELECT id FROM items ORDER BY embedding {op} %b LIMIT {K}"


def db_name(dataset):
    """The dataset's database (one per column type)."""
    return "bench_" + dataset.replace("-", "_") + ("_halfvec" if COLUMN == "halfvec" else "")


def row_value(v):
    """A row's embedding as the client sends it for the column type."""
    return HalfVector(v) if COLUMN == "halfvec" else v


def connect(dataset, fresh=False, engine="pgvision"):
    """A connection to the dataset's database on the engine's cluster;
    fresh=True drops and recreates it first, so the extension's SQL objects
    come from the installed version."""
    dbname = db_name(dataset)
    with psycopg.connect(conninfo("postgres", engine), autocommit=True) as admin:
        if fresh:
            admin.execute(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                               (dbname,)).fetchone()
        if not exists:
            admin.execute(f"CREATE DATABASE {dbname}")
    conn = psycopg.connect(conninfo(dbname, engine), autocommit=True)
    conn.execute("SET client_min_messages = warning")
    conn.execute(f"CREATE EXTENSION IF NOT EXISTS {ENGINES[engine]['extension']}")
    conn.execute("RESET client_min_messages")
    # Build NOTICEs (e.g. the graph outgrew maintenance_work_mem) are worth seeing.
    conn.add_notice_handler(lambda d: print(f"  server {d.severity}: {d.message_primary}"))
    register_vector(conn)
    return conn


def load_table(conn, data):
    n, dim = data.shape
    conn.execute(f"CREATE TABLE items (id int, embedding {COLUMN}({dim}))")
    t = time.perf_counter()
    with conn.cursor() as cur:
        with cur.copy("COPY items (id, embedding) FROM STDIN WITH (FORMAT BINARY)") as copy:
            copy.set_types(["int4", COLUMN])
            for i in range(n):
                copy.write_row((i, row_value(data[i])))
    copy_s = time.perf_counter() - t
    conn.execute("VACUUM (ANALYZE) items")    # hint bits + visibility map before timing
    size = conn.execute("SELECT pg_total_relation_size('items')").fetchone()[0]
    print(f"  loaded {n} rows in {copy_s:.1f} s (COPY BINARY), table {size / 2**20:.0f} MiB")


def check_table(conn, data):
    n, dim = data.shape
    got = conn.execute("SELECT count(*), max(vector_dims(embedding)) FROM items").fetchone()
    if tuple(got) != (n, dim):
        sys.exit(f"--skip-load: items has {got}, want ({n}, {dim}); run without --skip-load")
    sample = [0, n // 2, n - 1]
    rows = conn.execute("SELECT id, embedding FROM items WHERE id = ANY(%s) ORDER BY id",
                        (sample,)).fetchall()
    for i, v in rows:
        if not np.array_equal(v.to_numpy(), data[i]):
            sys.exit(f"--skip-load: row {i} differs from the generated data; reload")


class PeakMemory:
    """Samples a backend's private (RssAnon) and shared (RssShmem) resident
    memory from /proc every 50 ms while a statement runs, and keeps the peaks
    (MiB). Shared memory counts only the shared buffers and DSM pages the
    process touched. Silent (None) where /proc is unreadable."""

    def __init__(self, pid):
        self.pid, self.peak, self.stop = pid, {"RssAnon": None, "RssShmem": None}, None

    def sample(self):
        """One reading of the two fields, into the peaks."""
        try:
            with open(f"/proc/{self.pid}/status") as f:
                for line in f:
                    k, _, v = line.partition(":")
                    if k in self.peak:
                        mib = int(v.split()[0]) / 1024
                        self.peak[k] = max(self.peak[k] or 0, mib)
        except (OSError, ValueError):
            pass

    def __enter__(self):
        self.stop = threading.Event()

        def run():
            while not self.stop.wait(0.05):
                self.sample()
        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()
        self.sample()


def storage_option(engine):
    """`, storage = '...'` for a pgvision index built with --storage; none by default."""
    return f", storage = '{STORAGE}'" if engine == "pgvision" and STORAGE else ""


def build_index(conn, opclass, engine, dim):
    conn.execute("SET client_min_messages = warning")
    conn.execute("DROP INDEX IF EXISTS items_embedding_idx")
    conn.execute("RESET client_min_messages")
    conn.execute("CHECKPOINT")
    b0, t = backend_cpu_s(conn), time.perf_counter()
    with PeakMemory(conn.info.backend_pid) as mem:
        conn.execute(f"CREATE INDEX items_embedding_idx ON items USING hnsw "
                     f"({index_key(engine, dim)} {index_opclass(engine, opclass, dim)}) "
                     f"WITH (m = {M}, ef_construction = {EF_CONSTRUCTION}{storage_option(engine)})")
    build_s = time.perf_counter() - t
    if mem.peak["RssAnon"] is not None:
        print(f"  build memory of the leader backend, peak: private {mem.peak['RssAnon']:.0f} MiB, "
              f"shared {mem.peak['RssShmem']:.0f} MiB (buffers and DSM it touched"
              + ("; parallel workers not counted)" if engine == "pgvector" else ")"))
    b1 = backend_cpu_s(conn)
    size = conn.execute("SELECT pg_relation_size('items_embedding_idx')").fetchone()[0]
    if b0 is not None and b1 is not None and engine == "pgvector":
        print(f"  build CPU: {b1 - b0:.1f} s in the leader backend (its parallel workers "
              f"are processes of their own, not counted)")
    elif b0 is not None and b1 is not None:
        print(f"  build CPU: {b1 - b0:.1f} s in the backend (all its threads), "
              f"{(b1 - b0) / build_s:.2f} cores on average")
    return build_s, size / 2**20


def backend_cpu_s(conn):
    """CPU seconds (user + system) the connection's backend has used so far,
    from /proc (same host only; None when unreadable, e.g. not root)."""
    try:
        with open(f"/proc/{conn.info.backend_pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def run_queries(conn, sql, queries, prepare=True):
    """Ids of each query's answer, the wall seconds for all of them and the CPU
    seconds spent by the backend and by this client meanwhile. prepare=True
    makes it a named prepared statement, planned once and executed many times,
    as drivers with server-side statements do; its cached plan outlives later
    SET enable_indexscan, so the exact search uses prepare=False. The CPU times
    hold still when other work competes for the cores; wall time does not."""
    out = []
    with conn.cursor() as cur:
        b0, c0, t = backend_cpu_s(conn), time.process_time(), time.perf_counter()
        for q in queries:
            cur.execute(sql, (q,), prepare=prepare)
            out.append([r[0] for r in cur.fetchall()])
        wall = time.perf_counter() - t
        client, b1 = time.process_time() - c0, backend_cpu_s(conn)
        return out, wall, (None if b0 is None or b1 is None else b1 - b0), client


def recall_at_k(results, truth):
    hits = sum(len(set(r[:K]) & set(t[:K].tolist())) for r, t in zip(results, truth))
    return hits / (K * len(truth))


def check_exact(results, tids, tdists, data, queries, metric):
    """Exact SQL answers against numpy: same ids, or a different id only where
    its distance ties the 10th (float32 in SQL vs float64 here)."""
    bad = []
    for qi, r in enumerate(results):
        want = tids[qi].tolist()
        if r == want:
            continue
        kth = tdists[qi][-1]
        others = [i for i in r if i not in want]
        if len(r) != K or any(not np.isclose(pair_distance(data[i], queries[qi], metric), kth,
                                             rtol=1e-5, atol=1e-6) for i in others):
            bad.append((qi, r, want))
    return bad


def server_time_ms(conn, sql, queries, n=50):
    """Mean server-side execution time (EXPLAIN ANALYZE, TIMING OFF)."""
    times = []
    for q in queries[:n]:
        plan = conn.execute("EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) " + sql, (q,)).fetchone()[0]
        times.append(plan[0]["Execution Time"])
    return float(np.mean(times))


# ---------------------------------------------------------------- main

def bench(dataset, opclass, n_queries, skip_load, skip_build, repeat, churn_share=None,
          engine="pgvision"):
    op, metric = OPCLASSES[opclass]
    data, queries, tids, tdists = load_dataset(dataset, metric)
    dim = data.shape[1]
    print(f"\n=== {engine}: {dataset}, {index_description(engine, opclass, dim)}"
          + f", m={M}, ef_construction={EF_CONSTRUCTION}{storage_option(engine)}, {n_queries} queries"
          + (f", median of {repeat} timed passes" if repeat > 1 else ""))
    queries, tids, tdists = queries[:n_queries], tids[:n_queries], tdists[:n_queries]
    if dataset.startswith("resnetlike"):
        print(f"  zeros: {np.mean(data == 0):.1%} of the data, "
              f"{np.mean(queries == 0):.1%} of the queries")
    conn = connect(dataset, fresh=not skip_load, engine=engine)
    print("  server: " + conn.execute(
        "SELECT split_part(version(), ' on ', 1) || ', ' || extname || ' ' || extversion "
        "FROM pg_extension WHERE extname = %s", (ENGINES[engine]["extension"],)).fetchone()[0])
    settings = {s: conn.execute(f"SHOW {s}").fetchone()[0] for s in
                ("shared_buffers", "maintenance_work_mem", "max_parallel_maintenance_workers",
                 "max_parallel_workers_per_gather", "jit")}
    print(f"  load average before: {os.getloadavg()[0]:.2f} (1 min)")
    print("  settings: " + ", ".join(f"{k}={v}" for k, v in settings.items()))

    if skip_load:
        check_table(conn, data)
        print("  reusing table items")
    else:
        load_table(conn, data)

    if skip_build:
        have = conn.execute("SELECT opcname FROM pg_index i JOIN pg_opclass o ON o.oid = i.indclass[0] "
                            "WHERE i.indexrelid = 'items_embedding_idx'::regclass").fetchone()
        want = index_opclass(engine, opclass, dim)
        if have is None or have[0] != want:
            sys.exit(f"--skip-build: the existing index uses {have}, not {want}")
        build_s, size_mib = None, conn.execute(
            "SELECT pg_relation_size('items_embedding_idx')").fetchone()[0] / 2**20
        print(f"  reusing index ({size_mib:.1f} MiB)")
    else:
        build_s, size_mib = build_index(conn, opclass, engine, dim)
        print(f"  build: {build_s:.1f} s, index {size_mib:.1f} MiB")

    sql = search_sql(engine, op, dim)
    plan = "\n".join(r[0] if len(r[0]) < 140 else r[0][:120] + " ...]'::vector)"
                     for r in conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, (queries[0],)))
    print("  EXPLAIN ANALYZE (ef_search default):\n    " + plan.replace("\n", "\n    "))
    if "items_embedding_idx" not in plan:
        print("  WARNING: the plan does not use the hnsw index")

    rows = []
    for ef in ef_points(dataset):
        conn.execute(f"SET hnsw.ef_search = {ef}")
        # The timed statement is prepared once and keeps its cached index plan
        # when ef_search changes; say when a fresh plan would not use the index.
        plan = conn.execute("EXPLAIN (FORMAT JSON) " + sql, (queries[0],)).fetchone()[0][0]["Plan"]
        if "items_embedding_idx" not in str(plan):
            print(f"  NOTE: at ef_search {ef} the planner picks {plan['Plans'][0]['Node Type']} "
                  f"(cost {plan['Total Cost']:.0f}) over the index for an unprepared query; "
                  f"the timed prepared statement keeps its index plan")
        run_queries(conn, sql, queries)                  # warm-up pass
        passes = sorted((run_queries(conn, sql, queries) for _ in range(repeat)),
                        key=lambda p: p[1])
        results, secs, bcpu, ccpu = passes[len(passes) // 2]      # the median pass
        best = "" if repeat == 1 else f", best of {repeat} {len(queries) / passes[0][1]:.0f}"
        short = sum(len(r) < K for r in results)
        rec = recall_at_k(results, tids)
        rows.append((ef, rec, len(queries) / secs))
        cpu = ("" if bcpu is None else
               f", CPU ms/query: backend {1000 * bcpu / len(queries):.2f} client {1000 * ccpu / len(queries):.2f}")
        print(f"  ef_search {ef:4d}: recall@10 {rec:.4f}  {len(queries) / secs:8.1f} queries/s"
              f"  ({1000 * secs / len(queries):.2f} ms/query{cpu}{best})" +
              (f"  {short} queries returned < {K} rows" if short else ""))
    conn.execute("SET hnsw.ef_search = 40")
    srv_ms = server_time_ms(conn, sql, queries)
    rtt_s = run_queries(conn, "SELECT %b::vector IS NULL", queries)[1] / len(queries)
    print(f"  breakdown at ef_search 40: server execution {srv_ms:.3f} ms/query (EXPLAIN ANALYZE), "
          f"round trip of a trivial query with the same parameter {1000 * rtt_s:.3f} ms")

    conn.execute("SET enable_indexscan = off")
    exact_sql = search_sql("pgvision", op, dim)      # on the stored float32 column
    n_exact = min(EXACT_QUERIES, len(queries))
    plan = "\n".join(r[0] for r in conn.execute("EXPLAIN " + exact_sql, (queries[0],)))
    if "items_embedding_idx" in plan:
        print("  WARNING: the exact-search plan still uses the index")
    run_queries(conn, exact_sql, queries[:2], prepare=False)   # warm-up
    results, secs, _, _ = run_queries(conn, exact_sql, queries[:n_exact], prepare=False)
    exact_qps = n_exact / secs
    bad = check_exact(results, tids, tdists, data, queries, metric)
    conn.execute("RESET enable_indexscan")
    print(f"  exact search: {exact_qps:.1f} queries/s over {n_exact} queries; "
          f"plan: {plan.splitlines()[-1].strip()} ...")
    if bad:
        print(f"  EXACT MISMATCH in {len(bad)} of {n_exact} queries, e.g. query {bad[0][0]}: "
              f"sql {bad[0][1]} numpy {bad[0][2]}")
    else:
        print(f"  exact SQL answers equal numpy's brute force for all {n_exact} queries")
    churned = churn(conn, data, queries, metric, sql, churn_share) if churn_share else None
    print(f"  load average at the end: {os.getloadavg()[0]:.2f} (1 min; this machine has "
          f"{os.cpu_count()} cores, other work skews the timings)")
    conn.close()
    return dict(dataset=dataset, opclass=opclass, engine=engine, build_s=build_s, size_mib=size_mib,
                opclass_used=index_description(engine, opclass, dim),
                rows=rows, exact_qps=exact_qps, exact_ok=not bad, srv_ms=srv_ms, churn=churned)


def sql_floor(dataset, n_queries, repeat):
    """Queries/s of the cheapest indexed statement through the same client
    loop: a prepared primary-key lookup (a unique index on items.id is made
    once), median of at least 3 passes. No search can beat it."""
    conn = connect(dataset)
    conn.execute("CREATE UNIQUE INDEX IF NOT EXISTS items_id_idx ON items (id)")
    ids = list(range(n_queries))
    sql = "SELECT id FROM items WHERE id = %s"
    run_queries(conn, sql, ids)                        # warm-up
    walls = sorted(run_queries(conn, sql, ids)[1] for _ in range(max(repeat, 3)))
    conn.close()
    return n_queries / walls[len(walls) // 2]


def faiss_points(data, queries, tids, metric, efs=EF_SEARCH):
    """FAISS IndexHNSWFlat (m 16, ef_construction 64; built on every core,
    searched on one thread, one query per call as a client asks): the
    (ef_search, recall@10, queries/s) points and the build seconds; None for
    a metric other than L2."""
    if metric != "l2":
        return None
    import faiss
    faiss.omp_set_num_threads(os.cpu_count())
    index = faiss.IndexHNSWFlat(data.shape[1], M)
    index.hnsw.efConstruction = EF_CONSTRUCTION
    t = time.perf_counter()
    index.add(np.ascontiguousarray(data, dtype=np.float32))
    build_s = time.perf_counter() - t
    faiss.omp_set_num_threads(1)
    points = []
    qs = np.ascontiguousarray(queries, dtype=np.float32)
    for ef in efs:
        index.hnsw.efSearch = ef
        index.search(qs[:20], K)                       # warm-up
        t = time.perf_counter()
        found = [index.search(qs[i:i + 1], K)[1][0].tolist() for i in range(len(qs))]
        secs = time.perf_counter() - t
        points.append((ef, recall_at_k(found, tids), len(qs) / secs))
    return points, build_s


def ceiling(dataset, opclass, n_queries, repeat, ours):
    """What one client could reach at recall 0.95: the SQL floor and FAISS
    in series, 1 / (1/floor + 1/faiss), and pgvision's share of it."""
    _, metric = OPCLASSES[opclass]
    data, queries, tids, _ = load_dataset(dataset, metric)
    queries, tids = queries[:n_queries], tids[:n_queries]
    print(f"\n=== ceiling for one client: {dataset}")
    floor = sql_floor(dataset, n_queries, repeat)
    print(f"  SQL floor (prepared primary-key lookup, same client loop): {floor:.0f} queries/s")
    got = faiss_points(data, queries, tids, metric, ef_points(dataset))
    if got is None:
        print(f"  FAISS: not measured for {metric}")
        return
    points, build_s = got
    print(f"  FAISS IndexHNSWFlat build {build_s:.1f} s on {os.cpu_count()} threads")
    for ef, rec, qps in points:
        print(f"  FAISS ef_search {ef:4d}: recall@10 {rec:.4f} {qps:9.0f} queries/s (one thread)")
    theirs = interpolated_qps([(r, q) for _, r, q in points])
    mine = interpolated_qps([(r, q) for _, r, q in ours["rows"]])
    if not theirs or not mine:
        print("  recall 0.95 not reached: no ceiling")
        return
    limit = 1 / (1 / floor + 1 / theirs)
    print(f"  at recall 0.95: FAISS {theirs:.0f} q/s, limit 1/(1/floor + 1/faiss) = {limit:.0f} q/s; "
          f"pgvision {mine:.0f} q/s = {100 * mine / limit:.0f}% of it (issue 23's target: 60%)")


def copy_rows(conn, ids, rows):
    """COPY BINARY (id, embedding) rows into items; the wall seconds."""
    t = time.perf_counter()
    with conn.cursor() as cur:
        with cur.copy("COPY items (id, embedding) FROM STDIN WITH (FORMAT BINARY)") as copy:
            copy.set_types(["int4", COLUMN])
            for i, v in zip(ids, rows):
                copy.write_row((int(i), row_value(v)))
    return time.perf_counter() - t


def churn(conn, data, queries, metric, sql, share=0.1):
    """Rewrites `share` of the rows as a live table would: inserts as many
    new rows (perturbed copies of random rows, timed: index inserts per
    second), deletes as many old ones, VACUUMs (timed), then measures
    recall@10 and queries/s at ef_search 40 against the exact answers on
    the rows now live. Finally puts the table back as loaded (the index
    stays the churned one)."""
    n = len(data)
    count = int(n * share)
    rng = np.random.default_rng(7)
    src = rng.choice(n, count, replace=False)
    noise = rng.standard_normal((count, data.shape[1]), dtype=np.float32)
    new = data[src] + 0.05 * data.std(axis=0) * noise
    if (data >= 0).all():
        np.maximum(new, 0, out=new)             # non-negative data stays so
    new = new.astype(np.float32)
    new_ids = np.arange(n, n + count)
    gone = np.sort(rng.choice(n, count, replace=False))
    size0 = conn.execute("SELECT pg_relation_size('items_embedding_idx')").fetchone()[0]
    ins_s = copy_rows(conn, new_ids, new)
    conn.execute("DELETE FROM items WHERE id = ANY(%s)", (gone.tolist(),))
    t = time.perf_counter()
    conn.execute("VACUUM items")
    vac_s = time.perf_counter() - t
    size1 = conn.execute("SELECT pg_relation_size('items_embedding_idx')").fetchone()[0]
    keep = np.setdiff1d(np.arange(n), gone)
    live = np.concatenate([data[keep], new])
    live_ids = np.concatenate([keep, new_ids])
    truth = live_ids[exact_topk(live, queries, metric)[0]]
    conn.execute("SET hnsw.ef_search = 40")
    run_queries(conn, sql, queries)                      # warm-up pass
    results, secs, _, _ = run_queries(conn, sql, queries)
    rec = recall_at_k(results, truth)
    print(f"  churn ({share:.0%}): {count} inserts in {ins_s:.1f} s ({count / ins_s:.0f} rows/s, COPY), "
          f"{count} deletes, VACUUM {vac_s:.1f} s; index {size0 / 2**20:.1f} -> {size1 / 2**20:.1f} MiB; "
          f"ef_search 40: recall@10 {rec:.4f} {len(queries) / secs:.0f} queries/s")
    conn.execute("DELETE FROM items WHERE id >= %s", (n,))
    copy_rows(conn, gone, data[gone])
    conn.execute("VACUUM (ANALYZE) items")
    return dict(insert_rows_s=count / ins_s, vacuum_s=vac_s, recall=rec)


def paired(dataset, opclass, n_queries, rounds, rebuild=True):
    """Queries/s of both engines timed pass by pass in alternation.

    Why: the steps above run one engine after the other, minutes apart, and
    a shared host changes speed in between (on a VM losing 30-50% to steal,
    the client's own CPU per query differed 3x between the two halves of
    one run, and sequential ratios at 2048-d swung 0.54x-1.65x). Here both
    indexes, built by the steps above, are timed at each ef_search in
    `rounds` rounds of one pass per engine (the order flips every round),
    so both meet the same conditions; the median pass per engine counts.
    The backend's CPU per query is printed too: steal distorts it less."""
    op, metric = OPCLASSES[opclass]
    data, queries, tids, _ = load_dataset(dataset, metric)
    queries, tids = queries[:n_queries], tids[:n_queries]
    engines = ("pgvision", "pgvector")
    conns = {e: connect(dataset, engine=e) for e in engines}
    sqls = {e: search_sql(e, op, data.shape[1]) for e in engines}
    print(f"\n=== paired timing: {dataset}, both engines alternating, median of {rounds} passes each")
    # Builds too: one engine's build minutes after the other's met another
    # host (pgvision's 128-d build took 3.7 s in one full run, 6.7 s at
    # 1.56 cores in the next, while alternating REINDEXes gave 3.7-4.9 s).
    builds = {e: [] for e in engines}
    for r in range(rounds if rebuild else 0):
        for e in (engines if r % 2 == 0 else engines[::-1]):
            # both clusters: pgvector's build leaves its index in dirty
            # shared buffers, whose write-back would overlap the next build
            for c in conns.values():
                c.execute("CHECKPOINT")
            t = time.perf_counter()
            conns[e].execute("REINDEX INDEX items_embedding_idx")
            builds[e].append(time.perf_counter() - t)
    if rebuild:
        print("  builds (REINDEX): " + "; ".join(
            f"{e} {', '.join(f'{x:.1f}' for x in builds[e])} s" for e in engines))
    rows = {e: [] for e in engines}
    for ef in ef_points(dataset):
        passes = {e: [] for e in engines}
        for e in engines:
            conns[e].execute(f"SET hnsw.ef_search = {ef}")
            run_queries(conns[e], sqls[e], queries)          # warm-up pass
        for r in range(rounds):
            for e in (engines if r % 2 == 0 else engines[::-1]):
                passes[e].append(run_queries(conns[e], sqls[e], queries))
        line = f"  ef_search {ef:4d}:"
        for e in engines:
            results, secs, bcpu, _ = sorted(passes[e], key=lambda p: p[1])[rounds // 2]
            ms = None if bcpu is None else 1000 * bcpu / len(queries)
            rows[e].append((ef, recall_at_k(results, tids), len(queries) / secs, ms))
            _, rec, qps, _ = rows[e][-1]
            line += f"  {e} {rec:.4f} @ {qps:7.1f} q/s" + ("" if ms is None else f" ({ms:.2f} ms CPU)")
        print(line)
    for c in conns.values():
        c.close()
    at = {e: interpolated_qps([(rec, qps) for _, rec, qps, _ in rows[e]]) for e in engines}
    cpu = {e: interpolated_qps([(rec, 1000 / ms) for _, rec, _, ms in rows[e] if ms])
           for e in engines}
    lower = {e: floored([(rec, qps) for _, rec, qps, _ in rows[e]]) for e in engines}
    return {"dataset": dataset, "rows": rows, "qps": at, "cpu_qps": cpu, "rounds": rounds,
            "floored": lower,
            "build_s": {e: sorted(builds[e])[rounds // 2] for e in engines} if rebuild else None}


def print_paired(p):
    """The paired comparison's ratios at recall 0.95."""
    low = p.get("floored", {})

    def ratio(d):
        a, b = d["pgvision"], d["pgvector"]
        if not (a and b):
            return "not reached"
        bound = {(True, False): " (at least: pgvision's ef_search 10 is already past 0.95)",
                 (False, True): " (at most: pgvector's ef_search 10 is already past 0.95)",
                 (True, True): " (both are past 0.95 at ef_search 10)"}
        return f"{a:.0f} vs {b:.0f}, ratio {a / b:.2f}x" + bound.get(
            (low.get("pgvision", False), low.get("pgvector", False)), "")
    print(f"  {'paired q/s at recall 0.95':28s} {ratio(p['qps'])}  "
          f"(alternating passes, median of {p['rounds']})")
    print(f"  {'per backend CPU second':28s} {ratio(p['cpu_qps'])}")
    if p.get("build_s"):
        a, b = p["build_s"]["pgvision"], p["build_s"]["pgvector"]
        print(f"  {'paired build time ratio':28s} {a:.1f} vs {b:.1f} s, {a / b:.2f} of pgvector's "
              f"(alternating REINDEX, median of {p['rounds']})")


def qps_at_recall(rows, target=0.95):
    """(ef_search, qps) of the cheapest ef_search reaching the target recall."""
    for ef, rec, qps in rows:
        if rec >= target:
            return ef, qps
    return None, None


def interpolated_qps(points, target=0.95):
    """Queries/s at exactly `target` recall, linear between the two measured
    (recall, qps) points that bracket it. When even the cheapest point is
    above the target, the most queries/s of any point that reaches it:
    a lower bound (a smaller ef_search would reach the target sooner).
    None when no point reaches the target."""
    pts = sorted(points)
    for (r0, q0), (r1, q1) in zip(pts, pts[1:]):
        if r0 <= target <= r1 and r1 > r0:
            return q0 + (target - r0) / (r1 - r0) * (q1 - q0)
    if pts and pts[0][0] >= target:
        return max(q for _, q in pts)
    return None


def floored(points, target=0.95):
    """Whether interpolated_qps(points) is a lower bound: no measured point
    lies below the target recall."""
    return bool(points) and min(r for r, _ in points) > target


def mid(qps):
    """A reference figure given as "1520-1650" (a range over runs) as its midpoint."""
    lo, _, hi = str(qps).partition("-")
    return (float(lo) + float(hi or lo)) / 2


def measured_reference(r):
    """A measured pgvector result in the shape of REFERENCE's entries."""
    return {"build_s": r["build_s"], "size_mib": r["size_mib"], "exact_qps": r["exact_qps"],
            "points": {ef: (rec, f"{qps:.0f}") for ef, rec, qps in r["rows"]}}


def summary(results, paired_results=()):
    """pgvision's figures per dataset next to pgvector's: measured on this
    run's pgvector cluster when --against-pgvector, else issue 3's reference."""
    measured = {r["dataset"]: r for r in results if r["engine"] == "pgvector"}
    against = "pgvector measured" if measured else "pgvector 0.8.6"
    print(f"\n=== summary: pgvision vs {'pgvector, measured in this run' if measured else 'pgvector 0.8.6 (issue 3 reference, same machine class)'}")
    if measured:
        print(f"pgvector: {pgvector_identity()}")
    for r in (r for r in results if r["engine"] == "pgvision"):
        m = measured.get(r["dataset"])
        ref = measured_reference(m) if m else REFERENCE.get(r["dataset"])
        print(f"\n{r['dataset']} ({r['opclass']})" + (f"; pgvector: {m['opclass_used']}" if m else ""))
        print(f"  {'':28s} {'pgvision':>16s} {against:>22s}")
        b = "reused" if r["build_s"] is None else f"{r['build_s']:.1f} s"
        rb = "-" if not ref or ref["build_s"] is None else f"{ref['build_s']:.1f}"
        print(f"  {'build':28s} {b:>16s} {rb:>20} s")
        print(f"  {'index size':28s} {r['size_mib']:>12.1f} MiB "
              f"{'-' if not ref else format(ref['size_mib'], '.1f'):>18} MiB")
        for ef, rec, qps in r["rows"]:
            refp = ref["points"].get(ef) if ref else None
            refs = f"{refp[0]:.3f} @ {refp[1]} q/s" if refp else ""
            print(f"  {'ef_search ' + str(ef):28s} {rec:.3f} @ {qps:6.0f} q/s {refs:>28s}")
        print(f"  {'exact search':28s} {r['exact_qps']:>12.1f} q/s "
              f"{'-' if not ref else format(ref['exact_qps'], '.1f'):>18} q/s"
              f"{'' if r['exact_ok'] else '  (MISMATCH vs numpy)'}")
        ef, qps = qps_at_recall(r["rows"])
        print(f"  {'first ef with recall>=0.95':28s} "
              + (f"ef {ef}: {qps:.0f} q/s" if ef else "none reaches 0.95"))
        our_pts = [(rec, q) for _, rec, q in r["rows"]]
        their_pts = [(p[0], mid(p[1])) for p in ref["points"].values()] if ref else []
        ours, theirs = interpolated_qps(our_pts), interpolated_qps(their_pts)
        line = f"{ours:.0f} q/s" if ours else "-"
        line += " (a lower bound)" if floored(our_pts) else ""
        line += f"   pgvector {theirs:.0f} q/s, ratio {ours / theirs:.2f}x" if ours and theirs else \
            "   pgvector: does not reach 0.95"
        print(f"  {'queries/s at recall 0.95':28s} {line}  (linear between ef_search points)")
        if ref and ref["build_s"] and r["build_s"]:
            print(f"  {'build time ratio':28s} {r['build_s'] / ref['build_s']:.2f} of pgvector's")
        for p in (p for p in paired_results if p["dataset"] == r["dataset"]):
            print_paired(p)
        if r.get("churn"):
            c = r["churn"]
            print(f"  {'after churn':28s} {c['insert_rows_s']:.0f} inserts/s, VACUUM {c['vacuum_s']:.1f} s, "
                  f"recall@10 at ef 40 {c['recall']:.3f}")
            if m and m.get("churn"):
                c = m["churn"]
                print(f"  {'pgvector after churn':28s} {c['insert_rows_s']:.0f} inserts/s, "
                      f"VACUUM {c['vacuum_s']:.1f} s, recall@10 at ef 40 {c['recall']:.3f}")
    print("\nIssue 3 targets: build <= half pgvector's time, >= 1.5x its queries/s at recall 0.95, "
          "recall at default settings (ef_search 40) no lower, index no larger.")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", choices=[*DATASETS, "all"], default="all",
                    help="all: " + ", ".join(ALL_DATASETS))
    ap.add_argument("--opclass", choices=list(OPCLASSES), default="vector_l2_ops")
    ap.add_argument("--queries", type=int, default=N_QUERIES_MAX,
                    help=f"timed queries per ef_search (at most {N_QUERIES_MAX})")
    ap.add_argument("--skip-load", action="store_true", help="reuse the items table")
    ap.add_argument("--skip-build", action="store_true",
                    help="reuse the index too (implies --skip-load)")
    ap.add_argument("--repeat", type=int, default=1,
                    help="timed passes per ef_search; reports the median pass (default 1, "
                         "as in the reference; 3 or 5 steady the figures on a busy machine)")
    ap.add_argument("--churn", type=float, metavar="SHARE",
                    help="after the searches, insert and delete SHARE of the rows (e.g. 0.1), "
                         "time the inserts and the VACUUM, measure recall again; the table "
                         "is put back, the index stays churned")
    ap.add_argument("--ceiling", action="store_true",
                    help="also measure the SQL floor and FAISS's IndexHNSWFlat on the same data, "
                         "and pgvision's share of the one-client limit they set")
    ap.add_argument("--against-pgvector", action="store_true",
                    help="run every step on pgvector's cluster too (bench/run.sh starts it) and "
                         "compare with those measurements instead of issue 3's figures")
    ap.add_argument("--no-paired-builds", action="store_true",
                    help="with --against-pgvector: time the queries in alternation but not the "
                         "builds (a REINDEX per engine and round; long on the large sets)")
    ap.add_argument("--storage", choices=["half", "i8"],
                    help="pgvision's hnsw storage option: f16 copies (half) or 8-bit copies "
                         "(i8); unset, the index chooses (8-bit copies for vector and halfvec)")
    a = ap.parse_args()
    global COLUMN, STORAGE
    STORAGE = a.storage
    COLUMN = "halfvec" if a.opclass.startswith("halfvec_") else "vector"
    if not 1 <= a.queries <= N_QUERIES_MAX:
        ap.error(f"--queries must be 1..{N_QUERIES_MAX}")
    names = ALL_DATASETS if a.dataset == "all" else [a.dataset]
    if a.repeat < 1:
        ap.error("--repeat must be at least 1")
    if a.churn is not None and not 0 < a.churn <= 0.5:
        ap.error("--churn must be in (0, 0.5]")
    engines = ["pgvision", "pgvector"] if a.against_pgvector else ["pgvision"]
    results = [bench(d, a.opclass, a.queries, a.skip_load or a.skip_build, a.skip_build, a.repeat,
                     a.churn, engine)
               for d in names for engine in engines]
    pairs = [paired(d, a.opclass, a.queries, max(a.repeat, 3), not a.no_paired_builds) for d in names] \
        if a.against_pgvector else []
    summary(results, pairs)
    if a.ceiling:
        for r in (r for r in results if r["engine"] == "pgvision"):
            ceiling(r["dataset"], a.opclass, a.queries, a.repeat, r)


if __name__ == "__main__":
    main()
