"""``make bench``: our coverage map against the naive folium map, side by side, in one run.

Sections (all on this machine, loopback only, bounded in time):
1. page weight of a first visit, all resources, gzip (and brotli), ours vs the naive page;
   the repeat visit's bytes (every resource revalidated: 304 answers);
2. server time in-process (Flask test client): cold (first after start) and warm p50;
3. HTTP throughput: gunicorn with 2 workers, wrk in a second process, per route, with each
   route's ratio to the trivial ``/bench/hello``;
4. browser: time until the layers are drawn in headless chromium, median of 5, ours vs naive;
5. scale, on ILLUSTRATIVE generated data: coverage with 1,000,000 producers (time, peak
   memory), nearest outlet among 100,000, a 10,000-commune country layer's first load;
6. memory: resident size of each gunicorn worker after start (warmed) and after the load.

Prints a table and writes ``bench/results/latest.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import http.client
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import browser as chromium  # noqa: E402
from bench.load import run_wrk, wrk_available  # noqa: E402
from bench.naive import cdn_assets, n_features, naive_html, npm_file, shared_library  # noqa: E402
from bench.servers import Gunicorn, rss_mb  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "latest.json"
EDITIONS = ("2020", "2025")
OUR_ENV = {"GEOAPP_BENCH_ROUTES": "1", "GEOAPP_TILE_URL": "none"}
NEARBY = "/api/nearby?lat=15.5736&lon=108.4740"  # Tam Kỳ
ROUTES = {
    "hello": "/bench/hello",
    "/": "/",
    "/api/communes.geojson": "/api/communes.geojson",
    "/api/coverage/status.json": "/api/coverage/status.json",
    "/api/nearby": NEARBY,
}


HTTP_ROUNDS = 3
# Answered from caches: these should run near the framework's floor (ratio to hello >= 0.7).
# /api/nearby computes every answer (a visitor's position is never the same twice).
CACHED_ROUTES = frozenset({"/", "/api/communes.geojson", "/api/coverage/status.json"})


OGC_PORT = 5338  # bench.bench_ogc's live server for ogr2ogr


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def transfer(url: str, encoding: str, etag: str | None = None) -> dict:
    """One GET: status, body bytes as sent (compressed), header bytes, ETag."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    headers = {"Accept-Encoding": encoding}
    if etag:
        headers["If-None-Match"] = etag
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    body = response.read()
    head = f"HTTP/1.1 {response.status} {response.reason}\r\n" + str(response.msg)
    connection.close()
    return {
        "status": response.status,
        "body": len(body),
        "headers": len(head.encode()),
        "etag": response.getheader("ETag"),
        "encoding": response.getheader("Content-Encoding"),
    }


def page_weight(server_url: str, urls: list[str]) -> dict:
    """First visit (gzip; brotli) and repeat visit (If-None-Match on every resource)."""
    rows = []
    for url in urls:
        gz = transfer(url, "gzip")
        br = transfer(url, "br, gzip")
        again = transfer(url, "gzip", gz["etag"])
        rows.append(
            {
                "path": url[len(server_url) :],
                "status": gz["status"],
                "gzip_body": gz["body"],
                "gzip_headers": gz["headers"],
                "br_body": br["body"],
                "etag": gz["etag"],
                "repeat_status": again["status"],
                "repeat_etag": again["etag"],
                "repeat_bytes": again["body"] + again["headers"],
            }
        )
    return {
        "resources": rows,
        "gzip_bytes": sum(r["gzip_body"] for r in rows),
        "gzip_bytes_with_headers": sum(r["gzip_body"] + r["gzip_headers"] for r in rows),
        "br_bytes": sum(r["br_body"] for r in rows),
        "repeat_bytes": sum(r["repeat_bytes"] for r in rows),
        "repeat_all_304": all(r["repeat_status"] == 304 for r in rows),
    }


