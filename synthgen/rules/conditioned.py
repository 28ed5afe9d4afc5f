"""Conditions and filled rows that keep the rules: `sample(where=..., balance=...)` and `fill`
for a model whose encoder keeps rules (`synthgen.rules.keep.RuleEncoder`).

A condition on a column the model learns as it is goes to the model as always. A condition on
a column a rule decides is met through what decides it where that is exact and cheap: a
dependency's target through the source categories that map to the asked values (a source of
numbers: the span of its values that do, rejection seeing to any between), a member of a
combination through the joint categories that hold it, a monotone target through the source
range that maps into the asked one, a completed column through its model column (and its
leader present, or its source off the rule's values); an order's target bounds its source.
What remains (a sum, a gap) is met by bounded rejection on the computed values, and an asked
point of a sum, a gap or a monotone value is then reached exactly by moving one source.

In `fill`, given cells are kept as given; a given cell of a decided column conditions its
sources as above, and the sources of an identity, order or monotone rule are then solved for
(one source of the sum not given, the gap, the monotone source), so the row keeps the rule.

Example:
    >>> model.sample(100, where="grade=B", seed=0)  # doctest: +SKIP
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from synthgen.columns import Encoded
from synthgen.columns.base import as_seen, seen_range
from synthgen.conditions import (
    Constraints,
    SamplePlan,
    balance_classes,
    fill_constraints,
    merge,
    parse_where,
    rejection_sample,
    scatter,
    where_constraints,
)
from synthgen.errors import ConditionError, SynthgenWarning, option
from synthgen.rules.categories import Combination, Dependency, flag_values
from synthgen.rules.keepers import Identity, Monotone, Order, Product, on_grid
from synthgen.rules.nulls import Completed, MissingTogether, MissingWhen

if TYPE_CHECKING:
    from synthgen.models.base import Synthesizer
    from synthgen.rules.keep import RuleEncoder

# Rounds of redraws for rows whose decided cells miss what was asked or given.
FILL_ROUNDS = 8


class KeptPlan(SamplePlan):
    """The plan of `sample(where=..., balance=...)` (as `synthgen.conditions.SamplePlan`, whose
    `finish` it keeps): row i belongs to class i mod k, each class with the constraints on the
    model's parts (narrowed through the rules) and those left on the rules space."""

    def __init__(  # its own classes: the parent's __init__ is not called
        self, model: Synthesizer, where: Any, balance: str | None, allow_unseen: bool
    ):
        enc: RuleEncoder = model.encoder_  # type: ignore[assignment]
        conditions = parse_where(where, enc.user.names)
        named = option(f"--balance {balance}", f"balance={balance!r}")
        if balance is not None and any(c.column == balance for c in conditions):
            raise ConditionError(f"{named} can't be combined with a condition on it")
        if balance is not None and balance not in enc.user.names:
            raise ConditionError(f"{named}: no such column; columns: {', '.join(enc.user.names)}")
        owner = enc.inner if balance in enc.decided else enc.kept_view
        classes = balance_classes(owner, balance) if balance is not None else [None]
        self.classes: list[tuple[Constraints, Constraints]] = []  # type: ignore[assignment]
        for extra in classes:
            asked = conditions + ([extra] if extra else [])
            kept = [c for c in asked if c.column in enc.kept]
            cm, fixes, notes = where_constraints(enc, kept, allow_unseen)
            cu, more, also = where_constraints(
                enc.inner, [c for c in asked if c.column not in enc.kept], allow_unseen
            )
            self.classes.append((narrowed(enc, cm, cu), cu.trimmed()))
        self.fixes, self.notes = fixes + more, notes + also
        for note in self.notes:
            warnings.warn(note, SynthgenWarning, stacklevel=4)

    def block(self, model: Synthesizer, start: int, rows: int, rng_key: list[int]) -> Encoded:
        which = np.arange(start, start + rows) % len(self.classes)
        parts = []
        for c, (cm, cu) in enumerate(self.classes):
            idx = np.flatnonzero(which == c)
            rng = np.random.default_rng([*rng_key, c])
            parts.append((idx, draw(model, len(idx), cm, cu, rng)))
        return scatter(parts, rows)


