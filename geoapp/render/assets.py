"""Front-end assets, all served by the service itself (installed from npm by ``make``)."""

from __future__ import annotations

# Leaflet, and topojson-client to read the boundaries (TopoJSON) in static/js/coverage-map.js.
VENDOR_JS = (
    ("leaflet", "vendor/leaflet/leaflet.js"),
    ("topojson_client", "vendor/topojson-client/topojson-client.min.js"),
)
# Linked only by a map drawn from vector tiles (an edition mapped by area).
VECTOR_TILES_JS = (
    ("leaflet_vectorgrid", "vendor/leaflet.vectorgrid/Leaflet.VectorGrid.bundled.min.js"),
)
VENDOR_CSS = (("leaflet_css", "vendor/leaflet/leaflet.css"),)
# Loaded by the map script only when there are many markers to cluster.
CLUSTER_JS = (("leaflet_markercluster", "vendor/leaflet.markercluster/leaflet.markercluster.js"),)
CLUSTER_CSS = (
    ("markercluster_css", "vendor/leaflet.markercluster/MarkerCluster.css"),
    ("markercluster_default_css", "vendor/leaflet.markercluster/MarkerCluster.Default.css"),
)
APP_JS = (("ocop_map", "js/coverage-map.js"),)
APP_CSS = (("ocop_css", "css/app.css"),)


def asset_links(static_url: str, assets: tuple[tuple[str, str], ...]) -> list[tuple[str, str]]:
    """``(name, url)`` pairs under ``static_url`` (e.g. ``/static``)."""
    prefix = static_url.rstrip("/")
    return [(name, f"{prefix}/{path}") for name, path in assets]
