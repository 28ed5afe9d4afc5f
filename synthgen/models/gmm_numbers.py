"""How the gmm (`synthgen.models.gmm`) holds numbers: each cut into intervals of its
distribution, its quantile knots, where a value lies on them, and the links that set a number from
the numbers before it and the categories.

Example:
    >>> import numpy as np
    >>> x = np.r_[np.zeros(6), np.arange(1.0, 5.0)]  # a spike at zero, then four values
    >>> edges = interval_edges(x, 2)
    >>> edges.tolist(), interval_codes(x, edges).tolist()
    ([0.0, 0.6, 1.0], [0, 0, 0, 0, 0, 0, 1, 1, 1, 1])
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import ndtri

_KNOTS = 1001  # empirical quantiles kept per continuous part (as the copula's default)
_TAIL_KNOTS = 50  # the most extra knots inside each outermost interval
_LINK_LEFT = 0.1  # a number is set from the earlier ones when they leave less of its variance
_IRLS = 10  # reweighted least-squares passes of a link on values (least absolute deviations)
#: A link's fit needs this many rows per coefficient: with as many coefficients as rows a fit
#: explains any number (a fund table of 50 rows and 2,000 returns linked every column), and
#: with half as many it leaves noise half its variance, five times `_LINK_LEFT`
_LINK_ROWS = 2
_GIBBS = 5  # sweeps over the bounded uniforms when more than one is bounded
_GUIDE_CELLS = 4  # cells per knot of the look-up that replaces a search in `interpolate`
_STEPS = 4  # knots a value steps past in its cell before its cell is searched (`search_sorted`)
_RIDGE = 1e-3  # added to a correlation's diagonal (then rescaled): never singular


def interval_edges(x: np.ndarray, bins: int) -> np.ndarray:
    """A continuous part's intervals as edges on the scale of its distribution function (0 to
    1): near `bins` equal shares of rows, each edge moved to the nearer end of the value it would
    split, each value held by more than 1 / `bins` of the rows an interval of its own, and an
    interval of three values or more split at a gap wider than half its span (values apart, such
    as two clusters, never share an interval: a component would draw one's from the other's).

    Example:
        >>> x = np.r_[np.zeros(60), np.arange(1.0, 41.0)]  # a spike at zero, then 40 values
        >>> interval_edges(x, 4).tolist()
        [0.0, 0.6, 0.75, 1.0]
        >>> interval_edges(np.r_[np.arange(9.0), np.arange(100.0, 103.0)], 2).tolist()
        [0.0, 0.5, 0.75, 1.0]
    """
    ordered = np.sort(x)
    n = len(ordered)
    values, starts = np.unique(ordered, return_index=True)
    low, high = starts / n, np.r_[starts[1:], n] / n  # each value's [F(v-), F(v)]
    even = np.linspace(0.0, 1.0, bins + 1)
    i = np.minimum(np.searchsorted(high, even, side="left"), len(low) - 1)
    snapped = np.where(even - low[i] < high[i] - even, low[i], high[i])
    heavy = high - low > 1.0 / bins
    edges = np.unique(np.r_[0.0, 1.0, snapped, low[heavy], high[heavy]])
    first = np.searchsorted(low, edges[:-1])  # each interval's values: first to last
    last = np.searchsorted(high, edges[1:]) + 1
    gaps = []
    for a, b in zip(first, last, strict=True):
        if b - a >= 3:
            step = np.diff(values[a:b])
            widest = int(step.argmax())
            if step[widest] > 0.5 * (values[b - 1] - values[a]):
                gaps.append(high[a + widest])
    return np.unique(np.r_[edges, gaps])


def interval_codes(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Each value's interval: the one holding the middle of its [F(v-), F(v)]."""
    ordered = np.sort(x)
    mid = (np.searchsorted(ordered, x, "left") + np.searchsorted(ordered, x, "right")) / 2
    return np.clip(np.searchsorted(edges, mid / len(x), side="right") - 1, 0, len(edges) - 2)


def knots(n: int, rare_threshold: int) -> np.ndarray:
    """Probabilities at which each continuous part keeps its quantiles: evenly spaced, plus
    knots every `rare_threshold` rows inside the outermost intervals, so the few extreme rows
    are not smeared evenly between the 99.9th percentile and the maximum (invented outliers that
    spoil correlations). No interval is narrower than `rare_threshold` rows.

    Example:
        >>> len(knots(100, 5)), len(knots(100_000, 5)) > 1001
        (100, True)
    """
    probs = np.linspace(0.0, 1.0, min(_KNOTS, max(n, 2)))
    step = max(rare_threshold, 1) / max(n, 1)
    tail = np.arange(step, probs[1], step)[:_TAIL_KNOTS]
    return np.unique(np.concatenate([probs, tail, 1 - tail]))


