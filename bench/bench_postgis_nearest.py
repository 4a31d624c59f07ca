"""PostGIS nearest places with 100,000 ILLUSTRATIVE outlets: KNN ``<->`` + geography distance.

Run: ``GEOAPP_TEST_DATABASE_URL=postgresql://... .venv/bin/python -m bench.bench_postgis_nearest
[n_outlets] [n_queries]``.

Writes the outlets (random points in Quảng Nam's box, seeded: illustrative, not real data) as
one OCOP version in a scratch schema (dropped at the end), then times
``PostgisStore.nearest_places`` (k = 10) and checks every answer against the brute-force WGS 84
geodesic ranking. Prints the import time, p50/p90/p99 (ms) and how many answers differ (must be
0). Issue 14's target: p50 ≤ 2 ms and p99 ≤ 10 ms at 100,000 outlets.
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from pathlib import Path

import pandas as pd
import psycopg

from bench.bench_nearby import K, illustrative_outlets, percentiles, query_points, timed
from geoapp.domain.nearest import brute_force_nearest
from geoapp.domain.ocop import OUTLET_COLUMNS
from geoapp.storage import pg_schema, pin_version, unpin_version
from geoapp.storage.pg_database import Database
from geoapp.storage.postgis import PostgisStore
from tests.tiny_data import write_tiny_data


def main(n_outlets: int = 100_000, n_queries: int = 1000) -> None:
    url = os.environ.get("GEOAPP_TEST_DATABASE_URL") or os.environ.get("GEOAPP_DATABASE_URL")
    if not url:
        raise SystemExit("set GEOAPP_TEST_DATABASE_URL=postgresql://... (a scratch schema is used)")
    db = Database(url, f"bench_{uuid.uuid4().hex[:8]}")
    scratch = Path(f"/tmp/{db.schema}")
    try:
        pg_schema.upgrade(db)
        data = write_tiny_data(scratch / "data")
        pg_schema.load(db, data / "boundaries", data / "ocop")
        lat, lon = illustrative_outlets(n_outlets)
        outlets = pd.DataFrame({c: "" for c in OUTLET_COLUMNS}, index=range(n_outlets))
        outlets["outlet_id"] = [f"B{i:06d}" for i in range(n_outlets)]
        outlets["lat"], outlets["lon"] = lat, lon
        store = PostgisStore(db, scratch / "cache")
        store.data_version()  # the pool is open
        started = time.perf_counter()
        store.versions.create({"outlets.csv": outlets}, {"note": "bench (illustrative)"})
        import_s = time.perf_counter() - started
        times, wrong = [], 0
        for qlat, qlon in query_points(n_queries):
            found: list = []
            token = pin_version()  # as a request: the served state is read once
            times.append(timed(lambda a=qlat, b=qlon, out=found: out.extend(
                store.nearest_places(a, b, "outlet", K))))  # fmt: skip
            unpin_version(token)
            truth = brute_force_nearest(qlat, qlon, lat, lon, K)
            wrong += [p for p, _ in found] != [f"B{i:06d}" for i in truth.index]
        p50, p90, p99 = percentiles(times)
        print(f"{n_outlets:,} illustrative outlets imported as one version in {import_s:.2f} s")
        print(f"nearest_places k={K}: p50 {p50:.2f} ms, p90 {p90:.2f} ms, p99 {p99:.2f} ms"
              f" over {len(times)} queries; differing from brute force: {wrong}")  # fmt: skip
    finally:
        db.close()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {db.schema} CASCADE")  # our own bench_<hex>
        import shutil

        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
