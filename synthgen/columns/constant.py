"""Constant columns: one value, and nulls (whose pattern takes part in the model).

Detected where a column has one distinct value (or none: a column of nulls only).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from synthgen.columns.base import (
    NULL_SUFFIX,
    Column,
    Counted,
    Evidence,
    InRules,
    Kind,
    Part,
    RowRandom,
    has_nulls,
    null_mask,
)


def claims(ev: Evidence) -> bool:
    """One distinct value."""
    return ev.n_unique == 1


def fill(col: Column, values: pd.Series, ev: Evidence) -> None:
    """The value, as JSON holds it: a date (or any other object) as its text, which decoding
    puts back into the column's dtype."""
    first = values.iloc[0]
    value = first.item() if isinstance(first, np.generic) else first
    col.value = value if isinstance(value, (bool, int, float, str)) else str(value)


def fit(
    values: pd.Series,
    col: Column,
    rare_threshold: int = 0,
    counted: Counted | None = None,
) -> dict[str, Any]:
    # a null indicator only beside a value: a column of nulls only is all null anyway
    return {"has_nulls": has_nulls(values, counted) and col.value is not None}


def parts(name: str, state: dict[str, Any]) -> list[Part]:
    return [Part(f"{name}{NULL_SUFFIX}", 2)] if state["has_nulls"] else []


def encode(values: pd.Series, col: Column, state: dict[str, Any], rng: np.random.Generator) -> list:
    return [null_mask(values).astype(np.int64)] if state["has_nulls"] else []


def decode(
    arrays: list[np.ndarray],
    col: Column,
    state: dict[str, Any],
    rows: RowRandom,
    as_category: bool = False,
) -> pd.Series:
    """The value (a pandas Categorical of one category with `as_category`), null where the
    model says."""
    if as_category and col.value is not None:
        codes = np.zeros(rows.n, dtype=np.int8)
        if state["has_nulls"]:
            codes[arrays[0].astype(bool)] = -1
        return pd.Series(pd.Categorical.from_codes(codes, [col.value]))
    out = np.full(rows.n, col.value, dtype=object)
    if state["has_nulls"]:
        out[arrays[0].astype(bool)] = None
    return pd.Series(out, dtype=object)


KIND = Kind(
    name="constant",
    claims=claims,
    fill=fill,
    fit=fit,
    parts=parts,
    encode=encode,
    decode=decode,
    shape="discrete",
    rare_check="codes",
    rules=InRules("single"),
)
