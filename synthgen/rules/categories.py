"""Keepers of the rules between categories (see `synthgen.rules.keepers`): a dependency's
target looked up from its sources' categories, and a combination learned as one joint category
of the real combinations.

Example:
    >>> from synthgen.rules.model import Rule
    >>> Combination(Rule("combination", ("grade", "sub_grade")), 0).joint.split("\x1f")
    ['grade', 'sub_grade', 'combination']
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from synthgen.columns import Encoded
from synthgen.rules.keepers import (
    SEP,
    Added,
    Keeper,
    Real,
    Space,
    codes_within,
    need,
    renamed,
    state_array,
)
from synthgen.rules.rows import nearest, row_ids
from synthgen.schema import detect_column

if TYPE_CHECKING:
    from synthgen.rules.keep import RuleEncoder


#: A target a number looks up that changes more often than this along the number's values is
#: learned by the model too (see `Dependency`).
RUNS = 8


class Dependency(Keeper):
    """The target is a function of the sources' categories: a table of each real group's
    target (a group of fewer real rows than the rare threshold only where its target is a
    category, or a number at least that many rows share), then the first source's commonest
    target, then the table's. From rows a model drew, a group's target is the one it holds
    most beyond that target's share of all rows (noise spreads a small group over the table's
    commonest targets: adult's DP rows gave Preschool the commonest education-num, 9, not 1).

    A single source of numbers (a code such as a store number or a year, read as a number) is
    looked up by value (`by_number`): the real values at least rare-threshold rows share are
    the *points*, each with its group's target; a drawn value takes its nearest point's (a
    step function, such as hours worked deciding "in the labour force"), and a missing one the
    target of the rows missing it. Where the target changes more than `RUNS` times along the
    points, or the model draws each column given those before it (cart: `Real.learn_codes`),
    the model still learns the target as it is (`drawn_name`), so that the columns it draws
    after it follow it (casual riders follow the working day, which a tree's splits on the day
    of the year cannot say; a job-training table's outcome follows its treatment flag); the
    lookup then writes it. A joint model (gmm, the copula) learns a step or a few codes (a
    year's dummy, hours worked deciding "in the labour force") through the number."""

    by_number = False
    modelled = False

    def setup(self) -> None:
        super().setup()
        self.codes_read = self.reads

    def number_source(self, space: Space) -> None:
        """Whether the source is one column of numbers in `space` (looked up by value)."""
        self.by_number = len(self.reads) == 1 and space.continuous(self.reads[0])
        self.codes_read = () if self.by_number else self.reads

    def unkept(self, space: Space) -> str | None:
        self.number_source(space)
        return (
            (None if self.by_number else need(space, self.reads, space.discrete, "categories"))
            or need(space, self.writes, lambda n: space.at[n].value is not None, "values")
            or _empty(space, (*self.reads, *self.writes))
        )

    def _keys(self, u: Encoded, space: Space) -> np.ndarray:
        key = space.codes(u, self.reads[0]).astype(np.int64)
        for name in self.reads[1:]:
            key = key * space.at[name].cardinality + space.codes(u, name)
        return key

    def fit(self, real: Real) -> list[Added]:
        space, target = real.space, self.writes[0]
        self.numeric = space.continuous(target)
        self.number_source(space)
        if self.numeric:
            values, self.table = pd.factorize(space.numbers(real.u, target), use_na_sentinel=False)
            self.table = np.asarray(self.table, dtype=float)
        else:
            values = space.codes(real.u, target)
        if self.by_number:
            self._fit_points(real, values)
            return self.added(real)
        group, first = self._keys(real.u, space), space.codes(real.u, self.reads[0])
        if real.drawn:  # a drawn null where its column has no null code (-1) tells no target
            seen = values >= 0
            for name in self.reads:
                seen &= space.codes(real.u, name) >= 0
            group, first, values = group[seen], first[seen], values[seen]
        keys, sizes, best = _commonest(group, values, real.drawn)
        # a small group's target is stored only when it says nothing rare: a category code (a
        # rare category is its pool's code), or a number many rows share
        common = np.bincount(values)[best] >= real.rare_threshold
        shared = (sizes >= real.rare_threshold) | ~np.asarray(self.numeric) | common
        self.keys, self.values = keys[shared], best[shared]
        if len(self.reads) == 1:  # the first source's groups are the groups
            firsts, fsizes, fbest = keys, sizes, best
        else:
            firsts, fsizes, fbest = _commonest(first, values, real.drawn)
        whole = int(np.bincount(values).argmax()) if len(values) else 0  # (the smallest on a tie)
        self.fallback = np.full(space.at[self.reads[0]].cardinality, whole)
        ok = (
            (fsizes >= real.rare_threshold)
            | ~np.asarray(self.numeric)
            | (np.bincount(values)[fbest] >= real.rare_threshold)
        )
        self.fallback[firsts[ok]] = fbest[ok]
        if self.numeric:
            self.values = self.table[self.values]
            self.fallback = self.table[self.fallback]
        return []

    def _fit_points(self, real: Real, values: np.ndarray) -> None:
        """The points and their targets (see the class), from the real rows' numbers (a
        drawn row's missing target tells none)."""
        x = real.space.numbers(real.u, self.reads[0])
        told = values >= 0
        there = ~np.isnan(x) & told
        points, at = np.unique(x[there], return_inverse=True)
        keys, sizes, best = _commonest(at.astype(np.int64), values[there], real.drawn)
        # a point is a value many rows share: a rare real value is not written into the state
        shared = sizes >= real.rare_threshold
        self.points, self.values = points[keys[shared]], best[shared]
        whole = int(np.bincount(values[told]).argmax()) if told.any() else 0
        gone = np.isnan(x) & told
        self.missing = whole
        if gone.any():
            _, size, most = _commonest(np.zeros(int(gone.sum()), np.int64), values[gone])
            common = np.bincount(values[told])[most[0]] >= real.rare_threshold
            if size[0] >= real.rare_threshold or not self.numeric or common:
                self.missing = int(most[0])
        if not len(self.points):  # no value shared by enough rows: the commonest target
            self.points, self.values = np.zeros(1), np.array([whole])
        self.modelled = real.learn_codes or int((np.diff(self.values) != 0).sum()) > RUNS
        if self.numeric:
            self.values = self.table[self.values]
            self.missing = float(self.table[self.missing]) if len(self.table) else 0.0

    @property
    def drawn_name(self) -> str:
        return f"{self.writes[0]}{SEP}drawn"

    def added(self, real: Real) -> list[Added]:
        if not (self.by_number and self.modelled):
            return []
        target = self.writes[0]
        col = renamed(real.space.at[target].col, self.drawn_name)
        return [(target, col, real.table[target].rename(self.drawn_name))]

    def looked_up(self, x: np.ndarray) -> np.ndarray:
        """The target of each number of the source (NaN: missing), by its nearest point."""
        return np.where(np.isnan(x), self.missing, self.values[nearest(self.points, x)])

    def inverse(self, m: Encoded, u: Encoded, enc: RuleEncoder) -> None:
        if self.by_number:
            out = self.looked_up(enc.u.numbers(u, self.reads[0]))
            if self.numeric:
                enc.u.put_numbers(u, self.writes[0], out.astype(float), 0.0)
            else:
                enc.u.put_codes(u, self.writes[0], out.astype(np.int64))
            return
        keys = self._keys(u, enc.u)
        at = np.minimum(np.searchsorted(self.keys, keys), max(len(self.keys) - 1, 0))
        found = self.keys[at] == keys if len(self.keys) else np.zeros(len(keys), dtype=bool)
        fallback = self.fallback[enc.u.codes(u, self.reads[0])]
        out = np.where(found, self.values[at], fallback) if len(self.keys) else fallback
        if self.numeric:
            enc.u.put_numbers(u, self.writes[0], out.astype(float), 0.0)
        else:
            enc.u.put_codes(u, self.writes[0], out)

    def state(self) -> dict[str, Any]:
        if self.by_number:
            return {"points": self.points, "values": self.values, "missing": [self.missing]}
        return {"keys": self.keys, "values": self.values, "fallback": self.fallback}

    def load(self, state: dict[str, Any], enc: RuleEncoder) -> None:
        target = enc.u.at[self.writes[0]]
        self.numeric = enc.u.continuous(self.writes[0])
        kind = float if self.numeric else np.int64
        self.number_source(enc.u)
        if self.by_number:
            self.points = state_array(state, "points", float)
            self.values = state_array(state, "values", kind, len(self.points))
            self.missing = state_array(state, "missing", kind, 1)[0]
            if not len(self.points) or not np.isfinite(self.points).all():
                raise ValueError("a dependency's points are not finite numbers")
            if np.any(np.diff(self.points) <= 0):
                raise ValueError("a dependency's points are not sorted")
            self.modelled = self.drawn_name in enc.m.at
            if not self.numeric:
                codes_within(np.r_[self.values, self.missing], target.cardinality, "values")
            return
        self.keys = state_array(state, "keys", np.int64)
        self.values = state_array(state, "values", kind, len(self.keys))
        self.fallback = state_array(state, "fallback", kind, enc.u.at[self.reads[0]].cardinality)
        if np.any(np.diff(self.keys) <= 0):
            raise ValueError("a dependency's keys are not sorted")
        if not self.numeric:
            codes_within(self.values, target.cardinality, "values")
            codes_within(self.fallback, target.cardinality, "fallback")


def _empty(space: Space, names) -> str | None:
    """Why a rule over a category column that holds no code at all can't be kept (a DP
    model's column none of whose categories cleared the noise, and never missing)."""
    bad = [n for n in names if space.discrete(n) and not space.at[n].cardinality]
    return f"{bad[0]!r} holds no category to keep it with" if bad else None


def _commonest(
    keys: np.ndarray, values: np.ndarray, over: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per distinct key (sorted): its rows and its commonest value (the smallest on a tie);
    keys and values are codes (>= 0). `over`: the value it holds most beyond its share of all
    rows instead (for drawn rows, whose noise spreads a small group over the commonest values).

    Example:
        >>> [a.tolist() for a in _commonest(np.array([0, 0, 0, 3]), np.array([2, 1, 1, 0]))]
        [[0, 3], [3, 1], [1, 0]]
        >>> keys, values = np.repeat([0, 1], [5, 10]), np.array([2, 2, 2, 1, 1] + [2] * 10)
        >>> _commonest(keys, values)[2].tolist(), _commonest(keys, values, over=True)[2].tolist()
        ([2, 2], [1, 2])
    """
    if not len(keys):
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    width = int(values.max()) + 1
    pairs, counts = np.unique(keys.astype(np.int64) * width + values, return_counts=True)
    rank = counts.astype(float)
    if over:  # rows beyond the group's size times the value's share of all rows
        group = np.unique(pairs // width, return_inverse=True)[1]
        size = np.bincount(group, weights=counts)[group]
        rank -= size * np.bincount(values, minlength=width)[pairs % width] / len(values)
    order = np.lexsort((-rank, pairs // width))  # each key's first value first
    pairs, counts = pairs[order], counts[order]
    first = np.flatnonzero(np.r_[True, np.diff(pairs // width) != 0])
    sizes = np.add.reduceat(counts, first)
    return pairs[first] // width, sizes.astype(np.int64), pairs[first] % width


def flag(space: Space, name: str) -> bool:
    """Whether a column of the rules space is a flag: a whole number of two values one apart,
    never missing (0/1, a 1/2 code). A combination holds it by its value's code (0: the lower).

    Example:
        >>> from synthgen.columns import TableEncoder
        >>> from synthgen.schema import detect
        >>> t = pd.DataFrame({"south": [0, 1, 0], "n": [0, 2, 1]})
        >>> space = Space(TableEncoder(detect(t), 0).fit(t, np.random.default_rng(0)))
        >>> flag(space, "south"), flag(space, "n")
        (True, False)
    """
    t = space.at[name]
    if not space.continuous(name) or t.null is not None or not t.state.get("integer"):
        return False
    return float(t.state["max"]) - float(t.state["min"]) == 1


def member_codes(space: Space, enc: Encoded, name: str) -> np.ndarray:
    """A combination member's codes: a category's, or a flag's 0 (lower value) and 1."""
    if space.discrete(name):
        return space.codes(enc, name)
    low = float(space.at[name].state["min"])
    return (space.numbers(enc, name) - low >= 0.5).astype(np.int64)


def flag_values(space: Space, name: str, codes: Any) -> Any:
    """A flag's values of its codes (`member_codes`): the lower one, or one more."""
    return float(space.at[name].state["min"]) + codes


def member_cardinality(space: Space, name: str) -> int:
    return space.at[name].cardinality if space.discrete(name) else 2


class Combination(Keeper):
    """The members' combinations as one joint category the model learns: each real
    combination of at least rare-threshold rows is a category; the others (and rows with a
    rare member) are pooled as rare, and come back as a shared combination. Members are
    categories or flags (`flag`: a group of 0/1 columns of which at most one is 1 becomes
    one category of which one is). A member another rule derives from categories (a
    dependency) is replaced by that rule's sources (`substitute`): their real combinations
    keep the member's too."""

    def setup(self) -> None:
        self.members = tuple(self.rule.columns)
        self.reads, self.writes = (), self.members
        self.codes_read = (self.joint,)

    @property
    def also(self) -> list[int]:
        """The numbers of the rules it keeps too (columns missing together among its members)."""
        return self.__dict__.setdefault("_also", [])

    @property
    def together(self) -> list[tuple[str, ...]]:
        """The columns of each missing_together rule among its members it keeps (at fit)."""
        return self.__dict__.setdefault("_together", [])

    def keep_together(self, columns: tuple[str, ...], index: int) -> None:
        """Keep a missing_together rule among its members: missing is a value of the joint
        (fitted on drawn rows, a row that breaks it is none of its combinations)."""
        self.together.append(columns)
        self.also.append(index)

    def join(self, members: tuple[str, ...], index: int) -> None:
        """Keep another combination that shares a member: the joint of all their members."""
        self.members = tuple(dict.fromkeys((*self.members, *members)))
        self.also.append(index)
        self.setup_members()

    def substitute(self, member: str, sources: tuple[str, ...]) -> None:
        self.members = tuple(
            dict.fromkeys(c for m in self.members for c in (sources if m == member else (m,)))
        )
        self.setup_members()

    def setup_members(self) -> None:
        self.writes = self.members
        self.codes_read = (self.joint,)

    @property
    def joint(self) -> str:
        return SEP.join(self.members) + f"{SEP}combination"

    def unkept(self, space: Space) -> str | None:
        def member(name: str) -> bool:
            return space.discrete(name) or flag(space, name)

        return need(
            space, self.writes, member, "categories or flags (two whole numbers, never missing)"
        ) or _empty(space, self.writes)

    def _codes(self, space: Space, u: Encoded) -> np.ndarray:
        return np.stack([member_codes(space, u, n) for n in self.writes], axis=1)

    def fit(self, real: Real) -> list[Added]:
        space = real.space
        codes = self._codes(space, real.u)
        ids = row_ids(codes)
        seen = int(ids.max(initial=-1)) + 1
        rare = np.zeros(len(codes), dtype=bool)
        for j, name in enumerate(self.writes):
            code = space.at[name].rare_code
            rare |= codes[:, j] == code if code is not None else False
        if real.drawn:  # a drawn null where its column has no null code (-1): no combination
            rare |= (codes < 0).any(axis=1)
        for group in self.together if real.drawn else ():  # (real rows may be its exceptions)
            count = sum(space.missing(real.u, c).astype(np.int64) for c in group)
            rare |= (count > 0) & (count < len(group))  # drawn, it is no combination to keep
        # a row with a pooled member is a combination no one may see: an id of its own
        ids = np.where(rare, seen + np.arange(len(ids)), ids)
        first_row = np.unique(ids, return_index=True)[1]
        self._members = {int(ids[r]): codes[r] for r in first_row if not rare[r]}
        # ids as text: a category to every reader of the modelled table (SDV's too)
        values = pd.Series(ids.astype(str), name=self.joint, dtype=object)
        return [(self.writes[0], detect_column(values, kind="categorical"), values)]

    def added(self, real: Real) -> list[Added]:
        """The joint category of each row's combination, for rows it was not fitted on (a DP
        model's): a combination the joint lacks (or with a rare member) becomes a shared one,
        drawn by its frequency, as a pooled rare one is when decoded."""
        joint = self.joint_state
        ids = np.array(joint["categories"], dtype=object)
        codes = self._codes(real.space, real.u)
        known, key = np.split(row_ids(np.concatenate([self.table, codes])), [len(self.table)])
        order = np.argsort(known, kind="stable")
        at = np.minimum(np.searchsorted(known[order], key), max(len(known) - 1, 0))
        pick = order[at] if len(ids) else np.zeros(len(key), dtype=np.int64)
        lacking = (known[pick] != key) if len(ids) else np.ones(len(key), dtype=bool)
        if len(ids) and lacking.any():
            p = np.asarray(joint["probabilities"], dtype=float)
            pick[lacking] = real.rng.choice(len(ids), int(lacking.sum()), p=p / p.sum())
        values = ids[pick] if len(ids) else np.full(len(key), "", dtype=object)
        values = pd.Series(values, name=self.joint, dtype=object)
        return [(self.writes[0], detect_column(values, kind="categorical"), values)]

    def bind(self, enc: RuleEncoder) -> None:
        self.joint_state = enc.m.at[self.joint].state
        if not hasattr(self, "_members"):  # loaded: the table came with the state
            return
        ids = self.joint_state["categories"]
        width = len(self.writes)
        self.table = np.array([self._members[int(i)] for i in ids], dtype=np.int64).reshape(
            -1, width
        )
        del self._members
        if not len(self.table):  # every combination rare: the members' pools stand for them
            pools = [enc.u.at[n].rare_code for n in self.writes]
            self.table = np.array([[p if p is not None else 0 for p in pools]], dtype=np.int64)

    def inverse(self, m: Encoded, u: Encoded, enc: RuleEncoder) -> None:
        joint = np.minimum(enc.m.codes(m, self.joint), len(self.table) - 1)
        for j, name in enumerate(self.writes):
            if enc.u.discrete(name):
                enc.u.put_codes(u, name, self.table[joint, j])
            else:  # a flag (never missing: the fallback is its lower value)
                values = flag_values(enc.u, name, self.table[joint, j])
                enc.u.put_numbers(u, name, values, flag_values(enc.u, name, 0))

    def state(self) -> dict[str, Any]:
        return {"table": self.table, "members": list(self.members), "also": list(self.also)}

    def load(self, state: dict[str, Any], enc: RuleEncoder) -> None:
        self.members = tuple(str(c) for c in state.get("members", self.rule.columns))
        rules = enc.user.rules
        for i in state.get("also", []):
            if not 0 <= int(i) < len(rules) or not set(rules[int(i)].columns) <= set(self.members):
                raise ValueError(
                    f"a rule number {i} kept by a combination is not among its members"
                )
            self.also.append(int(i))
        if len(set(self.members)) != len(self.members) or len(self.members) < 2:
            raise ValueError("a combination's members repeat")
        self.setup_members()
        why = self.unkept(enc.u)
        if why is not None:
            raise ValueError(f"a combination can't hold its members: {why}")
        if self.joint not in enc.m.at:
            raise ValueError(f"a combination's joint column {self.joint!r} is not modelled")
        self.table = state_array(state, "table", np.int64).reshape(-1, len(self.writes))
        if len(self.table) != max(1, len(enc.m.at[self.joint].state["categories"])):
            raise ValueError("a combination's table disagrees with its joint column")
        for j, name in enumerate(self.writes):
            codes_within(self.table[:, j], member_cardinality(enc.u, name), "table")
