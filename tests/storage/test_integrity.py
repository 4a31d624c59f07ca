"""Damaged or missing data is found at start-up (the service refuses to start) and by /healthz."""

from __future__ import annotations

import json

import pytest

from geoapp import create_app
from geoapp.storage.integrity import DataDamagedError
from tests.tiny_data import tiny_app, write_tiny_data


def settings(tmp_path):
    data = write_tiny_data(tmp_path / "data")
    return data, {"data_dir": data, "versions_dir": tmp_path / "versions", "testing": True}


def test_intact_data_starts(tmp_path):
    _, config = settings(tmp_path)
    assert create_app(config).test_client().get("/healthz").get_json()["status"] == "ok"


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda b: (b / "communes_2020_display.parquet").unlink(), "is missing"),
        (lambda b: (b / "districts_2020.parquet").write_bytes(b"PAR1 not a table"), "damaged"),
        (lambda b: (b / "manifest.json").unlink(), "manifest.json is missing"),
        (lambda b: (b / "manifest.json").write_text("{"), "unreadable"),
        (lambda b: (b / "manifest.json").write_text('{"build_version": "x"}'), "no file checksums"),
    ],
)
def test_damaged_boundaries_refuse_to_start_with_the_rebuild_command(tmp_path, damage, message):
    data, config = settings(tmp_path)
    damage(data / "boundaries")
    with pytest.raises(DataDamagedError, match=message) as raised:
        create_app(config)
    assert "make data" in str(raised.value)
    assert str(tmp_path) not in str(raised.value)  # no absolute paths


@pytest.mark.parametrize(
    ("pointer", "message"),
    [
        ("not json", "CURRENT is damaged"),
        ('{"events": []}', "CURRENT is damaged"),
        ('{"current": "v0009", "events": []}', "incomplete"),
    ],
)
def test_a_damaged_version_pointer_refuses_to_start(tmp_path, pointer, message):
    _, config = settings(tmp_path)
    (tmp_path / "versions").mkdir()
    (tmp_path / "versions" / "CURRENT").write_text(pointer)
    with pytest.raises(DataDamagedError, match=message):
        create_app(config)


def test_the_check_can_be_skipped_to_rebuild(tmp_path):
    data, config = settings(tmp_path)
    (data / "boundaries" / "manifest.json").unlink()
    assert create_app({**config, "check_data": False}) is not None


def test_healthz_turns_degraded_when_a_file_goes_after_start(tmp_path):
    app = tiny_app(tmp_path)
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    boundaries = tmp_path / "data" / "boundaries"
    (boundaries / "communes_2025.parquet").unlink()
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "degraded"
    assert any("communes_2025.parquet is missing" in p for p in body["problems"])
    assert str(tmp_path) not in response.get_data(as_text=True)


def test_healthz_turns_degraded_on_a_damaged_file_or_pointer(tmp_path):
    app = tiny_app(tmp_path)
    client = app.test_client()
    boundaries = tmp_path / "data" / "boundaries"
    original = (boundaries / "crosswalk_2020_2025.csv").read_bytes()
    (boundaries / "crosswalk_2020_2025.csv").write_bytes(original + b"x")
    assert client.get("/healthz").status_code == 503
    (boundaries / "crosswalk_2020_2025.csv").write_bytes(original)
    assert client.get("/healthz").status_code == 200
    (tmp_path / "versions").mkdir(exist_ok=True)
    (tmp_path / "versions" / "CURRENT").write_text(json.dumps({"current": 3}))
    assert client.get("/healthz").get_json()["status"] == "degraded"
    (tmp_path / "data" / "ocop" / "outlets.csv").unlink()
    (tmp_path / "versions" / "CURRENT").unlink()
    problems = client.get("/healthz").get_json()["problems"]
    assert problems == ["data/ocop lacks outlets.csv: run `flask --app wsgi ocop build`"]
