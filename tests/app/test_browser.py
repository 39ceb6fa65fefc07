"""The gallery page in Debian's headless Chromium (tests/browser/gallery.mjs,
playwright-core): pick an augmented query photo, see the grid, the first
result is its source photo; a screenshot is saved to .pgvision/artifacts/.
"""
import json
import os
import shutil
import subprocess

import pytest

from conftest import ROOT, Service, ingest, table_name

BROWSER_DIR = ROOT / "tests" / "browser"
ARTIFACTS = ROOT / ".pgvision" / "artifacts"


def test_gallery_page(pgvision_bin, dsn, photos, query_photo):
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    ready = shutil.which("node") and os.path.exists(chromium) and (BROWSER_DIR / "node_modules" / "playwright-core").is_dir()
    if not ready:
        if os.environ.get("PGVISION_REQUIRE_BROWSER"):
            pytest.fail("node, chromium or tests/browser/node_modules missing (scripts/test.sh installs them)")
        pytest.skip("node, chromium or tests/browser/node_modules missing (scripts/test.sh installs them)")
    table = table_name("gallery")
    r = ingest(pgvision_bin, dsn, photos, table)
    assert r.returncode == 0 and "loaded 20 new images" in r.stdout, r.stdout + r.stderr
    svc = Service(pgvision_bin, dsn, table)
    try:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shot = ARTIFACTS / "gallery.png"
        shot.unlink(missing_ok=True)
        query, source = query_photo
        r = subprocess.run(["node", "gallery.mjs", svc.url + "/", str(query), source, str(shot)],
                           cwd=BROWSER_DIR, capture_output=True, text=True, timeout=180)
    finally:
        err = svc.stop()
    print(r.stdout, r.stderr)
    assert r.returncode == 0, r.stdout + r.stderr + err
    seen = json.loads(r.stdout.strip().splitlines()[-1])
    assert seen["first"] == source and seen["results"] == 20
    assert seen["error"], seen
    assert shot.stat().st_size > 10_000
