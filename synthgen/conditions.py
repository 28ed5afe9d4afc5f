"""Conditional sampling: conditions on values, the constraints they put on the encoded parts a
model sees, and the bounded rejection sampler that models without exact conditioning fall back on.

Three ways to ask, in Python and on the command line:

- `where`: only rows meeting conditions: `income=>50K`, `age>=40`, `age between 30 and 40`,
  `occupation in Sales|Tech-support`, `sex!=Male`. Numbers and dates are compared in the
  column's own terms (an integer column's `age>40` means 41 and up); a category matches as written,
  else ignoring surrounding spaces, else ignoring case (adult.csv's " >50K" is `income=>50K`).
- `balance`: equal counts of every class of a categorical or boolean column.
- `fill`: rows with empty cells; every given cell is kept as it is and the empty ones are drawn
  from the model conditional on the given ones (and never left empty).

A condition becomes `Constraints` on encoded parts: an interval of a continuous part (in the
model's value space, widened to the values that decode onto the asked ones), a set of allowed codes
of a discrete part (null indicators included). A model meets them in its
`_sample_conditional` hook, exactly where it can; the default is `rejection_sample`.

Values never seen in training (an unknown or suppressed rare category, a number outside the real
range) are refused, unless `allow_unseen`: then rows are generated as for the nearest seen values
(the rare-category pool where the model learned its rows, any category where they took
stand-ins; the range's nearest end) and written with the asked value.

Example:
    >>> import pandas as pd, synthgen
    >>> real = pd.DataFrame({"g": ["a", "b"] * 50, "x": [1.0, 9.0] * 50})
    >>> model = synthgen.fit(real, seed=0)
    >>> rows = model.sample(20, seed=1, where="g=b")
    >>> sorted(set(rows["g"]))
    ['b']
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from synthgen.columns import KINDS, Encoded, Kind, TableEncoder
from synthgen.columns.base import Column, RowRandom, seen_range
from synthgen.errors import ConditionError, InputError, SynthgenWarning, option

if TYPE_CHECKING:
    from synthgen.models.base import Synthesizer

#: Symbol operators, longest first so that ">=" is not read as ">" followed by "=5".
OPERATORS = ("==", "!=", ">=", "<=", "=", ">", "<")
RANGE_OPERATORS = (">=", ">", "<=", "<", "between")
#: Rejection gives up after this many draws per asked row (and at least MIN_DRAWS).
MAX_DRAWS_PER_ROW = 200
MIN_DRAWS = 20_000
# Rejection widens a point condition on a continuous part to this share of its range, then
# writes the point itself: a draw never lands on one exact float.
_POINT_WIDTH = 0.01


@dataclass(frozen=True)
class Condition:
    """One condition on one column: `op` is one of =, !=, >=, >, <=, <, in, between."""

    column: str
    op: str
    values: tuple[Any, ...]
    text: str

    def __str__(self) -> str:
        return self.text


def parse_condition(text: str, names: list[str]) -> Condition:
    """A condition written as on the command line, e.g. `age>=40` or `income=>50K`.

    The column is the longest column name the text starts with that an operator follows, so names
    with spaces or dashes work. Values are trimmed; `in` takes `a|b|c`, `between` takes `a and b`.

    Example:
        >>> parse_condition("income=>50K", ["age", "income"])
        Condition(column='income', op='=', values=('>50K',), text='income=>50K')
    """
    for name in sorted(names, key=len, reverse=True):
        if not text.startswith(name):
            continue
        rest = text[len(name) :].lstrip()
        for op in OPERATORS:
            if rest.startswith(op):
                op_name = "=" if op == "==" else op
                return Condition(name, op_name, (rest[len(op) :].strip(),), text)
        word, _, value = rest.partition(" ")
        if word.lower() == "in" and value.strip():
            return Condition(name, "in", tuple(v.strip() for v in value.split("|")), text)
        if word.lower() == "between":
            low, sep, high = value.partition(" and ")
            if sep and low.strip() and high.strip():
                return Condition(name, "between", (low.strip(), high.strip()), text)
    named = re.match(r"\s*(.*?)\s*(==|!=|>=|<=|=|>|<|\sin\s|\sbetween\s)", text)
    if named and named.group(1) and named.group(1) not in names:
        import difflib

        near = difflib.get_close_matches(named.group(1), names, n=1)
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        raise ConditionError(
            f"can't read the condition {text!r}: the model has no column {named.group(1)!r}"
            f"{hint}; columns: {', '.join(names)}"
        )
    raise ConditionError(
        f"can't read the condition {text!r}: write COLUMN OP VALUE with a column of the model "
        "(OP one of = != >= > <= <, or 'COLUMN in a|b', 'COLUMN between a and b')"
    )


def parse_where(where: Any, names: list[str]) -> list[Condition]:
    """Conditions from a string, a list of strings, or a dict {column: value | (op, value...) |
    [values]}: a plain value means equality (taken as it is: `{"income": ">50K"}`), a list
    means `in`, a tuple starts with its operator (`{"age": (">=", 40)}`, `("between", 30, 40)`).
    """
    if where is None:
        return []
    if isinstance(where, str | Condition):
        where = [where]
    if isinstance(where, Mapping):
        return [_from_python(str(name), spec, names) for name, spec in where.items()]
    out = []
    for item in where:
        out.append(item if isinstance(item, Condition) else parse_condition(str(item), names))
    return out


def _from_python(name: str, spec: Any, names: list[str]) -> Condition:
    if name not in names:
        raise ConditionError(f"no column {name!r} in the model; columns: {', '.join(names)}")
    if isinstance(spec, tuple) and spec and spec[0] in (*OPERATORS, "in", "between"):
        op = "=" if spec[0] == "==" else spec[0]
        values = tuple(spec[1:])
        if op == "in" and len(values) == 1 and isinstance(values[0], list | tuple | set):
            values = tuple(values[0])
        need = 2 if op == "between" else None
        if (need and len(values) != need) or not values:
            raise ConditionError(f"condition on {name!r}: {spec!r} has the wrong number of values")
        return Condition(name, op, values, f"{name} {op} {' and '.join(map(str, values))}")
    if isinstance(spec, list | tuple | set | frozenset):
        return Condition(name, "in", tuple(spec), f"{name} in {'|'.join(map(str, spec))}")
    return Condition(name, "=", (spec,), f"{name}={spec}")


# ---- constraints on encoded parts ---------------------------------------------------------------


@dataclass
class Constraints:
    """What encoded rows must meet. Arrays hold one row (the same for every row) or one per row.

    `intervals[j] = (lo, hi)`: continuous part j within [lo, hi]; `allowed[j]`: (rows, cardinality)
    booleans, the codes discrete part j may take. `ranges[j]` is part j's (min, max) as written.
    """

    intervals: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    allowed: dict[int, np.ndarray] = field(default_factory=dict)
    ranges: dict[int, tuple[float, float]] = field(default_factory=dict)
    label: str = ""
    #: Given cells among the few most extreme values, which the model draws as at its bound:
    #: part j's given values per row (NaN elsewhere), put back before rules read the row.
    exact: dict[int, np.ndarray] = field(default_factory=dict)

    @property
    def n_rows(self) -> int:
        for lo, _ in self.intervals.values():
            return len(lo)
        for mask in self.allowed.values():
            return len(mask)
        return 1

    @property
    def shared(self) -> bool:
        """True when every row has the same constraints."""
        return self.n_rows == 1

    def _rows(self, n: int, rows: np.ndarray | None) -> np.ndarray:
        if self.shared:
            return np.zeros(n, dtype=np.int64)
        return np.arange(n) if rows is None else rows

    def matches(self, encoded: Encoded, rows: np.ndarray | None = None) -> np.ndarray:
        """Whether each encoded row meets its constraints (row i those of `rows[i]`)."""
        idx = self._rows(encoded.n_rows, rows)
        ok = np.ones(encoded.n_rows, dtype=bool)
        for j, (lo, hi) in self.intervals.items():
            x = encoded.continuous[:, j]
            ok &= (x >= lo[idx]) & (x <= hi[idx])
        for j, mask in self.allowed.items():
            ok &= mask[idx, encoded.discrete[:, j]]
        return ok

    def gap(self, encoded: Encoded, rows: np.ndarray | None = None) -> np.ndarray:
        """How far each row is from its constraints: the distance of continuous values to their
        intervals in shares of the range, plus 1 per discrete part off its only allowed code;
        inf where a discrete part with several allowed codes misses them all."""
        idx = self._rows(encoded.n_rows, rows)
        out = np.zeros(encoded.n_rows)
        for j, (lo, hi) in self.intervals.items():
            x = encoded.continuous[:, j]
            low, high = self.ranges[j]
            out += (np.maximum(lo[idx] - x, 0) + np.maximum(x - hi[idx], 0)) / max(
                high - low, 1e-300
            )
        for j, mask in self.allowed.items():
            miss = ~mask[idx, encoded.discrete[:, j]]
            single = mask.sum(axis=1)[idx] == 1
            out += miss & single
            out[miss & ~single] = np.inf
        return out

    def snap(self, encoded: Encoded) -> Encoded:
        """Discrete parts put on their only allowed code where they miss it (a given cell)."""
        idx = self._rows(encoded.n_rows, None)
        disc = encoded.discrete.copy()
        for j, mask in self.allowed.items():
            only = mask.sum(axis=1)[idx] == 1
            disc[:, j] = np.where(only, mask.argmax(axis=1)[idx], disc[:, j])
        return Encoded(encoded.continuous, disc, encoded.n_rows)

    def clip(self, encoded: Encoded, rows: np.ndarray | None = None) -> Encoded:
        """Continuous values moved into their intervals (a widened point onto the point)."""
        idx = self._rows(encoded.n_rows, rows)
        cont = encoded.continuous.copy()
        for j, (lo, hi) in self.intervals.items():
            cont[:, j] = np.clip(cont[:, j], lo[idx], hi[idx])
        return Encoded(cont, encoded.discrete, encoded.n_rows)

    def widened(self, share: float = _POINT_WIDTH) -> Constraints:
        """Intervals narrower than `share` of the part's range grown to it (for rejection)."""
        intervals = {}
        for j, (lo, hi) in self.intervals.items():
            low, high = self.ranges[j]
            half = share * (high - low) / 2
            with np.errstate(invalid="ignore"):  # (-inf + inf) / 2 where a row is free
                mid = (lo + hi) / 2
            narrow = hi - lo < 2 * half
            intervals[j] = (
                np.where(narrow, np.maximum(mid - half, low), lo),
                np.where(narrow, np.minimum(mid + half, high), hi),
            )
        return Constraints(intervals, self.allowed, self.ranges, self.label)

    def take(self, rows: np.ndarray) -> Constraints:
        """The constraints of the given rows (shared constraints are everyone's: unchanged)."""
        if self.shared:
            return Constraints(dict(self.intervals), dict(self.allowed), self.ranges, self.label)
        return Constraints(
            {j: (lo[rows], hi[rows]) for j, (lo, hi) in self.intervals.items()},
            {j: mask[rows] for j, mask in self.allowed.items()},
            self.ranges,
            self.label,
        )

    def trimmed(self) -> Constraints:
        """Without the parts no row constrains (an interval covering the range, every code)."""
        out = Constraints(ranges=self.ranges, label=self.label)
        for j, (lo, hi) in self.intervals.items():
            low, high = self.ranges[j]
            if ((lo > low) | (hi < high)).any():
                out.intervals[j] = (lo, hi)
        for j, mask in self.allowed.items():
            if not mask.all():
                out.allowed[j] = mask
        return out

    @property
    def empty(self) -> bool:
        return not (self.intervals or self.allowed)


