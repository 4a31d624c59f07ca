"""A tiny, fully known data set written in code: a 2x2 grid of communes in two districts.

lat 15.7 +--------+--------+
         | 10002  | 10004  |     district 101 = 10001 + 10002 (west)
lat 15.6 +--------+--------+     district 102 = 10003 + 10004 (east)
         | 10001  | 10003  |     edition 2025: 20001 = west, 20002 = east,
lat 15.5 +--------+--------+     20003 = a former Đà Nẵng commune further north
      108.0    108.1    108.2
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
from shapely.geometry import box

from geoapp.domain.ocop import (
    CANDIDATE_COLUMNS,
    OUTLET_COLUMNS,
    PRODUCER_COLUMNS,
    PRODUCT_COLUMNS,
)

CELL = 0.1


def cell(col: int, row: int):
    return box(
        108.0 + col * CELL, 15.5 + row * CELL, 108.0 + (col + 1) * CELL, 15.5 + (row + 1) * CELL
    )


def communes_2020() -> gpd.GeoDataFrame:
    rows = [
        ("10001", "Xã Một", "101", "Huyện Tây", cell(0, 0)),
        ("10002", "Xã Hai", "101", "Huyện Tây", cell(0, 1)),
        ("10003", "Phường Ba", "102", "Thị xã Đông", cell(1, 0)),
        ("10004", "Xã Bốn <b>", "102", "Thị xã Đông", cell(1, 1)),
    ]
    return gpd.GeoDataFrame(
        {
            "commune_code": [r[0] for r in rows],
            "commune_name": [r[1].split(" ", 1)[1] for r in rows],
            "commune_full_name": [r[1] for r in rows],
            "commune_type": [r[1].split(" ", 1)[0] for r in rows],
            "commune_name_en": [r[1] for r in rows],
            "district_code": [r[2] for r in rows],
            "district_name": [r[3].split(" ", 1)[1] for r in rows],
            "district_full_name": [r[3] for r in rows],
            "area_km2": [118.0] * 4,
        },
        geometry=[r[4] for r in rows],
        crs="EPSG:4326",
    )


def districts_2020() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "district_code": ["101", "102"],
            "district_name": ["Tây", "Đông"],
            "district_full_name": ["Huyện Tây", "Thị xã Đông"],
            "district_type": ["Huyện", "Thị xã"],
            "district_name_en": ["Tay", "Dong"],
            "n_communes": [2, 2],
            "area_km2": [236.0, 236.0],
        },
        geometry=[box(108.0, 15.5, 108.1, 15.7), box(108.1, 15.5, 108.2, 15.7)],
        crs="EPSG:4326",
    )


def communes_2025() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "commune_code": ["20001", "20002", "20003"],
            "commune_name": ["Tây Mới", "Đông Mới", "Hải Vân"],
            "commune_full_name": ["Xã Tây Mới", "Phường Đông Mới", "Phường Hải Vân"],
            "commune_type": ["Xã", "Phường", "Phường"],
            "commune_name_en": ["Tay Moi", "Dong Moi", "Hai Van"],
            "former_province": ["Quảng Nam", "Quảng Nam", "Đà Nẵng"],
            "share_in_former_qn": [1.0, 1.0, 0.0],
            "area_km2": [236.0, 236.0, 236.0],
        },
        geometry=[
            box(108.0, 15.5, 108.1, 15.7),
            box(108.1, 15.5, 108.2, 15.7),
            box(108.0, 15.7, 108.2, 15.8),
        ],
        crs="EPSG:4326",
    )


def crosswalk() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "old_commune_code": ["10001", "10002", "10003", "10004"],
            "new_commune_code": ["20001", "20001", "20002", "20002"],
        }
    )


def _frame(rows: list[dict], columns: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(columns))


def products() -> pd.DataFrame:
    """Commune 10001: two valid ≥3★ products (met). Commune 10003: one valid (below), one
    expired, one rated 2★. Commune 10002 and 10004: none. One district-only product in 101."""
    rows = [
        ("P1", "Mật ong <rừng>", 3, "2023-06-01", "day", "PR1", "Thực phẩm"),
        ("P2", "Trà xanh", 4, "2024-01-10", "day", "PR1", "Đồ uống"),
        ("P3", "Nước mắm", 5, "2023-12-31", "year", "PR2", "Thực phẩm"),
        ("P4", "Bánh tráng cũ", 3, "2019-01-03", "day", "PR2", "Thực phẩm"),
        ("P5", "Rượu hai sao", 2, "2024-05-01", "day", "PR2", "Đồ uống"),
        ("P6", "Sâm huyện", 3, "", "unknown", "PR3", "Dược liệu và sản phẩm từ dược liệu"),
    ]
    return _frame(
        [
            {
                "product_id": pid,
                "name": name,
                "group_148": group,
                "group_1048": group,
                "stars": stars,
                "recognition_year": date[:4],
                "recognition_date": date,
                "recognition_date_precision": precision,
                "decision": "test",
                "producer_id": producer,
                "source_ids": "T",
                "notes": "",
                "illustrative": "false",
            }
            for pid, name, stars, date, precision, producer, group in rows
        ],
        PRODUCT_COLUMNS,
    )


def producers() -> pd.DataFrame:
    rows = [
        ("PR1", "HTX Một", "cooperative", "10001", "101", 108.05, 15.55, "commune"),
        ("PR2", "Cơ sở Ba", "household", "10003", "102", 108.15, 15.55, "commune"),
        ("PR3", "Công ty Huyện", "sme", "", "101", 108.05, 15.65, "district"),
    ]
    return _frame(
        [
            {
                "producer_id": pid,
                "name": name,
                "producer_type": kind,
                "commune_code": commune,
                "district_code": district,
                "lon": lon,
                "lat": lat,
                "location_precision": precision,
                "sells_on_site": "false",
                "source_ids": "T",
                "notes": "",
                "illustrative": "false",
            }
            for pid, name, kind, commune, district, lon, lat, precision in rows
        ],
        PRODUCER_COLUMNS,
    )


def outlets() -> pd.DataFrame:
    rows = [
        (
            "O1",
            "Trung tâm OCOP Tây",
            "centre",
            "open",
            "1 Đường A",
            "10001",
            "101",
            108.02,
            15.52,
            "commune",
        ),
        (
            "O2",
            "Điểm bán <Đông>",
            "sales_point",
            "open",
            "",
            "10004",
            "102",
            108.18,
            15.68,
            "exact",
        ),
    ]
    return _frame(
        [
            {
                "outlet_id": oid,
                "name": name,
                "kind": kind,
                "status": status,
                "address": address,
                "commune_code": commune,
                "district_code": district,
                "lon": lon,
                "lat": lat,
                "location_precision": precision,
                "operator": "",
                "opened": "",
                "source_ids": "T",
                "notes": "",
                "illustrative": "false",
            }
            for oid, name, kind, status, address, commune, district, lon, lat, precision in rows
        ],
        OUTLET_COLUMNS,
    )


def candidates() -> pd.DataFrame:
    """Products in the pipeline (not certified): two in 10001 (which has two counted products),
    one in 10004 (none counted), one known only by district 102. Not written by
    ``write_tiny_data``: tests add them with ``write_candidates``."""
    rows = [
        ("C1", "Bánh <ứng viên>", "HTX Một", "10001", "101", "commune", "3?"),
        ("C2", "Mứt gừng", "HTX Một", "10001", "101", "commune", ""),
        ("C3", "Nón lá", "Tổ hợp tác Bốn", "10004", "102", "commune", "4 / 3 (claimed)"),
        ("C4", "Trà thảo mộc", "", "", "102", "district", ""),
    ]
    return _frame(
        [
            {
                "candidate_id": cid,
                "name": name,
                "producer": producer,
                "producer_type": "unknown",
                "commune_code": commune,
                "district_code": district,
                "location_precision": precision,
                "place_given": "",
                "stars": stars,
                "recognition_year": "2024",
                "decision": "scored, not confirmed",
                "group_1048": "Thực phẩm",
                "group_148": "Thực phẩm",
                "source_ids": "T;C",
                "notes": "",
            }
            for cid, name, producer, commune, district, precision, stars in rows
        ],
        CANDIDATE_COLUMNS,
    )


def write_candidates(data_dir: Path) -> Path:
    """Add ``candidates()`` to a tiny data set written by ``write_tiny_data``."""
    path = data_dir / "ocop" / "candidates.csv"
    candidates().to_csv(path, index=False)
    return path


def write_tiny_data(data_dir: Path) -> Path:
    """Write the tiny data set in the layout ``FileStore`` reads; returns ``data_dir``."""
    boundaries = data_dir / "boundaries"
    ocop = data_dir / "ocop"
    boundaries.mkdir(parents=True, exist_ok=True)
    ocop.mkdir(parents=True, exist_ok=True)
    for name, frame in (
        ("communes_2020", communes_2020()),
        ("districts_2020", districts_2020()),
        ("communes_2025", communes_2025()),
    ):
        frame.to_parquet(boundaries / f"{name}.parquet")
        frame.to_parquet(boundaries / f"{name}_display.parquet")
    crosswalk().to_csv(boundaries / "crosswalk_2020_2025.csv", index=False)
    (boundaries / "manifest.json").write_text(json.dumps({"build_version": "tiny"}))
    products().to_csv(ocop / "products.csv", index=False)
    producers().to_csv(ocop / "producers.csv", index=False)
    outlets().to_csv(ocop / "outlets.csv", index=False)
    pd.DataFrame(
        {"area": ["Tiny"], "as_of": ["2024"], "measure": ["m"], "value": ["1"], "source_ids": ["T"]}
    ).to_csv(ocop / "province_stats.csv", index=False)
    return data_dir


def tiny_app(tmp_path: Path, **settings):
    """An app on the tiny data set written under ``tmp_path``, with its own versions folder."""
    from geoapp import create_app

    data = write_tiny_data(tmp_path / "data")
    return create_app(
        {
            "data_dir": data,
            "versions_dir": tmp_path / "versions",
            "testing": True,
            "tile_url": "none",
            **settings,
        }
    )
