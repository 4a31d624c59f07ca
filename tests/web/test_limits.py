"""Per-client limits of the expensive answers: 429 in JSON, shared by workers, cached is free."""

from __future__ import annotations

import pytest

from geoapp.web import limits
from tests.tiny_data import tiny_app


def test_rendered_reports_are_limited_per_client(tmp_path):
    client = tiny_app(
        tmp_path, ratelimit_enabled=True, ratelimit_reports="3 per minute"
    ).test_client()
    for width in (300, 301, 302):
        assert client.get(f"/report/coverage.png?width={width}").status_code == 200
    response = client.get("/report/coverage.pdf")
    assert response.status_code == 429
    body = response.get_json()
    assert body["error"] == "too many requests" and body["limit"] == "3 per 1 minute"
    assert int(response.headers["Retry-After"]) > 0
    # another client has its own allowance; the cheap pages are not limited
    other = client.get("/report/coverage.png", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 200
    assert client.get("/healthz").status_code == 200
    assert client.get("/api/coverage/summary").status_code == 200


def test_equivalent_requests_share_one_cache_entry_and_are_not_counted(tmp_path):
    app = tiny_app(tmp_path, ratelimit_enabled=True, ratelimit_reports="2 per minute")
    client = app.test_client()
    first = "/report/coverage.png?target=2&width=1200&group_taxonomy=2019&lang=en"
    assert client.get(first).status_code == 200
    # same report: parameters reordered, defaults omitted, the taxonomy without a group
    for same in ("/report/coverage.png?lang=en", "/report/coverage.png?width=1200&lang=en"):
        response = client.get(same, headers={"Accept-Language": "vi"})
        assert response.status_code == 200, same
    assert client.get("/report/coverage.png?width=301&lang=en").status_code == 200
    assert client.get("/report/coverage.png?width=302&lang=en").status_code == 429


def test_downloads_and_progress_are_limited(tmp_path):
    client = tiny_app(tmp_path, ratelimit_enabled=True, ratelimit_data="2 per minute").test_client()
    assert client.get("/api/coverage/progress").status_code == 200
    assert client.get("/api/coverage/progress").status_code == 200  # cached: not counted
    assert client.get("/planner/download.csv").status_code == 200
    response = client.get("/planner/download.csv?status=all")
    assert response.status_code == 429 and response.is_json


def test_two_workers_share_the_count_in_the_sqlite_storage(tmp_path):
    uri = f"sqlite:///{tmp_path / 'limits.sqlite3'}"
    settings = {
        "ratelimit_enabled": True,
        "ratelimit_data": "3 per minute",
        "ratelimit_storage_uri": uri,
    }
    one = tiny_app(tmp_path / "one", **settings).test_client()
    two = tiny_app(tmp_path / "two", **settings).test_client()
    assert one.get("/planner/download.csv").status_code == 200
    assert two.get("/planner/download.csv").status_code == 200
    assert one.get("/planner/download.csv").status_code == 200
    assert two.get("/planner/download.csv").status_code == 429


def test_the_default_storage_is_shared_outside_testing(tmp_path):
    from geoapp.config import load_settings

    settings = load_settings({"data_dir": tmp_path / "data"}, environ={})
    assert limits.storage_uri(settings) == (
        f"sqlite:///{tmp_path / 'instance' / limits.RATE_LIMITS_FILE}"
    )
    assert limits.storage_uri(load_settings({"testing": True}, environ={})) == "memory://"


def test_a_bad_rate_is_refused_at_start_up(tmp_path):
    from geoapp.config import ConfigError

    with pytest.raises(ConfigError, match="GEOAPP_RATELIMIT_REPORTS"):
        tiny_app(tmp_path, ratelimit_reports="often")


def test_a_worker_with_every_render_slot_taken_answers_busy_at_once(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "RENDER_SLOTS", 0)
    client = tiny_app(tmp_path).test_client()
    response = client.get("/report/coverage.pdf")
    assert response.status_code == 429 and int(response.headers["Retry-After"]) >= 1
    assert "busy" in response.get_json()["message"]
    assert client.get("/healthz").status_code == 200  # the rest is answered


def test_limits_are_off_in_testing_unless_asked_for(tmp_path):
    client = tiny_app(tmp_path / "a", ratelimit_reports="1 per minute").test_client()
    assert [client.get(f"/report/coverage.png?width={w}").status_code for w in (300, 301)] == [
        200,
        200,
    ]


def test_one_computation_at_a_time_across_workers(tmp_path):
    one = limits.RenderLock(tmp_path / "render.lock", wait_s=0.2)
    two = limits.RenderLock(tmp_path / "render.lock", wait_s=0.2)  # another worker's
    with one.held():
        with one.held():  # re-entrant in its thread
            pass
        with pytest.raises(limits.Busy), two.held():  # the other waits, then gives up
            pass
    with two.held():  # free again
        pass