def take_rows(encoded: Encoded, rows: np.ndarray) -> Encoded:
    return Encoded(encoded.continuous[rows], encoded.discrete[rows], len(rows))


def concat(parts: list[Encoded]) -> Encoded:
    return Encoded(
        np.concatenate([e.continuous for e in parts]),
        np.concatenate([e.discrete for e in parts]),
        sum(e.n_rows for e in parts),
    )


def rejection_sample(
    sampler: Callable[[int, np.random.Generator], Encoded],
    n: int,
    constraints: Constraints,
    rng: np.random.Generator,
    model_name: str = "this",
) -> Encoded:
    """`n` rows meeting `constraints`, kept from unconditional draws; raises ConditionError,
    saying how far it got, after MAX_DRAWS_PER_ROW draws per row (at least MIN_DRAWS).

    Shared constraints keep any matching draw; per-row constraints (rows to fill) give every
    pending row its own candidates. A point on a continuous part is widened to 1% of its range for
    the test and the kept value is put on the point.
    """
    wide = constraints.widened()
    limit = max(MAX_DRAWS_PER_ROW * n, MIN_DRAWS)
    drawn = found = 0
    if wide.shared:
        kept: list[Encoded] = []
        accepted = 0
        while found < n:
            rate = max(accepted / drawn if drawn else 1.0, 1.0 / MAX_DRAWS_PER_ROW)
            batch = int(min(limit - drawn, max(1024, 1.2 * (n - found) / rate)))
            if batch <= 0:
                raise _too_rare(model_name, found, n, drawn, accepted, constraints.label)
            encoded = sampler(batch, rng)
            drawn += batch
            ok = np.flatnonzero(wide.matches(encoded))
            accepted += len(ok)
            ok = ok[: n - found]
            kept.append(take_rows(encoded, ok))
            found += len(ok)
        out = concat(kept)
        return constraints.clip(out)
    return constraints.snap(
        constraints.clip(_nearest_draws(sampler, n, wide, rng, limit, model_name))
    )


