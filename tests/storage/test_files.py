"""The file store's data version: re-checked on every call, or once per pinned span."""

from __future__ import annotations

import contextvars
import json
import os

import pytest

from geoapp.storage import FileStore, pin_version, unpin_version
from geoapp.storage.base import DataMissingError
from tests.tiny_data import write_tiny_data


def touch(path) -> None:
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def test_a_file_change_makes_a_new_version(tmp_path):
    data = write_tiny_data(tmp_path / "data")
    store = FileStore(data)
    before = store.data_version()
    assert store.data_version() == before  # stable while nothing changes
    touch(data / "ocop" / "products.csv")
    assert store.data_version() != before


def test_a_pinned_span_reads_one_version_then_sees_the_change(tmp_path):
    data = write_tiny_data(tmp_path / "data")
    store, other = FileStore(data), FileStore(data)
    before = store.data_version()
    pin_version()
    try:
        assert store.data_version() == before
        touch(data / "boundaries" / "manifest.json")
        assert store.data_version() == before  # the span keeps what it saw first
        assert other.data_version() != before  # another store pins its own first sight
    finally:
        unpin_version()
    assert store.data_version() != before


def test_a_request_pinned_to_a_replaced_version_leaves_the_cache_alone(tmp_path, monkeypatch):
    """A request still on the old version after a rebuild must not empty the cache that the
    requests on the new version fill (they would keep undoing each other)."""
    data = write_tiny_data(tmp_path / "data")
    store = FileStore(data)
    reads: list[str] = []
    real = FileStore._read_layer
    monkeypatch.setattr(
        FileStore,
        "_read_layer",
        lambda self, layer, detail: reads.append(layer) or real(self, layer, detail),
    )
    elsewhere = contextvars.Context  # another request: a context with no span open
    token = pin_version()
    try:
        store.communes("2020")
        touch(data / "boundaries" / "manifest.json")
        elsewhere().run(store.communes, "2020")  # the new version: read and cached
        store.communes("2020")  # still pinned to the old one: read, not cached
        elsewhere().run(store.communes, "2020")  # the new version's cache is still there
        assert len(reads) == 3
    finally:
        unpin_version(token)
    store.communes("2020")
    assert len(reads) == 3


def test_unpinning_with_the_token_restores_an_outer_span(tmp_path):
    data = write_tiny_data(tmp_path / "data")
    store = FileStore(data)
    outer = pin_version()
    first = store.data_version()
    inner = pin_version()
    unpin_version(inner)
    touch(data / "ocop" / "outlets.csv")
    assert store.data_version() == first  # the outer span is still open
    unpin_version(outer)
    assert store.data_version() != first


def test_the_boundary_version_is_the_builds_and_ignores_other_changes(tmp_path):
    data = write_tiny_data(tmp_path / "data")
    store = FileStore(data)
    assert store.boundary_version() == "tiny"
    before = store.data_version()
    touch(data / "ocop" / "products.csv")  # an import's kind of change: new data version only
    assert store.data_version() != before and store.boundary_version() == "tiny"
    manifest = data / "boundaries" / "manifest.json"
    manifest.write_text(json.dumps({"build_version": "rebuilt-0001"}))
    assert store.boundary_version() == "rebuilt-0001"
    manifest.unlink()
    with pytest.raises(DataMissingError):
        store.boundary_version()
