"""Front-end assets, all served by the service itself (installed from npm by ``make``)."""

from __future__ import annotations

VENDOR_JS = (
    ("leaflet", "vendor/leaflet/leaflet.js"),
    ("leaflet_markercluster", "vendor/leaflet.markercluster/leaflet.markercluster.js"),
    ("topojson_client", "vendor/topojson-client/topojson-client.min.js"),
)
VENDOR_CSS = (
    ("leaflet_css", "vendor/leaflet/leaflet.css"),
    ("markercluster_css", "vendor/leaflet.markercluster/MarkerCluster.css"),
    ("markercluster_default_css", "vendor/leaflet.markercluster/MarkerCluster.Default.css"),
)
APP_JS = (("ocop_map", "js/coverage-map.js"),)
APP_CSS = (("ocop_css", "css/app.css"),)


def asset_links(static_url: str, assets: tuple[tuple[str, str], ...]) -> list[tuple[str, str]]:
    """``(name, url)`` pairs under ``static_url`` (e.g. ``/static``)."""
    prefix = static_url.rstrip("/")
    return [(name, f"{prefix}/{path}") for name, path in assets]
