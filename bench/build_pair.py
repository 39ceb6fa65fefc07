"""Build time of pgvision's hnsw against pgvector's, in alternating REINDEXes.

Issue 23's build target, measured the way the issue does: both engines on
tables `bench/run.sh --against-pgvector` loaded (the same data), m 16,
ef_construction 64, `max_parallel_maintenance_workers` set in the session
(default 1: pgvector builds with the leader and one worker, pgvision with
two rayon threads), REINDEX in alternation (pgvision, pgvector, pgvector,
pgvision, ...) so that both meet the same load on a shared host; the
median per engine counts. After each build, recall@10 at ef_search 40 over
the dataset's queries shows that a faster build kept its graph.
`--mwm` sets maintenance_work_mem (e.g. `8MB`) to time a build that spills.
`--spill-pairs` times pgvision alone: a build at `--mwm` (one that spills)
against one at `--in-memory-mwm` (2GB), alternating (spilled, in memory, in
memory, spilled, ...), with the ratio per pair and recall after each build
at every `--ef` given.

    # the clusters bench/run.sh --against-pgvector started (hnsw_bench.py's defaults)
    .pgvision/benchenv/bin/python bench/build_pair.py --dataset resnetlike-960-50k [--rounds 3] [--load]
    .pgvision/benchenv/bin/python bench/build_pair.py --dataset clustered-128-100k --only pgvision --mwm 16MB
    .pgvision/benchenv/bin/python bench/build_pair.py --dataset clustered-128-100k --spill-pairs --mwm 20MB --rounds 4 --ef 20 40
"""
import argparse
import os
import statistics
import time

import hnsw_bench as hb


def rebuild(conn, mwm, workers, others=()):
    """Wall seconds of one REINDEX after a CHECKPOINT of its cluster and of
    the `others` connections' clusters (so that no engine's build overlaps
    the write-back of the other's last one: pgvector's build leaves its
    index in dirty shared buffers, pgvision's syncs its files)."""
    conn.execute(f"SET max_parallel_maintenance_workers = {workers}")
    conn.execute(f"SET maintenance_work_mem = '{mwm}'")
    for c in (conn, *others):
        c.execute("CHECKPOINT")
    t = time.perf_counter()
    conn.execute("REINDEX INDEX items_embedding_idx")
    return time.perf_counter() - t


def recall(conn, engine, op, dim, queries, tids, ef):
    """recall@10 at `ef` over `queries`."""
    conn.execute(f"SET hnsw.ef_search = {ef}")
    results, _, _, _ = hb.run_queries(conn, hb.search_sql(engine, op, dim), queries)
    return hb.recall_at_k(results, tids)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", choices=list(hb.DATASETS), required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--mwm", default="2GB", help="maintenance_work_mem of the builds")
    ap.add_argument("--ef", type=int, nargs="+", default=[40],
                    help="ef_search of the recall check (several: a recall at each)")
    ap.add_argument("--spill-pairs", action="store_true",
                    help="pgvision only: builds at --mwm against builds at --in-memory-mwm")
    ap.add_argument("--in-memory-mwm", default="2GB",
                    help="maintenance_work_mem of the in-memory builds of --spill-pairs")
    ap.add_argument("--only", choices=["pgvision", "pgvector"])
    ap.add_argument("--load", action="store_true",
                    help="first load the table and build the index anew on each engine")
    a = ap.parse_args()
    op, metric = hb.OPCLASSES["vector_l2_ops"]
    data, queries, tids, _ = hb.load_dataset(a.dataset, metric)
    dim = data.shape[1]
    if a.spill_pairs:
        spill_pairs(a, op, dim, data, queries, tids)
        return
    engines = [a.only] if a.only else ["pgvision", "pgvector"]
    conns = {e: hb.connect(a.dataset, fresh=a.load, engine=e) for e in engines}
    if a.load:
        for e, conn in conns.items():
            hb.load_table(conn, data)
            conn.execute(f"SET max_parallel_maintenance_workers = {a.workers}")
            hb.build_index(conn, "vector_l2_ops", e, dim)
    if "pgvector" in conns:
        print("pgvector: " + hb.pgvector_identity())
    print(f"{a.dataset}: maintenance_work_mem {a.mwm}, max_parallel_maintenance_workers "
          f"{a.workers}, load average {os.getloadavg()[0]:.2f}")
    builds = {e: [] for e in engines}
    recalls = {e: [] for e in engines}
    for r in range(a.rounds):
        for e in (engines if r % 2 == 0 else engines[::-1]):
            others = [c for f, c in conns.items() if f != e]
            builds[e].append(rebuild(conns[e], a.mwm, a.workers, others))
            recalls[e].append(recall(conns[e], e, op, dim, queries, tids, a.ef[0]))
            print(f"  round {r}: {e} {builds[e][-1]:.2f} s, recall@10 {recalls[e][-1]:.4f} "
                  f"at ef_search {a.ef[0]} (load {os.getloadavg()[0]:.2f})", flush=True)
    med = {e: statistics.median(builds[e]) for e in engines}
    for e in engines:
        print(f"{e}: median {med[e]:.2f} s, recall@10 mean {statistics.mean(recalls[e]):.4f}")
    if len(engines) == 2:
        ratios = [a_ / b_ for a_, b_ in zip(builds["pgvision"], builds["pgvector"])]
        print(f"ratio pgvision/pgvector: median build {med['pgvision'] / med['pgvector']:.2f}, "
              f"per round {', '.join(f'{x:.2f}' for x in ratios)}")


