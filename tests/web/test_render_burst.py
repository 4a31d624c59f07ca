"""A burst of distinct PDF reports against gunicorn (2 workers, the threads of gunicorn.conf.py)
leaves /healthz fast: a worker works on a few reports at once and refuses more at once (429
busy), the reports of one client past its limit are refused at once (429), and the worker's
other threads answer the rest."""

from __future__ import annotations

import itertools
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from bench.servers import Gunicorn

pytestmark = pytest.mark.realdata

PORT = 5321
HEALTHZ_P99_MS = 100
DATES = ("2023-06-30", "2023-12-31", "2024-06-30", "2024-12-31")


def app_env(tmp_path: Path) -> dict[str, str]:
    """The built data; versions and rate-limit counters under ``tmp_path``; /bench/warm on."""
    return {
        "GEOAPP_TILE_URL": "none",
        "GEOAPP_VERSIONS_DIR": str(tmp_path / "versions"),
        "GEOAPP_RATELIMIT_STORAGE_URI": f"sqlite:///{tmp_path / 'limits.sqlite3'}",
        "GEOAPP_BENCH_ROUTES": "1",
    }


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def test_a_pdf_burst_keeps_healthz_under_100_ms_p99(tmp_path):
    with Gunicorn("wsgi:app", workers=2, env=app_env(tmp_path), port=PORT) as server:
        server.wait_warm()
        url = server.url
        distinct = [
            f"{url}/report/coverage.pdf?target={t}&min_stars={s}&as_of={d}"
            for t, s, d in itertools.product((1, 2, 3), (3, 4), DATES)
        ]  # 24 distinct reports, more than one client may have rendered in a minute
        idle = []  # the same probes before the burst: what the machine gives now
        for _ in range(100):
            started = time.perf_counter()
            requests.get(url + "/healthz", timeout=10)
            idle.append((time.perf_counter() - started) * 1000)
            time.sleep(0.02)
        latencies: list[float] = []
        health: list[int] = []
        done = threading.Event()

        def poll_healthz():
            while not done.is_set():
                started = time.perf_counter()
                try:
                    health.append(requests.get(url + "/healthz", timeout=10).status_code)
                except requests.RequestException as exc:
                    health.append(repr(exc))
                latencies.append((time.perf_counter() - started) * 1000)
                time.sleep(0.02)

        poller = threading.Thread(target=poll_healthz)
        poller.start()
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(lambda u: requests.get(u, timeout=120).status_code, distinct))
        burst_s = time.monotonic() - started
        done.set()
        poller.join()
    p99 = percentile(latencies, 0.99)
    print(
        f"PDF burst: {len(distinct)} requests in {burst_s:.1f} s "
        f"({statuses.count(200)} rendered or cached, {statuses.count(429)} refused); "
        f"/healthz {len(latencies)} probes: median {statistics.median(latencies):.1f} ms, "
        f"p99 {p99:.1f} ms, max {max(latencies):.1f} ms; before the burst: median "
        f"{statistics.median(idle):.1f} ms, p99 {percentile(idle, 0.99):.1f} ms"
    )
    assert set(statuses) <= {200, 429} and statuses.count(200) >= 4
    assert set(health) == {200} and len(latencies) >= 20
    assert p99 < HEALTHZ_P99_MS
