#!/usr/bin/env python3
"""SQL-level benchmark of pgvision's ivfflat index (issue 21), next to
pgvector's ivfflat and pgvision's own hnsw, on hnsw_bench.py's datasets,
tables and client loop (imported, not copied).

For each dataset: the items table (loaded as hnsw_bench.py loads it, or
reused when it holds the same rows), CREATE INDEX ... USING ivfflat with
lists = rows / 1000, timed, and its size; then recall@10 and queries/s for
a sweep of ivfflat.probes (single client, prepared statement, one warm-up
pass). With --hnsw also pgvision's hnsw (m = 16, ef_construction = 64) on
the same table and a sweep of ef_search, so a user can choose. With
--against-pgvector the same ivfflat steps run on pgvector's cluster
(bench/pgvector.sh; a halfvec expression index where pgvector cannot index
the vector column, as issue 3's reference did). Run through
`bench/run.sh --ivfflat [options]`.
"""
import argparse
import os
import statistics
import time

import hnsw_bench as hb

PROBES = (1, 2, 4, 8, 16, 32, 64)
TARGETS = (0.9, 0.95)


def table_ready(conn, data):
    """Whether items holds exactly `data`'s rows (then it is reused)."""
    if not conn.execute("SELECT 1 FROM pg_class WHERE relname = 'items'").fetchone():
        return False
    n, dim = data.shape
    got = conn.execute("SELECT count(*), max(vector_dims(embedding)) FROM items").fetchone()
    return tuple(got) == (n, dim)


def halfvec_index(engine, dim, halfvec):
    """Whether the index is on `embedding::halfvec(dim)`: pgvector's only
    way past 2,000 dimensions, and pgvision's with --halfvec (half-float
    lists, half the size)."""
    return hb.halfvec_workaround(engine, dim) or (halfvec and dim > hb.PGVECTOR_HNSW_MAX_DIM)


def key_opclass_sql(engine, opclass, dim, halfvec):
    """The indexed key, its operator class and the timed query."""
    op = hb.OPCLASSES[opclass][0]
    if halfvec_index(engine, dim, halfvec):
        key = f"(embedding::halfvec({dim}))"
        return (key, opclass.replace("vector_", "halfvec_", 1),
                f"SELECT id FROM items ORDER BY {key} {op} %b::halfvec({dim}) LIMIT {hb.K}")
    return "embedding", opclass, f"SELECT id FROM items ORDER BY embedding {op} %b LIMIT {hb.K}"


def build(conn, am, key, opclass, with_clause):
    """Drops and builds items_embedding_idx; (seconds, MiB)."""
    conn.execute("SET client_min_messages = warning")
    conn.execute("DROP INDEX IF EXISTS items_embedding_idx")
    conn.execute("RESET client_min_messages")
    conn.execute("CHECKPOINT")
    t = time.perf_counter()
    conn.execute(f"CREATE INDEX items_embedding_idx ON items USING {am} ({key} {opclass}) WITH ({with_clause})")
    secs = time.perf_counter() - t
    size = conn.execute("SELECT pg_relation_size('items_embedding_idx')").fetchone()[0] / 2**20
    return secs, size


