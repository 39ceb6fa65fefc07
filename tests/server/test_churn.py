"""Update churn: vacuum frees the slots of deleted elements and inserts reuse
them, so an index whose rows are rewritten again and again stops growing,
keeps its recall, and stays correct while scans, updates and vacuum run at
the same time."""
import threading
import time

import numpy as np
from datasets import clustered, exact_topk, recall
from pgvector.psycopg import register_vector
from util import knn, load, pgbench

N, DIM, ROUNDS, SHARE = 4000, 64, 6, 0.3


def index_pages(conn, name):
    return conn.execute(f"SELECT pg_relation_size('{name}') / 8192").fetchone()[0]


def table_rows(conn, table):
    """(ids, vectors) of every row, in id order."""
    register_vector(conn)
    rows = conn.execute(f"SELECT id, v FROM {table} ORDER BY id").fetchall()
    return np.array([r[0] for r in rows]), np.vstack([r[1].to_numpy() for r in rows])


def test_updates_reuse_freed_slots(cluster):
    data = clustered(N * (ROUNDS + 1) + 50, DIM, 40, seed=11)
    queries = data[-50:]
    rng = np.random.default_rng(12)
    print("\nseed 12")
    with cluster.connect() as conn:
        load(conn, "churn", np.arange(N), data[:N])
        conn.execute("CREATE INDEX churn_idx ON churn USING hnsw (v)")
        sizes = [index_pages(conn, "churn_idx")]
        fresh = N
        for _ in range(ROUNDS):
            ids = rng.choice(N, size=int(N * SHARE), replace=False)
            new = data[fresh : fresh + len(ids)]
            fresh += len(ids)
            with conn.cursor() as cur:
                cur.executemany("UPDATE churn SET v = %s WHERE id = %s",
                                [(v, int(i)) for i, v in zip(ids, new)])
            conn.execute("VACUUM churn")
            sizes.append(index_pages(conn, "churn_idx"))
        print(f"index pages after build and each round: {sizes}")
        # Without reuse every round adds SHARE * N elements (+30% each time);
        # with it only the first round grows the index (the slots it frees
        # are reused by the next one).
        assert sizes[-1] <= sizes[1] * 1.1, sizes
        assert sizes[-1] <= sizes[0] * (1 + SHARE) * 1.1, sizes

        ids, vecs = table_rows(conn, "churn")
        got = knn(conn, "churn", queries, "l2")
        r = recall(got, exact_topk(vecs, ids, queries, "l2"))
        print(f"recall@10 after {ROUNDS} rounds of {SHARE:.0%} updates: {r:.4f}")
        assert r >= 0.95
        # Every row, old slot or new, is found first by its own vector.
        sample = rng.choice(len(ids), size=200, replace=False)
        firsts = knn(conn, "churn", vecs[sample], "l2", k=1, ef_search=100)
        missed = [int(ids[s]) for s, f in zip(sample, firsts) if f != [ids[s]]]
        assert len(missed) <= 1, missed
        conn.execute("SELECT pgvision_index_check('churn_idx', true)")
        conn.execute("DROP TABLE churn")


