"""Conditions and filled rows that keep the rules: `sample(where=..., balance=...)` and `fill`
for a model whose encoder keeps rules (`synthgen.rules.keep.RuleEncoder`).

A condition on a column the model learns as it is goes to the model as always. A condition on
a column a rule decides is met through what decides it where that is exact and cheap: a
dependency's target through the source categories that map to the asked values, a member of a
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
from synthgen.conditions import (
    Constraints,
    balance_classes,
    fill_constraints,
    merge,
    parse_where,
    rejection_sample,
    scatter,
    where_constraints,
)
from synthgen.errors import ConditionError, SynthgenWarning
from synthgen.rules.keepers import Combination, Dependency, Identity, Monotone, Order, on_grid
from synthgen.rules.nulls import Completed, MissingTogether, MissingWhen

if TYPE_CHECKING:
    from synthgen.models.base import Synthesizer
    from synthgen.rules.keep import RuleEncoder

# Rounds of redraws for the filled rows whose decided cells miss what was given.
FILL_ROUNDS = 8


class KeptPlan:
    """The plan of `sample(where=..., balance=...)` (as `synthgen.conditions.SamplePlan`):
    row i belongs to class i mod k, each class with the constraints on the model's parts
    (narrowed through the rules) and those left on the rules space."""

    def __init__(self, model: Synthesizer, where: Any, balance: str | None, allow_unseen: bool):
        enc: RuleEncoder = model.encoder_  # type: ignore[assignment]
        conditions = parse_where(where, enc.user.names)
        if balance is not None and any(c.column == balance for c in conditions):
            raise ConditionError(f"--balance {balance} can't be combined with a condition on it")
        if balance is not None and balance not in enc.user.names:
            raise ConditionError(
                f"--balance {balance}: no such column; columns: {', '.join(enc.user.names)}"
            )
        owner = enc.inner if balance in enc.decided else enc.kept_view
        classes = balance_classes(owner, balance) if balance is not None else [None]
        self.classes: list[tuple[Constraints, Constraints]] = []
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

    def finish(self, frame: pd.DataFrame, seed: int, start: int) -> pd.DataFrame:
        from synthgen.columns.base import RowRandom

        rows = RowRandom(seed, start, len(frame), key=7919)
        for i, fix in enumerate(self.fixes):
            fix.apply(frame, rows.child(i))
        return frame


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

    both = rejection_sample(sampler, n, _shifted(cu, nc, nd), rng, model.name)
    m = Encoded(both.continuous[:, :nc].copy(), both.discrete[:, :nd].copy(), n)
    solve(enc, m, cu, np.ones(n, dtype=bool))
    return m


def _shifted(c: Constraints, nc: int, nd: int) -> Constraints:
    """Constraints on the rules space as constraints on the parts after the model's."""
    return Constraints(
        {j + nc: v for j, v in c.intervals.items()},
        {j + nd: v for j, v in c.allowed.items()},
        {j + nc: v for j, v in c.ranges.items()},
        c.label,
    )


def narrowed(enc: RuleEncoder, cm: Constraints, cu: Constraints) -> Constraints:
    """`cm` and the constraints on the model's parts that `cu` implies through the rules."""
    out = Constraints(dict(cm.intervals), dict(cm.allowed), cm.ranges, cm.label)
    for k in enc.keepers:
        for j, (lo, hi) in _NARROW[type(k)](k, enc, cu, "intervals").items():
            if j in out.intervals:
                lo, hi = np.maximum(out.intervals[j][0], lo), np.minimum(out.intervals[j][1], hi)
            out.intervals[j] = (lo, hi)
        for j, mask in _NARROW[type(k)](k, enc, cu, "allowed").items():
            out.allowed[j] = out.allowed[j] & mask if j in out.allowed else mask
    for mask in out.allowed.values():
        if not mask.any(axis=1).all():
            raise ConditionError(f"{cu.label or cm.label}: no row of the model meets that")
    return out


def _value(cu: Constraints, enc: RuleEncoder, name: str):
    """What `cu` asks of a column of the rules space: (lo, hi) or an allowed mask, or None."""
    t = enc.u.at[name]
    if enc.u.continuous(name):
        return cu.intervals.get(t.value)
    return cu.allowed.get(t.value)


def _asked(cu: Constraints, enc: RuleEncoder, name: str) -> bool:
    t = enc.u.at[name]
    return (t.value in (cu.intervals if enc.u.continuous(name) else cu.allowed)) or (
        t.null is not None and t.null in cu.allowed
    )


def _kept_part(enc: RuleEncoder, name: str) -> int | None:
    """The model's part of a column it learns as it is (None for a decided one)."""
    return enc.m.at[name].value if name in enc.kept else None


