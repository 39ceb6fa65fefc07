"""Fixtures: a fresh database on the cuda build's cluster (PGV_CUDA_HOST/PGV_CUDA_PORT)
and one on the normal build's cluster (PGHOST/PGPORT); scripts/cuda-build-test.sh sets both."""
import os
import sys
from pathlib import Path

import psycopg
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from pgdb import fresh_database  # noqa: E402

DB = "pgvision_cudabuild_test"


def cuda_conninfo(dbname):
    """Connection string for the cuda build's cluster."""
    return f"host={os.environ['PGV_CUDA_HOST']} port={os.environ['PGV_CUDA_PORT']} user=postgres dbname={dbname}"


@pytest.fixture(scope="session")
def cpu_dsn():
    """A new database on the normal (CPU) build's cluster; dropped at the end."""
    yield from fresh_database(DB)


@pytest.fixture(scope="session")
def cuda_dsn():
    """A new database with the cuda build installed; dropped at the end."""
    with psycopg.connect(cuda_conninfo("postgres"), autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {DB}")
    with psycopg.connect(cuda_conninfo(DB), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION pgvision")
    yield cuda_conninfo(DB)
    with psycopg.connect(cuda_conninfo("postgres"), autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
