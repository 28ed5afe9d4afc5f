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

from synthgen.columns import KINDS

# A value seen in fewer real rows than RARE_ROWS is rare: the report counts it but never writes it
# out (synthgen's default rare-category threshold).
from synthgen.columns.base import RARE_ROWS as RARE_ROWS
from synthgen.columns.base import Column, null_mask
from synthgen.errors import InputError
from synthgen.schema import Schema

# How the report treats each kind is the kind's `shape`, as SDMetrics does: numbers and dates are
# continuous; categories, booleans and constants are discrete; keys and free text are left out.


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
        shape = KINDS[self.kind].shape
        assert shape is not None, f"the report does not compare {self.kind} columns"
        return shape

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


def mid_ranks(sorted_real: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Mid-rank of each value among the real values (sorted), in [0, 1]: the scale on which the
    report's distances (and cart's nearness check) compare numbers.

    Example:
        >>> mid_ranks(np.array([1.0, 2.0, 2.0, 3.0]), np.array([2.0, 2.5, 0.0])).tolist()
        [0.5, 0.75, 0.0]
    """
    if not len(sorted_real):
        return np.full(len(x), 0.5)
    below = np.searchsorted(sorted_real, x, side="left")
    upto = np.searchsorted(sorted_real, x, side="right")
    return (below + upto) / (2.0 * len(sorted_real))


def compared_columns(schema: Schema) -> list[Column]:
    """The schema's columns the report compares (not keys, not free text)."""
    return [c for c in schema.columns if KINDS[c.kind].shape is not None]


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
    x, text = KINDS[col.kind].compared(series, col)
    return Values(col.name, col.kind, x, text)


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
