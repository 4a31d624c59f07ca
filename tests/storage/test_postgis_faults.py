"""Database down: 503 with a clear message within 2 s, /healthz says so, and the service
recovers by itself once the server is back (a server of its own, stopped and restarted while
requests keep coming)."""

from __future__ import annotations

import threading
import time

import pytest

from geoapp.storage import pg_schema
from geoapp.storage.pg_database import Database
from tests.storage.conftest import close_pools, database_url, pg_app
from tests.storage.pg_server import PgServer
from tests.tiny_data import write_tiny_data

URLS = ["/healthz", "/api/coverage?edition=2020", "/", "/api/nearby?lat=15.6&lon=108.1"]


@pytest.fixture()
def server():
    database_url()  # the same rule as every PostGIS test: skip locally, fail in CI without one
    server = PgServer().init()
    server.start()
    yield server
    close_pools("geoapp")
    server.remove()


def page_text(client) -> str:
    return client.get("/").get_data(as_text=True)


def timed_get(client, url: str) -> tuple[int, float, dict | None]:
    started = time.perf_counter()
    response = client.get(url)
    elapsed = time.perf_counter() - started
    body = response.get_json(silent=True)
    return response.status_code, elapsed, body


def test_database_down_gives_503_fast_and_recovers_by_itself(server, tmp_path):
    db = Database(server.url, "geoapp")
    pg_schema.upgrade(db)
    app = pg_app(db, write_tiny_data(tmp_path / "data"), tmp_path / "versions")
    client = app.test_client()
    for url in URLS:
        assert client.get(url).status_code == 200, url

    # Under load: four threads keep asking while the server goes down and comes back.
    answers: list[tuple[int, float]] = []
    stop = threading.Event()

    def hammer(url: str) -> None:
        own = app.test_client()
        while not stop.is_set():
            status, elapsed, _ = timed_get(own, url)
            answers.append((status, elapsed))

    threads = [threading.Thread(target=hammer, args=(u,)) for u in URLS]
    for thread in threads:
        thread.start()
    try:
        time.sleep(0.5)
        server.stop()
        time.sleep(2.0)
        for url in URLS:
            status, elapsed, body = timed_get(client, url)
            assert status == 503, url
            assert elapsed < 2.0, (url, elapsed)
        status, _, body = timed_get(client, "/healthz")
        assert body["error"] == "database unavailable"
        assert body["message"] == "the database is not reachable now; the service retries by itself"
        assert "127.0.0.1" not in page_text(client) and str(server.port) not in body["message"]
        page = client.get("/")
        assert "database unavailable" in page.get_data(as_text=True)
        assert page.headers["Retry-After"] == "5"

        server.start()
        back_at = time.perf_counter()
        while client.get("/healthz").status_code != 200:
            assert time.perf_counter() - back_at < 30, "no recovery within 30 s"
            time.sleep(0.2)
        recovered_s = time.perf_counter() - back_at
        time.sleep(0.5)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
    slowest_503 = max(elapsed for status, elapsed in answers if status == 503)
    print(f"recovered {recovered_s:.2f} s after the restart; {len(answers)} answers under load,"
          f" slowest 503 {slowest_503:.3f} s")  # fmt: skip
    for url in URLS:
        assert client.get(url).status_code == 200, url
    assert {status for status, _ in answers} <= {200, 503}
    assert slowest_503 < 2.0
    assert answers[-1][0] == 200
