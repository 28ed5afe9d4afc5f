"""Mixture model for mixed-type tables: clusters of rows, each with its own numbers and codes.

A latent class model (a shallow probabilistic circuit): each component k has a weight and, for
every part of the table, its own distribution; the discrete parts are independent *within* a
component, so their dependence (number-category, category-category) is carried by which
component a row comes from. A discrete part (category codes, booleans, null indicators) has a
categorical distribution per component. A continuous part is cut into at most `bins` intervals of
the column's distribution (near-equal shares of rows; a value never split between two intervals;
a value held by more rows than one interval's share, the zeros of capital-gain, an interval of its
own), and each component has a categorical distribution over the intervals; within an interval a
value is drawn from the column's own distribution there (its quantiles, kept within the values
the interval held). So spikes, integers and bounds come out as they went in, the marginals are the
real ones whatever k is, and every part is a set of codes: EM is two sparse matrix products per
pass (log-space responsibilities, one-hot counts), written in numpy.

The numbers of a component are tied by a Gaussian copula of their own (state version 3): each
training row's place in its component's distribution of each number (drawn component, interval,
place within it) gives normal scores, whose correlation per component is its rows' plus
_COPULA_ROWS rows of the pooled one; a drawn row's numbers take correlated places. A fare and its
distance, or a tumour's radius and area, stay tied inside a component instead of each drawn
alone (field C2ST, seed 0: scikit-learn's breast cancer table 0.29 to 0.78, taxis 0.47 to 0.52;
docs/benchmarks.md).

A number that the numbers before it and the categories set almost entirely (a fit leaves less
than a tenth of its variance: a total and its terms, on the values; a diamond's sizes and price
from its carats, cut, colour and clarity, on normal scores) is *linked*: the mixture models its
residual, and a drawn row sets it from the drawn terms plus that residual, mapped onto the
column's distribution. A number's tie to a category within a component stays out of reach
otherwise.

Why this and not a few full-covariance Gaussians (this model before state version 2): Gaussians
over numbers hold neither the interactions of categories nor a spike; many cheap components do.
Under the field's protocol (`python -m benchmarks --protocol field`) C2ST rose on every shared
table: the figures before and after are in docs/benchmarks.md.

The number of components is chosen from a geometric grid up to `max_components` by the
log-likelihood of held-out rows (the smallest k within one standard error of the best), but
never fewer than one per `component_rows` rows: the held-out likelihood stops early, where a
classifier still tells the samples from real rows. Candidates are fitted on a bounded sample of
rows and the winner is refined by EM passes over every row; `components` fixes k. Each
component's codes are shrunk towards the overall frequencies by one pseudo-row, so a rare
category is never a component's certainty; EM starts from greedy k-means++ seeds.

Example:
    >>> import numpy as np, pandas as pd, synthgen
    >>> rng = np.random.default_rng(0)
    >>> table = pd.DataFrame({"x": np.r_[rng.normal(0, 1, 200), rng.normal(50, 1, 200)],
    ...                       "c": ["a"] * 200 + ["b"] * 200})
    >>> model = synthgen.fit(table, model="gmm", seed=0, components=2)
    >>> out = model.sample(1000, seed=1)
    >>> bool((out.loc[out["c"] == "b", "x"] > 25).mean() > 0.95)
    True
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import sparse
from scipy.special import ndtri

from synthgen.columns import Encoded, TableEncoder
from synthgen.columns.base import NULL_SUFFIX
from synthgen.errors import UsageError
from synthgen.models import checks
from synthgen.models.base import Synthesizer
from synthgen.models.gmm_em import (
    _MIN_ROWS,
    _candidates,
    _e_step,
    _em,
    _embedding,
    _initial,
    _Mixture,
    _one_hot,
    _posterior,
    _smallest_as_good,
)
from synthgen.models.gmm_numbers import (
    bounded_uniforms,
    correlated_uniforms,
    correlations,
    guide,
    interpolate,
    interval_codes,
    interval_edges,
    knots,
    level,
    links,
    search_sorted,
)
from synthgen.models.strata import Classes, by_params, by_part, copies_params

if TYPE_CHECKING:
    from synthgen.conditions import Constraints

STATE_VERSION = 3  # 2: numbers independent within a component; 1 (no version): Gaussian
_COMPARE_CODES = 40  # parts with fewer codes draw by comparisons (intervals too), larger by search
_GUIDE_PER_CODE = 4  # a number's intervals are drawn by look-up in cells this many per code
_SELECT_ROWS = 20_000  # rows each candidate k is fitted on
_HELDOUT_ROWS = 8_000  # the most rows each candidate is judged on
_FULL_PASSES = 20  # the most EM iterations on every row, after k is chosen on a sample
_LINK_CODES = 32  # discrete parts with at most this many codes are a link's predictors
_CALIBRATION_ROWS = 20_000  # the fewest rows drawn at fit time for the distribution of a sum
_COPULA_ROWS = 5.0  # pseudo-rows of the pooled correlation in each component's correlation


def _codes_at(cuts: np.ndarray, comp: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Each row's code: how many of its component's cut points (`cuts`, (k, codes - 1), each
    row a cumulative distribution without its final 1) lie below its uniform draw `u`."""
    k, m = cuts.shape
    if m <= _COMPARE_CODES:  # count the cut points below u (as bytes: a bool sum is slow)
        return (cuts[comp] < u[:, None]).view(np.uint8).sum(axis=1, dtype=np.int64)
    # one binary search over every component's cut points, shifted by k
    flat = (cuts + np.arange(k)[:, None]).ravel()
    return np.clip(np.searchsorted(flat, comp + u, side="right") - comp * m, 0, m)


def _code_guide(cuts: np.ndarray) -> np.ndarray:
    """For `_codes_guided`: per component (row of `cuts`), how many of its cut points lie below
    the start of each of _GUIDE_PER_CODE x (codes) equal cells of 0 to 1, and below 1."""
    k, m = cuts.shape
    grid = np.arange(_GUIDE_PER_CODE * (m + 1) + 1) / (_GUIDE_PER_CODE * (m + 1))
    return np.array([np.searchsorted(row, grid, side="left") for row in cuts], dtype=np.int64)


