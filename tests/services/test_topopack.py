"""The packed topology: varints, arcs and geometries round-trip; broken bytes are refused."""

from __future__ import annotations

import json

import pytest

from geoapp.services.topopack import (
    pack_arcs,
    pack_geometries,
    pack_topology,
    read_varints,
    unpack_arcs,
    unpack_topology,
    varints,
    zigzag,
)


@pytest.mark.parametrize("values", [[0], [1, 127, 128, 300, 16_383, 16_384], [2**63 - 1]])
def test_varints_round_trip(values):
    assert read_varints(varints(values)) == values


def test_zigzag_keeps_small_magnitudes_small():
    assert zigzag([0, -1, 1, -2, 2, -64, 63]).tolist() == [0, 1, 2, 3, 4, 127, 126]


@pytest.mark.parametrize(
    "arcs",
    [
        [],
        [[[0, 0], [1, 1]]],
        [[[30_000, 25_000], [-1, 0], [0, -64], [63, 64], [-8192, 8191]], [[5, 5], [0, 0]]],
        [[[2**40, -(2**40)], [-(2**35), 2**35]]],
    ],
)
def test_arcs_pack_and_unpack(arcs):
    assert unpack_arcs(pack_arcs(arcs), len(arcs)) == arcs


def test_packed_arcs_are_varints_split_by_axis():
    # lengths (2), then x: 3 -> 6, -1 -> 1, then y: 64 -> 128 (two bytes), 0 -> 0
    assert pack_arcs([[[3, 64], [-1, 0]]]) == bytes([2, 6, 1, 0x80, 0x01, 0])


@pytest.mark.parametrize(
    ("data", "count"),
    [(bytes([2, 6, 1, 0x80]), 1), (bytes([2, 6, 1, 0]), 1), (bytes([1, 6, 0]), 2)],
)
def test_broken_packed_arcs_are_refused(data, count):
    with pytest.raises(ValueError):
        unpack_arcs(data, count)


def test_unpack_topology_refuses_other_bytes():
    with pytest.raises(ValueError, match="not a packed topology"):
        unpack_topology(b'{"type":"Topology"}')


def test_an_arc_starts_relative_to_the_previous_arcs_end():
    # arc 1 ends at (10, 20) + (5, 5) = (15, 25); arc 2 starts at (15, 26): packed as (0, 1)
    packed = pack_arcs([[[10, 20], [5, 5]], [[15, 26], [1, 1]]])
    assert packed == bytes([2, 2, 20, 10, 0, 2, 40, 10, 2, 2])


POLYGON = {"type": "Polygon", "arcs": [[0, 1, -3], [5]]}
MULTI = {"type": "MultiPolygon", "arcs": [[[2, ~1]], [[7, 8, 9], [~0]]]}


def packed(geometries: list[list[dict]], arcs=None, extra: bytes = b"") -> bytes:
    arcs = arcs if arcs is not None else [[[0, 0], [1, 1]]] * 10
    objects = {
        f"layer{n}": {
            "type": "GeometryCollection",
            "geometries": [{"properties": {"n": i}} for i, _ in enumerate(layer)],
        }
        for n, layer in enumerate(geometries)
    }
    head = json.dumps(
        {"type": "Topology", "arcs": [], "packed_arcs": len(arcs), "objects": objects}
    ).encode()
    return pack_topology(head, pack_arcs(arcs), pack_geometries(geometries) + extra)


def test_geometries_round_trip_with_their_properties():
    layers = [[POLYGON, MULTI, {"type": None}], [MULTI]]
    topology = unpack_topology(packed(layers))
    got = [[g for g in obj["geometries"]] for obj in topology["objects"].values()]
    want = [[{**g, "properties": {"n": i}} for i, g in enumerate(layer)] for layer in layers]
    assert got == want
    assert topology["arcs"] == [[[0, 0], [1, 1]]] * 10


def test_geometry_indices_are_relative_to_the_one_before():
    # kind 1, 1 ring, 3 arcs: 4 -> zigzag 8, 5 - 4 = 1 -> 2, ~5 = -6, -6 - 5 = -11 -> 21
    assert pack_geometries([[{"type": "Polygon", "arcs": [[4, 5, ~5]]}]]) == bytes(
        [1, 1, 3, 8, 2, 21]
    )


def test_other_geometry_types_are_refused():
    with pytest.raises(ValueError, match="LineString"):
        pack_geometries([[{"type": "LineString", "arcs": [0]}]])


@pytest.mark.parametrize(
    "extra",
    [bytes([1]), bytes([0x80])],
    ids=["bytes left over", "ends inside a number"],
)
def test_a_damaged_topology_is_refused(extra):
    with pytest.raises(ValueError):
        unpack_topology(packed([[POLYGON]], extra=extra))


def test_a_truncated_topology_is_refused():
    data = packed([[POLYGON, MULTI]])
    with pytest.raises(ValueError, match="ends early"):
        unpack_topology(data[:-3])
