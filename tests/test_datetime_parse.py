"""Datetime text parsing: pandas' vectorised parser and the per-value strptime loop agree."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest

from synthgen.columns import datetime as dt
from synthgen.errors import InputError

FORMATS = [
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S.%f",
    "%d/%m/%Y %H:%M",
    "%b %d, %Y",
    "%Y-%m-%dT%H:%M:%S%z",
    "%d %B %Y %I:%M %p",
]


def strptime_seconds(text: str, fmt: str) -> float:
    stamp = datetime.strptime(text.strip(), fmt)
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(UTC).replace(tzinfo=None)
    return (stamp - datetime(1970, 1, 1)) / timedelta(seconds=1)


@pytest.mark.parametrize("fmt", FORMATS)
def test_vectorised_parse_matches_strptime(fmt):
    rng = np.random.default_rng(0)
    texts = []
    for s, us, h in zip(
        rng.integers(-2 * 10**9, 2 * 10**9, 200),
        rng.integers(0, 10**6, 200),
        rng.integers(-11, 12, 200),
    ):
        stamp = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=int(s), microseconds=int(us))
        texts.append(stamp.astimezone(timezone(timedelta(hours=int(h)))).strftime(fmt))
    values = pd.Series([*texts, None, f" {texts[0]} "], dtype=object)
    uniques = pd.unique(values[values.notna()])
    assert dt._parse_vectorised(uniques, fmt) is not None  # the fast path is taken
    got = dt.parse_text(values, fmt, "when")
    assert got[:-2].tolist() == [strptime_seconds(t, fmt) for t in texts]
    assert np.isnan(got[-2]) and got[-1] == got[0]


def test_dates_outside_pandas_range_and_bad_text():
    got = dt.parse_text(pd.Series(["1600-01-01", "2300-05-06"], dtype=object), "%Y-%m-%d", "d")
    assert got.tolist() == [
        strptime_seconds("1600-01-01", "%Y-%m-%d"),
        strptime_seconds("2300-05-06", "%Y-%m-%d"),
    ]
    with pytest.raises(InputError, match="'nope' does not match the date format"):
        dt.parse_text(pd.Series(["2020-01-01", "nope"], dtype=object), "%Y-%m-%d", "d")
