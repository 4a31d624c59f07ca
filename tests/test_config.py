"""Settings: defaults, GEOAPP_* variables, overrides, and clear errors at start-up."""

from __future__ import annotations

import datetime as dt

import pytest

from geoapp import create_app
from geoapp.config import ConfigError, load_settings


def test_defaults_without_environment():
    settings = load_settings(environ={})
    assert settings.target_products == 2 and settings.min_stars == 3
    assert settings.as_of == dt.date(2024, 12, 31)
    assert settings.cluster_from_points == 300
    assert settings.map_full_communes_max == 2000 and settings.map_communes_min_zoom == 9


def test_environment_then_overrides():
    environ = {
        "GEOAPP_TARGET_PRODUCTS": "3",
        "GEOAPP_MAP_FULL_COMMUNES_MAX": "50",
        "GEOAPP_AS_OF": "2023-06-30",
        "GEOAPP_TILE_URL": " None ",
    }
    settings = load_settings({"target_products": 4}, environ=environ)
    assert settings.target_products == 4  # the override wins over the variable
    assert settings.map_full_communes_max == 50
    assert settings.as_of == dt.date(2023, 6, 30)
    assert settings.tile_url == "none"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("GEOAPP_TARGET_PRODUCTS", "two", "GEOAPP_TARGET_PRODUCTS must be a whole number"),
        ("GEOAPP_MIN_STARS", "6", "between 1 and 5"),
        ("GEOAPP_MAP_COMMUNES_MIN_ZOOM", "3", "GEOAPP_MAP_COMMUNES_MIN_ZOOM must be between 6"),
        ("GEOAPP_CLUSTER_FROM_POINTS", "-1", "GEOAPP_CLUSTER_FROM_POINTS must be between 0"),
        ("GEOAPP_AS_OF", "31/12/2024", "YYYY-MM-DD"),
        ("GEOAPP_DEFAULT_EDITION", "2030", "one of 2020, 2025"),
        ("GEOAPP_BENCH_ROUTES", "maybe", "true or false"),
        ("GEOAPP_DATABASE_URL", "mysql://x@y/z", "must start with postgresql://"),
        ("GEOAPP_DATABASE_SCHEMA", "geo; drop", "lower-case SQL name"),
    ],
)
def test_bad_values_are_refused_naming_the_variable(variable, value, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(environ={variable: value})


def test_an_unknown_override_is_refused():
    with pytest.raises(ConfigError, match="unknown setting"):
        load_settings({"target_product": 3}, environ={})


def test_the_app_does_not_start_with_a_bad_setting(monkeypatch):
    monkeypatch.setenv("GEOAPP_MAP_FULL_COMMUNES_MAX", "lots")
    with pytest.raises(ConfigError, match="GEOAPP_MAP_FULL_COMMUNES_MAX"):
        create_app({"testing": True})


def test_the_database_url_selects_the_postgis_store(tiny_data_dir):
    from geoapp.storage import FileStore
    from geoapp.storage.postgis import PostgisStore

    files = create_app({"data_dir": tiny_data_dir, "testing": True})
    assert isinstance(files.extensions["geoapp"].store, FileStore)
    # Creating the app does not connect: it starts (and answers 503) while the database is down.
    url = "postgresql://nobody@127.0.0.1:9/none"
    postgis = create_app({"data_dir": tiny_data_dir, "testing": True, "database_url": url})
    store = postgis.extensions["geoapp"].store
    assert isinstance(store, PostgisStore) and store.db.schema == "geoapp"
