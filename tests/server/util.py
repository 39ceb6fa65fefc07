"""Loading vectors into tables and querying them, for the server tests."""
import numpy as np
from pgvector.psycopg import register_vector

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


def knn(conn, table, queries, metric, k=10, ef_search=None, index=True):
    """Top-k ids for each query through SQL (index scan or seq scan)."""
    register_vector(conn)
    op = OPS[metric][0]
    with conn.transaction():
        if ef_search:
            conn.execute(f"SET LOCAL hnsw.ef_search = {ef_search}")
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
    """Whether the planner picks the hnsw index for an ORDER BY ... LIMIT query."""
    op = OPS[metric][0]
    q = "[" + ",".join(["0.5"] * dim) + "]"
    plan = "\n".join(r[0] for r in conn.execute(f"EXPLAIN SELECT id FROM {table} ORDER BY v {op} '{q}' LIMIT 10"))
    return "Index Scan" in plan
