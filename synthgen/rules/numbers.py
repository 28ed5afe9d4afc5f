"""Finding the numeric rules a table keeps: identities (`c = a + b - d`), products and ratios
(`synthgen.rules.products`), monotone pairs (a number that is a strictly monotone function of
another) and orders (`a <= b`, `a + b <= c`, also between dates), as part of
`synthgen.rules.discover`.

Identities are searched by meet-in-the-middle on fingerprints: each column is summarised by two
random weighted sums of a few rows where every column is filled, so that an identity over the
columns holds over their fingerprints too. Every signed sum of up to two columns is sorted once;
for each target, the sums of two such halves that land on the target's fingerprint are the
candidate identities of up to six sources (four beyond 40 numeric columns), then checked on the sample and on all rows. An order
is listed only when independence would break it (in `ORDER_SURPRISE` of the row pairs or more): an
order that the columns' ranges imply on their own says nothing.

Example:
    >>> import pandas as pd
    >>> from synthgen.rules.discover import discover
    >>> from synthgen.schema import detect
    >>> rng = np.random.default_rng(0)
    >>> t = pd.DataFrame({"fare": rng.integers(5, 50, 200), "tip": rng.integers(0, 9, 200)})
    >>> t["total"] = t.fare + t.tip
    >>> [r.text() for r in discover(t, detect(t))]
    ['total = fare + tip']
"""

from __future__ import annotations

import warnings
from functools import cache
from itertools import combinations, product
from typing import TYPE_CHECKING

import numpy as np

from synthgen.rules import products
from synthgen.rules.model import Rule
from synthgen.rules.rows import half_units

if TYPE_CHECKING:
    from synthgen.rules.discover import Context

#: An order is listed only when independent columns would break it in this share of rows or more.
ORDER_SURPRISE = 0.02
#: `a + b <= c` is listed only when each part, drawn independently of the rest of its row, would
#: break it in this share of rows or more (else that part only rides along on `a <= c`).
SUM_SURPRISE = 0.1
#: ... and only when that share of the rows it judges is this many rows or more (a rule a few
#: rows show is chance).
ORDER_EVIDENCE = 10
#: A monotone pair's source needs this many distinct values (fewer: a lookup, not a function).
MONOTONE_DISTINCT = 5
#: Rows of the table an identity's fingerprints are taken on.
FINGERPRINT_ROWS = 24
#: Up to this many numeric columns, identities of up to six sources are searched (halves of three
#: columns), up to `PAIR_COLUMNS` of four, beyond of two. A target whose fingerprint more than
#: `MAX_MATCHES` pairs of halves land on (columns the fingerprints cannot tell apart) is not
#: searched.
TRIPLE_COLUMNS = 40
PAIR_COLUMNS = 150
MAX_MATCHES = 1_000_000
# Roles of columns (`InRules.role`) the numeric rules compare: amounts with amounts, times with
# times (orders only).
_AMOUNTS = {"amount"}
_TIMES = {"time"}


def discover(ctx: Context, evidence: int) -> list[Rule]:
    """The identities, products, monotone pairs and orders of the table behind `ctx` (a
    product's columns each with `evidence` rows off their commonest value)."""
    numbers = [n for n in ctx.names(_AMOUNTS) if ctx.distinct(n) >= 2]
    identities = _identities(ctx, numbers)
    found = products.discover(ctx, numbers, evidence)
    found += products.interactions(ctx, numbers, evidence)
    monotone = _monotone(ctx, numbers, identities)
    orders = _orders(ctx, numbers, identities, monotone)
    orders += _orders(ctx, [n for n in ctx.names(_TIMES) if ctx.distinct(n) >= 2], [], [])
    return identities + found + monotone + orders


def _matrix(ctx: Context, names: list[str], rows: np.ndarray | None = None) -> np.ndarray:
    columns = [ctx.typed.numbers(n) for n in names]
    return np.column_stack([c if rows is None else c[rows] for c in columns])


def _slack(ctx: Context, names: list[str] | tuple[str, ...]) -> float:
    return half_units([ctx.typed.column(n) for n in names])


# --------------------------------------------------------------------------------------------
# Identities