def _codes_guided(
    cuts: np.ndarray, guide: np.ndarray, comp: np.ndarray, u: np.ndarray
) -> np.ndarray:
    """`_codes_at(cuts, comp, u)`, the same codes, read off the component's `guide`
    (`_code_guide`): a row starts at the codes below its cell and steps past the few cut points
    between the cell's start and `u` (a look-up and a step or two where counting every cut point
    compares each row with all of them; `gmm_numbers.search_sorted` is the same for one
    distribution).

    Example:
        >>> cuts = np.array([[0.2, 0.5, 0.5, 0.9], [0.0, 0.0, 0.1, 0.99]])
        >>> u, comp = np.random.default_rng(0).random(1000), np.arange(1000) % 2
        >>> bool((_codes_guided(cuts, _code_guide(cuts), comp, u) == _codes_at(cuts, comp, u)).all())
        True
    """
    k, m = cuts.shape
    cells = guide.shape[1] - 1
    cell = np.clip((u * cells).astype(np.int64), 0, cells - 1)  # (a NaN draw reads as 0)
    cell -= cell / cells > u  # u * cells rounded up onto the next cell's start
    at = comp * (cells + 1) + cell
    code = guide.ravel()[at]
    flat = cuts.ravel()
    rows = np.flatnonzero(guide.ravel()[at + 1] != code)  # a cell holding cut points
    while len(rows):  # rows whose next cut point is still below their draw step past it
        c = code[rows]
        inside = c < m
        rows, c = rows[inside], c[inside]
        rows = rows[flat[comp[rows] * m + c] < u[rows]]
        code[rows] += 1
    return code


def _bounds_of(cuts: np.ndarray) -> np.ndarray:
    """Where each component's codes start and end on its cumulative distribution (k, codes +
    1), from `cuts` as `_codes_at` reads them."""
    return np.pad(cuts, ((0, 0), (1, 1)), constant_values=(0.0, 1.0))


def _alias(probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Walker's alias tables of each row of `probs` (k, m): code j is kept when a uniform
    falls below threshold[c, j], else alias[c, j] is drawn, so a draw costs one look-up
    whatever m. Built for every row at once, pairing its least and largest open codes.

    Example:
        >>> threshold, alias = _alias(np.array([[0.5, 0.25, 0.25]]))
        >>> u = np.random.default_rng(0).random(40_000)
        >>> codes = _alias_draw(threshold, alias, np.zeros(40_000, dtype=int), u)
        >>> np.bincount(codes).round(-3).tolist()
        [20000, 10000, 10000]
    """
    k, m = probs.shape
    scaled = probs / probs.sum(axis=1, keepdims=True) * m
    threshold, alias = np.ones((k, m)), np.tile(np.arange(m), (k, 1))
    rows, open_ = np.arange(k), np.ones((k, m), dtype=bool)
    for _ in range(m - 1):
        small = np.where(open_, scaled, np.inf).argmin(axis=1)
        open_[rows, small] = False
        large = np.where(open_, scaled, -np.inf).argmax(axis=1)
        threshold[rows, small] = scaled[rows, small]
        alias[rows, small] = large
        scaled[rows, large] -= 1.0 - scaled[rows, small]
    return threshold, alias


def _alias_draw(
    threshold: np.ndarray, alias: np.ndarray, comp: np.ndarray, u: np.ndarray
) -> np.ndarray:
    """Each row's code from its component's alias tables (`_alias`) and one uniform `u`: its
    whole part picks a code, its fraction whether to keep it."""
    m = threshold.shape[1]
    x = u * m
    j = np.minimum(x.astype(np.int64), m - 1)
    at = comp * m + j
    return np.where(x - j < threshold.ravel()[at], j, alias.ravel()[at])


def _bounds(cuts: np.ndarray, comp: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, ...]:
    """Where each row's code starts and ends on its component's cumulative distribution (`cuts`
    as `_codes_at` reads them)."""
    padded = _bounds_of(cuts)
    return padded[comp, codes], padded[comp, codes + 1]


def _cuts(probs: np.ndarray) -> np.ndarray:
    """Cut points (k, c - 1) of each row's cumulative distribution, without its final 1 (rows
    of zeros, a code no row may take, count as even)."""
    csum = np.cumsum(probs, axis=1)
    total = csum[:, -1:]
    even = np.linspace(1.0 / probs.shape[1], 1.0, probs.shape[1])
    return np.clip(np.where(total > 0, csum / np.where(total > 0, total, 1.0), even), 0, 1)[:, :-1]


def _offsets(cardinalities: list[int]) -> np.ndarray:
    """Where each part's codes start in the side-by-side layout (and the end)."""
    return np.concatenate([[0], np.cumsum(cardinalities)]).astype(np.int64)


