"""One contract, both stores: the file store and the PostGIS store give the same answers.

Each test runs the same requests on an app on each store (the built data, or the tiny data
set) and asserts identical results: layers and tables, coverage per commune for a spread of
filters, GeoJSON features, nearest places (order, and distances within 1 m of the WGS 84
geodesic), and the import / history / rollback behaviour.
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from geoapp.domain.nearest import geodesic_m
from geoapp.services.imports import ImportService
from geoapp.storage import pin_version, unpin_version
from geoapp.storage import versions as versions_module
from geoapp.storage.versions import StaleBaseError, VersionError

STORES = ("files", "postgis")

PRODUCTS_CSV = (
    "product_id,name,group_148,stars,recognition_date,producer_id\n"
    "N1,Mật ong mới,Thực phẩm,4,2024-05-10,PR1\n"
    "N2,Rượu mới,Đồ uống,3,2023,PR2\n"
)
PRODUCERS_CSV = (
    "Mã chủ thể,Tên chủ thể,Loại hình chủ thể,Xã/phường/thị trấn,Huyện/thị xã/thành phố\n"
    "NP1,HTX Mới,Hợp tác xã,Xã Hai,Huyện Tây\n"
)

FILTERS = [
    {},
    {"min_stars": 4},
    {"min_stars": 1, "target": 1},
    {"as_of": dt.date(2017, 1, 1)},
    {"as_of": dt.date(2021, 6, 30), "certificate_months": 12},
    {"as_of": dt.date(2026, 1, 1), "target": 3},
    {"group": "Thực phẩm"},
    {"producer_type": "Hợp tác xã", "min_stars": 3},
]


def state_of(app):
    return app.extensions["geoapp"]


def in_request(app, read):
    """``read()`` inside a pinned span, as a request runs it."""
    with app.app_context():
        token = pin_version()
        try:
            return read()
        finally:
            unpin_version(token)


def test_layers_and_tables_are_identical(real_pair):
    def read(app):
        store = state_of(app).store
        layers = [store.communes(e, d) for e in ("2020", "2025") for d in ("full", "display")]
        return [*layers, store.districts("full"), store.districts("display"), store.crosswalk()]

    files, postgis = (in_request(real_pair[s], lambda s=s: read(real_pair[s])) for s in STORES)
    for a, b in zip(files, postgis, strict=True):
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    a, b = (in_request(real_pair[s], state_of(real_pair[s]).store.ocop) for s in STORES)
    for name in ("products", "producers", "outlets", "province_stats"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)


@pytest.mark.parametrize("edition", ["2020", "2025"])
def test_communes_covering_points_is_identical(real_pair, edition):
    found = {}
    for s in STORES:
        store = state_of(real_pair[s]).store
        found[s] = in_request(real_pair[s], lambda st=store: st.communes_covering(edition))
    assert len(found["files"]) > 50
    pd.testing.assert_series_equal(
        found["files"].sort_index(), found["postgis"].sort_index(), check_names=False
    )


@pytest.mark.parametrize("overrides", FILTERS, ids=lambda o: json.dumps(o, default=str))
@pytest.mark.parametrize("edition", ["2020", "2025"])
def test_coverage_per_commune_is_identical(real_pair, edition, overrides):
    results = {}
    for s in STORES:
        coverage = state_of(real_pair[s]).coverage
        params = coverage.default_params(**overrides)
        results[s] = in_request(real_pair[s], lambda c=coverage, p=params: c.coverage(edition, p))
    a, b = results["files"], results["postgis"]
    columns = [c for c in a.communes.columns if c != "geometry"]
    pd.testing.assert_frame_equal(a.communes[columns], b.communes[columns], check_exact=True)
    pd.testing.assert_frame_equal(a.districts, b.districts, check_exact=True)
    assert a.province == b.province
    pd.testing.assert_frame_equal(a.eligibility, b.eligibility, check_exact=True)


GEOJSON_URLS = [
    "/api/communes.geojson?edition=2020",
    "/api/communes.geojson?edition=2025&min_stars=4",
    "/api/communes.geojson?edition=2020&as_of=2022-01-01&target=1",
    "/api/districts.geojson",
    "/api/producers.geojson",
    "/api/outlets.geojson",
    "/api/coverage?edition=2025",
    "/api/boundaries.topojson?edition=2025",
    "/api/coverage/status.json?edition=2020&min_stars=4",
    "/ogc/collections/communes_2020/items?limit=50&offset=100",
    "/ogc/collections/producers/items?bbox=108.0,15.5,108.5,16.0&limit=100",
    "/ogc/collections/communes_2025/items?limit=10&offset=20",
]


@pytest.mark.parametrize("url", GEOJSON_URLS)
def test_geojson_features_are_identical(real_pair, url):
    bodies = {}
    for s in STORES:
        response = real_pair[s].test_client().get(url)
        assert response.status_code == 200, response.data[:300]
        bodies[s] = response.get_json()
    if "features" in bodies["files"]:
        assert len(bodies["files"]["features"]) > 0
    assert bodies["files"] == bodies["postgis"]


NEARBY = [
    (15.8801, 108.3380, ""),
    (15.5736, 108.4740, "&kind=centre,sales_point"),
    (15.3, 107.9, "&kind=producer&limit=25"),
    (16.05, 108.2, "&min_stars=3"),
    (15.7, 108.0, "&limit=50"),
]


@pytest.mark.parametrize(("lat", "lon", "extra"), NEARBY)
def test_nearest_order_and_distances_are_identical(real_pair, lat, lon, extra):
    found = {}
    for s in STORES:
        response = real_pair[s].test_client().get(f"/api/nearby?lat={lat}&lon={lon}{extra}")
        assert response.status_code == 200
        found[s] = response.get_json()
    assert found["files"], "the query finds places"
    assert [p["id"] for p in found["files"]] == [p["id"] for p in found["postgis"]]
    for a, b in zip(found["files"], found["postgis"], strict=True):
        assert abs(a["distance_m"] - b["distance_m"]) <= 1.0


@pytest.mark.parametrize(("lat", "lon"), [(15.8801, 108.338), (15.3, 107.9), (16.2, 108.9)])
@pytest.mark.parametrize("kind", ["outlet", "producer"])
def test_sql_nearest_matches_the_geodesic_brute_force(real_pair, lat, lon, kind):
    """The PostGIS KNN query (``<->`` refined by geography distance) against every point."""
    app = real_pair["postgis"]
    store = state_of(app).store
    found = in_request(app, lambda: store.nearest_places(lat, lon, kind, 10))
    data = in_request(app, store.ocop)
    frame = data.outlets if kind == "outlet" else data.producers
    frame = frame.loc[frame["lat"].notna() & frame["lon"].notna()]
    metres = geodesic_m(np.full(len(frame), lat), np.full(len(frame), lon),
                        frame["lat"].to_numpy(float), frame["lon"].to_numpy(float))  # fmt: skip
    order = np.argsort(metres, kind="stable")[:10]
    id_column = f"{kind}_id"
    assert [p for p, _ in found] == list(frame[id_column].iloc[order])
    assert np.allclose([d for _, d in found], metres[order], atol=1.0)


# -- import, history and rollback ---------------------------------------------------------------


def service_of(app) -> ImportService:
    state = state_of(app)
    return ImportService(state.store, state.settings)


def served(app) -> dict:
    def read():
        data = state_of(app).store.ocop()
        return {
            "products": sorted(data.products["product_id"].astype(str)),
            "producers": sorted(data.producers["producer_id"].astype(str)),
            "version": state_of(app).store.data_version(),
        }

    return in_request(app, read)


def import_story(app) -> list:
    """The same imports, rollbacks and refusals; what each step observed (versions aside)."""
    service = service_of(app)
    seen = []

    def plan(*files):
        with app.app_context():
            return service.plan(list(files), today=dt.date(2025, 1, 31))

    def note(label):
        now = served(app)
        history = [(i.name, i.current, i.manifest["action"]) for i in service.history()]
        seen.append((label, now["products"], now["producers"], service.current_version(), history))
        return now["version"]

    start = note("start")
    stale = plan(("products.csv", PRODUCTS_CSV.encode()))
    assert service.apply(plan(("products.csv", PRODUCTS_CSV.encode()))) == "v0001"
    v1 = note("products imported")
    assert v1 != start
    assert service.apply(plan(("producers.csv", PRODUCERS_CSV.encode()))) == "v0002"
    note("producers imported")
    with pytest.raises(StaleBaseError):
        service.apply(stale)
    broken = plan(("products.csv", b"product_id,name,stars\nX1,,9\n"))
    assert not broken.ok
    note("refused imports changed nothing")
    assert service.apply(plan(("products.csv", PRODUCTS_CSV.encode()))) is None
    assert service.rollback("v0001") == "v0001"
    assert note("rolled back to v0001") == v1
    assert service.rollback("seed") is None
    assert note("rolled back to the seed") == start
    with pytest.raises(VersionError):
        service.rollback("v0009")
    assert service.rollback("2") == "v0002"
    note("forward to v0002")
    events = service.versions.pointer()["events"]
    seen.append(("events", [(e["action"], e["from"], e["version"]) for e in events]))
    return seen


def test_import_history_and_rollback_are_identical(tiny_pair):
    files, postgis = import_story(tiny_pair["files"]), import_story(tiny_pair["postgis"])
    assert files == postgis
    assert files[-1][1] == [
        ("import", None, "v0001"), ("import", "v0001", "v0002"), ("rollback", "v0002", "v0001"),
        ("rollback", "v0001", None), ("rollback", None, "v0002"),
    ]  # fmt: skip
    assert "N1" in files[1][1] and "N1" not in files[0][1]


@pytest.mark.parametrize("store", STORES)
@pytest.mark.parametrize("stage", ["wrote products.csv", "tables_written"])
def test_an_interrupted_import_leaves_the_previous_version_served(
    tiny_pair, monkeypatch, store, stage
):
    app = tiny_pair[store]
    service = service_of(app)
    before = served(app)

    def fail(at: str) -> None:
        if at == stage:
            raise RuntimeError(f"interrupted at {at}")

    monkeypatch.setattr(versions_module, "_checkpoint", fail)
    with app.app_context():
        plan = service.plan([("products.csv", PRODUCTS_CSV.encode())], today=dt.date(2025, 1, 31))
    with pytest.raises(RuntimeError, match="interrupted"):
        service.apply(plan)
    assert served(app) == before
    assert service.current_version() is None and service.history() == []
    monkeypatch.undo()
    assert service.apply(plan) == "v0001"  # the next import is not blocked by the failed one
    assert "N1" in served(app)["products"]


def test_export_is_identical(tiny_pair, tmp_path):
    for s in STORES:
        service_of(tiny_pair[s]).apply(
            service_of(tiny_pair[s]).plan([("products.csv", PRODUCTS_CSV.encode())])
        )
    frames = {s: in_request(tiny_pair[s], service_of(tiny_pair[s]).export_frames) for s in STORES}
    for kind in ("products", "producers", "outlets"):
        a, b = frames["files"][kind], frames["postgis"][kind]
        if "imported_at" in a.columns:  # the second of each store's import, not the data
            a, b = (f.assign(imported_at=f["imported_at"].fillna("").ne("")) for f in (a, b))
        pd.testing.assert_frame_equal(a, b)
    assert "N1" in set(frames["files"]["products"]["product_id"])
