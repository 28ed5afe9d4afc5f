"""Key-like columns (unique values): new keys of the same shape, never a real one.

Integer keys continue after the real maximum. Text keys follow the most common shape of the real
ones ("AB-1234" -> "AA-9999": A letter, 9 digit, other characters kept), drawn through a bijection
of the row number, so they are unique across chunks and reproducible without storing real keys.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pandas as pd

from synthgen.columns.base import NULL_SUFFIX, Part, RowRandom, null_mask
from synthgen.schema import Column

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_DIGITS = np.array(list("0123456789"))
_UPPER = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
_LOWER = np.array(list("abcdefghijklmnopqrstuvwxyz"))
_HEX = np.array(list("0123456789abcdef"))
_ALPHABETS = {"9": _DIGITS, "A": _UPPER, "a": _LOWER}
_UUID_GROUPS = ((0, 8), (8, 12), (12, 16), (16, 20), (20, 32))


def shape_of(values: pd.Series) -> str:
    """The most common shape of the keys: 'uuid', or a template of A/a/9 and literal characters."""
    text = values.astype(str)
    if text.str.match(_UUID).all():
        return "uuid"
    shapes = text.str.replace(r"[A-Z]", "A", regex=True).str.replace(r"[a-z]", "a", regex=True)
    shapes = shapes.str.replace(r"[0-9]", "9", regex=True)
    return str(shapes.value_counts().index[0])


def fit(values: pd.Series, col: Column) -> dict[str, Any]:
    text = values.dtype == object or pd.api.types.is_string_dtype(values.dtype)
    return {"has_nulls": bool(null_mask(values).any()), "typed": not text}


def parts(name: str, state: dict[str, Any]) -> list[Part]:
    return [Part(f"{name}{NULL_SUFFIX}", 2)] if state["has_nulls"] else []


def encode(values: pd.Series, col: Column, state: dict[str, Any], rng: np.random.Generator) -> list:
    return [null_mask(values).astype(np.int64)] if state["has_nulls"] else []


def _permute(index: np.ndarray, space: int, salt: int) -> np.ndarray:
    """A bijection of [0, space): an affine map with a multiplier coprime to the space."""
    multiplier = 6364136223846793005 % space or 1
    while math.gcd(multiplier, space) != 1:  # Python ints: spaces beyond int64 happen
        multiplier += 1
    return (index.astype(object) * multiplier + salt) % space


def generate(col: Column, rows: RowRandom) -> np.ndarray:
    """New keys for rows `rows.start` .. `rows.start + rows.n - 1`."""
    start, n = rows.start, rows.n
    index = np.arange(start, start + n, dtype=np.int64)
    pattern = col.pattern or "integer"
    if pattern == "integer":
        base = int(col.max if col.max is not None else 0) + 1
        return base + index
    if pattern == "uuid":
        raw = (rows.uniform(32) * 16).astype(np.int64)
        raw[:, 12] = 4
        chars = np.ascontiguousarray(_HEX[raw])
        groups = [chars[:, a:b].copy().view(f"U{b - a}")[:, 0] for a, b in _UUID_GROUPS]
        out = groups[0]
        for group in groups[1:]:
            out = np.char.add(np.char.add(out, "-"), group)
        return out.astype(object)
    alphabets = [_ALPHABETS.get(ch) for ch in pattern]
    radices = [len(a) for a in alphabets if a is not None]
    space = math.prod(radices)
    # too few shapes for unique keys: widen with digits. Decided by the whole sample's size,
    # never the chunk's, so a row's key does not depend on how the sample is chunked.
    if space < 10 * rows.total:
        pattern = pattern + "9" * max(1, len(str(rows.total)))
        return generate(Column(name=col.name, kind="id", pattern=pattern), rows)
    codes = _permute(index, space, (rows.seed * 7919) % space)
    out = np.full(n, "", dtype=object)
    pieces = []
    for alphabet in reversed(alphabets):
        if alphabet is None:
            pieces.append(None)
            continue
        digit = (codes % len(alphabet)).astype(np.int64)
        codes = codes // len(alphabet)
        pieces.append(alphabet[digit])
    for ch, piece in zip(pattern, reversed(pieces)):
        out = out + (piece.astype(object) if piece is not None else ch)
    return out


def decode(
    arrays: list[np.ndarray], col: Column, state: dict[str, Any], rows: RowRandom
) -> pd.Series:
    keys = generate(col, rows)
    missing = arrays[0].astype(bool) if state["has_nulls"] else np.zeros(rows.n, dtype=bool)
    if col.pattern == "integer":
        if state["typed"] or state["has_nulls"]:  # one dtype for every chunk
            return pd.Series(pd.arrays.IntegerArray(keys.astype(np.int64), missing))
        return pd.Series(keys.astype(np.int64))
    keys = keys.astype(object)
    keys[missing] = None
    return pd.Series(keys, dtype=object)
