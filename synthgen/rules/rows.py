"""Which rows break a rule, kind by kind, over tables read through their schema (`Typed`):
vectorised, over text frames (as `read_table` gives them) and typed frames (a model's `.sample()`)
alike. `synthgen.rules.check.broken` is the entry point that reads the tables; discovery and the
report use `broken_in` on tables they have read once.

Numbers are compared within their rounding: a sum (an identity, or an order with two terms on
its left) may be off by half a unit of the last decimal of each column it names that has
decimals (integer columns count as exact), plus 1e-9 relative. A row with a missing cell in a
rule's columns breaks no identity, order or monotone rule; dependencies, combinations and the
missing kinds treat missing as a value.

Example:
    >>> import pandas as pd
    >>> from synthgen.rules.model import Rule
    >>> from synthgen.schema import detect
    >>> rows = pd.DataFrame({"fare": [5.0, 7.5], "tip": [1.0, 0.5], "total": [6.0, 9.0]})
    >>> t = Typed(rows, detect(rows))
    >>> broken_in(Rule("identity", ("fare", "tip", "total"), signs=(1, 1)), t, t).tolist()
    [False, True]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from synthgen.columns import KINDS
from synthgen.columns.base import InRules
from synthgen.columns.numeric import to_float
from synthgen.errors import SchemaError
from synthgen.rules.model import Rule

if TYPE_CHECKING:
    from synthgen.schema import Column, Schema

# Relative slack of a sum of floats (their last bits), on top of the columns' rounding.
RELATIVE = 1e-9
# Roles of a column in rules (`InRules.role`) whose values are numbers the numeric rules
# (identity, order, monotone) compare.
_NUMBERS = {"amount", "time"}


def in_rules(col: Column) -> InRules | None:
    """What the rules may ask of `col`'s kind (None: only rules that take any column)."""
    return KINDS[col.kind].rules


def role(col: Column) -> str | None:
    """`col`'s role in rules (`InRules.role`): "amount", "time", "label", "single" or None.

    Example:
        >>> from synthgen.schema import Column
        >>> role(Column("age", "numeric")), role(Column("note", "text"))
        ('amount', None)
    """
    rules = in_rules(col)
    return rules.role if rules is not None else None


