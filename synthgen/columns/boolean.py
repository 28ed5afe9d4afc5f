"""Boolean columns: two values (written as True/False, yes/no, ...) and nulls.

Encoded like a categorical column of two categories, without rare-value protection (a yes/no is
not identifying on its own); decoded to the spelling or dtype the input had.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from synthgen.columns.base import Part, RowRandom, null_mask
from synthgen.schema import Column


def _is_true(values: pd.Series, col: Column) -> np.ndarray:
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.fillna(False).to_numpy(dtype=bool)
    text = values.astype(object).map(lambda v: str(v).strip().lower() if v is not None else v)
    return (text == str(col.true_value).strip().lower()).to_numpy(dtype=bool)


def fit(values: pd.Series, col: Column) -> dict[str, Any]:
    return {
        "has_nulls": bool(null_mask(values).any()),
        "typed": pd.api.types.is_bool_dtype(values.dtype) or isinstance(col.true_value, bool),
    }


def parts(name: str, state: dict[str, Any]) -> list[Part]:
    return [Part(name, 2 + int(state["has_nulls"]))]


def encode(values: pd.Series, col: Column, state: dict[str, Any], rng: np.random.Generator) -> list:
    codes = _is_true(values, col).astype(np.int64)
    if state["has_nulls"]:
        codes[null_mask(values)] = 2
    return [codes]


def decode(
    arrays: list[np.ndarray],
    col: Column,
    state: dict[str, Any],
    rows: RowRandom,
    as_category: bool = False,
) -> pd.Series:
    """Booleans, or the two spellings as text (a pandas Categorical with `as_category`)."""
    codes = np.asarray(arrays[0], dtype=np.int64)
    missing = codes == 2
    if state["typed"]:
        if state["has_nulls"]:  # the dtype must not change from chunk to chunk
            return pd.Series(pd.arrays.BooleanArray(codes == 1, missing))
        return pd.Series(codes == 1)
    if as_category:
        return pd.Series(
            pd.Categorical.from_codes(
                np.where(missing, -1, codes), [col.false_value, col.true_value]
            )
        )
    table = np.array([col.false_value, col.true_value, None], dtype=object)
    return pd.Series(table[codes], dtype=object)


_SPELLINGS = {
    "true": 1,
    "yes": 1,
    "y": 1,
    "t": 1,
    "1": 1,
    "false": 0,
    "no": 0,
    "n": 0,
    "f": 0,
    "0": 0,
}


def parse_values(values: pd.Series, col: Column, state: dict[str, Any]) -> np.ndarray:
    """Codes (1 true, 0 false) of given values in any usual spelling; -1 where unreadable,
    -2 where missing."""
    spellings = dict(_SPELLINGS)
    spellings[str(col.true_value).strip().lower()] = 1
    spellings[str(col.false_value).strip().lower()] = 0
    out = np.full(len(values), -2, dtype=np.int64)
    for i, value in enumerate(values.astype(object)):
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            continue
        out[i] = spellings.get(str(value).strip().lower(), -1)
    return out
