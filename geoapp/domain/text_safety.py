"""Text from data made safe for spreadsheets, XML and plots: the one place for these rules.

* ``strip_control``: characters XML 1.0 cannot hold (C0 controls but tab, LF and CR; lone
  surrogates; U+FFFE, U+FFFF) are removed. openpyxl refuses them (``IllegalCharacterError``),
  SVG and XLSX would be unreadable with them, and they carry no meaning in a name.
* ``neutralise``: a text cell that a spreadsheet would run as a formula (it starts with
  ``=``, ``+``, ``-``, ``@``, tab or CR: OWASP "CSV injection") gets a leading single quote.
  Text that is a plain number ("-12.5", "+84") stays as it is: a spreadsheet reads it as that
  number, which runs nothing.
* ``restore``: the exact inverse of ``neutralise``, applied by the importer, so that export
  then import gives back the same text. A text that already starts with quotes before a formula
  character gets one more quote, so the rule is a bijection: ``restore(neutralise(t)) == t``
  for every text ``t``.
"""

from __future__ import annotations

import re
from typing import TypeVar

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_FORMULA_LIKE = re.compile("'*[=+\\-@\t\r]")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")

T = TypeVar("T")


def strip_control(text: str) -> str:
    """``text`` without the characters XML 1.0 (and so XLSX, SVG) cannot hold."""
    return _ILLEGAL.sub("", text)


def _needs_quote(text: str) -> bool:
    return _FORMULA_LIKE.match(text) is not None and _PLAIN_NUMBER.fullmatch(text) is None


def neutralise(text: str) -> str:
    """``text`` with a leading ``'`` when a spreadsheet would take it for a formula."""
    return QUOTE + text if _needs_quote(text) else text


def restore(text: str) -> str:
    """The text ``neutralise`` was given (an imported cell as it was before export)."""
    if text.startswith(QUOTE) and _needs_quote(text[1:]):
        return text[1:]
    return text


def safe_cell(value: T) -> T | str:
    """A value ready for a spreadsheet cell: text stripped and neutralised, the rest as is
    (numbers stay numbers)."""
    if isinstance(value, str):
        return neutralise(strip_control(value))
    return value
