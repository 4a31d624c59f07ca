"""Is the data the pages read intact? Boundary files against the SHA-256 checksums of their
build manifest, the OCOP tables being served, and the current-version pointer.

``DataChecker.problems()`` lists what is wrong (an empty list: all is well). A file is hashed
again only when its size or modification time changed since it was last found good, so the
check is a few ``stat`` calls once the service runs (``/healthz`` calls it every time). The
messages name files relative to the data folder, never absolute paths.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from geoapp.storage.files import OCOP_FILES
from geoapp.storage.versions import MANIFEST as VERSION_MANIFEST
from geoapp.storage.versions import VersionStore

MANIFEST = "manifest.json"
OPTIONAL_OCOP_FILES = frozenset({"candidates.csv"})  # older versions have none: read as empty
CHUNK = 1 << 20
REBUILD_HINT = "rebuild with `make data` (flask --app wsgi boundaries build)"
POINTER_HINT = (
    "restore the file, or delete it to serve the seed data/ocop and choose a version again "
    "with `flask --app wsgi ocop rollback <version>`"
)


class DataDamagedError(RuntimeError):
    """The data is missing or damaged: the service does not start on it."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def file_checksums(folder: Path, names: list[str]) -> dict[str, str]:
    """``{name: sha256}`` of the files ``names`` under ``folder`` (the manifest's ``files``)."""
    return {name: sha256_file(folder / name) for name in sorted(names)}


class DataChecker:
    """Checks the boundaries under ``boundaries_dir``, the served OCOP tables and the pointer."""

    def __init__(self, boundaries_dir: Path, ocop_dir: Path, versions: VersionStore | None):
        self.boundaries_dir = Path(boundaries_dir)
        self.ocop_dir = Path(ocop_dir)
        self.versions = versions
        self._good: dict[str, tuple] = {}  # file name -> (stat key, checksum) found good
        self._manifest: tuple[tuple, dict] | None = None

    @staticmethod
    def _stat_key(path: Path) -> tuple | None:
        try:
            stat = os.stat(path)
        except FileNotFoundError:
            return None
        return (stat.st_ino, stat.st_size, stat.st_mtime_ns)

    def _read_manifest(self) -> dict | str:
        path = self.boundaries_dir / MANIFEST
        key = self._stat_key(path)
        if key is None:
            return f"boundaries/{MANIFEST} is missing"
        if self._manifest is not None and self._manifest[0] == key:
            return self._manifest[1]
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return f"boundaries/{MANIFEST} is unreadable"
        if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
            return f"boundaries/{MANIFEST} has no file checksums (built by an older version)"
        self._manifest = (key, manifest)
        return manifest

    def boundary_problems(self) -> list[str]:
        manifest = self._read_manifest()
        if isinstance(manifest, str):
            return [f"{manifest}: {REBUILD_HINT}"]
        problems = []
        for name, expected in manifest["files"].items():
            path = self.boundaries_dir / name
            key = self._stat_key(path)
            if key is None:
                problems.append(f"boundaries/{name} is missing: {REBUILD_HINT}")
                continue
            if self._good.get(name) == (key, expected):
                continue
            if sha256_file(path) != expected:
                problems.append(f"boundaries/{name} is damaged (checksum): {REBUILD_HINT}")
                continue
            self._good[name] = (key, expected)
        return problems

    def version_problems(self) -> list[str]:
        """The pointer parses and names a complete version; the served tables exist."""
        current = None
        if self.versions is not None and self.versions.pointer_path.exists():
            try:
                pointer = json.loads(self.versions.pointer_path.read_text(encoding="utf-8"))
                current = pointer["current"]
                if current is not None and not isinstance(current, str):
                    raise TypeError(current)
            except (OSError, ValueError, KeyError, TypeError):
                return [f"the version pointer CURRENT is damaged: {POINTER_HINT}"]
            if (
                current is not None
                and not (self.versions.root / current / VERSION_MANIFEST).is_file()
            ):
                return [
                    f"the version pointer names {current!r}, which is incomplete: {POINTER_HINT}"
                ]
        folder = self.ocop_dir if current is None else self.versions.root / current
        where = "data/ocop" if current is None else f"version {current}"
        required = [name for name in OCOP_FILES if name not in OPTIONAL_OCOP_FILES]
        missing = [name for name in required if not (folder / name).is_file()]
        if missing:
            hint = "run `flask --app wsgi ocop build`" if current is None else POINTER_HINT
            return [f"{where} lacks {', '.join(missing)}: {hint}"]
        return []

    def problems(self) -> list[str]:
        return self.boundary_problems() + self.version_problems()

    def require_intact(self) -> None:
        """Raise ``DataDamagedError`` listing every problem (at start-up)."""
        problems = self.problems()
        if problems:
            raise DataDamagedError("the data is missing or damaged:\n  " + "\n  ".join(problems))
