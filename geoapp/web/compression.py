"""Compressed, revalidatable delivery: gzip or brotli by ``Accept-Encoding``, ETags and 304s.

- API payloads (``send_payload``) keep their compressed variants beside the raw bytes, so a
  payload cached per data version and parameters is compressed once per content coding.
  Map layers (GeoJSON, TopoJSON) get the slow, best settings; other payloads, which are often
  made per request, fast ones.
- Every other compressible answer (the page HTML, JSON, the static JavaScript and CSS) is
  compressed by an ``after_request`` hook: identical bodies are compressed once (an LRU keyed
  by content hash), static files once per file version. HTML and JSON get a strong ETag (a hash
  of the body), so a repeat visit is answered 304 with no body.
- A compressed variant has its own strong ETag (the identity tag plus ``-br`` or ``-gz``) and
  every negotiated answer says ``Vary: Accept-Encoding``, so caches keep the variants apart.
- Static files: the vendor libraries (pinned by package-lock.json) may be cached for a day,
  the app's own script and stylesheet for five minutes; then they are revalidated (304).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from flask import Flask, Request, Response, request
from werkzeug.security import safe_join

from geoapp.services.compression import (
    MIN_COMPRESS_BYTES,
    EncodedBodies,
    content_tag,
    encoded_variant,
)
from geoapp.services.coverage import Payload

COMPRESSIBLE = frozenset(
    {
        "text/html",
        "text/css",
        "text/plain",
        "text/csv",
        "text/javascript",
        "application/javascript",
        "application/json",
        "application/geo+json",
        "application/topo+json",
        "application/vnd.mapbox-vector-tile",
        "application/xml",
        "image/svg+xml",
    }
)
# Made once per data version and parameters and kept in a cache: worth the best settings.
BEST_MIMETYPES = frozenset(
    {"application/geo+json", "application/topo+json", "application/vnd.mapbox-vector-tile"}
)
# Tagged with a hash of the body, so that a repeat request can be answered 304.
TAGGED_MIMETYPES = frozenset({"text/html", "application/json"})
ETAG_SUFFIX = {"br": "br", "gzip": "gz"}
PAYLOAD_CACHE_CONTROL = "public, max-age=60, must-revalidate"
VENDOR_MAX_AGE_S = 24 * 3600
APP_ASSET_MAX_AGE_S = 300

_bodies = EncodedBodies(max_entries=256)


def choose_coding(req: Request) -> str | None:
    """``"br"``, ``"gzip"`` or ``None`` (identity) for the request's ``Accept-Encoding``.

    Brotli wins when the client rates it at least as high as gzip; a quality of 0 refuses.
    """
    accepted = req.accept_encodings
    br, gz = accepted.quality("br"), accepted.quality("gzip")
    if br > 0 and br >= gz:
        return "br"
    if gz > 0:
        return "gzip"
    return None


def _encode(response: Response, tag: str, coding: str, variant: bytes, weak: bool = False) -> None:
    response.set_data(variant)
    response.headers["Content-Encoding"] = coding
    response.headers.pop("Accept-Ranges", None)  # ranges would address the identity bytes
    response.set_etag(f"{tag}-{ETAG_SUFFIX[coding]}", weak=weak)


# A data URL that names the version it was made for (``v=``) never changes; one that names no
# version, or an older one, must be revalidated every time (a 304 is tiny), so a reload after
# an import or a rollback shows one state in every view and every worker.
VERSIONED_CACHE_CONTROL = "public, max-age=31536000, immutable"
UNVERSIONED_CACHE_CONTROL = "no-cache"


def send_payload(data: Payload, req: Request | None = None, version: str | None = None) -> Response:
    """The payload in the best coding the client accepts, with a strong ETag; 304 on a match.

    With ``version`` (the data or boundary version the payload was made from) it is cached for
    good when the request's ``v=`` names that version, else always revalidated."""
    req = req if req is not None else request
    response = Response(data.body, mimetype=data.mimetype)
    response.vary.add("Accept-Encoding")
    if version is None:
        response.headers["Cache-Control"] = PAYLOAD_CACHE_CONTROL
    elif req.args.get("v") == version:
        response.headers["Cache-Control"] = VERSIONED_CACHE_CONTROL
    else:
        response.headers["Cache-Control"] = UNVERSIONED_CACHE_CONTROL
    response.set_etag(data.etag)
    coding = choose_coding(req)
    if coding is not None and len(data.body) >= MIN_COMPRESS_BYTES:
        if data.mimetype in BEST_MIMETYPES:
            variant = encoded_variant(data.encoded, data.body, coding, best=True)
        else:
            variant = data.encoded.get(coding) or _bodies.get(
                data.etag, data.body, coding, best=False
            )
            data.encoded[coding] = variant
        _encode(response, data.etag, coding, variant)
    return response.make_conditional(req)


