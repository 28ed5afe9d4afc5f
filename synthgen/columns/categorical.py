"""Categorical columns, with rare-category protection.

Detected from a pandas Categorical, any other typed column that is not numbers or dates, or text
whose values repeat (few distinct ones, or short labels). Codes: 0..K-1 for the categories safe to
share (most frequent first, or the schema's order), then one code for all rare categories (fewer
rows than the threshold; `rare_code`), then one for null (`null_code`). A rare code decodes to a
draw from the shared categories, so a rare value is never written and no category is ever
invented; only the count of what was suppressed is kept, never the values.
"""

from __future__ import annotations

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
    as_keys,
    has_nulls,
    null_mask,
)
from synthgen.errors import InputError

#: What a rare category becomes on its way to a peer library (SDV): the peer learns how often "some
#: rare value" occurs, and decoding replaces it by a shared category, as for synthgen's models.
RARE_PLACEHOLDER = "\x1frare"


def claims(ev: Evidence) -> bool:
    """Any typed column the kinds before did not claim (a pandas Categorical, objects); text
    whose values repeat, unless most rows hold values seen in a handful of rows."""
    if ev.text is None:
        return True
    return not ev.mostly_one_offs and ev.repeats


def fit(
    values: pd.Series,
    col: Column,
    rare_threshold: int = 0,
    counted: Counted | None = None,
) -> dict[str, Any]:
    """The categories and their frequencies; with `counted` (the whole table's counts of a
    sample's column) the frequencies, and so the rare ones, of every row."""
    if counted is not None and counted.counts is not None:
        counts = counted.counts.sort_values(ascending=False, kind="stable").to_dict()
    else:
        # a dict: looking 50,000 categories up in a Series one by one takes seconds
        # (every null is dropped: no need to write them as None first)
        counts = values.astype(object).value_counts(dropna=True, sort=True).to_dict()
    state = fit_counts(counts, col, rare_threshold)
    state["has_nulls"] = has_nulls(values, counted)
    state["pandas_categorical"] = isinstance(values.dtype, pd.CategoricalDtype)
    return state


def fit_counts(counts: dict[Any, float], col: Column, rare_threshold: int = 0) -> dict[str, Any]:
    """The categories, their frequencies and the rare ones, from each value's count of rows, most
    frequent first (e.g. counted over a whole table too big to load; see `synthgen.stream`)."""
    if col.categories:
        order = [c for c in col.categories if c in counts]
    else:
        order = list(counts)
    kept = [c for c in order if counts[c] >= rare_threshold]
    rare = [c for c in order if counts[c] < rare_threshold]
    weights = np.array([counts[c] for c in kept], dtype=float)
    return {
        "categories": [_plain(c) for c in kept],
        "probabilities": (weights / weights.sum()).tolist() if len(kept) else [],
        "has_rare": bool(rare),
        "suppressed_categories": len(rare),
        "suppressed_rows": int(sum(counts[c] for c in rare)),
    }


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _cardinality(state: dict[str, Any]) -> int:
    return len(state["categories"]) + int(state["has_rare"]) + int(state["has_nulls"])


def rare_code(state: dict[str, Any]) -> int | None:
    """The code all rare (or unseen) categories share, if any were rare."""
    return len(state["categories"]) if state["has_rare"] else None


def null_code(state: dict[str, Any]) -> int | None:
    """The code of null, if the column has nulls."""
    return len(state["categories"]) + int(state["has_rare"]) if state["has_nulls"] else None


def parts(name: str, state: dict[str, Any]) -> list[Part]:
    return [Part(name, _cardinality(state))]


def encode(values: pd.Series, col: Column, state: dict[str, Any], rng: np.random.Generator) -> list:
    keys = values.to_numpy(dtype=object)  # a null of any spelling finds no category
    k = len(state["categories"])
    codes = _index(state["categories"]).get_indexer(keys).astype(np.int64)
    unmatched = np.flatnonzero(codes < 0)  # only these can be null (a slow test on text)
    missing = null_mask(keys[unmatched])
    codes[unmatched[~missing]] = k  # rare (or unseen) values share the rare code
    if state["has_nulls"]:
        codes[unmatched[missing]] = null_code(state)
    return [codes]