def _resolved(enc: RuleEncoder, m: Encoded, rng: np.random.Generator) -> Encoded:
    return enc.resolved(m, lambda i, at, p: rng.choice(len(p), size=len(at), p=p))


def draw(
    model: Synthesizer, n: int, cm: Constraints, cu: Constraints, rng: np.random.Generator
) -> Encoded:
    """`n` modelled rows meeting `cm` on the model's parts and (shared) `cu` on the rules
    space: the model conditions on `cm`; `cu` is met by bounded rejection, then its points on
    sums, gaps and monotone values by solving."""
    enc: RuleEncoder = model.encoder_  # type: ignore[assignment]
    if cu.empty or n == 0:
        return _resolved(enc, model._conditional(n, cm, rng), rng)
    nc, nd = len(enc.continuous_parts), len(enc.discrete_parts)

    def sampler(k: int, generator: np.random.Generator) -> Encoded:
        m = _resolved(enc, model._conditional(k, cm, generator), generator)
        u = enc.inverse(m)
        return Encoded(
            np.hstack([m.continuous, u.continuous]), np.hstack([m.discrete, u.discrete]), k
        )

    def kept(k: int) -> Encoded:
        both = rejection_sample(sampler, k, _shifted(cu, nc, nd), rng, model.name)
        m = Encoded(both.continuous[:, :nc].copy(), both.discrete[:, :nd].copy(), k)
        solve(enc, m, cu, np.ones(k, dtype=bool))
        return m

    m = kept(n)
    for _ in range(FILL_ROUNDS):  # a point no source could reach within its range: again
        miss = np.flatnonzero(~cu.matches(enc.inverse(m)))
        if not len(miss):
            return m
        again = kept(len(miss))
        m.continuous[miss], m.discrete[miss] = again.continuous, again.discrete
    raise ConditionError(f"{cu.label}: the rules' sources can't reach it within their ranges")


def _shifted(c: Constraints, nc: int, nd: int) -> Constraints:
    """Constraints on the rules space as constraints on the parts after the model's."""
    return Constraints(
        {j + nc: v for j, v in c.intervals.items()},
        {j + nd: v for j, v in c.allowed.items()},
        {j + nc: v for j, v in c.ranges.items()},
        c.label,
    )


class _Asks:
    """What conditions ask, gathered through the rules: constraints on the rules space (`u`)
    and on columns only the model has (`m`: a gap, a joint category, a completed column)."""

    def __init__(self, enc: RuleEncoder, cu: Constraints):
        self.enc = enc
        self.u = Constraints(dict(cu.intervals), dict(cu.allowed), cu.ranges, cu.label)
        self.m = Constraints(ranges=cu.ranges, label=cu.label)
        self.rows = cu.n_rows

    def value(self, name: str):
        """What is asked of a column of the rules space: (lo, hi), an allowed mask, or None."""
        t = self.enc.u.at[name]
        if self.enc.u.continuous(name):
            return self.u.intervals.get(t.value)
        return self.u.allowed.get(t.value)

    def asked(self, name: str) -> bool:
        t = self.enc.u.at[name]
        return self.value(name) is not None or (t.null is not None and t.null in self.u.allowed)

    def limit(self, name: str, lo, hi) -> None:
        _limit(self.u, self.enc.u.at[name].value, lo, hi)

    def allow(self, name: str, mask: np.ndarray) -> None:
        _allow(self.u, self.enc.u.at[name].value, mask)

    def there(self, name: str) -> np.ndarray | None:
        """Per row, whether the column is asked to be there (None: nothing asked of its nulls)."""
        t = self.enc.u.at[name]
        if t.discrete and t.null_code is not None and t.value in self.u.allowed:
            return ~self.u.allowed[t.value][:, t.null_code]
        if not t.discrete and t.null is not None and t.null in self.u.allowed:
            return ~self.u.allowed[t.null][:, 1]
        return None

    def present(self, name: str, rows: np.ndarray | None = None) -> None:
        """The column asked to be there (not missing), on `rows` (default: all)."""
        t = self.enc.u.at[name]
        rows = np.ones(self.rows, dtype=bool) if rows is None else rows
        if t.discrete and t.null_code is not None:
            mask = np.ones((self.rows, t.cardinality), dtype=bool)
            mask[rows, t.null_code] = False
            self.allow(name, mask)
        elif not t.discrete and t.null is not None:
            mask = np.ones((self.rows, 2), dtype=bool)
            mask[rows, 1] = False
            _allow(self.u, t.null, mask)


