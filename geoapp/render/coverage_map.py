"""The coverage map: a folium (Leaflet) map whose layers load from the GeoJSON API.

The page carries only the map shell and a small configuration; communes, districts,
producers and outlets arrive as separate cached resources and are drawn by
``static/js/coverage-map.js``.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re

import folium
from branca.element import MacroElement
from folium.template import Template

from geoapp.render.assets import (
    APP_CSS,
    APP_JS,
    CLUSTER_CSS,
    CLUSTER_JS,
    VECTOR_TILES_JS,
    VENDOR_CSS,
    VENDOR_JS,
    asset_links,
)
from geoapp.render.palette import GROUP_COLOURS, OTHER_GROUP_COLOUR, STATUS_COLOURS
from geoapp.render.preload import preload_links

# Quảng Nam's bounding box, (south, west), (north, east) in degrees (EPSG:4326).
PROVINCE_BOUNDS = ((14.95, 107.2), (16.1, 108.75))


@dataclasses.dataclass(frozen=True)
class MapParts:
    """The pieces a page template places: head links, the map div and its script."""

    header: str
    html: str
    script: str


@dataclasses.dataclass(frozen=True)
class MapConfig:
    """Everything the map shell depends on; hashable so rendered shells can be cached."""

    static_url: str
    tile_url: str
    tile_attribution: str
    data_attribution: str
    # Geometry (TopoJSON, versioned by the boundary build) and the coverage status of its
    # communes and districts (JSON by code, versioned by the data), joined in the browser.
    boundaries_url: str
    status_url: str
    producers_url: str
    outlets_url: str
    labels: tuple[tuple[str, str], ...]
    bounds: tuple[tuple[float, float], tuple[float, float]] = PROVINCE_BOUNDS
    # Embedded in another site: the wheel zooms only after a click; ``focus`` (e.g.
    # (("district", "503"),)) keeps the view on that area and dims the communes outside it.
    embed: bool = False
    focus: tuple[tuple[str, str], ...] = ()
    # More producers than this: cluster them (the plugin is fetched then, not before).
    cluster_from_points: int = 300
    # Set for an edition mapped by area: the boundaries hold districts only, and the communes
    # come as vector tiles from this URL template ({z}/{x}/{y}) from communes_min_zoom on.
    tiles_url: str = ""
    communes_min_zoom: int = 9
    # Fill the districts by their communes' status (only where the edition's communes nest
    # in the districts drawn: the 2020 edition).
    area_districts_filled: bool = True
    # Products in the pipeline (not certified): a layer off by default, fetched when shown.
    candidates_url: str = ""


def script_json(value: object) -> str:
    """JSON safe to place inside a <script> element (no ``</script>`` or ``<!--``)."""
    text = json.dumps(value, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def data_urls(config: MapConfig) -> list[str]:
    """The data resources the map script fetches first (preloaded from the page's head)."""
    return [config.boundaries_url, config.status_url, config.producers_url, config.outlets_url]


def allow_zoom(header: str) -> str:
    """Drop folium's ``user-scalable=no``: people must be able to zoom the page (WCAG 1.4.4)."""
    return re.sub(r",\s*maximum-scale=1\.0,\s*user-scalable=no", "", header)


class OcopLayers(MacroElement):
    """Calls ``OcopMap.init`` on the folium map with the layer configuration."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        OcopMap.init({{ this._parent.get_name() }}, {{ this.config_json }});
        {% endmacro %}
        """
    )

    def __init__(self, config_json: str) -> None:
        super().__init__()
        self._name = "OcopLayers"
        self.config_json = config_json


@functools.lru_cache(maxsize=32)
def render_coverage_map(config: MapConfig) -> MapParts:
    """Render the folium map shell for ``config`` (cached: it holds no data)."""
    fmap = folium.Map(
        location=None,
        tiles=None,
        control_scale=True,
        prefer_canvas=False,
        zoom_control=True,
        maxZoom=18,  # marker clustering needs it even when there is no tile layer
        minZoom=6,
    )
    fmap._id = "coverage"  # a stable element id: the same page bytes from every worker
    # Serve only our own copies of Leaflet: no CDN, nothing unused (jQuery, Bootstrap, ...).
    vendor_js = VENDOR_JS + (VECTOR_TILES_JS if config.tiles_url else ())
    fmap.default_js = asset_links(config.static_url, vendor_js + APP_JS)
    fmap.default_css = asset_links(config.static_url, VENDOR_CSS + APP_CSS)
    if config.tile_url != "none":
        folium.TileLayer(
            tiles=config.tile_url, attr=config.tile_attribution, name="base", control=False
        ).add_to(fmap)
    fmap.fit_bounds([list(config.bounds[0]), list(config.bounds[1])])
    layer_config = {
        "urls": {
            "boundaries": config.boundaries_url,
            "status": config.status_url,
            "producers": config.producers_url,
            "outlets": config.outlets_url,
            "candidates": config.candidates_url,
        },
        "statusColours": STATUS_COLOURS,
        "groupColours": GROUP_COLOURS,
        "otherGroupColour": OTHER_GROUP_COLOUR,
        "labels": dict(config.labels),
        "dataAttribution": config.data_attribution,
        "embed": config.embed,
        "focus": dict(config.focus),
        "byArea": {
            "tiles": config.tiles_url,
            "minZoom": config.communes_min_zoom,
            "fill": config.area_districts_filled,
        }
        if config.tiles_url
        else None,
        "cluster": {
            "fromPoints": config.cluster_from_points,
            "js": asset_links(config.static_url, CLUSTER_JS)[0][1],
            "css": [url for _, url in asset_links(config.static_url, CLUSTER_CSS)],
        },
    }
    OcopLayers(script_json(layer_config)).add_to(fmap)
    root = fmap.get_root()
    root.render()
    return MapParts(
        header=allow_zoom(root.header.render()) + preload_links(data_urls(config)),
        html=root.html.render(),
        script=root.script.render(),
    )
