"""A missing or damaged data file: 503 saying how to rebuild it, never the server's path."""

from __future__ import annotations

import pytest

from geoapp.config import PROJECT_ROOT
from tests.tiny_data import tiny_app


@pytest.mark.parametrize(
    ("removed", "url", "rebuild"),
    [
        ("boundaries/communes_2025_display.parquet", "/api/communes.geojson?edition=2025",
         "make data"),
        ("boundaries/communes_2025_display.parquet", "/?edition=2025&lang=en", "make data"),
        ("boundaries/crosswalk_2020_2025.csv", "/api/coverage?edition=2025", "make data"),
        ("ocop/outlets.csv", "/api/outlets.geojson", "make ocop-data"),
    ],
)  # fmt: skip
def test_missing_file_is_a_503_with_the_rebuild_command_and_no_path(
    tmp_path, removed, url, rebuild
):
    app = tiny_app(tmp_path)
    data_dir = app.extensions["geoapp"].settings.data_dir
    (data_dir / removed).unlink()
    response = app.test_client().get(url)
    assert response.status_code == 503
    text = response.get_data(as_text=True)
    assert rebuild in text and "flask --app wsgi" in text
    for secret in (str(tmp_path), str(data_dir), str(PROJECT_ROOT), "/tmp/", ".parquet"):
        assert secret not in text, secret
    if url.startswith("/api/"):
        assert response.get_json()["error"] == "data not available"


def test_damaged_boundary_file_is_a_503_too(tmp_path):
    app = tiny_app(tmp_path)
    path = (
        app.extensions["geoapp"].settings.data_dir / "boundaries" / "districts_2020_display.parquet"
    )
    path.write_bytes(b"PAR1 damaged")
    response = app.test_client().get("/api/districts.geojson")
    body = response.get_json()
    assert response.status_code == 503 and "unreadable" in body["message"]
    assert str(tmp_path) not in response.get_data(as_text=True)
