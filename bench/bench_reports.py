"""Report timings on the real data: static PNG and PDF, rendered vs served from the cache.

Run: ``.venv/bin/python -m bench.bench_reports [repeats]``. Prints, in one run, the median of
each step (milliseconds) and the ratio to the cached request. The goal of issue 6: the PNG of
the whole province renders in under 2 s.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable

from flask import request

from geoapp import create_app
from geoapp.render.pdf_report import render_pdf
from geoapp.render.static_map import render_png
from geoapp.services.reports import ReportService
from geoapp.web import reports as web_reports

PNG_URL = "/report/coverage.png"  # the whole province, 1200 x 900 px at 100 dpi
PDF_URL = "/report/coverage.pdf"


def median_ms(run: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main(repeats: int = 7) -> None:
    app = create_app({"tile_url": "none"})
    client = app.test_client()
    coverage = app.extensions["geoapp"].coverage
    client.get(PNG_URL)  # warm the coverage cache, fonts and imports
    rows: list[tuple[str, float]] = []
    with app.test_request_context(PNG_URL + "?lang=en"):
        req = web_reports.report_request(request.args)
        report = web_reports.reports_service().area_report(req)
        spec = web_reports.map_spec(report)
        rows.append(
            (
                "png: draw + encode only",
                median_ms(lambda: render_png(spec, 1200, 900, 100), repeats),
            )
        )

        def png_uncached() -> None:  # area figures + texts + drawing, coverage cached
            fresh = ReportService(coverage)
            render_png(web_reports.map_spec(fresh.area_report(req)), 1200, 900, 100)

        rows.append(("png: area + draw, no cache", median_ms(png_uncached, repeats)))
        rows.append(
            ("png 2400x1800 @200dpi", median_ms(lambda: render_png(spec, 2400, 1800, 200), repeats))
        )
        report_spec = web_reports.report_spec(report)
        rows.append(("pdf: A4 report, render", median_ms(lambda: render_pdf(report_spec), repeats)))
    etag = client.get(PNG_URL).headers["ETag"]
    rows.append(("png: cached HTTP 200", median_ms(lambda: client.get(PNG_URL), repeats)))
    rows.append(
        (
            "png: HTTP 304 (If-None-Match)",
            median_ms(lambda: client.get(PNG_URL, headers={"If-None-Match": etag}), repeats),
        )
    )
    client.get(PDF_URL)
    rows.append(("pdf: cached HTTP 200", median_ms(lambda: client.get(PDF_URL), repeats)))
    cached = dict(rows)["png: cached HTTP 200"]
    print(f"{'step':32} {'median ms':>10} {'x cached png':>13}   (median of {repeats})")
    for label, ms in rows:
        print(f"{label:32} {ms:10.1f} {ms / cached:13.1f}")
    goal = dict(rows)["png: area + draw, no cache"]
    print(
        f"province PNG, uncached: {goal / 1000:.2f} s (goal < 2 s): "
        f"{'ok' if goal < 2000 else 'SLOW'}"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
