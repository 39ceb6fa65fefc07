"""Scans under buffer pressure: with a shared_buffers far smaller than the
index and table, pages are evicted and their buffers reused all the time,
so the buffers a backend remembers per block (ReadRecentBuffer, and the
prefetch hints taken from them) are stale or contended. Answers must stay exact at a
large ef_search, nothing may fail for want of unpinned buffers, and the
index's statistics count its scans."""
import threading
import time

import numpy as np
from conftest import STATE
from datasets import clustered, exact_topk, recall
from harness import Cluster
from pgvector.psycopg import register_vector
from util import knn, load

DIM = 128
N = 20000


def test_small_shared_buffers_keep_answers_exact():
    # 2 MB = 256 buffers for a ~10 MB index and ~12 MB table
    c = Cluster(STATE / "buffers", 54363).init("shared_buffers = 2MB\nmax_connections = 20\n").start()
    both = clustered(N + 40, DIM, 50, seed=21)
    data, queries = both[:N], both[N:]
    truth = exact_topk(data, np.arange(N), queries, "l2")
    with c.connect() as conn:
        conn.execute("CREATE EXTENSION pgvision")
        load(conn, "b", np.arange(N), data)
        conn.execute("CREATE INDEX b_v_idx ON b USING hnsw (v)")
        size = conn.execute("SELECT pg_relation_size('b_v_idx')").fetchone()[0]
        assert size > 4 * 2**20, "the index must be much larger than shared_buffers"

    results, errors, stop = {}, [], threading.Event()

    def reader(worker):
        """Runs every query three times; all passes must agree."""
        try:
            with c.connect() as conn:
                passes = [knn(conn, "b", queries, "l2", ef_search=400) for _ in range(3)]
                results[worker] = passes
        except Exception as e:
            errors.append(e)

    def writer():
        """Inserts rows far from every query, moving pages in and out."""
        try:
            with c.connect() as conn:
                register_vector(conn)
                i = N
                while not stop.is_set():
                    conn.execute("INSERT INTO b VALUES (%s, %s)", (i, data[i % N] + 1000.0))
                    i += 1
        except Exception as e:
            errors.append(e)

    w = threading.Thread(target=writer)
    w.start()
    readers = [threading.Thread(target=reader, args=(r,)) for r in range(3)]
    for t in readers:
        t.start()
    for t in readers:
        t.join()
    stop.set()
    w.join()
    assert not errors, errors[:1]
    for passes in results.values():
        assert passes[0] == passes[1] == passes[2], "answers must be repeatable"
        assert recall(passes[0], truth) >= 0.99

    with c.connect() as conn:
        # idx_scan counts index scans: the readers' (flushed as their
        # backends exit), then this session's once it flushes them
        scans = "SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = 'b_v_idx'"
        deadline = time.time() + 30
        while (before := conn.execute(scans).fetchone()[0]) < 3 * 3 * len(queries):
            assert time.time() < deadline, f"idx_scan {before}, want {3 * 3 * len(queries)}"
            time.sleep(0.2)
            conn.execute("SELECT pg_stat_clear_snapshot()")
        knn(conn, "b", queries[:5], "l2")
        conn.execute("SELECT pg_stat_force_next_flush()")
        conn.execute("SELECT pg_stat_clear_snapshot()")
        after, hits, reads = conn.execute(
            "SELECT s.idx_scan, io.idx_blks_hit, io.idx_blks_read FROM pg_stat_user_indexes s "
            "JOIN pg_statio_user_indexes io USING (indexrelid) WHERE s.indexrelname = 'b_v_idx'"
        ).fetchone()
        assert after == before + 5
        print(f"  index blocks: {hits} hits, {reads} reads (evicted and read again)")
        assert hits > 0
        assert reads > size // 8192, "the scans should have had to re-read evicted pages"
    c.stop()
