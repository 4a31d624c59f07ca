"""Accent-insensitive search: the issue's examples, their English-keyboard forms, ranking."""

from __future__ import annotations

import unicodedata

import pytest

from geoapp.domain.search import SearchEntry, SearchIndex, match_score


def entries() -> list[SearchEntry]:
    return [
        SearchEntry("district", "503", "Thành phố Hội An", ("Hội An",), 15.88, 108.33),
        SearchEntry("commune", "20401", "Phường Hội An Đông", ("Hội An Đông",), 15.89, 108.35),
        SearchEntry("commune", "20402", "Phường Hội An Tây", ("Hội An Tây",), 15.88, 108.30),
        SearchEntry("district", "514", "Huyện Bắc Trà My", ("Bắc Trà My",), 15.2, 108.2),
        SearchEntry("district", "515", "Huyện Nam Trà My", ("Nam Trà My",), 15.0, 108.1),
        SearchEntry("commune", "20500", "Thị trấn Trà My", ("Trà My",), 15.34, 108.23),
        SearchEntry("commune", "20510", "Xã Trà Mai", ("Trà Mai",), 15.1, 108.1),
        SearchEntry("product", "P1", "Đảng sâm", (), 15.1, 107.9),
        SearchEntry("product", "P2", "Đảng sâm Ngọc Linh sấy khô", (), 15.1, 107.9),
        SearchEntry("product", "P3", "Rượu đảng sâm", (), 15.2, 107.8),
        SearchEntry("product", "P4", "Trà dây", (), 15.2, 107.8),
        SearchEntry(
            "outlet",
            "S01",
            "Trung tâm OCOP thành phố Hội An",
            ("72 Nguyễn Thái Học",),
            15.877,
            108.328,
        ),
        SearchEntry("producer", "PR1", "HTX Nông nghiệp Đại Lộc", (), 15.8, 108.1),
        SearchEntry("product", "P5", "Dầu lạc", (), None, None),
    ]


@pytest.fixture(scope="module")
def index() -> SearchIndex:
    return SearchIndex(entries())


def ids(hits) -> list[str]:
    return [h.entry.id for h in hits]


@pytest.mark.parametrize("query", ["hoi an", "Hoi An", "HOI AN", "Hội An", "hội an", " hoi   an "])
def test_hoi_an_finds_hoi_an_first(index, query):
    hits = index.search(query)
    assert ids(hits)[0] == "503"  # exact name, and districts come first on equal scores
    assert {"503", "20401", "20402", "S01"} <= set(ids(hits))


def test_decomposed_unicode_input_matches(index):
    query = unicodedata.normalize("NFD", "Hội An")
    assert ids(index.search(query))[0] == "503"


@pytest.mark.parametrize("query", ["tra my", "Trà My", "TRA MY", "tra-my"])
def test_tra_my_finds_both_districts(index, query):
    found = ids(index.search(query))
    assert {"514", "515"} <= set(found)
    assert found[0] == "20500"  # the exact "Trà My" before the districts that contain it
    assert "20510" not in found  # "Trà Mai" is not "Trà My"


@pytest.mark.parametrize("query", ["dang sam", "Đảng sâm", "đảng sâm", "DANG SAM", "dảng sam"])
def test_dang_sam_finds_the_product_with_d_for_dj(index, query):
    found = ids(index.search(query))
    assert found[:3] == ["P1", "P2", "P3"]  # exact, then prefix, then inside the name


def test_exact_before_prefix_before_word_before_substring():
    exact = match_score("tra my", "tra my")
    prefix = match_score("tra my", "tra my ha")
    words = match_score("tra my", "bac tra my")
    midword = match_score("tra m", "tra mai")
    word_start = match_score("tra m", "bac tra mai")
    inside = match_score("ra my", "tra my")
    any_order = match_score("my tra", "bac tra my")
    assert exact > prefix > words > midword > word_start > inside > any_order > 0
    assert match_score("tra my", "tra mai") == 0
    assert match_score("", "tra my") == 0


def test_shorter_name_wins_within_a_tier(index):
    hits = index.search("hoi an d")
    assert ids(hits)[0] == "20401"
    found = ids(index.search("hoi an"))
    assert found.index("20401") < found.index("S01")  # prefix of name before words inside


def test_aliases_are_searched_and_limit_and_types_apply(index):
    assert ids(index.search("nguyen thai hoc")) == ["S01"]
    assert len(index.search("a", limit=3)) == 3
    # Both are prefix matches: the shorter name ("Hội An Tây") covers more of the query.
    assert ids(index.search("hoi an", types=("commune",))) == ["20402", "20401"]


def test_queries_without_letters_or_matches_find_nothing(index):
    assert index.search("!!!") == []
    assert index.search("xyzzy") == []


def test_entries_without_location_are_kept(index):
    hit = index.search("dau lac")[0]
    assert hit.entry.id == "P5" and hit.entry.lat is None