def _limit(c: Constraints, j: int, lo, hi) -> None:
    if j in c.intervals:
        lo, hi = np.maximum(c.intervals[j][0], lo), np.minimum(c.intervals[j][1], hi)
    c.intervals[j] = (np.asarray(lo, dtype=float), np.asarray(hi, dtype=float))


def _allow(c: Constraints, j: int, mask: np.ndarray) -> None:
    c.allowed[j] = c.allowed[j] & mask if j in c.allowed else mask


def narrowed(enc: RuleEncoder, cm: Constraints, cu: Constraints) -> Constraints:
    """`cm` and the constraints on the model's parts that `cu` implies through the rules: each
    rule, from the last computed to the first, turns what is asked of its columns into what
    its sources must be, so a condition reaches the model through a chain of rules."""
    asks = _Asks(enc, cu)
    for k in reversed(enc.keepers):
        _NARROW[type(k)](k, enc, asks)
    label = " and ".join(dict.fromkeys(c.label for c in (cm, cu) if c.label and not c.empty))
    out = Constraints(dict(cm.intervals), dict(cm.allowed), cm.ranges, label)
    for j, (lo, hi) in asks.m.intervals.items():
        _limit(out, j, lo, hi)
    for j, mask in asks.m.allowed.items():
        _allow(out, j, mask)
    for mi, ui, _, _, unit, _ in enc.copies[0]:  # the model's own columns: the same values
        if ui in asks.u.intervals:
            lo, hi = asks.u.intervals[ui]
            _limit(out, mi, lo - unit / 2, hi + unit / 2)
    for mi, ui in enc.copies[1]:
        if ui in asks.u.allowed:
            _allow(out, mi, asks.u.allowed[ui])
    empty = any(not m.any(axis=1).all() for m in out.allowed.values()) or any(
        (lo > hi).any() for lo, hi in out.intervals.values()
    )
    if empty:
        raise ConditionError(f"{label or 'the condition'}: no row the rules allow meets that")
    return out


def _narrow_dependency(k: Dependency, enc: RuleEncoder, asks: _Asks) -> None:
    asked = asks.value(k.writes[0])
    if asked is None or len(k.reads) != 1:
        return
    if k.by_number:
        _narrow_points(k, asked, asks)
        return
    image = np.asarray(k.fallback).copy()  # each source code's target
    image[k.keys] = k.values
    if k.numeric:
        lo, hi = asked
        mask = (image[None, :] >= lo[:, None]) & (image[None, :] <= hi[:, None])
    else:
        mask = asked[:, image]
    rare = enc.u.at[k.reads[0]].rare_code
    if rare is not None:
        mask[:, rare] = False  # a pooled category comes back as any shared one
    asks.allow(k.reads[0], mask)


def _narrow_points(k: Dependency, asked: Any, asks: _Asks) -> None:
    """A target looked up from a number's nearest point: the source between the cells of the
    lowest and the highest point whose target is asked (rejection sees to points between them
    that are not; a row that asks only the missing source's target is left to it)."""
    if k.numeric:
        lo, hi = asked
        ok = (k.values[None, :] >= lo[:, None]) & (k.values[None, :] <= hi[:, None])
        blank = (k.missing >= lo) & (k.missing <= hi)
    else:
        ok, blank = asked[:, k.values], asked[:, k.missing]
    middles = (k.points[1:] + k.points[:-1]) / 2
    starts, ends = np.r_[-np.inf, middles], np.r_[middles, np.inf]
    some = ok.any(axis=1)
    first = np.argmax(ok, axis=1)
    last = ok.shape[1] - 1 - np.argmax(ok[:, ::-1], axis=1)
    low = np.where(some, starts[first], np.inf)
    high = np.where(some, ends[last], -np.inf)
    free = ~some & blank  # only a missing source gives the target: its rows are not bounded
    asks.limit(k.reads[0], np.where(free, -np.inf, low), np.where(free, np.inf, high))
    if k.modelled:  # the target the model learns too: the columns drawn after it follow it
        _ask_modelled(asks, k.writes[0], k.drawn_name, asked, k.numeric)


