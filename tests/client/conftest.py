"""Fixtures: a fresh database with pgvision on the project's cluster (scripts/cluster.sh)."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from pgdb import fresh_database  # noqa: E402

DB = "pgvision_client_test"


@pytest.fixture(scope="session")
def dsn():
    """A new database with the extension installed; dropped at the end."""
    yield from fresh_database(DB)
