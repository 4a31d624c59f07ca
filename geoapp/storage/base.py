"""The store interface that services depend on."""

from __future__ import annotations

from typing import Literal, Protocol

import geopandas as gpd
import pandas as pd

from geoapp.domain.ocop import OcopData

Detail = Literal["full", "display"]


class DataMissingError(RuntimeError):
    """A data file the service needs has not been built or is unreadable."""


class StoreUnavailableError(DataMissingError):
    """The database cannot be reached now (the service answers 503 and retries by itself)."""


class Store(Protocol):
    """Read access to one data version of boundaries and OCOP records (all EPSG:4326)."""

    def data_version(self) -> str:
        """A short string that changes whenever any data the store serves changes."""
        ...

    def communes(self, edition: str, detail: Detail = "full") -> gpd.GeoDataFrame:
        """Communes of an edition ("2020" or "2025"); ``display`` is the simplified copy."""
        ...

    def districts(self, detail: Detail = "full") -> gpd.GeoDataFrame:
        """The 18 districts of 2020 (a reference layer in edition 2025)."""
        ...

    def crosswalk(self) -> pd.DataFrame:
        """2020 commune code -> 2025 commune code, one row per 2020 commune."""
        ...

    def ocop(self) -> OcopData:
        """Products, producers, outlets and published statistics."""
        ...

    def communes_covering(self, edition: str, kind: str = "producer") -> pd.Series:
        """Code of the commune of ``edition`` (full detail) covering each point of ``kind``
        ("producer" or "outlet"), indexed by the point's row in ``ocop()``; points in no
        commune are left out. A point on a shared edge goes to the smaller code."""
        ...
