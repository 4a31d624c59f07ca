"""/ogc read by real clients on the built data: GDAL's OAPIF driver (Debian's gdal-bin:
ogrinfo, ogr2ogr) and OWSLib, against a live server on 127.0.0.1 (ports 5330-5339).

Counts are checked against what the store holds, not pinned numbers."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

from geoapp.services.ogc_features import COLLECTIONS

pytestmark = pytest.mark.realdata
PORTS = range(5330, 5340)


class OgcServer:
    """A threaded werkzeug server for ``app`` on the first free port of ``PORTS``."""

    def __init__(self, app) -> None:
        for port in PORTS:
            try:
                self.server = make_server("127.0.0.1", port, app, threaded=True)
                break
            except OSError:
                continue
        else:
            pytest.fail(f"no free port in {PORTS.start}-{PORTS.stop - 1}")
        self.url = f"http://127.0.0.1:{self.server.server_port}/ogc"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> OgcServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)


@pytest.fixture(scope="module")
def ogc_server(real_app) -> Iterator[OgcServer]:
    with OgcServer(real_app) as server:
        yield server


@pytest.fixture(scope="module")
def store_counts(real_app) -> dict[str, int]:
    store = real_app.extensions["geoapp"].store
    ocop = store.ocop()
    return {
        "communes_2020": len(store.communes("2020")),
        "communes_2025": len(store.communes("2025")),
        "districts_2020": len(store.districts()),
        "producers": len(ocop.producers),
        "outlets": len(ocop.outlets),
        "crosswalk_2020_2025": len(store.crosswalk()),
    }


def gdal(tool: str, *args: str) -> str:
    if shutil.which(tool) is None:
        pytest.fail(f"{tool} is missing: install Debian's gdal-bin (.ci/run does)")
    done = subprocess.run([tool, *args], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_ogrinfo_lists_every_collection(ogc_server):
    out = gdal("ogrinfo", "-ro", f"OAPIF:{ogc_server.url}")
    for number, spec in enumerate(COLLECTIONS, start=1):
        assert f"{number}: {spec.id} " in out + " ", out


@pytest.mark.parametrize("spec", COLLECTIONS, ids=lambda s: s.id)
def test_ogrinfo_counts_and_fields_across_pages(ogc_server, store_counts, spec):
    # PAGE_SIZE below every count: each collection is read over several pages
    url, page = f"OAPIF:{ogc_server.url}", ("-oo", "PAGE_SIZE=7")
    out = gdal("ogrinfo", "-ro", "-so", *page, url, spec.id)
    assert f"Feature Count: {store_counts[spec.id]}\n" in out
    features = gdal("ogrinfo", "-ro", "-geom=NO", *page, url, spec.id)
    ids = re.findall(rf"^  {spec.id_field} \(String\) = (.*)$", features, flags=re.M)
    assert len(ids) == len(set(ids)) == store_counts[spec.id]
    for field in spec.fields:
        assert f"\n{field.name}: " in out, field.name
    if spec.geometry:
        assert f"Geometry: {'Multi Polygon' if spec.geometry == 'MultiPolygon' else 'Point'}" in out


def test_ogr2ogr_copies_every_collection_into_a_geopackage(ogc_server, store_counts, tmp_path):
    import geopandas as gpd
    import pyogrio

    target = tmp_path / "ocop.gpkg"
    gdal("ogr2ogr", "-f", "GPKG", "-oo", "PAGE_SIZE=50", str(target), f"OAPIF:{ogc_server.url}")
    layers = dict(pyogrio.list_layers(target))
    assert set(layers) == set(store_counts)
    for name, count in store_counts.items():
        frame = pyogrio.read_dataframe(target, layer=name)
        assert len(frame) == count, name
        spec = next(s for s in COLLECTIONS if s.id == name)
        assert {f.name for f in spec.fields} <= set(frame.columns), name
        assert frame[spec.id_field].is_unique, name
    communes = gpd.read_file(target, layer="communes_2020")
    assert set(communes["status"]) <= {"none", "below", "met"}
    assert communes.crs.to_epsg() == 4326


def test_full_detail_geometry_reaches_the_client(ogc_server, real_app, tmp_path):
    import pyogrio
    import shapely

    store = real_app.extensions["geoapp"].store
    target = tmp_path / "districts.gpkg"
    gdal("ogr2ogr", "-f", "GPKG", str(target), f"OAPIF:{ogc_server.url}", "districts_2020")
    got = pyogrio.read_dataframe(target).set_index("district_code").geometry
    full = store.districts("full").set_index("district_code").geometry
    display = store.districts("display").set_index("district_code").geometry
    vertices = shapely.get_num_coordinates
    assert vertices(got.loc[full.index].values).sum() == vertices(full.values).sum()
    assert vertices(full.values).sum() > vertices(display.values).sum()
    assert shapely.hausdorff_distance(got.loc[full.index].values, full.values).max() < 1e-5


def test_owslib_reads_conformance_collections_and_pages(ogc_server, store_counts):
    from owslib.ogcapi.features import Features

    api = Features(ogc_server.url)
    conformance = api.conformance()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in conformance
    assert [c["id"] for c in api.collections()["collections"]] == list(store_counts)
    for collection, count in store_counts.items():
        seen, offset = [], 0
        while True:
            page = api.collection_items(collection, limit=40, offset=offset)
            assert page["numberMatched"] == count
            seen += [feature["id"] for feature in page["features"]]
            if not any(link["rel"] == "next" for link in page["links"]):
                break
            offset += 40
        assert len(seen) == len(set(seen)) == count, collection
    queryables = api.collection_queryables("producers")["properties"]
    assert queryables["max_stars"]["type"] == "integer"
    first = api.collection_items("producers", limit=1)["features"][0]
    assert api.collection_item("producers", first["id"])["properties"] == first["properties"]
    assert api.api()["openapi"].startswith("3.0")


def test_owslib_filters_by_property(ogc_server, real_app):
    from owslib.ogcapi.features import Features

    store = real_app.extensions["geoapp"].store
    district = store.districts()["district_code"].iloc[0]
    expected = int(store.communes("2020")["district_code"].eq(district).sum())
    page = Features(ogc_server.url).collection_items(
        "communes_2020", district_code=district, limit=10_000
    )
    assert page["numberMatched"] == len(page["features"]) == expected
    assert {f["properties"]["district_code"] for f in page["features"]} == {district}
    assert json.dumps(page)  # plain JSON all the way down


def test_ogr_attribute_and_spatial_filters(ogc_server, real_app):
    # GDAL reads /ogc/api, finds district_code among the items' parameters and sends it (and
    # bbox for -spat) to the server; the counts must be the store's.
    import shapely

    store = real_app.extensions["geoapp"].store
    communes = store.communes("2020")
    district = communes["district_code"].value_counts().index[0]
    url = f"OAPIF:{ogc_server.url}"
    out = gdal(
        "ogrinfo",
        "-ro",
        "-geom=NO",
        "-where",
        f"district_code = '{district}'",
        url,
        "communes_2020",
    )
    assert out.count("OGRFeature(") == int(communes["district_code"].eq(district).sum())
    producers = store.ocop().producers
    west, south, east, north = (round(v, 2) for v in producers.total_bounds)
    middle = (west + east) / 2
    box = shapely.box(west, south, middle, north)
    expected = int(producers.geometry.intersects(box).sum())
    out = gdal(
        "ogrinfo", "-ro", "-spat", str(west), str(south), str(middle), str(north), url, "producers"
    )
    assert 0 < out.count("OGRFeature(") == expected