def spill_pairs(a, op, dim, data, queries, tids):
    """pgvision builds at `a.mwm` against builds at `a.in_memory_mwm`, in
    alternation; prints each build, the ratio per pair and recall at each
    of `a.ef`."""
    conn = hb.connect(a.dataset, fresh=a.load, engine="pgvision")
    if a.load:
        hb.load_table(conn, data)
        conn.execute(f"SET maintenance_work_mem = '{a.in_memory_mwm}'")
        hb.build_index(conn, "vector_l2_ops", "pgvision", dim)
    kinds = {"spilled": a.mwm, "in memory": a.in_memory_mwm}
    print(f"{a.dataset}: pgvision spilled ({a.mwm}) against in memory ({a.in_memory_mwm}), "
          f"max_parallel_maintenance_workers {a.workers}, load average {os.getloadavg()[0]:.2f}")
    builds = {k: [] for k in kinds}
    recalls = {k: {ef: [] for ef in a.ef} for k in kinds}
    for r in range(a.rounds):
        for k in (list(kinds) if r % 2 == 0 else list(kinds)[::-1]):
            builds[k].append(rebuild(conn, kinds[k], a.workers))
            load = os.getloadavg()[0]
            got = []
            for ef in a.ef:
                recalls[k][ef].append(recall(conn, "pgvision", op, dim, queries, tids, ef))
                got.append(f"{recalls[k][ef][-1]:.4f} at ef_search {ef}")
            print(f"  pair {r}: {k} {builds[k][-1]:.2f} s (load {load:.2f}), recall@10 "
                  + ", ".join(got), flush=True)
    ratios = [s / m for s, m in zip(builds["spilled"], builds["in memory"])]
    print(f"spilled / in memory per pair: {', '.join(f'{x:.2f}' for x in ratios)}; "
          f"median {statistics.median(ratios):.2f}")
    for ef in a.ef:
        loss = [m - s for s, m in zip(recalls["spilled"][ef], recalls["in memory"][ef])]
        print(f"recall@10 at ef_search {ef}: spilled mean {statistics.mean(recalls['spilled'][ef]):.4f}, "
              f"in memory {statistics.mean(recalls['in memory'][ef]):.4f}; loss per pair "
              f"{', '.join(f'{x:+.4f}' for x in loss)}")


if __name__ == "__main__":
    main()
