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


@dataclass
class Values:
    """One column as compared: floats (NaN for null) if continuous, else keys (None for null)."""

    name: str
    kind: str
    x: np.ndarray
    text: bool  # the keys came from text (not typed values)

    @property
    def shape(self) -> str:
        return SHAPES[self.kind]

    @property
    def missing(self) -> np.ndarray:
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
        if like is not None and values.shape == "discrete":
            values = _align(like[col.name], values)
        out[col.name] = values
    return out


def _values(series: pd.Series, col: Column) -> Values:
    text = series.dtype == object or pd.api.types.is_string_dtype(series.dtype)
    if col.kind == "numeric":
        x = numeric.to_float(series, col.name)
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
