"""The SQL fuzzer: every function, operator, aggregate and cast pgvision owns,
called as an unprivileged role with seeded edge arguments.

The objects come from the catalogs (pg_depend on the extension), so a new
SQL function is fuzzed without anyone listing it. Arguments come from
fuzz_corpus.py, per type. The test asserts what a user of Postgres relies
on: the postmaster never restarted and its log has no crashed backend;
every failure is an ERROR with a SQLSTATE, without a Rust backtrace, panic
text or an internal error (XX000) except pgvector's own; and the backend's
peak memory stayed within the decoding budget plus the loaded model.

PGV_FUZZ_SEED picks the seed (printed either way); PGV_FUZZ_CALLS the
number of random calls per function (default 48) on top of the calls that
vary one argument at a time over its whole corpus."""
import itertools
import os
import random
import re
import struct
from pathlib import Path

import psycopg
import pytest
from psycopg.adapt import Dumper
from psycopg.pq import Format
from harness import Cluster

import fuzz_corpus as corpus

STATE = Path(__file__).resolve().parents[2] / ".pgvision" / "server-tests"
PORT = int(os.environ.get("PGV_TEST_PORT", "54360")) + 7

# What no client may see: panic text, backtrace frames, Rust paths.
LEAK = re.compile(r"panicked|stack backtrace|RUST_BACKTRACE|\.rs:\d+|\b(core|std|alloc|pgrx)::|rust_begin_unwind")
# Internal errors (XX000) pgvector raises with elog() itself, so we do too.
ALLOWED_XX000 = re.compile(r"^(vector|halfvec)_(accum|combine|avg): expected state array$")
# Functions that are not for calling with values: handlers take `internal`.
SKIP_TYPES = {"internal", "index_am_handler", "anyelement", "anyarray"}
STATEMENT_TIMEOUT_MS = 20000
# Log lines of a backend that died (the postmaster then restarts every connection).
CRASH = re.compile(r"terminated by signal|was terminated by exception|server process \(PID \d+\) exited with exit code [1-9]")


def catalog_objects(conn):
    """The extension's functions (with aggregates), operators and casts from pg_depend."""
    ext = "(SELECT oid FROM pg_extension WHERE extname = 'pgvision')"
    funcs = conn.execute(f"""
        SELECT p.oid::regprocedure::text, n.nspname, p.proname, p.prokind,
               ARRAY(SELECT format_type(t, NULL) FROM unnest(p.proargtypes::oid[]) t)
        FROM pg_depend d JOIN pg_proc p ON p.oid = d.objid JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE d.classid = 'pg_proc'::regclass AND d.refobjid = {ext} AND d.deptype = 'e'
        ORDER BY 1""").fetchall()
    ops = conn.execute(f"""
        SELECT o.oprname, n.nspname, format_type(o.oprleft, NULL), format_type(o.oprright, NULL)
        FROM pg_depend d JOIN pg_operator o ON o.oid = d.objid JOIN pg_namespace n ON n.oid = o.oprnamespace
        WHERE d.classid = 'pg_operator'::regclass AND d.refobjid = {ext} AND d.deptype = 'e'
        ORDER BY 1, 3, 4""").fetchall()
    casts = conn.execute(f"""
        SELECT format_type(c.castsource, NULL), format_type(c.casttarget, NULL)
        FROM pg_depend d JOIN pg_cast c ON c.oid = d.objid
        WHERE d.classid = 'pg_cast'::regclass AND d.refobjid = {ext} AND d.deptype = 'e'
        ORDER BY 1, 2""").fetchall()
    return funcs, ops, casts


def values_for(typ: str):
    """The corpus of SQL expressions for an argument type (None: not fuzzable)."""
    if typ in SKIP_TYPES:
        return None
    if typ == "vector":
        return corpus.VECTORS
    if typ == "halfvec":
        return corpus.HALFVECS
    if typ == "bit":
        return corpus.BITS
    if typ == "sparsevec":
        return corpus.SPARSEVECS
    if typ == "bytea":
        return ["NULL::bytea", "''::bytea", "'\\x00'::bytea"] + [
            f"(SELECT data FROM fuzz_images WHERE id = {i})" for i in range(IMAGE_COUNT)]
    if typ == "bytea[]":
        picks = [f"(SELECT data FROM fuzz_images WHERE id = {i})" for i in range(IMAGE_COUNT)]
        return (["NULL::bytea[]", "'{}'::bytea[]", "ARRAY[NULL::bytea]", "ARRAY[NULL::bytea, ''::bytea]"]
                + [f"ARRAY[{a}, {b}]" for a, b in zip(picks, picks[1:])]
                + ["(SELECT array_agg(data ORDER BY id) FROM fuzz_images WHERE id < 8)",
                   "(SELECT array_agg(data ORDER BY id DESC) FROM fuzz_images)"])
    if typ in corpus.ARRAYS:
        return corpus.ARRAYS[typ]
    return corpus.SCALARS.get(typ)


