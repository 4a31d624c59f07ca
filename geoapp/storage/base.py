"""The store interface that services depend on."""

from __future__ import annotations

from typing import Literal, Protocol

import geopandas as gpd
import pandas as pd

from geoapp.domain.ocop import OcopData

Detail = Literal["full", "display"]


REBUILD_BOUNDARIES = "rebuild it with `make data` (or `flask --app wsgi boundaries build`)"
REBUILD_OCOP = "rebuild it with `make ocop-data` (or `flask --app wsgi ocop build`)"


class DataMissingError(RuntimeError):
    """A data file the service needs has not been built or is unreadable.

    ``str(exc)`` (for logs) names the file's path; ``public`` says what is missing and how to
    rebuild it without any server path, for responses.
    """

    def __init__(self, message: str, public: str = "") -> None:
        super().__init__(message)
        self.public = public or f"a data file is missing or unreadable: {REBUILD_BOUNDARIES}"


DATABASE_DOWN = "the database is not reachable now; the service retries by itself"
DATABASE_EMPTY = (
    "the database holds no data yet: run `flask --app wsgi db upgrade` and"
    " `flask --app wsgi db load`"
)


class StoreUnavailableError(DataMissingError):
    """The database cannot be reached now (the service answers 503 and retries by itself).

    ``str(exc)`` (for logs) names the server and the reason; ``public`` names neither."""

    def __init__(self, message: str, public: str = DATABASE_DOWN) -> None:
        super().__init__(message, public)


class Store(Protocol):
    """Read access to one data version of boundaries and OCOP records (all EPSG:4326)."""

    def data_version(self) -> str:
        """A short string that changes whenever any data the store serves changes."""
        ...

    def boundary_version(self) -> str:
        """The boundary build's version: changes only when the boundaries change (not on an
        import of OCOP records)."""
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
