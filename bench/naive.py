"""The naive folium map the benchmark compares against: ``geopandas.explore()`` of the raw
boundary files, rebuilt on every request, with folium's default CDN assets.

- edition 2020: the 18 districts (qn_districts_2019.geojson) and the 241 communes
  (qn_communes_2020.geojson) on one map;
- edition 2025: the 94 communes of Đà Nẵng (danang_communes_2025.geojson).

``create_naive_app()`` serves ``/?edition=`` (built per request, as the naive way does) and
``/prebuilt?edition=`` (the same bytes built once: the browser's share of the time alone).
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

from flask import Flask, Response, request

ROOT = Path(__file__).resolve().parent.parent
SOURCES = Path(os.environ.get("GEOAPP_BOUNDARY_SOURCES", ROOT.parent / "shared/data/boundaries"))
LAYERS = {
    "2020": ("qn_districts_2019.geojson", "qn_communes_2020.geojson"),
    "2025": ("danang_communes_2025.geojson",),
}
# The libraries both pages load: the naive page's CDN copies weigh what ours weigh.
SHARED_LIBRARIES = {
    "leaflet.js": "vendor/leaflet/leaflet.js",
    "leaflet.css": "vendor/leaflet/leaflet.css",
}


def naive_html(edition: str, sources: Path = SOURCES) -> bytes:
    """The naive page of ``edition``: one ``explore()`` layer per raw file, rendered."""
    import geopandas as gpd

    fmap = None
    for name in LAYERS[edition]:
        frame = gpd.read_file(sources / name)
        fmap = frame.explore() if fmap is None else frame.explore(m=fmap)
    return fmap.get_root().render().encode()


def n_features(edition: str, sources: Path = SOURCES) -> int:
    import geopandas as gpd

    return sum(len(gpd.read_file(sources / name)) for name in LAYERS[edition])


def cdn_assets(html: bytes) -> list[str]:
    """The external script and stylesheet URLs the naive page loads."""
    text = html.decode()
    return sorted(set(re.findall(r'(?:src|href)="(https://[^"]+\.(?:js|css))"', text)))


NPM = ROOT / "bench" / "node_modules"  # `npm install --prefix bench` (bench/package.json)
AWESOME = "drmonty-leaflet-awesome-markers"
NPM_FILES = {  # the naive page's CDN URL (its tail) -> the same file in the npm package
    "leaflet@1.9.3/dist/leaflet.js": "leaflet/dist/leaflet.js",
    "leaflet@1.9.3/dist/leaflet.css": "leaflet/dist/leaflet.css",
    "jquery-3.7.1.min.js": "jquery/dist/jquery.min.js",
    "bootstrap@5.2.2/dist/js/bootstrap.bundle.min.js": "bootstrap/dist/js/bootstrap.bundle.min.js",
    "bootstrap@5.2.2/dist/css/bootstrap.min.css": "bootstrap/dist/css/bootstrap.min.css",
    "fontawesome-free@6.2.0/css/all.min.css": "@fortawesome/fontawesome-free/css/all.min.css",
    "2.0.2/leaflet.awesome-markers.js": f"{AWESOME}/js/leaflet.awesome-markers.js",
    "2.0.2/leaflet.awesome-markers.css": f"{AWESOME}/css/leaflet.awesome-markers.css",
}


def npm_file(url: str) -> Path | None:
    """The npm copy of a naive CDN asset, if ``bench/node_modules`` has it."""
    for tail, path in NPM_FILES.items():
        if url.endswith(tail) and (NPM / path).exists():
            return NPM / path
    return None


def shared_library(url: str) -> str | None:
    """Our static path for a CDN asset that is a library both pages load, else None."""
    name = url.rsplit("/", 1)[-1]
    if "/leaflet@" in url or "/leaflet/" in url:
        return SHARED_LIBRARIES.get(name)
    return None


def create_naive_app(sources: str | Path = SOURCES) -> Flask:
    sources = Path(sources)
    app = Flask(__name__)
    prebuilt: dict[str, bytes] = {}
    lock = threading.Lock()

    def edition() -> str:
        value = request.args.get("edition", "2020")
        return value if value in LAYERS else "2020"

    @app.get("/")
    def rebuilt() -> Response:
        return Response(naive_html(edition(), sources), mimetype="text/html")

    @app.get("/prebuilt")
    def built_once() -> Response:
        key = edition()
        with lock:
            if key not in prebuilt:
                prebuilt[key] = naive_html(key, sources)
        return Response(prebuilt[key], mimetype="text/html")

    return app
