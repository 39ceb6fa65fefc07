"""Fixtures for the product tests: a database on the project's cluster, the
`pgvision` binary (PGVISION_BIN, built by scripts/test.sh), sample photos
from scripts/demo_images.py, and a running `pgvision serve`.
"""
import os
import random
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "tests"))
import demo_images  # noqa: E402
from pgdb import fresh_database  # noqa: E402

DB = "pgvision_app_test"


@pytest.fixture(scope="session")
def dsn():
    """A new database with pgvision; dropped at the end."""
    yield from fresh_database(DB)


@pytest.fixture(scope="session")
def pgvision_bin():
    """Path of the pgvision binary."""
    path = Path(os.environ.get("PGVISION_BIN", ROOT / "target" / "release" / "pgvision"))
    assert path.is_file(), f"{path} missing: cargo build --release -p pgvision-app (or set PGVISION_BIN)"
    return path


@pytest.fixture(scope="session")
def photos(tmp_path_factory):
    """A folder with scikit-image's 20 sample photos as <name>.jpg."""
    out = tmp_path_factory.mktemp("photos")
    demo_images.make(str(out), 0, sources_only=True)
    return out


@pytest.fixture(scope="session")
def query_photo(tmp_path_factory):
    """(path, source name): a seeded augmentation of the cat photo."""
    path = tmp_path_factory.mktemp("query") / "query.jpg"
    demo_images.make_query(str(path))
    return path, f"{demo_images.QUERY_SOURCE}.jpg"


def augmented(name, seed):
    """JPEG bytes of a seeded augmentation of sample photo `name`."""
    return demo_images.augment(demo_images.photo(name), random.Random(seed))


def table_name(prefix):
    """A fresh table name."""
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def ingest(pgvision_bin, dsn, folder, table, *extra):
    """Runs `pgvision ingest` and returns the completed process (text output)."""
    return subprocess.run(
        [str(pgvision_bin), "ingest", str(folder), "--dsn", dsn, "--table", table, *extra],
        capture_output=True, text=True, timeout=300,
    )


class Service:
    """A `pgvision serve` process on a free loopback port."""

    def __init__(self, pgvision_bin, dsn, table, *extra, env=None):
        self.proc = subprocess.Popen(
            [str(pgvision_bin), "serve", "--dsn", dsn, "--table", table, "--listen", "127.0.0.1:0", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=None if env is None else {**os.environ, **env},
        )
        line = self.proc.stdout.readline()
        if "listening on " not in line:
            self.proc.kill()
            raise RuntimeError(f"serve did not start: {line}{self.proc.stderr.read()}")
        self.url = line.split("listening on ")[1].split()[0].rstrip("/")
        self.wait_healthy()

    def wait_healthy(self):
        """Polls /healthz, at most 50 times."""
        for _ in range(50):
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=5) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError):
                pass
            time.sleep(0.1)
        raise RuntimeError("serve never became healthy")

    def stop(self):
        """Stops the service (SIGTERM, graceful) and returns its stderr."""
        self.proc.terminate()
        try:
            _, err = self.proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return err


def multipart(fields):
    """(content type, body) of a multipart/form-data body; a value is str or (filename, bytes)."""
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields:
        if isinstance(value, tuple):
            filename, data = value
            head = (f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                    "Content-Type: application/octet-stream\r\n\r\n")
        else:
            head, data = f'Content-Disposition: form-data; name="{name}"\r\n\r\n', value.encode()
        parts.append(f"--{boundary}\r\n".encode() + head.encode() + data + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", body


def http(method, url, fields=None, body=None, content_type=None, headers=None):
    """One request on loopback: (status, headers, body bytes); never raises for HTTP errors."""
    headers = dict(headers or {})
    if fields is not None:
        content_type, body = multipart(fields)
    if content_type:
        headers["Content-Type"] = content_type
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()
