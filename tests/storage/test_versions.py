"""Version folders, the atomic pointer and the FileStore reading the current version."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from geoapp.storage import versions as versions_module
from geoapp.storage.files import FileStore
from geoapp.storage.versions import (
    StaleBaseError,
    VersionError,
    VersionStore,
    normalize_version,
)
from tests.tiny_data import write_tiny_data


def frame(name: str) -> pd.DataFrame:
    return pd.DataFrame({"id": ["1"], "name": [name]})


def test_create_writes_a_folder_and_switches_the_pointer(tmp_path):
    store = VersionStore(tmp_path / "v")
    assert store.current() is None and store.history() == []
    name = store.create({"a.csv": frame("x")}, {"files": ["in.csv"]})
    assert name == "v0001" and store.current() == "v0001"
    assert pd.read_csv(store.current_dir() / "a.csv")["name"].tolist() == ["x"]
    manifest = json.loads((store.current_dir() / "manifest.json").read_text())
    assert manifest["files"] == ["in.csv"] and manifest["base"] is None
    second = store.create({"a.csv": frame("y")}, {})
    assert second == "v0002"
    pointer = json.loads((tmp_path / "v" / "CURRENT").read_text())
    assert pointer["current"] == "v0002"
    assert [e["version"] for e in pointer["events"]] == ["v0001", "v0002"]
    assert [(i.name, i.current) for i in store.history()] == [("v0001", False), ("v0002", True)]


def test_unchanged_tables_are_linked_not_copied(tmp_path):
    store = VersionStore(tmp_path / "v")
    store.create({"a.csv": frame("x")}, {})
    first = store.version_dir("v0001") / "a.csv"
    store.create({"a.csv": first}, {})
    second = store.version_dir("v0002") / "a.csv"
    assert second.read_text() == first.read_text()
    assert second.stat().st_ino == first.stat().st_ino


def test_switch_and_rollback_to_seed(tmp_path):
    store = VersionStore(tmp_path / "v")
    store.create({"a.csv": frame("x")}, {})
    store.create({"a.csv": frame("y")}, {})
    assert store.switch("1") == "v0001" and store.current() == "v0001"
    assert store.switch("seed") is None and store.current() is None
    with pytest.raises(VersionError, match="known: seed, v0001, v0002"):
        store.switch("v0009")
    assert [e["action"] for e in store.pointer()["events"]] == [
        "import",
        "import",
        "rollback",
        "rollback",
    ]


def test_normalize_version():
    assert normalize_version("3") == "v0003" == normalize_version("V3")
    assert normalize_version("seed") == "seed" == normalize_version("0")
    with pytest.raises(VersionError):
        normalize_version("latest")


def test_stale_base_is_refused(tmp_path):
    store = VersionStore(tmp_path / "v")
    store.create({"a.csv": frame("x")}, {})
    with pytest.raises(StaleBaseError):
        store.create({"a.csv": frame("y")}, {}, base=None, check_base=True)
    assert store.current() == "v0001" and store.names() == ["v0001"]


def test_a_failure_mid_write_leaves_the_previous_version(tmp_path, monkeypatch):
    store = VersionStore(tmp_path / "v")
    store.create({"a.csv": frame("x"), "b.csv": frame("x")}, {})

    def fail(stage: str) -> None:
        if stage == "wrote a.csv":
            raise OSError("disk full")

    monkeypatch.setattr(versions_module, "_checkpoint", fail)
    with pytest.raises(OSError, match="disk full"):
        store.create({"a.csv": frame("y"), "b.csv": frame("y")}, {})
    assert store.current() == "v0001"
    assert pd.read_csv(store.current_dir() / "a.csv")["name"].tolist() == ["x"]
    assert list((tmp_path / "v").glob(".tmp-*"))  # the partial folder is left, never read
    monkeypatch.setattr(versions_module, "_checkpoint", lambda stage: None)
    assert store.create({"a.csv": frame("z")}, {}) == "v0002"
    assert not list((tmp_path / "v").glob(".tmp-*"))  # cleaned by the next writer


def test_an_orphan_folder_is_skipped_in_numbering_and_not_current(tmp_path, monkeypatch):
    store = VersionStore(tmp_path / "v")
    store.create({"a.csv": frame("x")}, {})

    def die_after_rename(stage: str) -> None:
        if stage == "renamed":
            raise KeyboardInterrupt

    monkeypatch.setattr(versions_module, "_checkpoint", die_after_rename)
    with pytest.raises(KeyboardInterrupt):
        store.create({"a.csv": frame("y")}, {})
    assert store.current() == "v0001"
    history = {i.name: i for i in store.history()}
    assert history["v0002"].applied is False and history["v0001"].applied is True
    monkeypatch.setattr(versions_module, "_checkpoint", lambda stage: None)
    assert store.create({"a.csv": frame("z")}, {}) == "v0003"


# -- the FileStore -----------------------------------------------------------------------------


@pytest.fixture()
def data_dir(tmp_path):
    return write_tiny_data(tmp_path / "data")


def products_with(names: list[str]) -> pd.DataFrame:
    from tests.tiny_data import products

    out = products().iloc[: len(names)].copy()
    out["name"] = names
    return out


def test_filestore_serves_the_seed_then_the_current_version(data_dir, tmp_path):
    store = FileStore(data_dir, tmp_path / "versions")
    seed_version = store.data_version()
    assert len(store.ocop().products) == 6
    assert store.current_ocop_dir() == data_dir / "ocop"
    # tables written before provenance existed read with empty provenance columns
    assert store.ocop().products["source_file"].isna().all()
    versions = store.versions
    versions.create(
        {
            "products.csv": products_with(["A", "B"]),
            "producers.csv": data_dir / "ocop" / "producers.csv",
            "outlets.csv": data_dir / "ocop" / "outlets.csv",
            "province_stats.csv": data_dir / "ocop" / "province_stats.csv",
        },
        {},
    )
    assert store.data_version() != seed_version
    assert store.ocop().products["name"].tolist() == ["A", "B"]
    versions.switch("seed")
    assert store.data_version() == seed_version
    assert len(store.ocop().products) == 6


def test_every_worker_sees_a_switch_without_restart(data_dir, tmp_path):
    """Two FileStore instances stand for two worker processes sharing the folders."""
    workers = [FileStore(data_dir, tmp_path / "versions") for _ in range(2)]
    for worker in workers:
        assert len(worker.ocop().products) == 6  # warm caches
    writer = VersionStore(tmp_path / "versions")
    writer.create(
        {
            "products.csv": products_with(["Only"]),
            "producers.csv": data_dir / "ocop" / "producers.csv",
            "outlets.csv": data_dir / "ocop" / "outlets.csv",
            "province_stats.csv": data_dir / "ocop" / "province_stats.csv",
        },
        {},
    )
    assert [w.ocop().products["name"].tolist() for w in workers] == [["Only"], ["Only"]]
    assert workers[0].data_version() == workers[1].data_version()


def test_filestore_without_versions_folder_is_unchanged(data_dir):
    store = FileStore(data_dir)
    assert store.versions is None
    assert len(store.ocop().producers) == 3
