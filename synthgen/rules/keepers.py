"""How each kind of rule is kept: what a model learns in place of the columns a rule decides,
and how those columns are computed back from what it samples (see `synthgen.rules.keep`).

| kind | the model learns | the column comes back as |
|---|---|---|
| identity | the sources | their signed sum, on the target's decimals |
| product | the sources (a ratio and its divisor, for a ratio's numerator) | their product (times a factor), on the target's decimals (the numerator, then the ratio from it) |
| order | the sources and the gap (target - sources, >= 0) | sources + gap, never below them |
| dependency | the sources | the target of each real group of sources (of a number: of the nearest value many rows share) |
| monotone | the source | the real curve through the source |
| combination | one joint category of the real combinations (of categories or 0/1 flags) | that combination's members |
| missing_together | the first column; the others completed | the others missing where it is |
| missing_when | the source; the target completed | missing exactly where the rule says |

The sums, orders and monotone functions are kept here; dependencies and combinations in
`synthgen.rules.categories`, the missing kinds in `synthgen.rules.nulls`.

Values live in the *rules space*: the encoding of the table's own columns that rules name
(continuous values on their decimals, category codes), so that rules compose: a column one rule
computes is a source of the next. A row a rule cannot judge (a missing source) keeps the real
row's shape through `Residue`.

Example:
    >>> from synthgen.rules.model import Rule
    >>> Order(Rule("order", ("pickup", "dropoff")), 0).writes
    ('dropoff',)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from synthgen.columns import KINDS, Encoded
from synthgen.conditions import targets
from synthgen.rules.model import Rule
from synthgen.rules.rows import product_of
from synthgen.schema import Column, detect_column

if TYPE_CHECKING:
    from synthgen.rules.keep import RuleEncoder

#: Separates a column's name from the role of a column the model learns in its place.
SEP = "\x1f"


def on_grid(x: np.ndarray, unit: float) -> np.ndarray:
    """Values rounded as decoding rounds them (1: whole numbers, 0.01: two decimals, 86400:
    days); 0 leaves them as they are.

    Example:
        >>> on_grid(np.array([1.234, 2.5]), 0.01).tolist()
        [1.23, 2.5]
    """
    if not unit:
        return x
    if unit >= 1:
        return np.round(x / unit) * unit
    return np.round(x, int(round(-np.log10(unit))))


class Space:
    """Where each column of an encoder lives among its parts, and its values there: numbers
    (floats, NaN where missing) for continuous columns, codes for the others."""

    def __init__(self, encoder: Any):
        self.at = targets(encoder)

    def continuous(self, name: str) -> bool:
        t = self.at[name]
        return t.value is not None and not t.discrete

    def discrete(self, name: str) -> bool:
        t = self.at[name]
        return t.value is not None and t.discrete

    def unit(self, name: str) -> float:
        t = self.at[name]
        return float(KINDS[t.col.kind].grid(t.state))

    def numbers(self, enc: Encoded, name: str, decoded: bool = False) -> np.ndarray:
        """The column's numbers; `decoded`: clipped to its bounds and rounded as decoding does
        (a model's raw value), else as they are (values the rules wrote)."""
        t = self.at[name]
        x = np.array(enc.continuous[:, t.value], dtype=float)
        if decoded:
            x = on_grid(np.clip(x, t.state["min"], t.state["max"]), self.unit(name))
            x = KINDS[t.col.kind].settle(x, t.state)
        if t.null is not None:
            x[enc.discrete[:, t.null] == 1] = np.nan
        return x

    def codes(self, enc: Encoded, name: str) -> np.ndarray:
        return enc.discrete[:, self.at[name].value]

    def missing(self, enc: Encoded, name: str) -> np.ndarray:
        t = self.at[name]
        if t.discrete:
            code = t.null_code
            return self.codes(enc, name) == code if code is not None else np.zeros(enc.n_rows, bool)
        if t.null is None:
            return np.zeros(enc.n_rows, dtype=bool)
        return enc.discrete[:, t.null] == 1

    def put_numbers(self, enc: Encoded, name: str, x: np.ndarray, fallback: float) -> None:
        """Write numbers (NaN: missing; `fallback` where the column can't be missing)."""
        t = self.at[name]
        missing = np.isnan(x)
        if t.null is not None:
            enc.discrete[:, t.null] = missing
        enc.continuous[:, t.value] = np.where(missing, fallback, x)

    def put_codes(self, enc: Encoded, name: str, codes: np.ndarray) -> None:
        enc.discrete[:, self.at[name].value] = codes


@dataclass
class Real:
    """The real table as the keepers learn from it."""

    table: pd.DataFrame  # the user's columns as given
    u: Encoded  # the rules space
    space: Space
    rare_threshold: int
    rng: np.random.Generator
    # rows a model drew (a DP model's), not real ones: their pairs of values are noisy
    drawn: bool = False
    # the model learns a column a number decides by value as it is too (a model that draws
    # each column given those before it: `synthgen.rules.categories.Dependency`)
    learn_codes: bool = False


# A modelled column a keeper adds: (the user column whose place it takes, its schema, values).
Added = tuple[str, Column, pd.Series]


def renamed(col: Column, name: str) -> Column:
    return dataclasses.replace(col, name=name, null_rate=0.0)


class Keeper:
    """Keeps one rule (`rule`, number `index` in the schema's list). `writes`: the columns it
    decides; `reads`: those it computes them from (decided first when another rule decides
    them)."""

    writes: tuple[str, ...] = ()
    reads: tuple[str, ...] = ()
    # modelled columns whose category codes it reads (their rare pool is resolved first)
    codes_read: tuple[str, ...] = ()

    def __init__(self, rule: Rule, index: int):
        self.rule, self.index = rule, index
        self.setup()

    def setup(self) -> None:
        self.reads, self.writes = tuple(self.rule.sources), (self.rule.derived,)

    def pivots(self) -> tuple[Any, ...]:
        """The columns it may decide instead of its derived one (see `Linear`), each as
        `settle` takes it."""
        return ()

    def settle(self, pivot: Any) -> None:
        raise NotImplementedError

    def unkept(self, space: Space) -> str | None:
        """Why it can't keep its rule on these columns (None: it can)."""
        return need(space, self.rule.columns, space.continuous, "numbers or dates")

    def fit(self, real: Real) -> list[Added]:
        """Learn the rule's state from the rows; their modelled columns (`added`)."""
        return self.added(real)

    def added(self, real: Real) -> list[Added]:
        """The modelled columns of rows under the learned state (columns the model learns in
        place of those the rule decides), also for rows it was not fitted on."""
        return []

    def bind(self, enc: RuleEncoder) -> None:
        """Learn what needs the fitted model's encoder (the codes it gave a joint category)."""

    def inverse(self, m: Encoded, u: Encoded, enc: RuleEncoder) -> None:
        raise NotImplementedError

    def state(self) -> dict[str, Any]:
        return {}

    def load(self, state: dict[str, Any], enc: RuleEncoder) -> None:
        """Take a state from a model file, checked (a bad one raises ValueError)."""


def need(space: Space, names, test, what: str) -> str | None:
    bad = [n for n in names if not test(n)]
    return f"{bad[0]!r} is {space.at[bad[0]].col.kind}, it needs {what}" if bad else None


def state_array(
    state: dict[str, Any], key: str, dtype: type, length: int | None = None
) -> np.ndarray:
    out = np.asarray(state[key])
    if not (np.issubdtype(out.dtype, np.number) or out.dtype == bool) or out.ndim < 1:
        raise ValueError(f"rule state {key!r} is not a numeric array")
    if length is not None and len(out) != length:
        raise ValueError(f"rule state {key!r} has {len(out)} entries, not {length}")
    return out.astype(dtype)


def codes_within(values: np.ndarray, cardinality: int, key: str) -> None:
    if len(values) and (values.min() < 0 or values.max() >= cardinality):
        raise ValueError(f"rule state {key!r} holds codes outside 0..{cardinality - 1}")


class Residue:
    """The rows a rule cannot judge, as the real table has them: the target missing though its
    sources are not (a flag the model learns), and the target given though a source is missing
    (its value, learned where only such rows have one). Each exists only when real rows need it."""

    def __init__(self, target: str, flag: bool = False, left: bool = False):
        self.target, self.flag, self.left = target, flag, left

    @property
    def flag_name(self) -> str:
        return f"{self.target}{SEP}missing"

    @property
    def left_name(self) -> str:
        return f"{self.target}{SEP}left"

    def learn(self, real: Real, judged: np.ndarray, value_missing: bool) -> None:
        """Which of the two the real rows need; `judged`: the rows whose sources are all there."""
        missing = real.table[self.target].isna().to_numpy()
        self.flag = value_missing and bool((judged & missing).any())
        self.left = bool((~judged & ~missing).any())

    def added(self, real: Real, judged: np.ndarray) -> list[Added]:
        """The modelled columns of these rows (`judged` as in `fit`)."""
        target = real.table[self.target]
        missing = target.isna().to_numpy()
        out: list[Added] = []
        if self.flag:
            flags = pd.Series(judged & missing, name=self.flag_name)
            out.append((self.target, detect_column(flags, kind="boolean"), flags))
        if self.left:
            col = renamed(real.space.at[self.target].col, self.left_name)
            values = target.where(pd.Series(~judged, index=target.index))
            out.append((self.target, col, values.rename(self.left_name)))
        return out

    def apply(self, x: np.ndarray, judged: np.ndarray, m: Encoded, enc: RuleEncoder) -> np.ndarray:
        if self.flag:
            x = np.where(judged & (enc.m.codes(m, self.flag_name) == 1), np.nan, x)
        if self.left:
            x = np.where(judged, x, enc.m.numbers(m, self.left_name, decoded=True))
        return x

    def state(self) -> dict[str, Any]:
        return {"flag": self.flag, "left": self.left}

    def load(self, state: dict[str, Any], enc: RuleEncoder) -> None:
        self.flag, self.left = bool(state["flag"]), bool(state["left"])
        for name, on in ((self.flag_name, self.flag), (self.left_name, self.left)):
            if on and name not in enc.m.at:
                raise ValueError(f"rule state names a modelled column the model lacks: {name!r}")


class Linear(Keeper):
    """A column that is a signed sum of the others: an identity (target = sum(sign * source)),
    or an order (target = sum(sources) + gap, the gap >= 0 learned by the model). The column
    decided, the *pivot*, is the target unless another rule decides it: then a source,
    solved for (`settle`), so that two orders onto one column both hold."""

    def setup(self) -> None:
        self.settle(self.rule.columns[-1])

    def settle(self, pivot: str) -> None:
        """Decide `pivot` (one of the rule's columns) from the others."""
        self.reads = tuple(c for c in self.rule.columns if c != pivot)
        self.writes = (pivot,)

    def pivots(self) -> tuple[str, ...]:
        """The columns it may decide, in order of preference: the target, then the sources
        from the last."""
        return (self.rule.columns[-1], *reversed(self.rule.columns[:-1]))

    @property
    def equation(self) -> dict[str, float]:
        """Coefficients of sum(coefficient * column) = 0 (the gap, if any, under its name)."""
        signs = self.rule.signs or (1,) * (len(self.rule.columns) - 1)
        return {
            **{c: -float(s) for c, s in zip(self.rule.columns, signs)},
            self.rule.columns[-1]: 1.0,
        }

    def terms(self) -> list[tuple[str, float]]:
        """(column, coefficient) with pivot = sum(coefficient * column): a modelled gap first."""
        eq = self.equation
        lead = eq[self.writes[0]]
        return [(c, -a / lead) for c, a in eq.items() if c != self.writes[0]][::-1]

    @property
    def gap(self) -> str | None:
        return None

    def values(self, name: str, m: Encoded, u: Encoded, enc: RuleEncoder) -> np.ndarray:
        return enc.m.numbers(m, name, decoded=True) if name == self.gap else enc.u.numbers(u, name)

    def judged(self, real: Real) -> np.ndarray:
        """The rows whose columns the pivot is computed from are all there."""
        columns = [c for c, _ in self.terms() if c != self.gap]
        values = [real.space.numbers(real.u, c) for c in columns]
        return ~np.any([np.isnan(v) for v in values], axis=0)

    def fit(self, real: Real) -> list[Added]:
        self.learn(real)
        return self.added(real)

    def learn(self, real: Real) -> None:
        """The pivot's fallback and which residue the rows need."""
        self.residue = Residue(self.writes[0])
        target = real.space.numbers(real.u, self.writes[0])
        self.fallback = float(np.nanmedian(target)) if (~np.isnan(target)).any() else 0.0
        self.residue.learn(real, self.judged(real), value_missing=self.gap is None)

    def added(self, real: Real) -> list[Added]:
        return self.residue.added(real, self.judged(real))

    def inverse(self, m: Encoded, u: Encoded, enc: RuleEncoder) -> None:
        pivot = self.writes[0]
        parts = [(a, self.values(c, m, u, enc), c == self.gap) for c, a in self.terms()]
        raw = np.asarray(sum(a * x for a, x, _ in parts), dtype=float)
        unit = enc.u.unit(pivot)
        x = on_grid(raw, unit)
        for a, gap, is_gap in parts:
            if is_gap:  # rounding must not cross the bound the gap keeps it from
                bound = raw - a * gap
                with np.errstate(invalid="ignore"):
                    if a > 0:
                        x = np.where(x < bound, x + unit, x) if unit else np.maximum(x, bound)
                    else:
                        x = np.where(x > bound, x - unit, x) if unit else np.minimum(x, bound)
        judged = ~np.any([np.isnan(x) for _, x, is_gap in parts if not is_gap], axis=0)
        x = self.residue.apply(x, judged, m, enc)
        enc.u.put_numbers(u, pivot, x, self.fallback)

    def state(self) -> dict[str, Any]:
        return {**self.residue.state(), "fallback": self.fallback, "pivot": self.writes[0]}

    def load(self, state: dict[str, Any], enc: RuleEncoder) -> None:
        if state["pivot"] not in self.rule.columns:
            raise ValueError("a rule's decided column is not one of its columns")
        self.settle(str(state["pivot"]))
        if self.gap is not None and self.gap not in enc.m.at:
            raise ValueError(f"an order rule's gap column {self.gap!r} is not modelled")
        self.residue = Residue(self.writes[0])
        self.residue.load(state, enc)
        self.fallback = float(state["fallback"])


class Identity(Linear):
    """target = sum(sign * source): the decided column is not modelled. A total whose terms
    are shares of it (race counts and their percentages of the population) is modelled, and
    its largest term decided as the rest (`composition`)."""

    first: str | None = None

    def composition(self, shares: list[str], space: Space) -> None:
        """Where ratio rules make terms of this sum shares of its total: decide the largest
        added term (by its real maximum) as the total less the others, so that the total and
        the other terms' shares are what the model learns (each term the share times the
        total: `Product`); the largest term's share is then computed."""
        signs = self.rule.signs or (1,) * len(self.rule.sources)
        added = [c for c, s in zip(self.rule.sources, signs) if s > 0]
        if not shares or not all(space.continuous(c) for c in added):
            return
        self.first = max(added, key=lambda c: space.at[c].state["max"])
        self.settle(self.first)

    def pivots(self) -> tuple[str, ...]:
        rest = super().pivots()
        return rest if self.first is None else (self.first, *(c for c in rest if c != self.first))


#: Significant digits a float holds (a column written to as many is not rounded by them).
DIGITS = 15
#: A computed column with a finer grid than this (its text has a float's noise: 17 decimals),
#: or none, is written to its real values' significant digits (`written_digits`).
FINE = 1e-10


def significant(x: np.ndarray, digits: int | None) -> np.ndarray:
    """`x` rounded to `digits` significant digits (None: as it is).

    Example:
        >>> significant(np.array([0.0913978494, 1270.961538, 0.0]), 6).tolist()
        [0.0913978, 1270.96, 0.0]
    """
    if digits is None:
        return x
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = 10.0 ** (digits - 1 - np.floor(np.log10(np.abs(x))))
        out = np.round(x * scale) / scale
    return np.where(np.isfinite(out), out, x)


def written_digits(x: np.ndarray, share: float = 0.999) -> int | None:
    """The fewest significant digits that write `share` of the values of `x` as they are (a
    column printed to 6 digits: 0.091398), or None when it takes `DIGITS` or more.

    Example:
        >>> written_digits(np.array([0.091398, 12.5, 1270.96]))
        6
    """
    x = x[np.isfinite(x) & (x != 0)]
    for digits in range(1, DIGITS):
        if not len(x) or np.mean(np.abs(significant(x, digits) - x) <= 2e-15 * np.abs(x)) >= share:
            return digits
    return None


class Product(Keeper):
    """target = factor * prod(source ** sign). What it decides, in order of preference:

    - a ratio's numerator (`popwhite` of `percwhite = 100 * popwhite / poptotal`): the model
      learns the ratio itself (as `percwhite<SEP>ratio`) and the other sources; the numerator
      is the ratio times them, on its grid, and the target is then computed from the sources
      as written, so that the row keeps the rule exactly. A ratio computed from two modelled
      counts spreads wider than the real one (where the counts drift apart);
    - the target, computed from the sources;
    - where another rule decides the target (or the numerator would close a cycle), a source
      solved for (`a = t / (factor * b)`), as `Linear` does: a numerator first (from the
      ratio as another rule decides it: star98's `PTRATIO_PCTAF = PCTAF * PTRATIO`, where
      `PCTAF` and `PTRATIO` each come from a ratio of their own), then a divisor.

    A computed column is written as the real one is: on its decimals, or where those are a
    float's noise, to the significant digits its real values are written to. Where a divisor
    is 0 or a source is missing the row is not judged: the decided column is missing there
    unless real rows give such rows a value (then the model learns it, as a residue)."""

    def setup(self) -> None:
        self.settle(self.rule.columns[-1])

    def settle(self, pivot: str | tuple[str, bool]) -> None:
        """Decide `pivot` (a column, or (a column, whether the model learns the ratio: None
        or left out, a ratio's numerator learns it))."""
        rule, factor = self.rule, self.rule.factor or 1.0
        target = rule.columns[-1]
        signs = dict(zip(rule.sources, rule.signs or (1,) * len(rule.sources)))
        pivot, learned = pivot if isinstance(pivot, tuple) else (pivot, None)
        self.pivot = pivot
        numerator = pivot != target and signs[pivot] > 0 and -1 in signs.values()
        self.ratio = numerator if learned is None else bool(learned) and numerator
        others = tuple(c for c in rule.columns if c != pivot)
        self.reads = tuple(c for c in others if c != target) if self.ratio else others
        self.writes = (pivot, target) if self.ratio else (pivot,)
        if pivot == target:
            self.form = rule
            return
        s = signs[pivot]  # pivot ** s = t * factor ** -1 * prod(x ** -sign)
        self.form = Rule(
            "product",
            (*others, pivot),
            signs=tuple(s if c == target else -signs[c] * s for c in others),
            factor=factor**-s,
        )

    @property
    def learned(self) -> str:
        """The modelled column of the ratio where the numerator is decided."""
        return f"{self.rule.columns[-1]}{SEP}ratio"

    def pivots(self) -> tuple[str | tuple[str, bool], ...]:
        """A ratio's numerators (the model learning the ratio), then its target, then its
        numerators solved for, then its divisors; a product's target, then its sources (from
        the last)."""
        signs = self.rule.signs or (1,) * len(self.rule.sources)
        up = [c for c, s in zip(self.rule.sources, signs) if s > 0][::-1]
        down = [c for c, s in zip(self.rule.sources, signs) if s < 0][::-1]
        if down:
            solved = [(c, False) for c in up]
            return (*up, self.rule.columns[-1], *solved, *down)
        return (self.rule.columns[-1], *up)

    def _parts(self, u: Encoded, space: Space, ratio: np.ndarray | None) -> list[np.ndarray]:
        """The values of the form's sources (the ratio's from `ratio` where it is learned)."""
        target = self.rule.columns[-1]
        return [
            ratio if ratio is not None and c == target else space.numbers(u, c)
            for c in self.form.sources
        ]

    def computed(self, u: Encoded, space: Space, ratio: np.ndarray | None = None) -> np.ndarray:
        return product_of(self.form, self._parts(u, space, ratio))

    def _real_ratio(self, real: Real) -> np.ndarray | None:
        return real.space.numbers(real.u, self.rule.columns[-1]) if self.ratio else None

    def judged(self, real: Real) -> np.ndarray:
        """The rows whose sources are all there and whose divisors are not 0."""
        return ~np.isnan(self.computed(real.u, real.space, self._real_ratio(real)))

    def fit(self, real: Real) -> list[Added]:
        self.residue = Residue(self.pivot)
        self.digits = {}
        for name in self.writes:
            values = real.space.numbers(real.u, name)
            # a column on a grid of decimals is written on it; one of a float's noise
            # (0.09139800000000001) or of full precision, to its real values' digits
            fine = real.space.unit(name) < FINE
            self.digits[name] = written_digits(values) if fine else None
            if name == self.pivot:
                self.fallback = float(np.nanmedian(values)) if (~np.isnan(values)).any() else 0.0
        self.residue.learn(real, self.judged(real), value_missing=True)
        return self.added(real)

    def added(self, real: Real) -> list[Added]:
        out = self.residue.added(real, self.judged(real))
        if self.ratio:
            target = self.rule.columns[-1]
            col = renamed(real.space.at[target].col, self.learned)
            out.append((target, col, real.table[target].rename(self.learned)))
        return out

    def _written(self, x: np.ndarray, name: str, enc: RuleEncoder) -> np.ndarray:
        return on_grid(significant(x, self.digits[name]), enc.u.unit(name))

    def inverse(self, m: Encoded, u: Encoded, enc: RuleEncoder) -> None:
        ratio = enc.m.numbers(m, self.learned, decoded=True) if self.ratio else None
        raw = self.computed(u, enc.u, ratio)
        x = self.residue.apply(self._written(raw, self.pivot, enc), ~np.isnan(raw), m, enc)
        # (on the grid: the target is computed from the value written)
        fallback = float(self._written(np.array([self.fallback]), self.pivot, enc)[0])
        enc.u.put_numbers(u, self.pivot, x, fallback)
        if self.ratio:  # the target from the sources as written
            target = self.rule.columns[-1]
            t = product_of(self.rule, [enc.u.numbers(u, c) for c in self.rule.sources])
            t = np.where(np.isnan(t), ratio, self._written(t, target, enc))
            enc.u.put_numbers(u, target, t, self.fallback)

    def state(self) -> dict[str, Any]:
        return {
            **self.residue.state(),
            "fallback": self.fallback,
            "pivot": self.pivot,
            "ratio": self.ratio,
            "digits": [self.digits[n] for n in self.writes],
        }

    def load(self, state: dict[str, Any], enc: RuleEncoder) -> None:
        if state["pivot"] not in self.rule.columns:
            raise ValueError("a rule's decided column is not one of its columns")
        learned = state.get("ratio")  # (files before it: a numerator learned the ratio)
        if learned is not None and not isinstance(learned, bool):
            raise ValueError("a product rule's 'ratio' is true or false")
        self.settle((str(state["pivot"]), learned))
        digits = state["digits"]
        if not isinstance(digits, list) or len(digits) != len(self.writes):
            raise ValueError("a product rule's significant digits are one per decided column")
        for d in digits:
            if d is not None and (isinstance(d, bool) or d not in range(1, DIGITS)):
                raise ValueError(f"a product rule's significant digits are 1..{DIGITS - 1} or null")
        if self.ratio and self.learned not in enc.m.at:
            raise ValueError(f"a product rule's ratio column {self.learned!r} is not modelled")
        self.digits = dict(zip(self.writes, digits))
        self.residue = Residue(self.pivot)
        self.residue.load(state, enc)
        self.fallback = float(state["fallback"])


# An order whose real gap is typically at least this share of its target's spread (median gap
# over interquartile range) is loose: taxis' distance <= fare (0.89) and fare + tip <= total
# (0.35), diamonds' z <= x (1.2); not pickup <= dropoff (0.0005).
LOOSE = 0.3


class Order(Linear):
    """sum(sources) <= target: the model learns the gap target - sum(sources) (>= 0). Other
    orders onto the same target join it (`absorb`): target = the largest of the sums + gap.

    A loose order (`LOOSE`) is learned otherwise: a model seldom breaks it, and the target's
    own marginal is better learned than a sum's (taxis, copula, SDMetrics quality over three
    samples: 0.895 against 0.883 with every order a gap; 0.896 without rules), so the
    model learns the target itself and a row below its bound is reflected above it."""

    def setup(self) -> None:
        super().setup()
        self.more: list[Rule] = []  # the orders it absorbed
        self.also: list[int] = []  # their numbers in the schema's list
        self.loose = False

    @property
    def raw(self) -> str:
        """The target as the model learns it, when the order is loose."""
        return f"{self.writes[0]}{SEP}raw"

    def absorb(self, rule: Rule, index: int) -> None:
        """Keep another order onto the same target too."""
        self.more.append(rule)
        self.also.append(index)
        self.reads = tuple(dict.fromkeys((*self.reads, *rule.columns[:-1])))

    def lower(self, numbers) -> np.ndarray:
        """The largest of the sums below the target (NaN where none can be judged)."""
        sums = [sum(numbers(c) for c in r.columns[:-1]) for r in (self.rule, *self.more)]
        return np.fmax.reduce(np.asarray(sums, dtype=float), axis=0)

    @property
    def equation(self) -> dict[str, float]:
        return {
            **{c: -1.0 for c in self.rule.columns[:-1]},
            self.rule.columns[-1]: 1.0,
            self.gap: -1.0,
        }

    @property
    def gap(self) -> str:
        return None if self.loose else f"{self.writes[0]}{SEP}gap"  # type: ignore[return-value]

    def fit(self, real: Real) -> list[Added]:
        left = self.lower(lambda c: real.space.numbers(real.u, c))
        right = real.space.numbers(real.u, self.rule.columns[-1])
        if (~np.isnan(right - left)).any():  # against the spread of the column it decides
            quarters = np.nanpercentile(real.space.numbers(real.u, self.writes[0]), [25, 75])
            spread = quarters[1] - quarters[0]
            self.loose = bool(spread > 0 and np.nanmedian(right - left) >= LOOSE * spread)
        if self.loose:  # the decided column's own median
            self.fallback = float(np.nanmedian(real.space.numbers(real.u, self.writes[0])))
        elif not self.more:
            self.learn(real)
        else:
            self.residue = Residue(self.writes[0])
            self.fallback = float(np.nanmedian(right)) if (~np.isnan(right)).any() else 0.0
            self.residue.learn(real, ~np.isnan(left), value_missing=False)
        return self.added(real)

    def added(self, real: Real) -> list[Added]:
        if self.loose:  # the target as it is, nulls and all
            col = renamed(real.space.at[self.writes[0]].col, self.raw)
            return [(self.writes[0], col, real.table[self.writes[0]].rename(self.raw))]
        left = self.lower(lambda c: real.space.numbers(real.u, c))
        right = real.space.numbers(real.u, self.rule.columns[-1])
        gap = pd.Series(np.maximum(right - left, 0), name=self.gap)
        added = [(self.writes[0], detect_column(gap, kind="numeric"), gap)]
        if not self.more:
            return [*added, *super().added(real)]
        return [*added, *self.residue.added(real, ~np.isnan(left))]

    def inverse(self, m: Encoded, u: Encoded, enc: RuleEncoder) -> None:
        if not self.more and not self.loose:
            super().inverse(m, u, enc)
        elif self.loose and self.writes[0] != self.rule.columns[-1]:
            self._below(m, u, enc)
        else:
            self._above(m, u, enc)
        self._above_the_floor(u, enc)
        self._below_the_top(u, enc)

    def _below(self, m: Encoded, u: Encoded, enc: RuleEncoder) -> None:
        """A source a loose order decides (its target decided by another rule), learned as it
        is and reflected below the room its target leaves where it passes it: `vserat <=
        vacdays` (a share of pay against days' pay) or `sicklve <= annbens` (one benefit of
        four), where the target less a gap drawn for another row was noise around a small
        value, and a chain of such differences wrote pensions from it."""
        pivot = self.writes[0]
        room = self._room(u, enc)
        unit = enc.u.unit(pivot)
        raw = enc.m.numbers(m, self.raw, decoded=True)
        with np.errstate(invalid="ignore"):  # above the room: as far below it
            x = on_grid(np.where(raw > room, 2 * room - raw, raw), unit)
            x = np.where(x > room, x - unit, x) if unit else np.minimum(x, room)
        enc.u.put_numbers(u, pivot, np.where(np.isnan(room), raw, x), self.fallback)

    def _above_the_floor(self, u: Encoded, enc: RuleEncoder) -> None:
        """A source the order decides (its target decided by another rule: `sicklve <=
        annbens`, annbens a product) no lower than its real minimum where the target leaves
        room: the target less a gap drawn for another row went below it (a sick-leave value
        of -1,909 where every real one is at least 0)."""
        pivot = self.writes[0]
        if pivot == self.rule.columns[-1]:
            return
        x = enc.u.numbers(u, pivot)
        room = self._room(u, enc)
        low = float(enc.u.at[pivot].state["min"])
        with np.errstate(invalid="ignore"):
            raised = np.where(x < low, np.fmin(np.fmax(room, x), low), x)
        enc.u.put_numbers(u, pivot, raised, self.fallback)

    def _room(self, u: Encoded, enc: RuleEncoder) -> np.ndarray:
        """The most the source the order decides may be: its target less its other sources."""
        pivot = self.writes[0]
        return enc.u.numbers(u, self.rule.columns[-1]) - sum(
            enc.u.numbers(u, c) for c in self.rule.columns[:-1] if c != pivot
        )

    def _below_the_top(self, u: Encoded, enc: RuleEncoder) -> None:
        """A decided target no higher than its real maximum where its sources leave room (a
        gap drawn on top of a high source passed it: values stay inside the real bounds), never
        below its sources (every real row had max(target) >= the sums below it), and no lower
        than its real minimum."""
        target = self.writes[0]
        if target != self.rule.columns[-1]:
            return
        x = enc.u.numbers(u, target)
        left = self.lower(lambda c: enc.u.numbers(u, c))
        state = enc.u.at[target].state
        with np.errstate(invalid="ignore"):
            top = np.fmax(float(state["max"]), left)
            x = np.where(x > top, top, x)
            # nor below its real minimum: raising a target keeps it above its sources (a
            # source at its own minimum and a gap of 0 wrote a date before every real one)
            x = np.where(x < float(state["min"]), float(state["min"]), x)
            enc.u.put_numbers(u, target, x, self.fallback)

    def _above(self, m: Encoded, u: Encoded, enc: RuleEncoder) -> None:
        """The target of a loose order, or of several orders joined, above its sums."""
        left = self.lower(lambda c: enc.u.numbers(u, c))
        unit = enc.u.unit(self.writes[0])
        if self.loose:
            raw = enc.m.numbers(m, self.raw, decoded=True)
            with np.errstate(invalid="ignore"):  # below its bound: as far above it
                x = on_grid(np.where(raw < left, 2 * left - raw, raw), unit)
                x = np.where(x < left, x + unit, x) if unit else np.maximum(x, left)
            enc.u.put_numbers(u, self.writes[0], np.where(np.isnan(left), raw, x), self.fallback)
            return None
        x = on_grid(left + enc.m.numbers(m, self.gap, decoded=True), unit)
        with np.errstate(invalid="ignore"):
            x = np.where(x < left, x + unit, x) if unit else np.maximum(x, left)
        x = self.residue.apply(x, ~np.isnan(left), m, enc)
        enc.u.put_numbers(u, self.writes[0], x, self.fallback)

    def state(self) -> dict[str, Any]:
        if self.loose:  # the pivot too: a source where another rule decides the target
            return {
                "loose": True,
                "fallback": self.fallback,
                "pivot": self.writes[0],
                "also": list(self.also),
            }
        return {**super().state(), "also": list(self.also)}

    def load(self, state: dict[str, Any], enc: RuleEncoder) -> None:
        self.loose = bool(state.get("loose", False))
        if self.loose:
            pivot = state.get("pivot", self.rule.columns[-1])  # (files before it: the target)
            if pivot not in self.rule.columns:
                raise ValueError("a rule's decided column is not one of its columns")
            self.settle(str(pivot))
            if self.raw not in enc.m.at:
                raise ValueError(f"a loose order's column {self.raw!r} is not modelled")
            self.fallback = float(state["fallback"])
        else:
            super().load(state, enc)
        rules = enc.user.rules
        for i in state.get("also", []):
            i = int(i)
            if not 0 <= i < len(rules) or rules[i].kind != self.rule.kind:
                raise ValueError(f"an absorbed rule number {i} is not an order of the schema")
            if rules[i].columns[-1] != self.writes[0]:
                raise ValueError("an absorbed order has another target")
            self.absorb(rules[i], i)


class Monotone(Keeper):
    """target = f(source) for a strictly monotone f: the real curve (the median target of each
    real source value, made monotone), read between its points by straight lines. Where
    another rule decides the target, the source is decided instead, by the inverse curve.
    From rows a model drew, whose pairs are noisy, the curve matches the two columns'
    quantiles instead (f maps the source's quantiles to the target's): their marginals are
    what a DP model learns best."""

    def unkept(self, space: Space) -> str | None:
        return need(space, self.rule.columns, space.continuous, "numbers")

    def pivots(self) -> tuple[str, ...]:
        return self.rule.columns[::-1]

    def settle(self, pivot: str) -> None:
        self.reads = tuple(c for c in self.rule.columns if c != pivot)
        self.writes = (pivot,)

    @property
    def forward(self) -> bool:
        """Whether it decides the target (else the source)."""
        return self.writes[0] == self.rule.columns[-1]

    def fit(self, real: Real) -> list[Added]:
        source, target = self.rule.columns
        s = real.space.numbers(real.u, source)
        t = real.space.numbers(real.u, target)
        both = ~(np.isnan(s) | np.isnan(t))
        if real.drawn:
            s, t = _quantiles(s[~np.isnan(s)], t[~np.isnan(t)], self.rule.increasing is not False)
            both = np.ones(len(s), dtype=bool)
        frame = pd.DataFrame({"s": s[both], "t": t[both]}).groupby("s")["t"].median()
        ys = frame.to_numpy(dtype=float)
        step = np.maximum if self.rule.increasing is not False else np.minimum
        self.xs, self.ys = frame.index.to_numpy(dtype=float), step.accumulate(ys)
        self.residue = Residue(self.writes[0])
        self.residue.learn(real, self.judged(real), value_missing=True)
        return self.added(real)

    def judged(self, real: Real) -> np.ndarray:
        """The rows whose column the decided one is computed from is there."""
        return ~np.isnan(real.space.numbers(real.u, self.reads[0]))

    def added(self, real: Real) -> list[Added]:
        return self.residue.added(real, self.judged(real))

    def curve(self, x: np.ndarray, backward: bool = False) -> np.ndarray:
        """f (or its inverse) at x; NaN where x is."""
        if not len(self.xs):
            return np.full(len(x), np.nan)
        xs, ys = self.xs, self.ys
        if backward:
            xs, ys = (ys, xs) if self.rule.increasing is not False else (ys[::-1], xs[::-1])
        return np.where(np.isnan(x), np.nan, np.interp(x, xs, ys))

    def inverse(self, m: Encoded, u: Encoded, enc: RuleEncoder) -> None:
        given = enc.u.numbers(u, self.reads[0])
        x = on_grid(self.curve(given, not self.forward), enc.u.unit(self.writes[0]))
        x = self.residue.apply(x, ~np.isnan(given), m, enc)
        ends = self.ys if self.forward else self.xs
        enc.u.put_numbers(u, self.writes[0], x, float(ends[0]) if len(ends) else 0.0)

    def state(self) -> dict[str, Any]:
        return {**self.residue.state(), "xs": self.xs, "ys": self.ys, "pivot": self.writes[0]}

    def load(self, state: dict[str, Any], enc: RuleEncoder) -> None:
        if state["pivot"] not in self.rule.columns:
            raise ValueError("a rule's decided column is not one of its columns")
        self.settle(str(state["pivot"]))
        self.xs = state_array(state, "xs", float)
        self.ys = state_array(state, "ys", float, len(self.xs))
        if np.any(np.diff(self.xs) <= 0) or not np.isfinite(self.xs).all():
            raise ValueError("a monotone rule's curve is not increasing in its source")
        self.residue = Residue(self.writes[0])
        self.residue.load(state, enc)


# Points of a monotone curve matched by quantiles (`Monotone`, rows a model drew).
QUANTILES = 1000


def _quantiles(s: np.ndarray, t: np.ndarray, increasing: bool) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (source, target) at the same quantiles of the two (values they hold); empty when
    either has none.

    Example:
        >>> [a.tolist() for a in _quantiles(np.array([3.0, 1, 2]), np.array([30.0, 10]), False)]
        [[1.0, 3.0], [30.0, 10.0]]
    """
    m = min(len(s), len(t), QUANTILES)
    if not m:
        return np.zeros(0), np.zeros(0)
    p = np.linspace(0, 1, m)
    t_at = np.quantile(t, p if increasing else 1 - p, method="inverted_cdf")
    return np.quantile(s, p, method="inverted_cdf"), t_at
