"""Fidelity: how closely the synthetic table's columns and column pairs follow the real ones.

The scores follow SDMetrics' QualityReport (0.32) definitions, so they can sit beside published
numbers:

- column shapes: 1 - Kolmogorov-Smirnov D for numbers and dates, 1 - total variation distance for
  categories and booleans (nulls left out of both);
- column pair trends: 1 - |r_real - r_synth| / 2 (Pearson) for two continuous columns, 1 - total
  variation distance of the contingency table otherwise (a continuous column cut into 10 equal
  bins of its own range, nulls a category of their own). Only pairs with a strong real association
  count towards the score: |Pearson| > 0.5, Cramer's V > 0.3;
- the quality score: the mean of the two averages.

Keys and free text are left out, as SDMetrics leaves them out. `Reference` prepares the real table
once, for a caller that scores many samples against it: the report, and a model that stops
training on quality (ctgan's early stopping), which is why the score lives below both.

Example:
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> real = pd.DataFrame({"x": rng.normal(size=500), "c": rng.choice(["a", "b"], 500)})
    >>> round(quality_score(real, real), 6)
    1.0
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from synthgen.compare.values import Prepared, Values, prepare
from synthgen.schema import Schema, detect

# SDMetrics' thresholds (reports.utils): a pair counts when its real association is above them.
REAL_CORRELATION_THRESHOLD = 0.5
REAL_ASSOCIATION_THRESHOLD = 0.3
# SDMetrics rounds values to this many decimals before the KS test.
_KS_DECIMALS = 14
# Above this many cells a contingency table is counted sparsely.
_DENSE_CELLS = 1 << 21


def quality_score(real: pd.DataFrame, synth: pd.DataFrame, schema: Schema | None = None) -> float:
    """The overall fidelity score in [0, 1]: the mean of column shapes and column pair trends.

    NaN only when the tables have no column the score can compare (keys and free text only).

    Example:
        >>> import pandas as pd
        >>> real = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0] * 5, "c": list("abab") * 5})
        >>> synth = pd.DataFrame({"x": [1.0, 1.0, 1.0, 1.0] * 5, "c": list("aaaa") * 5})
        >>> round(quality_score(real, synth), 4)  # shapes (0.25 + 0.5) / 2, the x-c pair 0
        0.1875
    """
    return Reference(real, schema).quality_score(synth)


def column_shapes(
    real: pd.DataFrame, synth: pd.DataFrame, schema: Schema | None = None
) -> list[dict[str, Any]]:
    """Per compared column: metric, score, null rates, coverage (`Reference.column_shapes`)."""
    return Reference(real, schema).column_shapes(synth)


def column_pair_trends(
    real: pd.DataFrame, synth: pd.DataFrame, schema: Schema | None = None
) -> list[dict[str, Any]]:
    """Per pair of compared columns: metric, score, associations, whether it counts
    (`Reference.column_pair_trends`)."""
    return Reference(real, schema).column_pair_trends(synth)


def summarize(
    shapes: list[dict[str, Any]], pairs: list[dict[str, Any]] | PairTrends
) -> dict[str, float]:
    """The averages of shapes and of counted pairs, and the overall score (SDMetrics' way)."""
    if isinstance(pairs, PairTrends):
        pair_scores: Any = pairs.counted_scores()
    else:
        pair_scores = [p["score"] for p in pairs if p["counted"]]
    return _summary([s["score"] for s in shapes], pair_scores)


def _summary(shape_scores: Any, pair_scores: Any) -> dict[str, float]:
    shape_scores = [v for v in shape_scores if not _isnan(v)]
    pair_scores = [v for v in pair_scores if not _isnan(v)]
    shape = float(np.mean(shape_scores)) if shape_scores else float("nan")
    pair = float(np.mean(pair_scores)) if pair_scores else float("nan")
    parts = [v for v in (shape, pair) if not np.isnan(v)]
    return {
        "score": float(np.mean(parts)) if parts else float("nan"),
        "column_shapes": shape,
        "column_pair_trends": pair,
    }


def _isnan(value: float | None) -> bool:
    return value is None or bool(np.isnan(value))


# --------------------------------------------------------------------------------------------
# The real table, prepared once


def _pair_codes(v: Values) -> np.ndarray:
    """A discrete column's codes for contingency tables: 0..K-1 the real categories, K any key
    the real table lacks (they all meet zero real rows, so one code serves), K+1 null."""
    assert v.codes is not None and v.categories is not None
    k = len(v.categories)
    codes = np.minimum(v.codes, k)
    codes[v.codes < 0] = k + 1
    return codes


def _binned(x: np.ndarray, span: tuple[float, float] | None = None) -> np.ndarray:
    """SDMetrics' discretisation: 10 equal bins of the column's own range (np.digitize codes
    0..11; the maximum and nulls share code 11, as they do there), or of `span` (values
    beyond it counted at its ends)."""
    edges = np.histogram_bin_edges(x[~np.isnan(x)], range=span)
    return np.digitize(x if span is None else np.clip(x, *span), edges).astype(np.int64)


_BINS = 12


class _Joint:
    """The distribution of a pair's joint codes, dense or sparse, to compare with another."""

    def __init__(self, a: np.ndarray, b: np.ndarray, nb: int, cells: int):
        self.cells = cells
        joint = a * nb + b
        self.n = len(joint)
        if cells <= _DENSE_CELLS:
            self.keys = None
            self.counts = np.bincount(joint, minlength=cells)
        else:
            self.keys, self.counts = np.unique(joint, return_counts=True)

    def tv(self, other: _Joint) -> float:
        """Total variation distance between the two (normalised) distributions."""
        if not self.n or not other.n:
            return float("nan")
        if self.keys is None:
            return 0.5 * float(np.abs(self.counts / self.n - other.counts / other.n).sum())
        keys = np.union1d(self.keys, other.keys)
        p = np.zeros(len(keys))
        p[np.searchsorted(keys, self.keys)] += self.counts / self.n
        p[np.searchsorted(keys, other.keys)] -= other.counts / other.n
        return 0.5 * float(np.abs(p).sum())

    def cramers_v(self, nb: int) -> float:
        """Cramer's V of the table (chi-squared without continuity correction), as scipy's
        `association(method="cramer")`; NaN when a side has fewer than two values."""
        if self.keys is None:  # dense: the table as a matrix, empty rows and columns dropped
            table = self.counts.reshape(-1, nb)
            table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0].astype(float)
            if min(table.shape) < 2:
                return float("nan")
            n = table.sum()
            expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / n
            chi2 = float(((table - expected) ** 2 / expected).sum())
            return float(np.sqrt(chi2 / n / (min(table.shape) - 1)))
        keys, counts = self.keys, self.counts
        rows, cols = keys // nb, keys % nb
        _, ri = np.unique(rows, return_inverse=True)
        _, ci = np.unique(cols, return_inverse=True)
        row_sum = np.bincount(ri, weights=counts)
        col_sum = np.bincount(ci, weights=counts)
        k = min(len(row_sum), len(col_sum))
        if k < 2:
            return float("nan")
        n = counts.sum()
        chi2 = n * (float((counts**2 / (row_sum[ri] * col_sum[ci])).sum()) - 1.0)
        return float(np.sqrt(max(chi2, 0.0) / n / (k - 1)))


