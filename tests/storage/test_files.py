"""The file store's data version: re-checked on every call, or once per pinned span."""

from __future__ import annotations

import os

from geoapp.storage import FileStore, pin_version, unpin_version
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