class GaussianMixture(Synthesizer):
    """Mixture of components, each with its own distribution of every number and category.

    Parameters:
        components: the number of components; None chooses it (up to `max_components`).
        max_components: the largest number of components tried when choosing.
        max_iter: the most EM iterations per fit.
        component_rows: the chosen k is at least one component per this many rows (at most
            `max_components`); None: the held-out likelihood alone chooses.
        bins: the most intervals a number is cut into (its values within one interval are
            drawn from the column's own distribution there).
        rare_threshold: categories seen in fewer rows are never written verbatim.
        by: a categorical or boolean column whose classes (of at least 200 rows) each get a
            mixture of their own, fitted on their rows: for a column you will condition on
            (`where`, `balance`), whose rows then follow their own real distribution.
        allow_copies: keep drawn rows written as a training row no other training row repeats
            (default: drawn again, `synthgen.models.copy_guard`); for a table whose rows name
            no person (a grid of seasons, of countries' years), where drawing them again
            changes the table.
    """

    name = "gmm"
    guards_copies = True  # `synthgen.models.copy_guard`

    def __init__(
        self,
        *,
        components: int | None = None,
        max_components: int = 128,
        max_iter: int = 100,
        bins: int = 32,
        component_rows: int | None = 40,
        rare_threshold: int = 5,
        by: str | None = None,
        allow_copies: bool = False,
    ):
        for label, value in (
            ("max_components", max_components),
            ("max_iter", max_iter),
            ("bins", bins),
            ("component_rows", 1 if component_rows is None else component_rows),
        ):
            if int(value) < 1:
                raise UsageError(f"gmm: {label} must be at least 1, not {value}")
        if components is not None and int(components) < 1:
            raise UsageError(f"gmm: components must be at least 1, not {components}")
        super().__init__(
            rare_threshold=rare_threshold,
            components=components,
            max_components=max_components,
            max_iter=max_iter,
            bins=bins,
            component_rows=component_rows,
            **by_params(by),
            **copies_params(allow_copies),
        )
        self.by = None if by is None else str(by)
        self.allow_copies = bool(allow_copies)
        self.components = None if components is None else int(components)
        self.max_components = int(max_components)
        self.max_iter = int(max_iter)
        self.bins = int(bins)
        self.component_rows = None if component_rows is None else int(component_rows)

    # ---- fitting ----------------------------------------------------------------------------
    def _fit_encoded(self, data: Encoded, rng: np.random.Generator) -> None:
        n = data.n_rows
        cont, disc = data.continuous, data.discrete
        p = cont.shape[1]
        self.cardinalities_ = [int(q.cardinality) for q in self.encoder_.discrete_parts]
        self.probs_ = knots(n, self.rare_threshold)
        self.value_quantiles_ = (
            np.quantile(cont, self.probs_, axis=0).T if p else np.zeros((0, len(self.probs_)))
        )
        self.link_parts_ = [j for j, c in enumerate(self.cardinalities_) if c <= _LINK_CODES]
        some = np.sort(rng.permutation(n)[:_SELECT_ROWS]) if n > _SELECT_ROWS else slice(None)
        # no links under `by`: one link over every class would blend their own relations
        self.links_ = (
            links(cont[some], self._scores(cont[some]), self._categories(disc[some]))
            if p and self.by is None
            else [None] * p
        )
        values, cont = cont, self._unlinked(cont, disc)
        self.quantiles_ = np.quantile(cont, self.probs_, axis=0).T if p else np.zeros((0, 0))
        self.edges_ = [interval_edges(cont[:, j], self.bins) for j in range(p)]
        codes = np.empty((n, p + disc.shape[1]), dtype=np.int64)
        self.lows_, self.highs_ = [], []
        for j, edges in enumerate(self.edges_):
            codes[:, j] = interval_codes(cont[:, j], edges)
            low, high = np.full(len(edges) - 1, np.inf), np.full(len(edges) - 1, -np.inf)
            np.minimum.at(low, codes[:, j], cont[:, j])
            np.maximum.at(high, codes[:, j], cont[:, j])
            self.lows_.append(low)
            self.highs_.append(high)
        codes[:, p:] = disc
        every = _one_hot(codes, _offsets(self._cards()))
        self._embed = _embedding(self._cards()[:p], self.cardinalities_)
        by = self._by_part()
        self.ranges_ = None
        if by is None:
            mix, self.heldout_ = self._fit_mixture(every, rng)
        else:
            classes = Classes(disc[:, by], self.cardinalities_[by])
            mix = self._fit_classes(every, values, classes, p + by, rng)
        self.weights_, self.part_probs_ = mix.weights, mix.probs
        self.correlations_ = np.tile(np.eye(p), (mix.k, 1, 1))
        self._prepare()
        if p > 1:
            comp = _posterior(every, mix, rng)
            z = ndtri(np.clip(self._places(cont, comp, rng), 1e-6, 1 - 1e-6))
            self.correlations_ = correlations(z, comp, mix.k, _COPULA_ROWS)
            self._prepare()
        self.link_quantiles_ = self.value_quantiles_.copy()
        if any(self.links_):
            _, codes, modelled = self._draw(max(n, _CALIBRATION_ROWS), rng)
            self._linked(modelled, codes[:, p:], calibrate=True)

    def _cards(self) -> list[int]:
        """Codes per part: each number's intervals, then each discrete part's categories."""
        return [len(e) - 1 for e in self.edges_] + self.cardinalities_

    def _by_part(self) -> int | None:
        return by_part(self, self.by)

    def _scores(self, values: np.ndarray) -> np.ndarray:
        """Normal scores of numbers (n, p), on each part's distribution function."""
        out = np.empty(values.shape)
        for j in range(values.shape[1]):
            out[:, j] = self._score(j, values[:, j])
        return out

    def _score(self, j: int, x: np.ndarray) -> np.ndarray:
        """Normal scores of number j's values `x`."""
        eps = 0.5 / max(self.training_rows_, 1)
        return ndtri(np.clip(level(self.value_quantiles_[j], self.probs_, x), eps, 1 - eps))

    def _categories(self, disc: np.ndarray) -> np.ndarray:
        """One-hot codes (n, C) of the discrete parts that links read (`link_parts_`)."""
        cards = [self.cardinalities_[j] for j in self.link_parts_]
        out = np.zeros((len(disc), sum(cards)))
        for j, start in zip(self.link_parts_, _offsets(cards)[:-1], strict=True):
            out[np.arange(len(disc)), start + disc[:, j]] = 1.0
        return out

    def _fitted(
        self, j: int, numbers: np.ndarray, scores: np.ndarray, categories: np.ndarray
    ) -> np.ndarray:
        """Linked part j's fitted value, on its link's scale, from the values (or normal
        scores) of the numbers before it and the one-hot categories."""
        scale, intercept, coef, by_code = self.links_[j]
        x = numbers[:, :j] if scale == "values" else scores[:, :j]
        return intercept + x @ np.asarray(coef) + categories @ np.asarray(by_code)

    def _unlinked(self, values: np.ndarray, disc: np.ndarray) -> np.ndarray:
        """What the mixture models of each number: a linked part's residual from its link, an
        unlinked part's values."""
        out = values.copy()
        categories = self._categories(disc)
        scores = self._scores(values) if any(self.links_) else values
        for j, link in enumerate(self.links_):
            if link is not None:
                x = values if link[0] == "values" else scores
                out[:, j] = x[:, j] - self._fitted(j, values, scores, categories)
        return out

    def _linked(self, modelled: np.ndarray, disc: np.ndarray, calibrate: bool = False):
        """Numbers from what the mixture drew: each linked part set from the parts before it
        (in order) and the row's categories plus its residual, then mapped onto its column's
        distribution through the distribution of such sums (`link_quantiles_`; `calibrate` sets
        it from these rows): a sum of smooth terms would lose the grid of values a total sits
        on (taxis: a classifier told linked totals from real ones at AUC 0.80 on the total
        alone)."""
        out = modelled.copy()
        categories = self._categories(disc) if any(self.links_) else None
        # each number's score once, when final, up to the last link that reads scores
        read = [j for j, link in enumerate(self.links_) if link and link[0] == "scores"]
        scores = np.empty((len(out), max(read, default=0)))
        for j, link in enumerate(self.links_):
            if link is not None:
                fitted = modelled[:, j] + self._fitted(j, out, scores, categories)
                if calibrate:
                    self.link_quantiles_[j] = np.quantile(fitted, self.probs_)
                at = level(self.link_quantiles_[j], self.probs_, fitted)
                out[:, j] = interpolate(
                    at, self.probs_, self.value_quantiles_[j], self._value_slopes[j], self._guide
                )
            if j < scores.shape[1]:
                scores[:, j] = self._score(j, out[:, j])
        return out

    def _fit_classes(
        self,
        every: sparse.csr_matrix,
        cont: np.ndarray,
        classes: Classes,
        by: int,
        rng: np.random.Generator,
    ) -> _Mixture:
        """One mixture per class of `by` (its part) with at least STRATUM_ROWS rows, fitted on
        its rows, side by side with weights times the class's share (its components give the
        class with probability 1); the rarer classes together as the whole table's mixture
        conditioned on them (each component's weight times its probability of those classes,
        their frequencies renormalised), so a few rows never make components of their own. A
        component's numbers stay within its classes' real range (an interval's values may reach
        beyond what the class holds)."""
        codes, counts = classes.codes, classes.counts
        n = len(codes)
        offsets = _offsets(self._cards())
        a, b = offsets[by], offsets[by + 1]
        pieces: list[_Mixture] = []
        ranges: list[np.ndarray] = []  # each component's (low, high) per continuous part

        def span(rows: np.ndarray) -> np.ndarray:
            return np.stack([cont[rows].min(axis=0), cont[rows].max(axis=0)], axis=1)

        self.heldout_ = {}
        for code in classes.own:
            mix, heldout = self._fit_mixture(every[classes.rows(code)], rng)
            if counts[code] == counts.max():
                self.heldout_ = heldout  # the largest class's choice of k, for describe
            mix.weights = mix.weights * counts[code] / n
            mix.probs[:, a:b] = 0.0
            mix.probs[:, a + code] = 1.0
            pieces.append(mix)
            ranges.append(np.repeat(span(codes == code)[None], mix.k, axis=0))
        rest = classes.rare
        if (counts[rest] > 0).any():
            mix, heldout = self._fit_mixture(every, rng)
            self.heldout_ = self.heldout_ or heldout
            probs = mix.probs[:, a:b] * rest  # (k, codes) of the rare classes
            mass = probs.sum(axis=1)
            # components that hold at least one of their rows, not only the prior's share
            keep = mix.weights * n * mass >= _MIN_ROWS
            keep = keep if keep.any() else mass == mass.max()
            mix = mix.subset(keep)
            mix.weights = mix.weights * mass[keep] / (mix.weights * mass[keep]).sum()
            mix.weights *= counts[rest].sum() / n
            mix.probs[:, a:b] = probs[keep] / mass[keep, None]
            pieces.append(mix)
            ranges.append(np.repeat(span(np.isin(codes, np.flatnonzero(rest)))[None], mix.k, 0))
        self.ranges_ = np.concatenate(ranges) if cont.shape[1] else None
        return _Mixture(
            np.concatenate([m.weights for m in pieces]), np.concatenate([m.probs for m in pieces])
        )

    def _fit_mixture(
        self, every: sparse.csr_matrix, rng: np.random.Generator
    ) -> tuple[_Mixture, dict[int, float]]:
        """The mixture of `every` row (one-hot codes), its k chosen by held-out rows unless
        fixed (and the held-out log-likelihood per row of each k tried)."""
        n = every.shape[0]
        prior = np.asarray(every.mean(axis=0)).ravel()
        # at least one component per `component_rows` rows: the held-out likelihood stops
        # early, where a classifier still tells the rows apart (titanic: 6 components by it,
        # C2ST 0.57; 20 components, C2ST 0.91)
        floor = min(self.max_components, max(1, n // (self.component_rows or n)))
        grid = [self.components] if self.components else _candidates(self.max_components, n)
        grid = grid if self.components else [k for k in grid if k >= floor] or [floor]
        # Candidates are fitted on a bounded sample of rows and judged by the log-likelihood of
        # rows they were not fitted on; the winner is then refined by EM on every row.
        order = rng.permutation(n)
        cut = min(_SELECT_ROWS, n if len(grid) == 1 else n - n // 5)
        train = every if cut == n else every[np.sort(order[:cut])]
        test = every[np.sort(order[cut : cut + _HELDOUT_ROWS])]
        fitted: dict[int, _Mixture] = {}
        heldout: dict[int, np.ndarray] = {}  # each held-out row's log-likelihood, per k
        for k in grid:
            fitted[k], _ = _em(
                train, _initial(train, k, prior, self._embed, rng), prior, self.max_iter
            )
            if len(grid) > 1:
                heldout[k] = _e_step(test, fitted[k], counts=False)[0]
                means = [float(v.mean()) for v in heldout.values()]
                if len(means) > 2 and max(means[-2:]) < max(means):
                    break  # two larger candidates in a row did no better: stop searching
        mix = fitted[_smallest_as_good(heldout) if heldout else grid[0]]
        if cut < n:
            mix, _ = _em(every, mix, prior, min(self.max_iter, _FULL_PASSES))
        return mix, {k: float(v.mean()) for k, v in heldout.items()}

    def _prepare(self) -> None:
        """Cut points that make drawing each part's codes a vectorised search."""
        offsets = _offsets(self._cards())
        self._cuts = [_cuts(self.part_probs_[:, a:b]) for a, b in zip(offsets[:-1], offsets[1:])]
        # a version-2 file's numbers are independent within a component
        k, p = len(self.weights_), len(self.edges_)
        independent = np.tile(np.eye(p), (k, 1, 1))
        self._correlations = independent if self.correlations_ is None else self.correlations_
        self._factors = np.linalg.cholesky(self._correlations)
        self._padded = [_bounds_of(cuts) for cuts in self._cuts[:p]]
        self._code_guides = [_code_guide(cuts) for cuts in self._cuts[:p]]
        # quantiles read by look-up, not search (`interpolate`)
        self._guide = guide(self.probs_)
        self._slopes = self._value_slopes = np.zeros((0, 0))
        if p:
            self._slopes = np.diff(self.quantiles_) / np.diff(self.probs_)
            self._value_slopes = np.diff(self.value_quantiles_) / np.diff(self.probs_)
        self._alias = [
            _alias(self.part_probs_[:, a:b]) for a, b in zip(offsets[p:-1], offsets[p + 1 :])
        ]

    def _places(self, cont: np.ndarray, comp: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Each training row's place (0 to 1) in its component `comp`'s distribution of each
        number (`cont`, what the mixture models), a value many rows hold spread evenly over its
        span of the column's distribution, so places are uniform."""
        n, p = cont.shape
        out = np.empty((n, p))
        for j in range(p):
            ordered = np.sort(cont[:, j])
            below = np.searchsorted(ordered, cont[:, j], "left")
            span = np.searchsorted(ordered, cont[:, j], "right") - below
            out[:, j] = self._place(j, comp, (below + rng.random(n) * span) / n)
        return out

    def _place(self, j: int, comp: np.ndarray, at: np.ndarray) -> np.ndarray:
        """Where level `at` (0 to 1) of number j's column lies in component `comp`'s
        distribution of it: the component's share below its interval plus its share of the
        interval below `at`."""
        edges = self.edges_[j]
        c = np.clip(np.searchsorted(edges, at, side="right") - 1, 0, len(edges) - 2)
        within = np.clip((at - edges[c]) / (edges[c + 1] - edges[c]), 0.0, 1.0)
        low, high = _bounds(self._cuts[j], comp, c)
        return low + within * (high - low)

    def _numbers(
        self, comp: np.ndarray, rng: np.random.Generator, bounds: dict | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Each number's interval code and level (0 to 1) on its column's distribution (n, p)
        for rows of components `comp`: one correlated place per number in its component's
        distribution (`_places`), within `bounds` (number -> (low, high) places, each (n,))
        where given."""
        p = len(self.edges_)
        if bounds:
            u = bounded_uniforms(self._correlations, comp, bounds, rng)
        else:
            u = correlated_uniforms(self._factors, comp, rng) if p else np.zeros((len(comp), 0))
        codes, at = np.empty(u.shape, dtype=np.int64), np.empty(u.shape)
        for j, edges in enumerate(self.edges_):
            c = codes[:, j] = _codes_guided(self._cuts[j], self._code_guides[j], comp, u[:, j])
            flat = comp * (len(edges)) + c  # the code's start and end in `_padded`
            low, high = self._padded[j].ravel()[flat], self._padded[j].ravel()[flat + 1]
            with np.errstate(invalid="ignore", divide="ignore"):
                level = np.where(high > low, (u[:, j] - low) / (high - low), 0.5)
            at[:, j] = edges[c] + np.clip(level, 0.0, 1.0) * (edges[c + 1] - edges[c])
        return codes, at

    def _values(self, codes: np.ndarray, levels: np.ndarray) -> np.ndarray:
        """Numbers (n, p) from their intervals' codes and levels in [0, 1] within the
        interval (`_values_at`)."""
        at = np.empty(codes.shape)
        for j, edges in enumerate(self.edges_):
            c = codes[:, j]
            at[:, j] = edges[c] + levels[:, j] * (edges[c + 1] - edges[c])
        return self._values_at(codes, at)

    def _values_at(self, codes: np.ndarray, at: np.ndarray) -> np.ndarray:
        """Numbers (n, p) from their intervals' codes and levels `at` on the column's
        distribution: the column's quantile there, kept within the values the interval held."""
        out = np.empty(codes.shape)
        for j in range(codes.shape[1]):
            value = interpolate(
                at[:, j], self.probs_, self.quantiles_[j], self._slopes[j], self._guide
            )
            out[:, j] = np.clip(value, self.lows_[j][codes[:, j]], self.highs_[j][codes[:, j]])
        return out

    def _in_ranges(self, values: np.ndarray, comp: np.ndarray) -> np.ndarray:
        """Numbers kept within their component's range when the model has ranges (classes of
        `by`)."""
        if self.ranges_ is not None:
            np.clip(values, self.ranges_[comp, :, 0], self.ranges_[comp, :, 1], out=values)
        return values

    # ---- sampling ---------------------------------------------------------------------------
    def _sample_encoded(self, n: int, rng: np.random.Generator) -> Encoded:
        comp, codes, modelled = self._draw(n, rng)
        disc = codes[:, len(self.edges_) :]
        return Encoded(self._in_ranges(self._linked(modelled, disc), comp), disc, n)

    def _draw(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        """n rows of the mixture: their components, every part's codes, and what the mixture
        models of each number (a linked part's residual)."""
        k, p = len(self.weights_), len(self.edges_)
        cum = np.cumsum(self.weights_)
        comp = np.minimum(search_sorted(cum / cum[-1], rng.random(n), side="right"), k - 1)
        codes = np.empty((n, len(self._cuts)), dtype=np.int64)
        if self.correlations_ is None:  # a version-2 file draws as it drew
            u = rng.random((n, len(self._cuts)))
            for t, cuts in enumerate(self._cuts):
                codes[:, t] = _codes_at(cuts, comp, u[:, t])
            return comp, codes, self._values(codes[:, :p], rng.random((n, p)))
        codes[:, :p], at = self._numbers(comp, rng)
        u = rng.random((n, len(self._alias)))
        for t, (threshold, alias) in enumerate(self._alias):
            codes[:, p + t] = _alias_draw(threshold, alias, comp, u[:, t])
        return comp, codes, self._values_at(codes[:, :p], at)

    # ---- conditioning -----------------------------------------------------------------------
    def _sample_conditional(
        self, n: int, constraints: Constraints, rng: np.random.Generator
    ) -> Encoded:
        """Exact conditioning through the components: each row's component is drawn from its
        responsibility given the conditions (weight times the probability the component gives
        them, a product over the parts), then each category's code from the component's
        probabilities restricted to the allowed codes, and the numbers' places in the component
        from its copula, a number with a range held within the places the range covers (exact
        for one such number, a few Gibbs sweeps for several: `bounded_uniforms`).

        A range of values is the range of levels (0 to 1 on the column's distribution function)
        that map into it; a given value (a cell to fill) is widened to 1% of its column's range,
        drawn there and put back on the value. A range of a linked number (one set from the
        numbers before it) is met by keeping the draws that meet it, the rest conditioned
        exactly; rows to fill with such a cell given keep their nearest unconditional draws."""
        linked = [j for j in constraints.intervals if self.links_[j] is not None]
        if linked:  # a linked part's range is a range of its sum, not of what the mixture draws
            from synthgen.conditions import Constraints, rejection_sample

            if not constraints.shared:
                return rejection_sample(self._sample_encoded, n, constraints, rng, self.name)
            rest = Constraints(
                {j: v for j, v in constraints.intervals.items() if j not in linked},
                constraints.allowed,
                constraints.ranges,
                constraints.label,
            )
            return rejection_sample(
                lambda m, r: self._exactly(m, rest, r), n, constraints, rng, self.name
            )
        return self._exactly(n, constraints, rng)

    def _exactly(self, n: int, constraints: Constraints, rng: np.random.Generator) -> Encoded:
        """Rows meeting constraints on unlinked parts, drawn exactly (see _sample_conditional)."""
        from synthgen.errors import ConditionError

        wide = constraints.widened()
        k, p = len(self.weights_), len(self.edges_)
        rows = wide.n_rows
        offsets = _offsets(self._cards())
        # per constrained part: the weight (rows, codes) of each code, and for a number the
        # levels (rows, intervals) its interval is cut to
        weight = {p + j: mask.astype(float) for j, mask in wide.allowed.items()}
        levels = {}
        for j, (lo, hi) in wide.intervals.items():
            low, high = self._levels(j, lo, hi)
            edges = self.edges_[j]
            start = np.maximum(edges[:-1], low[:, None])
            stop = np.minimum(edges[1:], high[:, None])
            weight[j] = np.maximum(stop - start, 0.0) / np.diff(edges)
            levels[j] = (low, high)
        log_r = np.tile(np.log(np.maximum(self.weights_, 1e-300)), (rows, 1))  # (rows, k)
        for t, share in weight.items():
            with np.errstate(divide="ignore"):
                log_r += np.log(share @ self.part_probs_[:, offsets[t] : offsets[t + 1]].T)
        if self.ranges_ is not None:  # a component never leaves its classes' range
            outside = np.zeros(log_r.shape, dtype=bool)
            for j, (lo, hi) in wide.intervals.items():
                low, high = self.ranges_[:, j, 0], self.ranges_[:, j, 1]
                outside |= (lo[:, None] > high[None, :]) | (hi[:, None] < low[None, :])
            # (unless no class's range meets the condition: a value beyond every real one)
            log_r[outside & ~outside.all(axis=1, keepdims=True)] = -np.inf
        if not np.isfinite(log_r.max(axis=1)).all():
            raise ConditionError(
                f"{constraints.label or 'the condition'}: the gmm model never produces it "
                "(probability 0 in every component)"
            )
        resp = np.exp(log_r - log_r.max(axis=1, keepdims=True))
        cum = np.cumsum(resp, axis=1)
        u = rng.random(n)
        if rows == 1:  # shared conditions: one cumulative, searched (rows x k is the cost)
            comp = np.searchsorted(cum[0], u * cum[0, -1], side="right")
        else:
            comp = (cum < u[:, None] * cum[:, -1:]).sum(axis=1)
        comp = np.minimum(comp, k - 1)
        which = np.zeros(n, dtype=np.int64) if rows == 1 else np.arange(n)
        codes = np.empty((n, len(self._cuts)), dtype=np.int64)
        # a number's range is a range of its place in the component, drawn with the others'
        bounds = {
            j: (self._place(j, comp, a[which]), self._place(j, comp, b[which]))
            for j, (a, b) in levels.items()
        }
        codes[:, :p], at = self._numbers(comp, rng, bounds)
        for t in range(p, len(self._cuts)):
            if t in weight and rows > 1:  # each row its own allowed codes
                probs = self.part_probs_[:, offsets[t] : offsets[t + 1]][comp] * weight[t]
                codes[:, t] = _codes_at(_cuts(probs), np.arange(n), rng.random(n))
            elif t in weight:  # the components' probabilities restricted to the allowed codes
                probs = self.part_probs_[:, offsets[t] : offsets[t + 1]] * weight[t]
                codes[:, t] = _codes_at(_cuts(probs), comp, rng.random(n))
            else:
                codes[:, t] = _codes_at(self._cuts[t], comp, rng.random(n))
        values = self._linked(self._values_at(codes[:, :p], at), codes[:, p:])
        values = self._in_ranges(values, comp)
        encoded = Encoded(values, codes[:, p:], n)
        return constraints.snap(constraints.clip(encoded))

    def _levels(self, j: int, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The levels (0 to 1) of part j whose quantiles lie in [lo, hi] (the quantiles never
        decrease): arrays of shape (rows,)."""
        values, probs = self.quantiles_[j], self.probs_
        last = len(values) - 1

        def at(i: np.ndarray, v: np.ndarray) -> np.ndarray:
            i = np.clip(i, 0, last - 1)
            span = values[i + 1] - values[i]
            with np.errstate(invalid="ignore", divide="ignore"):
                frac = np.where(span > 0, (v - values[i]) / span, 0.0)
            return probs[i] + np.clip(frac, 0.0, 1.0) * (probs[i + 1] - probs[i])

        lo, hi = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
        first = np.searchsorted(values, lo, side="left")
        low = np.where(first <= 0, 0.0, at(first - 1, lo))
        low = np.where(first > last, 1.0, low)
        stop = np.searchsorted(values, hi, side="right") - 1
        high = np.where(stop >= last, 1.0, at(stop, hi))
        high = np.where(stop < 0, 0.0, high)
        return low, high

    # ---- state ------------------------------------------------------------------------------
    def _get_state(self) -> dict[str, Any]:
        return {
            "version": 2 if self.correlations_ is None else STATE_VERSION,
            "weights": self.weights_,
            "probabilities": self.part_probs_,
            "cardinalities": self.cardinalities_,
            "edges": list(self.edges_),
            "lows": list(self.lows_),
            "highs": list(self.highs_),
            "probs": self.probs_,
            "quantiles": self.quantiles_,
            "value_quantiles": self.value_quantiles_,
            "links": self.links_,
            "link_parts": self.link_parts_,
            "link_quantiles": self.link_quantiles_,
            "heldout": [[k, v] for k, v in self.heldout_.items()],
            **({} if self.ranges_ is None else {"ranges": self.ranges_}),
            **({} if self.correlations_ is None else {"correlations": self.correlations_}),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Synthesizer:
        """The fitted model a state holds; a gmm saved before state version 2 (Gaussian
        components, no version in its state) is that model, now `gmm-gaussian`, and loads as one.
        """
        fitted = state.get("fitted")
        if isinstance(fitted, dict) and "version" not in fitted:
            # by name through the registry: that module imports this one's helpers
            from synthgen.models.registry import model_class

            return model_class("gmm-gaussian").from_state(state)
        return super().from_state(state)

    def _set_state(self, state: dict[str, Any]) -> None:
        if state.get("version") not in (2, STATE_VERSION):
            raise ValueError(
                f"gmm: this model file holds state version {str(state.get('version'))[:20]}, "
                f"which this synthgen does not read (it reads 2 and {STATE_VERSION})"
            )
        self.weights_ = np.asarray(state["weights"], dtype=float)
        k = len(self.weights_)
        self.cardinalities_ = [int(c) for c in state["cardinalities"]]
        self.edges_ = [np.asarray(e, dtype=float) for e in state["edges"]]
        self.lows_ = [np.asarray(e, dtype=float) for e in state["lows"]]
        self.highs_ = [np.asarray(e, dtype=float) for e in state["highs"]]
        p = len(self.edges_)
        self.part_probs_ = np.asarray(state["probabilities"], dtype=float).reshape(
            k, sum(self._cards())
        )
        self.probs_ = np.asarray(state["probs"], dtype=float)
        self.quantiles_ = _by_part(state["quantiles"], p)
        self.value_quantiles_ = _by_part(state["value_quantiles"], p)
        self.link_parts_ = [int(j) for j in state["link_parts"]]
        if sorted(set(self.link_parts_)) != self.link_parts_ or not set(self.link_parts_) <= set(
            range(len(self.cardinalities_))
        ):
            raise ValueError("gmm: the links' discrete parts are not parts of the table")
        codes = sum(self.cardinalities_[j] for j in self.link_parts_)
        self.links_ = [_link(j, link, codes) for j, link in enumerate(state["links"])]
        self.link_quantiles_ = _by_part(state["link_quantiles"], p)
        self.heldout_ = {int(a): float(b) for a, b in state["heldout"]}
        self.correlations_ = None  # version 2: numbers independent within a component
        if state["version"] != 2:
            self.correlations_ = np.asarray(state["correlations"], dtype=float).reshape(k, p, p)
        self.ranges_ = None
        if "ranges" in state:
            self.ranges_ = np.asarray(state["ranges"], dtype=float).reshape(k, p, 2)
        if (
            k < 1
            or p != len(self.encoder_.continuous_parts)
            or self.cardinalities_ != [q.cardinality for q in self.encoder_.discrete_parts]
            or not (len(self.lows_) == len(self.highs_) == p)
            or len(self.links_) != p
            or (p and self.quantiles_.shape[1] != len(self.probs_))
            or self.value_quantiles_.shape != self.quantiles_.shape
            or self.link_quantiles_.shape != self.quantiles_.shape
        ):
            raise ValueError("mixture and schema disagree on the parts")
        checks.distribution("gmm: the mixture weights", self.weights_)
        offsets = _offsets(self._cards())
        for t, (a, b) in enumerate(zip(offsets[:-1], offsets[1:], strict=True)):
            checks.distribution(f"gmm: the probabilities of part {t}", self.part_probs_[:, a:b])
        for j, (edges, low, high) in enumerate(
            zip(self.edges_, self.lows_, self.highs_, strict=True)
        ):
            checks.ascending(f"gmm: the interval edges of part {j}", edges, 0.0, 1.0)
            if len(edges) < 2 or edges[0] != 0 or edges[-1] != 1 or (np.diff(edges) <= 0).any():
                raise ValueError(f"gmm: the interval edges of part {j} do not cut 0 to 1")
            if low.shape != (len(edges) - 1,) or high.shape != low.shape:
                raise ValueError(f"gmm: the interval bounds of part {j} do not fit its edges")
            checks.ascending(f"gmm: the interval bounds of part {j}", np.c_[low, high].ravel())
        checks.ascending("gmm: the quantile levels", self.probs_, 0.0, 1.0)
        if (np.diff(self.probs_) <= 0).any():  # a level twice would be a step of no width
            raise ValueError("gmm: the quantile levels repeat a level")
        checks.ascending("gmm: the quantiles", self.quantiles_)
        checks.ascending("gmm: the quantiles of the values", self.value_quantiles_)
        checks.ascending("gmm: the quantiles of the linked sums", self.link_quantiles_)
        checks.finite("gmm: the held-out log-likelihoods", list(self.heldout_.values()))
        if self.correlations_ is not None:
            _check_correlations(self.correlations_)
        if (
            self.ranges_ is not None
            and (
                checks.finite("gmm: the ranges", self.ranges_)[..., 0] > self.ranges_[..., 1]
            ).any()
        ):
            raise ValueError("gmm: a component's range ends below its start")
        self._prepare()

    def _centres(self, disc: np.ndarray) -> np.ndarray:
        """Each component's median of every number, (k, p) in the modelled columns' units (a
        linked number's from the others' medians and the component's codes `disc`)."""
        k, p = len(self.weights_), len(self.edges_)
        offsets = _offsets(self._cards())
        rows = np.arange(k)
        codes, levels = np.zeros((k, p), dtype=np.int64), np.zeros((k, p))
        for j in range(p):
            probs = self.part_probs_[:, offsets[j] : offsets[j + 1]]
            cum = np.cumsum(probs, axis=1)
            codes[:, j] = np.minimum((cum < 0.5).sum(axis=1), probs.shape[1] - 1)
            below = cum[rows, codes[:, j]] - probs[rows, codes[:, j]]
            levels[:, j] = np.clip(
                (0.5 - below) / np.maximum(probs[rows, codes[:, j]], 1e-300), 0, 1
            )
        return self._linked(self._values(codes, levels), disc)

    # ---- description ------------------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        """The components, heaviest first: weight, each number's centre (its median in the
        component) in column units, and per discrete column the value most over-represented in
        the component, with its share there and overall (columns ordered from the most to the
        least distinctive).

        Over-represented is measured by share * log(share / overall), the value's contribution to
        how far the component is from the whole table, so a value must be both common in the
        component and rarer elsewhere."""
        k = len(self.weights_)
        category_probs = self.part_probs_[:, sum(self._cards()) - sum(self.cardinalities_) :]
        overall = self.weights_ @ category_probs
        parts = self.encoder_.discrete_parts
        offsets = _offsets(self.cardinalities_)
        codes = np.zeros((k, len(parts)), dtype=np.int64)
        weight = np.zeros((k, len(parts)))
        for j, (a, b) in enumerate(zip(offsets[:-1], offsets[1:], strict=True)):
            share = category_probs[:, a:b]
            # a code no row holds (the rare pool where stand-ins took its rows) adds nothing
            with np.errstate(divide="ignore", invalid="ignore"):
                contribution = share * np.log(share / np.maximum(overall[a:b], 1e-300))
            contribution = np.where(share > 0, contribution, 0.0)
            codes[:, j] = contribution.argmax(axis=1)
            weight[:, j] = contribution.max(axis=1)
        # Decode each component's "typical row" twice: a value that differs between the two
        # decodings is drawn at random (the pooled rare categories) and is named as such.
        shown = codes.copy()
        for j, part in enumerate(parts):
            if part.name.endswith(NULL_SUFFIX):
                shown[:, j] = 0  # keep the number itself visible; its null share is listed
        # the modelled table (a kept rule's columns too), not the user's: the model's own parts
        rows = [
            TableEncoder.decode(self.encoder_, Encoded(self._centres(shown), shown, k), seed=s)
            for s in (0, 1)
        ]
        items = []
        for c in np.argsort(-self.weights_, kind="stable"):
            distinctive = {}
            for j in np.argsort(-weight[c], kind="stable"):
                column = parts[j].name.removesuffix(NULL_SUFFIX)
                code = codes[c, j]
                if parts[j].name.endswith(NULL_SUFFIX):
                    column, value = f"{column} (null)", "missing" if code == 1 else "present"
                else:
                    a, b = rows[0][column].iloc[c], rows[1][column].iloc[c]
                    value = _plain(a) if _same(a, b) else "(rare categories)"
                distinctive[column.replace("\x1f", " ")] = {
                    "value": value,
                    "share": round(float(category_probs[c, offsets[j] + code]), 3),
                    "overall": round(float(overall[offsets[j] + code]), 3),
                }
            items.append(
                {
                    "weight": round(float(self.weights_[c]), 4),
                    "centre": {
                        q.name.replace("\x1f", " "): _plain(rows[0][q.name].iloc[c])
                        for q in self.encoder_.continuous_parts
                    },
                    "distinctive": distinctive,
                }
            )
        chosen = "fixed" if self.components else "held-out log-likelihood"
        if not (self.components or self.heldout_):
            chosen = f"one per {self.component_rows} rows, at most max_components"
            chosen = chosen if self.component_rows else "too few rows to choose"
        by = {"mixture_per_class_of": self.by} if self.by else {}
        return {
            **by,
            "components": int(k),
            "chosen_by": chosen,
            "heldout_loglik_per_row": {str(a): round(b, 3) for a, b in self.heldout_.items()},
            "list": items,
        }


def _link(j: int, link: Any, codes: int) -> list[Any] | None:
    """A link read from a model file: None, or a scale, a finite intercept, one finite
    coefficient per earlier part and one per category code the links read."""
    if link is None:
        return None
    scale, intercept, coef, by_code = link
    numbers = checks.finite(f"gmm: the link of part {j}", [intercept, *coef, *by_code])
    if scale not in ("values", "scores") or len(coef) != j or len(by_code) != codes:
        raise ValueError(f"gmm: the link of part {j} is not a scale and {j} + {codes} coefficients")
    return [scale, float(numbers[0]), numbers[1 : j + 1].tolist(), numbers[j + 1 :].tolist()]


def _check_correlations(r: np.ndarray) -> None:
    """Correlations read from a model file: finite, symmetric, a unit diagonal, positive
    definite (each component's is drawn through its Cholesky factor)."""
    checks.finite("gmm: the correlations", r)
    p = r.shape[1]
    if (
        not np.allclose(r, r.transpose(0, 2, 1))
        or not np.allclose(r[:, np.arange(p), np.arange(p)], 1.0)
        or (np.linalg.eigvalsh(r)[:, :1] <= 0).any()
    ):
        raise ValueError("gmm: a component's correlations are not a correlation matrix")


def _same(a: Any, b: Any) -> bool:
    import pandas as pd

    if pd.isna(a) or pd.isna(b):
        return bool(pd.isna(a) and pd.isna(b))
    return bool(a == b)


def _plain(value: Any) -> Any:
    """A JSON-friendly form of a decoded cell."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(f"{float(value):.6g}")
    return str(value)


def _by_part(values: Any, p: int) -> np.ndarray:
    """A state's list as one row per number part (p of them; numpy cannot reshape an empty
    list to 0 rows of an unknown length: a table of categories only)."""
    x = np.asarray(values, dtype=float)
    return x.reshape(p, -1) if p else x.reshape(0, 0)
