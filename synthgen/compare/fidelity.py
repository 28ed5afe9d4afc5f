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

import itertools
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


def summarize(shapes: list[dict[str, Any]], pairs: list[dict[str, Any]]) -> dict[str, float]:
    """The averages of shapes and of counted pairs, and the overall score (SDMetrics' way)."""
    shape_scores = [s["score"] for s in shapes if not _isnan(s["score"])]
    pair_scores = [p["score"] for p in pairs if p["counted"] and not _isnan(p["score"])]
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


def _binned(x: np.ndarray) -> np.ndarray:
    """SDMetrics' discretisation: 10 equal bins of the column's own range (np.digitize codes
    0..11; the maximum and nulls share code 11, as they do there)."""
    edges = np.histogram_bin_edges(x[~np.isnan(x)])
    return np.digitize(x, edges).astype(np.int64)


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


class Reference:
    """The real table prepared once; scores any number of synthetic tables against it.

    Example:
        >>> import pandas as pd
        >>> real = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0] * 5, "c": list("abab") * 5})
        >>> ref = Reference(real)
        >>> round(ref.quality_score(real), 3)
        1.0
    """

    def __init__(self, real: pd.DataFrame, schema: Schema | None = None):
        self.schema = schema if schema is not None else detect(real)
        self.real = prepare(real, self.schema, role="real")
        self._sorted: dict[str, np.ndarray] = {}
        self._pair_codes: dict[str, tuple[np.ndarray, int]] = {}
        self._constant: dict[str, bool] = {}
        for name, v in self.real.items():
            if v.shape == "continuous":
                self._sorted[name] = np.sort(np.round(v.x[~np.isnan(v.x)], _KS_DECIMALS))
                self._pair_codes[name] = (_binned(v.x), _BINS)
                self._constant[name] = _n_unique(v.x) == 1
            else:
                self._pair_codes[name] = (_pair_codes(v), len(v.categories) + 2)
        self.pairs = list(itertools.combinations(self.real, 2))
        self._real_pairs = {pair: self._real_pair(*pair) for pair in self.pairs}

    # ---- real side of each pair ---------------------------------------------------------------
    def _real_pair(self, a: str, b: str) -> dict[str, Any]:
        va, vb = self.real[a], self.real[b]
        if va.shape == vb.shape == "continuous":
            r = float("nan")
            if not (self._constant[a] or self._constant[b]):
                r = _pearson(va.x, vb.x)
            counted = not np.isnan(r) and abs(r) > REAL_CORRELATION_THRESHOLD
            return {"metric": "CorrelationSimilarity", "real": r, "counted": counted}
        (ca, na), (cb, nb) = self._pair_codes[a], self._pair_codes[b]
        joint = _Joint(ca, cb, nb, na * nb)
        v = joint.cramers_v(nb)
        counted = not np.isnan(v) and v > REAL_ASSOCIATION_THRESHOLD
        return {
            "metric": "ContingencySimilarity",
            "joint": joint,
            "association": v,
            "counted": counted,
        }

    def prepare(self, synth: pd.DataFrame) -> Prepared:
        """The synthetic table's compared columns as typed values."""
        return prepare(synth, self.schema, like=self.real)

    # ---- scores -------------------------------------------------------------------------------
    def quality_score(self, synth: pd.DataFrame | Prepared) -> float:
        """The overall score of `synth` (see the module's docstring)."""
        return self.summary(synth)["score"]

    def summary(self, synth: pd.DataFrame | Prepared) -> dict[str, float]:
        s = self._prepared(synth)
        return summarize(self.column_shapes(s), self.column_pair_trends(s, counted_only=True))

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
        s = self._prepared(synth)
        codes: dict[str, tuple[np.ndarray, int]] = {}

        def synth_codes(name: str) -> tuple[np.ndarray, int]:
            if name not in codes:
                codes[name] = self._synth_codes(name, s)
            return codes[name]

        out = []
        for (a, b), real in self._real_pairs.items():
            row: dict[str, Any] = {
                "column_1": a,
                "column_2": b,
                "metric": real["metric"],
                "counted": real["counted"],
            }
            skip = counted_only and not real["counted"]
            if real["metric"] == "CorrelationSimilarity":
                row.update(self._correlation(a, b, real["real"], s, skip))
            else:
                score = float("nan")
                if not skip:
                    ca, _ = synth_codes(a)
                    cb, nb = synth_codes(b)
                    na = self._pair_codes[a][1]
                    joint = _Joint(ca, cb, nb, na * nb)
                    score = 1.0 - real["joint"].tv(joint)
                    if not counted_only:
                        row["synthetic_association"] = joint.cramers_v(nb)
                row.update({"score": score, "real_association": real["association"]})
            out.append(row)
        return out

    def _correlation(
        self, a: str, b: str, r_real: float, s: Prepared, skip: bool
    ) -> dict[str, Any]:
        r_synth = float("nan")
        if not (skip or np.isnan(r_real)):
            xa, xb = s[a].x, s[b].x
            if _n_unique(xa) != 1 and _n_unique(xb) != 1:
                r_synth = _pearson(xa, xb)
        score = 1.0 - abs(r_real - r_synth) / 2.0
        return {"score": float(score), "real": r_real, "synthetic": r_synth}

    def _synth_codes(self, name: str, s: Prepared) -> tuple[np.ndarray, int]:
        v = s[name]
        if v.shape == "continuous":
            return _binned(v.x), _BINS
        return _pair_codes(v), self._pair_codes[name][1]


def _n_unique(x: np.ndarray) -> int:
    finite = x[~np.isnan(x)]
    if not len(finite):
        return 0
    return 1 if finite.min() == finite.max() else 2


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson's r over the rows where both are present; NaN when undefined (as scipy)."""
    keep = ~(np.isnan(a) | np.isnan(b))
    if not keep.all():
        a, b = a[keep], b[keep]
    if len(a) < 2:
        return float("nan")
    a = a - a.mean()
    b = b - b.mean()
    denom = np.sqrt((a * a).sum() * (b * b).sum())
    if denom == 0 or not np.isfinite(denom):
        return float("nan")
    return float(np.clip((a * b).sum() / denom, -1.0, 1.0))


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