class Typed:
    """A table's columns as the rules compare them, each converted once by its kind
    (`InRules.values`): numbers (floats, NaN for missing; instants as seconds) or keys (text or
    booleans, None for missing).

    Example:
        >>> from synthgen.schema import detect
        >>> raw = pd.DataFrame({"x": ["1.5", None, "3"], "c": ["a", "b", None]})
        >>> t = Typed(raw, detect(raw))
        >>> t.numbers("x").tolist(), t.keys("c").tolist()
        ([1.5, nan, 3.0], ['a', 'b', None])
    """

    def __init__(
        self, table: pd.DataFrame, schema: Schema, read: Mapping[str, np.ndarray] | None = None
    ):
        self.table = table
        self.schema = schema
        self._columns = {c.name: c for c in schema.columns}
        # `read`: columns read as `numbers` reads them already (by detection)
        self._numbers: dict[str, np.ndarray] = dict(read or {})
        self._keys: dict[str, np.ndarray] = {}
        self._missing: dict[str, np.ndarray] = {}
        self._text: dict[str, tuple[np.ndarray, np.ndarray]] = {}

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
        """The column as floats (instants as seconds since 1970), NaN where missing."""
        if name not in self._numbers:
            col = self.column(name)
            rules = in_rules(col)
            read = to_float
            if rules is not None and rules.role in _NUMBERS and rules.values is not None:
                read = rules.values
            # other kinds are read as plain numbers: `broken` on a detected schema may compare
            # a few numbers the schema holds as a constant or as categories
            self._numbers[name] = np.asarray(read(self.series(name), col), dtype=float)
        return self._numbers[name]

    def keys(self, name: str) -> np.ndarray:
        """The column as comparable keys: numbers for amounts and times (rounded to the
        column's decimals), keys its kind reads (True/False for booleans), else the text as
        written (str of typed values)."""
        if name not in self._keys:
            col = self.column(name)
            rules = in_rules(col)
            if role(col) in _NUMBERS:
                x = self.rounded(name)
                keys = x.astype(object)
                keys[np.isnan(x)] = None
            elif rules is not None and rules.values is not None:
                keys = rules.values(self.series(name), col)
            else:
                codes, text = self.text_codes(name)
                keys = np.append(text, None)[codes]  # code -1 (missing) takes the None at the end
            self._keys[name] = keys
        return self._keys[name]

    def text_codes(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """A column keyed by its text (`keys`' last case): codes in the order values first
        appear (-1 where missing) and the text of each (str of a typed value)."""
        if name not in self._text:
            # a missing value (None, NaN, NaT, pd.NA) is -1 whatever it is
            codes, uniques = pd.factorize(self.series(name).to_numpy(dtype=object))
            self._text[name] = codes, np.array([str(u) for u in uniques], dtype=object)
        return self._text[name]

    def rounded(self, name: str) -> np.ndarray:
        """An amount's or a time's numbers rounded to the column's decimals (the values its
        `keys` hold, as floats: NaN where missing)."""
        x = self.numbers(name)
        decimals = self.column(name).decimals
        return np.round(x, decimals) if decimals is not None else x

    def missing(self, name: str) -> np.ndarray:
        if name not in self._missing:
            if name in self._numbers and role(self.column(name)) in _NUMBERS:
                # read already: an amount or a time is NaN exactly where it is missing
                self._missing[name] = np.isnan(self._numbers[name])
            elif name in self._text:
                self._missing[name] = self._text[name][0] < 0
            else:
                self._missing[name] = pd.isna(self.series(name)).to_numpy(dtype=bool)
        return self._missing[name]


def broken_in(rule: Rule, rows: Typed, real: Typed) -> np.ndarray:
    """Per row of `rows`, whether it breaks `rule`; `real` is the table the rule was found on
    (the kinds that compare with it: dependency, combination, monotone). Many rules on the same
    `Typed` tables convert each column once."""
    with np.errstate(all="ignore"):  # infinities and missing values: such rows are not judged
        return _CHECKS[rule.kind](rule, rows, real)


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
        roles = [role(schema[name]) for name in rule.columns]
        wanted = _WANTED.get(rule.kind)
        if wanted is not None:
            bad = [n for n, r in zip(rule.columns, roles) if r not in wanted]
            if bad:
                kinds = sorted(k.name for k in KINDS.values() if k.rules and k.rules.role in wanted)
                raise SchemaError(
                    f"rule {rule.text()!r}: column {bad[0]!r} is {schema[bad[0]].kind}, and a "
                    f"{rule.kind} rule compares {' or '.join(kinds)} columns"
                )
        dated = [n for n, r in zip(rule.columns, roles) if r == "time"]
        if (
            rule.kind in _DATED
            and dated
            and (len(rule.columns) > 2 or len(dated) < len(rule.columns))
        ):
            raise SchemaError(
                f"rule {rule.text()!r}: dates are compared with dates only, one on each side"
            )


# The kinds of rule that compare dates by size (a date with a date, one on each side).
_DATED = {"order"}

# The roles of the columns (`InRules.role`) each kind of rule compares (one not listed takes any).
_WANTED = {
    "identity": {"amount"},
    "product": {"amount"},
    "order": _NUMBERS,
    "monotone": {"amount"},
    "combination": {"label", "single", "amount"},  # (numbers: flags, `categories.flag`)
}


def grid_half(col: Column) -> float:
    """Half the spacing of the values a column is written on (0.5 for whole numbers: a product
    rounded to them), 0 for full precision.

    Example:
        >>> from synthgen.schema import Column
        >>> grid_half(Column("n", "numeric", decimals=0)), grid_half(Column("x", "numeric", decimals=2))
        (0.5, 0.005)
    """
    return 0.5 * 10.0**-col.decimals if col.decimals is not None else 0.0


def half_units(columns: Sequence[Column]) -> float:
    """Half a unit of the last decimal of each column written with decimals (0 for the rest)."""
    return sum(0.5 * 10.0**-c.decimals for c in columns if c.decimals)


def _identity(rule: Rule, rows: Typed, real: Typed) -> np.ndarray:
    target = rows.numbers(rule.columns[-1])
    parts = [rows.numbers(n) for n in rule.sources]
    total = sum(s * x for s, x in zip(rule.signs or (1,) * len(parts), parts))
    size = np.abs(target) + sum(np.abs(x) for x in parts)
    slack = half_units([rows.column(n) for n in rule.columns]) + RELATIVE * size
    return np.abs(target - total) > slack  # NaN compares False: not judged


#: A product's columns may be written to six significant digits, whatever their decimals (a
#: float32, a figure printed with %g, 0.091398 stored as 0.09139800000000001): each value's own
#: rounding, as a share of it (half a unit of the sixth digit is at most 5e-6 of the value).
WRITTEN = 1e-5


def product_of(rule: Rule, parts: Sequence[np.ndarray]) -> np.ndarray:
    """A product rule's target computed from its sources' values (NaN where a divisor is 0 or
    a source is missing: the row is not judged).

    Example:
        >>> r = Rule("product", ("pop", "total", "perc"), signs=(1, -1), factor=100.0)
        >>> product_of(r, [np.array([5.0, 1.0]), np.array([20.0, 0.0])]).tolist()
        [25.0, nan]
    """
    signs = rule.signs or (1,) * len(parts)
    out = np.full(len(parts[0]), 1.0 if rule.factor is None else rule.factor)
    for sign, x in zip(signs, parts):
        out = out * x if sign > 0 else out / np.where(x == 0, np.nan, x)
    return np.where(np.isfinite(out), out, np.nan)


def product_parts(rule: Rule, rows: Typed) -> tuple[np.ndarray, ...]:
    """A product rule over `rows`: the target, the product of the sources, the target's own
    rounding (half its grid, whole numbers too: a product rounded to them) and the rounding the
    product takes from its sources (each source's half unit of its decimals times how fast the
    product moves with it, and `WRITTEN` of each; a whole-number source counts as exact)."""
    target = rows.numbers(rule.columns[-1])
    parts = [rows.numbers(n) for n in rule.sources]
    product = product_of(rule, parts)
    own = grid_half(rows.column(rule.columns[-1])) + WRITTEN * np.abs(target)
    inherited = len(parts) * WRITTEN * np.abs(product)
    signs = rule.signs or (1,) * len(parts)
    for i, (name, x) in enumerate(zip(rule.sources, parts)):
        unit = half_units([rows.column(name)])
        if unit:
            others = [p if j != i else np.ones_like(p) for j, p in enumerate(parts)]
            rest = np.abs(product_of(rule, others))  # the product without this source
            inherited = inherited + unit * (rest if signs[i] > 0 else rest / x**2)
    return target, product, own, inherited


def _product(rule: Rule, rows: Typed, real: Typed) -> np.ndarray:
    """Off by more than the target's rounding and what its sources' rounding moves it by."""
    target, product, own, inherited = product_parts(rule, rows)
    return np.abs(target - product) > own + inherited  # NaN compares False: not judged


def _order(rule: Rule, rows: Typed, real: Typed) -> np.ndarray:
    left = sum(rows.numbers(n) for n in rule.sources)
    right = rows.numbers(rule.columns[-1])
    summed = len(rule.sources) > 1
    slack = half_units([rows.column(n) for n in rule.columns]) if summed else 0.0
    return left > right + slack + RELATIVE * (np.abs(left) + np.abs(right))


def nearest(points: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Per value of `x`, the index of its nearest point (`points` sorted; the lower one on a
    tie, the last for NaN): how a number decides a dependency's target by value.

    Example:
        >>> nearest(np.array([0.0, 10.0, 11.0]), np.array([4.0, 5.0, 6.0, 99.0])).tolist()
        [0, 0, 1, 2]
    """
    return np.searchsorted((points[1:] + points[:-1]) / 2, x)


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
    codes = [
        pd.factorize(np.concatenate([t.keys(name) for t in tables]), use_na_sentinel=False)[0]
        for name in names
    ]
    combined = row_ids(np.column_stack(codes) if codes else np.zeros((sum(sizes), 0), np.int64))
    return np.split(combined, np.cumsum(sizes)[:-1])


def row_ids(codes: np.ndarray) -> np.ndarray:
    """One id per row of codes (rows x columns, each -1 or more), the same for equal rows, in
    the order rows first appear (any number of columns: the ids are factorised column by
    column, so none overflows).

    Example:
        >>> row_ids(np.array([[1, 0], [0, 1], [1, 0]])).tolist()
        [0, 1, 0]
    """
    ids = np.zeros(len(codes), dtype=np.int64)
    for j in range(codes.shape[1]):
        column = codes[:, j].astype(np.int64) + 1  # (a drawn null may read -1)
        ids = pd.factorize(ids * (int(column.max(initial=0)) + 1) + column)[0]
    return ids.astype(np.int64)


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
    rules = in_rules(col)
    if value is None:
        return None
    if rules is not None and rules.value is not None:
        return rules.value(value, col)
    if role(col) in _NUMBERS:
        return float(value)  # type: ignore[arg-type]
    return str(value)


_CHECKS: dict[str, Callable[[Rule, Typed, Typed], np.ndarray]] = {
    "identity": _identity,
    "product": _product,
    "order": _order,
    "dependency": _dependency,
    "combination": _combination,
    "monotone": _monotone,
    "missing_together": _missing_together,
    "missing_when": _missing_when,
}
