"""Vietnamese place-name normalisation and matching of (commune, district) names to GSO codes.

Pure functions, no I/O. ``normalize_text`` is the general search key (lower case, no diacritics,
"đ" -> "d", punctuation and runs of spaces collapsed to one space). ``normalize_place_name``
additionally drops parenthesised remarks and a leading administrative prefix ("P.", "Phường",
"TT.", "Thị trấn", "Xã", "TP.", "Thành phố", "TX.", "Thị xã", "H.", "Huyện", "Q.", "Quận").

``NameMatcher`` resolves a raw (commune name, district name) pair to codes. It tries, in order:
an explicit override, the name with its diacritics (insensitive to where the tone mark sits,
"Hoà" = "Hòa"), the name before a renaming, then the name without diacritics. A commune is
searched within its district when the district is known. Ambiguous or unknown names are not
guessed: they come back unmatched with the closest official names as suggestions.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from typing import Literal

# Vietnamese tone marks as combining characters: grave, acute, tilde, hook above, dot below.
_TONE_MARKS = {"\u0300": "2", "\u0301": "1", "\u0303": "4", "\u0309": "3", "\u0323": "5"}

_REMARK = re.compile(r"\([^)]*\)?|\[[^\]]*\]?")
_ADMIN_PREFIX = re.compile(
    r"^\s*(?:"
    r"(?:tp|tx|tt|p|h|q)\s*\.\s*"  # abbreviations need their dot: "P Rao" is a name
    r"|(?:phường|thị\s+trấn|xã|thành\s+phố|thị\s+xã|huyện|quận)(?:\s+|$)"
    r")",
    re.IGNORECASE,
)
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)
# The same words typed without diacritics ("Xa Tam Thanh"). Only tried when the name as given
# matches nothing, since a bare word like "xa" could begin a real name.
_UNACCENTED_PREFIX = re.compile(
    r"^\s*(?:xa|phuong|thi tran|huyen|thi xa|thanh pho|quan|tt|tp|tx)\s+", re.IGNORECASE
)


def _retry_without_unaccented_prefix(
    match: Callable[[str | None], NameMatch], raw: str | None
) -> NameMatch:
    """``match(raw)``, or ``match`` of ``raw`` without an unaccented prefix if that finds it."""
    first = match(raw)
    bare = _UNACCENTED_PREFIX.sub("", raw or "", count=1).strip()
    if first.code is not None or not bare or bare == (raw or "").strip():
        return first
    retry = match(bare)
    return retry if retry.code is not None else first


def _nfc_lower(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


def strip_diacritics(text: str) -> str:
    """Remove every combining mark and map "đ"/"Đ" to "d"/"D" ("Đảng sâm" -> "Dang sam")."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def normalize_text(text: str | None) -> str:
    """Search key: lower case, no diacritics, punctuation and spaces collapsed to one space.

    >>> normalize_text("  Đảng sâm, Tây-Giang! ")
    'dang sam tay giang'
    """
    if not text:
        return ""
    folded = strip_diacritics(_nfc_lower(str(text)))
    return _NOT_WORD.sub(" ", folded).strip()


def strip_remarks(text: str) -> str:
    """Drop parenthesised or bracketed remarks: "Duy Hải (thôn An Lương)" -> "Duy Hải"."""
    return " ".join(_REMARK.sub(" ", text).split())


def strip_admin_prefix(text: str) -> str:
    """Drop one leading administrative prefix: "TT. Tiên Kỳ" -> "Tiên Kỳ", "Xã Tư" -> "Tư"."""
    return _ADMIN_PREFIX.sub("", unicodedata.normalize("NFC", text), count=1).strip()


def clean_place_name(text: str | None) -> str:
    """The name part of a raw place string, diacritics kept: "P. Sơn Phong (x)" -> "Sơn Phong"."""
    if not text:
        return ""
    return strip_admin_prefix(strip_remarks(str(text)))


def normalize_place_name(text: str | None) -> str:
    """Accent- and prefix-insensitive key of a place name: "TP. Hội An" -> "hoi an"."""
    return normalize_text(clean_place_name(text))


def accented_place_key(text: str | None) -> str:
    """Key that keeps diacritics but not the tone mark's position: "Hoà" and "Hòa" agree.

    Each syllable becomes its letters (with circumflex, breve and horn kept) plus a tone digit,
    so "Tam Dân" and "Tam Đàn" stay different while case and spacing do not matter.
    """
    name = clean_place_name(text)
    if not name:
        return ""
    words = []
    for word in _NOT_WORD.sub(" ", _nfc_lower(name)).split():
        tone = ""
        kept = []
        for ch in unicodedata.normalize("NFD", word):
            if ch in _TONE_MARKS:
                tone = _TONE_MARKS[ch]
            else:
                kept.append(ch)
        words.append(unicodedata.normalize("NFC", "".join(kept)) + tone)
    return " ".join(words)