def naive_weight(html: bytes, our_sizes: dict[str, int]) -> dict:
    """The naive page's weight, gzip -9, counted two ways.

    ``gzip_bytes_all_cdn`` (the comparison: a first load, all resources): its HTML plus every
    CDN asset that npm has (jQuery, Bootstrap, Font Awesome's CSS, awesome-markers, Leaflet
    1.9.3); the two small stylesheets npm lacks are listed in ``missing_assets`` and counted
    as nothing. ``gzip_bytes``: its HTML plus only the CDN assets that are libraries our page
    loads too (Leaflet), at our gzip size of the same library, as if the naive page's other
    assets weighed nothing: a lower bound, reported beside it.
    """
    html_gz = len(gzip.compress(html, 9, mtime=0))
    counted, all_cdn, missing = {}, {}, []
    for url in cdn_assets(html):
        local = shared_library(url)
        if local is not None and local in our_sizes:
            counted[url] = our_sizes[local]
        copy = npm_file(url)
        if copy is not None:
            all_cdn[url] = len(gzip.compress(copy.read_bytes(), 9, mtime=0))
        else:
            missing.append(url)
    return {
        "html_bytes": len(html),
        "html_gzip_bytes": html_gz,
        "gzip_bytes": html_gz + sum(counted.values()),
        "counted_assets": counted,
        "gzip_bytes_all_cdn": html_gz + sum(all_cdn.values()),
        "all_cdn_assets": all_cdn,
        "missing_assets": missing,
    }