def _ask_modelled(asks: _Asks, name: str, modelled: str, asked: Any, numeric: bool) -> None:
    """Ask of a model column that copies the rules space's `name` what is asked of `name`
    (a category's mask only where the two hold the same categories in the same order)."""
    enc = asks.enc
    t = enc.m.at[modelled]
    if numeric and not t.discrete:
        _limit(asks.m, t.value, *asked)
    elif not numeric and t.discrete:
        mine, its = (list(s.get("categories") or []) for s in (enc.u.at[name].state, t.state))
        same = len(mine) == len(its) and all(a == b for a, b in zip(mine, its))
        if same and asked.shape[1] == t.cardinality:
            _allow(asks.m, t.value, asked)


def _narrow_combination(k: Combination, enc: RuleEncoder, asks: _Asks) -> None:
    t = enc.m.at[k.joint]
    mask = None
    for j, name in enumerate(k.writes):
        asked = asks.value(name)
        if asked is None:
            continue
        if enc.u.discrete(name):
            member = asked[:, k.table[:, j]]
        else:  # a flag: its value in each combination within the asked range
            value = flag_values(enc.u, name, k.table[:, j])
            lo, hi = asked
            member = (value[None, :] >= lo[:, None]) & (value[None, :] <= hi[:, None])
        mask = member if mask is None else mask & member
    if mask is not None:
        full = np.zeros((len(mask), t.cardinality), dtype=bool)
        full[:, : mask.shape[1]] = mask
        _allow(asks.m, t.value, full)


def _narrow_monotone(k: Monotone, enc: RuleEncoder, asks: _Asks) -> None:
    asked = asks.value(k.writes[0])
    if asked is None or not len(k.xs):
        return
    lo, hi = asked
    a, b = k.curve(lo, backward=k.forward), k.curve(hi, backward=k.forward)
    ends = np.abs(np.concatenate([k.xs, k.ys])).max()
    slack = enc.u.unit(k.reads[0]) / 2 + 1e-9 * ends
    low, high = np.minimum(a, b) - slack, np.maximum(a, b) + slack
    asks.limit(k.reads[0], np.where(np.isfinite(lo) | np.isfinite(hi), low, -np.inf), high)
    asks.present(k.reads[0])


def _narrow_linear(k: Identity | Order, enc: RuleEncoder, asks: _Asks) -> None:
    """A sum (an identity; an order's other side and gap) asked into [lo, hi] bounds each of
    its terms by the others' ranges: term >= lo - the others' largest, <= hi - their
    smallest (a necessary condition: rejection sees to the rest). A computed term's range is
    unknown (it may pass the real one): it bounds no other term."""
    asked = asks.value(k.writes[0])
    if asked is not None and getattr(k, "loose", False):  # the model's own target, mostly,
        _limit(asks.m, enc.m.at[k.raw].value, *asked)
        for r in (k.rule, *k.more):  # and each sum below it at most its top
            lows = [enc.m.at[c].state["min"] if c in enc.kept else -np.inf for c in r.columns[:-1]]
            for j, c in enumerate(r.columns[:-1]):
                others = sum(low for i, low in enumerate(lows) if i != j)
                with np.errstate(invalid="ignore"):
                    top = asked[1] - others + enc.u.unit(c)
                top = np.where(np.isnan(top), np.inf, top)
                asks.limit(c, np.full_like(top, -np.inf), top)
        return
    if asked is None or getattr(k, "more", None):  # several sums below: rejection's work
        return
    spans, units = [], []
    for name, a in k.terms():
        modelled = name == k.gap or name in enc.kept
        state = (enc.m if modelled else enc.u).at[name].state
        low, high = (state["min"], state["max"]) if modelled else (-np.inf, np.inf)
        spans.append(sorted((a * low, a * high)))
        units.append((enc.m if modelled else enc.u).unit(name))
    slack = sum(units) + enc.u.unit(k.writes[0])
    lo, hi = asked
    for i, (name, a) in enumerate(k.terms()):
        others_low = sum(x for j, (x, _) in enumerate(spans) if j != i)
        others_high = sum(y for j, (_, y) in enumerate(spans) if j != i)
        with np.errstate(invalid="ignore"):
            least, most = lo - others_high - slack, hi - others_low + slack
        least, most = (least / a, most / a) if a > 0 else (most / a, least / a)
        if name == k.gap:
            _limit(asks.m, enc.m.at[name].value, least, most)
        else:
            asks.limit(name, least, most)
            asks.present(name)


