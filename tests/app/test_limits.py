"""`pgvision serve` under abuse, against a real cluster: many parallel 16 MiB
uploads (refused before their body is read, memory bounded), slow clients
(request timeout, for bodies and for headers), a slow database (request timeout, statement_timeout), the
database going down and coming back, the upload token and read-only mode."""
import json
import os
import secrets
import select
import socket
import subprocess
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from conftest import ROOT, Service, http, multipart, table_name

MIB = 1 << 20


def raw_post(url, path, body, content_type, headers=(), send_body=True, timeout=60):
    """POSTs over a raw socket, as an abusive client would (no Expect; the body sent
    until the server answers or hangs up); returns (status, {lower-case header: value},
    body bytes, raw bytes read). Raises only when no answer at all came back."""
    u = urllib.parse.urlsplit(url)
    head = [f"POST {path} HTTP/1.1", f"Host: {u.netloc}", f"Content-Type: {content_type}",
            f"Content-Length: {len(body)}", "Connection: close", *headers]
    s = socket.create_connection((u.hostname, u.port), timeout=timeout)
    try:
        s.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        if send_body:
            view = memoryview(body)
            try:
                for off in range(0, len(body), 256 << 10):
                    if select.select([s], [], [], 0)[0]:
                        break  # answered already: stop sending
                    s.sendall(view[off:off + (256 << 10)])
            except (BrokenPipeError, ConnectionResetError):
                pass
        raw = b""
        try:
            while True:
                chunk = s.recv(1 << 16)
                if not chunk:
                    break
                raw += chunk
        except ConnectionResetError:
            pass
    finally:
        s.close()
    return parse_response(raw)


def parse_response(raw):
    """(status, headers, body, raw) of one HTTP/1.1 response (a 1xx before it is kept in raw)."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        raise ConnectionError(f"no complete answer: {raw[:200]!r}")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:])}
    return status, headers, body, raw


def read_to_end(s):
    """Everything a socket receives until the peer closes it (or resets it)."""
    raw = b""
    try:
        while chunk := s.recv(1 << 16):
            raw += chunk
    except ConnectionResetError:
        pass
    return raw


def code_of(body):
    """The error code of a JSON error body."""
    return json.loads(body)["error"]["code"]


def peak_rss(pid):
    """Peak resident set size of a process (VmHWM), in bytes."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM")


def rows(dsn, table):
    """Rows in `table`."""
    with psycopg.connect(dsn) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def stopped(svc):
    """Stops a service (it must exit cleanly on SIGTERM), checks it never panicked, returns its stderr."""
    err = svc.stop()
    assert "panicked" not in err, err
    assert svc.proc.returncode == 0, (svc.proc.returncode, err)
    return err


@pytest.fixture
def serve(pgvision_bin, dsn):
    """Factory: starts `pgvision serve` on a fresh table with extra arguments; stops them all after."""
    started = []

    def start(*extra, table=None, env=None):
        svc = Service(pgvision_bin, dsn, table or table_name("lim"), *extra, env=env)
        svc.table = svc.proc.args[svc.proc.args.index("--table") + 1]
        started.append(svc)
        return svc

    yield start
    for svc in started:
        if svc.proc.poll() is None:
            stopped(svc)


# Slots of the flood test: 4 admitted bodies of up to 16 MiB, each copied once
# more into the database protocol message, plus the process's fixed base.
FLOOD_SLOTS = 4
RSS_BOUND = FLOOD_SLOTS * 2 * 16 * MIB + 64 * MIB


