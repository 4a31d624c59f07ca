"""Texts drawn exactly as written: data reaches the static map, PDF and chart as plain text.

matplotlib reads text between two ``$`` as mathtext (``"$x^2$"`` would be drawn as a formula,
and a malformed one raises); names from data must not be. ``literal_texts`` turns that off for
every text of a figure just before it is saved, and removes characters that PDF and PNG text
chunks cannot hold (``geoapp.domain.text_safety.strip_control``).
"""

from __future__ import annotations

from matplotlib.figure import Figure
from matplotlib.text import Text

from geoapp.domain.text_safety import strip_control


def literal_texts(fig: Figure) -> Figure:
    """``fig`` with every text (titles, labels, legend, annotations) drawn literally."""
    for text in fig.findobj(Text):
        text.set_parse_math(False)
        raw = text.get_text()
        clean = strip_control(raw)
        if clean != raw:
            text.set_text(clean)
    return fig


def literal_metadata(metadata: dict) -> dict:
    """File metadata (PNG text chunks, PDF info) without characters they cannot hold."""
    return {k: strip_control(v) if isinstance(v, str) else v for k, v in metadata.items()}
