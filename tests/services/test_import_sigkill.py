"""SIGKILL of `flask ocop import` at random moments: afterwards the previous version is served
intact or the new one complete, never a mix (``geoapp.storage.versions``).

Each trial copies a versions folder holding v0001, runs the CLI import of a products file into
it in a subprocess and kills it with SIGKILL after a random delay: over the whole run for some
trials, and for the others within the few hundredths of a second after validation, while the
new version is written and switched in. The delays come from a seeded generator, so a failing
trial can be replayed.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from geoapp.config import PROJECT_ROOT
from geoapp.services.imports import TABLE_FILES, ImportService, read_text_tables
from geoapp.storage.versions import MANIFEST, VersionStore
from tests.tiny_data import tiny_app

TRIALS_WHOLE_RUN = 8
TRIALS_WHILE_WRITING = 12
PRODUCTS = (
    "product_id,name,group_148,stars,recognition_date,producer_id\n"
    "K1,Mật ong mới,Thực phẩm,4,2024-05-10,PR1\n"
    "K2,Trà mới,Đồ uống,3,2023-03-01,NP1\n"
)
PRODUCERS = "producer_id,name,producer_type,commune_code\nNP1,HTX Mới,cooperative,10002\n"
FLASK = Path(sys.executable).with_name("flask")


def tables(folder: Path) -> dict[str, pd.DataFrame]:
    """A version's tables as text, without the import time (it differs between runs)."""
    out = read_text_tables(folder)
    return {k: f.drop(columns=["imported_at"], errors="ignore") for k, f in out.items()}


def same(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> bool:
    return all(a[k].equals(b[k]) for k in TABLE_FILES)


class Importer:
    """Runs the CLI import into copies of a versions folder that holds v0001."""

    def __init__(self, tmp_path: Path) -> None:
        app = tiny_app(tmp_path / "base", as_of="2024-12-31")
        settings = app.extensions["geoapp"].settings
        service = ImportService(app.extensions["geoapp"].store, settings)
        plan = service.plan([("producers.csv", PRODUCERS.encode())])
        assert plan.ok, plan.report.to_text()
        assert service.apply(plan) == "v0001"
        self.data_dir = settings.data_dir
        self.base = settings.ocop_versions_dir
        self.incoming = tmp_path / "products.csv"
        self.incoming.write_text(PRODUCTS, encoding="utf-8")
        self.tmp_path = tmp_path

    def start(self, name: str) -> tuple[subprocess.Popen, Path]:
        root = self.tmp_path / name
        shutil.copytree(self.base, root)
        env = {
            **os.environ,
            "GEOAPP_DATA_DIR": str(self.data_dir),
            "GEOAPP_VERSIONS_DIR": str(root),
            "GEOAPP_TILE_URL": "none",
            "PYTHONPATH": str(PROJECT_ROOT),
        }
        child = subprocess.Popen(
            [str(FLASK), "--app", "wsgi", "ocop", "import", str(self.incoming)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=PROJECT_ROOT,
        )
        return child, root


def check_state(root: Path, before: dict, after: dict) -> str:
    """The invariant after a kill; returns which state was found: "old" (perhaps with a
    half-written or unswitched version beside it) or "new"."""
    store = VersionStore(root)
    json.loads(store.pointer_path.read_text(encoding="utf-8"))  # never a half-written pointer
    for name in store.names():  # every listed version is complete and readable
        folder = root / name
        assert all((folder / f).exists() for f in TABLE_FILES.values()), name
        json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        tables(folder)
    current = store.current()
    served = tables(root / current)
    if current == "v0001":
        assert same(served, before), "the previous version changed"
        left = list(root.glob(".tmp-*")) + [p for p in root.glob("v0002") if p.is_dir()]
        return "old, killed while writing" if left else "old"
    assert current == "v0002", current
    assert same(served, after), "the new version is incomplete or mixed"
    return "new"


def test_sigkill_at_random_moments_leaves_old_or_new_never_a_mix(tmp_path):
    importer = Importer(tmp_path)
    before = tables(importer.base / "v0001")
    # an uninterrupted run: the new version, and how long each phase takes
    child, root = importer.start("reference")
    started = time.perf_counter()
    out, err = child.communicate(timeout=120)
    total = time.perf_counter() - started
    assert child.returncode == 0 and "imported as v0002" in out, err[-2000:]
    after = tables(root / "v0002")
    assert not same(after, before) and "K2" in set(after["products"]["product_id"])

    rng = random.Random(12)
    found = {"old": 0, "old, killed while writing": 0, "new": 0}
    plans = [("whole", rng.uniform(0.05, total)) for _ in range(TRIALS_WHOLE_RUN)]
    plans += [("writing", rng.uniform(0.0, 0.15)) for _ in range(TRIALS_WHILE_WRITING)]
    for number, (kind, delay) in enumerate(plans):
        child, root = importer.start(f"trial-{number}")
        try:
            if kind == "writing":  # validated: the next step writes the version
                line = child.stdout.readline()
                assert "0 error(s)" in line, (line, child.stderr.read()[-2000:])
            time.sleep(delay)
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=60)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
        found[check_state(root, before, after)] += 1
    assert sum(found.values()) == TRIALS_WHOLE_RUN + TRIALS_WHILE_WRITING >= 20
    assert found["new"] and sum(found.values()) > found["new"], found  # both sides of the switch
    print(f"SIGKILL trials: {found} (uninterrupted run {total:.2f} s)")