def test_flood_of_uploads_is_refused_unread(serve, dsn):
    """64 parallel 16 MiB uploads: the excess is refused with 503 + Retry-After before
    its body is read, nothing crashes, and the peak RSS stays bounded (without the
    limit every body is held at once: about 1 GiB)."""
    svc = serve("--pool-size", "2", "--max-in-flight", str(FLOOD_SLOTS))
    ctype, body = multipart([("file", ("big.bin", secrets.token_bytes(16 * MIB - 64 * 1024)))])
    assert len(body) < 16 * MIB
    go = threading.Barrier(64)

    def one(i):
        go.wait()
        return raw_post(svc.url, "/images" if i % 2 else "/search", body, ctype)

    with ThreadPoolExecutor(64) as pool:
        answers = list(pool.map(one, range(64)))
    statuses = [a[0] for a in answers]
    busy = [a for a in answers if a[0] == 503]
    assert busy, statuses
    for status, headers, payload, _ in busy:
        assert code_of(payload) == "busy" and headers["retry-after"] == "1", (headers, payload)
    # the admitted ones were read and judged: random bytes are no image
    done = [a for a in answers if a[0] != 503]
    assert done, statuses
    assert {code_of(a[2]) for a in done} <= {"unsupported_format", "corrupt_image"}, statuses
    assert svc.proc.poll() is None
    peak = peak_rss(svc.proc.pid)
    print(f"flood: {len(busy)} refused, {len(done)} judged, peak RSS {peak / MIB:.0f} MiB")
    assert peak < RSS_BOUND, f"peak RSS {peak / MIB:.0f} MiB over {RSS_BOUND / MIB:.0f} MiB"
    assert http("GET", svc.url + "/healthz")[0] == 200
    assert rows(dsn, svc.table) == 0
    stopped(svc)


def test_slow_clients_time_out_and_free_their_slots(serve, photos):
    """Two uploads that stall mid-body hold both slots: a third is refused at once (its
    Expect: 100-continue answered 503, never 100), the stalled ones get 408 at the
    request timeout, and then uploads are served again."""
    svc = serve("--max-in-flight", "2", "--request-timeout", "2")
    u = urllib.parse.urlsplit(svc.url)
    ctype, body = multipart([("file", ("slow.jpg", (photos / "camera.jpg").read_bytes()))])
    slow = []
    started = time.monotonic()
    for _ in range(2):
        s = socket.create_connection((u.hostname, u.port), timeout=30)
        s.sendall((f"POST /search HTTP/1.1\r\nHost: {u.netloc}\r\nContent-Type: {ctype}\r\n"
                   f"Content-Length: {len(body)}\r\n\r\n").encode() + body[:1000])
        slow.append(s)
    time.sleep(0.5)
    status, headers, payload, raw = raw_post(svc.url, "/search", body, ctype,
                                             headers=["Expect: 100-continue"], send_body=False)
    assert status == 503 and code_of(payload) == "busy" and headers["retry-after"] == "1"
    assert not raw.startswith(b"HTTP/1.1 100"), raw[:100]
    for s in slow:
        raw = read_to_end(s)
        s.close()
        status, headers, payload, _ = parse_response(raw)
        assert status == 408 and code_of(payload) == "request_timeout", raw[:300]
    waited = time.monotonic() - started
    assert 1.5 < waited < 15, waited
    status, _, payload = http("POST", svc.url + "/search", body=body, content_type=ctype)
    assert status == 200, payload


def test_slow_headers_are_cut_off(serve):
    """A connection whose request headers never complete, or that sends nothing,
    is closed at the request timeout; the service carries on."""
    svc = serve("--request-timeout", "2")
    u = urllib.parse.urlsplit(svc.url)
    for first in (b"POST /search HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-", b""):
        s = socket.create_connection((u.hostname, u.port), timeout=20)
        started = time.monotonic()
        s.sendall(first)
        raw = read_to_end(s)
        took = time.monotonic() - started
        s.close()
        assert 1.5 < took < 10, (first, took)
        assert raw == b"" or raw.startswith(b"HTTP/1.1 408"), raw[:200]
    assert http("GET", svc.url + "/healthz")[0] == 200


def test_connections_over_the_limit_are_refused(serve):
    """With --max-connections 3, three idle connections hold every place: a
    fourth is answered 503 busy with Retry-After and closed, unread; once
    they go, requests are served again."""
    svc = serve("--max-connections", "3", "--request-timeout", "30")
    u = urllib.parse.urlsplit(svc.url)
    idle = [socket.create_connection((u.hostname, u.port), timeout=20) for _ in range(3)]
    try:
        time.sleep(0.5)  # the service has accepted them
        s = socket.create_connection((u.hostname, u.port), timeout=20)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        raw = read_to_end(s)
        s.close()
        status, headers, body, _ = parse_response(raw)
        assert status == 503 and code_of(body) == "busy", raw[:300]
        assert headers["retry-after"] == "1" and headers["connection"] == "close", headers
    finally:
        for s in idle:
            s.close()
    deadline = time.monotonic() + 10
    while True:
        try:
            if http("GET", svc.url + "/healthz")[0] == 200:
                break
        except OSError:
            pass
        assert time.monotonic() < deadline, "the service did not take connections again"
        time.sleep(0.2)


