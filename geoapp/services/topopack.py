"""A packed TopoJSON: the topology's integers as bytes, for the map page.

TopoJSON spells its integers out as JSON text. Here they travel as unsigned LEB128 varints
(7 bits a byte, low bits first, the high bit set on all but a number's last byte), signed ones
zigzag-encoded (0, -1, 1, -2 -> 0, 1, 2, 3), so small magnitudes take one byte. After gzip the
2020 map's arcs and geometries take about two thirds of their JSON size.

Layout::

    PACKED_MAGIC                    8 bytes
    length of the JSON part         4 bytes, little-endian
    JSON part                       the TopoJSON with "arcs": [] and "packed_arcs": <count>,
                                    each geometry reduced to {"properties": ...}
    arcs                            varints: each arc's number of positions, then every x,
                                    then every y (TopoJSON's deltas, except that an arc's
                                    first position is relative to the previous arc's last)
    geometries                      varints, object by object, geometry by geometry: the kind
                                    (0 none, 1 Polygon, 2 MultiPolygon with its polygon count
                                    next), then per polygon its ring count, per ring its arc
                                    count and arc indices (zigzag, each relative to the one
                                    before it in the object)

``static/js/coverage-map.js`` (``unpackTopology``) reads it in the browser.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import numpy as np

PACKED_MIMETYPE = "application/vnd.ocop.topopack"
PACKED_MAGIC = b"OCOPTP1\n"
KINDS = {None: 0, "Polygon": 1, "MultiPolygon": 2}


def varints(values: np.ndarray | list[int]) -> bytes:
    """Unsigned LEB128 of each value."""
    out = bytearray()
    for value in np.asarray(values, dtype=np.uint64).tolist():
        while value > 0x7F:
            out.append((value & 0x7F) | 0x80)
            value >>= 7
        out.append(value)
    return bytes(out)


def zigzag(values: np.ndarray | list[int]) -> np.ndarray:
    """Signed -> unsigned so that small magnitudes stay small: 0, -1, 1, -2 -> 0, 1, 2, 3."""
    values = np.asarray(values, dtype=np.int64)
    return ((values << 1) ^ (values >> 63)).astype(np.uint64)


def read_varints(data: bytes) -> list[int]:
    """Every unsigned LEB128 number in ``data``."""
    values: list[int] = []
    value = shift = 0
    for byte in data:
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            values.append(value)
            value = shift = 0
    if shift:
        raise ValueError("packed data ends inside a number")
    return values


def _signed(n: int) -> int:
    return (n >> 1) ^ -(n & 1)


def pack_arcs(delta_arcs: list[list[list[int]]]) -> bytes:
    """TopoJSON's delta-encoded arcs as the arcs section (see the module's layout).

    Arcs mostly start where another ended, hence the relative first positions; the x and y
    runs are kept apart so that similar bytes sit together, which gzip rewards.
    """
    lengths = np.array([len(arc) for arc in delta_arcs], dtype=np.uint64)
    if not len(lengths):
        return b""
    xy = np.asarray([p for arc in delta_arcs for p in arc], dtype=np.int64).reshape(-1, 2)
    relative = xy.copy()
    last = np.zeros(2, dtype=np.int64)  # the previous arc's last absolute position
    first = 0
    for length in lengths.tolist():
        arc = xy[first : first + length]
        relative[first] = arc[0] - last
        last = arc.sum(axis=0)
        first += length
    return varints(lengths) + varints(zigzag(relative[:, 0])) + varints(zigzag(relative[:, 1]))


def pack_geometries(objects: list[list[dict[str, Any]]]) -> bytes:
    """The geometries section for TopoJSON geometries (Polygon, MultiPolygon or type null),
    object by object."""
    values: list[int] = []
    for geometries in objects:
        previous = 0
        for geometry in geometries:
            kind = geometry.get("type")
            if kind not in KINDS:
                raise ValueError(f"cannot pack a {kind} geometry")
            values.append(KINDS[kind])
            if kind is None:
                continue
            polygons = geometry["arcs"] if kind == "MultiPolygon" else [geometry["arcs"]]
            if kind == "MultiPolygon":
                values.append(len(polygons))
            for rings in polygons:
                values.append(len(rings))
                for ring in rings:
                    values.append(len(ring))
                    for index in ring:
                        values.append(int(zigzag([index - previous])[0]))
                        previous = index
    return varints(values)


class _Reader:
    """Numbers of a varint stream, one at a time."""

    def __init__(self, values: list[int]) -> None:
        self._values: Iterator[int] = iter(values)

    def next(self) -> int:
        try:
            return next(self._values)
        except StopIteration:
            raise ValueError("packed data ends early") from None

    def rest(self) -> list[int]:
        return list(self._values)


def _read_arcs(reader: _Reader, n_arcs: int) -> list[list[list[int]]]:
    lengths = [reader.next() for _ in range(n_arcs)]
    if any(length < 1 for length in lengths):
        raise ValueError("packed arcs hold an empty arc")
    xs = [_signed(reader.next()) for _ in range(sum(lengths))]
    ys = [_signed(reader.next()) for _ in range(sum(lengths))]
    arcs: list[list[list[int]]] = []
    start, last = 0, [0, 0]  # the previous arc's last absolute position
    for length in lengths:
        end = start + length
        arc = [[x, y] for x, y in zip(xs[start:end], ys[start:end], strict=True)]
        arc[0] = [arc[0][0] + last[0], arc[0][1] + last[1]]
        last = [sum(p[0] for p in arc), sum(p[1] for p in arc)]
        arcs.append(arc)
        start = end
    return arcs


def _read_geometry(reader: _Reader, previous: list[int]) -> dict[str, Any]:
    kinds = {code: kind for kind, code in KINDS.items()}
    code = reader.next()
    if code not in kinds:
        raise ValueError(f"unknown packed geometry kind {code}")
    kind = kinds[code]
    if kind is None:
        return {"type": None}
    polygons = []
    for _ in range(reader.next() if kind == "MultiPolygon" else 1):
        rings = []
        for _ in range(reader.next()):
            ring = []
            for _ in range(reader.next()):
                previous[0] += _signed(reader.next())
                ring.append(previous[0])
            rings.append(ring)
        polygons.append(rings)
    return {"type": kind, "arcs": polygons if kind == "MultiPolygon" else polygons[0]}


def unpack_arcs(data: bytes, n_arcs: int) -> list[list[list[int]]]:
    """The inverse of ``pack_arcs``."""
    reader = _Reader(read_varints(data))
    arcs = _read_arcs(reader, n_arcs)
    if reader.rest():
        raise ValueError("packed arcs do not match their count")
    return arcs


def pack_topology(head: bytes, packed_arcs: bytes, packed_geometries: bytes) -> bytes:
    """The packed topology from its JSON part and its two sections."""
    return PACKED_MAGIC + len(head).to_bytes(4, "little") + head + packed_arcs + packed_geometries


def unpack_topology(data: bytes) -> dict[str, Any]:
    """The plain TopoJSON of a packed topology (for checks; browsers unpack it themselves)."""
    if not data.startswith(PACKED_MAGIC):
        raise ValueError("not a packed topology")
    start = len(PACKED_MAGIC) + 4
    length = int.from_bytes(data[len(PACKED_MAGIC) : start], "little")
    topology = json.loads(data[start : start + length])
    reader = _Reader(read_varints(data[start + length :]))
    topology["arcs"] = _read_arcs(reader, topology.pop("packed_arcs"))
    for obj in topology["objects"].values():
        previous = [0]
        obj["geometries"] = [
            {**_read_geometry(reader, previous), **geometry} for geometry in obj["geometries"]
        ]
    if reader.rest():
        raise ValueError("packed topology has bytes left over")
    return topology
