"""Keepers of the rules that decide where columns are missing (see `synthgen.rules.keepers`):
the model learns such a column completed, a null filled with a draw from the column's shared
values, and the rule puts the nulls back.

Example:
    >>> from synthgen.rules.model import Rule
    >>> MissingTogether(Rule("missing_together", ("a", "b", "c")), 0).writes
    ('b', 'c')
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from synthgen.columns import KINDS, Encoded
from synthgen.rules.keepers import SEP, Added, Keeper, Real, Space, need, renamed

if TYPE_CHECKING:
    from synthgen.rules.keep import RuleEncoder


class Completed(Keeper):
    """Columns whose nulls a rule decides: the model learns them completed (a null filled with
    a draw from the column's shared values), and the rule puts the nulls back."""

    def complete_name(self, name: str) -> str:
        return f"{name}{SEP}complete"

    def unkept(self, space: Space) -> str | None:
        return need(space, self.rule.columns, lambda n: space.at[n].value is not None, "values")

    def complete(self, real: Real, name: str) -> Added:
        values = real.table[name]
        missing = values.isna().to_numpy()
        state = real.space.at[name].state
        col = renamed(real.space.at[name].col, self.complete_name(name))
        if missing.all() and not state.get("categories"):
            return name, col, values.rename(col.name)  # a few drawn rows, none with a value
        if not state.get("categories"):
            return name, col, held_drawn(values, missing, real.rng).rename(col.name)
        pool = np.array(state["categories"], dtype=object)  # never a rare category
        filled = values.astype(object).to_numpy(copy=True)
        filled[missing] = pool[
            real.rng.choice(len(pool), int(missing.sum()), p=state["probabilities"])
        ]
        return name, col, pd.Series(filled, name=col.name, index=values.index)

    def added(self, real: Real) -> list[Added]:
        return [self.complete(real, name) for name in self.writes]

    def bind(self, enc: RuleEncoder) -> None:
        self.translate = {n: _translation(enc, self.complete_name(n), n) for n in self.writes}
        self.codes_read = (*self.codes_read, *(self.complete_name(n) for n in self.writes))

    def put(self, m: Encoded, u: Encoded, enc: RuleEncoder, name: str, missing: np.ndarray) -> None:
        modelled = self.complete_name(name)
        if enc.u.continuous(name):
            x = enc.m.numbers(m, modelled, decoded=True)
            enc.u.put_numbers(u, name, np.where(missing, np.nan, x), 0.0)
        else:
            codes = self.translate[name][enc.m.codes(m, modelled)]
            enc.u.put_codes(u, name, np.where(missing, enc.u.at[name].null_code or 0, codes))

    def load(self, state: dict[str, Any], enc: RuleEncoder) -> None:
        for name in self.writes:
            if self.complete_name(name) not in enc.m.at:
                raise ValueError(f"a rule's completed column for {name!r} is not modelled")


def held_drawn(values: pd.Series, where: np.ndarray, rng: np.random.Generator) -> pd.Series:
    """`values` (as objects; dates as dates) with the rows `where` says given values the column
    holds elsewhere, each drawn at random (some must be held).

    Example:
        >>> out = held_drawn(pd.Series([1.0, None, 3.0]), np.array([False, True, False]),
        ...                  np.random.default_rng(0))
        >>> out[1] in (1.0, 3.0)
        True
    """
    held = values[~values.isna().to_numpy()].to_numpy(dtype=object)
    filled = values.astype(object).to_numpy(copy=True)
    filled[where] = held[rng.integers(len(held), size=int(where.sum()))]
    out = pd.Series(filled, index=values.index, dtype=object)
    # dates stay dates: a column read as datetime has no text format to parse objects by
    return out.astype(values.dtype) if pd.api.types.is_datetime64_any_dtype(values.dtype) else out


def _translation(enc: RuleEncoder, modelled: str, name: str) -> np.ndarray:
    """Codes of a completed categorical column in the model -> the column's own codes."""
    mt, ut = enc.m.at[modelled], enc.u.at[name]
    if mt.value is None or not mt.discrete:
        return np.zeros(0, dtype=np.int64)
    if "categories" not in ut.state:  # booleans: the same two codes
        return np.arange(mt.cardinality, dtype=np.int64)
    out = pd.Index(ut.state["categories"], dtype=object).get_indexer(
        pd.Index(mt.state["categories"], dtype=object)
    )
    out = np.append(
        out, [ut.rare_code if ut.rare_code is not None else 0] * (mt.cardinality - len(out))
    )
    return np.where(out < 0, ut.rare_code if ut.rare_code is not None else 0, out).astype(np.int64)


class MissingTogether(Completed):
    """All missing or none: the first column (the leader) keeps its nulls in the model, the
    others are completed and missing exactly where it is."""

    def setup(self) -> None:
        self.reads, self.writes = self.rule.columns[:1], tuple(self.rule.columns[1:])

    def lead(self, leader: str) -> None:
        """Make `leader` the column the others follow."""
        self.reads = (leader,)
        self.writes = tuple(c for c in self.rule.columns if c != leader)

    def inverse(self, m: Encoded, u: Encoded, enc: RuleEncoder) -> None:
        missing = enc.u.missing(u, self.reads[0])
        for name in self.writes:
            self.put(m, u, enc, name, missing)

    def state(self) -> dict[str, Any]:
        return {"leader": self.reads[0]}

    def load(self, state: dict[str, Any], enc: RuleEncoder) -> None:
        if state["leader"] not in self.rule.columns:
            raise ValueError("a missing_together rule's leader is not one of its columns")
        self.lead(str(state["leader"]))
        super().load(state, enc)


class MissingWhen(Completed):
    """The target is missing exactly when the source takes one of the rule's values: the
    model learns the target completed."""

    def setup(self) -> None:
        super().setup()
        self.codes_read = self.reads

    def bind(self, enc: RuleEncoder) -> None:
        super().bind(enc)
        source = enc.u.at[self.reads[0]]
        listed = pd.Series([v for v in self.rule.values or () if v is not None], dtype=object)
        parsed = KINDS[source.col.kind].parse(listed, source.col, source.state)
        if enc.u.discrete(self.reads[0]):
            self.listed = np.zeros(source.cardinality, dtype=bool)
            self.listed[parsed[parsed >= 0]] = True
            if None in (self.rule.values or ()) and source.null_code is not None:
                self.listed[source.null_code] = True
        else:
            self.listed = np.asarray(parsed, dtype=float)

    def when(self, u: Encoded, enc: RuleEncoder) -> np.ndarray:
        """Rows where the target must be missing."""
        source = self.reads[0]
        if enc.u.discrete(source):
            return self.listed[enc.u.codes(u, source)]
        s = enc.u.numbers(u, source)
        out = np.isin(s, self.listed)
        return out | np.isnan(s) if None in (self.rule.values or ()) else out

    def inverse(self, m: Encoded, u: Encoded, enc: RuleEncoder) -> None:
        self.put(m, u, enc, self.writes[0], self.when(u, enc))
