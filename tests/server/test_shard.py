"""Sharding with PostgreSQL's own tools (scripts/shard.sh): a table hash-
partitioned over three pgvision servers through postgres_fdw, on 127.0.0.1
ports. The coordinator's `ORDER BY embedding <-> $1 LIMIT 10` ships the
ordering to every shard's hnsw index and returns exactly the global top 10
of the shards' index answers; a shard that is down is an ERROR, never a
partial answer."""
import os
import re
import subprocess
import time

import numpy as np
import psycopg
import pytest
from conftest import STATE
from datasets import clustered
from harness import Cluster

DIM, ROWS, K = 32, 6000, 10
ROOT = STATE.parents[1]
BASE = int(os.environ.get("PGV_TEST_PORT", "54360")) + 20


def tcp_cluster(name, port):
    """A throwaway cluster listening on 127.0.0.1:port (and its socket)."""
    return Cluster(STATE / name, port).init(
        "listen_addresses = '127.0.0.1'\nshared_buffers = 128MB\nmax_connections = 40\n").start()


def tcp(port, db="postgres"):
    """libpq conninfo over TCP to 127.0.0.1:port."""
    return f"host=127.0.0.1 port={port} user=postgres dbname={db}"


@pytest.fixture(scope="module")
def sharded():
    """Three shards and a coordinator; `images` sharded over them by
    scripts/shard.sh and loaded through the coordinator."""
    shards = [tcp_cluster(f"shard{i}", BASE + 1 + i) for i in range(3)]
    coordinator = tcp_cluster("coordinator", BASE)
    try:
        subprocess.run(["bash", str(ROOT / "scripts/shard.sh"), "--coordinator", tcp(BASE),
                        *sum((["--shard", tcp(BASE + 1 + i)] for i in range(3)), []),
                        "--table", "images", "--dims", str(DIM)], check=True, capture_output=True, text=True)
        # Search settings live on the shards: postgres_fdw's sessions do not
        # carry the coordinator's SETs.
        for s in shards:
            with s.connect() as conn:
                conn.execute("SELECT '[1]'::vector")
                conn.execute("ALTER DATABASE postgres SET hnsw.ef_search = 100")
        data = clustered(ROWS, DIM, 12, seed=31)
        with coordinator.connect() as conn:
            with conn.cursor() as cur:
                cur.executemany("INSERT INTO images (id, name, embedding) VALUES (%s, %s, %s::vector)",
                                [(i, f"img{i}", str(data[i].tolist())) for i in range(ROWS)])
        yield coordinator, shards, data
    finally:
        for c in (coordinator, *shards):
            c.stop()


def vec(v):
    """A vector literal."""
    return str([float(x) for x in v])


def test_rows_reach_their_shards(sharded):
    coordinator, shards, _ = sharded
    counts = []
    for i, s in enumerate(shards):
        with s.connect() as conn:
            counts.append(conn.execute(f"SELECT count(*) FROM images_s{i}").fetchone()[0])
    assert sum(counts) == ROWS and min(counts) > ROWS // 5, counts
    with coordinator.connect() as conn:
        assert conn.execute("SELECT count(*) FROM images").fetchone()[0] == ROWS


def test_coordinator_returns_the_global_top_k_of_the_shards_indexes(sharded):
    coordinator, shards, data = sharded
    queries = clustered(20, DIM, 12, seed=32)
    sql = "SELECT id FROM images ORDER BY embedding <-> %s::vector LIMIT 10"
    with coordinator.connect() as conn:
        plan = "\n".join(r[0] for r in conn.execute("EXPLAIN (VERBOSE, COSTS OFF) " + sql, (vec(queries[0]),)))
        remote = re.findall(r"Remote SQL: (.*)", plan)
        assert len(remote) == 3, plan
        assert all("ORDER BY" in r and "<->" in r for r in remote), plan
        before = [idx_scans(s, i) for i, s in enumerate(shards)]
        got = [[r[0] for r in conn.execute(sql, (vec(q),))] for q in queries]
    # The shards' sessions for the coordinator publish their statistics
    # when they end (the coordinator's connection is closed now) or idle.
    deadline = time.monotonic() + 30
    while True:
        after = [idx_scans(s, i) for i, s in enumerate(shards)]
        if all(a >= b + len(queries) for a, b in zip(after, before)):
            break
        assert time.monotonic() < deadline, (before, after)
        time.sleep(0.5)
    hits = 0
    for q, ids in zip(queries, got):
        # The shards' own index answers, merged by distance.
        union = []
        for i, s in enumerate(shards):
            with s.connect() as conn:
                union += conn.execute(
                    f"SELECT embedding <-> %s::vector, id FROM images_s{i} ORDER BY embedding <-> %s::vector LIMIT 10",
                    (vec(q), vec(q))).fetchall()
        assert ids == [i for _, i in sorted(union)[:K]]
        exact = np.argsort(((data - q) ** 2).sum(axis=1), kind="stable")[:K]
        hits += len(set(ids) & set(exact.tolist()))
    recall = hits / (K * len(queries))
    assert recall >= 0.95, recall