def run_json(args: list[str], timeout: int) -> dict:
    done = subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        raise RuntimeError(f"{args} failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def section_naive_build(results: dict) -> dict[str, bytes]:
    log("naive pages: geopandas explore() of the raw boundaries, built 3 times per edition")
    pages, out = {}, {}
    for edition in EDITIONS:
        times = []
        for _ in range(3):
            started = time.perf_counter()
            pages[edition] = naive_html(edition)
            times.append(time.perf_counter() - started)
        out[edition] = {
            "build_median_s": statistics.median(times),
            "html_bytes": len(pages[edition]),
            "features": n_features(edition),
        }
    results["naive_build"] = out
    return pages


def section_server_time(results: dict, repeat: int) -> None:
    log("server time in-process (fresh process: cold, then warm)")
    results["server_time"] = run_json(["bench/server_time.py", "--repeat", str(repeat)], 900)


def section_http(results: dict, server: Gunicorn, duration_s: int, connections: int) -> None:
    if not wrk_available():
        results["http"] = {"skipped": "wrk is not installed (apt-get install wrk)"}
        return
    out: dict[str, dict] = {}
    runs: dict[str, list[dict]] = {}
    for name, path in ROUTES.items():
        if transfer(server.url + path, "gzip")["status"] == 404:
            out[name] = {"skipped": f"{path} answers 404 (route not there)"}
        else:
            runs[name] = []
    # Rounds of every route in turn, so that a noisy moment of the shared machine hits them
    # all alike; each figure is the median of its rounds.
    each_s = max(3, round(duration_s / HTTP_ROUNDS))
    for round_no in range(HTTP_ROUNDS):
        for name in runs:
            path = ROUTES[name]
            log(f"wrk round {round_no + 1}/{HTTP_ROUNDS}, {each_s} s, {connections} conn.: {path}")
            runs[name].append(run_wrk(server.url + path, each_s, connections))
    for name, rounds in runs.items():
        result = {
            key: statistics.median(values)
            for key in ("requests_per_s", "p50_ms", "p75_ms", "p90_ms", "p99_ms")
            if (values := [r[key] for r in rounds if key in r])
        }
        result["errors"] = sum(r["errors"] for r in rounds)
        result["non_2xx_3xx"] = sum(r["non_2xx_3xx"] for r in rounds)
        result["requests"] = sum(r["requests"] for r in rounds)
        result["rounds_requests_per_s"] = [r["requests_per_s"] for r in rounds]
        result["path"] = ROUTES[name]
        out[name] = result
    hello = out.get("hello", {}).get("requests_per_s") or 0.0
    for result in out.values():
        if "requests_per_s" in result and hello:
            result["ratio_to_hello"] = result["requests_per_s"] / hello
    results["http"] = {
        "duration_s": each_s * HTTP_ROUNDS,
        "rounds": HTTP_ROUNDS,
        "connections": connections,
        "routes": out,
    }


def section_browser(results: dict, ours: Gunicorn, naive: Gunicorn, runs: int) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = chromium.launch(playwright)
        weights, timing = {}, {}
        for edition in EDITIONS:
            page_url = f"{ours.url}/?edition={edition}"
            log(f"first visit of ours, edition {edition}: resources")
            urls, blocked = chromium.first_visit_urls(browser, page_url)
            urls = [u for u in urls if not u.endswith("/favicon.ico")]
            weights[edition] = page_weight(ours.url, urls)
            weights[edition]["blocked_requests"] = blocked
            weights[edition]["browser_repeat"] = chromium.repeat_visit_bytes(browser, page_url)
            log(f"browser timing, edition {edition}: ours x{runs}")
            timing[edition] = {
                "ours": chromium.time_to_layers(browser, page_url, chromium.OURS_READY, runs=runs)
            }
            n = results["naive_build"][edition]["features"]
            ready = chromium.naive_ready(n)
            log(f"browser timing, edition {edition}: naive (rebuilt per request) x{runs}")
            timing[edition]["naive"] = chromium.time_to_layers(
                browser, f"{naive.url}/?edition={edition}", ready, naive_origin=True, runs=runs
            )
            log(f"browser timing, edition {edition}: naive (built once) x{runs}")
            timing[edition]["naive_prebuilt"] = chromium.time_to_layers(
                browser,
                f"{naive.url}/prebuilt?edition={edition}",
                ready,
                naive_origin=True,
                runs=runs,
            )
            timing[edition]["naive_cdn_standins"] = chromium.naive_cdn_assets(
                browser, f"{naive.url}/prebuilt?edition={edition}", n
            )
        browser.close()
    results["weight"] = weights
    results["browser"] = timing


def section_naive_weight(results: dict, pages: dict[str, bytes]) -> None:
    for edition in EDITIONS:
        ours = results["weight"][edition]
        sizes = {
            r["path"].split("/static/", 1)[-1]: r["gzip_body"]
            for r in ours["resources"]
            if r["path"].startswith("/static/")
        }
        naive = naive_weight(pages[edition], sizes)
        ours["naive"] = naive
        ours["ratio_to_naive"] = ours["gzip_bytes"] / naive["gzip_bytes"]
        ours["ratio_to_naive_all_cdn"] = ours["gzip_bytes"] / naive["gzip_bytes_all_cdn"]


def section_scale(results: dict, producers: int) -> None:
    log(f"scale: coverage with {producers:,} illustrative producers (separate process)")
    results["scale_coverage"] = run_json(["bench/scale.py", "coverage", "--n", str(producers)], 900)
    log("scale: nearest outlet among 100,000 illustrative outlets")
    results["scale_nearest"] = run_json(["bench/scale.py", "nearest"], 600)


COUNTRY_ZOOMED = "/?edition=2020&center=21.0,105.8&zoom=10"  # around Hà Nội
COMMUNES_DRAWN = "() => document.querySelectorAll('path.commune-shape').length > 0"


def section_country(results: dict) -> None:
    """The app itself on a synthetic country of 10,000 communes: what a first visit loads
    (districts), and a visit zoomed in to commune level (plus the vector tiles in view)."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        log("scale: synthetic 10,000-commune country, served by the app")
        layer = run_json(["bench/scale.py", "layer", "--out", str(data)], 900)
        env = {
            **OUR_ENV,
            "GEOAPP_DATA_DIR": str(data),
            "GEOAPP_VERSIONS_DIR": str(Path(tmp) / "versions"),
        }
        with Gunicorn("wsgi:app", workers=1, env=env) as server:
            layer["warm_up_s"] = round(server.wait_warm(timeout_s=900), 2)
            with sync_playwright() as playwright:
                browser = chromium.launch(playwright)
                for name, path, then_js in (
                    ("first_visit", "/?edition=2020", None),
                    ("zoomed_visit", COUNTRY_ZOOMED, COMMUNES_DRAWN),
                ):
                    urls, blocked = chromium.first_visit_urls(browser, server.url + path, then_js)
                    weight = page_weight(server.url, urls)
                    tiles = [u for u in urls if "/tiles/" in u]
                    layer[name] = {
                        "path": path,
                        "gzip_bytes": weight["gzip_bytes"],
                        "requests": len(urls),
                        "tiles": len(tiles),
                        "blocked_requests": blocked,
                    }
                browser.close()
    results["scale_layer"] = layer


# -- the table --------------------------------------------------------------------------------


def section_ogc(results: dict) -> None:
    """Issue 15: /ogc items per second, a feature by id, ogr2ogr of every collection."""
    from bench.bench_ogc import measure

    log("OGC API - Features: items, feature by id, ogr2ogr")
    results["ogc"] = measure(OGC_PORT, qgis=False)


def kb(n: float) -> str:
    return f"{n / 1024:,.1f} KB"


def ms(s: float) -> str:
    return f"{s * 1000:,.2f} ms"


def verdict(ok: bool | None) -> str:
    return "" if ok is None else ("yes" if ok else "NO")


def table_rows(r: dict) -> list[tuple[str, str, str, str, str, str]]:
    rows: list[tuple[str, str, str, str, str, str]] = []
    add = rows.append
    for edition, limit in (("2020", 0.25), ("2025", 0.10)):
        w = r["weight"][edition]
        ratio = w["ratio_to_naive_all_cdn"]
        add(
            (
                f"1. first visit {edition}, all resources, gzip",
                kb(w["gzip_bytes"]),
                kb(w["naive"]["gzip_bytes_all_cdn"]),
                f"{ratio:.3f}",
                f"<= {limit}",
                verdict(ratio <= limit),
            )
        )
        add(
            (
                "   vs naive HTML + Leaflet only (lower bound)",
                "",
                kb(w["naive"]["gzip_bytes"]),
                f"{w['ratio_to_naive']:.3f}",
                "",
                "",
            )
        )
        add((f"   first visit {edition}, brotli", kb(w["br_bytes"]), "", "", "", ""))
        repeat = w["browser_repeat"]
        add(
            (
                f"   repeat visit {edition}, chromium",
                f"{repeat['bytes']:,} B",
                f"{repeat['over_network']} asked, {repeat['from_cache']} cached",
                "",
                "< 5 KB",
                verdict(repeat["bytes"] < 5120),
            )
        )
        add(
            (
                f"   repeat visit {edition}, all revalidated",
                f"{w['repeat_bytes']:,} B",
                f"{len(w['resources'])} x 304" if w["repeat_all_304"] else "not all 304",
                "",
                "< 5 KB",
                verdict(w["repeat_bytes"] < 5120 and w["repeat_all_304"]),
            )
        )
    st = r["server_time"]
    for url, cold in st["cold_s"].items():
        warm = st["warm"][url]["p50_s"]
        add(
            (
                f"2. {url}",
                f"warm p50 {ms(warm)}",
                f"cold {ms(cold)}",
                "",
                "<= 5 ms / <= 1 s",
                verdict(warm <= 0.005 and cold <= 1.0),
            )
        )
    for edition in EDITIONS:
        naive_s = r["naive_build"][edition]["build_median_s"]
        add((f"   naive page build {edition}", "", ms(naive_s), "", "", ""))
    http = r["http"]
    if "routes" in http:
        for name, res in http["routes"].items():
            if "skipped" in res:
                add((f"3. {name}", "skipped", res["skipped"], "", "", ""))
                continue
            ok = (
                res.get("requests_per_s", 0) >= 1500
                and res["errors"] == 0
                and res["non_2xx_3xx"] == 0
                and res.get("p99_ms", 1e9) <= 50
            )
            cached = name in CACHED_ROUTES
            add(
                (
                    f"3. {name} (req/s, p99; median of {http['rounds']})",
                    f"{res.get('requests_per_s', 0):,.0f}/s"
                    f" p99 {res.get('p99_ms', float('nan')):.1f} ms",
                    f"err {res['errors'] + res['non_2xx_3xx']}",
                    f"{res.get('ratio_to_hello', float('nan')):.2f}",
                    ">= 1500/s, p99 <= 50 ms" + (", ratio >= 0.7" if cached else ""),
                    verdict(ok and (not cached or res.get("ratio_to_hello", 0) >= 0.7)),
                )
            )
    else:
        add(("3. HTTP throughput", "skipped", http.get("skipped", ""), "", "", ""))
    for edition in EDITIONS:
        b = r["browser"][edition]
        ours_ms, naive_ms = b["ours"]["median_ms"], b["naive"]["median_ms"]
        speedup = naive_ms / ours_ms
        add(
            (
                f"4. layers drawn {edition} (median of 5)",
                f"{ours_ms:,.0f} ms",
                f"{naive_ms:,.0f} ms",
                f"{speedup:.1f}x faster",
                ">= 3x" if edition == "2025" else "",
                verdict(speedup >= 3) if edition == "2025" else "",
            )
        )
        add(
            (
                f"   naive built once {edition}",
                "",
                f"{b['naive_prebuilt']['median_ms']:,.0f} ms",
                f"{b['naive_prebuilt']['median_ms'] / ours_ms:.1f}x",
                "",
                "",
            )
        )
    c = r["scale_coverage"]
    add(
        (
            "5. coverage 2020, 1M producers (median of 3)",
            f"{c['recompute_2020_s']:.2f} s",
            "",
            "",
            "<= 2 s",
            verdict(c["recompute_2020_s"] <= 2),
        )
    )
    add(
        (
            "   coverage 2025, 1M producers",
            f"{c['recompute_2025_s']:.2f} s",
            "",
            "",
            "<= 2 s",
            verdict(c["recompute_2025_s"] <= 2),
        )
    )
    add(
        (
            "   2025 incl. relocation to 2025 communes",
            f"{c['recompute_2025_with_relocation_s']:.2f} s",
            f"relocation {c['relocate_2025_s']:.2f} s",
            "",
            "once per data version",
            "",
        )
    )
    add(
        (
            "   peak memory (whole process)",
            f"{c['peak_rss_mb']:,.0f} MB",
            "",
            "",
            "<= 1536 MB",
            verdict(c["peak_rss_mb"] <= 1536),
        )
    )
    n = r["scale_nearest"]
    add(
        (
            "   nearest outlet of 100,000 (k=1)",
            f"p50 {n['p50_ms_k1']:.3f} ms",
            "",
            "",
            "<= 1 ms",
            verdict(n["p50_ms_k1"] <= 1),
        )
    )
    lay = r["scale_layer"]
    first, zoomed = lay["first_visit"], lay["zoomed_visit"]
    add(
        (
            f"   {lay['communes']:,} communes: first visit ({lay['districts']} districts)",
            kb(first["gzip_bytes"]),
            f"all communes as GeoJSON {kb(lay['all_geojson_gzip_kb'] * 1024)}",
            "",
            "<= 1 MB",
            verdict(first["gzip_bytes"] <= 1024 * 1024),
        )
    )
    add(
        (
            "   zoomed in to communes (zoom 10)",
            kb(zoomed["gzip_bytes"]),
            f"{zoomed['tiles']} vector tiles of communes",
            "",
            "",
            "",
        )
    )
    for label, key in (
        ("after start (warm)", "rss_after_start_mb"),
        ("after the load test", "rss_after_load_mb"),
    ):
        values = r["memory"][key]
        add(
            (
                f"6. worker RSS {label}",
                " / ".join(f"{v:,.0f} MB" for v in values),
                "",
                "",
                "<= 300 MB",
                verdict(max(values) <= 300),
            )
        )
    ogc = r.get("ogc")
    if ogc:
        add(
            (
                "7. /ogc communes_2020 items?limit=1000",
                f"{ogc['items_per_s']:,.0f} items/s",
                f"{ogc['items_request_s'] * 1e3:.1f} ms a page",
                "",
                "",
                "",
            )
        )
        add(("   /ogc feature by id", ms(ogc["feature_by_id_s"]), "", "", "", ""))
        copy_s = ogc["ogr2ogr_all_collections_s"]
        add(("   ogr2ogr every collection to GPKG", f"{copy_s:.2f} s", "", "", "", ""))
    return rows


def print_table(rows) -> None:
    head = ("measure", "ours", "naive / other", "ratio", "target", "met")
    widths = [max(len(str(row[i])) for row in [head, *rows]) for i in range(len(head))]
    line = "  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True))
    print(line)
    print("-" * len(line))
    for row in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="OCOP map benchmark (make bench)")
    parser.add_argument(
        "--duration", type=int, default=18, help="seconds of load per route, in 3 rounds"
    )
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--runs", type=int, default=5, help="browser runs per page")
    parser.add_argument("--repeat", type=int, default=300, help="warm requests per URL")
    parser.add_argument("--producers", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    if not (ROOT / "data" / "boundaries" / "manifest.json").exists():
        print("data/boundaries is not built: run `make data` first", file=sys.stderr)
        return 2
    started = time.perf_counter()
    results: dict = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "settings": vars(args),
    }
    pages = section_naive_build(results)
    section_server_time(results, args.repeat)
    log("starting gunicorn (2 workers) with our app and gunicorn (2 workers) with the naive page")
    with (
        Gunicorn("wsgi:app", workers=2, env=OUR_ENV) as ours,
        Gunicorn("bench.naive:create_naive_app()", workers=2) as naive,
    ):
        warm_s = ours.wait_warm()
        pids = ours.worker_pids()
        results["memory"] = {"warm_up_s": warm_s, "rss_after_start_mb": [rss_mb(p) for p in pids]}
        section_http(results, ours, args.duration, args.connections)
        results["memory"]["rss_after_load_mb"] = [rss_mb(p) for p in pids]
        section_browser(results, ours, naive, args.runs)
    section_naive_weight(results, pages)
    section_scale(results, args.producers)
    section_country(results)
    section_ogc(results)
    results["elapsed_s"] = time.perf_counter() - started
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print_table(table_rows(results))
    print(f"\nfull results: {RESULTS.relative_to(ROOT)} ({results['elapsed_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
