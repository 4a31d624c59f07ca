"""Name normalisation and the (commune, district) -> code matcher, on a literal code list."""

from __future__ import annotations

import pytest

from geoapp.domain.names import (
    Commune,
    District,
    NameMatcher,
    NameOverride,
    accented_place_key,
    normalize_place_name,
    normalize_text,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Đảng sâm", "dang sam"),
        ("ĐẢNG SÂM", "dang sam"),
        ("  Trà   túi-lọc,  chè dây! ", "tra tui loc che day"),
        ("Quế Xuân 1", "que xuan 1"),
        ("Ch'ơm", "ch om"),
        ("", ""),
        (None, ""),
    ],
)
def test_normalize_text(raw, expected):
    assert normalize_text(raw) == expected


def test_normalize_text_is_insensitive_to_unicode_composition():
    composed = "Hội An"
    decomposed = "Ho\u0302\u0323i An"
    assert composed != decomposed
    assert normalize_text(composed) == normalize_text(decomposed) == "hoi an"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("P. Sơn Phong", "son phong"),
        ("Phường Sơn Phong", "son phong"),
        ("TP. Hội An", "hoi an"),
        ("Thành phố Hội An", "hoi an"),
        ("TT. Tiên Kỳ", "tien ky"),
        ("Thị trấn Tiên Kỳ", "tien ky"),
        ("TX. Điện Bàn", "dien ban"),
        ("Thị xã Điện Bàn", "dien ban"),
        ("H. Tây Giang", "tay giang"),
        ("Huyện Tây Giang", "tay giang"),
        ("Q. Hải Châu", "hai chau"),
        ("Xã Tư", "tu"),
        ("Quế Xuân 1", "que xuan 1"),
        ("Duy Hải (thôn An Lương)", "duy hai"),
        ("TT. Nam Phước (khối phố Mỹ Hòa)", "nam phuoc"),
        ("(thôn Đông Yên; commune not stated)", ""),
        # Without its dot "P" is part of a name, not the ward prefix.
        ("Thị trấn P Rao", "p rao"),
        ("P Rao", "p rao"),
        # Only a leading prefix is removed.
        ("Xuân Phường", "xuan phuong"),
    ],
)
def test_normalize_place_name(raw, expected):
    assert normalize_place_name(raw) == expected


def test_accented_key_ignores_tone_position_but_keeps_diacritics():
    assert accented_place_key("Phước Hoà") == accented_place_key("Phước Hòa")
    assert accented_place_key("Xã Tam Dân") == accented_place_key("tam dân")
    assert accented_place_key("Tam Dân") != accented_place_key("Tam Đàn")
    assert normalize_place_name("Tam Dân") == normalize_place_name("Tam Đàn")


# A literal code list: two districts; "Tam Dân"/"Tam Đàn" differ only by diacritics,
# "Bình An" exists in both districts, "Trung Phước" was called "Quế Trung" before a renaming.
DISTRICTS = [District("101", "Tây", "Huyện Tây"), District("102", "Đông", "Thị xã Đông")]
COMMUNES = [
    Commune("10001", "Tam Dân", "101", "Xã Tam Dân"),
    Commune("10002", "Tam Đàn", "101", "Xã Tam Đàn"),
    Commune("10003", "Sơn Phong", "102", "Phường Sơn Phong"),
    Commune("10004", "Trung Phước", "102", "Thị trấn Trung Phước", ("Xã Quế Trung",)),
    Commune("10005", "Bình An", "101", "Xã Bình An"),
    Commune("10006", "Bình An", "102", "Xã Bình An"),
    Commune("10007", "Quế Xuân 1", "102", "Xã Quế Xuân 1"),
    Commune("10008", "Quế Xuân 2", "102", "Xã Quế Xuân 2"),
]


@pytest.fixture()
def matcher() -> NameMatcher:
    return NameMatcher(COMMUNES, DISTRICTS)


def test_district_by_name_prefix_and_without_accents(matcher):
    assert matcher.match_district("Huyện Tây").code == "101"
    assert matcher.match_district("H. Tây").code == "101"
    assert matcher.match_district("TX. Đông").code == "102"
    assert matcher.match_district("dong").code == "102"
    assert matcher.match_district("").code is None
    unknown = matcher.match_district("Huyện Bắc")
    assert unknown.code is None
    assert unknown.problem == "not_found"


def test_commune_within_its_district(matcher):
    place = matcher.match("P. Sơn Phong", "TX. Đông")
    assert (place.commune_code, place.district_code, place.precision) == (
        "10003",
        "102",
        "commune",
    )
    assert place.commune.method == "exact"