@dataclass
class PairTrends:
    """Every pair of compared columns' trend scores, as arrays in `itertools.combinations`
    order: positions `i` < `j` among `names`, whether the pair is scored by correlation
    (else by contingency), whether it `counted`, the `real` and `synthetic` association
    (Pearson's r or Cramer's V; NaN where not computed) and the `score`."""

    names: list[str]
    i: np.ndarray
    j: np.ndarray
    correlation: np.ndarray
    counted: np.ndarray
    real: np.ndarray
    synthetic: np.ndarray
    score: np.ndarray

    def counted_scores(self) -> np.ndarray:
        return self.score[self.counted]

    def rows(self, which: Any) -> list[dict[str, Any]]:
        """The pairs at positions `which` as the report's rows."""
        out = []
        for k in which:
            row: dict[str, Any] = {
                "column_1": self.names[self.i[k]],
                "column_2": self.names[self.j[k]],
                "metric": "CorrelationSimilarity"
                if self.correlation[k]
                else "ContingencySimilarity",
                "counted": bool(self.counted[k]),
                "score": float(self.score[k]),
            }
            if self.correlation[k]:
                row.update(real=float(self.real[k]), synthetic=float(self.synthetic[k]))
            else:
                row.update(
                    real_association=float(self.real[k]),
                    synthetic_association=float(self.synthetic[k]),
                )
            out.append(row)
        return out

    def weakest_counted(self, limit: int) -> np.ndarray:
        """Positions of the counted pairs, the lowest scores first (unscored last), at most
        `limit` of them."""
        counted = np.flatnonzero(self.counted)
        order = np.argsort(np.nan_to_num(self.score[counted], nan=np.inf), kind="stable")
        return counted[order[:limit]]