def _narrow_completed(k: Completed, enc: RuleEncoder, asks: _Asks) -> None:
    for name in k.writes:
        asked, modelled = asks.value(name), enc.m.at[k.complete_name(name)]
        if asked is not None and enc.u.continuous(name):
            _limit(asks.m, modelled.value, *asked)
        elif asked is not None:
            _allow(asks.m, modelled.value, asked[:, k.translate[name]])
        there = asks.there(name)
        if there is None or not there.any():
            continue
        # asked to be there: the rule must not blank it
        if isinstance(k, MissingTogether):
            asks.present(k.reads[0], there)
        elif isinstance(k, MissingWhen) and enc.u.discrete(k.reads[0]):
            asks.allow(k.reads[0], np.where(there[:, None], ~k.listed[None, :], True))


def _narrow_product(k: Product, enc: RuleEncoder, asks: _Asks) -> None:
    """A ratio asked into [lo, hi], where the model learns it (`Product.ratio`), bounds that
    column (a percent's rounding wider: the row's ratio is computed again from the rounded
    numerator); rejection sees to the rest, and to a product computed from its sources."""
    asked = asks.value(k.rule.columns[-1])
    if asked is None or not k.ratio:
        return
    lo, hi = asked
    with np.errstate(invalid="ignore"):
        room = 0.01 * np.maximum(
            np.abs(np.where(np.isfinite(lo), lo, 0)), np.abs(np.where(np.isfinite(hi), hi, 0))
        )
    _limit(asks.m, enc.m.at[k.learned].value, lo - room, hi + room)


_NARROW = {
    Identity: _narrow_linear,
    Product: _narrow_product,
    Order: _narrow_linear,
    Dependency: _narrow_dependency,
    Monotone: _narrow_monotone,
    Combination: _narrow_combination,
    MissingTogether: _narrow_completed,
    MissingWhen: _narrow_completed,
}


def solve(enc: RuleEncoder, m: Encoded, cu: Constraints, free: np.ndarray | dict) -> None:
    """Make each asked point of a sum, a gap or a monotone value come out exactly, in place,
    by moving what decides it (`reach`). `free`: per column, the rows where it may move (a
    given cell does not), or one array for every column.

    Rules with one way to reach their point (a monotone source, a gap) go first, a sum
    after them; a cell one rule moved stays put for the next."""
    free = free if isinstance(free, dict) else {c: free for c in (*enc.m.at, *enc.u.at)}
    for k in enc.keepers:  # a ratio the model learns: its asked point, as it learns it
        if isinstance(k, Product) and k.ratio:
            rows, point = _points(enc, cu, k.rule.columns[-1], m.n_rows)
            if rows.any():
                reach(enc, m, k.learned, point, rows, free)
    solvable = [k for k in enc.keepers if isinstance(k, Identity | Order | Monotone)]
    for k in sorted(solvable, key=lambda k: _SOLVE_FIRST.index(type(k))):
        rows, point = _points(enc, cu, k.writes[0], m.n_rows)
        if rows.any():
            _REACH[type(k)](k, enc, m, enc.inverse(m), point, rows, free)


