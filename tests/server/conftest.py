"""A cluster shared by the server tests that do not crash or replicate it."""
import os
from pathlib import Path

import pytest
from harness import Cluster

STATE = Path(__file__).resolve().parents[2] / ".pgvision" / "server-tests"


@pytest.fixture(scope="session")
def cluster():
    """A running cluster with pgvision created in database `postgres`."""
    c = Cluster(STATE / "main", int(os.environ.get("PGV_TEST_PORT", "54360"))).init().start()
    with c.connect() as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pgvision")
    yield c
    c.stop()