def search_sorted(values: np.ndarray, x: np.ndarray, side: str = "left") -> np.ndarray:
    """np.searchsorted(values, x, side) for ascending finite `values`, the same indices, found
    by look-up: cells _GUIDE_CELLS per knot, equal in width over the knots' range, each knowing
    how many knots lie below its start (at or below, with side "right"); a value steps past the
    knots of its cell below it (a few steps; a cell crowded with knots, and values outside the
    range, are searched). Many values against a thousand knots: a binary search costs a cache
    miss a level.

    Example:
        >>> knots = np.array([0.0, 1.0, 1.0, 1.0, 2.5, 7.0, 7.0, 10.0])
        >>> x = np.r_[np.linspace(-1, 11, 500), knots, np.nan, np.inf, -np.inf]
        >>> [bool((search_sorted(knots, x, s) == np.searchsorted(knots, x, s)).all())
        ...  for s in ("left", "right")]
        [True, True]
    """
    n = len(values)
    low, high = (values[0], values[-1]) if n else (0.0, 0.0)
    if n < 16 or len(x) < 4 * n or not high > low:
        return np.searchsorted(values, x, side=side)
    cells = _GUIDE_CELLS * n
    width = (high - low) / cells
    starts = low + width * np.arange(cells + 1)
    below = np.searchsorted(values, starts, side=side)  # knots below each cell's start
    inside = (x >= low) & (x < high)  # (False for NaN)
    cell = np.clip(((np.where(inside, x, low) - low) / width).astype(np.int64), 0, cells - 1)
    cell -= starts[cell] > x  # a division rounded onto a neighbouring cell
    cell += (starts[np.minimum(cell + 1, cells)] <= x) & (cell < cells - 1)
    at = below[cell]
    passed = np.less_equal if side == "right" else np.less  # a knot the value is past
    rows = np.flatnonzero(inside & (below[cell + 1] > at))  # cells holding knots
    for _ in range(_STEPS):
        if not len(rows):
            break
        rows = rows[passed(values[np.minimum(at[rows], n - 1)], x[rows])]
        at[rows] += 1
    if len(rows):  # a crowded cell: searched
        at[rows] = np.searchsorted(values, x[rows], side=side)
    outside = ~inside
    if outside.any():
        at[outside] = np.searchsorted(values, x[outside], side=side)
    return at


