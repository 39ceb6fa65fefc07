"""Index builds under pressure: a graph larger than maintenance_work_mem
spills to on-disk inserts (with pgvector's NOTICE) and stays correct; a
build honours query cancel (statement_timeout) and leaves the backend alive."""
import numpy as np
import psycopg
import pytest
from datasets import clustered, exact_topk, recall
from util import knn, load

DIM = 64


def test_build_beyond_maintenance_work_mem_spills_and_stays_correct(cluster):
    # Queries from the data's own mixture: drawn around other centres they
    # have no clear neighbours, and recall swings (0.92-0.99 over runs).
    data = clustered(6040, 32, 40, seed=41)
    data, queries = data[:6000], data[6000:]
    want = exact_topk(data, np.arange(len(data)), queries, "l2")
    notices = []
    with cluster.connect() as conn:
        conn.add_notice_handler(lambda d: notices.append(d.message_primary))
        load(conn, "spill", np.arange(len(data)), data)
        conn.execute("CREATE INDEX spill_idx ON spill USING hnsw (v)")
        in_memory = recall(knn(conn, "spill", queries, "l2", ef_search=10), want)
        assert not any("maintenance_work_mem" in n for n in notices), notices
        conn.execute("DROP INDEX spill_idx")
        conn.execute("SET maintenance_work_mem = '1MB'")
        conn.execute("CREATE INDEX spill_idx ON spill USING hnsw (v)")
        assert any("no longer fits into maintenance_work_mem" in n for n in notices), notices
        spilled = recall(knn(conn, "spill", queries, "l2", ef_search=10), want)
        print(f"recall at ef_search 10: in-memory build {in_memory:.4f}, spilled build {spilled:.4f}")
        # Spilling (on-disk inserts after the first ~2,000 rows) costs little
        # quality (at ef_search 10, measured 0.9725-0.9975 against 0.9975 in
        # memory; at 200 both reach 1.0 on these queries and tell nothing).
        assert spilled >= 0.93
        assert spilled >= in_memory - 0.05
        conn.execute("DROP TABLE spill")


def test_build_is_cancellable(cluster):
    data = clustered(40000, DIM, 20, seed=43)
    with cluster.connect() as conn:
        load(conn, "cancel", np.arange(len(data)), data)
        conn.execute("SET statement_timeout = '300ms'")
        with pytest.raises(psycopg.errors.QueryCanceled):
            conn.execute("CREATE INDEX ON cancel USING hnsw (v)")
        conn.execute("RESET statement_timeout")
        assert conn.execute("SELECT count(*) FROM pg_indexes WHERE tablename = 'cancel' AND indexdef LIKE '%hnsw%'").fetchone()[0] == 0
        assert conn.execute("SELECT 1").fetchone()[0] == 1
        conn.execute("DROP TABLE cancel")


def test_build_reports_progress(cluster):
    """pg_stat_progress_create_index shows the build's phases, as another
    session sees them, with tuples_done counting up to tuples_total."""
    import threading
    import time

    data = clustered(30000, DIM, 20, seed=44)
    with cluster.connect() as conn:
        load(conn, "progress", np.arange(len(data)), data)
    seen, done = [], threading.Event()

    def watch():
        with cluster.connect() as w:
            while not done.is_set():
                row = w.execute("SELECT phase, tuples_done, tuples_total FROM pg_stat_progress_create_index "
                                "WHERE relid = 'progress'::regclass").fetchone()
                if row:
                    seen.append(row)
                time.sleep(0.005)

    t = threading.Thread(target=watch)
    t.start()
    try:
        with cluster.connect() as conn:
            time.sleep(0.2)
            conn.execute("CREATE INDEX ON progress USING hnsw (v)")
    finally:
        done.set()
        t.join()
    phases = [p for p, _, _ in seen]
    print(f"{len(seen)} samples; phases: {sorted(set(phases))}")
    graph = [(d, total) for p, d, total in seen if p == "building index: building graph"]
    assert graph, f"the graph phase was never seen: {sorted(set(phases))}"
    assert all(total == len(data) for _, total in graph), graph[:5]
    assert all(0 <= d <= total for d, total in graph)
    assert [d for d, _ in graph] == sorted(d for d, _ in graph), "tuples_done went backwards"
    assert len({d for d, _ in graph}) >= 2, f"tuples_done never moved: {graph[:5]}"
    order = {"building index: loading tuples": 0, "building index: building graph": 1,
             "building index: writing pages": 2}
    ranks = [order[p] for p in phases if p in order]
    assert ranks == sorted(ranks), "phases out of order"
    with cluster.connect() as conn:
        conn.execute("DROP TABLE progress")