def test_concurrent_updates_queries_and_vacuum(cluster):
    data = clustered(N + 50, DIM, 40, seed=13)
    with cluster.connect() as conn:
        load(conn, "churn2", np.arange(N), data[:N])
        conn.execute("CREATE INDEX churn2_idx ON churn2 USING hnsw (v)")
    vec = f"(SELECT array_agg(random())::real[]::vector FROM generate_series(1, {DIM}))"
    stop = threading.Event()
    vacuums, errors = [0], []

    def vacuum_loop():
        """VACUUM, and the index checked (pages and rows) while updates,
        scans and the next VACUUM's relinking run beside it."""
        try:
            with cluster.connect() as conn:
                while not stop.is_set():
                    conn.execute("VACUUM churn2")
                    vacuums[0] += 1
                    conn.execute("SELECT pgvision_index_check('churn2_idx', true)")
                    time.sleep(0.5)
        except Exception as e:  # reported below: the test must not pass silently
            errors.append(e)

    t = threading.Thread(target=vacuum_loop)
    t.start()
    try:
        # Results in exact order through the executor's re-check: a slot
        # recycled under a scan must not break "index returned tuples in
        # wrong order"; LIMIT 50 makes each scan long-lived.
        processed = pgbench(cluster, {
            f"\\set id random(0, {N - 1})\nUPDATE churn2 SET v = {vec} WHERE id = :id;\n": 2,
            f"SELECT id FROM churn2 ORDER BY v <-> {vec} LIMIT 50;\n": 1,
        }, clients=4, transactions=2500)
    finally:
        stop.set()
        t.join()
    assert not errors, errors
    assert processed == 10_000 and vacuums[0] >= 5, (processed, vacuums)
    with cluster.connect() as conn:
        conn.execute("VACUUM churn2")
        ids, vecs = table_rows(conn, "churn2")
        assert len(ids) == N
        # Queries in the old clusters. Most rows now hold uniform vectors
        # far from them: the true neighbours are the old rows left and the
        # edge of the new region, which vacuum's relinking must keep
        # findable. The same rows indexed afresh give the scale.
        # Measured: 1.0 churned, 0.992-1.0 fresh; 0.16 before vacuum kept the
        # old region findable. (22,000-28,000 transactions: 0.93-0.96 churned,
        # 0.95-0.98 fresh, whose levels alone move it by 0.03.) One run of the
        # whole suite (2026-12-07) gave 0.96 churned against 1.0 fresh, not
        # reproduced in 14 runs alone (1.0 each, 8 of them beside a CPU
        # hog): possibly a few old rows left unfindable by links that inserts
        # after the last vacuum shrank away (vacuum checks findability only
        # for the lists it relinked). Open; the allowance is 0.05, and a
        # failure lists each query's hits to tell an island from scattered
        # misses.
        queries = data[N:]
        want = exact_topk(vecs, ids, queries, "l2")
        got = knn(conn, "churn2", queries, "l2", ef_search=100)
        r = recall(got, want)
        hits = [len(set(g) & set(w)) for g, w in zip(got, want)]
        conn.execute("CREATE TABLE churn2_fresh AS SELECT * FROM churn2")
        conn.execute("CREATE INDEX ON churn2_fresh USING hnsw (v)")
        fresh = recall(knn(conn, "churn2_fresh", queries, "l2", ef_search=100), want)
        pages = index_pages(conn, "churn2_idx")
        print(f"{processed} transactions, {vacuums[0]} vacuums; index {pages} pages; "
              f"recall@10 (ef_search 100) {r:.4f}, a fresh index of the same rows {fresh:.4f}")
        assert r >= fresh - 0.05, (r, fresh, hits)
        # Every row is found first by its own vector.
        sample = np.random.default_rng(14).choice(N, size=200, replace=False)
        firsts = knn(conn, "churn2", vecs[sample], "l2", k=1, ef_search=100)
        missed = [int(ids[s]) for s, f in zip(sample, firsts) if f != [ids[s]]]
        assert len(missed) <= 1, missed
        conn.execute("SELECT pgvision_index_check('churn2_idx', true)")
        conn.execute("DROP TABLE churn2, churn2_fresh")


def test_inserts_run_while_vacuum_repairs_the_graph(cluster):
    """Vacuum relinks the graph with inserts running beside it: it holds the
    update lock exclusively only for two moments (waiting for the inserts
    that began before it marked elements deleted, and moving the entry
    point), so an insert with a 300 ms lock_timeout never times out."""
    n, dim, extra = 40_000, 64, 3000
    data = clustered(n + extra, dim, 40, seed=15)
    with cluster.connect() as conn:
        load(conn, "busy", np.arange(n), data[:n])
        conn.execute("ALTER TABLE busy SET (autovacuum_enabled = off)")
        conn.execute("CREATE INDEX busy_idx ON busy USING hnsw (v)")
        conn.execute("DELETE FROM busy WHERE id % 5 = 0")
    done, errors = threading.Event(), []

    def vacuum():
        try:
            with cluster.connect() as conn:
                conn.execute("VACUUM busy")
        except Exception as e:  # reported below
            errors.append(e)
        finally:
            done.set()

    t = threading.Thread(target=vacuum)
    t.start()
    during, i = 0, n
    try:
        with cluster.connect() as conn:
            register_vector(conn)
            deadline = time.time() + 120
            while not done.is_set() and time.time() < deadline:
                phase = conn.execute("SELECT phase FROM pg_stat_progress_vacuum").fetchone()
                if phase and phase[0] == "vacuuming indexes":
                    break
                time.sleep(0.005)
            conn.execute("SET lock_timeout = '300ms'")
            while not done.is_set() and i < n + extra:
                conn.execute("INSERT INTO busy (id, v) VALUES (%s, %s)", (i, data[i]))
                i += 1
                during += not done.is_set()
    finally:
        t.join()
    assert not errors, errors
    print(f"{during} inserts while vacuum ran its index phase")
    # The repair of 8,000 deleted elements among 40,000 takes seconds: an
    # exclusive lock held through it fails the first insert that waits.
    assert during >= 50, during
    with cluster.connect() as conn:
        ids = np.arange(n, i)
        firsts = knn(conn, "busy", data[n:i], "l2", k=1, ef_search=100)
        missed = [int(x) for x, f in zip(ids, firsts) if f != [x]]
        # Measured 0.03-0.9% missed (0.4% for rows inserted with no vacuum
        # running; 0.9-1.4% before inserts relinked the lists vacuum had not
        # reached yet); rows lost to the graph would miss far more often.
        assert len(missed) <= max(1, len(ids) // 50), missed
        conn.execute("SELECT pgvision_index_check('busy_idx', true)")
        conn.execute("DROP TABLE busy")