def spans(table: Prepared) -> dict[str, tuple[float, float]]:
    """Each continuous column's range (min, max) in a prepared table: `Reference`'s `spans`."""
    out = {}
    for name, v in table.items():
        if v.shape == "continuous" and (~np.isnan(v.x)).any():
            out[name] = (float(np.nanmin(v.x)), float(np.nanmax(v.x)))
    return out


class Reference:
    """The real table prepared once; scores any number of synthetic tables against it.

    Example:
        >>> import pandas as pd
        >>> real = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0] * 5, "c": list("abab") * 5})
        >>> ref = Reference(real)
        >>> round(ref.quality_score(real), 3)
        1.0
    """

    def __init__(
        self,
        real: pd.DataFrame,
        schema: Schema | None = None,
        *,
        spans: dict[str, tuple[float, float]] | None = None,
    ):
        """`spans`: per continuous column, the range its real values are binned on for pair
        trends (default: their own, as SDMetrics does; values beyond it count at its ends): a
        sample of rows scored in place of others (`--model auto`'s held-out rows, in place of
        the rows the candidate was fitted on, which the report will compare with) bins on the
        others' range."""
        self.schema = schema if schema is not None else detect(real)
        self.real = prepare(real, self.schema, role="real")
        self._sorted: dict[str, np.ndarray] = {}
        self._pair_codes: dict[str, tuple[np.ndarray, int]] = {}
        spans = spans or {}
        self._given_spans = spans
        self._on_real_range: dict[str, tuple[float, float]] | None = None
        for name, v in self.real.items():
            if v.shape == "continuous":
                self._sorted[name] = np.sort(np.round(v.x[~np.isnan(v.x)], _KS_DECIMALS))
                self._pair_codes[name] = (_binned(v.x, spans.get(name)), _BINS)
            else:
                self._pair_codes[name] = (_pair_codes(v), len(v.categories) + 2)
        names = list(self.real)
        self._names = names
        self._continuous = [n for n in names if self.real[n].shape == "continuous"]
        at = {n: k for k, n in enumerate(self._continuous)}
        self._matrix_index = np.array([at.get(n, -1) for n in names], dtype=np.int64)
        # every pair (a before b in the table's order, as itertools.combinations) by position
        i, j = np.triu_indices(len(names), 1)
        self._i, self._j = i.astype(np.int32), j.astype(np.int32)
        self._correlation = (self._matrix_index[i] >= 0) & (self._matrix_index[j] >= 0)
        self._real_value = np.full(len(i), np.nan)
        corr = np.flatnonzero(self._correlation)
        if len(corr):
            r = _pearson_matrix(self._matrix(self.real))
            self._real_value[corr] = r[self._matrix_index[i[corr]], self._matrix_index[j[corr]]]
        self._joints: dict[int, _Joint] = {}
        for k in np.flatnonzero(~self._correlation):
            (ca, na), (cb, nb) = self._pair_codes[names[i[k]]], self._pair_codes[names[j[k]]]
            joint = _Joint(ca, cb, nb, na * nb)
            self._joints[int(k)] = joint
            self._real_value[k] = joint.cramers_v(nb)
        threshold = np.where(
            self._correlation, REAL_CORRELATION_THRESHOLD, REAL_ASSOCIATION_THRESHOLD
        )
        value = np.where(self._correlation, np.abs(self._real_value), self._real_value)
        with np.errstate(invalid="ignore"):
            self._counted = np.nan_to_num(value, nan=-1.0) > threshold

    def pair_positions(self) -> tuple[np.ndarray, np.ndarray]:
        """Every pair's two columns, as positions among the compared columns (`PairTrends`)."""
        return self._i, self._j

    def _matrix(self, table: Prepared) -> np.ndarray:
        """The continuous columns of a prepared table, one per column of a matrix."""
        if not self._continuous:
            return np.empty((table.n_rows, 0))
        return np.column_stack([table[n].x for n in self._continuous]).astype(float, copy=False)

    def prepare(self, synth: pd.DataFrame) -> Prepared:
        """The synthetic table's compared columns as typed values."""
        return prepare(synth, self.schema, like=self.real)

    # ---- scores -------------------------------------------------------------------------------
    def quality_score(self, synth: pd.DataFrame | Prepared) -> float:
        """The overall score of `synth` (see the module's docstring)."""
        return self.summary(synth)["score"]

    def summary(self, synth: pd.DataFrame | Prepared) -> dict[str, float]:
        s = self._prepared(synth)
        shapes = [row["score"] for row in self.column_shapes(s)]
        return _summary(shapes, self.pair_trends(s, full=False).counted_scores())

    def _prepared(self, synth: pd.DataFrame | Prepared) -> Prepared:
        return synth if isinstance(synth, Prepared) else self.prepare(synth)

    def column_shapes(self, synth: pd.DataFrame | Prepared) -> list[dict[str, Any]]:
        """Per compared column: `metric` (KSComplement or TVComplement), `score`, the null rates
        of both tables, and `coverage` (share of the real range, or of the real categories, that
        the synthetic column covers)."""
        s = self._prepared(synth)
        out = []
        for name, r in self.real.items():
            v = s[name]
            row: dict[str, Any] = {"column": name, "kind": r.kind}
            if r.shape == "continuous":
                row["metric"] = "KSComplement"
                row["score"] = self._ks_complement(name, v.x)
                row["coverage"] = _range_coverage(self._sorted[name], v.x)
            else:
                row["metric"] = "TVComplement"
                row.update(self._tv_complement(name, v))
            row["real_null_rate"] = _null_rate(r)
            row["synthetic_null_rate"] = _null_rate(v)
            out.append(row)
        return out

    def _ks_complement(self, name: str, x: np.ndarray) -> float:
        a = self._sorted[name]
        b = np.sort(np.round(x[~np.isnan(x)], _KS_DECIMALS))
        if not len(a) or not len(b):
            return float("nan")
        both = np.concatenate([a, b])
        cdf_a = np.searchsorted(a, both, side="right") / len(a)
        cdf_b = np.searchsorted(b, both, side="right") / len(b)
        return float(1.0 - np.max(np.abs(cdf_a - cdf_b)))

    def _tv_complement(self, name: str, v: Values) -> dict[str, Any]:
        real_codes, n_codes = self._pair_codes[name]
        k = n_codes - 2
        real_counts = np.bincount(real_codes, minlength=k + 2)[: k + 1]
        synth_counts = np.bincount(_pair_codes(v), minlength=k + 2)[: k + 1]
        nr, ns = real_counts.sum(), synth_counts.sum()
        coverage = float((synth_counts[:k] > 0).mean()) if k else float("nan")
        if not nr or not ns:
            return {"score": float("nan"), "coverage": coverage}
        tv = 0.5 * float(np.abs(real_counts / nr - synth_counts / ns).sum())
        return {"score": 1.0 - tv, "coverage": coverage}

    def column_pair_trends(
        self, synth: pd.DataFrame | Prepared, *, counted_only: bool = False
    ) -> list[dict[str, Any]]:
        """Per pair: `metric`, `score`, `real`/`synthetic` (Pearson's r, continuous pairs),
        `real_association`/`synthetic_association` (Cramer's V, other pairs; the synthetic one
        with each column binned on its own range) and `counted` (strong enough in the real
        table to count towards the score, as in SDMetrics since 0.27). `counted_only` skips the
        synthetic side of pairs that do not count (faster; their score is NaN)."""
        trends = self.pair_trends(synth, full=not counted_only)
        return trends.rows(range(len(trends.score)))

    def pair_trends(self, synth: pd.DataFrame | Prepared, *, full: Any = True) -> PairTrends:
        """Every pair's scores as arrays. The synthetic side is computed for the counted pairs
        and for those `full` marks (True: all, False: none, or a boolean array by pair), whose
        synthetic association is computed too."""
        s = self._prepared(synth)
        n = len(self._i)
        full = np.broadcast_to(np.asarray(full, dtype=bool), (n,))
        wanted = self._counted | full
        synthetic = np.full(n, np.nan)
        score = np.full(n, np.nan)
        corr = np.flatnonzero(wanted & self._correlation & ~np.isnan(self._real_value))
        if len(corr):
            r = _pearson_matrix(self._matrix(s))
            at = self._matrix_index
            synthetic[corr] = r[at[self._i[corr]], at[self._j[corr]]]
        score[self._correlation] = 1.0 - np.abs(self._real_value - synthetic)[self._correlation] / 2
        codes: dict[int, tuple[np.ndarray, int]] = {}

        def synth_codes(k: int) -> tuple[np.ndarray, int]:
            if k not in codes:
                codes[k] = self._synth_codes(self._names[k], s)
            return codes[k]

        for k in np.flatnonzero(wanted & ~self._correlation):
            ca, _ = synth_codes(int(self._i[k]))
            cb, nb = synth_codes(int(self._j[k]))
            na = self._pair_codes[self._names[self._i[k]]][1]
            joint = _Joint(ca, cb, nb, na * nb)
            score[k] = 1.0 - self._joints[int(k)].tv(joint)
            if full[k]:
                synthetic[k] = joint.cramers_v(nb)
        return PairTrends(
            self._names,
            self._i,
            self._j,
            self._correlation,
            self._counted,
            self._real_value,
            synthetic,
            score,
        )

    def pair_trends_on_real_range(self, synth: pd.DataFrame | Prepared) -> float:
        """The pair-trend score (the counted pairs' mean) with each synthetic number binned on
        its real column's range, values beyond at its ends. SDMetrics bins each table's numbers
        on the table's own range: synthetic numbers that span less than the real ones (synthgen's
        models never write the few most extreme values) fall in other bins than the same real
        values, and a category's contingency with them reads apart.

        Example:
            >>> import numpy as np, pandas as pd
            >>> x = np.r_[np.arange(1.0, 100.0), 200.0]  # one outlier
            >>> real = pd.DataFrame({"x": x, "c": np.where(x > 50, "hi", "lo")})
            >>> ref = Reference(real)
            >>> synth = real.iloc[:-1]  # all but the outlier
            >>> round(ref.summary(synth)["column_pair_trends"], 2)
            0.31
            >>> round(ref.pair_trends_on_real_range(synth), 2)
            0.99
        """
        # the range each real number is binned on: its own, or the one it was given
        self._on_real_range = {**spans(self.real), **self._given_spans}
        try:
            trends = self.pair_trends(synth, full=False)
        finally:
            self._on_real_range = None
        return _summary([], trends.counted_scores())["column_pair_trends"]

    def _synth_codes(self, name: str, s: Prepared) -> tuple[np.ndarray, int]:
        v = s[name]
        if v.shape == "continuous":
            span = self._on_real_range.get(name) if self._on_real_range is not None else None
            return _binned(v.x, span), _BINS
        return _pair_codes(v), self._pair_codes[name][1]


