"""Throwaway PostgreSQL clusters for server-level tests: start, crash, replicate.

Clusters listen on a unix socket only (no TCP) and run as `postgres` when the
tests run as root (Postgres refuses to run as root)."""
import os
import pwd
import shutil
import signal
import subprocess
import time
from pathlib import Path

import psycopg

# PGVISION_PG_BIN: the PostgreSQL installation to test (scripts/test.sh sets it
# to the one --pg chose; default Debian's 15), as in scripts/common.sh.
PG_BIN = Path(os.environ.get("PGVISION_PG_BIN", "/usr/lib/postgresql/15/bin"))
AS_ROOT = os.geteuid() == 0


def run_as_pg(*args, check=True, **kw):
    """Runs a Postgres program as the cluster owner."""
    cmd = [str(a) for a in args]
    if AS_ROOT:
        cmd = ["runuser", "-u", "postgres", "--"] + cmd
    return subprocess.run(cmd, check=check, capture_output=True, text=True, **kw)


def chown_pg(path: Path):
    """Gives a directory to the cluster owner."""
    if AS_ROOT:
        pw = pwd.getpwnam("postgres")
        os.chown(path, pw.pw_uid, pw.pw_gid)


class Cluster:
    """One cluster in `root` (data, socket, log), listening on `port`."""

    def __init__(self, root: Path, port: int):
        self.root, self.port = Path(root), port
        self.data, self.sock, self.log = self.root / "data", self.root / "sock", self.root / "log"

    def init(self, conf: str = "", initdb_args=()):
        """initdb (with `initdb_args`) with settings fit for the tests, from scratch."""
        shutil.rmtree(self.root, ignore_errors=True)
        self.root.mkdir(parents=True)
        self.root.chmod(0o755)
        chown_pg(self.root)
        run_as_pg(PG_BIN / "initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "--locale=C.UTF-8", *initdb_args)
        self.sock.mkdir(exist_ok=True)
        chown_pg(self.sock)
        self.configure(
            "wal_level = replica\nmax_wal_senders = 4\nhot_standby = on\n"
            "shared_buffers = 256MB\nmaintenance_work_mem = 512MB\nfsync = on\n" + conf
        )
        return self

    def configure(self, conf: str):
        """Appends settings (and this cluster's socket and port) to its configuration."""
        with open(self.data / "postgresql.auto.conf", "a") as f:
            f.write(f"listen_addresses = ''\nport = {self.port}\nunix_socket_directories = '{self.sock}'\n{conf}\n")

    def start(self):
        """Starts the cluster and waits until it accepts connections (crash recovery included)."""
        run_as_pg(PG_BIN / "pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t", "120", "start")
        return self

    def stop(self, mode="fast"):
        """Stops the cluster if it runs."""
        run_as_pg(PG_BIN / "pg_ctl", "-D", self.data, "-m", mode, "-w", "stop", check=False)

    def processes(self):
        """Pids of the postmaster and all its children."""
        pid_file = self.data / "postmaster.pid"
        if not pid_file.exists():
            return []
        master = int(pid_file.read_text().split()[0])
        pids = [master]
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[1]) == master:
                    pids.append(int(entry.name))
        return pids

    def crash(self):
        """kill -9 the postmaster and every backend: a power cut, as far as Postgres can tell."""
        pids = self.processes()
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        deadline = time.time() + 30
        while any(Path(f"/proc/{p}").exists() and "zombie" not in _state(p) for p in pids):
            assert time.time() < deadline, "processes survived kill -9"
            time.sleep(0.1)
        # The killed postmaster may linger as an unreaped zombie in this
        # sandbox, and Postgres would take it for a live one: after a real
        # power cut the pid file names no process, so remove it.
        (self.data / "postmaster.pid").unlink(missing_ok=True)
        for f in self.sock.glob(f".s.PGSQL.{self.port}*"):
            f.unlink(missing_ok=True)

    def conninfo(self, db="postgres"):
        """libpq connection string."""
        return f"host={self.sock} port={self.port} user=postgres dbname={db}"

    def connect(self, db="postgres", **kw):
        """An autocommit psycopg connection."""
        return psycopg.connect(self.conninfo(db), autocommit=True, **kw)

    def replica(self, root: Path, port: int) -> "Cluster":
        """A streaming replica made with pg_basebackup over the unix socket."""
        rep = Cluster(root, port)
        shutil.rmtree(rep.root, ignore_errors=True)
        rep.root.mkdir(parents=True)
        rep.root.chmod(0o755)
        chown_pg(rep.root)
        rep.sock.mkdir()
        chown_pg(rep.sock)
        run_as_pg(
            PG_BIN / "pg_basebackup", "-h", self.sock, "-p", self.port, "-U", "postgres",
            "-D", rep.data, "-R", "-X", "stream", "-c", "fast",
        )
        rep.configure("")
        return rep.start()


def _state(pid):
    """The process state line of /proc/PID/status ('' when gone)."""
    try:
        return next(l for l in Path(f"/proc/{pid}/status").read_text().splitlines() if l.startswith("State"))
    except (OSError, StopIteration):
        return "zombie"


def wait_replay(primary: Cluster, replica: Cluster, timeout=60):
    """Waits until the replica has replayed everything the primary wrote so far."""
    with primary.connect() as p:
        target = p.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
    deadline = time.time() + timeout
    with replica.connect() as r:
        while True:
            done = r.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (target,)).fetchone()[0]
            if done:
                return
            assert time.time() < deadline, "replica did not catch up"
            time.sleep(0.1)
