"""Gaussian copula: each column's own marginal, joined through the correlation of normal scores.

Marginals are empirical: a continuous part keeps up to `knots` quantiles of its real values and
samples by interpolating between them (any shape: skew, several modes, point masses such as a
zero-heavy "capital-gain"), never a short list of parametric families. A discrete part (category
codes, booleans, null indicators) keeps its frequencies, and takes part in the dependence through
a randomised normal score inside its probability interval, so "null goes with other values"
and category-number links are learned with the rest.

Categories are placed on the normal scale in the order that best lines them up with the other
columns (by their mean score along the table's first principal direction), so that a Gaussian
dependence can carry associations such as education <-> education-num.

Example:
    >>> import pandas as pd, synthgen
    >>> m = synthgen.fit(pd.DataFrame({"a": [i % 37 * 1.5 for i in range(100)], "b": [i % 37 * 3.0 for i in range(100)]}), seed=0)
    >>> bool(m.sample(1000, seed=0).corr().iloc[0, 1] > 0.95)
    True
"""

from __future__ import annotations

import math
from functools import cache
from typing import TYPE_CHECKING, Any

import numpy as np

from synthgen.columns import Encoded
from synthgen.errors import ConditionError
from synthgen.models import checks
from synthgen.models.base import Synthesizer
from synthgen.models.strata import STRATUM_ROWS, Classes, by_params, by_part, copies_params

if TYPE_CHECKING:
    from synthgen.conditions import Constraints


# scipy is imported only where a fit or a condition needs it: sampling, the hot path of
# `synthgen sample`, starts without it (its import is a tenth of the command's start).
def ndtr(x):
    from scipy.special import ndtr as f

    return f(x)


def ndtri(x):
    from scipy.special import ndtri as f

    return f(x)


# The normal distribution function for sampling: linear interpolation in a table of 65,537
# values on [-9, 9] (error below 3e-9, faster than scipy's ndtr), built with math.erfc.
_PHI_LOW, _PHI_HIGH, _PHI_POINTS = -9.0, 9.0, 2**16 + 1


@cache
def _phi_table() -> tuple[np.ndarray, np.ndarray]:
    z = np.linspace(_PHI_LOW, _PHI_HIGH, _PHI_POINTS)
    table = np.array([0.5 * math.erfc(-v / math.sqrt(2)) for v in z])
    return table, np.diff(table)


def _phi(z: np.ndarray) -> np.ndarray:
    """The standard normal distribution function at z (a new array)."""
    table, slope = _phi_table()
    pos = np.subtract(z, _PHI_LOW, dtype=np.float64)
    pos *= (_PHI_POINTS - 1) / (_PHI_HIGH - _PHI_LOW)
    np.clip(pos, 0.0, _PHI_POINTS - 1.000001, out=pos)
    idx = pos.astype(np.int64)
    pos -= idx
    pos *= slope[idx]
    pos += table[idx]
    return pos


def _phi_inverse(p: np.ndarray) -> np.ndarray:
    """Normal quantiles of few probabilities, exactly (statistics.NormalDist), +-inf at 0 and 1."""
    from statistics import NormalDist

    unit = NormalDist()
    return np.array(
        [-math.inf if q <= 0 else math.inf if q >= 1 else unit.inv_cdf(q) for q in p.tolist()],
        dtype=float,
    )


_EPS = 1e-6
_EIGEN_FLOOR = 1e-2
# Draws that estimate a class copula's probability of conditions on several columns at once.
_MASS_DRAWS = 4_096


