"""A fresh database with pgvision on the cluster named by PGHOST/PGPORT,
shared by the client and product test fixtures."""
import os

import psycopg


def conninfo(dbname):
    """Connection string for the project's cluster, from PGHOST/PGPORT."""
    return f"host={os.environ['PGHOST']} port={os.environ['PGPORT']} user=postgres dbname={dbname}"


def fresh_database(name):
    """Generator for a session fixture: (re)creates `name` with the extension,
    yields its connection string, drops it afterwards."""
    with psycopg.connect(conninfo("postgres"), autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name}")
    with psycopg.connect(conninfo(name), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION pgvision")
    yield conninfo(name)
    with psycopg.connect(conninfo("postgres"), autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
