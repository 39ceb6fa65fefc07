"""Loading vectors into tables, querying them and driving pgbench, for the
server tests."""
import re
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from pgvector.psycopg import register_vector

from harness import PG_BIN

OPS = {
    "l2": ("<->", "vector_l2_ops"),
    "ip": ("<#>", "vector_ip_ops"),
    "cosine": ("<=>", "vector_cosine_ops"),
    "l1": ("<+>", "vector_l1_ops"),
}


def load(conn, table, ids, data, create=True):
    """COPY BINARY `data` rows with `ids` into `table(id int, v vector(dim))`."""
    register_vector(conn)
    if create:
        conn.execute(f"DROP TABLE IF EXISTS {table}")
        conn.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, v vector({data.shape[1]}))")
    with conn.cursor().copy(f"COPY {table} (id, v) FROM STDIN WITH (FORMAT BINARY)") as copy:
        copy.set_types(["int4", "vector"])
        for i, row in zip(ids, data):
            copy.write_row((int(i), row))


def knn(conn, table, queries, metric, k=10, ef_search=None, index=True, probes=None):
    """Top-k ids for each query through SQL (index scan or seq scan);
    `ef_search` sets hnsw's, `probes` ivfflat's."""
    register_vector(conn)
    op = OPS[metric][0]
    with conn.transaction():
        if ef_search:
            conn.execute(f"SET LOCAL hnsw.ef_search = {ef_search}")
        if probes:
            conn.execute(f"SET LOCAL ivfflat.probes = {probes}")
        conn.execute(f"SET LOCAL enable_indexscan = {'on' if index else 'off'}")
        conn.execute(f"SET LOCAL enable_seqscan = {'off' if index else 'on'}")
        cur = conn.cursor()
        out = []
        for q in queries:
            # prepare=False: a statement psycopg prepared earlier would keep
            # its cached plan and ignore the enable_* settings above.
            cur.execute(
                f"SELECT id FROM {table} ORDER BY v {op} %s LIMIT {k}",
                (np.asarray(q, dtype=np.float32),),
                prepare=False,
            )
            out.append([r[0] for r in cur.fetchall()])
    return out


def uses_index(conn, table, metric, dim):
    """Whether the planner picks an index for an ORDER BY ... LIMIT query."""
    op = OPS[metric][0]
    q = "[" + ",".join(["0.5"] * dim) + "]"
    plan = "\n".join(r[0] for r in conn.execute(f"EXPLAIN SELECT id FROM {table} ORDER BY v {op} '{q}' LIMIT 10"))
    return "Index Scan" in plan


def pgbench(cluster, scripts, clients, seconds=None, transactions=None):
    """Runs pgbench against `cluster` with `scripts` ({sql: weight}) for
    `seconds`, or `transactions` per client, and returns the transactions
    processed; fails the test if pgbench fails or any
    transaction does."""
    length = ["-T", str(seconds)] if seconds else ["-t", str(transactions)]
    with tempfile.TemporaryDirectory() as d:
        args = []
        for i, (sql, weight) in enumerate(scripts.items()):
            path = Path(d, f"script{i}.sql")
            path.write_text(sql)
            args += ["-f", f"{path}@{weight}"]
        Path(d).chmod(0o755)
        out = subprocess.run(
            [str(PG_BIN / "pgbench"), "-n", "-h", str(cluster.sock), "-p", str(cluster.port),
             "-U", "postgres", "-c", str(clients), "-j", "2", *length, *args, "postgres"],
            capture_output=True, text=True,
        )
    print(out.stdout[-1500:])
    assert out.returncode == 0, out.stderr[-3000:]
    processed = int(re.search(r"number of transactions actually processed: (\d+)", out.stdout).group(1))
    failed = re.search(r"number of failed transactions: (\d+)", out.stdout)
    assert failed is None or int(failed.group(1)) == 0, failed.group(0)
    return processed


def crash_during_inserts(cluster, table, data, first, want, writers=4):
    """Inserts rows `first`.. of `data` into `table` (id, v) from `writers`
    sessions, one transaction a row, and kill -9s the server once `want`
    have committed (or after 60 s). Returns the ids that committed and the
    errors the writers met (the crash cuts their connections)."""
    committed, stop, errors = [], threading.Event(), []

    def writer(worker):
        """Inserts its share of the rows, recording those that committed."""
        try:
            with cluster.connect() as conn:
                register_vector(conn)
                for i in range(first + worker, len(data), writers):
                    if stop.is_set():
                        return
                    conn.execute(f"INSERT INTO {table} VALUES (%s, %s)", (i, data[i]))
                    committed.append(i)
        except Exception as e:  # the crash cuts connections: expected
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(writers)]
    for t in threads:
        t.start()
    deadline = time.time() + 60
    while len(committed) < want and time.time() < deadline:
        time.sleep(0.05)
    cluster.crash()
    stop.set()
    for t in threads:
        t.join()
    assert len(committed) >= want, f"only {len(committed)} inserts before the crash: {errors[:1]}"
    return committed, errors


def reachable_rows(conn, table, query, n, metric="l2"):
    """Rows a scan of `table`'s index returns when it may read every element
    it can reach (an iterative scan with no bound, `n` + 1 rows asked for)."""
    with conn.transaction():
        conn.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
        conn.execute(f"SET LOCAL hnsw.max_scan_tuples = {10 * n}")
        conn.execute("SET LOCAL hnsw.scan_mem_multiplier = 1000")
        conn.execute("SET LOCAL enable_seqscan = off")
        rows = conn.execute(
            f"SELECT id FROM {table} ORDER BY v {OPS[metric][0]} %s LIMIT {n + 1}",
            (np.asarray(query, dtype=np.float32),), prepare=False).fetchall()
    return {r[0] for r in rows}