def sweep(conn, sql, queries, tids, setting, values, repeat):
    """(value, recall, queries/s) for each value of `setting`."""
    rows = []
    for v in values:
        conn.execute(f"SET {setting} = {v}")
        hb.run_queries(conn, sql, queries)                       # warm-up
        passes = sorted((hb.run_queries(conn, sql, queries) for _ in range(repeat)), key=lambda p: p[1])
        results, secs, _, _ = passes[len(passes) // 2]
        rec = hb.recall_at_k(results, tids)
        rows.append((v, rec, len(queries) / secs))
        print(f"  {setting} {v:4d}: recall@10 {rec:.4f}  {len(queries) / secs:8.1f} queries/s")
    conn.execute(f"RESET {setting}")
    return rows


def run(dataset, opclass, engine, n_queries, repeat, with_hnsw, halfvec, storage=None):
    _, metric = hb.OPCLASSES[opclass]
    data, queries, tids, _ = hb.load_dataset(dataset, metric)
    queries, tids = queries[:n_queries], tids[:n_queries]
    n, dim = data.shape
    lists = max(1, n // 1000)
    key, ops, sql = key_opclass_sql(engine, opclass, dim, halfvec)
    print(f"\n=== {engine}: {dataset}, ivfflat ({key} {ops}), "
          f"lists = {lists}, {len(queries)} queries; load average {os.getloadavg()[0]:.2f}")
    conn = hb.connect(dataset, engine=engine)
    if table_ready(conn, data):
        hb.check_table(conn, data)
        print("  reusing table items")
    else:
        conn.execute("DROP TABLE IF EXISTS items")
        hb.load_table(conn, data)
    out = {"engine": engine, "dataset": dataset, "key": f"{key} {ops}"}
    with_clause = f"lists = {lists}" + (f", storage = '{storage}'" if storage and engine == "pgvision" else "")
    print(f"  WITH ({with_clause})")
    secs, size = build(conn, "ivfflat", key, ops, with_clause)
    print(f"  ivfflat build: {secs:.1f} s, index {size:.1f} MiB")
    probes = sorted({p for p in PROBES if p < lists} | {lists})
    rows = sweep(conn, sql, queries, tids, "ivfflat.probes", probes, repeat)
    out["ivfflat"] = dict(build_s=secs, size_mib=size, rows=rows)
    if with_hnsw:
        secs, size = build(conn, "hnsw", key, ops, f"m = {hb.M}, ef_construction = {hb.EF_CONSTRUCTION}")
        print(f"  hnsw build: {secs:.1f} s, index {size:.1f} MiB")
        rows = sweep(conn, sql, queries, tids, "hnsw.ef_search", hb.EF_SEARCH, repeat)
        out["hnsw"] = dict(build_s=secs, size_mib=size, rows=rows)
    print(f"  load average at the end: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")
    conn.close()
    return out


def summary(results):
    """One line per engine and index: build, size, queries/s at each target recall."""
    print("\n=== summary (queries/s interpolated at the target recall@10)")
    for r in results:
        for am in ("ivfflat", "hnsw"):
            if am not in r:
                continue
            x = r[am]
            at = []
            for target in TARGETS:
                qps = hb.interpolated_qps([(rec, q) for _, rec, q in x["rows"]], target)
                at.append(f"{target}: " + ("-" if qps is None else f"{qps:.0f}"))
            print(f"  {r['dataset']:20s} {r['engine']:8s} {am:7s} {r['key']:40s} build {x['build_s']:6.1f} s  "
                  f"size {x['size_mib']:6.1f} MiB  queries/s at recall " + ", ".join(at))


def paired(dataset, opclass, n_queries, rounds, halfvec, probes_list=(1, 4)):
    """Both engines' indexes (as run() left them) answer the same queries
    at the same probes in alternating rounds, pgvision first in even
    rounds; prints the median queries/s and the median of the per-round
    ratios: the fair comparison on a host whose speed varies."""
    _, metric = hb.OPCLASSES[opclass]
    data, queries, tids, _ = hb.load_dataset(dataset, metric)
    queries, tids = queries[:n_queries], tids[:n_queries]
    engines = ("pgvision", "pgvector")
    conns = {e: hb.connect(dataset, engine=e) for e in engines}
    sqls = {e: key_opclass_sql(e, opclass, data.shape[1], halfvec)[2] for e in engines}
    print(f"\n=== alternating rounds: {dataset}, {rounds} rounds; load average {os.getloadavg()[0]:.2f}")
    alternate(engines, conns, sqls, queries, tids, probes_list, rounds)
    for c in conns.values():
        c.close()


def alternate(sides, conns, sqls, queries, tids, probes_list, rounds):
    """For each probes, ROUNDS passes of `queries` through each of the two
    `sides` (its connection and statement), the first side first in even
    rounds; prints recall, median queries/s and the median of the
    per-round ratios first / second."""
    a, b = sides
    for probes in probes_list:
        qps, ratios, rec = {s: [] for s in sides}, [], {}
        for s in sides:
            conns[s].execute(f"SET ivfflat.probes = {probes}")
            hb.run_queries(conns[s], sqls[s], queries)                # warm-up
        for r in range(rounds):
            got = {}
            for s in (sides if r % 2 == 0 else sides[::-1]):
                results, secs, _, _ = hb.run_queries(conns[s], sqls[s], queries)
                rec[s], got[s] = hb.recall_at_k(results, tids), len(queries) / secs
                qps[s].append(got[s])
            ratios.append(got[a] / got[b])
        print(f"  probes {probes}: recall@10 {rec[a]:.3f} / {rec[b]:.3f}, queries/s "
              f"{statistics.median(qps[a]):.0f} / {statistics.median(qps[b]):.0f} "
              f"({a} / {b}), per-round ratio median {statistics.median(ratios):.2f} "
              f"(min {min(ratios):.2f}, max {max(ratios):.2f}); load average {os.getloadavg()[0]:.2f}")


def storage_pair(dataset, opclass, n_queries, rounds, halfvec, probes_list):
    """pgvision's two list storages side by side: items (as run() left it,
    its index dropped) and a copy, items_b, each with an ivfflat index, one
    `storage = 'exact'`, the other `'i8'`; builds alternate (exact, i8,
    i8, exact, ...), then query passes alternate at each probes. Prints
    the medians and the median per-round ratio i8 / exact: before against
    after on one server, whatever else the host runs."""
    _, metric = hb.OPCLASSES[opclass]
    data, queries, tids, _ = hb.load_dataset(dataset, metric)
    queries, tids = queries[:n_queries], tids[:n_queries]
    n, dim = data.shape
    lists = max(1, n // 1000)
    key, ops, sql = key_opclass_sql("pgvision", opclass, dim, halfvec)
    conn = hb.connect(dataset, engine="pgvision")
    conn.execute("SET client_min_messages = warning")
    conn.execute("DROP INDEX IF EXISTS items_embedding_idx")
    conn.execute("DROP TABLE IF EXISTS items_b")
    conn.execute("CREATE TABLE items_b AS TABLE items")
    conn.execute("VACUUM ANALYZE items_b")
    conn.execute("RESET client_min_messages")
    tables = {"exact": "items", "i8": "items_b"}
    print(f"\n=== exact against i8 lists: {dataset}, {rounds} rounds; load average {os.getloadavg()[0]:.2f}")
    builds, sizes = {s: [] for s in tables}, {}
    for r in range(max(2, rounds // 2)):
        for st in (("exact", "i8") if r % 2 == 0 else ("i8", "exact")):
            t = tables[st]
            conn.execute(f"DROP INDEX IF EXISTS {t}_idx")
            conn.execute("CHECKPOINT")
            t0 = time.perf_counter()
            conn.execute(f"CREATE INDEX {t}_idx ON {t} USING ivfflat ({key} {ops}) "
                         f"WITH (lists = {lists}, storage = '{st}')")
            builds[st].append(time.perf_counter() - t0)
            sizes[st] = conn.execute(f"SELECT pg_relation_size('{t}_idx')").fetchone()[0] / 2**20
    ratios = [b / a for a, b in zip(builds["exact"], builds["i8"])]
    print(f"  build: exact {statistics.median(builds['exact']):.2f} s, i8 {statistics.median(builds['i8']):.2f} s, "
          f"per-round ratio i8/exact median {statistics.median(ratios):.2f}; size exact {sizes['exact']:.1f} MiB, "
          f"i8 {sizes['i8']:.1f} MiB")
    sqls = {st: sql.replace("FROM items ", f"FROM {t} ") for st, t in tables.items()}
    alternate(("i8", "exact"), {st: conn for st in tables}, sqls, queries, tids, probes_list, rounds)
    conn.execute("DROP TABLE items_b")
    conn.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", choices=list(hb.DATASETS), action="append",
                    help="default: clustered-128-100k and resnetlike-2048-20k")
    ap.add_argument("--opclass", choices=list(hb.OPCLASSES), default="vector_l2_ops")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--hnsw", action="store_true", help="also pgvision's hnsw on the same table")
    ap.add_argument("--against-pgvector", action="store_true")
    ap.add_argument("--halfvec", action="store_true",
                    help="pgvision indexes embedding::halfvec(D) too where D > 2000, as pgvector must")
    ap.add_argument("--paired", type=int, default=0, metavar="ROUNDS",
                    help="with --against-pgvector: then ROUNDS alternating rounds at probes 1 and 4")
    ap.add_argument("--paired-probes", type=int, nargs="+", default=[1, 4], metavar="P",
                    help="the probes of the alternating rounds")
    ap.add_argument("--storage-pair", type=int, default=0, metavar="ROUNDS",
                    help="then pgvision's exact and i8 lists in ROUNDS alternating rounds (--paired-probes)")
    ap.add_argument("--storage", choices=["exact", "i8"],
                    help="pgvision's ivfflat storage option (default: unset, the build's choice)")
    a = ap.parse_args()
    datasets = a.dataset or ["clustered-128-100k", "resnetlike-2048-20k"]
    results = []
    for d in datasets:
        results.append(run(d, a.opclass, "pgvision", a.queries, a.repeat, a.hnsw, a.halfvec, a.storage))
        if a.against_pgvector:
            results.append(run(d, a.opclass, "pgvector", a.queries, a.repeat, False, True))
            if a.paired:
                paired(d, a.opclass, a.queries, a.paired, a.halfvec, a.paired_probes)
        if a.storage_pair:
            storage_pair(d, a.opclass, a.queries, a.storage_pair, a.halfvec, a.paired_probes)
    summary(results)


if __name__ == "__main__":
    main()
