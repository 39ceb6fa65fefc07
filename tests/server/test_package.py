"""The Debian package from scripts/package.sh (postgresql-MAJOR-pgvision for
the server the tests run against: 15, 16, 17 or 18), installed with dpkg
into a clean PostgreSQL (a copy of the server without pgvision, with a dpkg
database of its own): its postinst verifies the bundled files offline,
CREATE EXTENSION pgvision and image_embed work from the package's files
alone, and removing the package takes every file away."""
import io
import os
import re
import shutil
import subprocess
from pathlib import Path

import psycopg
from PIL import Image

from harness import PG_BIN, chown_pg, run_as_pg

ROOT = Path(__file__).resolve().parents[2]
STATE = ROOT / ".pgvision" / "server-tests"
PORT = int(os.environ.get("PGV_TEST_PORT", "54360")) + 11


def pg_config(flag):
    """One path of the server the tests run against."""
    return subprocess.run([str(PG_BIN / "pg_config"), flag], check=True, capture_output=True,
                          text=True).stdout.strip()


def clean_server(root: Path, major: str):
    """A copy of the test server at Debian's paths under `root` (programs
    and libraries in /usr/lib/postgresql/MAJOR, shared files in
    /usr/share/postgresql/MAJOR), where the package puts its files, with
    every pgvision file taken out; and an empty dpkg database there.
    Returns its lib and extension folders.

    Debian's own PostgreSQL 15 has that layout. The relocatable servers of
    16, 17 and 18 (from PyPI) look for their files below their programs'
    folder (lib/postgresql, share/postgresql): in the copy those become
    links to Debian's places, so the server loads what the package
    installed there and nothing else."""
    shutil.rmtree(root, ignore_errors=True)
    prefix = PG_BIN.parent
    lib_root = root / "usr/lib/postgresql" / major
    share = root / "usr/share/postgresql" / major
    shutil.copytree(prefix, lib_root, symlinks=True)
    shutil.copytree(pg_config("--sharedir"), share, symlinks=True)
    lib, ext = lib_root / "lib", share / "extension"
    for p in [lib / "pgvision.so", *ext.glob("pgvision*")]:
        shutil.rmtree(p) if p.is_dir() and not p.is_symlink() else p.unlink(missing_ok=True)
    own_share, own_lib = Path(pg_config("--sharedir")), Path(pg_config("--pkglibdir"))
    if own_share.is_relative_to(prefix):
        copied = lib_root / own_share.relative_to(prefix)
        shutil.rmtree(copied)
        copied.symlink_to(share)
    # They find their bundled libraries through an $ORIGIN-relative RPATH,
    # outside their folder: the copy gets a link to the same libraries.
    dynamic = subprocess.run(["readelf", "-d", *map(str, PG_BIN.iterdir())], capture_output=True,
                             text=True).stdout
    for paths in re.findall(r"\((?:RPATH|RUNPATH)\)[^\[]*\[([^\]]*)\]", dynamic):
        for entry in paths.split(":"):
            if entry.startswith("$ORIGIN/"):
                rel = entry[len("$ORIGIN/"):]
                own, copied = (PG_BIN / rel).resolve(), Path(os.path.normpath(lib_root / "bin" / rel))
                if own.is_dir() and not copied.exists():
                    copied.parent.mkdir(parents=True, exist_ok=True)
                    copied.symlink_to(own)
    if own_lib != prefix / "lib" and own_lib.is_relative_to(prefix):
        copied = lib_root / own_lib.relative_to(prefix)
        (copied / "pgvision.so").unlink(missing_ok=True)
        (copied / "pgvision.so").symlink_to(lib / "pgvision.so")
    db = root / "var/lib/dpkg"
    for sub in ("info", "updates", "triggers"):
        (db / sub).mkdir(parents=True, exist_ok=True)
    (db / "status").touch()
    return lib, ext


def dpkg(root: Path, *args):
    """dpkg on the copy's own database (dependencies are the host's; the
    maintainer scripts run outside a chroot with DPKG_ROOT set)."""
    return subprocess.run(["dpkg", f"--root={root}", "--force-depends", "--force-script-chrootless",
                           "--log=/dev/null", *args], capture_output=True, text=True)


def test_package_installs_and_embeds_in_a_clean_server():
    out = subprocess.run(["bash", str(ROOT / "scripts/package.sh")], check=True, capture_output=True,
                         text=True).stdout.strip().splitlines()
    deb = Path(out[-1])
    assert deb.exists() and deb.name.startswith("postgresql-") and "-pgvision_" in deb.name, out
    root = STATE / "package-root"
    major = deb.name.split("-")[1]
    lib, ext = clean_server(root, major)

    installed = dpkg(root, "-i", str(deb))
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert "CREATE EXTENSION pgvision" in installed.stdout, installed.stdout
    assert (lib / "pgvision.so").exists() and (ext / "pgvision.control").exists()
    listed = dpkg(root, "-L", deb.name.split("_")[0]).stdout
    assert "/pgvision.so" in listed and "efficientnet_lite0.onnx" in listed

    data, sock = root / "data", root / "sock"
    root.chmod(0o755)
    for d in (data, sock):
        d.mkdir()
        chown_pg(d)
    bin_dir = root / "usr/lib/postgresql" / major / "bin"
    run_as_pg(bin_dir / "initdb", "-D", data, "-A", "trust", "-U", "postgres", "--locale=C.UTF-8")
    with open(data / "postgresql.auto.conf", "a") as f:
        f.write(f"listen_addresses = ''\nport = {PORT}\nunix_socket_directories = '{sock}'\n")
    run_as_pg(bin_dir / "pg_ctl", "-D", data, "-l", sock / "log", "-w", "start")
    try:
        png = io.BytesIO()
        Image.new("RGB", (64, 48), (30, 120, 200)).save(png, "PNG")
        with psycopg.connect(f"host={sock} port={PORT} user=postgres dbname=postgres",
                             autocommit=True) as conn:
            conn.execute("CREATE EXTENSION pgvision")
            dims = conn.execute("SELECT vector_dims(image_embed(%s))", (png.getvalue(),)).fetchone()[0]
            library = conn.execute("SELECT library FROM pgvision_runtime()").fetchone()[0]
            version = conn.execute(
                "SELECT extversion FROM pg_extension WHERE extname = 'pgvision'").fetchone()[0]
        assert dims == 1280
        assert Path(library).resolve().is_relative_to((ext / "pgvision" / "lib").resolve()), library
        assert deb.name.split("_")[1].startswith(version + "-"), (deb.name, version)
    finally:
        run_as_pg(bin_dir / "pg_ctl", "-D", data, "-m", "fast", "-w", "stop", check=False)

    removed = dpkg(root, "-r", deb.name.split("_")[0])
    assert removed.returncode == 0, removed.stderr
    assert not (lib / "pgvision.so").exists()
    assert not (ext / "pgvision").exists() and not list(ext.glob("pgvision*"))