@dataclasses.dataclass(frozen=True)
class District:
    """One district of the official list."""

    code: str
    name: str
    full_name: str = ""


@dataclasses.dataclass(frozen=True)
class Commune:
    """One commune of the official list; ``former_names`` are names before a renaming."""

    code: str
    name: str
    district_code: str
    full_name: str = ""
    former_names: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.full_name or self.name} ({self.code})"


@dataclasses.dataclass(frozen=True)
class NameOverride:
    """An explicit decision for a name the rules cannot (or must not) resolve on their own.

    ``district_name`` may be empty: the override then applies whatever district is given.
    """

    raw_name: str
    district_name: str
    commune_code: str
    reason: str


MatchMethod = Literal["", "override", "exact", "former_name", "accent_insensitive", "from_commune"]
KeyFunction = Callable[[str | None], str]
Problem = Literal["", "not_found", "ambiguous", "other_district", "no_name"]


@dataclasses.dataclass(frozen=True)
class NameMatch:
    """Result of matching one name: a code, or a problem and suggestions."""

    code: str | None
    method: MatchMethod = ""
    problem: Problem = ""
    suggestions: tuple[str, ...] = ()
    note: str = ""


@dataclasses.dataclass(frozen=True)
class PlaceMatch:
    """Result of matching a (commune, district) pair."""

    commune: NameMatch
    district: NameMatch

    @property
    def commune_code(self) -> str | None:
        return self.commune.code

    @property
    def district_code(self) -> str | None:
        return self.district.code

    @property
    def precision(self) -> Literal["commune", "district", "none"]:
        if self.commune.code:
            return "commune"
        if self.district.code:
            return "district"
        return "none"


_NO_NAME = NameMatch(None)