def test_a_limit_past_the_fetch_size_takes_more_round_trips_and_stays_exact(sharded):
    # shard.sh fetches 20 rows a round trip: a LIMIT of 50 needs several
    # FETCHes from a shard, and the merged answer must still be the global
    # top 50 of the shards' own answers (ef_search 100 on the shards).
    coordinator, shards, data = sharded
    with coordinator.connect() as conn:
        options = conn.execute("SELECT srvname, srvoptions FROM pg_foreign_server ORDER BY 1").fetchall()
        assert [n for n, _ in options] == ["images_shard0", "images_shard1", "images_shard2"]
        assert all("fetch_size=20" in o for _, o in options), options
        q = clustered(1, DIM, 12, seed=33)[0]
        got = [r[0] for r in conn.execute("SELECT id FROM images ORDER BY embedding <-> %s::vector LIMIT 50", (vec(q),))]
    union = []
    for i, s in enumerate(shards):
        with s.connect() as conn:
            union += conn.execute(
                f"SELECT embedding <-> %s::vector, id FROM images_s{i} ORDER BY embedding <-> %s::vector LIMIT 50",
                (vec(q), vec(q))).fetchall()
    assert got == [i for _, i in sorted(union)[:50]]


def idx_scans(cluster, i):
    """Index scans of shard i's hnsw index so far (statistics flushed first)."""
    with cluster.connect() as conn:
        conn.execute("SELECT pg_stat_force_next_flush()")
        return conn.execute("SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = %s",
                            (f"images_s{i}_embedding_idx",)).fetchone()[0]


def test_a_shard_that_is_down_is_an_error(sharded):
    coordinator, shards, data = sharded
    shards[1].stop()
    try:
        with coordinator.connect() as conn:
            with pytest.raises(psycopg.Error) as e:
                conn.execute("SELECT id FROM images ORDER BY embedding <-> %s::vector LIMIT 10",
                             (vec(data[0]),)).fetchall()
            assert "images_shard1" in str(e.value) or "connect" in str(e.value), e.value
            assert not conn.broken
    finally:
        shards[1].start()


def test_image_embed_ships_to_the_shards(sharded):
    """The explicit-model image_embed is IMMUTABLE: with the image known at
    planning, the coordinator computes the query vector once and ships it
    as a constant; left as a parameter, it ships the call (pgvision is in
    the servers' `extensions`). Either way the shards order by it, and the
    answer is the merge of the shards' own answers."""
    coordinator, shards, _ = sharded
    subprocess.run(["bash", str(ROOT / "scripts/shard.sh"), "--coordinator", tcp(BASE),
                    *sum((["--shard", tcp(BASE + 1 + i)] for i in range(3)), []),
                    "--table", "thumbs", "--dims", "16"], check=True, capture_output=True, text=True)
    from PIL import Image
    import io

    def png(i):
        b = io.BytesIO()
        Image.new("RGB", (24, 24), ((i * 37) % 256, (i * 91) % 256, (i * 13) % 256)).save(b, "PNG")
        return b.getvalue()

    with coordinator.connect() as conn:
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO thumbs VALUES (%s, %s, image_embed(%s, 'tiny16'))",
                            [(i, f"t{i}", png(i)) for i in range(300)])
        sql = "SELECT id FROM thumbs ORDER BY embedding <-> image_embed(%s, 'tiny16') LIMIT 5"
        plan = "\n".join(r[0] for r in conn.execute("EXPLAIN (VERBOSE, COSTS OFF) " + sql, (png(7),)))
        remote = re.findall(r"Remote SQL: (.*)", plan)
        assert len(remote) == 3, plan
        assert all("<->" in r and ("image_embed" in r or "'[" in r) for r in remote), plan
        got = [r[0] for r in conn.execute(sql, (png(7),))]
    union = []
    for i, s in enumerate(shards):
        with s.connect() as conn:
            union += conn.execute(
                f"SELECT embedding <-> image_embed(%s, 'tiny16'), id FROM thumbs_s{i} "
                "ORDER BY 1 LIMIT 5", (png(7),)).fetchall()
    assert got == [i for _, i in sorted(union)[:5]]
    assert got[0] == 7
