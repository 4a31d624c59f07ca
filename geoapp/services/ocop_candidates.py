"""Candidates of ``ocop build``: products registered or scored whose certification no source
confirms (``candidates.csv``, the columns of ``products.csv``). They are placed by the same name
matching as the products (2020 commune and district codes, no point) and written to
``data/ocop/candidates.csv`` with every source id; they are never counted as OCOP products.

Kept in a module of its own so that ``ocop_facts`` passes in its matching (the name matcher and
the list of unmatched names) without the two modules importing each other.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from geoapp.domain.names import PlaceMatch
from geoapp.domain.ocop import CANDIDATE_COLUMNS

CANDIDATES_FILE = "candidates.csv"

# (record id, commune text, district text) -> (where it is, notes about the matching)
PlaceCandidate = Callable[[str, str, str], tuple[PlaceMatch, list[str]]]


def build_candidates(
    sources: pd.DataFrame,
    place: PlaceCandidate,
    producer_type_of: Callable[[str], str],
    join_notes: Callable[[list[str]], str],
) -> pd.DataFrame:
    """One row per source candidate (in source order) with ``CANDIDATE_COLUMNS``, as text.

    ``stars`` is kept as the source writes it ("3?": a rating proposed, not confirmed).
    """
    rows = []
    for src in sources.to_dict("records"):
        match, notes = place(src["record_id"], src["commune"], src["district"])
        rows.append(
            {
                "candidate_id": src["record_id"],
                "name": src["product_name"],
                "producer": src["producer"],
                "producer_type": producer_type_of(src["producer_type_derived"]),
                "commune_code": match.commune_code or "",
                "district_code": match.district_code or "",
                "location_precision": match.precision if match.precision != "none" else "",
                "place_given": ", ".join(p for p in (src["commune"], src["district"]) if p),
                "stars": src["stars"],
                "recognition_year": src["recognition_year"],
                "decision": src["decision"],
                "group_1048": src["group_1048_inferred"],
                "group_148": src["group_148_inferred"],
                "source_ids": src["source_ids"],
                "notes": join_notes([src["notes"], *notes]),
            }
        )
    return pd.DataFrame(rows, columns=list(CANDIDATE_COLUMNS)).fillna("")
