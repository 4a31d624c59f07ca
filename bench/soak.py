"""Soak (``make soak``, not part of ``make test``): gunicorn with 2 workers (4 threads each) on
the built data, 50 concurrent clients for ``SOAK_SECONDS`` (default 300) mixing the map page,
the API, nearby, search, planner downloads and reports.

Each client has its own loopback address (127.0.0.11, 127.0.0.12, ...), as distinct visitors
have, so the per-client limits apply to each (a client past its limit gets 429, which counts as
handled). Passes when no answer is a 5xx or a failed connection and the resident memory of the
workers grows by less than 10% from the first minute to the last (windows of a quarter of the
run when it is shorter than four minutes). Prints the figures and writes build/soak.json.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter, defaultdict
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.servers import ROOT, Gunicorn, rss_mb

CLIENTS = int(os.environ.get("SOAK_CLIENTS", "50"))
SECONDS = float(os.environ.get("SOAK_SECONDS", "300"))
THINK_S = float(os.environ.get("SOAK_THINK_MS", "200")) / 1000
MAX_GROWTH = 0.10
SEARCHES = ("mật ong", "tra", "Hội An", "Tam Kỳ", "nước mắm", "sâm", "Đại Lộc", "gạo")


def _edition(r: random.Random) -> str:
    return r.choice(("2020", "2025"))


def _nearby(r: random.Random) -> str:
    return f"/api/nearby?lat={r.uniform(15, 16):.4f}&lon={r.uniform(107.5, 108.6):.4f}"


def _search(r: random.Random) -> str:
    return "/api/search?q=" + urllib.parse.quote_plus(r.choice(SEARCHES))


def _download(r: random.Random) -> str:
    return f"/planner/download.{r.choice(('csv', 'xlsx', 'geojson'))}?target={r.randint(1, 3)}"


def _png(r: random.Random) -> str:
    return f"/report/coverage.png?width={r.choice((600, 800, 1200))}&target={r.randint(1, 3)}"


def _pdf(r: random.Random) -> str:
    return f"/report/coverage.pdf?target={r.randint(1, 3)}&min_stars={r.randint(3, 4)}"


# (kind, weight, path maker)
MIX = (
    ("map", 10, lambda r: f"/?edition={_edition(r)}"),
    ("api", 3, lambda r: f"/api/boundaries.topojson?edition={_edition(r)}"),
    ("api", 3, lambda r: f"/api/coverage/status.json?edition={_edition(r)}"),
    ("api", 4, lambda r: f"/api/communes.geojson?target={r.randint(1, 5)}"),
    ("api", 4, lambda r: f"/api/coverage/summary?min_stars={r.randint(3, 5)}"),
    ("api", 4, lambda r: f"/api/coverage?status=all&target={r.randint(1, 3)}"),
    ("api", 3, lambda r: "/api/producers.geojson"),
    ("nearby", 10, _nearby),
    ("nearby", 2, lambda r: "/nearby"),
    ("search", 8, _search),
    ("planner", 3, lambda r: "/planner"),
    ("download", 2, _download),
    ("progress", 2, lambda r: f"/api/coverage/progress?target={r.randint(1, 5)}"),
    ("report", 2, _png),
    ("report", 1, _pdf),
)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))] if ordered else 0.0


class Results:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.status: Counter = Counter()
        self.errors: list[str] = []
        self.server_errors: list[str] = []

    def add(self, kind: str, path: str, status: int, seconds: float) -> None:
        with self.lock:
            self.latency[kind].append(seconds * 1000)
            self.status[status] += 1
            if status >= 500:
                self.server_errors.append(f"{status} {path}")


def client(n: int, port: int, until: float, results: Results) -> None:
    """One visitor: requests from the mix, with a think time, on its own loopback address."""
    rng = random.Random(n)
    kinds = [entry for entry in MIX for _ in range(entry[1])]
    source = (f"127.0.0.{11 + n}", 0)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120, source_address=source)
    while time.monotonic() < until:
        kind, _weight, make = rng.choice(kinds)
        path = make(rng)
        started = time.perf_counter()
        try:
            connection.request("GET", path, headers={"Accept-Encoding": "br, gzip"})
            response = connection.getresponse()
            response.read()
            results.add(kind, path, response.status, time.perf_counter() - started)
            if response.getheader("Connection", "").lower() == "close":
                connection.close()
        except (OSError, http.client.HTTPException, ValueError) as exc:
            with results.lock:
                results.errors.append(f"{path}: {exc!r}")
            connection.close()
            connection = http.client.HTTPConnection(
                "127.0.0.1", port, timeout=120, source_address=source
            )
        time.sleep(rng.uniform(0, 2 * THINK_S))
    connection.close()


def warm_every_kind(port: int) -> None:
    """Each request of the mix a few times first (from its own address), so that the first
    use of a library (matplotlib, openpyxl) is not counted as memory growth."""
    rng = random.Random(0)
    for _ in range(4):
        for _kind, _weight, make in MIX:
            connection = http.client.HTTPConnection(
                "127.0.0.1", port, timeout=120, source_address=("127.0.0.2", 0)
            )
            connection.request("GET", make(rng))
            connection.getresponse().read()
            connection.close()


def sample_memory(server: Gunicorn, until: float, samples: list[tuple[float, float]]) -> None:
    start = time.monotonic()
    while time.monotonic() < until:
        total = sum(rss_mb(pid) for pid in server.worker_pids())
        samples.append((time.monotonic() - start, total))
        time.sleep(2)


def memory_growth(samples: list[tuple[float, float]], seconds: float) -> tuple[float, float, float]:
    """(mean RSS of the first window, of the last window, growth share); window = a minute,
    or a quarter of a shorter run."""
    window = min(60.0, seconds / 4)
    first = [mb for t, mb in samples if t <= window]
    last = [mb for t, mb in samples if t >= seconds - window]
    before, after = statistics.mean(first), statistics.mean(last)
    return before, after, (after - before) / before


def main() -> int:
    folder = Path(tempfile.mkdtemp(prefix="geoapp-soak-"))
    env = {
        "GEOAPP_TILE_URL": "none",
        "GEOAPP_VERSIONS_DIR": str(folder / "versions"),
        "GEOAPP_RATELIMIT_STORAGE_URI": f"sqlite:///{folder / 'limits.sqlite3'}",
        "GEOAPP_BENCH_ROUTES": "1",
    }
    results = Results()
    samples: list[tuple[float, float]] = []
    port = int(os.environ.get("SOAK_PORT", "5322"))
    with Gunicorn("wsgi:app", workers=2, threads=4, env=env, port=port) as server:
        print(f"soak: warming 2 workers on :{port} ...", flush=True)
        server.wait_warm()
        warm_every_kind(server.port)
        print(f"soak: {CLIENTS} clients for {SECONDS:g} s", flush=True)
        until = time.monotonic() + SECONDS
        threads = [
            threading.Thread(target=client, args=(n, server.port, until, results))
            for n in range(CLIENTS)
        ]
        threads.append(threading.Thread(target=sample_memory, args=(server, until, samples)))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    everything = [ms for values in results.latency.values() for ms in values]
    before, after, growth = memory_growth(samples, SECONDS)
    summary = {
        "clients": CLIENTS,
        "seconds": SECONDS,
        "requests": len(everything),
        "requests_per_s": round(len(everything) / SECONDS, 1),
        "status": dict(sorted(results.status.items())),
        "server_errors": len(results.server_errors),
        "connection_errors": len(results.errors),
        "p50_ms": round(percentile(everything, 0.5), 1),
        "p99_ms": round(percentile(everything, 0.99), 1),
        "p99_ms_by_kind": {
            kind: round(percentile(values, 0.99), 1)
            for kind, values in sorted(results.latency.items())
        },
        "rss_mb_first_window": round(before, 1),
        "rss_mb_last_window": round(after, 1),
        "rss_growth_percent": round(growth * 100, 1),
    }
    out = ROOT / "build" / "soak.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary, indent=2))
    for line in (results.server_errors + results.errors)[:20]:
        print("  ", line)
    ok = not results.server_errors and not results.errors and growth < MAX_GROWTH
    print("soak:", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