def _nearest_draws(sampler, n, wide, rng, limit, model_name) -> Encoded:
    """Per-row constraints (rows to fill): each row keeps its first draw that meets them, else,
    once the draws are spent, its nearest draw (`Constraints.gap`): a row with a dozen given
    cells is almost never drawn whole, and the given cells are written back anyway. Rows whose
    every draw misses a constraint that can't be snapped (an empty cell drawn empty) raise
    ConditionError."""
    best: Encoded | None = None
    distance = np.full(n, np.inf)
    drawn = 0
    reps = 4
    pending = np.arange(n)
    while pending.size and drawn < limit:
        reps = max(1, min(reps, (limit - drawn) // len(pending)))
        rows = np.tile(pending, reps)
        encoded = sampler(len(rows), rng)
        drawn += len(rows)
        if best is None:
            best = Encoded(
                np.zeros((n, encoded.continuous.shape[1])),
                np.zeros((n, encoded.discrete.shape[1]), dtype=np.int64),
                n,
            )
        gap = wide.gap(encoded, rows).reshape(reps, len(pending))
        pick = np.argmin(gap, axis=0)
        better = gap[pick, np.arange(len(pending))] < distance[pending]
        chosen = pick[better] * len(pending) + np.flatnonzero(better)
        target = pending[better]
        best.continuous[target] = encoded.continuous[chosen]
        best.discrete[target] = encoded.discrete[chosen]
        distance[target] = gap[pick[better], np.flatnonzero(better)]
        pending = pending[distance[pending] > 0]
        reps = min(reps * 4, 256)
    missed = ~np.isfinite(distance)
    if missed.any() or best is None:
        found = int(n - missed.sum()) if best is not None else 0
        raise _too_rare(model_name, found, n, drawn, found, wide.label)
    return best


def _too_rare(model: str, found: int, n: int, drawn: int, accepted: int, label: str):
    return ConditionError(
        f"only {found:,} of {n:,} rows meeting {label or 'the condition'} found in {drawn:,} draws "
        f"(acceptance {accepted / max(drawn, 1):.4%}); the {model} model can only reject draws "
        "that miss it: loosen the condition, or use a model that conditions exactly "
        "(gaussian-copula)"
    )


# ---- from conditions to constraints -------------------------------------------------------------


@dataclass
class _Target:
    """Where one column lives among the encoded parts, and what its kind says of its values."""

    col: Column
    state: dict[str, Any]
    rare_threshold: int
    value: int | None = None  # the part of its values: continuous (numbers, dates) or discrete
    null: int | None = None  # discrete null-indicator part
    cardinality: int = 0
    continuous: bool = False  # the value part is continuous (a range condition)

    @property
    def kind(self) -> Kind:
        return KINDS[self.col.kind]

    @property
    def discrete(self) -> bool:
        """The value part holds codes (categories, booleans)."""
        return self.value is not None and not self.continuous

    @property
    def null_code(self) -> int | None:
        return self.kind.null_code(self.state) if self.discrete else None

    @property
    def rare_code(self) -> int | None:
        return self.kind.rare_code(self.state) if self.discrete else None

    @property
    def pool(self) -> int | None:
        """The rare pool's code where the model learned rows of it (unseen values are drawn as
        them), else None (their rows took stand-ins: `synthgen.columns.stand_ins`)."""
        from synthgen.columns.stand_ins import pool_learned

        return self.rare_code if pool_learned(self.state) else None

    def classes(self) -> list[Any]:
        """The values codes 0, 1, ... write (nulls and the rare pool are not classes)."""
        return self.kind.classes(self.col, self.state)

    def real_range(self) -> tuple[float, float]:
        """The range the model writes: the training values' without the few most extreme
        (`synthgen.columns.base.protected_bounds`)."""
        return float(self.state["min"]), float(self.state["max"])

    def seen_range(self) -> tuple[float, float]:
        """The range of the training values (the schema's bounds), extremes and all."""
        return seen_range(self.state)

    def grid(self) -> float:
        return self.kind.grid(self.state)

    def parse(self, values: Iterable[Any]) -> np.ndarray:
        series = pd.Series(list(values), dtype=object)
        assert self.kind.parse is not None
        try:
            return self.kind.parse(series, self.col, self.state)
        except InputError as exc:
            raise ConditionError(str(exc)) from None

    def show(self, value: float) -> str:
        return self.kind.show(value)

    def valid_codes(self) -> np.ndarray:
        """Codes that decode to a value the model can write as asked: not null, not the rare pool
        (which decodes to a random shared category)."""
        mask = np.ones(self.cardinality, dtype=bool)
        for code in (self.null_code, self.rare_code):
            if code is not None:
                mask[code] = False
        return mask


def targets(encoder: TableEncoder) -> dict[str, _Target]:
    """Every column's parts, by column name."""
    out = {}
    ci = di = 0
    for col, state in zip(encoder.schema.columns, encoder.states):
        target = _Target(col, state, encoder.rare_threshold)
        for part in KINDS[col.kind].parts(col.name, state):
            if part.continuous:
                target.value, target.continuous = ci, True
                ci += 1
            elif part.name != col.name:
                target.null = di
                di += 1
            else:
                target.value, target.cardinality = di, int(part.cardinality)
                di += 1
        out[col.name] = target
    return out


def _ranges(encoder: TableEncoder, found: dict[str, _Target]) -> dict[int, tuple[float, float]]:
    return {t.value: t.real_range() for t in found.values() if t.continuous}


def _snap(value: float, unit: float, up: bool) -> float:
    """The nearest grid value at or above (`up`) or at or below `value`."""
    if not unit or not math.isfinite(value):
        return value
    k = value / unit
    if abs(k - round(k)) < 1e-9 * max(1.0, abs(k)):
        k = round(k)
    return (math.ceil(k) if up else math.floor(k)) * unit


def _asked_bounds(target: _Target, cond: Condition) -> tuple[float, float]:
    """The asked values of a number/date condition as an inclusive range on the column's grid,
    and on its lattice where it has one (a monthly series' dates: `Kind.settle`)."""
    low, high = _grid_bounds(target, cond)

    def settle(v: float, side: int) -> float:
        if not math.isfinite(v):
            return v
        return float(target.kind.settle(np.array([v]), target.state, side)[0])

    if cond.op == "=" and settle(low, 0) != low:
        raise ConditionError(
            f"{cond.text}: {target.col.name!r} only takes values on the calendar its rows keep "
            f"(such as {target.show(settle(low, 0))})"
        )
    return settle(low, 1), settle(high, -1)


def _grid_bounds(target: _Target, cond: Condition) -> tuple[float, float]:
    if cond.op in ("!=", "in"):
        raise ConditionError(
            f"{cond.text}: {target.col.name!r} is {target.col.kind}; use =, >=, >, <=, < or between"
        )
    values = target.parse(cond.values)
    if np.isnan(values).any():
        raise ConditionError(f"{cond.text}: no value given")
    unit = target.grid()
    v = float(values[0])
    step = unit if unit else 0.0
    if cond.op == "=":
        if unit and abs(_snap(v, unit, True) - v) > 1e-9 * max(1.0, abs(v)):
            raise ConditionError(
                f"{cond.text}: {target.col.name!r} only takes values in steps of {unit:g}"
            )
        return v, v
    if cond.op == ">=":
        return _snap(v, unit, True), math.inf
    if cond.op == ">":
        up = _snap(v, unit, True)
        return (up + step if up == v else up) if unit else float(np.nextafter(v, np.inf)), math.inf
    if cond.op == "<=":
        return -math.inf, _snap(v, unit, False)
    if cond.op == "<":
        down = _snap(v, unit, False)
        return -math.inf, (down - step if down == v else down) if unit else float(
            np.nextafter(v, -np.inf)
        )
    low, high = sorted(float(x) for x in values[:2])
    return _snap(low, unit, True), _snap(high, unit, False)


@dataclass
class Fix:
    """Cells written after decoding: `pin` puts one value in every row; `unseen` writes one of
    the asked unseen categories where the row's value is not among the asked seen ones."""

    column: str
    pin: pd.Series | None = None
    seen: list[Any] = field(default_factory=list)
    unseen: list[Any] = field(default_factory=list)

    def apply(self, frame: pd.DataFrame, rows: RowRandom) -> None:
        current = frame[self.column]
        if self.pin is not None:
            values = self.pin.iloc[np.zeros(len(frame), dtype=np.int64)]
            frame[self.column] = merge(current, values, np.ones(len(frame), dtype=bool))
            return
        outside = ~current.astype(object).isin(self.seen).to_numpy()
        picks = rows.choice(np.ones(len(self.unseen)))
        values = pd.Series(np.array(self.unseen, dtype=object)[picks], dtype=object)
        frame[self.column] = merge(current, values, outside)


def merge(current: pd.Series, values: pd.Series, mask: np.ndarray) -> pd.Series:
    """`current` with `values` where `mask` (row positions), keeping the dtype when they share it."""
    if not mask.any():
        return current
    values = values.reset_index(drop=True)
    current = current.reset_index(drop=True)
    if isinstance(current.dtype, pd.CategoricalDtype):
        current = current.astype(object)
    if current.dtype != values.dtype and not (
        pd.api.types.is_numeric_dtype(current.dtype) and pd.api.types.is_numeric_dtype(values.dtype)
    ):
        current, values = current.astype(object), values.astype(object)
    return current.where(~pd.Series(mask), values)


def output_values(target: _Target, parsed: np.ndarray, raw: pd.Series | None) -> pd.Series:
    """Values as decoding would write them (types, date format), from parsed ones; where the
    output is text and `raw` is given, the raw values themselves (a given cell stays as written)."""
    return target.kind.written(parsed, raw, target.col, target.state)


def where_constraints(
    encoder: TableEncoder, conditions: list[Condition], allow_unseen: bool = False
) -> tuple[Constraints, list[Fix], list[str]]:
    """The shared constraints of a list of conditions (joined by 'and'), the fixes to apply after
    decoding, and notes on what was extrapolated (for `allow_unseen`)."""
    found = targets(encoder)
    out = Constraints(
        ranges=_ranges(encoder, found), label=" and ".join(c.text for c in conditions)
    )
    fixes: list[Fix] = []
    notes: list[str] = []
    by_column: dict[str, list[Condition]] = {}
    for cond in conditions:
        if cond.column not in found:
            raise ConditionError(
                f"{cond.text}: no column {cond.column!r} in the model; columns: {', '.join(found)}"
            )
        by_column.setdefault(cond.column, []).append(cond)
    for name, conds in by_column.items():
        target = found[name]
        if target.continuous:
            _continuous(target, conds, allow_unseen, out, fixes, notes)
        elif target.discrete:
            _discrete(target, conds, allow_unseen, out, fixes, notes)
        elif target.kind.apart:
            raise ConditionError(
                f"{conds[0].text}: {name!r} is a {target.col.kind} column, generated apart from "
                "the model; it can't be a condition"
            )
        else:
            _constant(target, conds, allow_unseen, fixes, notes)
        if target.null is not None:
            out.allowed[target.null] = np.array([[True, False]])
    return out, fixes, notes


def _unseen_hint() -> str:
    return f"{option('--allow-unseen', 'allow_unseen=True')} samples it anyway (the model extrapolates)"


def _continuous(target, conds, allow_unseen, out, fixes, notes) -> None:
    low, high = -math.inf, math.inf
    for cond in conds:
        a, b = _asked_bounds(target, cond)
        low, high = max(low, a), min(high, b)
    text = " and ".join(c.text for c in conds)
    if low > high:
        raise ConditionError(f"{text}: no value of {target.col.name!r} meets that")
    real_low, real_high = target.real_range()
    unit = target.grid()
    if low > real_high or high < real_low:
        seen_low, seen_high = target.seen_range()
        if low > seen_high or high < seen_low:
            why = (
                f"outside the range seen in training ({target.show(seen_low)} to "
                f"{target.show(seen_high)})"
            )
        else:  # between the few most extreme training values: none is written
            why = (
                f"beyond what {target.rare_threshold} training rows reach "
                f"({target.show(real_low)} to {target.show(real_high)}; the model writes no "
                "value rarer than that)"
            )
        if not allow_unseen:
            raise ConditionError(f"{text}: {why}; {_unseen_hint()}")
        edge, asked = (real_high, low) if low > real_high else (real_low, high)
        out.intervals[target.value] = (np.array([edge]), np.array([edge]))
        fixes.append(Fix(target.col.name, pin=output_values(target, np.array([asked]), None)))
        notes.append(
            f"{text} is {why}: the model extrapolates, generating rows as for "
            f"{target.show(edge)} and writing {target.show(asked)}"
        )
        return
    # the values that decode (round) onto the asked ones, kept inside the real range
    margin = unit / 2 - unit * 1e-6 if unit else 0.0
    lo, hi = max(low - margin, real_low), min(high + margin, real_high)
    out.intervals[target.value] = (np.array([lo]), np.array([hi]))


def _discrete(target, conds, allow_unseen, out, fixes, notes) -> None:
    allowed = target.valid_codes()
    for cond in conds:
        if cond.op in RANGE_OPERATORS:
            raise ConditionError(
                f"{cond.text}: {target.col.name!r} is {target.col.kind}; use =, != or in"
            )
        codes = target.parse(cond.values)
        choices = target.kind.choices(target.col)
        if choices is not None and (codes < 0).any():
            raise ConditionError(
                f"{cond.text}: {target.col.name!r} is {target.col.kind}; write {choices}"
            )
        if cond.op == "!=":
            allowed &= ~np.isin(np.arange(target.cardinality), codes)
            continue
        wanted = np.isin(np.arange(target.cardinality), codes[codes >= 0])
        unseen = [v for v, c in zip(cond.values, codes) if c < 0]
        if unseen:
            classes = target.classes()
            known = ", ".join(repr(c) for c in classes[:8])
            if not allow_unseen:
                raise ConditionError(
                    f"{cond.text}: {unseen[0]!r} is not a category the model can write (never "
                    f"seen in training, or in fewer than {target.rare_threshold} "
                    f"rows and suppressed); known: {known}{'...' if len(classes) > 8 else ''}; "
                    f"{_unseen_hint()}"
                )
            if target.pool is not None:
                wanted[target.pool] = True
                allowed[target.pool] = True
            elif not wanted.any():
                wanted = target.valid_codes()
            seen = [classes[c] for c in codes if c >= 0]
            fixes.append(Fix(target.col.name, seen=seen, unseen=unseen))
            pool = "the pooled rare categories" if target.pool is not None else "any category"
            notes.append(
                f"{cond.text}: {', '.join(map(repr, unseen))} never seen in training: the model "
                f"extrapolates, generating rows as for {pool} and writing the asked value"
            )
        allowed &= wanted
    if not allowed.any():
        raise ConditionError(
            f"{' and '.join(c.text for c in conds)}: no value of {target.col.name!r} meets that"
        )
    out.allowed[target.value] = allowed[None, :]


def _constant(target, conds, allow_unseen, fixes, notes) -> None:
    value = str(target.col.value).strip().casefold()
    for cond in conds:
        same = [str(v).strip().casefold() == value for v in cond.values]
        if cond.op in RANGE_OPERATORS:
            met = _in_range(target.col.value, cond)
        else:
            met = (
                any(same) if cond.op in ("=", "in") else not any(same) if cond.op == "!=" else False
            )
        if met:
            continue
        if cond.op not in ("=", "in"):  # no value to write instead
            raise ConditionError(
                f"{cond.text}: {target.col.name!r} is always {target.col.value!r} in training, "
                "which does not meet it"
            )
        if not allow_unseen:
            raise ConditionError(
                f"{cond.text}: {target.col.name!r} is always {target.col.value!r} in training; "
                f"{_unseen_hint()}"
            )
        raw = pd.Series([cond.values[0]], dtype=object)
        fixes.append(Fix(target.col.name, pin=raw))
        notes.append(f"{cond.text}: writing {cond.values[0]!r} (never seen in training)")


def _in_range(value: Any, cond: Condition) -> bool:
    """Whether a constant column's value meets a range condition (a number against numbers;
    anything else does not).

    Example:
        >>> _in_range(-0.0, Condition("t", ">=", ("0",), "t>=0")), _in_range(3, Condition("t", "between", ("4", "9"), ""))
        (True, False)
    """
    try:
        x, bounds = float(value), [float(v) for v in cond.values]
    except (TypeError, ValueError):
        return False
    if cond.op == "between":
        return min(bounds[:2]) <= x <= max(bounds[:2])
    v = bounds[0]
    return {">=": x >= v, ">": x > v, "<=": x <= v, "<": x < v}[cond.op]


def balance_classes(encoder: TableEncoder, column: str) -> list[Condition]:
    """One equality condition per class of a categorical or boolean column (nulls and the pool
    of rare categories are not classes)."""
    found = targets(encoder)
    asked = option(f"--balance {column}", f"balance={column!r}")
    if column not in found:
        raise ConditionError(f"{asked}: no such column; columns: {', '.join(found)}")
    target = found[column]
    if not target.discrete:
        raise ConditionError(
            f"{asked}: {column!r} is {target.col.kind}; balance needs a categorical "
            "or boolean column"
        )
    values = list(target.classes())
    if not values:
        raise ConditionError(f"{asked}: every category of {column!r} is suppressed as rare")
    return [Condition(column, "=", (v,), f"{column}={v}") for v in values]


# ---- plans: what sample(where=..., balance=...) and fill() draw, block by block -----------------


class SamplePlan:
    """Rows for `sample(where=..., balance=...)`: row i belongs to class i mod k (one class without
    balance), each class with its constraints; the same rows for any chunking."""

    def __init__(
        self,
        model: Synthesizer,
        where: Any = None,
        balance: str | None = None,
        allow_unseen: bool = False,
    ):
        encoder = model.encoder_
        conditions = parse_where(where, encoder.schema.names)
        if balance is not None and any(c.column == balance for c in conditions):
            asked = option(f"--balance {balance}", f"balance={balance!r}")
            raise ConditionError(f"{asked} can't be combined with a condition on it")
        classes = balance_classes(encoder, balance) if balance is not None else [None]
        self.classes: list[Constraints] = []
        for extra in classes:
            constraints, fixes, notes = where_constraints(
                encoder, conditions + ([extra] if extra else []), allow_unseen
            )
            self.classes.append(constraints)
        # a class is a seen category: the fixes and notes are the conditions', the same for all
        self.fixes: list[Fix] = fixes
        self.notes: list[str] = notes
        for note in self.notes:
            warnings.warn(note, SynthgenWarning, stacklevel=3)

    def block(self, model: Synthesizer, start: int, rows: int, rng_key: list[int]) -> Encoded:
        k = len(self.classes)
        which = np.arange(start, start + rows) % k
        parts = []
        for c, constraints in enumerate(self.classes):
            idx = np.flatnonzero(which == c)
            rng = np.random.default_rng([*rng_key, c])
            parts.append((idx, model._conditional(len(idx), constraints, rng)))
        return scatter(parts, rows)

    def finish(self, frame: pd.DataFrame, seed: int, start: int) -> pd.DataFrame:
        rows = RowRandom(seed, start, len(frame), key=7919)
        for i, fix in enumerate(self.fixes):
            fix.apply(frame, rows.child(i))
        return frame


def scatter(parts: list[tuple[np.ndarray, Encoded]], rows: int) -> Encoded:
    """One encoded table from pieces that belong at the given row positions."""
    sample = next((enc for _, enc in parts if enc.n_rows), parts[0][1])
    cont = np.empty((rows, sample.continuous.shape[1]))
    disc = np.empty((rows, sample.discrete.shape[1]), dtype=np.int64)
    for idx, enc in parts:
        cont[idx], disc[idx] = enc.continuous, enc.discrete
    return Encoded(cont, disc, rows)


def fill_constraints(
    encoder: TableEncoder, given: pd.DataFrame, allow_unseen: bool = False, first_row: int = 0
) -> tuple[Constraints, list[tuple[str, np.ndarray, pd.Series]]]:
    """Per-row constraints for filling `given` (columns of the model; missing cells empty) and
    the given cells to write back: (column, mask of given rows, values as they will be written).
    Every given value is conditioned on exactly; every empty cell must come out not null."""
    found = targets(encoder)
    unknown = [c for c in given.columns if str(c) not in found]
    if unknown:
        raise ConditionError(
            f"the rows to fill have columns the model doesn't know: {', '.join(map(str, unknown))}"
        )
    n = len(given)
    out = Constraints(ranges=_ranges(encoder, found), label="the given cells")
    cells: list[tuple[str, np.ndarray, pd.Series]] = []
    for name, target in found.items():
        values = given[name] if name in given.columns else pd.Series([None] * n, dtype=object)
        values = values.reset_index(drop=True).astype(object).where(values.notna().to_numpy(), None)
        has = values.notna().to_numpy()
        if target.null is not None:
            out.allowed[target.null] = np.tile([True, False], (n, 1))
        if not has.any():
            if target.discrete:
                out.allowed[target.value] = np.tile(~_null_mask(target), (n, 1))
            continue
        if target.continuous:
            parsed = target.parse(values.where(has, None))
            low, high = target.seen_range()
            outside = has & ((parsed < low) | (parsed > high))
            _refuse_unseen(
                outside,
                values,
                target,
                first_row,
                allow_unseen,
                f"{target.show(low)} to {target.show(high)}",
            )
            # the model draws a cell among the few most extreme values as at its bound (it
            # learnt such rows there); the cell is written as given, and rules read it so
            exact = np.where(has, np.clip(parsed, low, high), np.nan)
            point = np.clip(exact, *target.real_range())
            if (has & (point != exact)).any():
                out.exact[target.value] = exact
            out.intervals[target.value] = (
                np.where(has, point, -math.inf),
                np.where(has, point, math.inf),
            )
            cells.append((name, has, _filled(output_values(target, parsed[has], values[has]), has)))
        elif target.discrete:
            codes = target.parse(values.where(has, None))
            if target.kind.choices(target.col) is not None and (has & (codes < 0)).any():
                bad = values[np.flatnonzero(has & (codes < 0))[0]]
                raise ConditionError(f"column {name!r} is {target.col.kind} and can't hold {bad!r}")
            unseen = has & (codes < 0)
            _refuse_unseen(unseen, values, target, first_row, allow_unseen, None)
            mask = np.tile(~_null_mask(target), (n, 1))
            seen = has & (codes >= 0)
            mask[seen] = False
            mask[np.flatnonzero(seen), codes[seen]] = True
            if target.pool is not None and unseen.any():
                mask[unseen] = False
                mask[unseen, target.pool] = True
            elif target.rare_code is not None:  # the pool learned no row: as any category
                mask[unseen, target.rare_code] = False
            out.allowed[target.value] = mask
            parsed = np.where(codes >= 0, codes, 0)
            cells.append((name, has, _filled(output_values(target, parsed[has], values[has]), has)))
        else:
            kept = output_values(target, np.zeros(int(has.sum())), values[has])
            cells.append((name, has, _filled(kept, has)))
    return out, cells


def _null_mask(target: _Target) -> np.ndarray:
    mask = np.zeros(target.cardinality, dtype=bool)
    if target.null_code is not None:
        mask[target.null_code] = True
    return mask


def _filled(values: pd.Series, has: np.ndarray) -> pd.Series:
    """Given values spread over all rows (positions of `has`)."""
    spread = values.iloc[np.maximum(np.cumsum(has) - 1, 0)].reset_index(drop=True)
    return spread


def _refuse_unseen(bad, values, target, first_row, allow_unseen, seen_range) -> None:
    if not bad.any():
        return
    i = int(np.flatnonzero(bad)[0])
    what = (
        f"outside the range seen in training ({seen_range})"
        if seen_range
        else "not a category the model can write (never seen in training, or rare and suppressed)"
    )
    if allow_unseen:
        warnings.warn(
            f"{int(bad.sum())} given value(s) of {target.col.name!r} are {what}, e.g. "
            f"{values[i]!r} in row {first_row + i + 1}: kept as given; the model extrapolates "
            "(fills those rows as for the nearest seen values)",
            SynthgenWarning,
            stacklevel=4,
        )
        return
    raise ConditionError(
        f"row {first_row + i + 1}, column {target.col.name!r}: {values[i]!r} is {what}; "
        f"{_unseen_hint()}"
    )
