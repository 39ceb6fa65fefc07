"""`pgvision serve` against a real cluster: every endpoint, bad uploads included."""
import json
import struct
import zlib

import psycopg
import pytest

from conftest import Service, augmented, http, table_name

LIMIT_MB = 1


@pytest.fixture(scope="module")
def service(pgvision_bin, dsn):
    """A service on a fresh table (created by serve itself), with a 1 MiB upload limit."""
    table = table_name("svc")
    svc = Service(pgvision_bin, dsn, table, "--max-upload-mb", str(LIMIT_MB), "--pool-size", "2")
    svc.table = table
    yield svc
    err = svc.stop()
    assert "panicked" not in err, err


def rows(dsn, table):
    """Rows in `table`."""
    with psycopg.connect(dsn) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def error_of(status, body, expected_status, code=None):
    """Checks an error answer: status, JSON shape, no internals; returns the message."""
    assert status == expected_status, (status, body[:500])
    doc = json.loads(body)
    assert set(doc) == {"error"} and set(doc["error"]) == {"code", "message"}, doc
    if code:
        assert doc["error"]["code"] == code, doc
    text = body.decode().lower()
    for leak in ("panicked", "backtrace", "src/", ".rs:", "sqlstate", "db error"):
        assert leak not in text, doc
    return doc["error"]["message"]


def huge_png():
    """A PNG whose header claims 100000 x 100000 pixels (over the server's limit)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b""))


def test_page_and_health(service, dsn):
    status, headers, body = http("GET", service.url + "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert b"pgvision image search" in body and b'id="file"' in body
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    status, _, body = http("GET", service.url + "/healthz")
    assert status == 200 and json.loads(body) == {"status": "ok", "images": rows(dsn, service.table)}
    error_of(*http("GET", service.url + "/nope")[::2], 404, "not_found")


def test_upload_fetch_search(service, photos, query_photo, dsn):
    names = ["chelsea.jpg", "astronaut.jpg", "coffee.jpg", "rocket.jpg", "moon.jpg"]
    ids = {}
    for name in names:
        data = (photos / name).read_bytes()
        status, headers, body = http("POST", service.url + "/images", fields=[("file", (name, data))])
        doc = json.loads(body)
        assert status == 201, doc
        assert doc["name"] == name and doc["duplicate"] is False and len(doc["sha256"]) == 64
        assert headers["Location"] == f"/images/{doc['id']}"
        ids[name] = doc["id"]
    # the same bytes again: the existing row, 200
    data = (photos / "chelsea.jpg").read_bytes()
    status, _, body = http("POST", service.url + "/images",
                           fields=[("name", "again.jpg"), ("file", ("x.jpg", data))])
    assert status == 200 and json.loads(body) == {
        "id": ids["chelsea.jpg"], "name": "chelsea.jpg", "sha256": json.loads(body)["sha256"], "duplicate": True}
    # an explicit name wins over the file name
    status, _, body = http("POST", service.url + "/images",
                           fields=[("name", "my cat.jpg"), ("file", ("IMG_1.jpg", augmented("chelsea", 99)))])
    assert status == 201 and json.loads(body)["name"] == "my cat.jpg"
    assert rows(dsn, service.table) == len(names) + 1

    status, headers, body = http("GET", service.url + f"/images/{ids['astronaut.jpg']}")
    assert status == 200 and headers["Content-Type"] == "image/jpeg"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert body == (photos / "astronaut.jpg").read_bytes()
    error_of(*http("GET", service.url + "/images/987654321")[::2], 404, "not_found")
    error_of(*http("GET", service.url + "/images/abc")[::2], 400, "bad_request")
    error_of(*http("GET", service.url + "/images/-1")[::2], 400, "bad_request")

    path, source = query_photo
    status, _, body = http("POST", service.url + "/search",
                           fields=[("k", "3"), ("file", ("q.jpg", path.read_bytes()))])
    doc = json.loads(body)
    assert status == 200, doc
    assert doc["k"] == 3 and doc["model"] == "efficientnet_lite0" and len(doc["results"]) == 3
    first = doc["results"][0]
    assert first["name"] in (source, "my cat.jpg"), doc
    assert {h["name"] for h in doc["results"][:2]} == {source, "my cat.jpg"}, doc
    assert first["url"] == f"/images/{first['id']}"
    dists = [h["distance"] for h in doc["results"]]
    assert dists == sorted(dists) and dists[0] > 0
    # the stored bytes as a query: distance ~0 to themselves; default k is 10
    status, _, body = http("POST", service.url + "/search",
                           fields=[("image", ("a.jpg", (photos / "rocket.jpg").read_bytes()))])
    doc = json.loads(body)
    assert status == 200 and doc["k"] == 10 and len(doc["results"]) == len(names) + 1
    assert doc["results"][0]["id"] == ids["rocket.jpg"] and doc["results"][0]["distance"] < 1e-3

    status, _, body = http("GET", service.url + "/healthz")
    assert json.loads(body)["images"] == len(names) + 1


@pytest.mark.parametrize("route", ["/images", "/search"])
def test_bad_uploads(service, dsn, route, photos):
    before = rows(dsn, service.table)
    good = (photos / "camera.jpg").read_bytes()
    url = service.url + route
    cases = [
        ([("file", ("empty.jpg", b""))], 422, "corrupt_image"),
        ([("file", ("half.jpg", good[: len(good) // 2]))], 422, "corrupt_image"),
        ([("file", ("notes.jpg", b"hello, this is text, not a photo"))], 415, "unsupported_format"),
        ([("file", ("huge.png", huge_png()))], 413, "image_too_large"),
        ([("file", ("big.jpg", good + b"\0" * (LIMIT_MB << 20)))], 413, "too_large"),
        ([("name", "no file here")], 400, "bad_request"),
        ([("file", ("a.jpg", good)), ("file", ("b.jpg", good))], 400, "bad_request"),
        ([("f1", "x"), ("f2", "x"), ("f3", "x"), ("f4", "x"), ("file", ("a.jpg", good))], 400, "bad_request"),
        ([("name", "x" * 2000), ("file", ("a.jpg", good))], 400, "bad_request"),
    ]
    if route == "/search":
        cases += [
            ([("k", "0"), ("file", ("a.jpg", good))], 400, "bad_request"),
            ([("k", "101"), ("file", ("a.jpg", good))], 400, "bad_request"),
            ([("k", "ten"), ("file", ("a.jpg", good))], 400, "bad_request"),
        ]
    for fields, status, code in cases:
        got_status, _, body = http("POST", url, fields=fields)
        msg = error_of(got_status, body, status, code)
        assert msg, fields
    # not multipart at all
    status, _, body = http("POST", url, body=b'{"file": 1}', content_type="application/json")
    assert 400 <= status < 500
    error_of(status, body, status)
    status, _, body = http("POST", url, body=b"--x\r\nbroken", content_type="multipart/form-data; boundary=x")
    error_of(status, body, 400)
    assert rows(dsn, service.table) == before
    # the service is still healthy after all that
    assert http("GET", service.url + "/healthz")[0] == 200
