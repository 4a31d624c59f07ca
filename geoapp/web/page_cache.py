"""A server-side cache of rendered pages, keyed the way an HTTP cache keys them.

The map page is the same bytes for everyone who asks the same URL with the same language and
cookie headers, as long as the data version is the same. Rendering it (Jinja, about thirty
translated strings) costs a few milliseconds; a cache hit costs tens of microseconds, so the
page is served at the rate of the framework itself.

Only the endpoints in ``CACHED_ENDPOINTS`` are cached, only ``GET`` answers ``200`` with no
``Set-Cookie``, no ``private``/``no-store`` and no ``Authorization`` on the request. The key is
(data version, host, path and query, Accept-Language, Cookie); the entries are bounded
(LRU). Compression and the ETag/304 logic run after this, on every answer.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from flask import Flask, Request, Response, g, request, session

CACHED_ENDPOINTS = frozenset({"pages.index"})
# Every request header a page may depend on (the language: Accept-Language or a cookie) is part
# of the key, whatever the answer's Vary says; an answer that varies on anything else is not
# kept. Accept-Encoding is negotiated after this, per request.
KEYED_HEADERS = ("accept-language", "cookie")
IGNORED_VARY = frozenset({"accept-encoding"})


class PageCache:
    """Rendered answers (status, headers, body) by request key; thread-safe, bounded."""

    def __init__(self, max_entries: int = 256) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple, tuple[int, list[tuple[str, str]], bytes]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0

    @staticmethod
    def _key(req: Request, version: str) -> tuple:
        varied = tuple(req.headers.get(name, "") for name in KEYED_HEADERS)
        return (version, req.host, req.full_path, varied)

    @staticmethod
    def eligible(req: Request) -> bool:
        return (
            req.method == "GET"
            and req.endpoint in CACHED_ENDPOINTS
            and "Authorization" not in req.headers
        )

    def lookup(self, req: Request, version: str) -> Response | None:
        key = self._key(req, version)
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            self._entries.move_to_end(key)
            self.hits += 1
        status, headers, body = entry
        return Response(body, status=status, headers=headers)

    def store(self, req: Request, response: Response, version: str) -> None:
        if response.status_code != 200 or response.direct_passthrough or response.is_streamed:
            return
        if "Set-Cookie" in response.headers or "Content-Encoding" in response.headers:
            return
        control = response.cache_control
        if control.private or control.no_store:
            return
        if {v.lower() for v in response.vary} - IGNORED_VARY - set(KEYED_HEADERS):
            return  # it varies on something the key does not hold
        key = self._key(req, version)
        headers = [(k, v) for k, v in response.headers.items() if k.lower() != "content-length"]
        entry = (response.status_code, headers, response.get_data())
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)


def init_app(app: Flask) -> PageCache:
    """Serve the cached endpoints from the cache when a rendered answer is there.

    Call after ``compression.init_app``: Flask runs ``after_request`` hooks last-registered
    first, so the cache keeps the identity body and every answer is then compressed.
    """
    cache = PageCache()
    app.extensions["geoapp.page_cache"] = cache

    def version() -> str:
        return app.extensions["geoapp"].store.data_version()

    @app.before_request
    def _serve_cached():
        if PageCache.eligible(request):
            g.page_cache_hit = cached = cache.lookup(request, version())
            return cached
        return None

    @app.after_request
    def _remember(response: Response) -> Response:
        # A view that changed the session (a new visitor's token, say) made a page for that
        # visitor alone. Hooks registered before this one (language cookie) still run on hits.
        if (
            PageCache.eligible(request)
            and response.status_code == 200  # an error (database down) asks no version
            and g.get("page_cache_hit") is None
            and not session.modified
        ):
            cache.store(request, response, version())
        return response

    return cache