def _fingerprint_rows(ctx: Context, names: list[str]) -> tuple[list[str], np.ndarray]:
    """Columns (those with fewest missing values first kept) and up to `FINGERPRINT_ROWS` rows
    where all of them are filled, favouring rows with few zeros (a zero says little)."""
    names = list(names)
    # column by column: reductions across a row of a few columns are slow in numpy
    finite = [np.isfinite(ctx.typed.numbers(n)) for n in names]
    need = min(FINGERPRINT_ROWS, ctx.n // 2 + 1)
    while names:
        complete = np.logical_and.reduce(finite)
        if complete.sum() >= need:
            break
        worst = int(np.argmax([len(f) - np.count_nonzero(f) for f in finite]))
        names.pop(worst)
        finite.pop(worst)
    if not names:
        return [], np.array([], dtype=np.int64)
    rows = np.flatnonzero(complete)
    zeros = sum((ctx.typed.numbers(n)[rows] == 0).astype(np.int64) for n in names)
    pool = rows[_fewest(zeros, 8 * FINGERPRINT_ROWS)]
    pick = ctx.rng.choice(len(pool), min(FINGERPRINT_ROWS, len(pool)), replace=False)
    return names, np.sort(pool[pick])


def _fewest(counts: np.ndarray, m: int) -> np.ndarray:
    """The first `m` of `np.argsort(counts, kind="stable")` for small non-negative counts,
    without sorting them all.

    Example:
        >>> _fewest(np.array([2, 0, 1, 0, 2]), 3).tolist()
        [1, 3, 2]
    """
    picked: list[np.ndarray] = []
    for count in range(int(counts.max(initial=0)) + 1):
        if sum(map(len, picked)) >= m:
            break
        picked.append(np.flatnonzero(counts == count))
    return np.concatenate(picked or [np.zeros(0, dtype=np.int64)])[:m]


@cache  # the same few k on every table: built once
def _halves(k: int) -> tuple[np.ndarray, np.ndarray]:
    """Every signed sum of at most `_half_size(k)` of k columns: (columns (h, size), -1 where
    fewer; signs (h, size), 0 there).

    Example:
        >>> cols, signs = _halves(2)
        >>> [tuple(int(s) * (int(c) + 1) for c, s in zip(cs, ss) if c >= 0) for cs, ss in zip(cols, signs)]
        [(), (1,), (2,), (-1,), (-2,), (1, 2), (1, -2), (-1, 2), (-1, -2)]
    """
    size = _half_size(k)
    cols, signs = [np.full((1, size), -1)], [np.zeros((1, size), dtype=np.int64)]
    for m in range(1, size + 1):
        chosen = np.array(list(combinations(range(k), m)), dtype=np.int64).reshape(-1, m)
        for signed in product((1, -1), repeat=m):
            pad = np.full((len(chosen), size - m), -1)
            cols.append(np.hstack([chosen, pad]))
            signs.append(np.hstack([np.tile(signed, (len(chosen), 1)), np.zeros_like(pad)]))
    return np.concatenate(cols), np.concatenate(signs)


def _half_size(k: int) -> int:
    """Columns in a half: 3 up to `TRIPLE_COLUMNS` columns, 2 up to `PAIR_COLUMNS`, else 1."""
    return 3 if k <= TRIPLE_COLUMNS else 2 if k <= PAIR_COLUMNS else 1


def _identity_candidates(ctx: Context, names: list[str]) -> tuple[list[dict[int, int]], list[str]]:
    """Relations {index in the columns returned: +1/-1} whose signed sum is 0 on the
    fingerprint rows (each found once, over up to five columns), and those columns.

    Every signed half (a sum of at most two columns) is sorted by its value on the first row;
    for each target, the halves whose sum with another lands on the target there are the
    candidates, kept while the other rows agree."""
    names, rows = _fingerprint_rows(ctx, names)
    if len(names) < 2:
        return [], names
    x = _matrix(ctx, names, rows).T  # (k, m)
    k = len(names)
    cols, signs = _halves(k)
    halves = sum(signs[:, i : i + 1] * x[np.maximum(cols[:, i], 0)] for i in range(cols.shape[1]))
    order = np.argsort(halves[:, 0], kind="stable")
    cols, signs, halves = cols[order], signs[order], halves[order]
    first_row = halves[:, 0]
    units = sorted((_slack(ctx, [n]) for n in names), reverse=True)
    terms = 2 * cols.shape[1] + 1
    tol = sum(units[:terms]) + 1e-9 * terms * (np.abs(x).max() if x.size else 0.0) + 1e-12
    found: dict[frozenset, dict[int, int]] = {}
    col_list, sign_list = cols.tolist(), signs.tolist()  # plain ints: read per match below
    want = x[:, :1] - first_row  # (k, h): what the other half must be on the first row
    lo = np.searchsorted(first_row, want - tol, side="left")
    hi = np.searchsorted(first_row, want + tol, side="right")
    counts = hi - lo
    counts[counts.sum(axis=1) > MAX_MATCHES] = 0  # a target so many pairs land on: not searched
    for batch in _batches(counts.sum(axis=1), MAX_MATCHES):
        # the targets of a batch at once (a few numpy calls for a small table), in order
        flat, starts = counts[batch].ravel(), lo[batch].ravel()
        pair = np.repeat(np.arange(len(flat)), flat)
        b = np.repeat(starts - np.cumsum(flat) + flat, flat) + np.arange(flat.sum())
        target, a = batch.start + pair // len(halves), pair % len(halves)
        # pairs that repeat a column or name the target match on every row: out first
        target, a, b = _distinct_terms(cols, target, a, b)
        for r in range(1, x.shape[1]):
            if not len(a):
                break
            keep = np.abs(x[target, r] - halves[a, r] - halves[b, r]) <= tol
            target, a, b = target[keep], a[keep], b[keep]
        for t, i, j in zip(target.tolist(), a.tolist(), b.tolist()):
            terms = [
                (c, sign)
                for c, sign in zip(col_list[i] + col_list[j], sign_list[i] + sign_list[j])
                if c >= 0
            ]
            relation = {t: 1} | {c: -sign for c, sign in terms}
            found.setdefault(frozenset(relation.items()), relation)
    return list(found.values()), names


def _batches(sizes: np.ndarray, most: int) -> list[slice]:
    """Consecutive runs of items whose sizes add up to at most `most` (an item larger alone).

    Example:
        >>> _batches(np.array([3, 4, 0, 5, 9]), 8)
        [slice(0, 3, None), slice(3, 4, None), slice(4, 5, None)]
    """
    cuts, total = [0], 0
    for i, size in enumerate(sizes.tolist()):
        if total and total + size > most:
            cuts.append(i)
            total = 0
        total += size
    return [slice(a, b) for a, b in zip(cuts, cuts[1:] + [len(sizes)])]


def _distinct_terms(
    cols: np.ndarray, target: np.ndarray, a: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The (target, half, half) triples whose halves (`a[i]`, `b[i]`) name some column, none
    in both halves and not the target, in their order (a half names distinct columns, as
    `_halves` makes them).

    Example:
        >>> cols = np.array([[-1], [0], [1], [2]])
        >>> t, a, b = np.array([2, 2, 2, 2]), np.array([0, 1, 1, 3]), np.array([0, 1, 2, 0])
        >>> [x.tolist() for x in _distinct_terms(cols, t, a, b)]
        [[2], [1], [2]]
    """
    # slot by slot (a few): much cheaper than reductions over short rows
    left, right = [c[a] for c in cols.T], [c[b] for c in cols.T]
    ok = (left[0] >= 0) | (right[0] >= 0)  # a half's columns come first, then its -1s
    for lc in left:
        ok &= lc != target
        for rc in right:
            ok &= (lc != rc) | (lc < 0)
    for rc in right:
        ok &= rc != target
    return target[ok], a[ok], b[ok]


def _identities(ctx: Context, numbers: list[str]) -> list[Rule]:
    """Identities `t = sum(+-a_i)` over up to four sources, fewest columns first, each kept when
    it holds and no identity kept before implies it."""
    # a 0/1 indicator is left out: a one-hot group's columns are zero on most fingerprint
    # rows, their signed sums alike, and every target's candidate pairs pass `MAX_MATCHES`
    # (linearmodels' fringe, nine industries and four regions: 20-140 million, and annbens =
    # vacdays + sicklve + insur + pension went unfound); a sum of amounts is seldom one. An
    # amount of two other values (a toll of 0 or 6.55) stays.
    numbers = [n for n in numbers if ctx.typed.missing(n).mean() < 0.5 and not _indicator(ctx, n)]
    if len(numbers) < 2:
        return []
    candidates, names = _identity_candidates(ctx, numbers)
    if not candidates:
        return []
    candidates.sort(key=lambda r: (len(r), sorted(r)))
    rows = ctx.rows(len(candidates))
    x = _matrix(ctx, names, rows)

    def holds(vector: np.ndarray) -> bool:
        cols = np.flatnonzero(vector)
        total = x[:, cols] @ vector[cols]
        slack = _slack(ctx, [names[i] for i in cols]) + 1e-9 * np.abs(x[:, cols]).sum(axis=1)
        return (np.abs(total) > slack).sum() <= ctx.sample_allowed(rows)

    accepted: list[np.ndarray] = []
    rules = []
    for relation in candidates:
        vector = np.zeros(len(names))
        for i, s in relation.items():
            vector[i] = s
        if accepted and _in_span(np.array(accepted), vector):
            continue
        if not holds(vector) or not _parts_hold(vector, accepted, holds):
            continue
        rule = ctx.finish(_identity_rule(ctx, names, relation))
        if rule is not None:
            accepted.append(vector)
            rules.append(rule)
    return rules


def _parts_hold(vector: np.ndarray, accepted: list[np.ndarray], holds) -> bool:
    """Whether what is left of a relation once an identity kept before is taken out of it also
    holds (on its own columns' slack). A relation that adds an exact identity of coarse amounts
    to a near one of fine amounts holds within their joint slack only: nhefs' `wt82_71 = wt82 -
    wt71` (kilograms to 0.01) made `price71_82 = price71 - price82` (off by 0.0004 of a dollar
    in its float32 values) pass as `wt82_71 = -wt71 + wt82 + price71 - price82 - price71_82`.

    Example:
        >>> kept = [np.array([1.0, -1.0, 0.0, 0.0])]
        >>> _parts_hold(np.array([1.0, -1.0, 1.0, -1.0]), kept, lambda v: v[2] == 0)
        False
        >>> _parts_hold(np.array([1.0, 0.0, 1.0, -1.0]), kept, lambda v: False)
        True
    """
    support = vector != 0
    for kept in accepted:
        inside = kept != 0
        if not inside.any() or (inside & ~support).any() or inside.sum() == support.sum():
            continue
        for sign in (1.0, -1.0):
            rest = vector - sign * kept
            if not (rest[inside] != 0).any() and not holds(rest):
                return False
    return True


def _indicator(ctx: Context, name: str) -> bool:
    """Whether the column holds only 0 and 1 (missing aside)."""
    if ctx.distinct(name) != 2:
        return False
    x = ctx.typed.numbers(name)
    return bool(np.isin(x[~np.isnan(x)], (0.0, 1.0)).all())


def _in_span(basis: np.ndarray, vector: np.ndarray) -> bool:
    rank = np.linalg.matrix_rank(basis)
    return np.linalg.matrix_rank(np.vstack([basis, vector])) == rank


#: An identity is solved among the columns of at least this share of its most distinct values.
_FREE = 0.75


def _identity_rule(ctx: Context, names: list[str], relation: dict[int, int]) -> Rule:
    """The identity of a relation, solved for its largest column (mean absolute value; the later
    one on a tie) among those of nearly the most distinct values (`_FREE` of the most), the
    sources in table order.

    Distinct values first: the column computed holds sums of drawn values, which a column of few
    values (a price list) would not (OJ's PriceMM = PriceCH + ListPriceDiff, solved for PriceMM,
    8 prices, gave prices the list lacks: the classifier's most telling column, C2ST 0.52; solved
    for ListPriceDiff, 15 values, 0.68). A total of free amounts is among the freest columns of
    its relation, and then the largest, as before."""
    order = {n: i for i, n in enumerate(ctx.schema.names)}
    cols = sorted(relation, key=lambda i: order[names[i]])
    values = [ctx.typed.numbers(names[i]) for i in cols]
    distinct = [len(np.unique(v[~np.isnan(v)])) for v in values]
    sizes = [np.nanmean(np.abs(v)) for v in values]
    free = [p for p in range(len(cols)) if distinct[p] >= _FREE * max(distinct)]
    target = max(free, key=lambda p: (sizes[p], p))
    t = cols[target]
    sources = [i for i in cols if i != t]
    signs = tuple(-relation[i] * relation[t] for i in sources)
    return Rule("identity", tuple(names[i] for i in sources) + (names[t],), signs=signs)


# --------------------------------------------------------------------------------------------
# Monotone pairs


def _ranks(x: np.ndarray) -> np.ndarray:
    """Column ranks (ties averaged away by order), a missing value at the column's middle.

    Example:
        >>> _ranks(np.array([[3.0, 1.0], [np.nan, 1.0], [1.0, 0.0]])).T.tolist()
        [[2.0, 1.0, 0.0], [1.0, 2.0, 0.0]]
    """
    filled = x.copy()
    for j in np.flatnonzero(np.isnan(x).any(axis=0)):
        # np.median of the filled values: np.nanmedian's value, without its masked arrays
        gap = np.isnan(x[:, j])
        filled[gap, j] = np.median(x[~gap, j])
    order = np.argsort(filled, axis=0, kind="stable")
    ranks = np.empty(x.shape)
    np.put_along_axis(ranks, order, np.arange(len(x), dtype=float)[:, None], axis=0)
    return ranks


def _monotone(ctx: Context, numbers: list[str], identities: list[Rule]) -> list[Rule]:
    """Pairs of numbers where one is a strictly monotone function of the other (the one with
    fewer distinct values, or the later one, is the function); not a pair an identity ties."""
    names = [n for n in numbers if ctx.distinct(n) >= MONOTONE_DISTINCT]
    if len(names) < 2:
        return []
    tied = {frozenset(r.columns) for r in identities if len(r.columns) == 2}
    ranks = _ranks(_matrix(ctx, names, ctx.rows(len(names) ** 2)))
    rho = np.corrcoef(ranks, rowvar=False)
    order = {n: i for i, n in enumerate(ctx.schema.names)}
    rules = []
    for i, j in zip(*np.nonzero(np.triu(np.abs(np.nan_to_num(rho)) >= 0.98, 1))):
        a, b = names[i], names[j]
        if frozenset((a, b)) in tied:
            continue
        da, db = ctx.distinct(a), ctx.distinct(b)
        # the function is the column with fewer values (rounded coarser), else the later one
        if abs(da - db) > 0.01 * max(da, db):
            target = b if db < da else a
        else:
            target = b if order[b] > order[a] else a
        source = a if target == b else b
        if min(da, db) < 0.5 * max(da, db):
            continue  # a step function: many sources share a value
        rule = Rule("monotone", (source, target), increasing=bool(rho[i, j] > 0))
        if _tie_exceptions(ctx, source, target) > ctx.limit():
            continue
        found = ctx.finish(rule)
        if found is not None:
            rules.append(found)
    return rules


def _tie_exceptions(ctx: Context, source: str, target: str) -> int:
    """Rows whose source value recurs with another target value (beyond rounding): no function.

    Each source value's target values, in order, break it once per step between two of them
    wider than rounding: found on the (source, target) pairs sorted as one integer key each.

    Example:
        >>> import pandas as pd
        >>> from synthgen.rules.discover import Context
        >>> from synthgen.schema import detect
        >>> t = pd.DataFrame({"s": [1, 1, 1, 2, 2, 3], "t": [5, 5, 7, 9, 8, None]})
        >>> _tie_exceptions(Context(t, detect(t)), "s", "t")
        2
    """
    s, _ = ctx.ranks(source)
    t, values = ctx.ranks(target)
    both = (s >= 0) & (t >= 0)
    key = np.sort(s[both] * len(values) + t[both])  # (a repeated pair steps by 0: no break)
    same = key[1:] // len(values) == key[:-1] // len(values)
    t = values[key % len(values)]
    jump = np.abs(np.diff(t)) > 2 * _slack(ctx, [target]) + 1e-9 * np.abs(t[1:])
    return int((same & jump).sum())


# --------------------------------------------------------------------------------------------
# Orders


def _judged(*columns: np.ndarray) -> int:
    """Rows where none of the columns is missing."""
    return int((~np.logical_or.reduce([np.isnan(c) for c in columns])).sum())


def _surprise(left: np.ndarray, right: np.ndarray) -> float:
    """The share of independent pairs (a row's left side, another row's right side) that break
    `left <= right`."""
    left, right = np.sort(left[~np.isnan(left)]), np.sort(right[~np.isnan(right)])
    if not len(left) or not len(right):
        return 0.0
    # sorted needles search far faster; the mean of the counts is exact in any order
    return float(np.searchsorted(right, left, side="left").mean() / len(right))


def _sum_surprise(
    a: np.ndarray, b: np.ndarray, right: np.ndarray, ranked: tuple | None = None
) -> float:
    """How often `a + b <= right` would break with one part drawn from another row (the
    smaller share of the two parts); `ranked`: the parts' non-missing values, sorted."""
    sorted_a, sorted_b = ranked or (_ranked(a), _ranked(b))
    return min(_part_surprise(sorted_a, right - b), _part_surprise(sorted_b, right - a))


def _ranked(x: np.ndarray) -> np.ndarray:
    return np.sort(x[~np.isnan(x)])


def _part_surprise(values: np.ndarray, room: np.ndarray) -> float:
    """The share of rows whose `room` a value drawn from the sorted `values` would exceed (its
    expectation over all rows, not one shuffle)."""
    room = np.sort(room[~np.isnan(room)])  # (as in `_surprise`)
    if not len(room) or not len(values):
        return 0.0
    return float(1 - np.searchsorted(values, room, side="right").mean() / len(values))


def _orders(
    ctx: Context, names: list[str], identities: list[Rule], monotone: list[Rule]
) -> list[Rule]:
    """`a <= b` and `a + b <= c` that hold and that independence would break, less those an
    identity, a monotone pair or a chain of other orders implies."""
    if len(names) < 2:
        return []
    rows = ctx.rows(len(names) ** 2)
    sample = _matrix(ctx, names, rows)
    columns = np.ascontiguousarray(sample.T)  # row by row: far cheaper than down the columns
    bad = np.array([np.count_nonzero(column > columns, axis=1) for column in columns])
    low, high = _bounds(ctx, names)
    holds: set[tuple[str, str]] = set()
    for i, j in zip(*np.nonzero(bad <= ctx.sample_allowed(rows))):
        if i == j:
            continue
        # the ranges alone keep it on every row (no need to look); else look at every row
        if high[i] <= low[j] or ctx.finish(Rule("order", (names[i], names[j]))) is not None:
            holds.add((names[i], names[j]))
    holds -= {(b, a) for a, b in holds}  # both ways: equal columns, an identity's matter
    sums = _sum_orders(ctx, names, holds, rows, (low, high))
    implied = {(a, r.derived) for r in sums for a in r.sources}
    paired = {frozenset(r.columns) for r in monotone}
    at = {n: i for i, n in enumerate(names)}
    after: dict[str, set[str]] = {}
    before: dict[str, set[str]] = {}
    for a, b in holds:
        after.setdefault(a, set()).add(b)
        before.setdefault(b, set()).add(a)
    singles = []
    for a, b in sorted(holds, key=lambda e: (at[e[0]], at[e[1]])):
        if (a, b) in implied or frozenset((a, b)) in paired:
            continue
        if not after[a].isdisjoint(before[b]):
            continue  # a chain a <= m <= b gives it
        i, j = at[a], at[b]
        if high[i] <= low[j] or _surprise(sample[:, i], sample[:, j]) < ORDER_SURPRISE / 2:
            continue  # the ranges keep it, or nearly: no need to look at every row
        x, y = ctx.typed.numbers(a), ctx.typed.numbers(b)
        share = _surprise(x, y)
        if share < ORDER_SURPRISE or share * _judged(x, y) < ORDER_EVIDENCE:
            continue
        singles.append(Rule("order", (a, b)))
    rules = [ctx.finish(r) for r in singles] + sums
    return [r for r in rules if r is not None and not _implied(ctx, r, identities)]


def _bounds(ctx: Context, names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Each column's smallest and largest value over all rows."""
    low = np.array([np.nanmin(ctx.typed.numbers(n)) for n in names])
    high = np.array([np.nanmax(ctx.typed.numbers(n)) for n in names])
    return low, high


def _sum_orders(
    ctx: Context,
    names: list[str],
    holds: set[tuple[str, str]],
    rows: np.ndarray,
    bounds: tuple[np.ndarray, np.ndarray],
) -> list[Rule]:
    """For each column c, the tightest `a + b <= c` (largest mean left side) over non-negative
    columns that each hold `<= c`: the first that holds on the sample and on all rows, that
    the ranges (`_bounds`) do not imply and that each part, drawn from another row, would
    break."""
    low, high = bounds
    rules = []
    for ci, c in enumerate(names):
        parts = [i for i, a in enumerate(names) if (a, c) in holds and low[i] >= 0]
        if len(parts) < 2:
            continue
        x = _matrix(ctx, [names[i] for i in parts], rows)
        right = _matrix(ctx, [c], rows)
        slack = _slack(ctx, [c]) + 2 * max(_slack(ctx, [names[i]]) for i in parts)
        found = []
        for p in range(len(parts) - 1):
            left = x[:, p : p + 1] + x[:, p + 1 :]  # (all-missing where a and b never meet)
            ok = (left > right + slack).sum(axis=0) <= ctx.sample_allowed(rows)
            # a part drawn from another row can break it only if it can exceed the room
            # the rest of some row leaves: else the ranges keep it
            others = np.array(parts[p + 1 :])
            with warnings.catch_warnings():  # an all-missing pair's nan fails the test
                warnings.simplefilter("ignore", RuntimeWarning)
                ok &= high[parts[p]] > np.nanmin(right - x[:, p + 1 :], axis=0)
                ok &= high[others] > np.nanmin(right[:, 0] - x[:, p])
                means = np.nanmean(left, axis=0)
            found += [(-means[q], parts[p], others[q]) for q in np.flatnonzero(ok)]
        ranked = [_ranked(x[:, p]) for p in range(len(parts))]
        for _, a, b in sorted(found):
            p, q = parts.index(a), parts.index(b)
            if (
                _sum_surprise(x[:, p], x[:, q], right[:, 0], (ranked[p], ranked[q]))
                < SUM_SURPRISE / 2
            ):
                continue  # not on the sample rows: no need to look at every row
            u, v, w = (ctx.typed.numbers(names[i]) for i in (a, b, ci))
            share = _sum_surprise(u, v, w)
            if share < SUM_SURPRISE or share * _judged(u, v, w) < ORDER_EVIDENCE:
                continue
            rule = ctx.finish(Rule("order", (names[a], names[b], c)))
            if rule is not None:
                rules.append(rule)
                break
    return rules


def _implied(ctx: Context, order: Rule, identities: list[Rule]) -> bool:
    """Whether an identity gives the order: solved for the order's right side, the order's left
    columns come in with +1 and every other term is never negative."""
    for identity in identities:
        cols = identity.columns
        if not set(order.columns) <= set(cols):
            continue
        coef = dict(zip(identity.sources, identity.signs or ()))
        coef[identity.columns[-1]] = -1  # sum(coef * x) = 0
        right = order.columns[-1]
        scale = -1 / coef[right]  # right = sum(scale * coef[c] * x[c]) over the rest
        terms = {c: scale * coef[c] for c in cols if c != right}
        if any(terms[c] != 1 for c in order.sources):
            continue
        rest = [c for c in terms if c not in order.sources]
        if all(np.nanmin(terms[c] * ctx.typed.numbers(c)) >= 0 for c in rest):
            return True
    return False
