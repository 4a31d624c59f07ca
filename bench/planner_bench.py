"""Planner timings on the real data: cold (new app, empty caches) vs warm, per request.

Run: ``.venv/bin/python -m bench.planner_bench [repeats]``. Prints the median of each
request cold and warm and their ratio, in one run.
"""

from __future__ import annotations

import statistics
import sys
import time

from geoapp import create_app

REQUESTS = (
    ("/api/coverage", "api coverage"),
    ("/api/coverage?group=Thực phẩm&min_stars=4&target=3", "api coverage, filtered"),
    ("/api/coverage/progress?district=514", "progress json, district"),
    ("/planner/progress.svg", "progress chart svg"),
    ("/api/coverage/communes/20455", "commune detail"),
    ("/planner", "planner page"),
    ("/planner/download.csv?status=all", "download csv"),
    ("/planner/download.xlsx?status=all", "download xlsx"),
    ("/planner/download.geojson?status=all", "download geojson"),
    ("/planner/download.gpkg?status=all", "download gpkg"),
)


def timed(client, url: str) -> float:
    start = time.perf_counter()
    response = client.get(url)
    elapsed = time.perf_counter() - start
    if response.status_code != 200:
        raise SystemExit(f"{url}: HTTP {response.status_code}")
    return elapsed


def main(repeats: int = 5) -> None:
    cold: dict[str, list[float]] = {url: [] for url, _ in REQUESTS}
    warm: dict[str, list[float]] = {url: [] for url, _ in REQUESTS}
    for _ in range(repeats):
        for url, _label in REQUESTS:
            client = create_app({"tile_url": "none"}).test_client()
            cold[url].append(timed(client, url))  # new app: data read and computed
            warm[url].append(timed(client, url))  # same app: caches filled
    print(f"{'request':28} {'cold ms':>9} {'warm ms':>9} {'cold/warm':>9}   (median of {repeats})")
    for url, label in REQUESTS:
        c, w = statistics.median(cold[url]) * 1000, statistics.median(warm[url]) * 1000
        print(f"{label:28} {c:9.1f} {w:9.1f} {c / w:9.1f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
