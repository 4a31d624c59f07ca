"""Validation of imported OCOP products, producers and outlets.

Pure: no Flask and no file I/O. Readers (``geoapp.services.imports``) turn CSV or XLSX sheets
into ``Table`` objects of text cells; ``validate`` checks every row against the official
commune list and the data already loaded, and returns every problem at once (``Report``) with
the records in the store's canonical text form and whether each one is added, changed or
unchanged.

Coordinates are WGS 84 longitude/latitude (EPSG:4326); distances to the stated commune are
measured in metres in UTM zone 49N (EPSG:32649). Messages come in English and Vietnamese.

Rows identical to a record already loaded ("unchanged") are not re-checked field by field: an
import cannot make them worse, and the shipped facts keep gaps (a product without stars, an
outlet whose opening is only "before ~2021-04") that a new record would not be allowed.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import difflib
import functools
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.strtree import STRtree

from geoapp.domain.names import NameMatcher, normalize_text
from geoapp.domain.ocop import (
    LOCATION_PRECISIONS,
    OUTLET_COLUMNS,
    PRODUCER_COLUMNS,
    PRODUCT_COLUMNS,
    PROVENANCE_COLUMNS,
)
from geoapp.domain.placement import PlacementError, place_in_polygon

Kind = Literal["products", "producers", "outlets"]
Severity = Literal["error", "warning"]
KINDS: tuple[Kind, ...] = ("products", "producers", "outlets")
ID_COLUMN: dict[str, str] = {
    "products": "product_id",
    "producers": "producer_id",
    "outlets": "outlet_id",
}
STORE_COLUMNS: dict[str, tuple[str, ...]] = {
    "products": PRODUCT_COLUMNS,
    "producers": PRODUCER_COLUMNS,
    "outlets": OUTLET_COLUMNS,
}
KIND_NAMES = {
    "products": ("products", "sản phẩm"),
    "producers": ("producers", "chủ thể"),
    "outlets": ("outlets", "điểm bán"),
}

METRIC_CRS = "EPSG:32649"
# Mainland Vietnam with its coastal islands (lon_min, lat_min, lon_max, lat_max), EPSG:4326.
VIETNAM_BOUNDS = (102.14, 8.18, 109.47, 23.39)
OUTSIDE_ERROR_M = 2000.0
EARLIEST_YEAR = 1990
ISSUES_PER_KIND_CAP = 200  # per (code, file, sheet, column); the rest are only counted

# -- the import format -------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Field:
    """One column of the import format: store name (= English header) and Vietnamese header.

    ``aliases`` are further accepted headers; matching ignores case, diacritics, punctuation.
    ``stored`` is False for helper columns (place names, provenance) that are not compared.
    """

    name: str
    vi: str
    aliases: tuple[str, ...] = ()
    required: bool = False
    stored: bool = True
    example: str = ""
    en: str = ""

    @property
    def keys(self) -> set[str]:
        return {normalize_text(x) for x in (self.name, self.vi, self.en, *self.aliases) if x}


_PLACE = (
    Field(
        "commune_code",
        "Mã xã",
        ("ma xa phuong", "ma phuong xa", "commune id"),
        example="20359",
        en="commune code",
    ),
    Field(
        "commune_name",
        "Xã/phường/thị trấn",
        ("xa", "phuong", "xa phuong", "phuong xa", "commune", "ten xa", "xa phuong thi tran"),
        stored=False,
        example="Tam Thanh",
        en="commune",
    ),
    Field("district_code", "Mã huyện", ("district id",), example="502", en="district code"),
    Field(
        "district_name",
        "Huyện/thị xã/thành phố",
        ("huyen", "district", "ten huyen", "quan huyen", "huyen thi xa"),
        stored=False,
        example="Tam Kỳ",
        en="district",
    ),
    Field("lon", "Kinh độ", ("longitude", "lng", "long", "x"), example="", en="longitude"),
    Field("lat", "Vĩ độ", ("latitude", "y"), example="", en="latitude"),
    Field(
        "location_precision",
        "Độ chính xác vị trí",
        ("location precision", "precision"),
        example="commune",
    ),
)
_COMMON_TAIL = (
    Field("source_ids", "Nguồn", ("sources", "source", "nguon tin"), example=""),
    Field("notes", "Ghi chú", ("note", "ghi chu them", "remarks"), example=""),
    Field("illustrative", "Minh hoạ", ("du lieu minh hoa", "demo"), example="false"),
)
_PROVENANCE = tuple(
    Field(name, vi, stored=False)
    for name, vi in zip(
        PROVENANCE_COLUMNS, ("Tệp nguồn", "Dòng nguồn", "Thời điểm nhập"), strict=True
    )
)

FIELDS: dict[str, tuple[Field, ...]] = {
    "products": (
        Field(
            "product_id",
            "Mã sản phẩm",
            ("ma sp", "product code", "id"),
            True,
            example="VD-SP-001",
            en="product id",
        ),
        Field(
            "name",
            "Tên sản phẩm",
            ("ten sp", "san pham", "product", "product name", "ten"),
            True,
            example="Mật ong rừng Tam Thanh",
            en="product name",
        ),
        Field(
            "group_148",
            "Nhóm sản phẩm",
            (
                "nhom",
                "nganh",
                "nhom san pham qd 148",
                "nganh qd 148",
                "group",
                "product group",
                "nhom qd 148",
            ),
            example="Thực phẩm",
            en="product group",
        ),
        Field(
            "group_1048",
            "Nhóm sản phẩm (QĐ 1048)",
            ("nhom qd 1048", "nganh qd 1048", "group qd 1048", "nhom san pham qd 1048"),
            example="Thực phẩm",
        ),
        Field(
            "stars",
            "Số sao",
            ("hang sao", "sao", "xep hang", "star", "rating", "so sao ocop"),
            True,
            example="3",
            en="stars",
        ),
        Field(
            "recognition_date",
            "Ngày công nhận",
            ("ngay quyet dinh", "date recognised", "ngay cap", "recognized on", "date"),
            example="2024-06-30",
            en="recognition date",
        ),
        Field("recognition_year", "Năm công nhận", ("nam", "year"), example="2024"),
        Field(
            "recognition_date_precision", "Độ chính xác ngày", ("date precision",), example="day"
        ),
        Field(
            "decision",
            "Quyết định",
            ("so quyet dinh", "quyet dinh cong nhan", "qd"),
            example="QĐ 123/QĐ-UBND",
        ),
        Field(
            "producer_id",
            "Mã chủ thể",
            ("ma co so", "ma chu the san xuat", "producer", "producer code"),
            example="VD-CT-001",
            en="producer id",
        ),
        *_COMMON_TAIL,
        *_PROVENANCE,
    ),
    "producers": (
        Field(
            "producer_id",
            "Mã chủ thể",
            ("ma co so", "ma chu the san xuat", "producer code", "id"),
            True,
            example="VD-CT-001",
            en="producer id",
        ),
        Field(
            "name",
            "Tên chủ thể",
            (
                "chu the",
                "co so",
                "ten co so",
                "producer name",
                "producer",
                "ten",
                "chu the san xuat",
            ),
            example="HTX Nông nghiệp Tam Thanh",
            en="producer name",
        ),
        Field(
            "producer_type",
            "Loại hình chủ thể",
            ("loai hinh", "type", "loai chu the", "producer type"),
            example="cooperative",
        ),
        *_PLACE,
        Field("sells_on_site", "Bán tại chỗ", ("ban tai cho", "sells on site"), example="false"),
        *_COMMON_TAIL,
        *_PROVENANCE,
    ),
    "outlets": (
        Field(
            "outlet_id",
            "Mã điểm bán",
            ("ma diem", "ma cua hang", "outlet code", "id"),
            True,
            example="VD-DB-001",
            en="outlet id",
        ),
        Field(
            "name",
            "Tên điểm bán",
            ("ten cua hang", "outlet", "outlet name", "ten", "ten trung tam"),
            True,
            example="Điểm bán sản phẩm OCOP Tam Kỳ",
            en="outlet name",
        ),
        Field(
            "kind",
            "Loại điểm bán",
            ("loai", "loai hinh", "type", "outlet kind"),
            True,
            example="sales_point",
        ),
        Field("status", "Tình trạng", ("trang thai", "outlet status"), example="open"),
        Field("address", "Địa chỉ", ("dia chi cu the",), example="245 Phan Bội Châu"),
        *_PLACE,
        Field(
            "operator",
            "Đơn vị vận hành",
            ("don vi quan ly", "chu cua hang", "operated by"),
            example="HTX Nông nghiệp Tam Thanh",
        ),
        Field(
            "opened",
            "Ngày khai trương",
            ("ngay mo cua", "opened on", "opening date"),
            example="2024-09-27",
        ),
        *_COMMON_TAIL,
        *_PROVENANCE,
    ),
}

REQUIRED_COLUMNS: dict[str, tuple[tuple[str, ...], ...]] = {
    # each entry: one of these columns must be present
    "products": (("product_id",), ("name",), ("stars",), ("group_148", "group_1048")),
    "producers": (("producer_id",),),
    "outlets": (("outlet_id",), ("name",), ("kind",)),
}


def field_of(kind: str, name: str) -> Field:
    return next(f for f in FIELDS[kind] if f.name == name)


def export_columns(kind: str) -> list[str]:
    """Columns written by export, in order: every field of the kind (English headers)."""
    return [f.name for f in FIELDS[kind]]


# -- vocabularies ------------------------------------------------------------------------------

GROUPS_148 = (
    ("Thực phẩm", "Food"),
    ("Đồ uống", "Beverages"),
    ("Dược liệu và sản phẩm từ dược liệu", "Medicinal herbs and herbal products"),
    ("Hàng thủ công mỹ nghệ", "Handicrafts"),
    ("Sinh vật cảnh", "Ornamental plants and animals"),
    (
        "Dịch vụ du lịch cộng đồng, du lịch sinh thái và điểm du lịch",
        "Community tourism, eco-tourism and tourist-site services",
    ),
)
GROUPS_1048 = (
    ("Thực phẩm", "Food"),
    ("Đồ uống", "Beverages"),
    ("Thảo dược", "Herbal products"),
    ("Vải và may mặc", "Textiles and garments"),
    ("Lưu niệm - nội thất - trang trí", "Souvenirs, furniture and decorations"),
    ("Dịch vụ du lịch nông thôn, bán hàng", "Rural tourism services and sales"),
)
GROUP_1048_TO_148 = {
    "Thực phẩm": "Thực phẩm",
    "Đồ uống": "Đồ uống",
    "Thảo dược": "Dược liệu và sản phẩm từ dược liệu",
    "Vải và may mặc": "Hàng thủ công mỹ nghệ",
    "Lưu niệm - nội thất - trang trí": "Hàng thủ công mỹ nghệ",
    "Dịch vụ du lịch nông thôn, bán hàng": GROUPS_148[5][0],
}
_GROUP_ALIASES_148 = {
    "duoc lieu": GROUPS_148[2][0],
    "thu cong my nghe": GROUPS_148[3][0],
    "du lich": GROUPS_148[5][0],
    "dich vu du lich": GROUPS_148[5][0],
}

PRODUCER_TYPE_ALIASES = {
    "cooperative group": "cooperative_group",
    "cooperative_group": "cooperative_group",
    "to hop tac": "cooperative_group",
    "tht": "cooperative_group",
    "cooperative": "cooperative",
    "htx": "cooperative",
    "hop tac xa": "cooperative",
    "sme": "sme",
    "enterprise": "sme",
    "company": "sme",
    "doanh nghiep": "sme",
    "cong ty": "sme",
    "dn": "sme",
    "household": "household",
    "ho kinh doanh": "household",
    "ho san xuat": "household",
    "ho gia dinh": "household",
    "co so": "household",
    "ca nhan": "household",
    "individual": "household",
    "unknown": "unknown",
    "khong ro": "unknown",
    "chua ro": "unknown",
}
OUTLET_KIND_ALIASES = {
    "centre": "centre",
    "center": "centre",
    "trung tam": "centre",
    "trung tam ocop": "centre",
    "sales point": "sales_point",
    "sales_point": "sales_point",
    "diem ban": "sales_point",
    "cua hang": "sales_point",
    "diem gioi thieu": "sales_point",
    "diem trung bay": "sales_point",
    "quay": "sales_point",
    "shop": "sales_point",
}
OUTLET_STATUS_ALIASES = {
    "open": "open",
    "dang hoat dong": "open",
    "hoat dong": "open",
    "mo cua": "open",
    "planned": "planned",
    "du kien": "planned",
    "ke hoach": "planned",
    "sap mo": "planned",
    "unconfirmed": "unconfirmed",
    "chua xac nhan": "unconfirmed",
    "chua ro": "unconfirmed",
}
PRECISION_ALIASES = {
    "exact": "exact",
    "chinh xac": "exact",
    "address": "address",
    "dia chi": "address",
    "commune": "commune",
    "xa": "commune",
    "district": "district",
    "huyen": "district",
}
DATE_PRECISIONS = ("day", "month", "year", "unknown")
TRUE_WORDS = {"true", "1", "yes", "y", "x", "co", "dung"}
FALSE_WORDS = {"false", "0", "no", "n", "khong", "sai", ""}


_MEMO: dict[tuple[int, str], str | None] = {}
_MEMO_LIMIT = 100_000


def _lookup_key(aliases: Mapping[str, str], text: str) -> str | None:
    """Canonical value for ``text`` by exact normalised key, then by the longest key prefix
    (memoised per vocabulary: big files repeat a handful of values)."""
    memo_key = (id(aliases), text)
    if memo_key in _MEMO:
        return _MEMO[memo_key]
    key = normalize_text(text).replace("_", " ")
    normalized = {normalize_text(k): v for k, v in aliases.items()}
    found = normalized.get(key)
    if found is None:
        for alias in sorted(normalized, key=len, reverse=True):
            if key.startswith(alias + " ") or f" {alias} " in f" {key} ":
                found = normalized[alias]
                break
    if len(_MEMO) < _MEMO_LIMIT:
        _MEMO[memo_key] = found
    return found


def closest(text: str, choices: Iterable[str], n: int = 3) -> list[str]:
    """The ``choices`` closest to ``text``, accent- and case-insensitive."""
    by_key: dict[str, str] = {}
    for choice in choices:
        by_key.setdefault(normalize_text(choice), choice)
    hits = difflib.get_close_matches(normalize_text(text), list(by_key), n=n, cutoff=0.5)
    return [by_key[h] for h in hits]


def parse_group(text: str, groups: Sequence[tuple[str, str]], extra: Mapping[str, str] = {}):
    """Canonical (Vietnamese) group name for a Vietnamese or English name, else None."""
    memo_key = (id(groups) ^ id(extra), text)
    if memo_key in _MEMO:
        return _MEMO[memo_key]
    table = {normalize_text(vi): vi for vi, _ in groups}
    table.update({normalize_text(en): vi for vi, en in groups})
    table.update(extra)
    found = table.get(normalize_text(text))
    if len(_MEMO) < _MEMO_LIMIT:
        _MEMO[memo_key] = found
    return found


# -- cell cleaning and headers -----------------------------------------------------------------


def clean_cell(value: object) -> str:
    """A spreadsheet cell as text: numbers stored as numbers lose a ".0", dates become ISO,
    spaces (also non-breaking) are trimmed, None is ""."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, int):
        return str(value)
    text = str(value).replace("\u00a0", " ").replace("\ufeff", "")
    return " ".join(text.split()) if "\n" not in text else text.strip()


