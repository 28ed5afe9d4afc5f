"""Boolean columns: two values (written as True/False, yes/no, ...) and nulls.

Detected from a bool dtype or two texts that are a true/false pair. Encoded like a categorical
column of two categories (codes 0 false, 1 true, `NULL_CODE` null), without rare-value protection
(a yes/no is not identifying on its own); decoded to the spelling or dtype the input had.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from synthgen.columns.base import (
    Column,
    Counted,
    Evidence,
    InRules,
    Kind,
    Part,
    RowRandom,
    as_given,
    as_source_dtype,
    has_nulls,
    null_mask,
    refill,
)
from synthgen.errors import SchemaError

#: The code of null (after false 0 and true 1), when the column has nulls.
NULL_CODE = 2
# Text spellings of booleans, lower-cased; the pair as written is kept in the schema.
_BOOL_PAIRS = [("true", "false"), ("yes", "no"), ("t", "f"), ("y", "n")]


def _bool_pair(uniques: Any) -> tuple[str, str] | None:
    lowered = {str(u).lower(): str(u) for u in uniques}
    for true, false in _BOOL_PAIRS:
        if set(lowered) == {true, false}:
            return lowered[true], lowered[false]
    return None


def claims(ev: Evidence) -> bool:
    """A bool dtype, or two distinct texts that are a true/false pair (yes/no, T/F, ...)."""
    if ev.stripped is None:
        return pd.api.types.is_bool_dtype(ev.values.dtype)
    return ev.n_unique == 2 and _bool_pair(ev.stripped) is not None


def fill(col: Column, values: pd.Series, ev: Evidence) -> None:
    """How true and false are written."""
    if pd.api.types.is_bool_dtype(values.dtype):
        col.true_value, col.false_value = True, False
        return
    pair = _bool_pair(values.astype(str).str.strip().unique())
    if pair is None:
        pair = _bool_pair(values.astype(str).unique())
    if pair is None:
        raise SchemaError(
            f"column {col.name!r} is boolean but its values are not a true/false pair"
        )
    col.true_value, col.false_value = pair


def _is_true(values: pd.Series, col: Column) -> np.ndarray:
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.fillna(False).to_numpy(dtype=bool)
    true = str(col.true_value).strip().lower()
    codes, uniques = pd.factorize(values.to_numpy(dtype=object))
    if all(isinstance(u, str) for u in uniques):  # text: each distinct spelling read once
        hit = np.array([u.strip().lower() == true for u in uniques] + [False], dtype=bool)
        return hit[codes]  # code -1 (null) takes the False at the end
    # typed values (True and 1 are one key to factorize, not to str)
    text = values.astype(object).map(lambda v: str(v).strip().lower() if v is not None else v)
    return (text == true).to_numpy(dtype=bool)


def fit(
    values: pd.Series,
    col: Column,
    rare_threshold: int = 0,
    counted: Counted | None = None,
) -> dict[str, Any]:
    return {
        "has_nulls": has_nulls(values, counted),
        "typed": pd.api.types.is_bool_dtype(values.dtype) or isinstance(col.true_value, bool),
    }


def parts(name: str, state: dict[str, Any]) -> list[Part]:
    return [Part(name, 2 + int(state["has_nulls"]))]


def encode(values: pd.Series, col: Column, state: dict[str, Any], rng: np.random.Generator) -> list:
    codes = _is_true(values, col).astype(np.int64)
    if state["has_nulls"]:
        codes[null_mask(values)] = NULL_CODE
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
    missing = codes == NULL_CODE
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


def typed(values: pd.Series, col: Column) -> pd.Series:
    """pandas "boolean" (True/False/NA), whatever the spelling."""
    out = pd.arrays.BooleanArray(_is_true(values, col), null_mask(values))
    return pd.Series(out, index=values.index, name=values.name)


def compared(values: pd.Series, col: Column) -> tuple[np.ndarray, bool]:
    """True/False/None, whatever the spelling (so never keys that came from text)."""
    keys = _is_true(values, col).astype(object)
    keys[null_mask(values)] = None
    return keys, False


def rule_value(value: Any, col: Column) -> bool:
    """A rule's value (not null) as `compared` writes it: true when written true (JSON's true,
    "true") or as the column writes true.

    Example:
        >>> col = Column("joint", "boolean", true_value="yes", false_value="no")
        >>> rule_value(True, col), rule_value("yes", col), rule_value("no", col)
        (True, True, False)
    """
    return str(value).strip().lower() in ("true", str(col.true_value).strip().lower())


def written(
    parsed: np.ndarray, raw: pd.Series | None, col: Column, state: dict[str, Any]
) -> pd.Series:
    """Booleans for a typed column; else the column's spelling, or given text as given."""
    if state["typed"]:
        return as_source_dtype(pd.Series(parsed == 1), col)
    if raw is None:
        return pd.Series(np.where(parsed == 1, col.true_value, col.false_value), dtype=object)
    return as_given(parsed, raw, col, state)


def from_peer(
    values: pd.Series, col: Column, state: dict[str, Any], rng: np.random.Generator
) -> list[np.ndarray]:
    """A peer's booleans (object, with NaN for null) as the code part."""
    return encode(values.astype("boolean"), col, state, rng)


KIND = Kind(
    name="boolean",
    claims=claims,
    fill=fill,
    refine=partial(refill, fill),
    fit=fit,
    parts=parts,
    encode=encode,
    decode=decode,
    exact_from_counts=True,
    typed=typed,
    parse=parse_values,
    null_code=lambda state: NULL_CODE if state["has_nulls"] else None,
    classes=lambda col, state: [col.false_value, col.true_value],
    choices=lambda col: f"{col.true_value} or {col.false_value}",
    written=written,
    shape="discrete",
    compared=compared,
    rules=InRules("label", values=lambda values, col: compared(values, col)[0], value=rule_value),
    private="keys",
    sdtype="boolean",
    from_peer=from_peer,
)
