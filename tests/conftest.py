"""Shared fixtures: an app on the tiny data set, and one on the real built data."""

from __future__ import annotations

from pathlib import Path

import pytest

from geoapp import create_app
from geoapp.config import PROJECT_ROOT
from tests.tiny_data import write_tiny_data

SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"
REAL_DATA_DIR = PROJECT_ROOT / "data"


@pytest.fixture(scope="session")
def tiny_data_dir(tmp_path_factory) -> Path:
    return write_tiny_data(tmp_path_factory.mktemp("tiny-data"))


@pytest.fixture()
def tiny_app(tiny_data_dir):
    return create_app(
        {"data_dir": tiny_data_dir, "testing": True, "as_of": "2024-12-31", "tile_url": "none"}
    )


@pytest.fixture()
def client(tiny_app):
    return tiny_app.test_client()


@pytest.fixture(scope="session")
def real_app():
    if not (REAL_DATA_DIR / "boundaries" / "manifest.json").exists():
        pytest.fail("data/boundaries is not built: run `make data` (make test does it)")
    return create_app({"testing": True, "tile_url": "none"})


@pytest.fixture()
def real_client(real_app):
    return real_app.test_client()
