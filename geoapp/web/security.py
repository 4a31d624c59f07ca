"""Security headers of every response, set in one place, and local-only link targets.

- ``Content-Security-Policy``: scripts, styles, fonts, data requests and images from the service
  itself (images also from the configured tile server, ``GEOAPP_TILE_URL``). Inline ``<script>``
  and ``<style>`` blocks of an HTML answer are allowed by their SHA-256 hash, computed here from
  the body: hashes rather than nonces because pages are cached and tagged (the page cache,
  ETags, the compressed variants) and must be the same bytes for everyone, which a per-request
  nonce would break. No ``unsafe-eval``, no ``unsafe-inline`` for scripts; ``style-src-attr
  'unsafe-inline'`` lets ``style="..."`` attributes through (the legend swatches, Leaflet's
  markup): an attribute cannot run code, and a hash cannot name it.
- The frame policy: ``/embed/*`` may be framed by any site; ``/admin`` by none
  (``X-Frame-Options: DENY``); every other page only by the service itself (``SAMEORIGIN``).
- ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: strict-origin-when-cross-origin``
  (the tile server still gets the origin, as its usage policy asks), and HSTS when the service
  is behind HTTPS (``GEOAPP_COOKIE_SECURE``).

Flask-Talisman was not used: it knows nonces only, and its nonce would differ per request.
"""

from __future__ import annotations

import base64
import hashlib
import re
import urllib.parse

from flask import Flask, Response, request

CSP = "Content-Security-Policy"
INLINE = re.compile(r"<(script|style)\b([^>]*)>(.*?)</\1\s*>", re.IGNORECASE | re.DOTALL)
HAS_SRC = re.compile(r"\bsrc\s*=", re.IGNORECASE)
HSTS_MAX_AGE_S = 180 * 24 * 3600


def tile_origins(tile_url: str) -> tuple[str, ...]:
    """The origin of a Leaflet tile URL template (``{s}`` subdomains become ``*``)."""
    if not tile_url or tile_url == "none":
        return ()
    parts = urllib.parse.urlsplit(tile_url.replace("{s}", "subdomain-placeholder"))
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return ()  # a path on the service itself: 'self' covers it
    host = parts.netloc.replace("subdomain-placeholder", "*")
    return (f"{parts.scheme}://{host}",)


def inline_hashes(html: str) -> tuple[list[str], list[str]]:
    """CSP hash sources (``'sha256-...'``) of the inline scripts and styles of ``html``."""
    scripts: list[str] = []
    styles: list[str] = []
    for match in INLINE.finditer(html):
        tag, attrs, body = match.group(1).lower(), match.group(2), match.group(3)
        if tag == "script" and HAS_SRC.search(attrs):
            continue
        digest = base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode()
        source = f"'sha256-{digest}'"
        target = scripts if tag == "script" else styles
        if source not in target:
            target.append(source)
    return scripts, styles


def content_security_policy(
    frame_ancestors: str, images: tuple[str, ...], scripts=(), styles=()
) -> str:
    """The policy of one answer; ``scripts``/``styles`` are hash sources of its inline code."""
    directives = [
        "default-src 'self'",
        " ".join(("script-src 'self'", *scripts)),
        " ".join(("style-src 'self'", *styles)),
        "style-src-attr 'unsafe-inline'",
        " ".join(("img-src 'self' data:", *images)),
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        f"frame-ancestors {frame_ancestors}",
    ]
    return "; ".join(directives)


def safe_local_path(target: str | None, default: str = "/") -> str:
    """``target`` if it is a path on this site, else ``default``.

    Browsers read ``//host``, ``/\\host`` and ``\\\\host`` (and the same with tabs or newlines in
    between, which they drop) as links to another site, so a target must start with one ``/``
    not followed by ``/`` or ``\\``, hold no control character or backslash, and name no scheme
    or host once parsed.
    """
    if not target:
        return default
    text = urllib.parse.unquote(target) if "%" in target else target
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F or ch == "\\" for ch in text + target):
        return default
    if not target.startswith("/") or target.startswith("//"):
        return default
    parts = urllib.parse.urlsplit(target)
    if parts.scheme or parts.netloc or text.startswith("//"):
        return default
    return target


def local_path_link(path: str, query: str = "") -> str:
    """A link to ``path`` of this site (a request's path): percent-encoded, one leading ``/``."""
    quoted = urllib.parse.quote(path.lstrip("/\\"), safe="/:@!$&'()*+,;=-._~")
    return f"/{quoted}?{query}" if query else f"/{quoted}"


def frame_policy(path: str) -> tuple[str, str | None]:
    """(CSP ``frame-ancestors`` value, ``X-Frame-Options`` value or ``None``) for ``path``."""
    if path.startswith("/embed/"):
        return "*", None
    if path == "/admin" or path.startswith("/admin/"):
        return "'none'", "DENY"
    return "'self'", "SAMEORIGIN"


def init_app(app: Flask) -> None:
    """Add the headers to every answer. Register after the page cache: Flask runs the
    ``after_request`` hooks last-registered first, so the cache keeps the policy with the page
    and a cached page is served with the policy of its own bytes."""
    settings = app.extensions["geoapp"].settings
    images = tile_origins(settings.tile_url)
    secure = bool(app.config.get("SESSION_COOKIE_SECURE"))

    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        ancestors, frame_option = frame_policy(request.path)
        if CSP not in headers:
            scripts, styles = [], []
            if response.mimetype == "text/html" and not (
                response.direct_passthrough or response.is_streamed
            ):
                scripts, styles = inline_hashes(response.get_data(as_text=True))
            headers[CSP] = content_security_policy(ancestors, images, scripts, styles)
        if frame_option is None:
            headers.pop("X-Frame-Options", None)
        else:
            headers["X-Frame-Options"] = frame_option
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        if secure:
            headers["Strict-Transport-Security"] = f"max-age={HSTS_MAX_AGE_S}"
        return response
