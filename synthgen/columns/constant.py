"""Constant columns: one value, and nulls (whose pattern takes part in the model)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from synthgen.columns.base import NULL_SUFFIX, Part, RowRandom, null_mask
from synthgen.schema import Column


def fit(values: pd.Series, col: Column) -> dict[str, Any]:
    return {"has_nulls": bool(null_mask(values).any()) and col.value is not None}


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
