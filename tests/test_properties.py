"""Property tests: random mixed-type tables (nulls, rare categories, extremes, ints, floats with
decimals, dates, booleans, text, constants) through fit -> save -> load -> sample.

The normal suite runs a few dozen examples; `--hypothesis-profile=long` (or
SYNTHGEN_HYPOTHESIS=long) runs many more (profiles in tests/conftest.py).
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import synthgen  # noqa: E402

RARE = 5  # the default rare-category threshold
CATEGORIES = ["a", "b", "c", "  spaced ", "Ωmega", "1", "rare!"]
WORDS = ["red", "green", "blue", "x", "Ünïcode", "long" * 20]
KINDS = ["int", "float", "category", "bool", "datetime", "text", "constant", "all-null"]


@st.composite
def columns(draw, n: int) -> pd.Series:
    kind = draw(st.sampled_from(KINDS))
    nulls = draw(st.booleans())
    mask = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n))) & nulls
    if kind == "int":
        bound = draw(st.sampled_from([5, 1000, 2**40, 2**62]))
        values = draw(st.lists(st.integers(-bound, bound), min_size=n, max_size=n))
        series = pd.Series(values, dtype="int64")
        return series.astype("Int64").mask(mask) if mask.any() else series
    if kind == "float":
        decimals = draw(st.integers(0, 4))
        finite = st.floats(-1e12, 1e12, allow_nan=False).map(lambda x: round(x, decimals))
        extreme = st.sampled_from([1e15, -1e15, np.inf, -np.inf, 0.0])
        values = draw(st.lists(finite | extreme, min_size=n, max_size=n))
        return pd.Series(values, dtype="float64").mask(mask)
    if kind == "category":
        values = draw(st.lists(st.sampled_from(CATEGORIES), min_size=n, max_size=n))
        return pd.Series(values, dtype=object).mask(mask, None)
    if kind == "bool":
        series = pd.Series(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
        return series.astype("boolean").mask(mask) if mask.any() else series
    if kind == "datetime":
        day = st.integers(0, 80_000).map(
            lambda d: pd.Timestamp("1900-01-01") + pd.Timedelta(days=d)
        )
        return pd.Series(draw(st.lists(day, min_size=n, max_size=n))).mask(mask)
    if kind == "text":
        sentence = st.lists(st.sampled_from(WORDS), min_size=1, max_size=6).map(" ".join)
        values = draw(st.lists(sentence, min_size=n, max_size=n))
        return pd.Series(values, dtype=object).mask(mask, None)
    if kind == "constant":
        value = draw(st.sampled_from([7, 2.5, "same", True]))
        return pd.Series([value] * n).mask(mask)
    return pd.Series([None] * n, dtype=object)


@st.composite
def tables(draw) -> pd.DataFrame:
    n = draw(st.integers(2, 60))
    width = draw(st.integers(1, 6))
    return pd.DataFrame({f"c{j}": draw(columns(n)) for j in range(width)})


def _text_like(dtype) -> bool:
    return pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)


def _kept(values: pd.Series) -> set:
    """The values seen in at least RARE rows: the only ones the sample may write verbatim."""
    return {v for v, count in Counter(values.dropna()).items() if count >= RARE}


def check_column(name: str, kind: str, real: pd.Series, synth: pd.Series) -> None:
    assert _text_like(synth.dtype) if _text_like(real.dtype) else synth.dtype == real.dtype, (
        name,
        kind,
        real.dtype,
        synth.dtype,
    )
    had_nulls = bool(real.isna().any())
    values = synth.dropna()
    if kind in ("numeric", "datetime"):
        finite = real[~real.isin([np.inf, -np.inf])].dropna()
        assert not synth.isna().any() or had_nulls, name
        # (values may be none at all: a column missing together with a category column whose
        # every value is rare, and so never written, is missing wherever that one is)
        if len(finite) and len(values):
            assert values.min() >= finite.min() and values.max() <= finite.max(), name
        if pd.api.types.is_integer_dtype(real.dtype):
            assert pd.api.types.is_integer_dtype(synth.dtype), name
    elif kind in ("categorical", "text"):
        per_row = real.dropna().str.split().map(set).explode()  # a word counts once per row
        kept = _kept(real) if kind == "categorical" else _kept(per_row)
        whole = real.dropna().str.split().map(" ".join)
        if kind == "categorical" and kept or kind == "text" and _kept(whole):
            assert not synth.isna().any() or had_nulls, name
        elif not kept:
            assert values.empty, name  # every value was rare: nothing is safe to write
        words = values if kind == "categorical" else values.str.split().explode()
        assert set(words) <= kept, name
        if kind == "text":  # no value few rows hold is written whole
            assert not set(values) & (set(whole) - _kept(whole)), name
    elif kind in ("boolean", "constant"):
        assert not synth.isna().any() or had_nulls, name
        assert set(values) <= set(real.dropna()), name
    elif kind == "id":
        assert not synth.isna().any() or had_nulls, name
        assert values.is_unique and not set(values) & set(real.dropna()), name


@pytest.mark.parametrize("model_name", ["gaussian-copula", "cart"])
@given(tables(), st.integers(0, 2**32 - 1))
def test_fit_save_load_sample_keeps_the_table_shape(tmp_path_factory, model_name, real, seed):
    model = synthgen.fit(real, model=model_name, seed=seed)
    path = tmp_path_factory.mktemp("prop") / "m.synthgen"
    model.save(str(path))
    loaded = synthgen.load(str(path))
    n = len(real) + 7
    synth = loaded.sample(n, seed=seed)
    assert list(synth.columns) == list(real.columns) and len(synth) == n
    kinds = {c.name: c.kind for c in loaded.schema_.columns}
    for name in real.columns:
        check_column(name, kinds[name], real[name], synth[name])
    pd.testing.assert_frame_equal(loaded.sample(n, seed=seed), synth)  # same seed, same rows
    pd.testing.assert_frame_equal(model.sample(n, seed=seed), synth)  # the file loses nothing
