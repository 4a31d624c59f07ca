"""Speed of illustrative data generation, validation and versioned import (ILLUSTRATIVE data).

Run: ``.venv/bin/python -m bench.bench_imports [max_producers]`` (default 1,000,000).

Uses the built boundaries in ``data/`` when present (else the tiny test fixture) and a temporary
versions folder, so the project's own data is never touched. Prints, in one run:

* demo-data generation for 10k / 100k / max producers: median seconds, producers per second and
  the time ratio to the 10k case next to the size ratio (linear scaling keeps them equal);
* validating a products CSV of 2k and 20k rows (median of 3 runs), rows per second and the
  ratio of the two times (10 = linear);
* applying the 20k-row import as a new version (median of 3 runs, each on a fresh copy);
* writing a version of ``max`` producers (hard links for unchanged tables).
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from geoapp import create_app
from geoapp.config import PROJECT_ROOT
from geoapp.services import imports
from geoapp.services.demo_data import DemoSpec
from geoapp.services.imports import ImportService


def timed(function, runs: int = 3) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def make_app(tmp: Path):
    real = PROJECT_ROOT / "data"
    if (real / "boundaries" / "manifest.json").exists() and (
        real / "ocop" / "products.csv"
    ).exists():
        data_dir = real
    else:
        from tests.tiny_data import write_tiny_data

        data_dir = write_tiny_data(tmp / "data")
    return create_app(
        {
            "data_dir": data_dir,
            "versions_dir": tmp / "versions",
            "testing": True,
            "tile_url": "none",
        }
    )


def main(max_producers: int = 1_000_000) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-imports-"))
    try:
        app = make_app(tmp)
        state = app.extensions["geoapp"]
        service = ImportService(state.store, state.settings)
        print(f"data: {state.settings.data_dir}  versions: {tmp / 'versions'}")

        print("\n== demo-data generation ==")
        print(
            f"{'producers':>10} {'products':>10} {'median s':>9} {'prod./s':>10} "
            f"{'size ratio':>10} {'time ratio':>10}"
        )
        base_time = None
        big_frames = None
        for n in sorted({10_000, 100_000, max_producers}):
            spec = DemoSpec(products=round(n * 1.48), producers=n, seed=1)
            runs = 3 if n <= 100_000 else 1
            seconds, frames = timed(lambda spec=spec: imports.demo_frames(service, spec), runs)
            base_time = base_time or seconds
            print(
                f"{n:>10,} {round(n * 1.48):>10,} {seconds:>9.2f} {n / seconds:>10,.0f} "
                f"{n / 10_000:>10.1f} {seconds / base_time:>10.1f}"
            )
            big_frames = frames

        print("\n== validation of a products CSV (median of 3) ==")
        small = imports.demo_frames(service, DemoSpec(products=20_000, producers=14_000, seed=2))
        results = {}
        for rows in (2_000, 20_000):
            folder = tmp / f"in-{rows}"
            frames = {"producers": small["producers"], "products": small["products"].iloc[:rows]}
            paths = imports.write_frames(frames, folder)
            seconds, plan = timed(lambda paths=paths: service.plan_paths(paths))
            results[rows] = (seconds, plan, paths)
            print(
                f"{rows:>7,} products + {len(small['producers']):,} producers: "
                f"{seconds:6.2f} s  {(rows + len(small['producers'])) / seconds:>9,.0f} rows/s  "
                f"errors {plan.report.n_errors}"
            )
        ratio = results[20_000][0] / results[2_000][0]
        print(f"time ratio 20k / 2k products: {ratio:.1f} (same producers file in both)")

        print("\n== applying the 20k import as a version (median of 3) ==")
        _, plan, paths = results[20_000]
        times = []
        for _ in range(3):
            start = time.perf_counter()
            name = service.apply(service.plan_paths(paths))
            plan_and_apply = time.perf_counter() - start
            service.rollback("seed")
            times.append(plan_and_apply)
            assert name is not None
        print(f"validate + apply: median {statistics.median(times):.2f} s")

        print(f"\n== writing a version of {max_producers:,} illustrative producers ==")
        seconds, version = timed(lambda: imports.apply_demo(service, big_frames), 1)
        size_mb = sum(p.stat().st_size for p in (tmp / "versions" / version).iterdir()) / 2**20
        print(f"{version}: {seconds:.2f} s, {size_mb:,.0f} MB on disk")
        start = time.perf_counter()
        data = state.store.ocop()
        print(
            f"first load by the store: {time.perf_counter() - start:.2f} s "
            f"({len(data.producers):,} producers, {len(data.products):,} products)"
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