class StaticFiles:
    """Static files' bytes, content tag and compressed variants, by path, size and mtime.

    Files over ``max_bytes`` are left to Flask (streamed from disk, Flask's own ETag).
    """

    def __init__(self, max_bytes: int = 2 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self._entries: dict[str, tuple[tuple[int, int], bytes, str, dict[str, bytes]]] = {}
        self._lock = threading.Lock()

    def file(self, path: str) -> tuple[bytes, str, dict[str, bytes]] | None:
        """``(bytes, content tag, coding -> bytes)`` of the file, or None."""
        try:
            stat = os.stat(path)
        except OSError:
            return None
        if stat.st_size > self.max_bytes:
            return None
        key = (stat.st_size, stat.st_mtime_ns)
        with self._lock:
            entry = self._entries.get(path)
        if entry is None or entry[0] != key:
            body = Path(path).read_bytes()
            entry = (key, body, content_tag(body), {})
            with self._lock:
                self._entries[path] = entry
        return entry[1], entry[2], entry[3]


def _static_path(app: Flask) -> str | None:
    filename = (request.view_args or {}).get("filename")
    if not filename or not app.static_folder:
        return None
    return safe_join(app.static_folder, filename)


def _static_response(app: Flask, static: StaticFiles, response: Response) -> Response:
    """A static file from memory: a content ETag (short, the same in every worker and after
    every deployment of the same file), compressed when it helps, no redundant headers."""
    path = _static_path(app)
    found = static.file(path) if path is not None else None
    if found is None or len(found[0]) != response.content_length:
        return response  # too large, or changed between send_file and now: as Flask sent it
    body, tag, variants = found
    response.response.close()  # the open file send_file handed over
    response.direct_passthrough = False
    for name in ("Content-Disposition", "Expires"):  # inline is the default; max-age rules
        response.headers.pop(name, None)
    coding = choose_coding(request) if response.mimetype in COMPRESSIBLE else None
    if response.mimetype in COMPRESSIBLE:
        response.vary.add("Accept-Encoding")
    if coding is not None and len(body) >= MIN_COMPRESS_BYTES:
        _encode(response, tag, coding, encoded_variant(variants, body, coding, best=True))
    else:
        response.set_data(body)
        response.set_etag(tag)
    return response.make_conditional(request)


def compress_response(app: Flask, static: StaticFiles, response: Response) -> Response:
    """The ``after_request`` hook: compress, tag and answer 304 where the client allows."""
    if request.method not in ("GET", "HEAD") or response.status_code != 200:
        return response
    if request.endpoint == "static":
        return _static_response(app, static, response)
    if response.mimetype not in COMPRESSIBLE or "Content-Encoding" in response.headers:
        return response
    if "accept-encoding" in {value.lower() for value in response.vary}:
        return response  # negotiated already (send_payload)
    coding = choose_coding(request)
    if response.is_streamed or response.direct_passthrough:
        return response
    body = response.get_data()
    response.vary.add("Accept-Encoding")
    tag, weak = response.get_etag()
    if tag is None and response.mimetype in TAGGED_MIMETYPES:
        tag = content_tag(body)
        response.set_etag(tag)
    if response.mimetype == "text/html" and "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-cache"  # always revalidate: a 304 is tiny
    if coding is not None and len(body) >= MIN_COMPRESS_BYTES:
        key = tag or content_tag(body)
        variant = _bodies.get(key, body, coding, best=False)
        _encode(response, key, coding, variant, bool(weak))
        if tag is None:
            response.headers.pop("ETag", None)
    return response.make_conditional(request) if tag is not None else response


def static_max_age(filename: str | None) -> int:
    """Seconds a browser may keep a static file before revalidating it."""
    if filename and filename.replace("\\", "/").startswith("vendor/"):
        return VENDOR_MAX_AGE_S
    return APP_ASSET_MAX_AGE_S


def init_app(app: Flask) -> None:
    """Register the compression hook and the static files' cache lifetimes on ``app``."""
    static = StaticFiles()
    app.get_send_file_max_age = static_max_age  # type: ignore[method-assign]

    @app.after_request
    def _compress(response: Response) -> Response:
        return compress_response(app, static, response)
