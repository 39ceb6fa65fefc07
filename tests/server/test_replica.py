"""A streaming replica returns the same answers as its primary: the index build,
inserts, deletes and vacuum all reach it through WAL, also for indexes whose
elements span pages, each written as one WAL record of full page images:
16,000 dimensions at m = 48 (an extent of five blocks per element) and
4,096 at m = 16 (groups of 13 elements sharing one block of chunks)."""
import numpy as np
from conftest import STATE
from datasets import clustered
from harness import Cluster, wait_replay
from util import knn, load

DIM = 48
WIDE = {"wide16k": (16_000, "m = 48, ef_construction = 96"), "wide4k": (4096, "m = 16")}


def test_replica_answers_like_primary():
    primary = Cluster(STATE / "primary", 54363).init().start()
    data = clustered(8000, DIM, 16, seed=21)
    queries = clustered(25, DIM, 16, seed=22)
    wide = {t: clustered(600, d, 6, seed=23) for t, (d, _) in WIDE.items()}
    wide_queries = {t: clustered(5, d, 6, seed=24) for t, (d, _) in WIDE.items()}
    with primary.connect() as conn:
        conn.execute("CREATE EXTENSION pgvision")
        load(conn, "items", np.arange(4000), data[:4000])
        conn.execute("CREATE INDEX items_l2 ON items USING hnsw (v)")
        for t, (_, options) in WIDE.items():
            load(conn, t, np.arange(300), wide[t][:300])
            conn.execute(f"CREATE INDEX {t}_l2 ON {t} USING hnsw (v) WITH ({options})")
    replica = primary.replica(STATE / "replica", 54364)
    try:
        with primary.connect() as conn:
            load(conn, "items", np.arange(4000, 6000), data[4000:6000], create=False)  # on-disk inserts
            conn.execute("DELETE FROM items WHERE id % 7 = 0")
            conn.execute("VACUUM items")
            load(conn, "items", np.arange(6000, 8000), data[6000:], create=False)
            conn.execute("CREATE INDEX items_cos ON items USING hnsw (v vector_cosine_ops)")  # built after the copy
            for t in WIDE:
                load(conn, t, np.arange(300, 450), wide[t][300:450], create=False)
                conn.execute(f"DELETE FROM {t} WHERE id % 3 = 0")
                conn.execute(f"VACUUM {t}")
                blocks = conn.execute(f"SELECT pg_relation_size('{t}_l2') / 8192").fetchone()[0]
                load(conn, t, np.arange(450, 600), wide[t][450:], create=False)  # into freed places
                grown = conn.execute(f"SELECT pg_relation_size('{t}_l2') / 8192").fetchone()[0] - blocks
                assert grown <= 5 * 5, f"{t}: {grown} new blocks for 150 rows into 150 freed places"
        wait_replay(primary, replica)
        with primary.connect() as p, replica.connect() as r:
            for metric in ("l2", "cosine"):
                on_primary = knn(p, "items", queries, metric, ef_search=60)
                on_replica = knn(r, "items", queries, metric, ef_search=60)
                assert on_primary == on_replica, metric
                assert all(len(row) == 10 for row in on_replica)
            for t in WIDE:
                on_primary = knn(p, t, wide_queries[t], "l2", ef_search=60)
                assert on_primary == knn(r, t, wide_queries[t], "l2", ef_search=60), t
                assert all(len(row) == 10 for row in on_primary), t
            deleted = {i for row in knn(r, "items", queries, "l2") for i in row if i % 7 == 0 and i < 6000}
            assert not deleted, "the replica returned rows vacuumed on the primary"
            # Sound pages and every row indexed, on the primary and on the
            # read-only standby alike.
            for idx in ["items_l2", "items_cos"] + [f"{t}_l2" for t in WIDE]:
                p.execute("SELECT pgvision_index_check(%s, true)", (idx,))
                r.execute("SELECT pgvision_index_check(%s, true)", (idx,))
    finally:
        replica.stop()
        primary.stop()
