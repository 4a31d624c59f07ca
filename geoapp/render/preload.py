"""``<link rel="preload">`` for the map's data, so that the browser fetches it while it still
loads and runs the scripts (the map script asks for it only at the end of the page)."""

from __future__ import annotations

from markupsafe import escape


def preload_links(urls: list[str]) -> str:
    """Preload hints for ``fetch()`` requests of ``urls`` (same-origin, as the map script makes
    them: ``crossorigin="anonymous"`` matches fetch's default credentials mode)."""
    return "".join(
        f'<link rel="preload" as="fetch" crossorigin="anonymous" href="{escape(url)}">'
        for url in urls
        if url
    )
