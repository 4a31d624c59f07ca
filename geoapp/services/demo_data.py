"""Illustrative OCOP data for demonstrations and benchmarks, drawn from published shares.

Every generated record has ``illustrative=true``, ids starting with ``DEMO-`` and the note
"illustrative". Shares (seed fact sheet of end 2020, ``province_stats.csv``): product groups
157/12/16/4/20/1 (QĐ 1048: food, drinks, herbal, textiles, souvenirs, rural tourism), stars
1/23/186 (5/4/3), producer types 65/30/6/88 (cooperative / SME / cooperative group /
household). Producers are spread over the 2020 communes with more in towns (wards and
townships) and near the main national roads; outlets sit near district centres.

Points are drawn in UTM zone 49N (EPSG:32649, metres) strictly inside each commune (5 m from
its edge) and stored in EPSG:4326 with 6 decimals. Vectorised with NumPy: a million producers
(and 1.48 million products) take about 12 s (``bench/bench_imports.py``). Same inputs and seed,
same output.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from geoapp.domain.ocop import OUTLET_COLUMNS, PRODUCER_COLUMNS, PRODUCT_COLUMNS
from geoapp.domain.validation import GROUP_1048_TO_148

METRIC_CRS = "EPSG:32649"
GROUP_SHARES = (
    ("Thực phẩm", 157),
    ("Đồ uống", 12),
    ("Thảo dược", 16),
    ("Vải và may mặc", 4),
    ("Lưu niệm - nội thất - trang trí", 20),
    ("Dịch vụ du lịch nông thôn, bán hàng", 1),
)
STAR_SHARES = ((5, 1), (4, 23), (3, 186))
TYPE_SHARES = (("cooperative", 65), ("sme", 30), ("cooperative_group", 6), ("household", 88))
PRODUCTS_PER_PRODUCER = 1.48  # 482 products of 325 producers (province page, 2024)
FIRST_RECOGNITION = dt.date(2019, 1, 1)

# Approximate lines of the main national roads through Quảng Nam (lon, lat), traced by hand
# for illustrative data only: QL1A, the Hồ Chí Minh road, QL14B, QL14E and QL40B.
MAIN_ROADS = (
    (
        (108.213, 15.966),
        (108.245, 15.893),
        (108.300, 15.800),
        (108.361, 15.745),
        (108.400, 15.700),
        (108.447, 15.626),
        (108.480, 15.573),
        (108.525, 15.520),
        (108.578, 15.476),
        (108.640, 15.428),
        (108.730, 15.367),
    ),
    (
        (107.600, 16.050),
        (107.640, 15.930),
        (107.750, 15.830),
        (107.830, 15.760),
        (107.830, 15.600),
        (107.800, 15.440),
        (107.850, 15.300),
    ),
    ((108.240, 15.870), (108.120, 15.850), (107.980, 15.800), (107.830, 15.760)),
    ((108.370, 15.730), (108.250, 15.650), (108.100, 15.580), (107.970, 15.500), (107.800, 15.440)),
    ((108.480, 15.570), (108.380, 15.520), (108.300, 15.490), (108.230, 15.350), (108.100, 15.150)),
)
ROAD_SCALE_M = 3000.0  # how fast the pull of a road fades with distance
URBAN_TYPES = ("Phường", "Thị trấn")

NAME_WORDS = {
    "Thực phẩm": (
        "Mật ong",
        "Nước mắm",
        "Bánh tráng",
        "Gạo",
        "Tỏi",
        "Chả cá",
        "Yến sào",
        "Tương ớt",
        "Bánh dừa",
        "Nấm",
        "Trà",
        "Tiêu",
    ),
    "Đồ uống": ("Rượu", "Nước cốt chanh", "Rượu ba kích", "Trà thảo mộc"),
    "Thảo dược": ("Sâm", "Đảng sâm", "Tinh dầu quế", "Cao dược liệu", "Trà cà gai leo"),
    "Vải và may mặc": ("Khăn lụa", "Thổ cẩm"),
    "Lưu niệm - nội thất - trang trí": ("Đèn lồng", "Gốm", "Mây tre đan", "Đồ gỗ mỹ nghệ"),
    "Dịch vụ du lịch nông thôn, bán hàng": ("Du lịch cộng đồng",),
}
PRODUCER_PREFIX = {
    "cooperative": "HTX Nông nghiệp",
    "sme": "Công ty TNHH",
    "cooperative_group": "Tổ hợp tác",
    "household": "Hộ kinh doanh",
}


@dataclasses.dataclass(frozen=True)
class DemoSpec:
    """How much to generate; ``producers`` and ``outlets`` default from ``products``."""

    products: int
    seed: int = 0
    producers: int | None = None
    outlets: int | None = None
    as_of: dt.date = dt.date(2024, 12, 31)

    def n_producers(self) -> int:
        if self.producers is not None:
            return self.producers
        return max(1, round(self.products / PRODUCTS_PER_PRODUCER))

    def n_outlets(self, n_districts: int) -> int:
        if self.outlets is not None:
            return self.outlets
        return max(n_districts, round(self.products / 20))


def _shares(rng: np.random.Generator, pairs, n: int) -> np.ndarray:
    values = np.array([p[0] for p in pairs], dtype=object)
    weights = np.array([p[1] for p in pairs], dtype=float)
    return values[rng.choice(len(values), size=n, p=weights / weights.sum())]


def _roads_metric() -> shapely.MultiLineString:
    to_metric = Transformer.from_crs("EPSG:4326", METRIC_CRS, always_xy=True)
    lines = []
    for road in MAIN_ROADS:
        xs, ys = to_metric.transform([p[0] for p in road], [p[1] for p in road])
        lines.append(shapely.LineString(np.column_stack([xs, ys])))
    return shapely.MultiLineString(lines)


def _urban(communes: pd.DataFrame) -> np.ndarray:
    if "commune_type" in communes.columns:
        kinds = communes["commune_type"].astype(str)
    else:
        kinds = communes["commune_full_name"].astype(str)
    return kinds.str.startswith(URBAN_TYPES).to_numpy()


def commune_weights(communes: gpd.GeoDataFrame) -> np.ndarray:
    """Relative number of producers per commune: 1, plus 3 in a ward or township, plus up to 3
    near a main road (fading over ``ROAD_SCALE_M``)."""
    metric = communes.geometry.to_crs(METRIC_CRS)
    road_m = shapely.distance(metric.values, _roads_metric())
    return 1.0 + 3.0 * _urban(communes) + 3.0 * np.exp(-road_m / ROAD_SCALE_M)


def _points_in(
    rng: np.random.Generator, shape, n: int, roads, centre=None, sigma_m: float = 0.0
) -> np.ndarray:
    """``n`` points (x, y in metres) strictly inside ``shape``: uniform with a pull towards
    ``roads``, or normal around ``centre`` with ``sigma_m`` when given."""
    inner = shape.buffer(-5.0)
    if inner.is_empty:
        inner = shape
    shapely.prepare(inner)
    minx, miny, maxx, maxy = inner.bounds
    out: list[np.ndarray] = []
    have, tries = 0, 0
    while have < n:
        tries += 1
        batch = max(64, (n - have) * 4)
        if centre is not None and tries < 50:
            xs = rng.normal(centre[0], sigma_m, batch)
            ys = rng.normal(centre[1], sigma_m, batch)
        else:
            xs = rng.uniform(minx, maxx, batch)
            ys = rng.uniform(miny, maxy, batch)
        inside = shapely.contains_xy(inner, xs, ys)
        xs, ys = xs[inside], ys[inside]
        if centre is None and roads is not None and len(xs):
            road_m = shapely.distance(roads, shapely.points(xs, ys))
            keep = rng.uniform(size=len(xs)) < 0.3 + 0.7 * np.exp(-road_m / ROAD_SCALE_M)
            xs, ys = xs[keep], ys[keep]
        out.append(np.column_stack([xs, ys]))
        have += len(xs)
        if tries > 10_000:
            raise RuntimeError("cannot draw points inside a commune (degenerate polygon?)")
    return np.concatenate(out)[:n]


@functools.lru_cache(maxsize=2)
def _transformer(source: str, target: str) -> Transformer:
    return Transformer.from_crs(source, target, always_xy=True)


def _to_lonlat(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    to_geo = _transformer(METRIC_CRS, "EPSG:4326")
    lon, lat = to_geo.transform(xy[:, 0], xy[:, 1])
    return np.round(lon, 6), np.round(lat, 6)


def _fmt(values: np.ndarray) -> list[str]:
    return [f"{x:.6f}" for x in values]


def generate(
    communes: gpd.GeoDataFrame, districts: gpd.GeoDataFrame, spec: DemoSpec
) -> dict[str, pd.DataFrame]:
    """Products, producers and outlets (text frames in the store's columns).

    ``communes`` are the 2020 communes (EPSG:4326, ``commune_code``, ``commune_name``,
    ``commune_full_name``, ``district_code``, optional ``commune_type``); ``districts`` the
    2020 districts.
    """
    rng = np.random.default_rng(spec.seed)
    communes = communes.reset_index(drop=True)
    metric = communes.geometry.to_crs(METRIC_CRS)
    roads = _roads_metric()
    shapely.prepare(roads)
    note = f"illustrative: generated by ocop demo-data (seed {spec.seed}), not a real record"

    # producers: commune by weight, point inside it
    n_producers = spec.n_producers()
    weights = commune_weights(communes)
    commune_index = rng.choice(len(communes), size=n_producers, p=weights / weights.sum())
    commune_index.sort()
    xy = np.empty((n_producers, 2))
    values, starts, counts = np.unique(commune_index, return_index=True, return_counts=True)
    for index, start, count in zip(values, starts, counts, strict=True):
        xy[start : start + count] = _points_in(rng, metric.iloc[index], int(count), roads)
    order = rng.permutation(n_producers)
    commune_index, xy = commune_index[order], xy[order]
    lon, lat = _to_lonlat(xy)
    types = _shares(rng, TYPE_SHARES, n_producers)
    codes = communes["commune_code"].astype(str).to_numpy()[commune_index]
    commune_names = communes["commune_name"].astype(str).to_numpy()[commune_index]
    producer_ids = [f"DEMO-PR{i:07d}" for i in range(1, n_producers + 1)]
    producers = pd.DataFrame(
        {
            "producer_id": producer_ids,
            "name": [
                f"{PRODUCER_PREFIX[t]} {c} {i}"
                for i, (t, c) in enumerate(zip(types, commune_names, strict=True), start=1)
            ],
            "producer_type": types,
            "commune_code": codes,
            "district_code": communes["district_code"].astype(str).to_numpy()[commune_index],
            "lon": _fmt(lon),
            "lat": _fmt(lat),
            "location_precision": "commune",
            "sells_on_site": np.where(rng.uniform(size=n_producers) < 0.2, "true", "false"),
            "source_ids": "DEMO",
            "notes": note,
            "illustrative": "true",
        },
        columns=list(PRODUCER_COLUMNS),
    )

    # products: every producer gets one, the rest go to random producers
    n_products = spec.products
    owner = rng.permutation(n_producers)[: min(n_products, n_producers)]
    if n_products > n_producers:
        owner = np.concatenate([owner, rng.integers(0, n_producers, n_products - n_producers)])
    rng.shuffle(owner)
    groups = _shares(rng, GROUP_SHARES, n_products)
    stars = _shares(rng, STAR_SHARES, n_products).astype(int)
    span = (spec.as_of - FIRST_RECOGNITION).days
    offsets = rng.integers(0, span + 1, n_products)
    dates = pd.to_datetime(FIRST_RECOGNITION) + pd.to_timedelta(offsets, unit="D")
    word_index = rng.integers(0, 1 << 30, n_products)
    products = pd.DataFrame(
        {
            "product_id": [f"DEMO-P{i:07d}" for i in range(1, n_products + 1)],
            "name": [
                f"{NAME_WORDS[g][w % len(NAME_WORDS[g])]} {commune_names[o]}"
                for g, w, o in zip(groups, word_index, owner, strict=True)
            ],
            "group_1048": groups,
            "group_148": [GROUP_1048_TO_148[g] for g in groups],
            "stars": stars.astype(str),
            "recognition_year": dates.year.astype(str),
            "recognition_date": dates.strftime("%Y-%m-%d"),
            "recognition_date_precision": "day",
            "decision": "QĐ minh hoạ",
            "producer_id": np.asarray(producer_ids, dtype=object)[owner],
            "source_ids": "DEMO",
            "notes": note,
            "illustrative": "true",
        },
        columns=list(PRODUCT_COLUMNS),
    )

    outlets = _outlets(rng, communes, metric, districts, spec, note)
    return {"products": products, "producers": producers, "outlets": outlets}


def district_centres(communes: gpd.GeoDataFrame, metric: gpd.GeoSeries) -> dict[str, int]:
    """Row of the commune at each district's centre: its ward or township nearest to the
    middle of the district's towns (else the commune nearest the district's middle)."""
    urban = _urban(communes)
    centres = {}
    for district, group in communes.groupby(communes["district_code"].astype(str)):
        rows = group.index.to_numpy()
        towns = rows[urban[rows]] if urban[rows].any() else rows
        middle = shapely.union_all(metric.iloc[towns].values).representative_point()
        distances = shapely.distance(metric.iloc[towns].values, middle)
        centres[district] = int(towns[int(np.argmin(distances))])
    return centres


def _outlets(rng, communes, metric, districts, spec: DemoSpec, note: str) -> pd.DataFrame:
    """Outlets: one per district first, the rest by the district's number of communes; each
    drawn around its district's centre commune (normal, sigma 600 m, inside that commune)."""
    centres = district_centres(communes, metric)
    district_codes = sorted(centres)
    n = spec.n_outlets(len(district_codes))
    sizes = communes["district_code"].astype(str).value_counts()
    weights = np.array([sizes[d] for d in district_codes], dtype=float)
    chosen = np.arange(min(n, len(district_codes)))
    if n > len(district_codes):
        extra = rng.choice(
            len(district_codes), size=n - len(district_codes), p=weights / weights.sum()
        )
        chosen = np.concatenate([chosen, extra])
    xy = np.empty((n, 2))
    for position, count in zip(*np.unique(chosen, return_counts=True), strict=True):
        shape = metric.iloc[centres[district_codes[position]]]
        centre = shape.representative_point()
        rows = np.flatnonzero(chosen == position)
        xy[rows] = _points_in(rng, shape, int(count), None, (centre.x, centre.y), sigma_m=600.0)
    lon, lat = _to_lonlat(xy)
    commune_rows = np.array([centres[district_codes[i]] for i in chosen], dtype=int)
    first = np.arange(n) < len(district_codes)
    kinds = np.where(first & (rng.uniform(size=n) < 0.4), "centre", "sales_point")
    planned = rng.uniform(size=n) < 0.1
    span = (spec.as_of - FIRST_RECOGNITION).days
    days = pd.to_datetime(FIRST_RECOGNITION) + pd.to_timedelta(
        rng.integers(0, span + 1, n), unit="D"
    )
    names = communes["commune_name"].astype(str).to_numpy()[commune_rows]
    labels = np.where(kinds == "centre", "Trung tâm OCOP", "Điểm bán sản phẩm OCOP")
    return pd.DataFrame(
        {
            "outlet_id": [f"DEMO-O{i:05d}" for i in range(1, n + 1)],
            "name": [f"{a} {b} {i}" for i, (a, b) in enumerate(zip(labels, names, strict=True), 1)],
            "kind": kinds,
            "status": np.where(planned, "planned", "open"),
            "address": "",
            "commune_code": communes["commune_code"].astype(str).to_numpy()[commune_rows],
            "district_code": [district_codes[i] for i in chosen],
            "lon": _fmt(lon),
            "lat": _fmt(lat),
            "location_precision": "commune",
            "operator": "",
            "opened": np.where(planned, "", days.strftime("%Y-%m-%d")),
            "source_ids": "DEMO",
            "notes": note,
            "illustrative": "true",
        },
        columns=list(OUTLET_COLUMNS),
    )


def summary(frames: dict[str, pd.DataFrame]) -> str:
    products = frames["products"]
    stars = products["stars"].value_counts().to_dict()
    return (
        f"{len(products)} products ({', '.join(f'{k}★ {v}' for k, v in sorted(stars.items()))}), "
        f"{len(frames['producers'])} producers, {len(frames['outlets'])} outlets, "
        "all illustrative"
    )


def expected_share(pairs) -> dict:
    """Published shares as fractions (for tests and the docs)."""
    total = math.fsum(p[1] for p in pairs)
    return {p[0]: p[1] / total for p in pairs}
