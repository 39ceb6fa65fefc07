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
    data = clustered(6000, 32, 40, seed=41)
    queries = clustered(40, 32, 40, seed=42)
    want = exact_topk(data, np.arange(len(data)), queries, "l2")
    notices = []
    with cluster.connect() as conn:
        conn.add_notice_handler(lambda d: notices.append(d.message_primary))
        load(conn, "spill", np.arange(len(data)), data)
        conn.execute("CREATE INDEX spill_idx ON spill USING hnsw (v)")
        in_memory = recall(knn(conn, "spill", queries, "l2", ef_search=200), want)
        assert not any("maintenance_work_mem" in n for n in notices), notices
        conn.execute("DROP INDEX spill_idx")
        conn.execute("SET maintenance_work_mem = '1MB'")
        conn.execute("CREATE INDEX spill_idx ON spill USING hnsw (v)")
        assert any("no longer fits into maintenance_work_mem" in n for n in notices), notices
        spilled = recall(knn(conn, "spill", queries, "l2", ef_search=200), want)
        print(f"recall at ef_search 200: in-memory build {in_memory:.4f}, spilled build {spilled:.4f}")
        # Spilling (on-disk inserts after the first ~2,000 rows) costs little
        # quality (measured 0.965-0.978 against 0.98-0.99 in memory).
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