def header_matches(cells: Sequence[str]) -> int:
    """How many of ``cells`` are known headers of any kind."""
    known = set().union(*(f.keys for fields in FIELDS.values() for f in fields))
    return sum(1 for c in cells if c and normalize_text(c) in known)


def find_header_row(rows: Sequence[Sequence[str]], scan: int = 12) -> int | None:
    """Index of the header row: the first of the first ``scan`` rows with at least two known
    headers (rows above it, such as a title, are skipped)."""
    for index, row in enumerate(rows[:scan]):
        if header_matches(row) >= 2:
            return index
    return None


def column_letter(index: int) -> str:
    """0 -> "A", 26 -> "AA"."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def kind_from_name(name: str) -> str | None:
    """Kind named by a file or sheet name ("san_pham.csv", "Producers", "Điểm bán")."""
    key = normalize_text(name)
    rules = (
        ("outlets", ("outlet", "diem ban", "sales point", "cua hang", "trung tam")),
        ("producers", ("producer", "chu the", "co so")),
        ("products", ("product", "san pham")),
    )
    for kind, words in rules:
        if any(w in key for w in words):
            return kind
    return None


def kind_from_headers(headers: Sequence[str]) -> str | None:
    """Kind whose id column appears among ``headers`` (products before producers)."""
    keys = {normalize_text(h) for h in headers if h}
    if keys & (field_of("outlets", "outlet_id").keys - {"id"}) or keys & field_of(
        "outlets", "kind"
    ).keys - {"type", "loai hinh"}:
        return "outlets"
    product_keys = field_of("products", "product_id").keys | field_of("products", "stars").keys
    if keys & (product_keys - {"id"}):
        return "products"
    if keys & (field_of("producers", "producer_id").keys - {"id"}):
        return "producers"
    return None


# -- issues and the report ---------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Issue:
    """One problem: where it is (file, sheet, row, column), the value and why, in en and vi."""

    severity: Severity
    code: str
    file: str
    sheet: str
    row: int | None
    column: str
    value: str
    en: str
    vi: str
    kind: str = ""

    def message(self, lang: str = "en") -> str:
        return self.vi if lang == "vi" else self.en

    def location(self, lang: str = "en") -> str:
        vi = lang == "vi"
        parts = [self.file]
        if self.sheet:
            parts.append(f"[{self.sheet}]")
        if self.row is not None:
            parts.append(f"{'dòng' if vi else 'row'} {self.row}")
        if self.column:
            parts.append(f"{'cột' if vi else 'column'} {self.column}")
        return ", ".join([" ".join(parts[:2]), *parts[2:]]) if self.sheet else ", ".join(parts)

    def text(self, lang: str = "en") -> str:
        level = {"error": ("ERROR", "LỖI"), "warning": ("WARNING", "CẢNH BÁO")}[self.severity]
        label = level[1] if lang == "vi" else level[0]
        value = f', {"giá trị" if lang == "vi" else "value"} "{self.value}"' if self.value else ""
        return f"{label} {self.location(lang)}{value}: {self.message(lang)}"


@dataclasses.dataclass
class Report:
    """Every issue found, at most ``ISSUES_PER_KIND_CAP`` kept per (code, file, sheet, column)."""

    issues: list[Issue] = dataclasses.field(default_factory=list)
    not_shown: Counter = dataclasses.field(default_factory=Counter)
    n_errors: int = 0
    n_warnings: int = 0
    _seen: Counter = dataclasses.field(default_factory=Counter, repr=False)

    def add(self, issue: Issue) -> None:
        if issue.severity == "error":
            self.n_errors += 1
        else:
            self.n_warnings += 1
        key = (issue.code, issue.file, issue.sheet, issue.column)
        self._seen[key] += 1
        if self._seen[key] > ISSUES_PER_KIND_CAP:
            self.not_shown[issue.code] += 1
            return
        self.issues.append(issue)

    @property
    def has_errors(self) -> bool:
        return self.n_errors > 0

    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]

    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "warning"]

    def to_text(self, lang: str = "en") -> str:
        lines = [i.text(lang) for i in sorted(self.issues, key=_issue_order)]
        for code, n in sorted(self.not_shown.items()):
            lines.append(
                f"... {n} {'lỗi/cảnh báo khác loại' if lang == 'vi' else 'more issues of type'}"
                f" {code}"
            )
        return "\n".join(lines)


def _issue_order(issue: Issue):
    return (issue.file, issue.sheet, issue.row or 0, issue.severity != "error", issue.column)


# -- input tables ------------------------------------------------------------------------------


@dataclasses.dataclass
class Table:
    """One sheet or CSV file as text: ``headers[i]`` names column ``letters[i]``; ``rows`` are
    the data rows (already without empty rows) and ``row_numbers`` their 1-based numbers in
    the file. ``kind`` is None until known."""

    file: str
    sheet: str
    headers: list[str]
    rows: list[list[str]]
    row_numbers: list[int]
    kind: str | None = None
    letters: list[str] = dataclasses.field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.letters:
            self.letters = [column_letter(i) for i in range(len(self.headers))]


@dataclasses.dataclass(frozen=True)
class Reference:
    """What rows are checked against. Shapes are indexed by code; ``*_metric`` in EPSG:32649,
    the others in EPSG:4326. ``existing`` holds the loaded tables as text, indexed by id."""

    matcher: NameMatcher
    commune_district: Mapping[str, str]
    commune_labels: Mapping[str, str]
    district_labels: Mapping[str, str]
    communes: gpd.GeoSeries
    districts: gpd.GeoSeries
    communes_metric: gpd.GeoSeries
    districts_metric: gpd.GeoSeries
    existing: Mapping[str, pd.DataFrame]
    today: dt.date


def build_reference(
    communes: gpd.GeoDataFrame,
    districts: gpd.GeoDataFrame,
    matcher: NameMatcher,
    existing: Mapping[str, pd.DataFrame],
    today: dt.date,
) -> Reference:
    """Reference from the 2020 commune and district layers (EPSG:4326, with ``commune_code``,
    ``commune_full_name``, ``district_code`` and ``district_full_name`` columns)."""
    communes = communes.to_crs("EPSG:4326")
    districts = districts.to_crs("EPSG:4326")
    commune_shapes = gpd.GeoSeries(
        communes.geometry.values, index=communes["commune_code"].astype(str), crs="EPSG:4326"
    )
    district_shapes = gpd.GeoSeries(
        districts.geometry.values, index=districts["district_code"].astype(str), crs="EPSG:4326"
    )
    frames = {}
    for kind in KINDS:
        frame = existing.get(kind)
        if frame is None:
            frame = pd.DataFrame(columns=list(STORE_COLUMNS[kind]))
        frame = frame.fillna("").astype(str)
        frames[kind] = frame.drop_duplicates(ID_COLUMN[kind], keep="last").set_index(
            ID_COLUMN[kind], drop=False
        )
    return Reference(
        matcher=matcher,
        commune_district=dict(
            zip(
                communes["commune_code"].astype(str),
                communes["district_code"].astype(str),
                strict=True,
            )
        ),
        commune_labels={
            str(c): f"{n} ({c})"
            for c, n in zip(communes["commune_code"], communes["commune_full_name"], strict=True)
        },
        district_labels={
            str(c): f"{n} ({c})"
            for c, n in zip(
                districts["district_code"], districts["district_full_name"], strict=True
            )
        },
        communes=commune_shapes,
        districts=district_shapes,
        communes_metric=commune_shapes.to_crs(METRIC_CRS),
        districts_metric=district_shapes.to_crs(METRIC_CRS),
        existing=frames,
        today=today,
    )


# -- value parsers -----------------------------------------------------------------------------

_ISO_DAY = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_DMY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")
_MY = re.compile(r"^(\d{1,2})[/.\-](\d{4})$")
_YM = re.compile(r"^(\d{4})-(\d{1,2})$")
_Y = re.compile(r"^(\d{4})$")
_SERIAL = re.compile(r"^(\d{5})(?:\.0+)?$")
_APPROX_DATE = re.compile(
    r"(~|before|after|by|planned|being|exists|circa|truoc|khoang|du kien|sau|nam)",
)
_STARS = re.compile(r"^(\d+(?:[.,]0+)?)\s*(?:sao|stars?|★|\*)?$", re.IGNORECASE)


def _last_day(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


@functools.lru_cache(maxsize=65536)
def parse_date(text: str) -> tuple[dt.date, dt.date, str] | None:
    """(first day, stored day, precision) of a date written as YYYY-MM-DD, DD/MM/YYYY,
    MM/YYYY, YYYY-MM, YYYY or an Excel serial number; a month or year is stored as its last
    day (as the shipped facts do). None when it is not a date."""
    text = text.strip()
    try:
        if m := _ISO_DAY.match(text):
            day = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            return day, day, "day"
        if m := _DMY.match(text):
            day = dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
            return day, day, "day"
        if (m := _MY.match(text)) or (m := _YM.match(text)):
            a, b = int(m.group(1)), int(m.group(2))
            year, month = (b, a) if a <= 12 and b > 12 else (a, b)
            return dt.date(year, month, 1), _last_day(year, month), "month"
        if m := _Y.match(text):
            year = int(m.group(1))
            return dt.date(year, 1, 1), dt.date(year, 12, 31), "year"
        if m := _SERIAL.match(text):
            number = int(m.group(1))
            if 20000 <= number <= 80000:
                day = dt.date(1899, 12, 30) + dt.timedelta(days=number)
                return day, day, "day"
    except ValueError:
        return None
    return None


@functools.lru_cache(maxsize=1024)
def parse_stars(text: str) -> int | None:
    """1-5 from "3", "3.0", "3 sao", "3★"; None when it is not a whole number 1-5."""
    m = _STARS.match(text.strip())
    if not m:
        return None
    number = float(m.group(1).replace(",", "."))
    if not number.is_integer() or not 1 <= number <= 5:
        return None
    return int(number)


def parse_number(text: str) -> float | None:
    """A decimal number; a single decimal comma ("108,25") is accepted."""
    text = text.strip().replace(" ", "")
    if text.count(",") == 1 and "." not in text:
        text = text.replace(",", ".")
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


@functools.lru_cache(maxsize=1024)
def parse_bool(text: str) -> bool | None:
    key = normalize_text(text)
    if key in TRUE_WORDS:
        return True
    if key in FALSE_WORDS:
        return False
    return None


def format_coordinate(value: float) -> str:
    return f"{value:.6f}"


# -- validation --------------------------------------------------------------------------------


@dataclasses.dataclass
class Validated:
    """Outcome of ``validate``: the report, the canonical records per kind (store columns plus
    ``_status`` added/changed/unchanged, ``_file``, ``_row``) and counts per kind."""

    report: Report
    records: dict[str, pd.DataFrame]
    counts: dict[str, dict[str, int]]

    @property
    def ok(self) -> bool:
        return not self.report.has_errors

    @property
    def n_rows(self) -> int:
        return sum(len(f) for f in self.records.values())

    def changes(self) -> int:
        return sum(c["added"] + c["changed"] for c in self.counts.values())


ProgressFactory = Callable[[int, str], "Progress"]


class Progress:
    """Minimal progress interface (``update``/``close``); the default does nothing."""

    def update(self, n: int = 1) -> None:  # pragma: no cover - trivial
        pass

    def close(self) -> None:  # pragma: no cover - trivial
        pass


def _no_progress(total: int, label: str) -> Progress:
    return Progress()


class _RowContext:
    """Collects the issues of one row of one table."""

    def __init__(
        self,
        checker: _Checker,
        kind: str,
        table: Table,
        columns: dict[str, int],
        row_number: int,
        position: int,
    ) -> None:
        self.checker, self.kind, self.table = checker, kind, table
        self.columns, self.row_number, self.position = columns, row_number, position

    def column_label(self, field: str) -> str:
        index = self.columns.get(field)
        if index is None:
            return field
        header = self.table.headers[index]
        return f"{self.table.letters[index]} ({header})" if self.table.sheet else header

    def issue(self, severity: Severity, code: str, field: str, value: str, en: str, vi: str):
        self.checker.pending.append(
            (
                self.kind,
                self.position,
                Issue(
                    severity,
                    code,
                    self.table.file,
                    self.table.sheet,
                    self.row_number,
                    self.column_label(field),
                    value,
                    en,
                    vi,
                    self.kind,
                ),
            )
        )


class _Checker:
    """Row checks with caches for the expensive, repetitive ones (names, places)."""

    def __init__(self, ref: Reference) -> None:
        self.ref = ref
        self.pending: list[tuple[str, int, Issue]] = []
        self._places: dict[tuple[str, str, str, str], tuple] = {}

    # ---- places ----

    def place(self, cc: str, cn: str, dc: str, dn: str):
        key = (cc, cn, dc, dn)
        if key not in self._places:
            self._places[key] = self._resolve_place(*key)
        return self._places[key]

    def _code_suggestions(self, code: str, labels: Mapping[str, str]) -> str:
        hits = difflib.get_close_matches(code, list(labels), n=3, cutoff=0.6)
        return "; ".join(labels[h] for h in hits)

    def _resolve_place(self, cc: str, cn: str, dc: str, dn: str):
        """(commune code, district code, [(severity, code, field, value, en, vi)]).

        A valid code wins; a name beside it that means another place is a warning. Without a
        code the name must match the official list (accent-insensitive, within the district).
        """
        ref, out = self.ref, []
        if cn.isdigit() and not cc:
            cc, cn = cn, ""
        if dn.isdigit() and not dc:
            dc, dn = dn, ""
        if cc and not cc.isdigit() and not cn:
            cc, cn = "", cc
        if dc and not dc.isdigit() and not dn:
            dc, dn = "", dc
        district = self._district(dc, dn, out)
        commune = None
        if cc:
            if cc in ref.commune_labels:
                commune = cc
                if cn:
                    match = ref.matcher.match_commune(cn, ref.commune_district[cc])
                    if match.code != cc:
                        label = ref.commune_labels[cc]
                        out.append(
                            (
                                "warning",
                                "place_mismatch",
                                "commune_name",
                                cn,
                                f"the name does not match commune code {label}; the code is used",
                                f"tên không khớp với mã xã {label}; dùng theo mã",
                            )
                        )
            else:
                hint = self._code_suggestions(cc, ref.commune_labels)
                out.append(
                    (
                        "error",
                        "unknown_commune",
                        "commune_code",
                        cc,
                        "unknown commune code" + _did_you_mean(hint, "en"),
                        "mã xã không có trong danh mục" + _did_you_mean(hint, "vi"),
                    )
                )
        elif cn:
            match = self.ref.matcher.match_commune(cn, district)
            if match.code is None:
                hint = "; ".join(match.suggestions)
                en, vi = {
                    "ambiguous": (
                        "several communes have this name; give the district or the commune code",
                        "nhiều xã trùng tên; hãy ghi huyện hoặc mã xã",
                    ),
                    "other_district": (
                        "no commune of this name in the district; it exists in another district",
                        "huyện này không có xã tên này; xã này thuộc huyện khác",
                    ),
                }.get(match.problem, ("unknown commune name", "tên xã không có trong danh mục"))
                out.append(
                    (
                        "error",
                        "unknown_commune",
                        "commune_name",
                        cn,
                        en + _did_you_mean(hint, "en"),
                        vi + _did_you_mean(hint, "vi"),
                    )
                )
            else:
                commune = match.code
        if commune:
            parent = ref.commune_district[commune]
            if district and parent != district:
                field, value = ("commune_code", cc) if cc else ("commune_name", cn)
                out.append(
                    (
                        "error",
                        "place_mismatch",
                        field,
                        value,
                        f"{ref.commune_labels[commune]} is not in " + ref.district_labels[district],
                        f"{ref.commune_labels[commune]} không thuộc "
                        + ref.district_labels[district],
                    )
                )
            district = parent
        return commune, district, out

    def _district(self, dc: str, dn: str, out: list) -> str | None:
        ref = self.ref
        if dc:
            if dc not in ref.district_labels:
                hint = self._code_suggestions(dc, ref.district_labels)
                out.append(
                    (
                        "error",
                        "unknown_district",
                        "district_code",
                        dc,
                        "unknown district code" + _did_you_mean(hint, "en"),
                        "mã huyện không có trong danh mục" + _did_you_mean(hint, "vi"),
                    )
                )
                return None
            if dn:
                match = ref.matcher.match_district(dn)
                if match.code != dc:
                    label = ref.district_labels[dc]
                    out.append(
                        (
                            "warning",
                            "place_mismatch",
                            "district_name",
                            dn,
                            f"the name does not match district code {label}; the code is used",
                            f"tên không khớp với mã huyện {label}; dùng theo mã",
                        )
                    )
            return dc
        if not dn:
            return None
        match = self.ref.matcher.match_district(dn)
        if match.code is None:
            hint = "; ".join(match.suggestions)
            ambiguous = match.problem == "ambiguous"
            en = "ambiguous district name" if ambiguous else "unknown district name"
            vi = "tên huyện không rõ ràng" if ambiguous else "tên huyện không có trong danh mục"
            out.append(
                (
                    "error",
                    "unknown_district",
                    "district_name",
                    dn,
                    en + _did_you_mean(hint, "en"),
                    vi + _did_you_mean(hint, "vi"),
                )
            )
        return match.code


def _did_you_mean(hint: str, lang: str) -> str:
    if not hint:
        return ""
    return f"; gần nhất: {hint}" if lang == "vi" else f"; closest: {hint}"


def _required(ctx: _RowContext, row: Mapping[str, str], field: str, present: bool) -> str:
    value = row.get(field, "")
    if present and not value:
        f = field_of(ctx.kind, field)
        ctx.issue(
            "error",
            "missing_required",
            field,
            "",
            f"required field {f.name} ({f.vi}) is empty",
            f"thiếu trường bắt buộc {f.vi} ({f.name})",
        )
    return value


def _check_date(ctx: _RowContext, field: str, value: str, allow_future: bool = False):
    """(stored ISO date, precision) or None after reporting a problem."""
    parsed = parse_date(value)
    if parsed is None:
        ctx.issue(
            "error",
            "bad_date",
            field,
            value,
            "not a date (use YYYY-MM-DD, DD/MM/YYYY, MM/YYYY or YYYY)",
            "không phải ngày hợp lệ (dùng YYYY-MM-DD, DD/MM/YYYY, MM/YYYY hoặc YYYY)",
        )
        return None
    first, stored, precision = parsed
    if first.year < EARLIEST_YEAR:
        ctx.issue(
            "error",
            "bad_date",
            field,
            value,
            f"date before {EARLIEST_YEAR}",
            f"ngày trước năm {EARLIEST_YEAR}",
        )
        return None
    if first > ctx.checker.ref.today and not allow_future:
        ctx.issue(
            "error",
            "future_date",
            field,
            value,
            f"date lies in the future (today is {ctx.checker.ref.today.isoformat()})",
            f"ngày ở tương lai (hôm nay là {ctx.checker.ref.today.isoformat()})",
        )
        return None
    return stored.isoformat(), precision


def _check_bool(ctx: _RowContext, row: Mapping[str, str], field: str) -> str:
    value = row.get(field, "")
    parsed = parse_bool(value)
    if parsed is None:
        ctx.issue(
            "error",
            "bad_value",
            field,
            value,
            "expected true or false",
            "phải là true/false (có/không)",
        )
        return value
    return "true" if parsed else "false"


def _check_choice(ctx, row, field, aliases, valid, default=""):
    value = row.get(field, "")
    if not value:
        return default
    canonical = _lookup_key(aliases, value)
    if canonical is None:
        hint = ", ".join(valid)
        ctx.issue(
            "error",
            "bad_value",
            field,
            value,
            f"unknown value; valid values: {hint}",
            f"giá trị không hợp lệ; các giá trị hợp lệ: {hint}",
        )
        return value
    return canonical


def _check_product(ctx: _RowContext, row: Mapping[str, str]) -> dict[str, str]:
    present = ctx.columns
    out = {c: row.get(c, "") for c in PRODUCT_COLUMNS}
    out["product_id"] = _required(ctx, row, "product_id", True)
    out["name"] = _required(ctx, row, "name", True)
    stars = row.get("stars", "")
    if not stars:
        _required(ctx, row, "stars", "stars" in present)
    else:
        parsed = parse_stars(stars)
        if parsed is None:
            ctx.issue(
                "error",
                "bad_stars",
                "stars",
                stars,
                "stars must be a whole number from 1 to 5",
                "số sao phải là số nguyên từ 1 đến 5",
            )
        else:
            out["stars"] = str(parsed)
            if parsed < 3:
                ctx.issue(
                    "warning",
                    "low_stars",
                    "stars",
                    stars,
                    "rated below 3 stars: not counted for coverage",
                    "dưới 3 sao: không được tính vào độ phủ",
                )
    g148, g1048 = row.get("group_148", ""), row.get("group_1048", "")
    if g148:
        canonical = parse_group(g148, GROUPS_148, _GROUP_ALIASES_148)
        if canonical is None:
            hint = "; ".join(closest(g148, [g for pair in GROUPS_148 for g in pair]))
            ctx.issue(
                "error",
                "unknown_group",
                "group_148",
                g148,
                "unknown product group" + _did_you_mean(hint, "en"),
                "nhóm sản phẩm không hợp lệ" + _did_you_mean(hint, "vi"),
            )
        else:
            out["group_148"] = canonical
    if g1048:
        canonical = parse_group(g1048, GROUPS_1048)
        if canonical is None:
            hint = "; ".join(closest(g1048, [g for pair in GROUPS_1048 for g in pair]))
            ctx.issue(
                "error",
                "unknown_group",
                "group_1048",
                g1048,
                "unknown product group (QĐ 1048)" + _did_you_mean(hint, "en"),
                "nhóm sản phẩm (QĐ 1048) không hợp lệ" + _did_you_mean(hint, "vi"),
            )
        else:
            out["group_1048"] = canonical
            if not g148:
                out["group_148"] = GROUP_1048_TO_148[canonical]
    if not g148 and not g1048:
        ctx.issue(
            "error",
            "missing_required",
            "group_148",
            "",
            "required field group_148 (Nhóm sản phẩm) is empty",
            "thiếu trường bắt buộc Nhóm sản phẩm (group_148)",
        )
    date_text, year_text = row.get("recognition_date", ""), row.get("recognition_year", "")
    precision_text = row.get("recognition_date_precision", "")
    year = None
    if year_text:
        parsed_year = parse_stars_like_year(year_text)
        if parsed_year is None or not EARLIEST_YEAR <= parsed_year <= ctx.checker.ref.today.year:
            ctx.issue(
                "error",
                "bad_date",
                "recognition_year",
                year_text,
                f"not a year between {EARLIEST_YEAR} and {ctx.checker.ref.today.year}",
                f"không phải năm từ {EARLIEST_YEAR} đến {ctx.checker.ref.today.year}",
            )
        else:
            year = parsed_year
            out["recognition_year"] = str(year)
    if precision_text and precision_text not in DATE_PRECISIONS:
        ctx.issue(
            "error",
            "bad_value",
            "recognition_date_precision",
            precision_text,
            f"valid values: {', '.join(DATE_PRECISIONS)}",
            f"giá trị hợp lệ: {', '.join(DATE_PRECISIONS)}",
        )
        precision_text = ""
    if date_text:
        checked = _check_date(ctx, "recognition_date", date_text)
        if checked is not None:
            stored, precision = checked
            out["recognition_date"] = stored
            given_iso = bool(_ISO_DAY.match(date_text))
            keep = given_iso and precision_text in {"day", "month", "year"}
            out["recognition_date_precision"] = precision_text if keep else precision
            # The year is the evaluation round's; its decision may come early the next year
            # ("2019" round, decision of 2020-01-03), so only a wider gap is questioned.
            if year is not None and abs(int(stored[:4]) - year) > 1:
                ctx.issue(
                    "warning",
                    "year_mismatch",
                    "recognition_year",
                    year_text,
                    f"the year is far from the recognition date {stored}",
                    f"năm cách xa ngày công nhận {stored}",
                )
    elif year is not None:
        out["recognition_date"] = f"{year}-12-31"
        out["recognition_date_precision"] = "year"
    else:
        out["recognition_date_precision"] = precision_text or "unknown"
    if not row.get("producer_id", ""):
        ctx.issue(
            "warning",
            "no_producer",
            "producer_id",
            "",
            "no producer: the product cannot be placed on the map",
            "không có chủ thể: sản phẩm không thể hiện trên bản đồ",
        )
    out["illustrative"] = _check_bool(ctx, row, "illustrative")
    return out


def parse_stars_like_year(text: str) -> int | None:
    """A year written as "2024" or "2024.0"."""
    value = parse_number(text)
    if value is None or not value.is_integer():
        return None
    return int(value)


def _check_located(ctx: _RowContext, row: Mapping[str, str], out: dict[str, str]) -> None:
    """Place (codes from codes or names), coordinates and precision of a producer or outlet."""
    commune, district, problems = ctx.checker.place(
        row.get("commune_code", ""),
        row.get("commune_name", ""),
        row.get("district_code", ""),
        row.get("district_name", ""),
    )
    for severity, code, field, value, en, vi in problems:
        ctx.issue(severity, code, field, value, en, vi)
    out["commune_code"] = commune or ""
    out["district_code"] = district or ""
    lon_text, lat_text = row.get("lon", ""), row.get("lat", "")
    has_point = False
    if lon_text or lat_text:
        lon, lat = parse_number(lon_text), parse_number(lat_text)
        for field, text, value in (("lon", lon_text, lon), ("lat", lat_text, lat)):
            if not text:
                ctx.issue(
                    "error",
                    "bad_coordinates",
                    field,
                    "",
                    "longitude and latitude must be given together",
                    "phải ghi cả kinh độ và vĩ độ",
                )
            elif value is None:
                ctx.issue(
                    "error", "bad_coordinates", field, text, "not a number", "không phải là số"
                )
        if lon is not None and lat is not None:
            if _in_vietnam(lon, lat):
                out["lon"], out["lat"] = format_coordinate(lon), format_coordinate(lat)
                has_point = True
            else:
                swapped = " (longitude and latitude look swapped)" if _in_vietnam(lat, lon) else ""
                swapped_vi = " (có vẻ kinh độ và vĩ độ bị đảo)" if swapped else ""
                ctx.issue(
                    "error",
                    "outside_vietnam",
                    "lon",
                    f"{lon_text}, {lat_text}",
                    "coordinates lie outside Vietnam" + swapped,
                    "toạ độ nằm ngoài Việt Nam" + swapped_vi,
                )
    if not has_point:
        out["lon"], out["lat"] = lon_text, lat_text
    precision_text = row.get("location_precision", "")
    precision = ""
    if precision_text:
        precision = _lookup_key(PRECISION_ALIASES, precision_text) or ""
        if not precision:
            ctx.issue(
                "error",
                "bad_value",
                "location_precision",
                precision_text,
                f"valid values: {', '.join(LOCATION_PRECISIONS)}",
                f"giá trị hợp lệ: {', '.join(LOCATION_PRECISIONS)}",
            )
            precision = precision_text
    if not has_point and precision in {"exact", "address"}:
        precision = ""
    if (precision == "commune" and not commune) or (precision == "district" and not district):
        precision = ""
    if not precision:
        if has_point:
            precision = "exact"
        elif commune:
            precision = "commune"
        elif district:
            precision = "district"
    out["location_precision"] = precision
    if not (commune or district or has_point) and not problems:
        ctx.issue(
            "warning",
            "no_place",
            "district_name",
            "",
            "no commune, district or coordinates: the record will not be on the map",
            "không có xã, huyện hay toạ độ: bản ghi sẽ không hiện trên bản đồ",
        )


def _in_vietnam(lon: float, lat: float) -> bool:
    lon_min, lat_min, lon_max, lat_max = VIETNAM_BOUNDS
    return lon_min <= lon <= lon_max and lat_min <= lat <= lat_max


def _check_producer(ctx: _RowContext, row: Mapping[str, str]) -> dict[str, str]:
    out = {c: row.get(c, "") for c in PRODUCER_COLUMNS}
    out["producer_id"] = _required(ctx, row, "producer_id", True)
    if not row.get("name", ""):
        ctx.issue(
            "warning", "no_name", "name", "", "the producer has no name", "chủ thể không có tên"
        )
    out["producer_type"] = _check_choice(
        ctx,
        row,
        "producer_type",
        PRODUCER_TYPE_ALIASES,
        ("cooperative", "sme", "cooperative_group", "household", "unknown"),
        default="unknown",
    )
    _check_located(ctx, row, out)
    out["sells_on_site"] = _check_bool(ctx, row, "sells_on_site")
    out["illustrative"] = _check_bool(ctx, row, "illustrative")
    return out


def _check_outlet(ctx: _RowContext, row: Mapping[str, str]) -> dict[str, str]:
    out = {c: row.get(c, "") for c in OUTLET_COLUMNS}
    out["outlet_id"] = _required(ctx, row, "outlet_id", True)
    out["name"] = _required(ctx, row, "name", True)
    kind = _required(ctx, row, "kind", True)
    if kind:
        out["kind"] = _check_choice(
            ctx, row, "kind", OUTLET_KIND_ALIASES, ("centre", "sales_point")
        )
    out["status"] = _check_choice(
        ctx,
        row,
        "status",
        OUTLET_STATUS_ALIASES,
        ("open", "planned", "unconfirmed"),
        default="open",
    )
    _check_located(ctx, row, out)
    opened = row.get("opened", "")
    if opened:
        planned = out["status"] == "planned"
        if parse_date(opened) is not None:
            checked = _check_date(ctx, "opened", opened, allow_future=planned)
            if checked is not None:
                stored, precision = checked
                out["opened"] = stored if precision == "day" else opened
        elif re.search(r"\b(19|20)\d{2}\b", opened) and _APPROX_DATE.search(normalize_text(opened)):
            years = [int(y) for y in re.findall(r"\b((?:19|20)\d{2})\b", opened)]
            if min(years) > ctx.checker.ref.today.year and not planned:
                ctx.issue(
                    "error",
                    "future_date",
                    "opened",
                    opened,
                    "date lies in the future",
                    "ngày ở tương lai",
                )
        else:
            _check_date(ctx, "opened", opened)
    out["illustrative"] = _check_bool(ctx, row, "illustrative")
    return out


_CHECKS = {"products": _check_product, "producers": _check_producer, "outlets": _check_outlet}


def map_columns(table: Table, kind: str, report: Report) -> dict[str, int]:
    """Field name -> column index; unknown headers are reported and ignored."""
    by_key: dict[str, str] = {}
    for field in FIELDS[kind]:
        for key in field.keys:
            by_key.setdefault(key, field.name)
    columns: dict[str, int] = {}
    for index, header in enumerate(table.headers):
        if not header:
            continue
        name = by_key.get(normalize_text(header))
        label = f"{table.letters[index]} ({header})" if table.sheet else header
        if name is None:
            report.add(
                Issue(
                    "warning",
                    "unknown_column",
                    table.file,
                    table.sheet,
                    None,
                    label,
                    "",
                    "unknown column: ignored",
                    "cột không xác định: bỏ qua",
                    kind,
                )
            )
        elif name in columns:
            report.add(
                Issue(
                    "error",
                    "duplicate_column",
                    table.file,
                    table.sheet,
                    None,
                    label,
                    "",
                    f"a second column for {name}",
                    f"cột {name} xuất hiện hai lần",
                    kind,
                )
            )
        else:
            columns[name] = index
    for options in REQUIRED_COLUMNS[kind]:
        if not any(o in columns for o in options):
            field = field_of(kind, options[0])
            report.add(
                Issue(
                    "error",
                    "missing_column",
                    table.file,
                    table.sheet,
                    None,
                    f"{field.name} / {field.vi}",
                    "",
                    f"required column {field.name} ({field.vi}) is missing",
                    f"thiếu cột bắt buộc {field.vi} ({field.name})",
                    kind,
                )
            )
    return columns


def _same(column: str, a: str, b: str) -> bool:
    if a == b:
        return True
    if column in {"lon", "lat"}:
        x, y = parse_number(a), parse_number(b)
        return x is not None and y is not None and abs(x - y) < 5e-7
    if column in {"stars", "recognition_year", "source_row"}:
        x, y = parse_number(a), parse_number(b)
        return x is not None and x == y
    if column in {"illustrative", "sells_on_site"}:
        return parse_bool(a) == parse_bool(b) and parse_bool(a) is not None
    return False


def differences(kind: str, new: Mapping[str, str], old: Mapping[str, str]) -> list[str]:
    """Stored columns whose values differ, as "column: old -> new"."""
    out = []
    for column in STORE_COLUMNS[kind]:
        a, b = str(old.get(column, "") or ""), str(new.get(column, "") or "")
        if not _same(column, a, b):
            out.append(f"{column}: {a!r} -> {b!r}")
    return out


def validate(
    tables: Sequence[Table],
    ref: Reference,
    *,
    allow_updates: bool = False,
    progress: ProgressFactory = _no_progress,
    report: Report | None = None,
) -> Validated:
    """Check every row of ``tables`` (kinds already set) against ``ref``.

    Records whose id exists with other content are errors unless ``allow_updates``. Returns
    every issue and, per kind, the canonical records and added/changed/unchanged counts.
    """
    report = report or Report()
    checker = _Checker(ref)
    rows_by_kind: dict[str, list[dict[str, str]]] = {k: [] for k in KINDS}
    total = sum(len(t.rows) for t in tables if t.kind)
    bar = progress(total, "validating")
    try:
        for table in tables:
            if table.kind is None:
                continue
            kind = table.kind
            columns = map_columns(table, kind, report)
            check = _CHECKS[kind]
            for values, number in zip(table.rows, table.row_numbers, strict=True):
                row = {f: (values[i] if i < len(values) else "") for f, i in columns.items()}
                position = len(rows_by_kind[kind])
                ctx = _RowContext(checker, kind, table, columns, number, position)
                record = check(ctx, row)
                record["_file"], record["_sheet"], record["_row"] = (
                    table.file,
                    table.sheet,
                    number,
                )
                record["_given_point"] = "1" if row.get("lon") and row.get("lat") else ""
                record["_present"] = columns  # type: ignore[assignment]
                record["_ctx"] = ctx  # type: ignore[assignment]
                rows_by_kind[kind].append(record)
                bar.update(1)
    finally:
        bar.close()

    records: dict[str, pd.DataFrame] = {}
    counts: dict[str, dict[str, int]] = {}
    import_ids = {k: {r[ID_COLUMN[k]] for r in rows_by_kind[k] if r[ID_COLUMN[k]]} for k in KINDS}
    for kind in KINDS:
        rows = rows_by_kind[kind]
        _check_points(kind, rows, ref)
        statuses = _diff(kind, rows, ref, allow_updates, checker)
        if kind == "products":
            known = import_ids["producers"] | set(ref.existing["producers"].index)
            for position, record in enumerate(rows):
                producer = record["producer_id"]
                if producer and producer not in known and statuses[position] != "unchanged":
                    record["_ctx"].issue(
                        "error",
                        "unknown_producer",
                        "producer_id",
                        producer,
                        "unknown producer: not in this import nor in the loaded data",
                        "chủ thể không tồn tại trong tệp này và trong dữ liệu hiện có",
                    )
        for position, record in enumerate(rows):
            record["_status"] = statuses[position]
            record.pop("_ctx", None)
            record.pop("_present", None)
        frame = pd.DataFrame(
            rows,
            columns=[*STORE_COLUMNS[kind], "_status", "_file", "_sheet", "_row", "_given_point"],
        )
        records[kind] = frame
        kept = frame.loc[frame["_status"] != "duplicate", "_status"]
        counts[kind] = {s: int(kept.eq(s).sum()) for s in ("added", "changed", "unchanged")}

    for kind, position, issue in checker.pending:
        status = records[kind]["_status"].iat[position] if len(records[kind]) > position else ""
        if status == "unchanged" and issue.code not in {"duplicate_id"}:
            continue
        report.add(issue)
    return Validated(report, records, counts)


def _check_points(kind: str, rows: list[dict], ref: Reference) -> None:
    """Coordinates against the stated commune (or district): beyond 2 km an error, within a
    warning; without a stated place, the commune is taken from the point."""
    if kind == "products" or not rows:
        return
    candidates = []
    for position, record in enumerate(rows):
        if not record["_given_point"]:
            continue
        lon, lat = parse_number(record["lon"]), parse_number(record["lat"])
        if lon is None or lat is None or not _in_vietnam(lon, lat):
            continue
        candidates.append((position, lon, lat))
    if not candidates:
        return
    points = gpd.GeoSeries.from_xy(
        [c[1] for c in candidates], [c[2] for c in candidates], crs="EPSG:4326"
    ).to_crs(METRIC_CRS)
    tree = STRtree(ref.communes_metric.values)
    containing = tree.query(points.values, predicate="intersects")
    first_hit: dict[int, str] = {}
    for point_index, shape_index in zip(*containing, strict=True):
        code = ref.communes_metric.index[shape_index]
        if point_index not in first_hit or code < first_hit[point_index]:
            first_hit[point_index] = code
    for i, (position, _lon, _lat) in enumerate(candidates):
        record = rows[position]
        ctx: _RowContext = record["_ctx"]
        commune, district = record["commune_code"], record["district_code"]
        if commune in ref.communes_metric.index:
            shape, label = ref.communes_metric[commune], ref.commune_labels[commune]
        elif district in ref.districts_metric.index:
            shape, label = ref.districts_metric[district], ref.district_labels[district]
        else:
            found = first_hit.get(i)
            if found is not None and not commune and not district:
                record["commune_code"] = found
                record["district_code"] = ref.commune_district[found]
            continue
        distance_m = float(shapely.distance(shape, points.values[i]))
        if distance_m <= 0:
            continue
        value = f"{record['lon']}, {record['lat']}"
        km = f"{distance_m / 1000:.1f}"
        if distance_m > OUTSIDE_ERROR_M:
            ctx.issue(
                "error",
                "outside_commune",
                "lon",
                value,
                f"the point lies {km} km outside {label}",
                f"điểm nằm ngoài {label} {km} km",
            )
        else:
            ctx.issue(
                "warning",
                "outside_commune",
                "lon",
                value,
                f"the point lies {km} km outside {label} (within the 2 km tolerance)",
                f"điểm nằm ngoài {label} {km} km (trong giới hạn 2 km)",
            )


# Stored columns and the file columns that determine them; a stored column none of whose
# sources is in the file keeps its loaded value when a record is updated.
_SOURCES = {
    "group_148": ("group_148", "group_1048"),
    "recognition_date": ("recognition_date", "recognition_year"),
    "recognition_date_precision": (
        "recognition_date",
        "recognition_year",
        "recognition_date_precision",
    ),
    "commune_code": ("commune_code", "commune_name"),
    "district_code": ("district_code", "district_name", "commune_code", "commune_name"),
    "location_precision": (
        "location_precision",
        "lon",
        "lat",
        "commune_code",
        "commune_name",
        "district_code",
        "district_name",
    ),
}


def _keep_absent_columns(kind: str, record: dict, old: pd.Series) -> None:
    present = record.get("_present") or {}
    for column in STORE_COLUMNS[kind]:
        sources = _SOURCES.get(column, (column,))
        if not any(s in present for s in sources):
            record[column] = str(old.get(column, "") or "")


def _diff(
    kind: str, rows: list[dict], ref: Reference, allow_updates: bool, checker: _Checker
) -> list[str]:
    """Status of each row: added, changed, unchanged or duplicate (a repeated id)."""
    id_column = ID_COLUMN[kind]
    existing = ref.existing[kind]
    first_row: dict[str, dict] = {}
    statuses = []
    for record in rows:
        record_id = record[id_column]
        if not record_id:
            statuses.append("invalid")
            continue
        if record_id in first_row:
            earlier = first_row[record_id]
            where = f"{earlier['_file']}" + (f" [{earlier['_sheet']}]" if earlier["_sheet"] else "")
            record["_ctx"].issue(
                "error",
                "duplicate_id",
                id_column,
                record_id,
                f"duplicate id: also in {where} row {earlier['_row']}",
                f"mã bị trùng: đã có ở {where} dòng {earlier['_row']}",
            )
            statuses.append("duplicate")
            continue
        first_row[record_id] = record
        if record_id not in existing.index:
            statuses.append("added")
            continue
        old = existing.loc[record_id]
        _keep_absent_columns(kind, record, old)
        if kind != "products" and not record["_given_point"] and not record["lon"]:
            same_place = all(
                str(old.get(c, "")) == record[c]
                for c in ("commune_code", "district_code", "location_precision")
            )
            if same_place:
                record["lon"], record["lat"] = str(old.get("lon", "")), str(old.get("lat", ""))
        changed = differences(kind, record, old.to_dict())
        if not changed:
            statuses.append("unchanged")
            continue
        statuses.append("changed")
        if not allow_updates:
            shown = "; ".join(changed[:3]) + (" ..." if len(changed) > 3 else "")
            record["_ctx"].issue(
                "error",
                "duplicate_id",
                id_column,
                record_id,
                f"this id already exists with different content ({shown}); allow updates to "
                "replace it",
                f"mã này đã có với nội dung khác ({shown}); hãy cho phép cập nhật để thay thế",
            )
    return statuses


def place_missing_points(
    kind: str, records: pd.DataFrame, existing: pd.DataFrame, ref: Reference
) -> pd.DataFrame:
    """Give records without coordinates an approximate point inside their commune (or
    district) that no loaded record of the same polygon already uses (EPSG:4326, 6 decimals).
    """
    if kind == "products" or records.empty:
        return records
    out = records.copy()
    need = out["lon"].eq("") & out["_status"].isin(["added", "changed"])
    groups: dict[tuple[str, str], list[int]] = {}
    for index in out.index[need]:
        precision = out.at[index, "location_precision"]
        code = (
            out.at[index, "commune_code"]
            if precision == "commune"
            else out.at[index, "district_code"]
        )
        if precision in {"commune", "district"} and code:
            groups.setdefault((precision, code), []).append(index)
    for (precision, code), indices in sorted(groups.items()):
        shapes = ref.communes if precision == "commune" else ref.districts
        if code not in shapes.index:
            continue
        column = "commune_code" if precision == "commune" else "district_code"
        taken = set()
        for frame in (existing, out.loc[~need]):
            if len(frame) and column in frame:
                same = frame.loc[frame[column].eq(code)]
                taken |= {(str(a), str(b)) for a, b in zip(same["lon"], same["lat"], strict=True)}
        taken_xy = {
            (round(float(a), 6), round(float(b), 6))
            for a, b in taken
            if parse_number(a) is not None and parse_number(b) is not None
        }
        try:
            points = place_in_polygon(shapes[code], len(indices) + len(taken_xy), decimals=6)
        except PlacementError:
            continue
        free = [p for p in points if (round(p.x, 6), round(p.y, 6)) not in taken_xy]
        for index, point in zip(indices, free, strict=False):
            out.at[index, "lon"] = format_coordinate(point.x)
            out.at[index, "lat"] = format_coordinate(point.y)
    return out


def as_frames(validated: Validated) -> dict[str, pd.DataFrame]:
    """The records without helper columns (store columns only), added and changed rows."""
    return {
        kind: frame.loc[frame["_status"].isin(["added", "changed"]), list(STORE_COLUMNS[kind])]
        for kind, frame in validated.records.items()
    }


def numeric_or_nan(values: Iterable[str]) -> np.ndarray:
    return np.array([parse_number(v) if v else np.nan for v in values], dtype=float)