def _points(enc: RuleEncoder, cu: Constraints, name: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The rows where a decided column is asked to be one value, and that value."""
    t = enc.u.at[name]
    if t.value not in cu.intervals:
        return np.zeros(n, dtype=bool), np.zeros(n)
    lo, hi = (np.broadcast_to(b, (n,)) for b in cu.intervals[t.value])
    unit = enc.u.unit(name)
    with np.errstate(invalid="ignore"):  # a point: the values that round onto one value
        rows = np.isfinite(lo) & np.isfinite(hi) & (hi - lo <= unit)
        return rows, on_grid(np.where(rows, (lo + hi) / 2, 0.0), unit)


def reach(
    enc: RuleEncoder, m: Encoded, name: str, x: np.ndarray, rows: np.ndarray, free
) -> np.ndarray:
    """Move what decides column `name` so that it comes out as `x` on `rows`, where it may
    move: the model's own value within its real range, else through the rule that computes
    it. Returns the rows reached."""
    rows = rows & free.get(name, True)
    k = enc.writer.get(name)
    if k is None and enc.m.continuous(name):
        t = enc.m.at[name]
        low, high = seen_range(t.state)  # a given cell may be among the few most extreme
        with np.errstate(invalid="ignore"):
            fits = rows & (x >= low) & (x <= high)
        m.continuous[fits, t.value] = on_grid(x[fits], enc.m.unit(name))
        if t.null is not None:
            m.discrete[fits, t.null] = 0
        free[name] = free.get(name, True) & ~fits
        return fits
    if not isinstance(k, Identity | Order | Monotone) or not rows.any():
        return np.zeros(len(rows), dtype=bool)
    return _REACH[type(k)](k, enc, m, enc.inverse(m), x, rows, free)


def _reach_linear(k: Identity | Order, enc, m, u, x, rows, free) -> np.ndarray:
    """A term takes the difference: the gap first, then the sources from the last."""
    if getattr(k, "loose", False):  # the model's own target, where it is above its bound
        with np.errstate(invalid="ignore"):
            above = rows & (x >= k.lower(lambda c: enc.u.numbers(u, c)))
        return reach(enc, m, k.raw, x, above, free)
    if getattr(k, "more", None):  # several sums below the target: only the gap moves
        gap = x - k.lower(lambda c: enc.u.numbers(u, c))
        return reach(enc, m, k.gap, gap, rows, free)
    terms = k.terms()
    values = {name: k.values(name, m, u, enc) for name, _ in terms}
    left = rows.copy()
    for name, a in terms:
        others = sum(b * values[n] for n, b in terms if n != name)
        with np.errstate(invalid="ignore"):
            left &= ~reach(enc, m, name, (x - others) / a, left, free)
    return rows & ~left


def _reach_monotone(k: Monotone, enc, m, u, x, rows, free) -> np.ndarray:
    if not len(k.xs):
        return np.zeros(len(rows), dtype=bool)
    return reach(enc, m, k.reads[0], k.curve(x, backward=k.forward), rows, free)


_REACH = {Identity: _reach_linear, Order: _reach_linear, Monotone: _reach_monotone}
_SOLVE_FIRST = (Monotone, Order, Identity)


def fill_block(
    model: Synthesizer, part: pd.DataFrame, seed: int, block: int, allow_unseen: bool, start: int
) -> pd.DataFrame:
    """One block of `fill` under rules: given cells kept, the rules holding where the given
    cells let them."""
    enc: RuleEncoder = model.encoder_  # type: ignore[assignment]
    unknown = [c for c in part.columns if str(c) not in enc.user.names]
    if unknown:
        raise ConditionError(
            f"the rows to fill have columns the model doesn't know: {', '.join(map(str, unknown))}"
        )
    names = [str(c) for c in part.columns]
    kept = part[[c for c, n in zip(part.columns, names) if n in enc.kept]]
    other = part[[c for c, n in zip(part.columns, names) if n not in enc.kept]]
    states = enc.states + enc.inner.states
    rng = np.random.default_rng([seed, block, 2])
    with as_seen(states):  # a given decided cell may be among the few most extreme values
        cu, more = fill_constraints(enc.inner, other, allow_unseen, start)
    # the model draws within the bounds it writes: a given cell among the few most extreme
    # values as at its bound, put back as given before the rules solve and decode from it
    cm, cells = fill_constraints(enc, kept, allow_unseen, start)
    exact = cm.exact
    cm = _within_written(_narrowed(enc, cm, cu, more), exact)
    m = _resolved(enc, model._conditional(len(part), cm, rng), rng)
    rest = _without_points(enc, cu)
    miss = ~rest.matches(enc.inverse(m))
    for _ in range(FILL_ROUNDS):
        if not miss.any():
            break
        rows = np.flatnonzero(miss)
        again = _resolved(enc, model._conditional(len(rows), cm.take(rows), rng), rng)
        hit = rest.matches(enc.inverse(again), rows)
        m.continuous[rows[hit]], m.discrete[rows[hit]] = again.continuous[hit], again.discrete[hit]
        miss[rows[hit]] = False
    for j, x in exact.items():
        given = ~np.isnan(x)
        m.continuous[given, j] = x[given]
    with as_seen(states):
        solve(enc, m, cu, {name: ~has for name, has, _ in cells + more})
        frame = enc.decode(m, seed, start)
    for name, has, values in cells + more:
        frame[name] = merge(frame[name], values, has)
    return frame


def _within_written(cm: Constraints, exact: dict[int, np.ndarray]) -> Constraints:
    """`cm` with each interval moved into the bounds the model writes: a point the rules ask
    past them (a source solved from a given total among the few most extreme) is drawn as at the
    bound and noted in `exact` (per row) to be put back as asked."""
    for j, (lo, hi) in cm.intervals.items():
        low, high = cm.ranges[j]
        past = (lo == hi) & ((lo < low) | (lo > high))
        if past.any():
            x = exact.setdefault(j, np.full(len(lo), np.nan))
            x[past & np.isnan(x)] = lo[past & np.isnan(x)]
        cm.intervals[j] = (np.clip(lo, low, high), np.clip(hi, low, high))
    return cm


def _narrowed(enc: RuleEncoder, cm: Constraints, cu: Constraints, more: list) -> Constraints:
    given = {name: has for name, has, _ in more}
    _let_rules_blank(enc, cu, given, Completed)
    try:
        return narrowed(enc, cm, cu)
    except ConditionError:
        # a rule with missing as a value leaves an empty cell nothing else (a third-class
        # passenger's deck, when only first-class rows have one): the rule decides, and the
        # cell stays empty rather than the fill be refused
        _let_rules_blank(enc, cu, given, Completed | Dependency | Combination)
        return narrowed(enc, cm, cu)


def _let_rules_blank(
    enc: RuleEncoder, cu: Constraints, given: dict[str, np.ndarray], kinds: Any
) -> None:
    """A cell whose nulls a rule of `kinds` decides may stay empty unless it was given (the
    rule blanks a joint income where the application is individual): `fill` asks the rest to be
    there."""
    for k in enc.keepers:
        for name in k.writes if isinstance(k, kinds) else ():
            t, free = enc.u.at[name], ~given.get(name, np.zeros(cu.n_rows, dtype=bool))
            if t.discrete and t.null_code is not None and t.value in cu.allowed:
                cu.allowed[t.value][free, t.null_code] = True
            elif not t.discrete and t.null is not None and t.null in cu.allowed:
                cu.allowed[t.null][free, 1] = True


def _without_points(enc: RuleEncoder, cu: Constraints) -> Constraints:
    """`cu` without the values of sums, gaps and monotone targets (solved for, not drawn)."""
    solved = {
        enc.u.at[k.writes[0]].value
        for k in enc.keepers
        if isinstance(k, Identity | Order | Monotone)
    }
    out = Constraints(dict(cu.intervals), dict(cu.allowed), cu.ranges, cu.label)
    for j in solved:
        out.intervals.pop(j, None)
    return out


__all__ = ["KeptPlan", "draw", "fill_block", "narrowed", "solve"]
