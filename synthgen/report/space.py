"""Rows as points, for the nearest-neighbour work of the report (mode collapse, privacy) and for
its classifiers.

Every compared column weighs the same: a number or date becomes its rank among the real values
(0 to 1), with a null indicator where the real column has nulls; a category becomes a one-hot
vector scaled so that two different categories are 1 apart (the most frequent real categories get
their own axis, the rest and unseen ones share one). Ranks, not raw values, so that a skewed column (incomes,
counts) does not drown the others.

Example:
    >>> import pandas as pd
    >>> from synthgen.schema import detect
    >>> from synthgen.compare.values import prepare
    >>> real = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0] * 5, "c": list("abab") * 5})
    >>> space = Space(prepare(real, detect(real)))
    >>> space.transform(prepare(real, detect(real)))[:2].round(2).tolist()
    [[0.12, 0.71, 0.0, 0.0], [0.38, 0.0, 0.71, 0.0]]
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from synthgen.compare.values import Prepared, mid_ranks

# Categories beyond this many (by real frequency) share one axis.
MAX_AXES = 30
_ONE_HOT = 1 / np.sqrt(2)
# Distances below this are zero: what remains of rounding in |a|^2 + |b|^2 - 2ab (the axes are
# at most 1 long, so a real difference is far larger).
ZERO = 1e-6
# Candidates kept beyond k when screening in float32, so that rounding cannot drop a neighbour.
_SPARE = 4
# Distances computed at once (a block of queries times the reference rows): 2M doubles, 16 MB.
_BLOCK_CELLS = 1 << 21


class Space:
    """The encoding, fitted on the real (training) table."""

    def __init__(self, real: Prepared, max_axes: int = MAX_AXES):
        # per column: (name, continuous?, sorted real values or number of category axes, nulls?)
        self.columns: list[tuple[str, bool, Any, bool]] = []
        for name, v in real.items():
            has_nulls = bool(v.missing.any())
            if v.shape == "continuous":
                self.columns.append((name, True, np.sort(v.x[~np.isnan(v.x)]), has_nulls))
            else:
                assert v.categories is not None
                self.columns.append((name, False, min(len(v.categories), max_axes), has_nulls))
        self.width = sum(self._width(c) for c in self.columns)

    @staticmethod
    def _width(column: tuple[str, bool, Any, bool]) -> int:
        _, continuous, fitted, has_nulls = column
        if continuous:
            return 1 + int(has_nulls)
        return fitted + 1 + int(has_nulls)

    def transform(self, table: Prepared, rows: np.ndarray | None = None) -> np.ndarray:
        """The (rows, width) float matrix of `table` (prepared like the real one), optionally
        only `rows`."""
        n = table.n_rows if rows is None else len(rows)
        out = np.zeros((n, self.width))
        at = 0
        for column in self.columns:
            name, continuous, fitted, has_nulls = column
            v = table[name]
            if continuous:
                x = v.x if rows is None else v.x[rows]
                missing = np.isnan(x)
                out[:, at] = np.where(missing, 0.5, mid_ranks(fitted, x))
                if has_nulls:
                    out[:, at + 1] = missing
            else:
                assert v.codes is not None
                codes = v.codes if rows is None else v.codes[rows]
                axis = np.minimum(codes, fitted)  # rare and unseen categories share an axis
                if has_nulls:
                    axis = np.where(codes < 0, fitted + 1, axis)
                keep = axis >= 0  # a null the real column never had stays at the origin
                out[np.flatnonzero(keep), at + axis[keep]] = _ONE_HOT
            at += self._width(column)
        return out


def nearest(queries: np.ndarray | None, reference: np.ndarray, k: int = 1) -> np.ndarray:
    """Distances from each query to its k nearest reference points, (n, k), ascending; with
    `queries` None, from each reference point to its k nearest others (itself left out).

    Brute force one block of queries at a time (the encoded space has too many axes for a
    KD-tree to help), so memory stays bounded whatever the sizes: candidates are screened in
    float32, and the distances to the few kept are computed exactly (an exact copy is at 0).
    """
    exclude_self = queries is None
    points = reference if queries is None else queries
    k_eff = max(1, min(k, len(reference) - int(exclude_self)))
    keep = min(k_eff + _SPARE, len(reference))
    out = np.empty((len(points), k_eff))
    ref32 = reference.astype(np.float32)
    ref_sq = np.einsum("ij,ij->i", ref32, ref32)
    block = max(1, _BLOCK_CELLS // max(len(reference), 1))
    for start in range(0, len(points), block):
        chunk = points[start : start + block]
        # |a|^2 is the same along a row: screen on |b|^2 - 2ab
        part = ref_sq[None, :] - 2.0 * (chunk.astype(np.float32) @ ref32.T)
        rows = np.arange(len(chunk))
        if exclude_self:
            part[rows, start + rows] = np.inf
        idx = (
            np.argpartition(part, keep - 1, axis=1)[:, :keep]
            if keep < len(reference)
            else (np.broadcast_to(np.arange(len(reference)), part.shape))
        )
        exact = np.sqrt(((chunk[:, None, :] - reference[idx]) ** 2).sum(axis=2))
        if exclude_self:
            exact[idx == (start + rows)[:, None]] = np.inf
        out[start : start + len(chunk)] = np.sort(exact, axis=1)[:, :k_eff]
    if k_eff < k:  # fewer points than k: the farthest stands in for the missing neighbours
        out = np.hstack([out, np.repeat(out[:, -1:], k - k_eff, axis=1)])
    return out


def pairwise_blocks(a: np.ndarray, b: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (start, distances of a[start:start+block] to every row of b): an all-pairs matrix
    one block of rows at a time, for tables subsampled to a few thousand rows."""
    b_sq = np.einsum("ij,ij->i", b, b)
    block = max(1, _BLOCK_CELLS // max(len(b), 1))
    for start in range(0, len(a), block):
        chunk = a[start : start + block]
        sq = np.einsum("ij,ij->i", chunk, chunk)[:, None] + b_sq[None, :] - 2.0 * chunk @ b.T
        yield start, _distance(sq)


def _distance(squared: np.ndarray) -> np.ndarray:
    d = np.sqrt(np.maximum(squared, 0.0))
    d[d < ZERO] = 0.0
    return d