def _narrow_dependency(k: Dependency, enc: RuleEncoder, cu: Constraints, which: str) -> dict:
    asked = _value(cu, enc, k.writes[0])
    part = _kept_part(enc, k.reads[0]) if len(k.reads) == 1 else None
    if asked is None or part is None or which != "allowed":
        return {}
    source = enc.u.at[k.reads[0]]
    image = np.asarray(k.fallback).copy()  # each source code's target
    image[k.keys] = k.values
    if k.numeric:
        lo, hi = asked
        mask = (image[None, :] >= lo[:, None]) & (image[None, :] <= hi[:, None])
    else:
        mask = asked[:, image]
    if source.rare_code is not None:
        mask[:, source.rare_code] = False  # a pooled category comes back as any shared one
    return {part: mask}


def _narrow_combination(k: Combination, enc: RuleEncoder, cu: Constraints, which: str) -> dict:
    if which != "allowed":
        return {}
    t = enc.m.at[k.joint]
    mask = None
    for j, name in enumerate(k.writes):
        asked = _value(cu, enc, name)
        if asked is not None:
            member = asked[:, k.table[:, j]]
            mask = member if mask is None else mask & member
    if mask is None:
        return {}
    full = np.zeros((len(mask), t.cardinality), dtype=bool)
    full[:, : mask.shape[1]] = mask
    return {t.value: full}


def _narrow_monotone(k: Monotone, enc: RuleEncoder, cu: Constraints, which: str) -> dict:
    asked = _value(cu, enc, k.writes[0])
    part = _kept_part(enc, k.reads[0])
    if asked is None or part is None or which != "intervals" or not len(k.xs):
        return {}
    lo, hi = asked
    xs, ys = (k.xs, k.ys) if k.rule.increasing is not False else (k.xs[::-1], k.ys[::-1])
    a, b = np.interp(lo, ys, xs), np.interp(hi, ys, xs)
    slack = enc.m.unit(k.reads[0]) / 2 + 1e-9 * np.abs(xs).max()
    low, high = np.minimum(a, b) - slack, np.maximum(a, b) + slack
    return {part: (np.where(np.isfinite(lo) | np.isfinite(hi), low, -np.inf), high)}


def _narrow_sum(k: Identity | Order, enc: RuleEncoder, cu: Constraints, which: str) -> dict:
    """A sum (an identity, or an order's sources and gap) asked into [lo, hi] bounds each of
    its terms by the others' real ranges: term >= lo - the others' largest, <= hi - their
    smallest (a necessary condition: what it leaves is rejected)."""
    asked = _value(cu, enc, k.writes[0])
    if asked is None or which != "intervals" or any(n not in enc.kept for n in k.reads):
        return {}
    signs = (
        (k.rule.signs or (1,) * len(k.reads)) if isinstance(k, Identity) else (1,) * len(k.reads)
    )
    terms = [(enc.m.at[n], s, n) for n, s in zip(k.reads, signs)]
    if isinstance(k, Order):
        terms.append((enc.m.at[k.gap], 1, k.gap))
    spans = [
        (s * t.state["min"], s * t.state["max"])
        if s > 0
        else (s * t.state["max"], s * t.state["min"])
        for t, s, _ in terms
    ]
    low_sum, high_sum = sum(a for a, _ in spans), sum(b for _, b in spans)
    slack = sum(enc.m.unit(n) for _, _, n in terms)
    lo, hi = asked
    out = {}
    for (t, s, _), (a, b) in zip(terms, spans):
        with np.errstate(invalid="ignore"):
            least, most = lo - (high_sum - b) - slack, hi - (low_sum - a) + slack
        out[t.value] = (least, most) if s > 0 else (-most, -least)
    return out


def _narrow_completed(k: Completed, enc: RuleEncoder, cu: Constraints, which: str) -> dict:
    out: dict = {}
    for name in k.writes:
        if not _asked(cu, enc, name):
            continue
        asked, modelled = _value(cu, enc, name), enc.m.at[k.complete_name(name)]
        continuous = enc.u.continuous(name)
        if asked is not None and which == "intervals" and continuous:
            out[modelled.value] = asked
        elif asked is not None and which == "allowed" and not continuous:
            out[modelled.value] = asked[:, k.translate[name]]
        if which == "allowed":  # asked for, it must be there: the rule must not blank it
            out.update(_present(k, enc, cu.n_rows))
    return out


def _present(k: Completed, enc: RuleEncoder, rows: int) -> dict:
    """Constraints on the model's parts under which the rule leaves its columns present."""
    source = k.reads[0]
    if source not in enc.kept:
        return {}
    t = enc.m.at[source]
    if isinstance(k, MissingWhen) and enc.u.discrete(source):
        return {t.value: np.tile(~k.listed, (rows, 1))}
    if isinstance(k, MissingTogether) and t.discrete and t.null_code is not None:
        mask = np.ones((rows, t.cardinality), dtype=bool)
        mask[:, t.null_code] = False
        return {t.value: mask}
    if isinstance(k, MissingTogether) and t.null is not None:
        return {t.null: np.tile([True, False], (rows, 1))}
    return {}


