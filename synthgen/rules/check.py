"""Which rows break a rule: vectorised, over text frames (as `read_table` gives them) and typed
frames (a model's `.sample()`) alike, through the schema.

Numbers are compared within their rounding: a sum (an identity, or an order with two terms on
its left) may be off by half a unit of the last decimal of each column it names that has
decimals (integer columns count as exact), plus 1e-9 relative. A row with a missing cell in a
rule's columns breaks no identity, order or monotone rule; dependencies, combinations and the
missing kinds treat missing as a value.

Example:
    >>> import pandas as pd
    >>> from synthgen.rules.model import Rule
    >>> rows = pd.DataFrame({"fare": [5.0, 7.5], "tip": [1.0, 0.5], "total": [6.0, 9.0]})
    >>> broken(Rule("identity", ("fare", "tip", "total"), signs=(1, 1)), rows).tolist()
    [False, True]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from synthgen.columns import boolean, categorical, datetime, numeric
from synthgen.errors import SchemaError
from synthgen.rules.model import Rule

if TYPE_CHECKING:
    from synthgen.schema import Column, Schema

# Relative slack of a sum of floats (their last bits), on top of the columns' rounding.
RELATIVE = 1e-9
# Column kinds whose values are numbers the numeric rules (identity, order, monotone) compare.
NUMBER_KINDS = {"numeric", "datetime"}
# Column kinds whose values are labels (dependency sources, combinations, missing_when sources).
LABEL_KINDS = {"categorical", "boolean", "constant"}


class Typed:
    """A table's columns as the rules compare them, each converted once: numbers (floats, NaN
    for missing; datetimes as seconds) or keys (text or booleans, None for missing).

    Example:
        >>> from synthgen.schema import detect
        >>> raw = pd.DataFrame({"x": ["1.5", None, "3"], "c": ["a", "b", None]})
        >>> t = Typed(raw, detect(raw))
        >>> t.numbers("x").tolist(), t.keys("c").tolist()
        ([1.5, nan, 3.0], ['a', 'b', None])
    """

    def __init__(self, table: pd.DataFrame, schema: Schema):
        self.table = table
        self.schema = schema
        self._columns = {c.name: c for c in schema.columns}
        self._numbers: dict[str, np.ndarray] = {}
        self._keys: dict[str, np.ndarray] = {}
        self._missing: dict[str, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.table)

    def column(self, name: str) -> Column:
        if name not in self._columns:
            raise SchemaError(f"a rule names column {name!r}, which the schema lacks")
        return self._columns[name]

    def series(self, name: str) -> pd.Series:
        if name not in self.table.columns:
            raise SchemaError(f"a rule names column {name!r}, which the table lacks")
        return self.table[name]

    def numbers(self, name: str) -> np.ndarray:
        """The column as floats (datetimes as seconds since 1970), NaN where missing."""
        if name not in self._numbers:
            col = self.column(name)
            read = datetime.to_seconds if col.kind in _DATES else numeric.to_float
            self._numbers[name] = np.asarray(read(self.series(name), col), dtype=float)
        return self._numbers[name]

    def keys(self, name: str) -> np.ndarray:
        """The column as comparable keys: numbers for number kinds (rounded to the column's
        decimals), True/False for booleans, else the text as written (str of typed values)."""
        if name not in self._keys:
            col = self.column(name)
            series = self.series(name)
            if col.kind in NUMBER_KINDS:
                x = self.numbers(name)
                keys = (np.round(x, col.decimals) if col.decimals is not None else x).astype(object)
                keys[np.isnan(x)] = None
            elif col.kind in _BOOLEANS:
                keys = boolean._is_true(series, col).astype(object)
                keys[pd.isna(series).to_numpy()] = None
            else:
                codes, uniques = pd.factorize(categorical._key(series).to_numpy(dtype=object))
                text = np.append(np.array([str(u) for u in uniques], dtype=object), None)
                keys = text[codes]  # code -1 (missing) takes the None at the end
            self._keys[name] = keys
        return self._keys[name]

    def missing(self, name: str) -> np.ndarray:
        if name not in self._missing:
            self._missing[name] = pd.isna(self.series(name)).to_numpy(dtype=bool)
        return self._missing[name]


_DATES = {"datetime"}
_BOOLEANS = {"boolean"}


def broken(
    rule: Rule,
    rows: pd.DataFrame,
    real: pd.DataFrame | None = None,
    schema: Schema | None = None,
) -> np.ndarray:
    """Per row of `rows`, whether it breaks `rule`. The kinds that compare with the real table
    (dependency, combination, monotone) take `real`, the table the rule was found on (without
    it, `rows` is its own reference). `schema` defaults to the one detected on `real` (else
    `rows`).

    Example:
        >>> rows = pd.DataFrame({"a": [1, 2, 3], "b": [2, 2, 1]})
        >>> broken(Rule("order", ("a", "b")), rows).tolist()
        [False, False, True]
    """
    if schema is None:
        from synthgen.schema import detect

        schema = detect((real if real is not None else rows)[list(rule.columns)])
    typed = Typed(rows, schema)
    return broken_in(rule, typed, Typed(real, schema) if real is not None else typed)


def broken_in(rule: Rule, rows: Typed, real: Typed) -> np.ndarray:
    """`broken` on tables already wrapped in `Typed` (so that many rules convert each column
    once)."""
    return _CHECKS[rule.kind](rule, rows, real)


def broken_shares(
    rules: Sequence[Rule], rows: pd.DataFrame, real: pd.DataFrame, schema: Schema
) -> list[float]:
    """The share of `rows` that break each rule (NaN when `rows` is empty).

    Example:
        >>> from synthgen.schema import detect
        >>> t = pd.DataFrame({"a": [1, 2, 3, 4], "b": [2, 2, 5, 1]})
        >>> broken_shares([Rule("order", ("a", "b"))], t, t, detect(t))
        [0.25]
    """
    typed_rows, typed_real = Typed(rows, schema), Typed(real, schema)
    return [
        float(broken_in(rule, typed_rows, typed_real).mean()) if len(rows) else float("nan")
        for rule in rules
    ]


def validate(rules: Sequence[Rule], schema: Schema) -> None:
    """Raise `SchemaError` (one line) when a rule names a column the schema lacks, or a column
    of a kind the rule cannot compare (an identity of text, an order of categories).

    Example:
        >>> from synthgen.schema import Column, Schema
        >>> validate([Rule("order", ("a", "b"))], Schema([Column("a", "numeric")]))
        Traceback (most recent call last):
        ...
        synthgen.errors.SchemaError: rule 'a <= b' names column 'b', which the table lacks
    """
    names = set(schema.names)
    for rule in rules:
        for name in rule.columns:
            if name not in names:
                raise SchemaError(
                    f"rule {rule.text()!r} names column {name!r}, which the table lacks"
                )
        kinds = [schema[name].kind for name in rule.columns]
        wanted = _WANTED.get(rule.kind)
        if wanted is not None:
            bad = [n for n, k in zip(rule.columns, kinds) if k not in wanted]
            if bad:
                raise SchemaError(
                    f"rule {rule.text()!r}: column {bad[0]!r} is {schema[bad[0]].kind}, and a "
                    f"{rule.kind} rule compares {' or '.join(sorted(wanted))} columns"
                )
        dated = [n for n, k in zip(rule.columns, kinds) if k in _DATES]
        if dated and (len(rule.columns) > 2 or len(dated) < len(rule.columns)):
            raise SchemaError(
                f"rule {rule.text()!r}: dates are compared with dates only, one on each side"
            )


# Column kinds each rule kind can compare (kinds not listed take any column).
_WANTED = {
    "identity": {"numeric"},
    "order": NUMBER_KINDS,
    "monotone": {"numeric"},
    "combination": LABEL_KINDS,
}


def half_units(columns: Sequence[Column]) -> float:
    """Half a unit of the last decimal of each column written with decimals (0 for the rest)."""
    return sum(0.5 * 10.0**-c.decimals for c in columns if c.decimals)


def _identity(rule: Rule, rows: Typed, real: Typed) -> np.ndarray:
    target = rows.numbers(rule.columns[-1])
    parts = [rows.numbers(n) for n in rule.sources]
    total = sum(s * x for s, x in zip(rule.signs or (1,) * len(parts), parts))
    size = np.abs(target) + sum(np.abs(x) for x in parts)
    slack = half_units([rows.column(n) for n in rule.columns]) + RELATIVE * size
    with np.errstate(invalid="ignore"):
        return np.abs(target - total) > slack  # NaN compares False: not judged


def _order(rule: Rule, rows: Typed, real: Typed) -> np.ndarray:
    left = sum(rows.numbers(n) for n in rule.sources)
    right = rows.numbers(rule.columns[-1])
    summed = len(rule.sources) > 1
    slack = half_units([rows.column(n) for n in rule.columns]) if summed else 0.0
    with np.errstate(invalid="ignore"):
        return left > right + slack + RELATIVE * (np.abs(left) + np.abs(right))


def joint_codes(names: Sequence[str], *tables: Typed) -> list[np.ndarray]:
    """One code per row for the combination of `names`' keys, shared across `tables` (missing
    is a value).

    Example:
        >>> from synthgen.schema import detect
        >>> t = pd.DataFrame({"a": ["x", "y", "x"], "b": ["1", "1", "1"]})
        >>> [c.tolist() for c in joint_codes(["a", "b"], Typed(t, detect(t)))]
        [[0, 1, 0]]
    """
    sizes = [len(t) for t in tables]
    combined = np.zeros(sum(sizes), dtype=np.int64)
    for name in names:
        keys = np.concatenate([t.keys(name) for t in tables])
        codes, uniques = pd.factorize(keys, use_na_sentinel=False)
        combined = pd.factorize(combined * (len(uniques) + 1) + codes)[0]
    return np.split(combined, np.cumsum(sizes)[:-1])


def _lookup(real_groups: np.ndarray, real_values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Per row group, the real value most common in that group (-1 for a group the real table
    lacks); groups and values are non-negative codes."""
    width = int(real_values.max()) + 1 if len(real_values) else 1
    pairs, counts = np.unique(real_groups * width + real_values, return_counts=True)
    order = np.lexsort((-counts, pairs // width))  # each group's commonest value first
    pairs = pairs[order]
    first = np.r_[True, np.diff(pairs // width) != 0]
    best = np.full(int(max(groups.max(initial=0), real_groups.max(initial=0))) + 1, -1)
    best[pairs[first] // width] = pairs[first] % width
    return best[groups]


def _dependency(rule: Rule, rows: Typed, real: Typed) -> np.ndarray:
    real_groups, groups = _pair_codes(rule.sources, real, rows)
    real_target, target = _pair_codes([rule.derived or ""], real, rows)
    expected = _lookup(real_groups, real_target, groups)
    return (expected >= 0) & (target != expected)


def _pair_codes(names: Sequence[str], real: Typed, rows: Typed) -> tuple[np.ndarray, np.ndarray]:
    if real is rows:
        codes = joint_codes(names, rows)[0]
        return codes, codes
    real_codes, codes = joint_codes(names, real, rows)
    return real_codes, codes


def _combination(rule: Rule, rows: Typed, real: Typed) -> np.ndarray:
    real_codes, codes = _pair_codes(rule.columns, real, rows)
    return ~np.isin(codes, real_codes)


def _monotone(rule: Rule, rows: Typed, real: Typed) -> np.ndarray:
    source, target = rule.columns
    sign = 1.0 if rule.increasing is not False else -1.0
    rs, rt = real.numbers(source), sign * real.numbers(target)
    keep = ~(np.isnan(rs) | np.isnan(rt))
    order = np.argsort(rs[keep], kind="stable")
    rs, rt = rs[keep][order], rt[keep][order]
    s, t = rows.numbers(source), sign * rows.numbers(target)
    n = len(rt)
    if not n:
        return np.zeros(len(rows), dtype=bool)
    below = np.maximum.accumulate(rt)  # the largest real t up to each sorted position
    above = np.minimum.accumulate(rt[::-1])[::-1]  # the smallest from it on
    lo = np.searchsorted(rs, s, side="left") - 1  # the last real s' < s
    hi = np.searchsorted(rs, s, side="right")  # the first real s' > s
    lower = np.where(lo >= 0, below[np.maximum(lo, 0)], -np.inf)
    upper = np.where(hi < n, above[np.minimum(hi, n - 1)], np.inf)
    slack = half_units([rows.column(target)]) + RELATIVE * np.abs(t)
    with np.errstate(invalid="ignore"):
        return (t < lower - slack) | (t > upper + slack)


def _missing_together(rule: Rule, rows: Typed, real: Typed) -> np.ndarray:
    count = sum(rows.missing(n).astype(np.int64) for n in rule.columns)
    return (count > 0) & (count < len(rule.columns))


def _missing_when(rule: Rule, rows: Typed, real: Typed) -> np.ndarray:
    source, target = rule.columns
    col = rows.column(source)
    values = [_as_key(v, col) for v in rule.values or ()]
    keys = rows.keys(source)
    listed = pd.Series(keys, dtype=object).isin([v for v in values if v is not None]).to_numpy()
    if None in values:
        listed = listed | rows.missing(source)
    return listed != rows.missing(target)


def _as_key(value: object, col: Column) -> object:
    """A rule's value (from JSON) as `Typed.keys` writes the column's values."""
    if value is None:
        return None
    if col.kind in _BOOLEANS:
        text = str(value).strip().lower()
        return text in ("true", str(col.true_value).strip().lower())
    if col.kind in NUMBER_KINDS:
        return float(value)  # type: ignore[arg-type]
    return str(value)


_CHECKS: dict[str, Callable[[Rule, Typed, Typed], np.ndarray]] = {
    "identity": _identity,
    "order": _order,
    "dependency": _dependency,
    "combination": _combination,
    "monotone": _monotone,
    "missing_together": _missing_together,
    "missing_when": _missing_when,
}
