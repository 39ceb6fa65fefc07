"""A streaming replica returns the same answers as its primary: the index build,
inserts, deletes and vacuum all reach it through WAL, also for an index whose
elements span pages (16,000 dimensions at m = 100: five blocks each, written
as one WAL record of full page images)."""
import numpy as np
from conftest import STATE
from datasets import clustered
from harness import Cluster, wait_replay
from util import knn, load

DIM = 48
WIDE = 16_000


def test_replica_answers_like_primary():
    primary = Cluster(STATE / "primary", 54363).init().start()
    data = clustered(8000, DIM, 16, seed=21)
    queries = clustered(25, DIM, 16, seed=22)
    wide = clustered(600, WIDE, 6, seed=23)
    wide_queries = clustered(5, WIDE, 6, seed=24)
    with primary.connect() as conn:
        conn.execute("CREATE EXTENSION pgvision")
        load(conn, "items", np.arange(4000), data[:4000])
        conn.execute("CREATE INDEX items_l2 ON items USING hnsw (v)")
        load(conn, "wide", np.arange(300), wide[:300])
        conn.execute("CREATE INDEX wide_l2 ON wide USING hnsw (v) WITH (m = 100, ef_construction = 200)")
    replica = primary.replica(STATE / "replica", 54364)
    try:
        with primary.connect() as conn:
            load(conn, "items", np.arange(4000, 6000), data[4000:6000], create=False)  # on-disk inserts
            conn.execute("DELETE FROM items WHERE id % 7 = 0")
            conn.execute("VACUUM items")
            load(conn, "items", np.arange(6000, 8000), data[6000:], create=False)
            conn.execute("CREATE INDEX items_cos ON items USING hnsw (v vector_cosine_ops)")  # built after the copy
            load(conn, "wide", np.arange(300, 450), wide[300:450], create=False)
            conn.execute("DELETE FROM wide WHERE id % 3 = 0")
            conn.execute("VACUUM wide")
            blocks = conn.execute("SELECT pg_relation_size('wide_l2') / 8192").fetchone()[0]
            load(conn, "wide", np.arange(450, 600), wide[450:], create=False)  # into freed extents
            grown = conn.execute("SELECT pg_relation_size('wide_l2') / 8192").fetchone()[0] - blocks
            assert grown <= 5 * 5, f"{grown} new blocks for 150 rows into 150 freed extents"
        wait_replay(primary, replica)
        with primary.connect() as p, replica.connect() as r:
            for metric in ("l2", "cosine"):
                on_primary = knn(p, "items", queries, metric, ef_search=60)
                on_replica = knn(r, "items", queries, metric, ef_search=60)
                assert on_primary == on_replica, metric
                assert all(len(row) == 10 for row in on_replica)
            on_primary = knn(p, "wide", wide_queries, "l2", ef_search=60)
            assert on_primary == knn(r, "wide", wide_queries, "l2", ef_search=60), "wide"
            assert all(len(row) == 10 for row in on_primary)
            deleted = {i for row in knn(r, "items", queries, "l2") for i in row if i % 7 == 0 and i < 6000}
            assert not deleted, "the replica returned rows vacuumed on the primary"
    finally:
        replica.stop()
        primary.stop()
