"""HTTP content codings (gzip, brotli) of response bodies, computed once per body.

Compressed bodies are deterministic (gzip without a time stamp), so the same bytes give the same
compressed bytes in every worker and after every restart. Payloads that live in a service cache
(one per data version and parameters) keep their compressed variants beside the raw bytes.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from collections import OrderedDict
from collections.abc import MutableMapping

import brotli

CODINGS = ("br", "gzip")
# Bodies shorter than this travel as they are: the headers would cost more than the saving.
MIN_COMPRESS_BYTES = 512
# Brotli's best quality (11) shrinks GeoJSON coordinates by a further 30-40 % over quality 9
# but runs at about 1 MB/s: it is used once per cached payload up to this size.
BEST_BROTLI_MAX_BYTES = 512 * 1024
GZIP_BEST = 9
GZIP_FAST = 6
BROTLI_FAST = 5


def compress(body: bytes, coding: str, *, best: bool = True) -> bytes:
    """``body`` in content coding ``coding`` ("br" or "gzip").

    ``best`` spends more time for a smaller result (once per cached payload or static file);
    without it the settings suit a body compressed per request.
    """
    if coding == "gzip":
        return gzip.compress(body, compresslevel=GZIP_BEST if best else GZIP_FAST, mtime=0)
    if coding == "br":
        quality = (
            11 if best and len(body) <= BEST_BROTLI_MAX_BYTES else (9 if best else BROTLI_FAST)
        )
        return brotli.compress(body, quality=quality)
    raise ValueError(f"unknown content coding {coding!r}; known: {', '.join(CODINGS)}")


def decompress(body: bytes, coding: str) -> bytes:
    """The inverse of ``compress`` (used by tests and the benchmark)."""
    if coding == "gzip":
        return gzip.decompress(body)
    if coding == "br":
        return brotli.decompress(body)
    raise ValueError(f"unknown content coding {coding!r}; known: {', '.join(CODINGS)}")


def content_tag(body: bytes) -> str:
    """A strong entity tag for ``body``: 20 hex digits of its SHA-256."""
    return hashlib.sha256(body).hexdigest()[:20]


def encoded_variant(
    store: MutableMapping[str, bytes], body: bytes, coding: str, *, best: bool = True
) -> bytes:
    """``body`` in ``coding``, computed on first use and kept in ``store`` (coding -> bytes).

    Two threads asking at once may both compress; both results are identical, so either wins.
    """
    encoded = store.get(coding)
    if encoded is None:
        encoded = compress(body, coding, best=best)
        store[coding] = encoded
    return encoded


class EncodedBodies:
    """Compressed variants of recently seen bodies, keyed by content tag (a bounded LRU).

    For bodies made per request (the page HTML, JSON answers): the same bytes are compressed
    once, however many requests carry them.
    """

    def __init__(self, max_entries: int = 256) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[str, dict[str, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def variants(self, tag: str) -> dict[str, bytes]:
        """The (mutable) coding -> bytes map of the body with ``tag``."""
        with self._lock:
            entry = self._entries.get(tag)
            if entry is None:
                entry = {}
                self._entries[tag] = entry
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
            else:
                self._entries.move_to_end(tag)
            return entry

    def get(self, tag: str, body: bytes, coding: str, *, best: bool = True) -> bytes:
        return encoded_variant(self.variants(tag), body, coding, best=best)