def level(values: np.ndarray, probs: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Where x lies on a part's distribution function, read off its quantile knots (`values`
    at levels `probs`): between two knots by interpolation, on a run of equal knots (a value
    many rows hold) its middle.

    Example:
        >>> level(np.array([0.0, 0.0, 0.0, 4.0]), np.array([0.0, 0.25, 0.5, 1.0]),
        ...        np.array([0.0, 2.0, 9.0])).tolist()
        [0.25, 0.75, 1.0]
    """
    a = search_sorted(values, x)
    last = len(values) - 1
    # searchsorted(side="right") without a second search: past the run of knots equal to x
    ends = np.r_[np.flatnonzero(values[1:] != values[:-1]), last]
    run_end = np.repeat(ends, np.diff(np.r_[-1, ends]))  # each knot's last equal knot
    top = np.minimum(a, last)
    b = np.where((a <= last) & (values[top] == x), run_end[top] + 1, a)
    lo, hi = np.clip(a - 1, 0, last), np.clip(a, 0, last)
    span = values[hi] - values[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(span > 0, (x - values[lo]) / span, 0.0)
    between = probs[lo] + np.clip(frac, 0.0, 1.0) * (probs[hi] - probs[lo])
    on = (probs[np.minimum(a, last)] + probs[np.clip(b - 1, 0, last)]) / 2
    return np.where(b > a, on, between)


def links(values: np.ndarray, scores: np.ndarray, categories: np.ndarray) -> list[Any]:
    """Per continuous part, the linear link that sets it from the numbers before it and the
    rows' categories (`categories`, one-hot), or None: a part that a fit on them explains to all
    but _LINK_LEFT of its variance, on the values themselves ("values": a total and its terms,
    least absolute deviations, so the exact terms of most rows win over a few odd ones) or on
    their normal scores ("scores", least squares: a diamond's size from its carats, its price
    from its carats, cut, colour and clarity), whichever leaves less. A link is [scale,
    intercept, a coefficient per earlier number, a coefficient per category]. A fit of fewer
    than `_LINK_ROWS` rows per coefficient is not tried: with many coefficients for its rows, a
    fit explains noise."""
    n, p = values.shape
    out: list[Any] = [None] * p
    for j in range(p):
        best = None
        width = 1 + j + categories.shape[1]
        if n < _LINK_ROWS * width:
            continue
        for scale, x in (("values", values), ("scores", scores)):
            target = x[:, j]
            if not target.std() > 0:
                continue
            centre, spread = x[:, :j].mean(axis=0), x[:, :j].std(axis=0)
            spread[spread == 0] = 1.0
            design = np.column_stack([np.ones(n), (x[:, :j] - centre) / spread, categories])
            weight = np.ones(n)
            for _ in range(_IRLS if scale == "values" else 1):
                coef = np.linalg.lstsq(design * weight[:, None], target * weight, rcond=None)[0]
                resid = target - design @ coef
                weight = 1 / np.sqrt(np.maximum(np.abs(resid), 1e-6 * target.std()))
            left = resid.var() / target.var()
            if left < _LINK_LEFT and (best is None or left < best[0]):
                numbers = coef[1 : j + 1] / spread
                link = [scale, float(coef[0] - centre @ numbers), numbers.tolist()]
                best = (left, [*link, coef[j + 1 :].tolist()])
        out[j] = None if best is None else best[1]
    return out


def correlations(scores: np.ndarray, comp: np.ndarray, k: int, prior_rows: float) -> np.ndarray:
    """Each component's correlation (k, p, p) of the numbers' normal scores within it (`scores`,
    (n, p), each row's place in its component `comp`'s distribution of each number): its rows'
    cross products plus `prior_rows` rows of the pooled correlation, so a component of few rows
    keeps what every component shares (a fare's tie to its distance) and a large one its own.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> z = rng.normal(size=(4000, 2)) @ np.array([[1.0, 0.8], [0.0, 0.6]])
        >>> r = correlations(z, np.zeros(4000, dtype=int), 1, 10.0)
        >>> bool(abs(r[0, 0, 1] - 0.8) < 0.05)
        True
    """
    p = scores.shape[1]
    pooled = _correlation(scores.T @ scores / max(len(scores), 1))
    out = np.empty((k, p, p))
    for c in range(k):
        z = scores[comp == c]
        out[c] = _correlation(z.T @ z + prior_rows * pooled)
    return out


def _correlation(cross: np.ndarray) -> np.ndarray:
    """A correlation matrix from cross products, a little ridge keeping it positive definite."""
    scale = np.sqrt(np.maximum(np.diag(cross), 1e-12))
    r = cross / np.outer(scale, scale)
    return (r + _RIDGE * np.eye(len(r))) / (1 + _RIDGE)


def correlated_uniforms(factors: np.ndarray, comp: np.ndarray, rng: np.random.Generator):
    """Uniforms (n, p), each row's correlated through its component's Cholesky factor
    (`factors`, (k, p, p)): the places in its component's distributions a row's numbers take.

    Example:
        >>> f = np.linalg.cholesky(np.array([[[1.0, 0.9], [0.9, 1.0]]]))
        >>> u = correlated_uniforms(f, np.zeros(5000, dtype=int), np.random.default_rng(0))
        >>> bool(np.corrcoef(u.T)[0, 1] > 0.85), bool(0.45 < u.mean() < 0.55)
        (True, True)
    """
    from scipy.special import ndtr

    n, p = len(comp), factors.shape[1]
    z = rng.standard_normal((n, p))
    k = len(factors)
    # few numbers, many components: each factor entry gathered per row (a choice by the model,
    # never by the rows drawn, whose sums it rounds otherwise: a slice repeats the whole's rows)
    if 4 * p * (p + 1) <= k:
        flat = factors.reshape(k, p * p)
        out = np.empty_like(z)
        for a in range(p):  # row a of a lower-triangular factor times the row's normals
            acc = flat[comp, a * p] * z[:, 0]
            for b in range(1, a + 1):
                acc += flat[comp, a * p + b] * z[:, b]
            out[:, a] = acc
        return ndtr(out)
    order = np.argsort(comp, kind="stable")
    bounds = np.searchsorted(comp[order], np.arange(k + 1))
    for c in np.flatnonzero(np.diff(bounds)):  # one product per component drawn
        rows = order[bounds[c] : bounds[c + 1]]
        z[rows] = z[rows] @ factors[c].T
    return ndtr(z)


def bounded_uniforms(
    correlations: np.ndarray,
    comp: np.ndarray,
    bounds: dict[int, tuple[np.ndarray, np.ndarray]],
    rng: np.random.Generator,
) -> np.ndarray:
    """Uniforms (n, p) as `correlated_uniforms` draws them, conditioned on each bounded one
    (`bounds`: column -> (low, high), each (n,)) lying within its bounds: the bounded ones by
    _GIBBS sweeps of their truncated normal conditionals (exact for one), the rest from their
    normal given those.

    Example:
        >>> r = np.array([[[1.0, 0.9], [0.9, 1.0]]])
        >>> n = 4000
        >>> u = bounded_uniforms(r, np.zeros(n, dtype=int), {0: (np.full(n, 0.9), np.ones(n))},
        ...                      np.random.default_rng(0))
        >>> bool(u[:, 0].min() >= 0.9), bool(u[:, 1].mean() > 0.8)
        (True, True)
    """
    from scipy.special import ndtr

    n, p = len(comp), correlations.shape[1]
    z = rng.standard_normal((n, p))
    held = sorted(bounds)
    free = [j for j in range(p) if j not in bounds]
    low = ndtri(np.clip(np.column_stack([bounds[j][0] for j in held]), 0.0, 1.0))
    high = ndtri(np.clip(np.column_stack([bounds[j][1] for j in held]), 0.0, 1.0))
    for c in np.unique(comp):
        rows = np.flatnonzero(comp == c)
        r = correlations[c]
        zb = z[np.ix_(rows, held)]
        for sweep in range(1 if len(held) == 1 else _GIBBS):
            for i, j in enumerate(held):
                others = [m for m in range(len(held)) if m != i]
                if sweep == 0:  # the first sweep conditions on the ones already drawn
                    others = others[:i]
                o = [held[m] for m in others]
                gain = np.linalg.solve(r[np.ix_(o, o)], r[o, j]) if o else np.zeros(0)
                mean = zb[:, others] @ gain
                sd = np.sqrt(max(1.0 - r[j, o] @ gain, 1e-12))
                a = ndtr((low[rows, i] - mean) / sd)
                b = ndtr((high[rows, i] - mean) / sd)
                draw = np.clip(a + rng.random(len(rows)) * (b - a), 1e-300, 1 - 1e-16)
                zb[:, i] = mean + sd * ndtri(draw)
        z[np.ix_(rows, held)] = zb
        if free:  # the free ones' normal given the bounded ones
            gain = np.linalg.solve(r[np.ix_(held, held)], r[np.ix_(held, free)])
            rest = r[np.ix_(free, free)] - r[np.ix_(free, held)] @ gain
            factor = np.linalg.cholesky(rest + 1e-12 * np.eye(len(free)))
            z[np.ix_(rows, free)] = zb @ gain + z[np.ix_(rows, free)] @ factor.T
    return ndtr(z)


def guide(probs: np.ndarray) -> np.ndarray:
    """For `interpolate`: the last knot of `probs` (ascending, 0 to 1) at or below the start of
    each of _GUIDE_CELLS x len(probs) equal cells of 0 to 1 (and at 1)."""
    cells = _GUIDE_CELLS * len(probs)
    return np.searchsorted(probs, np.arange(cells + 1) / cells, side="right") - 1


def interpolate(
    at: np.ndarray, probs: np.ndarray, values: np.ndarray, slopes: np.ndarray, cells: np.ndarray
) -> np.ndarray:
    """np.interp(at, probs, values), the same floats, with the knot found by look-up in the
    `guide` table `cells` instead of a search: a level whose cell holds no knot lies between its
    cell's knot and the next (`slopes`: np.diff(values) / np.diff(probs)); one in a cell that
    holds knots steps past those below it; a level outside [0, 1) is searched.

    Example:
        >>> probs, values = np.array([0.0, 0.1, 0.5, 1.0]), np.array([0.0, 1.0, 2.0, 10.0])
        >>> at = np.r_[np.random.default_rng(0).random(1000), probs, -0.5, 1.5, np.nan]
        >>> out = interpolate(at, probs, values, np.diff(values) / np.diff(probs), guide(probs))
        >>> bool(np.array_equal(out, np.interp(at, probs, values), equal_nan=True))
        True
    """
    n, last = len(cells) - 1, len(probs) - 1
    odd = (at >= 1.0) | (at < 0.0) | np.isnan(at)
    inside = np.where(odd, 0.0, at)
    cell = np.minimum((inside * n).astype(np.int64), n - 1)
    cell -= cell / n > inside  # at * n rounded up onto the next cell's start
    i = cells[cell]
    rows = np.flatnonzero(cells[cell + 1] != i)
    while len(rows):  # a cell holding knots: step past those at or below the level
        step = i[rows] + 1
        rows = rows[(step <= last) & (probs[np.minimum(step, last)] <= at[rows])]
        i[rows] += 1
    out = slopes[np.minimum(i, len(slopes) - 1)] * (at - probs[i]) + values[i]
    if odd.any():
        out[odd] = np.interp(at[odd], probs, values)
    return out
