"""Accent-insensitive name search over places and products (pure, no I/O).

Names are compared through ``normalize_text`` (lower case, no diacritics, "đ" -> "d",
punctuation folded to spaces), so "hoi an" finds "Hội An", "tra my" finds "Bắc Trà My" and
"dang sam" finds "Đảng sâm". Each entry can carry several names (a commune's short and full name,
"Hội An" and "Thành phố Hội An"); the best of them counts.

Scores (higher first), from the kind of match between the query key ``q`` and a name key:

=====  ==========================================================================
1.0    exact: the name is ``q``
0.9    prefix: the name starts with ``q`` at a word boundary ("dang sam ngoc linh")
0.8    whole words inside the name ("bac tra my" for "tra my")
0.7    starts with ``q`` mid-word ("dang sa" -> "dang sam")
0.6    a word of the name starts with ``q`` ("tra m" -> "bac tra my")
0.5    ``q`` appears anywhere in the name
0.4    every word of ``q`` starts a word of the name, in any order ("my tra")
=====  ==========================================================================

Within a tier, a name the query covers more of scores slightly higher (up to +0.05), so "Hội An"
comes before "Hội An Đông" for the same prefix. Locations are WGS 84 degrees (EPSG:4326).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any

from geoapp.domain.names import normalize_text

MAX_QUERY_LENGTH = 100
# Result types in the order they come when scores tie.
TYPE_ORDER = ("district", "commune", "outlet", "producer", "product")


@dataclasses.dataclass(frozen=True)
class SearchEntry:
    """One searchable thing: its type, id, display name, other names and location (degrees)."""

    type: str
    id: str
    name: str
    aliases: tuple[str, ...] = ()
    lat: float | None = None
    lon: float | None = None
    extra: tuple[tuple[str, Any], ...] = ()


@dataclasses.dataclass(frozen=True)
class SearchHit:
    """An entry and its score in ``(0, 1.05]``."""

    entry: SearchEntry
    score: float


def _tier(query: str, key: str) -> float:
    if not key or not query:
        return 0.0
    if key == query:
        return 1.0
    if key.startswith(query):
        return 0.9 if key[len(query)] == " " else 0.7
    padded = f" {key} "
    if f" {query} " in padded:
        return 0.8
    if f" {query}" in padded:
        return 0.6
    if query in key:
        return 0.5
    words = key.split()
    if all(any(w.startswith(t) for w in words) for t in query.split()):
        return 0.4
    return 0.0


def match_score(query_key: str, name_key: str) -> float:
    """Score of one normalised name against one normalised query (0 = no match)."""
    tier = _tier(query_key, name_key)
    if tier == 0.0:
        return 0.0
    coverage = min(1.0, len(query_key) / max(len(name_key), 1))
    return round(tier + 0.05 * coverage, 4)


class SearchIndex:
    """Normalised names of every entry, searched by ``search``."""

    def __init__(self, entries: Iterable[SearchEntry]) -> None:
        self.entries: list[SearchEntry] = []
        self.keys: list[tuple[str, ...]] = []
        for entry in entries:
            keys = tuple(
                dict.fromkeys(k for k in map(normalize_text, (entry.name, *entry.aliases)) if k)
            )
            if keys:
                self.entries.append(entry)
                self.keys.append(keys)

    def __len__(self) -> int:
        return len(self.entries)

    def search(
        self, query: str, limit: int = 10, types: Sequence[str] | None = None
    ) -> list[SearchHit]:
        """The best ``limit`` matches for ``query``: score, then type order, then name."""
        query_key = normalize_text(query)
        if not query_key:
            return []
        hits: list[SearchHit] = []
        for entry, keys in zip(self.entries, self.keys, strict=True):
            if types is not None and entry.type not in types:
                continue
            score = max(match_score(query_key, key) for key in keys)
            if score > 0:
                hits.append(SearchHit(entry, score))
        rank = {t: i for i, t in enumerate(TYPE_ORDER)}
        hits.sort(
            key=lambda h: (
                -h.score,
                rank.get(h.entry.type, len(rank)),
                normalize_text(h.entry.name),
                h.entry.id,
            )
        )
        return hits[:limit]
