"""Numeric columns: integers and floats, with their decimals, bounds and nulls.

Encoded as one continuous part (nulls filled by draws from observed values) plus, when the column
has nulls, a discrete null indicator that takes part in the model's dependence.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from synthgen.columns.base import NULL_SUFFIX, Part, RowRandom, fill_from_observed, null_mask
from synthgen.errors import InputError
from synthgen.schema import Column


def to_float(values: pd.Series, col: Column | str) -> np.ndarray:
    """Numbers (or their text) as float64, NaN where null; a word among numbers is an error.

    Text is read the way the column writes numbers: pass the `Column` so that its thousands
    separator and decimal mark apply ("1,234.5", "1.234,5"); a bare name reads plain numbers.
    Each distinct text is parsed once.

    Example:
        >>> to_float(pd.Series(["1.234,5", None]), Column("x", "numeric", thousands=".", decimal=","))
        array([1234.5,    nan])
    """
    name = col if isinstance(col, str) else col.name
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        return values.astype("float64").to_numpy(na_value=np.nan)
    codes, uniques = pd.factorize(values.astype(object).to_numpy(), use_na_sentinel=True)
    # numbers among the objects stay numbers: a float through its text could move by one ulp
    text = [u.strip() if isinstance(u, str) else u for u in uniques]
    numbers = (
        parse_numbers(text)
        if isinstance(col, str)
        else parse_numbers(text, thousands=col.thousands, decimal=col.decimal)
    )
    bad = np.flatnonzero(np.isnan(numbers))
    if len(bad):
        raise InputError(
            f"column {name!r} is numeric but has the value {uniques[bad[0]]!r}; fix that value, "
            "or give the column another kind in a --schema file"
        )
    out = numbers[codes]
    out[codes < 0] = np.nan
    return out


def parse_numbers(
    text: list[Any], *, thousands: str | None = None, decimal: str | None = None
) -> np.ndarray:
    """Stripped number texts as floats (NaN where one is not a number), after dropping the
    thousands separator and reading `decimal` as the decimal mark; numbers pass as they are.

    Example:
        >>> parse_numbers(["1,234", "-5", "inf", "x"], thousands=",")
        array([1234.,   -5.,   inf,   nan])
    """
    if thousands:
        text = [t.replace(thousands, "") if isinstance(t, str) else t for t in text]
    if decimal and decimal != ".":
        text = [t.replace(decimal, ".") if isinstance(t, str) else t for t in text]
    if not len(text):
        return np.empty(0)
    return np.asarray(pd.to_numeric(np.asarray(text, dtype=object), errors="coerce"), dtype=float)


# Integers are decoded as int64; a column whose bounds lie outside is decoded as floats.
_INT64 = 2.0**63


def _float_within(bound: float | int, up: bool) -> float:
    """`bound` as a float on its inner side: past 2**53 floats skip integers, and the nearest
    float to a column's largest integer may be larger than it.

    Example:
        >>> _float_within(2**54 - 1, up=False) <= 2**54 - 1 < float(2**54 - 1)
        True
    """
    x = float(bound)
    if up and x < bound:
        return float(np.nextafter(x, np.inf))
    if not up and x > bound:
        return float(np.nextafter(x, -np.inf))
    return x


def fit(values: pd.Series, col: Column) -> dict[str, Any]:
    lo, hi = col.min, col.max
    if lo is None or hi is None:  # a schema without bounds (or no finite value): from the data
        x = to_float(values, col)
        finite = x[np.isfinite(x)]
        lo = finite.min() if lo is None and len(finite) else lo or 0
        hi = finite.max() if hi is None and len(finite) else hi or 0
    lo, hi = _float_within(lo, up=True), _float_within(hi, up=False)
    return {
        "integer": bool(col.integer) and -_INT64 <= lo and hi < _INT64,
        "decimals": col.decimals,
        "min": lo,
        "max": hi,
        "has_nulls": bool(null_mask(values).any()),
    }


def parts(name: str, state: dict[str, Any]) -> list[Part]:
    return continuous_parts(name, state)


def continuous_parts(name: str, state: dict[str, Any]) -> list[Part]:
    """A continuous part, and a null indicator when the column had nulls (shared with datetime)."""
    out = [Part(name)]
    if state["has_nulls"]:
        out.append(Part(f"{name}{NULL_SUFFIX}", 2))
    return out


def encode(values: pd.Series, col: Column, state: dict[str, Any], rng: np.random.Generator) -> list:
    return encode_continuous(to_float(values, col), state, rng)


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
    """The clipped values (a new array) and the null mask (shared with datetime)."""
    x = np.maximum(np.asarray(arrays[0], dtype=float), state["min"])
    np.minimum(x, state["max"], out=x)
    missing = arrays[1].astype(bool) if state["has_nulls"] else np.zeros(len(x), dtype=bool)
    return x, missing


def decode(
    arrays: list[np.ndarray], col: Column, state: dict[str, Any], rows: RowRandom
) -> pd.Series:
    x, missing = decode_continuous(arrays, state)
    if state["integer"]:
        ints = np.rint(x, out=x).astype(np.int64)
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
