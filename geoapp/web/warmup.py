"""Warm the caches so that no visitor's request does geometry or compression work.

``warm(app)`` requests, in-process, the pages and map resources of both editions at the
default parameters and the scripts and stylesheets the pages link, as a browser would (gzip
and brotli): coverage, status, GeoJSON and TopoJSON payloads, rendered pages and every compressed
variant are then cached for the current data version.
``start_warmup(app)`` does it in a daemon thread and again whenever the data version changes
(checked every ``interval_s``), so a rebuild or an import is warmed too.

Called by the gunicorn worker hook in ``gunicorn.conf.py``, never at import time: tests create
many apps and must not pay for this.
"""

from __future__ import annotations

import ctypes
import gc
import logging
import re
import sys
import threading
import time
from collections.abc import Iterator

from flask import Flask

from geoapp.config import EDITIONS

log = logging.getLogger(__name__)
ENCODINGS = ("", "br, gzip", "gzip, deflate")
# Scripts and stylesheets a page links or names for later (export.js, the cluster plugin).
STATIC_URL = re.compile(r'"(/static/[^"?#]+\.(?:js|css))"')


def warm_urls(app: Flask) -> Iterator[str]:
    """The URLs a first visit to each edition's map loads from the service, and the layers
    other clients ask for (TopoJSON, GeoJSON)."""
    for edition in EDITIONS:
        yield f"/?edition={edition}"
        yield f"/api/boundaries.topojson?edition={edition}"
        yield f"/api/coverage/status.json?edition={edition}"
        yield f"/api/map.topojson?edition={edition}"
        yield f"/api/communes.geojson?edition={edition}"
        yield f"/api/districts.geojson?edition={edition}"
    yield "/"
    yield "/api/producers.geojson"
    yield "/api/outlets.geojson"
    yield from area_tile_urls(app)


def area_tile_urls(app: Flask) -> Iterator[str]:
    """For an edition mapped by area, the vector tile at the communes' zoom holding its first
    commune: making it builds the edition's spatial index, which every other tile uses."""
    from geoapp.services.vector_tiles import lon_lat_tile
    from geoapp.storage.base import DataMissingError
    from geoapp.web.map_data import topology_service

    with app.app_context():
        service = topology_service()
        z = app.extensions["geoapp"].settings.map_communes_min_zoom
        for edition in EDITIONS:
            try:
                if not service.by_area(edition):
                    continue
                communes = service.store.communes(edition, "display")
            except DataMissingError:
                continue
            drawn = communes.geometry[~communes.geometry.is_empty]
            if len(drawn):
                point = drawn.iloc[0].representative_point()
                x, y = lon_lat_tile(point.x, point.y, z)
                yield f"/tiles/{edition}/{z}/{x}/{y}.mvt"


def release_free_memory() -> None:
    """Hand memory freed by the warm-up back to the system (it peaks while building).

    The cached results are small; the peak comes from temporary frames, Arrow buffers and
    compression windows, which glibc and Arrow would otherwise keep for reuse.
    """
    gc.collect()
    try:
        import pyarrow

        pyarrow.default_memory_pool().release_unused()
    except Exception:  # an optional nicety: never fail the warm-up for it
        log.debug("arrow memory pool not released", exc_info=True)
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except OSError:
            log.debug("malloc_trim unavailable", exc_info=True)


def warm(app: Flask) -> dict[str, float]:
    """Request every warm URL in every encoding; returns seconds per URL (first encoding).

    Frees the warm-up's temporary memory afterwards (``release_free_memory``).
    """
    timings: dict[str, float] = {}
    client = app.test_client()
    urls = list(warm_urls(app))
    for url in urls:
        for encoding in ENCODINGS:
            started = time.perf_counter()
            response = client.get(url, headers={"Accept-Encoding": encoding})
            timings.setdefault(url, time.perf_counter() - started)
            if response.status_code != 200:
                log.warning("warm-up: %s answered %s", url, response.status_code)
                break
            if url.startswith("/?") and not encoding:  # the page's scripts and stylesheets
                text = response.get_data(as_text=True)
                urls += [u for u in STATIC_URL.findall(text) if u not in urls]
    release_free_memory()
    return timings


def start_warmup(app: Flask, interval_s: float = 10.0) -> threading.Thread:
    """Warm now and after every data version change, in a daemon thread."""

    def run() -> None:
        state = app.extensions["geoapp"]
        warmed: str | None = None
        while True:
            try:
                version = state.store.data_version()
                if version != warmed:
                    timings = warm(app)
                    log.info("warm-up of data version %s: %.2f s", version, sum(timings.values()))
                    warmed = version
                    app.extensions["geoapp.warmed"] = {"version": version, "timings": timings}
            except Exception:  # a missing data file must not kill the worker
                log.exception("warm-up failed")
            time.sleep(interval_s)

    thread = threading.Thread(target=run, name="geoapp-warmup", daemon=True)
    thread.start()
    return thread
