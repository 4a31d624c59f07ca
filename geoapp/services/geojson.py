"""GeoJSON serialisation of GeoDataFrames for the web: compact, UTF-8, null-safe."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

COORDINATE_DECIMALS = 5  # about 1 m at this latitude: finer than any screen shows


def json_value(value):
    """``value`` as plain JSON data: numpy and pandas scalars, NA and timestamps converted."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if np.isnan(value) else float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, (list, tuple, np.ndarray)):
        return [json_value(v) for v in value]
    if isinstance(value, dict):
        return {k: json_value(v) for k, v in value.items()}
    return value


def round_coordinates(geometries: np.ndarray, decimals: int = COORDINATE_DECIMALS) -> np.ndarray:
    """Coordinates rounded to ``decimals`` (degrees, EPSG:4326) for display only."""
    return shapely.transform(geometries, lambda coords: np.round(coords, decimals))


def feature_collection(frame: gpd.GeoDataFrame, columns: list[str] | None = None) -> bytes:
    """A GeoJSON FeatureCollection (EPSG:4326) of ``frame`` with the given property columns."""
    columns = [c for c in (columns or frame.columns) if c != frame.geometry.name]
    geometries = round_coordinates(np.asarray(frame.geometry.values, dtype=object))
    geometry_json = shapely.to_geojson(geometries)
    records = frame[columns].astype(object).to_dict("records")
    parts = []
    for props, geom in zip(records, geometry_json, strict=True):
        properties = json.dumps({k: json_value(v) for k, v in props.items()}, ensure_ascii=False)
        geometry = geom if geom is not None else "null"
        parts.append(f'{{"type":"Feature","properties":{properties},"geometry":{geometry}}}')
    return ('{"type":"FeatureCollection","features":[' + ",".join(parts) + "]}").encode()