def test_diacritics_decide_between_names_that_differ_only_by_them(matcher):
    assert matcher.match("Tam Dân", "Tây").commune_code == "10001"
    assert matcher.match("Xã Tam Đàn", "Huyện Tây").commune_code == "10002"


def test_accent_insensitive_match_when_unique(matcher):
    place = matcher.match("son phong", "Dong")
    assert place.commune_code == "10003"
    assert place.commune.method == "accent_insensitive"


def test_administrative_words_typed_without_accents(matcher):
    assert matcher.match_district("Huyen Tay").code == "101"
    assert matcher.match_district("Thi xa Dong").code == "102"
    assert matcher.match_commune("Phuong Son Phong", "102").code == "10003"
    assert matcher.match_commune("Xa Nowhere", "102").code is None


def test_numbered_communes_stay_apart(matcher):
    assert matcher.match("Quế Xuân 1", "Đông").commune_code == "10007"
    assert matcher.match("Que Xuan 2", "Đông").commune_code == "10008"


def test_old_and_new_names_of_a_renamed_commune(matcher):
    old = matcher.match("Quế Trung", "Đông")
    new = matcher.match("TT. Trung Phước", "Đông")
    assert old.commune_code == new.commune_code == "10004"
    assert old.commune.method == "former_name"
    assert new.commune.method == "exact"


def test_ambiguous_without_accents_is_not_guessed(matcher):
    place = matcher.match("Tam Dan", "Tây")
    assert place.commune_code is None
    assert place.commune.problem == "ambiguous"
    assert set(place.commune.suggestions) == {"Xã Tam Dân (10001)", "Xã Tam Đàn (10002)"}
    # The district is still known: the record keeps district precision.
    assert (place.district_code, place.precision) == ("101", "district")


def test_override_resolves_an_ambiguous_name():
    override = NameOverride("Tam Dan", "Tây", "10002", "checked on the decision annex")
    matcher = NameMatcher(COMMUNES, DISTRICTS, [override])
    place = matcher.match("Tam Dan (thôn X)", "Huyện Tây")
    assert place.commune_code == "10002"
    assert place.commune.method == "override"
    assert place.commune.note == "checked on the decision annex"
    # The override is tied to its district: elsewhere the name is simply not found.
    assert matcher.match("Tam Dan", "Đông").commune_code is None


def test_invalid_overrides_are_refused():
    with pytest.raises(ValueError, match="unknown commune"):
        NameMatcher(COMMUNES, DISTRICTS, [NameOverride("X", "Tây", "99999", "")])
    with pytest.raises(ValueError, match="not in district"):
        NameMatcher(COMMUNES, DISTRICTS, [NameOverride("X", "Đông", "10001", "")])


def test_same_name_in_two_districts(matcher):
    assert matcher.match("Bình An", "Tây").commune_code == "10005"
    assert matcher.match("Bình An", "Đông").commune_code == "10006"
    without_district = matcher.match("Bình An", "")
    assert without_district.commune_code is None
    assert without_district.commune.problem == "ambiguous"
    assert without_district.precision == "none"


def test_district_follows_from_a_unique_commune(matcher):
    place = matcher.match("Sơn Phong", "")
    assert (place.commune_code, place.district_code) == ("10003", "102")
    assert place.district.method == "from_commune"
    assert place.district.problem == ""


def test_commune_of_another_district_is_reported_not_moved(matcher):
    place = matcher.match("Tam Dân", "Đông")
    assert place.commune_code is None
    assert place.district_code == "102"
    assert place.commune.problem == "other_district"
    assert place.commune.suggestions == ("Xã Tam Dân (10001)",)


def test_unknown_name_gets_the_closest_names_as_suggestions(matcher):
    place = matcher.match("Sơn Phonh", "Đông")
    assert place.commune_code is None
    assert place.commune.problem == "not_found"
    assert place.commune.suggestions[0] == "Phường Sơn Phong (10003)"
    nothing_close = matcher.match("Zzzz", "Đông")
    assert nothing_close.commune.suggestions == ()


def test_remark_only_and_empty_commune(matcher):
    remark = matcher.match("(thôn Đông Yên; commune not stated)", "Đông")
    assert remark.commune.problem == "no_name"
    assert remark.precision == "district"
    empty = matcher.match("", "Đông")
    assert empty.commune.problem == ""
    assert empty.precision == "district"
    assert matcher.match("", "").precision == "none"
