"""Tables as typed values the report can compare: raw text frames and typed frames alike.

`read_table` gives text exactly as written; a model's `.sample()` gives typed columns (Int64,
float64, bool, datetime64) or text written like the input. Both are turned into the same values
here, through the schema and the column modules' own parsing, so that "3" and 3 are one value.

Example:
    >>> import pandas as pd
    >>> from synthgen.schema import detect
    >>> raw = pd.DataFrame({"n": ["1", "2", None, "4"] * 5, "c": ["a", "b", "a", None] * 5})
    >>> table = prepare(raw, detect(raw))
    >>> table["n"].x[:4].tolist(), table["c"].x[:4].tolist()
    ([1.0, 2.0, nan, 4.0], ['a', 'b', 'a', None])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from synthgen.columns import boolean, categorical, datetime, numeric
from synthgen.columns.base import null_mask
from synthgen.errors import InputError
from synthgen.schema import Column, Schema

# How the report treats each kind, as SDMetrics does: numbers and dates are continuous; categories,
# booleans and constants are discrete; keys and free text are left out of the comparison.
SHAPES = {
    "numeric": "continuous",
    "datetime": "continuous",
    "categorical": "discrete",
    "boolean": "discrete",
    "constant": "discrete",
}


# A value seen in fewer real rows than this is rare: the report counts it but never writes it
# out (synthgen's default rare-category threshold).
RARE_ROWS = 5


@dataclass
class Values:
    """One column as compared: floats (NaN for null) if continuous, else keys (None for null)
    with their codes: the index in `categories` (the real table's distinct keys, most frequent
    first), K and up for keys the real table lacks, -1 for null."""

    name: str
    kind: str
    x: np.ndarray
    text: bool  # the keys came from text (not typed values)
    codes: np.ndarray | None = None
    categories: pd.Index | None = None

    @property
    def shape(self) -> str:
        return SHAPES[self.kind]

    @property
    def missing(self) -> np.ndarray:
        if self.codes is not None:
            return self.codes < 0
        if self.shape == "continuous":
            return np.isnan(self.x)
        return null_mask(self.x)


class Prepared(dict):
    """Column name -> Values, for the columns the report compares, in schema order."""

    n_rows: int = 0


def compared_columns(schema: Schema) -> list[Column]:
    """The schema's columns the report compares (not keys, not free text)."""
    return [c for c in schema.columns if c.kind in SHAPES]


def prepare(
    table: pd.DataFrame, schema: Schema, role: str = "synthetic", like: Prepared | None = None
) -> Prepared:
    """The compared columns of `table` as `Values`; `role` names the table in errors. With
    `like` (the prepared real table), discrete keys are written the way the real ones are."""
    missing = [c.name for c in compared_columns(schema) if c.name not in table.columns]
    if missing:
        raise InputError(f"the {role} table lacks column(s) {missing} that the real table has")
    out = Prepared()
    out.n_rows = len(table)
    for col in compared_columns(schema):
        values = _values(table[col.name], col)
        if values.shape == "discrete":
            if like is None:
                values = _own_codes(values)
            else:
                values = _codes_like(like[col.name], _align(like[col.name], values))
        out[col.name] = values
    return out


def _own_codes(v: Values) -> Values:
    counts = pd.Series(v.x, dtype=object).value_counts(dropna=True)
    categories = pd.Index(counts.index, dtype=object)
    v.categories = categories
    v.codes = categories.get_indexer(v.x).astype(np.int64)
    return v


def _codes_like(real: Values, v: Values) -> Values:
    assert real.categories is not None
    k = len(real.categories)
    codes = real.categories.get_indexer(v.x).astype(np.int64)
    unseen = (codes < 0) & ~null_mask(v.x)
    if unseen.any():
        codes[unseen] = k + pd.factorize(v.x[unseen])[0]
    v.categories = real.categories
    v.codes = codes
    return v


def _values(series: pd.Series, col: Column) -> Values:
    text = series.dtype == object or pd.api.types.is_string_dtype(series.dtype)
    if col.kind == "numeric":
        if text:  # parse each distinct text once: most numeric columns repeat their values
            codes, uniques = pd.factorize(series.to_numpy(dtype=object), use_na_sentinel=True)
            parsed = numeric.to_float(pd.Series(uniques, dtype=object), col)
            x = np.append(parsed, np.nan)[codes]  # code -1 (null) takes the NaN at the end
        else:
            x = numeric.to_float(series, col)
        x = np.where(np.isinf(x), np.nan, x)  # an infinity has no place on a histogram
        return Values(col.name, col.kind, x, text)
    if col.kind == "datetime":
        return Values(col.name, col.kind, datetime.to_seconds(series, col), text)
    if col.kind == "boolean":
        keys = boolean._is_true(series, col).astype(object)
        keys[null_mask(series)] = None
        return Values(col.name, col.kind, keys, False)
    keys = categorical._key(series).to_numpy(dtype=object)
    return Values(col.name, col.kind, keys, text)


def _align(real: Values, synth: Values) -> Values:
    """Synthetic keys written as the real ones are, when one table was read as text and the other
    is typed: a category written "3" in a CSV is the integer 3 of a typed sample."""
    if real.text == synth.text:
        return synth
    if real.text:
        keys = np.array([None if k is None else str(k) for k in synth.x], dtype=object)
    else:
        typed = {str(k): k for k in pd.unique(real.x) if k is not None}
        keys = np.array([None if k is None else typed.get(k, k) for k in synth.x], dtype=object)
    return Values(synth.name, synth.kind, keys, real.text)
