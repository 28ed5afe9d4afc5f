"""Constant columns: one value, and nulls (whose pattern takes part in the model)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from synthgen.columns.base import Part, RowRandom, null_mask
from synthgen.schema import Column


def fit(values: pd.Series, col: Column) -> dict[str, Any]:
    return {"has_nulls": bool(null_mask(values).any()) and col.value is not None}


def parts(name: str, state: dict[str, Any]) -> list[Part]:
    return [Part(f"{name}\x1fnull", 2)] if state["has_nulls"] else []


def encode(values: pd.Series, col: Column, state: dict[str, Any], rng: np.random.Generator) -> list:
    return [null_mask(values).astype(np.int64)] if state["has_nulls"] else []


def decode(
    arrays: list[np.ndarray], col: Column, state: dict[str, Any], rows: RowRandom
) -> pd.Series:
    out = np.full(rows.n, col.value, dtype=object)
    if state["has_nulls"]:
        out[arrays[0].astype(bool)] = None
    return pd.Series(out, dtype=object)