def locked(dsn, table):
    """A connection holding an ACCESS EXCLUSIVE lock on `table` (until rollback)."""
    conn = psycopg.connect(dsn)
    conn.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
    return conn


def waiting_sessions(dsn):
    """The service's sessions waiting for a lock."""
    with psycopg.connect(dsn) as conn:
        return conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgvision serve'"
            " AND wait_event_type = 'Lock'").fetchone()[0]


def test_request_timeout_cancels_the_statement(serve, dsn, photos):
    """A search stuck behind a lock is answered 503 at the request timeout, and its
    statement is cancelled in the server (not left waiting for statement_timeout)."""
    svc = serve("--request-timeout", "2", "--statement-timeout", "120")
    query = [("file", ("q.jpg", (photos / "coffee.jpg").read_bytes()))]
    assert http("POST", svc.url + "/search", fields=query)[0] == 200
    lock = locked(dsn, svc.table)
    try:
        started = time.monotonic()
        status, headers, body = http("POST", svc.url + "/search", fields=query)
        took = time.monotonic() - started
        assert status == 503 and code_of(body) == "timeout" and headers["Retry-After"] == "1", body
        assert 1.5 < took < 10, took
        for _ in range(50):
            if waiting_sessions(dsn) == 0:
                break
            time.sleep(0.1)
        assert waiting_sessions(dsn) == 0, "the abandoned statement still waits for the lock"
    finally:
        lock.rollback()
        lock.close()
    assert http("POST", svc.url + "/search", fields=query)[0] == 200
    assert http("GET", svc.url + "/healthz")[0] == 200


def test_statement_timeout(serve, dsn, photos):
    """Every pooled session has the statement_timeout: a statement waiting on a lock is
    cancelled by Postgres after 1 s and answered 503 database_timeout."""
    svc = serve("--statement-timeout", "1", "--request-timeout", "60")
    query = [("file", ("q.jpg", (photos / "coffee.jpg").read_bytes()))]
    lock = locked(dsn, svc.table)
    try:
        for _ in range(3):  # more than one pooled session
            started = time.monotonic()
            status, headers, body = http("POST", svc.url + "/search", fields=query)
            took = time.monotonic() - started
            assert status == 503 and code_of(body) == "database_timeout", body
            assert headers["Retry-After"] == "1"
            assert 0.9 < took < 10, took
        assert http("GET", svc.url + "/healthz")[0] == 503
    finally:
        lock.rollback()
        lock.close()
    assert http("POST", svc.url + "/search", fields=query)[0] == 200
    err = stopped(svc)
    assert "canceling statement due to statement timeout" in err, err


def cluster_env(dsn):
    """Environment for scripts/cluster.sh naming the cluster the tests use (asked of the server itself)."""
    with psycopg.connect(dsn) as conn:
        data = conn.execute("SHOW data_directory").fetchone()[0]
    return {**os.environ, "PGV_DATA": data, "PGV_SOCK": os.environ["PGHOST"], "PGV_PORT": os.environ["PGPORT"]}


def cluster(action, env):
    """Runs scripts/cluster.sh start or stop."""
    subprocess.run(["bash", str(ROOT / "scripts" / "cluster.sh"), action], env=env, check=True, timeout=120)


