"""Fixtures: a fresh database with pgvision on the project's cluster (scripts/cluster.sh)."""
import os

import psycopg
import pytest

DB = "pgvision_client_test"


def conninfo(dbname):
    """Connection string for the project's cluster, from PGHOST/PGPORT."""
    return f"host={os.environ['PGHOST']} port={os.environ['PGPORT']} user=postgres dbname={dbname}"


@pytest.fixture(scope="session")
def dsn():
    """A new database with the extension installed; dropped at the end."""
    with psycopg.connect(conninfo("postgres"), autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DB}")
        admin.execute(f"CREATE DATABASE {DB}")
    with psycopg.connect(conninfo(DB), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION pgvision")
    yield conninfo(DB)
    with psycopg.connect(conninfo("postgres"), autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
