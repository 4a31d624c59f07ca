"""Server time in-process (Flask test client, Accept-Encoding: gzip, the real built data).

Run in a fresh process (``python bench/server_time.py``): the app is created, then every URL
is requested once in the order a first visit loads them (cold: the first build after start),
then ``--repeat`` more times (warm). Prints one JSON object: seconds per URL.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HEADERS = {"Accept-Encoding": "gzip"}


def visit_urls() -> list[str]:
    """A first visit of each edition (page, boundaries, status, producers, outlets), then the
    API layers other clients ask for."""
    urls = []
    for edition in ("2020", "2025"):
        urls += [
            f"/?edition={edition}",
            f"/api/boundaries.topojson?edition={edition}",
            f"/api/coverage/status.json?edition={edition}",
            "/api/producers.geojson",
            "/api/outlets.geojson",
            f"/api/map.topojson?edition={edition}",
            f"/api/communes.geojson?edition={edition}",
            f"/api/districts.geojson?edition={edition}",
        ]
    return list(dict.fromkeys(urls))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=300)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    from geoapp import create_app

    app = create_app({"tile_url": "none"})
    client = app.test_client()
    startup_s = time.perf_counter() - started
    cold: dict[str, float] = {}
    statuses: dict[str, int] = {}
    for url in visit_urls():
        started = time.perf_counter()
        response = client.get(url, headers=HEADERS)
        cold[url] = time.perf_counter() - started
        statuses[url] = response.status_code
    warm: dict[str, dict[str, float]] = {}
    for url in visit_urls():
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            client.get(url, headers=HEADERS)
            times.append(time.perf_counter() - started)
        times.sort()
        warm[url] = {
            "p50_s": statistics.median(times),
            "p90_s": times[int(0.9 * (len(times) - 1))],
        }
    print(json.dumps({"startup_s": startup_s, "cold_s": cold, "warm": warm, "status": statuses}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
