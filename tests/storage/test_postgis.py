"""What only the PostGIS store has: the served-state row, ``db upgrade`` / ``db load``, the
pool's timeouts, and a request reading one version while another process switches."""

from __future__ import annotations

import pandas as pd
import pytest

from geoapp.services.imports import ImportService
from geoapp.storage import pg_schema, pin_version, unpin_version
from tests.storage.conftest import file_app, pg_app, pg_settings
from tests.tiny_data import write_tiny_data

PRODUCTS_CSV = (
    "product_id,name,group_148,stars,recognition_date,producer_id\n"
    "N1,Mật ong mới,Thực phẩm,4,2024-05-10,PR1\n"
)


def product_ids(store) -> list[str]:
    return sorted(store.ocop().products["product_id"].astype(str))


def test_a_request_reads_one_version_while_another_instance_switches(pg_db, tmp_path):
    data = write_tiny_data(tmp_path / "data")
    reader = pg_app(pg_db, data, tmp_path / "v")
    writer = pg_app(pg_db, data, tmp_path / "v", load=False)  # another process, in effect
    store = reader.extensions["geoapp"].store
    seed_ids, seed_version = product_ids(store), store.data_version()
    token = pin_version()
    try:
        assert store.data_version() == seed_version
        service = ImportService(
            writer.extensions["geoapp"].store, writer.extensions["geoapp"].settings
        )
        with writer.app_context():
            assert service.apply(service.plan([("products.csv", PRODUCTS_CSV.encode())])) == "v0001"
        assert store.data_version() == seed_version  # the span keeps what it saw first
        assert product_ids(store) == seed_ids
    finally:
        unpin_version(token)
    assert store.data_version() != seed_version  # the next request sees the switch
    assert product_ids(store) == sorted([*seed_ids, "N1"])


def test_db_load_again_adds_a_version_only_when_the_ocop_tables_changed(pg_db, tmp_path):
    data = write_tiny_data(tmp_path / "data")
    first = pg_schema.load(pg_db, data / "boundaries", data / "ocop")
    assert "seed" in first
    assert "unchanged" in pg_schema.load(pg_db, data / "boundaries", data / "ocop")
    path = data / "ocop" / "products.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.iloc[:-1].to_csv(path, index=False)  # the facts changed: one product fewer
    assert "as v0001" in pg_schema.load(pg_db, data / "boundaries", data / "ocop")
    app = file_app(data, tmp_path / "v", **pg_settings(pg_db))
    store = app.extensions["geoapp"].store
    assert store.versions.current() == "v0001"
    assert [i.manifest["action"] for i in store.versions.history()] == ["load"]
    with pg_db.connection() as conn:
        loads = [r[0] for r in conn.execute("SELECT id FROM boundary_loads ORDER BY id")]
    assert len(loads) == 2  # the one served and the one before it (requests in flight)


def test_without_a_load_the_service_says_what_to_run(pg_db, tmp_path):
    data = write_tiny_data(tmp_path / "data")
    app = pg_app(pg_db, data, tmp_path / "v", load=False)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert "flask --app wsgi db load" in response.get_json()["message"]


def test_connections_carry_the_timeouts_and_the_schema(pg_db):
    with pg_db.connection() as conn:
        assert conn.execute("SHOW statement_timeout").fetchone()[0] == "10s"
        assert conn.execute("SHOW lock_timeout").fetchone()[0] == "10s"
        assert conn.execute("SELECT current_schema()").fetchone()[0] == pg_db.schema
        assert conn.info.get_parameters()["connect_timeout"] == "2"


def test_a_hostile_text_is_a_value_never_sql(pg_db, tmp_path):
    data = write_tiny_data(tmp_path / "data")
    app = pg_app(pg_db, data, tmp_path / "v")
    store = app.extensions["geoapp"].store
    with pytest.raises(Exception, match="no version"):
        store.versions.materialise("seed'; DROP TABLE app_state; --")
    assert store.data_version()  # app_state is still there
    assert store.nearest_places(15.6, 108.1, "outlet'--", 3) == []


def test_the_db_commands_need_a_url(tiny_data_dir):
    app = file_app(tiny_data_dir, tiny_data_dir / "none")
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code != 0 and "GEOAPP_DATABASE_URL is not set" in result.output


def test_in_ci_a_missing_database_fails_and_locally_it_skips(monkeypatch):
    from tests.storage.conftest import database_url

    monkeypatch.delenv("GEOAPP_TEST_DATABASE_URL", raising=False)
    monkeypatch.setenv("CI", "1")
    with pytest.raises(pytest.fail.Exception, match="must run"):
        database_url()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="set GEOAPP_TEST_DATABASE_URL"):
        database_url()
