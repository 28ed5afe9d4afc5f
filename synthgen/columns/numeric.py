"""Numeric columns: integers and floats, with their decimals, bounds and nulls.

Encoded as one continuous part (nulls filled by draws from observed values) plus, when the column
has nulls, a discrete null indicator that takes part in the model's dependence.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from synthgen.columns.base import Part, RowRandom, fill_from_observed
from synthgen.errors import InputError
from synthgen.schema import Column


def to_float(values: pd.Series, name: str) -> np.ndarray:
    """Numbers (or their text) as float64, NaN where null; a word among numbers is an error."""
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        return values.astype("float64").to_numpy(na_value=np.nan)
    # each distinct text is parsed once: a 32k-row column has a few hundred
    codes, uniques = pd.factorize(values.astype(object), use_na_sentinel=True)
    parsed = pd.to_numeric(pd.Series(uniques, dtype=object).map(_strip), errors="coerce")
    parsed = parsed.to_numpy(dtype=float, na_value=np.nan)
    bad = np.isnan(parsed)
    if bad.any():
        raise InputError(f"column {name!r} is numeric but has the value {uniques[bad][0]!r}")
    return np.where(codes >= 0, parsed[np.maximum(codes, 0)], np.nan)


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def fit(values: pd.Series, col: Column) -> dict[str, Any]:
    x = to_float(values, col.name)
    missing = np.isnan(x)
    finite = x[~missing]
    return {
        "integer": bool(col.integer),
        "decimals": col.decimals,
        "min": float(col.min if col.min is not None else (finite.min() if len(finite) else 0)),
        "max": float(col.max if col.max is not None else (finite.max() if len(finite) else 0)),
        "has_nulls": bool(missing.any()),
    }


def parts(name: str, state: dict[str, Any]) -> list[Part]:
    return continuous_parts(name, state)


def continuous_parts(name: str, state: dict[str, Any]) -> list[Part]:
    """A continuous part, and a null indicator when the column had nulls (shared with datetime)."""
    out = [Part(name)]
    if state["has_nulls"]:
        out.append(Part(f"{name}\x1fnull", 2))
    return out


def encode(values: pd.Series, col: Column, state: dict[str, Any], rng: np.random.Generator) -> list:
    return encode_continuous(to_float(values, col.name), state, rng)


def encode_continuous(x: np.ndarray, state: dict[str, Any], rng: np.random.Generator) -> list:
    missing = np.isnan(x)
    # inf has no place in a marginal; it is treated as the nearest bound
    x = np.clip(x, state["min"], state["max"])
    out: list[np.ndarray] = [fill_from_observed(x, missing, rng)]
    if state["has_nulls"]:
        out.append(missing.astype(np.int64))
    return out


def decode_continuous(
    arrays: list[np.ndarray], state: dict[str, Any]
) -> tuple[np.ndarray, np.ndarray]:
    """The clipped values and the null mask (shared with datetime)."""
    x = np.clip(np.asarray(arrays[0], dtype=float), state["min"], state["max"])
    missing = arrays[1].astype(bool) if state["has_nulls"] else np.zeros(len(x), dtype=bool)
    return x, missing


def decode(
    arrays: list[np.ndarray], col: Column, state: dict[str, Any], rows: RowRandom
) -> pd.Series:
    x, missing = decode_continuous(arrays, state)
    if state["integer"]:
        ints = np.rint(x).astype(np.int64)
        if state["has_nulls"]:  # one dtype for every chunk, drawn nulls or not
            return pd.Series(pd.arrays.IntegerArray(ints, missing))
        return pd.Series(ints)
    if state["decimals"] is not None:
        x = np.round(x, state["decimals"])
    x[missing] = np.nan
    return pd.Series(x)


def parse_values(values: pd.Series, col: Column, state: dict[str, Any]) -> np.ndarray:
    """Given values (a condition's, or cells of rows to fill) as floats, NaN where missing."""
    return to_float(values, col.name)


def grid(state: dict[str, Any]) -> float:
    """The spacing of the values decoding writes (1 for integers, 0.01 for 2 decimals); 0 when
    any float can come out."""
    if state["integer"]:
        return 1.0
    return 10.0 ** -state["decimals"] if state["decimals"] is not None else 0.0
