"""Headless chromium (Debian's, through Playwright): what a first visit loads, and how long
until the map's layers are drawn, measured inside the page (``performance.now()`` from the
start of navigation, polled every animation frame)."""

from __future__ import annotations

import mimetypes
import statistics
from pathlib import Path
from urllib.parse import urlsplit

from bench.naive import npm_file, shared_library

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
OURS_READY = "() => document.body && document.body.dataset.mapReady === 'true' && performance.now()"
OURS_FAILED = "() => document.body && document.body.dataset.mapReady === 'error'"


def naive_ready(n_features: int) -> str:
    return (
        "() => document.querySelectorAll('path.leaflet-interactive').length >= "
        f"{int(n_features)} && performance.now()"
    )


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)


def _local_only(page, origin: str, seen: list[str], blocked: list[str]) -> None:
    """Our page: only the service itself (nothing else exists offline)."""

    def handle(route):
        url = route.request.url
        if urlsplit(url).netloc == origin:
            seen.append(url)
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    page.route("**/*", handle)


def _naive_routes(page, origin: str, served: dict[str, str]) -> None:
    """The naive page's CDN assets, offline: the npm copy of each (``bench/node_modules``);
    without it Leaflet from our copy and an empty file for the rest (which only makes the
    naive page faster)."""

    def handle(route):
        url = route.request.url
        if urlsplit(url).netloc == origin:
            route.continue_()
            return
        kind = mimetypes.guess_type(urlsplit(url).path)[0] or "application/octet-stream"
        copy = npm_file(url)
        local = shared_library(url)
        if copy is not None:
            served[url] = str(copy.relative_to(ROOT))
            body = copy.read_bytes()
        elif local is not None:
            served[url] = f"static/{local}"
            body = (ROOT / "static" / local).read_bytes()
        else:
            served[url] = ""
            body = b""
        route.fulfill(status=200, body=body, content_type=kind)

    page.route("**/*", handle)


def first_visit_urls(browser, url: str, then_js: str | None = None) -> tuple[list[str], list[str]]:
    """Same-origin URLs a first visit of ``url`` asks for until the layers are drawn (and
    ``then_js`` holds, for layers loaded after that), and any request to another host
    (blocked)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    seen: list[str] = []
    blocked: list[str] = []
    _local_only(page, urlsplit(url).netloc, seen, blocked)
    page.goto(url)
    page.wait_for_function(OURS_READY, polling="raf", timeout=60_000)
    if then_js:
        page.wait_for_function(then_js, timeout=60_000)
    page.wait_for_timeout(300)  # late images (e.g. the layer control's icon)
    context.close()
    return list(dict.fromkeys(seen)), blocked


def time_to_layers(
    browser, url: str, ready_js: str, naive_origin: bool = False, runs: int = 5
) -> dict:
    """Milliseconds from navigation start until ``ready_js`` holds; fresh cache each run."""
    times = []
    for _ in range(runs):
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        if naive_origin:  # its CDN assets from npm; ours asks nothing outside the service
            _naive_routes(page, urlsplit(url).netloc, {})  # (first_visit_urls checks that)
        page.goto(url, wait_until="commit", timeout=120_000)
        value = page.wait_for_function(ready_js, polling="raf", timeout=120_000).json_value()
        times.append(float(value))
        context.close()
    return {"median_ms": statistics.median(times), "runs_ms": times}


def naive_cdn_assets(browser, url: str, n_features: int) -> dict[str, str]:
    """The naive page's CDN URLs and what stood in for each (our Leaflet path or "")."""
    context = browser.new_context()
    page = context.new_page()
    served: dict[str, str] = {}
    _naive_routes(page, urlsplit(url).netloc, served)
    page.goto(url, timeout=120_000)
    page.wait_for_function(naive_ready(n_features), polling="raf", timeout=120_000)
    context.close()
    return served


def repeat_visit_bytes(browser, url: str) -> dict:
    """Bytes on the wire (Chrome's ``encodedDataLength``: headers and body) when the same
    browser visits ``url`` again after a first visit: answers from its cache cost nothing,
    revalidations cost their 304."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()  # no page.route here: routing turns the browser's cache off
    page.goto(url)
    page.wait_for_function(OURS_READY, polling="raf", timeout=60_000)
    page.wait_for_timeout(300)
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    seen: dict[str, dict] = {}

    def received(event):
        response = event["response"]
        seen[event["requestId"]] = {
            "path": urlsplit(response["url"]).path,
            "status": response["status"],
            "cache": bool(response.get("fromDiskCache") or response.get("fromMemoryCache")),
            "bytes": 0,
        }

    def finished(event):
        if event["requestId"] in seen:
            seen[event["requestId"]]["bytes"] = int(event["encodedDataLength"])

    def served_from_cache(event):
        seen.setdefault(event["requestId"], {"path": "?", "status": 200, "bytes": 0})
        seen[event["requestId"]]["cache"] = True

    cdp.on("Network.responseReceived", received)
    cdp.on("Network.loadingFinished", finished)
    cdp.on("Network.requestServedFromCache", served_from_cache)
    page.goto(url)
    page.wait_for_function(OURS_READY, polling="raf", timeout=60_000)
    page.wait_for_timeout(500)
    context.close()
    rows = list(seen.values())
    network = [r for r in rows if not r.get("cache")]
    return {
        "requests": rows,
        "from_cache": sum(1 for r in rows if r.get("cache")),
        "over_network": len(network),
        "bytes": sum(r["bytes"] for r in network),
    }