class NameMatcher:
    """Resolves raw commune and district names to GSO codes of one official list."""

    def __init__(
        self,
        communes: Iterable[Commune],
        districts: Iterable[District],
        overrides: Iterable[NameOverride] = (),
        *,
        n_suggestions: int = 3,
    ) -> None:
        self.communes: dict[str, Commune] = {c.code: c for c in communes}
        self.districts: dict[str, District] = {d.code: d for d in districts}
        self.n_suggestions = n_suggestions
        for commune in self.communes.values():
            if commune.district_code not in self.districts:
                raise ValueError(
                    f"commune {commune.code} names unknown district {commune.district_code}"
                )
        # (name key, district code or "" for any district) -> override
        self.overrides: dict[tuple[str, str], NameOverride] = {}
        for override in overrides:
            self._add_override(override)

    def _add_override(self, override: NameOverride) -> None:
        commune = self.communes.get(override.commune_code)
        if commune is None:
            raise ValueError(
                f"override {override.raw_name!r} points to unknown commune {override.commune_code}"
            )
        district_code = ""
        if normalize_place_name(override.district_name):
            district = self.match_district(override.district_name)
            if district.code != commune.district_code:
                raise ValueError(
                    f"override {override.raw_name!r}: commune {commune.code} is not in district "
                    f"{override.district_name!r}"
                )
            district_code = commune.district_code
        key = (normalize_place_name(override.raw_name), district_code)
        if not key[0]:
            raise ValueError(f"override has an empty name: {override!r}")
        self.overrides[key] = override

    # -- districts -----------------------------------------------------------------------------

    def match_district(self, raw: str | None) -> NameMatch:
        """Resolve a district name ("TP. Hội An", "Huyện Tây Giang", "Huyen Tay Giang")."""
        return _retry_without_unaccented_prefix(self._match_district_as_given, raw)

    def _match_district_as_given(self, raw: str | None) -> NameMatch:
        if not raw or not raw.strip():
            return _NO_NAME
        folded = normalize_place_name(raw)
        if not folded:
            return NameMatch(None, problem="no_name", note="only a remark, no district name")
        rules: tuple[tuple[MatchMethod, KeyFunction], ...] = (
            ("exact", accented_place_key),
            ("accent_insensitive", normalize_place_name),
        )
        for method, key_of in rules:
            key = key_of(raw)
            hits = sorted(
                d.code
                for d in self.districts.values()
                if key in {key_of(d.name), key_of(d.full_name)}
            )
            if len(hits) == 1:
                return NameMatch(hits[0], method=method)
            if len(hits) > 1:
                labels = tuple(self._district_label(code) for code in hits)
                return NameMatch(None, problem="ambiguous", suggestions=labels)
        choices = {normalize_place_name(d.name): d.code for d in self.districts.values()}
        close = difflib.get_close_matches(folded, list(choices), n=self.n_suggestions, cutoff=0.6)
        labels = tuple(self._district_label(choices[key]) for key in close)
        return NameMatch(None, problem="not_found", suggestions=labels)

    def _district_label(self, code: str) -> str:
        district = self.districts[code]
        return f"{district.full_name or district.name} ({code})"

    # -- communes ------------------------------------------------------------------------------

    def _in_scope(self, district_code: str | None) -> list[Commune]:
        return [
            c
            for c in self.communes.values()
            if district_code is None or c.district_code == district_code
        ]

    @staticmethod
    def _current_keys(commune: Commune, key_of: KeyFunction) -> set[str]:
        return {k for k in (key_of(commune.name), key_of(commune.full_name)) if k}

    @staticmethod
    def _former_keys(commune: Commune, key_of: KeyFunction) -> set[str]:
        return {k for k in (key_of(n) for n in commune.former_names) if k}

    def _find(self, scope: Sequence[Commune], raw: str) -> tuple[list[Commune], MatchMethod]:
        """Candidates by the first rule that finds any: exact, former name, accent-insensitive."""
        exact = accented_place_key(raw)
        folded = normalize_place_name(raw)
        hits = [c for c in scope if exact in self._current_keys(c, accented_place_key)]
        if hits:
            return hits, "exact"
        hits = [c for c in scope if exact in self._former_keys(c, accented_place_key)]
        if hits:
            return hits, "former_name"
        hits = [
            c
            for c in scope
            if folded
            in self._current_keys(c, normalize_place_name)
            | self._former_keys(c, normalize_place_name)
        ]
        return hits, ("accent_insensitive" if hits else "")

    def _suggest(self, scope: Sequence[Commune], folded: str) -> tuple[str, ...]:
        choices: dict[str, list[Commune]] = {}
        for commune in scope:
            for key in self._current_keys(commune, normalize_place_name) | self._former_keys(
                commune, normalize_place_name
            ):
                choices.setdefault(key, []).append(commune)
        close = difflib.get_close_matches(folded, list(choices), n=self.n_suggestions, cutoff=0.6)
        labels: list[str] = []
        for key in close:
            for commune in choices[key]:
                if commune.label not in labels:
                    labels.append(commune.label)
        return tuple(labels[: self.n_suggestions])

    def match_commune(self, raw: str | None, district_code: str | None = None) -> NameMatch:
        """Resolve a commune name, within ``district_code`` when it is given."""
        return _retry_without_unaccented_prefix(
            lambda name: self._match_commune_as_given(name, district_code), raw
        )

    def _match_commune_as_given(
        self, raw: str | None, district_code: str | None = None
    ) -> NameMatch:
        if not raw or not raw.strip():
            return _NO_NAME
        folded = normalize_place_name(raw)
        if not folded:
            return NameMatch(None, problem="no_name", note="only a remark, no commune name")
        if district_code is not None and district_code not in self.districts:
            raise ValueError(f"unknown district code {district_code}")
        override = self.overrides.get((folded, district_code or "")) or self.overrides.get(
            (folded, "")
        )
        if override is not None:
            commune = self.communes[override.commune_code]
            if district_code is None or commune.district_code == district_code:
                return NameMatch(commune.code, method="override", note=override.reason)
        scope = self._in_scope(district_code)
        hits, method = self._find(scope, raw)
        if len(hits) == 1:
            note = ""
            if method == "former_name":
                note = f"former name of {hits[0].label}"
            return NameMatch(hits[0].code, method=method, note=note)
        if len(hits) > 1:
            return NameMatch(
                None,
                problem="ambiguous",
                suggestions=tuple(c.label for c in hits),
                note="several communes share this name; add an override",
            )
        if district_code is not None:
            elsewhere, _ = self._find(self._in_scope(None), raw)
            if elsewhere:
                return NameMatch(
                    None,
                    problem="other_district",
                    suggestions=tuple(c.label for c in elsewhere),
                    note="a commune of this name exists, but in another district",
                )
        return NameMatch(None, problem="not_found", suggestions=self._suggest(scope, folded))

    def match(self, commune_name: str | None, district_name: str | None) -> PlaceMatch:
        """Resolve a (commune, district) pair; the commune is searched within its district.

        When the district is missing or not understood but the commune is unique in the whole
        list, the district code follows from the commune (method ``from_commune``); a district
        name that was given and not understood keeps its ``problem`` so it can be reported.
        """
        district = self.match_district(district_name)
        commune = self.match_commune(commune_name, district.code)
        if district.code is None and commune.code is not None:
            district = dataclasses.replace(
                district,
                code=self.communes[commune.code].district_code,
                method="from_commune",
                note="district taken from the commune",
            )
        return PlaceMatch(commune, district)