def test_healthz_follows_the_database(serve, dsn):
    """/healthz is 503 while the cluster is stopped and 200 again once it is back."""
    svc = serve()
    assert http("GET", svc.url + "/healthz")[0] == 200
    env = cluster_env(dsn)
    cluster("stop", env)
    try:
        for _ in range(2):
            started = time.monotonic()
            status, headers, body = http("GET", svc.url + "/healthz")
            assert status == 503 and code_of(body) == "database_unavailable", body
            assert headers["Retry-After"] == "1"
            assert time.monotonic() - started < 15
    finally:
        cluster("start", env)
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT 1").fetchone()[0] == 1
    for _ in range(50):
        if http("GET", svc.url + "/healthz")[0] == 200:
            break
        time.sleep(0.2)
    status, _, body = http("GET", svc.url + "/healthz")
    assert status == 200 and json.loads(body) == {"status": "ok", "images": 0}
    assert svc.proc.poll() is None


def test_upload_token(serve, dsn, photos, pgvision_bin):
    """With PGVISION_TOKEN set, POST /images needs the bearer token (401 otherwise,
    before the body is read); search, image and health stay open."""
    token = secrets.token_hex(16)
    svc = serve(env={"PGVISION_TOKEN": token})
    photo = [("file", ("rocket.jpg", (photos / "rocket.jpg").read_bytes()))]
    for auth in ({}, {"Authorization": f"Bearer {token}x"}, {"Authorization": f"Bearer {token[:-1]}"},
                 {"Authorization": f"Basic {token}"}, {"Authorization": "Bearer"}):
        status, headers, body = http("POST", svc.url + "/images", fields=photo, headers=auth)
        assert status == 401 and code_of(body) == "unauthorized", (auth, body)
        assert headers["WWW-Authenticate"].startswith("Bearer"), auth
    # a 16 MiB upload without the token is refused unread
    ctype, big = multipart([("file", ("big.bin", b"\0" * (16 * MIB - 4096)))])
    status, _, body, _ = raw_post(svc.url, "/images", big, ctype)
    assert status == 401 and code_of(body) == "unauthorized"
    assert rows(dsn, svc.table) == 0
    status, _, body = http("POST", svc.url + "/images", fields=photo, headers={"Authorization": f"Bearer {token}"})
    assert status == 201, body
    image_id = json.loads(body)["id"]
    status, _, body = http("POST", svc.url + "/search", fields=photo)
    assert status == 200 and json.loads(body)["results"][0]["id"] == image_id
    assert http("GET", svc.url + f"/images/{image_id}")[0] == 200
    assert http("GET", svc.url + "/healthz")[0] == 200
    assert rows(dsn, svc.table) == 1
    # the token never shows in --help; a short one is refused
    r = subprocess.run([str(pgvision_bin), "serve", "--help"], capture_output=True, text=True,
                       env={**os.environ, "PGVISION_TOKEN": token})
    assert r.returncode == 0 and "--token" in r.stdout and token not in r.stdout
    r = subprocess.run([str(pgvision_bin), "serve", "--dsn", dsn, "--token", "short"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "at least 16" in r.stderr, r.stderr


def test_read_only(serve, dsn, photos, pgvision_bin):
    """--read-only serves search, images and health; POST /images is 403 read_only;
    the table must exist (it is not created)."""
    writer = serve()
    photo = [("file", ("moon.jpg", (photos / "moon.jpg").read_bytes()))]
    status, _, body = http("POST", writer.url + "/images", fields=photo)
    assert status == 201
    image_id = json.loads(body)["id"]
    stopped(writer)
    svc = serve("--read-only", table=writer.table)
    status, _, body = http("POST", svc.url + "/images", fields=[("file", ("a.jpg", (photos / "coffee.jpg").read_bytes()))])
    assert status == 403 and code_of(body) == "read_only", body
    status, _, body = http("POST", svc.url + "/search", fields=photo)
    assert status == 200 and json.loads(body)["results"][0]["id"] == image_id
    assert http("GET", svc.url + f"/images/{image_id}")[0] == 200
    status, _, body = http("GET", svc.url + "/healthz")
    assert status == 200 and json.loads(body)["images"] == 1
    assert rows(dsn, svc.table) == 1
    missing = table_name("absent")
    r = subprocess.run([str(pgvision_bin), "serve", "--dsn", dsn, "--table", missing, "--read-only",
                        "--listen", "127.0.0.1:0"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "does not exist" in r.stderr, r.stderr
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT to_regclass(%s)", (missing,)).fetchone()[0] is None
