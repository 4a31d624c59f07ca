"""Versioned OCOP tables: every import writes a new immutable version folder.

Layout under the versions root (default ``instance/ocop-versions``)::

    CURRENT            JSON: {"current": "v0003" | null, "events": [...]} (the pointer)
    v0001/             products.csv, producers.csv, outlets.csv, province_stats.csv,
    v0002/             manifest.json (what made it, when, counts)
    .lock              held (flock) by the one process writing a version
    .tmp-<random>/     a version being written; never read, removed by the next writer

A version is written into a temporary folder, flushed to disk, renamed to ``vNNNN`` and only
then made current by replacing ``CURRENT`` with ``os.replace`` (atomic on POSIX). Readers look
at ``CURRENT`` only, so a crash or ``SIGKILL`` at any moment leaves either the previous pointer
(and perhaps an unused folder or a temporary folder) or the new one: never a half-written
version. Version folders are never changed or deleted; a rollback moves the pointer back.
``current`` null (or no ``CURRENT`` file) means the committed seed in ``data/ocop`` is served.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import fcntl
import json
import os
import re
import secrets
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path

import pandas as pd

POINTER = "CURRENT"
MANIFEST = "manifest.json"
SEED = "seed"
VERSION_RE = re.compile(r"^v(\d{4,})$")
_VERSION_NAME = re.compile(r"v?(\d{1,9})")  # what a user may type: 3, v3, v0003


class VersionError(RuntimeError):
    """A version cannot be created or restored (unknown name, stale base, bad folder)."""


class StaleBaseError(VersionError):
    """The current version changed since the import was validated against it."""


def _checkpoint(stage: str) -> None:
    """Called between the steps of writing a version (a no-op; tests use it to interrupt)."""


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def utc_now() -> str:
    """The current time in UTC, ISO 8601 to the second ("2025-01-31T08:15:00Z")."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def normalize_version(name: str) -> str:
    """ "3", "v3", "v0003" -> "v0003"; "seed" stays "seed"."""
    text = str(name).strip().lower()
    match = _VERSION_NAME.fullmatch(text) if text.isascii() else None
    if text == SEED or (match is not None and int(match.group(1)) == 0):
        return SEED
    if match is None:
        shown = text if len(text) <= 20 else text[:20] + "…"
        raise VersionError(f"not a version name: {shown!r} (expected e.g. v0003, 3 or seed)")
    return f"v{int(match.group(1)):04d}"


@dataclasses.dataclass(frozen=True)
class VersionInfo:
    """One version folder and what its manifest says."""

    name: str
    path: Path
    manifest: dict
    current: bool
    applied: bool


class VersionStore:
    """Reads and writes the versions under ``root`` (any number of processes may read)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    # -- reading -------------------------------------------------------------------------------

    @property
    def pointer_path(self) -> Path:
        return self.root / POINTER

    def pointer(self) -> dict:
        """The parsed pointer: ``{"current": name | None, "events": [...]}``."""
        try:
            text = self.pointer_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {"current": None, "events": []}
        data = json.loads(text)
        data.setdefault("events", [])
        return data

    def current(self) -> str | None:
        """Name of the current version, or None when the seed is served."""
        return self.pointer().get("current")

    def version_dir(self, name: str) -> Path:
        return self.root / normalize_version(name)

    def current_dir(self) -> Path | None:
        name = self.current()
        return None if name is None else self.root / name

    def names(self) -> list[str]:
        """Complete version folders (those with a manifest), oldest first."""
        if not self.root.is_dir():
            return []
        found = [
            p.name
            for p in self.root.iterdir()
            if p.is_dir() and VERSION_RE.match(p.name) and (p / MANIFEST).exists()
        ]
        return sorted(found, key=lambda n: int(n[1:]))

    def history(self) -> list[VersionInfo]:
        """Every version folder, oldest first, with whether it ever was and now is current."""
        pointer = self.pointer()
        applied = {e.get("version") for e in pointer["events"]}
        out = []
        for name in self.names():
            path = self.root / name
            manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
            out.append(
                VersionInfo(name, path, manifest, name == pointer.get("current"), name in applied)
            )
        return out

    # -- writing -------------------------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Exclusive lock for writers (released by the OS if the process dies)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a+b") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def _next_name(self) -> str:
        numbers = [
            int(m.group(1))
            for p in self.root.iterdir()
            if (m := VERSION_RE.match(p.name)) is not None
        ]
        return f"v{max(numbers, default=0) + 1:04d}"

    def _remove_temporaries(self) -> None:
        for path in self.root.glob(".tmp-*"):
            shutil.rmtree(path, ignore_errors=True)
        for path in self.root.glob(f".{POINTER}.*.tmp"):
            path.unlink(missing_ok=True)

    def _write_pointer(self, data: dict) -> None:
        tmp = self.root / f".{POINTER}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(data, handle, ensure_ascii=False, indent=1)
            handle.flush()
            os.fsync(handle.fileno())
        _checkpoint("pointer_written")
        os.replace(tmp, self.pointer_path)
        _fsync_dir(self.root)
        _checkpoint("switched")

    def create(
        self,
        tables: Mapping[str, pd.DataFrame | Path],
        manifest: Mapping[str, object],
        *,
        base: str | None = None,
        check_base: bool = False,
        action: str = "import",
    ) -> str:
        """Write ``tables`` (file name -> frame, or an existing file to link) as a new version
        and make it current; return its name.

        ``base`` is the version the tables were derived from (None for the seed): with
        ``check_base``, when it is no longer current nothing is written and ``StaleBaseError``
        is raised.
        """
        with self.lock():
            pointer = self.pointer()
            if check_base and pointer.get("current") != base:
                raise StaleBaseError(
                    f"the data changed since it was validated (now {pointer.get('current') or SEED}"
                    f", validated against {base or SEED}): validate again"
                )
            self._remove_temporaries()
            name = self._next_name()
            tmp = self.root / f".tmp-{secrets.token_hex(6)}"
            tmp.mkdir()
            _checkpoint("tmp_created")
            for file_name, table in tables.items():
                target = tmp / file_name
                if isinstance(table, Path):
                    try:
                        os.link(table, target)
                    except OSError:
                        shutil.copyfile(table, target)
                else:
                    table.to_csv(target, index=False, lineterminator="\n")
                _fsync_file(target)
                _checkpoint(f"wrote {file_name}")
            record = {
                "version": name,
                "created": utc_now(),
                "action": action,
                "base": pointer.get("current"),
                **manifest,
            }
            (tmp / MANIFEST).write_text(
                json.dumps(record, ensure_ascii=False, indent=1), encoding="utf-8"
            )
            _fsync_file(tmp / MANIFEST)
            _fsync_dir(tmp)
            _checkpoint("tables_written")
            os.rename(tmp, self.root / name)
            _fsync_dir(self.root)
            _checkpoint("renamed")
            event = {"at": record["created"], "action": action, "version": name,
                     "from": pointer.get("current")}  # fmt: skip
            self._write_pointer({"current": name, "events": [*pointer["events"], event]})
            return name

    def switch(self, name: str, *, action: str = "rollback") -> str | None:
        """Make ``name`` (a version or "seed") current again; returns the new current name."""
        target = normalize_version(name)
        with self.lock():
            pointer = self.pointer()
            if target != SEED and target not in self.names():
                known = ", ".join([SEED, *self.names()])
                raise VersionError(f"no version {target}; known: {known}")
            new = None if target == SEED else target
            event = {"at": utc_now(), "action": action, "version": new,
                     "from": pointer.get("current")}  # fmt: skip
            self._write_pointer({"current": new, "events": [*pointer["events"], event]})
            return new
