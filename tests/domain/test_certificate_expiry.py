"""The whole-array certificate expiry agrees with ``add_months`` date by date."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from geoapp.domain.coverage import add_months, certificate_expiry

EDGE_DATES = ["2020-02-29", "2019-01-31", "2024-08-31", "2023-12-31", "2021-03-30", "2022-10-31"]


@pytest.mark.parametrize("months", [36, 1, 12, 13, 0, 24, 60])
def test_expiry_matches_add_months(months):
    rng = np.random.default_rng(months)
    days = pd.Timestamp("2015-01-01") + pd.to_timedelta(rng.integers(0, 4000, 3000), unit="D")
    texts = [*days.strftime("%Y-%m-%d"), *EDGE_DATES]
    dates = pd.Series(pd.array(texts, dtype="string"), index=np.arange(len(texts)) + 10)
    expiry = certificate_expiry(dates, months)
    assert list(expiry.index) == list(dates.index)
    expected = [pd.Timestamp(add_months(dt.date.fromisoformat(t), months)) for t in texts]
    assert list(expiry) == expected


def test_unknown_dates_have_no_expiry():
    dates = pd.Series(pd.array(["2020-02-29", "", None, "not a date"], dtype="string"))
    expiry = certificate_expiry(dates, 36)
    assert expiry.iloc[0] == pd.Timestamp("2023-02-28")
    assert expiry.iloc[1:].isna().all()
