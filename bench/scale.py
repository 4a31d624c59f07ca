"""Scale checks on ILLUSTRATIVE data generated here (never real records, never stored).

- ``coverage``: 1,000,000 producers with one product each, placed in the real 2020 communes;
  time the coverage recomputation with the domain functions (2020: by commune code; 2025: by
  point in polygon for exact locations and the crosswalk for the others) and the peak memory.
- ``nearest``: 100,000 outlets; p50 time of one nearest-outlet query (``NearestIndex``).
- ``layer --out DIR``: a synthetic country of 10,000 communes in about 700 districts, written as
  a data folder the app can serve (``GEOAPP_DATA_DIR``); ``run_bench.py`` then measures the
  app's first visit and a zoomed-in visit in chromium. Prints the layer's size as one GeoJSON.

Run as ``python bench/scale.py KIND [options]`` (a separate process so that its peak memory is
its own); prints one JSON object.
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GROUPS = (
    "Thực phẩm",
    "Đồ uống",
    "Dược liệu và sản phẩm từ dược liệu",
    "Thủ công mỹ nghệ",
    "Sinh vật cảnh",
    "Dịch vụ du lịch cộng đồng",
)


RUNS = 3  # recounts timed per edition; the median is reported


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def illustrative_ocop(communes, n: int, seed: int = 7):
    """``n`` producers (one product each) in ``communes`` (2020, EPSG:4326): ILLUSTRATIVE."""
    import geopandas as gpd

    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(communes), n)
    inner = communes.geometry.representative_point()
    lon = inner.x.to_numpy()[pick] + rng.normal(0, 0.004, n)
    lat = inner.y.to_numpy()[pick] + rng.normal(0, 0.004, n)
    ids = pd.array([f"X{i:07d}" for i in range(n)], dtype="string")
    producers = gpd.GeoDataFrame(
        {
            "producer_id": ids,
            "commune_code": pd.array(communes["commune_code"].to_numpy()[pick], dtype="string"),
            "district_code": pd.array(communes["district_code"].to_numpy()[pick], dtype="string"),
            "producer_type": pd.array(
                rng.choice(["cooperative", "sme", "household"], n), dtype="string"
            ),
            "location_precision": pd.array(
                rng.choice(["exact", "commune"], n, p=[0.3, 0.7]), dtype="string"
            ),
            "illustrative": True,
        },
        geometry=gpd.points_from_xy(lon, lat),
        crs="EPSG:4326",
    )
    days = rng.integers(0, 6 * 365, n)
    dates = pd.Timestamp("2019-01-01") + pd.to_timedelta(days, unit="D")
    products = pd.DataFrame(
        {
            "product_id": pd.array([f"Y{i:07d}" for i in range(n)], dtype="string"),
            "name": pd.array([f"Sản phẩm {i % 5000}" for i in range(n)], dtype="string"),
            "group_148": pd.array(rng.choice(GROUPS, n), dtype="string"),
            "group_1048": pd.array(rng.choice(GROUPS, n), dtype="string"),
            "stars": pd.array(rng.choice([2, 3, 4, 5], n, p=[0.1, 0.6, 0.25, 0.05]), "Int64"),
            "recognition_date": pd.array(dates.strftime("%Y-%m-%d"), dtype="string"),
            "producer_id": ids,
            "illustrative": True,
        }
    )
    return products, producers


def run_coverage(n: int) -> dict:
    from geoapp import create_app
    from geoapp.domain import coverage as cov

    app = create_app({"testing": True})
    state = app.extensions["geoapp"]
    store = state.store
    communes = store.communes("2020", "display")
    communes_2025 = store.communes("2025", "display")
    districts = store.districts("display")
    crosswalk = store.crosswalk()
    params = state.coverage.default_params()
    started = time.perf_counter()
    products, producers = illustrative_ocop(communes, n)
    generated_s = time.perf_counter() - started
    rss_before = rss_mb()
    out = {"producers": n, "products": len(products), "illustrative": True}
    out["generate_s"] = round(generated_s, 2)

    def median_s(run) -> tuple[float, list[float]]:
        times = []
        for _ in range(RUNS):
            started = time.perf_counter()
            run()
            times.append(round(time.perf_counter() - started, 3))
        return statistics.median(times), times

    def recount_2020() -> None:
        counted = cov.counted_products(products, producers, params)
        coverage = cov.commune_coverage(communes, counted, params.target)
        cov.district_summary(districts, communes, coverage, counted)
        cov.province_summary(coverage, counted, len(products), params)
        out["counted_products"] = len(counted)

    out["recompute_2020_s"], out["recompute_2020_runs_s"] = median_s(recount_2020)

    # Relocating producers to the 2025 communes happens once per data version (the service
    # caches it); a change of filters only recounts. Both are reported.
    started = time.perf_counter()
    producers_2025 = cov.producers_in_2025(producers, communes_2025, crosswalk)
    out["relocate_2025_s"] = round(time.perf_counter() - started, 3)
    in_scope = communes_2025["former_province"].eq("Quảng Nam")

    def recount_2025() -> None:
        counted = cov.counted_products(products, producers_2025, params)
        coverage = cov.commune_coverage(communes_2025, counted, params.target, in_scope)
        cov.province_summary(coverage, counted, len(products), params)

    out["recompute_2025_s"], out["recompute_2025_runs_s"] = median_s(recount_2025)
    out["recompute_2025_with_relocation_s"] = round(
        out["recompute_2025_s"] + out["relocate_2025_s"], 3
    )
    out["rss_before_recompute_mb"] = round(rss_before, 1)
    out["peak_rss_mb"] = round(peak_rss_mb(), 1)
    return out


def run_nearest(n: int, queries: int = 2000) -> dict:
    from geoapp.domain.nearest import NearestIndex

    rng = np.random.default_rng(11)
    lat = rng.uniform(14.9, 16.1, n)
    lon = rng.uniform(107.2, 108.75, n)
    started = time.perf_counter()
    index = NearestIndex(lat, lon)
    build_s = time.perf_counter() - started
    q_lat = rng.uniform(14.9, 16.1, queries)
    q_lon = rng.uniform(107.2, 108.75, queries)
    times = []
    for a, b in zip(q_lat, q_lon, strict=True):
        started = time.perf_counter()
        index.nearest(float(a), float(b), 1)
        times.append(time.perf_counter() - started)
    times_k = []
    for a, b in zip(q_lat[:500], q_lon[:500], strict=True):
        started = time.perf_counter()
        index.nearest(float(a), float(b), 10)
        times_k.append(time.perf_counter() - started)
    return {
        "outlets": n,
        "illustrative": True,
        "build_s": round(build_s, 3),
        "p50_ms_k1": round(statistics.median(times) * 1000, 4),
        "p99_ms_k1": round(float(np.percentile(times, 99)) * 1000, 4),
        "p50_ms_k10": round(statistics.median(times_k) * 1000, 4),
    }


def synthetic_country(n: int, seed: int = 3):
    """``n`` communes as Voronoi cells over a Vietnam-sized box with wiggly shared edges,
    about 100 vertices each (like the real full-detail communes), grouped in districts of
    about 14 communes. EPSG:4326. ILLUSTRATIVE."""
    import geopandas as gpd
    import shapely

    rng = np.random.default_rng(seed)
    west, south, east, north = 102.0, 8.5, 109.5, 23.4  # about Vietnam's extent
    # points inside a thinned box (an S-shaped country is not needed for sizes)
    points = shapely.points(rng.uniform(west, east, n), rng.uniform(south, north, n))
    box = shapely.box(west, south, east, north)
    cells = shapely.voronoi_polygons(shapely.multipoints(points), extend_to=box)
    cells = shapely.intersection(np.asarray(shapely.get_parts(cells)), box)
    mean_side = np.sqrt((east - west) * (north - south) / n)
    cells = shapely.segmentize(cells, mean_side / 18)

    def wiggle(coords: np.ndarray) -> np.ndarray:
        # a pure function of the position: both neighbours of an edge get the same points
        key = np.round(coords * 1e6).astype(np.int64)
        phase = (key[:, 0] * 73856093 ^ key[:, 1] * 19349663) % 1000 / 1000.0
        amp = mean_side / 60
        return coords + np.column_stack([np.cos(phase * 6.283), np.sin(phase * 6.283)]) * amp

    inside = shapely.contains_properly(
        shapely.buffer(box, -1e-9), shapely.points(shapely.get_coordinates(cells))
    )
    coords = shapely.get_coordinates(cells)
    moved = np.where(inside[:, None], wiggle(coords), coords)
    cells = shapely.set_coordinates(cells, moved)
    cells = shapely.make_valid(cells)
    codes = [f"{i:05d}" for i in range(len(cells))]
    centroids = shapely.centroid(cells)
    district = np.floor((shapely.get_x(centroids) - west) / ((east - west) / 25)).astype(
        int
    ) * 100 + np.floor((shapely.get_y(centroids) - south) / ((north - south) / 28)).astype(int)
    return gpd.GeoDataFrame(
        {"commune_code": codes, "district_code": [f"D{d:04d}" for d in district]},
        geometry=cells,
        crs="EPSG:4326",
    )


def write_country_data(data_dir: Path, n: int) -> dict:
    """A data folder the app can serve (``GEOAPP_DATA_DIR``): ``n`` synthetic communes in
    districts (both editions the same), no OCOP records. ILLUSTRATIVE: measures only."""
    from geoapp.domain.ocop import OUTLET_COLUMNS, PRODUCER_COLUMNS, PRODUCT_COLUMNS
    from geoapp.services.geojson import feature_collection

    started = time.perf_counter()
    communes = synthetic_country(n)
    generate_s = time.perf_counter() - started
    communes["commune_name"] = [f"Synthetic {c}" for c in communes["commune_code"]]
    communes["commune_full_name"] = "Xã " + communes["commune_name"]
    communes["commune_type"] = "Xã"
    communes["commune_name_en"] = communes["commune_name"]
    communes["district_name"] = [f"Synthetic {d}" for d in communes["district_code"]]
    communes["district_full_name"] = "Huyện " + communes["district_name"]
    communes["area_km2"] = communes.to_crs("EPSG:32648").area / 1e6
    districts = communes.dissolve(by="district_code", as_index=False, aggfunc="first")
    districts = districts[["district_code", "district_name", "district_full_name", "geometry"]]
    districts["district_type"] = "Huyện"
    districts["district_name_en"] = districts["district_name"]
    districts["n_communes"] = districts["district_code"].map(
        communes["district_code"].value_counts()
    )
    districts["area_km2"] = districts.to_crs("EPSG:32648").area / 1e6
    editions_2025 = communes.assign(former_province="Synthetic", share_in_former_qn=1.0)
    boundaries, ocop = data_dir / "boundaries", data_dir / "ocop"
    boundaries.mkdir(parents=True, exist_ok=True)
    ocop.mkdir(parents=True, exist_ok=True)
    for name, frame in (
        ("communes_2020", communes),
        ("districts_2020", districts),
        ("communes_2025", editions_2025),
    ):
        frame.to_parquet(boundaries / f"{name}.parquet")
        frame.to_parquet(boundaries / f"{name}_display.parquet")
    codes = communes["commune_code"]
    pd.DataFrame({"old_commune_code": codes, "new_commune_code": codes}).to_csv(
        boundaries / "crosswalk_2020_2025.csv", index=False
    )
    (boundaries / "manifest.json").write_text(json.dumps({"build_version": "synthetic"}))
    for name, columns in (
        ("products", PRODUCT_COLUMNS),
        ("producers", PRODUCER_COLUMNS),
        ("outlets", OUTLET_COLUMNS),
    ):
        pd.DataFrame(columns=list(columns)).to_csv(ocop / f"{name}.csv", index=False)
    pd.DataFrame(
        {"area": ["Synthetic"], "as_of": ["2024"], "measure": ["none"], "value": ["0"]}
    ).assign(source_ids="synthetic").to_csv(ocop / "province_stats.csv", index=False)
    vertices = int(shapely.get_num_coordinates(communes.geometry.to_numpy()).sum())
    whole = len(gzip.compress(feature_collection(communes[["commune_code", "geometry"]]), 6))
    return {
        "communes": len(communes),
        "districts": len(districts),
        "vertices": vertices,
        "illustrative": True,
        "generate_s": round(generate_s, 2),
        "all_geojson_gzip_kb": round(whole / 1024, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=["coverage", "nearest", "layer"])
    parser.add_argument("--n", type=int, default=None)
    parser.add_argument("--out", type=Path, default=None, help="layer: the data folder to write")
    args = parser.parse_args(argv)
    if args.kind == "coverage":
        result = run_coverage(args.n or 1_000_000)
    elif args.kind == "nearest":
        result = run_nearest(args.n or 100_000)
    else:
        if args.out is None:
            parser.error("layer needs --out DIR")
        result = write_country_data(args.out, args.n or 10_000)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