def _code_type(k: int) -> type:
    """The integer type a pandas Categorical of k categories keeps its codes in (so none is
    copied), wide enough for the rare and null codes k and k + 1 before they are replaced."""
    return np.int8 if k + 2 < 127 else np.int16 if k + 2 < 32767 else np.int32


def _index(categories: list[Any]) -> pd.Index:
    return pd.Index(categories, dtype=object)


def decode(
    arrays: list[np.ndarray],
    col: Column,
    state: dict[str, Any],
    rows: RowRandom,
    as_category: bool = False,
) -> pd.Series:
    """The categories (object dtype, or a pandas Categorical when the input had one or when
    `as_category` asks for it: no object array is made then, which is much faster)."""
    k = len(state["categories"])
    codes = np.asarray(arrays[0]).astype(_code_type(k))
    if k == 0:  # every category was rare: nothing is safe to write
        codes[:] = -1
    else:
        if state["has_rare"]:
            where = np.flatnonzero(codes == k)
            if len(where):
                codes[where] = rows.take(where).choice(state["probabilities"])
        if state["has_nulls"]:
            codes[codes == null_code(state)] = -1
    if as_category or state["pandas_categorical"]:
        dtype = pd.CategoricalDtype(_index(state["categories"]), ordered=bool(col.ordered))
        return pd.Series(pd.Categorical.from_codes(codes, dtype=dtype, validate=False))
    table = np.array(state["categories"] + [None], dtype=object)
    return pd.Series(table[codes], dtype=object)  # code -1 picks the last entry: None


def parse_values(values: pd.Series, col: Column, state: dict[str, Any]) -> np.ndarray:
    """Codes of given values: -1 where not a category the model can write, -2 where missing.

    A value matches a category as written, else ignoring surrounding spaces, else ignoring case
    too (adult.csv writes " >50K"; a user types ">50K"). A loose match must be unambiguous.
    """
    categories = state["categories"]
    exact = {c: i for i, c in enumerate(categories)}
    loose: list[dict[str, int]] = [{}, {}]
    for i, c in enumerate(categories):
        for level, key in enumerate((str(c).strip(), str(c).strip().casefold())):
            loose[level][key] = -3 if key in loose[level] else i
    keys = as_keys(values)
    out = np.full(len(keys), -2, dtype=np.int64)
    for i, value in enumerate(keys):
        if value is None:
            continue
        code = exact.get(value, -1) if _hashable(value) else -1
        if code < 0:
            text = str(value).strip()
            code = loose[0].get(text, loose[1].get(text.casefold(), -1))
        if code == -3:
            close = [
                c for c in categories if str(c).strip().casefold() == str(value).strip().casefold()
            ]
            raise InputError(
                f"column {col.name!r}: {value!r} could be any of {close}; write it exactly"
            )
        out[i] = code
    return out


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def to_peer(values: pd.Series, col: Column, state: dict[str, Any]) -> np.ndarray:
    """The keys a peer library learns: rare categories as one `RARE_PLACEHOLDER`, never as
    themselves, so the peer's saved model cannot hold them either."""
    keys = as_keys(values)
    if state["has_rare"]:
        keys = keys.where(keys.isin(state["categories"]) | keys.isna(), RARE_PLACEHOLDER)
    return keys.to_numpy()


KIND = Kind(
    name="categorical",
    claims=claims,
    fit=fit,
    parts=parts,
    encode=encode,
    decode=decode,
    exact_from_counts=True,
    typed=lambda values, col: as_keys(values),
    parse=parse_values,
    null_code=null_code,
    rare_code=rare_code,
    classes=lambda col, state: state["categories"],
    shape="discrete",
    rare_check="codes",
    rules=InRules("label"),
    private="keys",
    sdtype="categorical",
    to_peer=to_peer,
)