def _pearson_matrix(x: np.ndarray) -> np.ndarray:
    """Pearson's r of every two columns of `x`, each pair over the rows where both are present;
    NaN where undefined (fewer than two rows, or a column constant on them), as scipy's
    `pearsonr` pair by pair. One matrix product, so a table of 2,000 columns (2 million pairs)
    takes a second where a loop over pairs took minutes."""
    present = ~np.isnan(x)
    scale = np.nanmax(np.abs(x), axis=0, initial=0.0) if x.size else np.zeros(x.shape[1])
    with np.errstate(invalid="ignore", divide="ignore"):
        if present.all():
            xc = x - x.mean(axis=0)
            cov = xc.T @ xc
            var_a = np.broadcast_to(np.diag(cov)[:, None], cov.shape)
            count = np.full(cov.shape, float(len(x)))
        else:
            # centred on each column's own mean, then corrected to each pair's common rows
            m = present.astype(float)
            mean = np.where(present, x, 0.0).sum(axis=0) / np.maximum(m.sum(axis=0), 1.0)
            xc = np.where(present, x - mean, 0.0)
            count = m.T @ m
            total = xc.T @ m  # [a, b]: the sum of a over the rows where a and b are present
            cov = xc.T @ xc - total * total.T / count
            var_a = (xc * xc).T @ m - total * total / count
        var_b = var_a.T
        # a column whose values agree on the rows (to rounding) has no variance there
        floor = count * (1e-12 * scale)[:, None] ** 2
        defined = (count >= 2) & (var_a > floor) & (var_b > floor.T)
        r = np.where(defined, cov / np.sqrt(np.where(defined, var_a * var_b, 1.0)), np.nan)
    return np.clip(r, -1.0, 1.0)


def _range_coverage(real_sorted: np.ndarray, x: np.ndarray) -> float:
    """Share of the real range [min, max] that the synthetic values span (SDMetrics'
    RangeCoverage)."""
    finite = x[~np.isnan(x)]
    if not len(real_sorted) or not len(finite):
        return float("nan")
    lo, hi = real_sorted[0], real_sorted[-1]
    if hi == lo:
        return 1.0 if finite.min() <= lo <= finite.max() else 0.0
    short = max(0.0, finite.min() - lo) + max(0.0, hi - finite.max())
    return float(max(0.0, 1.0 - short / (hi - lo)))


def _null_rate(v: Values) -> float:
    return float(v.missing.mean()) if len(v.x) else 0.0
