"""What a visitor asks: the nearest places selling OCOP products, and a search over names.

Places are the OCOP outlets (kinds ``centre`` and ``sales_point``) and the producers a source
says sell on site (kind ``producer``). Positions are WGS 84 degrees (EPSG:4326); distances are
geodesic metres on the WGS 84 ellipsoid (``geoapp.domain.nearest``).

No source lists what an outlet stocks. The products shown for a place are only those the data
links to it, and each says how (``basis``):

- ``own``: the place is the producer itself (a producer selling on site);
- ``operator``: the outlet's operator has the same name as the producer (compared without case,
  diacritics or punctuation), so the operator makes it;
- ``same_commune``: the producer lies in the outlet's commune; it is made nearby, not known to be
  on sale there.

Outlets known only by district get no ``same_commune`` links (a district is too wide to say
anything).

Each product carries its status today (``geoapp.services.visitor_index``: the one eligibility
rule at today's date, not the planners' ``as_of``): only products whose certificate is valid
today are OCOP products, and only they pass a stars or group filter. The catalogue (places,
spatial index, search index) is built once per data version and day, so it changes at midnight
(server time).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import urllib.parse
from collections.abc import Callable, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geoapp.config import Settings
from geoapp.domain.names import normalize_text
from geoapp.domain.nearest import NearestIndex
from geoapp.domain.ocop import APPROXIMATE_PRECISIONS, OUTLET_KINDS, OcopData
from geoapp.domain.search import SearchIndex
from geoapp.services.cache import LruCache
from geoapp.services.coverage import CoverageService
from geoapp.services.visitor_index import (
    ProductStatus,
    product_statuses,
    search_entries,
    stars_or_none,
    text_or_none,
    visitor_rule,
)
from geoapp.storage.base import Store

PLACE_KINDS = (*OUTLET_KINDS, "producer")
PRODUCT_BASES = ("own", "operator", "same_commune")
DEFAULT_LIMIT = 10
MAX_LIMIT = 50
COORDINATE_DECIMALS = 6
OSM_DIRECTIONS = "https://www.openstreetmap.org/directions"
OSM_SEARCH = "https://www.openstreetmap.org/search"


@dataclasses.dataclass(frozen=True)
class NearbyQuery:
    """A position (degrees, EPSG:4326), how many places, and optional filters.

    ``kinds``: place kinds to keep (``None``: all); ``group``: a QĐ 148 product group and
    ``min_stars``: a minimum rating; with either, a place must have a linked product meeting
    both whose certificate is valid today, and only such products are listed.
    """

    lat: float
    lon: float
    limit: int = DEFAULT_LIMIT
    kinds: tuple[str, ...] | None = None
    group: str | None = None
    min_stars: int | None = None


@dataclasses.dataclass(frozen=True)
class Catalogue:
    """Everything derived from one data version.

    ``places`` holds one JSON-ready dict per located place, aligned with ``links``, ``index``,
    ``kinds`` and ``best_stars`` (per product group, and ``""`` for any group: the highest
    rating of the place's linked products valid today, -1 for none).
    """

    places: list[dict[str, Any]]
    links: list[PlaceLinks]
    index: NearestIndex
    kinds: np.ndarray
    best_stars: dict[str, np.ndarray]
    groups: tuple[str, ...]
    search: SearchIndex


def _sources(value: Any) -> list[str]:
    text = text_or_none(value)
    return [s.strip() for s in text.split(";") if s.strip()] if text else []


def _located(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    lat = pd.to_numeric(frame["lat"], errors="coerce")
    lon = pd.to_numeric(frame["lon"], errors="coerce")
    return frame.loc[lat.notna() & lon.notna()]


@dataclasses.dataclass(frozen=True)
class PlaceLinks:
    """The parts of a place's links that do not depend on where the visitor is."""

    route_end: str  # "%3B<lat>%2C<lon>": the end of an OSM ``route`` argument, URL-encoded
    geo: str
    osm_search: str | None


def place_links(place: dict[str, Any]) -> PlaceLinks:
    """A ``geo:`` URI for a phone's map app and, for an approximate point with a published
    address, an OSM address search (the address may be found more precisely than the point)."""
    lat, lon = place["lat"], place["lon"]
    label = urllib.parse.quote(place["name"] or "", safe="")
    geo = f"geo:{lat:.6f},{lon:.6f}?q={lat:.6f},{lon:.6f}({label})"
    search = None
    if place["approximate"] and place.get("address"):
        search = OSM_SEARCH + "?" + urllib.parse.urlencode({"query": place["address"]})
    return PlaceLinks(f"%3B{lat:.6f}%2C{lon:.6f}", geo, search)


def directions(origin_lat: float, origin_lon: float, links: PlaceLinks) -> dict[str, str | None]:
    """Links to get to a place: OpenStreetMap directions from the origin (degrees) and the
    place's own links. Formatted directly: this runs for every place of every answer."""
    osm = (
        f"{OSM_DIRECTIONS}?engine=fossgis_osrm_car"
        f"&route={origin_lat:.6f}%2C{origin_lon:.6f}{links.route_end}"
    )
    return {"osm": osm, "geo": links.geo, "osm_search": links.osm_search}


class _PlaceBuilder:
    """Builds the places of one catalogue: outlets, then producers selling on site, each with
    the products the data links to it (see the module docstring)."""

    def __init__(
        self,
        data: OcopData,
        statuses: dict[str, ProductStatus],
        commune_names: dict[str, str],
        district_names: dict[str, str],
    ) -> None:
        self.data = data
        self.commune_names = commune_names
        self.district_names = district_names
        producers = data.producers
        producer_name = {
            pid: text_or_none(name)
            for pid, name in zip(producers["producer_id"], producers["name"], strict=True)
        }
        self.products_by_producer: dict[str, list[dict[str, Any]]] = {}
        for row in data.products.itertuples(index=False):
            self.products_by_producer.setdefault(row.producer_id, []).append(
                {
                    "product_id": row.product_id,
                    "name": row.name,
                    "stars": stars_or_none(row.stars),
                    "group": text_or_none(row.group_148),
                    "producer_id": row.producer_id,
                    "producer_name": producer_name.get(row.producer_id),
                    **statuses[row.product_id].fields(),
                }
            )
        self.by_name_key: dict[str, list[str]] = {}
        self.by_commune: dict[str, list[str]] = {}
        for pid, name, commune in zip(
            producers["producer_id"], producers["name"], producers["commune_code"], strict=True
        ):
            key = normalize_text(text_or_none(name))
            if key:
                self.by_name_key.setdefault(key, []).append(pid)
            if text_or_none(commune):
                self.by_commune.setdefault(str(commune), []).append(pid)
        self.operator_of: dict[str, list[dict[str, str]]] = {}

    def linked(self, producer_ids: Sequence[str], basis: str, seen: set[str]) -> list[dict]:
        out = []
        for pid in producer_ids:
            if pid in seen:
                continue
            seen.add(pid)
            out.extend({**item, "basis": basis} for item in self.products_by_producer.get(pid, []))
        return out

    def common(self, row: Any, kind: str) -> dict[str, Any]:
        commune = text_or_none(row.commune_code)
        district = text_or_none(row.district_code)
        precision = text_or_none(row.location_precision)
        return {
            "kind": kind,
            "name": text_or_none(row.name),
            "commune_code": commune,
            "commune_name": self.commune_names.get(commune) if commune else None,
            "district_code": district,
            "district_name": self.district_names.get(district) if district else None,
            "lat": round(float(row.lat), COORDINATE_DECIMALS),
            "lon": round(float(row.lon), COORDINATE_DECIMALS),
            "location_precision": precision,
            "approximate": precision in APPROXIMATE_PRECISIONS,
            "illustrative": bool(row.illustrative),
            "source_ids": _sources(row.source_ids),
        }

    def outlets(self) -> list[dict[str, Any]]:
        """Located outlets; records which producers operate which outlet (for ``sellers``)."""
        places = []
        for row in _located(self.data.outlets).itertuples(index=False):
            place = self.common(row, row.kind if row.kind in OUTLET_KINDS else "sales_point")
            operator = text_or_none(row.operator)
            operator_ids = self.by_name_key.get(normalize_text(operator), []) if operator else []
            seen: set[str] = set()
            products = self.linked(operator_ids, "operator", seen)
            if place["commune_code"]:
                commune_ids = self.by_commune.get(place["commune_code"], [])
                products += self.linked(commune_ids, "same_commune", seen)
            for pid in operator_ids:
                self.operator_of.setdefault(pid, []).append(
                    {"id": row.outlet_id, "name": place["name"] or ""}
                )
            place.update(
                id=row.outlet_id,
                status=text_or_none(row.status),
                address=text_or_none(row.address),
                operator=operator,
                operator_producer_ids=list(operator_ids),
                opened=text_or_none(row.opened),
                products=products,
            )
            places.append(place)
        return places

    def sellers(self) -> list[dict[str, Any]]:
        """Located, named producers selling on site (call after ``outlets``)."""
        producers = self.data.producers
        selling = producers["sells_on_site"].fillna("false").astype(str).str.lower().eq("true")
        places = []
        for row in _located(producers.loc[selling.to_numpy(dtype=bool)]).itertuples(index=False):
            if not text_or_none(row.name):
                continue
            place = self.common(row, "producer")
            place.update(
                id=row.producer_id,
                status=None,
                address=None,
                operator=None,
                operator_producer_ids=[],
                opened=None,
                products=self.linked([row.producer_id], "own", set()),
                runs_outlets=self.operator_of.get(row.producer_id, []),
                producer_type=text_or_none(row.producer_type),
            )
            places.append(place)
        return places


def _sort_products(places: list[dict[str, Any]]) -> None:
    """By how the product is linked, valid today first, then stars (highest first), name."""
    basis_rank = {b: i for i, b in enumerate(PRODUCT_BASES)}
    for place in places:
        place["products"].sort(
            key=lambda p: (
                basis_rank[p["basis"]],
                p["ocop_status"] != "ocop",
                -(p["stars"] or 0),
                p["name"] or "",
            )
        )


def _best_stars(places: list[dict[str, Any]], groups: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Per group (and ``""``: any), each place's best rating among products valid today."""
    best: dict[str, np.ndarray] = {"": np.full(len(places), -1, dtype=np.int16)}
    for group in groups:
        best[group] = np.full(len(places), -1, dtype=np.int16)
    for i, place in enumerate(places):
        for item in place["products"]:
            if item["ocop_status"] != "ocop":
                continue
            stars = item["stars"] or 0
            best[""][i] = max(best[""][i], stars)
            if item["group"] in best:
                best[item["group"]][i] = max(best[item["group"]][i], stars)
    return best


class VisitorService:
    """Nearest places and name search on one store; derived data cached per data version and
    day. ``today`` gives the day certificates are judged at (tests inject a fixed one)."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        coverage: CoverageService | None = None,
        today: Callable[[], dt.date] = dt.date.today,
    ) -> None:
        self.store = store
        self.settings = settings
        self.coverage = coverage or CoverageService(store, settings)
        self.today = today
        self._cache = LruCache(max_entries=8)

    def catalogue(self) -> Catalogue:
        day = self.today()
        return self._cache.get_or_compute(
            ("catalogue", self.store.data_version(), day), lambda: self._build_catalogue(day)
        )

    def groups(self) -> tuple[str, ...]:
        """The QĐ 148 product groups present in the data, sorted."""
        return self.catalogue().groups

    # -- building ------------------------------------------------------------------------------

    def _place_names(self) -> tuple[dict[str, str], dict[str, str]]:
        communes = self.store.communes("2020", "display")
        districts = self.store.districts("display")
        return (
            dict(zip(communes["commune_code"], communes["commune_full_name"], strict=True)),
            dict(zip(districts["district_code"], districts["district_full_name"], strict=True)),
        )

    def _build_catalogue(self, today: dt.date) -> Catalogue:
        data = self.store.ocop()
        commune_names, district_names = self._place_names()
        rule = visitor_rule(today, self.settings.certificate_months)
        statuses = product_statuses(self.coverage.eligibility("2020", rule))
        builder = _PlaceBuilder(data, statuses, commune_names, district_names)
        places = builder.outlets() + builder.sellers()
        _sort_products(places)
        groups = tuple(sorted({g for g in data.products["group_148"].dropna().astype(str) if g}))
        index = NearestIndex([p["lat"] for p in places], [p["lon"] for p in places])
        kinds = np.array([p["kind"] for p in places], dtype=object)
        search = SearchIndex(
            search_entries(self.store, data, commune_names, district_names, statuses)
        )
        links = [place_links(place) for place in places]
        return Catalogue(places, links, index, kinds, _best_stars(places, groups), groups, search)

    # -- queries -------------------------------------------------------------------------------

    def _allowed(self, catalogue: Catalogue, query: NearbyQuery) -> np.ndarray | None:
        mask = None
        if query.kinds is not None:
            mask = np.isin(catalogue.kinds, list(query.kinds))
        if query.group is not None or query.min_stars is not None:
            best = catalogue.best_stars.get(query.group or "")
            if best is None:
                by_product = np.zeros(len(catalogue.places), dtype=bool)
            else:
                by_product = best >= (query.min_stars or 0)
            mask = by_product if mask is None else mask & by_product
        return mask

    def nearby(self, query: NearbyQuery) -> list[dict[str, Any]]:
        """The ``query.limit`` nearest places, nearest first, each with ``distance_m``
        (geodesic, WGS 84, metres, 0.1 m), its linked products and ``directions`` links."""
        catalogue = self.catalogue()
        found = catalogue.index.nearest(
            query.lat, query.lon, query.limit, self._allowed(catalogue, query)
        )
        out = []
        for position, distance in zip(found.index, found.distance_m, strict=True):
            place = dict(catalogue.places[int(position)])
            products = place["products"]
            if query.group is not None or query.min_stars is not None:
                products = [p for p in products if p["ocop_status"] == "ocop"]
            if query.group is not None:
                products = [p for p in products if p["group"] == query.group]
            if query.min_stars is not None:
                products = [p for p in products if (p["stars"] or 0) >= query.min_stars]
            place["products"] = [dict(p) for p in products]
            place["distance_m"] = round(float(distance), 1)
            place["directions"] = directions(query.lat, query.lon, catalogue.links[int(position)])
            out.append(place)
        return out

    def search(self, text: str, limit: int = 10) -> list[dict[str, Any]]:
        """Outlets, producers, products, communes and districts whose names match ``text``
        (accent-insensitive; exact and prefix matches first). ``location`` is in degrees."""
        hits = self.catalogue().search.search(text, limit)
        out = []
        for hit in hits:
            entry = hit.entry
            location = None
            if entry.lat is not None and entry.lon is not None:
                location = {"lat": entry.lat, "lon": entry.lon}
            out.append(
                {
                    "type": entry.type,
                    "id": entry.id,
                    "name": entry.name,
                    "location": location,
                    "score": hit.score,
                    **dict(entry.extra),
                }
            )
        return out