_NARROW = {
    Identity: _narrow_sum,
    Order: _narrow_sum,
    Dependency: _narrow_dependency,
    Monotone: _narrow_monotone,
    Combination: _narrow_combination,
    MissingTogether: _narrow_completed,
    MissingWhen: _narrow_completed,
}


def solve(enc: RuleEncoder, m: Encoded, cu: Constraints, free: np.ndarray | dict) -> None:
    """Move one source of each asked point of a sum, a gap or a monotone value (in place) so
    the computed value is the point. `free`: per kept column, the rows where it may move (a
    given cell does not); one array for every column."""
    u = enc.inverse(m)
    for k in enc.keepers:
        if not isinstance(k, Identity | Order | Monotone):
            continue
        t = enc.u.at[k.writes[0]]
        if t.value not in cu.intervals:
            continue
        lo, hi = (np.broadcast_to(b, (m.n_rows,)) for b in cu.intervals[t.value])
        unit = enc.u.unit(k.writes[0])
        with np.errstate(invalid="ignore"):  # a point: the values that round onto one value
            rows = np.isfinite(lo) & np.isfinite(hi) & (hi - lo <= unit)
            point = on_grid(np.where(rows, (lo + hi) / 2, 0.0), unit)
        _SOLVE[type(k)](k, enc, m, u, point, rows, free)
        u = enc.inverse(m)


def _movable(enc: RuleEncoder, name: str, rows: np.ndarray, free) -> np.ndarray | None:
    if name not in enc.kept or not enc.m.continuous(name):
        return None
    mask = free.get(name, np.ones(len(rows), dtype=bool)) if isinstance(free, dict) else free
    return rows & mask


def _set(enc: RuleEncoder, m: Encoded, name: str, rows: np.ndarray, x: np.ndarray) -> None:
    """A source's new values where they lie in its real range (outside, decoding would clip)."""
    t = enc.m.at[name]
    fits = rows & (x >= t.state["min"]) & (x <= t.state["max"])
    m.continuous[fits, t.value] = on_grid(x[fits], enc.m.unit(name))
    if t.null is not None:
        m.discrete[fits, t.null] = 0


def _solve_identity(k: Identity, enc, m, u, point, rows, free) -> None:
    signs = k.rule.signs or (1,) * len(k.reads)
    for i in reversed(range(len(k.reads))):
        where = _movable(enc, k.reads[i], rows, free)
        if where is None or not where.any():
            continue
        others = sum(
            s * enc.u.numbers(u, n) for j, (s, n) in enumerate(zip(signs, k.reads)) if j != i
        )
        _set(enc, m, k.reads[i], where, (point - others) * signs[i])
        return


def _solve_order(k: Order, enc, m, u, point, rows, free) -> None:
    left = np.asarray(sum(enc.u.numbers(u, n) for n in k.reads), dtype=float)
    with np.errstate(invalid="ignore"):
        gap = point - left
        fits = rows & (gap >= 0)
    _set(enc, m, k.gap, fits, np.where(fits, gap, 0.0))
    where = _movable(enc, k.reads[-1], rows & (gap < 0), free)
    if where is not None:  # the sources pass the point: the last one gives way
        others = left - enc.u.numbers(u, k.reads[-1])
        _set(enc, m, k.reads[-1], where, point - others)
        _set(enc, m, k.gap, where, np.zeros(m.n_rows))


def _solve_monotone(k: Monotone, enc, m, u, point, rows, free) -> None:
    where = _movable(enc, k.reads[0], rows, free)
    if where is None or not len(k.xs):
        return
    xs, ys = (k.xs, k.ys) if k.rule.increasing is not False else (k.xs[::-1], k.ys[::-1])
    _set(enc, m, k.reads[0], where, np.interp(point, ys, xs))


_SOLVE = {Identity: _solve_identity, Order: _solve_order, Monotone: _solve_monotone}


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
    cm, cells = fill_constraints(enc, kept, allow_unseen, start)
    cu, more = fill_constraints(enc.inner, other, allow_unseen, start)
    cm = narrowed(enc, cm, cu)
    rng = np.random.default_rng([seed, block, 2])
    n = len(part)
    m = _resolved(enc, model._conditional(n, cm, rng), rng)
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
    given = {name: has for name, has, _ in cells}
    solve(enc, m, cu, {name: ~has for name, has in given.items()})
    frame = enc.decode(m, seed, start)
    for name, has, values in cells + more:
        frame[name] = merge(frame[name], values, has)
    return frame


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