def _tie_ranks(
    x: np.ndarray, out_sorted: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """For each value of each column of `x` (rows, columns), the first and last 0-based rank of
    its run of equal values: numpy only, all columns at once (scipy.stats alone takes seconds
    to import). `out_sorted`: filled with the sorted columns (the fit's quantiles read them).

    Example:
        >>> [r[:, 0].tolist() for r in _tie_ranks(np.array([[5.0], [2.0], [2.0]]))]
        [[2, 0, 0], [2, 1, 1]]
    """
    n = len(x)
    order = np.argsort(x, axis=0, kind="stable")
    ordered = np.take_along_axis(x, order, axis=0)
    if out_sorted is not None:
        out_sorted[...] = ordered
    row = np.arange(n)[:, None]
    starts = np.ones(x.shape, dtype=bool)  # first of a run of equal values
    starts[1:] = ordered[1:] != ordered[:-1]
    ends = np.ones(x.shape, dtype=bool)  # last of a run
    ends[:-1] = starts[1:]
    first = np.maximum.accumulate(np.where(starts, row, 0), axis=0)
    last = np.minimum.accumulate(np.where(ends, row, n - 1)[::-1], axis=0)[::-1]
    out_first, out_last = np.empty_like(first), np.empty_like(last)
    np.put_along_axis(out_first, order, first, axis=0)
    np.put_along_axis(out_last, order, last, axis=0)
    return out_first, out_last


def _latent_factor(scores: np.ndarray, low: np.ndarray, high: np.ndarray) -> float:
    """corr(score, latent) for a score that knows the latent normal only through its interval
    [low, high] of probability (a category, a tied value).

    A category's score is drawn at random inside its interval, and tied values share one score,
    so their correlations with other columns understate the latent (Gaussian) one by this factor
    (a binary 50/50 column's by 0.64: E[Z | bin]^2 averaged); the fit divides it back out, as
    polyserial correlation does, so conditioning on a category moves the other columns as much
    as the real data do.
    """
    a, b = ndtri(low), ndtri(high)
    width = high - low
    density = np.exp(-0.5 * np.stack([a, b]) ** 2) / np.sqrt(2 * np.pi)
    means = np.where(width > 0, (density[0] - density[1]) / np.where(width > 0, width, 1), a)
    spread = scores.std()
    if spread == 0:
        return 1.0
    return float(np.clip(np.mean((scores - scores.mean()) * means) / spread, 1e-3, 1.0))


def _weighted_quantiles(values: np.ndarray, rows: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """The quantiles `_fit_encoded` takes of a sorted column, for a column given as distinct
    values and their rows: the same numbers, without the column.

    Example:
        >>> _weighted_quantiles(np.array([2.0, 1.0]), np.array([1, 3]), np.array([0, 0.5, 1]))
        array([1., 1., 2.])
    """
    order = np.argsort(values, kind="stable")
    values, ends = values[order], np.cumsum(rows[order])
    pos = probs * (ends[-1] - 1)
    low = np.floor(pos)
    high = np.minimum(low + 1, ends[-1] - 1)
    at_low = values[np.searchsorted(ends, low, side="right")]
    at_high = values[np.searchsorted(ends, high, side="right")]
    return at_low + (pos - low) * (at_high - at_low)


def _correlation(scores: np.ndarray) -> np.ndarray:
    """Correlation of the columns, as np.corrcoef gives it but without its copy of the
    (rows, d) array; 0 for a column without spread (one category, no nulls), whose NaN would
    otherwise come with a RuntimeWarning on the user's screen.

    Example:
        >>> x = np.random.default_rng(0).normal(size=(100, 3))
        >>> bool(np.allclose(_correlation(x), np.corrcoef(x, rowvar=False)))
        True
    """
    mean = scores.mean(axis=0)
    cov = scores.T @ scores / len(scores) - np.outer(mean, mean)
    var = np.diag(cov)
    # a constant column's variance comes out as rounding noise, not exactly 0
    spread = var > 1e-12 * np.maximum(1.0, mean**2)
    std = np.sqrt(np.where(spread, var, 1.0))
    corr = cov / np.outer(std, std)
    corr[~spread, :] = 0.0
    corr[:, ~spread] = 0.0
    return corr


def _nearest_correlation(corr: np.ndarray, floor: float = 1e-6) -> np.ndarray:
    """A valid (positive definite) correlation matrix close to `corr`."""
    corr = np.nan_to_num((corr + corr.T) / 2)
    np.fill_diagonal(corr, 1.0)
    vals, vecs = np.linalg.eigh(corr)
    fixed = (vecs * np.maximum(vals, floor)) @ vecs.T
    d = np.sqrt(np.diag(fixed))
    return fixed / np.outer(d, d)


class GaussianCopula(Synthesizer):
    """Gaussian copula with empirical marginals.

    Parameters:
        knots: quantiles kept per continuous column (more = closer to the real shape, and
            rarer outliers: the top knot interval holds 1/knots of the samples).
        rare_threshold: categories seen in fewer rows are never written verbatim.
        by: a categorical or boolean column whose classes each get a copula of their own
            (marginals and correlation fitted on that class's rows; classes of fewer than
            200 rows come from the whole table's copula, conditioned on them). For a column
            you will condition on (`where`, `balance`): its classes' rows then follow their
            own real distributions, which one Gaussian dependence can only approximate.
        allow_copies: keep drawn rows written as a training row no other training row repeats
            (default: drawn again, `synthgen.models.copy_guard`); for a table whose rows name
            no person (a grid of seasons, of countries' years), where drawing them again
            changes the table.
    """

    name = "gaussian-copula"
    guards_copies = True  # `synthgen.models.copy_guard`

    def __init__(
        self,
        *,
        knots: int = 10001,
        rare_threshold: int = 5,
        by: str | None = None,
        allow_copies: bool = False,
    ):
        super().__init__(
            rare_threshold=rare_threshold,
            knots=knots,
            **by_params(by),
            **copies_params(allow_copies),
        )
        self.knots = knots
        self.by = None if by is None else str(by)
        self.allow_copies = bool(allow_copies)

    def _fit_encoded(self, data: Encoded, rng: np.random.Generator) -> None:
        self.strata_: list[tuple[int, GaussianCopula]] = []
        by = self._by_part()  # checks the column before the (long) fit
        self._fit_arrays(data, rng)
        if by is None:
            return
        classes = Classes(data.discrete[:, by], self.cardinalities_[by])
        for code in classes.own:
            child = self._child()
            rows = classes.rows(code)
            subset = Encoded(data.continuous[rows], data.discrete[rows], len(rows))
            child._fit_arrays(subset, rng, self.orders_)
            self.strata_.append((int(code), child))

    def _by_part(self) -> int | None:
        cache = self.__dict__.setdefault("_cache", {})
        if "by" not in cache:
            cache["by"] = by_part(self, self.by)
        return cache["by"]

    def _child(self) -> GaussianCopula:
        """A copula for one class of `by`: the same encoder and category orders, its own arrays."""
        child = GaussianCopula(knots=self.knots, rare_threshold=self.rare_threshold)
        child.encoder_ = self.encoder_
        child.strata_ = []
        return child

    def _fit_arrays(
        self, data: Encoded, rng: np.random.Generator, orders: list[np.ndarray] | None = None
    ) -> None:
        """Marginals and correlation of `data`; categories placed in `orders` when given (a class
        of `by` keeps the whole table's, so its codes line up with the same columns)."""
        self.__dict__.pop("_cache", None)
        n = data.n_rows
        cont, disc = data.continuous, data.discrete
        probs = np.linspace(0.0, 1.0, min(self.knots, max(n, 2)))
        # linear-interpolated quantiles from one sort per column (np.quantile is slow for many probs)
        pos = probs * (n - 1)
        low = np.floor(pos).astype(np.int64)
        high = np.minimum(low + 1, n - 1)
        frac = pos - low
        self.quantiles_ = np.empty((cont.shape[1], len(probs)))
        p, q = cont.shape[1], disc.shape[1]
        d = p + q
        factor = np.empty(d)
        # one (rows, d) array of scores, filled column by column in place, each column ranked
        # alone (a big table's scores and rank arrays are the biggest things a fit holds); one
        # sort per column gives its quantiles, its normal scores and its latent factor
        scores = np.empty((n, p + q), order="F")
        ordered = np.empty((n, 1))
        for j in range(p):
            first, last = _tie_ranks(cont[:, j : j + 1], ordered)
            self.quantiles_[j] = ordered[low, 0] + frac * (ordered[high, 0] - ordered[low, 0])
            # tied values share their mid-rank's score, so two columns with many repeated values
            # (sizes rounded to 0.01) keep their dependence instead of diluting it
            scores[:, j] = ndtri(((first[:, 0] + last[:, 0]) / 2 + 1) / (n + 1))
            if d > 1:
                factor[j] = _latent_factor(scores[:, j], first[:, 0] / n, (last[:, 0] + 1) / n)
        self.probs_ = probs
        self.cardinalities_ = [int(c) for c in self._cardinalities(disc)]
        # First pass: frequency order; then re-order each column's codes along the principal axis.
        given = orders is not None
        if orders is None:
            orders = [
                np.argsort(-np.bincount(disc[:, j], minlength=k), kind="stable")
                for j, k in enumerate(self.cardinalities_)
            ]
        for j in range(q):
            scores[:, p + j] = self._discrete_scores(disc[:, j], orders[j], rng)
        if p + q > 1 and q and not given:
            axis = self._principal_axis(scores)
            for j, k in enumerate(self.cardinalities_):
                orders[j] = self._order_along(disc[:, j], k, axis)
                scores[:, p + j] = self._discrete_scores(disc[:, j], orders[j], rng)
        self.orders_ = orders
        self.cumulative_ = [self._cumulative(disc[:, j], orders[j]) for j in range(q)]
        if d > 1:
            for j in range(q):
                factor[p + j] = _latent_factor(scores[:, p + j], *self._code_bins(disc[:, j], j))
            corr = _correlation(scores) / np.outer(factor, factor)
            # a discrete part with one code (a class of `by` in its own copula) carries no
            # dependence: its random scores' chance correlations would be blown up above
            single = [p + j for j in range(q) if np.diff(self.cumulative_[j]).max() >= 1.0]
            corr[single, :] = 0.0
            corr[:, single] = 0.0
            np.fill_diagonal(corr, 1.0)
            # The corrected correlations can overshoot (two heavily tied columns); a floor on the
            # eigenvalues keeps every column's variance given all the others above ~1%, so no
            # column is a near-exact linear function of the rest (which would freeze the Gibbs
            # steps of conditional sampling and claim a determinism the data do not show).
            self.correlation_ = _nearest_correlation(np.clip(corr, -0.999, 0.999), _EIGEN_FLOOR)
        else:
            self.correlation_ = np.eye(d)

    def _set_marginals(self, marginals: list[tuple[np.ndarray, np.ndarray] | None]) -> bool:
        """Replace the sample's marginals by the whole table's where known: the correlation of
        normal scores stays the sample's (a consistent estimate of the copula), the marginals
        become exact (the copula's two-step fit: margins and dependence apart)."""
        self.__dict__.pop("_cache", None)
        parts = self.encoder_.parts
        cont = [m for p, m in zip(parts, marginals) if p.continuous]
        disc = [m for p, m in zip(parts, marginals) if not p.continuous]
        rows = max((float(m[1].sum()) for m in marginals if m is not None), default=0.0)
        probs = np.linspace(0.0, 1.0, int(min(self.knots, max(rows, 2))))
        if len(probs) > len(self.probs_):  # the sample had fewer rows than knots: add knots
            self.quantiles_ = np.array([np.interp(probs, self.probs_, q) for q in self.quantiles_])
            self.quantiles_ = self.quantiles_.reshape(len(cont), len(probs))
            self.probs_ = probs
        for j, known in enumerate(cont):
            if known is not None and len(known[0]):
                self.quantiles_[j] = _weighted_quantiles(*known, self.probs_)
        for j, known in enumerate(disc):
            if known is not None:
                codes, rows = known
                counts = np.bincount(codes, weights=rows, minlength=len(self.orders_[j]))
                ordered = counts[self.orders_[j]]
                self.cumulative_[j] = np.concatenate([[0.0], np.cumsum(ordered) / ordered.sum()])
        return True

    def _code_bins(self, codes: np.ndarray, j: int) -> tuple[np.ndarray, np.ndarray]:
        position = np.empty(len(self.orders_[j]), dtype=np.int64)
        position[self.orders_[j]] = np.arange(len(position))
        pos = position[codes]
        return self.cumulative_[j][pos], self.cumulative_[j][pos + 1]

    def _cardinalities(self, disc: np.ndarray) -> list[int]:
        return [p.cardinality for p in self.encoder_.discrete_parts]

    @staticmethod
    def _principal_axis(scores: np.ndarray) -> np.ndarray:
        """Each row's position along the first principal direction of the normal scores."""
        corr = _correlation(scores)
        _, vecs = np.linalg.eigh(corr)
        return scores @ vecs[:, -1]

    @staticmethod
    def _order_along(codes: np.ndarray, k: int, axis: np.ndarray) -> np.ndarray:
        counts = np.bincount(codes, minlength=k)
        sums = np.bincount(codes, weights=axis, minlength=k)
        means = np.where(counts > 0, sums / np.maximum(counts, 1), np.inf)
        return np.argsort(means, kind="stable")

    @staticmethod
    def _cumulative(codes: np.ndarray, order: np.ndarray) -> np.ndarray:
        counts = np.bincount(codes, minlength=len(order))[order].astype(float)
        return np.concatenate([[0.0], np.cumsum(counts) / counts.sum()])

    def _discrete_scores(
        self, codes: np.ndarray, order: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        cum = self._cumulative(codes, order)
        position = np.empty(len(order), dtype=np.int64)
        position[order] = np.arange(len(order))
        pos = position[codes]
        u = cum[pos] + rng.random(len(codes)) * (cum[pos + 1] - cum[pos])
        return ndtri(np.clip(u, _EPS, 1 - _EPS))

    def _sample_encoded(self, n: int, rng: np.random.Generator) -> Encoded:
        if self.strata_:
            return self._sample_strata(n, None, rng)
        return self._sample_plain(n, rng)

    def _sample_plain(self, n: int, rng: np.random.Generator) -> Encoded:
        # One row of normals per dimension, so each part's values are contiguous in memory.
        # Single precision for the draws and their correlation (24 bits are plenty for a normal
        # score, and this is 40% of the model's sampling time less); the scores are mapped to
        # values in double precision.
        d = self.correlation_.shape[0]
        z = self._cholesky(np.float32) @ rng.standard_normal((d, n), dtype=np.float32)
        return self._from_score_rows(z)

    def _from_scores(self, z: np.ndarray) -> Encoded:
        """The encoded rows for normal scores z (rows, dimensions)."""
        return self._from_score_rows(np.ascontiguousarray(z.T))

    def _from_score_rows(self, z: np.ndarray) -> Encoded:
        """The encoded rows for normal scores given dimension by dimension (d, rows)."""
        p = self.quantiles_.shape[0]
        d, n = z.shape
        cont = np.empty((p, n))
        for j in range(p):
            cont[j] = self._inverse_quantile(j, z[j])
        disc = np.empty((d - p, n), dtype=np.int64)
        for j in range(d - p):
            disc[j] = self._inverse_discrete(j, z[p + j])
        return Encoded(cont.T, disc.T, n)

    def _sample_conditional(
        self, n: int, constraints: Constraints, rng: np.random.Generator
    ) -> Encoded:
        if self.strata_:
            return self._sample_strata(n, constraints, rng)
        return self._conditional_plain(n, constraints, rng)

    # ---- classes of `by`: a mixture of copulas --------------------------------------------
    def _code_probs(self, j: int) -> np.ndarray:
        """Each code of discrete part j's probability, by code (the cumulative is by position)."""
        probs = np.zeros(self.cardinalities_[j])
        probs[self.orders_[j]] = np.diff(self.cumulative_[j])
        return probs

    def _sample_strata(
        self, n: int, constraints: Constraints | None, rng: np.random.Generator
    ) -> Encoded:
        """Rows of the mixture: each row's class of `by` drawn from its probability given the
        row's conditions (the class's share times the probability its copula gives the other
        conditions), then the row drawn from that class's copula (exactly conditioned by it);
        rows of the classes too rare for a copula of their own come from the whole table's
        copula conditioned on them."""
        from synthgen.conditions import Constraints, scatter

        by = self._by_part()
        constraints = constraints if constraints is not None else Constraints()
        rows = constraints.n_rows
        weights = np.tile(self._code_probs(by), (rows, 1))  # (rows, codes)
        if by in constraints.allowed:
            weights *= constraints.allowed[by]
        others = Constraints(
            dict(constraints.intervals),
            {j: m for j, m in constraints.allowed.items() if j != by},
            constraints.ranges,
            constraints.label,
        )
        own = np.zeros(len(weights[0]), dtype=bool)  # the codes with a copula of their own
        own[[code for code, _ in self.strata_]] = True
        live = weights.any(axis=0)
        # the other conditions weigh the classes only where more than one class is left
        if not others.empty and (live & own).sum() + (live & ~own).any() > 1:
            # a class whose values never reach a given value weighs nothing, unless no class
            # reaches it: then each class weighs the mass of its edge (extrapolation)
            reach = np.ones_like(weights, dtype=bool)
            for code, child in self.strata_:
                if live[code]:
                    weights[:, code] *= child._mass(others, rng)
                    reach[:, code] = child._reaches(others)
            if (live & ~own).any():
                rare = Constraints(allowed={by: ~own[None, :]}, ranges=constraints.ranges)
                weights[:, ~own] *= self._mass(others, rng, rare)[:, None]
                reach[:, ~own] = self._reaches(others)[:, None]
            reached = (weights * reach).sum(axis=1) > 0
            weights = np.where(reached[:, None], weights * reach, weights)
        total = weights.sum(axis=1)
        if not (total > 0).all():
            raise ConditionError(
                f"{constraints.label or 'the condition'}: the model never produces it "
                "(probability 0 in training)"
            )
        which = np.zeros(n, dtype=np.int64) if rows == 1 else np.arange(n)
        cum = np.cumsum(weights[which], axis=1)
        codes = np.minimum((cum < rng.random(n)[:, None] * cum[:, -1:]).sum(axis=1), len(own) - 1)
        parts = []
        for code, child in self.strata_:
            idx = np.flatnonzero(codes == code)
            if idx.size:
                parts.append((idx, child._draw(len(idx), others.take(which[idx]), rng)))
        idx = np.flatnonzero(~own[codes])
        if idx.size:  # the rare classes: the whole table's copula, conditioned on them
            rest = constraints.take(which[idx])
            mask = np.broadcast_to(~own, (rest.n_rows, len(own)))
            if by in rest.allowed:
                mask = mask & rest.allowed[by]
            rest.allowed[by] = mask
            parts.append((idx, self._conditional_plain(len(idx), rest, rng)))
        return scatter(parts, n)

    def _draw(self, n: int, constraints: Constraints, rng: np.random.Generator) -> Encoded:
        if constraints.empty:
            return self._sample_plain(n, rng)
        return self._conditional_plain(n, constraints, rng)

    def _mass(
        self, constraints: Constraints, rng: np.random.Generator, among: Constraints | None = None
    ) -> np.ndarray:
        """The probability this copula gives each row's conditions (points widened as for
        rejection): exact for conditions on one part; for a shared condition on several parts,
        or one `among` the rows meeting other constraints (the rare classes of `by`), the share
        of 4,096 draws meeting it; for rows to fill, the product of the parts' own
        probabilities."""
        wide = constraints.widened()
        if among is not None and wide.shared and not among.empty:
            by = self._by_part()
            if not (among.allowed[by] @ self._code_probs(by) > 0).all():
                return np.zeros(1)  # the rare classes have no rows
            draws = self._conditional_plain(_MASS_DRAWS, among, rng)
            return np.array([max(float(wide.matches(draws).mean()), 0.5 / _MASS_DRAWS)])
        mass = np.ones(wide.n_rows)
        for j, (lo, hi) in wide.intervals.items():
            u_lo, u_hi = self._u_interval(j, lo, hi)
            mass *= np.maximum(u_hi - u_lo, 0.0)
        for j, allowed in wide.allowed.items():
            mass *= allowed.astype(float) @ self._code_probs(j)
        parts = len(wide.intervals) + len(wide.allowed)
        if parts > 1 and wide.shared and mass[0] > 0:
            draws = self._sample_plain(_MASS_DRAWS, rng)
            mass[:] = max(float(wide.matches(draws).mean()), 0.5 / _MASS_DRAWS)
        return mass

    def _reaches(self, constraints: Constraints) -> np.ndarray:
        """Whether each row's ranges all meet the fitted values (points widened as for
        rejection); `_mass` gives a range beyond them the mass of the edge's knot interval,
        which conditional sampling reaches by extrapolation."""
        wide = constraints.widened()
        reach = np.ones(wide.n_rows, dtype=bool)
        for j, (lo, hi) in wide.intervals.items():
            q = self.quantiles_[j]
            reach &= (hi >= q[0]) & (lo <= q[-1])
        return reach

    def _conditional_plain(
        self, n: int, constraints: Constraints, rng: np.random.Generator
    ) -> Encoded:
        """Exact conditional sampling: every condition is a set of normal scores (a category its
        probability interval, `in` a union of them, a range of values the scores that map into
        it, a given value a point); the conditioned scores are drawn from their truncated joint
        normal and the others from the Gaussian conditional on them (see models.gaussian)."""
        p = self.quantiles_.shape[0]
        dims, lows, highs = [], [], []
        for j, (lo, hi) in constraints.intervals.items():
            u_lo, u_hi = self._u_interval(j, lo, hi)
            dims.append(j)
            lows.append(ndtri(u_lo)[:, None])
            highs.append(ndtri(u_hi)[:, None])
        for j, allowed in constraints.allowed.items():
            u_lo, u_hi = self._code_pieces(j, allowed)
            if not (np.nansum(u_hi - u_lo, axis=1) > 0).all():
                raise ConditionError(
                    f"{constraints.label or 'the condition'}: the model never produces it "
                    "(probability 0 in training)"
                )
            dims.append(p + j)
            lows.append(ndtri(u_lo))
            highs.append(ndtri(u_hi))
        # a bound at the edge of the real range is an infinite score: keep the piece reachable
        from synthgen.models.gaussian import Z_MAX, regression, truncated_mvn

        lows = [np.minimum(x, Z_MAX) for x in lows]
        highs = [np.maximum(x, -Z_MAX) for x in highs]
        corr = self.correlation_
        # scores dimension by dimension (d, rows), as the unconditional sampler makes them
        z = np.empty((corr.shape[0], n))
        given = truncated_mvn(corr[np.ix_(dims, dims)], lows, highs, n, rng).T
        z[dims] = given
        rest = [i for i in range(corr.shape[0]) if i not in dims]
        if rest:
            coef, residual = regression(corr, dims, rest)
            chol = np.linalg.cholesky(residual + 1e-9 * np.eye(len(rest)))
            z[rest] = coef.T @ given + chol @ rng.standard_normal((len(rest), n))
        encoded = constraints.clip(self._from_score_rows(z))
        for j, allowed in constraints.allowed.items():
            encoded.discrete[:, j] = self._snap(j, encoded.discrete[:, j], allowed)
        return encoded

    def _u_interval(self, j: int, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The probabilities u whose quantile Q(u) lies in [lo, hi] (Q is piecewise linear
        between knots evenly spaced in u)."""
        q = self.quantiles_[j]
        steps = len(q) - 1
        with np.errstate(invalid="ignore", divide="ignore"):
            i = np.searchsorted(q, lo, side="left")  # first knot >= lo
            left, right = np.clip(i - 1, 0, steps), np.clip(i, 0, steps)
            frac = np.nan_to_num((lo - q[left]) / (q[right] - q[left]))
            u_lo = np.where(i == 0, 0.0, np.where(i > steps, 1.0, (left + frac) / steps))
            k = np.searchsorted(q, hi, side="right") - 1  # last knot <= hi
            left, right = np.clip(k, 0, steps), np.clip(k + 1, 0, steps)
            frac = np.nan_to_num((hi - q[left]) / (q[right] - q[left]))
            u_hi = np.where(k < 0, 0.0, np.where(k >= steps, 1.0, (left + frac) / steps))
        u_lo, u_hi = np.clip(u_lo, 0.0, 1.0), np.clip(np.maximum(u_hi, u_lo), 0.0, 1.0)
        # a point at an end of the range (an edge value, or one extrapolated to it) means the
        # last knot interval: the most extreme real rows, not an infinitely far normal score
        u_lo = np.where(u_lo >= 1.0, 1.0 - 1.0 / steps, u_lo)
        u_hi = np.where(u_hi <= 0.0, 1.0 / steps, u_hi)
        return u_lo, u_hi

    def _code_pieces(self, j: int, allowed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The allowed codes as probability intervals: runs of neighbouring positions on the
        normal scale merged; (rows, runs) arrays, NaN where a row has fewer runs."""
        order, cum = self.orders_[j], self.cumulative_[j]
        on = allowed[:, order]
        off = np.zeros((len(on), 1), dtype=bool)
        starts = on & ~np.hstack([off, on[:, :-1]])
        ends = on & ~np.hstack([on[:, 1:], off])
        row, first = np.nonzero(starts)
        _, last = np.nonzero(ends)
        rank = np.arange(len(row)) - np.searchsorted(row, row)
        width = int(rank.max()) + 1 if len(rank) else 1
        u_lo = np.full((len(on), width), np.nan)
        u_hi = np.full((len(on), width), np.nan)
        u_lo[row, rank] = cum[first]
        u_hi[row, rank] = cum[last + 1]
        return u_lo, u_hi

    def _snap(self, j: int, codes: np.ndarray, allowed: np.ndarray) -> np.ndarray:
        """Codes moved to the nearest allowed position where a score fell on an interval's edge
        (floating point), so every row meets its condition."""
        rows = np.zeros(len(codes), dtype=np.int64) if len(allowed) == 1 else np.arange(len(codes))
        bad = np.flatnonzero(~allowed[rows, codes])
        if not bad.size:
            return codes
        order = self.orders_[j]
        position = np.empty(len(order), dtype=np.int64)
        position[order] = np.arange(len(order))
        ok = allowed[rows[bad]][:, order] & (np.diff(self.cumulative_[j]) > 0)
        dist = np.abs(np.arange(len(order))[None, :] - position[codes[bad]][:, None])
        codes = codes.copy()
        codes[bad] = order[np.argmin(np.where(ok, dist, np.iinfo(np.int64).max), axis=1)]
        return codes

    def _cholesky(self, dtype: type = np.float64) -> np.ndarray:
        cache = self.__dict__.setdefault("_cache", {})
        if "chol" not in cache:
            d = self.correlation_.shape[0]
            cache["chol"] = np.linalg.cholesky(self.correlation_) if d else np.zeros((0, 0))
        if ("chol", dtype) not in cache:
            cache[("chol", dtype)] = cache["chol"].astype(dtype)
        return cache[("chol", dtype)]

    def _inverse_quantile(self, j: int, z: np.ndarray) -> np.ndarray:
        """Interpolate column j's quantile function at ndtr(z) (knots are evenly spaced in
        probability, so the knot index is arithmetic, not a search)."""
        q = self.quantiles_[j]
        steps = len(q) - 1
        if steps == 0:
            return np.full(len(z), q[0])
        slopes = self._slopes(j)
        pos = _phi(z)
        pos *= steps
        idx = pos.astype(np.int64)
        np.minimum(idx, steps - 1, out=idx)
        pos -= idx
        pos *= slopes[idx]
        pos += q[idx]
        return pos

    def _slopes(self, j: int) -> np.ndarray:
        cache = self.__dict__.setdefault("_cache", {})
        if ("slopes", j) not in cache:
            cache[("slopes", j)] = np.diff(self.quantiles_[j])
        return cache[("slopes", j)]

    # The normal scale from -_ZMAX to _ZMAX cut into _CELLS equal cells: a cell that no
    # category boundary crosses gives its code by lookup; only the rare draws in a crossed cell
    # need a search.
    _ZMAX = 8.5
    _CELLS = 1 << 14

    def _inverse_discrete(self, j: int, z: np.ndarray) -> np.ndarray:
        """Codes whose probability interval holds ndtr(z), found on the normal scale (the
        interval boundaries are normal quantiles), so a discrete part needs no ndtr."""
        table, cut, bounds = self._lookup(j)
        scale = self._CELLS / (2 * self._ZMAX)
        cell = ((z + self._ZMAX) * scale).astype(np.int64)
        np.clip(cell, 0, self._CELLS - 1, out=cell)
        codes = table[cell]
        exact = cut[cell]
        if exact.any():
            codes[exact] = self.orders_[j][np.searchsorted(bounds, z[exact], side="right")]
        return codes

    def _lookup(self, j: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        cache = self.__dict__.setdefault("_cache", {})
        if ("lookup", j) not in cache:
            # position k holds the draws with bounds[k-1] <= z < bounds[k]
            bounds = _phi_inverse(np.asarray(self.cumulative_[j][1:-1], dtype=float))
            edges = -self._ZMAX + np.arange(self._CELLS + 1) * (2 * self._ZMAX / self._CELLS)
            edges[0], edges[-1] = -np.inf, np.inf
            # a bound within rounding distance of a cell's edge marks the cell as crossed
            first = np.searchsorted(bounds, edges[:-1] - 1e-9, side="right")
            last = np.searchsorted(bounds, edges[1:] + 1e-9, side="left")
            cache[("lookup", j)] = (self.orders_[j][first], first != last, bounds)
        return cache[("lookup", j)]

    def _get_state(self) -> dict[str, Any]:
        state = self._arrays()
        state["orders"] = [o.astype(np.int64) for o in self.orders_]
        state["cardinalities"] = self.cardinalities_
        if self.strata_:
            state["strata"] = [{"code": code, **child._arrays()} for code, child in self.strata_]
        return state

    def _arrays(self) -> dict[str, Any]:
        return {
            "probs": self.probs_,
            "quantiles": self.quantiles_,
            "correlation": self.correlation_,
            "cumulative": self.cumulative_,
        }

    def _set_state(self, state: dict[str, Any]) -> None:
        self._set_arrays(state)
        self.strata_ = []
        strata = state.get("strata", [])
        if strata and self._by_part() is None:
            raise ValueError("copula classes without a by column")
        for entry in strata:
            code = int(entry["code"])
            if not 0 <= code < self.cardinalities_[self._by_part()]:
                raise ValueError(f"copula class code {code} out of range")
            child = self._child()
            child._set_arrays(
                {**entry, "orders": self.orders_, "cardinalities": self.cardinalities_}
            )
            if child.quantiles_.shape != (self.quantiles_.shape[0], len(child.probs_)) or [
                len(c) for c in child.cumulative_
            ] != [len(c) for c in self.cumulative_]:
                raise ValueError("a class's copula and the whole table's disagree in size")
            self.strata_.append((code, child))

    def _set_arrays(self, state: dict[str, Any]) -> None:
        self.__dict__.pop("_cache", None)
        self.probs_ = np.asarray(state["probs"], dtype=float)
        self.quantiles_ = np.asarray(state["quantiles"], dtype=float).reshape(-1, len(self.probs_))
        self.correlation_ = np.asarray(state["correlation"], dtype=float)
        self.orders_ = [np.asarray(o, dtype=np.int64) for o in state["orders"]]
        self.cumulative_ = [np.asarray(c, dtype=float) for c in state["cumulative"]]
        self.cardinalities_ = list(state["cardinalities"])
        p, d = self.quantiles_.shape[0], self.correlation_.shape[0]
        if self.correlation_.shape != (d, d) or len(self.orders_) != d - p:
            raise ValueError("copula arrays disagree in size")
        if p + len(self.orders_) != len(self.encoder_.parts):
            raise ValueError("copula and schema disagree on the number of columns")
        if self.cardinalities_ != [q.cardinality for q in self.encoder_.discrete_parts]:
            raise ValueError("copula and schema disagree on the categories")
        checks.ascending("copula: the quantile levels", self.probs_, 0.0, 1.0)
        checks.ascending("copula: the quantiles", self.quantiles_)
        checks.correlation("copula: the correlation", self.correlation_)
        for j, (order, cum, k) in enumerate(
            zip(self.orders_, self.cumulative_, self.cardinalities_, strict=True)
        ):
            checks.permutation(f"copula: the category order of part {j}", order, k)
            checks.cumulative(f"copula: the category shares of part {j}", cum, k + 1)

    def describe(self) -> dict[str, Any]:
        parts = self.encoder_.parts
        names = [q.name for q in parts if q.continuous] + [
            q.name for q in parts if not q.continuous
        ]
        corr = self.correlation_.copy()
        np.fill_diagonal(corr, 0)
        pairs = []
        if corr.size:
            flat = np.argsort(-np.abs(corr), axis=None)[:10]
            for idx in flat[::2]:
                i, j = np.unravel_index(idx, corr.shape)
                pairs.append(
                    {
                        "a": names[i].replace("\x1f", " "),
                        "b": names[j].replace("\x1f", " "),
                        "correlation": round(float(corr[i, j]), 3),
                    }
                )
        out: dict[str, Any] = {"dimensions": int(corr.shape[0]), "strongest_dependences": pairs}
        if self.strata_:
            from synthgen.conditions import targets

            target = targets(self.encoder_)[self.by]
            names = {i: str(v) for i, v in enumerate(target.classes())}
            names[target.null_code] = "(missing)"
            names[target.rare_code] = "(rare categories)"
            out["copula_per_class"] = {
                "column": self.by,
                "classes": [names.get(c, str(c)) for c, _ in self.strata_],
                "others": f"classes of fewer than {STRATUM_ROWS} rows: the whole table's copula",
            }
        return out
