"""Figures of ``/ogc`` (issue 15) on the built data, and QGIS reading it if it is installed.

Run: ``.venv/bin/python -m bench.bench_ogc [port]`` (default port 5330). Prints the medians of
items per second for ``/ogc/collections/communes_2020/items?limit=1000`` and of the latency of a
feature by id (Flask test client, warm), the time ``ogr2ogr -f GPKG`` takes to copy every
collection from a live server on 127.0.0.1 (werkzeug, threaded) and, when Debian's
``python3-qgis`` is installed (``apt-get install python3-qgis``: 232 packages, about 1 GB, not
installed by CI), the feature count QGIS's OAPIF provider reads for each collection (headless,
``QT_QPA_PLATFORM=offscreen``, Debian's own Python).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from werkzeug.serving import make_server

from geoapp import create_app
from geoapp.services.ogc_features import COLLECTIONS

ITEMS = "/ogc/collections/communes_2020/items?limit=1000"
QGIS_SCRIPT = """
import sys
from qgis.core import QgsApplication, QgsVectorLayer
app = QgsApplication([], False)
app.initQgis()
for name in sys.argv[2:]:
    layer = QgsVectorLayer(f"url='{sys.argv[1]}' typename='{name}' pageSize='50'", name, "OAPIF")
    count = sum(1 for _ in layer.getFeatures()) if layer.isValid() else -1
    print(name, count)
app.exitQgis()
"""


def median_seconds(client, url: str, repeat: int, runs: int = 7) -> float:
    client.get(url)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        for _ in range(repeat):
            assert client.get(url).status_code == 200
        times.append((time.perf_counter() - start) / repeat)
    return statistics.median(times)


def measure(port: int, qgis: bool = True) -> dict:
    """Items per second and feature-by-id latency (medians), ogr2ogr's copy time (median of
    5) and, if installed, QGIS's feature counts."""
    app = create_app({"tile_url": "none"})
    client = app.test_client()
    returned = json.loads(client.get(ITEMS).data)["numberReturned"]
    per_request = median_seconds(client, ITEMS, 20)
    first = json.loads(client.get("/ogc/collections/producers/items?limit=1").data)
    by_id = f"/ogc/collections/producers/items/{first['features'][0]['id']}"
    result = {
        "items_url": ITEMS,
        "items_returned": returned,
        "items_request_s": per_request,
        "items_per_s": returned / per_request,
        "feature_by_id_s": median_seconds(client, by_id, 100),
    }
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{port}/ogc"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            times = []
            for run in range(5):
                target = Path(tmp) / f"ocop-{run}.gpkg"
                start = time.perf_counter()
                subprocess.run(["ogr2ogr", "-f", "GPKG", str(target), f"OAPIF:{url}"], check=True)
                times.append(time.perf_counter() - start)
            result["ogr2ogr_all_collections_s"] = statistics.median(times)
        if qgis:
            result["qgis"] = _qgis_counts(url)
    finally:
        server.shutdown()
    return result


def _qgis_counts(url: str) -> str:
    system_python = shutil.which("python3", path="/usr/bin")
    names = [spec.id for spec in COLLECTIONS]
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [system_python or "python3", "-c", QGIS_SCRIPT, url, *names],
        capture_output=True, text=True, env=env, check=False, timeout=600,
    )  # fmt: skip
    return done.stdout.strip() or done.stderr.strip()[-300:]


def main(port: int) -> None:
    r = measure(port)
    print(
        f"{r['items_url']}: {r['items_returned']} items in {r['items_request_s'] * 1e3:.2f} ms, "
        f"{r['items_per_s']:,.0f} items/s"
    )
    print(f"feature by id: {r['feature_by_id_s'] * 1e3:.3f} ms")
    print(f"ogr2ogr, every collection: median {r['ogr2ogr_all_collections_s']:.2f} s of 5")
    print("QGIS (OAPIF provider):", r["qgis"])


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5330)
