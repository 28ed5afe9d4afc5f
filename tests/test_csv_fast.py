"""The fast CSV writer (pyarrow kernels) writes exactly the bytes pandas' to_csv writes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthgen.io.csv_fast import _CSV_OPTS, _csv_bytes

TEXT = st.text(alphabet=st.sampled_from(list('ab ,"\n\r\té€x') + ["\u2028"]), max_size=6)


@st.composite
def frames(draw) -> pd.DataFrame:
    n = draw(st.integers(0, 12))
    columns = {}
    for i in range(draw(st.integers(2, 4))):
        kind = draw(st.sampled_from(["text", "int", "Int64", "float", "bool", "category"]))
        if kind == "text":
            values = draw(st.lists(st.none() | TEXT, min_size=n, max_size=n))
            columns[f"t{i}"] = pd.Series(values, dtype=object)
        elif kind == "int":
            values = draw(st.lists(st.integers(-(2**63), 2**63 - 1), min_size=n, max_size=n))
            columns[f"i{i}"] = pd.Series(values, dtype="int64")
        elif kind == "Int64":
            values = draw(st.lists(st.none() | st.integers(-1000, 1000), min_size=n, max_size=n))
            columns[f"n{i}"] = pd.Series(values, dtype="Int64")
        elif kind == "float":
            values = draw(st.lists(st.floats(width=64), min_size=n, max_size=n))
            columns[f"f{i}"] = pd.Series(values, dtype="float64")
        elif kind == "bool":
            values = draw(st.lists(st.booleans(), min_size=n, max_size=n))
            columns[f"b{i}"] = pd.Series(values, dtype=bool)
        else:
            cats = draw(st.lists(TEXT, min_size=1, max_size=4, unique=True))
            codes = draw(st.lists(st.integers(-1, len(cats) - 1), min_size=n, max_size=n))
            columns[f"c,{i}"] = pd.Categorical.from_codes(codes, cats)
    return pd.DataFrame(columns)


@settings(max_examples=150, deadline=None)
@given(frames(), st.booleans())
def test_same_bytes_as_pandas(frame, header):
    expected = frame.to_csv(header=header, **_CSV_OPTS).encode("utf-8")
    assert _csv_bytes(frame, header) == expected


def test_types_it_cannot_match_are_left_to_pandas():
    stamps = [pd.Timestamp("2020-01-01"), pd.Timestamp("2020-01-02 03:00")]
    dates = pd.DataFrame({"a": [1, 2], "d": stamps})
    assert _csv_bytes(dates, True) is None
    mixed = pd.DataFrame({"a": [1, 2], "o": ["x", 3]})
    assert _csv_bytes(mixed, True) is None
    assert _csv_bytes(pd.DataFrame({"a": ["", None]}), True) is None  # a lone empty field


@pytest.mark.parametrize("n", [0, 1, 1000])
def test_sizes(n):
    rng = np.random.default_rng(n)
    frame = pd.DataFrame({"x": rng.normal(size=n), "k": rng.integers(0, 5, n).astype(str)})
    assert _csv_bytes(frame, True) == frame.to_csv(**_CSV_OPTS).encode()