IMAGE_COUNT = 0
# A valid value per type, for the other arguments while one is varied.
PLAIN = {"text": "'tiny16'", "vector": "'[1,2,3]'::vector", "halfvec": "'[1,2,3]'::halfvec", "bit": "B'101'", "integer": "1", "boolean": "false",
         "oid": "0::oid", "bytea": "(SELECT data FROM fuzz_images WHERE id = 0)"}


def calls_for(rng, name, args, random_calls):
    """Call expressions for one function: each argument over its whole corpus
    (the others at a random pick), then `random_calls` random combinations."""
    pools = [values_for(a) for a in args]
    if any(p is None for p in pools):
        return None
    if not pools:
        return [f"{name}()"]
    out = []
    for i, pool in enumerate(pools):
        for v in pool:
            combo = [rng.choice(p) for p in pools]
            combo[i] = v
            out.append(f"{name}({', '.join(combo)})")
            # and once with the other arguments valid, so that this one is
            # what the function has to deal with (an image with a real model)
            combo = [PLAIN.get(a, p[1]) for a, p in zip(args, pools)]
            combo[i] = v
            out.append(f"{name}({', '.join(combo)})")
    total = 1
    for p in pools:
        total *= len(p)
    if total <= random_calls:
        out += [f"{name}({', '.join(c)})" for c in itertools.product(*pools)]
    else:
        out += [f"{name}({', '.join(rng.choice(p) for p in pools)})" for _ in range(random_calls)]
    return out


def backend_hwm_kb(pid):
    """Peak resident memory (VmHWM) of a backend, in kB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


@pytest.fixture(scope="module")
def fuzz_cluster():
    """A cluster of its own: its log and start time belong to this test alone."""
    c = Cluster(STATE / "fuzz", PORT).init("shared_buffers = 128MB\n").start()
    yield c
    c.stop()


def test_fuzz_sql_surface(fuzz_cluster):
    global IMAGE_COUNT
    seed = int(os.environ.get("PGV_FUZZ_SEED", random.randrange(1 << 32)))
    random_calls = int(os.environ.get("PGV_FUZZ_CALLS", "48"))
    print(f"fuzz seed {seed} (PGV_FUZZ_SEED={seed} reproduces it)")
    rng = random.Random(seed)
    c = fuzz_cluster
    imgs = corpus.images(rng)
    IMAGE_COUNT = len(imgs)
    with c.connect() as admin:
        admin.execute("CREATE EXTENSION pgvision")
        admin.execute(corpus.ROWS_SQL)
        admin.execute("CREATE TABLE fuzz_idx (id int, v vector(3))")
        admin.execute("INSERT INTO fuzz_idx SELECT i, ARRAY[i, i % 7, 1]::real[]::vector FROM generate_series(1, 500) i")
        admin.execute("CREATE INDEX fuzz_hnsw ON fuzz_idx USING hnsw (v vector_l2_ops)")
        admin.execute("CREATE TABLE fuzz_big (id int, v vector(4000))")
        admin.execute("INSERT INTO fuzz_big SELECT i, array_fill(i::real, ARRAY[4000])::vector FROM generate_series(1, 20) i")
        admin.execute("CREATE INDEX fuzz_hnsw_big ON fuzz_big USING hnsw (v vector_l2_ops)")
        with admin.cursor() as cur:
            for i, data in enumerate(imgs):
                cur.execute("INSERT INTO fuzz_images VALUES (%s, %s)", (i, data))
        admin.execute("CREATE ROLE fuzzer LOGIN")
        admin.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO fuzzer")
        started = admin.execute("SELECT pg_postmaster_start_time()").fetchone()[0]
        funcs, ops, casts = catalog_objects(admin)
    assert len(funcs) > 40 and ops and casts, "the catalog query found too little"

    statements, skipped = [], []
    for regproc, nsp, proname, kind, args in funcs:
        qualified = f'{nsp}."{proname}"'
        if kind == "a":
            pools = [values_for(a) for a in args]
            if any(p is None for p in pools) or len(args) != 1:
                skipped.append(regproc)
                continue
            for _ in range(random_calls):
                rows = ", ".join(f"({rng.choice(pools[0])})" for _ in range(rng.randrange(0, 4)))
                src = f"(VALUES {rows}) t(x)" if rows else f"(SELECT {pools[0][0]} WHERE false) t(x)"
                statements.append(f"SELECT {qualified}(x) FROM {src}")
            continue
        calls = calls_for(rng, qualified, args, random_calls)
        if calls is None:
            skipped.append(regproc)
            continue
        statements += [f"SELECT {call}" for call in calls]
    for oprname, nsp, left, right in ops:
        lp, rp = values_for(left), values_for(right)
        if lp is None or rp is None:
            continue
        for _ in range(random_calls):
            statements.append(f"SELECT ({rng.choice(lp)}) OPERATOR({nsp}.{oprname}) ({rng.choice(rp)})")
    for source, target in casts:
        pool = values_for(source)
        if pool is None:
            continue
        for v in pool:
            statements.append(f"SELECT CAST({v} AS {target})")
        if target in ("vector", "halfvec", "sparsevec"):
            for typmod in (1, 3, 16000, 16001, 0, -1):
                statements.append(f"SELECT CAST({rng.choice(pool)} AS {target}({typmod}))")
    for text in ("'[1,2,3]'", "'[1]'", "NULL", "'[1,2'", "'[65520]'"):
        for typmod in ("1", "3", "16000", "16001", "0", "-5", "3,4", "'a'"):
            for typ in ("vector", "halfvec", "sparsevec"):
                statements.append(f"SELECT {text}::{typ}({typmod})")
    for text in ("'{1:1}/3'", "'{}/1'", "NULL", "'{1:1'"):
        for typmod in ("1", "3", "1000000000", "1000000001", "0", "-5", "3,4", "'a'"):
            statements.append(f"SELECT {text}::sparsevec({typmod})")
    print(f"{len(statements)} statements over {len(funcs)} functions, {len(ops)} operators, "
          f"{len(casts)} casts; not callable with values: {', '.join(skipped)}")

    problems, errors = [], {}
    conn = psycopg.connect(c.conninfo().replace("user=postgres", "user=fuzzer"), autocommit=True)
    conn.execute(f"SET statement_timeout = {STATEMENT_TIMEOUT_MS}")
    pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    for sql in statements:
        try:
            conn.execute(sql).fetchall()
        except psycopg.Error as e:
            if conn.broken:
                pytest.fail(f"connection lost (a crashed backend?) on: {sql[:300]}\n{e}\nseed {seed}")
            diag = e.diag
            state = diag.sqlstate
            errors[state] = errors.get(state, 0) + 1
            text = " | ".join(filter(None, [diag.message_primary, diag.message_detail, diag.message_hint]))
            if state is None or len(state) != 5:
                problems.append(f"no SQLSTATE: {sql[:200]} -> {text[:300]}")
            elif LEAK.search(text):
                problems.append(f"Rust internals in the error: {sql[:200]} -> {text[:500]}")
            elif state == "XX000" and not ALLOWED_XX000.match(diag.message_primary or ""):
                problems.append(f"internal error: {sql[:200]} -> {text[:300]}")
    problems += fuzz_binary_input(conn, rng)
    problems += fuzz_sparsevec_binary_input(conn, rng)
    hwm_mb = backend_hwm_kb(pid) / 1024
    conn.close()
    print(f"errors by SQLSTATE: {dict(sorted(errors.items()))}; backend peak memory {hwm_mb:.0f} MB")

    with c.connect() as admin:
        assert admin.execute("SELECT pg_postmaster_start_time()").fetchone()[0] == started, "the server restarted"
    log = c.log.read_text(errors="replace")
    crashed = [line[:300] for line in log.splitlines() if CRASH.search(line)]
    assert not crashed, f"seed {seed}: " + "\n".join(crashed[:5])
    assert not problems, f"seed {seed}: {len(problems)} problems:\n" + "\n".join(problems[:40])
    budget_mb = decoding_budget_mb(c)
    assert hwm_mb < budget_mb + MODEL_AND_BASE_MB, (
        f"backend peak {hwm_mb:.0f} MB over the decoding budget {budget_mb} MB + {MODEL_AND_BASE_MB} MB")


class RawVector(bytes):
    """Bytes sent as a `vector` parameter in binary format, as they are."""


class RawHalfvec(bytes):
    """Bytes sent as a `halfvec` parameter in binary format, as they are."""


def fuzz_binary_input(conn, rng):
    """vector_recv and halfvec_recv (binary COPY and binary parameters) fed
    hostile bytes: the header's dimension count past both ends, short data,
    a non-zero unused field, NaN and infinite elements, trailing bytes and
    random bytes."""
    problems = []
    for typ, raw, code in (("vector", RawVector, "f"), ("halfvec", RawHalfvec, "e")):
        oid = conn.execute(f"SELECT '{typ}'::regtype::oid").fetchone()[0]

        class RawDumper(Dumper):
            format = Format.BINARY

            def dump(self, obj):
                return bytes(obj)

        RawDumper.oid = oid
        conn.adapters.register_dumper(raw, RawDumper)
        f = lambda *xs, code=code: struct.pack(f">{len(xs)}{code}", *xs)
        cases = [b"", b"\x00", b"\x00\x03", struct.pack(">hh", 3, 0) + f(1, 2, 3), struct.pack(">hh", 0, 0),
                 struct.pack(">hh", -1, 0) + f(1), struct.pack(">hh", -32768, 0),
                 struct.pack(">hh", 16001, 0) + f(*[1.0] * 16001),
                 struct.pack(">hh", 16000, 0) + f(*[1.0] * 16000), struct.pack(">hh", 3, 0) + f(1, 2),
                 struct.pack(">hh", 2, 1) + f(1, 2), struct.pack(">hh", 2, 0) + f(float("nan"), 1),
                 struct.pack(">hh", 2, 0) + f(float("inf"), 1), struct.pack(">hh", 1, 0) + f(1) + b"\x00\x01"]
        cases += [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40))) for _ in range(200)]
        for data in cases:
            for sql in ("SELECT %s", "SELECT vector_dims(%s)", f"SELECT %s::{typ}(2)"):
                try:
                    conn.execute(sql, (raw(data),)).fetchall()
                except psycopg.Error as e:
                    if conn.broken:
                        pytest.fail(f"connection lost on binary {typ} input {data[:40]!r}: {e}")
                    text = " | ".join(filter(None, [e.diag.message_primary, e.diag.message_detail]))
                    if e.diag.sqlstate is None or LEAK.search(text) or e.diag.sqlstate == "XX000":
                        problems.append(f"binary {typ} input {data[:40]!r} -> {e.diag.sqlstate} {text[:300]}")
    return problems


class RawSparsevec(bytes):
    """Bytes sent as a `sparsevec` parameter in binary format, as they are."""


def fuzz_sparsevec_binary_input(conn, rng):
    """sparsevec_recv fed hostile bytes: dimension and element counts past
    both ends, indices out of order, duplicated or out of bounds, zeros,
    NaN, short data, trailing bytes, and random bytes."""
    oid = conn.execute("SELECT 'sparsevec'::regtype::oid").fetchone()[0]

    class RawDumper(Dumper):
        format = Format.BINARY

        def dump(self, obj):
            return bytes(obj)

    RawDumper.oid = oid
    conn.adapters.register_dumper(RawSparsevec, RawDumper)

    def frame(dim, nnz, unused, idx, vals):
        return struct.pack(f">iii{len(idx)}i{len(vals)}f", dim, nnz, unused, *idx, *vals)

    cases = [b"", b"\x00" * 11, frame(3, 0, 0, [], []), frame(3, 2, 0, [0, 2], [1, 2]), frame(0, 0, 0, [], []),
             frame(-1, 0, 0, [], []), frame(1000000001, 0, 0, [], []), frame(3, -1, 0, [], []),
             frame(3, 4, 0, [0, 1, 2, 3], [1, 1, 1, 1]), frame(100000, 16001, 0, [], []),
             frame(3, 2, 0, [2, 1], [1, 1]), frame(3, 2, 0, [1, 1], [1, 1]), frame(3, 1, 0, [3], [1]),
             frame(3, 1, 0, [-1], [1]), frame(3, 1, 0, [0], [0]), frame(3, 1, 0, [0], [float("nan")]),
             frame(3, 1, 0, [0], [float("inf")]), frame(3, 1, 7, [0], [1]), frame(3, 2, 0, [0, 1], [1]),
             frame(3, 1, 0, [0], [1]) + b"\x00\x01", frame(1000000000, 1, 0, [999999999], [2])]
    cases += [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40))) for _ in range(200)]
    problems = []
    for data in cases:
        for sql in ("SELECT %s", "SELECT l2_norm(%s)", "SELECT %s::sparsevec(3)"):
            try:
                conn.execute(sql, (RawSparsevec(data),)).fetchall()
            except psycopg.Error as e:
                if conn.broken:
                    pytest.fail(f"connection lost on sparsevec binary input {data[:40]!r}: {e}")
                text = " | ".join(filter(None, [e.diag.message_primary, e.diag.message_detail]))
                if e.diag.sqlstate is None or LEAK.search(text) or e.diag.sqlstate == "XX000":
                    problems.append(f"sparsevec binary input {data[:40]!r} -> {e.diag.sqlstate} {text[:300]}")
    return problems


# A backend with shared_buffers touched, the tiny models and EfficientNet-Lite0
# loaded (~100 MB), and a 16,000-d corpus in flight.
MODEL_AND_BASE_MB = 600


def decoding_budget_mb(cluster):
    """The server's bound on decoded pixels in flight per backend, in MB."""
    with cluster.connect() as conn:
        row = conn.execute(
            "SELECT pg_size_bytes(current_setting('pgvision.decode_memory_limit', true)) / 1048576").fetchone()
    return row[0] if row and row[0] is not None else 1024
